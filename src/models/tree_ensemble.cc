#include "models/tree_ensemble.h"

#include <algorithm>  // for max, min, fill
#include <bit>        // for bit_cast
#include <cmath>      // for expf, fmaxf
#include <limits>     // for numeric_limits
#include <string>     // for to_string
#include <thread>     // for thread
#include <type_traits>  // for is_same_v

namespace cairn::models {
namespace {

// XGBoost treats category codes at or above this (and negative ones) as invalid: they go
// left. Codes in a split set must be below it.
constexpr int64_t kMaxCategory = 16777216 - 1;
// Bound on the memory the category bitsets of a hostile file can claim (64 MiB).
constexpr size_t kMaxCatWords = size_t{1} << 24;
constexpr size_t kMaxNodes = size_t{1} << 30;
// Dense rows of more features than this are not a serving workload; bounding it keeps a tiny
// hostile file from making every prediction allocate gigabytes.
constexpr int64_t kMaxFeatures = int64_t{1} << 22;
// Rows converted and walked together; keeps a chunk of trees hot in L1 across rows. Wide
// models use smaller blocks so per-block scratch stays under kMaxBlockFloats floats.
constexpr size_t kRowBlock = 64;
constexpr size_t kMaxBlockFloats = size_t{1} << 16;
// Below this many rows, starting threads costs more than it saves.
constexpr size_t kMinRowsPerThread = 1024;

Status TreeError(size_t tree, std::string_view what) {
  return InvalidArgument("tree " + std::to_string(tree) + ": " + std::string(what));
}

// XGBoost's common::Sigmoid(float).
inline float Sigmoid(float x) {
  constexpr float kEps = 1e-16f;
  x = std::min(-x, 88.7f);
  float denom = expf(x) + 1.0f + kEps;
  return 1.0f / denom;
}

// XGBoost's common::Softmax on one row (float values, double sum).
inline void Softmax(float* v, size_t n) {
  float wmax = v[0];
  for (size_t i = 1; i < n; ++i) wmax = fmaxf(v[i], wmax);
  double wsum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    v[i] = expf(v[i] - wmax);
    wsum += v[i];
  }
  for (size_t i = 0; i < n; ++i) v[i] /= static_cast<float>(wsum);
}

}  // namespace

size_t TreeEnsemble::RowBlock() const {
  const size_t widest = std::max<size_t>({num_features_, num_groups_, 1});
  return std::clamp<size_t>(kMaxBlockFloats / widest, 1, kRowBlock);
}

size_t TreeEnsemble::output_width() const {
  return transform_ == OutputTransform::kArgmax ? 1 : num_groups_;
}

StatusOr<TreeEnsemble> CompileEnsemble(EnsembleSpec spec) {
  if (spec.num_features < 1) return InvalidArgument("model has no features");
  if (spec.num_features > kMaxFeatures) {
    return InvalidArgument("too many features: " + std::to_string(spec.num_features));
  }
  if (spec.num_groups < 1 || spec.num_groups > (1 << 16)) {
    return InvalidArgument("invalid number of output groups: " + std::to_string(spec.num_groups));
  }
  if (spec.base_margin.size() != static_cast<size_t>(spec.num_groups)) {
    return InvalidArgument("base margin has " + std::to_string(spec.base_margin.size()) +
                           " values for " + std::to_string(spec.num_groups) + " outputs");
  }
  if (spec.transform == OutputTransform::kSoftmax || spec.transform == OutputTransform::kArgmax) {
    if (spec.num_groups < 2) return InvalidArgument("softmax needs at least 2 classes");
  }

  TreeEnsemble ens;
  ens.num_features_ = static_cast<size_t>(spec.num_features);
  ens.num_groups_ = static_cast<size_t>(spec.num_groups);
  ens.transform_ = spec.transform;
  ens.base_margin_ = spec.base_margin;

  size_t total_nodes = 0;
  for (const auto& t : spec.trees) total_nodes += t.left.size();
  if (total_nodes + 1 > kMaxNodes) return InvalidArgument("model has too many nodes");
  ens.nodes_.reserve(total_nodes + 1);

  std::vector<int32_t> tree_depth;
  std::vector<int32_t> new_index;  // per source node: its position, -1 if not placed yet
  std::vector<int32_t> queue;      // source node ids in breadth-first order
  std::vector<int32_t> cat_of;     // per source node: index into tree.categorical or -1
  for (size_t t = 0; t < spec.trees.size(); ++t) {
    const RawTree& tree = spec.trees[t];
    const size_t n = tree.left.size();
    if (n == 0) return TreeError(t, "has no nodes");
    if (tree.right.size() != n || tree.feature.size() != n || tree.split_condition.size() != n ||
        tree.default_left.size() != n) {
      return TreeError(t, "node arrays have different lengths");
    }
    if (tree.group < 0 || tree.group >= spec.num_groups) {
      return TreeError(t, "output group " + std::to_string(tree.group) + " out of range");
    }
    cat_of.assign(n, -1);
    for (size_t c = 0; c < tree.categorical.size(); ++c) {
      int64_t node = tree.categorical[c].first;
      if (node < 0 || static_cast<size_t>(node) >= n) {
        return TreeError(t, "categorical split on node " + std::to_string(node) +
                                " which does not exist");
      }
      cat_of[node] = static_cast<int32_t>(c);
    }

    // Breadth-first from the root; each parent's children get adjacent slots.
    new_index.assign(n, -1);
    queue.clear();
    queue.push_back(0);
    const int32_t base = static_cast<int32_t>(ens.nodes_.size());
    new_index[0] = base;
    ens.nodes_.push_back({});
    std::vector<int32_t> depth_of(1, 0);
    int32_t max_depth = 0;
    for (size_t q = 0; q < queue.size(); ++q) {
      const int32_t src = queue[q];
      const int32_t dst = new_index[src];
      TreeEnsemble::Node node{};
      const int64_t l = tree.left[src];
      const int64_t r = tree.right[src];
      if (l == -1 || r == -1) {
        if (l != -1 || r != -1) {
          return TreeError(t, "node " + std::to_string(src) + " has only one child");
        }
        node.threshold = std::numeric_limits<float>::quiet_NaN();
        node.bits = 0;  // reads feature 0, never leaves the node
        node.left = dst - 1;
        float leaf = tree.split_condition[src];
        if (spec.dart) {
          const float base_score = spec.base_margin[tree.group];
          const float with_base = base_score + leaf;  // rounded to float, as XGBoost does
          leaf = (with_base - base_score) * tree.weight;
        }
        node.payload = std::bit_cast<uint32_t>(leaf);
        ens.nodes_[dst] = node;
        continue;
      }
      for (int64_t child : {l, r}) {
        if (child <= 0 || static_cast<size_t>(child) >= n || child == src) {
          return TreeError(t, "node " + std::to_string(src) + " has child index " +
                                  std::to_string(child) + " outside [1, " + std::to_string(n) +
                                  ")");
        }
        if (new_index[child] != -1) {
          return TreeError(t, "node " + std::to_string(child) +
                                  " is reachable twice (cycle or shared subtree)");
        }
      }
      if (l == r) return TreeError(t, "node " + std::to_string(src) + " has equal children");
      const int64_t feature = tree.feature[src];
      if (feature < 0 || feature >= spec.num_features) {
        return TreeError(t, "node " + std::to_string(src) + " splits on feature " +
                                std::to_string(feature) + " but the model has " +
                                std::to_string(spec.num_features));
      }
      const int32_t child_pos = static_cast<int32_t>(ens.nodes_.size());
      new_index[l] = child_pos;
      new_index[r] = child_pos + 1;
      ens.nodes_.push_back({});
      ens.nodes_.push_back({});
      queue.push_back(static_cast<int32_t>(l));
      queue.push_back(static_cast<int32_t>(r));
      const int32_t d = depth_of[q] + 1;
      depth_of.push_back(d);
      depth_of.push_back(d);
      max_depth = std::max(max_depth, d);

      node.threshold = tree.split_condition[src];
      node.bits = static_cast<uint32_t>(feature);
      if (tree.default_left[src]) node.bits |= TreeEnsemble::kDefaultLeft;
      node.left = child_pos;
      node.payload = 0;
      if (cat_of[src] >= 0) {
        const auto& cats = tree.categorical[cat_of[src]].second;
        int64_t max_cat = -1;
        for (int64_t c : cats) {
          if (c < 0 || c >= kMaxCategory) {
            return TreeError(t, "node " + std::to_string(src) + " has invalid category " +
                                    std::to_string(c));
          }
          max_cat = std::max(max_cat, c);
        }
        const uint32_t n_words = static_cast<uint32_t>(max_cat / 32 + 1);
        if (ens.cat_words_.size() + n_words > kMaxCatWords) {
          return TreeError(t, "categorical splits too large");
        }
        TreeEnsemble::CatSplit split{static_cast<uint32_t>(ens.cat_words_.size()),
                                     cats.empty() ? 0u : n_words};
        if (!cats.empty()) ens.cat_words_.resize(ens.cat_words_.size() + n_words, 0);
        for (int64_t c : cats) {
          ens.cat_words_[split.offset + c / 32] |= 1u << (c % 32);
        }
        node.bits |= TreeEnsemble::kCategorical;
        node.payload = static_cast<uint32_t>(ens.cat_splits_.size());
        ens.cat_splits_.push_back(split);
      }
      ens.nodes_[dst] = node;
    }
    ens.tree_root_.push_back(base);
    ens.tree_group_.push_back(static_cast<int32_t>(tree.group));
    tree_depth.push_back(max_depth);
  }

  // A dummy leaf that pads the last chunk; its value is never added.
  const int32_t dummy = static_cast<int32_t>(ens.nodes_.size());
  ens.nodes_.push_back({std::numeric_limits<float>::quiet_NaN(), 0, dummy - 1, 0});
  const size_t n_trees = ens.tree_root_.size();
  for (size_t first = 0; first < n_trees; first += TreeEnsemble::kChunkTrees) {
    const size_t count = std::min<size_t>(TreeEnsemble::kChunkTrees, n_trees - first);
    int32_t steps = 0;
    for (size_t k = 0; k < count; ++k) steps = std::max(steps, tree_depth[first + k]);
    ens.chunks_.push_back({static_cast<uint32_t>(first), static_cast<uint32_t>(count),
                           static_cast<uint32_t>(steps)});
  }
  while (ens.tree_root_.size() % TreeEnsemble::kChunkTrees != 0) ens.tree_root_.push_back(dummy);
  return ens;
}

template <bool kHasCat>
void TreeEnsemble::MarginBlock(const float* rows, size_t n_rows, float* margins) const {
  const Node* nodes = nodes_.data();
  const size_t n_groups = num_groups_;
  for (size_t r = 0; r < n_rows; ++r) {
    std::copy(base_margin_.begin(), base_margin_.end(), margins + r * n_groups);
  }
  for (const Chunk& chunk : chunks_) {
    const int32_t* roots = tree_root_.data() + chunk.first_tree;
    for (size_t r = 0; r < n_rows; ++r) {
      const float* x = rows + r * num_features_;
      int32_t idx[kChunkTrees];
      for (int k = 0; k < kChunkTrees; ++k) idx[k] = roots[k];
      for (uint32_t step = 0; step < chunk.steps; ++step) {
        for (int k = 0; k < kChunkTrees; ++k) {
          const Node& node = nodes[idx[k]];
          const float f = x[node.bits & kFeatureMask];
          const bool missing = f != f;
          uint32_t go_left;
          if (kHasCat && (node.bits & kCategorical)) {
            if (missing) {
              go_left = node.bits >> 31;
            } else {
              // XGBoost: invalid codes and codes outside the set go left.
              const CatSplit& split = cat_splits_[node.payload];
              go_left = 1;
              if (f >= 0.0f && f < static_cast<float>(kMaxCategory)) {
                const uint32_t code = static_cast<uint32_t>(f);
                if (code / 32 < split.n_words &&
                    ((cat_words_[split.offset + code / 32] >> (code % 32)) & 1u)) {
                  go_left = 0;
                }
              }
            }
          } else {
            go_left = static_cast<uint32_t>(f < node.threshold) |
                      (static_cast<uint32_t>(missing) & (node.bits >> 31));
          }
          idx[k] = node.left + 1 - static_cast<int32_t>(go_left);
        }
      }
      float* m = margins + r * n_groups;
      if (n_groups == 1) {
        float acc = m[0];
        for (uint32_t k = 0; k < chunk.n_trees; ++k) {
          acc += std::bit_cast<float>(nodes[idx[k]].payload);
        }
        m[0] = acc;
      } else {
        const int32_t* groups = tree_group_.data() + chunk.first_tree;
        for (uint32_t k = 0; k < chunk.n_trees; ++k) {
          m[groups[k]] += std::bit_cast<float>(nodes[idx[k]].payload);
        }
      }
    }
  }
}

void TreeEnsemble::Transform(float* margins, size_t n_rows, float* out) const {
  const size_t g = num_groups_;
  switch (transform_) {
    case OutputTransform::kIdentity:
      std::copy(margins, margins + n_rows * g, out);
      return;
    case OutputTransform::kSigmoid:
      for (size_t i = 0; i < n_rows * g; ++i) out[i] = Sigmoid(margins[i]);
      return;
    case OutputTransform::kExp:
      for (size_t i = 0; i < n_rows * g; ++i) out[i] = expf(margins[i]);
      return;
    case OutputTransform::kHinge:
      for (size_t i = 0; i < n_rows * g; ++i) out[i] = margins[i] > 0.0f ? 1.0f : 0.0f;
      return;
    case OutputTransform::kSoftmax:
      for (size_t r = 0; r < n_rows; ++r) {
        Softmax(margins + r * g, g);
        std::copy(margins + r * g, margins + (r + 1) * g, out + r * g);
      }
      return;
    case OutputTransform::kArgmax:
      for (size_t r = 0; r < n_rows; ++r) {
        const float* m = margins + r * g;
        size_t best = 0;
        for (size_t i = 1; i < g; ++i) {
          if (m[i] > m[best]) best = i;
        }
        out[r] = static_cast<float>(best);
      }
      return;
  }
}

void TreeEnsemble::PredictMarginRow(const float* row, float* margin) const {
  if (has_categorical()) {
    MarginBlock<true>(row, 1, margin);
  } else {
    MarginBlock<false>(row, 1, margin);
  }
}

void TreeEnsemble::PredictRow(const float* row, float* out) const {
  if (num_groups_ == 1 && transform_ != OutputTransform::kArgmax) {
    float margin;
    PredictMarginRow(row, &margin);
    Transform(&margin, 1, out);
    return;
  }
  constexpr size_t kStackGroups = 64;
  if (num_groups_ <= kStackGroups) {
    float margins[kStackGroups];
    PredictMarginRow(row, margins);
    Transform(margins, 1, out);
    return;
  }
  std::vector<float> margins(num_groups_);
  PredictMarginRow(row, margins.data());
  Transform(margins.data(), 1, out);
}

template <typename T>
void TreeEnsemble::PredictRange(const T* rows, size_t begin, size_t end, float* out) const {
  // Scratch on the stack for the common sizes: single-row serving calls allocate nothing.
  constexpr size_t kStackFloats = 2048;
  float stack_margins[kStackFloats];
  float stack_block[kStackFloats];
  std::vector<float> heap_margins;
  std::vector<float> heap_block;
  float* margins = stack_margins;
  const size_t row_block = RowBlock();
  if (row_block * num_groups_ > kStackFloats) {
    heap_margins.resize(row_block * num_groups_);
    margins = heap_margins.data();
  }
  float* block = stack_block;
  if constexpr (!std::is_same_v<T, float>) {
    const size_t need = std::min(row_block, end - begin) * num_features_;
    if (need > kStackFloats) {
      heap_block.resize(need);
      block = heap_block.data();
    }
  }
  const size_t width = output_width();
  for (size_t r0 = begin; r0 < end; r0 += row_block) {
    const size_t n = std::min(row_block, end - r0);
    const float* x;
    if constexpr (std::is_same_v<T, float>) {
      x = rows + r0 * num_features_;
    } else {
      const T* src = rows + r0 * num_features_;
      for (size_t i = 0; i < n * num_features_; ++i) block[i] = static_cast<float>(src[i]);
      x = block;
    }
    if (has_categorical()) {
      MarginBlock<true>(x, n, margins);
    } else {
      MarginBlock<false>(x, n, margins);
    }
    Transform(margins, n, out + r0 * width);
  }
}

template <typename T>
void TreeEnsemble::PredictBatchImpl(const T* rows, size_t n_rows, float* out,
                                    int num_threads) const {
  size_t threads = static_cast<size_t>(std::max(1, num_threads));
  threads = std::min(threads, std::max<size_t>(1, n_rows / kMinRowsPerThread));
  if (threads <= 1) {
    PredictRange(rows, 0, n_rows, out);
    return;
  }
  std::vector<std::thread> workers;
  const size_t per = (n_rows + threads - 1) / threads;
  for (size_t i = 1; i < threads; ++i) {
    const size_t b = std::min(n_rows, i * per);
    const size_t e = std::min(n_rows, b + per);
    workers.emplace_back([=, this] { PredictRange(rows, b, e, out); });
  }
  PredictRange(rows, 0, std::min(n_rows, per), out);
  for (auto& w : workers) w.join();
}

void TreeEnsemble::PredictBatch(const float* rows, size_t n_rows, float* out,
                                int num_threads) const {
  PredictBatchImpl(rows, n_rows, out, num_threads);
}

void TreeEnsemble::PredictBatch(const double* rows, size_t n_rows, float* out,
                                int num_threads) const {
  PredictBatchImpl(rows, n_rows, out, num_threads);
}

void TreeEnsemble::PredictMarginBatch(const double* rows, size_t n_rows, float* out) const {
  std::vector<float> block;
  const size_t row_block = RowBlock();
  for (size_t r0 = 0; r0 < n_rows; r0 += row_block) {
    const size_t n = std::min(row_block, n_rows - r0);
    block.resize(n * num_features_);
    const double* src = rows + r0 * num_features_;
    for (size_t i = 0; i < n * num_features_; ++i) block[i] = static_cast<float>(src[i]);
    if (has_categorical()) {
      MarginBlock<true>(block.data(), n, out + r0 * num_groups_);
    } else {
      MarginBlock<false>(block.data(), n, out + r0 * num_groups_);
    }
  }
}

}  // namespace cairn::models
