// Linear and logistic baselines from a small JSON document:
//
//   {"format": "cairn.linear/v1", "features": ["a", "b"],
//    "coefficients": [0.5, -1.25],         // or [[...], [...]] one row per class (softmax)
//    "intercept": 0.1,                      // or one per class
//    "link": "identity" | "logit" | "softmax"}
//
// identity: out = intercept + coefficients . x (one value). logit: out = P(class 1) =
// 1 / (1 + exp(-z)) (one value). softmax: one probability per class. All in double.
// Missing values (NaN) and infinities are rejected: the error names the feature.
//
// Thread-safety: immutable after Parse; Predict is const.
#pragma once

#include <memory>       // for unique_ptr
#include <span>         // for span
#include <string_view>  // for string_view
#include <vector>       // for vector

#include "common/status.h"
#include "models/model.h"

namespace cairn::models {

class LinearModel final : public Model {
 public:
  enum class Link { kIdentity, kLogit, kSoftmax };

  // Errors: InvalidArgument naming the field (wrong format tag, shape mismatch between
  // features, coefficients and intercept, non-finite coefficients, unknown link).
  static StatusOr<std::unique_ptr<LinearModel>> Parse(std::string_view json);

  std::string_view type_name() const override { return "linear"; }
  size_t output_width() const override { return link_ == Link::kSoftmax ? n_outputs_ : 1; }
  OutputKind output_kind() const override {
    return link_ == Link::kIdentity ? OutputKind::kValue : OutputKind::kProbability;
  }
  Status Predict(std::span<const double> rows, size_t n_rows,
                 std::span<double> out) const override;

  // True when the bytes look like this format (a JSON object with the format tag).
  static bool Sniff(std::string_view bytes);

 private:
  LinearModel() = default;
  Link link_ = Link::kIdentity;
  size_t n_outputs_ = 1;
  std::vector<double> coefficients_;  // n_outputs_ x num_features(), row-major
  std::vector<double> intercept_;     // n_outputs_
};

}  // namespace cairn::models
