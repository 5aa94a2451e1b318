// Loading XGBoost models saved by Booster.save_model / XGBModel.save_model (XGBoost 1.x to
// 3.x): the JSON text format (.json) and UBJSON (.ubj, and the .xgb / extension-less files
// that XGBoost >= 2 writes as UBJSON). The format is chosen by content, not by name.
//
// What is read (src/learner.cc, src/gbm/gbtree_model.cc, src/tree/tree_model.cc):
// learner.learner_model_param (base_score as a string, scalar "5E-1" before 3.1 or an
// array "[5E-1]" per output since 3.1; num_feature; num_class; num_target), objective.name,
// gradient_booster (gbtree, or dart with its weight_drop), the trees' parallel arrays in
// plain or typed form with 32- or 64-bit split indices, categorical splits
// (split_type/categories_nodes/categories_segments/categories_sizes/categories),
// feature_names/feature_types, the category names XGBoost >= 3.1 stores under "cats", and
// the "best_iteration" attribute.
//
// base_score is stored in prediction space; like XGBoost we map it to margin space with the
// objective's ProbToMargin (logit for binary:logistic, log for count:poisson, ...).
//
// Objectives (each checked against XGBoost 3.1.3 by a golden in tests/models):
// reg:squarederror (and its old name reg:linear), reg:squaredlogerror,
// reg:pseudohubererror, reg:absoluteerror, reg:quantileerror (one output per quantile),
// reg:logistic, reg:gamma, reg:tweedie, count:poisson, binary:logistic, binary:logitraw,
// binary:hinge, multi:softprob, multi:softmax, rank:pairwise, rank:ndcg.
//
// Errors: InvalidArgument for a corrupt or inconsistent file (naming the field or tree);
// Unimplemented for a valid model this loader does not support (gblinear, multi-output
// trees, survival and other objectives, the pre-1.0 binary format); NotFound / Internal
// for unreadable files. Never aborts on file content.
#pragma once

#include <cstdint>      // for int64_t
#include <optional>     // for optional
#include <string>       // for string
#include <string_view>  // for string_view
#include <vector>       // for vector

#include "common/status.h"
#include "models/tree_ensemble.h"

namespace cairn::models {

struct XGBoostModel {
  std::vector<int64_t> version;  // [major, minor, patch] of the writer, if recorded
  std::string objective;         // e.g. "binary:logistic"
  std::string booster;           // "gbtree" or "dart"
  int64_t num_features = 0;
  int64_t num_class = 0;
  int64_t num_target = 1;
  std::vector<float> base_score;  // as stored (prediction space), one per output
  std::vector<std::string> feature_names;  // empty if the file has none
  std::vector<std::string> feature_types;  // "float", "int", "i", "q", "c"; may be empty
  // Per feature, the category names in code order (code = index) when the file records them
  // (XGBoost >= 3.1 trained on pandas categoricals); empty vectors otherwise.
  std::vector<std::vector<std::string>> categories;
  std::optional<int64_t> best_iteration;
  int64_t boosted_rounds = 0;  // rounds in the file
  int64_t rounds_used = 0;     // rounds compiled into the ensemble (see XGBoostLoadOptions)
  TreeEnsemble ensemble;
};

struct XGBoostLoadOptions {
  // Keep only the first iteration_end boosting rounds (0 = all): the trees predict's
  // iteration_range=(0, iteration_end) uses. More rounds than the model has is an error.
  int64_t iteration_end = 0;
  // Use the "best_iteration" attribute (early stopping) when the model has one:
  // iteration_end = best_iteration + 1, as the scikit-learn wrappers' predict does.
  // Booster.predict ignores it (all rounds).
  bool use_best_iteration = false;
};

// Parses a model from the bytes of a .json or .ubj file.
StatusOr<XGBoostModel> ParseXGBoostModel(std::string_view bytes,
                                         const XGBoostLoadOptions& options = {});

// Reads and parses a model file. Errors: NotFound if it cannot be opened, then as above.
StatusOr<XGBoostModel> LoadXGBoostModelFile(const std::string& path,
                                            const XGBoostLoadOptions& options = {});

// Reads a whole file (shared by the loaders of this module). Refuses files larger than
// max_bytes with ResourceExhausted.
StatusOr<std::string> ReadModelFile(const std::string& path,
                                    size_t max_bytes = size_t{2} << 30);

}  // namespace cairn::models
