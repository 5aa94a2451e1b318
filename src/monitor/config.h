// The monitor run configuration (YAML), decoded into plain structs.
//
// reference: ref.csv.gz            # required; paths are relative to the config file
// analysis: analysis.csv           # required
// target: repaid                  # the target column of the reference (excluded from features)
// targets: {path: t.csv, join_key: id, column: repaid}   # analysis targets arriving later,
//                                  # joined on the key (compared as text); with `target` and a
//                                  # model output this turns on realized performance
//                                  # (performance.h). column defaults to `target`.
// timestamp_column: timestamp      # optional; rows are sorted by it before chunking
// id_columns: [id]                 # excluded from the default features
// chunking: {size: 5000, incomplete: keep}  # or {number: 10} or {period: M}; default 10 chunks
// features: [a, b]                 # default: every column but ids, timestamp, targets, outputs
// column_types: {b: categorical}   # overrides inference
// model_outputs: {y_pred_proba: p, y_pred: yhat}   # drift like features
//   multiclass: y_pred_proba: {class_a: p_a, class_b: p_b}  (class label -> probability column)
// drift:
//   preset: nannyml                # or evidently: Evidently's default test per column, which
//                                  # replaces the default method lists below
//   continuous: [kolmogorov_smirnov, jensen_shannon]   # default [jensen_shannon]
//   categorical: [chi2, jensen_shannon]                # default [jensen_shannon]
//   thresholds:
//     jensen_shannon: {type: std, lower: null, upper: 3}    # nannyML default (upper only)
//     wasserstein: {type: constant, lower: null, upper: 0.5}
//     kolmogorov_smirnov: {type: p_value, alpha: 0.05}
//   ks_calculation: auto           # auto | exact | estimated (nannyML's calculation_method)
// data_quality: {enabled: true, duplicates_key: [id]}
// summary_stats: {enabled: true}
// multivariate: {pca: {enabled: true, variance: 0.65, columns: [..]},
//                domain_classifier: {enabled: true, trees: 100, learning_rate: 0.1, max_depth: 0,
//                                    columns: [..]}}
// fairness / business_value / weak_segments / correlation_ranker: see outcome_config.h
// estimation:                      # performance without analysis targets (cbpe.h, dle.h); needs
//                                  # `target` (reference) and model outputs
//   metrics: [roc_auc, f1]         # default: every metric of the problem type (binary:
//                                  # average_precision only when listed)
//   calibration: isotonic          # or none; isotonic is used only when it lowers the ECE
//   business_value: {matrix: [[0, -200], [-1000, 1000]], normalize: per_prediction}
//                                  # binary: [[TN, FP], [FN, TP]] values; multiclass: K×K, rows =
//                                  # the true class, columns = the predicted class, both in the
//                                  # sorted order of the model_outputs.y_pred_proba labels (its
//                                  # shape must match them); normalize: none (the total) or
//                                  # per_prediction (business_value.h); default: the top-level
//                                  # business_value.matrix, if any
//   normalize_confusion_matrix: all   # none (counts, the default) | all | true | pred: nannyML's
//                                  # option, each cell divided by the chunk's rows, its true-class
//                                  # row sum or its predicted-class column sum (confusion_matrix.h);
//                                  # records <cell>_count become <cell>_norm_all|true|pred
//   thresholds:                    # per metric, nannyML's `thresholds` (default std 3/3 of the
//                                  # realized metric over the reference chunks); the same keys
//                                  # serve DLE's metrics (mae, ...); confusion_matrix covers
//                                  # every cell, business_value both normalizations
//     roc_auc: {type: constant, lower: 0.8, upper: null}     # ConstantThreshold(0.8, None)
//     f1: {type: std, lower: 2, upper: 1.5, offset_from: median}
//                                  # StandardDeviationThreshold(2, 1.5, offset_from=np.nanmedian);
//                                  # lower/upper null: no bound on that side; type none: no alerts
//   dle: {trees: 100, learning_rate: 0.1, max_leaves: 31}   # regression loss models (XGBoost)
// performance:                     # realized performance (performance.h)
//   normalize_confusion_matrix: true  # as in estimation: the binary counts and the multiclass
//                                  # cells true_<a>_pred_<b>_count
//   thresholds: {accuracy: {type: constant, lower: 0.7}}   # any realized metric name,
//                                  # confusion_matrix for every cell (binary or multiclass),
//                                  # business_value for both business values (outcome_config.h)
// on_bad_rows: error               # or skip
//
// Unknown keys are InvalidArgument naming the key and its line.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "monitor/data_source.h"
#include "monitor/outcome_config.h"
#include "monitor/table.h"

namespace cairn::monitor {

enum class ChunkingKind { kDefault, kSize, kNumber, kPeriod };
enum class Incomplete { kKeep, kAppend, kDrop };

struct ChunkingSpec {
  ChunkingKind kind = ChunkingKind::kDefault;
  int64_t size = 0;
  int64_t number = 10;
  std::string period;  // pandas offset alias: H, D, W, M, Q, Y
  Incomplete incomplete = Incomplete::kKeep;
};

enum class ThresholdKind {
  kStd,       // offset ± multiplier·pstdev of the reference chunks (nannyML)
  kConstant,  // fixed lower/upper
  kPValue,    // alert when the method's p-value < alpha (chi2, KS)
  kNone,
};

// The centre a kStd threshold is offset from (nannyML's offset_from: np.nanmean, np.nanmedian).
enum class OffsetFrom { kMean, kMedian };

struct ThresholdSpec {
  ThresholdKind kind = ThresholdKind::kStd;
  std::optional<double> lower;  // std: lower multiplier; constant: lower bound
  std::optional<double> upper;
  double alpha = 0.05;
  OffsetFrom offset_from = OffsetFrom::kMean;
};

// Per-metric thresholds of realized and estimated performance, keyed by the configured metric
// name (nannyML's `thresholds` argument); absent metrics keep nannyML's default.
using MetricThresholds = std::map<std::string, ThresholdSpec>;

// nannyML's default for performance metrics: StandardDeviationThreshold(3, 3).
ThresholdSpec DefaultMetricThreshold();
// The threshold configured for `key` (a metric name, "confusion_matrix" or "business_value"),
// else DefaultMetricThreshold().
ThresholdSpec MetricThresholdFor(const MetricThresholds& thresholds, const std::string& key);

// nannyML's normalize_confusion_matrix: None, 'all', 'true', 'pred' (confusion_matrix.h).
enum class CmNormalization { kNone, kAll, kTrue, kPred };

struct TargetsSpec {
  std::string path;
  std::string join_key;
  std::string column;
};

// Performance estimation (CBPE for classifiers, DLE for regression).
struct EstimationSpec {
  std::vector<std::string> metrics;  // empty: the problem type's defaults
  bool calibrate = true;             // isotonic calibration when it lowers the ECE (nannyML)
  std::optional<SquareMatrix> business_value;  // [truth][prediction]
  bool business_value_per_prediction = false;
  CmNormalization normalize_confusion_matrix = CmNormalization::kNone;
  MetricThresholds thresholds;  // CBPE and DLE metrics
  int dle_trees = 100;
  double dle_learning_rate = 0.1;
  int dle_max_leaves = 31;
};

// Realized performance options (`performance:`).
struct PerformanceSpec {
  CmNormalization normalize_confusion_matrix = CmNormalization::kNone;
  MetricThresholds thresholds;
};

struct MonitorConfig {
  std::string config_path;  // for messages
  std::string reference;
  std::string analysis;
  std::optional<TargetsSpec> targets;
  std::string timestamp_column;
  std::vector<std::string> id_columns;
  ChunkingSpec chunking;
  std::vector<std::string> features;  // empty: default
  std::map<std::string, ColumnType> column_types;
  std::string y_pred_proba;
  std::string y_pred;
  // Multiclass: class label -> probability column (y_pred_proba is then empty).
  std::map<std::string, std::string> y_pred_proba_classes;
  std::string target_column;  // a column in reference holding the target, excluded from features
  std::string preset = "nannyml";
  std::vector<std::string> continuous_methods = {"jensen_shannon"};
  std::vector<std::string> categorical_methods = {"jensen_shannon"};
  std::map<std::string, ThresholdSpec> thresholds;  // per method name
  std::string ks_calculation = "auto";
  bool data_quality = true;
  std::vector<std::string> duplicates_key;
  bool summary_stats = true;
  bool pca = false;
  double pca_variance = 0.65;
  std::vector<std::string> pca_columns;  // empty: all features
  bool domain_classifier = false;
  int dc_trees = 100;
  double dc_learning_rate = 0.1;
  int dc_max_depth = 0;                 // 0: unlimited
  std::vector<std::string> dc_columns;  // empty: all features
  std::optional<EstimationSpec> estimation;
  PerformanceSpec performance;
  BadRowPolicy on_bad_rows = BadRowPolicy::kError;
  int threads = 2;
  OutcomeConfig outcomes;  // fairness, business value, weak segments, ranker
};

// Decodes YAML text. `base_dir` resolves relative paths; `name` is used in messages.
// Errors: InvalidArgument naming the key and line (unknown key, wrong type, bad value).
StatusOr<MonitorConfig> ParseMonitorConfig(const std::string& yaml_text, const std::string& name,
                                           const std::string& base_dir);

// Reads and decodes a config file. Errors: NotFound (no file), as ParseMonitorConfig.
StatusOr<MonitorConfig> LoadMonitorConfig(const std::string& path);

// The default threshold nannyML uses for a univariate method (std, upper 3, no lower; chi2:
// p-value 0.05).
ThresholdSpec DefaultDriftThreshold(const std::string& method);

// Known method names.
bool IsContinuousMethod(const std::string& method);
bool IsCategoricalMethod(const std::string& method);

}  // namespace cairn::monitor
