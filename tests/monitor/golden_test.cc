// cairn vs nannyML 0.13.1 on the shared datasets. The goldens and their configs are in
// tests/monitor/goldens/ (make_goldens.py produced the .csv.gz files): every (chunk, column,
// metric) value matches to 1e-6 relative, thresholds to 1e-9, and every alert matches.
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

bool Close(double expected, double actual, double rel, double abs_tol) {
  if (std::isnan(expected)) return std::isnan(actual);
  return std::abs(expected - actual) <= rel * std::abs(expected) + abs_tol;
}

// `value_abs_tol` > 0 compares values with that absolute tolerance instead of 1e-6 relative
// (for the domain classifier, where nannyML's LightGBM and cairn's XGBoost differ).
void CheckGolden(const std::string& name, double value_abs_tol = 0) {
  auto cfg = LoadMonitorConfig(GoldenDir() + name + ".yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto result = RunMonitor(*cfg);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::map<std::tuple<std::string, int64_t, std::string, std::string>, const Record*> index;
  for (const auto& r : result->records) index[{r.period, r.chunk_index, r.column, r.metric}] = &r;

  ReadOptions opts;
  for (const char* c : {"period", "key", "column", "metric"})
    opts.types[c] = ColumnType::kCategorical;
  for (const char* c :
       {"chunk_index", "start_index", "end_index", "value", "lower", "upper", "alert", "p_value"}) {
    opts.types[c] = ColumnType::kContinuous;
  }
  auto golden = OpenCsvFile(GoldenDir() + name + ".csv.gz")->Read(opts);
  ASSERT_TRUE(golden.ok()) << golden.status().ToString();
  const Table& g = *golden;
  auto str = [&](const char* col, size_t row) {
    const Column* c = g.Find(col);
    return c->dictionary[c->codes[row]];
  };
  auto num = [&](const char* col, size_t row) { return g.Find(col)->numbers[row]; };
  ASSERT_GE(g.num_rows, 8u);
  int alerts = 0;
  for (size_t i = 0; i < g.num_rows; ++i) {
    std::string what = name + " " + str("period", i) + " chunk " +
                       std::to_string(int(num("chunk_index", i))) + " " + str("column", i) + " " +
                       str("metric", i);
    auto it = index.find({str("period", i), static_cast<int64_t>(num("chunk_index", i)),
                          str("column", i), str("metric", i)});
    ASSERT_NE(it, index.end()) << "no cairn record for " << what;
    const Record& r = *it->second;
    std::string key = str("key", i);
    for (auto& ch : key) ch = ch == ';' ? ',' : ch;
    EXPECT_EQ(r.chunk_key, key) << what;
    EXPECT_EQ(r.start_index, static_cast<int64_t>(num("start_index", i))) << what;
    EXPECT_EQ(r.end_index, static_cast<int64_t>(num("end_index", i))) << what;
    if (value_abs_tol > 0) {
      EXPECT_NEAR(r.value, num("value", i), value_abs_tol) << what;
    } else {
      EXPECT_TRUE(Close(num("value", i), r.value, 1e-6, 1e-12))
          << what << ": reference implementation " << num("value", i) << " cairn " << r.value;
    }
    double lower = num("lower", i), upper = num("upper", i);
    EXPECT_EQ(std::isnan(lower), !r.lower.has_value()) << what << " lower threshold presence";
    if (!std::isnan(lower) && r.lower) {
      EXPECT_TRUE(Close(lower, *r.lower, 1e-9, 1e-12)) << what;
    }
    EXPECT_EQ(std::isnan(upper), !r.upper.has_value()) << what << " upper threshold presence";
    if (!std::isnan(upper) && r.upper) {
      EXPECT_TRUE(Close(upper, *r.upper, 1e-9, 1e-12)) << what;
    }
    // Row count: cairn keeps nannyML's thresholds but alerts only strictly outside them
    // (nannyML flags every equal-sized chunk when σ = 0; see monitor.cc).
    if (str("metric", i) != "row_count") {
      EXPECT_EQ(num("alert", i) == 1, r.alert) << what << " alert: value " << r.value;
    }
    alerts += r.alert;
    double p = num("p_value", i);
    if (!std::isnan(p)) {
      ASSERT_TRUE(r.p_value.has_value()) << what;
      EXPECT_TRUE(Close(p, *r.p_value, 1e-6, 1e-300))
          << what << ": scipy p " << p << " cairn " << *r.p_value;
    }
  }
  EXPECT_GT(alerts, 0) << name << ": the golden should exercise alerts";
}

TEST(GoldenTest, CarLoanBinnedKsWassersteinAllMethodsAndPca) { CheckGolden("car_loan"); }
TEST(GoldenTest, CaliforniaHousingExactKsAndIncompleteChunk) { CheckGolden("california_housing"); }
TEST(GoldenTest, HotelBookingMonthlyPeriodsUnseenAndMissing) { CheckGolden("hotel_booking"); }
TEST(GoldenTest, CarLoanSummaryStatsRowCountAndRange) { CheckGolden("car_loan_stats"); }
TEST(GoldenTest, HousingMissingValuesAndDriftWithNaN) { CheckGolden("housing_dq"); }
TEST(GoldenTest, CarLoanPsiAsEvidently) { CheckGolden("car_loan_psi"); }
TEST(GoldenTest, CarLoanEvidentlyPresetLargeReference) { CheckGolden("car_loan_evidently"); }
TEST(GoldenTest, BikeDayEvidentlyPresetSmallReference) { CheckGolden("bike_day_evidently"); }
// LightGBM (nannyML) vs XGBoost (cairn) out-of-fold AUROC: within 0.07; every alert matches.
TEST(GoldenTest, CaliforniaDomainClassifier) { CheckGolden("california_dc", 0.07); }

}  // namespace
}  // namespace cairn::monitor
