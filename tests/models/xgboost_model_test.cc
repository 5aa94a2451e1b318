// Loads the models XGBoost 3.1.3 (PyPI) wrote in goldens/ (JSON and UBJSON) and compares
// our predictions with XGBoost's, row by row, to 1e-6.
#include "models/xgboost_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "golden_util.h"

namespace cairn::models {
namespace {

using testing::Flatten;
using testing::GoldenPath;
using testing::ReadJson;
using testing::Rows;

constexpr double kTolerance = 1e-6;

struct Case {
  std::string name;
  std::string objective;
};

class XGBoostGoldenTest : public ::testing::TestWithParam<std::tuple<Case, std::string>> {};

TEST_P(XGBoostGoldenTest, MatchesXGBoostRowByRow) {
  const auto& [c, ext] = GetParam();
  auto model = LoadXGBoostModelFile(GoldenPath(c.name + ext));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->objective, c.objective);
  auto cases = ReadJson(GoldenPath(c.name + ".cases.json"));
  size_t n_cols = 0;
  std::vector<double> rows = Rows(cases["rows"], &n_cols);
  ASSERT_EQ(n_cols, model->ensemble.num_features());
  const size_t n_rows = rows.size() / n_cols;
  std::vector<double> expected = Flatten(cases["predictions"]);
  std::vector<double> expected_margin = Flatten(cases["margin"]);
  const size_t width = model->ensemble.output_width();
  ASSERT_EQ(expected.size(), n_rows * width);
  ASSERT_EQ(expected_margin.size(), n_rows * model->ensemble.num_groups());

  std::vector<float> batch(n_rows * width);
  model->ensemble.PredictBatch(rows.data(), n_rows, batch.data(), 2);
  std::vector<float> margins(n_rows * model->ensemble.num_groups());
  model->ensemble.PredictMarginBatch(rows.data(), n_rows, margins.data());
  size_t exact = 0;
  for (size_t r = 0; r < n_rows; ++r) {
    std::vector<float> row(rows.begin() + r * n_cols, rows.begin() + (r + 1) * n_cols);
    std::vector<float> single(width);
    model->ensemble.PredictRow(row.data(), single.data());
    for (size_t k = 0; k < width; ++k) {
      const double want = expected[r * width + k];
      EXPECT_NEAR(single[k], want, kTolerance) << c.name << ext << " row " << r << " out " << k;
      EXPECT_EQ(single[k], batch[r * width + k]) << "single-row and batch paths differ";
      exact += static_cast<double>(single[k]) == want;
    }
  }
  // Margins are float sums in XGBoost's order (no libm involved): bit-identical.
  for (size_t i = 0; i < margins.size(); ++i) {
    EXPECT_EQ(static_cast<double>(margins[i]), expected_margin[i])
        << c.name << ext << " margin " << i;
  }
  // Same float operations in the same order: nearly every value is bit-identical.
  RecordProperty("bit_identical", std::to_string(exact) + "/" + std::to_string(expected.size()));
}

const Case kCases[] = {
    {"car_loan_logistic", "binary:logistic"},
    {"car_loan_logitraw", "binary:logitraw"},
    {"car_loan_reglogistic", "reg:logistic"},
    {"car_loan_dart", "binary:logistic"},
    {"credit_card_softprob", "multi:softprob"},
    {"credit_card_softmax", "multi:softmax"},
    {"car_price_squarederror", "reg:squarederror"},
    {"car_price_poisson", "count:poisson"},
    {"car_price_multi_target", "reg:squarederror"},
    {"car_price_quantiles", "reg:quantileerror"},
    {"car_price_reg_gamma", "reg:gamma"},
    {"car_price_reg_tweedie", "reg:tweedie"},
    {"car_price_reg_absoluteerror", "reg:absoluteerror"},
    {"car_price_reg_pseudohubererror", "reg:pseudohubererror"},
    {"car_price_reg_squaredlogerror", "reg:squaredlogerror"},
    {"car_loan_hinge", "binary:hinge"},
    {"car_price_rank_pairwise", "rank:pairwise"},
    {"car_price_rank_ndcg", "rank:ndcg"},
    {"adult_categorical", "binary:logistic"},
    {"credit_card_early_stopping", "multi:softprob"},
};

INSTANTIATE_TEST_SUITE_P(Goldens, XGBoostGoldenTest,
                         ::testing::Combine(::testing::ValuesIn(kCases),
                                            ::testing::Values(".json", ".ubj")),
                         [](const auto& info) {
                           return std::get<0>(info.param).name + "_" +
                                  std::get<1>(info.param).substr(1);
                         });

TEST(XGBoostModelTest, ReadsMetadataAndCategories) {
  auto model = LoadXGBoostModelFile(GoldenPath("adult_categorical.ubj"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->booster, "gbtree");
  ASSERT_EQ(model->version.size(), 3u);
  EXPECT_EQ(model->version[0], 3);
  EXPECT_EQ(model->feature_names.size(), 14u);
  EXPECT_EQ(model->feature_names[1], "workclass");
  EXPECT_EQ(model->feature_types[1], "c");
  EXPECT_TRUE(model->ensemble.has_categorical());
  auto names = ReadJson(GoldenPath("adult_categorical.categories.json"));
  ASSERT_EQ(model->categories.size(), 14u);
  for (size_t f = 0; f < model->feature_names.size(); ++f) {
    const std::string& feature = model->feature_names[f];
    if (names.contains(feature)) {
      EXPECT_EQ(model->categories[f], names[feature].get<std::vector<std::string>>()) << feature;
    } else {
      EXPECT_TRUE(model->categories[f].empty()) << feature;
    }
  }
}

// XGBClassifier.predict_proba stops at best_iteration + 1 rounds; Booster.predict (the
// parametrised test above) uses every round.
TEST(XGBoostModelTest, BestIterationAsScikitLearnPredicts) {
  auto cases = ReadJson(GoldenPath("credit_card_early_stopping.cases.json"));
  XGBoostLoadOptions options;
  options.use_best_iteration = true;
  auto model = LoadXGBoostModelFile(GoldenPath("credit_card_early_stopping.ubj"), options);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ASSERT_TRUE(model->best_iteration.has_value());
  EXPECT_EQ(*model->best_iteration, cases["best_iteration"].get<int64_t>());
  EXPECT_EQ(model->rounds_used, *model->best_iteration + 1);
  EXPECT_LT(model->rounds_used, model->boosted_rounds);
  EXPECT_EQ(model->ensemble.num_trees(), static_cast<size_t>(model->rounds_used * 3));
  size_t n_cols = 0;
  std::vector<double> rows = Rows(cases["rows"], &n_cols);
  const size_t n_rows = rows.size() / n_cols;
  std::vector<double> expected = Flatten(cases["sklearn_proba"]);
  std::vector<float> got(n_rows * 3);
  model->ensemble.PredictBatch(rows.data(), n_rows, got.data(), 1);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], kTolerance) << i;

  XGBoostLoadOptions too_many;
  too_many.iteration_end = model->boosted_rounds + 1;
  auto bad = LoadXGBoostModelFile(GoldenPath("credit_card_early_stopping.json"), too_many);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  XGBoostLoadOptions two;
  two.iteration_end = 2;
  auto first_two = LoadXGBoostModelFile(GoldenPath("credit_card_early_stopping.json"), two);
  ASSERT_TRUE(first_two.ok());
  EXPECT_EQ(first_two->ensemble.num_trees(), 6u);
}

TEST(XGBoostModelTest, DartKeepsWeights) {
  auto model = LoadXGBoostModelFile(GoldenPath("car_loan_dart.json"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->booster, "dart");
}

}  // namespace
}  // namespace cairn::models
