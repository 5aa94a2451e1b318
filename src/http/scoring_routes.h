// The scoring protocols for one loaded model, as served by `cairn serve` (and, later, by
// deployments inside `cairn server`):
//   MLflow        POST /invocations (JSON: dataframe_split | dataframe_records | instances |
//                 inputs; text/csv) -> {"predictions": ...}; GET /ping, /health, /version
//   SageMaker     the same /ping and /invocations (port 8080 by default)
//   Vertex AI     AIP_HEALTH_ROUTE and AIP_PREDICT_ROUTE ({"instances": ...} ->
//                 {"predictions": ...}) when configured
//   KServe / OIP  GET /v2, /v2/health/live, /v2/health/ready, /v2/models/{name}[/versions/{v}],
//                 .../ready; POST .../infer
//   Prometheus    GET /metrics (requests, errors, rows and latency histograms per route,
//                 labelled with the model name and version)
//   OpenAPI       GET /openapi.json, generated from the model's signature
// Errors: MLflow routes answer {"error_code": "BAD_REQUEST", "message"} with 400 (415 for an
// unsupported content type), as `mlflow models serve` does; v2 routes answer {"error": ...}
// as the Open Inference Protocol specifies (404 for an unknown model or version).
//
// Thread-safety: handlers are thread-safe; the model is immutable once loaded and swapped
// atomically through ModelSlot, so in-flight requests finish on the version they started on.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "http/router.h"
#include "models/mlflow_model.h"
#include "serving/input_decoder.h"
#include "serving/served_model.h"

namespace cairn::http {

// A model ready to score (see serving/served_model.h).
using ScoringModel = serving::ServedModel;

// Holds the model currently served. Get() returns a reference-counted snapshot, so a Set()
// never pulls a model from under a request that is using it.
class ModelSlot {
 public:
  std::shared_ptr<const ScoringModel> Get() const;
  void Set(std::shared_ptr<const ScoringModel> model);

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const ScoringModel> model_;  // GUARDED_BY(mu_)
};

struct ScoringRoutesOptions {
  // Vertex AI custom-container routes (from AIP_HEALTH_ROUTE / AIP_PREDICT_ROUTE); empty = none.
  std::string vertex_health_route;
  std::string vertex_predict_route;
  // The version string GET /version answers (the MLflow version clients expect).
  std::string version_string = "3.6.0";
};

// Request counters and latency histograms, rendered in the Prometheus text format.
class ScoringMetrics {
 public:
  enum Route { kInvocations = 0, kInfer, kVertexPredict, kNumRoutes };
  void Observe(Route route, int status, double seconds, size_t rows);
  std::string Render(const ScoringModel* model) const;

 private:
  static constexpr int kBuckets = 12;
  static constexpr double kBounds[kBuckets] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                               0.01,   0.025,   0.05,   0.1,   0.5,    1.0};
  struct PerRoute {
    std::atomic<uint64_t> ok{0}, client_errors{0}, server_errors{0}, rows{0};
    std::atomic<uint64_t> buckets[kBuckets + 1] = {};
    std::atomic<uint64_t> sum_micros{0};
  };
  PerRoute routes_[kNumRoutes];
};

// Registers every scoring route. `slot` and `metrics` must outlive the router.
void RegisterScoringRoutes(Router& router, const ModelSlot& slot, ScoringMetrics& metrics,
                           const ScoringRoutesOptions& options);

// Error answers as the scoring protocols give them: MLflow's {"error_code": "BAD_REQUEST",
// "message"} with 400 (415 for an unsupported content type, 404 for NotFound), and the Open
// Inference Protocol's {"error": message} (404 NotFound, 413, 503, else 400).
Response MlflowScoringErrorResponse(const Status& status);
Response OipErrorResponse(const Status& status);

// The OpenAPI 3 document for a model's /invocations, generated from its signature.
std::string OpenApiDocument(const ScoringModel& model);

}  // namespace cairn::http
