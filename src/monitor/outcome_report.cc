// report.html sections for the reliability diagram and the outcome analyses
// (outcome_config.h): fairness, the correlation ranking and weak segments (business value is
// drawn with the other series in report.cc).

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

// Reliability diagram: fraction of positives against the mean probability per bin, reference
// and analysis periods, with the diagonal of perfect calibration.
std::string ReliabilitySection(const MonitorResult& result) {
  constexpr double S = 300, L = 44, T = 10, B = 34, R = 120;
  std::map<std::string, std::vector<const Record*>> curves;
  for (const auto& r : result.records) {
    if (r.kind == "reliability") curves[r.period].push_back(&r);
  }
  if (curves.empty()) return "";
  auto x = [&](double v) { return L + S * v; };
  auto y = [&](double v) { return T + S * (1 - v); };
  std::string s = fmt::format("<svg viewBox='0 0 {0} {1}' width='{0}' height='{1}' class='plot'>",
                              L + S + R, T + S + B);
  for (int k = 0; k <= 4; ++k) {
    const double v = k / 4.0;
    s += fmt::format(
        "<line x1='{0}' x2='{1}' y1='{2:.1f}' y2='{2:.1f}' stroke='#e5e5e5'/>"
        "<text x='{3}' y='{4:.1f}' class='tick' text-anchor='end'>{5}</text>"
        "<text x='{6:.1f}' y='{7}' class='tick' text-anchor='middle'>{5}</text>",
        L, L + S, y(v), L - 4, y(v) + 4, v, x(v), T + S + 14);
  }
  s += fmt::format(
      "<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='#999' stroke-dasharray='4,4'>"
      "<title>perfect calibration</title></line>",
      x(0), y(0), x(1), y(1));
  s += fmt::format(
      "<text x='{:.1f}' y='{}' class='lbl' text-anchor='middle'>mean predicted probability</text>",
      x(0.5), T + S + 30);
  const std::pair<const char*, const char*> periods[] = {{"reference", "#2b6cb0"},
                                                         {"analysis", "#e07b39"}};
  double legend = T + 14;
  for (const auto& [period, colour] : periods) {
    auto it = curves.find(period);
    if (it == curves.end()) continue;
    std::string pts;
    for (const Record* r : it->second) {
      std::map<std::string, double> d(r->details.begin(), r->details.end());
      pts += fmt::format("{:.1f},{:.1f} ", x(d["mean_predicted"]), y(r->value));
      s += fmt::format(
          "<circle cx='{:.1f}' cy='{:.1f}' r='3' fill='{}'><title>{} {}: {} rows, mean p {}, "
          "positives {}</title></circle>",
          x(d["mean_predicted"]), y(r->value), colour, period, Esc(r->group), d["count"],
          Num(d["mean_predicted"]), Num(r->value));
    }
    s += fmt::format("<polyline points='{}' fill='none' stroke='{}' stroke-width='1.5'/>", pts,
                     colour);
    s += fmt::format("<text x='{}' y='{}' class='lbl'><tspan fill='{}'>■</tspan> {}</text>",
                     L + S + 10, legend, colour, period);
    legend += 16;
  }
  s += "</svg>";
  return "<h2>Reliability diagram</h2><p>Fraction of positive targets against the mean "
         "predicted probability in ten equal-width bins (scikit-learn's calibration_curve), "
         "over each whole period.</p>" +
         s;
}

}  // namespace

std::string RenderOutcomeSections(const MonitorResult& result) {
  return ReliabilitySection(result) + FairnessSection(result) + RankingSection(result) +
         SegmentsSection(result);
}

}  // namespace cairn::monitor
