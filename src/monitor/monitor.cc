#include "monitor/monitor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <thread>
#include <unordered_map>

#include "common/files.h"
#include "monitor/cbpe.h"
#include "monitor/chunker.h"
#include "monitor/data_quality.h"
#include "monitor/dle.h"
#include "monitor/domain_classifier.h"
#include "monitor/outcomes.h"
#include "monitor/pca_drift.h"
#include "monitor/statistics.h"
#include "monitor/performance.h"
#include "monitor/thresholds.h"
#include "monitor/univariate_drift.h"
#include "monitor/work_items.h"

namespace cairn::monitor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Period {
  std::string name;
  const Table* table;
  const std::vector<Chunk>* chunks;
};

// Builds the records of one metric over all chunks of both periods, then thresholds from
// the reference chunks and alerts.
class MetricSeries {
 public:
  MetricSeries(const std::vector<Period>& periods, std::string column, std::string metric,
               std::string kind)
      : periods_(periods),
        column_(std::move(column)),
        metric_(std::move(metric)),
        kind_(std::move(kind)) {}

  void Add(size_t period, const Chunk& chunk, double value,
           std::optional<double> p = std::nullopt) {
    Record r = MakeRecord(periods_[period].name, chunk, column_, metric_, kind_);
    r.value = value;
    r.p_value = p;
    records_.push_back(std::move(r));
    if (period == 0) ref_values_.push_back(value);
  }

  // Applies `spec` (with the metric's limits) and appends the records to `out`.
  // `inclusive`: a value equal to a threshold alerts too (nannyML's summary statistics and
  // PCA use `not (lower < value < upper)`; drift and data quality use strict comparisons).
  void Finish(const ThresholdSpec& spec, std::optional<double> lower_limit,
              std::optional<double> upper_limit, std::vector<Record>* out,
              bool override_using_none = false, bool inclusive = false) {
    Bounds b = ComputeThresholds(spec, ref_values_, lower_limit, upper_limit, override_using_none);
    for (auto& r : records_) {
      if (spec.kind == ThresholdKind::kPValue) {
        r.alert = r.p_value.has_value() && !std::isnan(*r.p_value) && *r.p_value < spec.alpha;
      } else {
        r.lower = b.lower;
        r.upper = b.upper;
        r.alert = IsAlert(r.value, b);
        if (inclusive && !std::isnan(r.value)) {
          r.alert = r.alert || (b.lower && r.value == *b.lower) || (b.upper && r.value == *b.upper);
        }
      }
      out->push_back(std::move(r));
    }
    records_.clear();
  }

  // Evidently's rule: p-value tests drift below 0.05 (ks: at or below), distances at or
  // above 0.1; no thresholds from the reference.
  void FinishEvidently(const EvidentlyDrift& ev, std::vector<Record>* out) {
    for (auto& r : records_) {
      if (!ev.is_p_value()) r.upper = 0.1;
      r.alert = ev.Drifted(r.value);
      out->push_back(std::move(r));
    }
    records_.clear();
  }

 private:
  const std::vector<Period>& periods_;
  std::string column_, metric_, kind_;
  std::vector<Record> records_;
  std::vector<double> ref_values_;
};

ThresholdSpec StdSpec(std::optional<double> lower, std::optional<double> upper) {
  ThresholdSpec s;
  s.kind = ThresholdKind::kStd;
  s.lower = lower;
  s.upper = upper;
  return s;
}

ThresholdSpec ConstSpec(std::optional<double> lower, std::optional<double> upper) {
  ThresholdSpec s;
  s.kind = ThresholdKind::kConstant;
  s.lower = lower;
  s.upper = upper;
  return s;
}

ThresholdSpec NoneSpec() {
  ThresholdSpec s;
  s.kind = ThresholdKind::kNone;
  return s;
}

std::vector<double> FiniteValues(const Column& c, int64_t b, int64_t e) {
  std::vector<double> v;
  v.reserve(static_cast<size_t>(e - b));
  for (int64_t r = b; r < e; ++r) {
    double x = c.numbers[r];
    if (std::isfinite(x)) v.push_back(x);
  }
  return v;
}

std::string FormatEdge(double v) { return fmt::format("{:.4g}", v); }

// Everything computed for one monitored column.
struct ColumnOutput {
  std::vector<Record> records;
  Distribution distribution;
};

ColumnOutput ProcessContinuous(const MonitorConfig& cfg, const std::vector<Period>& periods,
                               const Column& ref, const Column& ana) {
  ColumnOutput out;
  const Column* cols[2] = {&ref, &ana};
  // The reference's finite values: the column itself when it has no NaN or ±Inf.
  std::vector<double> ref_copy;
  std::span<const double> ref_values(ref.numbers);
  if (!std::all_of(ref.numbers.begin(), ref.numbers.end(),
                   [](double x) { return std::isfinite(x); })) {
    ref_copy = FiniteValues(ref, 0, static_cast<int64_t>(ref.numbers.size()));
    ref_values = ref_copy;
  }
  auto [min_it, max_it] = std::minmax_element(ref_values.begin(), ref_values.end());
  const double ref_min = ref_values.empty() ? kNaN : *min_it;
  const double ref_max = ref_values.empty() ? kNaN : *max_it;
  std::vector<std::string> methods = cfg.continuous_methods;
  ContinuousDrift drift(ref_values, methods, cfg.ks_calculation);

  std::vector<MetricSeries> series;
  for (const auto& m : methods) series.emplace_back(periods, ref.name, m, "drift");
  std::vector<int64_t> ana_doane;  // analysis counts per Doane bin, for the report
  int64_t ana_finite = 0;
  for (size_t p = 0; p < periods.size(); ++p) {
    for (const Chunk& ch : *periods[p].chunks) {
      std::vector<MethodValue> vals;
      if (drift.binned_only()) {
        std::span<const double> raw(cols[p]->numbers.data() + ch.begin, ch.size());
        if (p == 1) {
          ana_finite +=
              std::count_if(raw.begin(), raw.end(), [](double x) { return std::isfinite(x); });
        }
        vals = drift.CalculateRaw(raw, p == 1 ? &ana_doane : nullptr);
      } else {
        std::vector<double> v = FiniteValues(*cols[p], ch.begin, ch.end);
        if (p == 1) ana_finite += static_cast<int64_t>(v.size());
        vals = drift.Calculate(v, p == 1 ? &ana_doane : nullptr);
      }
      for (size_t k = 0; k < methods.size(); ++k)
        series[k].Add(p, ch, vals[k].value, vals[k].p_value);
    }
  }
  for (size_t k = 0; k < methods.size(); ++k) {
    auto it = cfg.thresholds.find(methods[k]);
    ThresholdSpec spec =
        it != cfg.thresholds.end() ? it->second : DefaultDriftThreshold(methods[k]);
    series[k].Finish(spec, MethodLowerLimit(methods[k]), MethodUpperLimit(methods[k]),
                     &out.records);
  }

  if (cfg.preset == "evidently") {
    std::vector<double> ana_values = FiniteValues(ana, 0, static_cast<int64_t>(ana.numbers.size()));
    EvidentlyDrift ev = EvidentlyDrift::ForContinuous(
        std::vector<double>(ref_values.begin(), ref_values.end()), ana_values);
    MetricSeries es(periods, ref.name, "evidently:" + ev.test(), "drift");
    for (size_t p = 0; p < periods.size(); ++p) {
      for (const Chunk& ch : *periods[p].chunks) {
        std::vector<double> v = FiniteValues(*cols[p], ch.begin, ch.end);
        double value = ev.Continuous(v);
        es.Add(p, ch, value, ev.is_p_value() ? std::optional<double>(value) : std::nullopt);
      }
    }
    es.FinishEvidently(ev, &out.records);
  }
  if (cfg.data_quality) {
    MetricSeries missing(periods, ref.name, "missing_values_rate", "data_quality");
    MetricSeries range(periods, ref.name, "out_of_range_rate", "data_quality");
    MetricSeries unparse(periods, ref.name, "unparseable_values_count", "data_quality");
    for (size_t p = 0; p < periods.size(); ++p) {
      for (const Chunk& ch : *periods[p].chunks) {
        missing.Add(p, ch, MissingRate(*cols[p], ch.begin, ch.end));
        range.Add(p, ch, OutOfRangeRate(*cols[p], ch.begin, ch.end, ref_min, ref_max));
        unparse.Add(p, ch, static_cast<double>(UnparseableCount(*cols[p], ch.begin, ch.end)));
      }
    }
    missing.Finish(StdSpec(3, 3), 0.0, 1.0, &out.records);
    range.Finish(ConstSpec(std::nullopt, 0.0), 0.0, 1.0, &out.records);
    unparse.Finish(ConstSpec(std::nullopt, 0.0), 0.0, std::nullopt, &out.records);
  }
  if (cfg.summary_stats) {
    const char* names[] = {"mean", "std", "median", "q25", "q75", "min", "max", "distinct_count"};
    std::vector<MetricSeries> ss;
    for (const char* n : names) ss.emplace_back(periods, ref.name, n, "summary");
    for (size_t p = 0; p < periods.size(); ++p) {
      for (const Chunk& ch : *periods[p].chunks) {
        SummaryStats s = Summarize(*cols[p], ch.begin, ch.end);
        double vals[] = {s.mean, s.std, s.median, s.q25,
                         s.q75,  s.min, s.max,    static_cast<double>(s.distinct)};
        for (size_t k = 0; k < ss.size(); ++k) ss[k].Add(p, ch, vals[k]);
      }
    }
    for (size_t k = 0; k < ss.size(); ++k) {
      // nannyML: mean and median unbounded, std bounded below by 0; alerts on the bounds.
      ThresholdSpec spec = k < 3 ? StdSpec(3, 3) : NoneSpec();
      ss[k].Finish(spec, k == 1 ? std::optional<double>(0.0) : std::nullopt, std::nullopt,
                   &out.records, false,
                   /*inclusive=*/true);
    }
  }
  // Distribution for the report: the reference's Doane bins (merged to at most 40 for
  // display); the analysis counts come from the drift pass when it used them.
  Distribution& d = out.distribution;
  d.column = ref.name;
  if (!ref_values.empty()) {
    std::vector<double> edges = drift.doane_edges();
    std::vector<double> rp;  // reference shares per bin
    std::vector<int64_t> ac;
    if (edges.empty() || ana_doane.size() + 1 != edges.size()) {
      edges = DoaneEdges(ref_values);
      std::vector<int64_t> rc;
      Histogram(ref_values, edges, &rc);
      for (int64_t c : rc) rp.push_back(c / static_cast<double>(ref_values.size()));
      std::vector<double> av = FiniteValues(ana, 0, static_cast<int64_t>(ana.numbers.size()));
      Histogram(av, edges, &ac);
      ana_finite = static_cast<int64_t>(av.size());
    } else {
      rp = drift.reference_doane_probs();
      ac = ana_doane;
    }
    const size_t nb = rp.size(), group = (nb + 39) / 40;
    for (size_t i = 0; i < nb; i += group) {
      double r = 0;
      int64_t a = 0;
      for (size_t k = i; k < std::min(nb, i + group); ++k) r += rp[k], a += ac[k];
      d.labels.push_back(FormatEdge(edges[i]));
      d.reference.push_back(r);
      d.analysis.push_back(ana_finite ? a / static_cast<double>(ana_finite) : 0.0);
    }
  }
  return out;
}

ColumnOutput ProcessCategorical(const MonitorConfig& cfg, const std::vector<Period>& periods,
                                const Column& ref, const Column& ana) {
  ColumnOutput out;
  const Column* cols[2] = {&ref, &ana};
  const size_t k_ref = ref.dictionary.size();
  std::vector<int64_t> ref_counts(k_ref, 0);
  bool ref_has_missing = false;
  for (int32_t c : ref.codes) {
    if (c == kMissingCode)
      ref_has_missing = true;
    else
      ++ref_counts[c];
  }
  // Analysis code -> reference code, or -1 for a category the reference never had.
  std::unordered_map<std::string_view, int32_t> ref_index;
  for (size_t i = 0; i < k_ref; ++i) ref_index[ref.dictionary[i]] = static_cast<int32_t>(i);
  std::vector<int32_t> ana_map(ana.dictionary.size(), -1);
  for (size_t i = 0; i < ana.dictionary.size(); ++i) {
    auto it = ref_index.find(ana.dictionary[i]);
    if (it != ref_index.end()) ana_map[i] = it->second;
  }
  std::vector<int32_t> ref_map(k_ref);
  for (size_t i = 0; i < k_ref; ++i) ref_map[i] = static_cast<int32_t>(i);
  const std::vector<int32_t>* maps[2] = {&ref_map, &ana_map};
  const size_t dict_size[2] = {k_ref, ana.dictionary.size()};

  std::vector<std::string> methods = cfg.categorical_methods;
  CategoricalDrift drift(ref_counts, methods);
  std::optional<EvidentlyDrift> ev;
  std::optional<MetricSeries> es;
  if (cfg.preset == "evidently") {
    int64_t distinct = 0;
    std::vector<bool> ana_present(ana.dictionary.size(), false);
    for (int32_t c : ana.codes) {
      if (c != kMissingCode) ana_present[c] = true;
    }
    for (int64_t c : ref_counts) distinct += c > 0;
    for (size_t i = 0; i < ana.dictionary.size(); ++i) distinct += ana_present[i] && ana_map[i] < 0;
    ev = EvidentlyDrift::ForCategorical(ref_counts, distinct);
    es.emplace(periods, ref.name, "evidently:" + ev->test(), "drift");
  }
  std::vector<MetricSeries> series;
  for (const auto& m : methods) series.emplace_back(periods, ref.name, m, "drift");
  MetricSeries missing(periods, ref.name, "missing_values_rate", "data_quality");
  MetricSeries unseen_rate(periods, ref.name, "unseen_values_rate", "data_quality");
  MetricSeries unparse(periods, ref.name, "unparseable_values_count", "data_quality");
  std::vector<int64_t> counts, unseen, raw;
  for (size_t p = 0; p < periods.size(); ++p) {
    const Column& col = *cols[p];
    for (const Chunk& ch : *periods[p].chunks) {
      raw.assign(dict_size[p], 0);
      int64_t nmiss = 0;
      for (int64_t r = ch.begin; r < ch.end; ++r) {
        int32_t c = col.codes[r];
        if (c == kMissingCode)
          ++nmiss;
        else
          ++raw[c];
      }
      counts.assign(k_ref, 0);
      unseen.clear();
      int64_t unseen_total = 0;
      for (size_t c = 0; c < raw.size(); ++c) {
        if (raw[c] == 0) continue;
        int32_t m = (*maps[p])[c];
        if (m >= 0)
          counts[m] += raw[c];
        else {
          unseen.push_back(raw[c]);
          unseen_total += raw[c];
        }
      }
      std::vector<MethodValue> vals = drift.Calculate(counts, unseen);
      for (size_t k = 0; k < methods.size(); ++k)
        series[k].Add(p, ch, vals[k].value, vals[k].p_value);
      if (ev) {
        double value = ev->Categorical(counts, unseen);
        es->Add(p, ch, value, ev->is_p_value() ? std::optional<double>(value) : std::nullopt);
      }
      const double n = static_cast<double>(ch.size());
      if (cfg.data_quality) {
        missing.Add(p, ch, n > 0 ? nmiss / n : kNaN);
        unseen_rate.Add(p, ch, n > 0 ? (unseen_total + (ref_has_missing ? 0 : nmiss)) / n : kNaN);
        unparse.Add(p, ch, static_cast<double>(UnparseableCount(col, ch.begin, ch.end)));
      }
    }
  }
  for (size_t k = 0; k < methods.size(); ++k) {
    auto it = cfg.thresholds.find(methods[k]);
    ThresholdSpec spec =
        it != cfg.thresholds.end() ? it->second : DefaultDriftThreshold(methods[k]);
    series[k].Finish(spec, MethodLowerLimit(methods[k]), MethodUpperLimit(methods[k]),
                     &out.records);
  }
  if (ev) es->FinishEvidently(*ev, &out.records);
  if (cfg.data_quality) {
    missing.Finish(StdSpec(3, 3), 0.0, 1.0, &out.records);
    unseen_rate.Finish(ConstSpec(std::nullopt, 0.0), 0.0, 1.0, &out.records);
    unparse.Finish(ConstSpec(std::nullopt, 0.0), 0.0, std::nullopt, &out.records);
  }
  // Distribution: the 20 most frequent reference categories plus "other".
  Distribution& d = out.distribution;
  d.column = ref.name;
  d.categorical = true;
  std::vector<size_t> order(k_ref);
  for (size_t i = 0; i < k_ref; ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return ref_counts[a] > ref_counts[b]; });
  std::vector<int64_t> ana_counts(k_ref, 0);
  int64_t ana_total = 0, ana_other = 0, ref_total = 0;
  for (int32_t c : ana.codes) {
    if (c == kMissingCode) continue;
    ++ana_total;
    if (ana_map[c] >= 0)
      ++ana_counts[ana_map[c]];
    else
      ++ana_other;
  }
  for (int64_t c : ref_counts) ref_total += c;
  double ref_rest = 1.0, ana_rest = 1.0;
  for (size_t i = 0; i < order.size() && i < 20; ++i) {
    size_t c = order[i];
    d.labels.push_back(ref.dictionary[c]);
    double rs = ref_total ? ref_counts[c] / static_cast<double>(ref_total) : 0.0;
    double as = ana_total ? ana_counts[c] / static_cast<double>(ana_total) : 0.0;
    d.reference.push_back(rs);
    d.analysis.push_back(as);
    ref_rest -= rs;
    ana_rest -= as;
  }
  if (order.size() > 20 || ana_other > 0) {
    d.labels.push_back(order.size() > 20 ? "(other/unseen)" : "(unseen)");
    d.reference.push_back(std::max(0.0, ref_rest));
    d.analysis.push_back(std::max(0.0, ana_rest));
  }
  return out;
}

void SortByTimestamp(Table* t, const std::string& ts_col) {
  if (ts_col.empty()) return;
  Column* c = t->Find(ts_col);
  if (c == nullptr) return;
  std::vector<uint32_t> order = TimestampOrder(c->timestamps);
  if (order.empty()) return;
  for (auto& col : t->columns) col.Permute(order);
}

}  // namespace

StatusOr<MonitorResult> RunMonitor(const MonitorConfig& cfg, const RunOptions& options) {
  auto ref = OpenCsvFile(cfg.reference);
  auto ana = OpenCsvFile(cfg.analysis);
  return RunMonitorOn(cfg, *ref, *ana, options);
}

StatusOr<MonitorResult> RunMonitorOn(const MonitorConfig& cfg, DataSource& ref_src,
                                     DataSource& ana_src, const RunOptions& options) {
  auto progress = [&](const std::string& msg) {
    if (options.progress) options.progress(msg);
  };
  MonitorResult result;
  // Load both files concurrently: the analysis file only needs its bytes until the
  // reference's types are known.
  std::vector<std::string> ana_names;
  Status ana_status;
  std::thread ana_loader([&] {
    auto names = ana_src.ColumnNames();
    if (names.ok())
      ana_names = *names;
    else
      ana_status = names.status();
  });
  auto ref_names_or = ref_src.ColumnNames();
  ana_loader.join();
  if (!ref_names_or.ok()) return ref_names_or.status();
  RETURN_IF_ERROR(ana_status);
  const std::vector<std::string>& ref_names = *ref_names_or;
  progress(fmt::format("read {} and {}", ref_src.Name(), ana_src.Name()));

  // Which columns are monitored.
  std::set<std::string> excluded(cfg.id_columns.begin(), cfg.id_columns.end());
  if (!cfg.timestamp_column.empty()) excluded.insert(cfg.timestamp_column);
  if (!cfg.target_column.empty()) excluded.insert(cfg.target_column);
  if (cfg.targets) {
    excluded.insert(cfg.targets->join_key);
    if (!cfg.targets->column.empty()) excluded.insert(cfg.targets->column);
  }
  for (const auto& [label, column] : cfg.y_pred_proba_classes) excluded.insert(column);
  std::vector<std::string> monitored = cfg.features;
  if (monitored.empty()) {
    for (const auto& n : ref_names) {
      if (excluded.count(n) || n == cfg.y_pred_proba || n == cfg.y_pred) continue;
      monitored.push_back(n);
    }
  }
  std::vector<std::string> model_outputs = {cfg.y_pred_proba, cfg.y_pred};
  for (const auto& [label, column] : cfg.y_pred_proba_classes) model_outputs.push_back(column);
  for (const auto& out : model_outputs) {
    if (!out.empty() && std::find(monitored.begin(), monitored.end(), out) == monitored.end()) {
      monitored.push_back(out);
    }
  }
  if (monitored.empty())
    return InvalidArgument(fmt::format("{}: no columns to monitor", cfg.config_path));
  for (const auto& n : monitored) {
    if (std::find(ref_names.begin(), ref_names.end(), n) == ref_names.end()) {
      return NotFound(fmt::format("{}:1: unknown column '{}' (named in {})", ref_src.Name(), n,
                                  cfg.config_path));
    }
    if (std::find(ana_names.begin(), ana_names.end(), n) == ana_names.end()) {
      return NotFound(fmt::format("{}:1: unknown column '{}' (named in {})", ana_src.Name(), n,
                                  cfg.config_path));
    }
  }
  std::vector<std::string> load = monitored;
  auto add_load = [&](const std::string& n) {
    if (!n.empty() && std::find(load.begin(), load.end(), n) == load.end()) load.push_back(n);
  };
  add_load(cfg.timestamp_column);
  for (const auto& k : cfg.duplicates_key) add_load(k);
  RETURN_IF_ERROR(CheckOutcomeColumns(cfg, ref_src.Name(), ref_names));
  RETURN_IF_ERROR(CheckOutcomeColumns(cfg, ana_src.Name(), ana_names));
  for (const auto& n : OutcomeColumns(cfg)) add_load(n);

  // The target column is read in the same pass as the others (not in a pass of its own over
  // each file), exactly as a read of that column alone would read it: categorical for a
  // multiclass model, otherwise its type inferred from its own file and strict.
  const bool performance = WantsPerformance(cfg, ana_names);
  const bool estimating = WantsCbpe(cfg) || WantsDle(cfg);
  const std::string target = TargetName(cfg);
  auto has = [](const std::vector<std::string>& names, const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  const bool ref_target = (performance || estimating) && !target.empty() && !has(load, target) &&
                          has(ref_names, target);
  const bool ana_target = ref_target && has(ana_names, target);
  std::map<std::string, ColumnType> target_types;
  if (!cfg.y_pred_proba_classes.empty()) target_types[target] = ColumnType::kCategorical;

  ReadOptions ref_opts;
  ref_opts.columns = load;
  ref_opts.types = cfg.column_types;
  if (!cfg.timestamp_column.empty()) ref_opts.types[cfg.timestamp_column] = ColumnType::kTimestamp;
  if (ref_target) {
    ref_opts.columns.push_back(target);
    ref_opts.types.erase(target);
    ref_opts.types.insert(target_types.begin(), target_types.end());
  }
  ref_opts.on_bad_rows = cfg.on_bad_rows;
  ASSIGN_OR_RETURN(auto types, ref_src.InferTypes(ref_opts));
  ReadOptions all_typed = ref_opts;
  all_typed.types = types;
  for (const auto& [name, type] : types) {
    if (!ref_opts.types.count(name)) all_typed.strict_columns.insert(name);
  }
  ReadOptions ana_opts = all_typed;
  ana_opts.strict_columns.clear();
  if (ref_target && !ana_target) {
    ana_opts.columns.pop_back();
    ana_opts.types.erase(target);
  }
  if (ana_target) {
    ReadOptions infer;
    infer.columns = {target};
    infer.types = target_types;
    ASSIGN_OR_RETURN(auto ana_types, ana_src.InferTypes(infer));
    ana_opts.types[target] = ana_types.at(target);
    if (target_types.empty()) ana_opts.strict_columns.insert(target);
  }

  StatusOr<Table> ana_table = InvalidArgument("not read");
  std::thread ana_reader([&] { ana_table = ana_src.Read(ana_opts); });
  StatusOr<Table> ref_table = ref_src.Read(all_typed);
  ana_reader.join();
  if (!ref_table.ok()) return ref_table.status();
  if (!ana_table.ok()) return ana_table.status();
  Table& rt = *ref_table;
  Table& at = *ana_table;
  result.reference_rows = static_cast<int64_t>(rt.num_rows);
  result.analysis_rows = static_cast<int64_t>(at.num_rows);
  result.reference_skipped_rows = rt.skipped_rows;
  result.analysis_skipped_rows = at.skipped_rows;
  progress(fmt::format("parsed {} reference and {} analysis rows", rt.num_rows, at.num_rows));
  if (rt.skipped_rows)
    result.warnings.push_back(
        fmt::format("{}: skipped {} malformed rows", rt.source, rt.skipped_rows));
  if (at.skipped_rows)
    result.warnings.push_back(
        fmt::format("{}: skipped {} malformed rows", at.source, at.skipped_rows));

  for (const auto& n : monitored) {
    const Column* c = rt.Find(n);
    if (c->type == ColumnType::kTimestamp) {
      return InvalidArgument(fmt::format(
          "{}: column '{}' holds timestamps; monitor it as categorical via column_types "
          "or leave it out of the features",
          rt.source, n));
    }
    bool any = false;
    for (size_t r = 0; r < c->size() && !any; ++r) any = !c->IsMissing(r);
    if (!any) {
      return InvalidArgument(
          fmt::format("{}: column '{}' has no values (every cell is missing)", rt.source, n));
    }
  }
  if (cfg.estimation && cfg.target_column.empty() &&
      !(cfg.targets && !cfg.targets->column.empty())) {
    return InvalidArgument(fmt::format(
        "{}: 'estimation' needs 'target' (the reference column holding the target)",
        cfg.config_path));
  }
  if (performance || estimating) {
    RETURN_IF_ERROR(
        AttachTargets(cfg, ref_src, ana_src, &rt, &at, &result.warnings, /*loaded=*/ref_target));
  }
  SortByTimestamp(&rt, cfg.timestamp_column);
  SortByTimestamp(&at, cfg.timestamp_column);
  const std::vector<int64_t>* rts = nullptr;
  const std::vector<int64_t>* ats = nullptr;
  if (!cfg.timestamp_column.empty()) {
    rts = &rt.Find(cfg.timestamp_column)->timestamps;
    ats = &at.Find(cfg.timestamp_column)->timestamps;
  }
  ASSIGN_OR_RETURN(std::vector<Chunk> ref_chunks,
                   MakeChunks(cfg.chunking, static_cast<int64_t>(rt.num_rows), rts, "reference"));
  ASSIGN_OR_RETURN(std::vector<Chunk> ana_chunks,
                   MakeChunks(cfg.chunking, static_cast<int64_t>(at.num_rows), ats, "analysis"));
  result.reference_chunks = static_cast<int64_t>(ref_chunks.size());
  result.analysis_chunks = static_cast<int64_t>(ana_chunks.size());
  if (ref_chunks.size() < 6) {
    result.warnings.push_back(
        fmt::format("the reference has only {} chunks; thresholds from fewer than 6 chunks are "
                    "unreliable",
                    ref_chunks.size()));
  }
  std::vector<Period> periods = {{"reference", &rt, &ref_chunks}, {"analysis", &at, &ana_chunks}};

  // Work items, spread over threads and gathered in a fixed order: performance estimation,
  // realized performance and PCA (the longest, so they start first), whole-row data quality,
  // then one item per column.
  std::vector<ColumnOutput> outputs(monitored.size());
  std::vector<Record> row_records, pca_records;
  Status pca_status;
  WorkItems tasks(cfg.threads);
  std::vector<Record> perf_records, est_records;
  std::vector<std::string> est_notes;
  Status est_status;
  if (estimating) {
    tasks.Add([&] {
      auto est = WantsCbpe(cfg)
                     ? ComputeCbpe(cfg, rt, ref_chunks, at, ana_chunks, &est_notes,
                                   tasks.Parallel())
                     : ComputeDle(cfg, rt, ref_chunks, at, ana_chunks, monitored, &est_notes);
      if (est.ok())
        est_records = std::move(*est);
      else
        est_status = est.status();
    });
  }
  if (performance) {
    tasks.Add(
        [&] { perf_records = ComputePerformance(cfg, rt, ref_chunks, at, ana_chunks); });
  }
  std::vector<Record> dc_records;
  Status dc_status;
  if (cfg.domain_classifier) {
    std::vector<std::string> dcols = cfg.dc_columns.empty() ? monitored : cfg.dc_columns;
    for (const auto& n : dcols) {
      if (rt.Find(n) == nullptr || at.Find(n) == nullptr) {
        return InvalidArgument(
            fmt::format("{}: multivariate.domain_classifier.columns names '{}', which is not a "
                        "monitored column",
                        cfg.config_path, n));
      }
    }
    tasks.Add([&, dcols] {
      DomainClassifierOptions o;
      o.trees = cfg.dc_trees;
      o.learning_rate = cfg.dc_learning_rate;
      o.max_depth = cfg.dc_max_depth;
      auto dc = DomainClassifier::Create(rt, dcols, o);
      if (!dc.ok()) {
        dc_status = dc.status();
        return;
      }
      MetricSeries s(periods, "*", "domain_classifier_auroc", "multivariate");
      for (size_t p = 0; p < 2; ++p) {
        for (const Chunk& ch : *periods[p].chunks) {
          auto auc = p == 0 ? dc->ReferenceChunk(ch.begin, ch.end)
                            : dc->AnalysisChunk(at, ch.begin, ch.end);
          if (!auc.ok()) {
            dc_status = auc.status();
            return;
          }
          s.Add(p, ch, *auc);
        }
        progress(fmt::format("domain classifier: {} chunks done", periods[p].name));
      }
      // nannyML: ConstantThreshold(0.45, 0.65) within [0, 1], strict comparisons.
      s.Finish(ConstSpec(0.45, 0.65), 0.0, 1.0, &dc_records);
    });
  }
  if (cfg.pca) {
    std::vector<std::string> pcols = cfg.pca_columns.empty() ? monitored : cfg.pca_columns;
    for (const auto& n : pcols) {
      if (rt.Find(n) == nullptr || at.Find(n) == nullptr) {
        return InvalidArgument(
            fmt::format("{}: multivariate.pca.columns names '{}', which is not a monitored column",
                        cfg.config_path, n));
      }
    }
    tasks.Add([&, pcols] {
      auto pca = PcaDrift::Fit(rt, pcols, cfg.pca_variance);
      if (!pca.ok()) {
        pca_status = pca.status();
        return;
      }
      result.pca_components = pca->components();
      MetricSeries s(periods, "*", "pca_reconstruction_error", "multivariate");
      for (size_t p = 0; p < 2; ++p) {
        for (const Chunk& ch : *periods[p].chunks) {
          s.Add(p, ch, pca->Calculate(*periods[p].table, ch.begin, ch.end).mean);
        }
      }
      // nannyML: two-sided ±3σ, lower limit 0 (dropped rather than clipped), alert outside.
      s.Finish(StdSpec(3, 3), 0.0, std::nullopt, &pca_records, /*override_using_none=*/true,
               /*inclusive=*/true);
    });
  }
  if (cfg.data_quality) {
    tasks.Add([&] {
      std::vector<const Column*> ref_cols, ana_cols, ref_key, ana_key;
      for (const auto& n : monitored) {
        ref_cols.push_back(rt.Find(n));
        ana_cols.push_back(at.Find(n));
      }
      for (const auto& n : cfg.duplicates_key) {
        ref_key.push_back(rt.Find(n));
        ana_key.push_back(at.Find(n));
      }
      const std::vector<const Column*>* cols[2] = {&ref_cols, &ana_cols};
      const std::vector<const Column*>* keys[2] = {&ref_key, &ana_key};
      MetricSeries rows(periods, "*", "row_count", "data_quality");
      MetricSeries dups(periods, "*", "duplicate_rows_rate", "data_quality");
      MetricSeries dkeys(periods, "*", "duplicate_keys_rate", "data_quality");
      for (size_t p = 0; p < 2; ++p) {
        for (const Chunk& ch : *periods[p].chunks) {
          rows.Add(p, ch, static_cast<double>(ch.size()));
          dups.Add(p, ch, DuplicateRate(*cols[p], ch.begin, ch.end));
          if (!cfg.duplicates_key.empty())
            dkeys.Add(p, ch, DuplicateRate(*keys[p], ch.begin, ch.end));
        }
      }
      // nannyML's thresholds (±3σ, lower limit 0). Its alert rule is `not (lower < n < upper)`,
      // which flags every chunk when the reference chunks all have the same size (σ = 0);
      // cairn alerts only strictly outside the band.
      rows.Finish(StdSpec(3, 3), 0.0, std::nullopt, &row_records);
      if (!cfg.timestamp_column.empty()) {
        // The timestamp column is not a feature, but bad or missing timestamps are still data
        // quality problems (such rows sort last and fall outside period chunks).
        const Column* tcols[2] = {rt.Find(cfg.timestamp_column), at.Find(cfg.timestamp_column)};
        MetricSeries tmiss(periods, cfg.timestamp_column, "missing_values_rate", "data_quality");
        MetricSeries tbad(periods, cfg.timestamp_column, "unparseable_values_count",
                          "data_quality");
        for (size_t p = 0; p < 2; ++p) {
          for (const Chunk& ch : *periods[p].chunks) {
            tmiss.Add(p, ch, MissingRate(*tcols[p], ch.begin, ch.end));
            tbad.Add(p, ch, static_cast<double>(UnparseableCount(*tcols[p], ch.begin, ch.end)));
          }
        }
        tmiss.Finish(StdSpec(3, 3), 0.0, 1.0, &row_records);
        tbad.Finish(ConstSpec(std::nullopt, 0.0), 0.0, std::nullopt, &row_records);
      }
      dups.Finish(StdSpec(3, 3), 0.0, 1.0, &row_records);
      if (!cfg.duplicates_key.empty())
        dkeys.Finish(ConstSpec(std::nullopt, 0.0), 0.0, 1.0, &row_records);
    });
  }
  // The outcome analyses that read no other records (reliability curves, fairness, business
  // value, weak segments); the correlation ranker runs after every item.
  StatusOr<std::vector<Record>> outcome_records = std::vector<Record>{};
  tasks.Add([&] {
    outcome_records = OutcomeRecords(cfg, performance, monitored, rt, ref_chunks, at, ana_chunks);
  });
  for (size_t i = 0; i < monitored.size(); ++i) {
    tasks.Add([&, i] {
      const Column& rc = *rt.Find(monitored[i]);
      const Column& ac = *at.Find(monitored[i]);
      outputs[i] = rc.type == ColumnType::kContinuous ? ProcessContinuous(cfg, periods, rc, ac)
                                                      : ProcessCategorical(cfg, periods, rc, ac);
    });
  }
  tasks.Run();
  RETURN_IF_ERROR(pca_status);
  RETURN_IF_ERROR(dc_status);
  progress(
      fmt::format("computed drift, data quality{} for {} columns",
                  cfg.pca ? fmt::format(" and PCA ({} components)", result.pca_components) : "",
                  monitored.size()));

  for (size_t i = 0; i < monitored.size(); ++i) {
    ColumnInfo info{monitored[i], rt.Find(monitored[i])->type, 0};
    for (auto& r : outputs[i].records) {
      if (r.period == "analysis" && r.alert) ++info.alerts;
      result.records.push_back(std::move(r));
    }
    result.columns.push_back(info);
    result.distributions.push_back(std::move(outputs[i].distribution));
  }
  for (auto& r : row_records) result.records.push_back(std::move(r));
  for (auto& r : pca_records) result.records.push_back(std::move(r));
  for (auto& r : dc_records) result.records.push_back(std::move(r));
  for (auto& r : perf_records) result.records.push_back(std::move(r));
  if (estimating) {
    RETURN_IF_ERROR(est_status);
    for (const auto& n : est_notes) progress(n);
    for (auto& r : est_records) result.records.push_back(std::move(r));
  }
  if (!outcome_records.ok()) return outcome_records.status();
  for (auto& r : *outcome_records) result.records.push_back(std::move(r));
  // After estimation: the correlation ranker may rank against estimated performance.
  RETURN_IF_ERROR(AppendRankings(cfg, performance, at, &result.records));
  for (const auto& r : result.records) {
    if (r.period == "analysis" && r.alert) ++result.alert_count;
  }
  return result;
}

std::string SummaryJson(const MonitorResult& r) {
  std::string cols;
  for (size_t i = 0; i < r.columns.size(); ++i) {
    cols += fmt::format("{}{{\"column\":{},\"type\":\"{}\",\"alerts\":{}}}", i ? "," : "",
                        JsonString(r.columns[i].name), ColumnTypeName(r.columns[i].type),
                        r.columns[i].alerts);
  }
  std::string warnings;
  for (size_t i = 0; i < r.warnings.size(); ++i)
    warnings += (i ? "," : "") + JsonString(r.warnings[i]);
  return fmt::format(
      "{{\"alerts\":{},\"reference_rows\":{},\"analysis_rows\":{},\"reference_skipped_rows\":{},"
      "\"analysis_skipped_rows\":{},\"reference_chunks\":{},\"analysis_chunks\":{},\"pca_"
      "components\":{},"
      "\"columns\":[{}],\"warnings\":[{}]}}",
      r.alert_count, r.reference_rows, r.analysis_rows, r.reference_skipped_rows,
      r.analysis_skipped_rows, r.reference_chunks, r.analysis_chunks, r.pca_components, cols,
      warnings);
}

Status WriteOutputs(const MonitorResult& result, const MonitorConfig& config,
                    const std::string& out_dir) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return Internal(fmt::format("{}: cannot create directory: {}", out_dir, ec.message()));
  RETURN_IF_ERROR(WriteFileAtomically((std::filesystem::path(out_dir) / "results.json").string(),
                                      ResultsToJson(result.records, SummaryJson(result))));
  RETURN_IF_ERROR(WriteFileAtomically((std::filesystem::path(out_dir) / "report.html").string(),
                                      RenderReport(result, config)));
  return OkStatus();
}

}  // namespace cairn::monitor
