// Scoring-protocol codecs as pure functions: request bodies in, a dense feature matrix out
// (and predictions back to response bodies). No HTTP here: the server hands over the
// Content-Type and the body and maps the returned Status to a response.
//
// Requests understood (reference/mlflow-api.md §5, reference/pipelines-and-serving.md §4):
// - MLflow POST /invocations, application/json with exactly one of
//     dataframe_split   {"columns": [...], "data": [[...], ...]}   (columns optional)
//     dataframe_records [{"col": value, ...}, ...]
//     instances         [[...], ...] | [{"col": value}, ...] | {"col": [values]}
//     inputs            same shapes as instances
//   and an optional "params" object (returned as raw JSON text, not interpreted);
//   or text/csv with a header row of column names.
// - Open Inference Protocol v2 infer requests: one [N, F] (or [F]) tensor, or one input per
//   column named after the feature ([N] or [N, 1]); FP32, FP64, INT8..64, UINT8..64, BOOL,
//   BYTES (strings, for categorical features); data flat or nested, row-major.
//
// Positional rows (lists without column names, in instances/inputs or a dataframe_split
// without "columns") are taken in the model's feature order. mlflow 3.6 rejects them when
// the signature is column-based ("Failed to enforce schema"); cairn accepts them because
// Vertex AI and KServe V1 clients send {"instances": [[...]]}.
//
// Checks against the model (features by name) and its signature, each failing with
// InvalidArgument whose message names the field: a missing required column, an unknown
// (extra) column, a value of the wrong type (a string in a numeric column, 1.5 in a long
// column, an unknown category), a missing value where the column type cannot hold one
// (long, integer, boolean), infinities, ragged rows, shape/length mismatches.
// A Content-Type other than JSON or CSV, or a charset other than utf-8, is Unimplemented
// (MLflow answers 415). Missing values (null, NaN, empty CSV field) in float/double columns
// become NaN, which tree models route by their default direction.
//
// Thread-safety: an InputDecoder is immutable after Create; its methods are const and
// thread-safe. It keeps a reference to nothing: it copies what it needs from the model.
#pragma once

#include <cstddef>      // for size_t
#include <string>       // for string
#include <string_view>  // for string_view
#include <unordered_map>
#include <vector>       // for vector

#include "common/status.h"
#include "models/model.h"

namespace cairn::serving {

struct DecodedInput {
  std::vector<double> rows;  // n_rows x n_features, row-major, NaN = missing
  size_t n_rows = 0;
  std::string format;        // "dataframe_split", "dataframe_records", "instances", "inputs",
                             // "csv" or "v2"
  std::string params_json;   // MLflow "params" object as JSON text ("" when absent)
};

struct InferRequest {
  std::string id;                          // echoed in the response ("" when absent)
  std::vector<std::string> output_names;   // requested outputs (empty = all)
  DecodedInput input;
};

class InputDecoder {
 public:
  // Builds the per-model lookup tables (feature names, category codes, column types from
  // the signature when it has input columns). Errors: InvalidArgument if the signature's
  // columns do not name the model's features.
  static StatusOr<InputDecoder> Create(const models::Model& model,
                                       const models::Signature& signature);

  // MLflow /invocations. content_type is the raw header value (may be empty: JSON).
  StatusOr<DecodedInput> DecodeInvocations(std::string_view content_type,
                                           std::string_view body) const;

  // Open Inference Protocol v2 infer request body.
  StatusOr<InferRequest> DecodeInfer(std::string_view body) const;

  size_t num_features() const { return columns_.size(); }

  // Upper bound on rows per request (ResourceExhausted beyond it).
  static constexpr size_t kMaxRows = 1'000'000;
  // Upper bound on rows x features per request (ResourceExhausted beyond it).
  static constexpr size_t kMaxCells = size_t{64} << 20;

  struct Column {
    std::string name;
    models::ColumnType type = models::ColumnType::kDouble;
    bool required = true;
    bool categorical = false;
    std::unordered_map<std::string, double> category_codes;
  };

  const std::vector<Column>& columns() const { return columns_; }

 private:
  InputDecoder() = default;
  std::vector<Column> columns_;
  std::unordered_map<std::string, size_t> index_;  // column name -> feature index
};

// {"predictions": [...]}: one value per row when width == 1, else one list per row; class
// labels are written as integers.
std::string EncodeInvocationsResponse(const std::vector<double>& predictions, size_t width,
                                      models::OutputKind kind);

// OIP v2 response: {"model_name", "model_version"?, "id", "outputs": [{"name": "predict",
// "datatype": "FP64" (or "INT64" for labels), "shape": [N] or [N, width], "data": [...]}]}.
std::string EncodeInferResponse(std::string_view model_name, std::string_view model_version,
                                std::string_view id, const std::vector<double>& predictions,
                                size_t width, models::OutputKind kind);

// OIP v2 model metadata (GET /v2/models/{name}[/versions/{v}]): one input per feature
// (datatype from its column type: double FP64, float FP32, long INT64, integer INT32,
// boolean BOOL, string BYTES; shape [-1]) and one output "predict" of shape [-1] or
// [-1, output_width]. Callers may also send one FP32/FP64 [N, F] tensor (see DecodeInfer).
std::string EncodeV2ModelMetadata(std::string_view model_name,
                                  const std::vector<std::string>& versions,
                                  std::string_view platform, const InputDecoder& decoder,
                                  size_t output_width, models::OutputKind kind);

}  // namespace cairn::serving
