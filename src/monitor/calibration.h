// Calibration of binary probabilities: expected calibration error and Brier score.
//
// ECE = Σ_b (n_b / N)·|mean(p in b) − mean(y in b)| over non-empty bins.
//   Equal width: bin = min(floor(p·bins), bins − 1) for p in [0, 1].
//   Equal count: rows stably sorted by p and split as numpy.array_split (the first N mod bins
//   bins hold one row more), the convention of nannyML's calibration.py.
// Brier = mean((p − y)²) (scikit-learn's brier_score_loss).
// NaN pairs are dropped; an empty input gives NaN.
//
// Thread-safety: pure functions.
#pragma once

#include <span>

namespace cairn::monitor {

double ExpectedCalibrationError(std::span<const double> y_true, std::span<const double> proba,
                                int bins, bool equal_count);
double BrierScore(std::span<const double> y_true, std::span<const double> proba);

}  // namespace cairn::monitor
