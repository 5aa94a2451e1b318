#include "monitor/dle.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>

#include "monitor/performance.h"
#include "monitor/sampling_error.h"
#include "monitor/statistics.h"
#include "monitor/thresholds.h"
#include "monitor/xgboost_c.h"

namespace cairn::monitor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kMissingCategory = "NML_missing_value";

const std::vector<std::string> kDleMetrics = {"mae", "mape", "mse", "rmse", "msle", "rmsle"};

using xgb::Booster;
using xgb::DMatrix;

// nannyML's encoding: continuous as is; categorical → sorted reference categories (missing as
// its own "NML_missing_value" category) numbered from 1, unseen 0; then ŷ.
class Encoder {
 public:
  Encoder(const Table& ref, const std::vector<std::string>& features) : features_(features) {
    for (const auto& name : features_) {
      const Column* c = ref.Find(name);
      categorical_.push_back(c->IsCategoricalLike());
      std::unordered_map<std::string, float> m;
      if (c->IsCategoricalLike()) {
        std::vector<std::string> cats;
        std::vector<bool> used(c->dictionary.size());
        bool missing = false;
        for (size_t i = 0; i < c->size(); ++i) {
          if (c->codes[i] == kMissingCode)
            missing = true;
          else
            used[c->codes[i]] = true;
        }
        for (size_t k = 0; k < used.size(); ++k)
          if (used[k]) cats.push_back(c->dictionary[k]);
        if (missing) cats.push_back(kMissingCategory);
        std::sort(cats.begin(), cats.end());
        cats.erase(std::unique(cats.begin(), cats.end()), cats.end());
        for (size_t k = 0; k < cats.size(); ++k) m[cats[k]] = static_cast<float>(k + 1);
      }
      codes_.push_back(std::move(m));
    }
  }

  size_t width() const { return features_.size() + 1; }

  std::vector<const char*> FeatureTypes() const {
    std::vector<const char*> t;
    for (bool c : categorical_) t.push_back(c ? "c" : "q");
    t.push_back("q");
    return t;
  }

  // Row-major rows of `t` (all rows).
  std::vector<float> Encode(const Table& t) const {
    const size_t d = width(), n = t.num_rows;
    std::vector<float> x(n * d);
    for (size_t j = 0; j < features_.size(); ++j) {
      const Column* c = t.Find(features_[j]);
      if (categorical_[j]) {
        std::vector<float> lut(c->dictionary.size());
        for (size_t k = 0; k < lut.size(); ++k) {
          auto it = codes_[j].find(c->dictionary[k]);
          lut[k] = it == codes_[j].end() ? 0.0f : it->second;
        }
        auto miss = codes_[j].find(kMissingCategory);
        const float missing = miss == codes_[j].end() ? 0.0f : miss->second;
        for (size_t i = 0; i < n; ++i)
          x[i * d + j] = c->codes[i] == kMissingCode ? missing : lut[c->codes[i]];
      } else {
        for (size_t i = 0; i < n; ++i) x[i * d + j] = static_cast<float>(c->numbers[i]);
      }
    }
    const std::vector<double>& pred = t.Find(kPredColumn)->numbers;
    for (size_t i = 0; i < n; ++i) x[i * d + d - 1] = static_cast<float>(pred[i]);
    return x;
  }

 private:
  std::vector<std::string> features_;
  std::vector<bool> categorical_;
  std::vector<std::unordered_map<std::string, float>> codes_;
};

struct LossModel {
  std::vector<double> ref_pred, ana_pred;  // per row, max(0, ·) applied
};

Status MakeDMatrix(const std::vector<float>& x, size_t rows, const Encoder& enc, DMatrix* m) {
  CAIRN_XGB_CALL(XGDMatrixCreateFromMat(x.data(), rows, enc.width(), std::nanf(""), &m->h));
  std::vector<const char*> types = enc.FeatureTypes();
  CAIRN_XGB_CALL(XGDMatrixSetStrFeatureInfo(m->h, "feature_type", types.data(), types.size()));
  return OkStatus();
}

StatusOr<LossModel> TrainAndPredict(const EstimationSpec& spec, int threads, const Encoder& enc,
                                    const std::vector<float>& train_x,
                                    const std::vector<float>& loss, DMatrix& ref_all,
                                    DMatrix& ana_all, size_t ref_rows, size_t ana_rows) {
  DMatrix train;
  RETURN_IF_ERROR(MakeDMatrix(train_x, loss.size(), enc, &train));
  CAIRN_XGB_CALL(XGDMatrixSetFloatInfo(train.h, "label", loss.data(), loss.size()));
  double mean = 0;
  for (float v : loss) mean += v;
  mean /= static_cast<double>(loss.size());
  Booster b;
  CAIRN_XGB_CALL(XGBoosterCreate(&train.h, 1, &b.h));
  const std::string leaves = std::to_string(spec.dle_max_leaves),
                    eta = fmt::format("{}", spec.dle_learning_rate),
                    base = fmt::format("{}", mean), nthread = std::to_string(threads);
  const std::pair<const char*, const char*> params[] = {
      {"objective", "reg:squarederror"},
      {"tree_method", "hist"},
      {"grow_policy", "lossguide"},
      {"max_leaves", leaves.c_str()},
      {"max_depth", "0"},
      {"eta", eta.c_str()},
      {"lambda", "0"},
      {"alpha", "0"},
      {"min_child_weight", "20"},
      {"max_bin", "255"},
      {"base_score", base.c_str()},
      {"nthread", nthread.c_str()},
      {"seed", "0"},
      {"verbosity", "0"},
  };
  for (const auto& [k, v] : params) CAIRN_XGB_CALL(XGBoosterSetParam(b.h, k, v));
  for (int it = 0; it < spec.dle_trees; ++it) CAIRN_XGB_CALL(XGBoosterUpdateOneIter(b.h, it, train.h));
  LossModel out;
  for (int which = 0; which < 2; ++which) {
    bst_ulong len = 0;
    const float* pred = nullptr;
    CAIRN_XGB_CALL(XGBoosterPredict(b.h, which == 0 ? ref_all.h : ana_all.h, 0, 0, 0, &len, &pred));
    const size_t want = which == 0 ? ref_rows : ana_rows;
    if (len != want) return Internal("xgboost returned the wrong number of predictions");
    std::vector<double>& dst = which == 0 ? out.ref_pred : out.ana_pred;
    dst.resize(want);
    for (size_t i = 0; i < want; ++i) dst[i] = std::max(0.0, static_cast<double>(pred[i]));
  }
  return out;
}

}  // namespace

bool WantsDle(const MonitorConfig& cfg) {
  return cfg.estimation.has_value() && cfg.y_pred_proba.empty() &&
         cfg.y_pred_proba_classes.empty() && !cfg.y_pred.empty();
}

StatusOr<std::vector<Record>> ComputeDle(const MonitorConfig& cfg, const Table& rt,
                                         const std::vector<Chunk>& rc, const Table& at,
                                         const std::vector<Chunk>& ac,
                                         const std::vector<std::string>& monitored,
                                         std::vector<std::string>* notes) {
  const EstimationSpec& spec = *cfg.estimation;
  std::vector<std::string> metrics = spec.metrics.empty() ? kDleMetrics : spec.metrics;
  for (const auto& m : metrics) {
    if (std::find(kDleMetrics.begin(), kDleMetrics.end(), m) == kDleMetrics.end())
      return InvalidArgument(fmt::format(
          "{}: estimation.metrics lists '{}', which is not a regression metric (use mae, mape, "
          "mse, rmse, msle, rmsle)",
          cfg.config_path, m));
  }
  std::vector<std::string> features;
  for (const auto& n : monitored) {
    if (n == cfg.y_pred || n == cfg.target_column) continue;
    const Column* c = rt.Find(n);
    if (c == nullptr || at.Find(n) == nullptr || c->type == ColumnType::kTimestamp) continue;
    features.push_back(n);
  }
  const std::string target = TargetName(cfg);
  const std::vector<double>& ry = rt.Find(kTargetColumn)->numbers;
  const std::vector<double>& ay = at.Find(kTargetColumn)->numbers;
  const std::vector<double>& rp = rt.Find(kPredColumn)->numbers;
  const std::vector<double>& ap = at.Find(kPredColumn)->numbers;

  // Training rows: target and prediction known.
  std::vector<size_t> rows;
  for (size_t i = 0; i < rt.num_rows; ++i)
    if (!std::isnan(ry[i]) && !std::isnan(rp[i])) rows.push_back(i);
  if (rows.empty()) {
    return InvalidArgument(fmt::format(
        "{}: DLE needs reference rows with both a target ('{}') and a prediction; there are none",
        cfg.config_path, target));
  }
  std::vector<double> ty(rows.size()), tp(rows.size());
  bool negative = false;
  for (size_t i = 0; i < rows.size(); ++i) {
    ty[i] = ry[rows[i]];
    tp[i] = rp[rows[i]];
    negative = negative || ty[i] < 0 || tp[i] < 0;
  }
  const RegressionSe se = RegressionSeComponents(ty, tp);

  Encoder enc(rt, features);
  const std::vector<float> ref_x = enc.Encode(rt), ana_x = enc.Encode(at);
  const size_t d = enc.width();
  std::vector<float> train_x(rows.size() * d);
  for (size_t i = 0; i < rows.size(); ++i)
    std::copy_n(ref_x.begin() + rows[i] * d, d, train_x.begin() + i * d);
  DMatrix ref_all, ana_all;
  RETURN_IF_ERROR(MakeDMatrix(ref_x, rt.num_rows, enc, &ref_all));
  RETURN_IF_ERROR(MakeDMatrix(ana_x, at.num_rows, enc, &ana_all));

  // One model per distinct loss.
  auto loss_of = [](const std::string& m) -> std::string {
    if (m == "rmse") return "mse";
    if (m == "rmsle") return "msle";
    return m;
  };
  std::map<std::string, LossModel> models;
  const double eps = std::numeric_limits<double>::epsilon();
  for (const auto& m : metrics) {
    const std::string loss = loss_of(m);
    if (models.count(loss) || (loss == "msle" && negative)) continue;
    std::vector<float> target_loss(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const double y = ty[i], p = tp[i], e = y - p;
      double v;
      if (loss == "mae") {
        v = std::abs(e);
      } else if (loss == "mape") {
        v = std::abs(e) / std::max(eps, std::abs(y));
      } else if (loss == "mse") {
        v = e * e;
      } else {
        const double l = std::log1p(y) - std::log1p(p);
        v = l * l;
      }
      target_loss[i] = static_cast<float>(v);
    }
    // One XGBoost thread: estimation is one of the monitor's parallel work items already, and
    // XGBoost's OpenMP threads spin-wait; on a loaded 2-core box two threads made training ten
    // times slower (18 s CPU instead of 1.75 s on car price).
    ASSIGN_OR_RETURN(models[loss], TrainAndPredict(spec, 1, enc, train_x,
                                                   target_loss, ref_all, ana_all, rt.num_rows,
                                                   at.num_rows));
  }
  notes->push_back(fmt::format("DLE: trained {} XGBoost loss models on {} reference rows, {} features",
                               models.size(), rows.size(), features.size() + 1));

  // Per chunk.
  const std::vector<MetricInfo> real_infos = RegressionMetricInfos();
  std::vector<Record> out;
  for (const auto& m : metrics) {
    std::vector<Record> recs;
    std::vector<double> ref_realized;
    const auto model = models.find(loss_of(m));
    for (int per = 0; per < 2; ++per) {
      const std::vector<Chunk>& chunks = per == 0 ? rc : ac;
      const std::vector<double>& y = per == 0 ? ry : ay;
      const std::vector<double>& p = per == 0 ? rp : ap;
      for (const Chunk& ch : chunks) {
        const size_t b = static_cast<size_t>(ch.begin), e = static_cast<size_t>(ch.end);
        Record r = MakeRecord(per == 0 ? "reference" : "analysis", ch, target, m,
                              "estimated_performance");
        r.estimated = true;
        std::vector<MetricValue> real = RegressionMetrics(
            std::span<const double>(y).subspan(b, e - b), std::span<const double>(p).subspan(b, e - b));
        for (size_t k = 0; k < real_infos.size(); ++k)
          if (real_infos[k].name == m) r.realized = real[k].value;
        double n = 0;
        bool chunk_negative = false;
        for (size_t i = b; i < e; ++i) {
          if (!std::isnan(p[i])) n += 1;
          chunk_negative = chunk_negative || p[i] < 0;
        }
        if (model == models.end()) {
          r.value = kNaN;
          r.reason = "the reference holds a negative target or prediction (log error undefined)";
        } else if (n == 0) {
          r.value = kNaN;
          r.reason = "no rows with a prediction in this chunk";
        } else if (loss_of(m) == "msle" && chunk_negative) {
          r.value = kNaN;
          r.reason = "a prediction in this chunk is negative (log error undefined)";
        } else {
          const std::vector<double>& pred = per == 0 ? model->second.ref_pred
                                                     : model->second.ana_pred;
          double v = PairwiseSum(std::span<const double>(pred).subspan(b, e - b)) /
                     static_cast<double>(e - b);
          r.value = (m == "rmse" || m == "rmsle") ? std::sqrt(v) : v;
        }
        r.sampling_error = n > 0 ? RegressionSamplingError(se, m.c_str(), n) : kNaN;
        if (std::isnan(r.value) || std::isnan(r.sampling_error)) {
          r.lower_confidence = r.upper_confidence = kNaN;
        } else {
          r.upper_confidence = r.value + 3 * r.sampling_error;
          r.lower_confidence = std::max(0.0, r.value - 3 * r.sampling_error);
        }
        if (per == 0) ref_realized.push_back(r.realized);
        recs.push_back(std::move(r));
      }
    }
    Bounds bounds = ComputeThresholds(MetricThresholdFor(spec.thresholds, m), ref_realized, 0.0,
                                      std::nullopt);
    for (auto& r : recs) {
      r.lower = bounds.lower;
      r.upper = bounds.upper;
      r.alert = IsAlert(r.value, bounds);
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace cairn::monitor
