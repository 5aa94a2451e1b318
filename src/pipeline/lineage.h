// Lineage: every pipeline run becomes a tracking run, every step a child run.
//
// The pipeline run (in experiment `pipeline:<name>` unless told otherwise): params = the run's
// param values; tags cairn.pipeline, cairn.pipeline_run_id, mlflow.source.name = the spec
// path, mlflow.source.type = PIPELINE; metrics duration_ms and the step counts (executed,
// cached, failed, skipped, not_run); status FINISHED or FAILED.
// Each step: a child run (tag mlflow.parentRunId) named after the step instance, with tags
// cairn.step, cairn.step_status, cache_hit (true|false), cairn.cache_key, cairn.attempts; its
// metrics are the numbers of the JSON object it wrote to $CAIRN_METRICS or of a declared
// output named metrics.json, plus duration_ms and attempts; its declared outputs that exist
// are logged as artifacts under their relative paths (files over max_artifact_bytes are
// skipped, and say so in a tag). Skipped and not-run steps get a child run ended KILLED.
//
// Lineage never fails a pipeline: a tracking error is reported through `warn` and the run
// goes on (steps that need the tracking run, like `register`, fail on their own).
// Thread-safety: one recorder may observe several runs at once (the server does); the
// executor calls each run's events from that run's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "pipeline/executor.h"
#include "pipeline/platform.h"

namespace cairn::pipeline {

struct LineageOptions {
  std::string experiment;  // "" = "pipeline:<pipeline name>"
  int64_t max_artifact_bytes = 256ll << 20;
  std::function<void(const std::string&)> warn;  // may be empty
};

class LineageRecorder final : public RunObserver {
 public:
  // `platform` and `clock` must outlive the recorder.
  LineageRecorder(Platform* platform, const Clock* clock, LineageOptions options = {});

  void OnRunStarted(const std::string& run_id, const PipelineSpec& spec,
                    const std::map<std::string, Value>& params) override;
  void OnStepFinished(const std::string& run_id, const StepResult& step) override;
  void OnRunFinished(const RunResult& result) override;

  // The tracking run of a pipeline run in progress (or finished while this recorder lived);
  // nullopt when lineage could not start it.
  std::optional<TrackedRun> TrackingRunOf(const std::string& pipeline_run_id) const;

  // Records that `pipeline_run_id`'s tracking run is `run`, started by another process (the
  // executor that started this built-in step's process, step_process.h): TrackingRunOf then
  // returns it, so register acts on it. No event is recorded for it.
  void AdoptRun(const std::string& pipeline_run_id, const TrackedRun& run);

  Platform* platform() const { return platform_; }

 private:
  struct Active {
    TrackedRun run;
    std::string base_dir;
    std::string pipeline;
  };
  void Warn(const std::string& what, const Status& st) const;
  std::map<std::string, double> StepMetrics(const std::string& base_dir,
                                            const StepResult& step) const;

  Platform* platform_;
  const Clock* clock_;
  LineageOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Active> runs_;  // GUARDED_BY(mu_): pipeline run id → tracking run
};

// Reads a flat JSON object of numbers (nested objects flattened with '.'; non-numbers
// ignored). An unreadable or malformed file gives an empty map.
std::map<std::string, double> ReadMetricsJson(const std::string& path);

}  // namespace cairn::pipeline
