#include "monitor/univariate_drift.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

#include "monitor/statistics.h"

namespace cairn::monitor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kBins = 10000;  // nannyML's n_bins default for KS and Wasserstein
constexpr size_t kExactBelow = 10000;

std::vector<double> CumSumOfShares(const std::vector<int64_t>& counts, double n) {
  std::vector<double> out(counts.size());
  double acc = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    acc += counts[i] / n;
    out[i] = acc;
  }
  return out;
}

// np.histogram_bin_edges(x, 'sturges')
std::vector<double> SturgesEdges(double lo, double hi, size_t n) {
  double first = lo, last = hi;
  if (first == last) {
    first -= 0.5;
    last += 0.5;
  }
  double width = (hi - lo) / (std::log2(static_cast<double>(n)) + 1.0);
  int64_t nbins = width != 0.0 ? static_cast<int64_t>(std::ceil((last - first) / width)) : 1;
  return Linspace(first, last, nbins + 1);
}

}  // namespace

std::optional<double> MethodLowerLimit(const std::string& method) {
  if (method == "chi2") return std::nullopt;
  return 0.0;
}

std::optional<double> MethodUpperLimit(const std::string& method) {
  if (method == "kolmogorov_smirnov") return 1.0;
  return std::nullopt;
}

ContinuousDrift::ContinuousDrift(std::span<const double> ref, std::vector<std::string> methods,
                                 const std::string& ks_calculation)
    : methods_(std::move(methods)), ref_n_(ref.size()) {
  if (ref.empty()) return;
  estimated_ =
      ks_calculation == "estimated" || (ks_calculation == "auto" && ref.size() >= kExactBelow);
  bool need_js = false, need_binned = false, need_sorted = false;
  for (const auto& m : methods_) {
    if (m == "jensen_shannon" || m == "hellinger") need_js = true;
    if (m == "kolmogorov_smirnov" || m == "wasserstein")
      (estimated_ ? need_binned : need_sorted) = true;
    if (m == "psi") need_sorted = true;
  }
  binned_only_ = !need_sorted;
  if (need_js) doane_edges_ = DoaneEdges(ref);
  auto [mn_it, mx_it] = std::minmax_element(ref.begin(), ref.end());
  const double mn = *mn_it, mx = *mx_it;
  if (need_binned) edges_ = Linspace(mn, mx, kBins + 1);
  if (need_js && need_binned && doane_edges_.front() == edges_.front() &&
      doane_edges_.back() == edges_.back()) {
    // Both span [min, max] of the reference: a 10 000-bin that lies inside one Doane bin
    // tells that Doane bin for all of its values; only the few bins that straddle a Doane
    // edge (-1 here) look the Doane bin up value by value.
    const HistogramBinner dbin(doane_edges_);
    const int64_t nb = static_cast<int64_t>(edges_.size()) - 1;
    doane_of_bin_.resize(static_cast<size_t>(nb));
    for (int64_t i = 0; i < nb; ++i) {
      const int64_t j = dbin.Bin(edges_[i]);
      doane_of_bin_[i] =
          j >= 0 && edges_[i + 1] <= doane_edges_[j + 1] ? static_cast<int32_t>(j) : -1;
    }
  }
  // The reference's Doane and 10 000-bin histograms in one pass.
  std::vector<int64_t> doane_counts(doane_edges_.empty() ? 0 : doane_edges_.size() - 1, 0);
  std::vector<int64_t> counts(edges_.empty() ? 0 : edges_.size() - 1, 0);
  if (need_js || need_binned) {
    int64_t below = 0;
    FillHistograms(ref, &doane_counts, &counts, &below, nullptr, nullptr);
  }
  if (need_js) {
    ref_doane_probs_.resize(doane_counts.size());
    for (size_t i = 0; i < doane_counts.size(); ++i)
      ref_doane_probs_[i] = doane_counts[i] / static_cast<double>(ref.size());
  }
  if (need_binned) {
    ref_cdf_ = CumSumOfShares(counts, static_cast<double>(ref.size()));
    if (mn == mx) {
      // Not handled by CalculateRaw: the Wasserstein bins differ from the KS bins.
      binned_only_ = false;
      wass_edges_ = Linspace(mn - 0.5, mx + 0.5, kBins + 1);
      Histogram(ref, wass_edges_, &counts);
      wass_ref_cdf_ = CumSumOfShares(counts, static_cast<double>(ref.size()));
    } else {
      wass_edges_ = edges_;
      wass_ref_cdf_ = ref_cdf_;
    }
    wass_bin_width_ = wass_edges_[1] - wass_edges_[0];
  }
  if (need_sorted) {
    ref_sorted_.assign(ref.begin(), ref.end());
    std::sort(ref_sorted_.begin(), ref_sorted_.end());
    ref_unique_ = ref_sorted_.empty() ? 0 : 1;
    for (size_t i = 1; i < ref_sorted_.size(); ++i)
      ref_unique_ += ref_sorted_[i] != ref_sorted_[i - 1];
  }
}

double ContinuousDrift::JsOrHellinger(const std::vector<int64_t>& counts, size_t nvalues,
                                      bool js) const {
  std::vector<double> p(ref_doane_probs_), q(counts.size());
  const double n = static_cast<double>(nvalues);
  for (size_t i = 0; i < counts.size(); ++i) q[i] = counts[i] / n;
  double leftover = 1 - PairwiseSum(q);
  if (leftover > 0) {
    q.push_back(leftover);
    p.push_back(0);
  }
  return js ? JensenShannonDistance(p, q, 2.0) : HellingerDistance(p, q);
}

double ContinuousDrift::KsEstimated(const std::vector<int64_t>& hist, int64_t below,
                                    size_t n) const {
  const double dn = static_cast<double>(n);
  double lower = below / dn;
  double acc = 0, stat = 0;
  for (size_t i = 0; i < hist.size(); ++i) {
    acc += hist[i] / dn;
    stat = std::max(stat, std::abs(ref_cdf_[i] - (lower + acc)));
  }
  return stat;
}

double ContinuousDrift::WassersteinEstimated(const std::vector<double>& values,
                                             const std::vector<int64_t>& hist) const {
  const double ref_min = wass_edges_.front(), ref_max = wass_edges_.back();
  std::vector<double> smaller, bigger;
  for (double v : values) {
    if (v < ref_min)
      smaller.push_back(v);
    else if (v > ref_max)
      bigger.push_back(v);
  }
  return WassersteinEstimated(values.size(), std::move(smaller), std::move(bigger), hist);
}

double ContinuousDrift::WassersteinEstimated(size_t count, std::vector<double> smaller,
                                             std::vector<double> bigger,
                                             const std::vector<int64_t>& hist) const {
  const double n = static_cast<double>(count);
  const double ref_min = wass_edges_.front(), ref_max = wass_edges_.back();
  // ECDF of a vector: unique sorted x and cumsum(counts)/len.
  auto ecdf = [](std::vector<double> vec, std::vector<double>* x, std::vector<double>* y) {
    std::sort(vec.begin(), vec.end());
    size_t i = 0;
    int64_t cum = 0;
    while (i < vec.size()) {
      size_t j = i;
      while (j < vec.size() && vec[j] == vec[i]) ++j;
      cum += static_cast<int64_t>(j - i);
      x->push_back(vec[i]);
      y->push_back(cum / static_cast<double>(vec.size()));
      i = j;
    }
  };
  double term_smaller = 0, amount_smaller = 0, term_bigger = 0;
  if (!smaller.empty()) {
    amount_smaller = (smaller.size() + 1) / n;
    smaller.push_back(ref_min);
    std::vector<double> x, y;
    ecdf(std::move(smaller), &x, &y);
    std::vector<double> t(x.size() - 1);
    for (size_t i = 0; i + 1 < x.size(); ++i) t[i] = y[i] * (x[i + 1] - x[i]);
    term_smaller = PairwiseSum(t) * amount_smaller;
  }
  if (!bigger.empty()) {
    double amount_bigger = (bigger.size() + 1) / n;
    bigger.push_back(ref_max);
    std::vector<double> x, y;
    ecdf(std::move(bigger), &x, &y);
    std::vector<double> t(x.size() - 1);
    for (size_t i = 0; i + 1 < x.size(); ++i) t[i] = (1 - y[i]) * (x[i + 1] - x[i]);
    term_bigger = PairwiseSum(t) * amount_bigger;
  }
  std::vector<double> t(hist.size());
  double acc = 0;
  for (size_t i = 0; i < hist.size(); ++i) {
    acc += hist[i] / n;
    t[i] = std::abs(wass_ref_cdf_[i] - (acc + amount_smaller)) * wass_bin_width_;
  }
  return PairwiseSum(t) + term_smaller + term_bigger;
}

double ContinuousDrift::Psi(const std::vector<double>& values) const {
  // Evidently get_binned_data: Sturges bins over reference ∪ current when the reference has
  // more than 20 unique values, else shares over the union of the observed values.
  const double nr = static_cast<double>(ref_sorted_.size()),
               nc = static_cast<double>(values.size());
  std::vector<double> r, c;
  if (ref_unique_ > 20) {
    double lo = std::min(ref_sorted_.front(), *std::min_element(values.begin(), values.end()));
    double hi = std::max(ref_sorted_.back(), *std::max_element(values.begin(), values.end()));
    std::vector<double> edges = SturgesEdges(lo, hi, ref_sorted_.size() + values.size());
    std::vector<int64_t> rc, cc;
    Histogram(ref_sorted_, edges, &rc);
    Histogram(values, edges, &cc);
    for (size_t i = 0; i < rc.size(); ++i) {
      r.push_back(rc[i] / nr);
      c.push_back(cc[i] / nc);
    }
  } else {
    std::vector<double> cur(values);
    std::sort(cur.begin(), cur.end());
    size_t i = 0, j = 0;
    while (i < ref_sorted_.size() || j < cur.size()) {
      double v = (j >= cur.size() || (i < ref_sorted_.size() && ref_sorted_[i] <= cur[j]))
                     ? ref_sorted_[i]
                     : cur[j];
      int64_t a = 0, b = 0;
      while (i < ref_sorted_.size() && ref_sorted_[i] == v) ++a, ++i;
      while (j < cur.size() && cur[j] == v) ++b, ++j;
      r.push_back(a / nr);
      c.push_back(b / nc);
    }
  }
  return PopulationStabilityIndex(std::move(r), std::move(c));
}

std::vector<MethodValue> ContinuousDrift::Calculate(std::vector<double>& values,
                                                    std::vector<int64_t>* doane_counts) const {
  std::vector<MethodValue> out(methods_.size());
  if (values.empty() || ref_n_ == 0) {
    for (auto& v : out) v.value = kNaN;
    return out;
  }
  std::vector<int64_t> doane;
  if (!doane_edges_.empty()) {
    Histogram(values, doane_edges_, &doane);
    if (doane_counts != nullptr) {
      doane_counts->resize(doane.size(), 0);
      for (size_t i = 0; i < doane.size(); ++i) (*doane_counts)[i] += doane[i];
    }
  }
  std::vector<int64_t> hist;
  int64_t below = 0;
  bool have_hist = false, sorted = false;
  auto ensure_sorted = [&] {
    if (!sorted) std::sort(values.begin(), values.end());
    sorted = true;
  };
  for (size_t k = 0; k < methods_.size(); ++k) {
    const std::string& m = methods_[k];
    MethodValue& mv = out[k];
    if (m == "jensen_shannon") {
      mv.value = JsOrHellinger(doane, values.size(), true);
    } else if (m == "hellinger") {
      mv.value = JsOrHellinger(doane, values.size(), false);
    } else if (m == "kolmogorov_smirnov") {
      if (estimated_) {
        if (!have_hist) {
          Histogram(values, edges_, &hist, &below);
          have_hist = true;
        }
        mv.value = KsEstimated(hist, below, values.size());
      } else {
        ensure_sorted();
        mv.value = KsStatistic(ref_sorted_, values);
      }
      mv.p_value =
          KsPValue(mv.value, static_cast<int64_t>(ref_n_), static_cast<int64_t>(values.size()));
    } else if (m == "wasserstein") {
      if (estimated_) {
        std::vector<int64_t> wh;
        if (wass_edges_ == edges_) {
          if (!have_hist) {
            Histogram(values, edges_, &hist, &below);
            have_hist = true;
          }
          mv.value = WassersteinEstimated(values, hist);
        } else {
          Histogram(values, wass_edges_, &wh);
          mv.value = WassersteinEstimated(values, wh);
        }
      } else {
        ensure_sorted();
        mv.value = WassersteinExact(ref_sorted_, values);
      }
    } else if (m == "psi") {
      mv.value = Psi(values);
    } else {
      mv.value = kNaN;
    }
  }
  return out;
}

size_t ContinuousDrift::FillHistograms(std::span<const double> raw, std::vector<int64_t>* doane,
                                       std::vector<int64_t>* hist, int64_t* below,
                                       std::vector<double>* smaller,
                                       std::vector<double>* bigger) const {
  const bool js = !doane_edges_.empty(), binned = !edges_.empty();
  const std::vector<double> none = {0.0, 1.0};
  const HistogramBinner dbin(js ? doane_edges_ : none);
  const HistogramBinner kbin(binned ? edges_ : none);
  const bool tails = smaller != nullptr && binned;
  const double wlo = tails ? wass_edges_.front() : 0.0, whi = tails ? wass_edges_.back() : 0.0;
  int64_t* dc = doane->data();
  int64_t* kc = hist->data();
  const int32_t* dmap = doane_of_bin_.empty() ? nullptr : doane_of_bin_.data();
  size_t n = 0;
  int64_t nbelow = 0;
  for (double v : raw) {
    if (!std::isfinite(v)) continue;
    ++n;
    int64_t i = -1;
    if (binned) {
      i = kbin.Bin(v);
      if (i >= 0)
        ++kc[i];
      else if (i == HistogramBinner::kBelow)
        ++nbelow;
      if (tails) {
        if (v < wlo)
          smaller->push_back(v);
        else if (v > whi)
          bigger->push_back(v);
      }
    }
    if (js) {
      int64_t j;
      if (dmap != nullptr)
        j = i >= 0 ? (dmap[i] >= 0 ? dmap[i] : dbin.Bin(v)) : -1;
      else
        j = dbin.Bin(v);
      if (j >= 0) ++dc[j];
    }
  }
  *below = nbelow;
  return n;
}

std::vector<MethodValue> ContinuousDrift::CalculateRaw(std::span<const double> raw,
                                                       std::vector<int64_t>* doane_counts) const {
  std::vector<MethodValue> out(methods_.size());
  // One pass: finite count, Doane counts, 10 000-bin counts and the values outside the
  // reference range (for Wasserstein's tails).
  const bool js = !doane_edges_.empty(), binned = !edges_.empty();
  std::vector<int64_t> doane(js ? doane_edges_.size() - 1 : 0, 0);
  std::vector<int64_t> hist(binned ? edges_.size() - 1 : 0, 0);
  std::vector<double> smaller, bigger;
  int64_t below = 0;
  const size_t n = FillHistograms(raw, &doane, &hist, &below, &smaller, &bigger);
  if (n == 0 || ref_n_ == 0) {
    for (auto& v : out) v.value = kNaN;
    return out;
  }
  if (js && doane_counts != nullptr) {
    doane_counts->resize(doane.size(), 0);
    for (size_t i = 0; i < doane.size(); ++i) (*doane_counts)[i] += doane[i];
  }
  for (size_t k = 0; k < methods_.size(); ++k) {
    const std::string& m = methods_[k];
    MethodValue& mv = out[k];
    if (m == "jensen_shannon") {
      mv.value = JsOrHellinger(doane, n, true);
    } else if (m == "hellinger") {
      mv.value = JsOrHellinger(doane, n, false);
    } else if (m == "kolmogorov_smirnov") {
      mv.value = KsEstimated(hist, below, n);
      mv.p_value = KsPValue(mv.value, static_cast<int64_t>(ref_n_), static_cast<int64_t>(n));
    } else if (m == "wasserstein") {
      mv.value = WassersteinEstimated(n, smaller, bigger, hist);
    } else {
      mv.value = kNaN;
    }
  }
  return out;
}

CategoricalDrift::CategoricalDrift(std::vector<int64_t> ref_counts,
                                   std::vector<std::string> methods)
    : methods_(std::move(methods)), ref_counts_(std::move(ref_counts)) {
  for (int64_t c : ref_counts_) ref_n_ += c;
  ref_probs_.resize(ref_counts_.size());
  for (size_t i = 0; i < ref_counts_.size(); ++i) {
    ref_probs_[i] = ref_n_ > 0 ? ref_counts_[i] / static_cast<double>(ref_n_) : 0.0;
  }
}

std::vector<MethodValue> CategoricalDrift::Calculate(const std::vector<int64_t>& counts,
                                                     const std::vector<int64_t>& unseen) const {
  std::vector<MethodValue> out(methods_.size());
  int64_t n = 0;
  for (int64_t c : counts) n += c;
  for (int64_t c : unseen) n += c;
  if (n == 0 || ref_n_ == 0) {
    for (auto& v : out) v.value = kNaN;
    return out;
  }
  const double dn = static_cast<double>(n);
  for (size_t k = 0; k < methods_.size(); ++k) {
    const std::string& m = methods_[k];
    MethodValue& mv = out[k];
    if (m == "jensen_shannon" || m == "hellinger") {
      // Bins: the reference's categories (present ones), then one leftover bin.
      std::vector<double> p, q;
      for (size_t i = 0; i < ref_counts_.size(); ++i) {
        if (ref_counts_[i] == 0) continue;
        p.push_back(ref_probs_[i]);
        q.push_back(counts[i] / dn);
      }
      double leftover = 1 - PairwiseSum(q);
      if (leftover > 0) {
        q.push_back(leftover);
        p.push_back(0);
      }
      mv.value = m == "jensen_shannon" ? JensenShannonDistance(p, q, 2.0) : HellingerDistance(p, q);
    } else if (m == "l_infinity") {
      double mx = 0;
      for (size_t i = 0; i < ref_counts_.size(); ++i) {
        if (ref_counts_[i] == 0 && counts[i] == 0) continue;
        mx = std::max(mx, std::abs(ref_probs_[i] - counts[i] / dn));
      }
      for (int64_t u : unseen) mx = std::max(mx, u / dn);
      mv.value = mx;
    } else if (m == "chi2") {
      std::vector<double> a, b;
      for (size_t i = 0; i < ref_counts_.size(); ++i) {
        if (ref_counts_[i] == 0 && counts[i] == 0) continue;
        a.push_back(static_cast<double>(ref_counts_[i]));
        b.push_back(static_cast<double>(counts[i]));
      }
      for (int64_t u : unseen) {
        if (u == 0) continue;
        a.push_back(0);
        b.push_back(static_cast<double>(u));
      }
      Chi2Result r = Chi2Contingency(a, b);
      mv.value = r.statistic;
      mv.p_value = r.p_value;
    } else if (m == "psi") {
      std::vector<double> r, c;
      const double nr = static_cast<double>(ref_n_);
      for (size_t i = 0; i < ref_counts_.size(); ++i) {
        if (ref_counts_[i] == 0 && counts[i] == 0) continue;
        r.push_back(ref_counts_[i] / nr);
        c.push_back(counts[i] / dn);
      }
      for (int64_t u : unseen) {
        if (u == 0) continue;
        r.push_back(0);
        c.push_back(u / dn);
      }
      mv.value = PopulationStabilityIndex(std::move(r), std::move(c));
    } else {
      mv.value = kNaN;
    }
  }
  return out;
}

}  // namespace cairn::monitor

namespace cairn::monitor {
namespace {

int64_t CountUnique(const std::vector<double>& sorted) {
  int64_t u = sorted.empty() ? 0 : 1;
  for (size_t i = 1; i < sorted.size(); ++i) u += sorted[i] != sorted[i - 1];
  return u;
}

// Counts of each distinct value of two sorted samples over their union, in ascending order.
void UnionCounts(const std::vector<double>& a, const std::vector<double>& b,
                 std::vector<double>* ca, std::vector<double>* cb) {
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    double v = (j >= b.size() || (i < a.size() && a[i] <= b[j])) ? a[i] : b[j];
    double x = 0, y = 0;
    while (i < a.size() && a[i] == v) ++x, ++i;
    while (j < b.size() && b[j] == v) ++y, ++j;
    ca->push_back(x);
    cb->push_back(y);
  }
}

// scipy.stats.chisquare(f_obs, f_exp) p-value, dof = k - 1.
double ChiSquareGof(const std::vector<double>& obs, const std::vector<double>& exp) {
  double stat = 0;
  for (size_t i = 0; i < obs.size(); ++i) {
    double d = obs[i] - exp[i];
    stat += exp[i] > 0 ? d * d / exp[i] : (d != 0 ? std::numeric_limits<double>::infinity() : 0.0);
  }
  if (obs.size() < 2) return 1.0;
  return Chi2Sf(stat, static_cast<double>(obs.size() - 1));
}

// Evidently's pooled two-proportion z-test: x = 0 for the first (smallest) key, 1 otherwise.
double ZTestPValue(double ref_first, double ref_n, double cur_first, double cur_n) {
  double p1 = (ref_n - ref_first) / ref_n, p2 = (cur_n - cur_first) / cur_n;
  double P = (p1 * ref_n + p2 * cur_n) / (ref_n + cur_n);
  double z = (p1 - p2) / std::sqrt(P * (1 - P) * (1.0 / ref_n + 1.0 / cur_n));
  return 2 * (1 - 0.5 * std::erfc(-std::abs(z) / std::sqrt(2.0)));
}

}  // namespace

EvidentlyDrift EvidentlyDrift::ForContinuous(std::vector<double> ref,
                                             const std::vector<double>& analysis) {
  EvidentlyDrift d;
  d.continuous_ = true;
  std::sort(ref.begin(), ref.end());
  std::vector<double> ana(analysis);
  std::sort(ana.begin(), ana.end());
  std::vector<double> all;
  std::merge(ref.begin(), ref.end(), ana.begin(), ana.end(), std::back_inserter(all));
  int64_t u = CountUnique(all);
  const bool small = ref.size() <= 1000;
  if (small)
    d.test_ = u <= 5 ? (u > 2 ? "chisquare" : "z") : "ks";
  else
    d.test_ = u <= 5 ? "jensenshannon" : "wasserstein";
  d.ref_unique_ = CountUnique(ref);
  if (!ref.empty()) {
    double mean = PairwiseSum(ref) / ref.size();
    std::vector<double> sq(ref.size());
    for (size_t i = 0; i < ref.size(); ++i) sq[i] = (ref[i] - mean) * (ref[i] - mean);
    d.ref_std_ = std::sqrt(PairwiseSum(sq) / ref.size());
  }
  d.ref_sorted_ = std::move(ref);
  return d;
}

EvidentlyDrift EvidentlyDrift::ForCategorical(std::vector<int64_t> ref_counts, int64_t distinct) {
  EvidentlyDrift d;
  d.continuous_ = false;
  int64_t n = 0;
  for (int64_t c : ref_counts) n += c;
  d.test_ = n <= 1000 ? (distinct > 2 ? "chisquare" : "z") : "jensenshannon";
  d.ref_counts_ = std::move(ref_counts);
  return d;
}

bool EvidentlyDrift::Drifted(double v) const {
  if (std::isnan(v)) return false;
  if (test_ == "ks") return v <= 0.05;
  if (is_p_value()) return v < 0.05;
  return v >= 0.1;
}

double EvidentlyDrift::Continuous(std::vector<double>& values) const {
  if (values.empty() || ref_sorted_.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const double nr = static_cast<double>(ref_sorted_.size()),
               nc = static_cast<double>(values.size());
  if (test_ == "ks")
    return KsPValue(KsStatistic(ref_sorted_, values), ref_sorted_.size(), values.size());
  if (test_ == "wasserstein")
    return WassersteinExact(ref_sorted_, values) / std::max(ref_std_, 0.001);
  std::vector<double> r, c;
  if (test_ == "jensenshannon" && ref_unique_ > 20) {
    double lo = std::min(ref_sorted_.front(), values.front()),
           hi = std::max(ref_sorted_.back(), values.back());
    std::vector<double> edges = SturgesEdges(lo, hi, ref_sorted_.size() + values.size());
    std::vector<int64_t> rc, cc;
    Histogram(ref_sorted_, edges, &rc);
    Histogram(values, edges, &cc);
    for (size_t i = 0; i < rc.size(); ++i) r.push_back(rc[i] / nr), c.push_back(cc[i] / nc);
    return JensenShannonDistance(r, c, 0);
  }
  UnionCounts(ref_sorted_, values, &r, &c);
  if (test_ == "jensenshannon") {
    for (auto& x : r) x /= nr;
    for (auto& x : c) x /= nc;
    return JensenShannonDistance(r, c, 0);
  }
  if (test_ == "chisquare") {
    std::vector<double> exp(r.size());
    for (size_t i = 0; i < r.size(); ++i) exp[i] = r[i] * (nc / nr);
    return ChiSquareGof(c, exp);
  }
  // z: the first key is the smallest value present in either sample.
  if (r.size() <= 1) return 1.0;
  return ZTestPValue(r[0], nr, c[0], nc);
}

double EvidentlyDrift::Categorical(const std::vector<int64_t>& counts,
                                   const std::vector<int64_t>& unseen) const {
  std::vector<double> r, c;
  double nr = 0, nc = 0;
  for (size_t i = 0; i < ref_counts_.size(); ++i) {
    if (ref_counts_[i] == 0 && counts[i] == 0) continue;
    r.push_back(static_cast<double>(ref_counts_[i]));
    c.push_back(static_cast<double>(counts[i]));
  }
  for (int64_t u : unseen) {
    if (u == 0) continue;
    r.push_back(0);
    c.push_back(static_cast<double>(u));
  }
  for (double x : r) nr += x;
  for (double x : c) nc += x;
  if (nr == 0 || nc == 0) return kNaN;
  if (test_ == "jensenshannon") {
    for (auto& x : r) x /= nr;
    for (auto& x : c) x /= nc;
    return JensenShannonDistance(r, c, 0);
  }
  if (test_ == "chisquare") {
    std::vector<double> exp(r.size());
    for (size_t i = 0; i < r.size(); ++i) exp[i] = r[i] * (nc / nr);
    return ChiSquareGof(c, exp);
  }
  if (r.size() <= 1) return 1.0;
  // Category order is not value order here; z-test is symmetric in which key is "first" only
  // up to sign, and the p-value uses |z|.
  return ZTestPValue(r[0], nr, c[0], nc);
}

}  // namespace cairn::monitor
