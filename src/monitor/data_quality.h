// Data-quality and summary statistics of one column over one chunk (rows [begin, end)).
// Rates are shares of the chunk's rows; an empty chunk gives NaN.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "monitor/table.h"

namespace cairn::monitor {

// nannyML MissingValuesCalculator(normalize=True): share of missing cells.
double MissingRate(const Column& c, int64_t begin, int64_t end);
// nannyML UnseenValuesCalculator: share of values whose category is not in the reference.
// `seen[code]` says whether this table's category `code` occurs in the reference;
// `missing_seen`: the reference has missing values (so a missing value is not unseen).
double UnseenRate(const Column& c, int64_t begin, int64_t end, const std::vector<bool>& seen,
                  bool missing_seen);
// nannyML NumericalRangeCalculator: share of values outside [lo, hi] (missing are inside).
double OutOfRangeRate(const Column& c, int64_t begin, int64_t end, double lo, double hi);
// Cells that did not parse as the column's type.
int64_t UnparseableCount(const Column& c, int64_t begin, int64_t end);
// Share of rows equal (over `columns`) to an earlier row of the same chunk.
double DuplicateRate(const std::vector<const Column*>& columns, int64_t begin, int64_t end);

struct SummaryStats {
  double mean, std, median, q25, q75, min, max;  // std: ddof 1 (pandas)
  int64_t distinct;
};
// Continuous columns only; missing and non-finite values are ignored.
SummaryStats Summarize(const Column& c, int64_t begin, int64_t end);

}  // namespace cairn::monitor
