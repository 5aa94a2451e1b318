// Direct loss estimation (DLE) of a regression model's performance without targets, after
// nannyML 0.13.1 (nannyml/performance_estimation/direct_loss_estimation/).
//
// Fit on the reference (rows with a target and a prediction): one gradient-boosted regression
// model per loss, trained on X = the monitored features + the prediction ŷ, target = the per-row
// loss:
//   mae |y − ŷ|;  mape |y − ŷ| / max(ε, |y|);  mse, rmse (y − ŷ)²;  msle, rmsle
//   (log1p y − log1p ŷ)².
// (mse/rmse and msle/rmsle share their model: nannyML trains two identical ones.)
// Per chunk: estimate = mean(max(0, prediction)) over the chunk's rows, its square root for rmse
// and rmsle. Sampling errors as nannyml/sampling_error/regression.py (sampling_error.h),
// thresholds nanmean ± 3·nanstd of the realized metric on the reference chunks (lower limit 0),
// confidence band estimate ∓ 3·SE (lower limit 0), alert strictly outside.
//
// The learner differs: nannyML uses LightGBM's LGBMRegressor() defaults; cairn trains XGBoost
// through libxgboost with the closest settings (hist, leaf-wise growth with 31 leaves, 100 trees
// of learning rate 0.1, min_child_weight 20 ≈ LightGBM's min_child_samples 20, no L2 penalty,
// base score = mean loss as LightGBM's boost_from_average; categorical features as native
// categorical splits on nannyML's ordinal codes: sorted categories from 1, unseen 0, missing its
// own category). The estimates therefore agree with nannyML's within the two learners'
// difference (tests/monitor/estimation_test.cc states the tolerance), while sampling errors,
// realized values and thresholds are nannyML's exactly.
//
// Undefined values carry a reason: msle/rmsle when the reference (training) or the chunk holds a
// negative target or prediction, any metric for a chunk without predictions.
//
// Thread-safety: ComputeDle trains with one XGBoost thread (it runs beside the monitor's other
// work items); no shared state.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "monitor/chunker.h"
#include "monitor/config.h"
#include "monitor/results.h"
#include "monitor/table.h"

namespace cairn::monitor {

// Whether the config turns on DLE: estimation is configured and the model is a regression
// (y_pred without probabilities).
bool WantsDle(const MonitorConfig& config);

// Records (kind "estimated_performance", column = the target) for every chunk of both periods
// and every configured metric (default mae, mape, mse, rmse, msle, rmsle). `features` are the
// monitored columns (model outputs among them are skipped). The tables carry the columns
// AttachTargets adds (targets NaN where unknown). Errors: InvalidArgument (a classification
// metric, no reference rows with a target and a prediction), Internal (XGBoost failures).
StatusOr<std::vector<Record>> ComputeDle(const MonitorConfig& config, const Table& ref_table,
                                         const std::vector<Chunk>& ref_chunks,
                                         const Table& ana_table,
                                         const std::vector<Chunk>& ana_chunks,
                                         const std::vector<std::string>& features,
                                         std::vector<std::string>* notes);

}  // namespace cairn::monitor
