// Configuration of the analyses that look at outcomes beside the per-chunk metrics: fairness
// (fairness.h), business value (business_value.h), weak segments (weak_segments.h) and the
// correlation ranker (ranker.h). Part of MonitorConfig (config.h); each section is optional.
//
// fairness:                            # without targets: selection rates and parity only;
//                                       # multiclass: one-vs-rest per class + worst case
//   sensitive_attributes: [sex, race]   # required; each is grouped by its values (missing
//                                       # values form the group "(missing)")
//   intersections: [[sex, race]]        # also group by these combinations of the attributes
//   limits:                             # alert when a chunk's value leaves [lower, upper]
//     demographic_parity_ratio: {lower: 0.8}        # the default: the four-fifths rule
//     demographic_parity_difference: {upper: 0.1}
//     equalized_odds_difference: {upper: 0.1}
//     equal_opportunity_difference: {upper: 0.1}
//     (also equalized_odds_ratio, equal_opportunity_ratio)
//
// business_value:
//   matrix: [[0, -200], [-1000, 500]]   # required: [[TN, FP], [FN, TP]], rows = the truth;
//                                       # multiclass: K×K over the sorted class labels (rows =
//                                       # the true class, columns = the predicted class)
//   amount_column: car_value            # optional, binary: portfolio figures over positive
//                                       # decisions
//   amount_matrix: [[0, 0], [-1, 0.1]]  # optional, binary: P&L per row = amount · this cell
//   target: 100000                      # optional: alert when a chunk's P&L is below it
//
// weak_segments:
//   features: [a, b]          # default: every monitored feature (not the model outputs)
//   metric: auto              # per-row loss: error_rate (classifiers with y_pred), log_loss
//                             # (binary), absolute_error or squared_error (regression)
//   bins: 5                   # reference-quantile bins of numeric features
//   max_categories: 20        # the most frequent reference values; the rest are "(other)"
//   pairs: true               # also pairs of features
//   min_size: 0.05            # a segment holds at least this share of the chunk ...
//   min_rows: 30              # ... and at least this many rows
//   min_effect: 0.3           # SliceFinder's effect size φ
//   alpha: 0.05               # Benjamini-Hochberg false-discovery rate
//   rank_by: gap              # gap | size | p_value | effect_size
//   top: 10                   # segments listed per chunk
//
// correlation_ranker:
//   metric: roc_auc           # a performance metric of this run
//   performance: realized     # or estimated (CBPE/DLE records; no targets needed)
//   drift_method: jensen_shannon
//   only_drifting: false
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cairn::monitor {

struct LimitSpec {
  std::optional<double> lower, upper;
};

struct FairnessSpec {
  std::vector<std::string> sensitive_attributes;
  std::vector<std::vector<std::string>> intersections;  // each of two or more attributes
  std::map<std::string, LimitSpec> limits;              // metric name -> limits
};

// [[TN, FP], [FN, TP]]: indexed [truth][prediction].
using ValueMatrix = std::array<std::array<double, 2>, 2>;

// A square value matrix [truth][prediction]: 2×2 [[TN, FP], [FN, TP]] for binary classifiers,
// K×K over the sorted class labels for multiclass ones.
using SquareMatrix = std::vector<std::vector<double>>;

struct BusinessValueSpec {
  SquareMatrix matrix;  // [truth][prediction]
  std::string amount_column;
  std::optional<ValueMatrix> amount_matrix;
  std::optional<double> target;
};

struct WeakSegmentsSpec {
  std::vector<std::string> features;
  std::string metric = "auto";
  int bins = 5;
  int max_categories = 20;
  bool pairs = true;
  double min_size = 0.05;
  int64_t min_rows = 30;
  double min_effect = 0.3;
  double alpha = 0.05;
  std::string rank_by = "gap";
  int top = 10;
};

struct RankerSpec {
  std::string metric = "roc_auc";
  bool estimated = false;  // rank against estimated (kind estimated_performance) values
  std::string drift_method = "jensen_shannon";
  bool only_drifting = false;
};

struct OutcomeConfig {
  std::optional<FairnessSpec> fairness;
  std::optional<BusinessValueSpec> business_value;
  std::optional<WeakSegmentsSpec> weak_segments;
  std::optional<RankerSpec> correlation_ranker;
};

// The fairness metrics limits may name.
const std::vector<std::string>& FairnessMetricNames();

}  // namespace cairn::monitor
