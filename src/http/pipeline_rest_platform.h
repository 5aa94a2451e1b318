// The pipeline Platform over HTTP: lineage, artifacts, model versions and aliases through the
// MLflow REST API of a tracking server (cairn or MLflow), deployments through cairn's native
// PUT /api/v1/deployments/{name}. What `cairn pipeline run --tracking-uri http://...` uses.
//
// Artifacts go through the server's artifact proxy (PUT /api/2.0/mlflow-artifacts/artifacts/
// ...) when the run's artifact URI is mlflow-artifacts:/..., or are copied when it is a local
// path (file:// or absolute). Errors: the server's, mapped by http::MlflowError; Unavailable
// when it cannot be reached.
// Thread-safety: calls are serialised on one keep-alive connection.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "pipeline/platform.h"

namespace cairn::http {

// `tracking_uri`: http://host:port[/prefix]. InvalidArgument for other forms, Unimplemented
// for https:// (see http_client.h).
StatusOr<std::unique_ptr<pipeline::Platform>> NewRestPlatform(const std::string& tracking_uri);

// PUT {server}/api/v1/deployments/{deployment} with the request's environment, model and
// version; returns the answer's body. InvalidArgument for an empty server or deployment.
StatusOr<std::string> PutDeployment(const std::string& server,
                                    const pipeline::DeployRequest& request);

}  // namespace cairn::http
