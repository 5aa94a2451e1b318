// Univariate drift methods, fitted on the reference and evaluated per chunk, as nannyML's
// nannyml/drift/univariate/methods.py computes them (PSI as Evidently's psi stattest).
//
// Continuous: kolmogorov_smirnov (D; exact ks_2samp below 10 000 reference values, else
//   nannyML's 10 000 equal-width-bin CDF estimate), jensen_shannon (Doane bins + an
//   out-of-range bin, base 2), wasserstein (exact, or nannyML's binned estimate), hellinger,
//   psi.
// Categorical: chi2 (contingency statistic; p-value reported), jensen_shannon (reference
//   categories + one bin for unseen ones), hellinger, l_infinity, psi.
// An empty chunk yields NaN. p-values: chi2's from the contingency table (scipy's
// chi2_contingency); kolmogorov_smirnov's is scipy's ks_2samp p-value for the reported D and
// the two sample sizes, so in the binned mode (where D is nannyML's estimate) it is an
// approximation.
//
// Thread-safety: Calculate() is const and may run concurrently on one fitted object.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cairn::monitor {

struct MethodValue {
  double value = 0;
  std::optional<double> p_value;
};

class ContinuousDrift {
 public:
  // `ref`: the finite reference values (any order; only read during construction).
  // `ks_calculation`: auto|exact|estimated (applies to kolmogorov_smirnov and wasserstein).
  ContinuousDrift(std::span<const double> ref, std::vector<std::string> methods,
                  const std::string& ks_calculation);

  // One value per method, in the constructor's order. `values` holds the chunk's finite
  // values; it may be reordered. When `doane_counts` is given and the Doane bins are in use,
  // the chunk's counts per Doane bin are added to it (resized as needed).
  std::vector<MethodValue> Calculate(std::vector<double>& values,
                                     std::vector<int64_t>* doane_counts = nullptr) const;

  // True when every method works from histograms (the binned mode, no PSI): then
  // CalculateRaw gives the same values as Calculate in one pass and without a copy.
  bool binned_only() const { return binned_only_; }
  // As Calculate, over a chunk's raw values: NaN and ±Inf are skipped. Requires
  // binned_only().
  std::vector<MethodValue> CalculateRaw(std::span<const double> raw,
                                        std::vector<int64_t>* doane_counts = nullptr) const;

  const std::vector<double>& doane_edges() const { return doane_edges_; }
  const std::vector<double>& reference_doane_probs() const { return ref_doane_probs_; }

 private:
  // Adds the finite values of `raw` to the Doane counts and the 10 000-bin counts (each
  // when in use), counts those below the bins and, when `smaller` is given, collects those
  // outside the Wasserstein range. Returns how many values were finite.
  size_t FillHistograms(std::span<const double> raw, std::vector<int64_t>* doane,
                        std::vector<int64_t>* hist, int64_t* below, std::vector<double>* smaller,
                        std::vector<double>* bigger) const;
  double JsOrHellinger(const std::vector<int64_t>& counts, size_t n, bool js) const;
  double KsEstimated(const std::vector<int64_t>& hist, int64_t below, size_t n) const;
  // `n`: the chunk's finite values; `smaller`/`bigger`: those below/above the Wasserstein
  // range (any order; reordered).
  double WassersteinEstimated(size_t n, std::vector<double> smaller, std::vector<double> bigger,
                              const std::vector<int64_t>& hist) const;
  double WassersteinEstimated(const std::vector<double>& values,
                              const std::vector<int64_t>& hist) const;
  double Psi(const std::vector<double>& values) const;

  std::vector<std::string> methods_;
  bool estimated_ = false;
  bool binned_only_ = false;
  std::vector<double> ref_sorted_;  // exact mode and PSI
  size_t ref_n_ = 0;
  // Binned (estimated) mode: 10 000 equal-width bins over [min, max] of the reference.
  std::vector<double> edges_;
  std::vector<double> ref_cdf_;
  std::vector<double> wass_edges_;  // differs from edges_ only when min == max
  std::vector<double> wass_ref_cdf_;
  double wass_bin_width_ = 0;
  // Jensen-Shannon / Hellinger.
  std::vector<double> doane_edges_;
  std::vector<double> ref_doane_probs_;
  std::vector<int32_t> doane_of_bin_;  // 10 000-bin -> its Doane bin, or -1 (see constructor)
  int64_t ref_unique_ = 0;
};

class CategoricalDrift {
 public:
  // `ref_counts[c]`: reference count of category c (categories with zero count are ignored).
  CategoricalDrift(std::vector<int64_t> ref_counts, std::vector<std::string> methods);

  // `counts[c]`: the chunk's count of reference category c; `unseen`: the counts of each
  // category absent from the reference.
  std::vector<MethodValue> Calculate(const std::vector<int64_t>& counts,
                                     const std::vector<int64_t>& unseen) const;

  const std::vector<double>& reference_probs() const { return ref_probs_; }

 private:
  std::vector<std::string> methods_;
  std::vector<int64_t> ref_counts_;
  std::vector<double> ref_probs_;  // per category (0 for absent)
  int64_t ref_n_ = 0;
};

// Lower/upper limits of each method's value (nannyML's threshold limits).
std::optional<double> MethodLowerLimit(const std::string& method);
std::optional<double> MethodUpperLimit(const std::string& method);

}  // namespace cairn::monitor

namespace cairn::monitor {

// Evidently's default drift test per column (legacy/calculations/stattests/registry.py
// _get_default_stattest), chosen once per column from the reference size and the number of
// distinct values in reference ∪ analysis:
//   reference <= 1000 rows: continuous with > 5 values -> "ks" (p-value); <= 5 values and
//     categorical -> "chisquare" (goodness-of-fit p-value) if > 2 values else "z" (p-value);
//   reference > 1000 rows: continuous with > 5 values -> "wasserstein" (W1 / std(reference));
//     otherwise "jensenshannon" (natural log, no zero fill).
// p-value tests alert when p < 0.05 (ks: p <= 0.05); distances when value >= 0.1.
class EvidentlyDrift {
 public:
  // Continuous column: the finite reference values and the finite analysis values (both
  // periods' values are only used to count distinct values).
  static EvidentlyDrift ForContinuous(std::vector<double> ref, const std::vector<double>& analysis);
  // Categorical column: reference counts per category and the number of distinct categories
  // in reference ∪ analysis.
  static EvidentlyDrift ForCategorical(std::vector<int64_t> ref_counts, int64_t distinct);

  const std::string& test() const { return test_; }
  bool is_p_value() const { return test_ == "ks" || test_ == "chisquare" || test_ == "z"; }
  // Drift per Evidently's rule for this test.
  bool Drifted(double value) const;

  // The drift score for one chunk: `values` (continuous, finite, may be reordered) or
  // category `counts` + `unseen` counts (categorical).
  double Continuous(std::vector<double>& values) const;
  double Categorical(const std::vector<int64_t>& counts, const std::vector<int64_t>& unseen) const;

 private:
  std::string test_;
  bool continuous_ = true;
  std::vector<double> ref_sorted_;
  int64_t ref_unique_ = 0;
  double ref_std_ = 0;
  std::vector<int64_t> ref_counts_;
};

}  // namespace cairn::monitor
