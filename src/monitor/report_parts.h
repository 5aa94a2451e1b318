// Pieces of report.html shared by report.cc and outcome_report.cc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "monitor/monitor.h"

namespace cairn::monitor {

// `s` with <, >, & and " escaped for HTML text and attributes.
std::string Esc(std::string_view s);
// The longest prefix of at most `max_bytes` bytes that does not split a UTF-8 character.
std::string Utf8Prefix(std::string_view s, size_t max_bytes);
// 4 significant digits; "–" for NaN/Inf.
std::string Num(double v);
// A metric's series over reference and analysis chunks as inline SVG (thresholds dashed,
// alerts red). `recs` in chunk order.
std::string SeriesSvg(const std::vector<const Record*>& recs);

// The fairness, business value, ranking, weak segment and reliability sections (HTML, empty
// when the run has none of them).
std::string RenderOutcomeSections(const MonitorResult& result);

}  // namespace cairn::monitor
