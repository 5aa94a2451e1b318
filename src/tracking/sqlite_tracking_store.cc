#include "tracking/sqlite_tracking_store.h"

#include <algorithm>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "common/ids.h"
#include "tracking/metric_block.h"
#include "tracking/run_names.h"
#include "tracking/search_adapter.h"
#include "tracking/validation.h"

namespace cairn::tracking {

using store::Database;
using store::Statement;

namespace {

// ---------------------------------------------------------------------------------------------
// Small helpers

std::optional<int64_t> ParseInt64(std::string_view s) {
  int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

Status ExperimentNotFound(std::string_view id) {
  return NotFound("No Experiment with id=" + std::string(id) + " exists");
}
Status RunNotFound(std::string_view id) {
  return NotFound("Run with id=" + std::string(id) + " not found");
}
Status LoggedModelNotFound(std::string_view id) {
  return NotFound("Logged model with ID '" + std::string(id) + "' not found.");
}

// MLflow stores NaN as 0 with is_nan and +-Inf as +-DBL_MAX. -0.0 becomes 0.0, as SQLite
// reads back a REAL column's zero (it stores integral reals as integers).
std::pair<double, int> SanitizeMetricValue(double v) {
  if (std::isnan(v)) return {0.0, 1};
  if (std::isinf(v)) return {v > 0 ? DBL_MAX : -DBL_MAX, 0};
  if (v == 0) return {0.0, 0};
  return {v, 0};
}

double StoredMetricValue(double value, bool is_nan) {
  return is_nan ? std::numeric_limits<double>::quiet_NaN() : value;
}

std::vector<std::string> StagesFor(ViewType view) {
  switch (view) {
    case ViewType::kActiveOnly: return {kLifecycleActive};
    case ViewType::kDeletedOnly: return {kLifecycleDeleted};
    case ViewType::kAll: return {kLifecycleActive, kLifecycleDeleted};
  }
  return {kLifecycleActive};
}

std::string Placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += i ? ",?" : "?";
  return out;
}

std::string JoinUri(const std::string& base, std::string_view part) {
  if (base.empty()) return std::string(part);
  if (base.back() == '/') return base + std::string(part);
  if (base.back() == ':') return base + "/" + std::string(part);
  return base + "/" + std::string(part);
}

// Binds a search's WHERE values, the store's own filters, then LIMIT and OFFSET.
using BindRest = std::function<void(Statement&, int&, int64_t limit, int64_t offset)>;

void BindValues(Statement& st, int& index, const std::vector<search_adapter::Value>& values) {
  for (const auto& v : values) {
    std::visit([&](const auto& x) { st.Bind(index++, x); }, v);
  }
}

// ---------------------------------------------------------------------------------------------
// Experiments

StatusOr<Experiment> LoadExperimentRow(Database& db, int64_t id) {
  ASSIGN_OR_RETURN(Statement * st,
                   db.Cached("SELECT experiment_id, name, artifact_location, lifecycle_stage, "
                             "creation_time, last_update_time FROM experiments WHERE "
                             "experiment_id = ?1"));
  st->Bind(1, id);
  ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return ExperimentNotFound(std::to_string(id));
  Experiment e;
  e.experiment_id = std::to_string(st->Int64(0));
  e.name = st->Text(1);
  e.artifact_location = st->Text(2);
  e.lifecycle_stage = st->Text(3);
  e.creation_time = st->OptionalInt64(4);
  e.last_update_time = st->OptionalInt64(5);
  st->Reset();
  ASSIGN_OR_RETURN(Statement * tags, db.Cached("SELECT key, value FROM experiment_tags WHERE "
                                               "experiment_id = ?1 ORDER BY key"));
  tags->Bind(1, id);
  while (true) {
    ASSIGN_OR_RETURN(bool more, tags->Step());
    if (!more) break;
    e.tags.push_back({tags->Text(0), tags->Text(1)});
  }
  return e;
}

StatusOr<Experiment> LoadExperiment(Database& db, std::string_view id_text) {
  auto id = ParseInt64(id_text);
  if (!id) return ExperimentNotFound(id_text);
  auto e = LoadExperimentRow(db, *id);
  if (!e.ok() && e.status().code() == Code::kNotFound) return ExperimentNotFound(id_text);
  return e;
}

Status CheckExperimentActive(const Experiment& e) {
  if (e.lifecycle_stage == kLifecycleActive) return OkStatus();
  return InvalidArgument("The experiment " + e.experiment_id +
                         " must be in the 'active' state. Current state is " +
                         e.lifecycle_stage + ".");
}

// ---------------------------------------------------------------------------------------------
// Runs

struct RunRow {
  RunInfo info;
  int64_t experiment_id = 0;
  int64_t run_key = 0;  // the integer that keys the run's metric points
};

StatusOr<RunRow> LoadRunInfo(Database& db, std::string_view run_id) {
  ASSIGN_OR_RETURN(Statement * st,
                   db.Cached("SELECT run_uuid, name, experiment_id, user_id, status, start_time, "
                             "end_time, lifecycle_stage, artifact_uri, run_key FROM runs WHERE "
                             "run_uuid = ?1"));
  st->Bind(1, run_id);
  ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return RunNotFound(run_id);
  RunRow r;
  r.info.run_id = st->Text(0);
  r.info.run_name = st->Text(1);
  r.experiment_id = st->Int64(2);
  r.info.experiment_id = std::to_string(r.experiment_id);
  r.info.user_id = st->Text(3);
  r.info.status = st->Text(4);
  r.info.start_time = st->OptionalInt64(5);
  r.info.end_time = st->OptionalInt64(6);
  r.info.lifecycle_stage = st->Text(7);
  r.info.artifact_uri = st->Text(8);
  r.run_key = st->Int64(9);
  st->Reset();
  return r;
}

Status CheckRunActive(const RunInfo& info) {
  if (info.lifecycle_stage == kLifecycleActive) return OkStatus();
  return InvalidArgument("The run " + info.run_id +
                         " must be in the 'active' state. Current state is " +
                         info.lifecycle_stage + ".");
}

StatusOr<RunRow> LoadActiveRun(Database& db, std::string_view run_id) {
  ASSIGN_OR_RETURN(RunRow r, LoadRunInfo(db, run_id));
  RETURN_IF_ERROR(CheckRunActive(r.info));
  return r;
}

Status LoadRunData(Database& db, const std::string& run_id, RunData& data) {
  ASSIGN_OR_RETURN(Statement * m, db.Cached("SELECT key, value, is_nan, timestamp, step FROM "
                                            "latest_metrics WHERE run_uuid = ?1 ORDER BY key"));
  m->Bind(1, run_id);
  while (true) {
    ASSIGN_OR_RETURN(bool more, m->Step());
    if (!more) break;
    Metric metric;
    metric.key = m->Text(0);
    metric.value = StoredMetricValue(m->Double(1), m->Int64(2) != 0);
    metric.timestamp = m->Int64(3);
    metric.step = m->Int64(4);
    data.metrics.push_back(std::move(metric));
  }
  ASSIGN_OR_RETURN(Statement * p,
                   db.Cached("SELECT key, value FROM params WHERE run_uuid = ?1 ORDER BY key"));
  p->Bind(1, run_id);
  while (true) {
    ASSIGN_OR_RETURN(bool more, p->Step());
    if (!more) break;
    data.params.push_back({p->Text(0), p->Text(1)});
  }
  ASSIGN_OR_RETURN(Statement * t,
                   db.Cached("SELECT key, value FROM tags WHERE run_uuid = ?1 ORDER BY key"));
  t->Bind(1, run_id);
  while (true) {
    ASSIGN_OR_RETURN(bool more, t->Step());
    if (!more) break;
    data.tags.push_back({t->Text(0), t->Text(1)});
  }
  return OkStatus();
}

Status LoadRunInputsOutputs(Database& db, const std::string& run_id, Run& run) {
  ASSIGN_OR_RETURN(Statement * ds,
                   db.Cached("SELECT i.input_uuid, d.name, d.digest, d.source_type, d.source, "
                             "d.schema, d.profile FROM inputs i JOIN datasets d ON "
                             "d.dataset_uuid = i.source_id WHERE i.destination_id = ?1 AND "
                             "i.destination_type = 'RUN' AND i.source_type = 'DATASET' "
                             "ORDER BY i.rowid"));
  ds->Bind(1, run_id);
  std::vector<std::string> input_uuids;
  while (true) {
    ASSIGN_OR_RETURN(bool more, ds->Step());
    if (!more) break;
    input_uuids.push_back(ds->Text(0));
    DatasetInput in;
    in.dataset.name = ds->Text(1);
    in.dataset.digest = ds->Text(2);
    in.dataset.source_type = ds->Text(3);
    in.dataset.source = ds->Text(4);
    in.dataset.schema = ds->OptionalText(5);
    in.dataset.profile = ds->OptionalText(6);
    run.inputs.dataset_inputs.push_back(std::move(in));
  }
  for (size_t i = 0; i < input_uuids.size(); ++i) {
    ASSIGN_OR_RETURN(Statement * tags, db.Cached("SELECT name, value FROM input_tags WHERE "
                                                 "input_uuid = ?1 ORDER BY name"));
    tags->Bind(1, input_uuids[i]);
    while (true) {
      ASSIGN_OR_RETURN(bool more, tags->Step());
      if (!more) break;
      run.inputs.dataset_inputs[i].tags.push_back({tags->Text(0), tags->Text(1)});
    }
  }
  ASSIGN_OR_RETURN(Statement * mi,
                   db.Cached("SELECT destination_id FROM inputs WHERE source_id = ?1 AND "
                             "source_type = 'RUN_INPUT' AND destination_type = 'MODEL_INPUT' "
                             "ORDER BY rowid"));
  mi->Bind(1, run_id);
  while (true) {
    ASSIGN_OR_RETURN(bool more, mi->Step());
    if (!more) break;
    run.inputs.model_inputs.push_back({mi->Text(0)});
  }
  ASSIGN_OR_RETURN(Statement * mo,
                   db.Cached("SELECT destination_id, step FROM inputs WHERE source_id = ?1 AND "
                             "source_type = 'RUN_OUTPUT' AND destination_type = 'MODEL_OUTPUT' "
                             "ORDER BY rowid"));
  mo->Bind(1, run_id);
  while (true) {
    ASSIGN_OR_RETURN(bool more, mo->Step());
    if (!more) break;
    run.outputs.model_outputs.push_back({mo->Text(0), mo->IsNull(1) ? 0 : mo->Int64(1)});
  }
  return OkStatus();
}

StatusOr<Run> LoadRun(Database& db, std::string_view run_id) {
  ASSIGN_OR_RETURN(RunRow row, LoadRunInfo(db, run_id));
  Run run;
  run.info = std::move(row.info);
  RETURN_IF_ERROR(LoadRunData(db, run.info.run_id, run.data));
  RETURN_IF_ERROR(LoadRunInputsOutputs(db, run.info.run_id, run));
  return run;
}

// Loads many runs with a handful of queries per chunk of ids (search results), in `ids`
// order; ids that do not exist are skipped.
StatusOr<std::vector<Run>> LoadRuns(Database& db, const std::vector<std::string>& ids) {
  constexpr size_t kChunk = 500;
  std::vector<Run> out;
  out.reserve(ids.size());
  for (size_t begin = 0; begin < ids.size(); begin += kChunk) {
    const size_t end = std::min(ids.size(), begin + kChunk);
    const size_t n = end - begin;
    const std::string in = Placeholders(n);
    auto bind_ids = [&](Statement& st) {
      for (size_t i = 0; i < n; ++i) st.Bind(static_cast<int>(i + 1), ids[begin + i]);
    };
    std::unordered_map<std::string, size_t> index;  // run id -> position in `chunk`
    std::vector<Run> chunk(n);
    std::vector<bool> found(n, false);
    for (size_t i = 0; i < n; ++i) index.emplace(ids[begin + i], i);

    ASSIGN_OR_RETURN(Statement info,
                     db.Prepare("SELECT run_uuid, name, experiment_id, user_id, status, "
                                "start_time, end_time, lifecycle_stage, artifact_uri FROM runs "
                                "WHERE run_uuid IN (" + in + ")"));
    bind_ids(info);
    while (true) {
      ASSIGN_OR_RETURN(bool more, info.Step());
      if (!more) break;
      auto it = index.find(info.Text(0));
      if (it == index.end()) continue;
      RunInfo& r = chunk[it->second].info;
      r.run_id = it->first;
      r.run_name = info.Text(1);
      r.experiment_id = std::to_string(info.Int64(2));
      r.user_id = info.Text(3);
      r.status = info.Text(4);
      r.start_time = info.OptionalInt64(5);
      r.end_time = info.OptionalInt64(6);
      r.lifecycle_stage = info.Text(7);
      r.artifact_uri = info.Text(8);
      found[it->second] = true;
    }
    ASSIGN_OR_RETURN(Statement metrics,
                     db.Prepare("SELECT run_uuid, key, value, is_nan, timestamp, step FROM "
                                "latest_metrics WHERE run_uuid IN (" + in + ") ORDER BY key"));
    bind_ids(metrics);
    while (true) {
      ASSIGN_OR_RETURN(bool more, metrics.Step());
      if (!more) break;
      auto it = index.find(metrics.Text(0));
      if (it == index.end()) continue;
      Metric m;
      m.key = metrics.Text(1);
      m.value = StoredMetricValue(metrics.Double(2), metrics.Int64(3) != 0);
      m.timestamp = metrics.Int64(4);
      m.step = metrics.Int64(5);
      chunk[it->second].data.metrics.push_back(std::move(m));
    }
    for (const char* table : {"params", "tags"}) {
      ASSIGN_OR_RETURN(Statement kv, db.Prepare(std::string("SELECT run_uuid, key, value FROM ") +
                                                table + " WHERE run_uuid IN (" + in +
                                                ") ORDER BY key"));
      bind_ids(kv);
      const bool params = std::string_view(table) == "params";
      while (true) {
        ASSIGN_OR_RETURN(bool more, kv.Step());
        if (!more) break;
        auto it = index.find(kv.Text(0));
        if (it == index.end()) continue;
        if (params) {
          chunk[it->second].data.params.push_back({kv.Text(1), kv.Text(2)});
        } else {
          chunk[it->second].data.tags.push_back({kv.Text(1), kv.Text(2)});
        }
      }
    }
    ASSIGN_OR_RETURN(Statement ds,
                     db.Prepare("SELECT i.destination_id, i.input_uuid, d.name, d.digest, "
                                "d.source_type, d.source, d.schema, d.profile FROM inputs i JOIN "
                                "datasets d ON d.dataset_uuid = i.source_id WHERE "
                                "i.destination_type = 'RUN' AND i.source_type = 'DATASET' AND "
                                "i.destination_id IN (" + in + ") ORDER BY i.rowid"));
    bind_ids(ds);
    std::unordered_map<std::string, std::pair<size_t, size_t>> input_pos;  // uuid -> (run, k)
    while (true) {
      ASSIGN_OR_RETURN(bool more, ds.Step());
      if (!more) break;
      auto it = index.find(ds.Text(0));
      if (it == index.end()) continue;
      DatasetInput in_ds;
      in_ds.dataset.name = ds.Text(2);
      in_ds.dataset.digest = ds.Text(3);
      in_ds.dataset.source_type = ds.Text(4);
      in_ds.dataset.source = ds.Text(5);
      in_ds.dataset.schema = ds.OptionalText(6);
      in_ds.dataset.profile = ds.OptionalText(7);
      auto& list = chunk[it->second].inputs.dataset_inputs;
      input_pos.emplace(ds.Text(1), std::make_pair(it->second, list.size()));
      list.push_back(std::move(in_ds));
    }
    if (!input_pos.empty()) {
      std::vector<std::string> input_ids;
      for (const auto& [uuid, pos] : input_pos) input_ids.push_back(uuid);
      for (size_t b = 0; b < input_ids.size(); b += kChunk) {
        const size_t e = std::min(input_ids.size(), b + kChunk);
        ASSIGN_OR_RETURN(Statement tags,
                         db.Prepare("SELECT input_uuid, name, value FROM input_tags WHERE "
                                    "input_uuid IN (" + Placeholders(e - b) + ") ORDER BY name"));
        for (size_t i = b; i < e; ++i) tags.Bind(static_cast<int>(i - b + 1), input_ids[i]);
        while (true) {
          ASSIGN_OR_RETURN(bool more, tags.Step());
          if (!more) break;
          const auto& [run_pos, k] = input_pos.at(tags.Text(0));
          chunk[run_pos].inputs.dataset_inputs[k].tags.push_back({tags.Text(1), tags.Text(2)});
        }
      }
    }
    ASSIGN_OR_RETURN(Statement models,
                     db.Prepare("SELECT source_id, source_type, destination_id, step FROM inputs "
                                "WHERE source_id IN (" + in + ") AND ((source_type = 'RUN_INPUT' "
                                "AND destination_type = 'MODEL_INPUT') OR (source_type = "
                                "'RUN_OUTPUT' AND destination_type = 'MODEL_OUTPUT')) ORDER BY "
                                "rowid"));
    bind_ids(models);
    while (true) {
      ASSIGN_OR_RETURN(bool more, models.Step());
      if (!more) break;
      auto it = index.find(models.Text(0));
      if (it == index.end()) continue;
      Run& run = chunk[it->second];
      if (models.Text(1) == "RUN_INPUT") {
        run.inputs.model_inputs.push_back({models.Text(2)});
      } else {
        run.outputs.model_outputs.push_back({models.Text(2), models.IsNull(3) ? 0 : models.Int64(3)});
      }
    }
    for (size_t i = 0; i < n; ++i) {
      if (found[i]) out.push_back(std::move(chunk[i]));
    }
  }
  return out;
}

// Upserts a run tag; the run-name tag also renames the run.
Status WriteRunTag(Database& db, const std::string& run_id, const Tag& tag) {
  ASSIGN_OR_RETURN(Statement * st,
                   db.Cached("INSERT INTO tags (run_uuid, key, value) VALUES (?1, ?2, ?3) "
                             "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value"));
  st->Bind(1, run_id).Bind(2, tag.key).Bind(3, tag.value);
  RETURN_IF_ERROR(st->Run());
  if (tag.key == kRunNameTag) {
    ASSIGN_OR_RETURN(Statement * up, db.Cached("UPDATE runs SET name = ?2 WHERE run_uuid = ?1"));
    up->Bind(1, run_id).Bind(2, tag.value);
    RETURN_IF_ERROR(up->Run());
  }
  return OkStatus();
}

// Inserts params that are new, accepts identical re-logs, refuses changed values.
Status WriteParams(Database& db, const std::string& run_id, const std::vector<Param>& params) {
  for (const Param& p : params) {
    ASSIGN_OR_RETURN(Statement * get,
                     db.Cached("SELECT value FROM params WHERE run_uuid = ?1 AND key = ?2"));
    get->Bind(1, run_id).Bind(2, p.key);
    ASSIGN_OR_RETURN(bool exists, get->Step());
    if (exists) {
      std::string old_value = get->Text(0);
      get->Reset();
      if (old_value != p.value) {
        return InvalidArgument("Changing param values is not allowed. Param with key='" + p.key +
                               "' was already logged with value='" + old_value +
                               "' for run ID='" + run_id + "'. Attempted logging new value '" +
                               p.value + "'.");
      }
      continue;
    }
    get->Reset();
    ASSIGN_OR_RETURN(Statement * ins,
                     db.Cached("INSERT INTO params (run_uuid, key, value) VALUES (?1, ?2, ?3)"));
    ins->Bind(1, run_id).Bind(2, p.key).Bind(3, p.value);
    RETURN_IF_ERROR(ins->Run());
  }
  return OkStatus();
}

// The metric points of a write go to the run's recent area, `metric_batches`: one row per
// write holding a block per key, clustered by run, so a write dirties a few pages whatever its
// number of keys (rather than a page per key). Once the area holds kCompactPoints points or
// kCompactRows writes, the write that would pass either limit moves the area and itself into
// per-key blocks, `metric_blocks`, clustered by (run, key) for history reads, in the same
// transaction.
constexpr int64_t kCompactPoints = 50000;
constexpr int64_t kCompactRows = 256;
// Compaction writes a key's points as blocks of at most this many points.
constexpr size_t kMaxBlockPoints = 4096;

// The points of one write for one key.
struct KeyPoints {
  std::string_view key;
  MetricBlockWriter block;
};

// Moves the run's recent area, followed by `latest` (this write's points), into per-key blocks.
Status CompactMetricBatches(Database& db, int64_t run_key, std::vector<KeyPoints>& latest) {
  // Keys in first-seen order, each with its points in write order.
  std::vector<std::pair<std::string, std::vector<MetricPoint>>> keys;
  std::unordered_map<std::string, size_t> index;
  auto points_of = [&](std::string_view key) -> std::vector<MetricPoint>& {
    auto [it, inserted] = index.try_emplace(std::string(key), keys.size());
    if (inserted) keys.emplace_back(std::string(key), std::vector<MetricPoint>());
    return keys[it->second].second;
  };
  ASSIGN_OR_RETURN(Statement * rows, db.Cached("SELECT body FROM metric_batches WHERE run_key = "
                                               "?1 ORDER BY seq"));
  rows->Bind(1, run_key);
  while (true) {
    ASSIGN_OR_RETURN(bool more, rows->Step());
    if (!more) break;
    RETURN_IF_ERROR(ForEachKeySection(
        rows->Blob(0), [&](std::string_view key, std::string_view block) -> Status {
          return DecodeMetricBlock(block, &points_of(key));
        }));
  }
  rows->Reset();
  for (KeyPoints& k : latest) RETURN_IF_ERROR(DecodeMetricBlock(k.block.bytes(), &points_of(k.key)));
  ASSIGN_OR_RETURN(Statement * last, db.Cached("SELECT MAX(block) FROM metric_blocks WHERE "
                                               "run_key = ?1 AND key = ?2"));
  ASSIGN_OR_RETURN(Statement * ins,
                   db.Cached("INSERT INTO metric_blocks (run_key, key, block, n, points) VALUES "
                             "(?1, ?2, ?3, ?4, ?5)"));
  MetricBlockWriter block;
  for (const auto& [key, points] : keys) {
    last->Reset();
    last->Bind(1, run_key).BindNoCopy(2, key);
    ASSIGN_OR_RETURN(bool row, last->Step());
    int64_t block_no = row ? last->Int64(0) : 0;  // NULL (no block yet) reads as 0
    last->Reset();
    for (size_t begin = 0; begin < points.size(); begin += kMaxBlockPoints) {
      block.Clear();
      const size_t end = std::min(points.size(), begin + kMaxBlockPoints);
      for (size_t i = begin; i < end; ++i) block.Add(points[i]);
      ins->Reset();
      ins->Bind(1, run_key).BindNoCopy(2, key).Bind(3, ++block_no);
      ins->Bind(4, int64_t{block.size()}).BindBlobNoCopy(5, block.bytes());
      RETURN_IF_ERROR(ins->Run());
    }
  }
  ASSIGN_OR_RETURN(Statement * del, db.Cached("DELETE FROM metric_batches WHERE run_key = ?1"));
  del->Bind(1, run_key);
  return del->Run();
}

// Stores one write's points (see kCompactPoints): a row of the recent area, or a compaction.
Status AppendMetricPoints(Database& db, int64_t run_key, std::vector<KeyPoints>& keys,
                          int64_t points) {
  ASSIGN_OR_RETURN(Statement * last,
                   db.Cached("SELECT seq, total FROM metric_batches WHERE run_key = ?1 ORDER BY "
                             "seq DESC LIMIT 1"));
  last->Bind(1, run_key);
  ASSIGN_OR_RETURN(bool exists, last->Step());
  const int64_t seq = exists ? last->Int64(0) : 0;
  const int64_t total = exists ? last->Int64(1) : 0;
  last->Reset();
  if (seq + 1 > kCompactRows || total + points > kCompactPoints) {
    return CompactMetricBatches(db, run_key, keys);
  }
  std::string body;
  for (KeyPoints& k : keys) AppendKeySection(&body, k.key, k.block.bytes());
  ASSIGN_OR_RETURN(Statement * ins,
                   db.Cached("INSERT INTO metric_batches (run_key, seq, total, body) VALUES (?1, "
                             "?2, ?3, ?4)"));
  ins->Bind(1, run_key).Bind(2, seq + 1).Bind(3, total + points).BindBlobNoCopy(4, body);
  return ins->Run();
}

// Appends metric points (one block per key, see kCompactPoints; exact duplicates are kept and
// dropped by readers), refreshes latest_metrics once per key and records points that name a
// logged model.
Status WriteMetrics(Database& db, const RunRow& run, const std::vector<Metric>& metrics) {
  if (metrics.empty()) return OkStatus();
  const std::string& run_id = run.info.run_id;
  struct Latest {
    double value;
    int is_nan;
    int64_t timestamp;
    int64_t step;
  };
  // Keys in first-seen order, so that a batch writes its blocks in a deterministic order.
  std::vector<KeyPoints> keys;
  std::vector<Latest> latest;
  std::unordered_map<std::string_view, size_t> index;
  for (const Metric& m : metrics) {
    auto [value, is_nan] = SanitizeMetricValue(m.value);
    Latest cand{value, is_nan, m.timestamp, m.step};
    auto [it, inserted] = index.try_emplace(m.key, keys.size());
    if (inserted) {
      keys.push_back({m.key, MetricBlockWriter()});
      latest.push_back(cand);
    } else {
      Latest& l = latest[it->second];
      if (std::tie(cand.step, cand.timestamp, cand.value) >
          std::tie(l.step, l.timestamp, l.value)) {
        l = cand;
      }
    }
    keys[it->second].block.Add(m.step, m.timestamp, value, is_nan != 0, m.model_id,
                               m.dataset_name, m.dataset_digest);
  }
  RETURN_IF_ERROR(AppendMetricPoints(db, run.run_key, keys, static_cast<int64_t>(metrics.size())));
  ASSIGN_OR_RETURN(
      Statement * up,
      db.Cached("INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (run_uuid, key) DO UPDATE SET "
                "value = excluded.value, is_nan = excluded.is_nan, timestamp = "
                "excluded.timestamp, step = excluded.step WHERE (excluded.step, "
                "excluded.timestamp, excluded.value) > (latest_metrics.step, "
                "latest_metrics.timestamp, latest_metrics.value)"));
  for (size_t i = 0; i < keys.size(); ++i) {
    const Latest& l = latest[i];
    up->Reset();
    up->Bind(1, run_id).BindNoCopy(2, keys[i].key).Bind(3, l.value).Bind(4, l.is_nan);
    up->Bind(5, l.timestamp).Bind(6, l.step);
    RETURN_IF_ERROR(up->Run());
  }
  for (const Metric& m : metrics) {
    if (!m.model_id) continue;
    ASSIGN_OR_RETURN(Statement * lm,
                     db.Cached("INSERT OR IGNORE INTO logged_model_metrics (model_id, "
                               "metric_name, metric_timestamp_ms, metric_step, metric_value, "
                               "experiment_id, run_id, dataset_name, dataset_digest) VALUES "
                               "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    auto [value, is_nan] = SanitizeMetricValue(m.value);
    lm->Bind(1, *m.model_id).Bind(2, m.key).Bind(3, m.timestamp).Bind(4, m.step);
    if (is_nan) {
      lm->BindNull(5);
    } else {
      lm->Bind(5, value);
    }
    lm->Bind(6, run.experiment_id).Bind(7, run_id).Bind(8, m.dataset_name);
    lm->Bind(9, m.dataset_digest);
    RETURN_IF_ERROR(lm->Run());
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Logged models

StatusOr<LoggedModel> LoadLoggedModel(Database& db, std::string_view model_id,
                                      bool include_deleted = false) {
  ASSIGN_OR_RETURN(Statement * st,
                   db.Cached("SELECT model_id, experiment_id, name, artifact_location, "
                             "creation_timestamp_ms, last_updated_timestamp_ms, status, "
                             "status_message, model_type, source_run_id, lifecycle_stage FROM "
                             "logged_models WHERE model_id = ?1"));
  st->Bind(1, model_id);
  ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return LoggedModelNotFound(model_id);
  if (!include_deleted && st->Text(10) == kLifecycleDeleted) {
    st->Reset();
    return LoggedModelNotFound(model_id);
  }
  LoggedModel m;
  m.model_id = st->Text(0);
  m.experiment_id = std::to_string(st->Int64(1));
  m.name = st->Text(2);
  m.artifact_uri = st->Text(3);
  m.creation_timestamp_ms = st->OptionalInt64(4);
  m.last_updated_timestamp_ms = st->OptionalInt64(5);
  m.status = st->Text(6);
  m.status_message = st->OptionalText(7);
  m.model_type = st->OptionalText(8);
  m.source_run_id = st->OptionalText(9);
  st->Reset();
  ASSIGN_OR_RETURN(Statement * tags, db.Cached("SELECT tag_key, tag_value FROM logged_model_tags "
                                               "WHERE model_id = ?1 ORDER BY tag_key"));
  tags->Bind(1, m.model_id);
  while (true) {
    ASSIGN_OR_RETURN(bool more, tags->Step());
    if (!more) break;
    m.tags.push_back({tags->Text(0), tags->Text(1)});
  }
  ASSIGN_OR_RETURN(Statement * params,
                   db.Cached("SELECT param_key, param_value FROM logged_model_params WHERE "
                             "model_id = ?1 ORDER BY param_key"));
  params->Bind(1, m.model_id);
  while (true) {
    ASSIGN_OR_RETURN(bool more, params->Step());
    if (!more) break;
    m.params.push_back({params->Text(0), params->Text(1)});
  }
  ASSIGN_OR_RETURN(Statement * metrics,
                   db.Cached("SELECT metric_name, metric_value, metric_timestamp_ms, "
                             "metric_step, run_id, dataset_name, dataset_digest FROM "
                             "logged_model_metrics WHERE model_id = ?1 ORDER BY rowid"));
  metrics->Bind(1, m.model_id);
  while (true) {
    ASSIGN_OR_RETURN(bool more, metrics->Step());
    if (!more) break;
    Metric x;
    x.key = metrics->Text(0);
    x.value = metrics->IsNull(1) ? std::numeric_limits<double>::quiet_NaN() : metrics->Double(1);
    x.timestamp = metrics->Int64(2);
    x.step = metrics->Int64(3);
    x.run_id = metrics->OptionalText(4);
    x.dataset_name = metrics->OptionalText(5);
    x.dataset_digest = metrics->OptionalText(6);
    x.model_id = m.model_id;
    m.metrics.push_back(std::move(x));
  }
  return m;
}

// A search ordered first by a metric: the runs with a real value of that metric come first in
// MLflow's order (NaN and missing sort after every number, both directions), so a page that
// starts among them is read from the metric's (key, value) index in order, stopping after
// `limit` matches. That plan loses when the filters are so selective that the scan passes many
// runs per match, so it gets a bounded amount of work (metric_order_scan_budget SQLite
// instructions) and then gives way to the planner's full query. A page that runs past the real
// values is completed with the NaN/missing runs in MLflow's order (the full query restricted
// to them). Returns true with the page in `ids` when it answered; false when the full query
// must: the budget ran out, or the page starts beyond the real values (their count unknown).
StatusOr<bool> SearchRunsMetricFirst(Database& db, const search_adapter::Query& q,
                                     const std::string& tail, const BindRest& bind_rest,
                                     int limit, int64_t offset, int64_t budget,
                                     std::vector<std::string>& ids) {
  if (!q.metric_first || budget == 0) return false;
  const auto& m = *q.metric_first;
  ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT r.run_uuid FROM " + m.from + m.joins +
                                            " WHERE (" + q.where + tail + m.order_by +
                                            " LIMIT ? OFFSET ?"));
  int index = 1;
  BindValues(st, index, m.from_binds);
  BindValues(st, index, m.join_binds);
  bind_rest(st, index, limit, offset);
  db.SetStepBudget(budget > 0 ? budget : 0);
  Status failed;
  while (true) {
    StatusOr<bool> more = st.Step();
    if (!more.ok()) {
      failed = more.status();
      break;
    }
    if (!*more) break;
    ids.push_back(st.Text(0));
  }
  const bool over_budget = db.StepBudgetExhausted();
  db.SetStepBudget(0);
  if (over_budget) return false;
  RETURN_IF_ERROR(failed);
  const int found = static_cast<int>(ids.size());
  if (found == limit) return true;
  // Short: every real value from `offset` on is in `ids`, so the page continues with the
  // first NaN/missing runs. Unless nothing came back past a non-zero offset: then how many
  // real values lie before the offset is unknown.
  if (found == 0 && offset > 0) return false;
  ASSIGN_OR_RETURN(Statement rest,
                   db.Prepare("SELECT r.run_uuid FROM runs r" + q.joins + " WHERE (" + q.where +
                              ") AND (" + m.rest_where + tail + q.order_by +
                              " LIMIT ? OFFSET ?"));
  index = 1;
  BindValues(rest, index, q.join_binds);
  bind_rest(rest, index, limit - found, 0);
  while (true) {
    ASSIGN_OR_RETURN(bool more, rest.Step());
    if (!more) break;
    ids.push_back(rest.Text(0));
  }
  return true;
}

Status ValidateMaxResults(int max_results, int limit) {
  if (max_results < 1) {
    return InvalidArgument("Invalid value " + std::to_string(max_results) +
                           " for parameter 'max_results' supplied. It must be a positive "
                           "integer");
  }
  if (max_results > limit) {
    return InvalidArgument("Invalid value " + std::to_string(max_results) +
                           " for parameter 'max_results' supplied. It must be at most " +
                           std::to_string(limit));
  }
  return OkStatus();
}

}  // namespace

// =============================================================================================

StatusOr<std::unique_ptr<SqliteTrackingStore>> SqliteTrackingStore::Open(
    const std::string& db_path, const SqliteTrackingStoreOptions& options) {
  store::PoolOptions pool_options;
  pool_options.num_readers = options.num_readers;
  ASSIGN_OR_RETURN(std::unique_ptr<store::ConnectionPool> pool,
                   store::ConnectionPool::Open(db_path, Migrations(), pool_options));
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteTrackingStore> s, OnPool(*pool, options));
  s->owned_pool_ = std::move(pool);
  return s;
}

StatusOr<std::unique_ptr<SqliteTrackingStore>> SqliteTrackingStore::OnPool(
    store::ConnectionPool& pool, const SqliteTrackingStoreOptions& options) {
  std::unique_ptr<SqliteTrackingStore> s(new SqliteTrackingStore());
  s->pool_ = &pool;
  s->artifact_root_ = options.artifact_root;
  s->clock_ = options.clock ? options.clock : &SystemClock::Get();
  s->metric_order_scan_budget_ = options.metric_order_scan_budget;
  // The default experiment's location follows the configured artifact root.
  const std::string default_location = JoinUri(s->artifact_root_, "0");
  RETURN_IF_ERROR(s->pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement st, db.Prepare("UPDATE experiments SET artifact_location = ?1 "
                                              "WHERE experiment_id = 0 AND artifact_location "
                                              "IS NULL"));
    st.Bind(1, default_location);
    return st.Run();
  }));
  return s;
}

// ---- Experiments ----------------------------------------------------------------------------

StatusOr<std::string> SqliteTrackingStore::CreateExperiment(const std::string& name,
                                                            const std::string& artifact_location,
                                                            std::vector<Tag> tags) {
  RETURN_IF_ERROR(ValidateExperimentName(name));
  for (const Tag& t : tags) RETURN_IF_ERROR(ValidateExperimentTag(t));
  const int64_t now = Now();
  std::string id;
  RETURN_IF_ERROR(pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement * ins,
                     db.Cached("INSERT INTO experiments (name, artifact_location, "
                               "lifecycle_stage, creation_time, last_update_time) VALUES "
                               "(?1, ?2, 'active', ?3, ?3)"));
    ins->Bind(1, name).Bind(3, now);
    if (artifact_location.empty()) {
      ins->BindNull(2);
    } else {
      ins->Bind(2, artifact_location);
    }
    Status st = ins->Run();
    if (st.code() == Code::kAlreadyExists) {
      return Status(Code::kAlreadyExists, "Experiment(name=" + name + ") already exists.")
          .WithMlflowCode("RESOURCE_ALREADY_EXISTS");
    }
    RETURN_IF_ERROR(st);
    const int64_t eid = db.LastInsertRowId();
    id = std::to_string(eid);
    if (artifact_location.empty()) {
      ASSIGN_OR_RETURN(Statement * up, db.Cached("UPDATE experiments SET artifact_location = ?2 "
                                                 "WHERE experiment_id = ?1"));
      up->Bind(1, eid).Bind(2, JoinUri(artifact_root_, id));
      RETURN_IF_ERROR(up->Run());
    }
    for (const Tag& t : tags) {
      ASSIGN_OR_RETURN(Statement * tag,
                       db.Cached("INSERT INTO experiment_tags (experiment_id, key, value) VALUES "
                                 "(?1, ?2, ?3) ON CONFLICT (experiment_id, key) DO UPDATE SET "
                                 "value = excluded.value"));
      tag->Bind(1, eid).Bind(2, t.key).Bind(3, t.value);
      RETURN_IF_ERROR(tag->Run());
    }
    return OkStatus();
  }));
  return id;
}

StatusOr<Experiment> SqliteTrackingStore::GetExperiment(const std::string& experiment_id) {
  std::optional<Experiment> out;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(out, LoadExperiment(db, experiment_id));
    return OkStatus();
  }));
  return std::move(*out);
}

StatusOr<Experiment> SqliteTrackingStore::GetExperimentByName(const std::string& name) {
  std::optional<Experiment> out;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement * st,
                     db.Cached("SELECT experiment_id FROM experiments WHERE name = ?1"));
    st->Bind(1, name);
    ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) return NotFound("Could not find experiment with name '" + name + "'");
    int64_t id = st->Int64(0);
    st->Reset();
    ASSIGN_OR_RETURN(out, LoadExperimentRow(db, id));
    return OkStatus();
  }));
  return std::move(*out);
}

StatusOr<SearchExperimentsResult> SqliteTrackingStore::SearchExperiments(
    const SearchExperimentsRequest& request) {
  RETURN_IF_ERROR(ValidateMaxResults(request.max_results, kMaxExperimentsPerPage));
  ASSIGN_OR_RETURN(search_adapter::Query q,
                   search_adapter::CompileExperiments(request.filter, request.order_by));
  ASSIGN_OR_RETURN(int64_t offset, search_adapter::DecodePageToken(request.page_token));
  const std::vector<std::string> stages = StagesFor(request.view_type);
  std::string sql = "SELECT e.experiment_id FROM experiments e" + q.joins + " WHERE (" + q.where +
                    ") AND e.lifecycle_stage IN (" + Placeholders(stages.size()) +
                    ") ORDER BY " + q.order_by + " LIMIT ? OFFSET ?";
  SearchExperimentsResult result;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement st, db.Prepare(sql));
    int index = 1;
    BindValues(st, index, q.join_binds);
    BindValues(st, index, q.where_binds);
    for (const auto& s : stages) st.Bind(index++, s);
    st.Bind(index++, static_cast<int64_t>(request.max_results) + 1);
    st.Bind(index++, offset);
    std::vector<int64_t> ids;
    while (true) {
      ASSIGN_OR_RETURN(bool more, st.Step());
      if (!more) break;
      ids.push_back(st.Int64(0));
    }
    if (static_cast<int>(ids.size()) > request.max_results) {
      ids.resize(request.max_results);
      result.next_page_token = search_adapter::EncodePageToken(offset + request.max_results);
    }
    for (int64_t id : ids) {
      ASSIGN_OR_RETURN(Experiment e, LoadExperimentRow(db, id));
      result.experiments.push_back(std::move(e));
    }
    return OkStatus();
  }));
  return result;
}

Status SqliteTrackingStore::RenameExperiment(const std::string& experiment_id,
                                             const std::string& new_name) {
  if (new_name.empty()) return InvalidArgument(MissingValueMessage("new_name"));
  RETURN_IF_ERROR(ValidateExperimentName(new_name));
  const int64_t now = Now();
  return pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Experiment e, LoadExperiment(db, experiment_id));
    if (e.lifecycle_stage != kLifecycleActive) {
      return FailedPrecondition("Cannot rename a non-active experiment.")
          .WithMlflowCode("INVALID_STATE");
    }
    ASSIGN_OR_RETURN(Statement * up, db.Cached("UPDATE experiments SET name = ?2, "
                                               "last_update_time = ?3 WHERE experiment_id = ?1"));
    up->Bind(1, *ParseInt64(e.experiment_id)).Bind(2, new_name).Bind(3, now);
    Status st = up->Run();
    if (st.code() == Code::kAlreadyExists) {
      return Status(Code::kAlreadyExists, "Experiment(name=" + new_name + ") already exists.")
          .WithMlflowCode("RESOURCE_ALREADY_EXISTS");
    }
    return st;
  });
}

namespace {
Status SetExperimentLifecycle(Database& db, const std::string& experiment_id, bool deleted,
                              int64_t now) {
  ASSIGN_OR_RETURN(Experiment e, LoadExperiment(db, experiment_id));
  const char* want_current = deleted ? kLifecycleActive : kLifecycleDeleted;
  if (e.lifecycle_stage != want_current) return ExperimentNotFound(experiment_id);
  const int64_t eid = *ParseInt64(e.experiment_id);
  ASSIGN_OR_RETURN(Statement * up,
                   db.Cached("UPDATE experiments SET lifecycle_stage = ?2, last_update_time = ?3 "
                             "WHERE experiment_id = ?1"));
  up->Bind(1, eid).Bind(2, deleted ? kLifecycleDeleted : kLifecycleActive).Bind(3, now);
  RETURN_IF_ERROR(up->Run());
  ASSIGN_OR_RETURN(Statement * runs,
                   db.Cached("UPDATE runs SET lifecycle_stage = ?2, deleted_time = ?3 WHERE "
                             "experiment_id = ?1"));
  runs->Bind(1, eid).Bind(2, deleted ? kLifecycleDeleted : kLifecycleActive);
  if (deleted) {
    runs->Bind(3, now);
  } else {
    runs->BindNull(3);
  }
  return runs->Run();
}
}  // namespace

Status SqliteTrackingStore::DeleteExperiment(const std::string& experiment_id) {
  const int64_t now = Now();
  return pool_->Write(
      [&](Database& db) { return SetExperimentLifecycle(db, experiment_id, true, now); });
}

Status SqliteTrackingStore::RestoreExperiment(const std::string& experiment_id) {
  const int64_t now = Now();
  return pool_->Write(
      [&](Database& db) { return SetExperimentLifecycle(db, experiment_id, false, now); });
}

Status SqliteTrackingStore::SetExperimentTag(const std::string& experiment_id, Tag tag) {
  RETURN_IF_ERROR(ValidateExperimentTag(tag));
  return pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Experiment e, LoadExperiment(db, experiment_id));
    RETURN_IF_ERROR(CheckExperimentActive(e));
    ASSIGN_OR_RETURN(Statement * st,
                     db.Cached("INSERT INTO experiment_tags (experiment_id, key, value) VALUES "
                               "(?1, ?2, ?3) ON CONFLICT (experiment_id, key) DO UPDATE SET "
                               "value = excluded.value"));
    st->Bind(1, *ParseInt64(e.experiment_id)).Bind(2, tag.key).Bind(3, tag.value);
    return st->Run();
  });
}

Status SqliteTrackingStore::DeleteExperimentTag(const std::string& experiment_id,
                                                const std::string& key) {
  return pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Experiment e, LoadExperiment(db, experiment_id));
    RETURN_IF_ERROR(CheckExperimentActive(e));
    ASSIGN_OR_RETURN(Statement * st, db.Cached("DELETE FROM experiment_tags WHERE "
                                               "experiment_id = ?1 AND key = ?2"));
    st->Bind(1, *ParseInt64(e.experiment_id)).Bind(2, key);
    RETURN_IF_ERROR(st->Run());
    if (db.Changes() == 0) {
      return NotFound("No tag with name: " + key + " in experiment with id " + experiment_id);
    }
    return OkStatus();
  });
}

// ---- Runs -----------------------------------------------------------------------------------

StatusOr<Run> SqliteTrackingStore::CreateRun(CreateRunRequest request) {
  if (request.experiment_id.empty()) request.experiment_id = "0";
  for (size_t i = 0; i < request.tags.size(); ++i) {
    RETURN_IF_ERROR(ValidateRunTag(request.tags[i], "tags[" + std::to_string(i) + "]"));
  }
  std::string tag_name;
  bool has_name_tag = false;
  for (const Tag& t : request.tags) {
    if (t.key == kRunNameTag) {
      tag_name = t.value;
      has_name_tag = true;
    }
  }
  if (!request.run_name.empty() && has_name_tag && !tag_name.empty() &&
      request.run_name != tag_name) {
    return InvalidArgument(
        "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different "
        "values (run_name='" +
        request.run_name + "', mlflow.runName='" + tag_name + "').");
  }
  std::string run_name = !request.run_name.empty() ? request.run_name
                         : !tag_name.empty()       ? tag_name
                                                   : GenerateRunName();
  if (!has_name_tag || tag_name.empty()) {
    std::erase_if(request.tags, [](const Tag& t) { return t.key == kRunNameTag; });
    request.tags.push_back({kRunNameTag, run_name});
  }
  const int64_t start_time = request.start_time.value_or(Now());
  const std::string run_id = NewUuidHex();
  RETURN_IF_ERROR(pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Experiment e, LoadExperiment(db, request.experiment_id));
    RETURN_IF_ERROR(CheckExperimentActive(e));
    const std::string artifact_uri =
        JoinUri(JoinUri(e.artifact_location, run_id), "artifacts");
    ASSIGN_OR_RETURN(Statement * ins,
                     db.Cached("INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, "
                               "start_time, end_time, lifecycle_stage, artifact_uri, run_key) "
                               "VALUES (?1, ?2, ?3, ?4, 'RUNNING', ?5, NULL, 'active', ?6, "
                               "(SELECT IFNULL(MAX(run_key), 0) + 1 FROM runs))"));
    ins->Bind(1, run_id).Bind(2, run_name).Bind(3, *ParseInt64(e.experiment_id));
    ins->Bind(4, request.user_id).Bind(5, start_time).Bind(6, artifact_uri);
    RETURN_IF_ERROR(ins->Run());
    for (const Tag& t : request.tags) {
      ASSIGN_OR_RETURN(Statement * tag,
                       db.Cached("INSERT INTO tags (run_uuid, key, value) VALUES (?1, ?2, ?3) "
                                 "ON CONFLICT (run_uuid, key) DO UPDATE SET value = "
                                 "excluded.value"));
      tag->Bind(1, run_id).Bind(2, t.key).Bind(3, t.value);
      RETURN_IF_ERROR(tag->Run());
    }
    return OkStatus();
  }));
  return GetRun(run_id);
}

StatusOr<Run> SqliteTrackingStore::GetRun(const std::string& run_id) {
  std::optional<Run> out;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(out, LoadRun(db, run_id));
    return OkStatus();
  }));
  return std::move(*out);
}

StatusOr<RunInfo> SqliteTrackingStore::UpdateRun(const UpdateRunRequest& request) {
  if (request.status && !IsValidRunStatus(*request.status)) {
    return InvalidArgument(InvalidValueMessage("status", JsonQuote(*request.status)));
  }
  std::optional<RunInfo> out;
  RETURN_IF_ERROR(pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(RunRow r, LoadActiveRun(db, request.run_id));
    if (request.status) r.info.status = *request.status;
    if (request.end_time) r.info.end_time = *request.end_time;
    if (request.run_name && !request.run_name->empty()) r.info.run_name = *request.run_name;
    ASSIGN_OR_RETURN(Statement * up, db.Cached("UPDATE runs SET status = ?2, end_time = ?3, "
                                               "name = ?4 WHERE run_uuid = ?1"));
    up->Bind(1, r.info.run_id).Bind(2, r.info.status).Bind(3, r.info.end_time);
    up->Bind(4, r.info.run_name);
    RETURN_IF_ERROR(up->Run());
    if (request.run_name && !request.run_name->empty()) {
      RETURN_IF_ERROR(WriteRunTag(db, r.info.run_id, {kRunNameTag, *request.run_name}));
    }
    out = std::move(r.info);
    return OkStatus();
  }));
  return std::move(*out);
}

Status SqliteTrackingStore::DeleteRun(const std::string& run_id) {
  const int64_t now = Now();
  return pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(RunRow r, LoadRunInfo(db, run_id));
    ASSIGN_OR_RETURN(Statement * up, db.Cached("UPDATE runs SET lifecycle_stage = 'deleted', "
                                               "deleted_time = ?2 WHERE run_uuid = ?1"));
    up->Bind(1, run_id).Bind(2, now);
    return up->Run();
  });
}

Status SqliteTrackingStore::RestoreRun(const std::string& run_id) {
  return pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(RunRow r, LoadRunInfo(db, run_id));
    ASSIGN_OR_RETURN(Statement * up, db.Cached("UPDATE runs SET lifecycle_stage = 'active', "
                                               "deleted_time = NULL WHERE run_uuid = ?1"));
    up->Bind(1, run_id);
    return up->Run();
  });
}

StatusOr<SearchRunsResult> SqliteTrackingStore::SearchRuns(const SearchRunsRequest& request) {
  RETURN_IF_ERROR(ValidateMaxResults(request.max_results, kMaxRunsPerPage));
  ASSIGN_OR_RETURN(search_adapter::Query q,
                   search_adapter::CompileRuns(request.filter, request.order_by));
  ASSIGN_OR_RETURN(int64_t offset, search_adapter::DecodePageToken(request.page_token));
  std::vector<int64_t> experiment_ids;
  for (const std::string& e : request.experiment_ids) {
    if (auto id = ParseInt64(e)) experiment_ids.push_back(*id);
  }
  SearchRunsResult result;
  if (experiment_ids.empty()) return result;
  const std::vector<std::string> stages = StagesFor(request.view_type);
  const std::string tail = ") AND r.experiment_id IN (" + Placeholders(experiment_ids.size()) +
                           ") AND r.lifecycle_stage IN (" + Placeholders(stages.size()) +
                           ") ORDER BY ";
  const std::string sql = "SELECT r.run_uuid FROM runs r" + q.joins + " WHERE (" + q.where +
                          tail + q.order_by + " LIMIT ? OFFSET ?";
  auto bind_rest = [&](Statement& st, int& index, int64_t limit, int64_t skip) {
    BindValues(st, index, q.where_binds);
    for (int64_t id : experiment_ids) st.Bind(index++, id);
    for (const auto& s : stages) st.Bind(index++, s);
    st.Bind(index++, limit);
    st.Bind(index++, skip);
  };
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    std::vector<std::string> ids;
    ASSIGN_OR_RETURN(bool done,
                     SearchRunsMetricFirst(db, q, tail, bind_rest, request.max_results, offset,
                                           metric_order_scan_budget_, ids));
    if (!done) {
      ids.clear();
      ASSIGN_OR_RETURN(Statement st, db.Prepare(sql));
      int index = 1;
      BindValues(st, index, q.join_binds);
      bind_rest(st, index, request.max_results, offset);
      while (true) {
        ASSIGN_OR_RETURN(bool more, st.Step());
        if (!more) break;
        ids.push_back(st.Text(0));
      }
    }
    // MLflow's SQL store offers a next page whenever a page came back full.
    if (static_cast<int>(ids.size()) == request.max_results) {
      result.next_page_token = search_adapter::EncodePageToken(offset + request.max_results);
    }
    ASSIGN_OR_RETURN(result.runs, LoadRuns(db, ids));
    return OkStatus();
  }));
  return result;
}

Status SqliteTrackingStore::LogMetric(const std::string& run_id, const Metric& metric) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  RETURN_IF_ERROR(ValidateMetric(metric));
  return pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(RunRow r, LoadActiveRun(db, run_id));
    return WriteMetrics(db, r, {metric});
  });
}

Status SqliteTrackingStore::LogParam(const std::string& run_id, Param param) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  RETURN_IF_ERROR(ValidateParam(param));
  return pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(LoadActiveRun(db, run_id).status());
    return WriteParams(db, run_id, {param});
  });
}

Status SqliteTrackingStore::SetTag(const std::string& run_id, Tag tag) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  RETURN_IF_ERROR(ValidateRunTag(tag));
  return pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(LoadActiveRun(db, run_id).status());
    return WriteRunTag(db, run_id, tag);
  });
}

Status SqliteTrackingStore::DeleteTag(const std::string& run_id, const std::string& key) {
  return pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(LoadActiveRun(db, run_id).status());
    ASSIGN_OR_RETURN(Statement * st,
                     db.Cached("DELETE FROM tags WHERE run_uuid = ?1 AND key = ?2"));
    st->Bind(1, run_id).Bind(2, key);
    RETURN_IF_ERROR(st->Run());
    if (db.Changes() == 0) {
      return NotFound("No tag with name: " + key + " in run with id " + run_id);
    }
    return OkStatus();
  });
}

Status SqliteTrackingStore::LogBatch(LogBatchRequest request) {
  RETURN_IF_ERROR(ValidateRunId(request.run_id));
  for (size_t i = 0; i < request.metrics.size(); ++i) {
    // The field path ("metrics[i]") is only spelled out for the error: no allocations per
    // valid point.
    if (!ValidateMetric(request.metrics[i]).ok()) {
      RETURN_IF_ERROR(ValidateMetric(request.metrics[i], "metrics[" + std::to_string(i) + "]"));
    }
  }
  for (size_t i = 0; i < request.params.size(); ++i) {
    RETURN_IF_ERROR(ValidateParam(request.params[i], "params[" + std::to_string(i) + "]"));
  }
  for (size_t i = 0; i < request.tags.size(); ++i) {
    RETURN_IF_ERROR(ValidateRunTag(request.tags[i], "tags[" + std::to_string(i) + "]"));
  }
  RETURN_IF_ERROR(
      ValidateBatchLimits(request.metrics.size(), request.params.size(), request.tags.size()));
  RETURN_IF_ERROR(ValidateParamKeysUnique(request.params));
  return pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(RunRow r, LoadActiveRun(db, request.run_id));
    RETURN_IF_ERROR(WriteParams(db, request.run_id, request.params));
    RETURN_IF_ERROR(WriteMetrics(db, r, request.metrics));
    for (const Tag& t : request.tags) RETURN_IF_ERROR(WriteRunTag(db, request.run_id, t));
    return OkStatus();
  });
}

Status SqliteTrackingStore::LogInputs(const std::string& run_id,
                                      const std::vector<DatasetInput>& datasets,
                                      const std::vector<ModelInput>& models) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  RETURN_IF_ERROR(ValidateDatasetInputs(datasets));
  // Two inputs with the same (name, digest): the first wins, as in MLflow.
  std::vector<const DatasetInput*> unique;
  std::set<std::pair<std::string, std::string>> seen;
  for (const DatasetInput& d : datasets) {
    if (seen.insert({d.dataset.name, d.dataset.digest}).second) unique.push_back(&d);
  }
  return pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(RunRow r, LoadActiveRun(db, run_id));
    for (const DatasetInput* in : unique) {
      ASSIGN_OR_RETURN(Statement * find,
                       db.Cached("SELECT dataset_uuid FROM datasets WHERE experiment_id = ?1 AND "
                                 "name = ?2 AND digest = ?3"));
      find->Bind(1, r.experiment_id).Bind(2, in->dataset.name).Bind(3, in->dataset.digest);
      ASSIGN_OR_RETURN(bool found, find->Step());
      std::string dataset_uuid = found ? find->Text(0) : NewUuidHex();
      find->Reset();
      if (!found) {
        ASSIGN_OR_RETURN(Statement * ins,
                         db.Cached("INSERT INTO datasets (dataset_uuid, experiment_id, name, "
                                   "digest, source_type, source, schema, profile) VALUES "
                                   "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
        ins->Bind(1, dataset_uuid).Bind(2, r.experiment_id).Bind(3, in->dataset.name);
        ins->Bind(4, in->dataset.digest).Bind(5, in->dataset.source_type);
        ins->Bind(6, in->dataset.source).Bind(7, in->dataset.schema).Bind(8, in->dataset.profile);
        RETURN_IF_ERROR(ins->Run());
      }
      ASSIGN_OR_RETURN(Statement * has,
                       db.Cached("SELECT 1 FROM inputs WHERE source_type = 'DATASET' AND "
                                 "source_id = ?1 AND destination_type = 'RUN' AND "
                                 "destination_id = ?2"));
      has->Bind(1, dataset_uuid).Bind(2, run_id);
      ASSIGN_OR_RETURN(bool linked, has->Step());
      has->Reset();
      if (linked) continue;
      const std::string input_uuid = NewUuidHex();
      ASSIGN_OR_RETURN(Statement * link,
                       db.Cached("INSERT INTO inputs (input_uuid, source_type, source_id, "
                                 "destination_type, destination_id) VALUES (?1, 'DATASET', ?2, "
                                 "'RUN', ?3)"));
      link->Bind(1, input_uuid).Bind(2, dataset_uuid).Bind(3, run_id);
      RETURN_IF_ERROR(link->Run());
      for (const Tag& t : in->tags) {
        ASSIGN_OR_RETURN(Statement * tag,
                         db.Cached("INSERT INTO input_tags (input_uuid, name, value) VALUES "
                                   "(?1, ?2, ?3) ON CONFLICT (input_uuid, name) DO UPDATE SET "
                                   "value = excluded.value"));
        tag->Bind(1, input_uuid).Bind(2, t.key).Bind(3, t.value);
        RETURN_IF_ERROR(tag->Run());
      }
    }
    for (const ModelInput& m : models) {
      ASSIGN_OR_RETURN(Statement * ins,
                       db.Cached("INSERT INTO inputs (input_uuid, source_type, source_id, "
                                 "destination_type, destination_id) VALUES (?1, 'RUN_INPUT', "
                                 "?2, 'MODEL_INPUT', ?3)"));
      ins->Bind(1, NewUuidHex()).Bind(2, run_id).Bind(3, m.model_id);
      RETURN_IF_ERROR(ins->Run());
    }
    return OkStatus();
  });
}

Status SqliteTrackingStore::LogOutputs(const std::string& run_id,
                                       const std::vector<ModelOutput>& models) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  return pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(LoadActiveRun(db, run_id).status());
    for (const ModelOutput& m : models) {
      ASSIGN_OR_RETURN(Statement * ins,
                       db.Cached("INSERT INTO inputs (input_uuid, source_type, source_id, "
                                 "destination_type, destination_id, step) VALUES (?1, "
                                 "'RUN_OUTPUT', ?2, 'MODEL_OUTPUT', ?3, ?4)"));
      ins->Bind(1, NewUuidHex()).Bind(2, run_id).Bind(3, m.model_id).Bind(4, m.step);
      RETURN_IF_ERROR(ins->Run());
    }
    return OkStatus();
  });
}

// ---- Metric history -------------------------------------------------------------------------

namespace {

// Every stored point of (run, key) in write order (compacted blocks, then the recent area),
// duplicates included; none for an unknown run. Errors: kInternal for a corrupt block.
Status LoadMetricPoints(Database& db, const std::string& run_id, const std::string& key,
                        std::vector<MetricPoint>* points) {
  ASSIGN_OR_RETURN(Statement * run, db.Cached("SELECT run_key FROM runs WHERE run_uuid = ?1"));
  run->Bind(1, run_id);
  ASSIGN_OR_RETURN(bool found, run->Step());
  if (!found) return OkStatus();
  const int64_t run_key = run->Int64(0);
  run->Reset();
  auto corrupt = [&](const Status& st) {
    return Status(st.code(), "metric '" + key + "' of run " + run_id + ": " + st.message());
  };
  ASSIGN_OR_RETURN(Statement * blocks,
                   db.Cached("SELECT points FROM metric_blocks WHERE run_key = ?1 AND key = ?2 "
                             "ORDER BY block"));
  blocks->Bind(1, run_key).BindNoCopy(2, key);
  while (true) {
    ASSIGN_OR_RETURN(bool more, blocks->Step());
    if (!more) break;
    Status decoded = DecodeMetricBlock(blocks->Blob(0), points);
    if (!decoded.ok()) return corrupt(decoded);
  }
  ASSIGN_OR_RETURN(Statement * recent, db.Cached("SELECT body FROM metric_batches WHERE "
                                                 "run_key = ?1 ORDER BY seq"));
  recent->Bind(1, run_key);
  while (true) {
    ASSIGN_OR_RETURN(bool more, recent->Step());
    if (!more) break;
    Status decoded = ForEachKeySection(
        recent->Blob(0), [&](std::string_view section_key, std::string_view block) -> Status {
          return section_key == key ? DecodeMetricBlock(block, points) : OkStatus();
        });
    if (!decoded.ok()) return corrupt(decoded);
  }
  return OkStatus();
}

Metric ToMetric(const std::string& key, MetricPoint& p) {
  Metric m;
  m.key = key;
  m.value = StoredMetricValue(p.value, p.is_nan);
  m.timestamp = p.timestamp;
  m.step = p.step;
  if (p.extras) {
    m.model_id = std::move(p.extras->model_id);
    m.dataset_name = std::move(p.extras->dataset_name);
    m.dataset_digest = std::move(p.extras->dataset_digest);
  }
  return m;
}

}  // namespace

StatusOr<MetricHistoryResult> SqliteTrackingStore::GetMetricHistory(
    const MetricHistoryRequest& request) {
  ASSIGN_OR_RETURN(int64_t offset, search_adapter::DecodePageToken(request.page_token));
  if (request.max_results && *request.max_results < 1) {
    return ValidateMaxResults(*request.max_results, std::numeric_limits<int>::max());
  }
  MetricHistoryResult result;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    std::vector<MetricPoint> points;
    RETURN_IF_ERROR(LoadMetricPoints(db, request.run_id, request.metric_key, &points));
    DedupAndSortPoints(&points);
    // One page: `offset` points skipped, one more than max_results kept to detect a next page.
    const size_t begin = std::min<size_t>(static_cast<size_t>(std::max<int64_t>(offset, 0)), points.size());
    size_t end = points.size();
    if (request.max_results) {
      end = std::min(end, begin + static_cast<size_t>(*request.max_results) + 1);
    }
    result.metrics.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) {
      result.metrics.push_back(ToMetric(request.metric_key, points[i]));
    }
    if (request.max_results && static_cast<int>(result.metrics.size()) > *request.max_results) {
      result.metrics.resize(*request.max_results);
      result.next_page_token = search_adapter::EncodePageToken(offset + *request.max_results);
    }
    return OkStatus();
  }));
  return result;
}

StatusOr<std::vector<Metric>> SqliteTrackingStore::GetMetricHistoryBulkInterval(
    const MetricHistoryBulkIntervalRequest& request) {
  constexpr int kMaxRuns = 100, kMaxResultsPerRun = 2500, kMaxRows = 25000;
  if (request.run_ids.empty()) return InvalidArgument(MissingValueMessage("run_ids"));
  if (request.run_ids.size() > kMaxRuns) {
    return InvalidArgument("GetMetricHistoryBulkInterval request must specify at most " +
                           std::to_string(kMaxRuns) + " run_ids. Received " +
                           std::to_string(request.run_ids.size()) + " run_ids.");
  }
  const int max_results = request.max_results.value_or(kMaxResultsPerRun);
  if (max_results < 1 || max_results > kMaxResultsPerRun) {
    return InvalidArgument("max_results must be between 1 and " +
                           std::to_string(kMaxResultsPerRun) + ".");
  }
  if (request.start_step.has_value() != request.end_step.has_value()) {
    return InvalidArgument(
        "If either start step or end step are specified, both must be specified.");
  }
  if (request.start_step && *request.start_step > *request.end_step) {
    return InvalidArgument("end_step must be greater than start_step. Found start_step=" +
                           std::to_string(*request.start_step) +
                           " and end_step=" + std::to_string(*request.end_step) + ".");
  }
  std::vector<Metric> out;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    // The steps each run logged, to sample over the steps that exist. Each run's points are
    // read once and kept for the sampling below.
    std::set<int64_t> all_steps, mins_and_maxes;
    std::vector<std::vector<MetricPoint>> run_points(request.run_ids.size());
    for (size_t r = 0; r < request.run_ids.size(); ++r) {
      std::vector<MetricPoint>& points = run_points[r];
      RETURN_IF_ERROR(LoadMetricPoints(db, request.run_ids[r], request.metric_key, &points));
      std::optional<int64_t> first, last;
      for (const MetricPoint& p : points) {
        if (!first || p.step < *first) first = p.step;
        if (!last || p.step > *last) last = p.step;
        all_steps.insert(p.step);
      }
      if (first) {
        mins_and_maxes.insert(*first);
        mins_and_maxes.insert(*last);
      }
    }
    const std::vector<int64_t> steps(all_steps.begin(), all_steps.end());
    int64_t start = 0, end = steps.empty() ? 0 : steps.back();
    if (request.start_step) {
      start = *request.start_step;
      end = *request.end_step;
    }
    std::set<int64_t> sampled;
    for (int64_t s : mins_and_maxes) {
      if (s >= start && s <= end) sampled.insert(s);
    }
    const size_t lo = std::lower_bound(steps.begin(), steps.end(), start) - steps.begin();
    const size_t hi = std::upper_bound(steps.begin(), steps.end(), end) - steps.begin();
    if (hi > lo) {
      const size_t n = hi - lo;
      if (n <= static_cast<size_t>(max_results)) {
        for (size_t i = lo; i < hi; ++i) sampled.insert(steps[i]);
      } else {
        const double interval = static_cast<double>(n) / max_results;
        for (int i = 0; i < max_results; ++i) {
          size_t idx = lo + static_cast<size_t>(i * interval);
          if (idx < hi) sampled.insert(steps[idx]);
        }
        sampled.insert(steps[hi - 1]);
      }
    }
    if (sampled.empty()) return OkStatus();
    for (size_t r = 0; r < request.run_ids.size(); ++r) {
      const std::string& run_id = request.run_ids[r];
      std::vector<MetricPoint>& points = run_points[r];
      std::erase_if(points, [&](const MetricPoint& p) { return !sampled.count(p.step); });
      DedupAndSortPoints(&points, /*by_step=*/true);
      if (points.size() > static_cast<size_t>(kMaxRows)) points.resize(kMaxRows);
      for (MetricPoint& p : points) {
        Metric m = ToMetric(request.metric_key, p);
        m.model_id.reset();
        m.dataset_name.reset();
        m.dataset_digest.reset();
        m.run_id = run_id;
        out.push_back(std::move(m));
      }
    }
    return OkStatus();
  }));
  return out;
}

// ---- Logged models --------------------------------------------------------------------------

StatusOr<LoggedModel> SqliteTrackingStore::CreateLoggedModel(CreateLoggedModelRequest request) {
  if (request.name) RETURN_IF_ERROR(ValidateLoggedModelName(*request.name));
  const std::string name = request.name.value_or(GenerateRunName());
  const std::string model_id = "m-" + NewUuidHex();
  const int64_t now = Now();
  RETURN_IF_ERROR(pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Experiment e, LoadExperiment(db, request.experiment_id));
    RETURN_IF_ERROR(CheckExperimentActive(e));
    const int64_t eid = *ParseInt64(e.experiment_id);
    const std::string location =
        JoinUri(JoinUri(JoinUri(e.artifact_location, "models"), model_id), "artifacts");
    ASSIGN_OR_RETURN(Statement * ins,
                     db.Cached("INSERT INTO logged_models (model_id, experiment_id, name, "
                               "artifact_location, creation_timestamp_ms, "
                               "last_updated_timestamp_ms, status, lifecycle_stage, model_type, "
                               "source_run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, 'active', ?7, "
                               "?8)"));
    ins->Bind(1, model_id).Bind(2, eid).Bind(3, name).Bind(4, location).Bind(5, now);
    ins->Bind(6, kLoggedModelPending).Bind(7, request.model_type).Bind(8, request.source_run_id);
    RETURN_IF_ERROR(ins->Run());
    for (const Param& p : request.params) {
      ASSIGN_OR_RETURN(Statement * st,
                       db.Cached("INSERT INTO logged_model_params (model_id, experiment_id, "
                                 "param_key, param_value) VALUES (?1, ?2, ?3, ?4) ON CONFLICT "
                                 "(model_id, param_key) DO UPDATE SET param_value = "
                                 "excluded.param_value"));
      st->Bind(1, model_id).Bind(2, eid).Bind(3, p.key).Bind(4, p.value);
      RETURN_IF_ERROR(st->Run());
    }
    for (const Tag& t : request.tags) {
      ASSIGN_OR_RETURN(Statement * st,
                       db.Cached("INSERT INTO logged_model_tags (model_id, experiment_id, "
                                 "tag_key, tag_value) VALUES (?1, ?2, ?3, ?4) ON CONFLICT "
                                 "(model_id, tag_key) DO UPDATE SET tag_value = "
                                 "excluded.tag_value"));
      st->Bind(1, model_id).Bind(2, eid).Bind(3, t.key).Bind(4, t.value);
      RETURN_IF_ERROR(st->Run());
    }
    return OkStatus();
  }));
  return GetLoggedModel(model_id);
}

StatusOr<LoggedModel> SqliteTrackingStore::GetLoggedModel(const std::string& model_id) {
  std::optional<LoggedModel> out;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(out, LoadLoggedModel(db, model_id));
    return OkStatus();
  }));
  return std::move(*out);
}

StatusOr<LoggedModel> SqliteTrackingStore::FinalizeLoggedModel(const std::string& model_id,
                                                               const std::string& status) {
  if (status != kLoggedModelReady && status != kLoggedModelUploadFailed &&
      status != kLoggedModelPending) {
    return InvalidArgument(InvalidValueMessage("status", JsonQuote(status)));
  }
  const int64_t now = Now();
  RETURN_IF_ERROR(pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(LoadLoggedModel(db, model_id, /*include_deleted=*/true).status());
    ASSIGN_OR_RETURN(Statement * up, db.Cached("UPDATE logged_models SET status = ?2, "
                                               "last_updated_timestamp_ms = ?3 WHERE "
                                               "model_id = ?1"));
    up->Bind(1, model_id).Bind(2, status).Bind(3, now);
    return up->Run();
  }));
  return GetLoggedModel(model_id);
}

Status SqliteTrackingStore::DeleteLoggedModel(const std::string& model_id) {
  const int64_t now = Now();
  return pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(LoadLoggedModel(db, model_id, /*include_deleted=*/true).status());
    ASSIGN_OR_RETURN(Statement * up, db.Cached("UPDATE logged_models SET lifecycle_stage = "
                                               "'deleted', last_updated_timestamp_ms = ?2 WHERE "
                                               "model_id = ?1"));
    up->Bind(1, model_id).Bind(2, now);
    return up->Run();
  });
}

Status SqliteTrackingStore::SetLoggedModelTags(const std::string& model_id,
                                               std::vector<Tag> tags) {
  return pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(LoggedModel m, LoadLoggedModel(db, model_id, /*include_deleted=*/true));
    for (const Tag& t : tags) {
      ASSIGN_OR_RETURN(Statement * st,
                       db.Cached("INSERT INTO logged_model_tags (model_id, experiment_id, "
                                 "tag_key, tag_value) VALUES (?1, ?2, ?3, ?4) ON CONFLICT "
                                 "(model_id, tag_key) DO UPDATE SET tag_value = "
                                 "excluded.tag_value"));
      st->Bind(1, model_id).Bind(2, *ParseInt64(m.experiment_id)).Bind(3, t.key).Bind(4, t.value);
      RETURN_IF_ERROR(st->Run());
    }
    return OkStatus();
  });
}

Status SqliteTrackingStore::DeleteLoggedModelTag(const std::string& model_id,
                                                 const std::string& key) {
  return pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(LoadLoggedModel(db, model_id, /*include_deleted=*/true).status());
    ASSIGN_OR_RETURN(Statement * st, db.Cached("DELETE FROM logged_model_tags WHERE model_id = "
                                               "?1 AND tag_key = ?2"));
    st->Bind(1, model_id).Bind(2, key);
    RETURN_IF_ERROR(st->Run());
    if (db.Changes() == 0) {
      return NotFound("No tag with key '" + key + "' found for model with ID '" + model_id +
                      "'.");
    }
    return OkStatus();
  });
}

Status SqliteTrackingStore::LogLoggedModelParams(const std::string& model_id,
                                                 std::vector<Param> params) {
  return pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(LoggedModel m, LoadLoggedModel(db, model_id, /*include_deleted=*/true));
    for (const Param& p : params) {
      ASSIGN_OR_RETURN(Statement * st,
                       db.Cached("INSERT INTO logged_model_params (model_id, experiment_id, "
                                 "param_key, param_value) VALUES (?1, ?2, ?3, ?4) ON CONFLICT "
                                 "(model_id, param_key) DO UPDATE SET param_value = "
                                 "excluded.param_value"));
      st->Bind(1, model_id).Bind(2, *ParseInt64(m.experiment_id)).Bind(3, p.key);
      st->Bind(4, p.value);
      RETURN_IF_ERROR(st->Run());
    }
    return OkStatus();
  });
}

StatusOr<SearchLoggedModelsResult> SqliteTrackingStore::SearchLoggedModels(
    const SearchLoggedModelsRequest& request) {
  for (const auto& d : request.datasets) {
    if (d.dataset_name.empty()) {
      return InvalidArgument("`dataset_name` in the `datasets` clause must be specified.");
    }
  }
  const int max_results = request.max_results > 0 ? request.max_results : 50;
  ASSIGN_OR_RETURN(search_adapter::Query q,
                   search_adapter::CompileLoggedModels(request.filter, request.order_by,
                                                       request.datasets));
  ASSIGN_OR_RETURN(int64_t offset, search_adapter::DecodeLoggedModelPageToken(request));
  std::vector<int64_t> experiment_ids;
  for (const std::string& e : request.experiment_ids) {
    if (auto id = ParseInt64(e)) experiment_ids.push_back(*id);
  }
  SearchLoggedModelsResult result;
  if (experiment_ids.empty()) return result;
  std::string sql = "SELECT lm.model_id FROM logged_models lm" + q.joins + " WHERE (" + q.where +
                    ") AND lm.experiment_id IN (" + Placeholders(experiment_ids.size()) +
                    ") AND lm.lifecycle_stage != 'deleted' ORDER BY " + q.order_by +
                    " LIMIT ? OFFSET ?";
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement st, db.Prepare(sql));
    int index = 1;
    BindValues(st, index, q.join_binds);
    BindValues(st, index, q.where_binds);
    for (int64_t id : experiment_ids) st.Bind(index++, id);
    st.Bind(index++, static_cast<int64_t>(max_results) + 1);
    st.Bind(index++, offset);
    std::vector<std::string> ids;
    while (true) {
      ASSIGN_OR_RETURN(bool more, st.Step());
      if (!more) break;
      ids.push_back(st.Text(0));
    }
    if (static_cast<int>(ids.size()) > max_results) {
      ids.resize(max_results);
      result.next_page_token =
          search_adapter::EncodeLoggedModelPageToken(request, offset + max_results);
    }
    for (const std::string& id : ids) {
      ASSIGN_OR_RETURN(LoggedModel m, LoadLoggedModel(db, id));
      result.models.push_back(std::move(m));
    }
    return OkStatus();
  }));
  return result;
}

}  // namespace cairn::tracking
