#include "serving/inference_log.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>
#include <ostream>
#include <stdexcept>
#include <utility>

namespace cairn::serving {
namespace {

using store::Database;
using store::Statement;

// The inference log only ever appends; `id` (the rowid) breaks ties between records of the
// same millisecond and makes keyset paging stable while writes continue.
constexpr const char* kSchemaSql = R"sql(
CREATE TABLE inference_log (
  id INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  deployment TEXT NOT NULL,
  variant TEXT NOT NULL,
  model_version TEXT NOT NULL,
  entity_key TEXT NOT NULL DEFAULT '',
  input_json TEXT NOT NULL,
  output_json TEXT NOT NULL,
  latency_us INTEGER NOT NULL
);
CREATE INDEX inference_log_by_time ON inference_log (deployment, time_ms, id);
-- key_kind: 0 = request id, 1 = entity key. The primary key serves the join's probes.
CREATE TABLE inference_outcomes (
  deployment TEXT NOT NULL,
  key_kind INTEGER NOT NULL,
  key TEXT NOT NULL,
  value_json TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  PRIMARY KEY (deployment, key_kind, key)
) WITHOUT ROWID;
)sql";

constexpr const char* kInsertSql =
    "INSERT INTO inference_log (request_id, time_ms, deployment, variant, model_version, "
    "entity_key, input_json, output_json, latency_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
    "?9)";

constexpr const char* kLogColumns =
    "l.id, l.request_id, l.time_ms, l.deployment, l.variant, l.model_version, l.entity_key, "
    "l.input_json, l.output_json, l.latency_us";

// Rows strictly after the page token's (time_ms, id), within [from_ms, to_ms).
constexpr const char* kRangeWhere =
    " WHERE l.deployment = ?1 AND l.time_ms >= ?2 AND l.time_ms < ?3"
    " AND (l.time_ms > ?4 OR (l.time_ms = ?4 AND l.id > ?5))"
    " ORDER BY l.time_ms, l.id LIMIT ?6";

constexpr size_t kMaxPageSize = 10'000;
constexpr size_t kExportPageSize = 1000;

struct Cursor {
  int64_t time_ms;
  int64_t id;
};

StatusOr<Cursor> ParseCursor(const InferenceQuery& q) {
  if (q.deployment.empty()) return InvalidArgument("deployment must not be empty");
  if (q.from_ms > q.to_ms) {
    return InvalidArgument("from_ms (" + std::to_string(q.from_ms) + ") is after to_ms (" +
                           std::to_string(q.to_ms) + ")");
  }
  if (q.page_size < 1 || q.page_size > kMaxPageSize) {
    return InvalidArgument("page_size must be in 1.." + std::to_string(kMaxPageSize) + ", got " +
                           std::to_string(q.page_size));
  }
  if (q.page_token.empty()) return Cursor{q.from_ms, -1};
  // Token: "<time_ms>:<id>" of the last row of the previous page.
  size_t colon = q.page_token.find(':');
  Cursor c{};
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no colon");
    size_t used = 0;
    c.time_ms = std::stoll(q.page_token.substr(0, colon), &used);
    if (used != colon) throw std::invalid_argument("trailing");
    std::string id_text = q.page_token.substr(colon + 1);
    c.id = std::stoll(id_text, &used);
    if (used != id_text.size() || id_text.empty()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    return InvalidArgument("invalid page_token '" + q.page_token + "'");
  }
  return c;
}

InferenceRecord ReadRecord(const Statement& st) {
  InferenceRecord r;
  r.request_id = st.Text(1);
  r.time_ms = st.Int64(2);
  r.deployment = st.Text(3);
  r.variant = st.Text(4);
  r.model_version = st.Text(5);
  r.entity_key = st.Text(6);
  r.input_json = st.Text(7);
  r.output_json = st.Text(8);
  r.latency_us = st.Int64(9);
  return r;
}

void BindRange(Statement& st, const InferenceQuery& q, const Cursor& c) {
  st.Bind(1, q.deployment)
      .Bind(2, q.from_ms)
      .Bind(3, q.to_ms)
      .Bind(4, c.time_ms)
      .Bind(5, c.id)
      .Bind(6, static_cast<int64_t>(q.page_size) + 1);
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

nlohmann::ordered_json EmbeddedJson(const std::string& text) {
  nlohmann::ordered_json v =
      nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) return text;
  return v;
}

Status CheckOptions(const InferenceLogOptions& o) {
  if (o.queue_capacity == 0) return InvalidArgument("queue_capacity must be positive");
  if (o.max_batch == 0) return InvalidArgument("max_batch must be positive");
  if (o.flush_interval_ms < 0) return InvalidArgument("flush_interval_ms must not be negative");
  return OkStatus();
}

}  // namespace

const std::vector<store::Migration>& InferenceLog::Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {kMigrationVersion, "serving inference log: inference_log, inference_outcomes", kSchemaSql},
  };
  return kMigrations;
}

StatusOr<std::unique_ptr<InferenceLog>> InferenceLog::Open(const std::string& path,
                                                           const Clock& clock,
                                                           const InferenceLogOptions& options) {
  RETURN_IF_ERROR(CheckOptions(options));
  ASSIGN_OR_RETURN(auto pool, store::ConnectionPool::Open(path, Migrations()));
  std::unique_ptr<InferenceLog> log(new InferenceLog(pool.get(), clock, options));
  log->owned_pool_ = std::move(pool);
  return log;
}

StatusOr<std::unique_ptr<InferenceLog>> InferenceLog::Attach(store::ConnectionPool& pool,
                                                             const Clock& clock,
                                                             const InferenceLogOptions& options) {
  RETURN_IF_ERROR(CheckOptions(options));
  bool present = false;
  RETURN_IF_ERROR(pool.Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement st,
                     db.Prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
                                "name IN ('inference_log', 'inference_outcomes')"));
    ASSIGN_OR_RETURN(bool row, st.Step());
    present = row && st.Int64(0) == 2;
    return OkStatus();
  }));
  if (!present) {
    return FailedPrecondition("database '" + pool.path() +
                              "' has no inference log tables (migration " +
                              std::to_string(kMigrationVersion) + " not applied)");
  }
  return std::unique_ptr<InferenceLog>(new InferenceLog(&pool, clock, options));
}

InferenceLog::InferenceLog(store::ConnectionPool* pool, const Clock& clock,
                           InferenceLogOptions options)
    : pool_(pool), clock_(clock), options_(options) {
  writer_ = std::thread([this] { RunWriter(); });
}

InferenceLog::~InferenceLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  writer_.join();
}

bool InferenceLog::Log(InferenceRecord record) {
  if (record.time_ms <= 0) record.time_ms = clock_.NowMillis();
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() >= options_.queue_capacity) {
      ++counters_.dropped;
      return false;
    }
    queue_.push_back(std::move(record));
    ++accepted_seq_;
    ++counters_.enqueued;
    wake = queue_.size() == options_.max_batch;
  }
  if (wake) work_cv_.notify_one();
  return true;
}

Status InferenceLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t target = accepted_seq_;
  flush_target_ = std::max(flush_target_, target);
  work_cv_.notify_one();
  done_cv_.wait(lock, [&] { return processed_seq_ >= target; });
  Status st = std::move(first_error_);
  first_error_ = OkStatus();
  return st;
}

InferenceLogCounters InferenceLog::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  InferenceLogCounters c = counters_;
  c.queued = queue_.size();
  return c;
}

std::string InferenceLog::RenderPrometheus() const {
  InferenceLogCounters c = counters();
  std::string out;
  auto metric = [&out](const char* name, const char* type, const char* help, uint64_t value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + std::to_string(value) + "\n";
  };
  metric("cairn_inference_log_enqueued_records_total", "counter",
         "Inference records accepted into the log queue.", c.enqueued);
  metric("cairn_inference_log_dropped_records_total", "counter",
         "Inference records dropped because the log queue was full.", c.dropped);
  metric("cairn_inference_log_written_records_total", "counter",
         "Inference records committed to the database.", c.written);
  metric("cairn_inference_log_write_errors_records_total", "counter",
         "Inference records lost because their batch failed to commit.", c.write_errors);
  metric("cairn_inference_log_batches_total", "counter",
         "Write transactions committed by the inference log.", c.batches);
  metric("cairn_inference_log_queued_records", "gauge",
         "Inference records waiting in the log queue.", c.queued);
  return out;
}

void InferenceLog::RunWriter() {
  std::unique_lock<std::mutex> lock(mu_);
  auto ready = [this] {
    return stopping_ || queue_.size() >= options_.max_batch ||
           (flush_target_ > processed_seq_ && !queue_.empty());
  };
  while (true) {
    if (options_.flush_interval_ms > 0) {
      work_cv_.wait_for(lock, std::chrono::milliseconds(options_.flush_interval_ms), ready);
    } else {
      work_cv_.wait(lock, ready);
    }
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    size_t n = std::min(queue_.size(), options_.max_batch);
    std::vector<InferenceRecord> batch(std::make_move_iterator(queue_.begin()),
                                       std::make_move_iterator(queue_.begin() + n));
    queue_.erase(queue_.begin(), queue_.begin() + n);
    lock.unlock();
    Status st = WriteBatch(batch);
    lock.lock();
    processed_seq_ += n;
    if (st.ok()) {
      counters_.written += n;
      ++counters_.batches;
    } else {
      counters_.write_errors += n;
      if (first_error_.ok()) first_error_ = std::move(st);
    }
    done_cv_.notify_all();
  }
}

Status InferenceLog::WriteBatch(const std::vector<InferenceRecord>& batch) {
  return pool_->Write([&batch](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement * st, db.Cached(kInsertSql));
    for (const InferenceRecord& r : batch) {
      st->Reset();
      st->Bind(1, r.request_id)
          .Bind(2, r.time_ms)
          .Bind(3, r.deployment)
          .Bind(4, r.variant)
          .Bind(5, r.model_version)
          .Bind(6, r.entity_key)
          .Bind(7, r.input_json)
          .Bind(8, r.output_json)
          .Bind(9, r.latency_us);
      RETURN_IF_ERROR(st->Run());
    }
    st->Reset();
    return OkStatus();
  });
}

StatusOr<InferencePage> InferenceLog::Query(const InferenceQuery& query) const {
  ASSIGN_OR_RETURN(Cursor cursor, ParseCursor(query));
  InferencePage page;
  int64_t last_id = 0;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement st, db.Prepare(std::string("SELECT ") + kLogColumns +
                                              " FROM inference_log l" + kRangeWhere));
    BindRange(st, query, cursor);
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      if (page.records.size() == query.page_size) {
        page.next_page_token =
            std::to_string(page.records.back().time_ms) + ":" + std::to_string(last_id);
        break;
      }
      last_id = st.Int64(0);
      page.records.push_back(ReadRecord(st));
    }
    return OkStatus();
  }));
  return page;
}

StatusOr<OutcomePage> InferenceLog::JoinOutcomes(const InferenceQuery& query) const {
  ASSIGN_OR_RETURN(Cursor cursor, ParseCursor(query));
  OutcomePage page;
  int64_t last_id = 0;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(
        Statement st,
        db.Prepare(std::string("SELECT ") + kLogColumns +
                   ", o.value_json, o.time_ms FROM inference_log l JOIN inference_outcomes o"
                   " ON o.deployment = l.deployment AND ((o.key_kind = 0 AND o.key = "
                   "l.request_id) OR (o.key_kind = 1 AND l.entity_key <> '' AND o.key = "
                   "l.entity_key))" +
                   kRangeWhere));
    BindRange(st, query, cursor);
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      // The cursor is the request, so a request joined to two outcomes (by id and by entity)
      // keeps both rows on one page, which may then exceed page_size by one.
      if (page.rows.size() >= query.page_size && st.Int64(0) != last_id) {
        page.next_page_token =
            std::to_string(page.rows.back().request.time_ms) + ":" + std::to_string(last_id);
        break;
      }
      last_id = st.Int64(0);
      OutcomeRow r;
      r.request = ReadRecord(st);
      r.outcome_json = st.Text(10);
      r.outcome_time_ms = st.Int64(11);
      page.rows.push_back(std::move(r));
    }
    return OkStatus();
  }));
  return page;
}

Status InferenceLog::RecordOutcome(const std::string& deployment, OutcomeKey key_kind,
                                   const std::string& key, const std::string& value_json) {
  if (deployment.empty()) return InvalidArgument("deployment must not be empty");
  if (key.empty()) {
    return InvalidArgument(key_kind == OutcomeKey::kRequestId ? "request_id must not be empty"
                                                              : "entity_key must not be empty");
  }
  if (!nlohmann::json::accept(value_json)) {
    return InvalidArgument("outcome value is not JSON: '" + value_json.substr(0, 100) + "'");
  }
  int64_t now = clock_.NowMillis();
  return pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement * st,
                     db.Cached("INSERT OR REPLACE INTO inference_outcomes (deployment, "
                               "key_kind, key, value_json, time_ms) VALUES (?1, ?2, ?3, ?4, ?5)"));
    st->Bind(1, deployment)
        .Bind(2, key_kind == OutcomeKey::kRequestId ? 0 : 1)
        .Bind(3, key)
        .Bind(4, value_json)
        .Bind(5, now);
    Status result = st->Run();
    st->Reset();
    return result;
  });
}

Status InferenceLog::ExportCsv(const InferenceQuery& query, std::ostream& out) const {
  InferenceQuery q = query;
  q.page_size = kExportPageSize;
  q.page_token.clear();
  out << "request_id,time_ms,deployment,variant,model_version,entity_key,input,output,"
         "latency_us\r\n";
  do {
    ASSIGN_OR_RETURN(InferencePage page, Query(q));
    for (const InferenceRecord& r : page.records) {
      out << CsvField(r.request_id) << ',' << r.time_ms << ',' << CsvField(r.deployment) << ','
          << CsvField(r.variant) << ',' << CsvField(r.model_version) << ','
          << CsvField(r.entity_key) << ',' << CsvField(r.input_json) << ','
          << CsvField(r.output_json) << ',' << r.latency_us << "\r\n";
    }
    q.page_token = page.next_page_token;
  } while (!q.page_token.empty());
  if (!out) return Internal("writing the CSV export failed");
  return OkStatus();
}

Status InferenceLog::ExportJsonLines(const InferenceQuery& query, std::ostream& out) const {
  InferenceQuery q = query;
  q.page_size = kExportPageSize;
  q.page_token.clear();
  do {
    ASSIGN_OR_RETURN(InferencePage page, Query(q));
    for (const InferenceRecord& r : page.records) {
      nlohmann::ordered_json j;
      j["request_id"] = r.request_id;
      j["time_ms"] = r.time_ms;
      j["deployment"] = r.deployment;
      j["variant"] = r.variant;
      j["model_version"] = r.model_version;
      j["entity_key"] = r.entity_key;
      j["input"] = EmbeddedJson(r.input_json);
      j["output"] = EmbeddedJson(r.output_json);
      j["latency_us"] = r.latency_us;
      out << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
    }
    q.page_token = page.next_page_token;
  } while (!q.page_token.empty());
  if (!out) return Internal("writing the JSON lines export failed");
  return OkStatus();
}

}  // namespace cairn::serving
