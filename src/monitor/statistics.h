// The numerical kernels of the monitor, each matching a named reference implementation
// (numpy, scipy) bit-for-bit where the algorithm allows and to ~1e-12 relative otherwise.
// Inputs are finite values unless stated; callers drop NaN and ±Inf first.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace cairn::monitor {

// numpy's pairwise summation (np.sum / np.mean of a float64 array).
double PairwiseSum(std::span<const double> x);
// The same summation over the values f(0), ..., f(n - 1), without storing them: identical
// to PairwiseSum of the array they would form.
template <typename F>
double PairwiseSumOf(int64_t n, const F& f, int64_t offset = 0);
// np.linspace(start, stop, num) with endpoint.
std::vector<double> Linspace(double start, double stop, int64_t num);
// np.histogram_bin_edges(x, bins='doane'); x non-empty.
std::vector<double> DoaneEdges(std::span<const double> x);
// np.histogram's bin of one value for fixed, increasing edges (Histogram below, and passes
// that fill several histograms at once).
class HistogramBinner {
 public:
  static constexpr int64_t kBelow = -1;    // v < edges.front()
  static constexpr int64_t kOutside = -2;  // v > edges.back(), or NaN
  // `edges` must outlive the binner and hold at least 2 values.
  explicit HistogramBinner(const std::vector<double>& edges);
  int64_t bins() const { return nb_; }
  // Bin i holds edges[i] <= v < edges[i+1] (the last bin also holds edges.back()).
  int64_t Bin(double v) const {
    if (v < lo_) return kBelow;
    if (!(v < hi_)) return v == hi_ ? nb_ - 1 : kOutside;
    const double f = (v - lo_) * scale_;
    int64_t i = static_cast<int64_t>(f);
    const double frac = f - static_cast<double>(i);
    if (i >= nb_) i = nb_ - 1;
    if (frac < tol_ || frac > 1 - tol_ || i == nb_ - 1) {
      // Near an edge the arithmetic guess can be off by rounding: settle it against the
      // actual edges (searchsorted semantics).
      while (i > 0 && v < e_[i]) --i;
      while (i < nb_ - 1 && v >= e_[i + 1]) ++i;
    }
    return i;
  }

 private:
  const double* e_;
  int64_t nb_;
  double lo_, hi_, scale_, tol_;
};

// np.histogram(x, bins=edges)[0]: bins [e_i, e_{i+1}), the last one closed; values outside
// [edges.front(), edges.back()] are not counted. `counts` is resized to edges.size()-1.
// Also returns how many values fell below edges.front() in *below (may be null).
void Histogram(std::span<const double> x, const std::vector<double>& edges,
               std::vector<int64_t>* counts, int64_t* below = nullptr);

// scipy.spatial.distance.jensenshannon(p, q, base): p and q are normalised first.
double JensenShannonDistance(std::span<const double> p, std::span<const double> q, double base);
// nannyML's Hellinger: sqrt(sum((sqrt p - sqrt q)^2)) / sqrt 2.
double HellingerDistance(std::span<const double> p, std::span<const double> q);

// scipy.stats.ks_2samp statistic D over two sorted samples.
double KsStatistic(std::span<const double> sorted_a, std::span<const double> sorted_b);
enum class KsMethod { kAuto, kExact, kAsymptotic };
// scipy.stats.ks_2samp two-sided p-value for statistic d and sample sizes n1, n2.
double KsPValue(double d, int64_t n1, int64_t n2, KsMethod method = KsMethod::kAuto);
// scipy.stats.kstwo.sf(d, n): the exact one-sample Kolmogorov distribution's survival function.
double KolmogorovSf(int64_t n, double d);
// scipy.special.smirnov(n, d): one-sided one-sample survival function.
double SmirnovSf(int64_t n, double d);

// scipy.stats.wasserstein_distance(a, b) over sorted samples.
double WassersteinExact(std::span<const double> sorted_a, std::span<const double> sorted_b);

struct Chi2Result {
  double statistic = 0;
  double p_value = 1;
  int64_t dof = 0;
};
// scipy.stats.chi2_contingency on an r x 2 table given as two count columns (Yates'
// correction when dof == 1). Rows where both counts are zero must not be present.
Chi2Result Chi2Contingency(std::span<const double> col_a, std::span<const double> col_b);
// Survival function of the chi-squared distribution (Boost.Math).
double Chi2Sf(double x, double dof);

// Evidently's PSI: sum((r - c) * ln(r / c)) over bins after replacing zero shares.
double PopulationStabilityIndex(std::vector<double> ref_share, std::vector<double> cur_share);

// The stable ascending argsort of `keys`: the row indices in increasing key order, equal keys
// in row order — exactly std::stable_sort by `<` (np.argsort(kind='stable')), computed by an
// LSD radix sort over the keys' bits (O(n); passes over a byte that every key shares are
// skipped). Keys must not be NaN; -0.0 and +0.0 are equal. Fewer than 2^32 keys.
std::vector<uint32_t> StableOrder(std::span<const double> keys);
// The same order by `primary`, then `secondary` (same length), then row
// (np.lexsort((secondary, primary))).
std::vector<uint32_t> StableOrder(std::span<const double> primary,
                                  std::span<const double> secondary);

// numpy.percentile / np.median with linear interpolation over a sorted sample.
double Quantile(std::span<const double> sorted, double q);

template <typename F>
double PairwiseSumOf(int64_t n, const F& f, int64_t offset) {
  // numpy/core/src/umath/loops_utils.h.src: pairwise_sum, PW_BLOCKSIZE 128, 8 accumulators.
  if (n < 8) {
    double res = 0.;
    for (int64_t i = 0; i < n; ++i) res += f(offset + i);
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int k = 0; k < 8; ++k) r[k] = f(offset + k);
    int64_t i;
    for (i = 8; i < n - (n % 8); i += 8) {
      for (int k = 0; k < 8; ++k) r[k] += f(offset + i + k);
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += f(offset + i);
    return res;
  }
  int64_t n2 = n / 2;
  n2 -= n2 % 8;
  return PairwiseSumOf(n2, f, offset) + PairwiseSumOf(n - n2, f, offset + n2);
}

}  // namespace cairn::monitor
