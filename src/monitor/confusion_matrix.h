// Confusion-matrix cells as nannyML 0.13.1 reports them, with its normalize_confusion_matrix
// option (CmNormalization, config.h), for realized performance (performance.h) and CBPE
// (cbpe.h).
//
// Normalization of a cell c = (true a, predicted b):
//   kNone  the count;
//   kAll   c / the chunk's rows;
//   kTrue  c / Σ of the cells with true class a   (the row: TP / (TP + FN), …);
//   kPred  c / Σ of the cells with predicted b    (the column: TP / (TP + FP), …).
// Realized cells divide integer counts (scikit-learn's confusion_matrix(normalize=...), nannyML's
// own tp / (tp + fn)). Estimated binary cells are nannyML's CBPE arithmetic on the expected
// ratios r = expected count / n: r·n, r, or r · (1 / (r + r_other)); estimated multiclass
// cells divide the expected ratio matrix by its row, column or total sums. A zero denominator
// makes the cell undefined (NaN with a reason) where nannyML returns NaN (realized, estimated)
// or scikit-learn 0 (CBPE's realized values).
//
// Sampling error (nannyml/sampling_error/{binary,multiclass}_classification.py): the population
// std of a 0/1 indicator over the reference rows the cell is normalized by (all rows for kNone
// and kAll, the cell's true-class or predicted-class rows for kTrue/kPred), with fraction =
// those rows / all reference rows; SE in a chunk of n rows = std·√n for kNone, else
// std / √(n·fraction).
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <span>
#include <string>
#include <vector>

#include "monitor/config.h"
#include "monitor/performance.h"
#include "monitor/sampling_error.h"

namespace cairn::monitor {

// The record-name suffix of a cell: "count", "norm_all", "norm_true", "norm_pred".
const char* CmSuffix(CmNormalization n);
// Whether a realized or estimated metric name is a confusion-matrix cell (…_count of the four
// binary cells or true_<a>_pred_<b>_…, or any …_norm_all|true|pred).
bool IsConfusionCell(const std::string& metric);
// Upper limit of a cell's value: 1 when normalized, none for counts (the lower limit is 0).
std::optional<double> CmUpperLimit(CmNormalization n);

// Binary cells are indexed in cairn's record order: 0 TP, 1 TN, 2 FP, 3 FN.
// Binary record names: true_positive_<suffix>, …
std::array<std::string, 4> BinaryCellNames(CmNormalization n);

// Realized binary cells from the counts (NaN counts stay undefined with `undefined_reason`).
std::array<MetricValue, 4> RealizedBinaryCells(double tp, double tn, double fp, double fn,
                                               CmNormalization n,
                                               const std::string& undefined_reason);
// Estimated binary cells from the expected counts of n rows (n > 0).
std::array<MetricValue, 4> EstimatedBinaryCells(double tp, double tn, double fp, double fn,
                                                double n, CmNormalization norm);

// Multiclass: `m` is row-major k×k [truth][prediction] (counts, or expected ratios Σ/n for
// estimates). Returns the normalized cells (kNone: m·scale, scale = 1 for counts or n for
// ratios).
std::vector<MetricValue> NormalizeMulticlassCells(const std::vector<double>& m, size_t k,
                                                  CmNormalization norm, double scale);

// Realized multiclass cells of a chunk (y_true, y_pred: class indices, NaN rows skipped),
// normalized; every cell is undefined, as in nannyML, when no row is labelled or the targets or
// the predictions hold a single class.
std::vector<MetricValue> RealizedMulticlassCells(std::span<const double> y_true,
                                                 std::span<const double> y_pred, size_t k,
                                                 CmNormalization norm);

// The rows a cell is normalized by, as sampling_error.h's confusion-cell components take it:
// 0 all (kNone, kAll), 1 the true class (kTrue), 2 the predicted class (kPred).
int CmNormalizedBy(CmNormalization n);
// SE of a cell in a chunk of n rows from its components (sampling_error.h).
double CellSamplingError(const SeComponents& c, double n, CmNormalization norm);

}  // namespace cairn::monitor
