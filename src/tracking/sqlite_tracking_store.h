// SqliteTrackingStore: the TrackingStore on one SQLite file (store::ConnectionPool), with the
// agreed schema (tracking/tracking_schema.cc) created by versioned migrations.
//
// Writes go through the pool's group commit: each request is one savepoint inside a shared
// transaction, so a request is applied whole or not at all, and concurrent log-batch requests
// cost one commit between them. Reads run on a pool of reader connections (WAL snapshots).
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "store/connection_pool.h"
#include "store/migrations.h"
#include "tracking/tracking_store.h"

namespace cairn::tracking {

struct SqliteTrackingStoreOptions {
  // Default artifact root: a new experiment without an artifact_location gets
  // "<artifact_root>/<experiment_id>" ("mlflow-artifacts:/1").
  std::string artifact_root = "mlflow-artifacts:";
  int num_readers = 4;  // Open() only
  // Not owned; must outlive the store. nullptr = the system clock.
  const Clock* clock = nullptr;
  // SearchRuns ordered first by a metric reads that metric's index in order and stops after
  // one page; this bounds that attempt (SQLite virtual-machine instructions, about 25 per run
  // scanned: the default gives up after roughly 20k runs, i.e. when fewer than about 1 run in
  // 200 passes the filters) before the planner's full query takes over. 0 = never try it,
  // -1 = no bound. Results are the same either way; only the work differs.
  int64_t metric_order_scan_budget = 500'000;
};

class SqliteTrackingStore final : public TrackingStore {
 public:
  // Opens (creating and migrating as needed) the database file at `db_path`.
  // Errors: kUnavailable when the file cannot be opened; kFailedPrecondition when the
  // database was written by a newer cairn (schema version too new).
  // The pool is this store's own, migrated with Migrations() only: for tests and tools. Do
  // not use it on a file that other modules migrate too (the shared migration sequence would
  // look "newer than this binary"); use OnPool() there.
  static StatusOr<std::unique_ptr<SqliteTrackingStore>> Open(
      const std::string& db_path, const SqliteTrackingStoreOptions& options = {});

  // Uses `pool` (not owned; must outlive the store), which must have been opened with
  // Migrations() among its migrations: the server opens one pool per database file with
  // every module's migrations (one writer, one group commit for all of them).
  static StatusOr<std::unique_ptr<SqliteTrackingStore>> OnPool(
      store::ConnectionPool& pool, const SqliteTrackingStoreOptions& options = {});

  // The tracking schema's migrations, oldest first (migration 1 creates the default
  // experiment "0").
  static const std::vector<store::Migration>& Migrations();

  StatusOr<std::string> CreateExperiment(const std::string& name,
                                         const std::string& artifact_location,
                                         std::vector<Tag> tags) override;
  StatusOr<Experiment> GetExperiment(const std::string& experiment_id) override;
  StatusOr<Experiment> GetExperimentByName(const std::string& name) override;
  StatusOr<SearchExperimentsResult> SearchExperiments(
      const SearchExperimentsRequest& request) override;
  Status RenameExperiment(const std::string& experiment_id, const std::string& new_name) override;
  Status DeleteExperiment(const std::string& experiment_id) override;
  Status RestoreExperiment(const std::string& experiment_id) override;
  Status SetExperimentTag(const std::string& experiment_id, Tag tag) override;
  Status DeleteExperimentTag(const std::string& experiment_id, const std::string& key) override;

  StatusOr<Run> CreateRun(CreateRunRequest request) override;
  StatusOr<Run> GetRun(const std::string& run_id) override;
  StatusOr<RunInfo> UpdateRun(const UpdateRunRequest& request) override;
  Status DeleteRun(const std::string& run_id) override;
  Status RestoreRun(const std::string& run_id) override;
  StatusOr<SearchRunsResult> SearchRuns(const SearchRunsRequest& request) override;

  Status LogMetric(const std::string& run_id, const Metric& metric) override;
  Status LogParam(const std::string& run_id, Param param) override;
  Status SetTag(const std::string& run_id, Tag tag) override;
  Status DeleteTag(const std::string& run_id, const std::string& key) override;
  Status LogBatch(LogBatchRequest request) override;
  Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& datasets,
                   const std::vector<ModelInput>& models) override;
  Status LogOutputs(const std::string& run_id, const std::vector<ModelOutput>& models) override;

  StatusOr<MetricHistoryResult> GetMetricHistory(const MetricHistoryRequest& request) override;
  StatusOr<std::vector<Metric>> GetMetricHistoryBulkInterval(
      const MetricHistoryBulkIntervalRequest& request) override;

  StatusOr<LoggedModel> CreateLoggedModel(CreateLoggedModelRequest request) override;
  StatusOr<LoggedModel> GetLoggedModel(const std::string& model_id) override;
  StatusOr<LoggedModel> FinalizeLoggedModel(const std::string& model_id,
                                            const std::string& status) override;
  Status DeleteLoggedModel(const std::string& model_id) override;
  Status SetLoggedModelTags(const std::string& model_id, std::vector<Tag> tags) override;
  Status DeleteLoggedModelTag(const std::string& model_id, const std::string& key) override;
  Status LogLoggedModelParams(const std::string& model_id, std::vector<Param> params) override;
  StatusOr<SearchLoggedModelsResult> SearchLoggedModels(
      const SearchLoggedModelsRequest& request) override;

 private:
  SqliteTrackingStore() = default;
  int64_t Now() const { return clock_->NowMillis(); }

  std::unique_ptr<store::ConnectionPool> owned_pool_;  // set by Open() only
  store::ConnectionPool* pool_ = nullptr;
  std::string artifact_root_;
  const Clock* clock_ = nullptr;
  int64_t metric_order_scan_budget_ = 0;
};

}  // namespace cairn::tracking
