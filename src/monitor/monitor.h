// The monitor engine: reads the reference and analysis data through DataSources, chunks
// them, and computes univariate drift, data quality, summary statistics, PCA
// reconstruction drift and, once targets are known, realized performance and calibration
// (performance.h) with nannyML's thresholds and alerts.
//
// Thread-safety: RunMonitor may be called concurrently; it uses up to config.threads threads.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "monitor/config.h"
#include "monitor/results.h"

namespace cairn::monitor {

struct RunOptions {
  // Called with one-line progress messages (e.g. to print on stderr). May be empty. It may be
  // called from worker threads, one message at a time per thread; it must be thread-safe.
  std::function<void(std::string_view)> progress;
};

// Reference vs analysis distribution of one column, for the report.
struct Distribution {
  std::string column;
  bool categorical = false;
  std::vector<std::string> labels;  // bin or category labels
  std::vector<double> reference;    // shares
  std::vector<double> analysis;     // shares over the whole analysis period
};

struct ColumnInfo {
  std::string name;
  ColumnType type;
  int64_t alerts = 0;  // analysis-period alerts of this column
};

struct MonitorResult {
  std::vector<Record> records;
  std::vector<ColumnInfo> columns;
  std::vector<Distribution> distributions;
  int64_t alert_count = 0;  // alerts in the analysis period
  int64_t reference_rows = 0, analysis_rows = 0;
  int64_t reference_skipped_rows = 0, analysis_skipped_rows = 0;
  int64_t reference_chunks = 0, analysis_chunks = 0;
  int pca_components = 0;
  std::vector<std::string> warnings;
};

// Runs the configured checks. Errors: NotFound (missing file), InvalidArgument (malformed
// data, unknown columns, a column with no values, bad chunking) with one-line messages that
// name the file, line and column where there is one.
StatusOr<MonitorResult> RunMonitor(const MonitorConfig& config, const RunOptions& options = {});
// The same over DataSources the caller provides (tests, the server's inference log).
StatusOr<MonitorResult> RunMonitorOn(const MonitorConfig& config, DataSource& reference,
                                     DataSource& analysis, const RunOptions& options = {});

// The summary object of results.json.
std::string SummaryJson(const MonitorResult& result);

// Writes DIR/results.json and DIR/report.html (creating DIR). Errors: Internal on I/O.
Status WriteOutputs(const MonitorResult& result, const MonitorConfig& config,
                    const std::string& out_dir);

// Self-contained HTML report (inline SVG, no scripts from the network).
std::string RenderReport(const MonitorResult& result, const MonitorConfig& config);

}  // namespace cairn::monitor
