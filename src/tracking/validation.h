// MLflow's input validation (mlflow/utils/validation.py, 3.6), same limits and messages.
// Every failure is kInvalidArgument (INVALID_PARAMETER_VALUE, 400). Lengths are counted in
// Unicode code points, as Python's len() does.
//
// `path` arguments name the field in error messages the way MLflow does ("metrics[3].name");
// an empty path means the bare field name.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "tracking/entities.h"

namespace cairn::tracking {

inline constexpr size_t kMaxMetricsPerBatch = 1000;
inline constexpr size_t kMaxParamsTagsPerBatch = 100;
inline constexpr size_t kMaxEntitiesPerBatch = 1000;
inline constexpr size_t kMaxParamValueLength = 6000;
inline constexpr size_t kMaxTagValueLength = 8000;
inline constexpr size_t kMaxExperimentNameLength = 500;
inline constexpr size_t kMaxExperimentTagKeyLength = 250;
inline constexpr size_t kMaxExperimentTagValueLength = 5000;
inline constexpr size_t kMaxEntityKeyLength = 250;
inline constexpr size_t kMaxDatasetNameSize = 500;
inline constexpr size_t kMaxDatasetDigestSize = 36;
inline constexpr size_t kMaxDatasetSchemaSize = 1048575;
inline constexpr size_t kMaxDatasetSourceSize = 65535;
inline constexpr size_t kMaxDatasetProfileSize = 16777215;
inline constexpr size_t kMaxInputTagKeySize = 255;
inline constexpr size_t kMaxInputTagValueSize = 500;
inline constexpr int kMaxExperimentsPerPage = 50000;
inline constexpr int kMaxRunsPerPage = 50000;

// Number of code points in UTF-8 text (invalid bytes count one each).
size_t Utf8Length(std::string_view s);
// The first `max_code_points` code points of s.
std::string Utf8Truncate(std::string_view s, size_t max_code_points);
// posixpath.normpath.
std::string NormPath(std::string_view path);
// json.dumps of a string (for messages).
std::string JsonQuote(std::string_view s);

// "Invalid value <json> for parameter '<path>' supplied: <message>"
std::string InvalidValueMessage(std::string_view path, std::string_view json_value,
                                std::string_view message = {});
// "Missing value for required parameter '<path>'."
std::string MissingValueMessage(std::string_view path);

Status ValidateMetricName(std::string_view name, std::string_view path = "name");
Status ValidateParamName(std::string_view name, std::string_view path = "key");
Status ValidateTagName(std::string_view name, std::string_view path = "key");

// Key rules plus timestamp >= 0 and key length. `path` is "" for a single metric or
// "metrics[i]" inside a batch.
Status ValidateMetric(const Metric& metric, std::string_view path = "");
// Key rules and key length; truncates an over-long value to 6000 code points (MLflow's
// default MLFLOW_TRUNCATE_LONG_VALUES=true).
Status ValidateParam(Param& param, std::string_view path = "");
// Key rules and key length; truncates an over-long value to 8000 code points.
Status ValidateRunTag(Tag& tag, std::string_view path = "");
// Key rules; key <= 250 and value <= 5000 (no truncation).
Status ValidateExperimentTag(const Tag& tag);
Status ValidateExperimentName(std::string_view name);
// ^[a-zA-Z0-9][\w\-]{0,255}$
Status ValidateRunId(std::string_view run_id, std::string_view path = "run_id");
// Batch sizes: 1000 metrics, 100 params, 100 tags, 1000 in total.
Status ValidateBatchLimits(size_t metrics, size_t params, size_t tags);
Status ValidateParamKeysUnique(const std::vector<Param>& params);
Status ValidateDatasetInputs(const std::vector<DatasetInput>& inputs);
// Logged-model names: non-empty, none of / : . % " '.
Status ValidateLoggedModelName(std::string_view name);
// MLflow's run statuses.
bool IsValidRunStatus(std::string_view status);

}  // namespace cairn::tracking
