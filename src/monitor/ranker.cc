#include "monitor/ranker.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <boost/math/distributions/beta.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "monitor/statistics.h"

namespace cairn::monitor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Mean(std::span<const double> v) { return PairwiseSum(v) / static_cast<double>(v.size()); }

}  // namespace

PearsonResult Pearson(std::span<const double> x, std::span<const double> y) {
  const size_t n = x.size();
  if (n < 2) return {kNaN, kNaN};
  if (n == 2) {  // scipy: the sign of the slope, p = 1
    const double sx = (x[1] > x[0]) - (x[1] < x[0]), sy = (y[1] > y[0]) - (y[1] < y[0]);
    if (sx == 0 || sy == 0) return {kNaN, kNaN};
    return {sx * sy, 1.0};
  }
  const double mx = Mean(x), my = Mean(y);
  std::vector<double> dx(n), dy(n);
  double sx = 0, sy = 0;
  for (size_t i = 0; i < n; ++i) {
    dx[i] = x[i] - mx;
    dy[i] = y[i] - my;
    sx += dx[i] * dx[i];
    sy += dy[i] * dy[i];
  }
  sx = std::sqrt(sx);
  sy = std::sqrt(sy);
  if (sx == 0 || sy == 0) return {kNaN, kNaN};  // scipy: ConstantInputWarning, NaN
  double r = 0;
  for (size_t i = 0; i < n; ++i) r += (dx[i] / sx) * (dy[i] / sy);
  r = std::clamp(r, -1.0, 1.0);
  // scipy: the null distribution of r is beta(n/2 − 1, n/2 − 1) on [−1, 1]; p = 2·sf(|r|).
  const double ab = n / 2.0 - 1;
  boost::math::beta_distribution<double> dist(ab, ab);
  const double q = (std::abs(r) + 1) / 2;
  double p = 2 * boost::math::cdf(boost::math::complement(dist, q));
  return {r, std::clamp(p, 0.0, 1.0)};
}

StatusOr<std::vector<Record>> RankByCorrelation(const RankerSpec& spec,
                                                const std::vector<Record>& records,
                                                int64_t analysis_rows) {
  // The performance series: reference mean, analysis values by chunk.
  std::vector<double> ref_perf;
  std::map<int64_t, double> perf;  // analysis chunk -> value
  std::set<std::string> perf_metrics, drift_methods;
  const std::string kind = spec.estimated ? "estimated_performance" : "performance";
  for (const Record& r : records) {
    if (r.kind == kind) perf_metrics.insert(r.metric);
    if (r.kind == "drift") drift_methods.insert(r.metric);
    if (r.kind != kind || r.metric != spec.metric) continue;
    if (r.period == "reference")
      ref_perf.push_back(r.value);
    else
      perf[r.chunk_index] = r.value;
  }
  if (perf.empty()) {
    return InvalidArgument(fmt::format(
        "correlation_ranker.metric '{}' is not {} performance metric of this run (computed: "
        "{}; {})",
        spec.metric, spec.estimated ? "an estimated" : "a realized",
        perf_metrics.empty() ? "none" : fmt::format("{}", fmt::join(perf_metrics, ", ")),
        spec.estimated ? "estimation needs the 'estimation' section"
                       : "realized performance needs targets"));
  }
  if (!drift_methods.count(spec.drift_method)) {
    return InvalidArgument(fmt::format(
        "correlation_ranker.drift_method '{}' has no drift results in this run (computed: {})",
        spec.drift_method,
        drift_methods.empty() ? "none" : fmt::format("{}", fmt::join(drift_methods, ", "))));
  }
  double sum = 0, count = 0;
  for (double v : ref_perf) {
    if (!std::isnan(v)) sum += v, count += 1;
  }
  const double ref_mean = count ? sum / count : kNaN;

  struct Entry {
    std::string column;
    double r, p;
    bool drifted = false;
    int64_t used = 0;
  };
  std::vector<Entry> entries;
  std::map<std::string, size_t> where;
  std::map<std::string, std::vector<std::pair<double, double>>> pairs;  // (drift, Δperf)
  for (const Record& r : records) {
    if (r.kind != "drift" || r.metric != spec.drift_method || r.period != "analysis") continue;
    auto [it, inserted] = where.emplace(r.column, entries.size());
    if (inserted) entries.push_back({r.column, kNaN, kNaN});
    entries[it->second].drifted |= r.alert;
    auto pv = perf.find(r.chunk_index);
    if (pv == perf.end()) continue;
    const double delta = std::abs(pv->second - ref_mean);
    if (std::isnan(r.value) || std::isnan(delta)) continue;
    pairs[r.column].emplace_back(r.value, delta);
  }
  for (Entry& e : entries) {
    std::vector<double> x, y;
    for (const auto& [a, b] : pairs[e.column]) x.push_back(a), y.push_back(b);
    PearsonResult pr = Pearson(x, y);
    e.r = pr.r;
    e.p = pr.p_value;
    e.used = static_cast<int64_t>(x.size());
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (std::isnan(a.r)) return false;
    if (std::isnan(b.r)) return true;
    return a.r > b.r;
  });
  Chunk whole;
  whole.index = -1;
  whole.key = "*";
  whole.begin = 0;
  whole.end = analysis_rows;
  std::vector<Record> out;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (spec.only_drifting && !e.drifted) continue;
    Record r = MakeRecord("analysis", whole, e.column, "correlation_rank", "ranking");
    r.value = e.r;
    r.p_value = e.p;
    if (std::isnan(e.r)) {
      r.reason = e.used < 2
                     ? "fewer than 2 analysis chunks with both a drift and a performance value"
                     : "the drift values or the performance changes are constant";
    }
    r.details = {{"rank", static_cast<double>(i + 1)},
                 {"has_drifted", e.drifted ? 1.0 : 0.0},
                 {"chunks", static_cast<double>(e.used)},
                 {"reference_mean", ref_mean}};
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace cairn::monitor
