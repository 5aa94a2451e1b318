// Sampling errors of estimated performance metrics, as nannyML 0.13.1 computes them
// (nannyml/sampling_error/{binary,multiclass}_classification.py, regression.py).
//
// Every error comes from "components" measured once on the reference rows (a population
// standard deviation, ddof 0, of a per-row quantity, and the fraction of rows that quantity is
// defined on) and is scaled to a chunk of n rows: SE = std / sqrt(n · fraction).
//
// Binary inputs: y_true, y_pred in {0, 1}, proba in [0, 1], rows with a NaN already dropped.
// Multiclass inputs: one-vs-rest binarized vectors per class (sorted class order).
//
// Deliberate difference: nannyML ranks the reference scores for the ROC AUC components with
// numpy's unstable quicksort, so tied scores land in an order that depends on numpy's SIMD
// dispatch (CPU-dependent); cairn breaks ties by row order (a stable sort). Without ties the
// result is the same.
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <span>
#include <vector>

namespace cairn::monitor {

struct SeComponents {
  double std = 0;       // population std (binary) or variance (multiclass, see below)
  double fraction = 1;  // share of reference rows the per-row quantity is defined on
};

// Population standard deviation (ddof 0) with numpy's pairwise summation.
double PopulationStd(std::span<const double> x);

// std / sqrt(n · fraction).
double UniversalSamplingError(const SeComponents& c, double n);

// --- Binary classification. ---
// ROC AUC: Mann-Whitney decomposition of the reference ranking (labels flipped when most are
// positive); components (std of the per-positive share of negatives ranked below, positive
// share).
SeComponents BinaryAurocComponents(std::span<const double> y_true, std::span<const double> proba);
// F1 (with nannyML's correcting factor), precision, recall, specificity, accuracy.
SeComponents BinaryF1Components(std::span<const double> y_true, std::span<const double> y_pred);
SeComponents BinaryPrecisionComponents(std::span<const double> y_true,
                                       std::span<const double> y_pred);
SeComponents BinaryRecallComponents(std::span<const double> y_true,
                                    std::span<const double> y_pred);
SeComponents BinarySpecificityComponents(std::span<const double> y_true,
                                         std::span<const double> y_pred);
SeComponents BinaryAccuracyComponents(std::span<const double> y_true,
                                      std::span<const double> y_pred);
// Confusion-matrix cell `cell` (0 TP, 1 TN, 2 FP, 3 FN) under nannyML's
// normalize_confusion_matrix (`normalized_by`: 0 all rows (None, 'all'), 1 the cell's true-class
// rows ('true'), 2 its predicted-class rows ('pred')): std of the cell's 0/1 indicator over those
// rows, fraction = those rows / all rows. The SE is confusion_matrix.h's CellSamplingError.
SeComponents BinaryConfusionCellComponents(std::span<const double> y_true,
                                           std::span<const double> y_pred, int cell,
                                           int normalized_by);
// The same for multiclass cells from the reference counts (row-major k×k [truth][prediction]).
std::vector<SeComponents> MulticlassConfusionCellComponents(const std::vector<double>& counts,
                                                            size_t k, int normalized_by);
// Business value: std of each row's value matrix[y_true][y_pred] (class indices; binary 0/1
// gives [[TN, FP], [FN, TP]]), with `ddof` 0 as nannyML's binary np.std or 1 as its multiclass
// pandas Series.std. SE of the total in n rows = std·sqrt(n); of the per-prediction value,
// std / sqrt(n) (nannyML).
double BusinessValueStd(std::span<const double> y_true, std::span<const double> y_pred,
                        const std::vector<std::vector<double>>& matrix, int ddof);

// --- Multiclass (one-vs-rest; `std` holds the class's variance). ---
// SE = sqrt(Σ_k var_k / (n · fraction_k)) / K, times 1.2 for ROC AUC.
double MulticlassSamplingError(const std::vector<SeComponents>& per_class, double n,
                               double factor = 1.0);
// y_true_k: binarized targets of class k; score_k its uncalibrated probability.
SeComponents MulticlassAurocClassComponents(std::span<const double> y_true_k,
                                            std::span<const double> score_k);
SeComponents MulticlassF1ClassComponents(std::span<const double> y_true_k,
                                         std::span<const double> y_pred_k);
SeComponents MulticlassPrecisionClassComponents(std::span<const double> y_true_k,
                                                std::span<const double> y_pred_k);
SeComponents MulticlassRecallClassComponents(std::span<const double> y_true_k,
                                             std::span<const double> y_pred_k);
SeComponents MulticlassSpecificityClassComponents(std::span<const double> y_true_k,
                                                  std::span<const double> y_pred_k);

// --- Regression: components of MAE, MAPE, MSE, MSLE (std of the per-row loss; SE =
// std/sqrt(n)) and RMSE, RMSLE (SE = sqrt(std² / (4·n·mean))). nannyML's MAPE component divides
// by y (not |y|, no epsilon), and is reproduced as such. ---
struct RegressionSe {
  double mae = 0, mape = 0, mse = 0, msle = 0;
  double se_mean = 0, sle_mean = 0;  // means of the squared (log) errors for RMSE / RMSLE
};
RegressionSe RegressionSeComponents(std::span<const double> y_true,
                                    std::span<const double> y_pred);
// metric: one of mae, mape, mse, rmse, msle, rmsle.
double RegressionSamplingError(const RegressionSe& c, const char* metric, double n);

}  // namespace cairn::monitor
