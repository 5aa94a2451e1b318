#include "monitor/thresholds.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "monitor/statistics.h"

namespace cairn::monitor {

Bounds ComputeThresholds(const ThresholdSpec& spec, std::span<const double> values,
                         std::optional<double> lower_limit, std::optional<double> upper_limit,
                         bool override_using_none) {
  Bounds b;
  if (spec.kind == ThresholdKind::kConstant) {
    b.lower = spec.lower;
    b.upper = spec.upper;
  } else if (spec.kind == ThresholdKind::kStd) {
    std::vector<double> finite;
    for (double v : values) {
      if (!std::isnan(v)) finite.push_back(v);
    }
    double mean = std::nan(""), sd = std::nan("");
    double centre = std::nan("");
    if (!finite.empty()) {
      mean = PairwiseSum(finite) / finite.size();
      std::vector<double> sq(finite.size());
      for (size_t i = 0; i < finite.size(); ++i) sq[i] = (finite[i] - mean) * (finite[i] - mean);
      sd = std::sqrt(PairwiseSum(sq) / finite.size());
      if (spec.offset_from == OffsetFrom::kMedian) {  // np.nanmedian
        std::vector<double> sorted = finite;
        std::sort(sorted.begin(), sorted.end());
        centre = Quantile(sorted, 0.5);
      } else {
        centre = mean;
      }
    }
    if (spec.lower) b.lower = centre - sd * *spec.lower;
    if (spec.upper) b.upper = centre + sd * *spec.upper;
  } else {
    return b;
  }
  if (lower_limit && b.lower && *b.lower <= *lower_limit) {
    b.lower = override_using_none ? std::nullopt : lower_limit;
  }
  if (upper_limit && b.upper && *b.upper >= *upper_limit) {
    b.upper = override_using_none ? std::nullopt : upper_limit;
  }
  return b;
}

bool IsAlert(double value, const Bounds& b) {
  if (std::isnan(value)) return false;
  return (b.lower && value < *b.lower) || (b.upper && value > *b.upper);
}

}  // namespace cairn::monitor
