// results.json: one flat record per (chunk, column, metric).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "monitor/chunker.h"

namespace cairn::monitor {

struct Record {
  std::string period;  // "reference" or "analysis"
  int64_t chunk_index = 0;
  std::string chunk_key;
  int64_t start_index = 0;  // first row of the chunk (after sorting by timestamp)
  int64_t end_index = 0;    // last row, inclusive (nannyML's convention)
  int64_t start_ts = kMissingTimestamp;
  int64_t end_ts = kMissingTimestamp;
  int64_t row_count = 0;
  std::string column;  // "*" for whole-row metrics (row count, duplicates, PCA)
  std::string metric;  // e.g. "jensen_shannon", "missing_values_rate", "pca_reconstruction_error"
  std::string kind;    // "drift", "data_quality", "summary", "multivariate"
  double value = 0;    // NaN when undefined (e.g. an empty chunk)
  std::optional<double> lower;
  std::optional<double> upper;
  bool alert = false;
  std::optional<double> p_value;
  std::string reason;  // why `value` is undefined (NaN), when known; "" otherwise
  // Fairness, weak segments and rankings (fairness.h, weak_segments.h, ranker.h): the group or
  // segment the value describes ("" otherwise), and named figures beside the value. Both are
  // written to results.json only when non-empty ("group", "details": {name: number}).
  std::string group;
  std::vector<std::pair<std::string, double>> details;
  // Performance estimation (kind "estimated_performance"; cbpe.h, dle.h): `value` is the
  // estimate, `sampling_error` its standard error, the confidence band value ∓ 3·SE clipped to
  // the metric's limits, `realized` the metric from targets when they are known (else NaN).
  // Serialised only when `estimated`.
  bool estimated = false;
  double sampling_error = 0;
  double lower_confidence = 0, upper_confidence = 0;
  double realized = 0;
};

// Fills the chunk fields of a record.
Record MakeRecord(const std::string& period, const Chunk& chunk, const std::string& column,
                  const std::string& metric, const std::string& kind);

// Serialises {"version":1,"summary":{...},"records":[...]}; NaN becomes null.
std::string ResultsToJson(const std::vector<Record>& records, const std::string& summary_json);

// `s` as a JSON string literal (quoted and escaped).
std::string JsonString(std::string_view s);

}  // namespace cairn::monitor
