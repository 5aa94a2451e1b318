#include "tracking/metric_block.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cstring>
#include <limits>
#include <random>
#include <tuple>

namespace cairn::tracking {
namespace {

MetricPoint P(int64_t step, int64_t timestamp, double value, bool is_nan = false) {
  MetricPoint p;
  p.step = step;
  p.timestamp = timestamp;
  p.value = value;
  p.is_nan = is_nan;
  return p;
}

MetricPoint WithExtras(MetricPoint p, std::optional<std::string> model_id,
                       std::optional<std::string> dataset_name,
                       std::optional<std::string> dataset_digest) {
  p.extras = std::make_unique<MetricPointExtras>();
  p.extras->model_id = std::move(model_id);
  p.extras->dataset_name = std::move(dataset_name);
  p.extras->dataset_digest = std::move(dataset_digest);
  return p;
}

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// Field-by-field equality, values compared bit for bit.
void ExpectSamePoints(const std::vector<MetricPoint>& got, const std::vector<MetricPoint>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(got[i].step, want[i].step);
    EXPECT_EQ(got[i].timestamp, want[i].timestamp);
    EXPECT_EQ(Bits(got[i].value), Bits(want[i].value));
    EXPECT_EQ(got[i].is_nan, want[i].is_nan);
    ASSERT_EQ(got[i].extras != nullptr, want[i].extras != nullptr);
    if (got[i].extras) {
      EXPECT_EQ(got[i].extras->model_id, want[i].extras->model_id);
      EXPECT_EQ(got[i].extras->dataset_name, want[i].extras->dataset_name);
      EXPECT_EQ(got[i].extras->dataset_digest, want[i].extras->dataset_digest);
    }
  }
}

std::vector<MetricPoint> EdgePoints() {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  std::vector<MetricPoint> points;
  points.push_back(P(0, 0, 0.0));
  points.push_back(P(kMax, kMin, DBL_MAX));  // deltas that wrap around 64 bits
  points.push_back(P(kMin, kMax, -DBL_MAX));
  points.push_back(P(-1, 1700000000000, std::numeric_limits<double>::denorm_min()));
  points.push_back(P(5, 1700000000001, 0.0, /*is_nan=*/true));
  points.push_back(WithExtras(P(6, 1700000000002, 0.5), "m-abc", std::nullopt, std::nullopt));
  points.push_back(WithExtras(P(7, 1700000000002, -2.5), std::nullopt, "train", "d1g3st"));
  points.push_back(WithExtras(P(8, 1, 1e-300), "", "", std::string("\0\xff\x80", 3)));
  points.push_back(P(8, 1, 1e-300));  // an exact duplicate (without extras) is kept as written
  return points;
}

std::string Encode(const std::vector<MetricPoint>& points) {
  MetricBlockWriter w;
  for (const MetricPoint& p : points) w.Add(p);
  return std::string(w.bytes());
}

TEST(MetricBlockTest, RoundTripsEveryFieldInOrder) {
  const std::vector<MetricPoint> points = EdgePoints();
  const std::string block = Encode(points);
  std::vector<MetricPoint> got;
  ASSERT_TRUE(DecodeMetricBlock(block, &got).ok());
  ExpectSamePoints(got, points);
  // Decoding appends.
  ASSERT_TRUE(DecodeMetricBlock(block, &got).ok());
  EXPECT_EQ(got.size(), 2 * points.size());
}

TEST(MetricBlockTest, EmptyBlockAndWriterReuse) {
  MetricBlockWriter w;
  std::vector<MetricPoint> got;
  ASSERT_TRUE(DecodeMetricBlock(w.bytes(), &got).ok());
  EXPECT_TRUE(got.empty());
  w.Add(P(3, 4, 5.0));
  w.Clear();
  w.Add(P(-3, -4, -5.0));
  EXPECT_EQ(w.size(), 1u);
  ASSERT_TRUE(DecodeMetricBlock(w.bytes(), &got).ok());
  std::vector<MetricPoint> want;
  want.push_back(P(-3, -4, -5.0));
  ExpectSamePoints(got, want);
}

// Sequential steps and millisecond timestamps: deltas of one byte, so about 11 bytes a point
// (flags, two deltas, the 8-byte value) against 38+ for a row of the old table.
TEST(MetricBlockTest, SequentialPointsAreCompact) {
  MetricBlockWriter w;
  for (int i = 0; i < 1000; ++i) w.Add(P(i, 1700000000000 + i, i * 0.5));
  EXPECT_LE(w.bytes().size(), 5u + 1000u * 11u + 16u);
}

TEST(MetricBlockTest, EveryTruncationIsAClearError) {
  const std::string block = Encode(EdgePoints());
  for (size_t n = 0; n < block.size(); ++n) {
    std::vector<MetricPoint> got;
    Status st = DecodeMetricBlock(std::string_view(block.data(), n), &got);
    ASSERT_FALSE(st.ok()) << n;
    EXPECT_EQ(st.code(), Code::kInternal);
    EXPECT_NE(st.message().find("corrupt metric block"), std::string::npos) << st.message();
  }
}

TEST(MetricBlockTest, CorruptHeadersFlagsAndTrailingBytesAreRejected) {
  const std::string good = Encode(EdgePoints());
  std::vector<MetricPoint> got;
  std::string bad_version = good;
  bad_version[0] = 2;
  EXPECT_NE(DecodeMetricBlock(bad_version, &got).message().find("version 2"), std::string::npos);
  std::string huge_count = good;
  huge_count[4] = '\x7f';  // about 2^31 points in a few hundred bytes
  EXPECT_NE(DecodeMetricBlock(huge_count, &got).message().find("does not fit"), std::string::npos);
  std::string bad_flags = good;
  bad_flags[5] = '\x10';  // the first point's flags
  EXPECT_NE(DecodeMetricBlock(bad_flags, &got).message().find("unknown flags"), std::string::npos);
  EXPECT_NE(DecodeMetricBlock(good + "x", &got).message().find("trailing"), std::string::npos);
  // A varint longer than 64 bits as the first step delta.
  std::string long_varint = Encode({});
  long_varint[1] = 1;
  long_varint += std::string(1, '\0') + std::string(10, '\xff') + std::string(20, '\x01');
  EXPECT_EQ(DecodeMetricBlock(long_varint, &got).code(), Code::kInternal);
}

TEST(MetricBlockTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng(7);
  const std::string good = Encode(EdgePoints());
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = good;
    // Flip a few bytes of a valid block, or make a random one with a valid header.
    if (i % 2) {
      for (int k = 0; k < 3; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    } else {
      bytes.assign(rng() % 64, '\0');
      for (char& c : bytes) c = static_cast<char>(rng());
      if (!bytes.empty()) bytes[0] = 1;
    }
    std::vector<MetricPoint> got;
    Status st = DecodeMetricBlock(bytes, &got);
    if (!st.ok()) {
      EXPECT_EQ(st.code(), Code::kInternal);
    }
  }
}

TEST(MetricBlockTest, KeySectionsRoundTripAndTruncationIsAnError) {
  const std::string a = Encode(EdgePoints());
  const std::string b = Encode({});
  std::string batch;
  AppendKeySection(&batch, "loss", a);
  AppendKeySection(&batch, "", b);
  AppendKeySection(&batch, "acc/top-1", a);
  std::vector<std::pair<std::string, std::string>> seen;
  ASSERT_TRUE(ForEachKeySection(batch, [&](std::string_view key, std::string_view block) {
                seen.emplace_back(key, block);
                return OkStatus();
              }).ok());
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{
                      {"loss", a}, {"", b}, {"acc/top-1", a}}));
  int visits = 0;
  Status stop = ForEachKeySection(batch, [&](std::string_view, std::string_view) {
    ++visits;
    return InvalidArgument("stop");
  });
  EXPECT_EQ(stop.code(), Code::kInvalidArgument);
  EXPECT_EQ(visits, 1);
  for (size_t n : {size_t{1}, size_t{3}, batch.size() - 1}) {
    Status st = ForEachKeySection(std::string_view(batch.data(), n),
                                  [](std::string_view, std::string_view) { return OkStatus(); });
    EXPECT_EQ(st.code(), Code::kInternal) << n;
  }
}

TEST(MetricBlockTest, DedupKeepsTheFirstWrittenAndSortsLikeTheHistoryQueries) {
  std::vector<MetricPoint> points;
  points.push_back(P(2, 10, 1.0));
  points.push_back(WithExtras(P(1, 20, 1.0), "m-first", std::nullopt, std::nullopt));
  points.push_back(P(1, 10, 3.0));
  points.push_back(P(1, 10, 0.0, /*is_nan=*/true));
  points.push_back(P(1, 10, 0.0));
  points.push_back(WithExtras(P(1, 20, 1.0), "m-second", std::nullopt, std::nullopt));
  points.push_back(P(2, 10, 1.0));
  points.push_back(P(1, 10, 0.0));
  auto key = [](const MetricPoint& p) {
    return std::make_tuple(p.timestamp, p.step, p.value, p.is_nan);
  };
  {
    std::vector<MetricPoint> by_time;
    for (const MetricPoint& p : points) by_time.push_back(P(p.step, p.timestamp, p.value, p.is_nan));
    by_time[1].extras = std::make_unique<MetricPointExtras>(*points[1].extras);
    by_time[5].extras = std::make_unique<MetricPointExtras>(*points[5].extras);
    DedupAndSortPoints(&by_time);
    // ORDER BY timestamp, step, value (then is_nan), one of each exact duplicate.
    std::vector<std::tuple<int64_t, int64_t, double, bool>> got;
    for (const MetricPoint& p : by_time) got.push_back(key(p));
    EXPECT_EQ(got, (std::vector<std::tuple<int64_t, int64_t, double, bool>>{
                       {10, 1, 0.0, false}, {10, 1, 0.0, true}, {10, 1, 3.0, false},
                       {10, 2, 1.0, false}, {20, 1, 1.0, false}}));
    ASSERT_TRUE(by_time.back().extras);
    EXPECT_EQ(by_time.back().extras->model_id, "m-first");
  }
  DedupAndSortPoints(&points, /*by_step=*/true);
  std::vector<std::tuple<int64_t, int64_t, double, bool>> got;
  for (const MetricPoint& p : points) got.emplace_back(p.step, p.timestamp, p.value, p.is_nan);
  EXPECT_EQ(got, (std::vector<std::tuple<int64_t, int64_t, double, bool>>{
                     {1, 10, 0.0, false}, {1, 10, 0.0, true}, {1, 10, 3.0, false},
                     {1, 20, 1.0, false}, {2, 10, 1.0, false}}));
  // Already strictly ordered: untouched.
  std::vector<MetricPoint> sorted;
  for (int i = 0; i < 5; ++i) sorted.push_back(P(i, i, i));
  DedupAndSortPoints(&sorted);
  EXPECT_EQ(sorted.size(), 5u);
}

}  // namespace
}  // namespace cairn::tracking
