// nannyML's configurable options vs nannyML 0.13.1 (goldens tests/monitor/goldens/opt_*, made by
// make_option_goldens.py): per-metric thresholds for CBPE and realized performance (DLE's are
// in dle_golden_test.cc), normalize_confusion_matrix for both, binary and multiclass, and the
// multiclass business value (K×K value matrix). Plus their config errors. Everything to 1e-9 relative (nannyML's arithmetic is reproduced).
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>

#include "estimation_golden.h"
#include "monitor/config.h"
#include "monitor/data_source.h"
#include "monitor/monitor.h"

namespace cairn::monitor {
namespace {

// CBPE with thresholds of every kind (opt_car_loan_thresholds.yaml): roc_auc
// ConstantThreshold(0.965, None), f1 std(2, 1.5) from the median, precision
// ConstantThreshold(None, None), recall std(None, 1), accuracy std(1, None), the four counts
// ConstantThreshold(1700, 2300), business value std(1, 1) from the median. 20 chunks × 11.
// The same thresholds on realized performance (performance.thresholds; business value from the
// top-level business_value section): nannyML's PerformanceCalculator, 20 chunks × 11, from the
// same run.
TEST(OptionsGoldenTest, ConfiguredThresholds) {
  const MonitorResult result = RunGoldenConfig("opt_car_loan_thresholds");
  int alerts = CheckEstimationRecords(
      result, "opt_car_loan_thresholds", [](const std::string&) { return Tolerance{}; },
      [](const std::string&) { return true; }, 220);
  EXPECT_GT(alerts, 0);
  CheckRealizedRecords(result, "opt_perf_car_loan_thresholds", 220);
}

struct Normalization {
  CmNormalization norm;
  const char* suffix;
};
constexpr Normalization kNormalizations[] = {{CmNormalization::kAll, "_norm_all"},
                                             {CmNormalization::kTrue, "_norm_true"},
                                             {CmNormalization::kPred, "_norm_pred"}};

std::function<void(MonitorConfig*)> Normalize(CmNormalization n) {
  return [n](MonitorConfig* cfg) {
    cfg->estimation->normalize_confusion_matrix = n;
    cfg->performance.normalize_confusion_matrix = n;
  };
}

std::function<bool(const std::string&)> EndsWith(const std::string& suffix) {
  return [suffix](const std::string& m) { return m.ends_with(suffix); };
}

// Binary cells normalized by all rows, the true class and the predicted class, one run per
// normalization checked against both goldens. CBPE: nannyML's r · (1 / (r + r_other)) on
// expected ratios, its sampling errors (std of the cell's indicator over the normalizing
// reference rows), realized values, thresholds clipped to [0, 1], alerts; realized: the
// PerformanceCalculator's cells. 20 chunks × 4 cells per normalization and golden.
TEST(OptionsGoldenTest, BinaryNormalizedConfusionMatrix) {
  int alerts = 0;
  for (const auto& [norm, suffix] : kNormalizations) {
    SCOPED_TRACE(suffix);
    const MonitorResult result = RunGoldenConfig("opt_car_loan_cm", Normalize(norm));
    alerts += CheckEstimationRecords(result, "opt_car_loan_cm",
                                     [](const std::string&) { return Tolerance{}; },
                                     EndsWith(suffix), 80);
    CheckRealizedRecords(result, "opt_perf_car_loan_cm", 80, EndsWith(suffix),
                         /*expect_alerts=*/false);
  }
  EXPECT_GT(alerts, 0);
}

// Multiclass: the 9 cells of the expected ratio matrix divided by its row, column or total sums
// (CBPE), and nannyML's realized cells, counts included.
TEST(OptionsGoldenTest, MulticlassNormalizedConfusionMatrix) {
  CheckRealizedGolden("opt_perf_credit_card_cm", 180, "opt_credit_card_cm", nullptr,
                      EndsWith("_count"), /*expect_alerts=*/false);
  int alerts = 0;
  for (const auto& [norm, suffix] : kNormalizations) {
    SCOPED_TRACE(suffix);
    const MonitorResult result = RunGoldenConfig("opt_credit_card_cm", Normalize(norm));
    alerts += CheckEstimationRecords(result, "opt_credit_card_cm",
                                     [](const std::string&) { return Tolerance{}; },
                                     EndsWith(suffix), 180);
    CheckRealizedRecords(result, "opt_perf_credit_card_cm", 180, EndsWith(suffix),
                         /*expect_alerts=*/false);
  }
  EXPECT_GT(alerts, 0);
}

// Multiclass business value, CBPE: Σ V∘C over the expected 3×3 matrix (total, and per
// prediction with each predicted-class column divided by its sum), nannyML's sampling error
// (pandas' ddof-1 std of the per-row values), realized values, thresholds, alerts.
TEST(OptionsGoldenTest, MulticlassBusinessValue) {
  const MonitorResult result = RunGoldenConfig("opt_credit_card_bv");
  CheckEstimationRecords(result, "opt_credit_card_bv",
                         [](const std::string&) { return Tolerance{}; },
                         EndsWith("business_value"), 20);
  // Realized (the top-level business_value section): nannyML's PerformanceCalculator, total and
  // per prediction; 20 chunks × 2.
  CheckRealizedRecords(result, "opt_perf_credit_card_bv", 40, nullptr, /*expect_alerts=*/false);
  CheckEstimationGolden(
      "opt_credit_card_bv", "opt_credit_card_bv", [](const std::string&) { return Tolerance{}; },
      EndsWith("business_value_per_prediction"), 20,
      [](MonitorConfig* cfg) { cfg->estimation->business_value_per_prediction = true; });
}


// Multiclass fairness before targets arrive: selection rates per class from the y_pred column
// and the parity figures. Hand-derived, one chunk per period, groups g = u (rows 1-4) and v
// (rows 5-8): ŷ over u = a a b c, over v = a b b b. Class a: SR_u = 2/4, SR_v = 1/4, difference
// 0.25, ratio 0.5; class b: 1/4 vs 3/4, difference 0.5, ratio 1/3; class c: 1/4 vs 0,
// difference 0.25, ratio 0. Worst case: difference 0.5, ratio 0 (four-fifths alert).
TEST(OptionsTest, MulticlassFairnessWithoutTargetsHandDerived) {
  const std::string rows =
      "1,u,0.8,0.1,0.1,a\n2,u,0.8,0.1,0.1,a\n3,u,0.1,0.8,0.1,b\n4,u,0.1,0.1,0.8,c\n"
      "5,v,0.8,0.1,0.1,a\n6,v,0.1,0.8,0.1,b\n7,v,0.1,0.8,0.1,b\n8,v,0.1,0.8,0.1,b\n";
  auto ref = CsvFromString("id,g,pa,pb,pc,yhat\n" + rows, "ref.csv");
  auto ana = CsvFromString("id,g,pa,pb,pc,yhat\n" + rows, "ana.csv");
  auto cfg = ParseMonitorConfig(
      "reference: r.csv\nanalysis: a.csv\nid_columns: [id]\nchunking: {number: 1}\n"
      "model_outputs: {y_pred_proba: {a: pa, b: pb, c: pc}, y_pred: yhat}\n"
      "data_quality: {enabled: false}\nsummary_stats: {enabled: false}\n"
      "fairness: {sensitive_attributes: [g]}\n",
      "t.yaml", "/tmp");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto result = RunMonitorOn(*cfg, *ref, *ana);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::map<std::pair<std::string, std::string>, const Record*> got;
  for (const auto& r : result->records)
    if (r.kind == "fairness" && r.period == "analysis") got[{r.metric, r.group}] = &r;
  auto value = [&](const std::string& metric, const std::string& group = "") {
    auto it = got.find({metric, group});
    return it == got.end() ? -1.0 : it->second->value;
  };
  EXPECT_DOUBLE_EQ(value("selection_rate_a", "u"), 0.5);
  EXPECT_DOUBLE_EQ(value("selection_rate_b", "v"), 0.75);
  EXPECT_DOUBLE_EQ(value("selection_rate_c", "v"), 0.0);
  EXPECT_DOUBLE_EQ(value("group_size", "u"), 4);
  EXPECT_DOUBLE_EQ(value("demographic_parity_difference_a"), 0.25);
  EXPECT_DOUBLE_EQ(value("demographic_parity_ratio_b"), 1.0 / 3);
  EXPECT_DOUBLE_EQ(value("demographic_parity_ratio_c"), 0.0);
  EXPECT_DOUBLE_EQ(value("demographic_parity_difference"), 0.5);
  EXPECT_DOUBLE_EQ(value("demographic_parity_ratio"), 0.0);
  EXPECT_TRUE(got.at({"demographic_parity_ratio", ""})->alert);
  EXPECT_FALSE(got.at({"demographic_parity_ratio_c", ""})->alert);  // limits: worst case only
  EXPECT_EQ(got.count({"true_positive_rate_a", "u"}), 0u);  // rates need targets

  // A predicted label that is not a class names the file, row and column.
  auto bad = CsvFromString("id,g,pa,pb,pc,yhat\n1,u,0.8,0.1,0.1,a\n2,v,0.1,0.1,0.8,d\n",
                           "bad.csv");
  auto ref2 = CsvFromString("id,g,pa,pb,pc,yhat\n" + rows, "ref.csv");
  auto failed = RunMonitorOn(*cfg, *ref2, *bad);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("'d', which is not one of the classes"),
            std::string::npos)
      << failed.status().ToString();
}

std::string ConfigError(const std::string& yaml) {
  auto cfg = ParseMonitorConfig("reference: r.csv\nanalysis: a.csv\n" + yaml, "t.yaml", "/tmp");
  return cfg.ok() ? "" : std::string(cfg.status().message());
}

TEST(OptionsConfigTest, ThresholdsParse) {
  auto cfg = ParseMonitorConfig(
      "reference: r.csv\nanalysis: a.csv\n"
      "estimation:\n  thresholds:\n    f1: {type: std, lower: 2, upper: null, offset_from: median}\n"
      "    mae: {type: constant, lower: 1, upper: 2}\n"
      "performance: {thresholds: {accuracy: {type: none}, true_positive_count: {upper: 1}}}\n",
      "t.yaml", "/tmp");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  const ThresholdSpec f1 = MetricThresholdFor(cfg->estimation->thresholds, "f1");
  EXPECT_EQ(f1.kind, ThresholdKind::kStd);
  EXPECT_EQ(f1.lower, 2.0);
  EXPECT_FALSE(f1.upper.has_value());
  EXPECT_EQ(f1.offset_from, OffsetFrom::kMedian);
  const ThresholdSpec roc = MetricThresholdFor(cfg->estimation->thresholds, "roc_auc");
  EXPECT_EQ(roc.kind, ThresholdKind::kStd);  // nannyML's default
  EXPECT_EQ(roc.lower, 3.0);
  EXPECT_EQ(roc.upper, 3.0);
  EXPECT_EQ(cfg->performance.thresholds.at("accuracy").kind, ThresholdKind::kNone);
  EXPECT_EQ(cfg->performance.thresholds.at("true_positive_count").upper, 1.0);
}

TEST(OptionsConfigTest, BadOptionsNameTheFieldAndLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"estimation: {thresholds: {f1: {type: constant, lower: 0.9, upper: 0.8}}}\n",
       "t.yaml:3: 'estimation.thresholds.f1': lower threshold 0.9 must be less than upper "
       "threshold 0.8"},
      {"estimation: {thresholds: {f1: {type: constant, lower: 0.5, upper: 0.5}}}\n",
       "lower threshold 0.5 must be less than upper"},
      {"estimation: {thresholds: {f1: {type: std, lower: -1}}}\n",
       "'estimation.thresholds.f1.lower' is a standard-deviation multiplier and must not be "
       "negative"},
      {"estimation: {thresholds: {f1: {offset_from: mode}}}\n",
       "'estimation.thresholds.f1.offset_from' must be mean or median, not 'mode'"},
      {"estimation: {thresholds: {f1: {type: constant, offset_from: median}}}\n",
       "applies to std thresholds only"},
      {"estimation: {thresholds: {f2: {type: none}}}\n",
       "unknown metric 'f2' in 'estimation.thresholds'"},
      {"estimation: {thresholds: {f1: {type: p_value}}}\n", "has no p-value"},
      {"estimation: {thresholds: {f1: {kind: std}}}\n",
       "unknown key 'kind' in 'estimation.thresholds.f1'"},
      {"performance: {thresholds: {roc_auc: {type: maybe}}}\n",
       "unknown threshold type 'maybe' in 'performance.thresholds.roc_auc'"},
      {"performance: {thresholds: {cbpe: {type: none}}}\n",
       "unknown metric 'cbpe' in 'performance.thresholds'"},
      {"estimation: {normalize_confusion_matrix: rows}\n",
       "t.yaml:3: 'estimation.normalize_confusion_matrix' must be none, all, true or pred, not "
       "'rows'"},
      {"performance: {normalize_confusion_matrix: [all]}\n",
       "'performance.normalize_confusion_matrix' must be a string"},
      {"model_outputs: {y_pred_proba: {a: pa, b: pb, c: pc}, y_pred: yhat}\n"
       "business_value: {matrix: [[1, 0], [0, 1]]}\n",
       "t.yaml:4: 'business_value.matrix' is 2x2 but model_outputs.y_pred_proba names 3 classes "
       "(a, b, c); give a 3x3 matrix"},
      {"model_outputs: {y_pred_proba: p, y_pred: yhat}\n"
       "estimation: {business_value: {matrix: [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}}\n",
       "'estimation.business_value.matrix' is 3x3 but the model is a binary classifier"},
      {"model_outputs: {y_pred_proba: {a: pa, b: pb, c: pc}, y_pred: yhat}\n"
       "business_value: {matrix: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], amount_column: amt}\n",
       "'business_value.amount_column' (and amount_matrix) apply to binary classifiers only"},
      {"business_value: {matrix: [[1, 0, 0], [0, 1]]}\n",
       "'business_value.matrix' must be a square matrix"},
      {"estimation: {business_value: {matrix: [[1, 0, 0], [0, 1, 0]]}}\n",
       "it has 2 rows but row 1 has 3 values"},
      {"estimation: {business_value: {matrix: [[1, 0], [0, 1]], normalize: per_row}}\n",
       "t.yaml:3: 'estimation.business_value.normalize' must be none or per_prediction, not "
       "'per_row'"},
      {"estimation: {business_value: {normalize: none}}\n",
       "'estimation.business_value' needs 'matrix'"},
      {"drift: {thresholds: {wasserstein: {type: constant, lower: 2, upper: 1}}}\n",
       "'drift.thresholds.wasserstein': lower threshold 2 must be less than upper threshold 1"},
  };
  for (const auto& [yaml, want] : cases) {
    const std::string err = ConfigError(yaml);
    EXPECT_NE(err.find(want), std::string::npos) << yaml << " gave: " << err;
  }
}

}  // namespace
}  // namespace cairn::monitor
