#include "monitor/reliability.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "monitor/performance.h"
#include "monitor/statistics.h"

namespace cairn::monitor {

std::vector<ReliabilityBin> ReliabilityCurve(std::span<const double> y, std::span<const double> p,
                                             int bins) {
  const std::vector<double> edges = Linspace(0, 1, bins + 1);
  const std::vector<double> interior(edges.begin() + 1, edges.end() - 1);
  std::vector<double> sum_p(bins, 0), sum_y(bins, 0);
  std::vector<int64_t> count(bins, 0);
  for (size_t i = 0; i < y.size(); ++i) {
    if (std::isnan(y[i]) || std::isnan(p[i])) continue;
    const size_t b = std::lower_bound(interior.begin(), interior.end(), p[i]) - interior.begin();
    sum_p[b] += p[i];
    sum_y[b] += y[i] == 1;
    ++count[b];
  }
  std::vector<ReliabilityBin> out;
  for (int b = 0; b < bins; ++b) {
    if (count[b] == 0) continue;
    const double n = static_cast<double>(count[b]);
    out.push_back({b, count[b], sum_y[b] / n, sum_p[b] / n});
  }
  return out;
}

std::vector<Record> ReliabilityRecords(const MonitorConfig& cfg, const Table& rt, const Table& at) {
  std::vector<Record> out;
  if (cfg.y_pred_proba.empty() || !cfg.y_pred_proba_classes.empty()) return out;
  constexpr int kBins = 10;
  const Table* tables[2] = {&rt, &at};
  for (int p = 0; p < 2; ++p) {
    const Column* y = tables[p]->Find(kTargetColumn);
    const Column* proba = tables[p]->Find(kProbaColumn);
    if (y == nullptr || proba == nullptr) return {};
    Chunk whole;
    whole.index = -1;
    whole.key = "*";
    whole.end = static_cast<int64_t>(tables[p]->num_rows);
    for (const ReliabilityBin& b : ReliabilityCurve(y->numbers, proba->numbers, kBins)) {
      Record r = MakeRecord(p == 0 ? "reference" : "analysis", whole, TargetName(cfg),
                            "reliability", "reliability");
      r.group = fmt::format("{:g}–{:g}", b.bin / double(kBins), (b.bin + 1) / double(kBins));
      r.value = b.fraction_positive;
      r.details = {{"bin", static_cast<double>(b.bin)},
                   {"mean_predicted", b.mean_predicted},
                   {"count", static_cast<double>(b.count)}};
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace cairn::monitor
