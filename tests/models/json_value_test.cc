// The JSON text and UBJSON readers behind the model loaders and the request decoders.
#include "models/json_value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace cairn::models {
namespace {

JsonValue Parse(std::string_view text, NumberPrecision p = NumberPrecision::kFloat64) {
  auto v = ParseJsonText(text, p);
  EXPECT_TRUE(v.ok()) << text << ": " << v.status().ToString();
  return v.ok() ? *v : JsonValue();
}

TEST(JsonTextTest, ScalarsStringsAndEscapes) {
  JsonValue v = Parse(R"({"a": "x\"y\\z\n\u00e9\ud83d\ude00", "b": true, "c": null, "d": -12})");
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.Find("a")->str(), "x\"y\\z\n\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_TRUE(v.Find("b")->bool_value());
  EXPECT_TRUE(v.Find("c")->is_null());
  EXPECT_TRUE(v.Find("d")->is_integer());
  EXPECT_EQ(v.Find("d")->int_value(), -12);
  EXPECT_EQ(v.Find("missing"), nullptr);
}

TEST(JsonTextTest, NumbersRoundAsRequested) {
  // 0.1 as float32 is not 0.1 as double: kFloat32 must round the text straight to float.
  EXPECT_EQ(Parse("0.1", NumberPrecision::kFloat32).number(), static_cast<double>(0.1f));
  EXPECT_EQ(Parse("0.1", NumberPrecision::kFloat64).number(), 0.1);
  EXPECT_EQ(Parse("1e3").number(), 1000.0);
  EXPECT_FALSE(Parse("1e3").is_integer());
  EXPECT_TRUE(std::isnan(Parse("NaN").number()));
  EXPECT_EQ(Parse("-Infinity").number(), -INFINITY);
  EXPECT_EQ(Parse("1e400").number(), INFINITY);
  EXPECT_EQ(Parse("99999999999999999999").number(), 1e20);  // beyond int64: a real
}

TEST(JsonTextTest, NumericArraysAreCompact) {
  JsonValue v = Parse("[1, 2.5, -3]");
  EXPECT_EQ(v.type(), JsonValue::Type::kNumArray);
  EXPECT_EQ(v.nums(), (std::vector<double>{1, 2.5, -3}));
  EXPECT_FALSE(v.nums_are_integers());
  EXPECT_TRUE(Parse("[1, 2]").nums_are_integers());
  JsonValue mixed = Parse(R"([1, "a", null])");
  EXPECT_EQ(mixed.type(), JsonValue::Type::kArray);
  EXPECT_EQ(mixed.size(), 3u);
}

TEST(JsonTextTest, Malformed) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "\"abc", "tru", "1.", "1e", "-",
                          "[1] x", "\"\\ud800\"", "\"\\q\"", "{\"a\":1,}", "01x"}) {
    auto v = ParseJsonText(bad, NumberPrecision::kFloat64);
    EXPECT_FALSE(v.ok()) << bad;
    if (!v.ok()) {
      EXPECT_EQ(v.status().code(), Code::kInvalidArgument);
    }
  }
}

TEST(JsonTextTest, ToJsonTextRoundTrips) {
  const std::string text = R"({"a":[1,2],"b":[0.25,"x",null,true],"c":{"d":"q\"\n"},"e":-1.5})";
  EXPECT_EQ(ToJsonText(Parse(text)), text);
}

TEST(UbjsonTest, TypedAndPlainContainers) {
  // {"a": [$d#i 2 1.0f 2.0f], "b": [#i 2 i 5 S i 1 'x'], "c": T}  (big-endian)
  std::string doc = "{";
  doc += std::string("i\x01" "a", 3) + "[$d#i\x02";
  doc += std::string("\x3f\x80\x00\x00\x40\x00\x00\x00", 8);
  doc += std::string("i\x01" "b", 3) + "[#i\x02" + std::string("i\x05", 2) + "Si\x01x";
  doc += std::string("i\x01" "c", 3) + "T}";
  auto v = ParseUbjson(doc);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->Find("a")->nums(), (std::vector<double>{1.0, 2.0}));
  EXPECT_FALSE(v->Find("a")->nums_are_integers());
  ASSERT_EQ(v->Find("b")->items().size(), 2u);
  EXPECT_EQ(v->Find("b")->items()[0].int_value(), 5);
  EXPECT_EQ(v->Find("b")->items()[1].str(), "x");
  EXPECT_TRUE(v->Find("c")->bool_value());
  EXPECT_TRUE(LooksLikeUbjson(doc));
  EXPECT_FALSE(LooksLikeUbjson("{\"a\": 1}"));
  EXPECT_FALSE(LooksLikeUbjson("{ }"));
}

TEST(UbjsonTest, Malformed) {
  for (std::string bad : {std::string(""), std::string("{"), std::string("[$q#i\x01\x00", 6),
                          std::string("[$d#i\x02\x00\x00", 8), std::string("Si\x05" "ab", 5),
                          std::string("{i\x01" "a", 4), std::string("X"),
                          std::string("[$d]"), std::string("ZZ")}) {
    auto v = ParseUbjson(bad);
    EXPECT_FALSE(v.ok()) << "accepted " << bad.size() << " bytes";
  }
}

}  // namespace
}  // namespace cairn::models
