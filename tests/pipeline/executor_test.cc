// The local executor with real processes (`sh -c`, sub-second) and with a fake launcher.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "common/sha256.h"
#include "pipeline/cache.h"
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

int CountLines(const std::string& path) {
  std::string s = ReadFile(path);
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cairn-pipeline-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& rel) const { return (dir_ / rel).string(); }

  // Parses `yaml` as <dir>/pipeline.yaml and runs it with the real launcher.
  RunResult Run(const std::string& yaml, RunOptions options = {}) {
    WriteFile(Path("pipeline.yaml"), yaml);
    auto spec = LoadSpec(Path("pipeline.yaml"));
    EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    if (!spec.ok()) return {};
    spec_ = *spec;
    auto launcher = NewPosixProcessLauncher();
    auto types = StepTypeRegistry::WithBuiltins();
    Executor executor(launcher.get(), &SystemClock::Get(), &types);
    options.progress = [this](const std::string& line) { progress_.push_back(line); };
    auto result = executor.Run(spec_, options);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : RunResult{};
  }

  static StepStatus StatusOf(const RunResult& r, const std::string& step) {
    const StepResult* s = r.Find(step);
    EXPECT_NE(s, nullptr) << step;
    return s ? s->status : StepStatus::kPending;
  }

  fs::path dir_;
  PipelineSpec spec_;
  std::vector<std::string> progress_;
};

TEST_F(ExecutorTest, RunsInTopologicalOrder) {
  // A diamond listed out of order: d needs b and c, which need a.
  RunResult r = Run(R"(
steps:
  d: {needs: [b, c], run: "echo d >> order.log"}
  b: {needs: [a], run: "echo b >> order.log"}
  c: {needs: [a], run: "echo c >> order.log"}
  a: {run: "echo a >> order.log"}
)");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.executed, 4);
  std::string order = ReadFile(Path("order.log"));
  EXPECT_EQ(order.substr(0, 2), "a\n");
  EXPECT_EQ(order.substr(6), "d\n");
  EXPECT_EQ(order.size(), 8u);
  // Progress lines name each step as it starts and finishes.
  int starts = 0, oks = 0;
  for (const auto& l : progress_) {
    starts += l.find("start   ") != std::string::npos;
    oks += l.find("ok      ") != std::string::npos;
  }
  EXPECT_EQ(starts, 4);
  EXPECT_EQ(oks, 4);
}

TEST_F(ExecutorTest, KeepsStdoutAndStderrPerStep) {
  RunResult r = Run("steps:\n  a: {run: \"echo to-out; echo to-err >&2\"}\n");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(ReadFile(r.Find("a")->stdout_path), "to-out\n");
  EXPECT_EQ(ReadFile(r.Find("a")->stderr_path), "to-err\n");
}

TEST_F(ExecutorTest, CreatesOutputFoldersBeforeTheStepRuns) {
  RunResult r = Run("steps:\n  a: {run: \"echo x > deep/er/f.txt\", outputs: [deep/er/f.txt]}\n");
  EXPECT_TRUE(r.ok) << r.Find("a")->message;
  EXPECT_EQ(ReadFile(Path("deep/er/f.txt")), "x\n");
}

TEST_F(ExecutorTest, FailureStopsDependantsWhileIndependentStepsGoOn) {
  RunResult r = Run(R"(
steps:
  bad: {run: "echo boom >&2; exit 3"}
  after_bad: {needs: [bad], run: "touch after_bad.ran"}
  last: {needs: [after_bad], run: "touch last.ran"}
  independent: {run: "touch independent.ran"}
)");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(StatusOf(r, "bad"), StepStatus::kFailed);
  EXPECT_EQ(r.Find("bad")->exit_code, 3);
  EXPECT_NE(r.Find("bad")->message.find("exit code 3: boom"), std::string::npos)
      << r.Find("bad")->message;
  EXPECT_EQ(StatusOf(r, "after_bad"), StepStatus::kNotRun);
  EXPECT_EQ(StatusOf(r, "last"), StepStatus::kNotRun);
  EXPECT_EQ(StatusOf(r, "independent"), StepStatus::kSucceeded);
  EXPECT_FALSE(fs::exists(Path("after_bad.ran")));
  EXPECT_TRUE(fs::exists(Path("independent.ran")));
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(r.not_run, 2);
}

TEST_F(ExecutorTest, FailsTwiceThenSucceedsUnderRetries) {
  RunResult r = Run(R"(
steps:
  flaky:
    run: "echo x >> attempts.log; test $(wc -l < attempts.log) -ge 3"
    retries: {limit: 3, backoff: 10ms, factor: 2}
)");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(StatusOf(r, "flaky"), StepStatus::kSucceeded);
  EXPECT_EQ(r.Find("flaky")->attempts, 3);
  EXPECT_EQ(CountLines(Path("attempts.log")), 3);
}

TEST_F(ExecutorTest, RetriesRunOut) {
  RunResult r = Run(R"(
steps:
  never: {run: "echo x >> attempts.log; exit 1", retries: {limit: 2, backoff: 1ms}}
)");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.Find("never")->attempts, 3);
  EXPECT_EQ(CountLines(Path("attempts.log")), 3);
}

bool ProcessGone(pid_t pid) {
  // Gone, or a zombie waiting for its (new) parent to reap it: either way not running.
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

TEST_F(ExecutorTest, TimeoutKillsTheWholeProcessGroup) {
  // The step starts a background grandchild and records its pid, then blocks.
  RunResult r = Run(R"(
steps:
  slow:
    run: "sleep 30 & echo $! > child.pid; sleep 30"
    timeout: 1s
)");
  EXPECT_FALSE(r.ok);
  const StepResult* s = r.Find("slow");
  EXPECT_TRUE(s->timed_out);
  EXPECT_NE(s->message.find("timed out"), std::string::npos) << s->message;
  std::string pid_text = ReadFile(Path("child.pid"));
  ASSERT_FALSE(pid_text.empty());
  pid_t child = std::stoi(pid_text);
  bool gone = ProcessGone(child);
  if (!gone) ::kill(child, SIGKILL);  // do not leak it when the test fails
  EXPECT_TRUE(gone) << "the grandchild " << child << " survived the timeout";
}

TEST_F(ExecutorTest, CancelKillsRunningStepsAndLeavesTheRunResumable) {
  std::atomic<bool> cancel{false};
  RunOptions o;
  o.cancel = &cancel;
  std::string yaml = R"(
steps:
  slow: {run: "sleep 30 & echo $! > child.pid; sleep 30", cache: false}
  after: {needs: [slow], run: "touch after.ran", cache: false}
)";
  WriteFile(Path("pipeline.yaml"), yaml);
  auto spec = LoadSpec(Path("pipeline.yaml"));
  ASSERT_TRUE(spec.ok());
  auto launcher = NewPosixProcessLauncher();
  Executor executor(launcher.get(), &SystemClock::Get(), nullptr);
  // Cancel as soon as the slow step has started its grandchild.
  std::thread canceller;
  o.progress = [&](const std::string& line) {
    if (line.find("start   slow") != std::string::npos) {
      canceller = std::thread([&cancel, pid_file = Path("child.pid")] {
        for (int i = 0; i < 500 && ReadFile(pid_file).empty(); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        cancel = true;
      });
    }
  };
  auto r = executor.Run(*spec, o);
  canceller.join();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->Find("slow")->message, "cancelled (process group killed)");
  EXPECT_EQ(r->Find("after")->status, StepStatus::kNotRun);
  EXPECT_FALSE(fs::exists(Path("after.ran")));
  std::string pid_text = ReadFile(Path("child.pid"));
  ASSERT_FALSE(pid_text.empty());
  pid_t child = std::stoi(pid_text);
  bool gone = ProcessGone(child);
  if (!gone) ::kill(child, SIGKILL);
  EXPECT_TRUE(gone);
}

TEST_F(ExecutorTest, CacheHitsAndMisses) {
  WriteFile(Path("data/in.txt"), "abcdef\n");
  auto spec = [](const std::string& cmd, const std::string& n) {
    return "params:\n  n: " + n + "\nsteps:\n  copy:\n    run: \"(" + cmd +
           " ${params.n}) > out.txt; echo ran >> runs.log\"\n    inputs: [data/in.txt]\n"
           "    outputs: [out.txt]\n";
  };
  std::string base = spec("cat data/in.txt; echo", "1");
  RunResult first = Run(base);
  EXPECT_EQ(StatusOf(first, "copy"), StepStatus::kSucceeded);
  EXPECT_EQ(ReadFile(Path("out.txt")), "abcdef\n1\n");

  // Unchanged: nothing executes.
  RunResult again = Run(base);
  EXPECT_EQ(StatusOf(again, "copy"), StepStatus::kCached);
  EXPECT_EQ(again.executed, 0);
  EXPECT_EQ(again.Find("copy")->cache_key, first.Find("copy")->cache_key);
  EXPECT_EQ(CountLines(Path("runs.log")), 1);

  // A deleted output is restored from the cache by content.
  fs::remove(Path("out.txt"));
  EXPECT_EQ(StatusOf(Run(base), "copy"), StepStatus::kCached);
  EXPECT_EQ(ReadFile(Path("out.txt")), "abcdef\n1\n");

  // One input byte changes: a miss.
  WriteFile(Path("data/in.txt"), "abcdeF\n");
  RunResult byte = Run(base);
  EXPECT_EQ(StatusOf(byte, "copy"), StepStatus::kSucceeded);
  EXPECT_NE(byte.Find("copy")->cache_key, first.Find("copy")->cache_key);
  EXPECT_EQ(CountLines(Path("runs.log")), 2);

  // Back to the old bytes: the old entry hits again (content addressed) and its output is
  // restored.
  WriteFile(Path("data/in.txt"), "abcdef\n");
  EXPECT_EQ(StatusOf(Run(base), "copy"), StepStatus::kCached);
  EXPECT_EQ(ReadFile(Path("out.txt")), "abcdef\n1\n");

  // One param changes: a miss.
  EXPECT_EQ(StatusOf(Run(spec("cat data/in.txt; echo", "2")), "copy"), StepStatus::kSucceeded);
  EXPECT_EQ(ReadFile(Path("out.txt")), "abcdef\n2\n");
  // The same param given as an override hits that entry.
  RunOptions o;
  o.params["n"] = Value::Int(2);
  EXPECT_EQ(StatusOf(Run(base, o), "copy"), StepStatus::kCached);

  // The command changes: a miss.
  EXPECT_EQ(StatusOf(Run(spec("cat data/in.txt;  echo", "1")), "copy"), StepStatus::kSucceeded);
  EXPECT_EQ(CountLines(Path("runs.log")), 4);

  // --no-cache runs it anyway.
  RunOptions no_cache;
  no_cache.use_cache = false;
  EXPECT_EQ(StatusOf(Run(base, no_cache), "copy"), StepStatus::kSucceeded);
  EXPECT_EQ(CountLines(Path("runs.log")), 5);
}

TEST_F(ExecutorTest, UnchangedInputsAreNotReRead) {
  WriteFile(Path("big.bin"), std::string(1 << 20, 'x'));
  // An hour-old file: outside the racy window, so its memo entry is trusted.
  fs::last_write_time(Path("big.bin"), fs::file_time_type::clock::now() - std::chrono::hours(1));
  HashMemo memo(Path("memo.tsv"));
  ASSERT_TRUE(memo.Hash(Path("big.bin")).ok());
  EXPECT_EQ(memo.bytes_hashed(), 1 << 20);
  ASSERT_TRUE(memo.Save().ok());
  HashMemo reloaded(Path("memo.tsv"));
  auto h = reloaded.Hash(Path("big.bin"));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(reloaded.bytes_hashed(), 0);  // answered from (inode, size, mtime)
  // The digest of 1 MiB of 'x', from `head -c 1048576 /dev/zero | tr '\0' x | sha256sum`.
  EXPECT_EQ(*h, "8f990ba0b577b51cf009ea049368c16bbda1b21e1b93be07a824758bb253c39b");
}

TEST_F(ExecutorTest, RacilyCleanFilesAreReHashed) {
  // A same-size rewrite that keeps the mtime (as a coarse file-system clock can, right after
  // the hash was taken) must not be served from the memo.
  WriteFile(Path("f.txt"), "aaaa");
  auto mtime = fs::last_write_time(Path("f.txt"));
  HashMemo memo(Path("memo.tsv"));
  auto before = memo.Hash(Path("f.txt"));
  ASSERT_TRUE(before.ok());
  WriteFile(Path("f.txt"), "bbbb");
  fs::last_write_time(Path("f.txt"), mtime);
  auto after = memo.Hash(Path("f.txt"));
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*before, *after);
  EXPECT_EQ(*after, Sha256Hex("bbbb"));
}

TEST_F(ExecutorTest, MissingDeclaredOutputFailsAndCachesNothing) {
  std::string yaml = "steps:\n  a: {run: \"echo ran >> runs.log\", outputs: [never.txt]}\n";
  RunResult r = Run(yaml);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.Find("a")->message.find("declared output 'never.txt' is missing"),
            std::string::npos)
      << r.Find("a")->message;
  RunResult again = Run(yaml);
  EXPECT_EQ(StatusOf(again, "a"), StepStatus::kFailed);
  EXPECT_EQ(CountLines(Path("runs.log")), 2);  // ran again: nothing was cached
  EXPECT_FALSE(fs::exists(Path(".cairn/pipelines/cache/entries")));
}

TEST_F(ExecutorTest, MissingDeclaredInputFails) {
  RunResult r = Run("steps:\n  a: {run: \"true\", inputs: [nope.csv]}\n");
  EXPECT_EQ(StatusOf(r, "a"), StepStatus::kFailed);
  EXPECT_NE(r.Find("a")->message.find("declared input 'nope.csv' does not exist"),
            std::string::npos);
}

TEST_F(ExecutorTest, CommandThatDoesNotExist) {
  RunResult r = Run(R"(
steps:
  argv: {run: [cairn-no-such-command-xyz, --flag]}
  shell: {run: "cairn-no-such-command-xyz --flag"}
)");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.Find("argv")->message.find("command 'cairn-no-such-command-xyz' not found"),
            std::string::npos)
      << r.Find("argv")->message;
  EXPECT_NE(r.Find("shell")->message.find("exit code 127 (command not found)"),
            std::string::npos)
      << r.Find("shell")->message;
}

TEST_F(ExecutorTest, ResumeRerunsOnlyFailedAndNotRunSteps) {
  std::string yaml = R"(
steps:
  a: {run: "echo a >> runs.log", cache: false}
  b: {needs: [a], run: "echo b >> runs.log; test -f fixed", cache: false}
  c: {needs: [b], run: "echo c >> runs.log", cache: false}
  d: {run: "echo d >> runs.log", cache: false}
)";
  RunResult first = Run(yaml);
  EXPECT_FALSE(first.ok);
  EXPECT_EQ(StatusOf(first, "c"), StepStatus::kNotRun);
  EXPECT_EQ(ReadFile(Path("runs.log")).size(), 6u);  // a, b, d in some order
  WriteFile(Path("fixed"), "");
  RunOptions o;
  o.resume_run_id = first.run_id;
  RunResult resumed = Run(yaml, o);
  EXPECT_TRUE(resumed.ok);
  EXPECT_EQ(resumed.run_id, first.run_id);
  EXPECT_EQ(resumed.executed, 2);  // b and c only
  EXPECT_EQ(resumed.resumed, 2);   // a and d were done
  EXPECT_EQ(StatusOf(resumed, "a"), StepStatus::kSucceeded);
  std::string log = ReadFile(Path("runs.log"));
  EXPECT_EQ(log.substr(6), "b\nc\n");

  RunOptions unknown;
  unknown.resume_run_id = "no-such-run";
  WriteFile(Path("pipeline.yaml"), yaml);
  auto spec = LoadSpec(Path("pipeline.yaml"));
  auto launcher = NewPosixProcessLauncher();
  Executor executor(launcher.get(), &SystemClock::Get(), nullptr);
  EXPECT_EQ(executor.Run(*spec, unknown).status().code(), Code::kNotFound);
  unknown.resume_run_id = "../../etc";
  EXPECT_EQ(executor.Run(*spec, unknown).status().code(), Code::kInvalidArgument);
}

TEST_F(ExecutorTest, WhenConditionsOnUpstreamOutputs) {
  std::string yaml = R"(
params: {threshold: 0.8}
steps:
  evaluate: {run: "echo auc=$AUC > $CAIRN_OUTPUTS", env: {AUC: "${params.auc}"}, cache: false}
  register:
    when: steps.evaluate.outputs.auc > params.threshold
    run: "touch registered"
  notify: {needs: [register], run: "touch notified"}
)";
  auto with_auc = [&](const std::string& auc) {
    std::string y = yaml;
    y.replace(y.find("{threshold: 0.8}"), 16, "{threshold: 0.8, auc: " + auc + "}");
    return y;
  };
  RunResult low = Run(with_auc("0.5"));
  EXPECT_TRUE(low.ok);
  EXPECT_EQ(StatusOf(low, "register"), StepStatus::kSkipped);
  EXPECT_EQ(StatusOf(low, "notify"), StepStatus::kSkipped);
  EXPECT_FALSE(fs::exists(Path("registered")));
  RunResult high = Run(with_auc("0.9"));
  EXPECT_TRUE(high.ok);
  EXPECT_EQ(high.Find("evaluate")->values.at("auc"), "0.9");
  EXPECT_EQ(StatusOf(high, "register"), StepStatus::kSucceeded);
  EXPECT_TRUE(fs::exists(Path("notified")));
}

TEST_F(ExecutorTest, ForeachEnvAndParams) {
  RunResult r = Run(R"(
params: {regions: [eu, us], lr: 0.5}
steps:
  train:
    foreach: ${params.regions}
    run: "echo $CAIRN_ITEM $CAIRN_PARAM_LR $GREETING > out-${item}.txt"
    params: [lr]
    env: {GREETING: "hi-${item}"}
    outputs: ["out-${item}.txt"]
  merge: {needs: [train], run: "cat out-eu.txt out-us.txt > all.txt", outputs: [all.txt]}
)");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(StatusOf(r, "train[eu]"), StepStatus::kSucceeded);
  EXPECT_EQ(ReadFile(Path("all.txt")), "eu 0.5 hi-eu\nus 0.5 hi-us\n");
}

TEST_F(ExecutorTest, IngestBuiltin) {
  WriteFile(Path("raw/part1.csv"), "id,x,y\n1,2,3\n4,5,6\n");
  WriteFile(Path("raw/part2.csv"), "id,x,y\n7,\"8,5\",9\n");
  RunResult r = Run(R"(
steps:
  ingest:
    type: ingest
    with: {path: "raw/*.csv", columns: "id,y"}
    outputs: [data/all.csv]
)");
  ASSERT_TRUE(r.ok) << r.Find("ingest")->message;
  EXPECT_EQ(ReadFile(Path("data/all.csv")), "id,x,y\n1,2,3\n4,5,6\n7,\"8,5\",9\n");
  EXPECT_EQ(r.Find("ingest")->values.at("rows"), "3");
  EXPECT_EQ(r.Find("ingest")->values.at("files"), "2");

  WriteFile(Path("raw/part3.csv"), "id,x,y\n1,2\n");
  RunResult bad = Run(ReadFile(Path("pipeline.yaml")));
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.Find("ingest")->message.find("part3.csv' line 2: 2 fields, header has 3"),
            std::string::npos)
      << bad.Find("ingest")->message;
  fs::remove(Path("raw/part3.csv"));
  RunResult missing_col = Run(R"(
steps:
  ingest: {type: ingest, with: {path: "raw/*.csv", columns: "id,z"}, outputs: [o.csv]}
)");
  EXPECT_NE(missing_col.Find("ingest")->message.find("required column 'z' is missing"),
            std::string::npos);
}

class RecordingObserver final : public RunObserver {
 public:
  void OnRunStarted(const std::string& run_id, const PipelineSpec& spec,
                    const std::map<std::string, Value>& params) override {
    events.push_back("run " + spec.name + " n=" + params.at("n").ToText());
  }
  void OnStepFinished(const std::string& run_id, const StepResult& step) override {
    events.push_back(step.name + " " + std::string(StepStatusName(step.status)) + " attempts=" +
                     std::to_string(step.attempts));
  }
  void OnRunFinished(const RunResult& result) override {
    events.push_back(result.ok ? "finished ok" : "finished failed");
  }
  std::vector<std::string> events;
};

TEST_F(ExecutorTest, ObserverSeesEveryStepForLineage) {
  RecordingObserver observer;
  RunOptions o;
  o.observer = &observer;
  RunResult r = Run(R"(
name: lineage
params: {n: 2}
steps:
  a: {run: "true", cache: false}
  b: {needs: [a], run: "exit 1", cache: false}
  c: {needs: [b], run: "true"}
)",
                    o);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(observer.events,
            (std::vector<std::string>{"run lineage n=2", "a succeeded attempts=1",
                                      "b failed attempts=1", "c not-run attempts=0",
                                      "finished failed"}));
}

// A launcher that starts nothing: processes "exit" in start order when WaitAny is called.
class FakeLauncher final : public ProcessLauncher {
 public:
  StatusOr<int64_t> Start(const ProcessSpec& spec) override {
    int64_t pid = next_pid_++;
    running_.push_back(pid);
    started_.push_back(spec.env.at("CAIRN_STEP"));
    max_running_ = std::max<int>(max_running_, static_cast<int>(running_.size()));
    return pid;
  }
  std::optional<ProcessExit> WaitAny(int64_t) override {
    if (running_.empty()) return std::nullopt;
    ProcessExit e;
    e.pid = running_.front();
    running_.pop_front();
    return e;
  }
  void Kill(int64_t) override {}

  std::vector<std::string> started_;
  int max_running_ = 0;

 private:
  int64_t next_pid_ = 100;
  std::deque<int64_t> running_;
};

TEST_F(ExecutorTest, RunsUpToJobsAtOnce) {
  std::string yaml = "steps:\n";
  for (int i = 0; i < 6; ++i) yaml += "  s" + std::to_string(i) + ": {run: \"true\"}\n";
  yaml += "  join: {needs: [s0, s1, s2, s3, s4, s5], run: \"true\"}\n";
  WriteFile(Path("pipeline.yaml"), yaml);
  auto spec = LoadSpec(Path("pipeline.yaml"));
  ASSERT_TRUE(spec.ok());
  for (int jobs : {1, 2, 4}) {
    FakeLauncher fake;
    Executor executor(&fake, &SystemClock::Get(), nullptr);
    RunOptions o;
    o.jobs = jobs;
    o.use_cache = false;
    auto r = executor.Run(*spec, o);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->ok);
    EXPECT_EQ(fake.max_running_, jobs);
    ASSERT_EQ(fake.started_.size(), 7u);
    EXPECT_EQ(fake.started_.back(), "join");
    EXPECT_EQ(fake.started_.front(), "s0");
  }
}

}  // namespace
}  // namespace cairn::pipeline
