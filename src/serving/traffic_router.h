// A deployment's routing table: which model version answers a request, and which versions
// get a shadow copy of it (reference/pipelines-and-serving.md §5).
//
// A RouteSpec has one primary version and, for splitting traffic, EITHER
//   - a canary: one version with a weight in percent; the primary gets the rest, OR
//   - A/B variants: named versions whose weights (percent) sum to 100; the primary is then
//     only the deployment's nominal version (not chosen unless it is also a variant),
// plus any number of shadow versions. Shadows receive a copy of every request; their answers
// are logged, never returned, so a shadow is never a RouteDecision's answer.
//
// Assignment: a request with a key (a user id, an entity id, a header value) is hashed
// (FNV-1a 64 over salt '\0' key, then a 64-bit finaliser) into one of 10,000 buckets, so a
// key always gets the same variant for as long as the weights stay the same (sticky without
// state); changing weights moves only the keys whose bucket changes owner. A request without
// a key is assigned by a random draw from the router's RandomSource.
//
// Weights are percentages with a resolution of 0.01 (one bucket): a weight w owns
// round(w * 100) buckets, assigned in spec order.
//
// Changes (replace, set weights, promote, roll back) build a new immutable RoutingTable and
// swap it in atomically. A RouteDecision holds the table it was made from, so a request in
// flight keeps seeing the versions it started with.
//
// Thread-safety: RoutingTable is immutable and thread-safe. TrafficRouter's methods may be
// called concurrently from any thread (changes are serialised; Route() only copies the
// current table's pointer under a short lock); the RandomSource must then be thread-safe too.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cairn::serving {

struct CanarySpec {
  std::string version;
  double weight_percent = 0;  // in [0, 100]
};

struct VariantSpec {
  std::string name;           // unique within the spec, e.g. "control", "treatment"
  std::string version;        // model version answering this variant
  double weight_percent = 0;  // in [0, 100]; all variants' weights sum to 100
};

struct RouteSpec {
  std::string primary_version;
  std::optional<CanarySpec> canary;
  std::vector<VariantSpec> variants;  // empty = no A/B test
  std::vector<std::string> shadow_versions;
  // Mixed into the key hash so two deployments (or two experiments) split the same keys
  // independently. Changing it reshuffles every key.
  std::string salt;
};

// Variant names reported for the non-A/B modes.
inline constexpr std::string_view kPrimaryVariant = "primary";
inline constexpr std::string_view kCanaryVariant = "canary";

inline constexpr uint32_t kNumBuckets = 10'000;

// Checks a spec. Errors (all InvalidArgument, the message names the offending field):
// an empty primary version; a canary with an empty version, the primary's version, or a
// weight outside [0, 100] or not finite; a canary together with variants; fewer than two
// variants; a variant with an empty name or version, a duplicate name, a weight outside
// [0, 100]; variant weights that do not sum to 100 (the message gives the sum); an empty or
// duplicate shadow version, or a shadow version that also serves traffic.
Status ValidateRouteSpec(const RouteSpec& spec);

// The bucket [0, kNumBuckets) a key falls into under `salt`. Deterministic across runs,
// processes and platforms.
uint32_t BucketForKey(std::string_view salt, std::string_view key);

class RoutingTable;

// Where one request goes.
struct RouteDecision {
  std::string variant;  // kPrimaryVariant, kCanaryVariant or the A/B variant's name
  std::string version;  // the model version whose answer is returned
  std::vector<std::string> shadow_versions;  // versions that get a copy (never the answer)
  uint32_t bucket = 0;
  bool sticky = false;  // true when assigned by key, false when by random draw
  // The table this decision was made from (generation, spec); keeps it alive.
  std::shared_ptr<const RoutingTable> table;
};

// An immutable, validated routing table.
class RoutingTable {
 public:
  // Errors: those of ValidateRouteSpec.
  static StatusOr<std::shared_ptr<const RoutingTable>> Create(RouteSpec spec,
                                                              uint64_t generation = 0);

  const RouteSpec& spec() const { return spec_; }
  // Increases by one with every change made through a TrafficRouter.
  uint64_t generation() const { return generation_; }

  // The variant owning `bucket` (< kNumBuckets): its name and version.
  struct Target {
    std::string_view variant;
    std::string_view version;
  };
  Target TargetForBucket(uint32_t bucket) const;

 private:
  RoutingTable() = default;
  struct Range {
    uint32_t end;  // exclusive upper bucket
    std::string variant;
    std::string version;
  };
  RouteSpec spec_;
  uint64_t generation_ = 0;
  std::vector<Range> ranges_;  // ascending ends, the last ends at kNumBuckets
};

class TrafficRouter {
 public:
  static constexpr size_t kMaxHistory = 64;
  // Returns uniformly random 64-bit values; used for requests without a key.
  using RandomSource = std::function<uint64_t()>;

  // Errors: those of ValidateRouteSpec. `random` defaults to cairn::RandomU64.
  static StatusOr<std::unique_ptr<TrafficRouter>> Create(RouteSpec spec,
                                                         RandomSource random = nullptr);

  // Routes one request. An empty key means "no key": a random draw.
  RouteDecision Route(std::string_view key) const;

  // The current table (a snapshot; later changes do not alter it).
  std::shared_ptr<const RoutingTable> Current() const;

  // Replaces the whole spec. Errors: those of ValidateRouteSpec (the table is unchanged).
  Status Replace(RouteSpec spec);
  // Sets the canary's weight. Errors: FailedPrecondition without a canary; InvalidArgument
  // for a weight outside [0, 100].
  Status SetCanaryWeight(double weight_percent);
  // Sets the A/B weights, in the order of the spec's variants. Errors: FailedPrecondition
  // without variants; InvalidArgument for a count mismatch or weights that do not sum to 100.
  Status SetVariantWeights(const std::vector<double>& weights_percent);
  // The canary becomes the primary (all traffic); the canary is removed, and a shadow equal
  // to the new primary is dropped. Errors: FailedPrecondition without a canary.
  Status PromoteCanary();
  // Restores the table in force before the last successful change (Replace, Set*Weight(s),
  // Promote); repeated calls walk further back, up to kMaxHistory changes. The restored table
  // gets a new generation.
  // Errors: FailedPrecondition when there is nothing to roll back to.
  Status Rollback();

 private:
  explicit TrafficRouter(RandomSource random) : random_(std::move(random)) {}
  // Applies `edit` to a copy of the current spec, validates it, pushes the current table to
  // history_ and installs the new one, all under mu_ (concurrent changes never lose one
  // another). On any error the table is unchanged.
  Status Change(const std::function<Status(RouteSpec&)>& edit);

  RandomSource random_;
  mutable std::mutex mu_;
  std::shared_ptr<const RoutingTable> table_;                 // GUARDED_BY(mu_)
  std::vector<std::shared_ptr<const RoutingTable>> history_;  // GUARDED_BY(mu_)
};

}  // namespace cairn::serving
