#include "monitor/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "monitor/statistics.h"

namespace cairn::monitor {
namespace {

void Clean(std::span<const double> y, std::span<const double> p, std::vector<double>* ys,
           std::vector<double>* ps) {
  for (size_t i = 0; i < y.size() && i < p.size(); ++i) {
    if (std::isnan(y[i]) || std::isnan(p[i])) continue;
    ys->push_back(y[i]);
    ps->push_back(p[i]);
  }
}

}  // namespace

double ExpectedCalibrationError(std::span<const double> y_true, std::span<const double> proba,
                                int bins, bool equal_count) {
  std::vector<double> y, p;
  Clean(y_true, proba, &y, &p);
  const size_t n = p.size();
  if (n == 0 || bins <= 0) return std::numeric_limits<double>::quiet_NaN();
  // Each bin's probabilities and targets, in the order their sums are taken: the sorted order
  // for equal-count bins, row order for equal-width ones.
  std::vector<std::vector<double>> pb(static_cast<size_t>(bins)), yb(static_cast<size_t>(bins));
  if (equal_count) {
    const std::vector<uint32_t> order = StableOrder(p);
    size_t base = n / bins, extra = n % bins, pos = 0;
    for (size_t b = 0; b < static_cast<size_t>(bins); ++b) {
      size_t len = base + (b < extra ? 1 : 0);
      pb[b].resize(len);
      yb[b].resize(len);
      for (size_t j = 0; j < len; ++j) {
        pb[b][j] = p[order[pos + j]];
        yb[b][j] = y[order[pos + j]];
      }
      pos += len;
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      int b = std::min(static_cast<int>(p[i] * bins), bins - 1);
      pb[static_cast<size_t>(std::max(b, 0))].push_back(p[i]);
      yb[static_cast<size_t>(std::max(b, 0))].push_back(y[i]);
    }
  }
  double total = 0;
  for (size_t b = 0; b < pb.size(); ++b) {
    const size_t m = pb[b].size();
    if (m == 0) continue;
    double gap = std::abs(PairwiseSum(pb[b]) / m - PairwiseSum(yb[b]) / m);
    total += static_cast<double>(m) / n * gap;
  }
  return total;
}

double BrierScore(std::span<const double> y_true, std::span<const double> proba) {
  std::vector<double> y, p;
  Clean(y_true, proba, &y, &p);
  if (p.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> sq(p.size());
  for (size_t i = 0; i < p.size(); ++i) sq[i] = (p[i] - y[i]) * (p[i] - y[i]);
  return PairwiseSum(sq) / p.size();
}

}  // namespace cairn::monitor
