#include "monitor/fairness.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "monitor/data_source.h"
#include "monitor/groups.h"
#include "monitor/performance.h"

namespace cairn::monitor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One grouping: a sensitive attribute (or an intersection of several) with per-row
// group codes in both tables.
struct Grouping {
  std::string name;
  std::vector<int32_t> codes[2];
  GroupIndex index;
};

struct GroupCounts {
  double rows = 0, predicted = 0, selected = 0;  // selection rate = selected / predicted
  double tp = 0, fp = 0, tn = 0, fn = 0;
};

// fairlearn's rates: scikit-learn's normalized confusion matrix turns 0/0 into 0.
double SafeRate(double num, double den) { return den == 0 ? 0.0 : num / den; }

// pandas min/max over the groups, and the between-groups difference and ratio.
struct Spread {
  double difference = 0, ratio = 1;
};
Spread SpreadOf(const std::vector<double>& v) {
  Spread s;
  if (v.empty()) return {kNaN, kNaN};
  double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  s.difference = hi - lo;
  s.ratio = hi == 0 ? (lo == 0 ? kNaN : std::numeric_limits<double>::infinity()) : lo / hi;
  return s;
}

StatusOr<std::vector<Grouping>> MakeGroupings(const FairnessSpec& spec, const Table* tables[2]) {
  std::vector<Grouping> out;
  for (const auto& attr : spec.sensitive_attributes) {
    Grouping g;
    g.name = attr;
    for (int p = 0; p < 2; ++p) {
      const Column* c = tables[p]->Find(attr);
      if (c == nullptr) {
        return NotFound(fmt::format("{}: no column '{}' (fairness.sensitive_attributes)",
                                    tables[p]->source, attr));
      }
      ASSIGN_OR_RETURN(g.codes[p], GroupCodes(*c, "fairness.sensitive_attributes", &g.index));
    }
    out.push_back(std::move(g));
  }
  const size_t singles = out.size();
  for (const auto& combo : spec.intersections) {
    std::vector<const Grouping*> parts;
    for (const auto& a : combo) {
      for (size_t k = 0; k < singles; ++k) {
        if (out[k].name == a) parts.push_back(&out[k]);
      }
    }
    Grouping g;
    for (size_t a = 0; a < parts.size(); ++a) g.name += (a ? " & " : "") + parts[a]->name;
    for (int p = 0; p < 2; ++p) {
      const size_t n = parts[0]->codes[p].size();
      g.codes[p].resize(n);
      std::unordered_map<std::string, int32_t> cache;
      for (size_t i = 0; i < n; ++i) {
        std::string key;
        for (size_t a = 0; a < parts.size(); ++a) {
          key += (a ? " & " : "") + parts[a]->index.labels()[parts[a]->codes[p][i]];
        }
        auto it = cache.find(key);
        if (it == cache.end()) it = cache.emplace(key, g.index.Intern(key)).first;
        g.codes[p][i] = it->second;
      }
    }
    out.push_back(std::move(g));
  }
  return out;
}

// The 0/1 predicted labels of `column` (numbers, False/True, or labels that parse as numbers);
// NaN when missing. Errors: NotFound, InvalidArgument for any other value.
StatusOr<std::vector<double>> BinaryLabels(const Table& t, const std::string& column) {
  const Column* c = t.Find(column);
  if (c == nullptr) return NotFound(fmt::format("{}: no column '{}'", t.source, column));
  std::vector<double> out(c->size(), kNaN);
  for (size_t i = 0; i < c->size(); ++i) {
    double v = kNaN;
    if (c->type == ColumnType::kContinuous) {
      v = c->numbers[i];
    } else if (c->type == ColumnType::kBoolean) {
      if (c->codes[i] != kMissingCode) v = c->codes[i];
    } else if (c->type == ColumnType::kCategorical && c->codes[i] != kMissingCode &&
               !ParseNumber(c->dictionary[c->codes[i]], &v)) {
      v = -1;  // reported below
    }
    if (!std::isnan(v) && v != 0 && v != 1) {
      return InvalidArgument(fmt::format(
          "{}: data row {}, column '{}': a binary classifier's predicted labels must be 0 or 1 "
          "(or False/True)",
          t.source, i + 1, column));
    }
    out[i] = v;
  }
  return out;
}

// Python's builtin min over [a, b]: keeps `a` unless b < a (so a NaN `a` wins).
double PyMin(double a, double b) { return b < a ? b : a; }
double PyMax(double a, double b) { return b > a ? b : a; }

}  // namespace

StatusOr<std::vector<Record>> ComputeFairness(const MonitorConfig& cfg, const Table& rt,
                                              const std::vector<Chunk>& rc, const Table& at,
                                              const std::vector<Chunk>& ac) {
  const FairnessSpec& spec = *cfg.outcomes.fairness;
  if (cfg.y_pred_proba.empty() || cfg.y_pred.empty() || !cfg.y_pred_proba_classes.empty()) {
    return InvalidArgument(
        fmt::format("{}: fairness needs a binary classifier with predicted labels "
                    "(model_outputs.y_pred_proba naming one column, and model_outputs.y_pred)",
                    cfg.config_path));
  }
  const Table* tables[2] = {&rt, &at};
  const std::vector<Chunk>* chunks[2] = {&rc, &ac};
  ASSIGN_OR_RETURN(std::vector<Grouping> groupings, MakeGroupings(spec, tables));
  // Predictions: the column AttachTargets made, or (no targets yet) the y_pred column itself.
  const bool targets = rt.Find(kTargetColumn) != nullptr && at.Find(kTargetColumn) != nullptr &&
                       rt.Find(kPredColumn) != nullptr && at.Find(kPredColumn) != nullptr;
  std::vector<double> own_predictions[2];
  for (int p = 0; p < 2; ++p) {
    if (targets) break;
    ASSIGN_OR_RETURN(own_predictions[p], BinaryLabels(*tables[p], cfg.y_pred));
  }
  std::vector<Record> out;
  for (const Grouping& g : groupings) {
    // Records of one attribute, metric-major so each series reads in chunk order.
    std::map<std::string, std::vector<Record>> series;
    std::vector<std::string> order;
    auto add = [&](Record r) {
      const std::string key = r.metric + '\x1f' + r.group;
      auto& v = series[key];
      if (v.empty()) order.push_back(key);
      v.push_back(std::move(r));
    };
    for (int p = 0; p < 2; ++p) {
      const std::string period = p == 0 ? "reference" : "analysis";
      const std::vector<double>& yhat =
          targets ? tables[p]->Find(kPredColumn)->numbers : own_predictions[p];
      const std::vector<double> no_targets(targets ? 0 : yhat.size(), kNaN);
      const std::vector<double>& y = targets ? tables[p]->Find(kTargetColumn)->numbers : no_targets;
      const std::vector<int32_t>& codes = g.codes[p];
      for (const Chunk& ch : *chunks[p]) {
        std::vector<GroupCounts> counts(g.index.size());
        std::vector<bool> present(g.index.size(), false);
        for (int64_t i = ch.begin; i < ch.end; ++i) {
          GroupCounts& c = counts[codes[i]];
          present[codes[i]] = true;
          c.rows += 1;
          if (std::isnan(yhat[i])) continue;
          const bool pos_pred = yhat[i] == 1;
          c.predicted += 1;
          c.selected += pos_pred;
          if (std::isnan(y[i])) continue;
          const bool pos = y[i] == 1;
          (pos ? (pos_pred ? c.tp : c.fn) : (pos_pred ? c.fp : c.tn)) += 1;
        }
        std::vector<double> sr, tpr, fpr;
        for (size_t k = 0; k < counts.size(); ++k) {
          if (!present[k]) continue;
          const GroupCounts& c = counts[k];
          const std::string& label = g.index.labels()[k];
          auto group_record = [&](const char* metric, double value,
                                  std::optional<double> denominator) {
            Record r = MakeRecord(period, ch, g.name, metric, "fairness");
            r.group = label;
            r.value = value;
            if (denominator && *denominator == 0) r.details.emplace_back("denominator", 0);
            add(std::move(r));
          };
          group_record("group_size", c.rows, std::nullopt);
          if (c.predicted == 0) {
            // No prediction in the group: fairlearn cannot score it; cairn leaves it out of
            // the spreads and says why.
            Record r = MakeRecord(period, ch, g.name, "selection_rate", "fairness");
            r.group = label;
            r.value = kNaN;
            r.reason = "no row of the group has a prediction";
            add(std::move(r));
            continue;
          }
          const double s = c.selected / c.predicted;
          const double t = SafeRate(c.tp, c.tp + c.fn), f = SafeRate(c.fp, c.fp + c.tn);
          sr.push_back(s);
          tpr.push_back(t);
          fpr.push_back(f);
          group_record("selection_rate", s, std::nullopt);
          if (!targets) continue;
          group_record("true_positive_rate", t, c.tp + c.fn);
          group_record("false_positive_rate", f, c.fp + c.tn);
          group_record("precision", SafeRate(c.tp, c.tp + c.fp), c.tp + c.fp);
        }
        const Spread dp = SpreadOf(sr), tp = SpreadOf(tpr), fp = SpreadOf(fpr);
        const std::pair<const char*, double> aggregates[] = {
            {"demographic_parity_difference", dp.difference},
            {"demographic_parity_ratio", dp.ratio},
            {"equalized_odds_difference", PyMax(tp.difference, fp.difference)},
            {"equalized_odds_ratio", PyMin(tp.ratio, fp.ratio)},
            {"equal_opportunity_difference", tp.difference},
            {"equal_opportunity_ratio", tp.ratio},
        };
        for (const auto& [metric, value] : aggregates) {
          if (!targets && std::string_view(metric).find("parity") == std::string_view::npos)
            continue;  // the rates need targets
          Record r = MakeRecord(period, ch, g.name, metric, "fairness");
          r.value = value;
          r.details.emplace_back("groups", static_cast<double>(sr.size()));
          if (std::isnan(value)) {
            r.reason = sr.empty() ? "no row of the chunk has a prediction"
                                  : "the largest group rate is 0, so the ratio is 0/0";
          }
          auto lim = spec.limits.find(metric);
          if (lim != spec.limits.end()) {
            r.lower = lim->second.lower;
            r.upper = lim->second.upper;
            r.alert = !std::isnan(value) &&
                      ((r.lower && value < *r.lower) || (r.upper && value > *r.upper));
          }
          add(std::move(r));
        }
      }
    }
    for (const auto& key : order) {
      for (auto& r : series[key]) out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace cairn::monitor
