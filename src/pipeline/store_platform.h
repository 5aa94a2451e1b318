// The Platform over cairn's own stores, in process: what `cairn server` runs its pipelines
// against (no HTTP round trips to itself for lineage, registration and aliases).
// Deployments go through the `deploy` callback the server provides (the serving module owns
// them); without one, Deploy is FailedPrecondition.
// Thread-safety: as the stores (all thread-safe).
#pragma once

#include <functional>
#include <memory>

#include "artifacts/artifact_store.h"
#include "pipeline/platform.h"
#include "registry/registry_store.h"
#include "tracking/tracking_store.h"

namespace cairn::pipeline {

using DeployFn = std::function<StatusOr<std::string>(const DeployRequest&)>;

// The stores must outlive the platform. Runs are created as user `user_id`.
std::unique_ptr<Platform> NewStorePlatform(tracking::TrackingStore* tracking,
                                           registry::RegistryStore* registry,
                                           artifacts::LocalArtifactStore* artifacts,
                                           DeployFn deploy, std::string user_id = "cairn-pipeline");

}  // namespace cairn::pipeline
