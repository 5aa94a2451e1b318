// Confidence-based performance estimation (CBPE) of classifiers without targets, as nannyML
// 0.13.1 computes it (nannyml/performance_estimation/confidence_based/, nannyml/calibration.py).
//
// Fit on the reference period (targets known):
//   - Calibration: an isotonic regression of the target on the score (scikit-learn's
//     IsotonicRegression(out_of_bounds='clip')) fitted on every reference row, used only when
//     it lowers the expected calibration error: nannyML's needs_calibration runs 10
//     stratified shuffle splits (test share 0.1, numpy RandomState(42), reproduced draw for
//     draw) and compares the ECE (10 equal-count bins) of the pooled test folds before and
//     after. Never when the targets hold a single class or the reference ROC AUC > 0.999.
//     Multiclass: one calibrator per class (one-vs-rest), then each row renormalised to sum 1
//     (uniform when it sums to 0), as nannyML.
//   - Sampling-error components (sampling_error.h) and thresholds: nanmean ± 3·nanstd (ddof 0)
//     of the *realized* metric on the reference chunks, clipped to the metric's limits.
// Per chunk (both periods), with calibrated probabilities p and the model's labels ŷ:
//   - Expected confusion matrix: TP = Σ_{ŷ=1} p, FP = Σ_{ŷ=1} (1 − p), FN = Σ_{ŷ=0} p,
//     TN = Σ_{ŷ=0} (1 − p); F1 = TP / (TP + (FP + FN)/2), precision, recall, specificity,
//     accuracy = (TP + TN)/n, the four counts, and business value Σ V ∘ CM over the matrix
//     [[TN, FP], [FN, TP]] (per prediction: each CM column divided by its sum first, nannyML's
//     normalize_business_value='per_prediction').
//   - ROC AUC: rows sorted by the uncalibrated score (descending); tps = cumsum(p),
//     fps = k − tps, both rounded to 5 decimals; trapezoid area of (fps/fps_n, tps/tps_n).
//   - Multiclass: one-vs-rest estimates macro-averaged; accuracy = mean p of the predicted
//     class; confusion-matrix cell (true a, predicted b) = Σ_{ŷ=b} p_a, recorded as
//     `true_<a>_pred_<b>_count`.
//   - Sampling error SE, confidence band value ∓ 3·SE clipped to the metric's limits, alert when
//     the estimate lies strictly outside the thresholds.
//
// Differences from nannyML (documented in docs/ARCHITECTURE.md):
//   - a metric whose denominator is zero in a chunk (e.g. no positive predictions) is undefined
//     (NaN with Record::reason) where nannyML returns 0;
//   - ties in sorts nannyML makes with numpy's unstable quicksort (the ECE bins of the
//     calibration decision, the ROC AUC sampling-error ranks) are broken by row order;
//   - average precision (binary; not a default metric): nannyML's sampling error for it is a
//     bootstrap over numpy's unseeded global RNG; cairn's is the same bootstrap drawn as
//     numpy would after np.random.seed(0), so it is reproducible.
//
// Thread-safety: free functions over const data; IsotonicCalibrator is immutable after Fit.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "monitor/chunker.h"
#include "monitor/config.h"
#include "monitor/results.h"
#include "monitor/table.h"
#include "monitor/work_items.h"

namespace cairn::monitor {

// numpy's legacy RandomState(seed) (MT19937, init_genrand): permutation() as numpy draws it.
// The generator's output is std::mt19937(seed)'s, tempered 624 words at a time.
class NumpyRandomState {
 public:
  explicit NumpyRandomState(uint32_t seed);
  // Uniform integer in [0, max] (numpy's random_interval; max < 2^32).
  uint32_t Interval(uint32_t max);
  // RandomState.shuffle of a 1-D array.
  void Shuffle(std::vector<int64_t>* v);
  // RandomState.permutation(n).
  std::vector<int64_t> Permutation(int64_t n);
  // Makes the draws Shuffle makes for an array of n elements, without an array.
  void SkipShuffle(size_t n);
  // RandomState.permutation(n) with every draw made, but only the positions from `from` on
  // computed (the earlier ones hold unspecified values).
  std::vector<uint32_t> PermutationFrom(uint32_t n, uint32_t from);

 private:
  static constexpr size_t kWords = 624;
  uint32_t Next() {
    if (used_ == kWords) Refill();
    return out_[used_++];
  }
  void Refill();  // the next 624 tempered outputs into out_
  // Shuffle's steps i = hi down to lo (lo >= 1) on v, or only their draws when v is null.
  template <typename T>
  void Steps(T* v, uint32_t hi, uint32_t lo);

  std::array<uint32_t, kWords> state_;
  std::array<uint32_t, kWords> out_;
  size_t used_ = kWords;
};

// The test-fold row indices of scikit-learn's StratifiedShuffleSplit(n_splits, test_size,
// random_state=seed).split(X, y), in the order sklearn yields them. `y` holds class codes.
// Errors: InvalidArgument when a class has fewer than 2 rows or a fold cannot hold every class.
StatusOr<std::vector<std::vector<int64_t>>> StratifiedShuffleSplitTestFolds(
    std::span<const double> y, int n_splits, double test_size, uint32_t seed);

// scikit-learn's IsotonicRegression(increasing=True, out_of_bounds='clip').
class IsotonicCalibrator {
 public:
  // Fits y on x (NaN-free, same length, at least one row).
  void Fit(std::span<const double> x, std::span<const double> y);
  // The same fit for rows already in scikit-learn's order (by x, then y, ties in row order).
  void FitSorted(std::span<const double> x, std::span<const double> y);
  double Predict(double x) const;
  // FitSorted over the rows j with keep(j) only (cbpe.cc's calibration folds).
  template <typename Keep>
  void FitKept(std::span<const double> x, std::span<const double> y, const Keep& keep);

 private:
  std::vector<double> x_, y_;  // interpolation points (scikit-learn's X_thresholds_, y_thresholds_)
  std::vector<double> slope_;  // slope_[i]: of the segment from point i − 1 to point i
};

// nannyML's expected calibration error: rows sorted by p, split into `bins` equal-count index
// bins (n // 2 bins when n ≤ 2·bins; the last bin takes the remainder).
double NannymlEce(std::span<const double> y_true, std::span<const double> proba, int bins = 10);

// nannyML's needs_calibration (see the file comment) over NaN-free rows. `detail` (may be null)
// receives the ECE before and after, or why calibration was skipped.
bool NeedsCalibration(std::span<const double> y_true, std::span<const double> proba,
                      std::string* detail);
// The calibrator CBPE uses: when NeedsCalibration says yes, IsotonicCalibrator::Fit on every
// row (sharing the decision's sort), else none. The ten folds' fits run through `parallel`
// (their draws are made first, in order, on the calling thread).
std::optional<IsotonicCalibrator> CalibrationFor(std::span<const double> y_true,
                                                 std::span<const double> proba,
                                                 const ParallelFor& parallel,
                                                 std::string* detail);

// nannyML's estimate_ap: Σ (recall_k − recall_{k−1})·precision_k down the uncalibrated
// ranking, with precision_k = tps_k / k over cumulative calibrated probabilities rounded to 5
// decimals (NaN when the expected positives are zero).
double EstimateAveragePrecision(std::span<const double> calibrated,
                                std::span<const double> uncalibrated);

// nannyML's estimate_roc_auc (NaN when the expected positives or negatives are zero).
double EstimateRocAuc(std::span<const double> calibrated, std::span<const double> uncalibrated);

// Whether the config turns on CBPE: estimation is configured and the model is a classifier.
bool WantsCbpe(const MonitorConfig& config);

// Records (kind "estimated_performance", column = the target) for every chunk of both periods
// and every configured metric. The tables carry the columns AttachTargets adds (targets NaN
// where unknown). Errors: InvalidArgument (a metric that needs y_pred without one, business
// value without a matrix, no reference rows with a target).
StatusOr<std::vector<Record>> ComputeCbpe(const MonitorConfig& config, const Table& ref_table,
                                          const std::vector<Chunk>& ref_chunks,
                                          const Table& ana_table,
                                          const std::vector<Chunk>& ana_chunks,
                                          std::vector<std::string>* notes,
                                          const ParallelFor& parallel = {});

}  // namespace cairn::monitor
