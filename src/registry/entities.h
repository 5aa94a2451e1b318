// Plain structs for MLflow's model-registry entities (mlflow/protos/model_registry.proto) and
// cairn's promotion records, as the registry store returns them. No JSON, no SQL: http/
// codecs turn these into wire messages.
//
// Times are int64 milliseconds since the epoch. std::optional marks fields MLflow may leave
// unset (omitted on the wire), so "unset" stays distinguishable from "".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tracking/entities.h"

namespace cairn::registry {

// Stage names exactly as MLflow stores and sends them.
inline constexpr char kStageNone[] = "None";
inline constexpr char kStageStaging[] = "Staging";
inline constexpr char kStageProduction[] = "Production";
inline constexpr char kStageArchived[] = "Archived";
// A deleted version keeps its row (so version numbers are never reused) in this stage.
inline constexpr char kStageDeletedInternal[] = "Deleted_Internal";

inline constexpr char kStatusReady[] = "READY";

// The tag that marks a registered model as a prompt (MLflow's prompt registry).
inline constexpr char kPromptTagKey[] = "mlflow.prompt.is_prompt";
// The logged-model tag listing the registry versions made from it (JSON list of
// {"name","version"}), as MLflow writes it.
inline constexpr char kModelVersionsTag[] = "mlflow.modelVersions";

using Tag = tracking::Tag;

struct ModelVersion {
  std::string name;
  int64_t version = 0;
  int64_t creation_timestamp = 0;
  std::optional<int64_t> last_updated_timestamp;
  std::optional<std::string> user_id;
  std::string current_stage = kStageNone;
  std::optional<std::string> description;
  std::optional<std::string> source;
  std::optional<std::string> run_id;
  std::string status = kStatusReady;
  std::optional<std::string> status_message;
  std::vector<Tag> tags;
  std::optional<std::string> run_link;
  // Filled only where MLflow fills them (get, create, update, transition, get-by-alias,
  // get-latest-versions); empty in search results and in RegisteredModel::latest_versions.
  std::vector<std::string> aliases;
  // The logged model this version was made from, if any (not on MLflow's 3.6 wire).
  std::optional<std::string> model_id;
  // Where the files are (get-download-uri): the logged model's artifact location for a
  // models:/<id> source, otherwise the source itself.
  std::optional<std::string> storage_location;
};

struct ModelAlias {
  std::string alias;
  int64_t version = 0;
  bool operator==(const ModelAlias&) const = default;
};

struct RegisteredModel {
  std::string name;
  int64_t creation_timestamp = 0;
  std::optional<int64_t> last_updated_timestamp;
  std::optional<std::string> user_id;
  std::optional<std::string> description;
  // The newest version of each stage that has one, in MLflow's order (stages in the order
  // their first version appears).
  std::vector<ModelVersion> latest_versions;
  std::vector<Tag> tags;
  std::vector<ModelAlias> aliases;
};

// ---- Promotion gates (cairn) ----------------------------------------------------------------

// One metric condition, as written: "auc >= champion.auc - 0.002", "latency_p99_ms <= 5".
// Bare metric names are the candidate's; `champion.<metric>` is the version currently holding
// the target alias (see registry/gates.h for the grammar).
struct GateCondition {
  std::string expression;
  bool operator==(const GateCondition&) const = default;
};

// A tag the candidate version must carry with exactly this value.
struct RequiredTag {
  std::string key;
  std::string value;
  bool operator==(const RequiredTag&) const = default;
};

// The gate of one model for promotions to `alias` ("" = every target alias without a gate of
// its own).
struct PromotionGate {
  std::string name;
  std::string alias;
  std::vector<GateCondition> conditions;
  std::vector<RequiredTag> required_tags;
  std::optional<int64_t> updated_timestamp;
  std::optional<std::string> updated_by;
};

// The outcome of one gate check.
struct GateCheck {
  std::string condition;  // the expression, or "tag <key> = <value>"
  bool passed = false;
  std::string detail;  // the values compared, or why it could not be evaluated
  bool operator==(const GateCheck&) const = default;
};

struct GateEvaluation {
  bool passed = true;  // all checks passed (true when there is no gate)
  bool has_gate = false;
  std::string gate_alias;  // which gate applied ("" = the model's default gate)
  std::optional<int64_t> champion_version;  // the holder of the target alias when checked
  std::vector<GateCheck> checks;
};

// One change of an alias (any route: promote, MLflow set/delete alias, version or model
// deletion), or a refused promotion.
struct AliasEvent {
  int64_t id = 0;
  std::string name;
  std::string alias;
  std::optional<int64_t> from_version;  // unset: the alias did not exist
  std::optional<int64_t> to_version;    // unset: the alias was removed
  int64_t timestamp = 0;
  std::string user_id;  // "" when unknown
  // "promote", "set-alias", "delete-alias", "delete-version", "rename".
  std::string action;
  // "moved", or "refused" for a promotion its gate stopped (nothing changed).
  std::string outcome;
  std::vector<GateCheck> gate_checks;
};

// Everything a version came from: its run (params, metrics, tags, dataset inputs) and the
// logged model it was registered from.
struct Lineage {
  ModelVersion model_version;
  std::optional<tracking::Run> run;
  std::optional<tracking::LoggedModel> logged_model;
  // Why the run or model is missing when the version names one (deleted, unknown), or "".
  std::vector<std::string> notes;
};

}  // namespace cairn::registry
