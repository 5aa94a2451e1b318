#include "monitor/outcomes.h"

#include <fmt/format.h>

#include <algorithm>

#include "monitor/business_value.h"
#include "monitor/fairness.h"
#include "monitor/ranker.h"
#include "monitor/reliability.h"
#include "monitor/weak_segments.h"

namespace cairn::monitor {
namespace {

// (column, config key) pairs.
std::vector<std::pair<std::string, std::string>> Named(const MonitorConfig& cfg) {
  std::vector<std::pair<std::string, std::string>> out;
  const OutcomeConfig& o = cfg.outcomes;
  if (o.fairness) {
    for (const auto& a : o.fairness->sensitive_attributes)
      out.emplace_back(a, "fairness.sensitive_attributes");
  }
  if (o.business_value && !o.business_value->amount_column.empty())
    out.emplace_back(o.business_value->amount_column, "business_value.amount_column");
  if (o.weak_segments) {
    for (const auto& f : o.weak_segments->features) out.emplace_back(f, "weak_segments.features");
  }
  return out;
}

Status NeedTargets(const MonitorConfig& cfg, bool performance, const char* what) {
  if (performance) return OkStatus();
  return InvalidArgument(fmt::format(
      "{}: '{}' needs targets: configure 'target', 'model_outputs' and analysis targets (a "
      "'{}' column in the analysis data or a 'targets' file)",
      cfg.config_path, what, cfg.target_column.empty() ? "target" : cfg.target_column));
}

}  // namespace

std::vector<std::string> OutcomeColumns(const MonitorConfig& cfg) {
  std::vector<std::string> out;
  for (const auto& [column, key] : Named(cfg)) {
    if (std::find(out.begin(), out.end(), column) == out.end()) out.push_back(column);
  }
  return out;
}

Status CheckOutcomeColumns(const MonitorConfig& cfg, const std::string& source,
                           const std::vector<std::string>& columns) {
  for (const auto& [column, key] : Named(cfg)) {
    if (std::find(columns.begin(), columns.end(), column) == columns.end()) {
      return NotFound(fmt::format("{}:1: unknown column '{}' (named in {} of {})", source, column,
                                  key, cfg.config_path));
    }
  }
  return OkStatus();
}

StatusOr<std::vector<Record>> OutcomeRecords(const MonitorConfig& cfg, bool performance,
                                             const std::vector<std::string>& monitored,
                                             const Table& rt, const std::vector<Chunk>& rc,
                                             const Table& at, const std::vector<Chunk>& ac) {
  const OutcomeConfig& o = cfg.outcomes;
  std::vector<Record> records;
  if (performance) records = ReliabilityRecords(cfg, rt, at);
  auto append = [&](std::vector<Record> v) {
    for (auto& r : v) records.push_back(std::move(r));
  };
  if (o.fairness) {  // without targets: selection rates and demographic parity only
    ASSIGN_OR_RETURN(auto v, ComputeFairness(cfg, rt, rc, at, ac));
    append(std::move(v));
  }
  if (o.business_value) {
    RETURN_IF_ERROR(NeedTargets(cfg, performance, "business_value"));
    ASSIGN_OR_RETURN(auto v, ComputeBusinessValue(cfg, rt, rc, at, ac));
    append(std::move(v));
  }
  if (o.weak_segments) {
    RETURN_IF_ERROR(NeedTargets(cfg, performance, "weak_segments"));
    ASSIGN_OR_RETURN(auto v, FindWeakSegments(cfg, monitored, rt, rc, at, ac));
    append(std::move(v));
  }
  return records;
}

Status AppendRankings(const MonitorConfig& cfg, bool performance, const Table& at,
                      std::vector<Record>* records) {
  const OutcomeConfig& o = cfg.outcomes;
  if (o.correlation_ranker) {
    if (!o.correlation_ranker->estimated)
      RETURN_IF_ERROR(NeedTargets(cfg, performance, "correlation_ranker"));
    ASSIGN_OR_RETURN(auto v, RankByCorrelation(*o.correlation_ranker, *records,
                                               static_cast<int64_t>(at.num_rows)));
    for (auto& r : v) records->push_back(std::move(r));
  }
  return OkStatus();
}

}  // namespace cairn::monitor
