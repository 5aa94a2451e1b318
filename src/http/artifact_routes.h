// The MLflow artifact proxy (mlflow-api.md §1.3) over a LocalArtifactStore:
//   PUT    /api/2.0/mlflow-artifacts/artifacts/<path>   raw body streamed to disk -> {}
//   GET    /api/2.0/mlflow-artifacts/artifacts/<path>   the file, as an attachment
//   GET    /api/2.0/mlflow-artifacts/artifacts?path=dir {"files":[{path,is_dir,file_size}]}
//   DELETE /api/2.0/mlflow-artifacts/artifacts/<path>   -> {}
//   POST   /api/2.0/mlflow-artifacts/mpu/{create,complete,abort}/<path>  -> 501 (local store)
// and the same under /ajax-api/2.0/. Paths are checked by the store (traversal, symlinks).
#pragma once

#include <functional>

#include "artifacts/artifact_store.h"
#include "http/router.h"

namespace cairn::http {

// Registers the routes. `store` must outlive the router.
void RegisterArtifactRoutes(Router& router, artifacts::LocalArtifactStore& store);

// Returns a run's artifact URI ("mlflow-artifacts:/1/<run>/artifacts"); NotFound for an
// unknown run.
using RunArtifactUriFn = std::function<StatusOr<std::string>(const std::string& run_id)>;

// GET /api/2.0/mlflow/artifacts/list {run_id | run_uuid, path} (and /ajax-api/):
// {"root_uri": <run artifact uri>, "files": [{"path": "<path under the run root>",
// "is_dir", "file_size"}]}; parameters from the query string or, when there is none, the
// JSON body. `store` must outlive the router.
void RegisterRunArtifactListRoute(Router& router, artifacts::LocalArtifactStore& store,
                                  RunArtifactUriFn run_artifact_uri);

// Maps an artifact URI the server hands out ("mlflow-artifacts:/1/abc/artifacts",
// "mlflow-artifacts://host:port/1/...") to the store-relative path ("1/abc/artifacts").
// InvalidArgument for other schemes.
StatusOr<std::string> ArtifactUriToRelativePath(std::string_view uri);

}  // namespace cairn::http
