// Offset page tokens: SearchUtils.create_page_token / parse_start_offset_from_page_token.
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tracking/search/internal.h"
#include "tracking/search/search.h"

namespace cairn::tracking::search {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Python's repr of bytes: b'...'.
std::string PyBytesRepr(std::string_view bytes) {
  bool has_single = bytes.find('\'') != std::string_view::npos;
  bool has_double = bytes.find('"') != std::string_view::npos;
  char quote = has_single && !has_double ? '"' : '\'';
  std::string out = "b";
  out += quote;
  for (unsigned char c : bytes) {
    if (c == static_cast<unsigned char>(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += quote;
  return out;
}

// Python's repr of a parsed JSON value (dict/list/str/number/bool/None); objects keep their
// key order when given an ordered_json.
template <typename Json>
std::string PyJsonRepr(const Json& j) {
  if (j.is_object()) {
    std::string out = "{";
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!first) out += ", ";
      first = false;
      out += internal::PyRepr(it.key()) + ": " + PyJsonRepr(it.value());
    }
    return out + "}";
  }
  if (j.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < j.size(); ++i) out += (i ? ", " : "") + PyJsonRepr(j[i]);
    return out + "]";
  }
  if (j.is_string()) return internal::PyRepr(j.template get<std::string>());
  if (j.is_boolean()) return j.template get<bool>() ? "True" : "False";
  if (j.is_null()) return "None";
  if (j.is_number_float()) {
    std::string s = fmt::format("{}", j.template get<double>());
    if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
    return s;
  }
  return j.dump();
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  size_t i = 0;
  while (i + 2 < bytes.size()) {
    uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
    i += 3;
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  // CPython's binascii.a2b_base64 in non-strict mode: non-alphabet characters are skipped;
  // a pad completing a quad ends the input; data after a partial pad resets it.
  std::string out;
  uint32_t acc = 0;
  int n = 0;  // sextets in the current quad
  int pads = 0;
  for (char c : text) {
    if (c == '=') {
      if (n >= 2 && n + ++pads >= 4) {
        // The complete bytes of this quad are already out.
        return out;
      }
      continue;
    }
    int v = Sextet(c);
    if (v < 0) continue;
    pads = 0;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    ++n;
    if (n == 2) out += static_cast<char>((acc >> 4) & 0xff);
    if (n == 3) out += static_cast<char>((acc >> 2) & 0xff);
    if (n == 4) {
      out += static_cast<char>(acc & 0xff);
      acc = 0;
      n = 0;
    }
  }
  if (n != 0) return std::nullopt;  // "Incorrect padding" / "1 more than a multiple of 4"
  return out;
}

namespace {

// json.dumps with its defaults: ", " and ": " separators, non-ASCII as \\uXXXX.
std::string PyJsonDumps(const nlohmann::ordered_json& j) {
  if (j.is_object()) {
    std::string out = "{";
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!first) out += ", ";
      first = false;
      out += PyJsonDumps(nlohmann::ordered_json(it.key())) + ": " + PyJsonDumps(it.value());
    }
    return out + "}";
  }
  if (j.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < j.size(); ++i) out += (i ? ", " : "") + PyJsonDumps(j[i]);
    return out + "]";
  }
  if (j.is_string()) {
    // nlohmann escapes control characters like Python; ensure_ascii does the rest.
    return j.dump(-1, ' ', /*ensure_ascii=*/true);
  }
  return j.dump();
}

nlohmann::ordered_json LoggedModelTokenRequest(const std::vector<std::string>& experiment_ids,
                                               std::string_view filter,
                                               const std::vector<LoggedModelOrderBy>& order_by) {
  nlohmann::ordered_json j;
  j["experiment_ids"] = experiment_ids;
  j["filter_string"] = filter.empty() ? nlohmann::ordered_json(nullptr)
                                      : nlohmann::ordered_json(std::string(filter));
  if (order_by.empty()) {
    j["order_by"] = nullptr;
  } else {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const LoggedModelOrderBy& ob : order_by) {
      nlohmann::ordered_json o;
      o["field_name"] = ob.field_name;
      o["ascending"] = ob.ascending;
      // The handler turns empty strings into None.
      o["dataset_name"] = ob.dataset_name && !ob.dataset_name->empty()
                              ? nlohmann::ordered_json(*ob.dataset_name)
                              : nlohmann::ordered_json(nullptr);
      o["dataset_digest"] = ob.dataset_digest && !ob.dataset_digest->empty()
                                ? nlohmann::ordered_json(*ob.dataset_digest)
                                : nlohmann::ordered_json(nullptr);
      list.push_back(std::move(o));
    }
    j["order_by"] = std::move(list);
  }
  return j;
}

std::string PyOptionalRepr(const nlohmann::ordered_json& j) {
  return j.is_null() ? "None" : j.is_string() ? j.get<std::string>() : PyJsonRepr(j);
}

}  // namespace

std::string EncodeLoggedModelPageToken(const std::vector<std::string>& experiment_ids,
                                       std::string_view filter,
                                       const std::vector<LoggedModelOrderBy>& order_by,
                                       int64_t offset) {
  nlohmann::ordered_json j = LoggedModelTokenRequest(experiment_ids, filter, order_by);
  j["offset"] = offset;
  return Base64Encode(PyJsonDumps(j));
}

StatusOr<int64_t> DecodeLoggedModelPageToken(std::string_view token,
                                             const std::vector<std::string>& experiment_ids,
                                             std::string_view filter,
                                             const std::vector<LoggedModelOrderBy>& order_by) {
  if (token.empty()) return int64_t{0};
  std::optional<std::string> decoded = Base64Decode(token);
  if (!decoded) return InvalidArgument("Invalid page token: " + std::string(token) + ".");
  auto parsed = nlohmann::ordered_json::parse(*decoded, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return InvalidArgument("Invalid page token: " + std::string(token) + ".");
  }
  nlohmann::ordered_json expected = LoggedModelTokenRequest(experiment_ids, filter, order_by);
  auto field = [&](const char* key) {
    auto it = parsed.find(key);
    return it == parsed.end() ? nlohmann::ordered_json(nullptr) : *it;
  };
  // The token's falsy filter/order_by read as None, as SearchLoggedModelsPaginationToken does.
  nlohmann::ordered_json found_filter = field("filter_string");
  if (found_filter.is_string() && found_filter.get<std::string>().empty()) found_filter = nullptr;
  nlohmann::ordered_json found_order = field("order_by");
  if ((found_order.is_array() || found_order.is_object()) && found_order.empty()) {
    found_order = nullptr;
  }
  if (field("experiment_ids") != expected["experiment_ids"]) {
    return InvalidArgument(
        "Experiment IDs in the page token do not match the requested experiment IDs. "
        "Expected: " +
        PyJsonRepr(expected["experiment_ids"]) + ". Found: " + PyOptionalRepr(field("experiment_ids")));
  }
  if (found_filter != expected["filter_string"]) {
    return InvalidArgument(
        "Filter string in the page token does not match the requested filter string. "
        "Expected: " +
        PyOptionalRepr(expected["filter_string"]) + ". Found: " + PyOptionalRepr(found_filter));
  }
  if (found_order != expected["order_by"]) {
    return InvalidArgument(
        "Order by in the page token does not match the requested order by. Expected: " +
        PyOptionalRepr(expected["order_by"]) + ". Found: " + PyOptionalRepr(found_order));
  }
  nlohmann::ordered_json offset = field("offset");
  if (offset.is_null() || (offset.is_boolean() && !offset.get<bool>())) return int64_t{0};
  if (!offset.is_number_integer() || offset.get<int64_t>() < 0) {
    return InvalidArgument("Invalid page token: " + std::string(token) + ".");
  }
  return offset.get<int64_t>();
}

std::string EncodePageToken(int64_t offset) {
  // json.dumps({"offset": N}) puts a space after the colon.
  return Base64Encode(fmt::format("{{\"offset\": {}}}", offset));
}

StatusOr<int64_t> DecodePageToken(std::string_view token) {
  if (token.empty()) return int64_t{0};
  std::optional<std::string> decoded = Base64Decode(token);
  if (!decoded) return InvalidArgument("Invalid page token, could not base64-decode");
  nlohmann::json parsed = nlohmann::json::parse(*decoded, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return InvalidArgument("Invalid page token, decoded value=" + PyBytesRepr(*decoded));
  }
  std::string parsed_repr = "Invalid page token, parsed value=" + PyJsonRepr(parsed);
  if (!parsed.is_object()) return InvalidArgument(parsed_repr);
  auto it = parsed.find("offset");
  if (it == parsed.end()) return InvalidArgument(parsed_repr);
  const nlohmann::json& offset = *it;
  // Python: `if not offset` rejects 0, "", null, false, empty containers.
  bool falsy = offset.is_null() || (offset.is_boolean() && !offset.get<bool>()) ||
               (offset.is_number() && offset.get<double>() == 0) ||
               (offset.is_string() && offset.get<std::string>().empty()) ||
               ((offset.is_array() || offset.is_object()) && offset.empty());
  if (falsy) return InvalidArgument(parsed_repr);
  int64_t value = 0;
  if (offset.is_number_integer()) {
    value = offset.get<int64_t>();
  } else if (offset.is_number_float()) {
    double d = offset.get<double>();
    if (!std::isfinite(d)) return InvalidArgument(parsed_repr);
    value = static_cast<int64_t>(d);  // int() truncates toward zero
  } else if (offset.is_boolean()) {
    value = 1;
  } else if (offset.is_string()) {
    const std::string& s = offset.get_ref<const std::string&>();
    size_t b = s.find_first_not_of(" \t\n\r");
    size_t e = s.find_last_not_of(" \t\n\r");
    std::string t = b == std::string::npos ? "" : s.substr(b, e - b + 1);
    char* end = nullptr;
    long long v = std::strtoll(t.c_str(), &end, 10);
    if (t.empty() || end != t.c_str() + t.size()) {
      return InvalidArgument("Invalid page token, not stringable " + s);
    }
    value = v;
  } else {
    return InvalidArgument("Invalid page token, not stringable " + offset.dump());
  }
  // MLflow would hand a negative offset to the database; refuse it instead.
  if (value < 0) return InvalidArgument(parsed_repr);
  return value;
}

}  // namespace cairn::tracking::search
