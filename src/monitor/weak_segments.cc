#include "monitor/weak_segments.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <unordered_map>

#include "monitor/groups.h"
#include "monitor/performance.h"
#include "monitor/statistics.h"

namespace cairn::monitor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One feature's slices: a label per bin and every row's bin in both tables.
struct Feature {
  std::string name;
  std::vector<std::string> labels;
  std::vector<int32_t> codes[2];
};

std::string Edge(double v) { return fmt::format("{:.6g}", v); }

Feature BinContinuous(const std::string& name, const Column* cols[2], int bins) {
  Feature f;
  f.name = name;
  std::vector<double> ref;
  for (double v : cols[0]->numbers) {
    if (std::isfinite(v)) ref.push_back(v);
  }
  std::sort(ref.begin(), ref.end());
  std::vector<double> edges;  // none when the reference has no values: one bin
  if (!ref.empty()) {
    for (double q : Linspace(0, 1, bins + 1)) edges.push_back(Quantile(ref, q));
  }
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  // Interior edges split the line into bins; the outer ones are open-ended.
  std::vector<double> interior;
  if (edges.size() > 2) interior.assign(edges.begin() + 1, edges.end() - 1);
  const size_t k = interior.size() + 1;
  for (size_t b = 0; b < k; ++b) {
    if (k == 1)
      f.labels.push_back(name + " (all values)");
    else if (b == 0)
      f.labels.push_back(fmt::format("{} < {}", name, Edge(interior[0])));
    else if (b == k - 1)
      f.labels.push_back(fmt::format("{} ≥ {}", name, Edge(interior[b - 1])));
    else
      f.labels.push_back(
          fmt::format("{} ≤ {} < {}", Edge(interior[b - 1]), name, Edge(interior[b])));
  }
  f.labels.push_back(fmt::format("{} = {}", name, kMissingGroup));
  const int32_t missing = static_cast<int32_t>(k);
  for (int p = 0; p < 2; ++p) {
    const std::vector<double>& v = cols[p]->numbers;
    f.codes[p].resize(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      if (std::isnan(v[i])) {
        f.codes[p][i] = missing;
        continue;
      }
      f.codes[p][i] = static_cast<int32_t>(
          std::upper_bound(interior.begin(), interior.end(), v[i]) - interior.begin());
    }
  }
  return f;
}

Feature BinCategorical(const std::string& name, const Column* cols[2], int max_categories) {
  Feature f;
  f.name = name;
  const Column& ref = *cols[0];
  std::vector<int64_t> counts(ref.dictionary.size(), 0);
  for (int32_t c : ref.codes) {
    if (c != kMissingCode) ++counts[c];
  }
  std::vector<size_t> order;
  for (size_t k = 0; k < counts.size(); ++k) {
    if (counts[k] > 0) order.push_back(k);
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return counts[a] != counts[b] ? counts[a] > counts[b] : ref.dictionary[a] < ref.dictionary[b];
  });
  if (order.size() > static_cast<size_t>(max_categories)) order.resize(max_categories);
  std::unordered_map<std::string, int32_t> bin;
  for (size_t k : order) {
    bin.emplace(ref.dictionary[k], static_cast<int32_t>(f.labels.size()));
    f.labels.push_back(fmt::format("{} = {}", name, ref.dictionary[k]));
  }
  const int32_t other = static_cast<int32_t>(f.labels.size());
  f.labels.push_back(fmt::format("{} = (other)", name));
  const int32_t missing = static_cast<int32_t>(f.labels.size());
  f.labels.push_back(fmt::format("{} = {}", name, kMissingGroup));
  for (int p = 0; p < 2; ++p) {
    const Column& c = *cols[p];
    std::vector<int32_t> dict(c.dictionary.size());
    for (size_t k = 0; k < dict.size(); ++k) {
      auto it = bin.find(c.dictionary[k]);
      dict[k] = it == bin.end() ? other : it->second;
    }
    f.codes[p].resize(c.size());
    for (size_t i = 0; i < c.size(); ++i)
      f.codes[p][i] = c.codes[i] == kMissingCode ? missing : dict[c.codes[i]];
  }
  return f;
}

// Running sums of centred losses.
struct Sums {
  double n = 0, s = 0, ss = 0;
  void Add(double d) { n += 1, s += d, ss += d * d; }
};

struct Candidate {
  int a, b;  // feature indices (b = −1 for a single feature)
  int32_t bin_a, bin_b;
  Sums sums;
  double mean = 0, rest = 0, gap = 0, effect = 0, t = 0, df = 0, p = 0, q = 1;
};

StatusOr<std::string> ResolveMetric(const MonitorConfig& cfg, const std::string& metric) {
  const bool binary = !cfg.y_pred_proba.empty();
  const bool multiclass = !cfg.y_pred_proba_classes.empty();
  const bool classifier = binary || multiclass;
  const bool labels = !cfg.y_pred.empty();
  std::string m = metric;
  if (m == "auto") m = classifier ? (labels ? "error_rate" : "log_loss") : "absolute_error";
  if (m == "error_rate" && !(classifier && labels))
    return InvalidArgument(fmt::format(
        "{}: weak_segments.metric error_rate needs a classifier with model_outputs.y_pred",
        cfg.config_path));
  if (m == "log_loss" && !binary)
    return InvalidArgument(
        fmt::format("{}: weak_segments.metric log_loss needs a binary classifier's probability "
                    "(model_outputs.y_pred_proba naming one column)",
                    cfg.config_path));
  if ((m == "absolute_error" || m == "squared_error") && classifier)
    return InvalidArgument(fmt::format(
        "{}: weak_segments.metric {} is for regression; use error_rate or log_loss for a "
        "classifier",
        cfg.config_path, m));
  return m;
}

std::vector<double> Losses(const Table& t, const std::string& metric) {
  const std::vector<double>& y = t.Find(kTargetColumn)->numbers;
  std::vector<double> out(y.size(), kNaN);
  const Column* pred = t.Find(kPredColumn);
  const Column* proba = t.Find(kProbaColumn);
  const double eps = std::numeric_limits<double>::epsilon();
  for (size_t i = 0; i < y.size(); ++i) {
    if (std::isnan(y[i])) continue;
    if (metric == "log_loss") {
      const double p = proba->numbers[i];
      if (std::isnan(p)) continue;
      out[i] = -std::log(std::clamp(y[i] == 1 ? p : 1 - p, eps, 1 - eps));
      continue;
    }
    const double yhat = pred->numbers[i];
    if (std::isnan(yhat)) continue;
    if (metric == "error_rate")
      out[i] = yhat != y[i];
    else if (metric == "absolute_error")
      out[i] = std::abs(y[i] - yhat);
    else
      out[i] = (y[i] - yhat) * (y[i] - yhat);
  }
  return out;
}

double Variance(const Sums& s) {
  if (s.n < 2) return kNaN;
  return std::max(0.0, (s.ss - s.s * s.s / s.n) / (s.n - 1));
}

}  // namespace

WelchResult WelchGreater(double n_a, double mean_a, double var_a, double n_b, double mean_b,
                         double var_b) {
  const double va = var_a / n_a, vb = var_b / n_b, se2 = va + vb;
  if (!(se2 > 0) || std::isnan(se2)) return {kNaN, kNaN, kNaN};
  const double t = (mean_a - mean_b) / std::sqrt(se2);
  const double df = se2 * se2 / (va * va / (n_a - 1) + vb * vb / (n_b - 1));
  boost::math::students_t_distribution<double> dist(df);
  const double p = boost::math::cdf(boost::math::complement(dist, t));
  return {t, df, p};
}

std::vector<double> BenjaminiHochberg(const std::vector<double>& p) {
  const size_t m = p.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> q(m);
  double running = 1;
  for (size_t k = m; k-- > 0;) {
    running = std::min(running, p[order[k]] * static_cast<double>(m) / static_cast<double>(k + 1));
    q[order[k]] = std::min(1.0, running);
  }
  return q;
}

StatusOr<std::vector<Record>> FindWeakSegments(const MonitorConfig& cfg,
                                               const std::vector<std::string>& monitored,
                                               const Table& rt, const std::vector<Chunk>& rc,
                                               const Table& at, const std::vector<Chunk>& ac) {
  const WeakSegmentsSpec& spec = *cfg.outcomes.weak_segments;
  ASSIGN_OR_RETURN(const std::string metric, ResolveMetric(cfg, spec.metric));
  std::vector<std::string> names = spec.features;
  if (names.empty()) {
    for (const auto& n : monitored) {
      bool output = n == cfg.y_pred_proba || n == cfg.y_pred;
      for (const auto& [label, column] : cfg.y_pred_proba_classes) output |= n == column;
      if (!output) names.push_back(n);
    }
  }
  const Table* tables[2] = {&rt, &at};
  std::vector<Feature> features;
  for (const auto& n : names) {
    const Column* cols[2] = {rt.Find(n), at.Find(n)};
    for (int p = 0; p < 2; ++p) {
      if (cols[p] == nullptr)
        return NotFound(
            fmt::format("{}: no column '{}' (weak_segments.features)", tables[p]->source, n));
    }
    if (cols[0]->type == ColumnType::kTimestamp || cols[0]->type != cols[1]->type) {
      return InvalidArgument(fmt::format(
          "{}: weak_segments.features names '{}', which holds timestamps or differs in type "
          "between reference and analysis",
          cfg.config_path, n));
    }
    features.push_back(cols[0]->type == ColumnType::kContinuous
                           ? BinContinuous(n, cols, spec.bins)
                           : BinCategorical(n, cols, spec.max_categories));
  }
  const std::vector<Chunk>* chunks[2] = {&rc, &ac};
  std::vector<Record> out;
  const int nf = static_cast<int>(features.size());
  for (int p = 0; p < 2; ++p) {
    const std::vector<double> loss = Losses(*tables[p], metric);
    for (const Chunk& ch : *chunks[p]) {
      std::vector<int64_t> rows;
      double total = 0;
      for (int64_t i = ch.begin; i < ch.end; ++i) {
        if (std::isnan(loss[i])) continue;
        rows.push_back(i);
        total += loss[i];
      }
      const double n_all = static_cast<double>(rows.size());
      if (rows.size() < 4) continue;
      const double center = total / n_all;
      Sums all;
      for (int64_t i : rows) all.Add(loss[i] - center);
      // Slice sums: singles, then pairs.
      std::vector<Candidate> cands;
      std::vector<size_t> single_base(nf);
      for (int a = 0; a < nf; ++a) {
        single_base[a] = cands.size();
        const size_t k = features[a].labels.size();
        std::vector<Sums> s(k);
        for (int64_t i : rows) s[features[a].codes[p][i]].Add(loss[i] - center);
        for (size_t bin = 0; bin < k; ++bin)
          cands.push_back({a, -1, static_cast<int32_t>(bin), -1, s[bin]});
      }
      if (spec.pairs) {
        for (int a = 0; a < nf; ++a) {
          for (int b = a + 1; b < nf; ++b) {
            const size_t kb = features[b].labels.size();
            std::vector<Sums> s(features[a].labels.size() * kb);
            for (int64_t i : rows)
              s[features[a].codes[p][i] * kb + features[b].codes[p][i]].Add(loss[i] - center);
            for (size_t cell = 0; cell < s.size(); ++cell) {
              if (s[cell].n == 0) continue;
              cands.push_back({a, b, static_cast<int32_t>(cell / kb),
                               static_cast<int32_t>(cell % kb), s[cell]});
            }
          }
        }
      }
      // Welch's test for every slice of the allowed size.
      const double min_n =
          std::max(static_cast<double>(spec.min_rows), std::ceil(spec.min_size * n_all));
      std::vector<size_t> tested;
      std::vector<double> pvals;
      for (size_t c = 0; c < cands.size(); ++c) {
        Candidate& cd = cands[c];
        Sums rest{n_all - cd.sums.n, all.s - cd.sums.s, all.ss - cd.sums.ss};
        cd.mean = cd.sums.n > 0 ? cd.sums.s / cd.sums.n + center : kNaN;
        cd.rest = rest.n > 0 ? rest.s / rest.n + center : kNaN;
        cd.gap = cd.mean - cd.rest;
        if (cd.sums.n < min_n || rest.n < 2) continue;
        const double vs = Variance(cd.sums), vr = Variance(rest);
        WelchResult w = WelchGreater(cd.sums.n, cd.mean, vs, rest.n, cd.rest, vr);
        if (std::isnan(w.p_value)) continue;
        cd.t = w.t;
        cd.df = w.df;
        cd.p = w.p_value;
        cd.effect = std::sqrt(2.0) * cd.gap / std::sqrt(vs + vr);
        tested.push_back(c);
        pvals.push_back(w.p_value);
      }
      const std::vector<double> q = BenjaminiHochberg(pvals);
      std::vector<const Candidate*> weak;
      for (size_t k = 0; k < tested.size(); ++k) {
        Candidate& cd = cands[tested[k]];
        cd.q = q[k];
        if (!(cd.q <= spec.alpha && cd.gap > 0 && cd.effect >= spec.min_effect)) continue;
        if (cd.b >= 0) {
          const Candidate& pa = cands[single_base[cd.a] + cd.bin_a];
          const Candidate& pb = cands[single_base[cd.b] + cd.bin_b];
          if (!(cd.gap > pa.gap && cd.gap > pb.gap)) continue;
        }
        weak.push_back(&cd);
      }
      auto label = [&](const Candidate& c) {
        std::string s = features[c.a].labels[c.bin_a];
        if (c.b >= 0) s += " & " + features[c.b].labels[c.bin_b];
        return s;
      };
      auto key = [&](const Candidate& c) -> double {
        if (spec.rank_by == "size") return -c.sums.n;
        if (spec.rank_by == "p_value") return c.p;
        if (spec.rank_by == "effect_size") return -c.effect;
        return -c.gap;
      };
      std::sort(weak.begin(), weak.end(), [&](const Candidate* x, const Candidate* y) {
        const double kx = key(*x), ky = key(*y);
        if (kx != ky) return kx < ky;
        if (x->p != y->p) return x->p < y->p;
        return label(*x) < label(*y);
      });
      if (weak.size() > static_cast<size_t>(spec.top)) weak.resize(spec.top);
      for (size_t k = 0; k < weak.size(); ++k) {
        const Candidate& c = *weak[k];
        std::string column = features[c.a].name;
        if (c.b >= 0) column += " & " + features[c.b].name;
        Record r =
            MakeRecord(p == 0 ? "reference" : "analysis", ch, column, metric, "weak_segment");
        r.group = label(c);
        r.value = c.mean;
        r.p_value = c.p;
        r.details = {{"rank", static_cast<double>(k + 1)},
                     {"size", c.sums.n},
                     {"rest", c.rest},
                     {"gap", c.gap},
                     {"effect_size", c.effect},
                     {"q_value", c.q},
                     {"t", c.t},
                     {"df", c.df},
                     {"tested", static_cast<double>(tested.size())}};
        out.push_back(std::move(r));
      }
    }
  }
  return out;
}

}  // namespace cairn::monitor
