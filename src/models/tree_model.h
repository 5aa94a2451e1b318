// The Model adapter over a loaded XGBoost ensemble.
//
// Output follows what MLflow's pyfunc returns for the saved class:
// - TreeOutput::kPrediction: Booster.predict / XGBRegressor.predict (probabilities for
//   binary:logistic, one per class for multi:softprob, values for regression).
// - TreeOutput::kClassLabel: XGBClassifier.predict (class index: P > 0.5 for binary
//   objectives, argmax for multi-class).
//
// Thread-safety: immutable; Predict is const and thread-safe.
#pragma once

#include <memory>  // for unique_ptr
#include <string>  // for string
#include <vector>  // for vector

#include "common/status.h"
#include "models/model.h"
#include "models/xgboost_model.h"

namespace cairn::models {

enum class TreeOutput { kPrediction, kClassLabel };

// feature_names, when non-empty, replaces the model's own names (or its f0..fN-1 defaults)
// and must have one name per feature. Errors: InvalidArgument on a count mismatch;
// InvalidArgument when kClassLabel is asked of a model that is not a classifier.
StatusOr<std::unique_ptr<Model>> MakeTreeModel(XGBoostModel model, TreeOutput output,
                                               std::vector<std::string> feature_names = {});

}  // namespace cairn::models
