// PipelineService: registration, a cron schedule firing under a FakeClock, the one-active-run
// limit (and `concurrency`), run history with the failed step's log tail, step health with
// rows in/out, and runs left running by a stopped server.

#include "pipeline/service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/clock.h"
#include "common/ids.h"

namespace cairn::pipeline {
namespace {

namespace fs = std::filesystem;

int64_t Utc(int y, int mo, int d, int h, int mi) {
  struct tm tm = {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-service-test-" + NewUuidHex().substr(0, 10));
    fs::create_directories(dir_ / "work");
    auto pool = store::ConnectionPool::Open((dir_ / "cairn.db").string(),
                                            PipelineStore::Migrations());
    ASSERT_TRUE(pool.ok()) << pool.status().ToString();
    pool_ = std::move(*pool);
    store_ = std::make_unique<PipelineStore>(pool_.get());
    ServiceOptions options;
    options.state_dir = (dir_ / "state").string();
    options.scheduler_thread = false;
    service_ = std::make_unique<PipelineService>(store_.get(), &clock_, nullptr, options);
    ASSERT_TRUE(service_->Start().ok());
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    pool_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Writes the spec beside its work folder and registers it.
  StatusOr<RegisteredPipeline> Register(const std::string& yaml, int concurrency = 1) {
    std::string path = (dir_ / "work" / "pipeline.yaml").string();
    std::ofstream(path) << yaml;
    RegisterPipelineRequest r;
    r.spec_path = path;
    r.concurrency = concurrency;
    return service_->Register(r);
  }

  fs::path dir_;
  FakeClock clock_{Utc(2026, 1, 5, 1, 58)};
  std::unique_ptr<store::ConnectionPool> pool_;
  std::unique_ptr<PipelineStore> store_;
  std::unique_ptr<PipelineService> service_;
};

TEST_F(ServiceTest, ScheduleFiresUnderAFakeClock) {
  // 03:00 in Amsterdam on Monday 2026-01-05 is 02:00 UTC (CET = UTC+1).
  auto p = Register(
      "name: nightly\n"
      "schedule: {cron: \"0 3 * * *\", timezone: Europe/Amsterdam}\n"
      "steps:\n"
      "  hello: {run: \"echo hi\", cache: false}\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->schedule_cron, "0 3 * * *");
  EXPECT_EQ(p->schedule_timezone, "Europe/Amsterdam");
  EXPECT_EQ(service_->NextFireMillis(), Utc(2026, 1, 5, 2, 0));

  EXPECT_TRUE(service_->Tick().empty());  // 01:58 UTC: not yet
  clock_.SetMillis(Utc(2026, 1, 5, 1, 59));
  EXPECT_TRUE(service_->Tick().empty());
  clock_.SetMillis(Utc(2026, 1, 5, 2, 0));
  auto fired = service_->Tick();
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_TRUE(fired[0].started) << fired[0].why_not;
  EXPECT_EQ(fired[0].scheduled_millis, Utc(2026, 1, 5, 2, 0));
  service_->WaitIdle();
  EXPECT_EQ(service_->NextFireMillis(), Utc(2026, 1, 6, 2, 0));

  auto runs = service_->Runs("nightly", 10);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].trigger, "schedule");
  EXPECT_EQ((*runs)[0].status, "succeeded");
  EXPECT_EQ((*runs)[0].executed, 1);
  EXPECT_EQ((*runs)[0].start_time, Utc(2026, 1, 5, 2, 0));
}

TEST_F(ServiceTest, OneActiveRunUnlessConcurrencyAllows) {
  // The step waits for a file the test creates, so the run is active while we trigger again.
  std::string yaml =
      "name: gated\n"
      "steps:\n"
      "  wait: {run: \"while [ ! -f go ]; do sleep 0.02; done\", cache: false}\n";
  ASSERT_TRUE(Register(yaml).ok());
  TriggerRequest t;
  t.pipeline = "gated";
  t.trigger = "manual";
  auto first = service_->Trigger(t);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = service_->Trigger(t);
  EXPECT_EQ(second.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("already has an active run"), std::string::npos);
  t.trigger = "alert";
  EXPECT_EQ(service_->TriggerFromAlert("gated", "auc dropped").status().code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(service_->ActiveRunCount("gated"), 1);
  std::ofstream(dir_ / "work" / "go") << "";
  service_->WaitIdle();
  EXPECT_EQ(service_->ActiveRunCount("gated"), 0);
  auto again = service_->TriggerFromAlert("gated", "auc dropped");
  ASSERT_TRUE(again.ok());
  service_->WaitIdle();
  auto run = service_->Run(*again);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->trigger, "alert");
  EXPECT_EQ(run->reason, "auc dropped");
  EXPECT_EQ(run->status, "succeeded");

  // concurrency: 2 allows two at once, not three.
  fs::remove(dir_ / "work" / "go");
  ASSERT_TRUE(Register(yaml, 2).ok());
  t.trigger = "api";
  EXPECT_TRUE(service_->Trigger(t).ok());
  EXPECT_TRUE(service_->Trigger(t).ok());
  EXPECT_EQ(service_->Trigger(t).status().code(), Code::kFailedPrecondition);
  std::ofstream(dir_ / "work" / "go") << "";
  service_->WaitIdle();
  auto runs = service_->Runs("gated", 10);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(runs->size(), 4u);  // manual, alert, and the two concurrent ones
}

TEST_F(ServiceTest, HistoryKeepsTheFailedStepsLogTailAndStepHealth) {
  std::ofstream(dir_ / "work" / "in.csv") << "a,b\n1,2\n3,4\n5,6\n";
  auto p = Register(
      "name: health\n"
      "steps:\n"
      "  load:\n"
      "    type: ingest\n"
      "    with: {path: in.csv}\n"
      "    outputs: [out/data.csv]\n"
      "  boom:\n"
      "    needs: [load]\n"
      "    run: \"echo first line >&2; echo the real reason >&2; exit 3\"\n"
      "    retries: {limit: 1, backoff: 0s}\n"
      "  after: {needs: [boom], run: \"true\"}\n");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  TriggerRequest t;
  t.pipeline = "health";
  auto id = service_->Trigger(t);
  ASSERT_TRUE(id.ok());
  service_->WaitIdle();
  auto run = service_->Run(*id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, "failed");
  EXPECT_EQ(run->trigger, "api");
  EXPECT_EQ(run->failed_step, "boom");
  EXPECT_EQ(run->retries, 1);
  EXPECT_EQ(run->failed, 1);
  EXPECT_EQ(run->not_run, 1);
  EXPECT_NE(run->log_tail.find("the real reason"), std::string::npos) << run->log_tail;
  EXPECT_NE(run->message.find("exit code 3"), std::string::npos) << run->message;
  ASSERT_EQ(run->steps.size(), 3u);
  std::map<std::string, StepHealth> by_name;
  for (const auto& s : run->steps) by_name[s.step] = s;
  EXPECT_EQ(by_name["load"].status, "succeeded");
  ASSERT_TRUE(by_name["load"].rows_out.has_value());
  EXPECT_EQ(*by_name["load"].rows_out, 3);
  EXPECT_EQ(by_name["boom"].status, "failed");
  EXPECT_EQ(by_name["boom"].attempts, 2);
  EXPECT_EQ(by_name["boom"].exit_code, 3);
  EXPECT_EQ(by_name["after"].status, "not-run");
}

TEST_F(ServiceTest, BadInput) {
  auto bad = Register("name: x\nsteps:\n  a: {needs: [b], run: \"true\"}\n");
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("pipeline.yaml:3:"), std::string::npos)
      << bad.status().message();
  auto cron = Register("name: x\nschedule: {cron: \"61 * * * *\"}\nsteps:\n  a: {run: \"true\"}\n");
  EXPECT_EQ(cron.status().code(), Code::kInvalidArgument);
  auto tz = Register("name: x\nschedule: {cron: \"0 * * * *\", timezone: Mars/Olympus}\n"
                     "steps:\n  a: {run: \"true\"}\n");
  EXPECT_FALSE(tz.ok());
  RegisterPipelineRequest relative;
  relative.spec_path = "pipeline.yaml";
  EXPECT_EQ(service_->Register(relative).status().code(), Code::kInvalidArgument);
  TriggerRequest t;
  t.pipeline = "nope";
  EXPECT_EQ(service_->Trigger(t).status().code(), Code::kNotFound);
  ASSERT_TRUE(Register("name: typed\nparams: {n: {type: int, default: 1}}\n"
                       "steps:\n  a: {run: \"true\"}\n")
                  .ok());
  t.pipeline = "typed";
  t.params = {{"n", "many"}};
  EXPECT_EQ(service_->Trigger(t).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(service_->ActiveRunCount("typed"), 0);  // the slot was released
}

TEST_F(ServiceTest, RunsLeftRunningByAStoppedServerAreMarkedFailed) {
  PipelineRunRecord r;
  r.run_id = "left-over";
  r.pipeline = "p";
  r.trigger = "api";
  r.status = "running";
  r.start_time = 1;
  ASSERT_TRUE(store_->InsertRun(r).ok());
  ServiceOptions options;
  options.state_dir = (dir_ / "state").string();
  options.scheduler_thread = false;
  PipelineService restarted(store_.get(), &clock_, nullptr, options);
  ASSERT_TRUE(restarted.Start().ok());
  auto got = store_->GetRun("left-over");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, "failed");
  EXPECT_NE(got->message.find("interrupted"), std::string::npos);
}

}  // namespace
}  // namespace cairn::pipeline
