// The local executor: runs a planned pipeline as processes, up to `jobs` at once.
//
// - Steps start in topological order as soon as their upstream steps are done.
// - Each `run` step is one process (through the ProcessLauncher) in its own process group,
//   with cwd = the spec's folder, stdout/stderr kept in <run dir>/logs/<step>.out|.err, and
//   the env: the declared env, CAIRN_RUN_ID, CAIRN_STEP, CAIRN_ITEM (foreach),
//   CAIRN_PARAM_<NAME> for the params it uses, CAIRN_OUTPUTS: a file the step may write
//   `key=value` lines (or a flat JSON object) to (those values feed `when` conditions), and
//   CAIRN_METRICS: a file the step may write a flat JSON object of numbers to (its metrics
//   in lineage; a declared output named metrics.json counts too).
// - A built-in step (`type:`) runs, when RunOptions::step_binary is set, as a child process
//   `<step_binary> pipeline step <spec> <instance> --context <run dir>/steps/<instance>.json`
//   (the same `cairn pipeline step` entry point compiled Argo/KFP targets run; step_process.h
//   has the context file's contract). It is then a step process like a `run` step: it counts
//   against `jobs`, runs in its own process group with the same env (declared env, CAIRN_*),
//   cwd, logs, retries and `timeout` (the group is killed), and the values it reports come
//   from its $CAIRN_OUTPUTS file. The context file holds the step exactly as resolved for its
//   cache key, so an edit of the spec file during a run cannot change what it runs.
//   With step_binary empty (what `cairn pipeline step` itself does: it already is the step's
//   process), the built-in runs in this process on the executor's thread: while it runs no
//   other step starts or is reaped, and its `timeout` is not enforced.
//   Either way it gets the same retries, cache, logs and CAIRN_METRICS file as a `run` step;
//   unlike a `run` step, a declared output it did not write does not fail it.
// - The folders holding a step's declared outputs are created before it runs.
// - A failed step stops its dependants (status not-run); independent steps go on. Retries
//   wait backoff * factor^(attempt-1), capped at max_backoff. A timeout kills the whole
//   process group and counts as a failed attempt. A declared output missing after a `run`
//   step exits fails the step, and nothing is cached.
// - A step whose `when` is false is skipped, and so are its dependants.
// - With the cache on, a step whose cache key has an entry is not run: its outputs are
//   restored (cached). After a successful run its outputs are stored under the key.
// - The run's state is journaled under <state dir>/runs/<run id>/; `resume_run_id` re-runs
//   only the steps of that run that did not succeed (failed and not-run ones).
// Thread-safety: one Run at a time per Executor.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "pipeline/plan.h"
#include "pipeline/platform.h"
#include "pipeline/process.h"
#include "pipeline/spec.h"
#include "pipeline/step_types.h"

namespace cairn::pipeline {

// The version that goes into cache keys.
std::string_view CairnVersion();

// A fresh run id: "<UTC yyyymmddThhmmssZ>-<6 hex>".
std::string NewPipelineRunId(const Clock& clock);

enum class StepStatus { kPending, kRunning, kSucceeded, kCached, kFailed, kSkipped, kNotRun };
std::string_view StepStatusName(StepStatus s);  // "succeeded", "cached", "not-run", ...

struct StepResult {
  std::string name;
  StepStatus status = StepStatus::kPending;
  int attempts = 0;
  int exit_code = 0;
  bool timed_out = false;
  int64_t duration_ms = 0;
  std::string cache_key;
  std::string message;  // why it failed / was skipped
  std::string stdout_path, stderr_path;
  std::map<std::string, std::string> values;  // what it wrote to $CAIRN_OUTPUTS
  std::string step_name;               // the spec step (differs for foreach instances)
  std::vector<std::string> outputs;    // declared outputs, resolved, relative to the spec
  std::string metrics_path;            // where $CAIRN_METRICS pointed
};

struct RunResult;

// What a built-in step's child process needs to reach the platform: a tracking server (an
// http:// MLflow-compatible URI; cairn's own server for the pipelines it hosts) and the
// pipeline run's tracking run on it (nullopt when lineage could not start it).
struct StepPlatform {
  std::string tracking_uri;  // "" = none
  std::optional<TrackedRun> run;
};

// Structured run events, for lineage (a tracking run per pipeline run, a child run per step)
// and pipeline-health records. Called on the executor's thread, in order; must not block long.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void OnRunStarted(const std::string& run_id, const PipelineSpec& spec,
                            const std::map<std::string, Value>& params) {}
  // Each step once it reaches a final status (succeeded, cached, failed, skipped, not-run).
  virtual void OnStepFinished(const std::string& run_id, const StepResult& step) {}
  virtual void OnRunFinished(const RunResult& result) {}
};

struct RunOptions {
  int jobs = 1;
  bool use_cache = true;
  std::string state_dir;       // "" = <spec folder>/.cairn/pipelines
  std::string resume_run_id;   // "" = a new run
  std::string run_id;          // the new run's id ("" = generated; [A-Za-z0-9_-] only)
  std::vector<std::string> only_steps;  // non-empty: run just these instances, ignoring deps
  std::map<std::string, Value> params;  // overrides
  // Called with one human-readable line per event (start, finish, cache hit, failure).
  std::function<void(const std::string&)> progress;
  // When set and it becomes true (e.g. from a signal handler), running steps' process groups
  // are killed, they fail as "cancelled", nothing new starts, and Run returns (resumable).
  // Checked at least every 100 ms.
  const std::atomic<bool>* cancel = nullptr;
  RunObserver* observer = nullptr;  // not owned; may be null
  // The program built-in steps run as (see above): the cairn binary, normally "/proc/self/exe"
  // (the running binary itself, even if its file was replaced since). "" = in this process.
  std::string step_binary;
  // For built-ins in child processes: where the platform steps (register, promote, deploy)
  // find the platform. Called on the executor's thread as each such step starts; unset = none
  // (they then fail as they do without a tracking server).
  std::function<StepPlatform(const std::string& run_id)> step_platform;
};

struct RunResult {
  std::string run_id;
  std::string run_dir;
  bool ok = false;  // every step succeeded, was cached or skipped
  int64_t duration_ms = 0;
  int executed = 0, cached = 0, failed = 0, skipped = 0, not_run = 0;
  int resumed = 0;  // done in the run being resumed; not run again (not in the counts above)
  std::vector<StepResult> steps;  // plan order
  const StepResult* Find(const std::string& name) const;
};

class Executor {
 public:
  // `launcher`, `clock` and `types` must outlive the executor.
  Executor(ProcessLauncher* launcher, const Clock* clock, const StepTypeRegistry* types);

  // Runs the pipeline. Step failures are reported in RunResult (ok = false), not as a Status.
  // InvalidArgument for bad params or an unknown step in only_steps; NotFound for an unknown
  // resume_run_id; Internal when the state folder cannot be written.
  StatusOr<RunResult> Run(const PipelineSpec& spec, const RunOptions& options);

 private:
  ProcessLauncher* launcher_;
  const Clock* clock_;
  const StepTypeRegistry* types_;
};

}  // namespace cairn::pipeline
