#include "pipeline/pipeline_store.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "store/sqlite.h"

using nlohmann::json;

namespace cairn::pipeline {

using store::Database;
using store::Statement;

const std::vector<store::Migration>& PipelineStore::Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {5, "pipelines: registered pipelines, run history and step health",
       "CREATE TABLE pipelines ("
       "  name TEXT PRIMARY KEY,"
       "  spec_path TEXT NOT NULL,"
       "  spec_yaml TEXT NOT NULL,"
       "  params_json TEXT NOT NULL DEFAULT '{}',"
       "  schedule_cron TEXT NOT NULL DEFAULT '',"
       "  schedule_timezone TEXT NOT NULL DEFAULT '',"
       "  concurrency INTEGER NOT NULL DEFAULT 1,"
       "  created_at INTEGER NOT NULL,"
       "  updated_at INTEGER NOT NULL);"
       "CREATE TABLE pipeline_runs ("
       "  run_id TEXT PRIMARY KEY,"
       "  pipeline TEXT NOT NULL,"
       "  trigger TEXT NOT NULL,"
       "  reason TEXT NOT NULL DEFAULT '',"
       "  status TEXT NOT NULL,"
       "  tracking_run_id TEXT NOT NULL DEFAULT '',"
       "  start_time INTEGER NOT NULL,"
       "  end_time INTEGER,"
       "  duration_ms INTEGER NOT NULL DEFAULT 0,"
       "  executed INTEGER NOT NULL DEFAULT 0,"
       "  cached INTEGER NOT NULL DEFAULT 0,"
       "  failed INTEGER NOT NULL DEFAULT 0,"
       "  skipped INTEGER NOT NULL DEFAULT 0,"
       "  not_run INTEGER NOT NULL DEFAULT 0,"
       "  retries INTEGER NOT NULL DEFAULT 0,"
       "  failed_step TEXT NOT NULL DEFAULT '',"
       "  log_tail TEXT NOT NULL DEFAULT '',"
       "  message TEXT NOT NULL DEFAULT '');"
       "CREATE INDEX pipeline_runs_by_pipeline ON pipeline_runs(pipeline, start_time DESC);"
       "CREATE INDEX pipeline_runs_by_status ON pipeline_runs(status);"
       "CREATE TABLE pipeline_step_runs ("
       "  run_id TEXT NOT NULL,"
       "  step TEXT NOT NULL,"
       "  status TEXT NOT NULL,"
       "  attempts INTEGER NOT NULL DEFAULT 0,"
       "  duration_ms INTEGER NOT NULL DEFAULT 0,"
       "  cache_hit INTEGER NOT NULL DEFAULT 0,"
       "  rows_in INTEGER,"
       "  rows_out INTEGER,"
       "  exit_code INTEGER NOT NULL DEFAULT 0,"
       "  message TEXT NOT NULL DEFAULT '',"
       "  finished_at INTEGER NOT NULL DEFAULT 0,"
       "  PRIMARY KEY (run_id, step));"}};
  return kMigrations;
}

namespace {

constexpr char kPipelineColumns[] =
    "name, spec_path, spec_yaml, params_json, schedule_cron, schedule_timezone, concurrency, "
    "created_at, updated_at";

RegisteredPipeline PipelineFrom(const Statement& st) {
  RegisteredPipeline p;
  p.name = st.Text(0);
  p.spec_path = st.Text(1);
  p.spec_yaml = st.Text(2);
  json params = json::parse(st.Text(3), nullptr, false);
  if (params.is_object()) {
    for (const auto& [k, v] : params.items()) {
      p.params[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  }
  p.schedule_cron = st.Text(4);
  p.schedule_timezone = st.Text(5);
  p.concurrency = static_cast<int>(st.Int64(6));
  p.created_at = st.Int64(7);
  p.updated_at = st.Int64(8);
  return p;
}

constexpr char kRunColumns[] =
    "run_id, pipeline, trigger, reason, status, tracking_run_id, start_time, end_time, "
    "duration_ms, executed, cached, failed, skipped, not_run, retries, failed_step, log_tail, "
    "message";

PipelineRunRecord RunFrom(const Statement& st) {
  PipelineRunRecord r;
  r.run_id = st.Text(0);
  r.pipeline = st.Text(1);
  r.trigger = st.Text(2);
  r.reason = st.Text(3);
  r.status = st.Text(4);
  r.tracking_run_id = st.Text(5);
  r.start_time = st.Int64(6);
  r.end_time = st.OptionalInt64(7);
  r.duration_ms = st.Int64(8);
  r.executed = static_cast<int>(st.Int64(9));
  r.cached = static_cast<int>(st.Int64(10));
  r.failed = static_cast<int>(st.Int64(11));
  r.skipped = static_cast<int>(st.Int64(12));
  r.not_run = static_cast<int>(st.Int64(13));
  r.retries = static_cast<int>(st.Int64(14));
  r.failed_step = st.Text(15);
  r.log_tail = st.Text(16);
  r.message = st.Text(17);
  return r;
}

}  // namespace

Status PipelineStore::Upsert(const RegisteredPipeline& p) {
  json params = json::object();
  for (const auto& [k, v] : p.params) params[k] = v;
  return pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(
        Statement st,
        db.Prepare(std::string("INSERT INTO pipelines (") + kPipelineColumns +
                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) ON CONFLICT(name) DO UPDATE SET "
                   "spec_path = excluded.spec_path, spec_yaml = excluded.spec_yaml, "
                   "params_json = excluded.params_json, schedule_cron = excluded.schedule_cron, "
                   "schedule_timezone = excluded.schedule_timezone, "
                   "concurrency = excluded.concurrency, updated_at = excluded.updated_at"));
    st.Bind(1, p.name)
        .Bind(2, p.spec_path)
        .Bind(3, p.spec_yaml)
        .Bind(4, params.dump())
        .Bind(5, p.schedule_cron)
        .Bind(6, p.schedule_timezone)
        .Bind(7, p.concurrency)
        .Bind(8, p.updated_at);
    return st.Run();
  });
}

StatusOr<RegisteredPipeline> PipelineStore::Get(const std::string& name) {
  RegisteredPipeline out;
  bool found = false;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement st, db.Prepare(std::string("SELECT ") + kPipelineColumns +
                                              " FROM pipelines WHERE name = ?1"));
    st.Bind(1, name);
    ASSIGN_OR_RETURN(found, st.Step());
    if (found) out = PipelineFrom(st);
    return OkStatus();
  }));
  if (!found) return NotFound(fmt::format("no pipeline named '{}'", name));
  return out;
}

StatusOr<std::vector<RegisteredPipeline>> PipelineStore::List() {
  std::vector<RegisteredPipeline> out;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement st, db.Prepare(std::string("SELECT ") + kPipelineColumns +
                                              " FROM pipelines ORDER BY name"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back(PipelineFrom(st));
    }
    return OkStatus();
  }));
  return out;
}

Status PipelineStore::InsertRun(const PipelineRunRecord& r) {
  return pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement st,
                     db.Prepare("INSERT INTO pipeline_runs (run_id, pipeline, trigger, reason, "
                                "status, start_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    st.Bind(1, r.run_id)
        .Bind(2, r.pipeline)
        .Bind(3, r.trigger)
        .Bind(4, r.reason)
        .Bind(5, r.status)
        .Bind(6, r.start_time);
    return st.Run();
  });
}

Status PipelineStore::UpdateRun(const PipelineRunRecord& r) {
  return pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(
        Statement st,
        db.Prepare("UPDATE pipeline_runs SET status = ?2, tracking_run_id = ?3, end_time = ?4, "
                   "duration_ms = ?5, executed = ?6, cached = ?7, failed = ?8, skipped = ?9, "
                   "not_run = ?10, retries = ?11, failed_step = ?12, log_tail = ?13, "
                   "message = ?14 WHERE run_id = ?1"));
    st.Bind(1, r.run_id)
        .Bind(2, r.status)
        .Bind(3, r.tracking_run_id)
        .Bind(4, r.end_time)
        .Bind(5, r.duration_ms)
        .Bind(6, r.executed)
        .Bind(7, r.cached)
        .Bind(8, r.failed)
        .Bind(9, r.skipped)
        .Bind(10, r.not_run)
        .Bind(11, r.retries)
        .Bind(12, r.failed_step)
        .Bind(13, r.log_tail)
        .Bind(14, r.message);
    RETURN_IF_ERROR(st.Run());
    if (db.Changes() == 0) return NotFound(fmt::format("no pipeline run '{}'", r.run_id));
    return OkStatus();
  });
}

Status PipelineStore::PutStep(const std::string& run_id, const StepHealth& s) {
  return pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(
        Statement st,
        db.Prepare("INSERT OR REPLACE INTO pipeline_step_runs (run_id, step, status, attempts, "
                   "duration_ms, cache_hit, rows_in, rows_out, exit_code, message, finished_at) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
    st.Bind(1, run_id)
        .Bind(2, s.step)
        .Bind(3, s.status)
        .Bind(4, s.attempts)
        .Bind(5, s.duration_ms)
        .Bind(6, s.cache_hit ? 1 : 0)
        .Bind(7, s.rows_in)
        .Bind(8, s.rows_out)
        .Bind(9, s.exit_code)
        .Bind(10, s.message)
        .Bind(11, s.finished_at);
    return st.Run();
  });
}

StatusOr<std::vector<PipelineRunRecord>> PipelineStore::ListRuns(const std::string& pipeline,
                                                                  int limit) {
  std::vector<PipelineRunRecord> out;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement st,
                     db.Prepare(std::string("SELECT ") + kRunColumns +
                                " FROM pipeline_runs WHERE pipeline = ?1 "
                                "ORDER BY start_time DESC, run_id DESC LIMIT ?2"));
    st.Bind(1, pipeline).Bind(2, limit);
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back(RunFrom(st));
    }
    return OkStatus();
  }));
  return out;
}

StatusOr<PipelineRunRecord> PipelineStore::GetRun(const std::string& run_id) {
  PipelineRunRecord out;
  bool found = false;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement st, db.Prepare(std::string("SELECT ") + kRunColumns +
                                              " FROM pipeline_runs WHERE run_id = ?1"));
    st.Bind(1, run_id);
    ASSIGN_OR_RETURN(found, st.Step());
    if (!found) return OkStatus();
    out = RunFrom(st);
    ASSIGN_OR_RETURN(Statement steps,
                     db.Prepare("SELECT step, status, attempts, duration_ms, cache_hit, rows_in, "
                                "rows_out, exit_code, message, finished_at FROM "
                                "pipeline_step_runs WHERE run_id = ?1 ORDER BY finished_at, step"));
    steps.Bind(1, run_id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, steps.Step());
      if (!row) break;
      StepHealth h;
      h.step = steps.Text(0);
      h.status = steps.Text(1);
      h.attempts = static_cast<int>(steps.Int64(2));
      h.duration_ms = steps.Int64(3);
      h.cache_hit = steps.Int64(4) != 0;
      h.rows_in = steps.OptionalInt64(5);
      h.rows_out = steps.OptionalInt64(6);
      h.exit_code = static_cast<int>(steps.Int64(7));
      h.message = steps.Text(8);
      h.finished_at = steps.Int64(9);
      out.steps.push_back(std::move(h));
    }
    return OkStatus();
  }));
  if (!found) return NotFound(fmt::format("no pipeline run '{}'", run_id));
  return out;
}

StatusOr<int> PipelineStore::FailInterruptedRuns(const std::string& message, int64_t now_millis) {
  int changed = 0;
  RETURN_IF_ERROR(pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement st,
                     db.Prepare("UPDATE pipeline_runs SET status = 'failed', end_time = ?1, "
                                "message = ?2 WHERE status = 'running'"));
    st.Bind(1, now_millis).Bind(2, message);
    RETURN_IF_ERROR(st.Run());
    changed = db.Changes();
    return OkStatus();
  }));
  return changed;
}

}  // namespace cairn::pipeline
