// Hostile and unsupported model files: every one must come back as a clear Status, never a
// crash, hang or abort.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "golden_util.h"
#include "models/json_value.h"
#include "models/xgboost_model.h"

namespace cairn::models {
namespace {

using nlohmann::json;
using testing::GoldenPath;
using testing::ReadJson;
using testing::ReadText;

json SmallModel() { return ReadJson(GoldenPath("car_loan_logitraw.json")); }
json& Tree0(json& m) { return m["learner"]["gradient_booster"]["model"]["trees"][0]; }

Status Load(const json& doc) { return ParseXGBoostModel(doc.dump()).status(); }

void ExpectError(const json& doc, Code code, const std::string& fragment) {
  Status st = Load(doc);
  ASSERT_FALSE(st.ok()) << "expected an error containing '" << fragment << "'";
  EXPECT_EQ(st.code(), code) << st.ToString();
  EXPECT_NE(st.message().find(fragment), std::string::npos) << st.ToString();
}

TEST(XGBoostBadInputTest, GoldenLoads) { EXPECT_TRUE(Load(SmallModel()).ok()); }

TEST(XGBoostBadInputTest, EmptyAndGarbage) {
  EXPECT_EQ(ParseXGBoostModel("").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseXGBoostModel("not a model").status().code(), Code::kUnimplemented);
  EXPECT_EQ(ParseXGBoostModel("{").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseXGBoostModel("[1,2,3]").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseXGBoostModel("{}").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(LoadXGBoostModelFile("/nonexistent/model.json").status().code(), Code::kNotFound);
}

TEST(XGBoostBadInputTest, EveryTruncationOfJsonAndUbjFails) {
  for (const char* name : {"car_loan_logitraw.json", "car_loan_logitraw.ubj",
                           "adult_categorical.ubj"}) {
    const std::string bytes = ReadText(GoldenPath(name));
    ASSERT_GT(bytes.size(), 100u);
    for (size_t cut = 0; cut < bytes.size(); cut += (cut < 300 ? 1 : 97)) {
      auto model = ParseXGBoostModel(std::string_view(bytes).substr(0, cut));
      EXPECT_FALSE(model.ok()) << name << " truncated to " << cut << " bytes loaded";
    }
  }
}

TEST(XGBoostBadInputTest, RandomByteFlipsNeverCrash) {
  std::mt19937 rng(42);
  for (const char* name : {"car_loan_logitraw.ubj", "adult_categorical.ubj",
                           "car_loan_logitraw.json"}) {
    const std::string bytes = ReadText(GoldenPath(name));
    for (int trial = 0; trial < 400; ++trial) {
      std::string mutated = bytes;
      for (int k = 0; k < 4; ++k) {
        mutated[rng() % mutated.size()] = static_cast<char>(rng() & 0xFF);
      }
      auto model = ParseXGBoostModel(mutated);
      if (model.ok()) {  // a harmless flip (e.g. in a float) must still predict safely
        std::vector<float> row(model->ensemble.num_features(), 1.0f);
        std::vector<float> out(model->ensemble.output_width());
        model->ensemble.PredictRow(row.data(), out.data());
      }
    }
  }
}

TEST(XGBoostBadInputTest, UbjsonHugeLengthsAreRejectedBeforeAllocating) {
  // "{" then key length 'L' 2^62 -> must not try to allocate.
  std::string doc = "{L";
  doc += std::string("\x40\x00\x00\x00\x00\x00\x00\x00", 8);
  EXPECT_EQ(ParseUbjson(doc).status().code(), Code::kInvalidArgument);
  // A typed float array claiming 2^40 elements.
  std::string arr = "[$d#L";
  arr += std::string("\x00\x00\x01\x00\x00\x00\x00\x00", 8);
  EXPECT_EQ(ParseUbjson(arr).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseUbjson("[$d#i\xff").status().code(), Code::kInvalidArgument);  // negative
  EXPECT_EQ(ParseUbjson("H").status().code(), Code::kInvalidArgument);
}

TEST(XGBoostBadInputTest, DeepNestingIsBoundedNotRecursedForever) {
  std::string text(100000, '[');
  EXPECT_EQ(ParseJsonText(text, NumberPrecision::kFloat32).status().code(),
            Code::kInvalidArgument);
  std::string ubj(100000, '[');
  EXPECT_EQ(ParseUbjson(ubj).status().code(), Code::kInvalidArgument);
}

TEST(XGBoostBadInputTest, ChildIndexOutOfRange) {
  json m = SmallModel();
  Tree0(m)["left_children"][0] = 1000;
  ExpectError(m, Code::kInvalidArgument, "child index 1000");
  m = SmallModel();
  Tree0(m)["right_children"][0] = -7;
  ExpectError(m, Code::kInvalidArgument, "child index -7");
}

TEST(XGBoostBadInputTest, CycleIsRejected) {
  json m = SmallModel();
  json& t = Tree0(m);
  // Point a deeper node back at node 1 (node 1's own child slot).
  const int n1_left = t["left_children"][1];
  ASSERT_GT(n1_left, 0);
  t["left_children"][n1_left] = 1;
  t["right_children"][n1_left] = 2;
  ExpectError(m, Code::kInvalidArgument, "reachable twice");
  m = SmallModel();
  Tree0(m)["left_children"][0] = 0;
  ExpectError(m, Code::kInvalidArgument, "child index 0");
}

TEST(XGBoostBadInputTest, FeatureIndexOutOfRange) {
  json m = SmallModel();
  Tree0(m)["split_indices"][0] = 7;  // the model has 7 features: 0..6
  ExpectError(m, Code::kInvalidArgument, "splits on feature 7");
  m = SmallModel();
  Tree0(m)["split_indices"][0] = -1;
  ExpectError(m, Code::kInvalidArgument, "feature -1");
}

TEST(XGBoostBadInputTest, ArrayLengthsMustAgree) {
  json m = SmallModel();
  Tree0(m)["split_conditions"].erase(0);
  ExpectError(m, Code::kInvalidArgument, "split_conditions");
  m = SmallModel();
  Tree0(m)["tree_param"]["num_nodes"] = "100000";
  ExpectError(m, Code::kInvalidArgument, "left_children");
  m = SmallModel();
  m["learner"]["gradient_booster"]["model"]["tree_info"].erase(0);
  ExpectError(m, Code::kInvalidArgument, "tree_info");
  m = SmallModel();
  m["learner"]["gradient_booster"]["model"]["gbtree_model_param"]["num_trees"] = "99";
  ExpectError(m, Code::kInvalidArgument, "num_trees");
}

TEST(XGBoostBadInputTest, WrongTypes) {
  json m = SmallModel();
  Tree0(m)["left_children"] = "oops";
  ExpectError(m, Code::kInvalidArgument, "left_children");
  m = SmallModel();
  Tree0(m)["left_children"][0] = 1.5;
  ExpectError(m, Code::kInvalidArgument, "expected integers");
  m = SmallModel();
  m["learner"]["learner_model_param"]["num_feature"] = "seven";
  ExpectError(m, Code::kInvalidArgument, "num_feature");
  m = SmallModel();
  m["learner"]["learner_model_param"]["base_score"] = "[abc]";
  ExpectError(m, Code::kInvalidArgument, "base_score");
  m = SmallModel();
  m["learner"]["gradient_booster"]["model"]["trees"] = json::object();
  ExpectError(m, Code::kInvalidArgument, "trees");
  m = SmallModel();
  m["learner"]["gradient_booster"]["model"]["tree_info"][0] = 5;
  ExpectError(m, Code::kInvalidArgument, "output group 5");
}

TEST(XGBoostBadInputTest, UnsupportedObjectiveAndBoosters) {
  json m = SmallModel();
  m["learner"]["objective"]["name"] = "survival:cox";
  ExpectError(m, Code::kUnimplemented, "survival:cox");
  m = SmallModel();
  m["learner"]["gradient_booster"] = {{"name", "gblinear"},
                                      {"model", {{"weights", {0.1, 0.2}}}}};
  ExpectError(m, Code::kUnimplemented, "gblinear");
  m = SmallModel();
  Tree0(m)["tree_param"]["size_leaf_vector"] = "3";
  ExpectError(m, Code::kUnimplemented, "multi-output");
}

TEST(XGBoostBadInputTest, BaseScoreOutsideLinkDomain) {
  json m = ReadJson(GoldenPath("car_loan_logistic.json"));
  m["learner"]["learner_model_param"]["base_score"] = "[1.5E0]";
  ExpectError(m, Code::kInvalidArgument, "(0,1)");
}

TEST(XGBoostBadInputTest, CategoricalSplitsOutOfRange) {
  json m = ReadJson(GoldenPath("adult_categorical.json"));
  json* tree = nullptr;
  for (auto& t : m["learner"]["gradient_booster"]["model"]["trees"]) {
    if (!t["categories_nodes"].empty()) {
      tree = &t;
      break;
    }
  }
  ASSERT_NE(tree, nullptr);
  json bad = m;
  (*tree)["categories_segments"][0] = 1 << 20;
  ExpectError(m, Code::kInvalidArgument, "segment out of range");
  m = bad;
  for (auto& t : m["learner"]["gradient_booster"]["model"]["trees"]) {
    if (!t["categories"].empty()) {
      t["categories"][0] = -3;
      break;
    }
  }
  ExpectError(m, Code::kInvalidArgument, "invalid category -3");
}

}  // namespace
}  // namespace cairn::models
