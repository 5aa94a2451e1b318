// SqliteRegistryStore: the RegistryStore on the SQLite database that tracking also uses,
// written through one store::ConnectionPool (one writer, group commit, WAL readers).
//
// Tables (created by Migrations(); the names the search compiler in tracking/search expects):
//   registered_models, registered_model_tags, model_versions, model_version_tags,
//   registered_model_aliases, and cairn's promotion_gates, promotion_gate_rules,
//   alias_history, alias_history_checks.
//
// The tracking store is used for what a version points at: the logged model behind a
// models:/<id> source (its artifact location; tagged mlflow.modelVersions), the run metrics a
// promotion gate compares, and lineage. Without one, models:/<id> sources, gates with
// conditions and lineage report kFailedPrecondition.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "registry/registry_store.h"
#include "store/connection_pool.h"
#include "store/migrations.h"
#include "tracking/tracking_store.h"

namespace cairn::registry {

struct RegistryStoreOptions {
  // Not owned; must outlive the store. nullptr = no tracking lookups (see above).
  tracking::TrackingStore* tracking = nullptr;
  // Not owned; must outlive the store. nullptr = the system clock.
  const Clock* clock = nullptr;
};

class SqliteRegistryStore final : public RegistryStore {
 public:
  // Uses `pool` (not owned; must outlive the store). The pool must have been opened with
  // Migrations() among its migrations (see store::MergeMigrations).
  SqliteRegistryStore(store::ConnectionPool& pool, const RegistryStoreOptions& options = {});

  // Opens a pool of its own on `db_path` with only the registry migrations (tests, tools).
  // Do not use this on a file that other modules migrate: the server opens one pool with
  // every module's migrations and passes it to the constructor above.
  static StatusOr<std::unique_ptr<SqliteRegistryStore>> Open(
      const std::string& db_path, const RegistryStoreOptions& options = {});

  // The registry schema's migrations, oldest first. Their versions continue the global
  // sequence after tracking's (tracking/tracking_schema.cc).
  static const std::vector<store::Migration>& Migrations();

  StatusOr<RegisteredModel> CreateRegisteredModel(const std::string& name, std::vector<Tag> tags,
                                                  std::optional<std::string> description) override;
  StatusOr<RegisteredModel> GetRegisteredModel(const std::string& name) override;
  StatusOr<RegisteredModel> UpdateRegisteredModel(const std::string& name,
                                                  std::optional<std::string> description) override;
  StatusOr<RegisteredModel> RenameRegisteredModel(const std::string& name,
                                                  const std::string& new_name) override;
  Status DeleteRegisteredModel(const std::string& name) override;
  StatusOr<SearchRegisteredModelsResult> SearchRegisteredModels(
      const SearchRequest& request) override;
  StatusOr<std::vector<ModelVersion>> GetLatestVersions(
      const std::string& name, const std::vector<std::string>& stages) override;
  Status SetRegisteredModelTag(const std::string& name, Tag tag) override;
  Status DeleteRegisteredModelTag(const std::string& name, const std::string& key) override;

  StatusOr<ModelVersion> CreateModelVersion(CreateModelVersionRequest request) override;
  StatusOr<ModelVersion> GetModelVersion(const std::string& name,
                                         const std::string& version) override;
  StatusOr<ModelVersion> UpdateModelVersion(const std::string& name, const std::string& version,
                                            std::optional<std::string> description) override;
  StatusOr<ModelVersion> TransitionModelVersionStage(const std::string& name,
                                                     const std::string& version,
                                                     const std::string& stage,
                                                     bool archive_existing_versions) override;
  Status DeleteModelVersion(const std::string& name, const std::string& version,
                            const std::string& user_id) override;
  StatusOr<std::string> GetModelVersionDownloadUri(const std::string& name,
                                                   const std::string& version) override;
  StatusOr<SearchModelVersionsResult> SearchModelVersions(const SearchRequest& request) override;
  Status SetModelVersionTag(const std::string& name, const std::string& version,
                            Tag tag) override;
  Status DeleteModelVersionTag(const std::string& name, const std::string& version,
                               const std::string& key) override;

  Status SetRegisteredModelAlias(const std::string& name, const std::string& alias,
                                 const std::string& version, const std::string& user_id) override;
  Status DeleteRegisteredModelAlias(const std::string& name, const std::string& alias,
                                    const std::string& user_id) override;
  StatusOr<ModelVersion> GetModelVersionByAlias(const std::string& name,
                                                const std::string& alias) override;

  StatusOr<ResolvedModel> ResolveModelUri(const std::string& uri) override;

  StatusOr<PromotionGate> SetPromotionGate(PromotionGate gate) override;
  StatusOr<std::vector<PromotionGate>> GetPromotionGates(const std::string& name) override;
  Status DeletePromotionGate(const std::string& name, const std::string& alias) override;
  StatusOr<PromoteResult> Promote(const PromoteRequest& request) override;
  StatusOr<std::vector<AliasEvent>> GetAliasHistory(const std::string& name,
                                                    const std::string& alias) override;
  StatusOr<Lineage> GetLineage(const std::string& name, const std::string& version) override;

 private:
  int64_t Now() const { return clock_->NowMillis(); }
  // Metrics a gate compares for one version: its run's latest metrics, else its logged
  // model's. Unset when the version names neither.
  StatusOr<std::map<std::string, double>> VersionMetrics(const ModelVersion& version);

  std::unique_ptr<store::ConnectionPool> owned_pool_;  // set by Open() only
  store::ConnectionPool* pool_;
  tracking::TrackingStore* tracking_;
  const Clock* clock_;
};

}  // namespace cairn::registry
