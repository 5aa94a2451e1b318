#include "monitor/results.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

#include "monitor/data_source.h"

namespace cairn::monitor {
namespace {

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          *out += fmt::format("\\u{:04x}", static_cast<int>(c));
        else
          out->push_back(c);
    }
  }
  out->push_back('"');
}

void AppendNumber(std::string* out, double v) {
  if (!std::isfinite(v)) {
    *out += "null";
    return;
  }
  *out += fmt::format("{}", v);
}

void AppendOpt(std::string* out, const std::optional<double>& v) {
  if (!v)
    *out += "null";
  else
    AppendNumber(out, *v);
}

void AppendTs(std::string* out, int64_t ts) {
  if (ts == kMissingTimestamp)
    *out += "null";
  else
    AppendJsonString(out, FormatTimestamp(ts));
}

}  // namespace

std::string JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

Record MakeRecord(const std::string& period, const Chunk& chunk, const std::string& column,
                  const std::string& metric, const std::string& kind) {
  Record r;
  r.period = period;
  r.chunk_index = chunk.index;
  r.chunk_key = chunk.key;
  r.start_index = chunk.begin;
  r.end_index = chunk.end - 1;
  r.start_ts = chunk.start_ts;
  r.end_ts = chunk.end_ts;
  r.row_count = chunk.size();
  r.column = column;
  r.metric = metric;
  r.kind = kind;
  return r;
}

std::string ResultsToJson(const std::vector<Record>& records, const std::string& summary_json) {
  std::string out;
  out.reserve(records.size() * 330 + 1024);
  out += "{\"version\":1,\"summary\":";
  out += summary_json;
  out += ",\"records\":[";
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    out += i ? ",\n{" : "\n{";
    out += "\"period\":";
    AppendJsonString(&out, r.period);
    out += fmt::format(",\"chunk_index\":{},\"chunk_key\":", r.chunk_index);
    AppendJsonString(&out, r.chunk_key);
    out += fmt::format(",\"start_index\":{},\"end_index\":{},\"start_date\":", r.start_index,
                       r.end_index);
    AppendTs(&out, r.start_ts);
    out += ",\"end_date\":";
    AppendTs(&out, r.end_ts);
    out += fmt::format(",\"row_count\":{},\"column\":", r.row_count);
    AppendJsonString(&out, r.column);
    out += ",\"metric\":";
    AppendJsonString(&out, r.metric);
    out += ",\"kind\":";
    AppendJsonString(&out, r.kind);
    out += ",\"value\":";
    AppendNumber(&out, r.value);
    out += ",\"lower_threshold\":";
    AppendOpt(&out, r.lower);
    out += ",\"upper_threshold\":";
    AppendOpt(&out, r.upper);
    out += r.alert ? ",\"alert\":true" : ",\"alert\":false";
    out += ",\"p_value\":";
    AppendOpt(&out, r.p_value);
    if (r.estimated) {
      out += ",\"estimated\":true,\"sampling_error\":";
      AppendNumber(&out, r.sampling_error);
      out += ",\"lower_confidence\":";
      AppendNumber(&out, r.lower_confidence);
      out += ",\"upper_confidence\":";
      AppendNumber(&out, r.upper_confidence);
      out += ",\"realized\":";
      AppendNumber(&out, r.realized);
    }
    if (!r.reason.empty()) {
      out += ",\"reason\":";
      AppendJsonString(&out, r.reason);
    }
    if (!r.group.empty()) {
      out += ",\"group\":";
      AppendJsonString(&out, r.group);
    }
    if (!r.details.empty()) {
      out += ",\"details\":{";
      for (size_t k = 0; k < r.details.size(); ++k) {
        if (k) out += ",";
        AppendJsonString(&out, r.details[k].first);
        out += ":";
        AppendNumber(&out, r.details[k].second);
      }
      out += "}";
    }
    out += "}";
  }
  out += "\n]}\n";
  return out;
}

}  // namespace cairn::monitor
