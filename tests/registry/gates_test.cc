// Promotion-gate conditions. Expected outcomes are worked out by hand in each case.
#include <gtest/gtest.h>

#include <cmath>

#include "registry/gates.h"

namespace cairn::registry {
namespace {

GateCheck Eval(const std::string& text, const std::map<std::string, double>& candidate,
               const std::map<std::string, double>* champion) {
  auto parsed = ParseGateCondition(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return EvaluateGateCondition(*parsed, candidate, champion, "v2");
}

TEST(GatesTest, ComparesAgainstTheChampion) {
  std::map<std::string, double> champion = {{"auc", 0.90}};
  // 0.899 >= 0.90 - 0.002 = 0.898: holds.
  EXPECT_TRUE(Eval("auc >= champion.auc - 0.002", {{"auc", 0.899}}, &champion).passed);
  // 0.897 >= 0.898: does not hold.
  GateCheck fail = Eval("auc >= champion.auc - 0.002", {{"auc", 0.897}}, &champion);
  EXPECT_FALSE(fail.passed);
  EXPECT_NE(fail.detail.find("does not hold"), std::string::npos);
}

TEST(GatesTest, AbsoluteThresholdsAndArithmetic) {
  EXPECT_TRUE(Eval("latency_p99_ms <= 5", {{"latency_p99_ms", 5}}, nullptr).passed);
  EXPECT_FALSE(Eval("latency_p99_ms < 5", {{"latency_p99_ms", 5}}, nullptr).passed);
  // (2 + 4) * 0.5 = 3 == 3.
  EXPECT_TRUE(Eval("(a + b) * 0.5 == 3", {{"a", 2}, {"b", 4}}, nullptr).passed);
  EXPECT_TRUE(Eval("-a = -2", {{"a", 2}}, nullptr).passed);
  EXPECT_TRUE(Eval("`val-loss` <= candidate.`val-loss`", {{"val-loss", 1}}, nullptr).passed);
  EXPECT_TRUE(Eval("1e-3 < x", {{"x", 0.01}}, nullptr).passed);
}

TEST(GatesTest, MissingMetricsAndNoChampion) {
  GateCheck missing = Eval("auc >= 0.5", {}, nullptr);
  EXPECT_FALSE(missing.passed);
  EXPECT_EQ(missing.detail, "the candidate has no metric 'auc'");
  // Nobody holds the alias yet: comparisons with the champion are skipped, not failed.
  GateCheck first = Eval("auc >= champion.auc", {{"auc", 0.5}}, nullptr);
  EXPECT_TRUE(first.passed);
  std::map<std::string, double> champion;  // holds the alias but never logged auc
  GateCheck no_metric = Eval("auc >= champion.auc", {{"auc", 0.5}}, &champion);
  EXPECT_FALSE(no_metric.passed);
  EXPECT_EQ(no_metric.detail, "the champion (v2) has no metric 'auc'");
  EXPECT_FALSE(Eval("a / b > 0", {{"a", 1}, {"b", 0}}, nullptr).passed);
  EXPECT_FALSE(Eval("a > 0", {{"a", std::nan("")}}, nullptr).passed);
}

TEST(GatesTest, MalformedConditionsAreRefusedWithThePosition) {
  for (const char* bad : {"", "auc", "auc >=", ">= 1", "auc >= 1 1", "auc >= (1", "auc ~ 1",
                          "champion. >= 1", "auc >= 1..2", "`unterminated >= 1"}) {
    auto parsed = ParseGateCondition(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument) << bad;
  }
  auto p = ParseGateCondition("auc >= 1 1");
  EXPECT_EQ(p.status().message(),
            "Invalid gate condition 'auc >= 1 1': expected end of condition at position 9, "
            "found '1'");
}

}  // namespace
}  // namespace cairn::registry
