#include "monitor/statistics.h"

#include <algorithm>
#include <array>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/special_functions/binomial.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

namespace cairn::monitor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// scipy.special.rel_entr
double RelEntr(double x, double y) {
  if (std::isnan(x) || std::isnan(y)) return kNaN;
  if (x > 0 && y > 0) return x * std::log(x / y);
  if (x == 0 && y >= 0) return 0;
  return std::numeric_limits<double>::infinity();
}

double LogNFactorialDivNPowN(double n) {
  // scipy.stats._ksstats._log_nfactorial_div_n_pow_n
  static const double kStirling[] = {-2.955065359477124183e-2,  6.4102564102564102564e-3,
                                     -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                                     -5.952380952380952381e-4,  7.9365079365079365079e-4,
                                     -2.7777777777777777778e-3, 8.3333333333333333333e-2};
  double rn = 1.0 / n;
  double x = rn / n;
  double poly = 0;
  for (double c : kStirling) poly = poly * x + c;
  return std::log(n) / 2 - n + std::log(2 * M_PI) / 2 + rn * poly;
}

double Clip01(double p) { return std::min(1.0, std::max(0.0, p)); }

// Durbin matrix (Marsaglia-Tsang-Wang) CDF of the Kolmogorov statistic.
double KolmognDmtwCdf(int64_t n, double d) {
  if (d >= 1.0) return 1.0;
  double nd = n * d;
  if (nd <= 0.5) return 0.0;
  int k = static_cast<int>(std::ceil(nd));
  double h = k - nd;
  int m = 2 * k - 1;
  std::vector<double> H(static_cast<size_t>(m) * m, 0.0);
  auto at = [&](std::vector<double>& M, int i, int j) -> double& {
    return M[static_cast<size_t>(i) * m + j];
  };
  std::vector<double> v(m), w(m);
  double fac = 1.0;
  for (int j = 1; j <= m; ++j) {
    v[j - 1] = 1.0 - std::pow(h, j);
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] *= fac;
  }
  double tt = std::pow(std::max(2 * h - 1.0, 0.0), m) - 2 * std::pow(h, m);
  v[m - 1] = (1.0 + tt) * fac;
  for (int i = 1; i < m; ++i) {
    for (int r = i - 1; r < m; ++r) at(H, r, i) = w[r - (i - 1)];
  }
  for (int r = 0; r < m; ++r) at(H, r, 0) = v[r];
  for (int c = 0; c < m; ++c) at(H, m - 1, c) = v[m - 1 - c];
  std::vector<double> P(static_cast<size_t>(m) * m, 0.0), T(static_cast<size_t>(m) * m);
  for (int i = 0; i < m; ++i) at(P, i, i) = 1.0;
  auto matmul = [&](std::vector<double>& A, std::vector<double>& B, std::vector<double>& out) {
    std::fill(T.begin(), T.end(), 0.0);
    for (int i = 0; i < m; ++i) {
      for (int l = 0; l < m; ++l) {
        double a = at(A, i, l);
        if (a == 0) continue;
        for (int j = 0; j < m; ++j) T[static_cast<size_t>(i) * m + j] += a * at(B, l, j);
      }
    }
    out = T;
  };
  constexpr double kEp128 = 3.402823669209385e38;  // 2^128
  constexpr int kE128 = 128;
  int64_t nn = n;
  int expnt = 0, hexpnt = 0;
  while (nn > 0) {
    if (nn % 2) {
      matmul(P, H, P);
      expnt += hexpnt;
    }
    matmul(H, H, H);
    hexpnt *= 2;
    if (std::abs(at(H, k - 1, k - 1)) > kEp128) {
      for (auto& x : H) x /= kEp128;
      hexpnt += kE128;
    }
    nn /= 2;
  }
  double p = at(P, k - 1, k - 1);
  for (int64_t i = 1; i <= n; ++i) {
    p = i * p / n;
    if (std::abs(p) < 1.0 / kEp128) {
      p *= kEp128;
      expnt -= kE128;
    }
  }
  if (expnt != 0) p = std::ldexp(p, expnt);
  return Clip01(p);
}

double KolmognPelzGoodCdf(int64_t n, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double pi2 = M_PI * M_PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
  double z = std::sqrt(static_cast<double>(n)) * x;
  double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
  double qlog = -pi2 / 8 / z2;
  if (qlog < -708.0) return 0.0;
  double q = std::exp(qlog);
  double k1a = -z2, k1b = pi2 / 4;
  double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4, k2c = pi4 * (1 - 2 * z2) / 16;
  double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
  double k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * std::pow(z, 8);
  double K[4] = {0, 0, 0, 0};
  int maxk = static_cast<int>(std::ceil(16 * z / M_PI));
  for (int k = maxk; k > 0; --k) {
    double m = 2 * k - 1, m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
    double qp = std::pow(q, 8 * k);
    double c[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                   k3a + k3b * m2 + k3c * m4 + k3d * m6};
    for (int i = 0; i < 4; ++i) K[i] = K[i] * qp + c[i];
  }
  const double sqrt2pi = std::sqrt(2 * M_PI);
  double div[4] = {z, 6 * z4, 72 * std::pow(z, 7), 6480 * std::pow(z, 10)};
  for (int i = 0; i < 4; ++i) K[i] = K[i] * q * sqrt2pi / div[i];
  double q2 = std::exp(-pi2 / 2 / z2);
  double k2extra = 0, k3extra = 0;
  double sqrt3z = std::sqrt(3.0) * z;
  for (int k = maxk; k > 0; --k) {
    double ks2 = static_cast<double>(k) * k;
    double qp = std::pow(q2, ks2);
    k2extra += ks2 * qp;
    double kspi = M_PI * k;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks2 * qp;
  }
  K[2] += k2extra * pi2 * sqrt2pi / (-36 * z3);
  K[3] += k3extra * pi2 * sqrt2pi / (216 * z6);
  double sum = 0;
  for (int i = 0; i < 4; ++i) sum += K[i] / std::pow(static_cast<double>(n), i / 2.0);
  return sum;
}

double ProbOutsideSquare(int64_t n, int64_t h) {
  double P = 0.0;
  int64_t k = n / h;
  while (k >= 0) {
    double p1 = 1.0;
    for (int64_t j = 0; j < h; ++j) p1 = (n - k * h - j) * p1 / (n + k * h + j + 1);
    P = p1 * (1.0 - P);
    --k;
  }
  return 2 * P;
}

// scipy.stats._stats_pythran._compute_outer_prob_inside_method.
double OuterProbInsideMethod(int64_t m, int64_t n, int64_t g, int64_t h) {
  if (m < n) std::swap(m, n);
  int64_t mg = m / g, ng = n / g;
  int64_t minj = 0;
  int64_t maxj =
      std::min<int64_t>(static_cast<int64_t>(std::ceil(static_cast<double>(h) / mg)), n + 1);
  int64_t curlen = maxj - minj;
  int64_t len_a = std::min<int64_t>(2 * maxj + 2, n + 1);
  std::vector<double> A(static_cast<size_t>(len_a), 1.0);
  for (int64_t j = minj; j < maxj; ++j) A[j] = 0.0;
  for (int64_t i = 1; i <= m; ++i) {
    int64_t lastminj = minj, lastlen = curlen;
    minj = std::max<int64_t>(
        static_cast<int64_t>(std::floor(static_cast<double>(ng * i - h) / mg)) + 1, 0);
    minj = std::min(minj, n);
    maxj = std::min<int64_t>(static_cast<int64_t>(std::ceil(static_cast<double>(ng * i + h) / mg)),
                             n + 1);
    if (maxj <= minj) return 1.0;
    double val = minj == 0 ? 0.0 : 1.0;
    for (int64_t jj = 0; jj < maxj - minj; ++jj) {
      int64_t j = jj + minj;
      val = (A[jj + minj - lastminj] * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) {
      for (int64_t t = maxj - minj; t < maxj - minj + (lastlen - curlen) && t < len_a; ++t)
        A[t] = 1;
    }
  }
  return A[maxj - minj - 1];
}

// An unsigned integer with the double's order (-0.0 folded into +0.0; not for NaN).
uint64_t SortKey(double x) {
  x += 0.0;
  uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return (u >> 63) != 0 ? ~u : (u | (uint64_t{1} << 63));
}

// Stable LSD radix passes over the keys, least significant byte first, carrying the row
// indices along; a byte that every key shares needs no pass. Counts are taken for all eight
// bytes in one sweep (a byte's counts do not depend on the order).
void RadixPasses(std::vector<uint64_t>* key, std::vector<uint32_t>* row) {
  const size_t n = key->size();
  if (n < 2) return;
  std::vector<std::array<uint32_t, 256>> count(8);
  for (uint64_t k : *key) {
    for (int b = 0; b < 8; ++b) ++count[b][(k >> (8 * b)) & 0xff];
  }
  std::vector<uint64_t> key_out(n);
  std::vector<uint32_t> row_out(n);
  for (int b = 0; b < 8; ++b) {
    std::array<uint32_t, 256>& pos = count[b];
    const int shift = 8 * b;
    if (pos[((*key)[0] >> shift) & 0xff] == n) continue;
    uint32_t sum = 0;
    for (uint32_t& c : pos) {
      const uint32_t here = c;
      c = sum;
      sum += here;
    }
    const uint64_t* ks = key->data();
    const uint32_t* rs = row->data();
    uint64_t* kd = key_out.data();
    uint32_t* rd = row_out.data();
    for (size_t i = 0; i < n; ++i) {
      const uint32_t at = pos[(ks[i] >> shift) & 0xff]++;
      kd[at] = ks[i];
      rd[at] = rs[i];
    }
    key->swap(key_out);
    row->swap(row_out);
  }
}

}  // namespace

double PairwiseSum(std::span<const double> x) {
  const double* a = x.data();
  return PairwiseSumOf(static_cast<int64_t>(x.size()), [a](int64_t i) { return a[i]; });
}

HistogramBinner::HistogramBinner(const std::vector<double>& edges)
    : e_(edges.data()),
      nb_(static_cast<int64_t>(edges.size()) - 1),
      lo_(edges.front()),
      hi_(edges.back()) {
  scale_ = hi_ > lo_ ? nb_ / (hi_ - lo_) : 0.0;
  // Positions within `tol` bins of an edge are settled against the actual edges; elsewhere
  // the arithmetic guess is exact.
  tol_ =
      1e-9 + 16 * std::numeric_limits<double>::epsilon() * (std::abs(lo_) + std::abs(hi_)) * scale_;
}

std::vector<double> Linspace(double start, double stop, int64_t num) {
  std::vector<double> y(static_cast<size_t>(num));
  if (num <= 0) return y;
  int64_t div = num - 1;
  double delta = stop - start;
  if (div > 0) {
    double step = delta / div;
    for (int64_t i = 0; i < num; ++i) {
      y[i] = step == 0 ? (static_cast<double>(i) / div) * delta + start
                       : static_cast<double>(i) * step + start;
    }
    y[num - 1] = stop;
  } else {
    y[0] = start;
  }
  return y;
}

std::vector<double> DoaneEdges(std::span<const double> x) {
  const int64_t n = static_cast<int64_t>(x.size());
  auto [lo_it, hi_it] = std::minmax_element(x.begin(), x.end());
  const double lo = *lo_it, hi = *hi_it;
  double first = lo, last = hi;
  if (first == last) {
    first -= 0.5;
    last += 0.5;
  }
  double width = 0.0;
  if (n > 2) {
    double sg1 = std::sqrt(6.0 * (n - 2) / ((n + 1.0) * (n + 3)));
    const double* a = x.data();
    const double mean = PairwiseSum(x) / n;
    const double sigma = std::sqrt(PairwiseSumOf(n,
                                                 [a, mean](int64_t i) {
                                                   const double d = a[i] - mean;
                                                   return d * d;
                                                 }) /
                                   n);
    if (sigma > 0.0) {
      // np.power(z, 3) up to an ulp; only feeds a log2 of the bin count.
      const double g1 = PairwiseSumOf(n,
                                      [a, mean, sigma](int64_t i) {
                                        const double z = (a[i] - mean) / sigma;
                                        return z * z * z;
                                      }) /
                        n;
      width = (hi - lo) /
              (1.0 + std::log2(static_cast<double>(n)) + std::log2(1.0 + std::abs(g1) / sg1));
    }
  }
  int64_t nbins = 1;
  if (width != 0.0) nbins = static_cast<int64_t>(std::ceil((last - first) / width));
  return Linspace(first, last, nbins + 1);
}

void Histogram(std::span<const double> x, const std::vector<double>& edges,
               std::vector<int64_t>* counts, int64_t* below) {
  const int64_t nb = static_cast<int64_t>(edges.size()) - 1;
  counts->assign(static_cast<size_t>(std::max<int64_t>(nb, 0)), 0);
  if (below) *below = 0;
  if (nb <= 0) return;
  const HistogramBinner binner(edges);
  int64_t* c = counts->data();
  int64_t nbelow = 0;
  for (double v : x) {
    const int64_t i = binner.Bin(v);
    if (i >= 0)
      ++c[i];
    else
      nbelow += i == HistogramBinner::kBelow;
  }
  if (below) *below = nbelow;
}

double JensenShannonDistance(std::span<const double> p, std::span<const double> q, double base) {
  double sp = PairwiseSum(p), sq = PairwiseSum(q);
  std::vector<double> left(p.size()), right(q.size());
  for (size_t i = 0; i < p.size(); ++i) {
    double pi = p[i] / sp, qi = q[i] / sq;
    double m = (pi + qi) / 2.0;
    left[i] = RelEntr(pi, m);
    right[i] = RelEntr(qi, m);
  }
  double js = PairwiseSum(left) + PairwiseSum(right);
  if (base > 0) js /= std::log(base);
  return std::sqrt(js / 2.0);
}

double HellingerDistance(std::span<const double> p, std::span<const double> q) {
  std::vector<double> t(p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    double d = std::sqrt(p[i]) - std::sqrt(q[i]);
    t[i] = d * d;
  }
  return std::sqrt(PairwiseSum(t)) / std::sqrt(2.0);
}

double KsStatistic(std::span<const double> a, std::span<const double> b) {
  const size_t n1 = a.size(), n2 = b.size();
  if (n1 == 0 || n2 == 0) return kNaN;
  size_t i = 0, j = 0;
  double max_s = -std::numeric_limits<double>::infinity(),
         min_s = std::numeric_limits<double>::infinity();
  while (i < n1 || j < n2) {
    double v;
    if (j >= n2 || (i < n1 && a[i] <= b[j]))
      v = a[i];
    else
      v = b[j];
    while (i < n1 && a[i] <= v) ++i;
    while (j < n2 && b[j] <= v) ++j;
    double diff = static_cast<double>(i) / n1 - static_cast<double>(j) / n2;
    max_s = std::max(max_s, diff);
    min_s = std::min(min_s, diff);
  }
  double neg = Clip01(-min_s);
  return std::max(neg, max_s);
}

double SmirnovSf(int64_t n, double d) {
  if (std::isnan(d)) return kNaN;
  if (d <= 0) return 1.0;
  if (d >= 1) return 0.0;
  // Birnbaum-Tingey: P(D+ >= d) = d * sum_{j=0}^{floor(n(1-d))} C(n,j) (1-d-j/n)^(n-j)
  // (d+j/n)^(j-1)
  int64_t jmax = static_cast<int64_t>(std::floor(n * (1 - d)));
  double lgn1 = std::lgamma(n + 1.0);
  double sum = 0;
  for (int64_t j = 0; j <= jmax; ++j) {
    double a = 1 - d - static_cast<double>(j) / n;
    double b = d + static_cast<double>(j) / n;
    if (a <= 0 && n - j > 0) continue;
    double lt = lgn1 - std::lgamma(j + 1.0) - std::lgamma(static_cast<double>(n - j) + 1.0) +
                (n - j > 0 ? (n - j) * std::log(a) : 0.0) + (j - 1) * std::log(b);
    sum += std::exp(lt);
  }
  return Clip01(d * sum);
}

double KolmogorovSf(int64_t n, double x) {
  // scipy.stats._ksstats._kolmogn(n, x, cdf=False).
  if (n <= 0 || std::isnan(x)) return kNaN;
  if (x >= 1.0) return 0.0;
  if (x <= 0.0) return 1.0;
  double t = n * x;
  if (t <= 1.0) {
    if (t <= 0.5) return 1.0;
    double prob;
    if (n <= 140) {
      prob = 1.0;
      for (int64_t i = 1; i <= n; ++i) prob *= i * (1.0 / n) * (2 * t - 1);
    } else {
      prob = std::exp(LogNFactorialDivNPowN(static_cast<double>(n)) + n * std::log(2 * t - 1));
    }
    return Clip01(1.0 - prob);
  }
  if (t >= n - 1) return Clip01(2 * std::pow(1.0 - x, static_cast<double>(n)));
  if (x >= 0.5) return Clip01(2 * SmirnovSf(n, x));
  double nxsquared = t * x;
  if (n <= 140) {
    if (nxsquared <= 0.754693) return Clip01(1.0 - KolmognDmtwCdf(n, x));
    // The Pomeranz recursion is not ported; Durbin's matrix method is exact too (slower).
    if (nxsquared <= 4) return Clip01(1.0 - KolmognDmtwCdf(n, x));
    return Clip01(2 * SmirnovSf(n, x));
  }
  if (nxsquared >= 370.0) return 0.0;
  if (nxsquared >= 2.2) return Clip01(2 * SmirnovSf(n, x));
  double cdf;
  if (nxsquared >= 18.0)
    cdf = 1.0;
  else if (n <= 100000 && n * std::pow(x, 1.5) <= 1.4)
    cdf = KolmognDmtwCdf(n, x);
  else
    cdf = KolmognPelzGoodCdf(n, x);
  return Clip01(1.0 - cdf);
}

double KsPValue(double d, int64_t n1, int64_t n2, KsMethod method) {
  if (n1 <= 0 || n2 <= 0 || std::isnan(d)) return kNaN;
  int64_t g = std::gcd(n1, n2);
  int64_t n1g = n1 / g, n2g = n2 / g;
  bool exact =
      method == KsMethod::kExact || (method == KsMethod::kAuto && std::max(n1, n2) <= 10000);
  if (exact && n1g >= std::numeric_limits<int32_t>::max() / n2g) exact = false;
  if (exact) {
    int64_t lcm = n1g * n2;
    int64_t h = static_cast<int64_t>(std::nearbyint(d * lcm));
    if (h == 0) return 1.0;
    double prob = n1 == n2 ? ProbOutsideSquare(n1, h) : OuterProbInsideMethod(n1, n2, g, h);
    if (std::isfinite(prob) && prob >= 0 && prob <= 1) return prob;
  }
  double m = static_cast<double>(std::max(n1, n2)), n = static_cast<double>(std::min(n1, n2));
  double en = m * n / (m + n);
  return Clip01(KolmogorovSf(static_cast<int64_t>(std::nearbyint(en)), d));
}

double WassersteinExact(std::span<const double> u, std::span<const double> v) {
  const size_t nu = u.size(), nv = v.size();
  if (nu == 0 || nv == 0) return kNaN;
  size_t i = 0, j = 0;
  double sum = 0;
  // Walk the merged sorted values; between consecutive values the CDFs are constant.
  double prev = std::min(u[0], v[0]);
  while (i < nu || j < nv) {
    double cur = (j >= nv || (i < nu && u[i] <= v[j])) ? u[i] : v[j];
    if (cur != prev) {
      double cu = static_cast<double>(i) / nu, cv = static_cast<double>(j) / nv;
      sum += std::abs(cu - cv) * (cur - prev);
      prev = cur;
    }
    while (i < nu && u[i] <= cur) ++i;
    while (j < nv && v[j] <= cur) ++j;
  }
  return sum;
}

double Chi2Sf(double x, double dof) {
  if (std::isnan(x) || dof <= 0) return kNaN;
  if (x <= 0) return 1.0;
  if (std::isinf(x)) return 0.0;
  boost::math::chi_squared_distribution<double> dist(dof);
  return boost::math::cdf(boost::math::complement(dist, x));
}

Chi2Result Chi2Contingency(std::span<const double> a, std::span<const double> b) {
  Chi2Result r;
  const size_t rows = a.size();
  double sa = 0, sb = 0;
  for (size_t i = 0; i < rows; ++i) {
    sa += a[i];
    sb += b[i];
  }
  double total = sa + sb;
  r.dof = static_cast<int64_t>(rows) - 1;
  if (rows == 0 || total == 0) {
    r.statistic = kNaN;
    r.p_value = kNaN;
    return r;
  }
  if (r.dof == 0) {
    r.statistic = 0;
    r.p_value = 1;
    return r;
  }
  std::vector<double> terms(rows * 2);
  for (size_t i = 0; i < rows; ++i) {
    double row = a[i] + b[i];
    double obs[2] = {a[i], b[i]};
    double exp[2] = {row * sa / total, row * sb / total};
    for (int k = 0; k < 2; ++k) {
      double o = obs[k];
      if (r.dof == 1) {
        double diff = exp[k] - o;
        double mag = std::min(0.5, std::abs(diff));
        o += diff > 0 ? mag : (diff < 0 ? -mag : 0.0);
      }
      double dd = o - exp[k];
      terms[i * 2 + k] = dd * dd / exp[k];
    }
  }
  // scipy sums the (rows x 2) array with np.sum over all cells (pairwise over the flat array).
  r.statistic = PairwiseSum(terms);
  r.p_value = Chi2Sf(r.statistic, static_cast<double>(r.dof));
  return r;
}

double PopulationStabilityIndex(std::vector<double> r, std::vector<double> c) {
  // Evidently stattests/utils.py get_binned_data(feel_zeroes=True): zero shares become
  // min(nonzero shares)/1e6 when that minimum is <= 1e-4, else 1e-4.
  auto fill = [](std::vector<double>& v) {
    double min_nz = std::numeric_limits<double>::infinity();
    for (double x : v) {
      if (x > 0) min_nz = std::min(min_nz, x);
    }
    double repl = (min_nz <= 0.0001) ? min_nz / 1e6 : 0.0001;
    for (double& x : v) {
      if (x == 0) x = repl;
    }
  };
  fill(r);
  fill(c);
  double psi = 0;
  for (size_t i = 0; i < r.size(); ++i) psi += (r[i] - c[i]) * std::log(r[i] / c[i]);
  return psi;
}

double Quantile(std::span<const double> s, double q) {
  if (s.empty()) return kNaN;
  double idx = q * (s.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(idx));
  size_t hi = std::min(lo + 1, s.size() - 1);
  double t = idx - lo;
  double a = s[lo], b = s[hi];
  double diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

std::vector<uint32_t> StableOrder(std::span<const double> keys) {
  std::vector<uint32_t> row(keys.size());
  std::iota(row.begin(), row.end(), 0u);
  std::vector<uint64_t> key(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) key[i] = SortKey(keys[i]);
  RadixPasses(&key, &row);
  return row;
}

std::vector<uint32_t> StableOrder(std::span<const double> primary,
                                  std::span<const double> secondary) {
  // LSD: stably by the secondary key, then stably by the primary one.
  std::vector<uint32_t> row = StableOrder(secondary);
  std::vector<uint64_t> key(row.size());
  for (size_t i = 0; i < row.size(); ++i) key[i] = SortKey(primary[row[i]]);
  RadixPasses(&key, &row);
  return row;
}

}  // namespace cairn::monitor
