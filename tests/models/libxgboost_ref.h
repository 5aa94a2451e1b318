// A thin wrapper over libxgboost's C API (Debian libxgboost-dev 1.7) used as the reference
// predictor by tests and benchmarks. Not part of cairn: cairn predicts natively.
#pragma once

#include <xgboost/c_api.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cairn::models::testing {

class LibXGBoost {
 public:
  LibXGBoost() { XGBoosterCreate(nullptr, 0, &handle_); }
  ~LibXGBoost() { XGBoosterFree(handle_); }
  LibXGBoost(const LibXGBoost&) = delete;
  LibXGBoost& operator=(const LibXGBoost&) = delete;

  // Empty on success, else libxgboost's error message.
  std::string Load(const std::string& path) {
    if (XGBoosterLoadModel(handle_, path.c_str()) != 0) return XGBGetLastError();
    return "";
  }
  std::string SetParam(const char* name, const char* value) {
    if (XGBoosterSetParam(handle_, name, value) != 0) return XGBGetLastError();
    return "";
  }

  // Dense float32 rows (NaN = missing); type 0 = transformed prediction, 1 = margin.
  // Returns false and sets *error on failure. out_len values are written to *out.
  bool Predict(const float* rows, uint64_t n_rows, uint64_t n_cols, int type,
               const float** out, uint64_t* out_len, std::string* error) {
    char iface[256];
    std::snprintf(iface, sizeof(iface),
                  "{\"data\": [%llu, true], \"shape\": [%llu, %llu], \"typestr\": \"<f4\", "
                  "\"version\": 3}",
                  static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(rows)),
                  static_cast<unsigned long long>(n_rows),
                  static_cast<unsigned long long>(n_cols));
    char config[256];
    std::snprintf(config, sizeof(config),
                  "{\"type\": %d, \"training\": false, \"iteration_begin\": 0, "
                  "\"iteration_end\": 0, \"strict_shape\": false, \"missing\": NaN, "
                  "\"cache_id\": 0}",
                  type);
    const uint64_t* shape = nullptr;
    uint64_t dim = 0;
    if (XGBoosterPredictFromDense(handle_, iface, config, nullptr, &shape, &dim, out) != 0) {
      *error = XGBGetLastError();
      return false;
    }
    *out_len = 1;
    for (uint64_t i = 0; i < dim; ++i) *out_len *= shape[i];
    return true;
  }

  BoosterHandle handle() const { return handle_; }

 private:
  BoosterHandle handle_ = nullptr;
};

}  // namespace cairn::models::testing
