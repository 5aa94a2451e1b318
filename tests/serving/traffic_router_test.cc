// Traffic routing: the split over 10k requests against the configured weights (binomial
// tolerance of 4 sigma, deterministic keys or a seeded generator, so it cannot flake),
// stickiness, shadows never answering, validation, promote / roll back without disturbing a
// decision already made.
#include "serving/traffic_router.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <thread>

namespace cairn::serving {
namespace {

constexpr int kRequests = 10'000;

// |observed - n p| <= 4 sqrt(n p (1 - p)): the binomial tolerance for a share p.
void ExpectShare(int observed, double percent, int n = kRequests) {
  double p = percent / 100.0;
  double mean = n * p;
  double sigma = std::sqrt(n * p * (1 - p));
  EXPECT_LE(std::fabs(observed - mean), 4 * sigma)
      << "observed " << observed << " of " << n << ", expected " << percent << "%";
}

RouteSpec AbSpec(double a, double b, double c) {
  RouteSpec spec;
  spec.primary_version = "1";
  spec.variants = {{"control", "1", a}, {"treatment", "2", b}, {"holdout", "3", c}};
  spec.salt = "exp-42";
  return spec;
}

TrafficRouter::RandomSource Seeded(uint64_t seed) {
  auto gen = std::make_shared<std::mt19937_64>(seed);
  return [gen] { return (*gen)(); };
}

TEST(TrafficRouterTest, KeyedSplitMatchesWeights) {
  auto router = TrafficRouter::Create(AbSpec(50, 30, 20));
  ASSERT_TRUE(router.ok()) << router.status().ToString();
  std::map<std::string, int> counts;
  for (int i = 0; i < kRequests; ++i) {
    RouteDecision d = (*router)->Route("user-" + std::to_string(i));
    EXPECT_TRUE(d.sticky);
    ++counts[d.variant];
  }
  ExpectShare(counts["control"], 50);
  ExpectShare(counts["treatment"], 30);
  ExpectShare(counts["holdout"], 20);
  EXPECT_EQ(counts.size(), 3u);
}

TEST(TrafficRouterTest, RandomCanarySplitMatchesWeight) {
  RouteSpec spec;
  spec.primary_version = "7";
  spec.canary = CanarySpec{"8", 10};
  auto router = TrafficRouter::Create(spec, Seeded(12345));
  ASSERT_TRUE(router.ok());
  int canary = 0;
  for (int i = 0; i < kRequests; ++i) {
    RouteDecision d = (*router)->Route("");
    EXPECT_FALSE(d.sticky);
    if (d.variant == kCanaryVariant) {
      EXPECT_EQ(d.version, "8");
      ++canary;
    } else {
      EXPECT_EQ(d.variant, kPrimaryVariant);
      EXPECT_EQ(d.version, "7");
    }
  }
  ExpectShare(canary, 10);
}

TEST(TrafficRouterTest, SameKeySameVariantAcrossRoutersAndCalls) {
  auto r1 = TrafficRouter::Create(AbSpec(34, 33, 33));
  auto r2 = TrafficRouter::Create(AbSpec(34, 33, 33));
  ASSERT_TRUE(r1.ok() && r2.ok());
  for (int i = 0; i < 500; ++i) {
    std::string key = "entity/" + std::to_string(i * 7919);
    RouteDecision first = (*r1)->Route(key);
    for (int k = 0; k < 3; ++k) EXPECT_EQ((*r1)->Route(key).variant, first.variant);
    EXPECT_EQ((*r2)->Route(key).variant, first.variant);
    EXPECT_EQ(first.bucket, BucketForKey("exp-42", key));
  }
}

TEST(TrafficRouterTest, SaltReshufflesKeys) {
  int same = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string key = "k" + std::to_string(i);
    if (BucketForKey("a", key) == BucketForKey("b", key)) ++same;
  }
  // Independent buckets collide with probability 1/10000; a handful at most.
  EXPECT_LT(same, 5);
}

TEST(TrafficRouterTest, RaisingCanaryWeightKeepsCanaryKeysOnCanary) {
  RouteSpec spec;
  spec.primary_version = "1";
  spec.canary = CanarySpec{"2", 5};
  auto router = TrafficRouter::Create(spec);
  ASSERT_TRUE(router.ok());
  std::vector<std::string> on_canary;
  for (int i = 0; i < 2000; ++i) {
    std::string key = "u" + std::to_string(i);
    if ((*router)->Route(key).variant == kCanaryVariant) on_canary.push_back(key);
  }
  ASSERT_FALSE(on_canary.empty());
  ASSERT_TRUE((*router)->SetCanaryWeight(25).ok());
  for (const auto& key : on_canary) EXPECT_EQ((*router)->Route(key).version, "2") << key;
}

TEST(TrafficRouterTest, ShadowsGetCopiesButNeverAnswer) {
  RouteSpec spec = AbSpec(50, 25, 25);
  spec.shadow_versions = {"9", "10"};
  auto router = TrafficRouter::Create(spec, Seeded(7));
  ASSERT_TRUE(router.ok());
  for (int i = 0; i < kRequests; ++i) {
    RouteDecision d = (*router)->Route(i % 2 ? "" : "key" + std::to_string(i));
    EXPECT_NE(d.version, "9");
    EXPECT_NE(d.version, "10");
    EXPECT_EQ(d.shadow_versions, (std::vector<std::string>{"9", "10"}));
  }
}

TEST(TrafficRouterTest, InvalidSpecsRejectedWithClearMessages) {
  auto expect_invalid = [](const RouteSpec& spec, const std::string& fragment) {
    Status st = ValidateRouteSpec(spec);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << fragment;
    EXPECT_NE(st.message().find(fragment), std::string::npos) << st.message();
    EXPECT_FALSE(TrafficRouter::Create(spec).ok());
  };
  expect_invalid(AbSpec(50, 30, 10), "sum to 100, got 90");
  expect_invalid(AbSpec(60, 30, 20), "sum to 100, got 110");
  expect_invalid(AbSpec(120, -10, -10), "variants[0].weight_percent");
  expect_invalid(AbSpec(NAN, 50, 50), "variants[0].weight_percent");
  RouteSpec spec = AbSpec(50, 30, 20);
  spec.variants[2].name = "control";
  expect_invalid(spec, "variants[2].name 'control' is used twice");
  spec = AbSpec(50, 30, 20);
  spec.variants.resize(1);
  expect_invalid(spec, "at least two variants");
  spec = AbSpec(50, 30, 20);
  spec.canary = CanarySpec{"5", 10};
  expect_invalid(spec, "cannot be combined");
  spec = RouteSpec{};
  expect_invalid(spec, "primary_version");
  spec.primary_version = "1";
  spec.canary = CanarySpec{"2", 101};
  expect_invalid(spec, "canary.weight_percent");
  spec.canary = CanarySpec{"1", 10};
  expect_invalid(spec, "is the primary version");
  spec.canary.reset();
  spec.shadow_versions = {"1"};
  expect_invalid(spec, "also serves traffic");
  spec.shadow_versions = {"3", "3"};
  expect_invalid(spec, "listed twice");
}

TEST(TrafficRouterTest, WeightChangesValidatedAndTableUnchangedOnError) {
  auto router = TrafficRouter::Create(AbSpec(50, 30, 20));
  ASSERT_TRUE(router.ok());
  auto before = (*router)->Current();
  EXPECT_EQ((*router)->SetVariantWeights({50, 50, 50}).code(), Code::kInvalidArgument);
  EXPECT_EQ((*router)->SetVariantWeights({50, 50}).code(), Code::kInvalidArgument);
  EXPECT_EQ((*router)->SetCanaryWeight(10).code(), Code::kFailedPrecondition);
  EXPECT_EQ((*router)->PromoteCanary().code(), Code::kFailedPrecondition);
  EXPECT_EQ((*router)->Current(), before);
  ASSERT_TRUE((*router)->SetVariantWeights({0, 0, 100}).ok());
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ((*router)->Route("k" + std::to_string(i)).variant, "holdout");
  }
}

TEST(TrafficRouterTest, PromoteAndRollbackLeaveInFlightDecisionsAlone) {
  RouteSpec spec;
  spec.primary_version = "1";
  spec.canary = CanarySpec{"2", 100};
  spec.shadow_versions = {"3"};
  auto router = TrafficRouter::Create(spec);
  ASSERT_TRUE(router.ok());
  RouteDecision in_flight = (*router)->Route("user");
  EXPECT_EQ(in_flight.version, "2");
  EXPECT_EQ(in_flight.table->generation(), 0u);

  ASSERT_TRUE((*router)->PromoteCanary().ok());
  RouteDecision after = (*router)->Route("user");
  EXPECT_EQ(after.variant, kPrimaryVariant);
  EXPECT_EQ(after.version, "2");
  EXPECT_EQ(after.table->generation(), 1u);
  EXPECT_FALSE(after.table->spec().canary.has_value());
  // The decision made before the change still sees its own table.
  EXPECT_EQ(in_flight.table->spec().primary_version, "1");
  ASSERT_TRUE(in_flight.table->spec().canary.has_value());

  ASSERT_TRUE((*router)->Rollback().ok());
  auto restored = (*router)->Current();
  EXPECT_EQ(restored->spec().primary_version, "1");
  ASSERT_TRUE(restored->spec().canary.has_value());
  EXPECT_EQ(restored->generation(), 2u);
  EXPECT_EQ((*router)->Rollback().code(), Code::kFailedPrecondition);
}

TEST(TrafficRouterTest, PromotingCanaryDropsItFromShadows) {
  RouteSpec spec;
  spec.primary_version = "1";
  spec.canary = CanarySpec{"2", 0};
  auto router = TrafficRouter::Create(spec);
  ASSERT_TRUE(router.ok());
  // A canary at 0% gets no traffic.
  for (int i = 0; i < 1000; ++i) EXPECT_EQ((*router)->Route("k" + std::to_string(i)).version, "1");
  ASSERT_TRUE((*router)->PromoteCanary().ok());
  EXPECT_EQ((*router)->Route("x").version, "2");
}

}  // namespace
}  // namespace cairn::serving

namespace cairn::serving {
namespace {

// Requests routed while weights change, the canary is promoted and rolled back: every
// decision is consistent with the table it holds, and no thread sees the table go backwards.
TEST(TrafficRouterTest, ConcurrentChangesNeverTearADecision) {
  RouteSpec spec;
  spec.primary_version = "1";
  spec.canary = CanarySpec{"2", 10};
  spec.shadow_versions = {"3"};
  auto created = TrafficRouter::Create(spec);
  ASSERT_TRUE(created.ok());
  TrafficRouter& router = **created;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  auto reader = [&](int seed) {
    uint64_t last_generation = 0;
    for (int i = 0; i < 20'000; ++i) {
      RouteDecision d = router.Route("k" + std::to_string(seed * 100'000 + i));
      if (d.table->TargetForBucket(d.bucket).version != d.version) ++bad;
      if (d.version != "1" && d.version != "2") ++bad;
      if (d.shadow_versions != std::vector<std::string>{"3"}) ++bad;
      if (d.table->generation() < last_generation) ++bad;
      last_generation = d.table->generation();
    }
  };
  std::thread writer([&] {
    for (int i = 0; !done.load(); ++i) {
      Status st = (i % 3 == 2) ? router.Rollback() : router.SetCanaryWeight(i % 100);
      if (!st.ok() && st.code() != Code::kFailedPrecondition) ++bad;
    }
  });
  std::thread r1(reader, 1), r2(reader, 2);
  r1.join();
  r2.join();
  done = true;
  writer.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace cairn::serving
