#include "monitor/chunker.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace cairn::monitor {
namespace {

constexpr int64_t kNsPerSec = 1000000000LL;
constexpr int64_t kNsPerDay = 86400LL * kNsPerSec;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::string Date(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

// The pandas Period containing t: its ordinal-like id, key, start and end (inclusive, ns).
struct Period {
  int64_t id;
  std::string key;
  int64_t start;
  int64_t end;
};

Period PeriodOf(int64_t t, const std::string& freq) {
  int64_t days = FloorDiv(t, kNsPerDay);
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  Period p;
  if (freq == "D") {
    p.id = days;
    p.key = Date(days);
    p.start = days * kNsPerDay;
    p.end = p.start + kNsPerDay - 1;
  } else if (freq == "H" || freq == "h") {
    int64_t hours = FloorDiv(t, 3600 * kNsPerSec);
    p.id = hours;
    p.start = hours * 3600 * kNsPerSec;
    p.end = p.start + 3600 * kNsPerSec - 1;
    p.key = fmt::format("{} {:02}:00", Date(days), (hours % 24 + 24) % 24);
  } else if (freq == "W") {
    // W-SUN: weeks run Monday..Sunday. 1970-01-01 was a Thursday (Monday-based weekday 3).
    int64_t wd = ((days + 3) % 7 + 7) % 7;
    int64_t monday = days - wd;
    p.id = FloorDiv(monday, 7);
    p.start = monday * kNsPerDay;
    p.end = (monday + 7) * kNsPerDay - 1;
    p.key = Date(monday) + "/" + Date(monday + 6);
  } else if (freq == "M") {
    p.id = y * 12 + (m - 1);
    p.key = fmt::format("{:04}-{:02}", y, m);
    p.start = DaysFromCivil(y, m, 1) * kNsPerDay;
    int64_t ny = m == 12 ? y + 1 : y;
    unsigned nm = m == 12 ? 1 : m + 1;
    p.end = DaysFromCivil(ny, nm, 1) * kNsPerDay - 1;
  } else if (freq == "Q") {
    unsigned q = (m - 1) / 3 + 1;
    p.id = y * 4 + (q - 1);
    p.key = fmt::format("{:04}Q{}", y, q);
    p.start = DaysFromCivil(y, (q - 1) * 3 + 1, 1) * kNsPerDay;
    int64_t ny = q == 4 ? y + 1 : y;
    unsigned nm = q == 4 ? 1 : q * 3 + 1;
    p.end = DaysFromCivil(ny, nm, 1) * kNsPerDay - 1;
  } else {  // Y / A
    p.id = y;
    p.key = fmt::format("{:04}", y);
    p.start = DaysFromCivil(y, 1, 1) * kNsPerDay;
    p.end = DaysFromCivil(y + 1, 1, 1) * kNsPerDay - 1;
  }
  return p;
}

void SetRangeTimestamps(Chunk* c, const std::vector<int64_t>* ts) {
  if (ts == nullptr) return;
  int64_t lo = kMissingTimestamp, hi = kMissingTimestamp;
  for (int64_t r = c->begin; r < c->end; ++r) {
    int64_t t = (*ts)[r];
    if (t == kMissingTimestamp) continue;
    if (lo == kMissingTimestamp || t < lo) lo = t;
    if (hi == kMissingTimestamp || t > hi) hi = t;
  }
  c->start_ts = lo;
  c->end_ts = hi;
}

StatusOr<std::vector<Chunk>> BySize(int64_t size, Incomplete incomplete, int64_t n,
                                    const std::vector<int64_t>* ts) {
  std::vector<Chunk> chunks;
  for (int64_t i = 0; i + size - 1 < n; i += size) {
    Chunk c;
    c.begin = i;
    c.end = i + size;
    chunks.push_back(c);
  }
  if (n % size != 0) {
    Chunk c;
    c.begin = size * (n / size);
    c.end = n;
    if (incomplete == Incomplete::kKeep) {
      chunks.push_back(c);
    } else if (incomplete == Incomplete::kAppend && !chunks.empty()) {
      chunks.back().end = n;
    }
  }
  for (size_t i = 0; i < chunks.size(); ++i) {
    chunks[i].index = static_cast<int64_t>(i);
    chunks[i].key = fmt::format("[{}:{}]", chunks[i].begin, chunks[i].end - 1);
    SetRangeTimestamps(&chunks[i], ts);
  }
  return chunks;
}

}  // namespace

std::vector<uint32_t> TimestampOrder(const std::vector<int64_t>& ts) {
  auto key = [](int64_t t) {
    return t == kMissingTimestamp ? std::numeric_limits<int64_t>::max() : t;
  };
  bool sorted = true;
  for (size_t i = 1; i < ts.size() && sorted; ++i) sorted = key(ts[i - 1]) <= key(ts[i]);
  if (sorted) return {};
  std::vector<uint32_t> order(ts.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return key(ts[a]) < key(ts[b]); });
  return order;
}

StatusOr<std::vector<Chunk>> MakeChunks(const ChunkingSpec& spec, int64_t n,
                                        const std::vector<int64_t>* ts, const std::string& what) {
  if (n == 0) return InvalidArgument(fmt::format("the {} data has no rows", what));
  switch (spec.kind) {
    case ChunkingKind::kSize:
      if (spec.size > n) {
        return InvalidArgument(fmt::format("chunking.size {} is larger than the {} data ({} rows)",
                                           spec.size, what, n));
      }
      return BySize(spec.size, spec.incomplete, n, ts);
    case ChunkingKind::kNumber:
    case ChunkingKind::kDefault: {
      int64_t number = spec.kind == ChunkingKind::kDefault ? 10 : spec.number;
      int64_t size = n / number;
      if (size == 0) {
        return InvalidArgument(
            fmt::format("cannot split the {} data ({} rows) into {} chunks: fewer rows than chunks",
                        what, n, number));
      }
      return BySize(size, spec.kind == ChunkingKind::kDefault ? Incomplete::kKeep : spec.incomplete,
                    n, ts);
    }
    case ChunkingKind::kPeriod: {
      if (ts == nullptr) return InvalidArgument("period chunking needs a timestamp column");
      std::vector<Chunk> chunks;
      int64_t cur_id = 0;
      for (int64_t r = 0; r < n; ++r) {
        int64_t t = (*ts)[r];
        if (t == kMissingTimestamp)
          break;  // sorted: missing timestamps are last and belong to no period
        Period p = PeriodOf(t, spec.period);
        if (chunks.empty() || p.id != cur_id) {
          Chunk c;
          c.index = static_cast<int64_t>(chunks.size());
          c.key = p.key;
          c.begin = r;
          c.start_ts = p.start;
          c.end_ts = p.end;
          chunks.push_back(c);
          cur_id = p.id;
        }
        chunks.back().end = r + 1;
      }
      if (chunks.empty())
        return InvalidArgument(fmt::format("the {} data has no timestamps to chunk by", what));
      return chunks;
    }
  }
  return Internal("unknown chunking kind");
}

}  // namespace cairn::monitor
