// The model registry over HTTP.
//
// MLflow-compatible rpcs (mlflow-api.md §1.2, mlflow/protos/model_registry.proto), each under
// both /api/2.0/mlflow/ and /ajax-api/2.0/mlflow/: registered-models/{create, get, rename,
// update, delete, search, get-latest-versions, set-tag, delete-tag, alias} and
// model-versions/{create, get, update, delete, search, transition-stage, get-download-uri,
// set-tag, delete-tag}. Requests are decoded with http/mlflow_json.h and answered as MLflow
// 3.6's server answers them (protobuf JSON, unset fields omitted, versions as strings).
//
// cairn's native routes (same error shape {"error_code","message"}):
//   GET    /api/v1/models/resolve?uri=models:/name@alias    the version and where its files are
//   GET    /api/v1/models/{name}/history[?alias=prod]       every alias move, newest first
//   GET    /api/v1/models/{name}/versions/{v}/lineage      run, logged model, params, metrics,
//                                                           dataset inputs
//   POST   /api/v1/models/{name}/promote                   {"version","to","user","dry_run"}
//          200 {"promoted":true,...}; a gate refusal is 400 PROMOTION_GATE_FAILED with the
//          failed conditions in the message and every check under "promotion"
//   GET    /api/v1/models/{name}/gates                     the model's promotion gates
//   PUT    /api/v1/models/{name}/gates/{alias}             {"conditions":[...],
//   PUT    /api/v1/models/{name}/gate                       "required_tags":{"k":"v"}} (the
//                                                           second form: the default gate)
//   DELETE /api/v1/models/{name}/gates/{alias}, /api/v1/models/{name}/gate
// Who made a change (alias history) comes from the "user" field where a route has one, else
// the X-Cairn-User header, else the user of HTTP Basic auth, else "".
//
// Thread-safety: handlers are thread-safe because the store is.
#pragma once

#include "http/router.h"
#include "registry/registry_store.h"

namespace cairn::http {

// Registers every route above. `store` must outlive the router.
void RegisterMlflowRegistryRoutes(Router& router, registry::RegistryStore& store);

}  // namespace cairn::http
