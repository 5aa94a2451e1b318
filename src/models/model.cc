#include "models/model.h"

#include <array>    // for array
#include <utility>  // for pair

#include "models/json_value.h"

namespace cairn::models {
namespace {

constexpr std::array<std::pair<ColumnType, std::string_view>, 8> kColumnTypes = {{
    {ColumnType::kDouble, "double"},
    {ColumnType::kFloat, "float"},
    {ColumnType::kLong, "long"},
    {ColumnType::kInteger, "integer"},
    {ColumnType::kBoolean, "boolean"},
    {ColumnType::kString, "string"},
    {ColumnType::kBinary, "binary"},
    {ColumnType::kDatetime, "datetime"},
}};

StatusOr<TensorSpec> ParseTensorSpec(const JsonValue& entry, const std::string& where) {
  const JsonValue* spec = entry.Find("tensor-spec");
  if (spec == nullptr || !spec->is_object()) {
    return InvalidArgument(where + ": tensor entry without 'tensor-spec'");
  }
  TensorSpec t;
  if (const JsonValue* name = entry.Find("name"); name && name->is_string()) t.name = name->str();
  const JsonValue* dtype = spec->Find("dtype");
  if (dtype == nullptr || !dtype->is_string()) {
    return InvalidArgument(where + ": tensor-spec without a dtype");
  }
  t.dtype = dtype->str();
  if (const JsonValue* shape = spec->Find("shape")) {
    if (!shape->is_numeric_array() || !(shape->size() == 0 || shape->nums_are_integers())) {
      return InvalidArgument(where + ": tensor-spec shape must be a list of integers");
    }
    for (double d : shape->nums()) t.shape.push_back(static_cast<int64_t>(d));
  }
  return t;
}

// One side of a signature: columns or a tensor.
Status ParseSide(std::string_view text, const char* side, std::vector<ColumnSpec>* columns,
                 std::optional<TensorSpec>* tensor) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return OkStatus();
  const std::string where = std::string("signature.") + side;
  StatusOr<JsonValue> doc = ParseJsonText(text, NumberPrecision::kFloat64);
  if (!doc.ok()) return InvalidArgument(where + ": " + doc.status().message());
  if (doc->type() != JsonValue::Type::kArray) {
    return InvalidArgument(where + ": expected a JSON list");
  }
  for (size_t i = 0; i < doc->items().size(); ++i) {
    const JsonValue& entry = doc->items()[i];
    const std::string at = where + "[" + std::to_string(i) + "]";
    const JsonValue* type = entry.Find("type");
    if (type == nullptr || !type->is_string()) return InvalidArgument(at + ": missing 'type'");
    if (type->str() == "tensor") {
      if (doc->items().size() != 1) {
        return InvalidArgument(at + ": only one tensor input/output is supported");
      }
      ASSIGN_OR_RETURN(TensorSpec t, ParseTensorSpec(entry, at));
      *tensor = std::move(t);
      continue;
    }
    ColumnSpec col;
    StatusOr<ColumnType> ct = ParseColumnType(type->str());
    if (!ct.ok()) return InvalidArgument(at + ": " + ct.status().message());
    col.type = *ct;
    if (const JsonValue* name = entry.Find("name"); name && name->is_string()) {
      col.name = name->str();
    }
    if (const JsonValue* req = entry.Find("required"); req && req->is_bool()) {
      col.required = req->bool_value();
    }
    columns->push_back(std::move(col));
  }
  return OkStatus();
}

}  // namespace

std::string_view ColumnTypeName(ColumnType type) {
  for (const auto& [t, name] : kColumnTypes) {
    if (t == type) return name;
  }
  return "unknown";
}

StatusOr<ColumnType> ParseColumnType(std::string_view name) {
  for (const auto& [t, n] : kColumnTypes) {
    if (n == name) return t;
  }
  return InvalidArgument("unknown column type '" + std::string(name) + "'");
}

StatusOr<Signature> ParseSignature(std::string_view inputs_json, std::string_view outputs_json) {
  Signature sig;
  RETURN_IF_ERROR(ParseSide(inputs_json, "inputs", &sig.input_columns, &sig.input_tensor));
  RETURN_IF_ERROR(ParseSide(outputs_json, "outputs", &sig.output_columns, &sig.output_tensor));
  return sig;
}

Status Model::CheckShapes(std::span<const double> rows, size_t n_rows,
                          std::span<double> out) const {
  if (rows.size() != n_rows * num_features()) {
    return InvalidArgument("expected " + std::to_string(n_rows) + " rows of " +
                           std::to_string(num_features()) + " features, got " +
                           std::to_string(rows.size()) + " values");
  }
  if (out.size() != n_rows * output_width()) {
    return InvalidArgument("output buffer holds " + std::to_string(out.size()) +
                           " values, need " + std::to_string(n_rows * output_width()));
  }
  return OkStatus();
}

}  // namespace cairn::models
