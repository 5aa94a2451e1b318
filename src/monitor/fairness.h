// Group fairness of a classifier per chunk, with fairlearn's definitions
// (fairlearn/metrics/_fairness_metrics.py, _base_metrics.py, MetricFrame, method
// 'between_groups', agg 'worst_case').
//
// Groups: the values of each sensitive attribute (numbers and booleans by their text); a
// missing value is its own group "(missing)", counted like any other. Each of
// `intersections` groups by a combination of attributes (column "a & b", groups "x & y"). Only
// groups present in the chunk take part, as fairlearn's MetricFrame on the chunk's rows.
//
// Per group (kind "fairness", column = attribute, Record::group = the group):
//   group_size           rows of the group in the chunk (missing targets included)
//   selection_rate       P(ŷ = 1) over rows with a prediction
//   true_positive_rate   P(ŷ = 1 | y = 1), false_positive_rate P(ŷ = 1 | y = 0) and precision
//                        P(y = 1 | ŷ = 1) over rows with a target and a prediction. As fairlearn
//                        (confusion_matrix normalize='true') and scikit-learn (zero_division),
//                        a rate whose denominator is zero is 0, with Record::details
//                        {"denominator": 0} saying so.
// Before targets arrive (no analysis targets), only group_size, selection_rate and the
// demographic parity metrics are computed, from the y_pred column.
// Per attribute (kind "fairness", group ""):
//   demographic_parity_difference = max_g SR_g − min_g SR_g; demographic_parity_ratio =
//   min_g SR_g / max_g SR_g (NaN when every selection rate is 0); equalized_odds_difference =
//   max(ΔTPR, ΔFPR); equalized_odds_ratio = Python's min(TPR ratio, FPR ratio) (NaN when the
//   TPR ratio is); equal_opportunity_difference = ΔTPR; equal_opportunity_ratio = TPR ratio.
//   With fewer than two groups the differences are 0 and the ratios 1 (as fairlearn).
// Multiclass (model_outputs.y_pred_proba maps classes): every per-group rate and per-attribute
// figure is computed one-vs-rest for each class c (y = c and ŷ = c as the positive outcome,
// what fairlearn computes on binarized targets and predictions) and recorded with the suffix
// _<c> (selection_rate_prepaid_card, demographic_parity_ratio_prepaid_card, …); group_size is
// recorded once. The attribute's figures under the unsuffixed names are the worst case over the
// classes: the largest difference and the smallest ratio (Python's max/min in sorted class
// order); the limits apply to those.
//   Alerts: a value outside the configured limits (fairness.limits; default
//   demographic_parity_ratio ≥ 0.8, the four-fifths rule); lower/upper hold the limits.
//
// Thread-safety: a pure function over const data.
#pragma once

#include <vector>

#include "common/status.h"
#include "monitor/chunker.h"
#include "monitor/config.h"
#include "monitor/results.h"
#include "monitor/table.h"

namespace cairn::monitor {

// Records for every chunk of both periods (reference first). The tables hold the sensitive
// attributes and kPredColumn and kTargetColumn (performance.h) when targets are attached, else
// the y_pred column. Errors: InvalidArgument when the model is not a classifier with y_pred or
// a predicted label is not 0/1 (binary) or not a class (multiclass); NotFound for a missing
// column.
StatusOr<std::vector<Record>> ComputeFairness(const MonitorConfig& config, const Table& ref_table,
                                              const std::vector<Chunk>& ref_chunks,
                                              const Table& ana_table,
                                              const std::vector<Chunk>& ana_chunks);

}  // namespace cairn::monitor
