// The Model interface: linear baselines against scikit-learn, MLflow model directories
// against mlflow's own pyfunc predictions, and the loaders' bad-input handling.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "golden_util.h"
#include "models/linear_model.h"
#include "models/mlflow_model.h"
#include "models/tree_model.h"
#include "models/xgboost_model.h"

namespace cairn::models {
namespace {

namespace fs = std::filesystem;
using testing::Flatten;
using testing::GoldenPath;
using testing::ReadJson;
using testing::ReadText;
using testing::Rows;

void ExpectMatchesCases(const Model& model, const std::string& cases_file, const char* key,
                        double rel_tolerance) {
  auto cases = ReadJson(GoldenPath(cases_file));
  std::vector<std::string> names = cases["features"].get<std::vector<std::string>>();
  ASSERT_EQ(names.size(), model.num_features());
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(model.features()[i].name, names[i]);
  size_t n_cols = 0;
  std::vector<double> rows = Rows(cases["rows"], &n_cols);
  const size_t n_rows = rows.size() / n_cols;
  std::vector<double> expected = Flatten(cases[key]);
  ASSERT_EQ(expected.size(), n_rows * model.output_width());
  std::vector<double> out(expected.size());
  ASSERT_TRUE(model.Predict(rows, n_rows, out).ok());
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_NEAR(out[i], expected[i], rel_tolerance * std::max(1.0, std::fabs(expected[i])))
        << cases_file << " value " << i;
  }
}

TEST(LinearModelTest, MatchesScikitLearn) {
  for (const char* name :
       {"car_price_linear", "car_loan_logistic_linear", "credit_card_softmax_linear"}) {
    auto model = LinearModel::Parse(ReadText(GoldenPath(std::string(name) + ".json")));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    ExpectMatchesCases(**model, std::string(name) + ".cases.json", "predictions", 1e-9);
  }
}

TEST(LinearModelTest, KindsAndWidths) {
  auto reg = LinearModel::Parse(ReadText(GoldenPath("car_price_linear.json")));
  ASSERT_TRUE(reg.ok());
  EXPECT_EQ((*reg)->output_kind(), OutputKind::kValue);
  auto soft = LinearModel::Parse(ReadText(GoldenPath("credit_card_softmax_linear.json")));
  ASSERT_TRUE(soft.ok());
  EXPECT_EQ((*soft)->output_width(), 3u);
  EXPECT_EQ((*soft)->output_kind(), OutputKind::kProbability);
}

TEST(LinearModelTest, MissingValueNamesTheFeature) {
  auto model = LinearModel::Parse(
      R"({"format": "cairn.linear/v1", "features": ["a", "b"], "coefficients": [1, 2],
          "intercept": 0.5, "link": "identity"})");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::vector<double> rows = {1.0, 2.0, 3.0, NAN};
  std::vector<double> out(2);
  Status st = (*model)->Predict(rows, 2, out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("row 1: feature 'b'"), std::string::npos) << st.message();
  rows[3] = 4.0;
  ASSERT_TRUE((*model)->Predict(rows, 2, out).ok());
  EXPECT_DOUBLE_EQ(out[0], 0.5 + 1 * 1.0 + 2 * 2.0);  // 5.5 by hand
  EXPECT_DOUBLE_EQ(out[1], 0.5 + 1 * 3.0 + 2 * 4.0);  // 11.5 by hand
  std::vector<double> wrong(3);
  EXPECT_EQ((*model)->Predict(rows, 2, wrong).code(), Code::kInvalidArgument);
  EXPECT_EQ((*model)->Predict(std::span<const double>(rows).first(3), 2, out).code(),
            Code::kInvalidArgument);
}

TEST(LinearModelTest, BadDocuments) {
  const char* bad[] = {
      "",
      "{}",
      R"({"format": "other"})",
      R"({"format": "cairn.linear/v1", "features": [], "coefficients": []})",
      R"({"format": "cairn.linear/v1", "features": ["a"], "coefficients": [1, 2]})",
      R"({"format": "cairn.linear/v1", "features": ["a"], "coefficients": ["x"]})",
      R"({"format": "cairn.linear/v1", "features": ["a"], "coefficients": [1], "link": "probit"})",
      R"({"format": "cairn.linear/v1", "features": ["a"], "coefficients": [[1], [2]]})",
      R"({"format": "cairn.linear/v1", "features": ["a"], "coefficients": [[1], [2]],
          "intercept": [1], "link": "softmax"})",
      R"({"format": "cairn.linear/v1", "features": ["a"], "coefficients": [Infinity]})",
  };
  for (const char* doc : bad) {
    auto model = LinearModel::Parse(doc);
    EXPECT_FALSE(model.ok()) << doc;
    if (!model.ok()) {
      EXPECT_EQ(model.status().code(), Code::kInvalidArgument) << doc;
    }
  }
}

TEST(MlflowModelTest, LoadsDirectoryWrittenByMlflow) {
  auto loaded = LoadModel(GoldenPath("mlflow_car_loan"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->flavor, "xgboost");
  EXPECT_EQ(loaded->model_class, "xgboost.sklearn.XGBClassifier");
  EXPECT_EQ(loaded->model_format, "ubj");
  EXPECT_EQ(loaded->xgb_version, "3.1.3");
  EXPECT_EQ(loaded->mlflow_version, "3.6.0");
  ASSERT_EQ(loaded->signature.input_columns.size(), 7u);
  EXPECT_EQ(loaded->signature.input_columns[0].name, "car_value");
  EXPECT_EQ(loaded->signature.input_columns[0].type, ColumnType::kDouble);
  ASSERT_TRUE(loaded->signature.output_tensor.has_value());
  EXPECT_EQ(loaded->signature.output_tensor->dtype, "int64");
  EXPECT_EQ(loaded->signature.output_tensor->shape, std::vector<int64_t>{-1});
  EXPECT_EQ(loaded->input_example_type, "dataframe");
  EXPECT_NE(loaded->input_example.find("\"columns\""), std::string::npos);
  EXPECT_NE(loaded->serving_input_example.find("dataframe_split"), std::string::npos);
  EXPECT_EQ(loaded->model->output_kind(), OutputKind::kClassLabel);
  // pyfunc.predict of an XGBClassifier returns class labels.
  ExpectMatchesCases(*loaded->model, "mlflow_car_loan.cases.json", "pyfunc_predictions", 0);
}

TEST(MlflowModelTest, ProbabilitiesOfTheSameModel) {
  auto xgb = LoadXGBoostModelFile(GoldenPath("mlflow_car_loan/model.ubj"));
  ASSERT_TRUE(xgb.ok()) << xgb.status().ToString();
  auto model = MakeTreeModel(std::move(*xgb), TreeOutput::kPrediction);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->output_kind(), OutputKind::kProbability);
  ExpectMatchesCases(**model, "mlflow_car_loan.cases.json", "probabilities", 1e-6);
}

// XGBClassifier.predict on a multi-class model is the argmax of XGBoost's probabilities.
TEST(MlflowModelTest, MulticlassLabelsAreArgmaxOfXGBoostProbabilities) {
  auto xgb = LoadXGBoostModelFile(GoldenPath("credit_card_softprob.json"));
  ASSERT_TRUE(xgb.ok()) << xgb.status().ToString();
  auto model = MakeTreeModel(std::move(*xgb), TreeOutput::kClassLabel);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto cases = ReadJson(GoldenPath("credit_card_softprob.cases.json"));
  size_t n_cols = 0;
  std::vector<double> rows = Rows(cases["rows"], &n_cols);
  const size_t n_rows = rows.size() / n_cols;
  std::vector<double> labels(n_rows);
  ASSERT_TRUE((*model)->Predict(rows, n_rows, labels).ok());
  for (size_t r = 0; r < n_rows; ++r) {
    const auto probs = cases["predictions"][r].get<std::vector<double>>();
    const size_t want = std::max_element(probs.begin(), probs.end()) - probs.begin();
    EXPECT_EQ(labels[r], static_cast<double>(want)) << r;
  }
  auto reg = LoadXGBoostModelFile(GoldenPath("car_price_squarederror.json"));
  ASSERT_TRUE(reg.ok());
  EXPECT_EQ(MakeTreeModel(std::move(*reg), TreeOutput::kClassLabel).status().code(),
            Code::kInvalidArgument);
}

TEST(MlflowModelTest, BareFilesLoadByContent) {
  auto ubj = LoadModel(GoldenPath("adult_categorical.ubj"));
  ASSERT_TRUE(ubj.ok()) << ubj.status().ToString();
  EXPECT_EQ(ubj->flavor, "xgboost");
  EXPECT_EQ(ubj->xgb_version, "3.1.3");
  const auto& features = ubj->model->features();
  ASSERT_EQ(features.size(), 14u);
  EXPECT_EQ(features[1].name, "workclass");
  EXPECT_EQ(features[1].kind, FeatureInfo::Kind::kCategorical);
  EXPECT_FALSE(features[1].categories.empty());
  EXPECT_EQ(features[0].kind, FeatureInfo::Kind::kNumeric);
  auto linear = LoadModel(GoldenPath("car_price_linear.json"));
  ASSERT_TRUE(linear.ok()) << linear.status().ToString();
  EXPECT_EQ(linear->flavor, "linear");
  EXPECT_EQ(LoadModel("/nonexistent/model.ubj").status().code(), Code::kNotFound);
}

class MlflowBadDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_mlmodel_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::copy(GoldenPath("mlflow_car_loan"), dir_);
    mlmodel_ = ReadText((dir_ / "MLmodel").string());
  }
  void TearDown() override { fs::remove_all(dir_); }
  void WriteMlmodel(const std::string& text) {
    std::ofstream((dir_ / "MLmodel").string(), std::ios::trunc) << text;
  }
  void Replace(const std::string& from, const std::string& to) {
    std::string text = mlmodel_;
    size_t pos = text.find(from);
    ASSERT_NE(pos, std::string::npos) << from;
    text.replace(pos, from.size(), to);
    WriteMlmodel(text);
  }
  Status Load() { return LoadModel(dir_.string()).status(); }
  fs::path dir_;
  std::string mlmodel_;
};

TEST_F(MlflowBadDirTest, CopyLoads) { EXPECT_TRUE(Load().ok()) << Load().ToString(); }

TEST_F(MlflowBadDirTest, DataPathCannotEscape) {
  Replace("    data: model.ubj\n    model_class", "    data: ../../etc/passwd\n    model_class");
  Status st = Load();
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find(".."), std::string::npos);
  Replace("    data: model.ubj\n    model_class", "    data: /etc/passwd\n    model_class");
  EXPECT_EQ(Load().code(), Code::kInvalidArgument);
}

TEST_F(MlflowBadDirTest, MissingFilesAndFlavors) {
  fs::remove(dir_ / "model.ubj");
  EXPECT_EQ(Load().code(), Code::kNotFound);
  fs::remove(dir_ / "MLmodel");
  EXPECT_EQ(Load().code(), Code::kNotFound);
  WriteMlmodel("flavors:\n  sklearn:\n    pickled_model: model.pkl\n");
  Status st = Load();
  EXPECT_EQ(st.code(), Code::kUnimplemented) << st.ToString();
  EXPECT_NE(st.message().find("sklearn"), std::string::npos);
}

TEST_F(MlflowBadDirTest, MalformedYamlAndSignature) {
  WriteMlmodel("flavors: [unclosed\n  - :\n");
  EXPECT_EQ(Load().code(), Code::kInvalidArgument) << Load().ToString();
  Replace(R"({"type": "double", "name": "car_value", "required": true}, )", "");
  Status st = Load();
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("6 input columns"), std::string::npos) << st.message();
  Replace(R"("name": "car_value")", R"("name": "car_price")");
  st = Load();
  EXPECT_NE(st.message().find("'car_price'"), std::string::npos) << st.message();
  Replace(R"({"type": "double", "name": "car_value")", R"({"type": "decimal", "name": "car_value")");
  st = Load();
  EXPECT_NE(st.message().find("decimal"), std::string::npos) << st.message();
}

TEST_F(MlflowBadDirTest, SignatureOrderMayDifferFromTheModels) {
  // Swap the first two signature columns: same set of names, so the model loads and keeps
  // its own feature order (decoders map columns by name).
  Replace(R"({"type": "double", "name": "car_value", "required": true}, {"type": "double",
    "name": "salary_range", "required": true})",
          R"({"type": "double", "name": "salary_range", "required": true}, {"type": "double",
    "name": "car_value", "required": true})");
  auto loaded = LoadModel(dir_.string());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->signature.input_columns[0].name, "salary_range");
  EXPECT_EQ(loaded->model->features()[0].name, "car_value");
}

TEST_F(MlflowBadDirTest, CorruptModelFileIsAnErrorNotACrash) {
  std::string bytes = ReadText((dir_ / "model.ubj").string());
  std::ofstream((dir_ / "model.ubj").string(), std::ios::trunc | std::ios::binary)
      << bytes.substr(0, bytes.size() / 2);
  Status st = Load();
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("model.ubj"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace cairn::models
