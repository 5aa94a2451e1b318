// RegistryStore: registered models, versions, tags, aliases and stages with MLflow's semantics
// (mlflow/store/model_registry/sqlalchemy_store.py and the registry handlers of
// mlflow/server/handlers.py, 3.6), plus cairn's promotion gates and alias history.
//
// This is the interface the HTTP routes and the CLI call; SqliteRegistryStore
// (sqlite_registry_store.h) implements it.
//
// Errors (Status codes; the MLflow code where the client branches on it):
//   - unknown model or version: kNotFound (RESOURCE_DOES_NOT_EXIST, 404) with MLflow's message
//     ("Registered Model with name=X not found", "Model Version (name=X, version=N) not found");
//   - an alias that is not set: kInvalidArgument ("Registered model alias A not found."), as
//     MLflow answers;
//   - duplicate model name (create, rename): kAlreadyExists (RESOURCE_ALREADY_EXISTS, 400);
//   - invalid input (empty name, non-integer version, bad or reserved alias, bad tag key,
//     unknown stage, a source outside the artifact store): kInvalidArgument;
//   - a promotion its gate refuses: kFailedPrecondition with MLflow code PROMOTION_GATE_FAILED;
//   - a database failure: kInternal; the database busy beyond its timeout: kUnavailable.
// Every write is one transaction: it applies completely or not at all.
//
// Thread-safety: every method may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "registry/entities.h"

namespace cairn::registry {

struct CreateModelVersionRequest {
  std::string name;
  std::string source;  // runs:/<run>/<path>, models:/<logged-model-id>, mlflow-artifacts:/...
  std::optional<std::string> run_id;
  std::vector<Tag> tags;
  std::optional<std::string> run_link;
  std::optional<std::string> description;
  std::optional<std::string> model_id;
  std::optional<std::string> user_id;
};

struct SearchRequest {
  std::string filter;
  std::optional<int64_t> max_results;  // unset = the endpoint's default
  std::vector<std::string> order_by;
  std::string page_token;
};

struct SearchRegisteredModelsResult {
  std::vector<RegisteredModel> registered_models;
  std::string next_page_token;  // "" when there is no further page
};

struct SearchModelVersionsResult {
  std::vector<ModelVersion> model_versions;
  std::string next_page_token;
};

// A resolved models:/ URI.
struct ResolvedModel {
  std::string name;      // "" for a logged model (models:/<id>)
  int64_t version = 0;   // 0 for a logged model
  std::string source;
  std::string download_uri;  // get-download-uri: storage location, else source
  // Where the files are: download_uri with runs:/ resolved through the tracking store.
  std::string artifact_location;
  std::optional<std::string> run_id;
  std::optional<std::string> model_id;
  std::string current_stage;
  std::vector<std::string> aliases;
};

struct PromoteRequest {
  std::string name;
  int64_t version = 0;
  std::string alias;  // the target environment: "dev", "test", "prod", or any alias
  std::string user_id;
  bool dry_run = false;  // evaluate the gate only; never move, never record
};

struct PromoteResult {
  bool promoted = false;  // false: the gate refused (or dry_run)
  std::optional<int64_t> from_version;
  int64_t to_version = 0;
  GateEvaluation gate;
  std::optional<AliasEvent> event;  // the recorded history entry (unset for dry runs)
};

class RegistryStore {
 public:
  virtual ~RegistryStore() = default;

  // ---- Registered models ----
  virtual StatusOr<RegisteredModel> CreateRegisteredModel(
      const std::string& name, std::vector<Tag> tags,
      std::optional<std::string> description) = 0;
  virtual StatusOr<RegisteredModel> GetRegisteredModel(const std::string& name) = 0;
  // Sets the description (unset = cleared) and bumps last_updated_timestamp.
  virtual StatusOr<RegisteredModel> UpdateRegisteredModel(
      const std::string& name, std::optional<std::string> description) = 0;
  // Renames the model; its versions, tags, aliases, gates and history follow.
  virtual StatusOr<RegisteredModel> RenameRegisteredModel(const std::string& name,
                                                          const std::string& new_name) = 0;
  // Deletes the model with everything that belongs to it.
  virtual Status DeleteRegisteredModel(const std::string& name) = 0;
  // Filter/order_by per mlflow-api.md §3 (prompts excluded unless asked for); max_results
  // 1..1000, default 100.
  virtual StatusOr<SearchRegisteredModelsResult> SearchRegisteredModels(
      const SearchRequest& request) = 0;
  // The newest version per stage, restricted to `stages` (case-insensitive; empty = all).
  virtual StatusOr<std::vector<ModelVersion>> GetLatestVersions(
      const std::string& name, const std::vector<std::string>& stages) = 0;
  virtual Status SetRegisteredModelTag(const std::string& name, Tag tag) = 0;
  // Deleting a tag that is not set is a no-op (the model must exist).
  virtual Status DeleteRegisteredModelTag(const std::string& name, const std::string& key) = 0;

  // ---- Model versions ----
  // Versions of one model get consecutive numbers (deleted ones are never reused), also under
  // concurrent calls. For a models:/<id> source the logged model's artifact location becomes
  // the storage location, run_id defaults to its source run, and (when model_id is given) the
  // logged model is tagged mlflow.modelVersions.
  virtual StatusOr<ModelVersion> CreateModelVersion(CreateModelVersionRequest request) = 0;
  // `version` as sent on the wire (a decimal string).
  virtual StatusOr<ModelVersion> GetModelVersion(const std::string& name,
                                                 const std::string& version) = 0;
  virtual StatusOr<ModelVersion> UpdateModelVersion(const std::string& name,
                                                    const std::string& version,
                                                    std::optional<std::string> description) = 0;
  // Moves the version to `stage` (case-insensitive). archive_existing_versions (only for
  // Staging/Production) moves the others in that stage to Archived.
  virtual StatusOr<ModelVersion> TransitionModelVersionStage(const std::string& name,
                                                             const std::string& version,
                                                             const std::string& stage,
                                                             bool archive_existing_versions) = 0;
  // Marks the version deleted (its number is never reused) and removes its aliases.
  virtual Status DeleteModelVersion(const std::string& name, const std::string& version,
                                    const std::string& user_id) = 0;
  virtual StatusOr<std::string> GetModelVersionDownloadUri(const std::string& name,
                                                           const std::string& version) = 0;
  // max_results 1..200000, default 200000.
  virtual StatusOr<SearchModelVersionsResult> SearchModelVersions(
      const SearchRequest& request) = 0;
  virtual Status SetModelVersionTag(const std::string& name, const std::string& version,
                                    Tag tag) = 0;
  virtual Status DeleteModelVersionTag(const std::string& name, const std::string& version,
                                       const std::string& key) = 0;

  // ---- Aliases ----
  // `latest` and v<N> are reserved; the version must exist. Recorded in the alias history.
  virtual Status SetRegisteredModelAlias(const std::string& name, const std::string& alias,
                                         const std::string& version,
                                         const std::string& user_id) = 0;
  // Removing an alias that is not set is a no-op (the model must exist).
  virtual Status DeleteRegisteredModelAlias(const std::string& name, const std::string& alias,
                                            const std::string& user_id) = 0;
  // `latest` (any case) gives MLflow's first latest version.
  virtual StatusOr<ModelVersion> GetModelVersionByAlias(const std::string& name,
                                                        const std::string& alias) = 0;

  // ---- models:/ URIs ----
  // Resolves models:/name/<version>, models:/name@alias, models:/name/<stage>,
  // models:/name/latest as MLflow's client does. models:/<logged-model-id> is not a registry
  // URI: kInvalidArgument.
  virtual StatusOr<ResolvedModel> ResolveModelUri(const std::string& uri) = 0;

  // ---- Promotion gates, promotion, history, lineage (cairn) ----
  // Replaces the gate of (gate.name, gate.alias). Conditions are parsed here: a bad expression
  // is kInvalidArgument. The model must exist.
  virtual StatusOr<PromotionGate> SetPromotionGate(PromotionGate gate) = 0;
  // The gates of a model, default gate ("" alias) first.
  virtual StatusOr<std::vector<PromotionGate>> GetPromotionGates(const std::string& name) = 0;
  // Removing a gate that is not set is a no-op.
  virtual Status DeletePromotionGate(const std::string& name, const std::string& alias) = 0;
  // Checks the gate for moving `alias` to `version` and, when it passes, moves the alias.
  // Both outcomes are recorded in the history (unless dry_run). A refusal is returned as
  // OK with promoted=false; errors are for unknown models/versions and invalid aliases.
  virtual StatusOr<PromoteResult> Promote(const PromoteRequest& request) = 0;
  // Newest first. `alias` "" = every alias.
  virtual StatusOr<std::vector<AliasEvent>> GetAliasHistory(const std::string& name,
                                                            const std::string& alias) = 0;
  virtual StatusOr<Lineage> GetLineage(const std::string& name, const std::string& version) = 0;
};

}  // namespace cairn::registry
