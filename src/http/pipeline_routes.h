// The native pipeline API of `cairn server` (over pipeline::PipelineService):
//   POST /api/v1/pipelines                     {spec_path, spec?, params?, concurrency?}
//        registers (or replaces) a pipeline: {"pipeline": {...}}
//   GET  /api/v1/pipelines                     {"pipelines": [...]}
//   GET  /api/v1/pipelines/{name}              {"pipeline": {...}, "active_runs": n}
//   POST /api/v1/pipelines/{name}/trigger      {trigger?: manual|api|alert, reason?, params?}
//        starts a run now: {"run_id", "status": "running"}; 400 INVALID_PARAMETER_VALUE
//        when the pipeline already has its allowed number of active runs
//   GET  /api/v1/pipelines/{name}/runs?limit=  run history, newest first: {"runs": [...]}
//   GET  /api/v1/pipelines/{name}/runs/{run_id} one run with its steps' health
// A pipeline is {name, spec_path, params, schedule: {cron, timezone} | null, concurrency,
// created_at, updated_at}; a run is {run_id, pipeline, trigger, reason, status
// (running|succeeded|failed|cancelled), tracking_run_id, start_time, end_time, duration_ms,
// executed, cached, failed, skipped, not_run, retries, failed_step, log_tail, message,
// steps: [{step, status, attempts, duration_ms, cache_hit, rows_in, rows_out, exit_code,
// message}]}. Errors have the MLflow shape {"error_code", "message"}.
#pragma once

#include "http/router.h"
#include "pipeline/service.h"

namespace cairn::http {

// `service` must outlive the router.
void RegisterPipelineRoutes(Router& router, pipeline::PipelineService& service);

}  // namespace cairn::http
