// Built-in steps as child processes (pipeline/step_process.h). This test binary is its own
// step process: started as `<this binary> pipeline step SPEC STEP --context FILE` it runs the
// built-in the file describes with the step types below (see main at the bottom), as the
// cairn binary does with its own.

#include "pipeline/step_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "pipeline/executor.h"
#include "pipeline/process.h"
#include "pipeline/spec.h"
#include "pipeline/step_types.h"

namespace fs = std::filesystem;

namespace cairn::pipeline {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::trunc) << text;
}

std::string At(const StepContext& ctx, const std::string& rel) { return ctx.base_dir + "/" + rel; }

// Test-only built-ins: they do what the real ones never need to (block, meet another step,
// fail on purpose), to observe how the executor treats a built-in's process.
class BaseTestType : public StepType {
 public:
  Status CheckConfig(const std::map<std::string, std::string>&) const override {
    return OkStatus();
  }
};

// Creates `mine`, then waits for `theirs` (another step running at the same time creates it).
// Fails after 60 s: the two steps did not run at once.
class RendezvousType final : public BaseTestType {
 public:
  Status Run(const StepContext& ctx, std::map<std::string, std::string>* values) const override {
    WriteFile(At(ctx, ctx.with.at("mine")), "here\n");
    for (int i = 0; i < 6000; ++i) {
      if (fs::exists(At(ctx, ctx.with.at("theirs")))) {
        (*values)["met"] = "true";
        return OkStatus();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return DeadlineExceeded("the other step never came");
  }
};

// Starts a background grandchild (`sleep 60`, its pid written to `pid_file`), then blocks.
class BlockType final : public BaseTestType {
 public:
  Status Run(const StepContext& ctx, std::map<std::string, std::string>*) const override {
    std::string cmd = "sleep 60 & echo $! > '" + At(ctx, ctx.with.at("pid_file")) + "'";
    if (std::system(cmd.c_str()) != 0) return Internal("cannot start the grandchild");
    std::this_thread::sleep_for(std::chrono::seconds(60));
    return OkStatus();
  }
};

// Appends a line to `counter`; fails while it holds at most `fail_times` lines.
class FlakyType final : public BaseTestType {
 public:
  Status Run(const StepContext& ctx, std::map<std::string, std::string>* values) const override {
    std::string path = At(ctx, ctx.with.at("counter"));
    std::ofstream(path, std::ios::app) << "attempt\n";
    std::string text = ReadFile(path);
    long n = std::count(text.begin(), text.end(), '\n');
    if (n <= std::stol(ctx.with.at("fail_times"))) {
      return Unavailable("flaky: attempt " + std::to_string(n) + " fails");
    }
    (*values)["attempts_seen"] = std::to_string(n);
    return OkStatus();
  }
};

// Writes to its log and metrics files, reports its pid and params as values.
class ReportType final : public BaseTestType {
 public:
  Status Run(const StepContext& ctx, std::map<std::string, std::string>* values) const override {
    std::ofstream(ctx.log_path, std::ios::app) << "the step's own log line\n";
    std::ofstream(ctx.metrics_path) << R"({"score": 0.75})";
    (*values)["pid"] = std::to_string(getpid());
    (*values)["lr"] = ctx.params.count("lr") ? ctx.params.at("lr").ToText() : "";
    (*values)["env"] = std::getenv("REPORT_ENV") ? std::getenv("REPORT_ENV") : "";
    return OkStatus();
  }
};

// Exits the process without reporting anything (a crash, as far as the executor can tell).
class VanishType final : public BaseTestType {
 public:
  Status Run(const StepContext&, std::map<std::string, std::string>*) const override {
    std::_Exit(7);
  }
};

StepTypeRegistry TestStepTypes() {
  StepTypeRegistry r = StepTypeRegistry::WithBuiltins();
  r.Register("test-rendezvous", std::make_unique<RendezvousType>());
  r.Register("test-block", std::make_unique<BlockType>());
  r.Register("test-flaky", std::make_unique<FlakyType>());
  r.Register("test-report", std::make_unique<ReportType>());
  r.Register("test-vanish", std::make_unique<VanishType>());
  return r;
}

bool ProcessGone(pid_t pid) {
  for (int i = 0; i < 200; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return true;
    std::string content((std::istreambuf_iterator<char>(stat)), {});
    size_t paren = content.rfind(')');
    if (paren != std::string::npos && content.size() > paren + 2 && content[paren + 2] == 'Z') {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

class StepProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cairn-step-process-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& rel) const { return (dir_ / rel).string(); }

  // Runs `yaml` with built-ins as child processes of this test binary (or in-process when
  // `in_process`).
  RunResult Run(const std::string& yaml, RunOptions options = {}, bool in_process = false) {
    WriteFile(Path("pipeline.yaml"), yaml);
    auto spec = LoadSpec(Path("pipeline.yaml"));
    EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    if (!spec.ok()) return {};
    spec_ = *spec;
    auto launcher = NewPosixProcessLauncher();
    Executor executor(launcher.get(), &SystemClock::Get(), &types_);
    progress_.clear();
    options.progress = [this](const std::string& line) { progress_.push_back(line); };
    if (!in_process) options.step_binary = "/proc/self/exe";
    auto result = executor.Run(spec_, options);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : RunResult{};
  }

  // The index of the first progress line containing `text` (-1 when none).
  int LineOf(const std::string& text) const {
    for (size_t i = 0; i < progress_.size(); ++i) {
      if (progress_[i].find(text) != std::string::npos) return static_cast<int>(i);
    }
    return -1;
  }

  fs::path dir_;
  PipelineSpec spec_;
  StepTypeRegistry types_ = TestStepTypes();
  std::vector<std::string> progress_;
};

TEST_F(StepProcessTest, ABuiltinAndACommandRunAtOnceUnderJobs2) {
  // The built-in comes first: in-process it would block the executor and the command could
  // never start, so the two only finish if they run at the same time.
  RunOptions o;
  o.jobs = 2;
  o.use_cache = false;
  RunResult r = Run(R"(
steps:
  builtin: {type: test-rendezvous, with: {mine: b.here, theirs: c.here}}
  command:
    run: "i=0; while [ ! -f b.here ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i+1)); done; touch c.here; test -f b.here"
)",
                    o);
  EXPECT_TRUE(r.ok) << r.Find("builtin")->message << " / " << r.Find("command")->message;
  EXPECT_EQ(r.Find("builtin")->values.at("met"), "true");
  // Both were started before either finished.
  ASSERT_GE(LineOf("start   command"), 0);
  EXPECT_LT(LineOf("start   command"), LineOf("ok      builtin"));
  EXPECT_LT(LineOf("start   builtin"), LineOf("ok      command"));
}

TEST_F(StepProcessTest, TimeoutKillsTheBuiltinsWholeProcessGroup) {
  RunResult r = Run(R"(
steps:
  slow: {type: test-block, with: {pid_file: child.pid}, timeout: 2s}
  after: {needs: [slow], run: "true"}
)");
  EXPECT_FALSE(r.ok);
  const StepResult* s = r.Find("slow");
  EXPECT_EQ(s->status, StepStatus::kFailed);
  EXPECT_TRUE(s->timed_out);
  EXPECT_EQ(s->message, "timed out after 2000 ms (process group killed)");
  EXPECT_EQ(r.Find("after")->status, StepStatus::kNotRun);
  std::string pid_text = ReadFile(Path("child.pid"));
  ASSERT_FALSE(pid_text.empty()) << "the built-in did not start its grandchild within 2 s";
  pid_t child = std::stoi(pid_text);
  bool gone = ProcessGone(child);
  if (!gone) ::kill(child, SIGKILL);
  EXPECT_TRUE(gone) << "the grandchild " << child << " survived the timeout";
}

TEST_F(StepProcessTest, RetriesABuiltinWithBackoff) {
  RunResult r = Run(R"(
steps:
  flaky:
    type: test-flaky
    with: {counter: attempts.log, fail_times: "2"}
    retries: {limit: 3, backoff: 10ms, factor: 2}
)");
  ASSERT_TRUE(r.ok) << r.Find("flaky")->message;
  EXPECT_EQ(r.Find("flaky")->attempts, 3);
  EXPECT_EQ(r.Find("flaky")->values.at("attempts_seen"), "3");
  // Each failed attempt's message is the step's own status message, as in-process.
  EXPECT_GE(LineOf("retry   flaky in 10 ms: flaky: attempt 1 fails"), 0);
  EXPECT_GE(LineOf("retry   flaky in 20 ms: flaky: attempt 2 fails"), 0);
  // The last attempt's logs start empty.
  EXPECT_EQ(ReadFile(r.Find("flaky")->stderr_path), "");
  EXPECT_EQ(ReadFile(r.Find("flaky")->stdout_path), "attempts_seen=3\n");

  RunResult out = Run(R"(
steps:
  never: {type: test-flaky, with: {counter: never.log, fail_times: "9"}, retries: {limit: 1, backoff: 1ms}}
)");
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.Find("never")->attempts, 2);
  EXPECT_EQ(out.Find("never")->message, "flaky: attempt 2 fails");
  EXPECT_EQ(ReadFile(out.Find("never")->stderr_path), "UNAVAILABLE: flaky: attempt 2 fails\n");
}

TEST_F(StepProcessTest, RunsInItsOwnProcessWithTheStepsEnvLogsMetricsAndValues) {
  RunOptions o;
  o.params["lr"] = Value::Float(0.25);
  RunResult r = Run(R"(
params: {lr: {type: float, default: 0.1}}
steps:
  report:
    type: test-report
    params: [lr]
    env: {REPORT_ENV: "declared"}
    outputs: [out/x.txt]
)",
                    o);
  ASSERT_TRUE(r.ok) << r.Find("report")->message;
  const StepResult* s = r.Find("report");
  EXPECT_NE(s->values.at("pid"), std::to_string(getpid()));
  EXPECT_EQ(s->values.at("lr"), "0.25");
  EXPECT_EQ(s->values.at("env"), "declared");
  std::string out = ReadFile(s->stdout_path);
  EXPECT_EQ(out,
            "the step's own log line\nenv=declared\nlr=0.25\npid=" + s->values.at("pid") + "\n");
  EXPECT_EQ(ReadFile(s->metrics_path), R"({"score": 0.75})");
  // The context file names the step as resolved.
  auto inv = ReadBuiltinInvocation(r.run_dir + "/steps/report.json");
  ASSERT_TRUE(inv.ok()) << inv.status().ToString();
  EXPECT_EQ(inv->type, "test-report");
  EXPECT_EQ(inv->ctx.params.at("lr").kind, Value::Kind::kFloat);
  EXPECT_EQ(inv->ctx.outputs, std::vector<std::string>{"out/x.txt"});
  EXPECT_EQ(inv->ctx.log_path, s->stdout_path);
}

TEST_F(StepProcessTest, AProcessThatDiesWithoutReportingFailsClearly) {
  RunResult r = Run("steps:\n  v: {type: test-vanish}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.Find("v")->message, "built-in step process exit code 7");
}

TEST_F(StepProcessTest, IngestInAChildMatchesInProcessAndCaches) {
  WriteFile(Path("raw/part1.csv"), "id,x,y\n1,2,3\n4,5,6\n");
  WriteFile(Path("raw/part2.csv"), "id,x,y\n7,\"8,5\",9\n");
  std::string yaml = R"(
steps:
  ingest:
    type: ingest
    with: {path: "raw/*.csv", columns: "id,y"}
    outputs: [data/all.csv]
  count: {needs: [ingest], run: "wc -l < data/all.csv > n.txt", inputs: [data/all.csv], outputs: [n.txt]}
)";
  RunResult first = Run(yaml);
  ASSERT_TRUE(first.ok) << first.Find("ingest")->message;
  EXPECT_EQ(first.executed, 2);
  EXPECT_EQ(ReadFile(Path("data/all.csv")), "id,x,y\n1,2,3\n4,5,6\n7,\"8,5\",9\n");
  EXPECT_EQ(first.Find("ingest")->values.at("rows"), "3");
  EXPECT_EQ(first.Find("ingest")->values.at("files"), "2");

  // Unchanged: nothing runs, the outputs and values come from the cache.
  RunResult again = Run(yaml);
  EXPECT_EQ(again.cached, 2);
  EXPECT_EQ(again.executed, 0);
  EXPECT_EQ(again.Find("ingest")->values.at("rows"), "3");
  EXPECT_EQ(again.Find("ingest")->cache_key, first.Find("ingest")->cache_key);
  // The same step in-process has the same key (the key does not depend on where it runs).
  RunResult in_process = Run(yaml, {}, /*in_process=*/true);
  EXPECT_EQ(in_process.cached, 2);

  // A broken input part: the same message as in-process; the dependant does not run.
  WriteFile(Path("raw/part3.csv"), "id,x,y\n1,2\n");
  RunResult bad = Run(yaml);
  EXPECT_FALSE(bad.ok);
  RunResult bad_in_process = Run(yaml, {}, /*in_process=*/true);
  EXPECT_EQ(bad.Find("ingest")->message, bad_in_process.Find("ingest")->message);
  EXPECT_NE(bad.Find("ingest")->message.find("part3.csv' line 2: 2 fields, header has 3"),
            std::string::npos)
      << bad.Find("ingest")->message;
  EXPECT_EQ(bad.Find("count")->status, StepStatus::kNotRun);

  // Resume re-runs the failed built-in and its dependant only.
  WriteFile(Path("raw/part3.csv"), "id,x,y\n10,11,12\n");
  RunOptions resume;
  resume.resume_run_id = bad.run_id;
  RunResult resumed = Run(yaml, resume);
  EXPECT_TRUE(resumed.ok) << resumed.Find("ingest")->message;
  EXPECT_EQ(resumed.executed, 2);
  EXPECT_EQ(resumed.Find("ingest")->values.at("rows"), "4");
  EXPECT_EQ(ReadFile(Path("n.txt")), "5\n");
}

TEST(StepContextFile, RoundTripsAndRejectsOtherFiles) {
  std::string dir =
      (fs::temp_directory_path() / ("cairn-step-context-" + std::to_string(getpid()))).string();
  fs::create_directories(dir);
  BuiltinInvocation inv;
  inv.type = "ingest";
  inv.ctx = StepContext{"/base",
                        {{"path", "a*.csv"}},
                        {"in.csv"},
                        {"out.csv"},
                        {{"n", Value::Int(3)}, {"tags", Value::List({Value::String("a")})}},
                        "/log",
                        "run-1",
                        "ingest",
                        "/metrics.json"};
  inv.outputs_path = "/outputs";
  inv.error_path = "/outputs.error";
  inv.platform = StepPlatform{"http://127.0.0.1:1", TrackedRun{"r1", "7", "mlflow-artifacts:/x"}};
  ASSERT_TRUE(WriteBuiltinInvocation(dir + "/c.json", inv).ok());
  auto back = ReadBuiltinInvocation(dir + "/c.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ctx.with, inv.ctx.with);
  EXPECT_EQ(back->ctx.params.at("n").kind, Value::Kind::kInt);
  EXPECT_EQ(back->ctx.params.at("tags").list.size(), 1u);
  EXPECT_EQ(back->ctx.run_id, "run-1");
  EXPECT_EQ(back->platform.tracking_uri, "http://127.0.0.1:1");
  ASSERT_TRUE(back->platform.run.has_value());
  EXPECT_EQ(back->platform.run->artifact_uri, "mlflow-artifacts:/x");

  WriteFile(dir + "/bad.json", R"({"type": 3})");
  EXPECT_EQ(ReadBuiltinInvocation(dir + "/bad.json").status().code(), Code::kInvalidArgument);
  WriteFile(dir + "/garbage.json", "not json");
  EXPECT_EQ(ReadBuiltinInvocation(dir + "/garbage.json").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ReadBuiltinInvocation(dir + "/none.json").status().code(), Code::kNotFound);
  fs::remove_all(dir);
}

// `<binary> pipeline step SPEC STEP --context FILE`: the step process, as in the cairn binary.
int StepProcessMain(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) != "--context") continue;
    auto inv = ReadBuiltinInvocation(argv[i + 1]);
    if (!inv.ok()) {
      std::cerr << inv.status().ToString() << '\n';
      return 2;
    }
    return RunBuiltinInvocation(*inv, TestStepTypes(), std::cerr);
  }
  std::cerr << "pipeline step: no --context\n";
  return 2;
}

}  // namespace
}  // namespace cairn::pipeline

int main(int argc, char** argv) {
  if (argc > 2 && std::string(argv[1]) == "pipeline" && std::string(argv[2]) == "step") {
    return cairn::pipeline::StepProcessMain(argc, argv);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
