// TrackingStore: experiments, runs, metrics, params, tags, inputs/outputs and logged models,
// with MLflow's semantics (mlflow/store/tracking/sqlalchemy_store.py, 3.6).
//
// This is the interface the HTTP routes call; SqliteTrackingStore (sqlite_tracking_store.h)
// implements it today and a PostgreSQL implementation can be added behind it.
//
// Errors (Status codes and, where the MLflow client branches on it, the MLflow code):
//   - unknown experiment/run/model/tag: kNotFound (RESOURCE_DOES_NOT_EXIST, 404);
//   - duplicate experiment name: kAlreadyExists (RESOURCE_ALREADY_EXISTS, 400);
//   - invalid input, changing a param value, writing to a deleted run or experiment:
//     kInvalidArgument (INVALID_PARAMETER_VALUE, 400);
//   - renaming a deleted experiment: kFailedPrecondition with MLflow code INVALID_STATE;
//   - a database failure: kInternal; a database busy beyond the timeout: kUnavailable.
// A write either applies completely or not at all (one transaction per request).
//
// Thread-safety: every method may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "tracking/entities.h"

namespace cairn::tracking {

struct SearchExperimentsRequest {
  int max_results = 1000;  // 1..50000
  std::string page_token;
  std::string filter;
  std::vector<std::string> order_by;
  ViewType view_type = ViewType::kActiveOnly;
};
struct SearchExperimentsResult {
  std::vector<Experiment> experiments;
  std::string next_page_token;  // "" when there is no further page
};

struct CreateRunRequest {
  std::string experiment_id;  // "" = the default experiment "0"
  std::string user_id;
  std::string run_name;  // "" = use the mlflow.runName tag, else generate one
  std::optional<int64_t> start_time;  // unset = now
  std::vector<Tag> tags;
};

struct UpdateRunRequest {
  std::string run_id;
  std::optional<std::string> status;
  std::optional<int64_t> end_time;
  std::optional<std::string> run_name;  // also updates the mlflow.runName tag
};

struct SearchRunsRequest {
  std::vector<std::string> experiment_ids;
  std::string filter;
  ViewType view_type = ViewType::kActiveOnly;
  int max_results = 1000;  // 1..50000
  std::vector<std::string> order_by;
  std::string page_token;
};
struct SearchRunsResult {
  std::vector<Run> runs;
  std::string next_page_token;
};

struct LogBatchRequest {
  std::string run_id;
  std::vector<Metric> metrics;
  std::vector<Param> params;
  std::vector<Tag> tags;
};

struct MetricHistoryRequest {
  std::string run_id;
  std::string metric_key;
  std::optional<int> max_results;  // unset = everything
  std::string page_token;
};
struct MetricHistoryResult {
  std::vector<Metric> metrics;
  std::string next_page_token;
};

struct MetricHistoryBulkIntervalRequest {
  std::vector<std::string> run_ids;  // 1..100
  std::string metric_key;
  std::optional<int64_t> start_step;
  std::optional<int64_t> end_step;
  std::optional<int> max_results;  // 1..2500, default 2500
};

struct CreateLoggedModelRequest {
  std::string experiment_id;
  std::optional<std::string> name;  // unset = generated
  std::optional<std::string> model_type;
  std::optional<std::string> source_run_id;
  std::vector<Param> params;
  std::vector<Tag> tags;
};

struct LoggedModelOrderBy {
  std::string field_name;
  bool ascending = true;
  std::optional<std::string> dataset_name;
  std::optional<std::string> dataset_digest;
};
struct LoggedModelDatasetFilter {
  std::string dataset_name;
  std::optional<std::string> dataset_digest;
};
struct SearchLoggedModelsRequest {
  std::vector<std::string> experiment_ids;
  std::string filter;
  std::vector<LoggedModelDatasetFilter> datasets;
  int max_results = 50;
  std::vector<LoggedModelOrderBy> order_by;
  std::string page_token;
};
struct SearchLoggedModelsResult {
  std::vector<LoggedModel> models;
  std::string next_page_token;
};

class TrackingStore {
 public:
  virtual ~TrackingStore() = default;

  // ---- Experiments ----
  // Returns the new experiment's id. artifact_location "" = <artifact root>/<id>.
  virtual StatusOr<std::string> CreateExperiment(const std::string& name,
                                                 const std::string& artifact_location,
                                                 std::vector<Tag> tags) = 0;
  virtual StatusOr<Experiment> GetExperiment(const std::string& experiment_id) = 0;
  // Active or deleted experiments; kNotFound when no experiment has this name.
  virtual StatusOr<Experiment> GetExperimentByName(const std::string& name) = 0;
  virtual StatusOr<SearchExperimentsResult> SearchExperiments(
      const SearchExperimentsRequest& request) = 0;
  virtual Status RenameExperiment(const std::string& experiment_id,
                                  const std::string& new_name) = 0;
  // Deleting marks the experiment and all its runs deleted; restoring reverses both.
  virtual Status DeleteExperiment(const std::string& experiment_id) = 0;
  virtual Status RestoreExperiment(const std::string& experiment_id) = 0;
  virtual Status SetExperimentTag(const std::string& experiment_id, Tag tag) = 0;
  virtual Status DeleteExperimentTag(const std::string& experiment_id,
                                     const std::string& key) = 0;

  // ---- Runs ----
  virtual StatusOr<Run> CreateRun(CreateRunRequest request) = 0;
  virtual StatusOr<Run> GetRun(const std::string& run_id) = 0;
  virtual StatusOr<RunInfo> UpdateRun(const UpdateRunRequest& request) = 0;
  virtual Status DeleteRun(const std::string& run_id) = 0;
  virtual Status RestoreRun(const std::string& run_id) = 0;
  virtual StatusOr<SearchRunsResult> SearchRuns(const SearchRunsRequest& request) = 0;

  virtual Status LogMetric(const std::string& run_id, const Metric& metric) = 0;
  // Same value again is a no-op; a different value is kInvalidArgument.
  virtual Status LogParam(const std::string& run_id, Param param) = 0;
  virtual Status SetTag(const std::string& run_id, Tag tag) = 0;
  virtual Status DeleteTag(const std::string& run_id, const std::string& key) = 0;
  // All of it in one transaction, or nothing.
  virtual Status LogBatch(LogBatchRequest request) = 0;
  virtual Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& datasets,
                           const std::vector<ModelInput>& models) = 0;
  virtual Status LogOutputs(const std::string& run_id,
                            const std::vector<ModelOutput>& models) = 0;

  // ---- Metric history ----
  // Ordered by timestamp, step, value. An unknown run gives an empty history (as MLflow).
  virtual StatusOr<MetricHistoryResult> GetMetricHistory(const MetricHistoryRequest& request) = 0;
  // Metrics (with run_id set) sampled over the step range, at most max_results per run,
  // always keeping each run's first and last step in range; ordered by run, step, timestamp.
  virtual StatusOr<std::vector<Metric>> GetMetricHistoryBulkInterval(
      const MetricHistoryBulkIntervalRequest& request) = 0;

  // ---- Logged models ----
  virtual StatusOr<LoggedModel> CreateLoggedModel(CreateLoggedModelRequest request) = 0;
  // Deleted models are kNotFound.
  virtual StatusOr<LoggedModel> GetLoggedModel(const std::string& model_id) = 0;
  // status is LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED (or _PENDING).
  virtual StatusOr<LoggedModel> FinalizeLoggedModel(const std::string& model_id,
                                                    const std::string& status) = 0;
  virtual Status DeleteLoggedModel(const std::string& model_id) = 0;
  virtual Status SetLoggedModelTags(const std::string& model_id, std::vector<Tag> tags) = 0;
  virtual Status DeleteLoggedModelTag(const std::string& model_id, const std::string& key) = 0;
  virtual Status LogLoggedModelParams(const std::string& model_id,
                                      std::vector<Param> params) = 0;
  virtual StatusOr<SearchLoggedModelsResult> SearchLoggedModels(
      const SearchLoggedModelsRequest& request) = 0;
};

}  // namespace cairn::tracking
