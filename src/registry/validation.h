// MLflow's model-registry input rules (mlflow/utils/validation.py, mlflow/server/handlers.py,
// mlflow/store/artifact/utils/models.py, 3.6): same limits and messages, plus cairn's rule that
// a model version's files must live in cairn's artifact store. Every failure is
// kInvalidArgument (INVALID_PARAMETER_VALUE, 400).
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "registry/entities.h"

namespace cairn::registry {

inline constexpr size_t kMaxRegistryTagKeyLength = 250;
inline constexpr size_t kMaxRegistryTagValueLength = 100000;
inline constexpr size_t kMaxAliasLength = 255;
inline constexpr int64_t kMaxRegisteredModelsPerPage = 1000;
inline constexpr int64_t kDefaultRegisteredModelsPerPage = 100;
inline constexpr int64_t kMaxModelVersionsPerPage = 200000;

// Non-empty ("Missing value for required parameter 'name'.").
Status ValidateModelName(std::string_view name);
Status ValidateNewModelName(std::string_view new_name);
// Python int() of the text: optional surrounding spaces and sign, then digits.
// "Parameter 'version' must be an integer, got 'x'."
StatusOr<int64_t> ParseVersion(std::string_view version);
// Non-empty, ^[\w\-]*$, at most 255 characters.
Status ValidateAliasName(std::string_view alias);
// `latest` (any case) and v<N>/V<N> are reserved for MLflow's URI forms.
Status ValidateAliasNotReserved(std::string_view alias);
Status ValidateRegisteredModelTag(const Tag& tag);
Status ValidateModelVersionTag(const Tag& tag);
// "production" -> "Production"; unknown stages are refused with MLflow's message.
StatusOr<std::string> CanonicalStage(std::string_view stage);

// A model version source must be in cairn's artifact store: a runs:/, models:/ or
// mlflow-artifacts: URI without relative path segments. Local paths and file: URIs get
// MLflow's message (`model_id_given` picks its wording); other schemes (s3:, http:, ...) are
// refused because cairn could not serve their files.
Status ValidateModelVersionSource(std::string_view source, bool model_id_given);

// A parsed models:/ URI (mlflow.store.artifact.utils.models._parse_model_uri): exactly one of
// model_id, version, stage, alias is set, or none of them (models:/name/latest).
struct ModelUri {
  std::optional<std::string> model_id;
  std::string name;
  std::optional<std::string> version;
  std::optional<std::string> stage;
  std::optional<std::string> alias;
  bool latest() const { return !model_id && !version && !stage && !alias; }
};
// Errors: kInvalidArgument "Not a proper models:/ URI: ..." as MLflow.
StatusOr<ModelUri> ParseModelUri(std::string_view uri);

// Python's urllib.parse.urlparse split, enough for source and model URIs.
struct UriParts {
  std::string scheme;  // lowercased; "" when the text has no valid scheme
  std::string netloc;
  std::string path;
};
// allow_fragments=false keeps a '#' in the path, as MLflow parses models:/ URIs.
UriParts SplitUri(std::string_view uri, bool allow_fragments = true);

}  // namespace cairn::registry
