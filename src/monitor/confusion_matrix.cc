#include "monitor/confusion_matrix.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "monitor/statistics.h"

namespace cairn::monitor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kCellNames[4] = {"true_positive", "true_negative", "false_positive",
                                       "false_negative"};
// The binary cell sharing each cell's true class (row) and predicted class (column).
constexpr int kSameTruth[4] = {3, 2, 1, 0}, kSamePrediction[4] = {2, 3, 0, 1};

const char* Denominator(CmNormalization n) {
  return n == CmNormalization::kTrue   ? "the cell's true class has no rows in this chunk"
         : n == CmNormalization::kPred ? "the cell's predicted class has no rows in this chunk"
                                       : "the chunk has no rows";
}

MetricValue Divide(double num, double den, CmNormalization n) {
  if (den == 0) return {kNaN, Denominator(n)};
  return {num / den, ""};
}

}  // namespace

const char* CmSuffix(CmNormalization n) {
  switch (n) {
    case CmNormalization::kAll:
      return "norm_all";
    case CmNormalization::kTrue:
      return "norm_true";
    case CmNormalization::kPred:
      return "norm_pred";
    default:
      return "count";
  }
}

bool IsConfusionCell(const std::string& m) {
  if (m.ends_with("_norm_all") || m.ends_with("_norm_true") || m.ends_with("_norm_pred"))
    return true;
  if (!m.ends_with("_count")) return false;
  for (const char* c : kCellNames)
    if (m == std::string(c) + "_count") return true;
  return m.starts_with("true_") && m.find("_pred_") != std::string::npos;
}

std::optional<double> CmUpperLimit(CmNormalization n) {
  if (n == CmNormalization::kNone) return std::nullopt;
  return 1.0;
}

std::array<std::string, 4> BinaryCellNames(CmNormalization n) {
  std::array<std::string, 4> out;
  for (int c = 0; c < 4; ++c) out[c] = fmt::format("{}_{}", kCellNames[c], CmSuffix(n));
  return out;
}

std::array<MetricValue, 4> RealizedBinaryCells(double tp, double tn, double fp, double fn,
                                               CmNormalization n,
                                               const std::string& undefined_reason) {
  const double v[4] = {tp, tn, fp, fn};
  std::array<MetricValue, 4> out;
  for (int c = 0; c < 4; ++c) {
    if (std::isnan(v[c])) {
      out[c] = {kNaN, undefined_reason};
    } else if (n == CmNormalization::kNone) {
      out[c] = {v[c], ""};
    } else if (n == CmNormalization::kAll) {
      out[c] = Divide(v[c], tp + tn + fp + fn, n);
    } else {
      const int other = n == CmNormalization::kTrue ? kSameTruth[c] : kSamePrediction[c];
      out[c] = Divide(v[c], v[c] + v[other], n);
    }
  }
  return out;
}

std::array<MetricValue, 4> EstimatedBinaryCells(double tp, double tn, double fp, double fn,
                                                double n, CmNormalization norm) {
  // nannyML: the ratios are np.mean of the per-row expected cells, i.e. Σ / n.
  const double r[4] = {tp / n, tn / n, fp / n, fn / n};
  std::array<MetricValue, 4> out;
  for (int c = 0; c < 4; ++c) {
    if (norm == CmNormalization::kNone) {
      out[c] = {r[c] * n, ""};
    } else if (norm == CmNormalization::kAll) {
      out[c] = {r[c], ""};
    } else {
      const int other = norm == CmNormalization::kTrue ? kSameTruth[c] : kSamePrediction[c];
      const double den = r[c] + r[other];
      out[c] = den == 0 ? MetricValue{kNaN, Denominator(norm)}
                        : MetricValue{r[c] * (1 / den), ""};
    }
  }
  return out;
}

std::vector<MetricValue> NormalizeMulticlassCells(const std::vector<double>& m, size_t k,
                                                  CmNormalization norm, double scale) {
  std::vector<MetricValue> out(k * k);
  // numpy sums a row (axis=1) or a column (axis=0) of a small matrix left to right; the total
  // (axis=None) pairwise.
  const double total = PairwiseSum(m);
  for (size_t i = 0; i < k; ++i) {
    for (size_t j = 0; j < k; ++j) {
      const double v = m[i * k + j];
      double den = 0;
      switch (norm) {
        case CmNormalization::kNone:
          out[i * k + j] = {v * scale, ""};
          continue;
        case CmNormalization::kAll:
          den = total;
          break;
        case CmNormalization::kTrue:
          for (size_t b = 0; b < k; ++b) den += m[i * k + b];
          break;
        case CmNormalization::kPred:
          for (size_t a = 0; a < k; ++a) den += m[a * k + j];
          break;
      }
      out[i * k + j] = Divide(v, den, norm);
    }
  }
  return out;
}

std::vector<MetricValue> RealizedMulticlassCells(std::span<const double> y,
                                                 std::span<const double> pred, size_t k,
                                                 CmNormalization norm) {
  std::vector<double> cm(k * k, 0);
  std::vector<bool> seen_t(k), seen_p(k);
  size_t rows = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    if (std::isnan(y[i]) || std::isnan(pred[i])) continue;
    const size_t t = static_cast<size_t>(y[i]), p = static_cast<size_t>(pred[i]);
    cm[t * k + p] += 1;
    seen_t[t] = seen_p[p] = true;
    ++rows;
  }
  std::string why;
  if (rows == 0) {
    why = "no rows with a known target in the chunk";
  } else if (std::count(seen_t.begin(), seen_t.end(), true) <= 1) {
    why = "the chunk's targets hold a single class";
  } else if (std::count(seen_p.begin(), seen_p.end(), true) <= 1) {
    why = "the chunk's predictions hold a single class";
  }
  if (!why.empty()) return std::vector<MetricValue>(k * k, MetricValue{kNaN, why});
  return NormalizeMulticlassCells(cm, k, norm, 1);
}

int CmNormalizedBy(CmNormalization n) {
  return n == CmNormalization::kTrue ? 1 : n == CmNormalization::kPred ? 2 : 0;
}

double CellSamplingError(const SeComponents& c, double n, CmNormalization norm) {
  if (norm == CmNormalization::kNone) return c.std / std::sqrt(n) * n;
  return c.std / std::sqrt(n * c.fraction);
}

}  // namespace cairn::monitor
