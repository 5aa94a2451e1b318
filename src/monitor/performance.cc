#include "monitor/performance.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "monitor/calibration.h"
#include "monitor/confusion_matrix.h"
#include "monitor/statistics.h"
#include "monitor/thresholds.h"

namespace cairn::monitor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kNotComputed = "not computed (loss_and_calibration is off)";

MetricValue Undefined(std::string reason) { return {kNaN, std::move(reason)}; }
MetricValue Value(double v) { return {v, ""}; }
MetricValue Ratio(double num, double den, const char* what) {
  if (den == 0) return Undefined(fmt::format("{} is zero in this chunk", what));
  return Value(num / den);
}

// 1-based file line of a table row (header on line 1), assuming one line per record.
std::string Where(const Table& t, size_t row, const std::string& column) {
  if (t.skipped_rows == 0) return fmt::format("{}:{}: column '{}'", t.source, row + 2, column);
  return fmt::format("{}: data row {}, column '{}'", t.source, row + 1, column);
}

// The numeric values of a column: numbers, boolean codes (False 0, True 1), or categorical
// labels that parse as numbers. NaN for a missing value.
StatusOr<std::vector<double>> Numeric(const Table& t, const Column& c) {
  std::vector<double> out(c.size(), kNaN);
  switch (c.type) {
    case ColumnType::kContinuous:
      return c.numbers;
    case ColumnType::kBoolean:
      for (size_t i = 0; i < c.size(); ++i)
        if (c.codes[i] != kMissingCode) out[i] = c.codes[i];
      return out;
    case ColumnType::kCategorical: {
      std::vector<double> dict(c.dictionary.size());
      std::vector<bool> ok(c.dictionary.size());
      for (size_t k = 0; k < dict.size(); ++k) ok[k] = ParseNumber(c.dictionary[k], &dict[k]);
      for (size_t i = 0; i < c.size(); ++i) {
        if (c.codes[i] == kMissingCode) continue;
        if (!ok[c.codes[i]]) {
          return InvalidArgument(fmt::format("{} holds '{}', which is not a number or True/False",
                                             Where(t, i, c.name), c.dictionary[c.codes[i]]));
        }
        out[i] = dict[c.codes[i]];
      }
      return out;
    }
    case ColumnType::kTimestamp:
      break;
  }
  return InvalidArgument(fmt::format(
      "{}: column '{}' holds timestamps, not model outputs or targets", t.source, c.name));
}

Status CheckRange(const Table& t, const std::string& column, const std::vector<double>& v,
                  bool binary_only, size_t first_row_offset = 0) {
  for (size_t i = 0; i < v.size(); ++i) {
    double x = v[i];
    if (std::isnan(x)) continue;
    if (binary_only ? (x != 0 && x != 1) : !(x >= 0 && x <= 1)) {
      return InvalidArgument(fmt::format(
          "{} holds {}, {}", Where(t, i + first_row_offset, column), x,
          binary_only
              ? "but a binary classifier's targets and labels must be 0 or 1 (or False/True)"
              : "a probability outside [0, 1]"));
    }
  }
  return OkStatus();
}

StatusOr<Table> ReadColumns(DataSource& src, std::vector<std::string> columns,
                            std::map<std::string, ColumnType> types, BadRowPolicy policy) {
  ReadOptions o;
  o.columns = std::move(columns);
  o.types = std::move(types);
  o.on_bad_rows = policy;
  return src.Read(o);
}

void AddNumeric(Table* t, const char* name, std::vector<double> values) {
  Column c;
  c.name = name;
  c.type = ColumnType::kContinuous;
  c.numbers = std::move(values);
  t->columns.push_back(std::move(c));
}

double Mean(std::vector<double>& v) { return PairwiseSum(v) / static_cast<double>(v.size()); }

// Class index (into the sorted `classes`) of every cell, NaN when missing. Labels are compared
// as text (numbers in fmt's shortest form, booleans as False/True).
StatusOr<std::vector<double>> LabelCodes(const Table& t, const Column& c,
                                         const std::vector<std::string>& classes) {
  std::vector<double> out(c.size(), kNaN);
  auto index_of = [&](const std::string& label, size_t row) -> StatusOr<double> {
    auto it = std::lower_bound(classes.begin(), classes.end(), label);
    if (it == classes.end() || *it != label) {
      return InvalidArgument(fmt::format(
          "{} holds '{}', which is not one of the classes of model_outputs.y_pred_proba ({})",
          Where(t, row, c.name), label, fmt::join(classes, ", ")));
    }
    return static_cast<double>(it - classes.begin());
  };
  if (c.type == ColumnType::kContinuous) {
    for (size_t i = 0; i < c.size(); ++i) {
      if (std::isnan(c.numbers[i])) continue;
      ASSIGN_OR_RETURN(out[i], index_of(fmt::format("{}", c.numbers[i]), i));
    }
    return out;
  }
  if (c.type == ColumnType::kTimestamp) {
    return InvalidArgument(
        fmt::format("{}: column '{}' holds timestamps, not class labels", t.source, c.name));
  }
  std::vector<double> dict(c.dictionary.size(), -1);
  for (size_t i = 0; i < c.size(); ++i) {
    int32_t k = c.codes[i];
    if (k == kMissingCode) continue;
    if (dict[k] < 0) {
      ASSIGN_OR_RETURN(dict[k], index_of(c.dictionary[k], i));
    }
    out[i] = dict[k];
  }
  return out;
}

std::vector<std::string> ClassLabels(const MonitorConfig& cfg) {
  std::vector<std::string> labels;
  for (const auto& [label, column] : cfg.y_pred_proba_classes) labels.push_back(label);
  return labels;  // std::map order: sorted, as nannyML's class_labels
}

std::string ProbaColumn(size_t k) { return fmt::format("__cairn_y_pred_proba_{}", k); }

// A realized metric's threshold: its own entry, else (a confusion-matrix count) the
// confusion_matrix entry, else nannyML's default.
ThresholdSpec RealizedThreshold(const MetricThresholds& thresholds, const std::string& metric) {
  if (thresholds.count(metric)) return thresholds.at(metric);
  const bool cell = IsConfusionCell(metric);
  return MetricThresholdFor(thresholds, cell ? "confusion_matrix" : metric);
}

}  // namespace

RankMetricValues RankMetrics(std::span<const double> score, std::span<const double> label,
                             std::span<const uint32_t> ascending, double positives,
                             double negatives) {
  // The thresholds are walked from the highest score down (the ascending order backwards);
  // within a group of equal scores only the counts matter.
  double tp = 0, fp = 0, prev_tp = 0, prev_fp = 0, area = 0, apsum = 0;
  for (size_t i = ascending.size(); i > 0;) {
    const double threshold = score[ascending[i - 1]];
    size_t j = i;
    while (j > 0 && score[ascending[j - 1]] == threshold) {
      if (label[ascending[j - 1]] == 1)
        tp += 1;
      else
        fp += 1;
      --j;
    }
    area += (fp - prev_fp) * (tp + prev_tp) / 2;
    apsum += (tp - prev_tp) / positives * (tp / (tp + fp));
    prev_tp = tp;
    prev_fp = fp;
    i = j;
  }
  return {area / (positives * negatives), apsum};
}

StatusOr<std::vector<double>> PredictedClassCodes(const MonitorConfig& cfg, const Table& t) {
  const Column* c = t.Find(cfg.y_pred);
  if (c == nullptr) return NotFound(fmt::format("{}: no column '{}'", t.source, cfg.y_pred));
  return LabelCodes(t, *c, ClassLabels(cfg));
}

std::string TargetName(const MonitorConfig& cfg) {
  if (!cfg.target_column.empty()) return cfg.target_column;
  if (cfg.targets && !cfg.targets->column.empty()) return cfg.targets->column;
  return "";
}

std::vector<MetricInfo> MulticlassMetricInfos() {
  std::vector<MetricInfo> m;
  for (const char* n : {"roc_auc", "f1", "precision", "recall", "specificity", "accuracy",
                        "f1_weighted", "precision_weighted", "recall_weighted"})
    m.push_back({n, "performance", 0.0, 1.0});
  return m;
}

std::vector<MetricValue> MulticlassMetrics(std::span<const double> y_true,
                                           const std::vector<std::span<const double>>& proba,
                                           std::span<const double> y_pred) {
  const size_t k = proba.size();
  std::vector<MetricValue> out;
  // One-vs-rest macro ROC AUC over rows with a target and every probability.
  std::vector<std::vector<double>> scores(k), labels(k);
  std::vector<double> support(k, 0);
  for (size_t i = 0; i < y_true.size(); ++i) {
    if (std::isnan(y_true[i])) continue;
    bool ok = true;
    for (size_t c = 0; c < k && ok; ++c) ok = !std::isnan(proba[c][i]);
    if (!ok) continue;
    size_t t = static_cast<size_t>(y_true[i]);
    support[t] += 1;
    for (size_t c = 0; c < k; ++c) {
      scores[c].push_back(proba[c][i]);
      labels[c].push_back(t == c ? 1.0 : 0.0);
    }
  }
  if (scores[0].empty()) {
    out.push_back(Undefined("no rows with a known target in the chunk"));
  } else {
    size_t absent = 0;
    for (size_t c = 0; c < k; ++c) absent += support[c] == 0;
    if (absent > 0) {
      out.push_back(Undefined(
          fmt::format("the chunk's targets do not hold every class ({} of {} classes absent); "
                      "one-vs-rest ROC AUC is undefined",
                      absent, k)));
    } else {
      double sum = 0;
      double n = static_cast<double>(scores[0].size());
      for (size_t c = 0; c < k; ++c) {
        sum += RankMetrics(scores[c], labels[c], StableOrder(scores[c]), support[c],
                           n - support[c])
                   .roc_auc;
      }
      out.push_back(Value(sum / k));
    }
  }
  // Label metrics: per-class TP/FP/FN over rows with a target and a prediction.
  std::vector<double> tp(k, 0), fp(k, 0), fn(k, 0), sup(k, 0);
  double m = 0, correct = 0;
  std::vector<bool> seen_true(k), seen_pred(k);
  for (size_t i = 0; i < y_true.size(); ++i) {
    if (std::isnan(y_true[i]) || std::isnan(y_pred[i])) continue;
    size_t t = static_cast<size_t>(y_true[i]), p = static_cast<size_t>(y_pred[i]);
    m += 1;
    sup[t] += 1;
    seen_true[t] = true;
    seen_pred[p] = true;
    if (t == p) {
      tp[t] += 1;
      correct += 1;
    } else {
      fp[p] += 1;
      fn[t] += 1;
    }
  }
  if (m == 0) {
    for (int j = 0; j < 8; ++j)
      out.push_back(Undefined("no rows with a known target in the chunk"));
    return out;
  }
  auto count = [](const std::vector<bool>& v) { return std::count(v.begin(), v.end(), true); };
  std::string single;
  if (count(seen_true) <= 1) {
    single = "the chunk's targets hold a single class";
  } else if (count(seen_pred) <= 1) {
    single = "the chunk's predictions hold a single class";
  }
  auto safe = [](double a, double b) { return b == 0 ? 0.0 : a / b; };  // zero_division = 0
  double f1 = 0, prec = 0, rec = 0, spec = 0, wf1 = 0, wprec = 0, wrec = 0;
  for (size_t c = 0; c < k; ++c) {
    double f = safe(2 * tp[c], 2 * tp[c] + fp[c] + fn[c]);
    double pr = safe(tp[c], tp[c] + fp[c]), re = safe(tp[c], tp[c] + fn[c]);
    double tn = m - tp[c] - fp[c] - fn[c];
    f1 += f;
    prec += pr;
    rec += re;
    spec += tn / (tn + fp[c]);
    wf1 += sup[c] * f;
    wprec += sup[c] * pr;
    wrec += sup[c] * re;
  }
  const double kd = static_cast<double>(k);
  for (double v : {f1 / kd, prec / kd, rec / kd, spec / kd})
    out.push_back(single.empty() ? Value(v) : Undefined(single));
  out.push_back(Value(correct / m));
  for (double v : {wf1 / m, wprec / m, wrec / m})
    out.push_back(single.empty() ? Value(v) : Undefined(single));
  return out;
}

std::vector<MetricInfo> BinaryMetricInfos(bool have_labels) {
  std::vector<MetricInfo> m = {{"roc_auc", "performance", 0.0, 1.0},
                               {"average_precision", "performance", 0.0, 1.0},
                               {"log_loss", "performance", 0.0, std::nullopt}};
  if (have_labels) {
    for (const char* n : {"f1", "precision", "recall", "specificity", "accuracy"})
      m.push_back({n, "performance", 0.0, 1.0});
    for (const char* n : {"true_positive_count", "true_negative_count", "false_positive_count",
                          "false_negative_count"})
      m.push_back({n, "performance", 0.0, std::nullopt});
    for (const char* n :
         {"true_positive_rate", "false_positive_rate", "true_negative_rate", "false_negative_rate"})
      m.push_back({n, "performance", 0.0, 1.0});
  }
  for (const char* n : {"brier_score", "ece_equal_width", "ece_equal_count"})
    m.push_back({n, "calibration", 0.0, 1.0});
  return m;
}

std::vector<MetricInfo> RegressionMetricInfos() {
  std::vector<MetricInfo> m;
  for (const char* n : {"mae", "mape", "mse", "rmse", "msle", "rmsle"})
    m.push_back({n, "performance", 0.0, std::nullopt});
  m.push_back({"r2", "performance", std::nullopt, 1.0});
  return m;
}

std::vector<MetricValue> BinaryMetrics(std::span<const double> y_true,
                                       std::span<const double> proba,
                                       std::span<const double> y_pred,
                                       bool loss_and_calibration) {
  const bool labels = !y_pred.empty();
  std::vector<MetricValue> out;
  // Score metrics over rows with a target and a probability.
  std::vector<double> ys, ps;
  double pos = 0;
  for (size_t i = 0; i < y_true.size(); ++i) {
    if (std::isnan(y_true[i]) || std::isnan(proba[i])) continue;
    ys.push_back(y_true[i]);
    ps.push_back(proba[i]);
    pos += y_true[i];
  }
  const double n = static_cast<double>(ps.size()), neg = n - pos;
  if (ps.empty()) {
    for (int k = 0; k < 3; ++k)
      out.push_back(Undefined("no rows with a known target in the chunk"));
  } else {
    if (pos == 0 || neg == 0) {
      std::string why = fmt::format("the chunk's targets hold a single class ({} rows, all {})",
                                    ps.size(), pos == 0 ? 0 : 1);
      out.push_back(Undefined(why));
      out.push_back(pos == 0 ? Undefined(why) : Value(1.0));
    } else {
      const RankMetricValues r = RankMetrics(ps, ys, StableOrder(ps), pos, neg);
      out.push_back(Value(r.roc_auc));
      out.push_back(Value(r.average_precision));
    }
    if (loss_and_calibration) {
      const double eps = std::numeric_limits<double>::epsilon();
      std::vector<double> loss(ps.size());
      for (size_t i = 0; i < ps.size(); ++i) {
        double q = ys[i] == 1 ? ps[i] : 1 - ps[i];
        loss[i] = -std::log(std::clamp(q, eps, 1 - eps));
      }
      out.push_back(Value(Mean(loss)));
    } else {
      out.push_back(Undefined(kNotComputed));
    }
  }
  if (labels) {
    double tp = 0, tn = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < y_true.size(); ++i) {
      if (std::isnan(y_true[i]) || std::isnan(y_pred[i])) continue;
      bool t = y_true[i] == 1, p = y_pred[i] == 1;
      (t ? (p ? tp : fn) : (p ? fp : tn)) += 1;
    }
    const double m = tp + tn + fp + fn;
    if (m == 0) {
      for (int k = 0; k < 13; ++k)
        out.push_back(Undefined("no rows with a known target in the chunk"));
    } else {
      // nannyML: F1, precision and recall are NaN when the targets or the predictions hold a
      // single class (specificity and accuracy are not).
      std::string single;
      if (tp + fn == 0 || tn + fp == 0) {
        single = fmt::format("the chunk's targets hold a single class ({} rows, all {})", m,
                             tp + fn == 0 ? 0 : 1);
      } else if (tp + fp == 0 || tn + fn == 0) {
        single = fmt::format("the chunk's predictions hold a single class ({} rows, all {})", m,
                             tp + fp == 0 ? 0 : 1);
      }
      if (!single.empty()) {
        for (int k = 0; k < 3; ++k) out.push_back(Undefined(single));
      } else {
        out.push_back(Value(2 * tp / (2 * tp + fp + fn)));
        out.push_back(Value(tp / (tp + fp)));
        out.push_back(Value(tp / (tp + fn)));
      }
      out.push_back(Ratio(tn, tn + fp, "TN + FP (no negative targets)"));
      out.push_back(Value((tp + tn) / m));
      for (double c : {tp, tn, fp, fn}) out.push_back(Value(c));
      out.push_back(Ratio(tp, tp + fn, "TP + FN (no positive targets)"));
      out.push_back(Ratio(fp, fp + tn, "FP + TN (no negative targets)"));
      out.push_back(Ratio(tn, tn + fp, "TN + FP (no negative targets)"));
      out.push_back(Ratio(fn, fn + tp, "FN + TP (no positive targets)"));
    }
  }
  if (ps.empty()) {
    for (int k = 0; k < 3; ++k)
      out.push_back(Undefined("no rows with a known target in the chunk"));
  } else if (!loss_and_calibration) {
    for (int k = 0; k < 3; ++k) out.push_back(Undefined(kNotComputed));
  } else {
    out.push_back(Value(BrierScore(ys, ps)));
    out.push_back(Value(ExpectedCalibrationError(ys, ps, 10, false)));
    out.push_back(Value(ExpectedCalibrationError(ys, ps, 10, true)));
  }
  return out;
}

std::vector<MetricValue> RegressionMetrics(std::span<const double> y_true,
                                           std::span<const double> y_pred) {
  std::vector<double> ae, ape, se, sle, ys;
  bool negative = false;
  const double eps = std::numeric_limits<double>::epsilon();
  for (size_t i = 0; i < y_true.size(); ++i) {
    double y = y_true[i], p = y_pred[i];
    if (std::isnan(y) || std::isnan(p)) continue;
    ys.push_back(y);
    ae.push_back(std::abs(y - p));
    ape.push_back(std::abs(y - p) / std::max(std::abs(y), eps));
    se.push_back((y - p) * (y - p));
    if (y < 0 || p < 0) negative = true;
    double d = std::log1p(y) - std::log1p(p);
    sle.push_back(d * d);
  }
  std::vector<MetricValue> out;
  if (ys.empty()) {
    for (int k = 0; k < 7; ++k)
      out.push_back(Undefined("no rows with a known target in the chunk"));
    return out;
  }
  double mse = Mean(se);
  out.push_back(Value(Mean(ae)));
  out.push_back(Value(Mean(ape)));
  out.push_back(Value(mse));
  out.push_back(Value(std::sqrt(mse)));
  if (negative) {
    const char* why = "a target or prediction in the chunk is negative (log error undefined)";
    out.push_back(Undefined(why));
    out.push_back(Undefined(why));
  } else {
    double msle = Mean(sle);
    out.push_back(Value(msle));
    out.push_back(Value(std::sqrt(msle)));
  }
  double mean = Mean(ys);
  std::vector<double> dev(ys.size());
  for (size_t i = 0; i < ys.size(); ++i) dev[i] = (ys[i] - mean) * (ys[i] - mean);
  double ss_tot = PairwiseSum(dev), ss_res = PairwiseSum(se);
  if (ss_tot == 0)
    out.push_back(Undefined("the chunk's targets are all equal (R² undefined)"));
  else
    out.push_back(Value(1 - ss_res / ss_tot));
  return out;
}

bool WantsPerformance(const MonitorConfig& cfg, const std::vector<std::string>& analysis_columns) {
  const std::string target = TargetName(cfg);
  if (target.empty() ||
      (cfg.y_pred_proba.empty() && cfg.y_pred.empty() && cfg.y_pred_proba_classes.empty()))
    return false;
  return cfg.targets.has_value() || std::find(analysis_columns.begin(), analysis_columns.end(),
                                              target) != analysis_columns.end();
}

Status AttachTargets(const MonitorConfig& cfg, DataSource& ref_src, DataSource& ana_src, Table* rt,
                     Table* at, std::vector<std::string>* warnings, bool loaded) {
  const std::string target = TargetName(cfg);
  const bool binary = !cfg.y_pred_proba.empty();
  const bool multiclass = !cfg.y_pred_proba_classes.empty();
  const std::vector<std::string> classes = ClassLabels(cfg);
  std::map<std::string, ColumnType> target_types;
  if (multiclass) target_types[target] = ColumnType::kCategorical;
  auto convert = [&](const Table& t, const Column& c) -> StatusOr<std::vector<double>> {
    if (multiclass) return LabelCodes(t, c, classes);
    ASSIGN_OR_RETURN(auto y, Numeric(t, c));
    if (binary) RETURN_IF_ERROR(CheckRange(t, c.name, y, true));
    return y;
  };
  // Model outputs (already loaded: they are monitored).
  for (Table* t : {rt, at}) {
    if (multiclass) {
      size_t k = 0;
      for (const auto& [label, column] : cfg.y_pred_proba_classes) {
        const Column* c = t->Find(column);
        if (c == nullptr) return NotFound(fmt::format("{}: no column '{}'", t->source, column));
        ASSIGN_OR_RETURN(auto p, Numeric(*t, *c));
        RETURN_IF_ERROR(CheckRange(*t, column, p, false));
        std::string name = ProbaColumn(k++);
        AddNumeric(t, name.c_str(), std::move(p));
      }
      if (cfg.y_pred.empty()) {
        return InvalidArgument(
            fmt::format("{}: a multiclass model needs model_outputs.y_pred (the predicted class)",
                        cfg.config_path));
      }
      const Column* c = t->Find(cfg.y_pred);
      if (c == nullptr) return NotFound(fmt::format("{}: no column '{}'", t->source, cfg.y_pred));
      ASSIGN_OR_RETURN(auto p, LabelCodes(*t, *c, classes));
      AddNumeric(t, kPredColumn, std::move(p));
      continue;
    }

    if (binary) {
      const Column* c = t->Find(cfg.y_pred_proba);
      if (c == nullptr)
        return NotFound(fmt::format("{}: no column '{}'", t->source, cfg.y_pred_proba));
      ASSIGN_OR_RETURN(auto p, Numeric(*t, *c));
      RETURN_IF_ERROR(CheckRange(*t, cfg.y_pred_proba, p, false));
      AddNumeric(t, kProbaColumn, std::move(p));
    }
    if (!cfg.y_pred.empty()) {
      const Column* c = t->Find(cfg.y_pred);
      if (c == nullptr) return NotFound(fmt::format("{}: no column '{}'", t->source, cfg.y_pred));
      ASSIGN_OR_RETURN(auto p, Numeric(*t, *c));
      if (binary) RETURN_IF_ERROR(CheckRange(*t, cfg.y_pred, p, true));
      AddNumeric(t, kPredColumn, std::move(p));
    }
  }
  // A target column the table already holds (`loaded`): converted, then dropped.
  auto from_table = [&](Table* t) -> StatusOr<bool> {
    auto it = std::find_if(t->columns.begin(), t->columns.end(),
                           [&](const Column& c) { return c.name == target; });
    if (!loaded || it == t->columns.end()) return false;
    ASSIGN_OR_RETURN(auto y, convert(*t, *it));
    t->columns.erase(it);
    AddNumeric(t, kTargetColumn, std::move(y));
    return true;
  };
  // Reference targets.
  ASSIGN_OR_RETURN(bool ref_loaded, from_table(rt));
  if (!ref_loaded) {
    ASSIGN_OR_RETURN(Table t, ReadColumns(ref_src, {target}, target_types, cfg.on_bad_rows));
    if (t.num_rows != rt->num_rows)
      return Internal(fmt::format("{}: target column read {} rows, expected {}", t.source,
                                  t.num_rows, rt->num_rows));
    ASSIGN_OR_RETURN(auto y, convert(t, t.columns[0]));
    AddNumeric(rt, kTargetColumn, std::move(y));
  }
  // Analysis targets: the column itself, or the targets file joined on the key.
  ASSIGN_OR_RETURN(auto ana_names, ana_src.ColumnNames());
  ASSIGN_OR_RETURN(bool ana_loaded, from_table(at));
  if (ana_loaded) return OkStatus();
  if (std::find(ana_names.begin(), ana_names.end(), target) != ana_names.end()) {
    ASSIGN_OR_RETURN(Table t, ReadColumns(ana_src, {target}, target_types, cfg.on_bad_rows));
    if (t.num_rows != at->num_rows)
      return Internal(fmt::format("{}: target column read {} rows, expected {}", t.source,
                                  t.num_rows, at->num_rows));
    ASSIGN_OR_RETURN(auto y, convert(t, t.columns[0]));
    AddNumeric(at, kTargetColumn, std::move(y));
    return OkStatus();
  }
  if (!cfg.targets && cfg.estimation) {
    // Performance estimation needs no analysis targets; realized values are then unknown.
    AddNumeric(at, kTargetColumn, std::vector<double>(at->num_rows, kNaN));
    return OkStatus();
  }
  if (!cfg.targets) {
    return InvalidArgument(fmt::format(
        "{}: the analysis data has no '{}' column; configure 'targets' (path, join_key) to join "
        "them, or leave 'target' out",
        cfg.config_path, target));
  }
  const std::string& key = cfg.targets->join_key;
  const std::string tcol = cfg.targets->column.empty() ? target : cfg.targets->column;
  ASSIGN_OR_RETURN(Table keys,
                   ReadColumns(ana_src, {key}, {{key, ColumnType::kCategorical}}, cfg.on_bad_rows));
  if (keys.num_rows != at->num_rows)
    return Internal(fmt::format("{}: key column read {} rows, expected {}", keys.source,
                                keys.num_rows, at->num_rows));
  auto tsrc = OpenCsvFile(cfg.targets->path);
  std::map<std::string, ColumnType> ttypes = {{key, ColumnType::kCategorical}};
  if (multiclass) ttypes[tcol] = ColumnType::kCategorical;
  ASSIGN_OR_RETURN(Table tt, ReadColumns(*tsrc, {key, tcol}, ttypes, cfg.on_bad_rows));
  ASSIGN_OR_RETURN(auto tv, convert(tt, *tt.Find(tcol)));
  const Column& tk = *tt.Find(key);
  std::unordered_map<std::string, double> by_key;
  int64_t duplicates = 0, missing_keys = 0;
  for (size_t i = 0; i < tt.num_rows; ++i) {
    if (tk.codes[i] == kMissingCode) {
      ++missing_keys;
      continue;
    }
    if (!by_key.emplace(tk.dictionary[tk.codes[i]], tv[i]).second) ++duplicates;
  }
  if (duplicates)
    warnings->push_back(fmt::format("{}: {} rows repeat an earlier '{}'; the first is used",
                                    tt.source, duplicates, key));
  if (missing_keys)
    warnings->push_back(
        fmt::format("{}: {} rows have no '{}' and were ignored", tt.source, missing_keys, key));
  const Column& ak = keys.columns[0];
  std::vector<double> y(at->num_rows, kNaN);
  int64_t unmatched = 0;
  for (size_t i = 0; i < at->num_rows; ++i) {
    auto it = ak.codes[i] == kMissingCode ? by_key.end() : by_key.find(ak.dictionary[ak.codes[i]]);
    if (it == by_key.end()) {
      ++unmatched;
      continue;
    }
    y[i] = it->second;
  }
  if (unmatched) {
    warnings->push_back(fmt::format(
        "targets: {} of {} analysis rows have no target in {} (joined on '{}'); performance "
        "uses the others",
        unmatched, at->num_rows, tt.source, key));
  }
  AddNumeric(at, kTargetColumn, std::move(y));
  return OkStatus();
}

std::vector<Record> ComputePerformance(const MonitorConfig& cfg, const Table& rt,
                                       const std::vector<Chunk>& rc, const Table& at,
                                       const std::vector<Chunk>& ac) {
  const bool binary = !cfg.y_pred_proba.empty();
  const bool multiclass = !cfg.y_pred_proba_classes.empty();
  const bool labels = !cfg.y_pred.empty();
  std::vector<MetricInfo> infos = multiclass ? MulticlassMetricInfos()
                                  : binary   ? BinaryMetricInfos(labels)
                                             : RegressionMetricInfos();
  // Confusion-matrix cells under performance.normalize_confusion_matrix: the binary counts are
  // renamed (and limited to 1 when normalized); multiclass cells follow the other metrics.
  const CmNormalization norm = cfg.performance.normalize_confusion_matrix;
  const size_t k = cfg.y_pred_proba_classes.size();
  size_t first_cell = infos.size();
  if (binary && labels) {
    for (size_t m = 0; m < infos.size(); ++m)
      if (infos[m].name == "true_positive_count") first_cell = m;
    const std::array<std::string, 4> names = BinaryCellNames(norm);
    for (size_t c = 0; c < 4; ++c) {
      infos[first_cell + c].name = names[c];
      infos[first_cell + c].upper_limit = CmUpperLimit(norm);
    }
  } else if (multiclass) {
    for (const auto& [a, ca] : cfg.y_pred_proba_classes)
      for (const auto& [b, cb] : cfg.y_pred_proba_classes)
        infos.push_back({fmt::format("true_{}_pred_{}_{}", a, b, CmSuffix(norm)), "performance",
                         0.0, CmUpperLimit(norm)});
  }
  const std::string target = TargetName(cfg);
  std::vector<std::vector<Record>> by_metric(infos.size());
  std::vector<std::vector<double>> ref_values(infos.size());
  const Table* tables[2] = {&rt, &at};
  const std::vector<Chunk>* chunks[2] = {&rc, &ac};
  for (int p = 0; p < 2; ++p) {
    const Table& t = *tables[p];
    std::span<const double> y = t.Find(kTargetColumn)->numbers;
    std::span<const double> pred, proba;
    if (labels) pred = t.Find(kPredColumn)->numbers;
    if (binary) proba = t.Find(kProbaColumn)->numbers;
    std::vector<std::span<const double>> probas;
    for (size_t k = 0; k < cfg.y_pred_proba_classes.size(); ++k)
      probas.push_back(t.Find(ProbaColumn(k))->numbers);
    for (const Chunk& ch : *chunks[p]) {
      auto sub = [&](std::span<const double> s) {
        return s.empty() ? s : s.subspan(ch.begin, ch.size());
      };
      std::vector<MetricValue> v;
      if (multiclass) {
        std::vector<std::span<const double>> ps;
        for (auto s : probas) ps.push_back(sub(s));
        v = MulticlassMetrics(sub(y), ps, sub(pred));
        for (auto& cell : RealizedMulticlassCells(sub(y), sub(pred), k, norm))
          v.push_back(std::move(cell));
      } else if (binary) {
        v = BinaryMetrics(sub(y), sub(proba), sub(pred));
        if (labels) {
          const std::array<MetricValue, 4> cells = RealizedBinaryCells(
              v[first_cell].value, v[first_cell + 1].value, v[first_cell + 2].value,
              v[first_cell + 3].value, norm, v[first_cell].reason);
          std::copy(cells.begin(), cells.end(), v.begin() + first_cell);
        }
      } else {
        v = RegressionMetrics(sub(y), sub(pred));
      }
      for (size_t m = 0; m < infos.size(); ++m) {
        Record r =
            MakeRecord(p == 0 ? "reference" : "analysis", ch, target, infos[m].name, infos[m].kind);
        r.value = v[m].value;
        r.reason = v[m].reason;
        if (p == 0) ref_values[m].push_back(r.value);
        by_metric[m].push_back(std::move(r));
      }
    }
  }
  std::vector<Record> out;
  for (size_t m = 0; m < infos.size(); ++m) {
    Bounds b = ComputeThresholds(RealizedThreshold(cfg.performance.thresholds, infos[m].name),
                                 ref_values[m], infos[m].lower_limit, infos[m].upper_limit);
    for (auto& r : by_metric[m]) {
      r.lower = b.lower;
      r.upper = b.upper;
      r.alert = IsAlert(r.value, b);
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace cairn::monitor
