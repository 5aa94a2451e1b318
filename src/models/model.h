// The Model interface serving uses: a loaded model that predicts from a dense matrix.
//
// Inputs are row-major doubles, one column per model feature in features() order; NaN means
// missing. A categorical feature carries the category code (its index in
// FeatureInfo::categories); decoding names to codes is the protocol layer's job.
//
// Thread-safety: Model implementations are immutable after loading; Predict is const and
// may be called from many threads at once. Share them with std::shared_ptr<const Model>.
#pragma once

#include <cstdint>      // for int64_t
#include <optional>     // for optional
#include <span>         // for span
#include <string>       // for string
#include <string_view>  // for string_view
#include <vector>       // for vector

#include "common/status.h"

namespace cairn::models {

// MLflow's column types (mlflow.types.DataType).
enum class ColumnType { kDouble, kFloat, kLong, kInteger, kBoolean, kString, kBinary, kDatetime };
// "double", "float", "long", "integer", "boolean", "string", "binary", "datetime".
std::string_view ColumnTypeName(ColumnType type);
// Errors: InvalidArgument for an unknown name.
StatusOr<ColumnType> ParseColumnType(std::string_view name);

struct ColumnSpec {
  std::string name;  // may be empty for unnamed columns
  ColumnType type = ColumnType::kDouble;
  bool required = true;
};

// A tensor spec: dtype is numpy's name ("float32", "float64", "int64", ...); -1 in shape
// means "any size".
struct TensorSpec {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
};

// An MLflow model signature (the MLmodel "signature" block). Inputs and outputs are each
// either a list of columns or one tensor (or absent).
struct Signature {
  std::vector<ColumnSpec> input_columns;
  std::optional<TensorSpec> input_tensor;
  std::vector<ColumnSpec> output_columns;
  std::optional<TensorSpec> output_tensor;
  bool has_inputs() const { return !input_columns.empty() || input_tensor.has_value(); }
};

// Parses the JSON strings MLflow writes under signature.inputs / signature.outputs
// ('[{"type": "double", "name": "a", "required": true}]' or
// '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]').
// Either string may be empty (absent). Errors: InvalidArgument naming the bad entry.
StatusOr<Signature> ParseSignature(std::string_view inputs_json, std::string_view outputs_json);

struct FeatureInfo {
  enum class Kind { kNumeric, kCategorical };
  std::string name;
  Kind kind = Kind::kNumeric;
  // Categorical: category names in code order when known (code = index); empty when the
  // model only knows codes.
  std::vector<std::string> categories;
};

enum class OutputKind {
  kValue,        // regression values or raw scores
  kProbability,  // class probabilities: one column (P(class 1)) or one per class
  kClassLabel,   // class indices as numbers
};

class Model {
 public:
  virtual ~Model() = default;

  // "xgboost" or "linear".
  virtual std::string_view type_name() const = 0;
  const std::vector<FeatureInfo>& features() const { return features_; }
  size_t num_features() const { return features_.size(); }
  // Values per row of Predict's output.
  virtual size_t output_width() const = 0;
  virtual OutputKind output_kind() const = 0;

  // rows: n_rows x num_features() (row-major, NaN = missing). out: n_rows x output_width().
  // Errors: InvalidArgument when the spans' sizes do not match n_rows, or a value is not
  // acceptable to the model (a linear model rejects NaN and names the column).
  virtual Status Predict(std::span<const double> rows, size_t n_rows,
                         std::span<double> out) const = 0;

 protected:
  Status CheckShapes(std::span<const double> rows, size_t n_rows, std::span<double> out) const;
  std::vector<FeatureInfo> features_;
};

}  // namespace cairn::models
