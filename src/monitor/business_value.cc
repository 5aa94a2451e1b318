#include "monitor/business_value.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "monitor/performance.h"
#include "monitor/statistics.h"
#include "monitor/thresholds.h"

namespace cairn::monitor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kNoTargets = "no row of the chunk has both a target and a prediction";

struct ChunkFigures {
  double predicted = 0, positives = 0, amount = 0, without_amount = 0, pnl = 0;
};

ChunkFigures Tally(const BusinessValueSpec& spec, std::span<const double> y,
                   std::span<const double> yhat, std::span<const double> amount) {
  ChunkFigures f;
  for (size_t i = 0; i < yhat.size(); ++i) {
    if (std::isnan(yhat[i])) continue;
    const int p = yhat[i] == 1;
    f.predicted += 1;
    const bool has_amount = !amount.empty() && std::isfinite(amount[i]);
    if (p) {
      f.positives += 1;
      if (has_amount)
        f.amount += amount[i];
      else if (!amount.empty())
        f.without_amount += 1;
    }
    if (std::isnan(y[i])) continue;
    const int t = y[i] == 1;
    if (spec.amount_matrix && has_amount) f.pnl += amount[i] * (*spec.amount_matrix)[t][p];
  }
  return f;
}

}  // namespace

double BusinessValueOf(std::vector<double> cm, const SquareMatrix& v, bool per_prediction) {
  const size_t k = v.size();
  if (per_prediction) {
    for (size_t j = 0; j < k; ++j) {
      double column = 0;
      for (size_t i = 0; i < k; ++i) column += cm[i * k + j];
      for (size_t i = 0; i < k; ++i) cm[i * k + j] = column != 0 ? cm[i * k + j] / column : 0;
    }
  }
  std::vector<double> terms(k * k);
  for (size_t i = 0; i < k; ++i)
    for (size_t j = 0; j < k; ++j) terms[i * k + j] = v[i][j] * cm[i * k + j];
  return PairwiseSum(terms);
}

double RealizedBusinessValue(std::span<const double> y, std::span<const double> pred,
                             const SquareMatrix& v, bool per_prediction) {
  const size_t k = v.size();
  std::vector<double> cm(k * k, 0);
  bool any = false;
  for (size_t i = 0; i < y.size(); ++i) {
    if (std::isnan(y[i]) || std::isnan(pred[i])) continue;
    cm[static_cast<size_t>(y[i]) * k + static_cast<size_t>(pred[i])] += 1;
    any = true;
  }
  return any ? BusinessValueOf(std::move(cm), v, per_prediction) : kNaN;
}

StatusOr<std::vector<Record>> ComputeBusinessValue(const MonitorConfig& cfg, const Table& rt,
                                                   const std::vector<Chunk>& rc, const Table& at,
                                                   const std::vector<Chunk>& ac) {
  const BusinessValueSpec& spec = *cfg.outcomes.business_value;
  const bool multiclass = !cfg.y_pred_proba_classes.empty();
  if ((cfg.y_pred_proba.empty() && !multiclass) || cfg.y_pred.empty()) {
    return InvalidArgument(
        fmt::format("{}: business_value needs a classifier with predicted labels "
                    "(model_outputs.y_pred_proba and model_outputs.y_pred)",
                    cfg.config_path));
  }
  const Table* tables[2] = {&rt, &at};
  const std::vector<Chunk>* chunks[2] = {&rc, &ac};
  for (const Table* t : tables) {
    if (t->Find(kPredColumn) == nullptr || t->Find(kTargetColumn) == nullptr) {
      return InvalidArgument(fmt::format(
          "{}: business_value needs the target and y_pred ('target' and 'model_outputs')",
          cfg.config_path));
    }
    if (!spec.amount_column.empty()) {
      const Column* c = t->Find(spec.amount_column);
      if (c == nullptr) {
        return NotFound(fmt::format("{}: no column '{}' (business_value.amount_column)", t->source,
                                    spec.amount_column));
      }
      if (c->type != ColumnType::kContinuous) {
        return InvalidArgument(fmt::format(
            "{}: business_value.amount_column '{}' must be numeric, but it holds {} values",
            t->source, spec.amount_column, ColumnTypeName(c->type)));
      }
    }
  }
  const std::string target = TargetName(cfg);
  const bool amounts = !spec.amount_column.empty();
  const bool pnl = spec.amount_matrix.has_value() || spec.target.has_value();
  std::vector<std::string> metrics = {"business_value", "business_value_per_prediction"};
  if (!multiclass) metrics.push_back("positive_decisions");
  if (amounts) metrics.push_back("amount_sum");
  if (pnl) metrics.push_back("profit_and_loss");
  std::vector<std::vector<Record>> by_metric(metrics.size());
  std::vector<std::vector<double>> ref_values(metrics.size());
  const auto& v = spec.matrix;
  for (int p = 0; p < 2; ++p) {
    const Table& t = *tables[p];
    std::span<const double> y = t.Find(kTargetColumn)->numbers;
    std::span<const double> yhat = t.Find(kPredColumn)->numbers;
    std::span<const double> amount;
    if (amounts) amount = t.Find(spec.amount_column)->numbers;
    for (const Chunk& ch : *chunks[p]) {
      auto sub = [&](std::span<const double> s) {
        return s.empty() ? s : s.subspan(ch.begin, ch.size());
      };
      // Portfolio figures (binary: a multiclass model has no positive decisions).
      const ChunkFigures f =
          multiclass ? ChunkFigures{} : Tally(spec, sub(y), sub(yhat), sub(amount));
      const double total = RealizedBusinessValue(sub(y), sub(yhat), v, false);
      const double per_prediction = RealizedBusinessValue(sub(y), sub(yhat), v, true);
      const bool labelled = !std::isnan(total);
      for (size_t m = 0; m < metrics.size(); ++m) {
        Record r =
            MakeRecord(p == 0 ? "reference" : "analysis", ch, target, metrics[m], "business_value");
        const std::string& name = metrics[m];
        if (name == "business_value" || name == "business_value_per_prediction") {
          r.value = name == "business_value" ? total : per_prediction;
          if (!labelled) r.reason = kNoTargets;
        } else if (name == "positive_decisions") {
          r.value = f.positives;
        } else if (name == "amount_sum") {
          r.value = f.amount;
          if (f.without_amount > 0) r.details.emplace_back("rows_without_amount", f.without_amount);
        } else {  // profit_and_loss
          const double value = spec.amount_matrix ? f.pnl : total;
          r.value = labelled ? value : kNaN;
          if (!labelled) r.reason = kNoTargets;
          if (spec.target) {
            r.lower = *spec.target;
            r.details.emplace_back("vs_target", r.value - *spec.target);
            r.alert = !std::isnan(r.value) && r.value < *spec.target;
          }
        }
        if (p == 0) ref_values[m].push_back(r.value);
        by_metric[m].push_back(std::move(r));
      }
    }
  }
  // nannyML's StandardDeviationThreshold on the two business values, or the configured
  // performance.thresholds.business_value.
  const ThresholdSpec std_spec = MetricThresholdFor(cfg.performance.thresholds, "business_value");
  std::vector<Record> out;
  for (size_t m = 0; m < metrics.size(); ++m) {
    const bool thresholded = m < 2;
    Bounds b;
    if (thresholded) b = ComputeThresholds(std_spec, ref_values[m], std::nullopt, std::nullopt);
    for (auto& r : by_metric[m]) {
      if (thresholded) {
        r.lower = b.lower;
        r.upper = b.upper;
        r.alert = IsAlert(r.value, b);
      }
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace cairn::monitor
