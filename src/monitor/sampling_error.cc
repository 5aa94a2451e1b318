#include "monitor/sampling_error.h"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <limits>
#include <numeric>

#include "monitor/statistics.h"

namespace cairn::monitor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Counts of TP, TN, FP, FN (integer sums, without a branch per row).
std::array<double, 4> Cells(std::span<const double> y, std::span<const double> p) {
  int64_t tp = 0, fp = 0, fn = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const int64_t t = y[i] == 1, q = p[i] == 1;
    tp += t & q;
    fp += q & (1 - t);
    fn += t & (1 - q);
  }
  const int64_t tn = static_cast<int64_t>(y.size()) - tp - fp - fn;
  return {static_cast<double>(tp), static_cast<double>(tn), static_cast<double>(fp),
          static_cast<double>(fn)};
}

// Population std of a vector holding `ones` values v and `zeros` zeros (nannyML builds these
// vectors explicitly and calls np.std).
double StdOfTwoValues(double ones, double zeros, double v = 1.0) {
  const double m = ones + zeros;
  if (m == 0) return kNaN;
  const double mean = ones * v / m;
  return std::sqrt((ones * (v - mean) * (v - mean) + zeros * mean * mean) / m);
}

double Var(double std) { return std * std; }

// nannyML's AUROC components: rank the scores ascending (labels flipped when positives are the
// majority), take the positive ranks without the first unique value of positive·rank (0), and
// the std (or variance) of (rank_i − i) / n_negative.
SeComponents Auroc(std::span<const double> y_true, std::span<const double> proba, bool variance) {
  const size_t n = y_true.size();
  if (n == 0) return {kNaN, 0};
  double pos = 0;
  for (double y : y_true) pos += y;
  const bool flip = pos / static_cast<double>(n) > 0.5;
  std::vector<double> score(n);
  std::vector<char> label(n);
  for (size_t i = 0; i < n; ++i) {
    score[i] = flip ? 1 - proba[i] : proba[i];
    label[i] = static_cast<char>(flip ? y_true[i] != 1 : y_true[i] == 1);
  }
  const std::vector<uint32_t> order = StableOrder(score);
  std::vector<double> ser;
  double n_pos = 0;
  for (size_t r = 0; r < n; ++r) {
    if (!label[order[r]]) continue;
    n_pos += 1;
    if (r == 0) continue;  // rank 0 merges with the negatives' zeros and is dropped
    ser.push_back(static_cast<double>(r) - static_cast<double>(ser.size()));
  }
  const double n_neg = static_cast<double>(n) - n_pos;
  if (ser.empty() || n_neg == 0) return {kNaN, n_pos / static_cast<double>(n)};
  for (double& s : ser) s /= n_neg;
  double sd = PopulationStd(ser);
  return {variance ? Var(sd) : sd, n_pos / static_cast<double>(n)};
}

}  // namespace

double PopulationStd(std::span<const double> x) {
  if (x.empty()) return kNaN;
  const double mean = PairwiseSum(x) / static_cast<double>(x.size());
  std::vector<double> sq(x.size());
  for (size_t i = 0; i < x.size(); ++i) sq[i] = (x[i] - mean) * (x[i] - mean);
  return std::sqrt(PairwiseSum(sq) / static_cast<double>(x.size()));
}

double UniversalSamplingError(const SeComponents& c, double n) {
  return c.std / std::sqrt(n * c.fraction);
}

SeComponents BinaryAurocComponents(std::span<const double> y_true, std::span<const double> proba) {
  return Auroc(y_true, proba, false);
}

SeComponents BinaryF1Components(std::span<const double> y, std::span<const double> p) {
  auto [tp, tn, fp, fn] = Cells(y, p);
  const double len = tp + fp + fn;
  if (len == 0) return {kNaN, 0};
  const double factor = len / ((fn + fp) * 0.5 + tp);
  return {StdOfTwoValues(tp, fn + fp, factor), len / static_cast<double>(y.size())};
}

SeComponents BinaryPrecisionComponents(std::span<const double> y, std::span<const double> p) {
  auto [tp, tn, fp, fn] = Cells(y, p);
  return {StdOfTwoValues(tp, fp), (tp + fp) / static_cast<double>(y.size())};
}

SeComponents BinaryRecallComponents(std::span<const double> y, std::span<const double> p) {
  auto [tp, tn, fp, fn] = Cells(y, p);
  return {StdOfTwoValues(tp, fn), (tp + fn) / static_cast<double>(y.size())};
}

SeComponents BinarySpecificityComponents(std::span<const double> y, std::span<const double> p) {
  auto [tp, tn, fp, fn] = Cells(y, p);
  return {StdOfTwoValues(tn, fp), (tn + fp) / static_cast<double>(y.size())};
}

SeComponents BinaryAccuracyComponents(std::span<const double> y, std::span<const double> p) {
  auto [tp, tn, fp, fn] = Cells(y, p);
  return {StdOfTwoValues(tp + tn, fp + fn), 1.0};
}

SeComponents BinaryConfusionCellComponents(std::span<const double> y, std::span<const double> p,
                                           int cell, int normalized_by) {
  // The cell sharing the true class (row) and the predicted class (column) of each cell.
  static constexpr int kSameTruth[4] = {3, 2, 1, 0}, kSamePrediction[4] = {2, 3, 0, 1};
  auto c = Cells(y, p);
  const double all = static_cast<double>(y.size());
  const double rows = normalized_by == 0   ? all
                      : normalized_by == 1 ? c[cell] + c[kSameTruth[cell]]
                                           : c[cell] + c[kSamePrediction[cell]];
  return {StdOfTwoValues(c[cell], rows - c[cell]), rows / all};
}

std::vector<SeComponents> MulticlassConfusionCellComponents(const std::vector<double>& counts,
                                                            size_t k, int normalized_by) {
  std::vector<double> row(k, 0), col(k, 0);
  double all = 0;
  for (size_t i = 0; i < k; ++i)
    for (size_t j = 0; j < k; ++j) {
      row[i] += counts[i * k + j];
      col[j] += counts[i * k + j];
      all += counts[i * k + j];
    }
  std::vector<SeComponents> out(k * k);
  for (size_t i = 0; i < k; ++i)
    for (size_t j = 0; j < k; ++j) {
      const double c = counts[i * k + j];
      const double rows = normalized_by == 0 ? all : normalized_by == 1 ? row[i] : col[j];
      out[i * k + j] = {StdOfTwoValues(c, rows - c), rows / all};
    }
  return out;
}

double BusinessValueStd(std::span<const double> y, std::span<const double> p,
                        const std::vector<std::vector<double>>& m, int ddof) {
  std::vector<double> v(y.size());
  for (size_t i = 0; i < y.size(); ++i)
    v[i] = m[static_cast<size_t>(y[i])][static_cast<size_t>(p[i])];
  const double n = static_cast<double>(v.size());
  if (n <= ddof) return kNaN;
  const double sd = PopulationStd(v);
  return ddof == 0 ? sd : std::sqrt(sd * sd * n / (n - ddof));
}

double MulticlassSamplingError(const std::vector<SeComponents>& per_class, double n,
                               double factor) {
  double sum = 0;
  for (const auto& c : per_class) sum += c.std / (n * c.fraction);
  return std::sqrt(sum) / static_cast<double>(per_class.size()) * factor;
}

SeComponents MulticlassAurocClassComponents(std::span<const double> y_true_k,
                                            std::span<const double> score_k) {
  return Auroc(y_true_k, score_k, true);
}

SeComponents MulticlassF1ClassComponents(std::span<const double> y, std::span<const double> p) {
  auto [tp, tn, fp, fn] = Cells(y, p);
  return {Var(StdOfTwoValues(tp, fn + fp)), (tp + fn + fp) / static_cast<double>(y.size())};
}

SeComponents MulticlassPrecisionClassComponents(std::span<const double> y,
                                                std::span<const double> p) {
  auto [tp, tn, fp, fn] = Cells(y, p);
  return {Var(StdOfTwoValues(tp, fp)), (tp + fp) / static_cast<double>(y.size())};
}

SeComponents MulticlassRecallClassComponents(std::span<const double> y,
                                             std::span<const double> p) {
  auto [tp, tn, fp, fn] = Cells(y, p);
  return {Var(StdOfTwoValues(tp, fn)), (tp + fn) / static_cast<double>(y.size())};
}

SeComponents MulticlassSpecificityClassComponents(std::span<const double> y,
                                                  std::span<const double> p) {
  auto [tp, tn, fp, fn] = Cells(y, p);
  return {Var(StdOfTwoValues(tn, fp)), (tn + fp) / static_cast<double>(y.size())};
}

RegressionSe RegressionSeComponents(std::span<const double> y, std::span<const double> p) {
  const size_t n = y.size();
  std::vector<double> ae(n), ape(n), se(n), sle(n);
  for (size_t i = 0; i < n; ++i) {
    const double d = y[i] - p[i];
    ae[i] = std::abs(d);
    ape[i] = std::abs(d) / y[i];
    se[i] = d * d;
    const double l = std::log(1 + y[i]) - std::log(1 + p[i]);
    sle[i] = l * l;
  }
  RegressionSe c;
  c.mae = PopulationStd(ae);
  c.mape = PopulationStd(ape);
  c.mse = PopulationStd(se);
  c.msle = PopulationStd(sle);
  c.se_mean = n ? PairwiseSum(se) / static_cast<double>(n) : kNaN;
  c.sle_mean = n ? PairwiseSum(sle) / static_cast<double>(n) : kNaN;
  return c;
}

double RegressionSamplingError(const RegressionSe& c, const char* metric, double n) {
  const std::string_view m(metric);
  if (m == "mae") return c.mae / std::sqrt(n);
  if (m == "mape") return c.mape / std::sqrt(n);
  if (m == "mse") return c.mse / std::sqrt(n);
  if (m == "msle") return c.msle / std::sqrt(n);
  if (m == "rmse") return std::sqrt(c.mse * c.mse / (4 * n * c.se_mean));
  if (m == "rmsle") return std::sqrt(c.msle * c.msle / (4 * n * c.sle_mean));
  return kNaN;
}

}  // namespace cairn::monitor
