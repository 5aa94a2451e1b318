// Page tokens and dialect-specific SQL. MLflow's own answers for page tokens are in
// goldens/page_tokens.txt; these tests cover what the goldens cannot (round trips, cairn's
// deliberate differences) and the PostgreSQL spelling of the compiled SQL.
#include <gtest/gtest.h>

#include "tracking/search/search.h"

namespace cairn::tracking::search {
namespace {

TEST(PageTokenTest, RoundTripsOffsets) {
  for (int64_t offset : {1, 2, 99, 1000, 123456789}) {
    auto decoded = DecodePageToken(EncodePageToken(offset));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, offset);
  }
}

TEST(PageTokenTest, EncodesLikePython) {
  // base64.b64encode(json.dumps({"offset": 5}).encode()) == b'eyJvZmZzZXQiOiA1fQ=='
  EXPECT_EQ(EncodePageToken(5), "eyJvZmZzZXQiOiA1fQ==");
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("a"), "YQ==");
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_EQ(Base64Encode("abc"), "YWJj");
}

TEST(PageTokenTest, EmptyTokenIsOffsetZero) {
  auto decoded = DecodePageToken("");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, 0);
}

// MLflow passes a negative offset on to the database (SQLite reads it as 0, PostgreSQL fails);
// cairn refuses it.
TEST(PageTokenTest, NegativeOffsetIsInvalid) {
  auto decoded = DecodePageToken(Base64Encode("{\"offset\": -3}"));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(decoded.status().message(), "Invalid page token, parsed value={'offset': -3}");
}

TEST(PageTokenTest, GarbageNeverCrashes) {
  for (const char* token : {"=", "====", "\xff\xfe", "e30=", "bnVsbA==", "IiI=", "W10="}) {
    auto decoded = DecodePageToken(token);
    EXPECT_FALSE(decoded.ok()) << token;
  }
}

TEST(PageTokenTest, LoggedModelTokenRoundTripsAndRejectsGarbage) {
  std::vector<LoggedModelOrderBy> order_by = {{"metrics.acc", false, "eval", std::nullopt}};
  std::string token = EncodeLoggedModelPageToken({"1", "2"}, "name LIKE 'x%'", order_by, 42);
  auto offset = DecodeLoggedModelPageToken(token, {"1", "2"}, "name LIKE 'x%'", order_by);
  ASSERT_TRUE(offset.ok()) << offset.status().ToString();
  EXPECT_EQ(*offset, 42);
  for (const std::string& bad : {std::string("!!!"), Base64Encode("not json"),
                                 Base64Encode("[1]"), Base64Encode("{\"offset\": \"x\"}")}) {
    auto decoded = DecodeLoggedModelPageToken(bad, {}, "", {});
    ASSERT_FALSE(decoded.ok()) << bad;
    EXPECT_EQ(decoded.status().code(), Code::kInvalidArgument);
  }
}

TEST(DialectTest, PostgresKeepsLikeAndIlike) {
  auto q = CompileRunSearch("params.model LIKE 'x%' AND tags.t ILIKE 'Y%'", {}, Dialect::kPostgres);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_NE(q->where.find("f1.value LIKE ?"), std::string::npos) << q->where;
  EXPECT_NE(q->where.find("f2.value ILIKE ?"), std::string::npos) << q->where;
  EXPECT_EQ(q->where.find("GLOB"), std::string::npos) << q->where;
  ASSERT_EQ(q->where_binds.size(), 4u);
  EXPECT_EQ(std::get<std::string>(q->where_binds[1]), "x%");
}

TEST(DialectTest, SqliteLikeBecomesCaseSensitiveGlob) {
  auto q = CompileRunSearch("params.model LIKE 'a*b?[c]%_'", {}, Dialect::kSqlite);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_NE(q->where.find("f1.value GLOB ?"), std::string::npos) << q->where;
  ASSERT_EQ(q->where_binds.size(), 2u);
  EXPECT_EQ(std::get<std::string>(q->where_binds[1]), "a[*]b[?][[]c]*?");
}

TEST(CompileTest, ValuesAreNeverSplicedIntoSql) {
  const char* filter =
      "params.p = 'x''); DROP TABLE runs; --' AND tags.t LIKE '%evil%' AND "
      "run_id IN ('abcdef') AND metrics.m > 1.5 AND datasets.context = 'ctx-secret'";
  auto q = CompileRunSearch(filter, {"params.`secret key` DESC"}, Dialect::kSqlite);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  for (const char* needle : {"DROP", "evil", "abcdef", "1.5", "ctx-secret", "secret key"}) {
    EXPECT_EQ(q->where.find(needle), std::string::npos) << needle;
    EXPECT_EQ(q->joins.find(needle), std::string::npos) << needle;
    EXPECT_EQ(q->order_by.find(needle), std::string::npos) << needle;
  }
}

TEST(CompileTest, EmptyFilterGivesTrueWhereAndDefaultOrder) {
  auto q = CompileRunSearch("", {}, Dialect::kSqlite);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->where, "1 = 1");
  EXPECT_EQ(q->order_by, "r.start_time DESC, r.run_uuid ASC");
  EXPECT_TRUE(q->where_binds.empty());
}

TEST(CompileTest, LoggedModelOrderByErrors) {
  auto bad_entity = CompileLoggedModelSearch("", {{"params.lr", true, {}, {}}}, {},
                                             Dialect::kSqlite);
  ASSERT_FALSE(bad_entity.ok());
  EXPECT_EQ(bad_entity.status().message(),
            "Invalid order by field name: params.lr. Only metrics are supported.");
  auto bad_field = CompileLoggedModelSearch("", {{"nope", true, {}, {}}}, {}, Dialect::kSqlite);
  ASSERT_FALSE(bad_field.ok());
  EXPECT_EQ(bad_field.status().message(), "Invalid order by field name: nope");
  auto no_name = CompileLoggedModelSearch("", {}, {{"", {}}}, Dialect::kSqlite);
  ASSERT_FALSE(no_name.ok());
  EXPECT_EQ(no_name.status().message(),
            "`dataset_name` in the `datasets` clause must be specified.");
}

}  // namespace
}  // namespace cairn::tracking::search
