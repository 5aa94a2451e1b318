#include "monitor/domain_classifier.h"
#include "monitor/xgboost_c.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <unordered_map>

namespace cairn::monitor {

struct DomainClassifier::Impl {
  std::vector<std::string> columns;
  std::vector<bool> categorical;
  std::vector<std::unordered_map<std::string, float>> codes;  // reference ordinal codes
  DomainClassifierOptions options;
  std::vector<float> ref;  // reference rows, row-major
  int64_t ref_rows = 0;

  void EncodeRows(const Table& t, int64_t begin, int64_t end, std::vector<float>* out) const {
    const size_t d = columns.size();
    const size_t base = out->size();
    out->resize(base + static_cast<size_t>(end - begin) * d);
    for (size_t j = 0; j < d; ++j) {
      const Column* c = t.Find(columns[j]);
      std::vector<float> lut;
      if (categorical[j]) {
        lut.resize(c->dictionary.size());
        for (size_t k = 0; k < c->dictionary.size(); ++k) {
          auto it = codes[j].find(c->dictionary[k]);
          lut[k] = it == codes[j].end() ? -1.0f : it->second;
        }
      }
      for (int64_t r = begin; r < end; ++r) {
        float v;
        if (categorical[j]) {
          int32_t code = c->codes[r];
          v = code == kMissingCode ? std::nanf("") : lut[code];
        } else {
          v = static_cast<float>(c->numbers[r]);
        }
        (*out)[base + static_cast<size_t>(r - begin) * d + j] = v;
      }
    }
  }

  // Out-of-fold AUROC over rows x (row-major, d columns) with labels y.
  StatusOr<double> CrossValidatedAuc(const std::vector<float>& x,
                                     const std::vector<float>& y) const;
};

using xgb::Booster;
using xgb::DMatrix;

std::vector<int> StratifiedFolds(const std::vector<float>& labels, int n_splits) {
  // sklearn: classes are numbered by first appearance; the encoded labels are sorted and dealt
  // round-robin to get each fold's class counts; then each class's samples, in order, fill
  // fold 0 first, then fold 1, ...
  const size_t n = labels.size();
  std::vector<int> folds(n, 0);
  if (n == 0) return folds;
  const bool first = labels[0] > 0.5f;
  auto enc = [&](float l) { return (l > 0.5f) == first ? 0 : 1; };
  size_t count0 = 0;
  for (float l : labels) count0 += enc(l) == 0;
  // Sorted encoded labels: count0 zeros then ones; fold f takes positions f, f + n_splits, ...
  std::vector<std::array<size_t, 2>> alloc(n_splits, {0, 0});
  for (int f = 0; f < n_splits; ++f) {
    for (size_t i = f; i < n; i += n_splits) ++alloc[f][i < count0 ? 0 : 1];
  }
  std::vector<std::vector<int>> per_class(2);
  for (int k = 0; k < 2; ++k) {
    for (int f = 0; f < n_splits; ++f) {
      for (size_t c = 0; c < alloc[f][k]; ++c) per_class[k].push_back(f);
    }
  }
  size_t next_in_class[2] = {0, 0};
  for (size_t i = 0; i < n; ++i) {
    int k = enc(labels[i]);
    folds[i] = per_class[k][next_in_class[k]++];
  }
  return folds;
}

double RocAuc(const std::vector<float>& labels, const std::vector<float>& scores) {
  const size_t n = labels.size();
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Mann-Whitney U with average ranks for ties.
  double rank_sum_pos = 0;
  size_t npos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[idx[j]] == scores[idx[i]]) ++j;
    double avg_rank = (i + 1 + j) / 2.0;
    for (size_t k = i; k < j; ++k) {
      if (labels[idx[k]] > 0.5f) {
        rank_sum_pos += avg_rank;
        ++npos;
      }
    }
    i = j;
  }
  size_t nneg = n - npos;
  if (npos == 0 || nneg == 0) return std::nan("");
  return (rank_sum_pos - npos * (npos + 1) / 2.0) / (static_cast<double>(npos) * nneg);
}

StatusOr<double> DomainClassifier::Impl::CrossValidatedAuc(const std::vector<float>& x,
                                                           const std::vector<float>& y) const {
  const size_t d = columns.size();
  const size_t n = y.size();
  size_t npos = 0;
  for (float l : y) npos += l > 0.5f;
  if (npos == 0 || npos == n) return 0.5;
  std::vector<int> folds = StratifiedFolds(y, options.folds);
  std::vector<float> preds(n, 0.0f);
  for (int f = 0; f < options.folds; ++f) {
    std::vector<float> trx, tr_y, tsx;
    std::vector<size_t> ts_idx;
    for (size_t i = 0; i < n; ++i) {
      if (folds[i] == f) {
        tsx.insert(tsx.end(), x.begin() + i * d, x.begin() + (i + 1) * d);
        ts_idx.push_back(i);
      } else {
        trx.insert(trx.end(), x.begin() + i * d, x.begin() + (i + 1) * d);
        tr_y.push_back(y[i]);
      }
    }
    if (ts_idx.empty() || tr_y.empty()) continue;
    DMatrix dtrain, dtest;
    CAIRN_XGB_CALL(XGDMatrixCreateFromMat(trx.data(), tr_y.size(), d, std::nanf(""), &dtrain.h));
    CAIRN_XGB_CALL(XGDMatrixSetFloatInfo(dtrain.h, "label", tr_y.data(), tr_y.size()));
    CAIRN_XGB_CALL(XGDMatrixCreateFromMat(tsx.data(), ts_idx.size(), d, std::nanf(""), &dtest.h));
    Booster booster;
    CAIRN_XGB_CALL(XGBoosterCreate(&dtrain.h, 1, &booster.h));
    const std::string depth = std::to_string(options.max_depth),
                      eta = fmt::format("{}", options.learning_rate),
                      threads = std::to_string(options.threads);
    CAIRN_XGB_CALL(XGBoosterSetParam(booster.h, "objective", "binary:logistic"));
    CAIRN_XGB_CALL(XGBoosterSetParam(booster.h, "tree_method", "hist"));
    // LightGBM-like trees (nannyML's LGBMClassifier defaults): leaf-wise growth, 31 leaves.
    CAIRN_XGB_CALL(XGBoosterSetParam(booster.h, "grow_policy", "lossguide"));
    CAIRN_XGB_CALL(XGBoosterSetParam(booster.h, "max_leaves", "31"));
    CAIRN_XGB_CALL(XGBoosterSetParam(booster.h, "min_child_weight", "0.001"));
    CAIRN_XGB_CALL(XGBoosterSetParam(booster.h, "max_depth", depth.c_str()));
    CAIRN_XGB_CALL(XGBoosterSetParam(booster.h, "eta", eta.c_str()));
    CAIRN_XGB_CALL(XGBoosterSetParam(booster.h, "nthread", threads.c_str()));
    CAIRN_XGB_CALL(XGBoosterSetParam(booster.h, "seed", "13"));
    CAIRN_XGB_CALL(XGBoosterSetParam(booster.h, "verbosity", "0"));
    for (int it = 0; it < options.trees; ++it)
      CAIRN_XGB_CALL(XGBoosterUpdateOneIter(booster.h, it, dtrain.h));
    bst_ulong len = 0;
    const float* out = nullptr;
    CAIRN_XGB_CALL(XGBoosterPredict(booster.h, dtest.h, 0, 0, 0, &len, &out));
    if (len != ts_idx.size()) return Internal("xgboost returned the wrong number of predictions");
    for (size_t k = 0; k < ts_idx.size(); ++k) preds[ts_idx[k]] = out[k];
  }
  double auc = RocAuc(y, preds);
  return std::isnan(auc) ? 0.5 : auc;
}

DomainClassifier::DomainClassifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DomainClassifier::~DomainClassifier() = default;
DomainClassifier::DomainClassifier(DomainClassifier&&) noexcept = default;

StatusOr<DomainClassifier> DomainClassifier::Create(const Table& reference,
                                                    const std::vector<std::string>& columns,
                                                    DomainClassifierOptions options) {
  if (columns.empty()) return InvalidArgument("the domain classifier needs at least one column");
  if (static_cast<int64_t>(reference.num_rows) < options.folds) {
    return InvalidArgument("the domain classifier needs at least as many reference rows as folds");
  }
  auto impl = std::make_unique<Impl>();
  impl->columns = columns;
  impl->options = options;
  for (const auto& name : columns) {
    const Column* c = reference.Find(name);
    if (c == nullptr)
      return InvalidArgument(fmt::format("domain classifier column '{}' is not loaded", name));
    if (c->type == ColumnType::kTimestamp) {
      return InvalidArgument(fmt::format("domain classifier column '{}' is a timestamp", name));
    }
    impl->categorical.push_back(c->IsCategoricalLike());
    std::unordered_map<std::string, float> m;
    if (c->IsCategoricalLike()) {
      // OrdinalEncoder: categories in sorted order.
      std::vector<std::string> cats(c->dictionary);
      std::sort(cats.begin(), cats.end());
      for (size_t k = 0; k < cats.size(); ++k) m[cats[k]] = static_cast<float>(k);
    }
    impl->codes.push_back(std::move(m));
  }
  impl->ref_rows = static_cast<int64_t>(reference.num_rows);
  impl->EncodeRows(reference, 0, impl->ref_rows, &impl->ref);
  return DomainClassifier(std::move(impl));
}

StatusOr<double> DomainClassifier::AnalysisChunk(const Table& table, int64_t begin,
                                                 int64_t end) const {
  std::vector<float> x(impl_->ref);
  impl_->EncodeRows(table, begin, end, &x);
  std::vector<float> y(static_cast<size_t>(impl_->ref_rows), 0.0f);
  y.resize(y.size() + static_cast<size_t>(end - begin), 1.0f);
  return impl_->CrossValidatedAuc(x, y);
}

StatusOr<double> DomainClassifier::ReferenceChunk(int64_t begin, int64_t end) const {
  std::vector<float> y(static_cast<size_t>(impl_->ref_rows), 0.0f);
  for (int64_t r = begin; r < end; ++r) y[r] = 1.0f;
  return impl_->CrossValidatedAuc(impl_->ref, y);
}

}  // namespace cairn::monitor
