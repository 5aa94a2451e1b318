// Durable deployments: the `deployments` table of the platform database (migration
// kMigrationVersion = 4, "serving deployments", continuing the global sequence: tracking 1,
// registry 2, inference log 3). Each row holds the current spec and the specs it replaced
// (newest last, at most kMaxHistory), so a rollback survives a restart.
//
// Every write is one transaction through store::ConnectionPool.
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "serving/deployment_spec.h"
#include "store/connection_pool.h"
#include "store/migrations.h"

namespace cairn::serving {

struct StoredDeployment {
  DeploymentSpec spec;
  std::vector<DeploymentSpec> history;  // replaced specs, oldest first
  uint64_t generation = 0;              // +1 on every change
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

class DeploymentStore {
 public:
  static constexpr int kMigrationVersion = 4;
  static constexpr size_t kMaxHistory = 16;
  static const std::vector<store::Migration>& Migrations();

  // `pool` (not owned) must have been opened with Migrations() among its migrations.
  explicit DeploymentStore(store::ConnectionPool& pool) : pool_(pool) {}

  // Inserts or replaces the row of d.spec.name (history trimmed to kMaxHistory).
  // Errors: Unavailable/Internal from the database.
  Status Put(const StoredDeployment& d);
  // NotFound when there is no such deployment.
  StatusOr<StoredDeployment> Get(const std::string& name) const;
  // Every deployment, by name. A row that no longer decodes is skipped with a warning.
  StatusOr<std::vector<StoredDeployment>> List() const;
  // NotFound when there is no such deployment.
  Status Delete(const std::string& name);

 private:
  store::ConnectionPool& pool_;
};

}  // namespace cairn::serving
