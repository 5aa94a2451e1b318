// Business value per chunk (binary and multiclass classifiers) and portfolio figures (binary).
//
// business_value (nannyML's realized 'business_value' metric,
// performance_calculation/metrics/binary_classification.py): with the confusion matrix
// C = [[TN, FP], [FN, TP]] of the chunk (rows = the truth, columns = the prediction; rows
// whose target or prediction is missing are dropped) and the configured value matrix V of the
// same layout, value = Σ_ij V_ij·C_ij.
// business_value_per_prediction (nannyML's normalize_business_value='per_prediction'): C is
// first divided by its column sums (the number of predicted negatives and predicted
// positives; an empty column becomes 0), so the value is
//   (TN·V_TN + FN·V_FN)/(TN + FN) + (FP·V_FP + TP·V_TP)/(FP + TP),
// the mean value of a predicted negative plus the mean value of a predicted positive — not the
// total divided by the number of predictions, whatever nannyML's docs say.
// Multiclass (nannyML's MulticlassClassificationBusinessValue): the same over the K×K confusion
// matrix of the sorted class labels and a K×K value matrix; per prediction divides each column
// (predicted class) by its sum.
// Both: thresholds nanmean ± 3·nanstd (ddof 0) of the reference chunks (nannyML's default; or
// performance.thresholds.business_value), no limits, alert strictly outside. Unlike nannyML, a
// chunk whose targets and predictions hold a single class still uses the full matrix
// (scikit-learn's confusion_matrix would return 1x1 and nannyML would broadcast it over all
// four values).
//
// Portfolio figures (binary; rows with a prediction; no thresholds unless stated):
//   positive_decisions   rows with ŷ = 1
//   amount_sum           Σ amount over ŷ = 1 (with amount_column; missing amounts skipped and
//                        counted in details.rows_without_amount)
//   profit_and_loss      Σ amount_i·A[y_i][ŷ_i] over rows with a target (with amount_matrix),
//                        else the business value; with `target`, lower threshold = target and
//                        an alert when P&L < target; details.vs_target = P&L − target.
//                        Multiclass: the business value, with `target`.
// Records: kind "business_value", column = the target name.
//
// Thread-safety: a pure function over const data.
#pragma once

#include <span>
#include <vector>

#include "common/status.h"
#include "monitor/chunker.h"
#include "monitor/config.h"
#include "monitor/results.h"
#include "monitor/table.h"

namespace cairn::monitor {

// Σ_ij V_ij·C_ij over a k×k (row-major, [truth][prediction]) confusion matrix C of counts or
// expected counts, summed as numpy sums the elementwise product; `per_prediction` first divides
// each column of C by its sum (an empty column becomes 0, numpy's nan_to_num).
double BusinessValueOf(std::vector<double> cm, const SquareMatrix& value, bool per_prediction);

// The realized business value of rows with a target and a prediction (class indices into the
// value matrix; binary: 0/1); NaN when there are none.
double RealizedBusinessValue(std::span<const double> y_true, std::span<const double> y_pred,
                             const SquareMatrix& value, bool per_prediction);

// Records for every chunk of both periods (reference first), metric-major. The tables hold
// kPredColumn and kTargetColumn (performance.h) and the amount column when configured.
// Errors: InvalidArgument unless the model is a classifier with y_pred, or when the amount
// column is not numeric; NotFound for a missing column.
StatusOr<std::vector<Record>> ComputeBusinessValue(const MonitorConfig& config,
                                                   const Table& ref_table,
                                                   const std::vector<Chunk>& ref_chunks,
                                                   const Table& ana_table,
                                                   const std::vector<Chunk>& ana_chunks);

}  // namespace cairn::monitor
