// Weak segments: slices of a chunk whose per-row loss is significantly worse than the rest of
// the chunk (after SliceFinder, Chung et al., ICDE 2019, with Benjamini-Hochberg instead of
// α-investing).
//
// Per-row loss (weak_segments.metric; rows whose loss is undefined are left out):
//   error_rate      ŷ ≠ y (classifiers with y_pred; the default for them)
//   log_loss        −ln(clamp(p if y = 1 else 1 − p, ε, 1 − ε)) (binary; the default without
//                   y_pred)
//   absolute_error  |y − ŷ| (regression; the default), squared_error (y − ŷ)²
// Slices: for each feature, numeric values binned at the reference quantiles
// np.quantile(ref, linspace(0, 1, bins + 1)) (duplicate edges dropped; a value v falls in bin
// searchsorted(interior edges, v, side='right'), so values beyond the reference range join the
// first or last bin), categories by value (the `max_categories` most frequent reference values;
// the rest, unseen ones included, are "(other)"); a missing value is "(missing)". With `pairs`,
// every conjunction of two features' slices too.
// Test, per chunk: every slice S with at least max(min_rows, ⌈min_size·N⌉) rows and a rest
// R of at least 2 rows and a defined statistic gets Welch's one-sided t-test of mean loss
// S > R (scipy.stats.ttest_ind(S, R, equal_var=False, alternative='greater')); p-values of all
// tested slices of the chunk are adjusted by Benjamini-Hochberg (scipy's
// false_discovery_control). A slice is weak when q ≤ alpha, its gap mean(S) − mean(R) > 0 and
// its effect size φ = √2·gap/√(var S + var R) ≥ min_effect (variances ddof 1); a pair is
// listed only when its gap exceeds the gaps of both of its single-feature slices.
// Ranking per chunk: by rank_by (gap, size or effect size descending; p-value ascending), ties
// by p-value then description; the first `top` are kept.
//
// Records: kind "weak_segment", column = the feature(s) ("a" or "a & b"), group = the slice
// ("age < 28", "28 ≤ age < 37 & sex = Female"), metric = the loss name, value = mean loss in
// the slice, p_value = Welch's p, no thresholds or alerts, details {rank, size, rest (mean
// loss of the rest), gap, effect_size, q_value, t, df}.
//
// Thread-safety: a pure function over const data.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "monitor/chunker.h"
#include "monitor/config.h"
#include "monitor/results.h"
#include "monitor/table.h"

namespace cairn::monitor {

// Records for every chunk of both periods (reference first). `monitored` gives the default
// features (model outputs are left out). The tables hold kTargetColumn and the model outputs
// AttachTargets adds (performance.h). Errors: InvalidArgument for a metric that does not fit
// the model (log_loss without a binary probability, error_rate without y_pred, a regression
// loss for a classifier), NotFound for a missing feature column.
StatusOr<std::vector<Record>> FindWeakSegments(const MonitorConfig& config,
                                               const std::vector<std::string>& monitored,
                                               const Table& ref_table,
                                               const std::vector<Chunk>& ref_chunks,
                                               const Table& ana_table,
                                               const std::vector<Chunk>& ana_chunks);

// Welch's one-sided t-test (alternative: mean a > mean b) from sample sizes, means and
// variances (ddof 1): t, the Welch-Satterthwaite df and p = t.sf(t, df). NaN when a
// variance term is undefined or both are zero.
struct WelchResult {
  double t, df, p_value;
};
WelchResult WelchGreater(double n_a, double mean_a, double var_a, double n_b, double mean_b,
                         double var_b);

// Benjamini-Hochberg adjusted p-values (scipy.stats.false_discovery_control(p, method='bh')).
std::vector<double> BenjaminiHochberg(const std::vector<double>& p_values);

}  // namespace cairn::monitor
