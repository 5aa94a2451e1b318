// Thresholds and alerts as nannyML computes them (nannyml/thresholds.py).
#pragma once

#include <optional>
#include <span>

#include "monitor/config.h"

namespace cairn::monitor {

struct Bounds {
  std::optional<double> lower;
  std::optional<double> upper;
};

// Threshold values from the metric's values on the reference chunks. kStd: nanmean (or
// nanmedian, spec.offset_from) ∓ multiplier·nanstd (ddof 0); kConstant: as given; kPValue/kNone: unbounded. A computed
// bound at or beyond a metric limit is replaced by the limit (or dropped when
// `override_using_none`), as calculate_threshold_values does.
Bounds ComputeThresholds(const ThresholdSpec& spec, std::span<const double> reference_values,
                         std::optional<double> lower_limit, std::optional<double> upper_limit,
                         bool override_using_none = false);

// value < lower or value > upper (NaN never alerts).
bool IsAlert(double value, const Bounds& bounds);

}  // namespace cairn::monitor
