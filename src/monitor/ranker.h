// Which drifting features explain a performance change: nannyML's CorrelationRanker
// (nannyml/drift/ranker.py).
//
// The performance series is the realized metric (kind "performance") or, with
// performance: estimated, the CBPE/DLE estimate (kind "estimated_performance"), as nannyML's
// ranker accepts either.
// fit: m = mean of the performance metric over the reference chunks (NaN skipped, as pandas).
// rank: Δ_c = |perf_c − m| over the analysis chunks; per feature, Pearson's r (and its
// two-sided p-value, scipy.stats.pearsonr) between the feature's drift values and Δ over the
// analysis chunks where both are defined (NaN r and p with fewer than 2 such chunks);
// has_drifted = any analysis alert of that drift method on the feature. Features are sorted by
// r descending (NaN last) and ranked 1, 2, ...; with only_drifting, features without alerts
// are left out (ranks are kept from the full list, as nannyML filters after ranking).
//
// Records: kind "ranking", period "analysis", chunk_index −1 and chunk_key "*" spanning the
// whole analysis period, column = the feature, metric "correlation_rank", value = r,
// p_value = p, details {rank, has_drifted (0/1), chunks (used)}.
//
// Thread-safety: a pure function.
#pragma once

#include <span>
#include <vector>

#include "common/status.h"
#include "monitor/config.h"
#include "monitor/results.h"

namespace cairn::monitor {

// `records`: everything computed so far (drift and performance records). `analysis_rows`
// spans the ranking records. Errors: InvalidArgument when the metric or the drift method has
// no records (naming the ones that do).
StatusOr<std::vector<Record>> RankByCorrelation(const RankerSpec& spec,
                                                const std::vector<Record>& records,
                                                int64_t analysis_rows);

// scipy.stats.pearsonr(x, y): r and the two-sided p-value. NaN for fewer than 2 points or a
// constant input; p = 1 for exactly 2 points.
struct PearsonResult {
  double r, p_value;
};
PearsonResult Pearson(std::span<const double> x, std::span<const double> y);

}  // namespace cairn::monitor
