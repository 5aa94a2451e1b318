// The inference log: deterministic batching (flush_interval_ms = 0 writes only full batches,
// on Flush() and at shutdown), drop counting when the queue is full, paged queries by
// deployment and time range, CSV / JSON-lines export, the outcome join, and reopening the
// database after the log is destroyed.
#include "serving/inference_log.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/ids.h"

namespace cairn::serving {
namespace {

namespace fs = std::filesystem;

class InferenceLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("cairn-inference-log-" + NewUuidHex());
    fs::create_directories(dir_);
    path_ = (dir_ / "log.db").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<InferenceLog> OpenLog(InferenceLogOptions options) {
    auto log = InferenceLog::Open(path_, clock_, options);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }

  static InferenceLogOptions Deterministic(size_t capacity, size_t max_batch) {
    InferenceLogOptions o;
    o.queue_capacity = capacity;
    o.max_batch = max_batch;
    o.flush_interval_ms = 0;
    return o;
  }

  static InferenceRecord Record(const std::string& deployment, int i, int64_t time_ms = 0) {
    InferenceRecord r;
    r.request_id = "req-" + std::to_string(i);
    r.time_ms = time_ms;
    r.deployment = deployment;
    r.variant = i % 2 ? "treatment" : "control";
    r.model_version = i % 2 ? "2" : "1";
    r.input_json = "{\"x\": " + std::to_string(i) + "}";
    r.output_json = std::to_string(i * 0.5);
    r.latency_us = 100 + i;
    return r;
  }

  fs::path dir_;
  std::string path_;
  FakeClock clock_{1'700'000'000'000};
};

TEST_F(InferenceLogTest, WritesFullBatchesThenTheRestOnFlush) {
  auto log = OpenLog(Deterministic(10'000, 1000));
  ASSERT_TRUE(log);
  for (int i = 0; i < 2500; ++i) ASSERT_TRUE(log->Log(Record("d", i)));
  ASSERT_TRUE(log->Flush().ok());
  InferenceLogCounters c = log->counters();
  EXPECT_EQ(c.enqueued, 2500u);
  EXPECT_EQ(c.written, 2500u);
  EXPECT_EQ(c.batches, 3u);  // 1000 + 1000 when full, 500 on Flush()
  EXPECT_EQ(c.dropped, 0u);
  EXPECT_EQ(c.queued, 0u);
  EXPECT_EQ(c.write_errors, 0u);
  InferenceQuery q;
  q.deployment = "d";
  q.page_size = 10'000;
  auto page = log->Query(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records.size(), 2500u);
  // Stamped by the clock, in order of logging.
  EXPECT_EQ(page->records[0].time_ms, 1'700'000'000'000);
  EXPECT_EQ(page->records[0].request_id, "req-0");
  EXPECT_EQ(page->records[2499].request_id, "req-2499");
  EXPECT_EQ(page->records[7].input_json, "{\"x\": 7}");
  EXPECT_EQ(page->records[7].latency_us, 107);
}

TEST_F(InferenceLogTest, FullQueueDropsAndCounts) {
  // max_batch above the capacity and no timer: nothing is written until Flush().
  auto log = OpenLog(Deterministic(10, 1000));
  ASSERT_TRUE(log);
  int accepted = 0;
  for (int i = 0; i < 15; ++i) accepted += log->Log(Record("d", i)) ? 1 : 0;
  EXPECT_EQ(accepted, 10);
  InferenceLogCounters c = log->counters();
  EXPECT_EQ(c.enqueued, 10u);
  EXPECT_EQ(c.dropped, 5u);
  EXPECT_EQ(c.queued, 10u);
  EXPECT_EQ(c.written, 0u);
  ASSERT_TRUE(log->Flush().ok());
  c = log->counters();
  EXPECT_EQ(c.written, 10u);
  EXPECT_EQ(c.batches, 1u);
  EXPECT_EQ(c.queued, 0u);
  // Room again after the drain.
  EXPECT_TRUE(log->Log(Record("d", 99)));
  std::string metrics = log->RenderPrometheus();
  EXPECT_NE(metrics.find("\ncairn_inference_log_dropped_records_total 5\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("\ncairn_inference_log_written_records_total 10\n"), std::string::npos);
  EXPECT_NE(metrics.find("\ncairn_inference_log_queued_records 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("# TYPE cairn_inference_log_batches_total counter\n"), std::string::npos);
}

TEST_F(InferenceLogTest, QueryByDeploymentAndTimeRangeWithPaging) {
  auto log = OpenLog(Deterministic(1000, 1000));
  ASSERT_TRUE(log);
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(log->Log(Record("d1", i, 1000 + 10 * i)));
    ASSERT_TRUE(log->Log(Record("d2", i, 1000 + 10 * i)));
  }
  ASSERT_TRUE(log->Flush().ok());

  InferenceQuery q;
  q.deployment = "d1";
  q.from_ms = 1050;  // record 5
  q.to_ms = 1200;    // exclusive: records 5..19
  q.page_size = 4;
  std::vector<std::string> ids;
  int pages = 0;
  do {
    auto page = log->Query(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    for (const auto& r : page->records) {
      EXPECT_EQ(r.deployment, "d1");
      ids.push_back(r.request_id);
    }
    q.page_token = page->next_page_token;
  } while (!q.page_token.empty());
  EXPECT_EQ(pages, 4);  // 4 + 4 + 4 + 3
  ASSERT_EQ(ids.size(), 15u);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(ids[i], "req-" + std::to_string(i + 5));

  InferenceQuery bad = q;
  bad.page_token = "12:x";
  EXPECT_EQ(log->Query(bad).status().code(), Code::kInvalidArgument);
  bad.page_token = "";
  bad.page_size = 0;
  EXPECT_EQ(log->Query(bad).status().code(), Code::kInvalidArgument);
  bad.page_size = 10;
  bad.deployment = "";
  EXPECT_EQ(log->Query(bad).status().code(), Code::kInvalidArgument);
  bad.deployment = "d1";
  bad.from_ms = 5;
  bad.to_ms = 4;
  EXPECT_EQ(log->Query(bad).status().code(), Code::kInvalidArgument);
  bad.deployment = "nope";
  bad.from_ms = 0;
  bad.to_ms = INT64_MAX;
  auto empty = log->Query(bad);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->records.empty());
  EXPECT_TRUE(empty->next_page_token.empty());
}

TEST_F(InferenceLogTest, ExportsCsvAndJsonLines) {
  auto log = OpenLog(Deterministic(100, 100));
  ASSERT_TRUE(log);
  InferenceRecord a = Record("d", 1, 5000);
  a.input_json = R"({"city": "Paris, FR", "quote": "say \"hi\""})";
  a.entity_key = "user-1";
  InferenceRecord b = Record("d", 2, 6000);
  b.output_json = "not json";
  ASSERT_TRUE(log->Log(a));
  ASSERT_TRUE(log->Log(b));
  ASSERT_TRUE(log->Log(Record("other", 3, 5500)));
  ASSERT_TRUE(log->Flush().ok());

  InferenceQuery q;
  q.deployment = "d";
  std::ostringstream csv;
  ASSERT_TRUE(log->ExportCsv(q, csv).ok());
  // RFC 4180: fields with commas or quotes are quoted, inner quotes doubled.
  EXPECT_EQ(csv.str(),
            "request_id,time_ms,deployment,variant,model_version,entity_key,input,output,"
            "latency_us\r\n"
            "req-1,5000,d,treatment,2,user-1,"
            "\"{\"\"city\"\": \"\"Paris, FR\"\", \"\"quote\"\": \"\"say \\\"\"hi\\\"\"\"\"}\","
            "0.500000,101\r\n"
            "req-2,6000,d,control,1,,\"{\"\"x\"\": 2}\",not json,102\r\n");

  std::ostringstream jsonl;
  ASSERT_TRUE(log->ExportJsonLines(q, jsonl).ok());
  std::istringstream lines(jsonl.str());
  std::string line;
  std::vector<nlohmann::json> rows;
  while (std::getline(lines, line)) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["request_id"], "req-1");
  EXPECT_EQ(rows[0]["time_ms"], 5000);
  EXPECT_EQ(rows[0]["entity_key"], "user-1");
  EXPECT_EQ(rows[0]["input"]["city"], "Paris, FR");
  EXPECT_EQ(rows[0]["input"]["quote"], "say \"hi\"");
  EXPECT_DOUBLE_EQ(rows[0]["output"].get<double>(), 0.5);
  EXPECT_EQ(rows[1]["output"], "not json");  // not JSON: kept as a string
  EXPECT_EQ(rows[1]["latency_us"], 102);

  q.deployment = "";
  std::ostringstream ignored;
  EXPECT_EQ(log->ExportCsv(q, ignored).code(), Code::kInvalidArgument);
}

TEST_F(InferenceLogTest, OutcomesJoinByRequestIdOrEntityKey) {
  auto log = OpenLog(Deterministic(100, 100));
  ASSERT_TRUE(log);
  InferenceRecord a = Record("d", 1, 1000);
  a.entity_key = "u1";
  InferenceRecord b = Record("d", 2, 2000);
  b.entity_key = "u2";
  InferenceRecord c = Record("d", 3, 3000);  // no entity key, no outcome
  InferenceRecord other = Record("e", 4, 1500);
  other.request_id = "req-1";  // same id in another deployment
  for (const auto& r : {a, b, c, other}) ASSERT_TRUE(log->Log(r));
  ASSERT_TRUE(log->Flush().ok());

  clock_.SetMillis(9000);
  ASSERT_TRUE(log->RecordOutcome("d", OutcomeKey::kRequestId, "req-1", "0").ok());
  ASSERT_TRUE(log->RecordOutcome("d", OutcomeKey::kRequestId, "req-1", "1").ok());  // replaces
  ASSERT_TRUE(log->RecordOutcome("d", OutcomeKey::kEntityKey, "u2", "\"churned\"").ok());
  ASSERT_TRUE(log->RecordOutcome("d", OutcomeKey::kEntityKey, "nobody", "3.5").ok());
  EXPECT_EQ(log->RecordOutcome("d", OutcomeKey::kRequestId, "req-3", "{oops").code(),
            Code::kInvalidArgument);
  EXPECT_EQ(log->RecordOutcome("", OutcomeKey::kRequestId, "req-3", "1").code(),
            Code::kInvalidArgument);
  EXPECT_EQ(log->RecordOutcome("d", OutcomeKey::kEntityKey, "", "1").code(),
            Code::kInvalidArgument);

  InferenceQuery q;
  q.deployment = "d";
  auto joined = log->JoinOutcomes(q);
  ASSERT_TRUE(joined.ok()) << joined.status().ToString();
  ASSERT_EQ(joined->rows.size(), 2u);
  EXPECT_EQ(joined->rows[0].request.request_id, "req-1");
  EXPECT_EQ(joined->rows[0].request.output_json, "0.500000");
  EXPECT_EQ(joined->rows[0].outcome_json, "1");
  EXPECT_EQ(joined->rows[0].outcome_time_ms, 9000);
  EXPECT_EQ(joined->rows[1].request.request_id, "req-2");
  EXPECT_EQ(joined->rows[1].outcome_json, "\"churned\"");

  q.deployment = "e";
  auto none = log->JoinOutcomes(q);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->rows.empty());
}

TEST_F(InferenceLogTest, ReopenKeepsEverythingLoggedBeforeShutdown) {
  {
    auto log = OpenLog(Deterministic(1000, 64));
    ASSERT_TRUE(log);
    for (int i = 0; i < 300; ++i) ASSERT_TRUE(log->Log(Record("d", i)));
    ASSERT_TRUE(log->RecordOutcome("d", OutcomeKey::kRequestId, "req-7", "1").ok());
    // No Flush(): destruction writes what is still queued.
  }
  auto log = OpenLog(Deterministic(1000, 64));
  ASSERT_TRUE(log);
  InferenceQuery q;
  q.deployment = "d";
  q.page_size = 1000;
  auto page = log->Query(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->records.size(), 300u);
  auto joined = log->JoinOutcomes(q);
  ASSERT_TRUE(joined.ok());
  ASSERT_EQ(joined->rows.size(), 1u);
  EXPECT_EQ(joined->rows[0].request.request_id, "req-7");
}

// kill -9 after a Flush(): the committed records survive, the queued ones (fewer than
// max_batch and no timer, so never written) are what the durability bound says may be lost.
TEST_F(InferenceLogTest, KillNineLosesOnlyWhatWasNotCommitted) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto log = InferenceLog::Open(path_, clock_, Deterministic(1000, 1000));
    if (!log.ok()) _exit(2);
    for (int i = 0; i < 300; ++i) (*log)->Log(Record("d", i));
    if (!(*log)->Flush().ok()) _exit(3);
    for (int i = 300; i < 350; ++i) (*log)->Log(Record("d", i));
    raise(SIGKILL);
    _exit(4);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited with " << WEXITSTATUS(wstatus);
  EXPECT_EQ(WTERMSIG(wstatus), SIGKILL);

  auto log = OpenLog(Deterministic(1000, 1000));
  ASSERT_TRUE(log);
  InferenceQuery q;
  q.deployment = "d";
  q.page_size = 1000;
  auto page = log->Query(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records.size(), 300u);
  EXPECT_EQ(page->records.back().request_id, "req-299");
}

TEST_F(InferenceLogTest, AttachNeedsTheMigrationAndRejectsBadOptions) {
  auto bare = store::ConnectionPool::Open((dir_ / "bare.db").string(), {});
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(InferenceLog::Attach(**bare, clock_).status().code(), Code::kFailedPrecondition);

  auto pool =
      store::ConnectionPool::Open((dir_ / "shared.db").string(), InferenceLog::Migrations());
  ASSERT_TRUE(pool.ok());
  auto log = InferenceLog::Attach(**pool, clock_, Deterministic(10, 10));
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_TRUE((*log)->Log(Record("d", 1)));
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ((*log)->counters().written, 1u);

  InferenceLogOptions bad;
  bad.queue_capacity = 0;
  EXPECT_EQ(InferenceLog::Open(path_, clock_, bad).status().code(), Code::kInvalidArgument);
  bad = {};
  bad.max_batch = 0;
  EXPECT_EQ(InferenceLog::Open(path_, clock_, bad).status().code(), Code::kInvalidArgument);
}

TEST_F(InferenceLogTest, ConcurrentLoggersAccountForEveryRecord) {
  auto log = OpenLog(Deterministic(500, 100));
  ASSERT_TRUE(log);
  constexpr int kThreads = 4, kPerThread = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) log->Log(Record("d", t * kPerThread + i));
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(log->Flush().ok());
  InferenceLogCounters c = log->counters();
  EXPECT_EQ(c.enqueued + c.dropped, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(c.written, c.enqueued);
  InferenceQuery q;
  q.deployment = "d";
  q.page_size = 10'000;
  auto page = log->Query(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->records.size(), c.written);
}

TEST_F(InferenceLogTest, TimerFlushesWithoutAnExplicitFlush) {
  InferenceLogOptions o;
  o.flush_interval_ms = 1;
  auto log = OpenLog(o);
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->Log(Record("d", 1)));
  // Flush() would force it; this only waits for the timer. The 60 s bound turns a broken
  // timer into a failure instead of a hang; it is not a performance threshold.
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (log->counters().written < 1 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(log->counters().written, 1u);
  EXPECT_EQ(log->counters().batches, 1u);
}

}  // namespace
}  // namespace cairn::serving
