// The tracking schema as versioned migrations: the names agreed with the search compiler
// (tracking/search), which generates SQL against them. Versions are one global sequence shared
// with the other modules' migrations (tracking has 1, 6 and 7, registry 2, serving 3 and 4,
// pipelines 5). Append new migrations; never edit one that has shipped.
#include "tracking/sqlite_tracking_store.h"

#include "tracking/metric_block.h"

namespace cairn::tracking {

namespace {

// Migration 7's conversion: every row of the row-per-point `metrics` table into blocks of at
// most this many points per (run_key, key), in primary-key order (the table holds no
// duplicates), then the old table is dropped.
constexpr uint32_t kMigratedBlockPoints = 1000;

Status ConvertMetricRowsToBlocks(store::Database& db) {
  {
    ASSIGN_OR_RETURN(store::Statement rows,
                     db.Prepare("SELECT run_key, key, step, timestamp, value, is_nan, model_id, "
                                "dataset_name, dataset_digest FROM metrics ORDER BY run_key, key, "
                                "step, timestamp, value, is_nan"));
    ASSIGN_OR_RETURN(store::Statement ins,
                     db.Prepare("INSERT INTO metric_blocks (run_key, key, block, n, points) "
                                "VALUES (?1, ?2, ?3, ?4, ?5)"));
    MetricBlockWriter block;
    int64_t run_key = 0, block_no = 0;
    std::string key;
    auto flush = [&]() -> Status {
      if (block.size() == 0) return OkStatus();
      ins.Reset();
      ins.Bind(1, run_key).Bind(2, key).Bind(3, ++block_no).Bind(4, int64_t{block.size()});
      ins.BindBlobNoCopy(5, block.bytes());
      RETURN_IF_ERROR(ins.Run());
      block.Clear();
      return OkStatus();
    };
    while (true) {
      ASSIGN_OR_RETURN(bool more, rows.Step());
      if (!more) break;
      const int64_t row_run_key = rows.Int64(0);
      std::string row_key = rows.Text(1);
      if (row_run_key != run_key || row_key != key) {
        RETURN_IF_ERROR(flush());
        run_key = row_run_key;
        key = std::move(row_key);
        block_no = 0;
      } else if (block.size() >= kMigratedBlockPoints) {
        RETURN_IF_ERROR(flush());
      }
      block.Add(rows.Int64(2), rows.Int64(3), rows.Double(4), rows.Int64(5) != 0,
                rows.OptionalText(6), rows.OptionalText(7), rows.OptionalText(8));
    }
    RETURN_IF_ERROR(flush());
  }
  return db.Exec("DROP TABLE metrics");
}

}  // namespace

const std::vector<store::Migration>& SqliteTrackingStore::Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {1, "tracking schema: experiments, runs, metrics, params, tags, inputs, logged models",
       R"sql(
CREATE TABLE experiments (
  experiment_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active',
  creation_time INTEGER,
  last_update_time INTEGER
);
CREATE TABLE experiment_tags (
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT,
  PRIMARY KEY (experiment_id, key)
);
CREATE TABLE runs (
  run_uuid TEXT PRIMARY KEY,
  name TEXT,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  user_id TEXT,
  status TEXT,
  start_time INTEGER,
  end_time INTEGER,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active',
  artifact_uri TEXT,
  deleted_time INTEGER
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time);
-- Metric points: no foreign key (the run is checked once per request). The primary key is
-- MLflow's, so exact duplicates are dropped; WITHOUT ROWID keeps one B-tree per point (history
-- reads scan it by (run_uuid, key)).
CREATE TABLE metrics (
  run_uuid TEXT NOT NULL,
  key TEXT NOT NULL,
  step INTEGER NOT NULL DEFAULT 0,
  timestamp INTEGER NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  model_id TEXT,
  dataset_name TEXT,
  dataset_digest TEXT,
  PRIMARY KEY (run_uuid, key, step, timestamp, value, is_nan)
) WITHOUT ROWID;
CREATE TABLE latest_metrics (
  run_uuid TEXT NOT NULL,
  key TEXT NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  PRIMARY KEY (run_uuid, key)
);
-- Search filters ("metrics.k > x", "params.k = 'v'", "tags.k = 'v'") select run ids by
-- (key, value): these covering indexes answer them without touching the tables.
CREATE INDEX latest_metrics_by_key ON latest_metrics (key, value, run_uuid);
CREATE TABLE params (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_uuid, key)
);
CREATE INDEX params_by_key ON params (key, value, run_uuid);
CREATE TABLE tags (
  run_uuid TEXT NOT NULL REFERENCES runs(run_uuid) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT,
  PRIMARY KEY (run_uuid, key)
);
CREATE INDEX tags_by_key ON tags (key, value, run_uuid);
CREATE TABLE datasets (
  dataset_uuid TEXT PRIMARY KEY,
  experiment_id INTEGER REFERENCES experiments(experiment_id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  source_type TEXT,
  source TEXT,
  schema TEXT,
  profile TEXT,
  UNIQUE (experiment_id, name, digest)
);
CREATE TABLE inputs (
  input_uuid TEXT PRIMARY KEY,
  source_type TEXT NOT NULL,
  source_id TEXT NOT NULL,
  destination_type TEXT NOT NULL,
  destination_id TEXT NOT NULL,
  step INTEGER
);
CREATE INDEX inputs_by_destination ON inputs (destination_id, destination_type);
CREATE INDEX inputs_by_source ON inputs (source_id, source_type);
CREATE TABLE input_tags (
  input_uuid TEXT NOT NULL REFERENCES inputs(input_uuid) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (input_uuid, name)
);
CREATE TABLE logged_models (
  model_id TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  name TEXT NOT NULL,
  artifact_location TEXT NOT NULL,
  creation_timestamp_ms INTEGER NOT NULL,
  last_updated_timestamp_ms INTEGER NOT NULL,
  status TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active',
  model_type TEXT,
  source_run_id TEXT,
  status_message TEXT
);
CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id, creation_timestamp_ms);
CREATE TABLE logged_model_params (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
  experiment_id INTEGER NOT NULL,
  param_key TEXT NOT NULL,
  param_value TEXT NOT NULL,
  PRIMARY KEY (model_id, param_key)
);
CREATE TABLE logged_model_tags (
  model_id TEXT NOT NULL REFERENCES logged_models(model_id) ON DELETE CASCADE,
  experiment_id INTEGER NOT NULL,
  tag_key TEXT NOT NULL,
  tag_value TEXT NOT NULL,
  PRIMARY KEY (model_id, tag_key)
);
CREATE TABLE logged_model_metrics (
  model_id TEXT NOT NULL,
  metric_name TEXT NOT NULL,
  metric_timestamp_ms INTEGER NOT NULL,
  metric_step INTEGER NOT NULL,
  metric_value REAL,
  experiment_id INTEGER NOT NULL,
  run_id TEXT,
  dataset_uuid TEXT,
  dataset_name TEXT,
  dataset_digest TEXT
);
CREATE UNIQUE INDEX logged_model_metrics_point
  ON logged_model_metrics (model_id, metric_name, metric_timestamp_ms, metric_step, run_id);
INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time,
                         last_update_time)
  VALUES (0, 'Default', NULL, 'active', CAST(strftime('%s', 'now') AS INTEGER) * 1000,
          CAST(strftime('%s', 'now') AS INTEGER) * 1000);
)sql"},
      // Ingest: metric points keyed by a small integer per run instead of the 32-character
      // run id (half the row and index size, so half the pages written to the WAL and
      // checkpointed per point, and cheaper key comparisons). runs.run_key is assigned once
      // (MAX + 1) when a run is created; existing runs take their rowid.
      {6, "tracking: metric points keyed by an integer run key",
       R"sql(
ALTER TABLE runs ADD COLUMN run_key INTEGER;
UPDATE runs SET run_key = rowid;
CREATE UNIQUE INDEX runs_by_key ON runs (run_key);
CREATE TABLE metrics_by_run_key (
  run_key INTEGER NOT NULL,
  key TEXT NOT NULL,
  step INTEGER NOT NULL DEFAULT 0,
  timestamp INTEGER NOT NULL,
  value REAL NOT NULL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  model_id TEXT,
  dataset_name TEXT,
  dataset_digest TEXT,
  PRIMARY KEY (run_key, key, step, timestamp, value, is_nan)
) WITHOUT ROWID;
INSERT INTO metrics_by_run_key (run_key, key, step, timestamp, value, is_nan, model_id,
                                dataset_name, dataset_digest)
  SELECT r.run_key, m.key, m.step, m.timestamp, m.value, m.is_nan, m.model_id, m.dataset_name,
         m.dataset_digest
  FROM metrics m JOIN runs r ON r.run_uuid = m.run_uuid;
DROP TABLE metrics;
ALTER TABLE metrics_by_run_key RENAME TO metrics;
)sql"},
      // Ingest: metric points packed into blocks (tracking/metric_block.h) instead of one
      // B-tree row per point. A write appends one row to its run's recent area
      // (metric_batches: a block per key, clustered by run); every so many points the area is
      // compacted into per-key blocks (metric_blocks, clustered by run and key, numbered from
      // 1 in write order). Exact duplicates are dropped when histories are read, keeping the
      // first written. See SqliteTrackingStore's kCompactPoints. Rowid tables with an index,
      // not WITHOUT ROWID: their rows are kilobytes (overflow pages), and a seek in a
      // WITHOUT ROWID table reads a compared row's whole payload.
      {7, "tracking: metric points in append-only blocks",
       R"sql(
CREATE TABLE metric_blocks (
  run_key INTEGER NOT NULL,
  key TEXT NOT NULL,
  block INTEGER NOT NULL,
  n INTEGER NOT NULL,   -- points in the block
  points BLOB NOT NULL
);
CREATE UNIQUE INDEX metric_blocks_by_key ON metric_blocks (run_key, key, block);
CREATE TABLE metric_batches (
  run_key INTEGER NOT NULL,
  seq INTEGER NOT NULL,    -- 1, 2, ... since the run's last compaction
  total INTEGER NOT NULL,  -- points in rows 1..seq
  body BLOB NOT NULL       -- key sections (tracking/metric_block.h)
);
CREATE UNIQUE INDEX metric_batches_by_run ON metric_batches (run_key, seq, total);
)sql",
       ConvertMetricRowsToBlocks},
  };
  return kMigrations;
}

}  // namespace cairn::tracking
