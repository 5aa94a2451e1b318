// Realized performance and calibration vs nannyML 0.13.1 and scikit-learn 1.6.1 (goldens and
// configs in tests/monitor/goldens/perf_*, made by make_perf_goldens.py): values and
// thresholds to 1e-9 relative, every alert equal. Plus the bad-input contract: unmatched
// targets are counted, single-class chunks are undefined with a reason, probabilities outside
// [0, 1] name file, line and column.
#include "monitor/performance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <tuple>

#include "monitor/calibration.h"
#include "monitor/config.h"
#include "monitor/data_source.h"
#include "monitor/monitor.h"
#include "estimation_golden.h"
#include "small_binary_fixture.h"

namespace cairn::monitor {
namespace {

// 20 chunks × (7 nannyML binary metrics + 4 counts + log loss + 4 rates + Brier + 2 ECE).
TEST(PerformanceGoldenTest, CarLoanBinaryJoinedTargets) { CheckRealizedGolden("perf_car_loan", 380); }
// 20 chunks × (6 nannyML regression metrics + R²).
TEST(PerformanceGoldenTest, CarPriceRegressionJoinedTargets) {
  CheckRealizedGolden("perf_car_price", 140);
}

// 20 chunks × (6 nannyML multiclass metrics + 3 weighted from scikit-learn).
TEST(PerformanceGoldenTest, CreditCardMulticlassJoinedTargets) {
  CheckRealizedGolden("perf_credit_card", 180);
}

TEST(PerformanceTest, MulticlassConfigParsesClassMap) {
  auto cfg = ParseMonitorConfig(
      "reference: r.csv\nanalysis: a.csv\nmodel_outputs: {y_pred_proba: {b: pb, a: pa}}\n",
      "t.yaml", "/tmp");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->y_pred_proba_classes.size(), 2u);
  EXPECT_EQ(cfg->y_pred_proba_classes.at("a"), "pa");
  EXPECT_TRUE(cfg->y_pred_proba.empty());
  auto one = ParseMonitorConfig(
      "reference: r.csv\nanalysis: a.csv\nmodel_outputs: {y_pred_proba: {a: pa}}\n", "t.yaml",
      "/tmp");
  EXPECT_FALSE(one.ok());
}

// Hand-derived: p = {0.1, 0.4, 0.6, 0.9}, y = {0, 1, 0, 1}.
// Equal width (10 bins): one row per bin, ECE = (0.1 + 0.6 + 0.6 + 0.1) / 4 = 0.35.
// Equal count (2 bins): {0.1, 0.4} vs y {0, 1}: |0.25 − 0.5| = 0.25; {0.6, 0.9} vs {0, 1}:
// |0.75 − 0.5| = 0.25; ECE = 0.25. Brier = (0.01 + 0.36 + 0.36 + 0.01) / 4 = 0.185.
TEST(CalibrationTest, HandDerived) {
  std::vector<double> y = {0, 1, 0, 1}, p = {0.1, 0.4, 0.6, 0.9};
  EXPECT_NEAR(ExpectedCalibrationError(y, p, 10, false), 0.35, 1e-15);
  EXPECT_NEAR(ExpectedCalibrationError(y, p, 2, true), 0.25, 1e-15);
  EXPECT_NEAR(BrierScore(y, p), 0.185, 1e-15);
  EXPECT_TRUE(std::isnan(BrierScore({}, {})));
  // Equal count with a remainder (numpy.array_split: the first bins get the extra row):
  // p = {0.1, 0.2, 0.3 | 0.8, 0.9}, y = {0, 0, 1 | 1, 1}: 3/5·|0.2 − 1/3| + 2/5·|0.85 − 1|
  // = 0.08 + 0.06 = 0.14.
  std::vector<double> y5 = {0, 0, 1, 1, 1}, p5 = {0.1, 0.2, 0.3, 0.8, 0.9};
  EXPECT_NEAR(ExpectedCalibrationError(y5, p5, 2, true), 0.14, 1e-15);
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

MonitorConfig SmallConfig() { return testing_fixture::SmallBinaryConfig(); }

const std::string& kReference = testing_fixture::kSmallBinaryReference;

TEST(PerformanceTest, SingleClassChunkIsUndefinedWithReason) {
  MonitorConfig cfg = SmallConfig();
  auto ref = CsvFromString(kReference, "ref.csv");
  // Every analysis target is 1: AUROC has no negatives.
  auto ana = CsvFromString("id,x,p,yhat,y\n9,1,0.9,1,1\n10,2,0.8,1,1\n11,3,0.3,0,1\n12,4,0.7,1,1\n",
                           "ana.csv");
  auto result = RunMonitorOn(cfg, *ref, *ana);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  int checked = 0;
  for (const auto& r : result->records) {
    if (r.period != "analysis" || r.column != "y") continue;
    if (r.metric == "roc_auc" || r.metric == "specificity" || r.metric == "f1") {
      EXPECT_TRUE(std::isnan(r.value)) << r.metric;
      EXPECT_FALSE(r.reason.empty()) << r.metric;
      EXPECT_FALSE(r.alert);
      ++checked;
    }
    // As nannyML: recall is undefined for a single target class; accuracy is not (3 of 4).
    if (r.metric == "recall") {
      EXPECT_TRUE(std::isnan(r.value));
    }
    if (r.metric == "accuracy") {
      EXPECT_DOUBLE_EQ(r.value, 0.75);
    }
    if (r.metric == "true_positive_rate") {
      EXPECT_DOUBLE_EQ(r.value, 0.75);
    }
    if (!std::isnan(r.value)) {
      EXPECT_TRUE(r.reason.empty()) << r.metric;
    }
  }
  EXPECT_EQ(checked, 3);
  std::string json = ResultsToJson(result->records, SummaryJson(*result));
  EXPECT_NE(json.find("\"reason\":\"the chunk's targets hold a single class"), std::string::npos);
  std::string html = RenderReport(*result, cfg);
  EXPECT_NE(html.find("undefined — the chunk's targets hold a single class"), std::string::npos)
      << "the report gives the reason";
}

TEST(PerformanceTest, UnmatchedTargetsAreCountedNotFatal) {
  MonitorConfig cfg = SmallConfig();
  cfg.targets = TargetsSpec{WriteTemp("perf_targets.csv", "id,y\n9,1\n10,0\n77,1\n"), "id", "y"};
  auto ref = CsvFromString(kReference, "ref.csv");
  auto ana =
      CsvFromString("id,x,p,yhat\n9,1,0.9,1\n10,2,0.2,0\n11,3,0.3,0\n12,4,0.7,1\n", "ana.csv");
  auto result = RunMonitorOn(cfg, *ref, *ana);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  bool warned = false;
  for (const auto& w : result->warnings)
    warned = warned || w.find("2 of 4 analysis rows have no target") != std::string::npos;
  EXPECT_TRUE(warned);
  for (const auto& r : result->records) {
    if (r.period == "analysis" && r.metric == "accuracy") {
      EXPECT_DOUBLE_EQ(r.value, 1.0);
    }
    if (r.period == "analysis" && r.metric == "true_positive_count") {
      EXPECT_EQ(r.value, 1);
    }
  }
}

TEST(PerformanceTest, ProbabilityOutsideUnitIntervalNamesFileLineColumn) {
  MonitorConfig cfg = SmallConfig();
  auto ref = CsvFromString(kReference, "ref.csv");
  auto ana = CsvFromString("id,x,p,yhat,y\n9,1,0.9,1,1\n10,2,1.5,1,0\n11,3,0.3,0,1\n12,4,0.7,1,1\n",
                           "ana.csv");
  auto result = RunMonitorOn(cfg, *ref, *ana);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kInvalidArgument);
  EXPECT_NE(result.status().message().find("ana.csv:3: column 'p' holds 1.5"), std::string::npos)
      << result.status().ToString();
}

TEST(PerformanceTest, NonBinaryTargetIsAnError) {
  MonitorConfig cfg = SmallConfig();
  auto ref = CsvFromString(kReference, "ref.csv");
  auto ana = CsvFromString("id,x,p,yhat,y\n9,1,0.9,1,1\n10,2,0.5,1,2\n11,3,0.3,0,1\n12,4,0.7,1,1\n",
                           "ana.csv");
  auto result = RunMonitorOn(cfg, *ref, *ana);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("ana.csv:3: column 'y' holds 2"), std::string::npos)
      << result.status().ToString();
}

TEST(PerformanceTest, MulticlassUnknownLabelNamesFileLineColumn) {
  MonitorConfig cfg = SmallConfig();
  cfg.y_pred_proba.clear();
  cfg.y_pred_proba_classes = {{"a", "pa"}, {"b", "pb"}};
  auto ref = CsvFromString(
      "id,x,pa,pb,yhat,y\n1,1,0.9,0.1,a,a\n2,2,0.2,0.8,b,b\n3,3,0.6,0.4,a,b\n4,4,0.3,0.7,b,a\n",
      "ref.csv");
  auto ana = CsvFromString(
      "id,x,pa,pb,yhat,y\n5,1,0.9,0.1,a,a\n6,2,0.2,0.8,b,c\n7,3,0.6,0.4,a,b\n8,4,0.3,0.7,b,a\n",
      "ana.csv");
  auto result = RunMonitorOn(cfg, *ref, *ana);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("ana.csv:3: column 'y' holds 'c'"), std::string::npos)
      << result.status().ToString();
}

// The target column is read in the monitor's one pass over each file, as a read of that column
// alone reads it: a type declared for it in column_types is not applied (its type is inferred
// from its own file), and a target that is not a number is an error naming file, line, column.
TEST(PerformanceTest, TargetIsReadAsOnItsOwn) {
  auto run = [](MonitorConfig cfg, const std::string& ref_text) {
    auto ref = CsvFromString(ref_text, "ref.csv");
    auto ana = CsvFromString(
        "id,x,p,yhat,y\n9,1,0.9,1,1\n10,2,0.2,0,0\n11,3,0.3,0,1\n12,4,0.7,1,0\n", "ana.csv");
    return RunMonitorOn(cfg, *ref, *ana);
  };
  auto plain = run(SmallConfig(), kReference);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  MonitorConfig declared = SmallConfig();
  declared.column_types["y"] = ColumnType::kBoolean;  // would make "1"/"0" unparseable
  auto with_type = run(declared, kReference);
  ASSERT_TRUE(with_type.ok()) << with_type.status().ToString();
  ASSERT_EQ(plain->records.size(), with_type->records.size());
  for (size_t i = 0; i < plain->records.size(); ++i) {
    const Record& a = plain->records[i];
    const Record& b = with_type->records[i];
    EXPECT_EQ(a.metric, b.metric);
    if (!std::isnan(a.value)) {
      EXPECT_EQ(a.value, b.value) << a.metric;
    }
  }
  std::string bad = kReference;
  bad.replace(bad.find("3,3,0.7,1,0"), 11, "3,3,0.7,1,x");
  auto failed = run(SmallConfig(), bad);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kInvalidArgument);
  EXPECT_NE(failed.status().message().find("ref.csv:4: column 'y' holds 'x'"), std::string::npos)
      << failed.status().ToString();
}

std::string Mutate(std::string s, std::mt19937& rng) {
  static const char kBytes[] = {',', '"', '\n', '1', '0', '.', '-', 'e', 'x', 'a', 'b', '9'};
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    size_t pos = rng() % s.size();
    switch (rng() % 3) {
      case 0:
        s[pos] = kBytes[rng() % sizeof(kBytes)];
        break;
      case 1:
        s.insert(pos, 1, kBytes[rng() % sizeof(kBytes)]);
        break;
      default:
        s.erase(pos, 1 + rng() % 3);
        break;
    }
  }
  return s;
}

// Mutated reference and analysis data under binary, binary-without-labels, multiclass and
// regression configs: a result or a Status, never a crash (ASan/UBSan in the sanitizer build).
TEST(PerformanceTest, MutatedDataNeverCrashes) {
  std::mt19937 rng(20261126);
  const std::string binary_ref = kReference;
  const std::string multi_ref =
      "id,x,pa,pb,yhat,y\n1,1,0.9,0.1,a,a\n2,2,0.2,0.8,b,b\n3,3,0.6,0.4,a,b\n4,4,0.3,0.7,b,a\n"
      "5,5,0.8,0.2,a,a\n6,6,0.1,0.9,b,b\n7,7,0.6,0.4,a,a\n8,8,0.4,0.6,b,b\n";
  const std::string reg_ref =
      "id,x,yhat,y\n1,1,1.5,2\n2,2,2.5,2\n3,3,3,4\n4,4,0,1\n5,5,7,6\n6,6,2,2\n7,7,1,0\n8,8,5,4\n";
  for (int variant = 0; variant < 4; ++variant) {
    MonitorConfig cfg = SmallConfig();
    std::string ref = binary_ref;
    if (variant == 1) cfg.y_pred.clear();
    if (variant == 2) {
      cfg.y_pred_proba.clear();
      cfg.y_pred_proba_classes = {{"a", "pa"}, {"b", "pb"}};
      ref = multi_ref;
    }
    if (variant == 3) {
      cfg.y_pred_proba.clear();
      ref = reg_ref;
    }
    int ok = 0;
    for (int i = 0; i < 150; ++i) {
      auto r = CsvFromString(Mutate(ref, rng), "ref.csv");
      auto a = CsvFromString(Mutate(ref, rng), "ana.csv");
      auto result = RunMonitorOn(cfg, *r, *a);
      ok += result.ok();
    }
    auto r = CsvFromString(ref, "ref.csv");
    auto a = CsvFromString(ref, "ana.csv");
    auto clean = RunMonitorOn(cfg, *r, *a);
    EXPECT_TRUE(clean.ok()) << "variant " << variant << ": " << clean.status().ToString();
    (void)ok;
  }
}

}  // namespace
}  // namespace cairn::monitor
