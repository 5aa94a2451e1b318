#include "models/tree_model.h"

#include <utility>  // for move

namespace cairn::models {
namespace {

class TreeModel final : public Model {
 public:
  TreeModel(XGBoostModel model, TreeOutput output, std::vector<FeatureInfo> features)
      : model_(std::move(model)), output_(output) {
    features_ = std::move(features);
  }

  std::string_view type_name() const override { return "xgboost"; }

  size_t output_width() const override {
    return output_ == TreeOutput::kClassLabel ? 1 : model_.ensemble.output_width();
  }

  OutputKind output_kind() const override {
    if (output_ == TreeOutput::kClassLabel) return OutputKind::kClassLabel;
    switch (model_.ensemble.transform()) {
      case OutputTransform::kSigmoid:
      case OutputTransform::kSoftmax:
        return OutputKind::kProbability;
      case OutputTransform::kArgmax:
      case OutputTransform::kHinge:
        return OutputKind::kClassLabel;
      default:
        return OutputKind::kValue;
    }
  }

  Status Predict(std::span<const double> rows, size_t n_rows,
                 std::span<double> out) const override {
    RETURN_IF_ERROR(CheckShapes(rows, n_rows, out));
    const size_t width = model_.ensemble.output_width();
    constexpr size_t kStack = 64;
    float stack[kStack];
    std::vector<float> heap;
    float* pred = stack;
    if (n_rows * width > kStack) {
      heap.resize(n_rows * width);
      pred = heap.data();
    }
    model_.ensemble.PredictBatch(rows.data(), n_rows, pred, 1);
    if (output_ == TreeOutput::kPrediction) {
      for (size_t i = 0; i < n_rows * width; ++i) out[i] = pred[i];
      return OkStatus();
    }
    for (size_t r = 0; r < n_rows; ++r) {
      const float* p = pred + r * width;
      if (width == 1) {
        // Binary probabilities threshold at 0.5 (XGBClassifier); multi:softmax is already
        // a class index.
        out[r] = model_.ensemble.transform() == OutputTransform::kArgmax ? p[0]
                                                                          : (p[0] > 0.5f ? 1 : 0);
      } else {
        size_t best = 0;
        for (size_t k = 1; k < width; ++k) {
          if (p[k] > p[best]) best = k;
        }
        out[r] = static_cast<double>(best);
      }
    }
    return OkStatus();
  }

 private:
  XGBoostModel model_;
  TreeOutput output_;
};

}  // namespace

StatusOr<std::unique_ptr<Model>> MakeTreeModel(XGBoostModel model, TreeOutput output,
                                               std::vector<std::string> feature_names) {
  const size_t n = model.ensemble.num_features();
  if (!feature_names.empty() && feature_names.size() != n) {
    return InvalidArgument("model has " + std::to_string(n) + " features but " +
                           std::to_string(feature_names.size()) + " names were given");
  }
  if (output == TreeOutput::kClassLabel) {
    const OutputTransform t = model.ensemble.transform();
    if (t != OutputTransform::kSigmoid && t != OutputTransform::kSoftmax &&
        t != OutputTransform::kArgmax && t != OutputTransform::kHinge) {
      return InvalidArgument("objective '" + model.objective +
                             "' is not a classifier; class labels are undefined");
    }
  }
  std::vector<FeatureInfo> features(n);
  for (size_t i = 0; i < n; ++i) {
    if (!feature_names.empty()) {
      features[i].name = feature_names[i];
    } else if (!model.feature_names.empty()) {
      features[i].name = model.feature_names[i];
    } else {
      features[i].name = "f" + std::to_string(i);
    }
    if (!model.feature_types.empty() && model.feature_types[i] == "c") {
      features[i].kind = FeatureInfo::Kind::kCategorical;
      if (i < model.categories.size()) features[i].categories = model.categories[i];
    }
  }
  return std::unique_ptr<Model>(new TreeModel(std::move(model), output, std::move(features)));
}

}  // namespace cairn::models
