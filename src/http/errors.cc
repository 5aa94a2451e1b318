#include "http/errors.h"

#include <nlohmann/json.hpp>

namespace cairn::http {

namespace {

struct CodeMapping {
  Code code;
  int http_status;
  const char* mlflow_error_code;
};

// The one table. MLflow answers RESOURCE_ALREADY_EXISTS and INVALID_PARAMETER_VALUE with 400,
// and its client retries every 5xx, so nothing a caller did wrong may map to 5xx.
constexpr CodeMapping kTable[] = {
    {Code::kOk, 200, "OK"},
    {Code::kInvalidArgument, 400, "INVALID_PARAMETER_VALUE"},
    {Code::kNotFound, 404, "RESOURCE_DOES_NOT_EXIST"},
    {Code::kAlreadyExists, 400, "RESOURCE_ALREADY_EXISTS"},
    {Code::kFailedPrecondition, 400, "INVALID_PARAMETER_VALUE"},
    {Code::kResourceExhausted, 413, "RESOURCE_EXHAUSTED"},
    {Code::kUnavailable, 503, "TEMPORARILY_UNAVAILABLE"},
    {Code::kUnimplemented, 501, "NOT_IMPLEMENTED"},
    {Code::kDeadlineExceeded, 504, "DEADLINE_EXCEEDED"},
    {Code::kPermissionDenied, 403, "PERMISSION_DENIED"},
    {Code::kInternal, 500, "INTERNAL_ERROR"},
};

const CodeMapping& Lookup(Code code) {
  for (const auto& m : kTable)
    if (m.code == code) return m;
  return kTable[sizeof(kTable) / sizeof(kTable[0]) - 1];
}

}  // namespace

int HttpStatusFor(Code code) { return Lookup(code).http_status; }

std::string MlflowErrorCodeFor(const Status& status) {
  if (!status.mlflow_error_code().empty()) return status.mlflow_error_code();
  return Lookup(status.code()).mlflow_error_code;
}

Response ErrorResponse(const Status& status) {
  nlohmann::json body = {{"error_code", MlflowErrorCodeFor(status)},
                         {"message", status.message()}};
  return Response::Json(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                        HttpStatusFor(status.code()));
}

}  // namespace cairn::http
