#include "monitor/data_quality.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "monitor/statistics.h"

namespace cairn::monitor {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdULL;
}
}  // namespace

double MissingRate(const Column& c, int64_t b, int64_t e) {
  if (e <= b) return kNaN;
  int64_t m = 0;
  if (c.type == ColumnType::kContinuous) {
    for (int64_t r = b; r < e; ++r) m += std::isnan(c.numbers[r]);
  } else if (c.type == ColumnType::kTimestamp) {
    for (int64_t r = b; r < e; ++r) m += c.timestamps[r] == kMissingTimestamp;
  } else {
    for (int64_t r = b; r < e; ++r) m += c.codes[r] == kMissingCode;
  }
  return m / static_cast<double>(e - b);
}

double UnseenRate(const Column& c, int64_t b, int64_t e, const std::vector<bool>& seen,
                  bool missing_seen) {
  if (e <= b) return kNaN;
  int64_t u = 0;
  for (int64_t r = b; r < e; ++r) {
    int32_t code = c.codes[r];
    if (code == kMissingCode)
      u += !missing_seen;
    else
      u += !seen[code];
  }
  return u / static_cast<double>(e - b);
}

double OutOfRangeRate(const Column& c, int64_t b, int64_t e, double lo, double hi) {
  if (e <= b) return kNaN;
  int64_t u = 0;
  for (int64_t r = b; r < e; ++r) {
    double v = c.numbers[r];
    u += (v < lo || v > hi);
  }
  return u / static_cast<double>(e - b);
}

int64_t UnparseableCount(const Column& c, int64_t b, int64_t e) {
  auto lo = std::lower_bound(c.unparseable_rows.begin(), c.unparseable_rows.end(), b);
  auto hi = std::lower_bound(c.unparseable_rows.begin(), c.unparseable_rows.end(), e);
  return hi - lo;
}

double DuplicateRate(const std::vector<const Column*>& cols, int64_t b, int64_t e) {
  if (e <= b) return kNaN;
  // 64-bit row hashes; a collision (probability about n²/2^65) would count a false duplicate.
  const size_t n = static_cast<size_t>(e - b);
  std::vector<uint64_t> h(n, 0x12345678ULL);
  for (const Column* c : cols) {
    for (size_t i = 0; i < n; ++i) {
      const int64_t r = b + static_cast<int64_t>(i);
      uint64_t v;
      if (c->type == ColumnType::kContinuous) {
        double d = c->numbers[r];
        if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
        if (d == 0) d = 0;  // -0 == 0
        std::memcpy(&v, &d, sizeof v);
      } else if (c->type == ColumnType::kTimestamp) {
        v = static_cast<uint64_t>(c->timestamps[r]);
      } else {
        v = static_cast<uint64_t>(static_cast<int64_t>(c->codes[r]));
      }
      h[i] = Mix(h[i], v);
    }
  }
  // Open-addressing set of the hashes (0 marks an empty slot, so a zero hash becomes 1).
  size_t cap = 16;
  while (cap < 2 * n) cap <<= 1;
  std::vector<uint64_t> table(cap, 0);
  int64_t dup = 0;
  for (uint64_t x : h) {
    x = x == 0 ? 1 : x;
    size_t slot = (x ^ (x >> 29)) & (cap - 1);
    while (table[slot] != 0 && table[slot] != x) slot = (slot + 1) & (cap - 1);
    if (table[slot] == x)
      ++dup;
    else
      table[slot] = x;
  }
  return dup / static_cast<double>(n);
}

SummaryStats Summarize(const Column& c, int64_t b, int64_t e) {
  SummaryStats s{kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, 0};
  std::vector<double> v;
  v.reserve(static_cast<size_t>(std::max<int64_t>(e - b, 0)));
  for (int64_t r = b; r < e; ++r) {
    double x = c.numbers[r];
    if (std::isfinite(x)) v.push_back(x);
  }
  if (v.empty()) return s;
  const double n = static_cast<double>(v.size());
  s.mean = PairwiseSum(v) / n;
  if (v.size() > 1) {
    std::vector<double> sq(v.size());
    for (size_t i = 0; i < v.size(); ++i) sq[i] = (v[i] - s.mean) * (v[i] - s.mean);
    s.std = std::sqrt(PairwiseSum(sq) / (n - 1));
  }
  std::sort(v.begin(), v.end());
  s.median = Quantile(v, 0.5);
  s.q25 = Quantile(v, 0.25);
  s.q75 = Quantile(v, 0.75);
  s.min = v.front();
  s.max = v.back();
  s.distinct = 1;
  for (size_t i = 1; i < v.size(); ++i) s.distinct += v[i] != v[i - 1];
  return s;
}

}  // namespace cairn::monitor
