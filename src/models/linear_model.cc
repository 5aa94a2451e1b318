#include "models/linear_model.h"

#include <algorithm>  // for max_element
#include <cmath>      // for exp, isfinite

#include "models/json_value.h"

namespace cairn::models {
namespace {

constexpr std::string_view kFormat = "cairn.linear/v1";

Status LinearError(std::string_view what) {
  return InvalidArgument("linear model: " + std::string(what));
}

StatusOr<std::vector<double>> FiniteNumbers(const JsonValue& v, std::string_view field) {
  if (!v.is_numeric_array()) return LinearError(std::string(field) + " must be numbers");
  for (double d : v.nums()) {
    if (!std::isfinite(d)) return LinearError(std::string(field) + " must be finite");
  }
  return v.nums();
}

}  // namespace

bool LinearModel::Sniff(std::string_view bytes) {
  return bytes.find(kFormat) != std::string_view::npos;
}

StatusOr<std::unique_ptr<LinearModel>> LinearModel::Parse(std::string_view json) {
  StatusOr<JsonValue> doc = ParseJsonText(json, NumberPrecision::kFloat64);
  if (!doc.ok()) return LinearError(doc.status().message());
  const JsonValue* format = doc->Find("format");
  if (format == nullptr || !format->is_string() || format->str() != kFormat) {
    return LinearError("'format' must be \"" + std::string(kFormat) + "\"");
  }
  std::unique_ptr<LinearModel> m(new LinearModel());
  const JsonValue* features = doc->Find("features");
  if (features == nullptr || features->type() != JsonValue::Type::kArray ||
      features->items().empty()) {
    return LinearError("'features' must be a non-empty list of names");
  }
  for (const auto& f : features->items()) {
    if (!f.is_string()) return LinearError("'features' must be strings");
    m->features_.push_back({f.str(), FeatureInfo::Kind::kNumeric, {}});
  }
  const size_t n_features = m->features_.size();

  const JsonValue* link = doc->Find("link");
  const std::string link_name = link && link->is_string() ? link->str() : "identity";
  if (link_name == "identity") {
    m->link_ = Link::kIdentity;
  } else if (link_name == "logit") {
    m->link_ = Link::kLogit;
  } else if (link_name == "softmax") {
    m->link_ = Link::kSoftmax;
  } else {
    return LinearError("unknown link '" + link_name + "'");
  }

  const JsonValue* coef = doc->Find("coefficients");
  if (coef == nullptr || !coef->is_array()) return LinearError("'coefficients' missing");
  if (coef->type() == JsonValue::Type::kArray && !coef->items().empty()) {
    for (const auto& row : coef->items()) {  // one row per class
      ASSIGN_OR_RETURN(auto values, FiniteNumbers(row, "coefficients"));
      if (values.size() != n_features) {
        return LinearError("each coefficient row needs one value per feature");
      }
      m->coefficients_.insert(m->coefficients_.end(), values.begin(), values.end());
    }
    m->n_outputs_ = coef->items().size();
  } else {
    ASSIGN_OR_RETURN(m->coefficients_, FiniteNumbers(*coef, "coefficients"));
    if (m->coefficients_.size() != n_features) {
      return LinearError("'coefficients' has " + std::to_string(m->coefficients_.size()) +
                         " values for " + std::to_string(n_features) + " features");
    }
  }
  const JsonValue* intercept = doc->Find("intercept");
  if (intercept == nullptr) {
    m->intercept_.assign(m->n_outputs_, 0.0);
  } else if (intercept->is_number()) {
    m->intercept_ = {intercept->number()};
  } else {
    ASSIGN_OR_RETURN(m->intercept_, FiniteNumbers(*intercept, "intercept"));
  }
  if (m->intercept_.size() != m->n_outputs_) {
    return LinearError("'intercept' needs one value per coefficient row");
  }
  if (!std::isfinite(m->intercept_[0])) return LinearError("'intercept' must be finite");
  if (m->link_ == Link::kSoftmax && m->n_outputs_ < 2) {
    return LinearError("softmax needs one coefficient row per class (at least 2)");
  }
  if (m->link_ != Link::kSoftmax && m->n_outputs_ != 1) {
    return LinearError("several coefficient rows need the softmax link");
  }
  return m;
}

Status LinearModel::Predict(std::span<const double> rows, size_t n_rows,
                            std::span<double> out) const {
  RETURN_IF_ERROR(CheckShapes(rows, n_rows, out));
  const size_t nf = num_features();
  std::vector<double> z(n_outputs_);
  for (size_t r = 0; r < n_rows; ++r) {
    const double* x = rows.data() + r * nf;
    for (size_t f = 0; f < nf; ++f) {
      if (!std::isfinite(x[f])) {
        return InvalidArgument("row " + std::to_string(r) + ": feature '" + features_[f].name +
                               "' is missing or not finite; a linear model needs a value");
      }
    }
    for (size_t k = 0; k < n_outputs_; ++k) {
      const double* w = coefficients_.data() + k * nf;
      double acc = intercept_[k];
      for (size_t f = 0; f < nf; ++f) acc += w[f] * x[f];
      z[k] = acc;
    }
    double* o = out.data() + r * output_width();
    switch (link_) {
      case Link::kIdentity:
        o[0] = z[0];
        break;
      case Link::kLogit:
        o[0] = 1.0 / (1.0 + std::exp(-z[0]));
        break;
      case Link::kSoftmax: {
        const double zmax = *std::max_element(z.begin(), z.end());
        double sum = 0;
        for (size_t k = 0; k < n_outputs_; ++k) sum += (o[k] = std::exp(z[k] - zmax));
        for (size_t k = 0; k < n_outputs_; ++k) o[k] /= sum;
        break;
      }
    }
  }
  return OkStatus();
}

}  // namespace cairn::models
