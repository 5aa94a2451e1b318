// The inference log: one record per scored request (id, time, deployment, variant, model
// version, input row, output, latency), kept in SQLite for monitoring, export and joining
// with observed outcomes.
//
// Logging never blocks serving: Log() puts the record on a bounded in-memory queue and
// returns at once; when the queue is full the record is dropped and counted. One background
// thread drains the queue in batches (up to max_batch records, written in one transaction
// through store::ConnectionPool) whenever max_batch records are waiting, every
// flush_interval_ms, on Flush(), and on destruction (which writes everything still queued).
//
// Durability bound: a record is durable once the batch holding it is committed. On kill -9
// (or power loss) what is lost is at most the records accepted but not yet committed: the
// queue contents plus the one batch being written, i.e. at most queue_capacity + max_batch
// records, and in steady state about flush_interval_ms worth of traffic. Committed batches
// survive (WAL, synchronous=NORMAL: durable across a process crash; an OS crash may lose
// the last commits).
//
// Schema: migration kMigrationVersion ("serving inference log") creates inference_log and
// inference_outcomes. The version continues the one global sequence (tracking 1, registry 2);
// a database shared with other modules must be opened with Migrations() merged into theirs
// (store::MergeMigrations).
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "store/connection_pool.h"
#include "store/migrations.h"

namespace cairn::serving {

struct InferenceRecord {
  std::string request_id;
  int64_t time_ms = 0;  // <= 0: stamped by the log's clock in Log()
  std::string deployment;
  std::string variant;
  std::string model_version;
  std::string entity_key;   // the routing / entity key, "" when none; outcomes may join on it
  std::string input_json;   // the input row as JSON text
  std::string output_json;  // the prediction as JSON text
  int64_t latency_us = 0;
};

struct InferenceLogOptions {
  size_t queue_capacity = 100'000;  // records waiting; beyond it Log() drops
  size_t max_batch = 1000;          // records per write transaction
  // Write whatever is queued at least this often; 0 = only when max_batch records wait, on
  // Flush() and on destruction (deterministic batching, for tests).
  int flush_interval_ms = 50;
};

struct InferenceLogCounters {
  uint64_t enqueued = 0;      // accepted by Log()
  uint64_t dropped = 0;       // refused by Log() because the queue was full
  uint64_t written = 0;       // committed to the database
  uint64_t batches = 0;       // committed write transactions
  uint64_t write_errors = 0;  // records lost because their batch failed to commit
  uint64_t queued = 0;        // waiting in the queue now
};

// A time range and paging for queries: records of `deployment` with from_ms <= time_ms <
// to_ms, in (time_ms, insertion) order.
struct InferenceQuery {
  std::string deployment;
  int64_t from_ms = 0;
  int64_t to_ms = INT64_MAX;
  size_t page_size = 1000;  // 1..10000
  std::string page_token;   // "" for the first page; next_page_token of the previous one
};

struct InferencePage {
  std::vector<InferenceRecord> records;
  std::string next_page_token;  // "" when this was the last page
};

enum class OutcomeKey { kRequestId, kEntityKey };

// A logged request joined with its observed outcome.
struct OutcomeRow {
  InferenceRecord request;
  std::string outcome_json;  // the observed label or value, JSON text
  int64_t outcome_time_ms = 0;
};

struct OutcomePage {
  std::vector<OutcomeRow> rows;
  std::string next_page_token;
};

class InferenceLog {
 public:
  static constexpr int kMigrationVersion = 3;
  // This module's migrations (one list entry, version kMigrationVersion).
  static const std::vector<store::Migration>& Migrations();

  // Opens (creating) the SQLite database at `path` with its own pool and Migrations(), and
  // starts the writer thread. `clock` must outlive the log.
  // Errors: those of store::ConnectionPool::Open; InvalidArgument for queue_capacity or
  // max_batch of 0 or a negative flush_interval_ms.
  static StatusOr<std::unique_ptr<InferenceLog>> Open(const std::string& path, const Clock& clock,
                                                      const InferenceLogOptions& options = {});
  // Uses an existing pool (not owned; it must outlive the log) whose migrations include
  // Migrations(). Errors: InvalidArgument for bad options; FailedPrecondition when the
  // pool's database lacks the inference_log tables.
  static StatusOr<std::unique_ptr<InferenceLog>> Attach(store::ConnectionPool& pool,
                                                        const Clock& clock,
                                                        const InferenceLogOptions& options = {});

  // Writes everything still queued, then stops the writer thread.
  ~InferenceLog();
  InferenceLog(const InferenceLog&) = delete;
  InferenceLog& operator=(const InferenceLog&) = delete;

  // Queues `record`; never blocks on I/O. Returns false (and counts a drop) when the queue is
  // full or the log is shutting down.
  bool Log(InferenceRecord record);

  // Blocks until every record accepted before the call has been written (or its batch has
  // failed; see counters().write_errors). Returns the first write error seen since the
  // previous Flush(), or OK.
  Status Flush();

  InferenceLogCounters counters() const;

  // The counters in the Prometheus text format, for /metrics: cairn_inference_log_
  // {enqueued,dropped,written,write_errors}_records_total and _batches_total (counters),
  // cairn_inference_log_queued_records (gauge), each with HELP and TYPE lines.
  std::string RenderPrometheus() const;

  // Records written so far (call Flush() first to include the queue). Errors:
  // InvalidArgument for an empty deployment, from_ms > to_ms, a page_size outside 1..10000
  // or a malformed page token; Unavailable/Internal from the database.
  StatusOr<InferencePage> Query(const InferenceQuery& query) const;

  // Every record matching `query` (ignoring page_size/page_token) as CSV with a header row
  // (request_id,time_ms,deployment,variant,model_version,entity_key,input,output,latency_us;
  // RFC 4180 quoting) or as JSON lines (one object per record; input and output embedded as
  // JSON values when they parse, as strings otherwise). Errors: those of Query; Internal
  // when the stream fails.
  Status ExportCsv(const InferenceQuery& query, std::ostream& out) const;
  Status ExportJsonLines(const InferenceQuery& query, std::ostream& out) const;

  // Stores the observed outcome for a request id or an entity key of `deployment`
  // (synchronously; a later call for the same key replaces the value). `value_json` is JSON
  // text (1, 0.25, "fraud", true). The request need not be logged yet.
  // Errors: InvalidArgument for an empty deployment or key or a value that is not JSON.
  Status RecordOutcome(const std::string& deployment, OutcomeKey key_kind, const std::string& key,
                       const std::string& value_json);

  // Logged requests of `query` that have an outcome (by request id, or by entity key when
  // the request has one), with the outcome, in (time_ms, insertion) order: one row per
  // (request, matching outcome), so a request with both kinds of outcome gives two rows, kept
  // on one page (which may then hold page_size + 1 rows). Errors: those of Query.
  StatusOr<OutcomePage> JoinOutcomes(const InferenceQuery& query) const;

 private:
  InferenceLog(store::ConnectionPool* pool, const Clock& clock, InferenceLogOptions options);
  void RunWriter();
  Status WriteBatch(const std::vector<InferenceRecord>& batch);

  std::unique_ptr<store::ConnectionPool> owned_pool_;
  store::ConnectionPool* pool_;
  const Clock& clock_;
  const InferenceLogOptions options_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;    // the writer waits for work
  std::condition_variable done_cv_;    // Flush() waits for progress
  std::deque<InferenceRecord> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;              // GUARDED_BY(mu_)
  uint64_t flush_target_ = 0;          // GUARDED_BY(mu_): highest sequence a Flush() awaits
  uint64_t accepted_seq_ = 0;          // GUARDED_BY(mu_): records accepted so far
  uint64_t processed_seq_ = 0;         // GUARDED_BY(mu_): records written or failed
  Status first_error_;                 // GUARDED_BY(mu_)
  InferenceLogCounters counters_;      // GUARDED_BY(mu_)
  std::thread writer_;
};

}  // namespace cairn::serving
