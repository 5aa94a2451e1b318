// PipelineService: the pipelines `cairn server` hosts. Registered pipelines (kept in the
// PipelineStore), cron schedules with time zones fired by a scheduler thread, manual / API /
// monitoring-alert triggers, at most `concurrency` active runs per pipeline (1 by default),
// runs executed on their own threads with lineage (when a recorder is given) and health
// records written as steps finish.
//
// Runs use the spec text stored at registration, with the registered spec's folder as the
// base for relative paths, and keep their state (logs, step cache) under
// <state_dir>/<pipeline>/.
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "pipeline/lineage.h"
#include "pipeline/pipeline_store.h"
#include "pipeline/schedule.h"
#include "pipeline/step_types.h"

namespace cairn::pipeline {

struct ServiceOptions {
  std::string state_dir;          // run state and step caches
  int jobs = 2;                   // steps at once within one run
  bool scheduler_thread = true;   // false: the owner calls Tick() (tests with a FakeClock)
  int64_t max_tick_ms = 1000;     // the scheduler thread wakes at least this often
};

struct RegisterPipelineRequest {
  std::string spec_path;  // absolute path on the server's disk; its folder is the base dir
  std::string spec_yaml;  // "" = read spec_path
  std::map<std::string, std::string> params;  // param overrides (`--param` text)
  int concurrency = 1;    // 1..100
};

struct TriggerRequest {
  std::string pipeline;
  std::string trigger = "api";  // manual | api | alert | schedule
  std::string reason;
  std::map<std::string, std::string> params;  // per-run overrides over the registered ones
};

class PipelineService {
 public:
  // `store` and `clock` must outlive the service; `lineage` may be null (no lineage; then
  // register/promote/deploy steps fail).
  PipelineService(PipelineStore* store, const Clock* clock, LineageRecorder* lineage,
                  ServiceOptions options);
  ~PipelineService();  // Stop()

  // Runs built-in steps as child processes of `binary` (normally "/proc/self/exe": RunOptions::
  // step_binary) that reach the platform over the REST API at `platform_uri` (the server's own
  // http:// address: in this process the platform is in-process stores, which a child cannot
  // share). Without this call built-ins run on the run's thread (tests). Call before Start().
  void UseStepProcesses(std::string binary, std::string platform_uri);

  // Marks runs left running by a previous process failed, schedules the registered pipelines
  // and starts the scheduler thread (unless options say not to).
  Status Start();
  // Stops the scheduler, cancels active runs (their process groups are killed) and waits.
  void Stop();

  // Validates the spec (types, params, schedule) and stores it under the spec's name.
  // InvalidArgument (naming line and column) for a bad spec; NotFound when spec_path cannot be
  // read and no text was given.
  StatusOr<RegisteredPipeline> Register(const RegisterPipelineRequest& request);
  StatusOr<RegisteredPipeline> Get(const std::string& name);
  StatusOr<std::vector<RegisteredPipeline>> List();

  // Starts a run now. Returns its run id. NotFound for an unknown pipeline; FailedPrecondition
  // when it already has `concurrency` active runs; InvalidArgument for bad params.
  StatusOr<std::string> Trigger(const TriggerRequest& request);
  // The entry point monitoring alerts call (performance-driven retraining): a trigger of kind
  // "alert" with the alert's text as reason.
  StatusOr<std::string> TriggerFromAlert(const std::string& pipeline, const std::string& alert);

  // Fires due schedules at the clock's now (the scheduler thread calls this).
  std::vector<Scheduler::Firing> Tick();
  int64_t NextFireMillis() const { return scheduler_.NextFireMillis(); }

  StatusOr<std::vector<PipelineRunRecord>> Runs(const std::string& pipeline, int limit);
  StatusOr<PipelineRunRecord> Run(const std::string& run_id);
  int ActiveRunCount(const std::string& pipeline) const { return active_.Active(pipeline); }

  // Blocks until no run is active (tests).
  void WaitIdle();

 private:
  struct PendingTrigger {
    std::string run_id;
    std::string trigger;
    std::map<std::string, std::string> params;
  };
  struct RunThread {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  Status StartRun(const std::string& pipeline, const std::string& reason);
  void ExecuteRun(PipelineRunRecord record, PipelineSpec spec,
                  std::map<std::string, Value> params, RunThread* self);
  void SchedulerLoop();
  void ReapFinished();

  PipelineStore* store_;
  const Clock* clock_;
  LineageRecorder* lineage_;
  ServiceOptions options_;
  std::string step_binary_;   // set before Start(); read-only afterwards
  std::string platform_uri_;  // likewise
  StepTypeRegistry types_;
  ActiveRuns active_;
  Scheduler scheduler_;
  std::atomic<bool> cancel_{false};

  std::mutex mu_;
  std::condition_variable cv_;                   // run finished / stop requested
  bool stopping_ = false;                        // GUARDED_BY(mu_)
  std::list<std::unique_ptr<RunThread>> runs_;   // GUARDED_BY(mu_)
  int running_ = 0;                              // GUARDED_BY(mu_)
  std::thread scheduler_thread_;
};

}  // namespace cairn::pipeline
