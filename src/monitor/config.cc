#include "monitor/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "monitor/config_decoder.h"
#include "monitor/performance.h"

namespace cairn::monitor {
namespace {

const std::set<std::string> kContinuousMethods = {"kolmogorov_smirnov", "jensen_shannon",
                                                  "wasserstein", "hellinger", "psi"};
const std::set<std::string> kCategoricalMethods = {"chi2", "jensen_shannon", "l_infinity",
                                                   "hellinger", "psi"};

std::string ResolvePath(const std::string& base_dir, const std::string& p) {
  if (p.empty() || p[0] == '/' || base_dir.empty()) return p;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

Status DecodeChunking(const Decoder& d, const YAML::Node& n, ChunkingSpec* out) {
  RETURN_IF_ERROR(d.CheckKeys(n, "chunking", {"size", "number", "period", "incomplete"}));
  int given = 0;
  if (n["size"]) {
    ASSIGN_OR_RETURN(out->size, d.Int(n["size"], "chunking.size"));
    if (out->size <= 0) return d.Fail(n["size"], "'chunking.size' must be positive");
    out->kind = ChunkingKind::kSize;
    ++given;
  }
  if (n["number"]) {
    ASSIGN_OR_RETURN(out->number, d.Int(n["number"], "chunking.number"));
    if (out->number <= 0) return d.Fail(n["number"], "'chunking.number' must be positive");
    out->kind = ChunkingKind::kNumber;
    ++given;
  }
  if (n["period"]) {
    ASSIGN_OR_RETURN(out->period, d.String(n["period"], "chunking.period"));
    static const std::set<std::string> kPeriods = {"H", "h", "D", "W", "M", "Q", "Y", "A"};
    if (!kPeriods.count(out->period)) {
      return d.Fail(
          n["period"],
          fmt::format("unknown chunking.period '{}' (use H, D, W, M, Q or Y)", out->period));
    }
    out->kind = ChunkingKind::kPeriod;
    ++given;
  }
  if (given > 1)
    return d.Fail(n, "give only one of chunking.size, chunking.number, chunking.period");
  if (n["incomplete"]) {
    ASSIGN_OR_RETURN(std::string inc, d.String(n["incomplete"], "chunking.incomplete"));
    if (inc == "keep")
      out->incomplete = Incomplete::kKeep;
    else if (inc == "append")
      out->incomplete = Incomplete::kAppend;
    else if (inc == "drop")
      out->incomplete = Incomplete::kDrop;
    else
      return d.Fail(n["incomplete"], "'chunking.incomplete' must be keep, append or drop");
  }
  return OkStatus();
}

// One threshold: {type: std|constant|none (|p_value when `allow_p_value`), lower, upper,
// alpha, offset_from: mean|median}, nannyML's StandardDeviationThreshold / ConstantThreshold
// with their argument checks (multipliers not negative, constant lower < upper). `where` names
// the mapping in messages; `out` holds the defaults the keys override.
Status DecodeThreshold(const Decoder& d, const YAML::Node& n, const std::string& where,
                       bool allow_p_value, ThresholdSpec* out) {
  RETURN_IF_ERROR(d.CheckKeys(n, where, {"type", "lower", "upper", "alpha", "offset_from"}));
  std::string type = "std";
  if (n["type"]) {
    ASSIGN_OR_RETURN(type, d.String(n["type"], where + ".type"));
  }
  if (type == "std") {
    out->kind = ThresholdKind::kStd;
    out->lower.reset();
    out->upper = 3.0;
  } else if (type == "constant") {
    out->kind = ThresholdKind::kConstant;
    out->lower.reset();
    out->upper.reset();
  } else if (type == "p_value" && allow_p_value) {
    out->kind = ThresholdKind::kPValue;
  } else if (type == "none") {
    out->kind = ThresholdKind::kNone;
  } else if (type == "p_value") {
    return d.Fail(n["type"], fmt::format("'{}' has no p-value; p_value thresholds apply to the "
                                         "chi2 and kolmogorov_smirnov drift methods",
                                         where));
  } else {
    return d.Fail(n["type"], fmt::format("unknown threshold type '{}' in '{}' (use std, constant{} "
                                         "or none)",
                                         type, where, allow_p_value ? ", p_value" : ""));
  }
  if (n["lower"]) {
    ASSIGN_OR_RETURN(out->lower, d.OptDouble(n["lower"], where + ".lower"));
  }
  if (n["upper"]) {
    ASSIGN_OR_RETURN(out->upper, d.OptDouble(n["upper"], where + ".upper"));
  }
  if (n["alpha"]) {
    ASSIGN_OR_RETURN(out->alpha, d.Double(n["alpha"], where + ".alpha"));
  }
  if (n["offset_from"]) {
    ASSIGN_OR_RETURN(std::string o, d.String(n["offset_from"], where + ".offset_from"));
    if (o == "mean") {
      out->offset_from = OffsetFrom::kMean;
    } else if (o == "median") {
      out->offset_from = OffsetFrom::kMedian;
    } else {
      return d.Fail(n["offset_from"],
                    fmt::format("'{}.offset_from' must be mean or median, not '{}'", where, o));
    }
    if (out->kind != ThresholdKind::kStd)
      return d.Fail(n["offset_from"],
                    fmt::format("'{}.offset_from' applies to std thresholds only", where));
  }
  if (out->kind == ThresholdKind::kStd) {
    for (const char* side : {"lower", "upper"}) {
      const std::optional<double>& m = side[0] == 'l' ? out->lower : out->upper;
      if (m && *m < 0)
        return d.Fail(n[side], fmt::format("'{}.{}' is a standard-deviation multiplier and must "
                                           "not be negative (got {})",
                                           where, side, *m));
    }
  }
  if (out->kind == ThresholdKind::kConstant && out->lower && out->upper &&
      *out->lower >= *out->upper) {
    return d.Fail(n["lower"], fmt::format("'{}': lower threshold {} must be less than upper "
                                          "threshold {}",
                                          where, *out->lower, *out->upper));
  }
  return OkStatus();
}

Status DecodeCmNormalization(const Decoder& d, const YAML::Node& n, const std::string& where,
                             CmNormalization* out) {
  ASSIGN_OR_RETURN(std::string v, d.String(n, where));
  if (v == "none") {
    *out = CmNormalization::kNone;
  } else if (v == "all") {
    *out = CmNormalization::kAll;
  } else if (v == "true") {
    *out = CmNormalization::kTrue;
  } else if (v == "pred") {
    *out = CmNormalization::kPred;
  } else {
    return d.Fail(n, fmt::format("'{}' must be none, all, true or pred, not '{}'", where, v));
  }
  return OkStatus();
}

// A mapping of metric name -> threshold (estimation.thresholds, performance.thresholds); every
// name must be in `known`.
Status DecodeMetricThresholds(const Decoder& d, const YAML::Node& n, const std::string& where,
                              const std::set<std::string>& known, MetricThresholds* out) {
  if (!n.IsMap())
    return d.Fail(n, fmt::format("'{}' must be a mapping of metric to threshold", where));
  for (auto it = n.begin(); it != n.end(); ++it) {
    ASSIGN_OR_RETURN(std::string metric, d.String(it->first, where));
    if (!known.count(metric)) {
      std::string names;
      for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
      return d.Fail(it->first, fmt::format("unknown metric '{}' in '{}' (known: {})", metric,
                                           where, names));
    }
    if (out->count(metric))
      return d.Fail(it->first, fmt::format("duplicate key '{}' in '{}'", metric, where));
    ThresholdSpec spec = DefaultMetricThreshold();
    RETURN_IF_ERROR(DecodeThreshold(d, it->second, where + "." + metric, false, &spec));
    (*out)[metric] = spec;
  }
  return OkStatus();
}

Status DecodeDrift(const Decoder& d, const YAML::Node& n, MonitorConfig* cfg) {
  RETURN_IF_ERROR(d.CheckKeys(
      n, "drift", {"preset", "continuous", "categorical", "thresholds", "ks_calculation"}));
  if (n["preset"]) {
    ASSIGN_OR_RETURN(cfg->preset, d.String(n["preset"], "drift.preset"));
    if (cfg->preset != "nannyml" && cfg->preset != "evidently") {
      return d.Fail(n["preset"], "'drift.preset' must be nannyml or evidently");
    }
  }
  if (n["continuous"]) {
    ASSIGN_OR_RETURN(cfg->continuous_methods, d.Strings(n["continuous"], "drift.continuous"));
    for (const auto& m : cfg->continuous_methods) {
      if (!kContinuousMethods.count(m)) {
        return d.Fail(n["continuous"], fmt::format("unknown continuous drift method '{}'", m));
      }
    }
  }
  if (n["categorical"]) {
    ASSIGN_OR_RETURN(cfg->categorical_methods, d.Strings(n["categorical"], "drift.categorical"));
    for (const auto& m : cfg->categorical_methods) {
      if (!kCategoricalMethods.count(m)) {
        return d.Fail(n["categorical"], fmt::format("unknown categorical drift method '{}'", m));
      }
    }
  }
  if (cfg->preset == "evidently") {
    // Evidently's per-column default test replaces nannyML's default methods; methods listed
    // explicitly still run beside it.
    if (!n["continuous"]) cfg->continuous_methods.clear();
    if (!n["categorical"]) cfg->categorical_methods.clear();
  }
  if (n["ks_calculation"]) {
    ASSIGN_OR_RETURN(cfg->ks_calculation, d.String(n["ks_calculation"], "drift.ks_calculation"));
    if (cfg->ks_calculation != "auto" && cfg->ks_calculation != "exact" &&
        cfg->ks_calculation != "estimated") {
      return d.Fail(n["ks_calculation"], "'drift.ks_calculation' must be auto, exact or estimated");
    }
  }
  if (n["thresholds"]) {
    const YAML::Node& t = n["thresholds"];
    if (!t.IsMap()) return d.Fail(t, "'drift.thresholds' must be a mapping of method to threshold");
    for (auto it = t.begin(); it != t.end(); ++it) {
      std::string m = it->first.as<std::string>();
      if (!kContinuousMethods.count(m) && !kCategoricalMethods.count(m)) {
        return d.Fail(
            it->first,
            fmt::format("unknown key '{}' in 'drift.thresholds' (not a drift method)", m));
      }
      ThresholdSpec spec = DefaultDriftThreshold(m);
      RETURN_IF_ERROR(DecodeThreshold(d, it->second, "drift.thresholds." + m,
                                      m == "chi2" || m == "kolmogorov_smirnov", &spec));
      cfg->thresholds[m] = spec;
    }
  }
  return OkStatus();
}

Status DecodeEstimation(const Decoder& d, const YAML::Node& n, MonitorConfig* cfg) {
  static const std::set<std::string> kEstimatedMetrics = {
      "roc_auc", "average_precision", "f1", "precision", "recall", "specificity", "accuracy",
      "confusion_matrix",
      "business_value", "mae", "mape", "mse", "rmse", "msle", "rmsle"};
  EstimationSpec e;
  if (n.IsNull()) {
    cfg->estimation = e;
    return OkStatus();
  }
  RETURN_IF_ERROR(d.CheckKeys(n, "estimation",
                              {"metrics", "calibration", "business_value", "dle", "thresholds",
                               "normalize_confusion_matrix"}));
  if (n["metrics"]) {
    ASSIGN_OR_RETURN(e.metrics, d.Strings(n["metrics"], "estimation.metrics"));
    for (const auto& m : e.metrics) {
      if (!kEstimatedMetrics.count(m))
        return d.Fail(n["metrics"], fmt::format("unknown estimated metric '{}'", m));
    }
  }
  if (n["calibration"]) {
    ASSIGN_OR_RETURN(std::string c, d.String(n["calibration"], "estimation.calibration"));
    if (c != "isotonic" && c != "none")
      return d.Fail(n["calibration"], "'estimation.calibration' must be isotonic or none");
    e.calibrate = c == "isotonic";
  }
  if (const auto& bv = n["business_value"]) {
    RETURN_IF_ERROR(d.CheckKeys(bv, "estimation.business_value", {"matrix", "normalize"}));
    if (!bv["matrix"]) return d.Fail(bv, "'estimation.business_value' needs 'matrix'");
    ASSIGN_OR_RETURN(e.business_value,
                     DecodeValueMatrix(d, bv["matrix"], "estimation.business_value.matrix"));
    if (bv["normalize"]) {
      ASSIGN_OR_RETURN(std::string norm,
                       d.String(bv["normalize"], "estimation.business_value.normalize"));
      if (norm != "none" && norm != "per_prediction")
        return d.Fail(bv["normalize"],
                      fmt::format("'estimation.business_value.normalize' must be none or "
                                  "per_prediction, not '{}'",
                                  norm));
      e.business_value_per_prediction = norm == "per_prediction";
    }
  }
  if (n["normalize_confusion_matrix"]) {
    RETURN_IF_ERROR(DecodeCmNormalization(d, n["normalize_confusion_matrix"],
                                          "estimation.normalize_confusion_matrix",
                                          &e.normalize_confusion_matrix));
  }
  if (n["thresholds"]) {
    RETURN_IF_ERROR(DecodeMetricThresholds(d, n["thresholds"], "estimation.thresholds",
                                           kEstimatedMetrics, &e.thresholds));
  }
  if (const auto& dl = n["dle"]) {
    RETURN_IF_ERROR(d.CheckKeys(dl, "estimation.dle", {"trees", "learning_rate", "max_leaves"}));
    if (dl["trees"]) {
      ASSIGN_OR_RETURN(int64_t t, d.Int(dl["trees"], "estimation.dle.trees"));
      if (t < 1 || t > 10000) return d.Fail(dl["trees"], "'trees' must be between 1 and 10000");
      e.dle_trees = static_cast<int>(t);
    }
    if (dl["learning_rate"]) {
      ASSIGN_OR_RETURN(e.dle_learning_rate, d.Double(dl["learning_rate"], "learning_rate"));
      if (!(e.dle_learning_rate > 0 && e.dle_learning_rate <= 1))
        return d.Fail(dl["learning_rate"], "'learning_rate' must be in (0, 1]");
    }
    if (dl["max_leaves"]) {
      ASSIGN_OR_RETURN(int64_t l, d.Int(dl["max_leaves"], "estimation.dle.max_leaves"));
      if (l < 2 || l > 4096) return d.Fail(dl["max_leaves"], "'max_leaves' must be between 2 and 4096");
      e.dle_max_leaves = static_cast<int>(l);
    }
  }
  cfg->estimation = e;
  return OkStatus();
}

// Business value matrices must fit the model's classes: 2x2 for a binary classifier, KxK for
// the K labels of a multiclass model_outputs.y_pred_proba; the amount figures are binary only.
Status CheckValueMatrices(const Decoder& d, const YAML::Node& root, const MonitorConfig& cfg) {
  const size_t k = cfg.y_pred_proba_classes.size();
  std::string labels;
  for (const auto& [label, column] : cfg.y_pred_proba_classes)
    labels += (labels.empty() ? "" : ", ") + label;
  auto check = [&](const SquareMatrix& m, const YAML::Node& node, const std::string& key) {
    if (k == 0 && m.size() != 2) {
      return d.Fail(node, fmt::format("'{}' is {}x{} but the model is a binary classifier "
                                      "(model_outputs.y_pred_proba names one column); give "
                                      "[[TN, FP], [FN, TP]]",
                                      key, m.size(), m.size()));
    }
    if (k > 0 && m.size() != k) {
      return d.Fail(node, fmt::format("'{}' is {}x{} but model_outputs.y_pred_proba names {} "
                                      "classes ({}); give a {}x{} matrix, rows = the true class "
                                      "and columns = the predicted class in that order",
                                      key, m.size(), m.size(), k, labels, k, k));
    }
    return OkStatus();
  };
  if (cfg.outcomes.business_value) {
    const YAML::Node& bv = root["business_value"];
    RETURN_IF_ERROR(
        check(cfg.outcomes.business_value->matrix, bv["matrix"], "business_value.matrix"));
    if (k > 0 && !cfg.outcomes.business_value->amount_column.empty()) {
      return d.Fail(bv["amount_column"],
                    "'business_value.amount_column' (and amount_matrix) apply to binary "
                    "classifiers only: a multiclass model has no positive decisions");
    }
  }
  if (cfg.estimation && cfg.estimation->business_value) {
    RETURN_IF_ERROR(check(*cfg.estimation->business_value,
                          root["estimation"]["business_value"]["matrix"],
                          "estimation.business_value.matrix"));
  }
  return OkStatus();
}

Status DecodePerformance(const Decoder& d, const YAML::Node& n, MonitorConfig* cfg) {
  RETURN_IF_ERROR(d.CheckKeys(n, "performance", {"thresholds", "normalize_confusion_matrix"}));
  if (n["normalize_confusion_matrix"]) {
    RETURN_IF_ERROR(DecodeCmNormalization(d, n["normalize_confusion_matrix"],
                                          "performance.normalize_confusion_matrix",
                                          &cfg->performance.normalize_confusion_matrix));
  }
  if (n["thresholds"]) {
    std::set<std::string> known = {"confusion_matrix", "business_value"};
    for (const auto& infos : {BinaryMetricInfos(true), MulticlassMetricInfos(),
                              RegressionMetricInfos()})
      for (const auto& info : infos) known.insert(info.name);
    RETURN_IF_ERROR(DecodeMetricThresholds(d, n["thresholds"], "performance.thresholds", known,
                                           &cfg->performance.thresholds));
  }
  return OkStatus();
}

Status Decode(const Decoder& d, const YAML::Node& root, const std::string& base_dir,
              MonitorConfig* cfg) {
  if (!root.IsMap()) return d.Fail(root, "the config must be a YAML mapping");
  RETURN_IF_ERROR(
      d.CheckKeys(root, "",
                  {"reference", "analysis", "targets", "timestamp_column", "id_columns", "chunking",
                   "features", "column_types", "model_outputs", "target", "drift", "data_quality",
                   "summary_stats", "multivariate", "on_bad_rows", "threads",
                   // outcome_config.h
                   "fairness", "business_value", "weak_segments", "correlation_ranker",
                   "estimation", "performance"}));
  if (!root["reference"]) return d.Fail(root, "missing required key 'reference'");
  if (!root["analysis"]) return d.Fail(root, "missing required key 'analysis'");
  ASSIGN_OR_RETURN(std::string ref, d.String(root["reference"], "reference"));
  ASSIGN_OR_RETURN(std::string ana, d.String(root["analysis"], "analysis"));
  cfg->reference = ResolvePath(base_dir, ref);
  cfg->analysis = ResolvePath(base_dir, ana);
  if (const auto& t = root["targets"]) {
    RETURN_IF_ERROR(d.CheckKeys(t, "targets", {"path", "join_key", "column"}));
    TargetsSpec spec;
    if (!t["path"] || !t["join_key"]) return d.Fail(t, "'targets' needs 'path' and 'join_key'");
    ASSIGN_OR_RETURN(spec.path, d.String(t["path"], "targets.path"));
    spec.path = ResolvePath(base_dir, spec.path);
    ASSIGN_OR_RETURN(spec.join_key, d.String(t["join_key"], "targets.join_key"));
    if (t["column"]) {
      ASSIGN_OR_RETURN(spec.column, d.String(t["column"], "targets.column"));
    }
    cfg->targets = spec;
  }
  if (root["timestamp_column"]) {
    ASSIGN_OR_RETURN(cfg->timestamp_column, d.String(root["timestamp_column"], "timestamp_column"));
  }
  if (root["id_columns"]) {
    ASSIGN_OR_RETURN(cfg->id_columns, d.Strings(root["id_columns"], "id_columns"));
  }
  if (root["chunking"]) RETURN_IF_ERROR(DecodeChunking(d, root["chunking"], &cfg->chunking));
  if (cfg->chunking.kind == ChunkingKind::kPeriod && cfg->timestamp_column.empty()) {
    return d.Fail(root["chunking"], "chunking.period needs 'timestamp_column'");
  }
  if (root["features"]) {
    ASSIGN_OR_RETURN(cfg->features, d.Strings(root["features"], "features"));
  }
  if (const auto& ct = root["column_types"]) {
    if (!ct.IsMap()) return d.Fail(ct, "'column_types' must be a mapping of column to type");
    for (auto it = ct.begin(); it != ct.end(); ++it) {
      ASSIGN_OR_RETURN(std::string type_name, d.String(it->second, "column_types"));
      ColumnType type;
      if (!ParseColumnType(type_name, &type)) {
        return d.Fail(
            it->second,
            fmt::format("unknown column type '{}' (use continuous, categorical, boolean or "
                        "timestamp)",
                        type_name));
      }
      cfg->column_types[it->first.as<std::string>()] = type;
    }
  }
  if (const auto& mo = root["model_outputs"]) {
    RETURN_IF_ERROR(d.CheckKeys(mo, "model_outputs", {"y_pred_proba", "y_pred"}));
    if (mo["y_pred_proba"] && mo["y_pred_proba"].IsMap()) {
      for (auto it = mo["y_pred_proba"].begin(); it != mo["y_pred_proba"].end(); ++it) {
        ASSIGN_OR_RETURN(std::string label, d.String(it->first, "model_outputs.y_pred_proba"));
        ASSIGN_OR_RETURN(std::string column, d.String(it->second, "model_outputs.y_pred_proba"));
        if (!cfg->y_pred_proba_classes.emplace(label, column).second)
          return d.Fail(it->first, fmt::format("duplicate class '{}' in model_outputs.y_pred_proba", label));
      }
      if (cfg->y_pred_proba_classes.size() < 2)
        return d.Fail(mo["y_pred_proba"], "a multiclass 'model_outputs.y_pred_proba' needs two or more classes");
    } else if (mo["y_pred_proba"]) {
      ASSIGN_OR_RETURN(cfg->y_pred_proba,
                       d.String(mo["y_pred_proba"], "model_outputs.y_pred_proba"));
    }
    if (mo["y_pred"]) {
      ASSIGN_OR_RETURN(cfg->y_pred, d.String(mo["y_pred"], "model_outputs.y_pred"));
    }
  }
  if (root["target"]) {
    ASSIGN_OR_RETURN(cfg->target_column, d.String(root["target"], "target"));
  }
  if (root["drift"]) RETURN_IF_ERROR(DecodeDrift(d, root["drift"], cfg));
  if (const auto& dq = root["data_quality"]) {
    RETURN_IF_ERROR(d.CheckKeys(dq, "data_quality", {"enabled", "duplicates_key"}));
    if (dq["enabled"]) {
      ASSIGN_OR_RETURN(cfg->data_quality, d.Bool(dq["enabled"], "data_quality.enabled"));
    }
    if (dq["duplicates_key"]) {
      ASSIGN_OR_RETURN(cfg->duplicates_key,
                       d.Strings(dq["duplicates_key"], "data_quality.duplicates_key"));
    }
  }
  if (const auto& ss = root["summary_stats"]) {
    RETURN_IF_ERROR(d.CheckKeys(ss, "summary_stats", {"enabled"}));
    if (ss["enabled"]) {
      ASSIGN_OR_RETURN(cfg->summary_stats, d.Bool(ss["enabled"], "summary_stats.enabled"));
    }
  }
  if (const auto& mv = root["multivariate"]) {
    RETURN_IF_ERROR(d.CheckKeys(mv, "multivariate", {"pca", "domain_classifier"}));
    if (const auto& dc = mv["domain_classifier"]) {
      RETURN_IF_ERROR(d.CheckKeys(dc, "multivariate.domain_classifier",
                                  {"enabled", "trees", "learning_rate", "max_depth", "columns"}));
      cfg->domain_classifier = true;
      if (dc["enabled"]) {
        ASSIGN_OR_RETURN(cfg->domain_classifier,
                         d.Bool(dc["enabled"], "multivariate.domain_classifier.enabled"));
      }
      if (dc["trees"]) {
        ASSIGN_OR_RETURN(int64_t t, d.Int(dc["trees"], "multivariate.domain_classifier.trees"));
        if (t < 1 || t > 10000) return d.Fail(dc["trees"], "'trees' must be between 1 and 10000");
        cfg->dc_trees = static_cast<int>(t);
      }
      if (dc["learning_rate"]) {
        ASSIGN_OR_RETURN(cfg->dc_learning_rate, d.Double(dc["learning_rate"], "learning_rate"));
        if (!(cfg->dc_learning_rate > 0 && cfg->dc_learning_rate <= 1)) {
          return d.Fail(dc["learning_rate"], "'learning_rate' must be in (0, 1]");
        }
      }
      if (dc["max_depth"]) {
        ASSIGN_OR_RETURN(int64_t m, d.Int(dc["max_depth"], "max_depth"));
        if (m < 0 || m > 20)
          return d.Fail(dc["max_depth"], "'max_depth' must be between 0 (unlimited) and 20");
        cfg->dc_max_depth = static_cast<int>(m);
      }
      if (dc["columns"]) {
        ASSIGN_OR_RETURN(cfg->dc_columns,
                         d.Strings(dc["columns"], "multivariate.domain_classifier.columns"));
      }
    }
    if (const auto& p = mv["pca"]) {
      RETURN_IF_ERROR(d.CheckKeys(p, "multivariate.pca", {"enabled", "variance", "columns"}));
      cfg->pca = true;
      if (p["enabled"]) {
        ASSIGN_OR_RETURN(cfg->pca, d.Bool(p["enabled"], "multivariate.pca.enabled"));
      }
      if (p["variance"]) {
        ASSIGN_OR_RETURN(cfg->pca_variance, d.Double(p["variance"], "multivariate.pca.variance"));
        if (!(cfg->pca_variance > 0 && cfg->pca_variance < 1)) {
          return d.Fail(p["variance"], "'multivariate.pca.variance' must be in (0, 1)");
        }
      }
      if (p["columns"]) {
        ASSIGN_OR_RETURN(cfg->pca_columns, d.Strings(p["columns"], "multivariate.pca.columns"));
      }
    }
  }
  RETURN_IF_ERROR(DecodeOutcomeConfig(d, root, &cfg->outcomes));
  if (root["estimation"]) RETURN_IF_ERROR(DecodeEstimation(d, root["estimation"], cfg));
  if (root["performance"]) RETURN_IF_ERROR(DecodePerformance(d, root["performance"], cfg));
  RETURN_IF_ERROR(CheckValueMatrices(d, root, *cfg));
  if (root["on_bad_rows"]) {
    ASSIGN_OR_RETURN(std::string p, d.String(root["on_bad_rows"], "on_bad_rows"));
    if (p == "error")
      cfg->on_bad_rows = BadRowPolicy::kError;
    else if (p == "skip")
      cfg->on_bad_rows = BadRowPolicy::kSkip;
    else
      return d.Fail(root["on_bad_rows"], "'on_bad_rows' must be error or skip");
  }
  if (root["threads"]) {
    ASSIGN_OR_RETURN(int64_t t, d.Int(root["threads"], "threads"));
    if (t < 1 || t > 64) return d.Fail(root["threads"], "'threads' must be between 1 and 64");
    cfg->threads = static_cast<int>(t);
  }
  return OkStatus();
}

}  // namespace

bool IsContinuousMethod(const std::string& method) { return kContinuousMethods.count(method) > 0; }
bool IsCategoricalMethod(const std::string& method) {
  return kCategoricalMethods.count(method) > 0;
}

ThresholdSpec DefaultDriftThreshold(const std::string& method) {
  ThresholdSpec spec;
  if (method == "chi2") {
    spec.kind = ThresholdKind::kPValue;
    spec.alpha = 0.05;
  } else if (method == "psi") {
    spec.kind = ThresholdKind::kConstant;  // Evidently: drift when PSI >= 0.1
    spec.upper = 0.1;
  } else {
    spec.kind = ThresholdKind::kStd;
    spec.upper = 3.0;
  }
  return spec;
}

ThresholdSpec DefaultMetricThreshold() {
  ThresholdSpec spec;
  spec.kind = ThresholdKind::kStd;
  spec.lower = 3.0;
  spec.upper = 3.0;
  return spec;
}

ThresholdSpec MetricThresholdFor(const MetricThresholds& thresholds, const std::string& key) {
  auto it = thresholds.find(key);
  return it == thresholds.end() ? DefaultMetricThreshold() : it->second;
}

StatusOr<MonitorConfig> ParseMonitorConfig(const std::string& yaml_text, const std::string& name,
                                           const std::string& base_dir) {
  MonitorConfig cfg;
  cfg.config_path = name;
  Decoder d(name);
  try {
    YAML::Node root = YAML::Load(yaml_text);
    RETURN_IF_ERROR(Decode(d, root, base_dir, &cfg));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(fmt::format("{}:{}: invalid YAML: {}", name, e.mark.line + 1, e.msg));
  }
  return cfg;
}

StatusOr<MonitorConfig> LoadMonitorConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(fmt::format("{}: cannot open config file", path));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string base = std::filesystem::path(path).parent_path().string();
  return ParseMonitorConfig(ss.str(), path, base);
}

}  // namespace cairn::monitor
