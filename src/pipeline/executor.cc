#include "pipeline/executor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "common/ids.h"
#include "pipeline/cache.h"
#include "pipeline/step_process.h"

#ifndef CAIRN_PIPELINE_VERSION
#define CAIRN_PIPELINE_VERSION "0.0.0"
#endif

namespace fs = std::filesystem;
using nlohmann::json;

namespace cairn::pipeline {

std::string_view CairnVersion() { return CAIRN_PIPELINE_VERSION; }

std::string_view StepStatusName(StepStatus s) {
  switch (s) {
    case StepStatus::kPending:
      return "pending";
    case StepStatus::kRunning:
      return "running";
    case StepStatus::kSucceeded:
      return "succeeded";
    case StepStatus::kCached:
      return "cached";
    case StepStatus::kFailed:
      return "failed";
    case StepStatus::kSkipped:
      return "skipped";
    case StepStatus::kNotRun:
      return "not-run";
  }
  return "?";
}

const StepResult* RunResult::Find(const std::string& name) const {
  for (const auto& s : steps) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Executor::Executor(ProcessLauncher* launcher, const Clock* clock, const StepTypeRegistry* types)
    : launcher_(launcher), clock_(clock), types_(types) {}

namespace {

StepStatus StatusFromName(const std::string& name) {
  for (auto s : {StepStatus::kSucceeded, StepStatus::kCached, StepStatus::kFailed,
                 StepStatus::kSkipped, StepStatus::kNotRun}) {
    if (StepStatusName(s) == name) return s;
  }
  return StepStatus::kPending;
}

bool IsTerminal(StepStatus s) {
  return s != StepStatus::kPending && s != StepStatus::kRunning;
}

// Reads what a step wrote to $CAIRN_OUTPUTS: a flat JSON object or key=value lines.
std::map<std::string, std::string> ReadOutputValues(const std::string& path) {
  std::map<std::string, std::string> values;
  std::ifstream in(path);
  if (!in) return values;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    json j = json::parse(text, nullptr, false);
    if (j.is_object()) {
      for (const auto& [k, v] : j.items()) values[k] = v.is_string() ? v.get<std::string>() : v.dump();
      return values;
    }
  }
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::string v = line.substr(eq + 1);
    if (!v.empty() && v.back() == '\r') v.pop_back();
    values[line.substr(0, eq)] = v;
  }
  return values;
}

std::string LastLine(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  if (last.size() > 200) last = last.substr(0, 200) + "...";
  return last;
}

}  // namespace

std::string NewPipelineRunId(const Clock& clock) {
  time_t secs = static_cast<time_t>(clock.NowMillis() / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return fmt::format("{}-{}", buf, NewUuidHex().substr(0, 6));
}

namespace {

// One pipeline run: owns the plan, the per-step state and the event loop.
class RunLoop {
 public:
  RunLoop(ProcessLauncher* launcher, const Clock* clock, const StepTypeRegistry* types,
          const PipelineSpec& spec, const RunOptions& options)
      : launcher_(launcher), clock_(clock), types_(types), spec_(spec), options_(options) {}

  StatusOr<RunResult> Run() {
    start_us_ = clock_->MonotonicMicros();
    RETURN_IF_ERROR(Prepare());
    Loop();
    return Finish();
  }

 private:
  struct Slot {
    StepResult result;
    int pending_deps = 0;
    std::vector<int> dependants;
    bool included = true;
    int64_t pid = 0;
    int64_t started_us = 0;
    int64_t deadline_us = 0;  // 0 = no timeout
    bool killed = false;
    bool builtin_process = false;  // this attempt is a built-in in a child process
    bool resumed = false;  // finished in the run being resumed
  };

  Status Prepare() {
    std::map<std::string, Value> params = options_.params;
    state_dir_ = options_.state_dir.empty() ? spec_.base_dir + "/.cairn/pipelines"
                                            : options_.state_dir;
    std::map<std::string, StepResult> resumed;
    if (!options_.resume_run_id.empty()) {
      run_id_ = options_.resume_run_id;
      bool safe = std::all_of(run_id_.begin(), run_id_.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      });
      if (!safe) return InvalidArgument(fmt::format("bad run id '{}'", run_id_));
      RETURN_IF_ERROR(LoadJournal(&params, &resumed));
    } else if (!options_.run_id.empty()) {
      run_id_ = options_.run_id;
      bool safe = std::all_of(run_id_.begin(), run_id_.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      });
      if (!safe) return InvalidArgument(fmt::format("bad run id '{}'", run_id_));
    } else {
      run_id_ = NewPipelineRunId(*clock_);
    }
    run_dir_ = state_dir_ + "/runs/" + run_id_;
    std::error_code ec;
    fs::create_directories(run_dir_ + "/logs", ec);
    fs::create_directories(run_dir_ + "/outputs", ec);
    fs::create_directories(run_dir_ + "/metrics", ec);
    fs::create_directories(state_dir_ + "/cache", ec);
    if (ec) return Internal(fmt::format("cannot create '{}': {}", run_dir_, ec.message()));
    ASSIGN_OR_RETURN(plan_, MakePlan(spec_, params));

    memo_ = std::make_unique<HashMemo>(state_dir_ + "/cache/hashes.tsv");
    cache_ = std::make_unique<StepCache>(state_dir_ + "/cache");
    journal_.open(run_dir_ + "/journal.jsonl", std::ios::app);
    if (!journal_) return Internal(fmt::format("cannot write the run journal in '{}'", run_dir_));
    if (options_.resume_run_id.empty()) {
      json header = {{"run_id", run_id_},
                     {"pipeline", spec_.name},
                     {"spec", spec_.source_path},
                     {"params", json::parse(ParamsToJson(plan_.params))}};
      journal_ << header.dump() << '\n';
      journal_.flush();
    }

    slots_.resize(plan_.steps.size());
    std::set<int> only;
    for (const auto& name : options_.only_steps) {
      int i = plan_.Find(name);
      if (i < 0) {
        // A spec step name selects all its foreach instances.
        bool found = false;
        for (size_t k = 0; k < plan_.steps.size(); ++k) {
          if (plan_.steps[k].step_name == name) {
            only.insert(static_cast<int>(k));
            found = true;
          }
        }
        if (!found) return InvalidArgument(fmt::format("unknown step '{}'", name));
      } else {
        only.insert(i);
      }
    }
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      Slot& s = slots_[i];
      s.result.name = plan_.steps[i].name;
      s.result.step_name = plan_.steps[i].step_name;
      s.result.outputs = plan_.steps[i].outputs;
      s.included = only.empty() || only.count(static_cast<int>(i));
      if (!s.included) continue;
      auto it = resumed.find(s.result.name);
      if (it != resumed.end()) {
        s.result = it->second;
        s.result.step_name = plan_.steps[i].step_name;
        s.result.outputs = plan_.steps[i].outputs;
        s.resumed = true;
        ++resumed_count_;
        continue;
      }
      for (int d : plan_.steps[i].deps) {
        if (!only.empty()) continue;  // a single step runs regardless of its upstream
        slots_[d].dependants.push_back(static_cast<int>(i));
        if (!resumed.count(plan_.steps[d].name)) ++s.pending_deps;
      }
    }
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].included && !IsTerminal(slots_[i].result.status) &&
          slots_[i].pending_deps == 0) {
        ready_.insert(static_cast<int>(i));
      }
    }
    if (options_.observer) options_.observer->OnRunStarted(run_id_, spec_, plan_.params);
    if (resumed_count_ > 0) {
      Progress(fmt::format("resuming run {}: {} step(s) already done", run_id_, resumed_count_));
    } else {
      Progress(fmt::format("run {}: {} step(s), -j {}", run_id_, CountIncluded(), options_.jobs));
    }
    return OkStatus();
  }

  size_t CountIncluded() const {
    size_t n = 0;
    for (const auto& s : slots_) n += s.included;
    return n;
  }

  Status LoadJournal(std::map<std::string, Value>* params,
                     std::map<std::string, StepResult>* done) {
    std::string path = state_dir_ + "/runs/" + run_id_ + "/journal.jsonl";
    std::ifstream in(path);
    if (!in) return NotFound(fmt::format("no run '{}' under '{}'", run_id_, state_dir_));
    std::string line;
    bool header = true;
    while (std::getline(in, line)) {
      json j = json::parse(line, nullptr, false);
      if (!j.is_object()) continue;  // a torn last line after a crash
      if (header) {
        header = false;
        for (auto& [k, v] : ParamsFromJson(j.value("params", json::object()).dump())) {
          if (!params->count(k)) (*params)[k] = std::move(v);
        }
        continue;
      }
      StepResult r;
      r.name = j.value("step", "");
      r.status = StatusFromName(j.value("status", ""));
      r.attempts = j.value("attempts", 0);
      r.duration_ms = j.value("duration_ms", 0);
      r.cache_key = j.value("cache_key", "");
      const json values = j.value("values", json::object());
      for (const auto& [k, v] : values.items()) {
        r.values[k] = v.is_string() ? v.get<std::string>() : v.dump();
      }
      if (r.status == StepStatus::kSucceeded || r.status == StepStatus::kCached ||
          r.status == StepStatus::kSkipped) {
        (*done)[r.name] = r;
      } else {
        done->erase(r.name);
      }
    }
    return OkStatus();
  }

  void Progress(const std::string& line) {
    if (!options_.progress) return;
    double t = static_cast<double>(clock_->MonotonicMicros() - start_us_) / 1e6;
    options_.progress(fmt::format("[{:7.2f}s] {}", t, line));
  }

  int64_t NowUs() const { return clock_->MonotonicMicros(); }

  bool Cancelled() const { return options_.cancel && options_.cancel->load(); }

  // Kills every running step once; their exits are then reaped as failures.
  void CancelRunning() {
    if (cancelled_) return;
    cancelled_ = true;
    Progress("cancelled: stopping running steps");
    for (const auto& [pid, i] : running_) {
      launcher_->Kill(pid);
      slots_[i].killed = true;
    }
    retry_at_.clear();
    ready_.clear();
  }

  void Loop() {
    while (true) {
      if (Cancelled()) CancelRunning();
      if (!cancelled_) LaunchReady();
      if (running_.empty() && retry_at_.empty()) break;
      int64_t now = NowUs();
      int64_t wake = INT64_MAX;
      for (const auto& [t, i] : retry_at_) wake = std::min(wake, t);
      for (const auto& [pid, i] : running_) {
        if (slots_[i].deadline_us && !slots_[i].killed) wake = std::min(wake, slots_[i].deadline_us);
      }
      int64_t timeout_ms = wake == INT64_MAX ? -1 : std::max<int64_t>(0, (wake - now + 999) / 1000);
      if (options_.cancel && (timeout_ms < 0 || timeout_ms > 100)) timeout_ms = 100;
      if (running_.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
        continue;
      }
      if (auto exit = launcher_->WaitAny(timeout_ms)) HandleExit(*exit);
      KillTimedOut();
    }
  }

  void LaunchReady() {
    int64_t now = NowUs();
    // Retries whose backoff has elapsed go first.
    for (auto it = retry_at_.begin();
         it != retry_at_.end() && static_cast<int>(running_.size()) < options_.jobs;) {
      if (it->first <= now) {
        int i = it->second;
        it = retry_at_.erase(it);
        StartAttempt(i);
      } else {
        ++it;
      }
    }
    while (!ready_.empty() && static_cast<int>(running_.size()) < options_.jobs) {
      int i = *ready_.begin();
      ready_.erase(ready_.begin());
      Begin(i);
    }
  }

  // Decides what a ready step does: not-run, skipped, cached, or a first attempt.
  void Begin(int i) {
    const PlannedStep& p = plan_.steps[i];
    Slot& s = slots_[i];
    bool single = !options_.only_steps.empty();
    if (!single) {
      for (int d : p.deps) {
        StepStatus ds = slots_[d].result.status;
        if (ds == StepStatus::kFailed || ds == StepStatus::kNotRun) {
          return Terminal(i, StepStatus::kNotRun,
                          fmt::format("upstream step '{}' did not succeed", plan_.steps[d].name));
        }
        if (ds == StepStatus::kSkipped) {
          return Terminal(i, StepStatus::kSkipped,
                          fmt::format("upstream step '{}' was skipped", plan_.steps[d].name));
        }
      }
      if (p.spec->when) {
        auto cond = EvalCondition(*p.spec->when, [&](const Expr& ref) { return Resolve(ref); });
        if (!cond.ok()) {
          return Terminal(i, StepStatus::kFailed,
                          fmt::format("when '{}': {}", p.spec->when_text, cond.status().message()));
        }
        if (!*cond) {
          return Terminal(i, StepStatus::kSkipped,
                          fmt::format("when '{}' is false", p.spec->when_text));
        }
      }
    }
    auto key = KeyOf(p);
    if (!key.ok()) return Terminal(i, StepStatus::kFailed, key.status().message());
    s.result.cache_key = *key;
    if (UsesCache(p)) {
      if (auto entry = cache_->Lookup(*key)) {
        Status st = cache_->Restore(*entry, spec_.base_dir, memo_.get());
        if (st.ok()) {
          s.result.values = entry->values;
          return Terminal(i, StepStatus::kCached, "");
        }
        Progress(fmt::format("cache restore failed for {}: {}", p.name, st.message()));
      }
    }
    StartAttempt(i);
  }

  bool UsesCache(const PlannedStep& p) const {
    if (!options_.use_cache || !p.spec->cache) return false;
    const StepType* type = p.spec->is_builtin() && types_ ? types_->Find(p.spec->type) : nullptr;
    return type == nullptr || type->Cacheable();
  }

  // The cache key; a built-in's implicit inputs (e.g. ingest's glob) count as inputs.
  StatusOr<std::string> KeyOf(const PlannedStep& p) {
    const StepType* type = p.spec->is_builtin() && types_ ? types_->Find(p.spec->type) : nullptr;
    if (!type) return ComputeCacheKey(p, spec_.base_dir, std::string(CairnVersion()), memo_.get());
    PlannedStep with_implicit = p;
    StepContext ctx{spec_.base_dir, p.with, p.inputs, p.outputs, p.params, "", run_id_, p.name,
                    ""};
    for (auto& in : type->ImplicitInputs(ctx)) with_implicit.inputs.push_back(std::move(in));
    return ComputeCacheKey(with_implicit, spec_.base_dir, std::string(CairnVersion()),
                           memo_.get());
  }

  StatusOr<Value> Resolve(const Expr& ref) {
    if (ref.op == Expr::Op::kParam) {
      auto it = plan_.params.find(ref.key);
      if (it == plan_.params.end()) return NotFound(fmt::format("no param '{}'", ref.key));
      return it->second;
    }
    for (size_t k = 0; k < plan_.steps.size(); ++k) {
      if (plan_.steps[k].step_name != ref.step) continue;
      auto it = slots_[k].result.values.find(ref.key);
      if (it != slots_[k].result.values.end()) return Value::FromText(it->second);
    }
    return NotFound(fmt::format("step '{}' wrote no output '{}' (to $CAIRN_OUTPUTS)", ref.step,
                                ref.key));
  }

  void StartAttempt(int i) {
    const PlannedStep& p = plan_.steps[i];
    Slot& s = slots_[i];
    s.result.attempts++;
    s.result.status = StepStatus::kRunning;
    s.killed = false;
    s.result.timed_out = false;
    std::string log_base = run_dir_ + "/logs/" + p.name;
    s.result.stdout_path = log_base + ".out";
    s.result.stderr_path = log_base + ".err";
    std::string outputs_file = run_dir_ + "/outputs/" + p.name;
    s.result.metrics_path = run_dir_ + "/metrics/" + p.name + ".json";
    std::error_code ec;
    fs::remove(outputs_file, ec);
    fs::remove(s.result.metrics_path, ec);
    // Declared outputs' folders exist before the step runs.
    for (const auto& o : p.outputs) {
      fs::create_directories((fs::path(spec_.base_dir) / o).parent_path(), ec);
    }
    int total = p.spec->retries.limit + 1;
    Progress(total > 1 ? fmt::format("start   {} (attempt {}/{})", p.name, s.result.attempts, total)
                       : fmt::format("start   {}", p.name));
    s.started_us = NowUs();
    s.builtin_process = false;
    if (p.spec->is_builtin() && options_.step_binary.empty()) return RunBuiltin(i);

    ProcessSpec ps;
    ps.argv = p.argv;
    ps.cwd = spec_.base_dir;
    ps.stdout_path = s.result.stdout_path;
    ps.stderr_path = s.result.stderr_path;
    ps.env = p.env;
    ps.env["CAIRN_RUN_ID"] = run_id_;
    ps.env["CAIRN_STEP"] = p.name;
    ps.env["CAIRN_OUTPUTS"] = outputs_file;
    ps.env["CAIRN_METRICS"] = s.result.metrics_path;
    ps.env["CAIRN_ATTEMPT"] = std::to_string(s.result.attempts);
    if (p.item) ps.env["CAIRN_ITEM"] = p.item->ToText();
    for (const auto& [k, v] : p.params) {
      std::string name = k;
      for (auto& c : name) c = (c == '-') ? '_' : static_cast<char>(std::toupper(c));
      ps.env["CAIRN_PARAM_" + name] = v.ToText();
    }
    if (p.spec->is_builtin()) {
      auto argv = BuiltinProcessArgv(i, outputs_file);
      if (!argv.ok()) return AttemptFailed(i, argv.status().message());
      ps.argv = std::move(*argv);
      s.builtin_process = true;
    }
    auto pid = launcher_->Start(ps);
    if (!pid.ok()) {
      s.result.exit_code = 127;
      return AttemptFailed(i, pid.status().message());
    }
    s.pid = *pid;
    s.deadline_us = p.spec->timeout_ms > 0 ? s.started_us + p.spec->timeout_ms * 1000 : 0;
    running_[*pid] = i;
  }

  // Writes the built-in's context file (step_process.h) and returns the child's command line:
  // the `cairn pipeline step` entry point compiled targets run, with the context file.
  StatusOr<std::vector<std::string>> BuiltinProcessArgv(int i, const std::string& outputs_file) {
    const PlannedStep& p = plan_.steps[i];
    const Slot& s = slots_[i];
    BuiltinInvocation inv;
    inv.type = p.spec->type;
    inv.ctx = StepContext{spec_.base_dir, p.with,   p.inputs,
                          p.outputs,      p.params, s.result.stdout_path,
                          run_id_,        p.name,   s.result.metrics_path};
    inv.outputs_path = outputs_file;
    inv.error_path = outputs_file + ".error";
    if (options_.step_platform) inv.platform = options_.step_platform(run_id_);
    std::error_code ec;
    fs::remove(inv.error_path, ec);
    std::string context = run_dir_ + "/steps/" + p.name + ".json";
    fs::create_directories(run_dir_ + "/steps", ec);
    RETURN_IF_ERROR(WriteBuiltinInvocation(context, inv));
    std::string spec_path = spec_.source_path.empty() ? spec_.base_dir : spec_.source_path;
    return std::vector<std::string>{options_.step_binary, "pipeline", "step", spec_path, p.name,
                                    "--context",          context};
  }

  // A built-in in this process, on this thread (RunOptions::step_binary is empty).
  void RunBuiltin(int i) {
    const PlannedStep& p = plan_.steps[i];
    Slot& s = slots_[i];
    const StepType* type = types_ ? types_->Find(p.spec->type) : nullptr;
    if (!type) return AttemptFailed(i, fmt::format("unknown step type '{}'", p.spec->type));
    StepContext ctx{spec_.base_dir, p.with,   p.inputs,          p.outputs,
                    p.params,       s.result.stdout_path, run_id_, p.name,
                    s.result.metrics_path};
    std::map<std::string, std::string> values;
    // This attempt's logs start empty; the step may append to its log (ctx.log_path).
    std::ofstream(s.result.stdout_path, std::ios::trunc).close();
    std::ofstream(s.result.stderr_path, std::ios::trunc).close();
    Status st = OkStatus();
    {
      // Appending: what the step wrote to its log itself stays first.
      std::ofstream out(s.result.stdout_path, std::ios::app);
      std::ofstream err(s.result.stderr_path, std::ios::app);
      st = RunBuiltinHere(*type, ctx, out, err, &values);
    }
    if (!st.ok()) return AttemptFailed(i, st.message());
    Succeeded(i, values);
  }

  // A built-in's child process exited (it was neither cancelled nor timed out).
  void BuiltinProcessExited(int i, const ProcessExit& exit) {
    std::string outputs_file = run_dir_ + "/outputs/" + plan_.steps[i].name;
    if (exit.ok()) return Succeeded(i, ReadOutputValues(outputs_file));
    // The step's own message when it reported one; otherwise how the process ended (a crash).
    std::ifstream error_file(outputs_file + ".error");
    std::stringstream message;
    message << error_file.rdbuf();
    if (error_file && !message.str().empty()) return AttemptFailed(i, message.str());
    std::string why = exit.signaled ? fmt::format("killed by signal {}", exit.signal)
                                    : fmt::format("exit code {}", exit.exit_code);
    std::string tail = LastLine(slots_[i].result.stderr_path);
    AttemptFailed(i,
                  fmt::format("built-in step process {}{}", why, tail.empty() ? "" : ": " + tail));
  }

  void HandleExit(const ProcessExit& exit) {
    auto it = running_.find(exit.pid);
    if (it == running_.end()) return;
    int i = it->second;
    running_.erase(it);
    Slot& s = slots_[i];
    const PlannedStep& p = plan_.steps[i];
    s.result.exit_code = exit.signaled ? 128 + exit.signal : exit.exit_code;
    if (cancelled_) {
      return Terminal(i, StepStatus::kFailed, "cancelled (process group killed)");
    }
    if (s.result.timed_out) {
      return AttemptFailed(i, fmt::format("timed out after {} ms (process group killed)",
                                          p.spec->timeout_ms));
    }
    if (s.builtin_process) return BuiltinProcessExited(i, exit);
    if (!exit.ok()) {
      std::string why = exit.signaled ? fmt::format("killed by signal {}", exit.signal)
                        : exit.exit_code == 127
                            ? "exit code 127 (command not found)"
                            : fmt::format("exit code {}", exit.exit_code);
      std::string tail = LastLine(s.result.stderr_path);
      return AttemptFailed(i, tail.empty() ? why : why + ": " + tail);
    }
    Status outputs = CheckOutputsExist(p, spec_.base_dir);
    if (!outputs.ok()) return AttemptFailed(i, outputs.message());
    Succeeded(i, ReadOutputValues(run_dir_ + "/outputs/" + p.name));
  }

  void KillTimedOut() {
    int64_t now = NowUs();
    for (const auto& [pid, i] : running_) {
      Slot& s = slots_[i];
      if (s.deadline_us && !s.killed && now >= s.deadline_us) {
        launcher_->Kill(pid);
        s.killed = true;
        s.result.timed_out = true;
      }
    }
  }

  void Succeeded(int i, std::map<std::string, std::string> values) {
    const PlannedStep& p = plan_.steps[i];
    Slot& s = slots_[i];
    s.result.values = std::move(values);
    s.result.duration_ms = (NowUs() - s.started_us) / 1000;
    if (UsesCache(p)) {
      Status st = cache_->Store(s.result.cache_key, p, spec_.base_dir, s.result.values,
                                memo_.get());
      if (!st.ok()) Progress(fmt::format("warning: could not cache {}: {}", p.name, st.message()));
    }
    Terminal(i, StepStatus::kSucceeded, "");
  }

  void AttemptFailed(int i, const std::string& why) {
    const PlannedStep& p = plan_.steps[i];
    Slot& s = slots_[i];
    s.result.duration_ms = (NowUs() - s.started_us) / 1000;
    const RetryPolicy& r = p.spec->retries;
    if (s.result.attempts <= r.limit) {
      double delay = static_cast<double>(r.backoff_ms) *
                     std::pow(r.factor, static_cast<double>(s.result.attempts - 1));
      int64_t delay_ms = std::min<int64_t>(static_cast<int64_t>(delay), r.max_backoff_ms);
      Progress(fmt::format("retry   {} in {} ms: {}", p.name, delay_ms, why));
      s.result.status = StepStatus::kPending;
      retry_at_.emplace(NowUs() + delay_ms * 1000, i);
      return;
    }
    Terminal(i, StepStatus::kFailed, why);
  }

  void Terminal(int i, StepStatus status, const std::string& message) {
    Slot& s = slots_[i];
    s.result.status = status;
    s.result.message = message;
    const std::string& name = s.result.name;
    switch (status) {
      case StepStatus::kSucceeded:
        Progress(fmt::format("ok      {} ({:.2f}s)", name, s.result.duration_ms / 1000.0));
        break;
      case StepStatus::kCached:
        Progress(fmt::format("cached  {}", name));
        break;
      case StepStatus::kFailed:
        Progress(fmt::format("FAILED  {}: {}{}", name, message,
                             s.result.stderr_path.empty() ? ""
                                                          : " (log: " + s.result.stderr_path + ")"));
        break;
      case StepStatus::kSkipped:
        Progress(fmt::format("skipped {}: {}", name, message));
        break;
      case StepStatus::kNotRun:
        Progress(fmt::format("not-run {}: {}", name, message));
        break;
      default:
        break;
    }
    json j = {{"step", name},
              {"status", StepStatusName(status)},
              {"attempts", s.result.attempts},
              {"exit_code", s.result.exit_code},
              {"duration_ms", s.result.duration_ms},
              {"cache_key", s.result.cache_key},
              {"message", message},
              {"values", s.result.values}};
    journal_ << j.dump() << '\n';
    journal_.flush();
    if (options_.observer) options_.observer->OnStepFinished(run_id_, s.result);
    for (int d : s.dependants) {
      if (--slots_[d].pending_deps == 0) ready_.insert(d);
    }
  }

  StatusOr<RunResult> Finish() {
    Status saved = memo_->Save();
    if (!saved.ok()) Progress("warning: " + saved.message());
    RunResult r;
    r.run_id = run_id_;
    r.run_dir = run_dir_;
    r.ok = true;
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (!slots_[i].included) continue;
      StepResult& s = slots_[i].result;
      if (slots_[i].resumed) {
        ++r.resumed;
        r.steps.push_back(s);
        continue;
      }
      if (s.status == StepStatus::kPending) {
        s.status = StepStatus::kNotRun;
        s.message = cancelled_ ? "not started: the run was cancelled" : "never became ready";
      }
      switch (s.status) {
        case StepStatus::kSucceeded:
          ++r.executed;
          break;
        case StepStatus::kCached:
          ++r.cached;
          break;
        case StepStatus::kSkipped:
          ++r.skipped;
          break;
        case StepStatus::kFailed:
          ++r.failed;
          r.ok = false;
          break;
        default:
          ++r.not_run;
          r.ok = false;
      }
      r.steps.push_back(s);
    }
    r.duration_ms = (NowUs() - start_us_) / 1000;
    if (options_.observer) options_.observer->OnRunFinished(r);
    Progress(fmt::format("{} {}: {} ran, {} cached, {} skipped, {} failed, {} not run", run_id_,
                         r.ok ? "succeeded" : "FAILED", r.executed, r.cached, r.skipped, r.failed,
                         r.not_run));
    return r;
  }

  ProcessLauncher* launcher_;
  const Clock* clock_;
  const StepTypeRegistry* types_;
  const PipelineSpec& spec_;
  const RunOptions& options_;

  int64_t start_us_ = 0;
  std::string state_dir_, run_id_, run_dir_;
  Plan plan_;
  std::unique_ptr<HashMemo> memo_;
  std::unique_ptr<StepCache> cache_;
  std::ofstream journal_;
  std::vector<Slot> slots_;
  std::set<int> ready_;                           // plan indices whose deps are all terminal
  std::map<int64_t, int> running_;                // pid → plan index
  std::multimap<int64_t, int> retry_at_;          // monotonic µs → plan index
  int resumed_count_ = 0;
  bool cancelled_ = false;
};

}  // namespace

StatusOr<RunResult> Executor::Run(const PipelineSpec& spec, const RunOptions& options) {
  if (options.jobs < 1) return InvalidArgument("-j must be at least 1");
  RunLoop loop(launcher_, clock_, types_, spec, options);
  return loop.Run();
}

}  // namespace cairn::pipeline
