// Bad input gets a clear error, never a crash: deterministic random and mutated filters,
// order_by entries and page tokens through every entry point. (g++ has no libFuzzer; this
// seeded sweep stands in for a fuzz target and runs under the ASan/UBSan build.)
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tracking/search/search.h"

namespace cairn::tracking::search {
namespace {

const std::vector<std::string> kFragments = {
    "metrics.", "params.", "tags.", "attributes.", "datasets.", "run_id", "start_time", "name",
    "version_number", "`", "\"", "'", "(", ")", ",", ";", " ", " AND ", " OR ", " NOT ", " IN ",
    " LIKE ", " ILIKE ", "=", "!=", "<", ">=", "-", ".", "1", "2.5e3", "0x1f", "--", "/*", "*/",
    "NULL", "\\", "%", "_", "\xc3\xa9", "\xff", std::string(1, '\0'), "\n", "\t", "acc", "x"};

std::string RandomText(std::mt19937& rng, size_t max_pieces) {
  std::uniform_int_distribution<size_t> count(0, max_pieces);
  std::uniform_int_distribution<size_t> pick(0, kFragments.size() - 1);
  std::string out;
  for (size_t n = count(rng); n > 0; --n) out += kFragments[pick(rng)];
  return out;
}

void ExpectOkOrInvalid(const Status& s, const std::string& input) {
  if (!s.ok()) {
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << input << " -> " << s.ToString();
    EXPECT_FALSE(s.message().empty()) << input;
  }
}

TEST(SearchRobustnessTest, RandomFiltersNeverCrash) {
  std::mt19937 rng(20261126);
  for (int i = 0; i < 3000; ++i) {
    std::string filter = RandomText(rng, 12);
    std::vector<std::string> order_by = {RandomText(rng, 4)};
    for (Dialect d : {Dialect::kSqlite, Dialect::kPostgres}) {
      ExpectOkOrInvalid(CompileRunSearch(filter, order_by, d).status(), filter);
      ExpectOkOrInvalid(CompileExperimentSearch(filter, order_by, d).status(), filter);
      ExpectOkOrInvalid(CompileRegisteredModelSearch(filter, order_by, d).status(), filter);
      ExpectOkOrInvalid(CompileModelVersionSearch(filter, order_by, d).status(), filter);
      ExpectOkOrInvalid(
          CompileLoggedModelSearch(filter, {{order_by[0], false, {}, {}}}, {}, d).status(),
          filter);
    }
  }
}

TEST(SearchRobustnessTest, MutatedValidFiltersNeverCrash) {
  const std::vector<std::string> seeds = {
      "metrics.acc > 0.9 AND params.lr = '0.01' AND tags.`a b` LIKE '%x%'",
      "run_id IN ('abc', 'def') AND datasets.context ILIKE 'train%' AND created >= 10",
      "name LIKE 'model%' AND tags.`mlflow.prompt.is_prompt` != 'true'",
      "version_number >= 2 AND run_id IN ('a') AND source_path = 's3://x'",
      "metrics.acc > 1 AND attributes.model_type NOT IN ('a', 'b')"};
  std::mt19937 rng(7);
  for (const std::string& seed : seeds) {
    for (int i = 0; i < 1500; ++i) {
      std::string f = seed;
      std::uniform_int_distribution<size_t> pos(0, f.size());
      std::uniform_int_distribution<int> op(0, 2);
      std::uniform_int_distribution<int> byte(0, 255);
      for (int k = 0; k < 3; ++k) {
        size_t p = pos(rng) % (f.size() + 1);
        switch (op(rng)) {
          case 0: f.insert(p, 1, static_cast<char>(byte(rng))); break;
          case 1: if (p < f.size()) f.erase(p, 1); break;
          default: f = f.substr(0, p); break;
        }
      }
      ExpectOkOrInvalid(CompileRunSearch(f, {}, Dialect::kSqlite).status(), f);
      ExpectOkOrInvalid(CompileModelVersionSearch(f, {}, Dialect::kSqlite).status(), f);
      ExpectOkOrInvalid(CompileLoggedModelSearch(f, {}, {}, Dialect::kSqlite).status(), f);
      ExpectOkOrInvalid(ParseFilter(Entity::kExperiments, f).status(), f);
    }
  }
}

TEST(SearchRobustnessTest, RandomPageTokensNeverCrash) {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> len(0, 40);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 3000; ++i) {
    std::string raw;
    for (int n = len(rng); n > 0; --n) raw += static_cast<char>(byte(rng));
    ExpectOkOrInvalid(DecodePageToken(raw).status(), raw);
    ExpectOkOrInvalid(DecodePageToken(Base64Encode(raw)).status(), raw);
    std::string json = "{\"offset\": " + RandomText(rng, 3) + "}";
    ExpectOkOrInvalid(DecodePageToken(Base64Encode(json)).status(), json);
  }
}

// Large inputs stay linear and never exhaust the stack (no std::regex, no recursion).
TEST(SearchRobustnessTest, HugeInputsAreHandled) {
  std::string words;
  for (int i = 0; i < 200000; ++i) words += "a ";
  ExpectOkOrInvalid(CompileRunSearch(words, {}, Dialect::kSqlite).status(), "words");

  std::string in_list = "run_id IN (";
  for (int i = 0; i < 20000; ++i) in_list += (i ? ", '" : "'") + std::to_string(i) + "abc'";
  in_list += ")";
  auto q = CompileRunSearch(in_list, {}, Dialect::kSqlite);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->where_binds.size(), 20000u);

  std::string long_key = "attributes." + std::string(1 << 20, 'k') + " = 'x'";
  ExpectOkOrInvalid(CompileLoggedModelSearch(long_key, {}, {}, Dialect::kSqlite).status(), "key");
  std::string long_number = "metrics.m > " + std::string(1 << 20, '1');
  ExpectOkOrInvalid(CompileLoggedModelSearch(long_number, {}, {}, Dialect::kSqlite).status(), "n");
  std::string parens(1 << 20, '(');
  ExpectOkOrInvalid(CompileRunSearch("run_id IN " + parens, {}, Dialect::kSqlite).status(), "(");
  ExpectOkOrInvalid(DecodePageToken(std::string(1 << 20, 'A')).status(), "token");
}

}  // namespace
}  // namespace cairn::tracking::search
