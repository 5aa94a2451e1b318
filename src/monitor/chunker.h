// Chunking exactly as nannyML's chunkers (nannyml/chunk.py): size, number, period and the
// default (10 chunks), with the incomplete last chunk kept, appended or dropped.
//
// Chunks are contiguous row ranges [begin, end) of a table already sorted by its timestamp
// (nannyML sorts before chunking). Keys: "[start:end]" for size/number chunks, the pandas
// Period string for period chunks ("2016-05", "2018-01-01/2018-01-07", ...).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "monitor/config.h"

namespace cairn::monitor {

struct Chunk {
  int64_t index = 0;
  std::string key;
  int64_t begin = 0;  // first row
  int64_t end = 0;    // one past the last row
  int64_t start_ts = kMissingTimestamp;
  int64_t end_ts = kMissingTimestamp;
  int64_t size() const { return end - begin; }
};

// Splits `num_rows` rows. `timestamps` (sorted, may be null unless period chunking) gives
// start/end dates. `what` ("reference"/"analysis") is used in messages.
// Errors: InvalidArgument when a chunk size exceeds the data, when the data has fewer rows
// than the requested number of chunks, or when period chunking has no timestamps.
StatusOr<std::vector<Chunk>> MakeChunks(const ChunkingSpec& spec, int64_t num_rows,
                                        const std::vector<int64_t>* timestamps,
                                        const std::string& what);

// The stable order that sorts rows by timestamp (missing last), or an empty vector when the
// rows are already sorted.
std::vector<uint32_t> TimestampOrder(const std::vector<int64_t>& timestamps);

}  // namespace cairn::monitor
