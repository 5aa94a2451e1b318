// Multivariate drift by a domain classifier, as nannyML's DomainClassifierCalculator: per
// chunk, a gradient-boosted classifier learns to tell the chunk's rows (label 1) from the
// reference's (label 0; for a reference chunk, the rest of the reference), with stratified
// 5-fold cross-validation without shuffling; the value is the ROC AUC of the pooled
// out-of-fold predictions (0.5 when only one class is present).
//
// nannyML uses LightGBM; cairn uses XGBoost (libxgboost's C API, `hist` trees grown
// leaf-wise to 31 leaves like LightGBM's defaults) with the same tree count and learning
// rate, so values agree to a few hundredths, not exactly.
// Categorical columns are ordinal-encoded by the reference's categories (unknown -1).
//
// Thread-safety: the methods are const and may run concurrently.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "monitor/table.h"

namespace cairn::monitor {

struct DomainClassifierOptions {
  int trees = 100;
  double learning_rate = 0.1;
  int max_depth = 0;  // 0: unlimited (leaf-wise growth bounded by 31 leaves, as LightGBM)
  int folds = 5;
  int threads = 1;  // XGBoost threads per model
};

class DomainClassifier {
 public:
  ~DomainClassifier();
  DomainClassifier(DomainClassifier&&) noexcept;

  // Errors: InvalidArgument (no columns, a timestamp column, fewer rows than folds).
  static StatusOr<DomainClassifier> Create(const Table& reference,
                                           const std::vector<std::string>& columns,
                                           DomainClassifierOptions options);

  // Rows [begin, end) of `table` (an analysis table with the same columns) against the whole
  // reference. Errors: Internal when XGBoost fails.
  StatusOr<double> AnalysisChunk(const Table& table, int64_t begin, int64_t end) const;
  // Rows [begin, end) of the reference against the rest of it.
  StatusOr<double> ReferenceChunk(int64_t begin, int64_t end) const;

 private:
  struct Impl;
  explicit DomainClassifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// sklearn.metrics.roc_auc_score for binary labels (ties share ranks). NaN when one class is
// absent.
double RocAuc(const std::vector<float>& labels, const std::vector<float>& scores);

// sklearn.model_selection.StratifiedKFold(n_splits, shuffle=False) test-fold assignment.
std::vector<int> StratifiedFolds(const std::vector<float>& labels, int n_splits);

}  // namespace cairn::monitor
