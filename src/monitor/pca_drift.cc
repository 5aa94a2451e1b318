#include "monitor/pca_drift.h"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace cairn::monitor {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr int64_t kBlock = 4096;  // rows encoded at a time: bounded memory, cache-friendly

struct PcaDrift::Impl {
  std::vector<std::string> columns;
  std::vector<bool> categorical;
  std::vector<double> impute;                                 // continuous: reference mean
  std::vector<std::unordered_map<std::string, double>> freq;  // categorical: category -> share
  std::vector<double> impute_freq;  // categorical: share of the most frequent category
  Eigen::VectorXd scale_mean, scale_std, pca_mean;
  Eigen::MatrixXd components;  // d x k

  // Per-table view of the columns: numbers for continuous ones, code -> share for categorical.
  struct View {
    std::vector<const Column*> cols;
    std::vector<std::vector<double>> code_share;
  };
  View MakeView(const Table& t) const {
    View v;
    for (size_t j = 0; j < columns.size(); ++j) {
      const Column* c = t.Find(columns[j]);
      v.cols.push_back(c);
      std::vector<double> share;
      if (categorical[j]) {
        share.resize(c->dictionary.size());
        for (size_t k = 0; k < c->dictionary.size(); ++k) {
          auto it = freq[j].find(c->dictionary[k]);
          share[k] = it == freq[j].end() ? 0.0 : it->second;
        }
      }
      v.code_share.push_back(std::move(share));
    }
    return v;
  }

  // Rows [begin, begin + n) standardised into X (n x d), one column at a time.
  void Encode(const View& v, int64_t begin, int64_t n, RowMatrix* X) const {
    const size_t d = columns.size();
    X->resize(n, static_cast<Eigen::Index>(d));
    double* out = X->data();
    for (size_t j = 0; j < d; ++j) {
      const double mean = scale_mean[j], inv = 1.0 / scale_std[j];
      if (!categorical[j]) {
        const double* x = v.cols[j]->numbers.data() + begin;
        const double imp = impute[j];
        for (int64_t i = 0; i < n; ++i) {
          double val = std::isnan(x[i]) ? imp : x[i];
          out[i * d + j] = (val - mean) * inv;
        }
      } else {
        const int32_t* codes = v.cols[j]->codes.data() + begin;
        const std::vector<double>& share = v.code_share[j];
        const double imp = impute_freq[j];
        for (int64_t i = 0; i < n; ++i) {
          double val = codes[i] == kMissingCode ? imp : share[codes[i]];
          out[i * d + j] = (val - mean) * inv;
        }
      }
    }
  }
};

PcaDrift::PcaDrift(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PcaDrift::~PcaDrift() = default;
PcaDrift::PcaDrift(PcaDrift&&) noexcept = default;
PcaDrift& PcaDrift::operator=(PcaDrift&&) noexcept = default;
int PcaDrift::components() const { return static_cast<int>(impl_->components.cols()); }

StatusOr<PcaDrift> PcaDrift::Fit(const Table& ref, const std::vector<std::string>& columns,
                                 double variance) {
  if (columns.empty()) return InvalidArgument("PCA reconstruction needs at least one column");
  if (ref.num_rows < 2)
    return InvalidArgument("PCA reconstruction needs at least 2 reference rows");
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
        if (code == kMissingCode)
          ++missing;
        else
          ++counts[code];
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
  Impl::View view = impl->MakeView(ref);
  // StandardScaler: population mean and std of each encoded column.
  impl->scale_mean = Eigen::VectorXd::Zero(d);
  impl->scale_std = Eigen::VectorXd::Ones(d);
  for (int64_t j = 0; j < d; ++j) {
    double mean, ss = 0;
    if (!impl->categorical[j]) {
      const std::vector<double>& x = view.cols[j]->numbers;
      const double imp = impl->impute[j];
      double sum = 0;
      for (int64_t r = 0; r < n; ++r) sum += std::isnan(x[r]) ? imp : x[r];
      mean = sum / n;
      for (int64_t r = 0; r < n; ++r) {
        double v = (std::isnan(x[r]) ? imp : x[r]) - mean;
        ss += v * v;
      }
    } else {
      // A categorical column takes one value per category: sum over the counts.
      const Column* c = view.cols[j];
      std::vector<int64_t> counts(c->dictionary.size(), 0);
      int64_t missing = 0;
      for (int32_t code : c->codes) {
        if (code == kMissingCode)
          ++missing;
        else
          ++counts[code];
      }
      double sum = missing * impl->impute_freq[j];
      for (size_t k = 0; k < counts.size(); ++k) sum += counts[k] * view.code_share[j][k];
      mean = sum / n;
      ss = missing * (impl->impute_freq[j] - mean) * (impl->impute_freq[j] - mean);
      for (size_t k = 0; k < counts.size(); ++k) {
        double v = view.code_share[j][k] - mean;
        ss += counts[k] * v * v;
      }
    }
    double sd = std::sqrt(ss / n);
    impl->scale_mean[j] = mean;
    impl->scale_std[j] = sd == 0 ? 1.0 : sd;  // StandardScaler leaves constant features unscaled
  }
  // Covariance of the standardised data, accumulated block by block.
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(d, d);
  Eigen::VectorXd colsum = Eigen::VectorXd::Zero(d);
  RowMatrix X;
  for (int64_t b = 0; b < n; b += kBlock) {
    int64_t m = std::min(kBlock, n - b);
    impl->Encode(view, b, m, &X);
    gram.noalias() += X.transpose() * X;
    colsum += X.colwise().sum().transpose();
  }
  impl->pca_mean = colsum / static_cast<double>(n);
  Eigen::MatrixXd cov =
      (gram - static_cast<double>(n) * impl->pca_mean * impl->pca_mean.transpose()) /
      static_cast<double>(n - 1);
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
  Impl::View view = impl_->MakeView(t);
  const Eigen::MatrixXd& W = impl_->components;
  std::vector<double> e(static_cast<size_t>(n));
  RowMatrix X;
  for (int64_t b = 0; b < n; b += kBlock) {
    int64_t m = std::min(kBlock, n - b);
    impl_->Encode(view, begin + b, m, &X);
    X.rowwise() -= impl_->pca_mean.transpose();
    RowMatrix R = X - (X * W) * W.transpose();
    for (int64_t i = 0; i < m; ++i) e[b + i] = R.row(i).norm();
  }
  double sum = 0;
  for (double x : e) sum += x;
  out.mean = sum / n;
  double ss = 0;
  for (double x : e) ss += (x - out.mean) * (x - out.mean);
  out.std = n > 1 ? std::sqrt(ss / (n - 1)) : std::nan("");
  return out;
}

}  // namespace cairn::monitor
