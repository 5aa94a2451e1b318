// The outcome analyses of outcome_config.h wired into a monitor run (monitor.cc): which
// extra columns they read, checks that those exist, and their records.
//
// Thread-safety: pure functions (OutcomeRecords runs as a monitor work item).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "monitor/chunker.h"
#include "monitor/config.h"
#include "monitor/results.h"
#include "monitor/table.h"

namespace cairn::monitor {

// Columns the configured analyses read beyond the monitored ones (sensitive attributes, the
// amount column, weak-segment features).
std::vector<std::string> OutcomeColumns(const MonitorConfig& config);

// NotFound naming the file, the column and the config key when a column OutcomeColumns
// names is not in `columns` of the source `source`.
Status CheckOutcomeColumns(const MonitorConfig& config, const std::string& source,
                           const std::vector<std::string>& columns);

// The outcome records of a monitor run, in two steps so that the first can run beside the
// other work items: OutcomeRecords gives the reliability curves of a binary classifier with
// targets (reliability.h) and the records of fairness, business value and weak segments, in
// that order (they read no other records); once every other record is in `records`,
// AppendRankings appends the correlation ranker's (it reads the drift and performance records).
// `performance`: whether targets were attached (performance.h); `monitored`: the monitored
// columns (the default weak-segment features).
// Errors: InvalidArgument when an analysis needs targets and there are none, or as each
// analysis documents.
StatusOr<std::vector<Record>> OutcomeRecords(const MonitorConfig& config, bool performance,
                                             const std::vector<std::string>& monitored,
                                             const Table& ref_table,
                                             const std::vector<Chunk>& ref_chunks,
                                             const Table& ana_table,
                                             const std::vector<Chunk>& ana_chunks);
Status AppendRankings(const MonitorConfig& config, bool performance, const Table& ana_table,
                      std::vector<Record>* records);

}  // namespace cairn::monitor
