// What a deployment is: a name, an environment (dev, test, prod) and its routes — one
// primary model version; optionally a canary (a weight in percent) OR A/B variants (weights
// summing to 100, optionally sticky by a request header or an input field), and shadow
// versions that get a copy of every request (their answers are logged, never returned).
//
// A route names a registered model and either a version ("3") or an alias ("champion"); an
// alias is followed: the deployment serves whatever version the alias points to
// (DeploymentManager re-resolves aliases, see deployment_manager.h).
//
// The JSON form (the native API's body and what the deployments table stores):
//   {"name": "fraud", "environment": "test",
//    "primary": {"model": "m", "version": "3"} | {"model": "m", "alias": "champion"},
//    "canary":  {"model": "m", "version": "4", "weight": 10},
//    "variants": [{"name": "a", "model": "m", "version": "3", "weight": 50}, ...],
//    "sticky": {"header": "X-User-Id"} | {"field": "customer_id"},
//    "shadows": [{"model": "m", "version": "5"}]}
// When a route has both "alias" and "version" (a GET answer sent back), the alias wins and
// the version is ignored. Unknown keys are errors, so a typo never silently does nothing.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cairn::serving {

struct ModelRef {
  std::string model;
  std::string version;  // set when the route pins a version
  std::string alias;    // set when the route follows an alias (then version is unused)
  bool follows_alias() const { return !alias.empty(); }
  // "m/3" or "m@champion", for messages.
  std::string Describe() const;
  bool operator==(const ModelRef&) const = default;
};

struct CanaryRoute {
  ModelRef ref;
  double weight = 0;  // percent of traffic, [0, 100]
  bool operator==(const CanaryRoute&) const = default;
};

struct VariantRoute {
  std::string name;
  ModelRef ref;
  double weight = 0;  // percent; all variants sum to 100
  bool operator==(const VariantRoute&) const = default;
};

// Where the key that makes A/B assignment (and canary assignment) sticky comes from. Both
// empty = no key: each request is assigned by a random draw.
struct StickyKey {
  std::string header;  // a request header, matched case-insensitively
  std::string field;   // a column of the first input row (JSON bodies)
  bool operator==(const StickyKey&) const = default;
};

struct DeploymentSpec {
  std::string name;
  std::string environment = "dev";
  ModelRef primary;
  std::optional<CanaryRoute> canary;
  std::vector<VariantRoute> variants;
  StickyKey sticky;
  std::vector<ModelRef> shadows;
  bool operator==(const DeploymentSpec&) const = default;
};

inline constexpr const char* kEnvironments[] = {"dev", "test", "prod"};

// Checks the name (1..128 of [A-Za-z0-9._-], starting with a letter or digit), the
// environment, every route's model and version/alias, and the weights (each in [0, 100];
// variants summing to 100; a canary and variants not combined; at least two variants).
// Errors: InvalidArgument whose message names the field.
Status ValidateDeploymentSpec(const DeploymentSpec& spec);

// JSON codec. FromJson: InvalidArgument for malformed JSON, wrong types, unknown keys or a
// spec that fails ValidateDeploymentSpec. `name_override` (when not empty) is the name from
// the URL and wins over (must equal, when present) the body's "name".
StatusOr<DeploymentSpec> DeploymentSpecFromJson(std::string_view json,
                                                const std::string& name_override = "");
std::string DeploymentSpecToJson(const DeploymentSpec& spec);

}  // namespace cairn::serving
