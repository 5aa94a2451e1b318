// A small read-only document model for model files: JSON text and UBJSON (the binary JSON
// that XGBoost writes to .ubj files) parse into the same JsonValue tree.
//
// Why not nlohmann/simdjson here: XGBoost stores every real number as a 32-bit float and
// parses text with a float (not double) conversion; reproducing its predictions bit for bit
// needs the same rounding. UBJSON typed arrays ("[$d#L<n>") are kept as compact numeric
// arrays, so a 1000-tree model does not become millions of DOM nodes.
//
// Hostile input: both parsers bound nesting depth (kMaxJsonDepth), check every length
// against the bytes that remain before allocating, and return InvalidArgument naming the
// byte offset of the first problem. They never abort.
//
// Thread-safety: values; parse functions are reentrant.
#pragma once

#include <cstdint>      // for int64_t
#include <string>       // for string
#include <string_view>  // for string_view
#include <utility>      // for pair
#include <vector>       // for vector

#include "common/status.h"

namespace cairn::models {

inline constexpr int kMaxJsonDepth = 128;

// How JSON text numbers with a fraction or exponent are converted. kFloat32 rounds the
// decimal text straight to float (XGBoost's rule); kFloat64 keeps double precision.
enum class NumberPrecision { kFloat32, kFloat64 };

class JsonValue {
 public:
  enum class Type {
    kNull,
    kBool,
    kInt,       // an integer (text without fraction/exponent; UBJSON integer markers)
    kNumber,    // a real number
    kString,
    kArray,     // heterogeneous array
    kObject,
    kNumArray,  // an array whose elements are all numbers (text or UBJSON typed array)
  };

  JsonValue() = default;

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_number() const { return type_ == Type::kInt || type_ == Type::kNumber; }
  // True for kArray and kNumArray.
  bool is_array() const { return type_ == Type::kArray || type_ == Type::kNumArray; }
  // True for kNumArray and for an empty kArray.
  bool is_numeric_array() const {
    return type_ == Type::kNumArray || (type_ == Type::kArray && items_.empty());
  }

  bool bool_value() const { return bool_; }
  // For kInt: the exact integer. For kNumber: the value truncated (callers check range).
  int64_t int_value() const { return int_; }
  // For kInt and kNumber.
  double number() const { return number_; }
  bool is_integer() const { return type_ == Type::kInt; }
  const std::string& str() const { return str_; }
  // kArray elements (empty for a kNumArray: use nums()).
  const std::vector<JsonValue>& items() const { return items_; }
  // kNumArray elements as doubles (integers above 2^53 lose precision; reals that came
  // from float32 are exact).
  const std::vector<double>& nums() const { return nums_; }
  // True when every element of a kNumArray was an integer.
  bool nums_are_integers() const { return nums_integral_; }
  // Number of elements of an array of either kind.
  size_t size() const { return type_ == Type::kNumArray ? nums_.size() : items_.size(); }
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }
  // The member named key of an object, or nullptr (also nullptr when this is not an object).
  // With duplicate keys the last one wins, as in XGBoost's std::map.
  const JsonValue* Find(std::string_view key) const;

  static JsonValue Null() { return JsonValue(); }
  static JsonValue Bool(bool b);
  static JsonValue Int(int64_t v);
  static JsonValue Number(double v);
  static JsonValue String(std::string s);
  static JsonValue Array(std::vector<JsonValue> items);
  static JsonValue NumArray(std::vector<double> nums, bool integral);
  static JsonValue Object(std::vector<std::pair<std::string, JsonValue>> members);

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  bool nums_integral_ = false;
  int64_t int_ = 0;
  double number_ = 0;
  std::string str_;
  std::vector<JsonValue> items_;
  std::vector<double> nums_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

// Parses one JSON text document (RFC 8259 plus the NaN / Infinity / -Infinity literals
// XGBoost may write). Trailing non-whitespace is an error. Arrays of numbers become
// kNumArray. Errors: InvalidArgument("json: <what> at byte N").
StatusOr<JsonValue> ParseJsonText(std::string_view text, NumberPrecision precision);

// Parses one UBJSON document (big-endian; containers with and without '#' counts; typed
// '$' arrays of d, D, i, U, I, l, L). 'H' (high precision) is rejected. Errors:
// InvalidArgument("ubjson: <what> at byte N").
StatusOr<JsonValue> ParseUbjson(std::string_view bytes);

// Writes a value as compact JSON text (numbers in shortest round-trip form; NaN and
// infinities as NaN / Infinity / -Infinity, as Python's json module does).
std::string ToJsonText(const JsonValue& value);

// True when bytes look like a UBJSON object rather than JSON text: "{" followed by a UBJSON
// length or container marker (JSON text has a quote or whitespace there).
bool LooksLikeUbjson(std::string_view bytes);

}  // namespace cairn::models
