// report.html: one self-contained page (inline CSS and SVG, no scripts, no network).

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "monitor/monitor.h"
#include "monitor/report_parts.h"

namespace cairn::monitor {

std::string Esc(std::string_view s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '&':
        o += "&amp;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o.push_back(c);
    }
  }
  return o;
}

std::string Utf8Prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // continuation byte
  return std::string(s.substr(0, n));
}

std::string Num(double v) { return std::isfinite(v) ? fmt::format("{:.4g}", v) : "–"; }

// A time series of one metric over reference and analysis chunks, thresholds dashed,
// alerts in red.
std::string SeriesSvg(const std::vector<const Record*>& recs) {
  constexpr double W = 780, H = 180, L = 76, R = 10, T = 10, B = 28;
  double lo = INFINITY, hi = -INFINITY;
  for (const Record* r : recs) {
    for (double v : {r->value, r->lower.value_or(NAN), r->upper.value_or(NAN)}) {
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
    if (r->estimated) {
      for (double v : {r->lower_confidence, r->upper_confidence, r->realized})
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
  }
  if (!std::isfinite(lo)) return "<p>no values</p>";
  if (hi == lo) hi = lo + 1;
  double pad = (hi - lo) * 0.08;
  lo -= pad;
  hi += pad;
  const size_t n = recs.size();
  auto x = [&](size_t i) { return L + (n > 1 ? (W - L - R) * i / (n - 1.0) : (W - L - R) / 2); };
  auto y = [&](double v) { return T + (H - T - B) * (1 - (v - lo) / (hi - lo)); };
  std::string s =
      fmt::format("<svg viewBox='0 0 {} {}' width='{}' height='{}' class='plot'>", W, H, W, H);
  // Period boundary.
  for (size_t i = 1; i < n; ++i) {
    if (recs[i]->period != recs[i - 1]->period) {
      double bx = (x(i) + x(i - 1)) / 2;
      s += fmt::format("<rect x='{:.1f}' y='{}' width='{:.1f}' height='{}' fill='#f3f6fb'/>", L, T,
                       bx - L, H - T - B);
      s += fmt::format("<text x='{:.1f}' y='{}' class='lbl'>reference</text>", L + 4, T + 12);
      s += fmt::format("<text x='{:.1f}' y='{}' class='lbl'>analysis</text>", bx + 4, T + 12);
    }
  }
  for (int k = 0; k <= 4; ++k) {
    double v = lo + (hi - lo) * k / 4;
    s += fmt::format("<line x1='{}' x2='{}' y1='{:.1f}' y2='{:.1f}' stroke='#e5e5e5'/>", L, W - R,
                     y(v), y(v));
    s += fmt::format("<text x='{}' y='{:.1f}' class='tick' text-anchor='end'>{}</text>", L - 4,
                     y(v) + 4, Num(v));
  }
  auto thr = [&](auto get, const char* name) {
    std::string pts;
    for (size_t i = 0; i < n; ++i) {
      auto v = get(recs[i]);
      if (v) pts += fmt::format("{:.1f},{:.1f} ", x(i), y(*v));
    }
    if (!pts.empty()) {
      s += fmt::format(
          "<polyline points='{}' fill='none' stroke='#d98c00' "
          "stroke-dasharray='5,4'><title>{}</title>"
          "</polyline>",
          pts, name);
    }
  };
  // Estimated performance: the sampling-error band (estimate ∓ 3·SE) shaded, and the realized
  // metric (where targets are known) in grey beside the estimate.
  if (!recs.empty() && recs.front()->estimated) {
    std::string up, down;
    for (size_t i = 0; i < n; ++i) {
      if (std::isfinite(recs[i]->upper_confidence) && std::isfinite(recs[i]->lower_confidence)) {
        up += fmt::format("{:.1f},{:.1f} ", x(i), y(recs[i]->upper_confidence));
        down = fmt::format("{:.1f},{:.1f} ", x(i), y(recs[i]->lower_confidence)) + down;
      }
    }
    if (!up.empty()) {
      s += fmt::format(
          "<polygon points='{}{}' fill='#2b6cb0' fill-opacity='0.15' stroke='none'>"
          "<title>confidence band (estimate ± 3 sampling errors)</title></polygon>",
          up, down);
    }
    std::string real;
    for (size_t i = 0; i < n; ++i) {
      if (std::isfinite(recs[i]->realized))
        real += fmt::format("{:.1f},{:.1f} ", x(i), y(recs[i]->realized));
    }
    if (!real.empty()) {
      s += fmt::format(
          "<polyline points='{}' fill='none' stroke='#777' stroke-width='1.2' "
          "stroke-dasharray='2,2'><title>realized</title></polyline>",
          real);
    }
  }
  thr([](const Record* r) { return r->lower; }, "lower threshold");
  thr([](const Record* r) { return r->upper; }, "upper threshold");
  std::string pts;
  for (size_t i = 0; i < n; ++i) {
    if (std::isfinite(recs[i]->value))
      pts += fmt::format("{:.1f},{:.1f} ", x(i), y(recs[i]->value));
  }
  s += fmt::format("<polyline points='{}' fill='none' stroke='#2b6cb0' stroke-width='1.5'/>", pts);
  for (size_t i = 0; i < n; ++i) {
    const Record* r = recs[i];
    if (!std::isfinite(r->value)) continue;
    s += fmt::format(
        "<circle cx='{:.1f}' cy='{:.1f}' r='{}' fill='{}'><title>{} chunk {} {}: "
        "{}{}</title></circle>",
        x(i), y(r->value), r->alert ? 4.5 : 2.5, r->alert ? "#d62728" : "#2b6cb0", r->period,
        r->chunk_index, Esc(r->chunk_key), Num(r->value), r->alert ? " (alert)" : "");
  }
  size_t step = std::max<size_t>(1, n / 10);
  for (size_t i = 0; i < n; i += step) {
    s += fmt::format("<text x='{:.1f}' y='{}' class='tick' text-anchor='middle'>{}</text>", x(i),
                     H - 8, Esc(Utf8Prefix(recs[i]->chunk_key, 24)));
  }
  s += "</svg>";
  return s;
}

namespace {

std::string DistributionSvg(const Distribution& d) {
  constexpr double W = 760, H = 170, L = 40, B = 40, T = 10;
  const size_t n = d.labels.size();
  if (n == 0) return "";
  double mx = 0;
  for (size_t i = 0; i < n; ++i) mx = std::max({mx, d.reference[i], d.analysis[i]});
  if (mx <= 0) mx = 1;
  double bw = (W - L - 10) / n;
  std::string s =
      fmt::format("<svg viewBox='0 0 {} {}' width='{}' height='{}' class='plot'>", W, H, W, H);
  for (size_t i = 0; i < n; ++i) {
    double x0 = L + bw * i;
    double hr = (H - T - B) * d.reference[i] / mx, ha = (H - T - B) * d.analysis[i] / mx;
    s += fmt::format(
        "<rect x='{:.1f}' y='{:.1f}' width='{:.1f}' height='{:.1f}' fill='#9bbbe0'><title>{} "
        "reference "
        "{:.4f}</title></rect>",
        x0 + 1, H - B - hr, bw / 2 - 1, hr, Esc(d.labels[i]), d.reference[i]);
    s += fmt::format(
        "<rect x='{:.1f}' y='{:.1f}' width='{:.1f}' height='{:.1f}' fill='#e07b39'><title>{} "
        "analysis "
        "{:.4f}</title></rect>",
        x0 + bw / 2, H - B - ha, bw / 2 - 1, ha, Esc(d.labels[i]), d.analysis[i]);
    if (n <= 24 || i % (n / 12 + 1) == 0) {
      s += fmt::format("<text x='{:.1f}' y='{}' class='tick' text-anchor='middle'>{}</text>",
                       x0 + bw / 2, H - B + 14, Esc(Utf8Prefix(d.labels[i], 12)));
    }
  }
  s += fmt::format(
      "<text x='{}' y='{}' class='lbl'><tspan fill='#9bbbe0'>■</tspan> reference "
      "<tspan fill='#e07b39'>■</tspan> analysis (whole period)</text>",
      L, H - 6);
  s += "</svg>";
  return s;
}

}  // namespace

std::string RenderReport(const MonitorResult& result, const MonitorConfig& config) {
  std::string h;
  h += "<!DOCTYPE html><html><head><meta charset='utf-8'><title>cairn monitor report</title><style>"
       "body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}"
       "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}"
       "th{background:#f5f5f5}.alert{color:#d62728;font-weight:600}.plot{display:block;margin:6px "
       "0 18px}"
       ".tick{font-size:10px;fill:#555}.lbl{font-size:11px;fill:#333}h3{margin-bottom:2px}"
       "</style></head><body>";
  h += "<h1>cairn monitor report</h1>";
  h += fmt::format(
      "<p>Reference <code>{}</code>: {} rows in {} chunks. Analysis <code>{}</code>: {} rows in {} "
      "chunks. <span class='{}'>{} alerts</span> in the analysis period.</p>",
      Esc(config.reference), result.reference_rows, result.reference_chunks, Esc(config.analysis),
      result.analysis_rows, result.analysis_chunks, result.alert_count ? "alert" : "",
      result.alert_count);
  for (const auto& w : result.warnings) h += "<p>⚠ " + Esc(w) + "</p>";

  // Summary table: columns ranked by alerts.
  std::vector<ColumnInfo> cols = result.columns;
  std::stable_sort(cols.begin(), cols.end(),
                   [](const ColumnInfo& a, const ColumnInfo& b) { return a.alerts > b.alerts; });
  std::map<std::string, std::map<std::string, int64_t>> per_metric;
  for (const auto& r : result.records) {
    if (r.period == "analysis" && r.alert) ++per_metric[r.column][r.metric];
  }
  h += "<h2>Columns ranked by "
       "alerts</h2><table><tr><th>rank</th><th>column</th><th>type</th><th>alerts</th>"
       "<th>alerting metrics</th></tr>";
  int rank = 0;
  for (const auto& c : cols) {
    std::string metrics;
    for (const auto& [m, k] : per_metric[c.name])
      metrics += fmt::format("{}{} ({})", metrics.empty() ? "" : ", ", m, k);
    h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td class='{}'>{}</td><td>{}</td></tr>",
                     ++rank, Esc(c.name), ColumnTypeName(c.type), c.alerts ? "alert" : "", c.alerts,
                     Esc(metrics));
  }
  if (!per_metric["*"].empty()) {
    std::string metrics;
    int64_t total = 0;
    for (const auto& [m, k] : per_metric["*"]) {
      metrics += fmt::format("{}{} ({})", metrics.empty() ? "" : ", ", m, k);
      total += k;
    }
    h += fmt::format(
        "<tr><td></td><td>(whole rows)</td><td></td><td class='alert'>{}</td><td>{}</td></tr>",
        total, Esc(metrics));
  }
  h += "</table>";

  // Time series: every drift, multivariate, performance and calibration metric, and any
  // metric that alerted.
  std::map<std::pair<std::string, std::string>, std::vector<const Record*>> series;
  std::vector<std::pair<std::string, std::string>> order;
  for (const auto& r : result.records) {
    // Fairness, rankings and segments have their own sections (outcome_report.cc).
    if (r.kind == "fairness" || r.kind == "ranking" || r.kind == "weak_segment" ||
        r.kind == "reliability")
      continue;
    auto key = std::make_pair(r.column, r.estimated ? "estimated " + r.metric : r.metric);
    auto& v = series[key];
    if (v.empty()) order.push_back(key);
    v.push_back(&r);
  }
  h += "<h2>Metrics per chunk</h2>";
  for (const auto& key : order) {
    const auto& recs = series[key];
    bool any_alert = false;
    for (const Record* r : recs) any_alert |= (r->period == "analysis" && r->alert);
    const std::string& kind = recs.front()->kind;
    if (!any_alert && kind != "drift" && kind != "multivariate" && kind != "performance" &&
        kind != "calibration" && kind != "business_value" &&
        kind != "estimated_performance")
      continue;
    h += fmt::format("<h3>{} — {}{}</h3>", Esc(key.first), Esc(key.second),
                     any_alert ? " <span class='alert'>alert</span>" : "");
    h += SeriesSvg(recs);
    if (recs.front()->estimated) {
      h += "<p class='small'>Estimated without targets (blue, shaded: ± 3 sampling errors); "
           "realized from targets where known (grey, dashed).</p>";
    }
    // Undefined values say why (e.g. a single class in the chunk).
    for (const Record* r : recs) {
      if (!r->reason.empty()) {
        h += fmt::format("<p class='small'>{} chunk {}: undefined — {}</p>", Esc(r->period),
                         Esc(r->chunk_key), Esc(r->reason));
      }
    }
  }
  h += RenderOutcomeSections(result);
  // Distributions of drifting columns.
  h += "<h2>Distributions of columns with drift alerts</h2>";
  for (const auto& d : result.distributions) {
    bool drifting = false;
    for (const auto& r : result.records) {
      if (r.column == d.column && r.kind == "drift" && r.period == "analysis" && r.alert)
        drifting = true;
    }
    if (!drifting) continue;
    h += fmt::format("<h3>{}</h3>", Esc(d.column));
    h += DistributionSvg(d);
  }
  h += "</body></html>\n";
  return h;
}

}  // namespace cairn::monitor
