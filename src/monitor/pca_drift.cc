#include "monitor/pca_drift.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include <fmt/format.h>

namespace cairn::monitor {

struct PcaDrift::Impl {
  std::vector<std::string> columns;
  std::vector<bool> categorical;
  std::vector<double> impute;                    // continuous: reference mean
  std::vector<std::unordered_map<std::string, double>> freq;  // categorical: category -> share
  std::vector<double> impute_freq;               // categorical: share of the most frequent category
  Eigen::VectorXd scale_mean, scale_std, pca_mean;
  Eigen::MatrixXd components;  // d x k

  // Encodes rows [begin, end) into a (rows x d) matrix, standardised.
  Eigen::MatrixXd Encode(const Table& t, int64_t begin, int64_t end) const {
    const int64_t n = end - begin;
    const int64_t d = static_cast<int64_t>(columns.size());
    Eigen::MatrixXd X(n, d);
    for (int64_t j = 0; j < d; ++j) {
      const Column* c = t.Find(columns[j]);
      if (!categorical[j]) {
        for (int64_t i = 0; i < n; ++i) {
          double v = c->numbers[begin + i];
          X(i, j) = std::isnan(v) ? impute[j] : v;
        }
      } else {
        // Per-table code -> share lookup.
        std::vector<double> code_share(c->dictionary.size());
        for (size_t k = 0; k < c->dictionary.size(); ++k) {
          auto it = freq[j].find(c->dictionary[k]);
          code_share[k] = it == freq[j].end() ? 0.0 : it->second;
        }
        for (int64_t i = 0; i < n; ++i) {
          int32_t code = c->codes[begin + i];
          X(i, j) = code == kMissingCode ? impute_freq[j] : code_share[code];
        }
      }
    }
    for (int64_t j = 0; j < d; ++j) {
      X.col(j) = (X.col(j).array() - scale_mean[j]) / scale_std[j];
    }
    return X;
  }
};

PcaDrift::PcaDrift(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PcaDrift::~PcaDrift() = default;
PcaDrift::PcaDrift(PcaDrift&&) noexcept = default;
PcaDrift& PcaDrift::operator=(PcaDrift&&) noexcept = default;
int PcaDrift::components() const { return static_cast<int>(impl_->components.cols()); }

StatusOr<PcaDrift> PcaDrift::Fit(const Table& ref, const std::vector<std::string>& columns, double variance) {
  if (columns.empty()) return InvalidArgument("PCA reconstruction needs at least one column");
  if (ref.num_rows < 2) return InvalidArgument("PCA reconstruction needs at least 2 reference rows");
  auto impl = std::make_unique<Impl>();
  impl->columns = columns;
  const int64_t n = static_cast<int64_t>(ref.num_rows);
  for (const auto& name : columns) {
    const Column* c = ref.Find(name);
    if (c == nullptr) return InvalidArgument(fmt::format("PCA column '{}' is not loaded", name));
    if (c->type == ColumnType::kTimestamp) {
      return InvalidArgument(fmt::format("PCA column '{}' is a timestamp", name));
    }
    bool cat = c->IsCategoricalLike();
    impl->categorical.push_back(cat);
    std::unordered_map<std::string, double> share;
    double imp = 0, imp_freq = 0;
    if (!cat) {
      double sum = 0;
      int64_t k = 0;
      for (double v : c->numbers) {
        if (!std::isnan(v)) sum += v, ++k;
      }
      imp = k ? sum / k : 0.0;
    } else {
      std::vector<int64_t> counts(c->dictionary.size(), 0);
      int64_t missing = 0;
      for (int32_t code : c->codes) {
        if (code == kMissingCode) ++missing;
        else ++counts[code];
      }
      // SimpleImputer('most_frequent'): the smallest value among the most frequent.
      int best = -1;
      for (size_t k = 0; k < counts.size(); ++k) {
        if (best < 0 || counts[k] > counts[best] ||
            (counts[k] == counts[best] && c->dictionary[k] < c->dictionary[best])) {
          best = static_cast<int>(k);
        }
      }
      if (best >= 0) counts[best] += missing;
      for (size_t k = 0; k < counts.size(); ++k) {
        if (counts[k] > 0) share[c->dictionary[k]] = counts[k] / static_cast<double>(n);
      }
      imp_freq = best >= 0 ? counts[best] / static_cast<double>(n) : 0.0;
    }
    impl->impute.push_back(imp);
    impl->freq.push_back(std::move(share));
    impl->impute_freq.push_back(imp_freq);
  }
  const int64_t d = static_cast<int64_t>(columns.size());
  impl->scale_mean = Eigen::VectorXd::Zero(d);
  impl->scale_std = Eigen::VectorXd::Ones(d);
  Eigen::MatrixXd X = impl->Encode(ref, 0, n);  // unscaled (mean 0, std 1 so far)
  impl->scale_mean = X.colwise().mean().transpose();
  for (int64_t j = 0; j < d; ++j) {
    double sd = std::sqrt((X.col(j).array() - impl->scale_mean[j]).square().sum() / n);
    impl->scale_std[j] = sd == 0 ? 1.0 : sd;  // StandardScaler leaves constant features unscaled
    X.col(j) = (X.col(j).array() - impl->scale_mean[j]) / impl->scale_std[j];
  }
  impl->pca_mean = X.colwise().mean().transpose();
  Eigen::MatrixXd centered = X.rowwise() - impl->pca_mean.transpose();
  Eigen::MatrixXd cov = (centered.transpose() * centered) / static_cast<double>(n - 1);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(cov);
  Eigen::VectorXd evals = es.eigenvalues().reverse();
  Eigen::MatrixXd evecs = es.eigenvectors().rowwise().reverse();
  double total = evals.sum();
  // sklearn: n_components = searchsorted(cumsum(ratio), variance, side='right') + 1.
  int k = 0;
  double cum = 0;
  while (k < d) {
    cum += evals[k] / total;
    ++k;
    if (cum > variance) break;
  }
  impl->components = evecs.leftCols(k);
  return PcaDrift(std::move(impl));
}

PcaDrift::ChunkError PcaDrift::Calculate(const Table& t, int64_t begin, int64_t end) const {
  ChunkError out;
  const int64_t n = end - begin;
  if (n <= 0) {
    out.mean = out.std = std::nan("");
    return out;
  }
  Eigen::MatrixXd X = impl_->Encode(t, begin, end);
  Eigen::MatrixXd C = X.rowwise() - impl_->pca_mean.transpose();
  Eigen::MatrixXd R = C - (C * impl_->components) * impl_->components.transpose();
  Eigen::VectorXd e = R.rowwise().norm();
  out.mean = e.mean();
  out.std = n > 1 ? std::sqrt((e.array() - out.mean).square().sum() / (n - 1)) : std::nan("");
  return out;
}

}  // namespace cairn::monitor
