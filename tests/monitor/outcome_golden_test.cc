// cairn's outcome analyses vs their reference implementations: fairness vs fairlearn 0.15.0,
// business value vs nannyML 0.13.1 (portfolio figures vs pandas), the correlation ranker vs
// nannyML's CorrelationRanker. Goldens and configs in tests/monitor/goldens/, made by
// make_outcome_goldens.py.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <tuple>

#include "monitor/config.h"
#include "monitor/data_source.h"
#include "monitor/monitor.h"

namespace cairn::monitor {
namespace {

std::string GoldenDir() { return std::string(CAIRN_SOURCE_DIR) + "/tests/monitor/goldens/"; }

bool Close(double expected, double actual, double rel) {
  if (std::isnan(expected)) return std::isnan(actual);
  return std::abs(expected - actual) <= rel * std::abs(expected) + 1e-12;
}

class Golden {
 public:
  explicit Golden(const std::string& name, std::vector<std::string> text_columns) {
    ReadOptions opts;
    for (const auto& c : text_columns) opts.types[c] = ColumnType::kCategorical;
    auto t = OpenCsvFile(GoldenDir() + name)->Read(opts);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    if (t.ok()) table_ = std::move(*t);
  }
  size_t rows() const { return table_.num_rows; }
  std::string Str(const char* col, size_t row) const {
    const Column* c = table_.Find(col);
    return c->codes[row] == kMissingCode ? "" : c->dictionary[c->codes[row]];
  }
  double Num(const char* col, size_t row) const {
    const Column* c = table_.Find(col);
    if (c->type == ColumnType::kBoolean) return c->codes[row] == kMissingCode ? NAN : c->codes[row];
    return c->numbers[row];
  }

 private:
  Table table_;
};

MonitorResult RunGolden(const std::string& yaml) {
  auto cfg = LoadMonitorConfig(GoldenDir() + yaml);
  EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto result = RunMonitor(*cfg);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? std::move(*result) : MonitorResult{};
}

using Key = std::tuple<std::string, int64_t, std::string, std::string, std::string>;

// Compares every golden row (period, chunk, column, group, metric) with cairn's record: value
// to `rel`, limits/thresholds to 1e-9, alert exactly. Returns the number of alerts.
int CompareRecords(const MonitorResult& result, const Golden& g, const std::string& name,
                   double rel) {
  std::map<Key, const Record*> index;
  for (const auto& r : result.records)
    index[{r.period, r.chunk_index, r.column, r.group, r.metric}] = &r;
  int alerts = 0;
  const bool has_group = name.find("fairness") != std::string::npos;
  for (size_t i = 0; i < g.rows(); ++i) {
    const std::string group = has_group ? g.Str("group", i) : "";
    Key key{g.Str("period", i), static_cast<int64_t>(g.Num("chunk_index", i)), g.Str("column", i),
            group, g.Str("metric", i)};
    const std::string what = name + " " + std::get<0>(key) + " chunk " +
                             std::to_string(std::get<1>(key)) + " " + std::get<2>(key) + " [" +
                             group + "] " + std::get<4>(key);
    auto it = index.find(key);
    if (it == index.end()) {
      ADD_FAILURE() << "no cairn record for " << what;
      continue;
    }
    const Record& r = *it->second;
    EXPECT_EQ(r.chunk_key, g.Str("key", i)) << what;
    EXPECT_EQ(r.start_index, static_cast<int64_t>(g.Num("start_index", i))) << what;
    EXPECT_EQ(r.end_index, static_cast<int64_t>(g.Num("end_index", i))) << what;
    EXPECT_TRUE(Close(g.Num("value", i), r.value, rel))
        << what << ": reference " << g.Num("value", i) << " cairn " << r.value;
    for (auto [col, got] : {std::pair{"lower", r.lower}, std::pair{"upper", r.upper}}) {
      const double want = g.Num(col, i);
      EXPECT_EQ(std::isnan(want), !got.has_value()) << what << " " << col << " presence";
      if (!std::isnan(want) && got) {
        EXPECT_TRUE(Close(want, *got, 1e-9)) << what << " " << col;
      }
    }
    EXPECT_EQ(g.Num("alert", i) == 1, r.alert) << what << " alert: value " << r.value;
    alerts += r.alert;
  }
  return alerts;
}

TEST(OutcomeGoldenTest, FairnessAdultMatchesFairlearn) {
  MonitorResult result = RunGolden("fairness_adult.yaml");
  Golden g("fairness_adult.csv.gz", {"period", "key", "column", "group", "metric"});
  ASSERT_GT(g.rows(), 1000u);
  const int alerts = CompareRecords(result, g, "fairness_adult", 1e-12);
  EXPECT_GT(alerts, 0) << "the golden should exercise alerts";
  // Every fairness record cairn writes is in the golden (no extra groups), and the missing
  // native_country values form a counted group.
  size_t fairness = 0, missing = 0;
  for (const auto& r : result.records) {
    if (r.kind != "fairness") continue;
    ++fairness;
    if (r.group == "(missing)" && r.metric == "group_size") {
      EXPECT_EQ(r.column, "native_country");
      EXPECT_GT(r.value, 0);
      ++missing;
    }
  }
  EXPECT_EQ(fairness, g.rows());
  EXPECT_EQ(missing, 6u);  // every chunk of both periods has rows with a missing country
}

// Multiclass fairness, one-vs-rest per class (records suffixed _<class>) and the worst case over
// the classes (the limits apply to it), against fairlearn on binarized targets and predictions.
TEST(OutcomeGoldenTest, FairnessCreditCardMulticlassMatchesFairlearn) {
  MonitorResult result = RunGolden("fairness_credit_card.yaml");
  Golden g("fairness_credit_card.csv.gz", {"period", "key", "column", "group", "metric"});
  ASSERT_GT(g.rows(), 1000u);
  const int alerts = CompareRecords(result, g, "fairness_credit_card", 1e-12);
  EXPECT_GT(alerts, 0) << "the golden should exercise alerts";
  size_t fairness = 0;
  for (const auto& r : result.records) fairness += r.kind == "fairness" && r.column != "app_channel";
  EXPECT_EQ(fairness, g.rows());  // no record beyond fairlearn's (app_channel alone is not in it)
}

TEST(OutcomeGoldenTest, BusinessValueCarLoanMatchesNannyML) {
  MonitorResult result = RunGolden("business_value_car_loan.yaml");
  Golden g("business_value_car_loan.csv.gz", {"period", "key", "column", "metric"});
  ASSERT_EQ(g.rows(), 100u);
  const int alerts = CompareRecords(result, g, "business_value_car_loan", 1e-9);
  EXPECT_GT(alerts, 0);
}

void CheckRanking(const std::string& name) {
  MonitorResult result = RunGolden(name + ".yaml");
  Golden g(name + ".csv.gz", {"column"});
  ASSERT_EQ(g.rows(), 9u);
  std::vector<const Record*> ranked;
  for (const auto& r : result.records) {
    if (r.kind == "ranking") ranked.push_back(&r);
  }
  ASSERT_EQ(ranked.size(), g.rows());
  for (size_t i = 0; i < g.rows(); ++i) {
    const Record& r = *ranked[i];
    const std::string what = "rank " + std::to_string(i + 1) + " " + g.Str("column", i);
    EXPECT_EQ(r.column, g.Str("column", i)) << what;
    EXPECT_TRUE(Close(g.Num("correlation", i), r.value, 1e-9))
        << what << ": nannyML " << g.Num("correlation", i) << " cairn " << r.value;
    ASSERT_TRUE(r.p_value.has_value()) << what;
    EXPECT_TRUE(Close(g.Num("p_value", i), *r.p_value, 1e-7))
        << what << ": nannyML " << g.Num("p_value", i) << " cairn " << *r.p_value;
    std::map<std::string, double> details(r.details.begin(), r.details.end());
    EXPECT_EQ(details["rank"], g.Num("rank", i)) << what;
    EXPECT_EQ(details["has_drifted"], g.Num("has_drifted", i)) << what;
    EXPECT_EQ(r.chunk_key, "*");
    EXPECT_EQ(r.period, "analysis");
  }
}

TEST(OutcomeGoldenTest, CorrelationRankerCarLoanMatchesNannyML) { CheckRanking("ranker_car_loan"); }
// Against CBPE's estimated ROC AUC, without analysis targets.
TEST(OutcomeGoldenTest, CorrelationRankerOnCbpeMatchesNannyML) {
  CheckRanking("ranker_cbpe_car_loan");
}

// Reliability-curve data vs scikit-learn's calibration_curve over each whole period.
TEST(OutcomeGoldenTest, ReliabilityCurveCarLoanMatchesScikitLearn) {
  MonitorResult result = RunGolden("business_value_car_loan.yaml");
  Golden g("reliability_car_loan.csv.gz", {"period"});
  ASSERT_EQ(g.rows(), 20u);
  std::map<std::pair<std::string, int>, const Record*> index;
  for (const auto& r : result.records) {
    if (r.kind != "reliability") continue;
    std::map<std::string, double> d(r.details.begin(), r.details.end());
    index[{r.period, static_cast<int>(d["bin"])}] = &r;
  }
  EXPECT_EQ(index.size(), g.rows());
  for (size_t i = 0; i < g.rows(); ++i) {
    const std::string what = g.Str("period", i) + " bin " + std::to_string(int(g.Num("bin", i)));
    auto it = index.find({g.Str("period", i), static_cast<int>(g.Num("bin", i))});
    if (it == index.end()) {
      ADD_FAILURE() << "no cairn reliability bin " << what;
      continue;
    }
    std::map<std::string, double> d(it->second->details.begin(), it->second->details.end());
    EXPECT_EQ(d["count"], g.Num("count", i)) << what;
    EXPECT_TRUE(Close(g.Num("fraction_positive", i), it->second->value, 1e-12)) << what;
    EXPECT_TRUE(Close(g.Num("mean_predicted", i), d["mean_predicted"], 1e-12)) << what;
  }
}

// Weak segments vs scipy's Welch test and Benjamini-Hochberg (make_segment_goldens.py): the
// same slices are listed in every chunk, in the same order, with the same figures.
void CheckSegments(const std::string& name, const std::string& metric) {
  MonitorResult result = RunGolden(name + ".yaml");
  Golden g(name + ".csv.gz", {"period", "key", "column", "group", "metric"});
  ASSERT_GT(g.rows(), 50u);
  std::map<std::tuple<std::string, int64_t, std::string>, const Record*> index;
  size_t listed = 0;
  for (const auto& r : result.records) {
    if (r.kind != "weak_segment") continue;
    ++listed;
    index[{r.period, r.chunk_index, r.group}] = &r;
  }
  EXPECT_EQ(listed, g.rows()) << "cairn lists other segments than the reference";
  for (size_t i = 0; i < g.rows(); ++i) {
    const std::string what = g.Str("period", i) + " chunk " +
                             std::to_string(int(g.Num("chunk_index", i))) + " " + g.Str("group", i);
    auto it = index.find(
        {g.Str("period", i), static_cast<int64_t>(g.Num("chunk_index", i)), g.Str("group", i)});
    if (it == index.end()) {
      ADD_FAILURE() << "cairn does not list " << what;
      continue;
    }
    const Record& r = *it->second;
    std::map<std::string, double> d(r.details.begin(), r.details.end());
    EXPECT_EQ(r.column, g.Str("column", i)) << what;
    EXPECT_EQ(r.metric, metric) << what;
    EXPECT_EQ(r.chunk_key, g.Str("key", i)) << what;
    EXPECT_EQ(d["rank"], g.Num("rank", i)) << what;
    EXPECT_EQ(d["size"], g.Num("size", i)) << what;
    EXPECT_TRUE(Close(g.Num("value", i), r.value, 1e-12)) << what;
    for (const char* k : {"rest", "gap", "effect_size"}) {
      EXPECT_TRUE(Close(g.Num(k, i), d[k], 1e-9))
          << what << " " << k << ": scipy " << g.Num(k, i) << " cairn " << d[k];
    }
    ASSERT_TRUE(r.p_value.has_value());
    EXPECT_TRUE(Close(g.Num("p_value", i), *r.p_value, 1e-9))
        << what << ": scipy p " << g.Num("p_value", i) << " cairn " << *r.p_value;
    EXPECT_TRUE(Close(g.Num("q_value", i), d["q_value"], 1e-9)) << what;
  }
}

TEST(OutcomeGoldenTest, WeakSegmentsAdultMatchScipy) {
  CheckSegments("segments_adult", "error_rate");
}
// A regression: absolute errors, numeric features with many distinct values, joined targets.
TEST(OutcomeGoldenTest, WeakSegmentsCarPriceMatchScipy) {
  CheckSegments("segments_car_price", "absolute_error");
}

}  // namespace
}  // namespace cairn::monitor
