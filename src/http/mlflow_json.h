// MLflow wire helpers shared by the MLflow-compatible route files (tracking, registry).
//
// Requests (mlflow/server/handlers.py _get_request_message):
//   - a GET with a query string is read from the query parameters: repeated keys become
//     lists for fields declared repeated, other fields take their first value; values stay
//     strings and the typed readers below convert them ("5" -> 5, "true" -> true) as
//     protobuf's ParseDict does;
//   - every other request (including a GET with no query string) is read from its JSON body;
//     an empty body is {}; a body that is a JSON string holding JSON is decoded twice;
//   - POST and PUT must send Content-Type application/json, otherwise 400.
// Responses: int64 as JSON numbers, NaN/Infinity/-Infinity as strings, unset fields omitted.
//
// Errors are kInvalidArgument (INVALID_PARAMETER_VALUE, 400) with MLflow-style messages.
// nlohmann/json is forward-declared here; the full header stays in .cc files.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/router.h"

namespace cairn::http::mlflow {

using Json = nlohmann::json;

// Builds the request message. `repeated_fields` names the list-valued fields (for the query
// string). Errors: wrong Content-Type on POST/PUT; malformed JSON; a body that is not an object.
StatusOr<Json> ParseRequestMessage(const Request& request,
                                   const std::set<std::string, std::less<>>& repeated_fields = {});

// Typed field readers. Absent or null fields give nullopt. A value of the wrong type gives
// "Invalid value <v> for parameter '<field>' supplied. Hint: Value was of type '<t>'. See the
// API docs for more information about request parameters."
StatusOr<std::optional<std::string>> GetString(const Json& msg, std::string_view field);
// int64 from a JSON integer, an integral float, or a decimal string.
StatusOr<std::optional<int64_t>> GetInt64(const Json& msg, std::string_view field);
// double from a number or a string ("1.5", "NaN", "Infinity", "-Infinity"); bool is refused.
StatusOr<std::optional<double>> GetDouble(const Json& msg, std::string_view field);
// bool from true/false or "true"/"false".
StatusOr<std::optional<bool>> GetBool(const Json& msg, std::string_view field);
// A list of strings; a single string is a one-element list; absent gives {}.
StatusOr<std::vector<std::string>> GetStringList(const Json& msg, std::string_view field);

// As above but the field must be present and not "": otherwise "Missing value for required
// parameter '<field>'. See the API docs for more information about request parameters."
StatusOr<std::string> RequireString(const Json& msg, std::string_view field);
StatusOr<int64_t> RequireInt64(const Json& msg, std::string_view field);
StatusOr<double> RequireDouble(const Json& msg, std::string_view field);

// The run id of a request: run_id, else run_uuid (both accepted by MLflow). Required.
StatusOr<std::string> GetRunId(const Json& msg);

// A double for the wire: a number, or "NaN" / "Infinity" / "-Infinity".
Json DoubleToJson(double value);

// A 200 JSON response ("{}" for an empty object). Invalid UTF-8 is replaced, never thrown.
Response JsonResponse(const Json& body, int status = 200);

// A handler that receives the decoded request message.
using MessageHandler = std::function<StatusOr<Response>(const Json& msg, const Request& req)>;

// Registers MLflow rpcs under both /api/2.0/mlflow and /ajax-api/2.0/mlflow.
struct Registrar {
  Router& router;

  // A handler that decodes the request itself.
  void AddRaw(const char* method, const std::string& path, Handler handler);
  // A handler that receives the message built by ParseRequestMessage(req, repeated).
  void Add(const char* method, const std::string& path, MessageHandler handler,
           std::set<std::string, std::less<>> repeated = {});
};

}  // namespace cairn::http::mlflow
