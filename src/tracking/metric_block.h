// Metric points packed into blocks: the storage unit of metric histories (tracking migration 7,
// table `metric_blocks`, one row per (run_key, key, block) holding many points of one key).
//
// Block layout, version 1 (all integers little-endian):
//   u8   format version (1)
//   u32  number of points N
//   N points, each:
//     u8             flags: bit 0 is_nan, bit 1 model_id, bit 2 dataset_name, bit 3
//                    dataset_digest present; other bits must be 0
//     zigzag varint  step minus the previous point's step (0 before the first point), wrapping
//                    in 64 bits
//     zigzag varint  timestamp minus the previous point's timestamp (same rule)
//     8 bytes        value as IEEE-754 binary64, the *stored* value (0 for NaN with is_nan set,
//                    +-DBL_MAX for +-Inf, as MLflow stores them)
//     per present string, in flag order: varint byte length, then the bytes
// Varints are LEB128 (at most 10 bytes). Points keep the order they were added in; a block
// may hold exact duplicates (readers drop them, see DedupAndSortPoints).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cairn::tracking {

// The rare fields of a point (set when it was logged for a logged model or a dataset).
struct MetricPointExtras {
  std::optional<std::string> model_id;
  std::optional<std::string> dataset_name;
  std::optional<std::string> dataset_digest;
};

// One decoded point; `value` is the stored value (see above). Small (32 bytes) so that long
// histories decode cheaply; `extras` is null unless one of its fields is set.
struct MetricPoint {
  int64_t step = 0;
  int64_t timestamp = 0;
  double value = 0;
  bool is_nan = false;
  std::unique_ptr<MetricPointExtras> extras;
};

// Builds one block. Not thread-safe; cheap to reuse after Clear().
class MetricBlockWriter {
 public:
  MetricBlockWriter();
  void Add(int64_t step, int64_t timestamp, double value, bool is_nan,
           const std::optional<std::string>& model_id,
           const std::optional<std::string>& dataset_name,
           const std::optional<std::string>& dataset_digest);
  void Add(const MetricPoint& p);
  uint32_t size() const { return count_; }
  // The encoded block; valid until the next Add or Clear.
  std::string_view bytes();
  void Clear();

 private:
  std::string bytes_;
  uint32_t count_ = 0;
  int64_t last_step_ = 0;
  int64_t last_timestamp_ = 0;
};

// Appends the points of `block` to `out` in their stored order.
// Errors: kInternal naming the problem (unknown version, truncated point, bad flags, trailing
// bytes, a count that does not match) for a corrupt block; `out` may then hold a prefix.
Status DecodeMetricBlock(std::string_view block, std::vector<MetricPoint>* out);

// A run's recent writes (table `metric_batches`: one row per write, all its keys) are a
// sequence of sections, one per key: varint key length, the key's bytes, varint block length,
// the block.
void AppendKeySection(std::string* batch, std::string_view key, std::string_view block);

// Calls visit(key, block) for each section of `batch` in order, stopping at the first non-OK
// status it returns. Errors: kInternal for a truncated section; visit's status.
Status ForEachKeySection(std::string_view batch,
                         const std::function<Status(std::string_view key,
                                                    std::string_view block)>& visit);

// MLflow's history semantics over points in write order: drops exact duplicates of
// (step, timestamp, value, is_nan) keeping the first written (with its model/dataset fields),
// and sorts by (timestamp, step, value, is_nan), or by (step, timestamp, value, is_nan) when
// `by_step`.
void DedupAndSortPoints(std::vector<MetricPoint>* points, bool by_step = false);

}  // namespace cairn::tracking
