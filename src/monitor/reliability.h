// Reliability (calibration) curves of a binary classifier for the report: scikit-learn's
// calibration_curve(y, p, n_bins=10, strategy='uniform'). Edges linspace(0, 1, 11); a
// probability goes to bin searchsorted(interior edges, p, side='left') (one equal to an edge
// falls in the lower bin); empty bins are dropped; per bin the fraction of positives and the
// mean probability (sums in row order, as numpy.bincount). Rows without a target or a
// probability are left out.
//
// Records, one per non-empty bin and period (whole period: chunk_index −1, chunk_key "*"):
// kind "reliability", column = the target, metric "reliability", group = the bin ("0.1–0.2"),
// value = fraction of positives, details {bin, mean_predicted, count}; no thresholds.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "monitor/chunker.h"
#include "monitor/config.h"
#include "monitor/results.h"
#include "monitor/table.h"

namespace cairn::monitor {

struct ReliabilityBin {
  int bin = 0;  // 0 .. bins−1
  int64_t count = 0;
  double fraction_positive = 0, mean_predicted = 0;
};

std::vector<ReliabilityBin> ReliabilityCurve(std::span<const double> y_true,
                                             std::span<const double> proba, int bins = 10);

// Records of both periods when the run has a binary classifier with targets attached
// (kTargetColumn and kProbaColumn, performance.h); empty otherwise.
std::vector<Record> ReliabilityRecords(const MonitorConfig& config, const Table& ref_table,
                                       const Table& ana_table);

}  // namespace cairn::monitor
