// Shared by the performance-estimation golden tests: runs cairn on a golden config and compares
// its estimated records with nannyML's rows (make_estimation_goldens.py).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <tuple>

#include "monitor/config.h"
#include "monitor/data_source.h"
#include "monitor/monitor.h"

namespace cairn::monitor {

inline std::string GoldenDir() { return std::string(CAIRN_SOURCE_DIR) + "/tests/monitor/goldens/"; }

inline bool Close(double expected, double actual, double rel) {
  if (std::isnan(expected)) return std::isnan(actual);
  return std::abs(expected - actual) <= rel * std::abs(expected) + 1e-12;
}

struct Tolerance {
  double value = 1e-9, se = 1e-9, band = 1e-9, realized = 1e-9, threshold = 1e-9;
  bool check_alerts = true;
  bool analysis_targets = true;  // false: cairn ran without them, realized must be NaN
};

// Runs cairn on the golden config `config`.yaml, changed by `adjust` when given; an empty result
// (and a test failure) when it does not run.
inline MonitorResult RunGoldenConfig(const std::string& config,
                                     const std::function<void(MonitorConfig*)>& adjust = nullptr) {
  auto cfg = LoadMonitorConfig(GoldenDir() + config + ".yaml");
  EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
  if (!cfg.ok()) return {};
  if (adjust) adjust(&*cfg);
  auto result = RunMonitor(*cfg);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? std::move(*result) : MonitorResult{};
}

inline int CheckEstimationRecords(const MonitorResult& result, const std::string& golden,
                                  const std::function<Tolerance(const std::string&)>& tolerance,
                                  const std::function<bool(const std::string&)>& want,
                                  int expected_rows);

// Compares every golden row whose metric passes `want` with cairn's record; returns how many
// analysis alerts cairn raised on the compared rows. `adjust` (optional) changes the loaded
// config before the run.
inline int CheckEstimationGolden(const std::string& config, const std::string& golden,
                          const std::function<Tolerance(const std::string&)>& tolerance,
                          const std::function<bool(const std::string&)>& want, int expected_rows,
                          const std::function<void(MonitorConfig*)>& adjust = nullptr) {
  return CheckEstimationRecords(RunGoldenConfig(config, adjust), golden, tolerance, want,
                                expected_rows);
}

// The same comparison on the records of a run already made.
inline int CheckEstimationRecords(const MonitorResult& result, const std::string& golden,
                                  const std::function<Tolerance(const std::string&)>& tolerance,
                                  const std::function<bool(const std::string&)>& want,
                                  int expected_rows) {
  std::map<std::tuple<std::string, int64_t, std::string>, const Record*> index;
  for (const auto& r : result.records)
    if (r.estimated) index[{r.period, r.chunk_index, r.metric}] = &r;
  ReadOptions opts;
  for (const char* c : {"period", "key", "metric"}) opts.types[c] = ColumnType::kCategorical;
  for (const char* c : {"chunk_index", "start_index", "end_index", "value", "sampling_error",
                        "realized", "lower_confidence", "upper_confidence", "lower", "upper",
                        "alert"})
    opts.types[c] = ColumnType::kContinuous;
  auto g = OpenCsvFile(GoldenDir() + golden + ".csv.gz")->Read(opts);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  if (!g.ok()) return 0;
  auto str = [&](const char* col, size_t row) {
    const Column* c = g->Find(col);
    return c->dictionary[c->codes[row]];
  };
  auto num = [&](const char* col, size_t row) { return g->Find(col)->numbers[row]; };
  int rows = 0, alerts = 0;
  for (size_t i = 0; i < g->num_rows; ++i) {
    const std::string metric = str("metric", i);
    if (!want(metric)) continue;
    ++rows;
    const Tolerance tol = tolerance(metric);
    const std::string what = golden + " " + str("period", i) + " chunk " +
                             std::to_string(int(num("chunk_index", i))) + " " + metric;
    auto it = index.find({str("period", i), static_cast<int64_t>(num("chunk_index", i)), metric});
    EXPECT_NE(it, index.end()) << "no cairn estimate for " << what;
    if (it == index.end()) continue;
    const Record& r = *it->second;
    EXPECT_EQ(r.chunk_key, str("key", i)) << what;
    EXPECT_EQ(r.end_index, static_cast<int64_t>(num("end_index", i))) << what;
    EXPECT_EQ(r.kind, "estimated_performance");
    auto check = [&](const char* field, double expected, double actual, double rel) {
      EXPECT_TRUE(Close(expected, actual, rel))
          << what << " " << field << ": nannyML " << expected << " cairn " << actual;
    };
    check("value", num("value", i), r.value, tol.value);
    check("sampling_error", num("sampling_error", i), r.sampling_error, tol.se);
    if (tol.analysis_targets || r.period == "reference") {
      check("realized", num("realized", i), r.realized, tol.realized);
    } else {
      EXPECT_TRUE(std::isnan(r.realized)) << what << ": realized without targets";
    }
    check("lower_confidence", num("lower_confidence", i), r.lower_confidence, tol.band);
    check("upper_confidence", num("upper_confidence", i), r.upper_confidence, tol.band);
    double lower = num("lower", i), upper = num("upper", i);
    EXPECT_EQ(std::isnan(lower), !r.lower.has_value()) << what;
    if (r.lower && !std::isnan(lower)) check("lower", lower, *r.lower, tol.threshold);
    EXPECT_EQ(std::isnan(upper), !r.upper.has_value()) << what;
    if (r.upper && !std::isnan(upper)) check("upper", upper, *r.upper, tol.threshold);
    // An alert is compared unless nannyML's estimate lies within the value tolerance of a
    // threshold (where a learner difference may legitimately flip it).
    const double v = num("value", i), margin = tol.value * std::abs(v);
    const bool near = (!std::isnan(lower) && std::abs(v - lower) <= margin) ||
                      (!std::isnan(upper) && std::abs(v - upper) <= margin);
    if (tol.check_alerts && !near) {
      EXPECT_EQ(num("alert", i) == 1, r.alert) << what << " alert";
    }
    alerts += r.period == "analysis" && r.alert;
  }
  EXPECT_EQ(rows, expected_rows) << golden;
  return alerts;
}

// Compares a realized-performance golden (make_perf_goldens.py's layout: value, thresholds,
// alert per (period, chunk, column, metric)) with cairn's records that are not estimates:
// values and thresholds to 1e-9 relative, every alert equal. The config is `config`.yaml
// (default: `name`.yaml), changed by `adjust` when given; only golden rows whose metric passes
// `want` (default: all) are compared, and `expected_rows` counts those; with `expect_alerts` at
// least one compared row must alert.
inline void CheckRealizedRecords(const MonitorResult& result, const std::string& name,
                                 int expected_rows,
                                 const std::function<bool(const std::string&)>& want = nullptr,
                                 bool expect_alerts = true);

inline void CheckRealizedGolden(const std::string& name, int expected_rows,
                                std::string config = "",
                                const std::function<void(MonitorConfig*)>& adjust = nullptr,
                                const std::function<bool(const std::string&)>& want = nullptr,
                                bool expect_alerts = true) {
  CheckRealizedRecords(RunGoldenConfig(config.empty() ? name : config, adjust), name,
                       expected_rows, want, expect_alerts);
}

// The same comparison on the records of a run already made.
inline void CheckRealizedRecords(const MonitorResult& result, const std::string& name,
                                 int expected_rows,
                                 const std::function<bool(const std::string&)>& want,
                                 bool expect_alerts) {
  std::map<std::tuple<std::string, int64_t, std::string, std::string>, const Record*> index;
  for (const auto& r : result.records)
    if (!r.estimated) index[{r.period, r.chunk_index, r.column, r.metric}] = &r;
  ReadOptions opts;
  for (const char* c : {"period", "key", "column", "metric"})
    opts.types[c] = ColumnType::kCategorical;
  for (const char* c :
       {"chunk_index", "start_index", "end_index", "value", "lower", "upper", "alert", "p_value"})
    opts.types[c] = ColumnType::kContinuous;
  auto golden = OpenCsvFile(GoldenDir() + name + ".csv.gz")->Read(opts);
  ASSERT_TRUE(golden.ok()) << golden.status().ToString();
  const Table& g = *golden;
  int rows = 0;
  auto str = [&](const char* col, size_t row) {
    const Column* c = g.Find(col);
    return c->dictionary[c->codes[row]];
  };
  auto num = [&](const char* col, size_t row) { return g.Find(col)->numbers[row]; };
  int alerts = 0;
  for (size_t i = 0; i < g.num_rows; ++i) {
    if (want && !want(str("metric", i))) continue;
    ++rows;
    std::string what = name + " " + str("period", i) + " chunk " +
                       std::to_string(int(num("chunk_index", i))) + " " + str("metric", i);
    auto it = index.find({str("period", i), static_cast<int64_t>(num("chunk_index", i)),
                          str("column", i), str("metric", i)});
    ASSERT_NE(it, index.end()) << "no cairn record for " << what;
    const Record& r = *it->second;
    EXPECT_EQ(r.chunk_key, str("key", i)) << what;
    EXPECT_EQ(r.start_index, static_cast<int64_t>(num("start_index", i))) << what;
    EXPECT_EQ(r.end_index, static_cast<int64_t>(num("end_index", i))) << what;
    EXPECT_TRUE(Close(num("value", i), r.value, 1e-9))
        << what << ": reference " << num("value", i) << " cairn " << r.value;
    double lower = num("lower", i), upper = num("upper", i);
    ASSERT_EQ(std::isnan(lower), !r.lower.has_value()) << what;
    if (r.lower) {
      EXPECT_TRUE(Close(lower, *r.lower, 1e-9)) << what << " lower " << lower << " " << *r.lower;
    }
    ASSERT_EQ(std::isnan(upper), !r.upper.has_value()) << what;
    if (r.upper) {
      EXPECT_TRUE(Close(upper, *r.upper, 1e-9)) << what << " upper " << upper << " " << *r.upper;
    }
    EXPECT_EQ(num("alert", i) == 1, r.alert) << what << " alert: value " << r.value;
    alerts += r.alert;
  }
  EXPECT_EQ(rows, expected_rows) << name;
  if (expect_alerts) {
    EXPECT_GT(alerts, 0) << name << ": the golden should exercise alerts";
  }
}

}  // namespace cairn::monitor
