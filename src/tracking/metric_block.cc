#include "tracking/metric_block.h"

#include <algorithm>
#include <cstring>
#include <tuple>

namespace cairn::tracking {

namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kHeaderBytes = 5;  // version + u32 count
constexpr uint8_t kIsNan = 1, kModelId = 2, kDatasetName = 4, kDatasetDigest = 8;
constexpr uint8_t kKnownFlags = kIsNan | kModelId | kDatasetName | kDatasetDigest;

void PutVarint(std::string& out, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}

// Differences wrap in 64 bits (unsigned arithmetic), so any int64 pair round-trips.
uint64_t ZigZag(int64_t current, int64_t previous) {
  const uint64_t d = static_cast<uint64_t>(current) - static_cast<uint64_t>(previous);
  return (d << 1) ^ (0 - (d >> 63));
}

int64_t UnZigZag(uint64_t z, int64_t previous) {
  const uint64_t d = (z >> 1) ^ (0 - (z & 1));
  return static_cast<int64_t>(static_cast<uint64_t>(previous) + d);
}

void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

void PutString(std::string& out, const std::string& s) {
  PutVarint(out, s.size());
  out.append(s);
}

// Bounds-checked reading of one block.
class Reader {
 public:
  explicit Reader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  bool Byte(uint8_t* v) {
    if (p_ == end_) return false;
    *v = static_cast<uint8_t>(*p_++);
    return true;
  }
  bool Fixed(uint64_t* v, int bytes) {
    if (remaining() < static_cast<size_t>(bytes)) return false;
    uint64_t x = 0;
    for (int i = 0; i < bytes; ++i) x |= static_cast<uint64_t>(static_cast<uint8_t>(p_[i])) << (8 * i);
    p_ += bytes;
    *v = x;
    return true;
  }
  bool Varint(uint64_t* v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b;
      if (!Byte(&b)) return false;
      if (shift == 63 && b > 1) return false;  // more than 64 bits
      x |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        *v = x;
        return true;
      }
    }
    return false;
  }
  // A varint length, then that many bytes.
  bool Bytes(std::string_view* s) {
    uint64_t n;
    if (!Varint(&n) || n > remaining()) return false;
    *s = std::string_view(p_, static_cast<size_t>(n));
    p_ += n;
    return true;
  }
  bool String(std::optional<std::string>* s) {
    std::string_view v;
    if (!Bytes(&v)) return false;
    s->emplace(v);
    return true;
  }

 private:
  const char* p_;
  const char* end_;
};

Status Corrupt(const std::string& what) {
  return Status(Code::kInternal, "corrupt metric block: " + what);
}

}  // namespace

MetricBlockWriter::MetricBlockWriter() { Clear(); }

void MetricBlockWriter::Clear() {
  bytes_.assign(kHeaderBytes, '\0');
  bytes_[0] = static_cast<char>(kVersion);
  count_ = 0;
  last_step_ = 0;
  last_timestamp_ = 0;
}

void MetricBlockWriter::Add(int64_t step, int64_t timestamp, double value, bool is_nan,
                            const std::optional<std::string>& model_id,
                            const std::optional<std::string>& dataset_name,
                            const std::optional<std::string>& dataset_digest) {
  uint8_t flags = is_nan ? kIsNan : 0;
  if (model_id) flags |= kModelId;
  if (dataset_name) flags |= kDatasetName;
  if (dataset_digest) flags |= kDatasetDigest;
  bytes_.push_back(static_cast<char>(flags));
  PutVarint(bytes_, ZigZag(step, last_step_));
  PutVarint(bytes_, ZigZag(timestamp, last_timestamp_));
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  char v[8];
  for (int i = 0; i < 8; ++i) v[i] = static_cast<char>((bits >> (8 * i)) & 0xff);
  bytes_.append(v, 8);
  if (model_id) PutString(bytes_, *model_id);
  if (dataset_name) PutString(bytes_, *dataset_name);
  if (dataset_digest) PutString(bytes_, *dataset_digest);
  last_step_ = step;
  last_timestamp_ = timestamp;
  ++count_;
}

void MetricBlockWriter::Add(const MetricPoint& p) {
  static const MetricPointExtras kNone;
  const MetricPointExtras& x = p.extras ? *p.extras : kNone;
  Add(p.step, p.timestamp, p.value, p.is_nan, x.model_id, x.dataset_name, x.dataset_digest);
}

std::string_view MetricBlockWriter::bytes() {
  PutU32(bytes_.data() + 1, count_);
  return bytes_;
}

Status DecodeMetricBlock(std::string_view block, std::vector<MetricPoint>* out) {
  Reader in(block);
  uint8_t version;
  uint64_t count;
  if (!in.Byte(&version) || !in.Fixed(&count, 4)) {
    return Corrupt("header truncated (" + std::to_string(block.size()) + " bytes)");
  }
  if (version != kVersion) return Corrupt("unknown format version " + std::to_string(version));
  // A point takes at least 11 bytes: refuse counts the bytes cannot hold before reserving.
  if (count > in.remaining() / 11) {
    return Corrupt("count " + std::to_string(count) + " does not fit in " +
                   std::to_string(block.size()) + " bytes");
  }
  // Geometric growth: callers decode many blocks into one vector.
  if (out->capacity() < out->size() + count) {
    out->reserve(std::max<size_t>(out->size() + count, 2 * out->capacity()));
  }
  int64_t step = 0, timestamp = 0;
  for (uint64_t i = 0; i < count; ++i) {
    MetricPoint p;
    uint8_t flags;
    uint64_t dstep, dtime, bits;
    if (!in.Byte(&flags) || !in.Varint(&dstep) || !in.Varint(&dtime) || !in.Fixed(&bits, 8)) {
      return Corrupt("point " + std::to_string(i) + " of " + std::to_string(count) +
                     " truncated");
    }
    if (flags & ~kKnownFlags) {
      return Corrupt("point " + std::to_string(i) + " has unknown flags " +
                     std::to_string(flags));
    }
    step = UnZigZag(dstep, step);
    timestamp = UnZigZag(dtime, timestamp);
    p.step = step;
    p.timestamp = timestamp;
    std::memcpy(&p.value, &bits, sizeof bits);
    p.is_nan = flags & kIsNan;
    if (flags & (kModelId | kDatasetName | kDatasetDigest)) {
      p.extras = std::make_unique<MetricPointExtras>();
      MetricPointExtras& x = *p.extras;
      if (((flags & kModelId) && !in.String(&x.model_id)) ||
          ((flags & kDatasetName) && !in.String(&x.dataset_name)) ||
          ((flags & kDatasetDigest) && !in.String(&x.dataset_digest))) {
        return Corrupt("point " + std::to_string(i) + " of " + std::to_string(count) +
                       " has a truncated string");
      }
    }
    out->push_back(std::move(p));
  }
  if (in.remaining() != 0) {
    return Corrupt(std::to_string(in.remaining()) + " trailing bytes after " +
                   std::to_string(count) + " points");
  }
  return OkStatus();
}

void AppendKeySection(std::string* batch, std::string_view key, std::string_view block) {
  PutVarint(*batch, key.size());
  batch->append(key);
  PutVarint(*batch, block.size());
  batch->append(block);
}

Status ForEachKeySection(std::string_view batch,
                         const std::function<Status(std::string_view key,
                                                    std::string_view block)>& visit) {
  Reader in(batch);
  while (in.remaining() > 0) {
    std::string_view key, block;
    if (!in.Bytes(&key) || !in.Bytes(&block)) {
      return Corrupt("truncated key section in a batch of " + std::to_string(batch.size()) +
                     " bytes");
    }
    RETURN_IF_ERROR(visit(key, block));
  }
  return OkStatus();
}

void DedupAndSortPoints(std::vector<MetricPoint>* points, bool by_step) {
  auto key = [by_step](const MetricPoint& p) {
    return by_step ? std::make_tuple(p.step, p.timestamp, p.value, p.is_nan)
                   : std::make_tuple(p.timestamp, p.step, p.value, p.is_nan);
  };
  auto less = [&](const MetricPoint& a, const MetricPoint& b) { return key(a) < key(b); };
  std::vector<MetricPoint>& v = *points;
  // Histories are usually logged in order: a strictly increasing sequence has neither
  // duplicates nor anything to sort.
  bool strictly_sorted = true;
  for (size_t i = 1; i < v.size() && strictly_sorted; ++i) strictly_sorted = less(v[i - 1], v[i]);
  if (strictly_sorted) return;
  // Stable, so the first written of equal points comes first and survives the dedup.
  std::stable_sort(v.begin(), v.end(), less);
  auto same = [&](const MetricPoint& a, const MetricPoint& b) { return key(a) == key(b); };
  v.erase(std::unique(v.begin(), v.end(), same), v.end());
}

}  // namespace cairn::tracking
