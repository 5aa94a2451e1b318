// Realized performance per chunk once targets are known (nannyML's PerformanceCalculator and
// scikit-learn's metrics), plus calibration (calibration.h) for binary classifiers.
//
// Problem type: multiclass when model_outputs.y_pred_proba maps classes to columns (y_pred
// required; labels compared as text); a binary classifier when it names one column (y_pred
// optional: the label metrics need it); a regression when only y_pred is. Reference targets
// come from the reference column `target` (or targets.column); analysis targets from that
// column in the analysis file when present, otherwise from the targets file joined on
// targets.join_key. Rows whose target or prediction is missing are dropped per metric, as
// nannyML does; analysis rows whose key has no target are counted in a summary warning.
//
// Records: kind "performance" (or "calibration"), column = the target name, one per
// (chunk, metric), thresholds nanmean ± 3·nanstd (ddof 0) of the reference chunks (or the
// metric's performance.thresholds entry, config.h) clipped to the metric's limits, alert
// strictly outside. An undefined value (a single class in the
// chunk, no positive predictions, no targets) is NaN with Record::reason saying why.
//
// Thread-safety: free functions over const data.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "monitor/chunker.h"
#include "monitor/config.h"
#include "monitor/data_source.h"
#include "monitor/results.h"
#include "monitor/table.h"

namespace cairn::monitor {

// Name of the column AttachTargets appends to both tables (numeric target, NaN = unknown).
inline constexpr const char* kTargetColumn = "__cairn_y_true";
// Binary probability and predicted label (class index for multiclass) columns AttachTargets
// appends (numeric, NaN = missing).
inline constexpr const char* kProbaColumn = "__cairn_y_pred_proba";
inline constexpr const char* kPredColumn = "__cairn_y_pred";

// The target's name: `target`, else targets.column, else "".
std::string TargetName(const MonitorConfig& config);

// A multiclass model's y_pred column in `table` as class indices into the sorted labels of
// model_outputs.y_pred_proba (NaN when missing). Errors: NotFound (no column), InvalidArgument
// naming file, row and column for a label that is not a class.
StatusOr<std::vector<double>> PredictedClassCodes(const MonitorConfig& config, const Table& table);

// A metric value, or NaN with the reason it is undefined.
struct MetricValue {
  double value = 0;
  std::string reason;  // non-empty iff undefined
};

struct MetricInfo {
  std::string name;
  std::string kind;  // "performance" or "calibration"
  std::optional<double> lower_limit, upper_limit;
};

// Metric names in output order.
std::vector<MetricInfo> BinaryMetricInfos(bool have_labels);
std::vector<MetricInfo> RegressionMetricInfos();

// All binary metrics of BinaryMetricInfos(!y_pred.empty()): y_true in {0, 1}, proba in
// [0, 1], y_pred in {0, 1} (may be empty); NaN rows are dropped per metric. As nannyML, ROC
// AUC is undefined for a single target class, and F1/precision/recall for a single target or
// predicted class; specificity and the rates when their denominator is zero.
// `loss_and_calibration` false skips log loss, the Brier score and both ECEs (NaN, "not
// computed"), for callers that only read the rank and label metrics.
std::vector<MetricValue> BinaryMetrics(std::span<const double> y_true,
                                       std::span<const double> proba,
                                       std::span<const double> y_pred,
                                       bool loss_and_calibration = true);

// scikit-learn's roc_auc_score and average_precision_score of 0/1 `label`s by `score`, given
// `ascending`, the rows in ascending score order (any order among equal scores), and the
// label counts (both non-zero; scores not NaN).
struct RankMetricValues {
  double roc_auc = 0;
  double average_precision = 0;
};
RankMetricValues RankMetrics(std::span<const double> score, std::span<const double> label,
                             std::span<const uint32_t> ascending, double positives,
                             double negatives);
// Multiclass (y_true and y_pred are class indices into the sorted classes, proba[k] the
// probability of class k): one-vs-rest macro ROC AUC (undefined unless every class occurs in
// the chunk, as nannyML), macro F1/precision/recall/specificity (undefined when the targets or
// the predictions hold a single class, as nannyML), accuracy, and support-weighted
// F1/precision/recall (scikit-learn's average='weighted', same undefined rule). A class
// without predictions scores 0 precision (scikit-learn's zero_division default).
std::vector<MetricInfo> MulticlassMetricInfos();
std::vector<MetricValue> MulticlassMetrics(std::span<const double> y_true,
                                           const std::vector<std::span<const double>>& proba,
                                           std::span<const double> y_pred);
// MAE, MAPE, MSE, RMSE, MSLE, RMSLE, R² (scikit-learn's definitions).
std::vector<MetricValue> RegressionMetrics(std::span<const double> y_true,
                                           std::span<const double> y_pred);

// Whether performance is computed: a target name and a model output are configured, and the
// analysis targets exist (a 'targets' file, or the target column among `analysis_columns`).
// Otherwise the target is only excluded from the features (monitoring engine I).
bool WantsPerformance(const MonitorConfig& config,
                      const std::vector<std::string>& analysis_columns);

// Reads the targets (reference column; analysis column or the joined targets file) and
// appends kTargetColumn to both tables, in their current row order. Validates that
// probabilities lie in [0, 1] and binary targets/labels are 0/1 (errors name the file, line
// and column). Appends a warning for analysis rows without a target.
// `loaded`: the tables that hold a column named as the target got it from their own parse,
// read as a read of that column alone would read it (RunMonitorOn loads it with the other
// columns); it is converted from there and then removed instead of read again.
// Errors: NotFound (file or column), InvalidArgument (bad values).
Status AttachTargets(const MonitorConfig& config, DataSource& reference, DataSource& analysis,
                     Table* ref_table, Table* ana_table, std::vector<std::string>* warnings,
                     bool loaded = false);

// Records for every chunk of both periods (reference first) and every metric.
std::vector<Record> ComputePerformance(const MonitorConfig& config, const Table& ref_table,
                                       const std::vector<Chunk>& ref_chunks, const Table& ana_table,
                                       const std::vector<Chunk>& ana_chunks);

}  // namespace cairn::monitor
