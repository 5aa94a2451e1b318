#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "monitor/data_source.h"

namespace cairn::monitor {
namespace {

StatusOr<Table> ReadText(const std::string& text, ReadOptions opts = {}) {
  auto src = CsvFromString(text, "t.csv");
  return src->Read(opts);
}

TEST(CsvSourceTest, InfersTypesAndStoresColumns) {
  auto t = ReadText(
      "id,x,cat,flag,ts\n1,1.5,a,True,2018-01-01 00:08:43.152\n2,,b,False,2018-01-02\n3,NaN,a,,\n");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->num_rows, 3u);
  EXPECT_EQ(t->Find("id")->type, ColumnType::kContinuous);
  const Column* x = t->Find("x");
  EXPECT_EQ(x->type, ColumnType::kContinuous);
  EXPECT_EQ(x->numbers[0], 1.5);
  EXPECT_TRUE(std::isnan(x->numbers[1]));
  EXPECT_TRUE(std::isnan(x->numbers[2]));
  const Column* cat = t->Find("cat");
  EXPECT_EQ(cat->type, ColumnType::kCategorical);
  EXPECT_EQ(cat->codes, (std::vector<int32_t>{0, 1, 0}));
  EXPECT_EQ(cat->dictionary, (std::vector<std::string>{"a", "b"}));
  const Column* flag = t->Find("flag");
  EXPECT_EQ(flag->type, ColumnType::kBoolean);
  EXPECT_EQ(flag->codes, (std::vector<int32_t>{1, 0, kMissingCode}));
  const Column* ts = t->Find("ts");
  EXPECT_EQ(ts->type, ColumnType::kTimestamp);
  EXPECT_EQ(FormatTimestamp(ts->timestamps[0]), "2018-01-01 00:08:43.152000");
  EXPECT_EQ(ts->timestamps[2], kMissingTimestamp);
}

TEST(CsvSourceTest, Rfc4180QuotingCrlfAndEmbeddedNewlines) {
  auto t = ReadText("a,b\r\n\"x, y\",\"he said \"\"hi\"\"\"\r\n\"multi\nline\",2\r\n");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const Column* a = t->Find("a");
  ASSERT_EQ(a->codes.size(), 2u);
  EXPECT_EQ(a->dictionary[a->codes[0]], "x, y");
  EXPECT_EQ(a->dictionary[a->codes[1]], "multi\nline");
  const Column* b = t->Find("b");
  EXPECT_EQ(b->type, ColumnType::kCategorical);
  EXPECT_EQ(b->dictionary[b->codes[0]], "he said \"hi\"");
}

TEST(CsvSourceTest, TypeOverrideCountsUnparseableCells) {
  ReadOptions opts;
  opts.types["x"] = ColumnType::kContinuous;
  auto t = ReadText("x\n1\nabc\n3\n", opts);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const Column* x = t->Find("x");
  EXPECT_EQ(x->unparseable, 1);
  EXPECT_EQ(x->unparseable_rows, (std::vector<int64_t>{1}));
  EXPECT_TRUE(std::isnan(x->numbers[1]));
  // Integers declared categorical stay categories.
  ReadOptions cat;
  cat.types["x"] = ColumnType::kCategorical;
  auto c = ReadText("x\n1\n2\n1\n", cat);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->Find("x")->dictionary.size(), 2u);
}

TEST(CsvSourceTest, MixedTypesInAStrictColumnNameFileLineAndColumn) {
  // Inferred continuous from the first rows; a later text cell is an error in a column whose
  // type is inferred.
  std::string text = "id,x\n";
  for (int i = 0; i < kInferenceRows + 5; ++i)
    text += std::to_string(i) + "," + std::to_string(i * 0.5) + "\n";
  text += "99999,oops\n";
  auto t = ReadText(text);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kInvalidArgument);
  EXPECT_NE(t.status().message().find("t.csv:" + std::to_string(kInferenceRows + 7)),
            std::string::npos)
      << t.status().message();
  EXPECT_NE(t.status().message().find("column 'x'"), std::string::npos) << t.status().message();
  EXPECT_NE(t.status().message().find("oops"), std::string::npos);
}

TEST(CsvSourceTest, MalformedRowIsAnErrorOrSkippedAndCounted) {
  std::string text = "a,b\n1,2\n3\n4,5\n\"open,6\n";
  auto t = ReadText(text);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("t.csv:3: malformed row: expected 2 fields"),
            std::string::npos)
      << t.status().message();
  ReadOptions skip;
  skip.on_bad_rows = BadRowPolicy::kSkip;
  auto s = ReadText(text, skip);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->num_rows, 2u);
  EXPECT_EQ(s->skipped_rows, 2);  // the short row and the unterminated quote
}

TEST(CsvSourceTest, RowsLeavingTheFastPathAreUndoneAndReparsed) {
  // Unquoted rows are parsed in one pass; a row that turns out to need the general tokenizer
  // (a quote after some cells, too many or too few fields, a lone CR) must leave no trace of
  // its partly added cells: no extra values, no category first seen in a skipped row.
  std::string text =
      "c,x,y\n"
      "a,1.5,2\n"
      "new,2.5,\"3\"\n"   // quoted cell after cells already added: reparsed, kept
      "skipme,9,9,9\n"    // too many fields: skipped
      "other,7\n"         // too few fields: skipped
      "\n"                // blank line
      "b,1e-3,-0.25\r\n"  // exponent (slow number path) and CRLF
      "b,\"4\",5\r"       // lone CR ends a record
      "a,x1,6\n";         // unparseable number in a declared column
  ReadOptions opts;
  opts.on_bad_rows = BadRowPolicy::kSkip;
  opts.types["c"] = ColumnType::kCategorical;
  opts.types["x"] = ColumnType::kContinuous;
  opts.types["y"] = ColumnType::kContinuous;
  auto t = ReadText(text, opts);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->num_rows, 5u);
  EXPECT_EQ(t->skipped_rows, 2);
  const Column* c = t->Find("c");
  EXPECT_EQ(c->dictionary, (std::vector<std::string>{"a", "new", "b"}));
  EXPECT_EQ(c->codes, (std::vector<int32_t>{0, 1, 2, 2, 0}));
  const Column* x = t->Find("x");
  ASSERT_EQ(x->numbers.size(), 5u);
  EXPECT_EQ(x->numbers[0], 1.5);
  EXPECT_EQ(x->numbers[1], 2.5);
  EXPECT_EQ(x->numbers[2], 1e-3);
  EXPECT_EQ(x->numbers[3], 4.0);
  EXPECT_TRUE(std::isnan(x->numbers[4]));
  EXPECT_EQ(x->unparseable, 1);
  EXPECT_EQ(x->unparseable_rows, (std::vector<int64_t>{4}));
  EXPECT_EQ(t->Find("y")->numbers, (std::vector<double>{2, 3, -0.25, 5, 6}));
  // Under the default policy the first bad row is the error, with its line.
  opts.on_bad_rows = BadRowPolicy::kError;
  auto e = ReadText(text, opts);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("t.csv:4: malformed row: expected 3 fields"),
            std::string::npos)
      << e.status().message();
}

TEST(CsvSourceTest, FastNumberPathMatchesFromChars) {
  // Decimals the one-pass parser converts itself, and ones it leaves to from_chars (more
  // than 19 significant digits, mantissas above 2^53, exponents), all as from_chars reads
  // them.
  const char* cells[] = {"0.7107372248237465",
                         "35641.591516",
                         "-0.0",
                         "+12",
                         "007.50",
                         "0.00000000000000000000123",
                         "12345678901234567890.5",
                         "9007199254740993",
                         "1.5e300",
                         ".5",
                         "5.",
                         "123456789012345678"};
  std::string text = "x\n";
  for (const char* c : cells) text += std::string(c) + "\n";
  auto t = ReadText(text);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const Column* x = t->Find("x");
  ASSERT_EQ(x->numbers.size(), std::size(cells));
  for (size_t i = 0; i < std::size(cells); ++i) {
    std::string s = cells[i][0] == '+' ? cells[i] + 1 : cells[i];
    double want = std::strtod(s.c_str(), nullptr);
    EXPECT_EQ(x->numbers[i], want) << cells[i];
    EXPECT_EQ(std::signbit(x->numbers[i]), std::signbit(want)) << cells[i];
  }
}

TEST(CsvSourceTest, UnknownColumnAndMissingFile) {
  auto src = CsvFromString("a,b\n1,2\n", "t.csv");
  ReadOptions opts;
  opts.columns = {"a", "nope"};
  auto t = src->Read(opts);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kNotFound);
  EXPECT_NE(t.status().message().find("unknown column 'nope'"), std::string::npos);
  auto missing = OpenCsvFile("/nonexistent/x.csv")->Read({});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/x.csv"), std::string::npos);
}

TEST(CsvSourceTest, ReadsGzipByContent) {
  std::string path = ::testing::TempDir() + "/cairn_csv_test.csv.gz";
  gzFile g = gzopen(path.c_str(), "wb");
  ASSERT_NE(g, nullptr);
  std::string text = "x,y\n1,a\n2,b\n";
  gzwrite(g, text.data(), static_cast<unsigned>(text.size()));
  gzclose(g);
  auto t = OpenCsvFile(path)->Read({});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->num_rows, 2u);
  EXPECT_EQ(t->Find("x")->numbers, (std::vector<double>{1, 2}));
  std::remove(path.c_str());
}

TEST(CsvSourceTest, NumberAndTimestampParsing) {
  double d;
  EXPECT_TRUE(ParseNumber("+1e3", &d));
  EXPECT_EQ(d, 1000);
  EXPECT_TRUE(ParseNumber("inf", &d));
  EXPECT_TRUE(std::isinf(d));
  EXPECT_FALSE(ParseNumber("1.2.3", &d));
  EXPECT_FALSE(ParseNumber("", &d));
  int64_t t;
  EXPECT_TRUE(ParseTimestamp("1970-01-02", &t));
  EXPECT_EQ(t, 86400LL * 1000000000LL);
  EXPECT_TRUE(ParseTimestamp("2020-10-01T01:00:00Z", &t));
  EXPECT_FALSE(ParseTimestamp("2020-13-01", &t));
  EXPECT_FALSE(ParseTimestamp("2020-10-01 25:00:00", &t));
  EXPECT_FALSE(ParseTimestamp("1018-01-01", &t));  // outside the int64-nanosecond range
  EXPECT_FALSE(ParseTimestamp("9999-12-31", &t));
  EXPECT_TRUE(ParseTimestamp("1700-01-01", &t));
  EXPECT_TRUE(IsMissingToken("NA"));
  EXPECT_FALSE(IsMissingToken("UNK"));
}

}  // namespace
}  // namespace cairn::monitor
