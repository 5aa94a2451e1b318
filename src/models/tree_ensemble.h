// A compiled ensemble of regression trees (XGBoost gbtree / dart) and its native predictor.
//
// Loaders (xgboost_model.h) turn a file into an EnsembleSpec: trees as parallel arrays, as
// XGBoost stores them. CompileEnsemble() validates the spec as hostile input (every child
// and feature index, reachability, cycles) and lays the trees out flat: 16-byte nodes in
// breadth-first order with the right child always next to the left one, leaves that loop
// onto themselves, so a row walks a fixed number of steps per tree with no branch on "is
// this a leaf" and several trees (or rows) advance in lockstep.
//
// Arithmetic follows XGBoost's CPU predictor exactly: features are converted to float, the
// margin of each output group starts at the base margin and adds leaf values in tree order
// in float, then the objective's transform (sigmoid, softmax, exp, ...) is applied in float
// with XGBoost's formulas. Results equal XGBoost's to float rounding of the same operations.
//
// Missing values: NaN (only NaN) is missing and follows the node's default direction.
// Categorical splits: the feature value is a category code; a code in the node's set goes
// right, anything else (not in the set, negative, non-integral is truncated) goes left, as in
// XGBoost's `common::Decision`.
//
// Thread-safety: a TreeEnsemble is immutable after CompileEnsemble; all Predict* methods are
// const and may be called concurrently.
#pragma once

#include <cstddef>  // for size_t
#include <cstdint>  // for int32_t, int64_t, uint32_t
#include <string>   // for string
#include <utility>  // for pair
#include <vector>   // for vector

#include "common/status.h"

namespace cairn::models {

// How margins become predictions (per XGBoost objective).
enum class OutputTransform {
  kIdentity,  // reg:squarederror, binary:logitraw, ...
  kSigmoid,   // binary:logistic, reg:logistic
  kExp,       // count:poisson, reg:gamma, reg:tweedie
  kHinge,     // binary:hinge: 1 if margin > 0 else 0
  kSoftmax,   // multi:softprob: one probability per class
  kArgmax,    // multi:softmax: the class index (as a float), one value per row
};

// One tree as parallel arrays indexed by node id (XGBoost's JSON layout). Node 0 is the
// root. A node is a leaf when left == -1 (then right must be -1 too); its value is
// split_condition. Nodes not reachable from the root (XGBoost's deleted nodes) are ignored.
struct RawTree {
  std::vector<int64_t> left;
  std::vector<int64_t> right;
  std::vector<int64_t> feature;
  std::vector<float> split_condition;
  std::vector<uint8_t> default_left;
  // Categorical splits: (node id, categories that go right). Nodes listed here split on
  // category membership instead of the threshold.
  std::vector<std::pair<int64_t, std::vector<int64_t>>> categorical;
  int64_t group = 0;    // output group (class or target) this tree adds to
  float weight = 1.0f;  // dart: each leaf value is multiplied by this in float
};

struct EnsembleSpec {
  int64_t num_features = 0;
  int64_t num_groups = 1;          // margins per row
  std::vector<float> base_margin;  // one per group, already in margin space
  OutputTransform transform = OutputTransform::kIdentity;
  // Dart: each leaf adds ((base_margin + leaf) - base_margin) * weight, rounded in float as
  // XGBoost's inplace dart predictor computes it (the DMatrix path can differ by 1 ulp).
  bool dart = false;
  std::vector<RawTree> trees;
};

class TreeEnsemble {
 public:
  size_t num_features() const { return num_features_; }
  size_t num_groups() const { return num_groups_; }
  // Values per row of Predict*: num_groups(), or 1 for kArgmax.
  size_t output_width() const;
  size_t num_trees() const { return tree_group_.size(); }
  size_t num_nodes() const { return nodes_.size(); }
  OutputTransform transform() const { return transform_; }
  bool has_categorical() const { return !cat_splits_.empty(); }

  // row: num_features() floats; out: output_width() floats.
  void PredictRow(const float* row, float* out) const;
  // row: num_features() floats; margin: num_groups() floats (no transform).
  void PredictMarginRow(const float* row, float* margin) const;
  // rows: row-major n_rows x num_features(); out: n_rows x output_width(). Uses up to
  // num_threads threads (>= 1) when the batch is large enough to pay for them.
  void PredictBatch(const float* rows, size_t n_rows, float* out, int num_threads = 1) const;
  // Same, converting each double to float first (as XGBoost does).
  void PredictBatch(const double* rows, size_t n_rows, float* out, int num_threads = 1) const;
  // Margins for a batch: out is n_rows x num_groups().
  void PredictMarginBatch(const double* rows, size_t n_rows, float* out) const;

  // Flat node; public so the layout can be tested, not for callers.
  struct Node {
    float threshold;  // split threshold; NaN in leaves
    uint32_t bits;    // feature index | kDefaultLeft | kCategorical
    int32_t left;     // index of the left child; right child = left + 1; leaves: self - 1
    uint32_t payload; // leaf value (bit pattern of a float) or categorical split index
  };
  static constexpr uint32_t kDefaultLeft = 1u << 31;
  static constexpr uint32_t kCategorical = 1u << 30;
  static constexpr uint32_t kFeatureMask = kCategorical - 1;

 private:
  friend StatusOr<TreeEnsemble> CompileEnsemble(EnsembleSpec spec);
  struct CatSplit {
    uint32_t offset;   // into cat_words_
    uint32_t n_words;  // bitset words; codes >= 32 * n_words are not in the set
  };
  struct Chunk {
    uint32_t first_tree;
    uint32_t n_trees;
    uint32_t steps;  // the deepest tree's depth in this chunk
  };
  static constexpr int kChunkTrees = 8;

  size_t RowBlock() const;
  template <bool kHasCat>
  void MarginBlock(const float* rows, size_t n_rows, float* margins) const;
  void Transform(float* margins, size_t n_rows, float* out) const;
  template <typename T>
  void PredictRange(const T* rows, size_t begin, size_t end, float* out) const;
  template <typename T>
  void PredictBatchImpl(const T* rows, size_t n_rows, float* out, int num_threads) const;

  size_t num_features_ = 0;
  size_t num_groups_ = 1;
  OutputTransform transform_ = OutputTransform::kIdentity;
  std::vector<float> base_margin_;
  std::vector<Node> nodes_;
  std::vector<CatSplit> cat_splits_;
  std::vector<uint32_t> cat_words_;
  std::vector<int32_t> tree_root_;   // padded to a multiple of kChunkTrees with a dummy leaf
  std::vector<int32_t> tree_group_;  // per real tree
  std::vector<Chunk> chunks_;
};

// Validates and compiles. Errors (InvalidArgument, naming the tree and node): array
// lengths that disagree, a child index out of range or equal to its own node, a node
// reachable twice (a cycle or shared subtree), a leaf with one child, a feature index
// outside [0, num_features), a group outside [0, num_groups), a negative category, a
// base_margin whose length is not num_groups, num_features outside [1, 2^22], more than
// 2^16 output groups or 2^30 nodes in total.
StatusOr<TreeEnsemble> CompileEnsemble(EnsembleSpec spec);

}  // namespace cairn::models
