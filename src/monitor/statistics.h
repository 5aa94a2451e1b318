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
// np.linspace(start, stop, num) with endpoint.
std::vector<double> Linspace(double start, double stop, int64_t num);
// np.histogram_bin_edges(x, bins='doane'); x non-empty.
std::vector<double> DoaneEdges(std::span<const double> x);
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

// numpy.percentile / np.median with linear interpolation over a sorted sample.
double Quantile(std::span<const double> sorted, double q);

}  // namespace cairn::monitor
