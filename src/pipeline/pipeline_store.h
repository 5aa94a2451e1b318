// PipelineStore: registered pipelines, their run history and pipeline health, in the platform's
// SQLite database (migration v5; tables pipelines, pipeline_runs, pipeline_step_runs).
//
// Health for monitoring: per run and per step its status, duration, attempts, cache hit, and
// the rows in and out of data steps (from the step's rows_in / rows_out / rows values).
//
// Errors: NotFound for an unknown pipeline or run; Internal / Unavailable from the database.
// Thread-safety: every method may be called from any thread (the pool serialises writes).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/connection_pool.h"
#include "store/migrations.h"

namespace cairn::pipeline {

struct RegisteredPipeline {
  std::string name;
  std::string spec_path;   // where the spec was registered from (its folder is the base dir)
  std::string spec_yaml;   // the spec's text at registration; runs use this text
  std::map<std::string, std::string> params;  // param overrides as `--param` text
  std::string schedule_cron;   // "" = not scheduled (from the spec's `schedule`)
  std::string schedule_timezone;
  int concurrency = 1;         // most active runs at once
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct StepHealth {
  std::string step;
  std::string status;  // succeeded, cached, failed, skipped, not-run
  int attempts = 0;
  int64_t duration_ms = 0;
  bool cache_hit = false;
  std::optional<int64_t> rows_in, rows_out;
  int exit_code = 0;
  std::string message;
  int64_t finished_at = 0;
};

struct PipelineRunRecord {
  std::string run_id;
  std::string pipeline;
  std::string trigger;  // schedule | manual | api | alert
  std::string reason;
  std::string status;   // running | succeeded | failed | cancelled
  std::string tracking_run_id;
  int64_t start_time = 0;
  std::optional<int64_t> end_time;
  int64_t duration_ms = 0;
  int executed = 0, cached = 0, failed = 0, skipped = 0, not_run = 0;
  int retries = 0;            // extra attempts over all steps
  std::string failed_step;    // the first failed step, if any
  std::string log_tail;       // the last lines of its stderr (or stdout)
  std::string message;
  std::vector<StepHealth> steps;  // filled by GetRun
};

class PipelineStore {
 public:
  // Migration 5 of the platform's sequence.
  static const std::vector<store::Migration>& Migrations();

  // `pool` must have been opened with Migrations() among its migrations; not owned.
  explicit PipelineStore(store::ConnectionPool* pool) : pool_(pool) {}

  // Inserts or replaces by name (created_at kept on replace).
  Status Upsert(const RegisteredPipeline& pipeline);
  StatusOr<RegisteredPipeline> Get(const std::string& name);
  StatusOr<std::vector<RegisteredPipeline>> List();

  Status InsertRun(const PipelineRunRecord& run);
  // Updates the run's status and summary fields.
  Status UpdateRun(const PipelineRunRecord& run);
  Status PutStep(const std::string& run_id, const StepHealth& step);
  // Newest first; `limit` runs at most.
  StatusOr<std::vector<PipelineRunRecord>> ListRuns(const std::string& pipeline, int limit);
  StatusOr<PipelineRunRecord> GetRun(const std::string& run_id);
  // Runs still marked running (left by a process that stopped) become failed with `message`.
  StatusOr<int> FailInterruptedRuns(const std::string& message, int64_t now_millis);

 private:
  store::ConnectionPool* pool_;
};

}  // namespace cairn::pipeline
