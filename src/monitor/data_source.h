// Where monitored data comes from. The monitor engine reads every input through DataSource,
// so the CSV files of `cairn monitor run` and (later) the server's own inference log feed the
// same calculations.
//
// Thread-safety: a DataSource is used by one thread at a time; distinct sources may be read
// concurrently.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "monitor/table.h"

namespace cairn::monitor {

enum class BadRowPolicy {
  kError,  // a malformed row (wrong field count, unterminated quote) fails the read
  kSkip,   // malformed rows are dropped and counted in Table::skipped_rows
};

struct ReadOptions {
  // Load only these columns, in this order (empty: every column in file order). A name that
  // is not in the source is NotFound, naming the source and the column.
  std::vector<std::string> columns;
  // Declared column types. A column not listed here is inferred from the first
  // kInferenceRows rows: all numbers -> continuous, all True/False -> boolean, all dates ->
  // timestamp, anything else -> categorical.
  std::map<std::string, ColumnType> types;
  // Columns whose type was inferred elsewhere (e.g. from the reference) and which must
  // therefore hold clean values: a cell that does not parse is an InvalidArgument naming
  // the file, line and column. Cells that do not parse in other declared columns are
  // counted in Column::unparseable and stored as missing.
  std::set<std::string> strict_columns;
  BadRowPolicy on_bad_rows = BadRowPolicy::kError;
};

inline constexpr int64_t kInferenceRows = 20000;

class DataSource {
 public:
  virtual ~DataSource() = default;
  // A short name for messages (the file name for files).
  virtual std::string Name() const = 0;
  // Column names in source order. Errors: NotFound (no such file), InvalidArgument
  // (unreadable header).
  virtual StatusOr<std::vector<std::string>> ColumnNames() = 0;
  // The type of every requested column (options.columns, or all): declared types as given,
  // the others inferred. Errors as ColumnNames.
  virtual StatusOr<std::map<std::string, ColumnType>> InferTypes(const ReadOptions& options) = 0;
  // Reads the requested columns. Errors: NotFound (file or column), InvalidArgument (a
  // malformed row under kError, or a strict column holding an unparseable cell; the message
  // names source, line and column).
  virtual StatusOr<Table> Read(const ReadOptions& options) = 0;
};

// A CSV file (RFC 4180: comma separated, "double quotes" with "" escapes, embedded newlines,
// CRLF or LF), plain or gzip-compressed (by content, not by name). The first line is the
// header. Missing-value tokens are pandas' defaults ("", NA, NaN, null, None, N/A, ...).
// The file is read lazily and kept in memory until the source is destroyed.
std::unique_ptr<DataSource> OpenCsvFile(std::string path);

// The same parser over text already in memory (tests, embedded data).
std::unique_ptr<DataSource> CsvFromString(std::string text, std::string name);

// Parsing helpers shared with other sources. Each returns false if `s` is not of the form.
bool ParseNumber(std::string_view s, double* out);
// "YYYY-MM-DD", optionally followed by [ T]HH:MM[:SS[.fraction]] and an optional 'Z'.
bool ParseTimestamp(std::string_view s, int64_t* nanos);
bool IsMissingToken(std::string_view s);
// "YYYY-MM-DD HH:MM:SS.ffffff" (fraction only when non-zero; date only at midnight is not
// shortened).
std::string FormatTimestamp(int64_t nanos);

}  // namespace cairn::monitor
