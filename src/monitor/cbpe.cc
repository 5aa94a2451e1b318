#include "monitor/cbpe.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>

#include "monitor/business_value.h"
#include "monitor/confusion_matrix.h"
#include "monitor/performance.h"
#include "monitor/sampling_error.h"
#include "monitor/statistics.h"
#include "monitor/thresholds.h"

namespace cairn::monitor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Per-class probability column AttachTargets (performance.cc) appends (sorted class order).
std::string ClassProba(size_t k) { return fmt::format("__cairn_y_pred_proba_{}", k); }

double Mean(std::span<const double> v) {
  return v.empty() ? kNaN : PairwiseSum(v) / static_cast<double>(v.size());
}

// numpy.round(x, 5): multiply, round half to even, divide.
double Round5(double x) { return std::nearbyint(x * 1e5) / 1e5; }

// One estimated metric: records of both periods, realized values of the reference chunks.
struct Series {
  std::string name;
  std::optional<double> lower_limit, upper_limit;
  ThresholdSpec threshold;
  std::vector<Record> records;
  std::vector<double> ref_realized;
};

struct Estimate {
  double value = kNaN;
  std::string reason;
  double se = kNaN;
  double realized = kNaN;
};

void Add(Series* s, const std::string& period, const Chunk& ch, const std::string& column,
         const Estimate& e) {
  Record r = MakeRecord(period, ch, column, s->name, "estimated_performance");
  r.estimated = true;
  r.value = e.value;
  r.reason = e.reason;
  r.sampling_error = e.se;
  r.realized = e.realized;
  if (std::isnan(e.value) || std::isnan(e.se)) {
    r.lower_confidence = r.upper_confidence = kNaN;
  } else {
    r.upper_confidence = std::min(s->upper_limit.value_or(INFINITY), e.value + 3 * e.se);
    r.lower_confidence = std::max(s->lower_limit.value_or(-INFINITY), e.value - 3 * e.se);
  }
  if (period == "reference") s->ref_realized.push_back(e.realized);
  s->records.push_back(std::move(r));
}

void Finish(Series* s, std::vector<Record>* out) {
  Bounds b = ComputeThresholds(s->threshold, s->ref_realized, s->lower_limit, s->upper_limit);
  for (auto& r : s->records) {
    r.lower = b.lower;
    r.upper = b.upper;
    r.alert = IsAlert(r.value, b);
    out->push_back(std::move(r));
  }
}

// The realized metric `name` from BinaryMetrics / MulticlassMetrics output.
double Realized(const std::vector<MetricInfo>& infos, const std::vector<MetricValue>& values,
                const std::string& name) {
  for (size_t i = 0; i < infos.size(); ++i)
    if (infos[i].name == name) return values[i].value;
  return kNaN;
}

// The expected confusion matrix of one (binarized) prediction vector.
struct ExpectedCm {
  double tp, fp, fn, tn, n;
};
ExpectedCm Expected(std::span<const double> pred, std::span<const double> p) {
  // nannyML sums np.where(...) vectors of full length (zeros elsewhere) with np.sum.
  const size_t n = p.size();
  std::vector<double> tp(n), fp(n), fn(n), tn(n);
  for (size_t i = 0; i < n; ++i) {
    const bool one = pred[i] == 1;
    tp[i] = one ? p[i] : 0;
    fp[i] = one ? 1 - p[i] : 0;
    fn[i] = one ? 0 : p[i];
    tn[i] = one ? 0 : 1 - p[i];
  }
  return {PairwiseSum(tp), PairwiseSum(fp), PairwiseSum(fn), PairwiseSum(tn),
          static_cast<double>(n)};
}

// F1, precision, recall, specificity of an expected confusion matrix; NaN (with `why`) on a
// zero denominator where nannyML returns 0.
std::pair<double, std::string> Ratio(double num, double den, const char* why) {
  if (den == 0) return {kNaN, why};
  return {num / den, ""};
}

std::pair<double, std::string> CmMetric(const std::string& m, const ExpectedCm& c) {
  if (m == "f1")
    return Ratio(c.tp, c.tp + 0.5 * (c.fp + c.fn),
                 "the expected TP + (FP + FN)/2 is zero in this chunk");
  if (m == "precision")
    return Ratio(c.tp, c.tp + c.fp, "no positive predictions in this chunk (TP + FP is zero)");
  if (m == "recall")
    return Ratio(c.tp, c.tp + c.fn, "the expected positives (TP + FN) are zero in this chunk");
  if (m == "specificity")
    return Ratio(c.tn, c.tn + c.fp, "the expected negatives (TN + FP) are zero in this chunk");
  return {kNaN, "unknown metric"};
}

// Multiclass expected confusion matrix (row-major k×k): cell (a, b) = Σ over the rows predicted
// b of the calibrated probability of a, summed as numpy sums np.where(...) vectors.
std::vector<double> ExpectedSums(const std::vector<std::vector<double>>& predk,
                                 const std::vector<std::vector<double>>& pc) {
  const size_t k = pc.size(), n = k ? pc[0].size() : 0;
  std::vector<double> sums(k * k), v(n);
  for (size_t a = 0; a < k; ++a) {
    for (size_t b = 0; b < k; ++b) {
      for (size_t i = 0; i < n; ++i) v[i] = predk[b][i] == 1 ? pc[a][i] : 0;
      sums[a * k + b] = PairwiseSum(v);
    }
  }
  return sums;
}

// Rows of [begin, end) where every span is known.
std::vector<size_t> KnownRows(size_t begin, size_t end,
                              std::initializer_list<std::span<const double>> cols) {
  std::vector<size_t> rows;
  for (size_t i = begin; i < end; ++i) {
    bool ok = true;
    for (auto c : cols) ok = ok && !std::isnan(c[i]);
    if (ok) rows.push_back(i);
  }
  return rows;
}

std::vector<double> Gather(std::span<const double> v, const std::vector<size_t>& rows) {
  std::vector<double> out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) out[i] = v[rows[i]];
  return out;
}

// nannyML's AP sampling-error components: the std of scikit-learn's average precision over 50
// bootstrap samples of min(n // 2, 50 000) reference rows, and that sample size (carried in
// `fraction`); SE = std · sqrt(sample size / n). nannyML draws the samples with numpy's global,
// unseeded RNG; cairn draws them as numpy's legacy choice(n, size, replace=True) does from
// RandomState(0) (masked 32-bit rejection sampling), i.e. nannyML after np.random.seed(0).
SeComponents AveragePrecisionComponents(std::span<const double> y, std::span<const double> p) {
  const size_t n = y.size();
  const size_t sample = std::min<size_t>(n / 2, 50000);
  if (sample == 0) return {kNaN, 0};
  NumpyRandomState rng(0);
  std::vector<double> aps, ys(sample), ps(sample);
  for (int e = 0; e < 50; ++e) {
    for (size_t i = 0; i < sample; ++i) {
      size_t r = rng.Interval(static_cast<uint32_t>(n - 1));
      ys[i] = y[r];
      ps[i] = p[r];
    }
    aps.push_back(BinaryMetrics(ys, ps, {})[1].value);
  }
  return {PopulationStd(aps), static_cast<double>(sample)};
}

// The fitted calibration: per class (one for binary), a calibrator or identity.
struct Calibration {
  std::vector<std::optional<IsotonicCalibrator>> per_class;
};

const std::vector<std::string> kBinaryDefault = {"roc_auc",     "f1",       "precision",
                                                 "recall",      "specificity", "accuracy",
                                                 "confusion_matrix"};
const std::vector<std::string> kMulticlassDefault = {
    "roc_auc", "f1", "precision", "recall", "specificity", "accuracy", "confusion_matrix"};

}  // namespace

// --- numpy RandomState. ---

NumpyRandomState::NumpyRandomState(uint32_t seed) {
  // init_genrand.
  state_[0] = seed;
  for (uint32_t i = 1; i < kWords; ++i)
    state_[i] = 1812433253u * (state_[i - 1] ^ (state_[i - 1] >> 30)) + i;
}

void NumpyRandomState::Refill() {
  // genrand_int32's twist of all 624 words, then the tempering of each (two simple loops the
  // compiler vectorises, instead of one word per call).
  constexpr size_t kShift = 397;
  constexpr uint32_t kMatrix = 0x9908b0dfu, kUpper = 0x80000000u, kLower = 0x7fffffffu;
  uint32_t* mt = state_.data();
  auto twist = [&](size_t k, size_t next, size_t far) {
    const uint32_t y = (mt[k] & kUpper) | (mt[next] & kLower);
    mt[k] = mt[far] ^ (y >> 1) ^ ((y & 1u) != 0 ? kMatrix : 0u);
  };
  for (size_t k = 0; k < kWords - kShift; ++k) twist(k, k + 1, k + kShift);
  for (size_t k = kWords - kShift; k < kWords - 1; ++k) twist(k, k + 1, k + kShift - kWords);
  twist(kWords - 1, 0, kShift - 1);
  for (size_t k = 0; k < kWords; ++k) {
    uint32_t y = mt[k];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    out_[k] = y;
  }
  used_ = 0;
}

uint32_t NumpyRandomState::Interval(uint32_t max) {
  if (max == 0) return 0;
  uint32_t mask = max;
  mask |= mask >> 1;
  mask |= mask >> 2;
  mask |= mask >> 4;
  mask |= mask >> 8;
  mask |= mask >> 16;
  uint32_t value;
  while ((value = Next() & mask) > max) {
  }
  return value;
}

void NumpyRandomState::Shuffle(std::vector<int64_t>* v) {
  if (v->size() > 1) Steps(v->data(), static_cast<uint32_t>(v->size() - 1), 1);
}

std::vector<int64_t> NumpyRandomState::Permutation(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  Shuffle(&v);
  return v;
}

void NumpyRandomState::SkipShuffle(size_t n) {
  if (n > 1) Steps<uint32_t>(nullptr, static_cast<uint32_t>(n - 1), 1);
}

std::vector<uint32_t> NumpyRandomState::PermutationFrom(uint32_t n, uint32_t from) {
  // Shuffle swaps position i with a draw j <= i for i = n − 1 down to 1, so position i holds its
  // final value once step i has run: the steps below `from` only draw.
  std::vector<uint32_t> v(n);
  std::iota(v.begin(), v.end(), 0u);
  const uint32_t lo = std::max<uint32_t>(from, 1);
  if (n > lo) Steps(v.data(), n - 1, lo);
  SkipShuffle(std::min(from, n));
  return v;
}

template <typename T>
void NumpyRandomState::Steps(T* v, uint32_t hi, uint32_t lo) {
  // numpy's random_interval(i) is a loop of masked draws until one is <= i; the loops of all
  // the steps are run as one loop over the generator's outputs, so a rejection is not a branch
  // to mispredict: a rejected output swaps v[i] with itself and keeps i. The mask (the smallest
  // 2^k − 1 >= i) is fixed while i stays above half of it.
  uint32_t i = hi;
  while (i >= lo) {
    if (used_ == kWords) Refill();
    const uint32_t mask = 0xffffffffu >> std::countl_zero(i);
    const uint32_t stop = std::max(lo, (mask >> 1) + 1);
    const uint32_t* out = out_.data();
    size_t used = used_;
    while (used < kWords && i >= stop) {
      const uint32_t j = out[used++] & mask;
      const bool accepted = j <= i;
      if (v != nullptr) std::swap(v[i], v[accepted ? j : i]);
      i -= accepted ? 1u : 0u;
    }
    used_ = used;
  }
}

namespace {

// sklearn.model_selection._split._approximate_mode.
std::vector<int64_t> ApproximateMode(const std::vector<int64_t>& counts, int64_t draws,
                                     NumpyRandomState* rng) {
  double total = 0;
  for (int64_t c : counts) total += static_cast<double>(c);
  const size_t k = counts.size();
  std::vector<double> cont(k), floored(k), rem(k);
  double fsum = 0;
  for (size_t i = 0; i < k; ++i) {
    cont[i] = static_cast<double>(counts[i]) / total * static_cast<double>(draws);
    floored[i] = std::floor(cont[i]);
    fsum += floored[i];
  }
  int64_t need = static_cast<int64_t>(static_cast<double>(draws) - fsum);
  if (need > 0) {
    for (size_t i = 0; i < k; ++i) rem[i] = cont[i] - floored[i];
    std::vector<double> values(rem);
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    std::reverse(values.begin(), values.end());
    for (double value : values) {
      std::vector<int64_t> inds;
      for (size_t i = 0; i < k; ++i)
        if (rem[i] == value) inds.push_back(static_cast<int64_t>(i));
      int64_t add_now = std::min<int64_t>(static_cast<int64_t>(inds.size()), need);
      // RandomState.choice(inds, add_now, replace=False) = inds[permutation(len)[:add_now]].
      std::vector<int64_t> perm = rng->Permutation(static_cast<int64_t>(inds.size()));
      for (int64_t a = 0; a < add_now; ++a) floored[static_cast<size_t>(inds[perm[a]])] += 1;
      need -= add_now;
      if (need == 0) break;
    }
  }
  std::vector<int64_t> out(k);
  for (size_t i = 0; i < k; ++i) out[i] = static_cast<int64_t>(floored[i]);
  return out;
}

}  // namespace

StatusOr<std::vector<std::vector<int64_t>>> StratifiedShuffleSplitTestFolds(
    std::span<const double> y, int n_splits, double test_size, uint32_t seed) {
  const int64_t n = static_cast<int64_t>(y.size());
  const int64_t n_test = static_cast<int64_t>(std::ceil(test_size * static_cast<double>(n)));
  const int64_t n_train = n - n_test;
  // np.unique(y, return_inverse=True); class indices in row order (stable argsort).
  // (The classes are few: kept sorted as they are found.)
  std::vector<double> classes;
  for (double v : y) {
    if (!classes.empty() && v == classes.back()) continue;
    auto it = std::lower_bound(classes.begin(), classes.end(), v);
    if (it == classes.end() || *it != v) classes.insert(it, v);
  }
  std::vector<std::vector<int64_t>> class_rows(classes.size());
  for (int64_t i = 0; i < n; ++i) {
    size_t c = std::lower_bound(classes.begin(), classes.end(), y[i]) - classes.begin();
    class_rows[c].push_back(i);
  }
  std::vector<int64_t> counts;
  for (const auto& r : class_rows) {
    if (r.size() < 2)
      return InvalidArgument("the least populated class has fewer than 2 rows");
    counts.push_back(static_cast<int64_t>(r.size()));
  }
  const int64_t k = static_cast<int64_t>(classes.size());
  if (n_train < k || n_test < k)
    return InvalidArgument("too few rows to hold every class in both folds");
  NumpyRandomState rng(seed);
  std::vector<std::vector<int64_t>> folds;
  for (int s = 0; s < n_splits; ++s) {
    std::vector<int64_t> n_i = ApproximateMode(counts, n_train, &rng);
    std::vector<int64_t> remaining(counts.size());
    for (size_t c = 0; c < counts.size(); ++c) remaining[c] = counts[c] - n_i[c];
    std::vector<int64_t> t_i = ApproximateMode(remaining, n_test, &rng);
    // Per class, permutation(count): the first n_i rows train, the next t_i test. Only the test
    // rows are kept; the train rows' permutation (and the train fold's own shuffle below) are
    // drawn but not materialised, so the generator advances exactly as numpy's.
    std::vector<int64_t> test;
    test.reserve(static_cast<size_t>(n_test));
    for (size_t c = 0; c < counts.size(); ++c) {
      const std::vector<uint32_t> perm = rng.PermutationFrom(
          static_cast<uint32_t>(counts[c]), static_cast<uint32_t>(n_i[c]));
      for (int64_t a = n_i[c]; a < n_i[c] + t_i[c]; ++a)
        test.push_back(class_rows[c][perm[static_cast<size_t>(a)]]);
    }
    rng.SkipShuffle(static_cast<size_t>(n_train));  // rng.permutation(train)
    rng.Shuffle(&test);
    folds.push_back(std::move(test));
  }
  return folds;
}

// --- Isotonic regression (scikit-learn). ---

void IsotonicCalibrator::Fit(std::span<const double> x, std::span<const double> y) {
  const size_t n = x.size();
  // np.lexsort((y, X)): by X, then y.
  const std::vector<uint32_t> order = StableOrder(x, y);
  std::vector<double> xs(n), ys(n);
  for (size_t j = 0; j < n; ++j) {
    xs[j] = x[order[j]];
    ys[j] = y[order[j]];
  }
  FitSorted(xs, ys);
}

void IsotonicCalibrator::FitSorted(std::span<const double> x, std::span<const double> y) {
  FitKept(x, y, [](size_t) { return true; });
}

template <typename Keep>
void IsotonicCalibrator::FitKept(std::span<const double> x, std::span<const double> y,
                                 const Keep& keep) {
  const size_t n = x.size();
  size_t first = 0;
  while (first < n && !keep(first)) ++first;
  // _make_unique: weighted mean of y over equal X (resolution 1e-15).
  std::vector<double> ux, uy, uw;
  const double eps = 1e-15;
  double cx = x[first], cy = 0, cw = 0;
  for (size_t j = first; j < n; ++j) {
    if (!keep(j)) continue;
    double xv = x[j];
    if (xv >= cx + eps) {
      ux.push_back(cx);
      uy.push_back(cy / cw);
      uw.push_back(cw);
      cx = xv;
      cw = 1;
      cy = y[j];
    } else {
      cw += 1;
      cy += y[j];
    }
  }
  ux.push_back(cx);
  uy.push_back(cy / cw);
  uw.push_back(cw);
  // _inplace_contiguous_isotonic_regression (pool adjacent violators).
  const size_t m = uy.size();
  std::vector<size_t> target(m);
  std::iota(target.begin(), target.end(), 0);
  std::vector<double>& yy = uy;
  std::vector<double>& w = uw;
  size_t i = 0;
  while (i < m) {
    size_t k = target[i] + 1;
    if (k == m) break;
    if (yy[i] < yy[k]) {
      i = k;
      continue;
    }
    double sum_wy = w[i] * yy[i], sum_w = w[i];
    while (true) {
      double prev_y = yy[k];
      sum_wy += w[k] * yy[k];
      sum_w += w[k];
      k = target[k] + 1;
      if (k == m || prev_y < yy[k]) {
        yy[i] = sum_wy / sum_w;
        w[i] = sum_w;
        target[i] = k - 1;
        target[k - 1] = i;
        if (i > 0) i = target[i - 1];
        break;
      }
    }
  }
  i = 0;
  while (i < m) {
    size_t k = target[i] + 1;
    for (size_t j = i + 1; j < k; ++j) yy[j] = yy[i];
    i = k;
  }
  // Keep the ends of constant runs (trim_duplicates).
  x_.clear();
  y_.clear();
  for (size_t j = 0; j < m; ++j) {
    bool keep = j == 0 || j + 1 == m || yy[j] != yy[j - 1] || yy[j] != yy[j + 1];
    if (keep) {
      x_.push_back(ux[j]);
      y_.push_back(yy[j]);
    }
  }
  // Each segment's slope, as interp1d computes it per call.
  slope_.assign(x_.size(), 0.0);
  for (size_t j = 1; j < x_.size(); ++j) slope_[j] = (y_[j] - y_[j - 1]) / (x_[j] - x_[j - 1]);
}

double IsotonicCalibrator::Predict(double t) const {
  if (x_.size() == 1) return y_[0];
  t = std::clamp(t, x_.front(), x_.back());
  // scipy interp1d(kind='linear'): searchsorted left, clipped to [1, n − 1]. The search is
  // std::lower_bound's result without its data-dependent branches.
  const double* base = x_.data();
  for (size_t len = x_.size(); len > 1;) {
    const size_t half = len / 2;
    base = base[half - 1] < t ? base + half : base;
    len -= half;
  }
  size_t idx = static_cast<size_t>(base - x_.data()) + (*base < t ? 1 : 0);
  idx = std::clamp<size_t>(idx, 1, x_.size() - 1);
  return slope_[idx] * (t - x_[idx - 1]) + y_[idx - 1];
}

double NannymlEce(std::span<const double> y_true, std::span<const double> proba, int bins) {
  const int64_t n = static_cast<int64_t>(proba.size());
  if (n <= 2 * bins) {
    bins = static_cast<int>(n / 2);
    if (bins < 2) return kNaN;
  }
  const int64_t width = n / bins;
  std::vector<int64_t> edges;
  for (int64_t e = 0; e <= n; e += width) edges.push_back(e);
  edges.back() = n;
  const std::vector<uint32_t> order = StableOrder(proba);
  std::vector<double> p(static_cast<size_t>(n)), y(static_cast<size_t>(n));
  for (size_t r = 0; r < order.size(); ++r) {
    p[r] = proba[order[r]];
    y[r] = y_true[order[r]];
  }
  std::vector<double> terms;
  for (size_t b = 0; b + 1 < edges.size(); ++b) {
    const size_t from = static_cast<size_t>(edges[b]), len = static_cast<size_t>(edges[b + 1]) - from;
    double weight = static_cast<double>(len) / static_cast<double>(n);
    terms.push_back(weight * std::abs(Mean(std::span<const double>(p).subspan(from, len)) -
                                      Mean(std::span<const double>(y).subspan(from, len))));
  }
  return PairwiseSum(terms);
}

namespace {

// nannyML's needs_calibration over rows already in scikit-learn's fitting order (`order`: by
// probability, then target, ties in row order; `xs`, `ys` the rows' values in that order).
bool DecideCalibration(std::span<const double> y_true, std::span<const double> proba,
                       std::span<const uint32_t> order, std::span<const double> xs,
                       std::span<const double> ys, const ParallelFor& parallel,
                       std::string* detail) {
  auto say = [&](std::string s) {
    if (detail) *detail = std::move(s);
  };
  const size_t n = y_true.size();
  double pos = 0;
  for (double y : y_true) pos += y;
  if (pos == 0 || pos == static_cast<double>(n)) {
    say("the reference targets hold a single class");
    return false;
  }
  // nannyML: no calibration when the ROC AUC exceeds 0.999 (scikit-learn's roc_auc_score; the
  // fitting order is an ascending order of the scores).
  const double auc = RankMetrics(proba, y_true, order, pos, static_cast<double>(n) - pos).roc_auc;
  if (auc > 0.999) {
    say(fmt::format("the reference ROC AUC is {} (> 0.999)", auc));
    return false;
  }
  // The draws are made first, in numpy's order, on this thread.
  auto folds = StratifiedShuffleSplitTestFolds(y_true, 10, 0.1, 42);
  if (!folds.ok()) {
    say(fmt::format("no calibration: {}", folds.status().message()));
    return false;
  }
  // Every fold fits on the rows outside its test fold, in scikit-learn's order. Filtering the
  // fitting order of all rows gives exactly that order for any subset, so the rows are sorted
  // once. The folds' fits are independent: they run as parallel work items, each writing its
  // own slice of the pooled test vectors, which are pooled in fold order as nannyML does.
  // Per row, what a fold needs of it in one place (one cache miss per test row): its
  // probability, target and position in the fitting order.
  struct RowKey {
    double p, y;
    uint32_t pos;
  };
  std::vector<RowKey> keys(n);
  for (size_t j = 0; j < n; ++j) keys[order[j]].pos = static_cast<uint32_t>(j);
  for (size_t r = 0; r < n; ++r) {
    keys[r].p = proba[r];
    keys[r].y = y_true[r];
  }
  std::vector<size_t> offset = {0};
  for (const auto& test : *folds) offset.push_back(offset.back() + test.size());
  std::vector<double> ty(offset.back()), tp(offset.back()), tc(offset.back());
  RunParallel(parallel, folds->size(), [&](size_t f) {
    const std::vector<int64_t>& test = (*folds)[f];
    std::vector<uint64_t> in_test((n + 63) / 64, 0);  // by position in the fitting order
    for (size_t i = 0; i < test.size(); ++i) {
      const RowKey& k = keys[static_cast<size_t>(test[i])];
      in_test[k.pos / 64] |= uint64_t{1} << (k.pos % 64);
      ty[offset[f] + i] = k.y;
      tp[offset[f] + i] = k.p;
    }
    IsotonicCalibrator cal;
    cal.FitKept(xs, ys, [&](size_t j) { return ((in_test[j / 64] >> (j % 64)) & 1) == 0; });
    for (size_t i = offset[f]; i < offset[f + 1]; ++i) tc[i] = cal.Predict(tp[i]);
  });
  // nannyML bins both by the uncalibrated order's index edges but sorts each vector by its own
  // probabilities.
  double before = 0, after = 0;
  RunParallel(parallel, 2, [&](size_t which) {
    (which == 0 ? before : after) = NannymlEce(ty, which == 0 ? tp : tc);
  });
  say(fmt::format("ECE on the pooled test folds {:.6g} before, {:.6g} after isotonic calibration",
                  before, after));
  return before > after;
}

}  // namespace

bool NeedsCalibration(std::span<const double> y_true, std::span<const double> proba,
                      std::string* detail) {
  return CalibrationFor(y_true, proba, {}, detail).has_value();
}

std::optional<IsotonicCalibrator> CalibrationFor(std::span<const double> y_true,
                                                 std::span<const double> proba,
                                                 const ParallelFor& parallel,
                                                 std::string* detail) {
  const std::vector<uint32_t> order = StableOrder(proba, y_true);
  std::vector<double> xs(order.size()), ys(order.size());
  for (size_t j = 0; j < order.size(); ++j) {
    xs[j] = proba[order[j]];
    ys[j] = y_true[order[j]];
  }
  if (!DecideCalibration(y_true, proba, order, xs, ys, parallel, detail)) return std::nullopt;
  IsotonicCalibrator cal;  // on every row: the same order as Fit's lexsort
  cal.FitSorted(xs, ys);
  return cal;
}

namespace {

// np.argsort(uncal)[::-1] with ties in row order (reversed). Rows with equal uncalibrated scores
// have equal calibrated ones in the binary case, so their order does not change the sums.
std::vector<uint32_t> DescendingOrder(std::span<const double> uncal) {
  std::vector<uint32_t> order = StableOrder(uncal);
  std::reverse(order.begin(), order.end());
  return order;
}

}  // namespace

double EstimateRocAuc(std::span<const double> cal, std::span<const double> uncal) {
  const size_t n = cal.size();
  if (n == 0) return kNaN;
  const std::vector<uint32_t> order = DescendingOrder(uncal);
  std::vector<double> tps(n + 1), fps(n + 1);
  tps[0] = fps[0] = 0;
  double cum = 0;
  for (size_t i = 0; i < n; ++i) {
    cum += cal[order[i]];
    tps[i + 1] = cum;
    fps[i + 1] = static_cast<double>(1 + i) - cum;
  }
  for (size_t i = 0; i <= n; ++i) {
    tps[i] = Round5(tps[i]);
    fps[i] = Round5(fps[i]);
  }
  const double tn = tps[n], fn = fps[n];
  if (tn == 0 || fn == 0) return kNaN;
  std::vector<double> area(n);
  bool decreasing = false, increasing = false;
  for (size_t i = 0; i < n; ++i) {
    double x0 = fps[i] / fn, x1 = fps[i + 1] / fn, y0 = tps[i] / tn, y1 = tps[i + 1] / tn;
    double dx = x1 - x0;
    if (dx < 0) decreasing = true;
    if (dx > 0) increasing = true;
    area[i] = dx * (y1 + y0) / 2.0;
  }
  if (decreasing && increasing) return kNaN;  // sklearn.metrics.auc raises
  double a = PairwiseSum(area);
  return decreasing ? -a : a;
}

double EstimateAveragePrecision(std::span<const double> cal, std::span<const double> uncal) {
  const size_t n = cal.size();
  if (n == 0) return kNaN;
  const std::vector<uint32_t> order = DescendingOrder(uncal);
  // tps_k (k = 1..n) rounded to 5 decimals, precision_k = tps_k / k, recall_k = tps_k / tps_n;
  // nannyML sums −Δrecall·precision over the reversed arrays.
  std::vector<double> tps(n + 1, 0.0), precision(n + 1, 1.0);
  double cum = 0;
  for (size_t i = 0; i < n; ++i) {
    cum += cal[order[i]];
    tps[i + 1] = Round5(cum);
    precision[i + 1] = tps[i + 1] / static_cast<double>(i + 1);
  }
  const double total = tps[n];
  if (total == 0) return kNaN;
  std::vector<double> terms(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t k = n - i;  // reversed position i holds k
    terms[i] = (tps[k - 1] / total - tps[k] / total) * precision[k];
  }
  return -PairwiseSum(terms);
}

bool WantsCbpe(const MonitorConfig& cfg) {
  return cfg.estimation.has_value() &&
         (!cfg.y_pred_proba.empty() || !cfg.y_pred_proba_classes.empty());
}

StatusOr<std::vector<Record>> ComputeCbpe(const MonitorConfig& cfg, const Table& rt,
                                          const std::vector<Chunk>& rc, const Table& at,
                                          const std::vector<Chunk>& ac,
                                          std::vector<std::string>* notes,
                                          const ParallelFor& parallel) {
  EstimationSpec spec = *cfg.estimation;
  // Without its own matrix, estimation uses the top-level business_value matrix (outcomes).
  if (!spec.business_value && cfg.outcomes.business_value)
    spec.business_value = cfg.outcomes.business_value->matrix;
  const bool multiclass = !cfg.y_pred_proba_classes.empty();
  const bool labels = !cfg.y_pred.empty();
  const std::string target = TargetName(cfg);
  std::vector<std::string> metrics = spec.metrics;
  if (metrics.empty()) {
    if (multiclass) {
      metrics = kMulticlassDefault;
    } else if (labels) {
      metrics = kBinaryDefault;
      if (spec.business_value) metrics.push_back("business_value");
    } else {
      metrics = {"roc_auc"};
    }
  }
  for (const auto& m : metrics) {
    if (m == "mae" || m == "mape" || m == "mse" || m == "rmse" || m == "msle" || m == "rmsle")
      return InvalidArgument(fmt::format(
          "{}: estimation.metrics lists '{}', a regression metric, for a classifier",
          cfg.config_path, m));
    if (m != "roc_auc" && m != "average_precision" && !labels)
      return InvalidArgument(fmt::format(
          "{}: the estimated metric '{}' needs model_outputs.y_pred (the predicted label)",
          cfg.config_path, m));
    if (multiclass && m == "average_precision")
      return InvalidArgument(fmt::format(
          "{}: the estimated metric '{}' is supported for binary classifiers only",
          cfg.config_path, m));
    if (m == "business_value" && !spec.business_value)
      return InvalidArgument(fmt::format(
          "{}: estimating business_value needs estimation.business_value.matrix (or a top-level "
          "business_value.matrix)",
          cfg.config_path));
  }

  const size_t k = multiclass ? cfg.y_pred_proba_classes.size() : 1;
  auto proba_of = [&](const Table& t, size_t c) -> std::span<const double> {
    return t.Find(multiclass ? ClassProba(c) : std::string(kProbaColumn))->numbers;
  };
  std::span<const double> ry = rt.Find(kTargetColumn)->numbers;
  std::span<const double> ay = at.Find(kTargetColumn)->numbers;
  std::span<const double> rpred, apred;
  if (labels) {
    rpred = rt.Find(kPredColumn)->numbers;
    apred = at.Find(kPredColumn)->numbers;
  }

  // --- Fit on the reference. ---
  // Rows with a target and every probability (calibration, ROC AUC components).
  std::vector<size_t> fit_rows;
  for (size_t i = 0; i < rt.num_rows; ++i) {
    bool ok = !std::isnan(ry[i]);
    for (size_t c = 0; c < k && ok; ++c) ok = !std::isnan(proba_of(rt, c)[i]);
    if (ok) fit_rows.push_back(i);
  }
  if (fit_rows.empty()) {
    return InvalidArgument(fmt::format(
        "{}: performance estimation needs reference rows with both a target ('{}') and the "
        "predicted probabilities; there are none",
        cfg.config_path, target));
  }
  std::vector<double> fy = Gather(ry, fit_rows);
  Calibration calib;
  calib.per_class.resize(k);
  std::vector<std::vector<double>> class_y(k);  // binarized reference targets per class
  for (size_t c = 0; c < k; ++c) {
    std::vector<double> yk(fy.size());
    for (size_t i = 0; i < fy.size(); ++i)
      yk[i] = multiclass ? (fy[i] == static_cast<double>(c) ? 1.0 : 0.0) : fy[i];
    class_y[c] = yk;
    if (!spec.calibrate) continue;
    std::vector<double> pk = Gather(proba_of(rt, c), fit_rows);
    std::string detail;
    std::optional<IsotonicCalibrator> cal = CalibrationFor(yk, pk, parallel, &detail);
    const bool needs = cal.has_value();
    std::string who = multiclass ? fmt::format("class '{}'", std::next(cfg.y_pred_proba_classes.begin(), c)->first)
                                 : std::string("the scores");
    notes->push_back(fmt::format("CBPE: {} {} calibrated ({})", who, needs ? "are" : "are not",
                                 detail));
    calib.per_class[c] = std::move(cal);
  }
  // Calibrated probabilities of both tables.
  auto calibrate = [&](const Table& t) {
    std::vector<std::vector<double>> out(k, std::vector<double>(t.num_rows));
    for (size_t c = 0; c < k; ++c) {
      std::span<const double> p = proba_of(t, c);
      for (size_t i = 0; i < t.num_rows; ++i)
        out[c][i] = calib.per_class[c] && !std::isnan(p[i]) ? calib.per_class[c]->Predict(p[i])
                                                            : p[i];
    }
    if (multiclass) {
      for (size_t i = 0; i < t.num_rows; ++i) {
        double sum = 0;
        for (size_t c = 0; c < k; ++c) sum += out[c][i];
        for (size_t c = 0; c < k; ++c)
          out[c][i] = sum != 0 ? out[c][i] / sum : 1.0 / static_cast<double>(k);
      }
    }
    return out;
  };
  const std::vector<std::vector<double>> rcal = calibrate(rt), acal = calibrate(at);

  // Sampling-error components.
  std::map<std::string, SeComponents> bin_se;
  std::map<std::string, std::vector<SeComponents>> mc_se;
  const CmNormalization norm = spec.normalize_confusion_matrix;
  std::array<SeComponents, 4> cell_se{};
  double bv_std = kNaN;
  double accuracy_std = kNaN;
  {
    // ROC AUC: reference rows with target and probabilities, uncalibrated.
    if (multiclass) {
      for (size_t c = 0; c < k; ++c)
        mc_se["roc_auc"].push_back(
            MulticlassAurocClassComponents(class_y[c], Gather(proba_of(rt, c), fit_rows)));
    } else {
      bin_se["roc_auc"] = BinaryAurocComponents(fy, Gather(proba_of(rt, 0), fit_rows));
      if (std::find(metrics.begin(), metrics.end(), "average_precision") != metrics.end())
        bin_se["average_precision"] =
            AveragePrecisionComponents(fy, Gather(proba_of(rt, 0), fit_rows));
    }
    if (labels) {
      std::vector<size_t> rows = KnownRows(0, rt.num_rows, {ry, rpred});
      std::vector<double> y = Gather(ry, rows), p = Gather(rpred, rows);
      if (multiclass) {
        for (size_t c = 0; c < k; ++c) {
          std::vector<double> yk(y.size()), pk(y.size());
          for (size_t i = 0; i < y.size(); ++i) {
            yk[i] = y[i] == static_cast<double>(c);
            pk[i] = p[i] == static_cast<double>(c);
          }
          mc_se["f1"].push_back(MulticlassF1ClassComponents(yk, pk));
          mc_se["precision"].push_back(MulticlassPrecisionClassComponents(yk, pk));
          mc_se["recall"].push_back(MulticlassRecallClassComponents(yk, pk));
          mc_se["specificity"].push_back(MulticlassSpecificityClassComponents(yk, pk));
        }
        std::vector<double> correct(y.size());
        for (size_t i = 0; i < y.size(); ++i) correct[i] = y[i] == p[i];
        accuracy_std = PopulationStd(correct);
        if (spec.business_value) bv_std = BusinessValueStd(y, p, *spec.business_value, 1);
      } else {
        bin_se["f1"] = BinaryF1Components(y, p);
        bin_se["precision"] = BinaryPrecisionComponents(y, p);
        bin_se["recall"] = BinaryRecallComponents(y, p);
        bin_se["specificity"] = BinarySpecificityComponents(y, p);
        bin_se["accuracy"] = BinaryAccuracyComponents(y, p);
        for (int cell = 0; cell < 4; ++cell)
          cell_se[cell] = BinaryConfusionCellComponents(y, p, cell, CmNormalizedBy(norm));
        if (spec.business_value) bv_std = BusinessValueStd(y, p, *spec.business_value, 0);
      }
    }
  }

  // Multiclass confusion-matrix cells: reference counts (their std over the rows gives the SE).
  std::vector<std::string> labels_of;
  for (const auto& [label, column] : cfg.y_pred_proba_classes) labels_of.push_back(label);
  std::vector<SeComponents> mc_cell_se(k * k, SeComponents{kNaN, kNaN});
  if (multiclass && labels) {
    std::vector<size_t> rows = KnownRows(0, rt.num_rows, {ry, rpred});
    std::vector<double> cnt(k * k, 0);
    for (size_t r : rows) cnt[static_cast<size_t>(ry[r]) * k + static_cast<size_t>(rpred[r])] += 1;
    if (!rows.empty()) mc_cell_se = MulticlassConfusionCellComponents(cnt, k, CmNormalizedBy(norm));
  }

  // --- Per chunk. ---
  const std::array<std::string, 4> cell_names = BinaryCellNames(norm);
  std::vector<Series> series;
  for (const auto& m : metrics) {
    // nannyML keys thresholds by metric: one for every confusion-matrix cell, one for business
    // value whatever its normalization.
    const ThresholdSpec th = MetricThresholdFor(spec.thresholds, m);
    if (m == "confusion_matrix" && multiclass) {
      for (size_t i = 0; i < k; ++i)
        for (size_t j = 0; j < k; ++j)
          series.push_back({fmt::format("true_{}_pred_{}_{}", labels_of[i], labels_of[j],
                                        CmSuffix(norm)),
                            0.0, CmUpperLimit(norm), th, {}, {}});
    } else if (m == "confusion_matrix") {
      for (const auto& c : cell_names) series.push_back({c, 0.0, CmUpperLimit(norm), th, {}, {}});
    } else if (m == "business_value") {
      series.push_back({spec.business_value_per_prediction ? "business_value_per_prediction"
                                                           : "business_value",
                        std::nullopt, std::nullopt, th, {}, {}});
    } else {
      series.push_back({m, 0.0, 1.0, th, {}, {}});
    }
  }
  const std::vector<MetricInfo> real_infos =
      multiclass ? MulticlassMetricInfos() : BinaryMetricInfos(labels);
  const Table* tables[2] = {&rt, &at};
  const std::vector<Chunk>* chunks[2] = {&rc, &ac};
  const std::vector<std::vector<double>>* cals[2] = {&rcal, &acal};
  const char* periods[2] = {"reference", "analysis"};
  for (int per = 0; per < 2; ++per) {
    const Table& t = *tables[per];
    std::span<const double> y = per == 0 ? ry : ay;
    std::span<const double> pred = per == 0 ? rpred : apred;
    for (const Chunk& ch : *chunks[per]) {
      const size_t b = static_cast<size_t>(ch.begin), e = static_cast<size_t>(ch.end);
      auto sub = [&](std::span<const double> s) { return s.empty() ? s : s.subspan(b, e - b); };
      // Realized values (uncalibrated scores), NaN without targets.
      std::vector<MetricValue> real;
      if (multiclass) {
        std::vector<std::span<const double>> ps;
        for (size_t c = 0; c < k; ++c) ps.push_back(sub(proba_of(t, c)));
        real = MulticlassMetrics(sub(y), ps, sub(pred));
      } else {
        real = BinaryMetrics(sub(y), sub(proba_of(t, 0)), sub(pred),
                             /*loss_and_calibration=*/false);
      }
      // Rows with every probability (and the label when there is one).
      std::vector<size_t> rows;
      for (size_t i = b; i < e; ++i) {
        bool ok = !labels || !std::isnan(pred[i]);
        for (size_t c = 0; c < k && ok; ++c) ok = !std::isnan(proba_of(t, c)[i]);
        if (ok) rows.push_back(i);
      }
      const double n = static_cast<double>(rows.size());
      std::vector<std::vector<double>> pc(k), pu(k), predk(k);
      for (size_t c = 0; c < k; ++c) {
        pc[c] = Gather((*cals[per])[c], rows);
        pu[c] = Gather(proba_of(t, c), rows);
        if (labels) {
          predk[c].resize(rows.size());
          for (size_t i = 0; i < rows.size(); ++i)
            predk[c][i] = multiclass ? (pred[rows[i]] == static_cast<double>(c) ? 1.0 : 0.0)
                                     : pred[rows[i]];
        }
      }
      std::vector<ExpectedCm> cms;
      if (labels)
        for (size_t c = 0; c < k; ++c) cms.push_back(Expected(predk[c], pc[c]));
      size_t si = 0;
      for (const auto& m : metrics) {
        auto undefined_if_empty = [&](Estimate* est) {
          if (rows.empty()) {
            est->value = kNaN;
            est->se = kNaN;
            est->reason = labels ? "no rows with both predicted probabilities and a predicted label"
                                 : "no rows with predicted probabilities";
          }
        };
        if (m == "confusion_matrix" && multiclass) {
          // Expected ratios: the mean over the rows of p_ti where pj is predicted.
          std::vector<double> ratio = ExpectedSums(predk, pc);
          for (double& r : ratio) r /= n;
          const std::vector<MetricValue> cells = NormalizeMulticlassCells(ratio, k, norm, n);
          // Realized cells (nannyML: undefined when the targets or labels hold one class).
          const std::vector<MetricValue> real_cells =
              RealizedMulticlassCells(sub(y), sub(pred), k, norm);
          for (size_t c = 0; c < k * k; ++c) {
            Estimate est{cells[c].value, cells[c].reason, CellSamplingError(mc_cell_se[c], n, norm),
                         real_cells[c].value};
            undefined_if_empty(&est);
            Add(&series[si++], periods[per], ch, target, est);
          }
          continue;
        }
        if (m == "confusion_matrix") {
          const ExpectedCm& c = cms[0];
          const std::array<MetricValue, 4> cells =
              EstimatedBinaryCells(c.tp, c.tn, c.fp, c.fn, n, norm);
          const std::array<MetricValue, 4> real_cells = RealizedBinaryCells(
              Realized(real_infos, real, "true_positive_count"),
              Realized(real_infos, real, "true_negative_count"),
              Realized(real_infos, real, "false_positive_count"),
              Realized(real_infos, real, "false_negative_count"), norm, "");
          for (int cell = 0; cell < 4; ++cell) {
            Estimate est{cells[cell].value, cells[cell].reason,
                         CellSamplingError(cell_se[cell], n, norm), real_cells[cell].value};
            undefined_if_empty(&est);
            Add(&series[si++], periods[per], ch, target, est);
          }
          continue;
        }
        Estimate est;
        if (m == "business_value") {
          // nannyML's expected matrix: binary [[TN, FP], [FN, TP]] ratios (np.mean) times n;
          // multiclass Σ over rows predicted b of the calibrated probability of a.
          std::vector<double> cm;
          if (multiclass) {
            cm = ExpectedSums(predk, pc);
          } else {
            const ExpectedCm& c = cms[0];
            cm = {c.tn / n * n, c.fp / n * n, c.fn / n * n, c.tp / n * n};
          }
          est.value = BusinessValueOf(std::move(cm), *spec.business_value,
                                      spec.business_value_per_prediction);
          est.se = spec.business_value_per_prediction ? bv_std / std::sqrt(n)
                                                      : bv_std * n / std::sqrt(n);
          est.realized = RealizedBusinessValue(sub(y), sub(pred), *spec.business_value,
                                               spec.business_value_per_prediction);
        } else if (m == "average_precision") {
          est.value = EstimateAveragePrecision(pc[0], pu[0]);
          if (std::isnan(est.value))
            est.reason = "the expected positives are zero in this chunk";
          const SeComponents& c = bin_se["average_precision"];
          est.se = c.std * std::sqrt(c.fraction / n);
          est.realized = Realized(real_infos, real, "average_precision");
        } else if (m == "roc_auc") {
          double sum = 0;
          for (size_t c = 0; c < k && est.reason.empty(); ++c) {
            double a = EstimateRocAuc(pc[c], pu[c]);
            if (std::isnan(a))
              est.reason = "the expected positives or negatives are zero in this chunk";
            sum += a;
          }
          est.value = est.reason.empty() ? sum / static_cast<double>(k) : kNaN;
          est.se = multiclass ? MulticlassSamplingError(mc_se["roc_auc"], n, 1.2)
                              : UniversalSamplingError(bin_se["roc_auc"], n);
          est.realized = Realized(real_infos, real, "roc_auc");
        } else if (m == "accuracy") {
          if (multiclass) {
            std::vector<double> pp(rows.size(), 0.0);
            for (size_t c = 0; c < k; ++c)
              for (size_t i = 0; i < rows.size(); ++i)
                pp[i] = std::max(pp[i], predk[c][i] * pc[c][i]);
            est.value = Mean(pp);
            est.se = accuracy_std / std::sqrt(n);
          } else {
            est.value = (cms[0].tp + cms[0].tn) / n;
            est.se = UniversalSamplingError(bin_se["accuracy"], n);
          }
          est.realized = Realized(real_infos, real, "accuracy");
        } else {  // f1, precision, recall, specificity
          double sum = 0;
          for (size_t c = 0; c < k && est.reason.empty(); ++c) {
            auto [v, why] = CmMetric(m, cms[c]);
            if (!why.empty())
              est.reason = multiclass ? fmt::format("class '{}': {}",
                                                    std::next(cfg.y_pred_proba_classes.begin(), c)->first, why)
                                      : why;
            sum += v;
          }
          est.value = est.reason.empty() ? sum / static_cast<double>(k) : kNaN;
          est.se = multiclass ? MulticlassSamplingError(mc_se[m], n)
                              : UniversalSamplingError(bin_se[m], n);
          est.realized = Realized(real_infos, real, m);
        }
        undefined_if_empty(&est);
        Add(&series[si++], periods[per], ch, target, est);
      }
    }
  }
  std::vector<Record> out;
  for (auto& s : series) Finish(&s, &out);
  return out;
}

}  // namespace cairn::monitor
