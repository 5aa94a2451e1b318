#include "serving/input_decoder.h"

#include <algorithm>     // for find
#include <charconv>      // for from_chars, to_chars
#include <cmath>         // for isfinite, trunc
#include <cstdio>        // for snprintf
#include <limits>        // for numeric_limits
#include <system_error>  // for errc
#include <utility>       // for move

#include "models/json_value.h"

namespace cairn::serving {
namespace {

using models::ColumnType;
using models::JsonValue;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One input value, whatever it came from (JSON, CSV, a v2 tensor).
struct Cell {
  enum class Kind { kNull, kNumber, kBool, kString } kind = Kind::kNull;
  double number = 0;
  bool boolean = false;
  std::string_view text;
};

Cell FromJson(const JsonValue& v) {
  Cell c;
  if (v.is_number()) {
    c.kind = Cell::Kind::kNumber;
    c.number = v.number();
  } else if (v.is_bool()) {
    c.kind = Cell::Kind::kBool;
    c.boolean = v.bool_value();
  } else if (v.is_string()) {
    c.kind = Cell::Kind::kString;
    c.text = v.str();
  }
  return c;
}

Cell NumberCell(double d) {
  Cell c;
  c.kind = Cell::Kind::kNumber;
  c.number = d;
  return c;
}

std::string Where(const InputDecoder::Column& col, size_t row) {
  return "column '" + col.name + "' (row " + std::to_string(row) + ")";
}

std::string TypeName(const InputDecoder::Column& col) {
  return std::string(models::ColumnTypeName(col.type));
}

bool HoldsMissing(ColumnType t) {
  return t == ColumnType::kDouble || t == ColumnType::kFloat || t == ColumnType::kString;
}

// Converts one cell for one column, or says exactly what is wrong with it.
Status Convert(const InputDecoder::Column& col, const Cell& cell, size_t row, double* out) {
  switch (cell.kind) {
    case Cell::Kind::kNull:
      if (!HoldsMissing(col.type)) {
        return InvalidArgument(Where(col, row) + ": missing value, but the column type " +
                               TypeName(col) + " cannot hold one");
      }
      *out = kNaN;
      return OkStatus();
    case Cell::Kind::kNumber: {
      const double d = cell.number;
      if (d != d) {  // NaN in the body means missing
        Cell null_cell;
        return Convert(col, null_cell, row, out);
      }
      if (!std::isfinite(d)) {
        return InvalidArgument(Where(col, row) + ": infinite values are not accepted");
      }
      if (col.type == ColumnType::kBoolean) {
        return InvalidArgument(Where(col, row) + ": expected boolean, got a number");
      }
      if ((col.type == ColumnType::kLong || col.type == ColumnType::kInteger) &&
          d != std::trunc(d)) {
        return InvalidArgument(Where(col, row) + ": expected " + TypeName(col) +
                               ", got a fractional number");
      }
      if (col.type == ColumnType::kString && !col.categorical) {
        return InvalidArgument(Where(col, row) + ": expected string, got a number");
      }
      *out = d;
      return OkStatus();
    }
    case Cell::Kind::kBool:
      if (col.type != ColumnType::kBoolean) {
        return InvalidArgument(Where(col, row) + ": expected " + TypeName(col) +
                               ", got a boolean");
      }
      *out = cell.boolean ? 1.0 : 0.0;
      return OkStatus();
    case Cell::Kind::kString: {
      if (col.categorical) {
        auto it = col.category_codes.find(std::string(cell.text));
        if (it == col.category_codes.end()) {
          return InvalidArgument(Where(col, row) + ": unknown category '" +
                                 std::string(cell.text) + "'");
        }
        *out = it->second;
        return OkStatus();
      }
      return InvalidArgument(Where(col, row) + ": expected " + TypeName(col) +
                             ", got a string");
    }
  }
  return Internal("unreachable");
}

// Builds the dense matrix; tracks which columns a named input supplied.
class MatrixBuilder {
 public:
  MatrixBuilder(const std::vector<InputDecoder::Column>& columns, size_t n_rows)
      : columns_(columns), n_rows_(n_rows), rows_(n_rows * columns.size(), kNaN),
        seen_(columns.size(), false) {}

  Status Set(size_t row, size_t col, const Cell& cell) {
    return Convert(columns_[col], cell, row, &rows_[row * columns_.size() + col]);
  }
  void MarkSeen(size_t col) { seen_[col] = true; }
  bool Seen(size_t col) const { return seen_[col]; }

  // Every column not supplied must be optional (it stays missing).
  Status CheckMissingColumns() const {
    for (size_t c = 0; c < columns_.size(); ++c) {
      if (seen_[c]) continue;
      if (columns_[c].required) {
        return InvalidArgument("missing required column '" + columns_[c].name + "'");
      }
      if (!HoldsMissing(columns_[c].type) && n_rows_ > 0) {
        return InvalidArgument("optional column '" + columns_[c].name + "' of type " +
                               TypeName(columns_[c]) + " cannot be left out");
      }
    }
    return OkStatus();
  }

  DecodedInput Finish(std::string format) && {
    DecodedInput out;
    out.rows = std::move(rows_);
    out.n_rows = n_rows_;
    out.format = std::move(format);
    return out;
  }

 private:
  const std::vector<InputDecoder::Column>& columns_;
  size_t n_rows_;
  std::vector<double> rows_;
  std::vector<bool> seen_;
};

// Bounds the matrix a request may make us allocate (rows and rows x features).
Status CheckRowCount(size_t n, size_t n_features) {
  if (n > InputDecoder::kMaxRows) {
    return ResourceExhausted("request has " + std::to_string(n) + " rows; the limit is " +
                             std::to_string(InputDecoder::kMaxRows));
  }
  if (n_features > 0 && n > InputDecoder::kMaxCells / n_features) {
    return ResourceExhausted("request has " + std::to_string(n) + " rows of " +
                             std::to_string(n_features) + " features; the limit is " +
                             std::to_string(InputDecoder::kMaxCells) + " values");
  }
  return OkStatus();
}

// Elements of a JSON array of either kind as cells.
size_t ArraySize(const JsonValue& a) { return a.size(); }
Cell ArrayCell(const JsonValue& a, size_t i) {
  return a.type() == JsonValue::Type::kNumArray ? NumberCell(a.nums()[i]) : FromJson(a.items()[i]);
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// Splits CSV text into records of fields (RFC 4180 quoting). Empty trailing lines are
// dropped. Errors: an unterminated quote.
StatusOr<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool in_quotes = false;
  bool field_started = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && !field_started) {
      in_quotes = true;
      field_started = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      record.push_back(std::move(field));
      field.clear();
      field_started = false;
      if (!(record.size() == 1 && record[0].empty())) records.push_back(std::move(record));
      record.clear();
    } else {
      field.push_back(c);
      field_started = true;
    }
  }
  if (in_quotes) return InvalidArgument("csv: unterminated quoted field");
  if (field_started || !field.empty() || !record.empty()) {
    record.push_back(std::move(field));
    if (!(record.size() == 1 && record[0].empty())) records.push_back(std::move(record));
  }
  return records;
}

Cell CsvCell(const std::string& raw, ColumnType type) {
  Cell c;
  const std::string s = Trim(raw);
  if (s.empty()) return c;  // missing
  double d = 0;
  const char* first = s.data() + (s[0] == '+' ? 1 : 0);
  auto [ptr, ec] = std::from_chars(first, s.data() + s.size(), d);
  if (ec == std::errc() && ptr == s.data() + s.size()) return NumberCell(d);
  const std::string lower = ToLower(s);
  if (lower == "nan") return c;
  if (lower == "inf" || lower == "+inf" || lower == "infinity") {
    return NumberCell(std::numeric_limits<double>::infinity());
  }
  if (lower == "-inf" || lower == "-infinity") {
    return NumberCell(-std::numeric_limits<double>::infinity());
  }
  if (type == ColumnType::kBoolean && (lower == "true" || lower == "false")) {
    c.kind = Cell::Kind::kBool;
    c.boolean = lower == "true";
    return c;
  }
  c.kind = Cell::Kind::kString;
  c.text = raw;  // raw outlives the cell (owned by the parsed records)
  return c;
}

void AppendNumber(double v, bool as_integer, std::string* out) {
  if (v != v) {
    out->append("NaN");
    return;
  }
  if (!std::isfinite(v)) {
    out->append(v > 0 ? "Infinity" : "-Infinity");
    return;
  }
  char buf[64];
  std::to_chars_result r = as_integer && std::fabs(v) < 9e15
                               ? std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(v))
                               : std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void AppendPredictions(const std::vector<double>& p, size_t width, bool as_integer,
                       std::string* out) {
  out->push_back('[');
  const size_t n_rows = width == 0 ? 0 : p.size() / width;
  for (size_t r = 0; r < n_rows; ++r) {
    if (r) out->push_back(',');
    if (width == 1) {
      AppendNumber(p[r], as_integer, out);
      continue;
    }
    out->push_back('[');
    for (size_t k = 0; k < width; ++k) {
      if (k) out->push_back(',');
      AppendNumber(p[r * width + k], as_integer, out);
    }
    out->push_back(']');
  }
  out->push_back(']');
}

// ---- the decoding steps ------------------------------------------------------------

class Decoder {
 public:
  Decoder(const std::vector<InputDecoder::Column>& columns,
          const std::unordered_map<std::string, size_t>& index)
      : columns_(columns), index_(index) {}

  StatusOr<size_t> ColumnIndex(const std::string& name, const std::string& field) const {
    auto it = index_.find(name);
    if (it == index_.end()) {
      return InvalidArgument(field + ": unknown column '" + name + "'");
    }
    return it->second;
  }

  // Rows given as lists, in feature order.
  StatusOr<DecodedInput> PositionalRows(const JsonValue& rows, const std::string& field,
                                        std::string format) const {
    const size_t n = ArraySize(rows);
    RETURN_IF_ERROR(CheckRowCount(n, columns_.size()));
    MatrixBuilder m(columns_, n);
    for (size_t r = 0; r < n; ++r) {
      const JsonValue& row = rows.items()[r];
      if (!row.is_array()) {
        return InvalidArgument(field + "[" + std::to_string(r) + "]: expected a list of " +
                               std::to_string(columns_.size()) + " values");
      }
      if (row.size() != columns_.size()) {
        return InvalidArgument(field + "[" + std::to_string(r) + "]: has " +
                               std::to_string(row.size()) + " values, the model takes " +
                               std::to_string(columns_.size()));
      }
      for (size_t c = 0; c < columns_.size(); ++c) RETURN_IF_ERROR(m.Set(r, c, ArrayCell(row, c)));
    }
    for (size_t c = 0; c < columns_.size(); ++c) m.MarkSeen(c);
    return std::move(m).Finish(std::move(format));
  }

  // Rows as {"column": value} objects.
  StatusOr<DecodedInput> Records(const JsonValue& rows, const std::string& field,
                                 std::string format) const {
    const size_t n = ArraySize(rows);
    RETURN_IF_ERROR(CheckRowCount(n, columns_.size()));
    MatrixBuilder m(columns_, n);
    std::vector<size_t> row_seen(columns_.size());
    for (size_t r = 0; r < n; ++r) {
      const JsonValue& row = rows.items()[r];
      const std::string at = field + "[" + std::to_string(r) + "]";
      if (!row.is_object()) return InvalidArgument(at + ": expected an object");
      for (const auto& [name, value] : row.members()) {
        ASSIGN_OR_RETURN(size_t c, ColumnIndex(name, at));
        if (row_seen[c] == r + 1) return InvalidArgument(at + ": column '" + name + "' repeated");
        row_seen[c] = r + 1;
        m.MarkSeen(c);
        RETURN_IF_ERROR(m.Set(r, c, FromJson(value)));
      }
      for (size_t c = 0; c < columns_.size(); ++c) {
        if (row_seen[c] != r + 1 && columns_[c].required) {
          return InvalidArgument(at + ": missing required column '" + columns_[c].name + "'");
        }
        if (row_seen[c] != r + 1 && !HoldsMissing(columns_[c].type)) {
          return InvalidArgument(Where(columns_[c], r) + ": missing value, but the column type " +
                                 TypeName(columns_[c]) + " cannot hold one");
        }
      }
    }
    if (n == 0) {
      for (size_t c = 0; c < columns_.size(); ++c) m.MarkSeen(c);
    }
    RETURN_IF_ERROR(m.CheckMissingColumns());
    return std::move(m).Finish(std::move(format));
  }

  // {"column": [values...]} (or scalars for one row).
  StatusOr<DecodedInput> Columnar(const JsonValue& obj, const std::string& field,
                                  std::string format) const {
    size_t n = 0;
    bool first = true;
    for (const auto& [name, value] : obj.members()) {
      const size_t len = value.is_array() ? value.size() : 1;
      if (!first && len != n) {
        return InvalidArgument(field + ": column '" + name + "' has " + std::to_string(len) +
                               " values, other columns have " + std::to_string(n));
      }
      n = len;
      first = false;
    }
    RETURN_IF_ERROR(CheckRowCount(n, columns_.size()));
    MatrixBuilder m(columns_, n);
    for (const auto& [name, value] : obj.members()) {
      ASSIGN_OR_RETURN(size_t c, ColumnIndex(name, field));
      if (m.Seen(c)) return InvalidArgument(field + ": column '" + name + "' repeated");
      m.MarkSeen(c);
      for (size_t r = 0; r < n; ++r) {
        RETURN_IF_ERROR(m.Set(r, c, value.is_array() ? ArrayCell(value, r) : FromJson(value)));
      }
    }
    RETURN_IF_ERROR(m.CheckMissingColumns());
    return std::move(m).Finish(std::move(format));
  }

  StatusOr<DecodedInput> DataframeSplit(const JsonValue& split) const {
    if (!split.is_object()) return InvalidArgument("dataframe_split: expected an object");
    const JsonValue* data = split.Find("data");
    if (data == nullptr || !data->is_array()) {
      return InvalidArgument("dataframe_split.data: expected a list of rows");
    }
    const JsonValue* columns = split.Find("columns");
    if (columns == nullptr) return PositionalRows(*data, "dataframe_split.data", "dataframe_split");
    if (columns->type() == JsonValue::Type::kNumArray ||
        (columns->type() != JsonValue::Type::kArray)) {
      return InvalidArgument("dataframe_split.columns: expected a list of column names");
    }
    const size_t n_given = columns->items().size();
    std::vector<size_t> target(n_given);
    RETURN_IF_ERROR(CheckRowCount(ArraySize(*data), columns_.size()));
    MatrixBuilder m(columns_, ArraySize(*data));
    for (size_t i = 0; i < n_given; ++i) {
      const JsonValue& name = columns->items()[i];
      if (!name.is_string()) {
        return InvalidArgument("dataframe_split.columns[" + std::to_string(i) +
                               "]: expected a string");
      }
      ASSIGN_OR_RETURN(target[i], ColumnIndex(name.str(), "dataframe_split.columns"));
      if (m.Seen(target[i])) {
        return InvalidArgument("dataframe_split.columns: column '" + name.str() + "' repeated");
      }
      m.MarkSeen(target[i]);
    }
    RETURN_IF_ERROR(m.CheckMissingColumns());
    for (size_t r = 0; r < ArraySize(*data); ++r) {
      const JsonValue& row = data->items()[r];
      const std::string at = "dataframe_split.data[" + std::to_string(r) + "]";
      if (!row.is_array()) return InvalidArgument(at + ": expected a list");
      if (row.size() != n_given) {
        return InvalidArgument(at + ": has " + std::to_string(row.size()) + " values for " +
                               std::to_string(n_given) + " columns");
      }
      for (size_t i = 0; i < n_given; ++i) RETURN_IF_ERROR(m.Set(r, target[i], ArrayCell(row, i)));
    }
    return std::move(m).Finish("dataframe_split");
  }

  // instances / inputs: rows as lists or objects, or a columnar object.
  StatusOr<DecodedInput> TfServing(const JsonValue& v, const std::string& key) const {
    if (v.is_object()) return Columnar(v, key, key);
    if (!v.is_array()) return InvalidArgument(key + ": expected a list or an object");
    if (v.size() == 0) return PositionalRows(v, key, key);
    if (v.type() == JsonValue::Type::kNumArray ||
        (!v.items()[0].is_array() && !v.items()[0].is_object())) {
      if (columns_.size() != 1) {
        return InvalidArgument(key + ": expected a list of rows (lists or objects); a flat list "
                               "only fits a model with one feature, this one has " +
                               std::to_string(columns_.size()));
      }
      // One feature: each scalar is a row.
      const size_t n = v.size();
      RETURN_IF_ERROR(CheckRowCount(n, columns_.size()));
      MatrixBuilder m(columns_, n);
      for (size_t r = 0; r < n; ++r) RETURN_IF_ERROR(m.Set(r, 0, ArrayCell(v, r)));
      m.MarkSeen(0);
      return std::move(m).Finish(key);
    }
    if (v.items()[0].is_object()) return Records(v, key, key);
    return PositionalRows(v, key, key);
  }

  StatusOr<DecodedInput> Csv(std::string_view body) const {
    ASSIGN_OR_RETURN(auto records, ParseCsv(body));
    if (records.empty()) return InvalidArgument("csv: no header row");
    const auto& header = records[0];
    std::vector<size_t> target(header.size());
    const size_t n = records.size() - 1;
    RETURN_IF_ERROR(CheckRowCount(n, columns_.size()));
    MatrixBuilder m(columns_, n);
    for (size_t i = 0; i < header.size(); ++i) {
      ASSIGN_OR_RETURN(target[i], ColumnIndex(Trim(header[i]), "csv header"));
      if (m.Seen(target[i])) {
        return InvalidArgument("csv header: column '" + Trim(header[i]) + "' repeated");
      }
      m.MarkSeen(target[i]);
    }
    RETURN_IF_ERROR(m.CheckMissingColumns());
    for (size_t r = 0; r < n; ++r) {
      const auto& rec = records[r + 1];
      if (rec.size() != header.size()) {
        return InvalidArgument("csv line " + std::to_string(r + 2) + ": has " +
                               std::to_string(rec.size()) + " fields, the header has " +
                               std::to_string(header.size()));
      }
      for (size_t i = 0; i < rec.size(); ++i) {
        RETURN_IF_ERROR(m.Set(r, target[i], CsvCell(rec[i], columns_[target[i]].type)));
      }
    }
    return std::move(m).Finish("csv");
  }

 private:
  const std::vector<InputDecoder::Column>& columns_;
  const std::unordered_map<std::string, size_t>& index_;
};

// ---- Open Inference Protocol v2 -----------------------------------------------------

struct V2Input {
  std::string name;
  std::string datatype;
  std::vector<int64_t> shape;
  std::vector<Cell> cells;  // flattened, row-major
};

// Flattens nested lists into cells (depth is bounded by the JSON parser).
void Flatten(const JsonValue& v, std::vector<Cell>* out) {
  if (v.type() == JsonValue::Type::kNumArray) {
    for (double d : v.nums()) out->push_back(NumberCell(d));
  } else if (v.type() == JsonValue::Type::kArray) {
    for (const auto& item : v.items()) Flatten(item, out);
  } else {
    out->push_back(FromJson(v));
  }
}

bool IsIntType(const std::string& t) {
  return t == "INT8" || t == "INT16" || t == "INT32" || t == "INT64" || t == "UINT8" ||
         t == "UINT16" || t == "UINT32" || t == "UINT64";
}

// Checks one v2 value against its declared datatype.
Status CheckDatatype(const V2Input& in, size_t i) {
  const Cell& c = in.cells[i];
  const std::string at = "inputs '" + in.name + "' data[" + std::to_string(i) + "]";
  if (in.datatype == "BYTES") {
    if (c.kind != Cell::Kind::kString) return InvalidArgument(at + ": BYTES needs strings");
    return OkStatus();
  }
  if (in.datatype == "BOOL") {
    if (c.kind == Cell::Kind::kBool) return OkStatus();
    if (c.kind == Cell::Kind::kNumber && (c.number == 0 || c.number == 1)) return OkStatus();
    return InvalidArgument(at + ": BOOL needs true/false");
  }
  if (c.kind == Cell::Kind::kString || c.kind == Cell::Kind::kBool) {
    return InvalidArgument(at + ": " + in.datatype + " needs numbers");
  }
  if (c.kind == Cell::Kind::kNumber && IsIntType(in.datatype) && c.number != std::trunc(c.number)) {
    return InvalidArgument(at + ": " + in.datatype + " needs integers");
  }
  if (c.kind == Cell::Kind::kNumber && in.datatype.rfind("UINT", 0) == 0 && c.number < 0) {
    return InvalidArgument(at + ": " + in.datatype + " needs non-negative integers");
  }
  return OkStatus();
}

StatusOr<V2Input> ParseV2Input(const JsonValue& v, size_t i) {
  const std::string at = "inputs[" + std::to_string(i) + "]";
  if (!v.is_object()) return InvalidArgument(at + ": expected an object");
  V2Input in;
  const JsonValue* name = v.Find("name");
  if (name == nullptr || !name->is_string()) return InvalidArgument(at + ": missing 'name'");
  in.name = name->str();
  const std::string named = "inputs '" + in.name + "'";
  const JsonValue* datatype = v.Find("datatype");
  if (datatype == nullptr || !datatype->is_string()) {
    return InvalidArgument(named + ": missing 'datatype'");
  }
  in.datatype = datatype->str();
  static const char* kTypes[] = {"BOOL",   "UINT8", "UINT16", "UINT32", "UINT64", "INT8",
                                 "INT16",  "INT32", "INT64",  "FP32",   "FP64",   "BYTES"};
  if (std::find_if(std::begin(kTypes), std::end(kTypes),
                   [&](const char* t) { return in.datatype == t; }) == std::end(kTypes)) {
    return InvalidArgument(named + ": unsupported datatype '" + in.datatype + "'");
  }
  const JsonValue* shape = v.Find("shape");
  if (shape == nullptr || !shape->is_numeric_array() ||
      (shape->size() > 0 && !shape->nums_are_integers())) {
    return InvalidArgument(named + ": 'shape' must be a list of integers");
  }
  uint64_t expected = 1;
  for (double d : shape->nums()) {
    if (d < 0 || d > static_cast<double>(InputDecoder::kMaxRows) * 1024) {
      return InvalidArgument(named + ": shape dimension out of range");
    }
    in.shape.push_back(static_cast<int64_t>(d));
    expected *= static_cast<uint64_t>(d);
    if (expected > uint64_t{1} << 32) return ResourceExhausted(named + ": tensor too large");
  }
  if (in.shape.empty() || in.shape.size() > 2) {
    return InvalidArgument(named + ": shape must have 1 or 2 dimensions");
  }
  const JsonValue* data = v.Find("data");
  if (data == nullptr) return InvalidArgument(named + ": missing 'data'");
  Flatten(*data, &in.cells);
  if (in.cells.size() != expected) {
    return InvalidArgument(named + ": shape holds " + std::to_string(expected) +
                           " values but 'data' has " + std::to_string(in.cells.size()));
  }
  for (size_t k = 0; k < in.cells.size(); ++k) RETURN_IF_ERROR(CheckDatatype(in, k));
  return in;
}

}  // namespace

StatusOr<InputDecoder> InputDecoder::Create(const models::Model& model,
                                            const models::Signature& signature) {
  InputDecoder d;
  const auto& features = model.features();
  for (size_t i = 0; i < features.size(); ++i) {
    Column col;
    col.name = features[i].name;
    col.categorical = features[i].kind == models::FeatureInfo::Kind::kCategorical;
    col.type = col.categorical ? ColumnType::kString : ColumnType::kDouble;
    for (size_t k = 0; k < features[i].categories.size(); ++k) {
      col.category_codes.emplace(features[i].categories[k], static_cast<double>(k));
    }
    if (!d.index_.emplace(col.name, i).second) {
      return InvalidArgument("model has two features named '" + col.name + "'");
    }
    d.columns_.push_back(std::move(col));
  }
  for (const auto& spec : signature.input_columns) {
    auto it = d.index_.find(spec.name);
    if (it == d.index_.end()) {
      return InvalidArgument("signature column '" + spec.name + "' is not a model feature");
    }
    Column& col = d.columns_[it->second];
    col.type = spec.type;
    col.required = spec.required;
  }
  return d;
}

StatusOr<DecodedInput> InputDecoder::DecodeInvocations(std::string_view content_type,
                                                       std::string_view body) const {
  // "application/json; charset=utf-8" -> media type and parameters.
  const std::string ct = ToLower(content_type);
  const std::string media = Trim(ct.substr(0, ct.find(';')));
  const size_t charset = ct.find("charset=");
  if (charset != std::string::npos) {
    std::string value = Trim(ct.substr(charset + 8));
    value = value.substr(0, value.find(';'));
    if (!value.empty() && value.front() == '"') value = value.substr(1, value.size() - 2);
    if (value != "utf-8" && value != "utf8") {
      return Unimplemented("unsupported charset '" + value + "'; use utf-8");
    }
  }
  Decoder decoder(columns_, index_);
  if (media == "text/csv") return decoder.Csv(body);
  if (!media.empty() && media != "application/json") {
    return Unimplemented("unsupported content type '" + media +
                         "'; use application/json or text/csv");
  }
  StatusOr<JsonValue> doc = models::ParseJsonText(body, models::NumberPrecision::kFloat64);
  if (!doc.ok()) return InvalidArgument("invalid JSON body: " + doc.status().message());
  if (!doc->is_object()) return InvalidArgument("the JSON body must be an object");
  static const char* kFormats[] = {"dataframe_split", "dataframe_records", "instances", "inputs"};
  const JsonValue* value = nullptr;
  std::string format;
  for (const char* f : kFormats) {
    if (const JsonValue* v = doc->Find(f)) {
      if (value != nullptr) {
        return InvalidArgument("the body has both '" + format + "' and '" + f +
                               "'; send exactly one of dataframe_split, dataframe_records, "
                               "instances, inputs");
      }
      value = v;
      format = f;
    }
  }
  if (value == nullptr) {
    return InvalidArgument(
        "the body must have one of dataframe_split, dataframe_records, instances, inputs");
  }
  StatusOr<DecodedInput> out = [&]() -> StatusOr<DecodedInput> {
    if (format == "dataframe_split") return decoder.DataframeSplit(*value);
    if (format == "dataframe_records") {
      if (value->is_object()) return decoder.Columnar(*value, format, format);
      if (!value->is_array() || (value->size() > 0 && value->type() != JsonValue::Type::kArray)) {
        return InvalidArgument("dataframe_records: expected a list of objects");
      }
      return decoder.Records(*value, format, format);
    }
    return decoder.TfServing(*value, format);
  }();
  if (!out.ok()) return out;
  if (const JsonValue* params = doc->Find("params")) {
    if (!params->is_object()) return InvalidArgument("params: expected an object");
    out->params_json = models::ToJsonText(*params);
  }
  return out;
}

StatusOr<InferRequest> InputDecoder::DecodeInfer(std::string_view body) const {
  StatusOr<JsonValue> doc = models::ParseJsonText(body, models::NumberPrecision::kFloat64);
  if (!doc.ok()) return InvalidArgument("invalid JSON body: " + doc.status().message());
  if (!doc->is_object()) return InvalidArgument("the infer request must be a JSON object");
  InferRequest req;
  if (const JsonValue* id = doc->Find("id")) {
    if (!id->is_string()) return InvalidArgument("id: expected a string");
    req.id = id->str();
  }
  if (const JsonValue* outputs = doc->Find("outputs")) {
    if (outputs->type() != JsonValue::Type::kArray && outputs->size() != 0) {
      return InvalidArgument("outputs: expected a list");
    }
    for (const auto& o : outputs->items()) {
      const JsonValue* name = o.Find("name");
      if (name == nullptr || !name->is_string()) {
        return InvalidArgument("outputs: each entry needs a 'name'");
      }
      req.output_names.push_back(name->str());
    }
  }
  const JsonValue* inputs = doc->Find("inputs");
  if (inputs == nullptr || inputs->type() != JsonValue::Type::kArray || inputs->size() == 0) {
    return InvalidArgument("inputs: expected a non-empty list of tensors");
  }
  std::vector<V2Input> tensors;
  for (size_t i = 0; i < inputs->items().size(); ++i) {
    ASSIGN_OR_RETURN(V2Input t, ParseV2Input(inputs->items()[i], i));
    tensors.push_back(std::move(t));
  }
  const size_t nf = columns_.size();
  // One [N, F] tensor (or [F] for one row) not named after a feature.
  if (tensors.size() == 1 && !index_.count(tensors[0].name) &&
      ((tensors[0].shape.size() == 2 && static_cast<size_t>(tensors[0].shape[1]) == nf) ||
       (tensors[0].shape.size() == 1 && static_cast<size_t>(tensors[0].shape[0]) == nf))) {
    const V2Input& t = tensors[0];
    const size_t n = t.shape.size() == 2 ? static_cast<size_t>(t.shape[0]) : 1;
    RETURN_IF_ERROR(CheckRowCount(n, columns_.size()));
    MatrixBuilder m(columns_, n);
    for (size_t r = 0; r < n; ++r) {
      for (size_t c = 0; c < nf; ++c) {
        Cell cell = t.cells[r * nf + c];
        if (t.datatype == "BOOL" && cell.kind == Cell::Kind::kBool) cell = NumberCell(cell.boolean);
        RETURN_IF_ERROR(m.Set(r, c, cell));
      }
    }
    req.input = std::move(m).Finish("v2");
    return req;
  }
  if (tensors.size() == 1 && !index_.count(tensors[0].name)) {
    return InvalidArgument("inputs '" + tensors[0].name + "': expected shape [N, " +
                           std::to_string(nf) + "] or one input per feature");
  }
  // One input per column.
  const size_t n = static_cast<size_t>(tensors[0].shape[0]);
  RETURN_IF_ERROR(CheckRowCount(n, columns_.size()));
  MatrixBuilder m(columns_, n);
  Decoder decoder(columns_, index_);
  for (const V2Input& t : tensors) {
    ASSIGN_OR_RETURN(size_t c, decoder.ColumnIndex(t.name, "inputs"));
    if (m.Seen(c)) return InvalidArgument("inputs: column '" + t.name + "' repeated");
    m.MarkSeen(c);
    if (static_cast<size_t>(t.shape[0]) != n || (t.shape.size() == 2 && t.shape[1] != 1)) {
      return InvalidArgument("inputs '" + t.name + "': shape must be [" + std::to_string(n) +
                             "] or [" + std::to_string(n) + ", 1] like the other inputs");
    }
    for (size_t r = 0; r < n; ++r) {
      Cell cell = t.cells[r];
      // BOOL tensors feed boolean (or numeric) columns as 0/1.
      if (t.datatype == "BOOL" && columns_[c].type != ColumnType::kBoolean) {
        cell = NumberCell(cell.kind == Cell::Kind::kBool ? cell.boolean : cell.number);
      } else if (t.datatype == "BOOL" && cell.kind == Cell::Kind::kNumber) {
        Cell b;
        b.kind = Cell::Kind::kBool;
        b.boolean = cell.number != 0;
        cell = b;
      }
      RETURN_IF_ERROR(m.Set(r, c, cell));
    }
  }
  RETURN_IF_ERROR(m.CheckMissingColumns());
  req.input = std::move(m).Finish("v2");
  return req;
}

std::string EncodeInvocationsResponse(const std::vector<double>& predictions, size_t width,
                                      models::OutputKind kind) {
  std::string out = "{\"predictions\": ";
  AppendPredictions(predictions, width, kind == models::OutputKind::kClassLabel, &out);
  out.push_back('}');
  return out;
}

std::string EncodeInferResponse(std::string_view model_name, std::string_view model_version,
                                std::string_view id, const std::vector<double>& predictions,
                                size_t width, models::OutputKind kind) {
  const bool labels = kind == models::OutputKind::kClassLabel;
  const size_t n_rows = width == 0 ? 0 : predictions.size() / width;
  std::string out = "{\"model_name\": ";
  AppendJsonString(model_name, &out);
  if (!model_version.empty()) {
    out.append(", \"model_version\": ");
    AppendJsonString(model_version, &out);
  }
  out.append(", \"id\": ");
  AppendJsonString(id, &out);
  out.append(", \"outputs\": [{\"name\": \"predict\", \"datatype\": \"");
  out.append(labels ? "INT64" : "FP64");
  out.append("\", \"shape\": [");
  out.append(std::to_string(n_rows));
  if (width != 1) out.append(", " + std::to_string(width));
  out.append("], \"data\": [");
  for (size_t i = 0; i < predictions.size(); ++i) {
    if (i) out.push_back(',');
    AppendNumber(predictions[i], labels, &out);
  }
  out.append("]}]}");
  return out;
}

namespace {

std::string_view V2Datatype(ColumnType t) {
  switch (t) {
    case ColumnType::kFloat: return "FP32";
    case ColumnType::kLong: return "INT64";
    case ColumnType::kInteger: return "INT32";
    case ColumnType::kBoolean: return "BOOL";
    case ColumnType::kString:
    case ColumnType::kBinary: return "BYTES";
    default: return "FP64";
  }
}

}  // namespace

std::string EncodeV2ModelMetadata(std::string_view model_name,
                                  const std::vector<std::string>& versions,
                                  std::string_view platform, const InputDecoder& decoder,
                                  size_t output_width, models::OutputKind kind) {
  std::string out = "{\"name\": ";
  AppendJsonString(model_name, &out);
  if (!versions.empty()) {
    out.append(", \"versions\": [");
    for (size_t i = 0; i < versions.size(); ++i) {
      if (i) out.append(", ");
      AppendJsonString(versions[i], &out);
    }
    out.push_back(']');
  }
  out.append(", \"platform\": ");
  AppendJsonString(platform, &out);
  out.append(", \"inputs\": [");
  const auto& columns = decoder.columns();
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) out.append(", ");
    out.append("{\"name\": ");
    AppendJsonString(columns[i].name, &out);
    out.append(", \"datatype\": \"");
    out.append(V2Datatype(columns[i].type));
    out.append("\", \"shape\": [-1]}");
  }
  out.append("], \"outputs\": [{\"name\": \"predict\", \"datatype\": \"");
  out.append(kind == models::OutputKind::kClassLabel ? "INT64" : "FP64");
  out.append("\", \"shape\": [-1");
  if (output_width != 1) out.append(", " + std::to_string(output_width));
  out.append("]}]}");
  return out;
}

}  // namespace cairn::serving
