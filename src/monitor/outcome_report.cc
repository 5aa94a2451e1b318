// report.html sections for the outcome analyses (outcome_config.h): fairness, business value
// (drawn with the other series in report.cc), the correlation ranking and weak segments.

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <set>

#include "monitor/report_parts.h"

namespace cairn::monitor {
namespace {

std::string Detail(const Record& r, const std::string& name) {
  for (const auto& [k, v] : r.details) {
    if (k == name) return Num(v);
  }
  return "";
}

std::string FairnessSection(const MonitorResult& result) {
  // Aggregates: one series per (attribute, metric); per-group figures of the last analysis
  // chunk in a table.
  std::map<std::pair<std::string, std::string>, std::vector<const Record*>> series;
  std::vector<std::pair<std::string, std::string>> order;
  int64_t last_chunk = -1;
  for (const auto& r : result.records) {
    if (r.kind != "fairness") continue;
    if (r.period == "analysis") last_chunk = std::max(last_chunk, r.chunk_index);
    if (!r.group.empty()) continue;
    auto key = std::make_pair(r.column, r.metric);
    auto& v = series[key];
    if (v.empty()) order.push_back(key);
    v.push_back(&r);
  }
  if (order.empty()) return "";
  std::string h = "<h2>Fairness</h2>";
  std::string current;
  for (const auto& key : order) {
    const auto& recs = series[key];
    bool any_alert = false, limited = false;
    for (const Record* r : recs) {
      any_alert |= r->period == "analysis" && r->alert;
      limited |= r->lower.has_value() || r->upper.has_value();
    }
    if (key.first != current) {
      current = key.first;
      h += fmt::format("<h3>{}</h3>", Esc(current));
      // Groups of the last analysis chunk.
      h += fmt::format(
          "<p>Groups in the last analysis chunk:</p><table><tr><th>group</th><th>rows</th>"
          "<th>selection rate</th><th>TPR</th><th>FPR</th><th>precision</th></tr>");
      std::map<std::string, std::map<std::string, double>> groups;
      for (const auto& r : result.records) {
        if (r.kind == "fairness" && r.column == current && !r.group.empty() &&
            r.period == "analysis" && r.chunk_index == last_chunk)
          groups[r.group][r.metric] = r.value;
      }
      for (auto& [g, m] : groups) {
        auto get = [&](const char* k) { return m.count(k) ? Num(m[k]) : "–"; };
        h += fmt::format(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", Esc(g),
            get("group_size"), get("selection_rate"), get("true_positive_rate"),
            get("false_positive_rate"), get("precision"));
      }
      h += "</table>";
    }
    if (!limited && !any_alert) continue;  // draw the metrics with limits
    h += fmt::format("<h4>{} — {}{}</h4>", Esc(key.first), Esc(key.second),
                     any_alert ? " <span class='alert'>alert</span>" : "");
    h += SeriesSvg(recs);
  }
  return h;
}

std::string RankingSection(const MonitorResult& result) {
  std::string rows;
  for (const auto& r : result.records) {
    if (r.kind != "ranking") continue;
    rows += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        Detail(r, "rank"), Esc(r.column), Num(r.value),
                        r.p_value ? Num(*r.p_value) : "–",
                        Detail(r, "has_drifted") == "1" ? "<span class='alert'>yes</span>" : "no");
  }
  if (rows.empty()) return "";
  return "<h2>Features ranked by correlation of drift with the performance change</h2>"
         "<table><tr><th>rank</th><th>feature</th><th>Pearson r</th><th>p-value</th>"
         "<th>drifted</th></tr>" +
         rows + "</table>";
}

std::string SegmentsSection(const MonitorResult& result) {
  std::string rows;
  int64_t shown = 0;
  for (const auto& r : result.records) {
    if (r.kind != "weak_segment" || r.period != "analysis") continue;
    ++shown;
    rows += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td></tr>",
        Esc(r.chunk_key), Detail(r, "rank"), Esc(r.group), Detail(r, "size"), Esc(r.metric),
        Num(r.value), Detail(r, "rest"), Detail(r, "gap"), r.p_value ? Num(*r.p_value) : "–");
  }
  if (rows.empty()) return "";
  return fmt::format(
      "<h2>Weak segments (analysis)</h2><p>{} segments whose loss is significantly worse than "
      "the rest of their chunk (Welch's t-test, Benjamini-Hochberg).</p><table><tr><th>chunk</th>"
      "<th>rank</th><th>segment</th><th>rows</th><th>metric</th><th>segment</th><th>rest</th>"
      "<th>gap</th><th>p-value</th></tr>{}</table>",
      shown, rows);
}

}  // namespace

std::string RenderOutcomeSections(const MonitorResult& result) {
  return FairnessSection(result) + RankingSection(result) + SegmentsSection(result);
}

}  // namespace cairn::monitor
