// Plain structs for MLflow's tracking entities (mlflow/protos/service.proto), as the tracking
// store returns them. No JSON, no SQL: http/ codecs turn these into wire messages.
//
// Times are int64 milliseconds since the epoch. Optional fields are std::optional so "unset"
// (omitted on the wire) is distinguishable from zero/empty.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cairn::tracking {

inline constexpr char kLifecycleActive[] = "active";
inline constexpr char kLifecycleDeleted[] = "deleted";

// The tag that mirrors a run's name; the store keeps it equal to RunInfo::run_name.
inline constexpr char kRunNameTag[] = "mlflow.runName";
inline constexpr char kParentRunIdTag[] = "mlflow.parentRunId";
// The input tag that carries a dataset input's context ("training", "eval", ...).
inline constexpr char kDatasetContextTag[] = "mlflow.data.context";

enum class ViewType { kActiveOnly, kDeletedOnly, kAll };

struct Tag {
  std::string key;
  std::string value;
  bool operator==(const Tag&) const = default;
};

struct Param {
  std::string key;
  std::string value;
  bool operator==(const Param&) const = default;
};

struct Metric {
  std::string key;
  double value = 0;  // NaN and +-Inf allowed; stored per MLflow (is_nan flag, +-DBL_MAX)
  int64_t timestamp = 0;
  int64_t step = 0;
  // Initialized so that {key, value, timestamp, step} is a complete point without warnings.
  std::optional<std::string> model_id = std::nullopt;
  std::optional<std::string> dataset_name = std::nullopt;
  std::optional<std::string> dataset_digest = std::nullopt;
  // Set on logged-model metrics and bulk history rows.
  std::optional<std::string> run_id = std::nullopt;
};

struct Experiment {
  std::string experiment_id;
  std::string name;
  std::string artifact_location;
  std::string lifecycle_stage;
  std::optional<int64_t> creation_time;
  std::optional<int64_t> last_update_time;
  std::vector<Tag> tags;
};

struct RunInfo {
  std::string run_id;  // also sent as run_uuid
  std::string run_name;
  std::string experiment_id;
  std::string user_id;
  std::string status;  // RUNNING|SCHEDULED|FINISHED|FAILED|KILLED
  std::optional<int64_t> start_time;
  std::optional<int64_t> end_time;
  std::string artifact_uri;
  std::string lifecycle_stage;
};

struct RunData {
  std::vector<Metric> metrics;  // latest value per key
  std::vector<Param> params;
  std::vector<Tag> tags;
};

struct Dataset {
  std::string name;
  std::string digest;
  std::string source_type;
  std::string source;
  std::optional<std::string> schema;
  std::optional<std::string> profile;
};

struct DatasetInput {
  std::vector<Tag> tags;  // input tags (key = name)
  Dataset dataset;
};

struct ModelInput {
  std::string model_id;
};

struct ModelOutput {
  std::string model_id;
  int64_t step = 0;
};

struct RunInputs {
  std::vector<DatasetInput> dataset_inputs;
  std::vector<ModelInput> model_inputs;
};

struct RunOutputs {
  std::vector<ModelOutput> model_outputs;
};

struct Run {
  RunInfo info;
  RunData data;
  RunInputs inputs;
  RunOutputs outputs;
};

// Logged model status names as on the wire.
inline constexpr char kLoggedModelPending[] = "LOGGED_MODEL_PENDING";
inline constexpr char kLoggedModelReady[] = "LOGGED_MODEL_READY";
inline constexpr char kLoggedModelUploadFailed[] = "LOGGED_MODEL_UPLOAD_FAILED";

struct LoggedModel {
  std::string model_id;  // "m-" + 32 hex
  std::string experiment_id;
  std::string name;
  std::string artifact_uri;
  std::optional<int64_t> creation_timestamp_ms;
  std::optional<int64_t> last_updated_timestamp_ms;
  std::string status;
  std::optional<std::string> status_message;
  std::optional<std::string> model_type;
  std::optional<std::string> source_run_id;
  std::vector<Tag> tags;
  std::vector<Param> params;
  std::vector<Metric> metrics;
};

}  // namespace cairn::tracking
