#include "monitor/fairness.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
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
  const bool multiclass = !cfg.y_pred_proba_classes.empty();
  if ((cfg.y_pred_proba.empty() && !multiclass) || cfg.y_pred.empty()) {
    return InvalidArgument(
        fmt::format("{}: fairness needs a classifier with predicted labels "
                    "(model_outputs.y_pred_proba and model_outputs.y_pred)",
                    cfg.config_path));
  }
  // One-vs-rest slots: a binary classifier has one (the positive class 1, names as they are); a
  // multiclass one a slot per class (its index), names suffixed _<label>.
  struct Slot {
    double positive;
    std::string suffix;
  };
  std::vector<Slot> slots;
  if (multiclass) {
    for (const auto& [label, column] : cfg.y_pred_proba_classes)
      slots.push_back({static_cast<double>(slots.size()), "_" + label});
  } else {
    slots.push_back({1.0, ""});
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
    if (multiclass) {
      ASSIGN_OR_RETURN(own_predictions[p], PredictedClassCodes(cfg, *tables[p]));
    } else {
      ASSIGN_OR_RETURN(own_predictions[p], BinaryLabels(*tables[p], cfg.y_pred));
    }
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
        // counts[s][group]: the one-vs-rest confusion counts of slot s.
        std::vector<std::vector<GroupCounts>> counts(
            slots.size(), std::vector<GroupCounts>(g.index.size()));
        std::vector<bool> present(g.index.size(), false);
        for (int64_t i = ch.begin; i < ch.end; ++i) {
          present[codes[i]] = true;
          for (size_t s = 0; s < slots.size(); ++s) {
            GroupCounts& c = counts[s][codes[i]];
            c.rows += 1;
            if (std::isnan(yhat[i])) continue;
            const bool pos_pred = yhat[i] == slots[s].positive;
            c.predicted += 1;
            c.selected += pos_pred;
            if (std::isnan(y[i])) continue;
            const bool pos = y[i] == slots[s].positive;
            (pos ? (pos_pred ? c.tp : c.fn) : (pos_pred ? c.fp : c.tn)) += 1;
          }
        }
        std::vector<std::vector<double>> sr(slots.size()), tpr(slots.size()), fpr(slots.size());
        for (size_t k = 0; k < g.index.size(); ++k) {
          if (!present[k]) continue;
          const std::string& label = g.index.labels()[k];
          auto group_record = [&](const std::string& metric, double value,
                                  std::optional<double> denominator) {
            Record r = MakeRecord(period, ch, g.name, metric, "fairness");
            r.group = label;
            r.value = value;
            if (denominator && *denominator == 0) r.details.emplace_back("denominator", 0);
            add(std::move(r));
          };
          group_record("group_size", counts[0][k].rows, std::nullopt);
          for (size_t s = 0; s < slots.size(); ++s) {
            const GroupCounts& c = counts[s][k];
            const std::string& suffix = slots[s].suffix;
            if (c.predicted == 0) {
              // No prediction in the group: fairlearn cannot score it; cairn leaves it out of
              // the spreads and says why.
              Record r = MakeRecord(period, ch, g.name, "selection_rate" + suffix, "fairness");
              r.group = label;
              r.value = kNaN;
              r.reason = "no row of the group has a prediction";
              add(std::move(r));
              continue;
            }
            const double sel = c.selected / c.predicted;
            const double t = SafeRate(c.tp, c.tp + c.fn), f = SafeRate(c.fp, c.fp + c.tn);
            sr[s].push_back(sel);
            tpr[s].push_back(t);
            fpr[s].push_back(f);
            group_record("selection_rate" + suffix, sel, std::nullopt);
            if (!targets) continue;
            group_record("true_positive_rate" + suffix, t, c.tp + c.fn);
            group_record("false_positive_rate" + suffix, f, c.fp + c.tn);
            group_record("precision" + suffix, SafeRate(c.tp, c.tp + c.fp), c.tp + c.fp);
          }
        }
        // The attribute's figures per slot; for multiclass also the worst case over the
        // classes (the largest difference, the smallest ratio), which the limits apply to.
        static constexpr const char* kAggregates[] = {
            "demographic_parity_difference", "demographic_parity_ratio",
            "equalized_odds_difference",     "equalized_odds_ratio",
            "equal_opportunity_difference",  "equal_opportunity_ratio"};
        std::vector<std::array<double, 6>> values(slots.size());
        for (size_t s = 0; s < slots.size(); ++s) {
          const Spread dp = SpreadOf(sr[s]), tp = SpreadOf(tpr[s]), fp = SpreadOf(fpr[s]);
          values[s] = {dp.difference, dp.ratio, PyMax(tp.difference, fp.difference),
                       PyMin(tp.ratio, fp.ratio), tp.difference, tp.ratio};
        }
        auto aggregate_record = [&](const std::string& metric, double value, size_t groups,
                                    bool limited) {
          Record r = MakeRecord(period, ch, g.name, metric, "fairness");
          r.value = value;
          r.details.emplace_back("groups", static_cast<double>(groups));
          if (std::isnan(value)) {
            r.reason = groups == 0 ? "no row of the chunk has a prediction"
                                   : "the largest group rate is 0, so the ratio is 0/0";
          }
          auto lim = spec.limits.find(metric);
          if (limited && lim != spec.limits.end()) {
            r.lower = lim->second.lower;
            r.upper = lim->second.upper;
            r.alert = !std::isnan(value) &&
                      ((r.lower && value < *r.lower) || (r.upper && value > *r.upper));
          }
          add(std::move(r));
        };
        for (size_t m = 0; m < 6; ++m) {
          const std::string_view metric = kAggregates[m];
          if (!targets && metric.find("parity") == std::string_view::npos)
            continue;  // the rates need targets
          for (size_t s = 0; s < slots.size(); ++s)
            aggregate_record(std::string(metric) + slots[s].suffix, values[s][m], sr[s].size(),
                             !multiclass);
          if (multiclass) {
            double worst = values[0][m];
            const bool difference = metric.ends_with("difference");
            for (size_t s = 1; s < slots.size(); ++s)
              worst = difference ? PyMax(worst, values[s][m]) : PyMin(worst, values[s][m]);
            aggregate_record(std::string(metric), worst, sr[0].size(), true);
          }
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
