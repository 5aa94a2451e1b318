// Chunk boundaries and keys as nannyml/chunk.py produces them.
#include "monitor/chunker.h"

#include <gtest/gtest.h>

#include "monitor/data_source.h"

namespace cairn::monitor {
namespace {

std::vector<std::string> Keys(const std::vector<Chunk>& cs) {
  std::vector<std::string> k;
  for (const auto& c : cs) k.push_back(c.key);
  return k;
}

TEST(ChunkerTest, SizeBasedIncompleteHandling) {
  ChunkingSpec s;
  s.kind = ChunkingKind::kSize;
  s.size = 4;
  auto keep = MakeChunks(s, 10, nullptr, "reference");
  ASSERT_TRUE(keep.ok());
  EXPECT_EQ(Keys(*keep), (std::vector<std::string>{"[0:3]", "[4:7]", "[8:9]"}));
  s.incomplete = Incomplete::kAppend;
  auto app = MakeChunks(s, 10, nullptr, "reference");
  EXPECT_EQ(Keys(*app), (std::vector<std::string>{"[0:3]", "[4:9]"}));
  s.incomplete = Incomplete::kDrop;
  auto drop = MakeChunks(s, 10, nullptr, "reference");
  EXPECT_EQ(Keys(*drop), (std::vector<std::string>{"[0:3]", "[4:7]"}));
}

TEST(ChunkerTest, DefaultAndNumberMatchNannyml) {
  // nannyML: Titanic's 891 reference rows give 10 chunks of 89 plus [890:890].
  ChunkingSpec s;
  auto d = MakeChunks(s, 891, nullptr, "reference");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 11u);
  EXPECT_EQ(d->front().key, "[0:88]");
  EXPECT_EQ(d->back().key, "[890:890]");
  s.kind = ChunkingKind::kNumber;
  s.number = 3;
  auto n = MakeChunks(s, 10, nullptr, "analysis");
  EXPECT_EQ(Keys(*n), (std::vector<std::string>{"[0:2]", "[3:5]", "[6:8]", "[9:9]"}));
}

TEST(ChunkerTest, TooLargeChunksAreErrors) {
  ChunkingSpec s;
  s.kind = ChunkingKind::kSize;
  s.size = 100;
  auto r = MakeChunks(s, 50, nullptr, "analysis");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(
      r.status().message().find("chunking.size 100 is larger than the analysis data (50 rows)"),
      std::string::npos);
  s.kind = ChunkingKind::kNumber;
  s.number = 20;
  EXPECT_FALSE(MakeChunks(s, 5, nullptr, "analysis").ok());
  EXPECT_FALSE(MakeChunks(ChunkingSpec{}, 0, nullptr, "analysis").ok());
}

TEST(ChunkerTest, PeriodKeysFollowPandas) {
  std::vector<int64_t> ts;
  for (const char* s :
       {"2018-01-01 10:00:00", "2018-01-07 23:00:00", "2018-01-08", "2018-02-01", "2018-04-02"}) {
    int64_t t;
    ASSERT_TRUE(ParseTimestamp(s, &t));
    ts.push_back(t);
  }
  ChunkingSpec s;
  s.kind = ChunkingKind::kPeriod;
  s.period = "W";
  auto w = MakeChunks(s, 5, &ts, "analysis");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(Keys(*w), (std::vector<std::string>{"2018-01-01/2018-01-07", "2018-01-08/2018-01-14",
                                                "2018-01-29/2018-02-04", "2018-04-02/2018-04-08"}));
  EXPECT_EQ((*w)[0].size(), 2);
  s.period = "M";
  EXPECT_EQ(Keys(*MakeChunks(s, 5, &ts, "analysis")),
            (std::vector<std::string>{"2018-01", "2018-02", "2018-04"}));
  s.period = "Q";
  EXPECT_EQ(Keys(*MakeChunks(s, 5, &ts, "analysis")),
            (std::vector<std::string>{"2018Q1", "2018Q2"}));
  s.period = "D";
  EXPECT_EQ(MakeChunks(s, 5, &ts, "analysis")->front().key, "2018-01-01");
}

TEST(ChunkerTest, TimestampOrderIsStableWithMissingLast) {
  std::vector<int64_t> ts = {5, kMissingTimestamp, 3, 5, 1};
  EXPECT_EQ(TimestampOrder(ts), (std::vector<uint32_t>{4, 2, 0, 3, 1}));
  EXPECT_TRUE(TimestampOrder({1, 2, 2, 3}).empty());
}

}  // namespace
}  // namespace cairn::monitor
