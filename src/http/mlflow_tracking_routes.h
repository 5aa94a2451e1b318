// MLflow-compatible tracking routes (mlflow-api.md §1.1, mlflow/protos/service.proto):
// experiments/*, runs/*, metrics/get-history(-bulk-interval) and logged-models, each under
// both /api/2.0/mlflow/ and /ajax-api/2.0/mlflow/. Requests are decoded with
// http/mlflow_json.h, answered from a tracking::TrackingStore, and encoded as MLflow's
// protobuf JSON (unset fields omitted, int64 as numbers, NaN/Infinity as strings). Errors
// are Status values; the router's wrapper renders them with http/errors.h.
//
// Not registered here: artifacts/list (http/artifact_routes.h; give it a RunArtifactUriFn
// built from TrackingStore::GetRun) and the artifact proxy.
#pragma once

#include "http/router.h"
#include "tracking/tracking_store.h"

namespace cairn::http {

// Registers every tracking rpc. `store` must outlive the router; handlers are thread-safe
// because the store is.
void RegisterMlflowTrackingRoutes(Router& router, tracking::TrackingStore& store);

}  // namespace cairn::http
