// Opens the metadata stores of the platform on one SQLite file: one store::ConnectionPool
// migrated with every module's migrations (one global version sequence), shared by the
// tracking and registry stores. Every subcommand that opens the database (server, demo) goes
// through here, so no subcommand ever migrates the file with only part of the schema.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "registry/sqlite_registry_store.h"
#include "store/connection_pool.h"
#include "tracking/sqlite_tracking_store.h"
#ifdef CAIRN_PIPELINE_HAVE_SERVICE
#include "pipeline/pipeline_store.h"
#endif

namespace cairn::cli {

struct PlatformStores {
  std::unique_ptr<store::ConnectionPool> pool;
  std::unique_ptr<tracking::SqliteTrackingStore> tracking;
  std::unique_ptr<registry::SqliteRegistryStore> registry;
#ifdef CAIRN_PIPELINE_HAVE_SERVICE
  std::unique_ptr<pipeline::PipelineStore> pipelines;  // migration v5
#endif
};

// Errors: those of ConnectionPool::Open (kUnavailable when the file cannot be opened,
// kFailedPrecondition for a database written by a newer cairn).
StatusOr<PlatformStores> OpenPlatformStores(const std::string& db_path);

}  // namespace cairn::cli
