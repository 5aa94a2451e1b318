// The one table from Status codes to HTTP statuses and MLflow error codes, and the error
// body every route answers with: {"error_code": "...", "message": "..."}.
#pragma once

#include <string>

#include "common/status.h"
#include "http/router.h"

namespace cairn::http {

// HTTP status for a code, e.g. kNotFound -> 404.
int HttpStatusFor(Code code);
// MLflow error code for a status: its override if set, else from the table
// (kInvalidArgument -> INVALID_PARAMETER_VALUE, kNotFound -> RESOURCE_DOES_NOT_EXIST, ...).
std::string MlflowErrorCodeFor(const Status& status);
// The JSON error response for a non-OK status.
Response ErrorResponse(const Status& status);

}  // namespace cairn::http
