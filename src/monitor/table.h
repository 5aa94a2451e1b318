// Columnar tables: what every DataSource yields and every monitor calculation reads.
//
// A Table owns its columns. Each column has one logical type and stores its values in the
// representation that type needs:
//   - kContinuous: `numbers`, NaN for a missing value (±Inf are kept as read).
//   - kCategorical and kBoolean: `codes` into `dictionary`, kMissingCode for a missing value.
//     Booleans use the dictionary {"False", "True"} in that order.
//   - kTimestamp: `timestamps` in nanoseconds since 1970-01-01 (naive, no time zone),
//     kMissingTimestamp for a missing value.
// `unparseable` counts the cells that did not parse as the column's declared type; they are
// stored as missing.
//
// Thread-safety: values; a const Table may be read from any number of threads.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::monitor {

enum class ColumnType { kContinuous, kCategorical, kBoolean, kTimestamp };

// "continuous", "categorical", "boolean", "timestamp".
std::string_view ColumnTypeName(ColumnType type);
// Parses a name produced by ColumnTypeName (also accepts "numerical" and "bool");
// returns false for anything else.
bool ParseColumnType(std::string_view name, ColumnType* type);

inline constexpr int32_t kMissingCode = -1;
inline constexpr int64_t kMissingTimestamp = std::numeric_limits<int64_t>::min();

struct Column {
  std::string name;
  ColumnType type = ColumnType::kContinuous;
  std::vector<double> numbers;
  std::vector<int32_t> codes;
  std::vector<std::string> dictionary;
  std::vector<int64_t> timestamps;
  int64_t unparseable = 0;
  // Row positions (0-based, sorted) of the unparseable cells.
  std::vector<int64_t> unparseable_rows;

  bool IsCategoricalLike() const {
    return type == ColumnType::kCategorical || type == ColumnType::kBoolean;
  }
  bool IsMissing(size_t row) const;
  size_t size() const;
  // Reorders every row by `order` (new row i = old row order[i]).
  void Permute(const std::vector<uint32_t>& order);
};

struct Table {
  std::string source;  // file name or other origin, for messages
  std::vector<Column> columns;
  size_t num_rows = 0;
  int64_t skipped_rows = 0;  // malformed rows dropped under BadRowPolicy::kSkip

  // The column with that name, or nullptr.
  const Column* Find(std::string_view name) const;
  Column* Find(std::string_view name);
};

}  // namespace cairn::monitor
