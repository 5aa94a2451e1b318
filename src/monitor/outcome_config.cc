#include "monitor/outcome_config.h"

#include <algorithm>
#include <cmath>

#include "monitor/config_decoder.h"

namespace cairn::monitor {
namespace {

// The binary amount matrix: a 2x2 value matrix.
StatusOr<ValueMatrix> DecodeMatrix2x2(const Decoder& d, const YAML::Node& n,
                                      const std::string& key) {
  ASSIGN_OR_RETURN(SquareMatrix m, DecodeValueMatrix(d, n, key));
  if (m.size() != 2)
    return d.Fail(n, fmt::format("'{}' must be a 2x2 matrix [[TN, FP], [FN, TP]]; it is {}x{}",
                                 key, m.size(), m.size()));
  return ValueMatrix{{{m[0][0], m[0][1]}, {m[1][0], m[1][1]}}};
}

Status DecodeFairness(const Decoder& d, const YAML::Node& n, FairnessSpec* out) {
  RETURN_IF_ERROR(d.CheckKeys(n, "fairness", {"sensitive_attributes", "intersections", "limits"}));
  if (!n["sensitive_attributes"])
    return d.Fail(n, "'fairness' needs 'sensitive_attributes' (one or more columns)");
  ASSIGN_OR_RETURN(out->sensitive_attributes,
                   d.Strings(n["sensitive_attributes"], "fairness.sensitive_attributes"));
  if (out->sensitive_attributes.empty())
    return d.Fail(n["sensitive_attributes"], "'fairness.sensitive_attributes' is empty");
  if (const auto& in = n["intersections"]) {
    if (!in.IsSequence())
      return d.Fail(in, "'fairness.intersections' must be a list of lists of attributes");
    for (const auto& e : in) {
      ASSIGN_OR_RETURN(auto attrs, d.Strings(e, "fairness.intersections"));
      if (attrs.size() < 2)
        return d.Fail(e, "each of 'fairness.intersections' names two or more attributes");
      for (const auto& a : attrs) {
        if (std::find(out->sensitive_attributes.begin(), out->sensitive_attributes.end(), a) ==
            out->sensitive_attributes.end()) {
          return d.Fail(e, fmt::format("'fairness.intersections' names '{}', which is not one of "
                                       "'fairness.sensitive_attributes'",
                                       a));
        }
      }
      out->intersections.push_back(std::move(attrs));
    }
  }
  out->limits["demographic_parity_ratio"] = {0.8, std::nullopt};  // four-fifths rule
  if (const auto& l = n["limits"]) {
    const auto& names = FairnessMetricNames();
    RETURN_IF_ERROR(d.CheckKeys(l, "fairness.limits", {names.begin(), names.end()}));
    for (auto it = l.begin(); it != l.end(); ++it) {
      const std::string metric = it->first.as<std::string>();
      const std::string where = "fairness.limits." + metric;
      RETURN_IF_ERROR(d.CheckKeys(it->second, where, {"lower", "upper"}));
      LimitSpec spec;
      if (it->second["lower"]) {
        ASSIGN_OR_RETURN(spec.lower, d.OptDouble(it->second["lower"], where + ".lower"));
      }
      if (it->second["upper"]) {
        ASSIGN_OR_RETURN(spec.upper, d.OptDouble(it->second["upper"], where + ".upper"));
      }
      out->limits[metric] = spec;
    }
  }
  return OkStatus();
}

Status DecodeBusinessValue(const Decoder& d, const YAML::Node& n, BusinessValueSpec* out) {
  RETURN_IF_ERROR(
      d.CheckKeys(n, "business_value", {"matrix", "amount_column", "amount_matrix", "target"}));
  if (!n["matrix"]) {
    return d.Fail(n, "'business_value' needs 'matrix': [[TN, FP], [FN, TP]] (value per outcome)");
  }
  ASSIGN_OR_RETURN(out->matrix, DecodeValueMatrix(d, n["matrix"], "business_value.matrix"));
  if (n["amount_column"]) {
    ASSIGN_OR_RETURN(out->amount_column,
                     d.String(n["amount_column"], "business_value.amount_column"));
  }
  if (n["amount_matrix"]) {
    if (out->amount_column.empty())
      return d.Fail(n["amount_matrix"], "'business_value.amount_matrix' needs 'amount_column'");
    ASSIGN_OR_RETURN(out->amount_matrix,
                     DecodeMatrix2x2(d, n["amount_matrix"], "business_value.amount_matrix"));
  }
  if (n["target"]) {
    ASSIGN_OR_RETURN(double t, d.Double(n["target"], "business_value.target"));
    out->target = t;
  }
  return OkStatus();
}

Status DecodeWeakSegments(const Decoder& d, const YAML::Node& n, WeakSegmentsSpec* out) {
  RETURN_IF_ERROR(d.CheckKeys(n, "weak_segments",
                              {"features", "metric", "bins", "max_categories", "pairs", "min_size",
                               "min_rows", "min_effect", "alpha", "rank_by", "top"}));
  if (n["features"]) {
    ASSIGN_OR_RETURN(out->features, d.Strings(n["features"], "weak_segments.features"));
  }
  if (n["metric"]) {
    ASSIGN_OR_RETURN(out->metric, d.String(n["metric"], "weak_segments.metric"));
    static const std::set<std::string> kMetrics = {"auto", "error_rate", "log_loss",
                                                   "absolute_error", "squared_error"};
    if (!kMetrics.count(out->metric)) {
      return d.Fail(n["metric"],
                    "'weak_segments.metric' must be auto, error_rate, log_loss, absolute_error "
                    "or squared_error");
    }
  }
  auto int_in = [&](const char* key, int64_t lo, int64_t hi, int64_t* v) -> Status {
    if (!n[key]) return OkStatus();
    ASSIGN_OR_RETURN(*v, d.Int(n[key], std::string("weak_segments.") + key));
    if (*v < lo || *v > hi)
      return d.Fail(n[key],
                    fmt::format("'weak_segments.{}' must be between {} and {}", key, lo, hi));
    return OkStatus();
  };
  int64_t bins = out->bins, cats = out->max_categories, top = out->top;
  RETURN_IF_ERROR(int_in("bins", 2, 100, &bins));
  RETURN_IF_ERROR(int_in("max_categories", 2, 1000, &cats));
  RETURN_IF_ERROR(int_in("top", 1, 10000, &top));
  RETURN_IF_ERROR(int_in("min_rows", 2, int64_t{1} << 40, &out->min_rows));
  out->bins = static_cast<int>(bins);
  out->max_categories = static_cast<int>(cats);
  out->top = static_cast<int>(top);
  if (n["pairs"]) {
    ASSIGN_OR_RETURN(out->pairs, d.Bool(n["pairs"], "weak_segments.pairs"));
  }
  auto fraction = [&](const char* key, double* v, bool allow_zero) -> Status {
    if (!n[key]) return OkStatus();
    ASSIGN_OR_RETURN(*v, d.Double(n[key], std::string("weak_segments.") + key));
    if (!(*v < 1) || !(allow_zero ? *v >= 0 : *v > 0))
      return d.Fail(n[key], fmt::format("'weak_segments.{}' must be in {}0, 1)", key,
                                        allow_zero ? "[" : "("));
    return OkStatus();
  };
  RETURN_IF_ERROR(fraction("min_size", &out->min_size, true));
  RETURN_IF_ERROR(fraction("alpha", &out->alpha, false));
  if (n["min_effect"]) {
    ASSIGN_OR_RETURN(out->min_effect, d.Double(n["min_effect"], "weak_segments.min_effect"));
    if (!(out->min_effect >= 0))
      return d.Fail(n["min_effect"], "'weak_segments.min_effect' must be >= 0");
  }
  if (n["rank_by"]) {
    ASSIGN_OR_RETURN(out->rank_by, d.String(n["rank_by"], "weak_segments.rank_by"));
    if (out->rank_by != "gap" && out->rank_by != "size" && out->rank_by != "p_value" &&
        out->rank_by != "effect_size") {
      return d.Fail(n["rank_by"],
                    "'weak_segments.rank_by' must be gap, size, p_value or effect_size");
    }
  }
  return OkStatus();
}

Status DecodeRanker(const Decoder& d, const YAML::Node& n, RankerSpec* out) {
  RETURN_IF_ERROR(d.CheckKeys(n, "correlation_ranker",
                              {"metric", "performance", "drift_method", "only_drifting"}));
  if (n["performance"]) {
    ASSIGN_OR_RETURN(std::string p, d.String(n["performance"], "correlation_ranker.performance"));
    if (p != "realized" && p != "estimated")
      return d.Fail(n["performance"],
                    "'correlation_ranker.performance' must be realized or estimated");
    out->estimated = p == "estimated";
  }
  if (n["metric"]) {
    ASSIGN_OR_RETURN(out->metric, d.String(n["metric"], "correlation_ranker.metric"));
  }
  if (n["drift_method"]) {
    ASSIGN_OR_RETURN(out->drift_method,
                     d.String(n["drift_method"], "correlation_ranker.drift_method"));
  }
  if (n["only_drifting"]) {
    ASSIGN_OR_RETURN(out->only_drifting,
                     d.Bool(n["only_drifting"], "correlation_ranker.only_drifting"));
  }
  return OkStatus();
}

}  // namespace

StatusOr<SquareMatrix> DecodeValueMatrix(const Decoder& d, const YAML::Node& n,
                                         const std::string& key) {
  const std::string shape = fmt::format(
      "'{}' must be a square matrix of numbers, rows = the true class and columns = the "
      "predicted class: a 2x2 matrix [[TN, FP], [FN, TP]] for a binary classifier, KxK over the "
      "sorted class labels for K classes",
      key);
  if (!n.IsSequence() || n.size() == 0) {
    return d.Fail(n, n.IsSequence() ? fmt::format("'{}' is empty; {}", key, shape) : shape);
  }
  const size_t k = n.size();
  if (k < 2) return d.Fail(n, fmt::format("{}; it has 1 row", shape));
  SquareMatrix m(k, std::vector<double>(k));
  for (size_t i = 0; i < k; ++i) {
    const YAML::Node& row = n[i];
    if (!row.IsSequence() || row.size() != k) {
      return d.Fail(row, fmt::format("{}; it has {} rows but row {} has {} values", shape, k,
                                     i + 1, row.IsSequence() ? row.size() : 1));
    }
    for (size_t j = 0; j < k; ++j) {
      ASSIGN_OR_RETURN(m[i][j], d.Double(row[j], key));
      if (!std::isfinite(m[i][j])) return d.Fail(row[j], fmt::format("'{}' must be finite", key));
    }
  }
  return m;
}

const std::vector<std::string>& FairnessMetricNames() {
  static const std::vector<std::string> kNames = {
      "demographic_parity_difference", "demographic_parity_ratio",     "equalized_odds_difference",
      "equalized_odds_ratio",          "equal_opportunity_difference", "equal_opportunity_ratio"};
  return kNames;
}

const std::vector<std::string>& OutcomeConfigKeys() {
  static const std::vector<std::string> kKeys = {"fairness", "business_value", "weak_segments",
                                                 "correlation_ranker"};
  return kKeys;
}

Status DecodeOutcomeConfig(const Decoder& d, const YAML::Node& root, OutcomeConfig* out) {
  if (const auto& n = root["fairness"]) {
    out->fairness.emplace();
    RETURN_IF_ERROR(DecodeFairness(d, n, &*out->fairness));
  }
  if (const auto& n = root["business_value"]) {
    out->business_value.emplace();
    RETURN_IF_ERROR(DecodeBusinessValue(d, n, &*out->business_value));
  }
  if (const auto& n = root["weak_segments"]) {
    out->weak_segments.emplace();
    if (!n.IsNull()) RETURN_IF_ERROR(DecodeWeakSegments(d, n, &*out->weak_segments));
  }
  if (const auto& n = root["correlation_ranker"]) {
    out->correlation_ranker.emplace();
    if (!n.IsNull()) RETURN_IF_ERROR(DecodeRanker(d, n, &*out->correlation_ranker));
  }
  return OkStatus();
}

}  // namespace cairn::monitor
