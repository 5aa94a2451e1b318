#include "models/json_value.h"

#include <bit>           // for bit_cast
#include <charconv>      // for from_chars
#include <cmath>         // for isfinite
#include <cstdlib>       // for strtof, strtod
#include <cstring>       // for memcpy
#include <limits>        // for numeric_limits
#include <system_error>  // for errc

namespace cairn::models {

const JsonValue* JsonValue::Find(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (auto it = members_.rbegin(); it != members_.rend(); ++it) {
    if (it->first == key) return &it->second;
  }
  return nullptr;
}

JsonValue JsonValue::Bool(bool b) {
  JsonValue v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}
JsonValue JsonValue::Int(int64_t i) {
  JsonValue v;
  v.type_ = Type::kInt;
  v.int_ = i;
  v.number_ = static_cast<double>(i);
  return v;
}
JsonValue JsonValue::Number(double d) {
  JsonValue v;
  v.type_ = Type::kNumber;
  v.number_ = d;
  // Saturate rather than invoke undefined behaviour on out-of-range conversion.
  if (!(d == d)) {
    v.int_ = 0;
  } else if (d >= 9.2e18) {
    v.int_ = std::numeric_limits<int64_t>::max();
  } else if (d <= -9.2e18) {
    v.int_ = std::numeric_limits<int64_t>::min();
  } else {
    v.int_ = static_cast<int64_t>(d);
  }
  return v;
}
JsonValue JsonValue::String(std::string s) {
  JsonValue v;
  v.type_ = Type::kString;
  v.str_ = std::move(s);
  return v;
}
JsonValue JsonValue::Array(std::vector<JsonValue> items) {
  JsonValue v;
  v.type_ = Type::kArray;
  v.items_ = std::move(items);
  return v;
}
JsonValue JsonValue::NumArray(std::vector<double> nums, bool integral) {
  JsonValue v;
  v.type_ = Type::kNumArray;
  v.nums_ = std::move(nums);
  v.nums_integral_ = integral;
  return v;
}
JsonValue JsonValue::Object(std::vector<std::pair<std::string, JsonValue>> members) {
  JsonValue v;
  v.type_ = Type::kObject;
  v.members_ = std::move(members);
  return v;
}

namespace {

// Turns an array whose elements are all numbers into a compact kNumArray.
JsonValue MakeArray(std::vector<JsonValue> items) {
  if (items.empty()) return JsonValue::Array({});
  bool all_numbers = true;
  bool all_ints = true;
  for (const auto& item : items) {
    if (!item.is_number()) {
      all_numbers = false;
      break;
    }
    all_ints = all_ints && item.is_integer();
  }
  if (!all_numbers) return JsonValue::Array(std::move(items));
  std::vector<double> nums;
  nums.reserve(items.size());
  for (const auto& item : items) nums.push_back(item.number());
  return JsonValue::NumArray(std::move(nums), all_ints);
}

// ---- JSON text -----------------------------------------------------------------------

class TextParser {
 public:
  TextParser(std::string_view text, NumberPrecision precision)
      : text_(text), precision_(precision) {}

  StatusOr<JsonValue> ParseDocument() {
    JsonValue value;
    RETURN_IF_ERROR(ParseValue(0, &value));
    SkipSpace();
    if (pos_ != text_.size()) return Error("trailing characters");
    return value;
  }

 private:
  Status Error(std::string_view what) const {
    return InvalidArgument("json: " + std::string(what) + " at byte " + std::to_string(pos_));
  }
  void SkipSpace() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }
  bool Consume(std::string_view literal) {
    if (text_.substr(pos_, literal.size()) != literal) return false;
    pos_ += literal.size();
    return true;
  }

  Status ParseValue(int depth, JsonValue* out) {
    if (depth > kMaxJsonDepth) return Error("nesting too deep");
    SkipSpace();
    if (pos_ >= text_.size()) return Error("unexpected end of input");
    char c = text_[pos_];
    switch (c) {
      case '{':
        return ParseObject(depth, out);
      case '[':
        return ParseArray(depth, out);
      case '"': {
        std::string s;
        RETURN_IF_ERROR(ParseString(&s));
        *out = JsonValue::String(std::move(s));
        return OkStatus();
      }
      case 't':
        if (!Consume("true")) return Error("invalid literal");
        *out = JsonValue::Bool(true);
        return OkStatus();
      case 'f':
        if (!Consume("false")) return Error("invalid literal");
        *out = JsonValue::Bool(false);
        return OkStatus();
      case 'n':
        if (!Consume("null")) return Error("invalid literal");
        *out = JsonValue::Null();
        return OkStatus();
      default:
        return ParseNumber(out);
    }
  }

  Status ParseObject(int depth, JsonValue* out) {
    ++pos_;  // '{'
    std::vector<std::pair<std::string, JsonValue>> members;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      *out = JsonValue::Object(std::move(members));
      return OkStatus();
    }
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') return Error("expected object key");
      std::string key;
      RETURN_IF_ERROR(ParseString(&key));
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ':') return Error("expected ':'");
      ++pos_;
      JsonValue value;
      RETURN_IF_ERROR(ParseValue(depth + 1, &value));
      members.emplace_back(std::move(key), std::move(value));
      SkipSpace();
      if (pos_ >= text_.size()) return Error("unterminated object");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == '}') {
        ++pos_;
        break;
      }
      return Error("expected ',' or '}'");
    }
    *out = JsonValue::Object(std::move(members));
    return OkStatus();
  }

  Status ParseArray(int depth, JsonValue* out) {
    ++pos_;  // '['
    std::vector<JsonValue> items;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      *out = JsonValue::Array({});
      return OkStatus();
    }
    while (true) {
      JsonValue value;
      RETURN_IF_ERROR(ParseValue(depth + 1, &value));
      items.push_back(std::move(value));
      SkipSpace();
      if (pos_ >= text_.size()) return Error("unterminated array");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == ']') {
        ++pos_;
        break;
      }
      return Error("expected ',' or ']'");
    }
    *out = MakeArray(std::move(items));
    return OkStatus();
  }

  static int HexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  Status ParseHex4(uint32_t* out) {
    if (text_.size() - pos_ < 4) return Error("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      int d = HexDigit(text_[pos_ + i]);
      if (d < 0) return Error("invalid \\u escape");
      v = v * 16 + static_cast<uint32_t>(d);
    }
    pos_ += 4;
    *out = v;
    return OkStatus();
  }

  static void AppendUtf8(uint32_t cp, std::string* s) {
    if (cp < 0x80) {
      s->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  Status ParseString(std::string* out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= text_.size()) return Error("unterminated string");
      char c = text_[pos_++];
      if (c == '"') return OkStatus();
      if (static_cast<unsigned char>(c) < 0x20) return Error("control character in string");
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) return Error("unterminated escape");
      char e = text_[pos_++];
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp = 0;
          RETURN_IF_ERROR(ParseHex4(&cp));
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t low = 0;
            if (!Consume("\\u")) return Error("unpaired surrogate");
            RETURN_IF_ERROR(ParseHex4(&low));
            if (low < 0xDC00 || low >= 0xE000) return Error("invalid low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return Error("unpaired surrogate");
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Error("invalid escape");
      }
    }
  }

  Status ParseNumber(JsonValue* out) {
    const size_t begin = pos_;
    bool negative = false;
    if (text_[pos_] == '-' || text_[pos_] == '+') {
      negative = text_[pos_] == '-';
      ++pos_;
    }
    if (Consume("NaN")) {
      *out = JsonValue::Number(std::numeric_limits<double>::quiet_NaN());
      return OkStatus();
    }
    if (Consume("Infinity")) {
      double inf = std::numeric_limits<double>::infinity();
      *out = JsonValue::Number(negative ? -inf : inf);
      return OkStatus();
    }
    const size_t digits_begin = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    if (pos_ == digits_begin) return Error("invalid value");
    bool is_real = false;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      is_real = true;
      ++pos_;
      const size_t frac_begin = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      if (pos_ == frac_begin) return Error("expected digit after '.'");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      is_real = true;
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      const size_t exp_begin = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      if (pos_ == exp_begin) return Error("expected digit in exponent");
    }
    // from_chars rejects a leading '+'.
    const char* first = text_.data() + begin + (text_[begin] == '+' ? 1 : 0);
    const char* last = text_.data() + pos_;
    if (!is_real) {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(first, last, v);
      if (ec == std::errc() && ptr == last) {
        *out = JsonValue::Int(v);
        return OkStatus();
      }
      // Out of int64 range: keep it as a real (callers range-check).
    }
    if (precision_ == NumberPrecision::kFloat32) {
      float f = 0;
      auto [ptr, ec] = std::from_chars(first, last, f);
      if (ec == std::errc::result_out_of_range) {
        // Overflow to +-inf and underflow to 0, as strtof does.
        f = std::strtof(std::string(first, last).c_str(), nullptr);
      } else if (ec != std::errc() || ptr != last) {
        return Error("invalid number");
      }
      *out = JsonValue::Number(static_cast<double>(f));
    } else {
      double d = 0;
      auto [ptr, ec] = std::from_chars(first, last, d);
      if (ec == std::errc::result_out_of_range) {
        d = std::strtod(std::string(first, last).c_str(), nullptr);
      } else if (ec != std::errc() || ptr != last) {
        return Error("invalid number");
      }
      *out = JsonValue::Number(d);
    }
    return OkStatus();
  }

  std::string_view text_;
  NumberPrecision precision_;
  size_t pos_ = 0;
};

// ---- UBJSON ----------------------------------------------------------------------------

class UbjParser {
 public:
  explicit UbjParser(std::string_view bytes) : bytes_(bytes) {}

  StatusOr<JsonValue> ParseDocument() {
    JsonValue value;
    RETURN_IF_ERROR(ParseValue(0, &value));
    if (pos_ != bytes_.size()) return Error("trailing bytes");
    return value;
  }

 private:
  Status Error(std::string_view what) const {
    return InvalidArgument("ubjson: " + std::string(what) + " at byte " + std::to_string(pos_));
  }
  size_t Remaining() const { return bytes_.size() - pos_; }

  Status NextMarker(char* marker) {
    // 'N' is a no-op marker that may appear anywhere a value may.
    while (pos_ < bytes_.size() && bytes_[pos_] == 'N') ++pos_;
    if (pos_ >= bytes_.size()) return Error("unexpected end of input");
    *marker = bytes_[pos_++];
    return OkStatus();
  }
  Status PeekMarker(char* marker) {
    while (pos_ < bytes_.size() && bytes_[pos_] == 'N') ++pos_;
    if (pos_ >= bytes_.size()) return Error("unexpected end of input");
    *marker = bytes_[pos_];
    return OkStatus();
  }

  template <typename T>
  Status ReadBigEndian(T* out) {
    if (Remaining() < sizeof(T)) return Error("truncated value");
    unsigned char buf[sizeof(T)];
    std::memcpy(buf, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    if constexpr (std::endian::native == std::endian::little) {
      for (size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(buf[i], buf[sizeof(T) - 1 - i]);
    }
    std::memcpy(out, buf, sizeof(T));
    return OkStatus();
  }

  static size_t ElementSize(char type) {
    switch (type) {
      case 'i': case 'U': case 'C': return 1;
      case 'I': return 2;
      case 'l': case 'd': return 4;
      case 'L': case 'D': return 8;
      default: return 0;
    }
  }

  // Reads a number whose marker is `type`. Sets *is_int.
  Status ReadScalar(char type, double* value, int64_t* int_value, bool* is_int) {
    *is_int = true;
    switch (type) {
      case 'i': { int8_t v = 0; RETURN_IF_ERROR(ReadBigEndian(&v)); *int_value = v; break; }
      case 'U': { uint8_t v = 0; RETURN_IF_ERROR(ReadBigEndian(&v)); *int_value = v; break; }
      case 'C': { int8_t v = 0; RETURN_IF_ERROR(ReadBigEndian(&v)); *int_value = v; break; }
      case 'I': { int16_t v = 0; RETURN_IF_ERROR(ReadBigEndian(&v)); *int_value = v; break; }
      case 'l': { int32_t v = 0; RETURN_IF_ERROR(ReadBigEndian(&v)); *int_value = v; break; }
      case 'L': { int64_t v = 0; RETURN_IF_ERROR(ReadBigEndian(&v)); *int_value = v; break; }
      case 'd': {
        float v = 0;
        RETURN_IF_ERROR(ReadBigEndian(&v));
        *is_int = false;
        *value = v;
        return OkStatus();
      }
      case 'D': {
        double v = 0;
        RETURN_IF_ERROR(ReadBigEndian(&v));
        *is_int = false;
        *value = v;
        return OkStatus();
      }
      default:
        return Error(std::string("unsupported number marker '") + type + "'");
    }
    *value = static_cast<double>(*int_value);
    return OkStatus();
  }

  // A length: an integer marker followed by a non-negative integer.
  Status ReadLength(int64_t* out) {
    char type = 0;
    RETURN_IF_ERROR(NextMarker(&type));
    double ignored = 0;
    bool is_int = false;
    RETURN_IF_ERROR(ReadScalar(type, &ignored, out, &is_int));
    if (!is_int) return Error("length is not an integer");
    if (*out < 0) return Error("negative length");
    return OkStatus();
  }

  Status ReadString(std::string* out) {
    int64_t n = 0;
    RETURN_IF_ERROR(ReadLength(&n));
    if (static_cast<uint64_t>(n) > Remaining()) return Error("string length exceeds input");
    out->assign(bytes_.data() + pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return OkStatus();
  }

  Status ParseValue(int depth, JsonValue* out) {
    if (depth > kMaxJsonDepth) return Error("nesting too deep");
    char marker = 0;
    RETURN_IF_ERROR(NextMarker(&marker));
    return ParseWithMarker(marker, depth, out);
  }

  Status ParseWithMarker(char marker, int depth, JsonValue* out) {
    switch (marker) {
      case '{':
        return ParseObject(depth, out);
      case '[':
        return ParseArray(depth, out);
      case 'Z':
        *out = JsonValue::Null();
        return OkStatus();
      case 'T':
        *out = JsonValue::Bool(true);
        return OkStatus();
      case 'F':
        *out = JsonValue::Bool(false);
        return OkStatus();
      case 'S': {
        std::string s;
        RETURN_IF_ERROR(ReadString(&s));
        *out = JsonValue::String(std::move(s));
        return OkStatus();
      }
      case 'H':
        return Error("high-precision numbers are not supported");
      default: {
        if (ElementSize(marker) == 0) return Error("unknown marker");
        double v = 0;
        int64_t i = 0;
        bool is_int = false;
        RETURN_IF_ERROR(ReadScalar(marker, &v, &i, &is_int));
        *out = is_int ? JsonValue::Int(i) : JsonValue::Number(v);
        return OkStatus();
      }
    }
  }

  Status ParseObject(int depth, JsonValue* out) {
    std::vector<std::pair<std::string, JsonValue>> members;
    char marker = 0;
    RETURN_IF_ERROR(PeekMarker(&marker));
    if (marker == '$' || marker == '#') {
      // Optimised object: [$type] #count, then count key/value pairs without '}'.
      char type = 0;
      if (marker == '$') {
        ++pos_;
        RETURN_IF_ERROR(NextMarker(&type));
        RETURN_IF_ERROR(PeekMarker(&marker));
        if (marker != '#') return Error("typed object without count");
      }
      ++pos_;
      int64_t n = 0;
      RETURN_IF_ERROR(ReadLength(&n));
      if (static_cast<uint64_t>(n) > Remaining()) return Error("object count exceeds input");
      for (int64_t k = 0; k < n; ++k) {
        std::string key;
        RETURN_IF_ERROR(ReadString(&key));
        JsonValue value;
        if (type != 0) {
          if (depth + 1 > kMaxJsonDepth) return Error("nesting too deep");
          RETURN_IF_ERROR(ParseWithMarker(type, depth + 1, &value));
        } else {
          RETURN_IF_ERROR(ParseValue(depth + 1, &value));
        }
        members.emplace_back(std::move(key), std::move(value));
      }
      *out = JsonValue::Object(std::move(members));
      return OkStatus();
    }
    while (true) {
      RETURN_IF_ERROR(PeekMarker(&marker));
      if (marker == '}') {
        ++pos_;
        break;
      }
      std::string key;
      RETURN_IF_ERROR(ReadString(&key));
      JsonValue value;
      RETURN_IF_ERROR(ParseValue(depth + 1, &value));
      members.emplace_back(std::move(key), std::move(value));
    }
    *out = JsonValue::Object(std::move(members));
    return OkStatus();
  }

  Status ParseTypedArray(char type, int64_t n, JsonValue* out) {
    const size_t elem = ElementSize(type);
    if (elem == 0) return Error(std::string("unsupported typed array element '") + type + "'");
    if (static_cast<uint64_t>(n) > Remaining() / elem) return Error("array length exceeds input");
    std::vector<double> nums(static_cast<size_t>(n));
    const bool integral = type != 'd' && type != 'D';
    for (auto& num : nums) {
      int64_t i = 0;
      bool is_int = false;
      RETURN_IF_ERROR(ReadScalar(type, &num, &i, &is_int));
    }
    *out = JsonValue::NumArray(std::move(nums), integral);
    return OkStatus();
  }

  Status ParseArray(int depth, JsonValue* out) {
    char marker = 0;
    RETURN_IF_ERROR(PeekMarker(&marker));
    if (marker == '$') {
      ++pos_;
      char type = 0;
      RETURN_IF_ERROR(NextMarker(&type));
      RETURN_IF_ERROR(PeekMarker(&marker));
      if (marker != '#') return Error("typed array without count");
      ++pos_;
      int64_t n = 0;
      RETURN_IF_ERROR(ReadLength(&n));
      return ParseTypedArray(type, n, out);
    }
    std::vector<JsonValue> items;
    if (marker == '#') {
      ++pos_;
      int64_t n = 0;
      RETURN_IF_ERROR(ReadLength(&n));
      // Every element takes at least one byte.
      if (static_cast<uint64_t>(n) > Remaining()) return Error("array count exceeds input");
      items.resize(static_cast<size_t>(n));
      for (auto& item : items) RETURN_IF_ERROR(ParseValue(depth + 1, &item));
    } else {
      while (true) {
        RETURN_IF_ERROR(PeekMarker(&marker));
        if (marker == ']') {
          ++pos_;
          break;
        }
        JsonValue item;
        RETURN_IF_ERROR(ParseValue(depth + 1, &item));
        items.push_back(std::move(item));
      }
    }
    *out = MakeArray(std::move(items));
    return OkStatus();
  }

  std::string_view bytes_;
  size_t pos_ = 0;
};

void AppendNumber(double d, bool integral, std::string* out) {
  if (d != d) {
    out->append("NaN");
  } else if (d == std::numeric_limits<double>::infinity()) {
    out->append("Infinity");
  } else if (d == -std::numeric_limits<double>::infinity()) {
    out->append("-Infinity");
  } else {
    char buf[64];
    auto r = integral && d > -9e15 && d < 9e15
                 ? std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(d))
                 : std::to_chars(buf, buf + sizeof(buf), d);
    out->append(buf, r.ptr);
  }
}

void AppendString(const std::string& s, std::string* out) {
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
          static const char kHex[] = "0123456789abcdef";
          out->append("\\u00");
          out->push_back(kHex[(c >> 4) & 0xF]);
          out->push_back(kHex[c & 0xF]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void AppendValue(const JsonValue& v, std::string* out) {
  switch (v.type()) {
    case JsonValue::Type::kNull: out->append("null"); return;
    case JsonValue::Type::kBool: out->append(v.bool_value() ? "true" : "false"); return;
    case JsonValue::Type::kInt: AppendNumber(v.number(), true, out); return;
    case JsonValue::Type::kNumber: AppendNumber(v.number(), false, out); return;
    case JsonValue::Type::kString: AppendString(v.str(), out); return;
    case JsonValue::Type::kNumArray:
      out->push_back('[');
      for (size_t i = 0; i < v.nums().size(); ++i) {
        if (i) out->push_back(',');
        AppendNumber(v.nums()[i], v.nums_are_integers(), out);
      }
      out->push_back(']');
      return;
    case JsonValue::Type::kArray:
      out->push_back('[');
      for (size_t i = 0; i < v.items().size(); ++i) {
        if (i) out->push_back(',');
        AppendValue(v.items()[i], out);
      }
      out->push_back(']');
      return;
    case JsonValue::Type::kObject:
      out->push_back('{');
      for (size_t i = 0; i < v.members().size(); ++i) {
        if (i) out->push_back(',');
        AppendString(v.members()[i].first, out);
        out->push_back(':');
        AppendValue(v.members()[i].second, out);
      }
      out->push_back('}');
      return;
  }
}

}  // namespace

std::string ToJsonText(const JsonValue& value) {
  std::string out;
  AppendValue(value, &out);
  return out;
}

StatusOr<JsonValue> ParseJsonText(std::string_view text, NumberPrecision precision) {
  return TextParser(text, precision).ParseDocument();
}

StatusOr<JsonValue> ParseUbjson(std::string_view bytes) {
  return UbjParser(bytes).ParseDocument();
}

bool LooksLikeUbjson(std::string_view bytes) {
  // A model document is an object. In UBJSON the byte after '{' is the marker of the first
  // key's length (or an optimised-container marker); in JSON text it is a quote or space.
  if (bytes.size() < 2 || bytes[0] != '{') return false;
  return std::string_view("iUIlL$#").find(bytes[1]) != std::string_view::npos;
}

}  // namespace cairn::models
