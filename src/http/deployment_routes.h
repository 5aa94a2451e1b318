// The native deployments API and the deployment scoring endpoints of `cairn server`
// (serving/deployment_manager.h does the work; this file is the JSON edge):
//
//   PUT    /api/v1/deployments/{name}            create or replace -> {"deployment": {...}}
//   POST   /api/v1/deployments                   the same, name in the body
//   GET    /api/v1/deployments[?environment=E]   {"deployments": [...]}
//   GET    /api/v1/deployments/{name}            {"deployment": {...}}
//   DELETE /api/v1/deployments/{name}            {}
//   POST   /api/v1/deployments/{name}/weights    {"canary": 20} | {"variants": {"a": 30, "b": 70}}
//   POST   /api/v1/deployments/{name}/promote    the canary becomes the primary
//   POST   /api/v1/deployments/{name}/rollback   the routing before the last change
//   POST   /api/v1/deployments/{name}/invocations   MLflow scoring (every input format)
//   GET    /api/v1/deployments/{name}/inferences?start=MS&end=MS&format=json|jsonl|csv
//          [&max_results=N&page_token=T]        the inference log (json pages; csv and jsonl
//                                               export the whole range)
//   POST   /api/v1/deployments/{name}/outcomes   {"request_id"|"entity_key": K, "value": V} or
//                                               {"outcomes": [...]} -> {"recorded": n}
//   GET    /api/v1/deployments/{name}/outcomes?start=&end=   logged requests joined to outcomes
//   Open Inference Protocol v2, a deployment being a model: GET /v2, /v2/health/live,
//   /v2/health/ready, /v2/models/{name}[/versions/{v}][/ready]; POST .../infer
//   GET    /metrics                              per deployment / variant / version counters,
//                                               latency histograms, inference-log counters
//
// A deployment in answers: the spec (deployment_spec.h) where every route also carries
// "version" (for an alias route: the version it resolves to now), plus "state" ("ready" or
// "failed"), "error" (when set), "generation", "history_depth", "created_at", "updated_at".
// Scoring answers carry the headers X-Request-Id (the client's, when it sent one), X-Model-Name,
// X-Model-Version and X-Deployment-Variant.
// Errors: the native routes answer {"error_code", "message"} (http/errors.h): 404 unknown
// deployment, 400 invalid spec or weights (e.g. not summing to 100) or an unloadable model;
// scoring answers as the MLflow scoring server and the OIP specify.
#pragma once

#include "artifacts/artifact_store.h"
#include "http/router.h"
#include "registry/registry_store.h"
#include "serving/deployment_manager.h"
#include "serving/inference_log.h"

namespace cairn::http {

// Resolves routes through the registry (models:/name/version, models:/name@alias) to files in
// the artifact store (mlflow-artifacts:/ locations), or to local paths (file:// or absolute).
// Both stores must outlive the resolver.
serving::ModelResolver MakeRegistryModelResolver(registry::RegistryStore& registry,
                                                 const artifacts::LocalArtifactStore& artifacts);

// `manager` and `log` (may be null) must outlive the router.
void RegisterDeploymentRoutes(Router& router, serving::DeploymentManager& manager,
                              serving::InferenceLog* log);

}  // namespace cairn::http
