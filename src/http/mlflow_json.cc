#include "http/mlflow_json.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>

namespace cairn::http::mlflow {

namespace {

constexpr char kSeeDocs[] = " See the API docs for more information about request parameters.";

std::string PyTypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string: return "str";
    case Json::value_t::boolean: return "bool";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "int";
    case Json::value_t::number_float: return "float";
    case Json::value_t::array: return "list";
    case Json::value_t::object: return "dict";
    default: return "NoneType";
  }
}

Status WrongType(std::string_view field, const Json& v) {
  std::string shown = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (shown.size() > 250) shown = shown.substr(0, 250) + "...";
  return InvalidArgument("Invalid value " + shown + " for parameter '" + std::string(field) +
                         "' supplied. Hint: Value was of type '" + PyTypeName(v) + "'." +
                         kSeeDocs);
}

Status Missing(std::string_view field) {
  return InvalidArgument("Missing value for required parameter '" + std::string(field) + "'." +
                         kSeeDocs);
}

const Json* Find(const Json& msg, std::string_view field) {
  if (!msg.is_object()) return nullptr;
  auto it = msg.find(field);
  if (it == msg.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<int64_t> ParseIntText(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> ParseDoubleText(std::string_view s) {
  if (s == "NaN" || s == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (s == "Infinity" || s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-Infinity" || s == "-inf") return -std::numeric_limits<double>::infinity();
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

StatusOr<Json> ParseRequestMessage(const Request& request,
                                   const std::set<std::string, std::less<>>& repeated_fields) {
  if (request.method == "GET" && !request.query_params.empty()) {
    Json msg = Json::object();
    for (const auto& [key, value] : request.query_params) {
      if (repeated_fields.count(key)) {
        msg[key].push_back(value);
      } else if (!msg.contains(key)) {
        msg[key] = value;
      }
    }
    return msg;
  }
  if (request.method == "POST" || request.method == "PUT") {
    const std::string& raw_type = request.Header("content-type");
    if (raw_type.empty()) {
      return InvalidArgument("Bad Request. Content-Type header is missing.");
    }
    if (request.ContentType() != "application/json") {
      return InvalidArgument("Bad Request. Content-Type must be one of ['application/json'].");
    }
  }
  const std::string& body = request.body;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
  Json msg = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (msg.is_discarded()) {
    return InvalidArgument("Malformed JSON in the request body.");
  }
  if (msg.is_string()) {  // double-encoded by older clients
    msg = Json::parse(msg.get_ref<const std::string&>(), nullptr, false);
    if (msg.is_discarded()) return InvalidArgument("Malformed JSON in the request body.");
  }
  if (msg.is_null()) return Json::object();
  if (!msg.is_object()) {
    return InvalidArgument("The request body must be a JSON object.");
  }
  return msg;
}

StatusOr<std::optional<std::string>> GetString(const Json& msg, std::string_view field) {
  const Json* v = Find(msg, field);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return WrongType(field, *v);
  return std::optional<std::string>(v->get<std::string>());
}

StatusOr<std::optional<int64_t>> GetInt64(const Json& msg, std::string_view field) {
  const Json* v = Find(msg, field);
  if (!v) return std::optional<int64_t>();
  if (v->is_number_integer()) return std::optional<int64_t>(v->get<int64_t>());
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return WrongType(field, *v);
    }
    return std::optional<int64_t>(static_cast<int64_t>(u));
  }
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18) {
      return std::optional<int64_t>(static_cast<int64_t>(d));
    }
    return WrongType(field, *v);
  }
  if (v->is_string()) {
    if (auto i = ParseIntText(v->get_ref<const std::string&>())) return std::optional<int64_t>(i);
  }
  return WrongType(field, *v);
}

StatusOr<std::optional<double>> GetDouble(const Json& msg, std::string_view field) {
  const Json* v = Find(msg, field);
  if (!v) return std::optional<double>();
  if (v->is_number()) return std::optional<double>(v->get<double>());
  if (v->is_string()) {
    if (auto d = ParseDoubleText(v->get_ref<const std::string&>())) {
      return std::optional<double>(d);
    }
  }
  return WrongType(field, *v);
}

StatusOr<std::optional<bool>> GetBool(const Json& msg, std::string_view field) {
  const Json* v = Find(msg, field);
  if (!v) return std::optional<bool>();
  if (v->is_boolean()) return std::optional<bool>(v->get<bool>());
  if (v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    if (s == "true" || s == "True") return std::optional<bool>(true);
    if (s == "false" || s == "False") return std::optional<bool>(false);
  }
  return WrongType(field, *v);
}

StatusOr<std::vector<std::string>> GetStringList(const Json& msg, std::string_view field) {
  std::vector<std::string> out;
  const Json* v = Find(msg, field);
  if (!v) return out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
    return out;
  }
  if (!v->is_array()) return WrongType(field, *v);
  for (const Json& item : *v) {
    if (!item.is_string()) return WrongType(field, *v);
    out.push_back(item.get<std::string>());
  }
  return out;
}

StatusOr<std::string> RequireString(const Json& msg, std::string_view field) {
  ASSIGN_OR_RETURN(std::optional<std::string> v, GetString(msg, field));
  if (!v || v->empty()) return Missing(field);
  return std::move(*v);
}

StatusOr<int64_t> RequireInt64(const Json& msg, std::string_view field) {
  ASSIGN_OR_RETURN(std::optional<int64_t> v, GetInt64(msg, field));
  if (!v) return Missing(field);
  return *v;
}

StatusOr<double> RequireDouble(const Json& msg, std::string_view field) {
  ASSIGN_OR_RETURN(std::optional<double> v, GetDouble(msg, field));
  if (!v) return Missing(field);
  return *v;
}

StatusOr<std::string> GetRunId(const Json& msg) {
  ASSIGN_OR_RETURN(std::optional<std::string> id, GetString(msg, "run_id"));
  if (!id || id->empty()) {
    ASSIGN_OR_RETURN(id, GetString(msg, "run_uuid"));
  }
  if (!id || id->empty()) return Missing("run_id");
  return std::move(*id);
}

Json DoubleToJson(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

Response JsonResponse(const Json& body, int status) {
  return Response::Json(body.dump(-1, ' ', false, Json::error_handler_t::replace), status);
}

namespace {
constexpr const char* kRpcPrefixes[] = {"/api/2.0/mlflow", "/ajax-api/2.0/mlflow"};
}  // namespace

void Registrar::AddRaw(const char* method, const std::string& path, Handler handler) {
  for (const char* prefix : kRpcPrefixes) router.Add(method, std::string(prefix) + path, handler);
}

void Registrar::Add(const char* method, const std::string& path, MessageHandler handler,
                    std::set<std::string, std::less<>> repeated) {
  auto shared = std::make_shared<MessageHandler>(std::move(handler));
  auto fields = std::make_shared<std::set<std::string, std::less<>>>(std::move(repeated));
  for (const char* prefix : kRpcPrefixes) {
    router.Add(method, std::string(prefix) + path,
               [shared, fields](const Request& req) -> StatusOr<Response> {
                 ASSIGN_OR_RETURN(Json msg, ParseRequestMessage(req, *fields));
                 return (*shared)(msg, req);
               });
  }
}

}  // namespace cairn::http::mlflow
