// Owning handles and Status conversion for libxgboost's C API, shared by the code that trains
// with it (the domain classifier and DLE here, the pipeline's train-xgboost step, the demo).
//
// Include only from a .cc file that links libxgboost: this header pulls in <xgboost/c_api.h>.
#pragma once

#include <xgboost/c_api.h>

#include <cstdlib>
#include <map>
#include <sstream>
#include <string>

#include "common/status.h"

namespace cairn::monitor::xgb {

// OK for rc == 0, else Internal("xgboost <what>: <libxgboost's last error>").
inline Status Check(int rc, const char* what) {
  if (rc == 0) return OkStatus();
  return Internal(std::string("xgboost ") + what + ": " + XGBGetLastError());
}

// Frees the DMatrix on destruction. Not copyable.
struct DMatrix {
  DMatrixHandle h = nullptr;
  DMatrix() = default;
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  ~DMatrix() {
    if (h) XGDMatrixFree(h);
  }
};

// Frees the Booster on destruction. Not copyable.
struct Booster {
  BoosterHandle h = nullptr;
  Booster() = default;
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;
  ~Booster() {
    if (h) XGBoosterFree(h);
  }
};

// Parses an XGBoosterEvalOneIter line, "[3]\ttrain-logloss:0.5\tvalid-auc:0.9", into
// {"train-logloss": 0.5, "valid-auc": 0.9}.
inline std::map<std::string, double> ParseEval(const char* text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string field;
  while (std::getline(in, field, '\t')) {
    size_t colon = field.rfind(':');
    if (field.empty() || field[0] == '[' || colon == std::string::npos) continue;
    out[field.substr(0, colon)] = std::strtod(field.c_str() + colon + 1, nullptr);
  }
  return out;
}

}  // namespace cairn::monitor::xgb

// Returns from the enclosing function (Status or StatusOr) when a C API call fails.
#define CAIRN_XGB_CALL(expr) RETURN_IF_ERROR(::cairn::monitor::xgb::Check((expr), #expr))
