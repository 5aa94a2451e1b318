// Cross-checks against libxgboost 1.7 (Debian's libxgboost-dev, C API):
// 1. A model trained and saved by libxgboost 1.7 itself (JSON and UBJSON) loads in cairn and
//    predicts as libxgboost predicts.
// 2. The 3.1.3 goldens: where libxgboost 1.7 reads the 3.x file the same way (one scalar
//    base_score, no categorical re-coding), the three agree; the test records which ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "golden_util.h"
#include "libxgboost_ref.h"
#include "models/xgboost_model.h"

namespace cairn::models {
namespace {

using testing::GoldenPath;
using testing::LibXGBoost;

constexpr double kTolerance = 1e-6;

struct Synthetic {
  std::vector<float> x;
  std::vector<float> y;
  size_t rows, cols;
};

// Rows with 10% missing values and a label that depends on a few features.
Synthetic MakeData(size_t rows, size_t cols, bool classification, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> unit(0, 1);
  Synthetic d{{}, {}, rows, cols};
  for (size_t r = 0; r < rows; ++r) {
    float score = 0;
    for (size_t c = 0; c < cols; ++c) {
      float v = normal(rng);
      score += (c % 3 == 0 ? 1.0f : -0.5f) * v * (c < 5 ? 1.0f : 0.1f);
      d.x.push_back(unit(rng) < 0.1f ? NAN : v);
    }
    d.y.push_back(classification ? (score + 0.3f * normal(rng) > 0 ? 1.0f : 0.0f) : score);
  }
  return d;
}

// Trains with libxgboost 1.7 and saves to path. Returns the error message or "".
std::string TrainAndSave(const Synthetic& d, const std::vector<std::pair<const char*, const char*>>& params,
                         int rounds, const std::string& path) {
  DMatrixHandle dm;
  if (XGDMatrixCreateFromMat(d.x.data(), d.rows, d.cols, NAN, &dm) != 0) return XGBGetLastError();
  XGDMatrixSetFloatInfo(dm, "label", d.y.data(), d.rows);
  BoosterHandle b;
  XGBoosterCreate(&dm, 1, &b);
  for (auto [k, v] : params) XGBoosterSetParam(b, k, v);
  std::string err;
  for (int i = 0; i < rounds && err.empty(); ++i) {
    if (XGBoosterUpdateOneIter(b, i, dm) != 0) err = XGBGetLastError();
  }
  if (err.empty() && XGBoosterSaveModel(b, path.c_str()) != 0) err = XGBGetLastError();
  XGBoosterFree(b);
  XGDMatrixFree(dm);
  return err;
}

void CompareWithLibXGBoost(const std::string& path, const Synthetic& test) {
  auto ours = LoadXGBoostModelFile(path);
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  LibXGBoost ref;
  ASSERT_EQ(ref.Load(path), "");
  ASSERT_EQ(ref.SetParam("nthread", "1"), "");
  const float* want = nullptr;
  uint64_t len = 0;
  std::string err;
  ASSERT_TRUE(ref.Predict(test.x.data(), test.rows, test.cols, 0, &want, &len, &err)) << err;
  const size_t width = ours->ensemble.output_width();
  ASSERT_EQ(len, test.rows * width);
  std::vector<float> got(len);
  ours->ensemble.PredictBatch(test.x.data(), test.rows, got.data(), 1);
  size_t exact = 0;
  for (size_t i = 0; i < len; ++i) {
    EXPECT_NEAR(got[i], want[i], kTolerance) << path << " value " << i;
    exact += got[i] == want[i];
  }
  EXPECT_GT(exact, len * 9 / 10) << "expected nearly all predictions bit-identical";
}

class LibXGBoost17Test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cairn_models_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(LibXGBoost17Test, BinaryLogisticWrittenBy17) {
  Synthetic train = MakeData(2000, 20, true, 1);
  Synthetic test = MakeData(300, 20, true, 2);
  for (const char* ext : {".json", ".ubj"}) {
    const std::string path = (dir_ / (std::string("logistic") + ext)).string();
    ASSERT_EQ(TrainAndSave(train, {{"objective", "binary:logistic"}, {"max_depth", "6"},
                                   {"nthread", "1"}, {"base_score", "0.3"}},
                           30, path),
              "");
    CompareWithLibXGBoost(path, test);
  }
}

TEST_F(LibXGBoost17Test, RegressionAndMulticlassWrittenBy17) {
  Synthetic train = MakeData(2000, 12, false, 3);
  Synthetic test = MakeData(300, 12, false, 4);
  const std::string reg = (dir_ / "reg.json").string();
  ASSERT_EQ(TrainAndSave(train, {{"objective", "reg:squarederror"}, {"max_depth", "5"},
                                 {"nthread", "1"}},
                         25, reg),
            "");
  CompareWithLibXGBoost(reg, test);

  for (auto& y : train.y) y = std::floor(std::fabs(y)) > 2 ? 2 : std::floor(std::fabs(y));
  const std::string multi = (dir_ / "multi.ubj").string();
  ASSERT_EQ(TrainAndSave(train, {{"objective", "multi:softprob"}, {"num_class", "3"},
                                 {"max_depth", "4"}, {"nthread", "1"}},
                         10, multi),
            "");
  CompareWithLibXGBoost(multi, test);
}

// libxgboost 1.7 opens the files XGBoost 3.1.3 writes without an error but does not read
// their base_score ("[5.1E-1]", an array since 3.1): it predicts as if base_score were its
// default 0.5. So on 3.x files the reference is PyPI XGBoost's predictions (the goldens),
// not libxgboost. This test pins that finding: 1.7's margins equal XGBoost 3.1.3's minus
// the stored intercept plus 1.7's default one.
TEST(LibXGBoostOn31FilesTest, Libxgboost17IgnoresThe31BaseScore) {
  struct Named {
    const char* name;
    double default_margin;  // 1.7's base_score 0.5 in margin space
  };
  for (Named c : {Named{"car_loan_logistic", 0.0}, Named{"car_price_squarederror", 0.5}}) {
    auto ours = LoadXGBoostModelFile(GoldenPath(std::string(c.name) + ".json"));
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();
    auto cases = testing::ReadJson(GoldenPath(std::string(c.name) + ".cases.json"));
    size_t n_cols = 0;
    std::vector<double> rows = testing::Rows(cases["rows"], &n_cols);
    std::vector<float> rows32(rows.begin(), rows.end());
    std::vector<double> margin31 = testing::Flatten(cases["margin"]);
    LibXGBoost ref;
    ASSERT_EQ(ref.Load(GoldenPath(std::string(c.name) + ".json")), "");
    const float* got = nullptr;
    uint64_t len = 0;
    std::string err;
    ASSERT_TRUE(ref.Predict(rows32.data(), rows.size() / n_cols, n_cols, 1, &got, &len, &err))
        << err;
    ASSERT_EQ(len, margin31.size());
    // Recover the 3.1 base margin from our loader (logit of base_score for logistic).
    float base31 = 0;
    const double stored = ours->base_score[0];
    base31 = ours->objective == "binary:logistic"
                 ? static_cast<float>(-std::log(1.0 / stored - 1.0))
                 : static_cast<float>(stored);
    ASSERT_NE(static_cast<double>(base31), c.default_margin) << "test needs a non-default intercept";
    for (size_t i = 0; i < len; ++i) {
      const double expect17 = margin31[i] - base31 + c.default_margin;
      // Different intercepts make float sums round differently: allow a few ulps of the
      // largest partial sum per tree.
      const double scale = std::max({1.0, std::fabs(expect17), std::fabs(double{base31})});
      const double tol = 4.0 * ours->ensemble.num_trees() * 1.2e-7 * scale;
      EXPECT_NEAR(got[i], expect17, tol) << c.name << " row " << i;
    }
  }
}

}  // namespace
}  // namespace cairn::models
