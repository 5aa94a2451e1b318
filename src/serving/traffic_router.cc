#include "serving/traffic_router.h"

#include <cmath>
#include <cstdio>
#include <set>
#include <utility>

#include "common/ids.h"

namespace cairn::serving {
namespace {

std::string FormatPercent(double w) {
  // Two decimals are the table's resolution; print what the caller would recognise.
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", w);
  return buf;
}

Status CheckWeight(double w, const std::string& field) {
  if (!std::isfinite(w) || w < 0 || w > 100) {
    return InvalidArgument(field + " must be a percentage in [0, 100], got " + FormatPercent(w));
  }
  return OkStatus();
}

// splitmix64's finaliser: FNV-1a's low bits are weak, and the bucket is taken modulo 10^4.
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Cumulative percentage -> bucket boundary; the same rounding for every boundary, so the
// ranges tile [0, kNumBuckets) without gaps.
uint32_t Boundary(double cumulative_percent) {
  double b = std::round(cumulative_percent * (kNumBuckets / 100.0));
  if (b < 0) return 0;
  if (b > kNumBuckets) return kNumBuckets;
  return static_cast<uint32_t>(b);
}

}  // namespace

uint32_t BucketForKey(std::string_view salt, std::string_view key) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  auto feed = [&h](unsigned char c) {
    h ^= c;
    h *= 0x100000001b3ULL;  // FNV-1a 64 prime
  };
  for (char c : salt) feed(static_cast<unsigned char>(c));
  feed(0);
  for (char c : key) feed(static_cast<unsigned char>(c));
  return static_cast<uint32_t>(Mix(h) % kNumBuckets);
}

Status ValidateRouteSpec(const RouteSpec& spec) {
  if (spec.primary_version.empty()) return InvalidArgument("primary_version must not be empty");
  std::set<std::string> serving = {spec.primary_version};
  if (spec.canary) {
    if (!spec.variants.empty()) {
      return InvalidArgument("a canary and A/B variants cannot be combined in one deployment");
    }
    if (spec.canary->version.empty()) return InvalidArgument("canary.version must not be empty");
    if (spec.canary->version == spec.primary_version) {
      return InvalidArgument("canary.version '" + spec.canary->version +
                             "' is the primary version");
    }
    RETURN_IF_ERROR(CheckWeight(spec.canary->weight_percent, "canary.weight_percent"));
    serving.insert(spec.canary->version);
  }
  if (!spec.variants.empty()) {
    if (spec.variants.size() < 2) {
      return InvalidArgument("an A/B test needs at least two variants, got " +
                             std::to_string(spec.variants.size()));
    }
    std::set<std::string> names;
    double sum = 0;
    for (size_t i = 0; i < spec.variants.size(); ++i) {
      const VariantSpec& v = spec.variants[i];
      std::string field = "variants[" + std::to_string(i) + "]";
      if (v.name.empty()) return InvalidArgument(field + ".name must not be empty");
      if (v.version.empty()) return InvalidArgument(field + ".version must not be empty");
      if (!names.insert(v.name).second) {
        return InvalidArgument(field + ".name '" + v.name + "' is used twice");
      }
      RETURN_IF_ERROR(CheckWeight(v.weight_percent, field + ".weight_percent"));
      sum += v.weight_percent;
      serving.insert(v.version);
    }
    if (std::fabs(sum - 100.0) > 1e-6) {
      return InvalidArgument("variant weights must sum to 100, got " + FormatPercent(sum));
    }
  }
  std::set<std::string> shadows;
  for (size_t i = 0; i < spec.shadow_versions.size(); ++i) {
    const std::string& s = spec.shadow_versions[i];
    std::string field = "shadow_versions[" + std::to_string(i) + "]";
    if (s.empty()) return InvalidArgument(field + " must not be empty");
    if (!shadows.insert(s).second) return InvalidArgument(field + " '" + s + "' is listed twice");
    if (serving.count(s)) {
      return InvalidArgument(field + " '" + s + "' also serves traffic; a shadow only gets copies");
    }
  }
  return OkStatus();
}

StatusOr<std::shared_ptr<const RoutingTable>> RoutingTable::Create(RouteSpec spec,
                                                                   uint64_t generation) {
  RETURN_IF_ERROR(ValidateRouteSpec(spec));
  std::shared_ptr<RoutingTable> table(new RoutingTable());
  if (!spec.variants.empty()) {
    double cumulative = 0;
    for (const VariantSpec& v : spec.variants) {
      cumulative += v.weight_percent;
      table->ranges_.push_back({Boundary(cumulative), v.name, v.version});
    }
  } else if (spec.canary) {
    // The canary owns the lowest buckets, so raising its weight only moves keys onto it.
    table->ranges_.push_back(
        {Boundary(spec.canary->weight_percent), std::string(kCanaryVariant), spec.canary->version});
    table->ranges_.push_back({kNumBuckets, std::string(kPrimaryVariant), spec.primary_version});
  } else {
    table->ranges_.push_back({kNumBuckets, std::string(kPrimaryVariant), spec.primary_version});
  }
  table->ranges_.back().end = kNumBuckets;  // absorbs the sum's rounding (|sum - 100| <= 1e-6)
  table->spec_ = std::move(spec);
  table->generation_ = generation;
  return std::shared_ptr<const RoutingTable>(std::move(table));
}

RoutingTable::Target RoutingTable::TargetForBucket(uint32_t bucket) const {
  for (const Range& r : ranges_) {
    if (bucket < r.end) return {r.variant, r.version};
  }
  const Range& last = ranges_.back();
  return {last.variant, last.version};
}

StatusOr<std::unique_ptr<TrafficRouter>> TrafficRouter::Create(RouteSpec spec,
                                                               RandomSource random) {
  if (!random) random = [] { return RandomU64(); };
  ASSIGN_OR_RETURN(auto table, RoutingTable::Create(std::move(spec), 0));
  std::unique_ptr<TrafficRouter> router(new TrafficRouter(std::move(random)));
  router->table_ = std::move(table);
  return router;
}

std::shared_ptr<const RoutingTable> TrafficRouter::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_;
}

RouteDecision TrafficRouter::Route(std::string_view key) const {
  RouteDecision d;
  d.table = Current();
  d.sticky = !key.empty();
  d.bucket = d.sticky ? BucketForKey(d.table->spec().salt, key)
                      : static_cast<uint32_t>(random_() % kNumBuckets);
  RoutingTable::Target t = d.table->TargetForBucket(d.bucket);
  d.variant = std::string(t.variant);
  d.version = std::string(t.version);
  d.shadow_versions = d.table->spec().shadow_versions;
  return d;
}

Status TrafficRouter::Change(const std::function<Status(RouteSpec&)>& edit) {
  std::lock_guard<std::mutex> lock(mu_);
  RouteSpec spec = table_->spec();
  RETURN_IF_ERROR(edit(spec));
  ASSIGN_OR_RETURN(auto table, RoutingTable::Create(std::move(spec), table_->generation() + 1));
  history_.push_back(std::move(table_));
  if (history_.size() > kMaxHistory) history_.erase(history_.begin());
  table_ = std::move(table);
  return OkStatus();
}

Status TrafficRouter::Replace(RouteSpec spec) {
  return Change([&spec](RouteSpec& current) {
    current = std::move(spec);
    return OkStatus();
  });
}

Status TrafficRouter::SetCanaryWeight(double weight_percent) {
  return Change([weight_percent](RouteSpec& spec) -> Status {
    if (!spec.canary) return FailedPrecondition("the deployment has no canary");
    RETURN_IF_ERROR(CheckWeight(weight_percent, "canary.weight_percent"));
    spec.canary->weight_percent = weight_percent;
    return OkStatus();
  });
}

Status TrafficRouter::SetVariantWeights(const std::vector<double>& weights_percent) {
  return Change([&weights_percent](RouteSpec& spec) -> Status {
    if (spec.variants.empty()) return FailedPrecondition("the deployment has no A/B variants");
    if (weights_percent.size() != spec.variants.size()) {
      return InvalidArgument("expected " + std::to_string(spec.variants.size()) +
                             " variant weights, got " + std::to_string(weights_percent.size()));
    }
    for (size_t i = 0; i < weights_percent.size(); ++i) {
      spec.variants[i].weight_percent = weights_percent[i];
    }
    return OkStatus();
  });
}

Status TrafficRouter::PromoteCanary() {
  return Change([](RouteSpec& spec) -> Status {
    if (!spec.canary) return FailedPrecondition("the deployment has no canary to promote");
    spec.primary_version = spec.canary->version;
    spec.canary.reset();
    std::erase(spec.shadow_versions, spec.primary_version);
    return OkStatus();
  });
}

Status TrafficRouter::Rollback() {
  std::lock_guard<std::mutex> lock(mu_);
  if (history_.empty()) return FailedPrecondition("nothing to roll back to");
  RouteSpec previous = history_.back()->spec();
  ASSIGN_OR_RETURN(auto table, RoutingTable::Create(std::move(previous), table_->generation() + 1));
  history_.pop_back();
  table_ = std::move(table);
  return OkStatus();
}

}  // namespace cairn::serving
