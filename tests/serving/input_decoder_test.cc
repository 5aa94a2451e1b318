// Protocol decoding: MLflow /invocations bodies (all four JSON formats and CSV) and Open
// Inference Protocol v2 infer requests into the dense matrix, checked against the model and
// its signature. Golden inputs are the files mlflow 3.6 wrote (tests/models/goldens).
#include "serving/input_decoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "models/linear_model.h"
#include "models/mlflow_model.h"

namespace cairn::serving {
namespace {

using nlohmann::json;

std::string Golden(const std::string& name) {
  return std::string(CAIRN_SOURCE_DIR) + "/tests/models/goldens/" + name;
}
std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Two features: a (double) and b (long); b is optional in the second signature.
std::unique_ptr<models::Model> TinyModel() {
  auto m = models::LinearModel::Parse(
      R"({"format": "cairn.linear/v1", "features": ["a", "b"], "coefficients": [1, 10]})");
  EXPECT_TRUE(m.ok());
  return std::move(*m);
}

models::Signature TinySignature(bool b_required = true) {
  auto sig = models::ParseSignature(
      std::string(R"([{"type": "double", "name": "a", "required": true},
                      {"type": "long", "name": "b", "required": )") +
          (b_required ? "true" : "false") + "}]",
      "");
  EXPECT_TRUE(sig.ok()) << sig.status().ToString();
  return *sig;
}

InputDecoder TinyDecoder(bool b_required = true) {
  static std::unique_ptr<models::Model> model = TinyModel();
  auto d = InputDecoder::Create(*model, TinySignature(b_required));
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return std::move(*d);
}

void ExpectRows(const StatusOr<DecodedInput>& in, const std::vector<double>& want) {
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  ASSERT_EQ(in->rows.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(in->rows[i])) << i;
    } else {
      EXPECT_EQ(in->rows[i], want[i]) << i;
    }
  }
}

void ExpectError(const StatusOr<DecodedInput>& in, const std::string& fragment,
                 Code code = Code::kInvalidArgument) {
  ASSERT_FALSE(in.ok()) << "expected an error mentioning " << fragment;
  EXPECT_EQ(in.status().code(), code) << in.status().ToString();
  EXPECT_NE(in.status().message().find(fragment), std::string::npos) << in.status().message();
}

TEST(InvocationsTest, AllJsonFormatsGiveTheSameMatrix) {
  InputDecoder d = TinyDecoder();
  const std::vector<double> want = {1.5, 2, -3, 4};
  const char* bodies[] = {
      R"({"dataframe_split": {"columns": ["a", "b"], "data": [[1.5, 2], [-3, 4]]}})",
      R"({"dataframe_split": {"columns": ["b", "a"], "data": [[2, 1.5], [4, -3]]}})",
      R"({"dataframe_split": {"data": [[1.5, 2], [-3, 4]]}})",
      R"({"dataframe_records": [{"a": 1.5, "b": 2}, {"b": 4, "a": -3}]})",
      R"({"instances": [[1.5, 2], [-3, 4]]})",
      R"({"instances": [{"a": 1.5, "b": 2}, {"a": -3, "b": 4}]})",
      R"({"inputs": {"a": [1.5, -3], "b": [2, 4]}})",
      R"({"inputs": [[1.5, 2], [-3, 4]], "params": {"k": [1, "x"]}})",
  };
  for (const char* body : bodies) {
    SCOPED_TRACE(body);
    ExpectRows(d.DecodeInvocations("application/json", body), want);
  }
  auto with_params = d.DecodeInvocations("application/json; charset=UTF-8",
                                         R"({"inputs": [[1, 2]], "params": {"k": [1, "x"]}})");
  ASSERT_TRUE(with_params.ok());
  EXPECT_EQ(with_params->params_json, R"({"k":[1,"x"]})");
  EXPECT_EQ(with_params->format, "inputs");
}

TEST(InvocationsTest, Csv) {
  InputDecoder d = TinyDecoder();
  ExpectRows(d.DecodeInvocations("text/csv", "a,b\n1.5,2\r\n-3,4\n"), {1.5, 2, -3, 4});
  ExpectRows(d.DecodeInvocations("text/csv; charset=utf-8", "b,\"a\"\n2,\"1.5\"\n4,\n"),
             {1.5, 2, NAN, 4});
  ExpectError(d.DecodeInvocations("text/csv", "a,b\n1,2,3\n"), "csv line 2");
  ExpectError(d.DecodeInvocations("text/csv", "a,b\n1,x\n"), "column 'b' (row 0)");
  ExpectError(d.DecodeInvocations("text/csv", "a,c\n1,2\n"), "unknown column 'c'");
  ExpectError(d.DecodeInvocations("text/csv", "a,b\n\"1,2\n"), "unterminated");
  ExpectError(d.DecodeInvocations("text/csv", ""), "header");
}

TEST(InvocationsTest, ErrorsNameTheField) {
  InputDecoder d = TinyDecoder();
  auto json_body = [&](const char* body) { return d.DecodeInvocations("application/json", body); };
  ExpectError(json_body(R"({"dataframe_records": [{"a": 1}]})"), "missing required column 'b'");
  ExpectError(json_body(R"({"dataframe_split": {"columns": ["a"], "data": [[1]]}})"),
              "missing required column 'b'");
  ExpectError(json_body(R"({"dataframe_records": [{"a": 1, "b": 2, "c": 3}]})"),
              "unknown column 'c'");
  ExpectError(json_body(R"({"dataframe_records": [{"a": "x", "b": 2}]})"),
              "column 'a' (row 0): expected double, got a string");
  ExpectError(json_body(R"({"instances": [[1, 2], [3, 4.5]]})"),
              "column 'b' (row 1): expected long, got a fractional number");
  ExpectError(json_body(R"({"instances": [[1, null]]})"), "column 'b' (row 0): missing value");
  ExpectError(json_body(R"({"instances": [[1, true]]})"), "expected long, got a boolean");
  ExpectError(json_body(R"({"instances": [[Infinity, 1]]})"), "column 'a' (row 0): infinite");
  ExpectError(json_body(R"({"instances": [[1, 2], [3]]})"), "instances[1]: has 1 values");
  ExpectError(json_body(R"({"instances": [1, 2]})"), "a flat list only fits");
  ExpectError(json_body(R"({"inputs": {"a": [1, 2], "b": [1]}})"), "column 'b' has 1 values");
  ExpectError(json_body(R"({"dataframe_split": {"columns": ["a", "b"], "data": [[1]]}})"),
              "dataframe_split.data[0]: has 1 values for 2 columns");
  ExpectError(json_body(R"({"instances": [[1, 2]], "inputs": [[1, 2]]})"), "exactly one");
  ExpectError(json_body(R"({"rows": [[1, 2]]})"), "must have one of");
  ExpectError(json_body(R"({"instances": [[1, 2]])"), "invalid JSON");
  ExpectError(json_body("[1, 2]"), "must be an object");
  ExpectError(d.DecodeInvocations("application/xml", "<a/>"), "unsupported content type",
              Code::kUnimplemented);
  ExpectError(d.DecodeInvocations("application/json; charset=latin-1", "{}"),
              "unsupported charset", Code::kUnimplemented);
}

TEST(InvocationsTest, MissingValuesInDoubleColumnsAndOptionalColumns) {
  InputDecoder d = TinyDecoder();
  ExpectRows(d.DecodeInvocations("", R"({"instances": [[null, 1], [NaN, 2]]})"),
             {NAN, 1, NAN, 2});
  InputDecoder optional_long = TinyDecoder(/*b_required=*/false);
  // An optional long column still cannot be left out: long cannot hold a missing value.
  ExpectError(optional_long.DecodeInvocations("", R"({"dataframe_records": [{"a": 1}]})"),
              "column 'b' (row 0): missing value");
}

// mlflow 3.6 wrote input_example.json (split orient) and serving_input_example.json
// ({"dataframe_split": ...}) for the car loan model: decoding the serving example gives the
// example's rows.
TEST(InvocationsTest, MlflowServingInputExample) {
  auto loaded = models::LoadModel(Golden("mlflow_car_loan"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto d = InputDecoder::Create(*loaded->model, loaded->signature);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  auto in = d->DecodeInvocations("application/json", loaded->serving_input_example);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  json example = json::parse(loaded->input_example);
  ASSERT_EQ(in->n_rows, example["data"].size());
  const auto& names = example["columns"];
  for (size_t r = 0; r < in->n_rows; ++r) {
    for (size_t c = 0; c < names.size(); ++c) {
      size_t f = 0;
      while (loaded->model->features()[f].name != names[c].get<std::string>()) ++f;
      EXPECT_EQ(in->rows[r * d->num_features() + f], example["data"][r][c].get<double>());
    }
  }
  std::vector<double> out(in->n_rows);
  ASSERT_TRUE(loaded->model->Predict(in->rows, in->n_rows, out).ok());
  EXPECT_EQ(EncodeInvocationsResponse(out, 1, loaded->model->output_kind()).rfind(
                "{\"predictions\": [", 0),
            0u);
}

// Category names decode to XGBoost's codes: records with the adult strings reproduce the
// coded golden rows, and the model then predicts XGBoost's values.
TEST(InvocationsTest, CategoryNamesBecomeXGBoostCodes) {
  auto loaded = models::LoadModel(Golden("adult_categorical.json"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto d = InputDecoder::Create(*loaded->model, loaded->signature);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  json cases = json::parse(ReadText(Golden("adult_categorical.cases.json")));
  const auto& features = loaded->model->features();
  json records = json::array();
  for (const auto& row : cases["rows"]) {
    json rec = json::object();
    for (size_t f = 0; f < features.size(); ++f) {
      if (row[f].is_null()) {
        rec[features[f].name] = nullptr;
      } else if (features[f].kind == models::FeatureInfo::Kind::kCategorical) {
        rec[features[f].name] = features[f].categories.at(row[f].get<size_t>());
      } else {
        rec[features[f].name] = row[f];
      }
    }
    records.push_back(rec);
  }
  auto in = d->DecodeInvocations("application/json",
                                 json{{"dataframe_records", records}}.dump());
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  std::vector<double> out(in->n_rows);
  ASSERT_TRUE(loaded->model->Predict(in->rows, in->n_rows, out).ok());
  for (size_t r = 0; r < in->n_rows; ++r) {
    EXPECT_NEAR(out[r], cases["predictions"][r][0].get<double>(), 1e-6) << r;
  }
  records[0]["workclass"] = "Astronaut";
  ExpectError(d->DecodeInvocations("", json{{"dataframe_records", records}}.dump()),
              "column 'workclass' (row 0): unknown category 'Astronaut'");
}

TEST(InferV2Test, OneTensorOrOneInputPerColumn) {
  InputDecoder d = TinyDecoder();
  auto t = d.DecodeInfer(R"({"id": "42", "inputs": [{"name": "input0", "shape": [2, 2],
      "datatype": "FP32", "data": [1.5, 2, -3, 4]}], "outputs": [{"name": "predict"}]})");
  ExpectRows(t.ok() ? StatusOr<DecodedInput>(t->input) : StatusOr<DecodedInput>(t.status()),
             {1.5, 2, -3, 4});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->id, "42");
  EXPECT_EQ(t->output_names, std::vector<std::string>{"predict"});
  auto nested = d.DecodeInfer(R"({"inputs": [{"name": "x", "shape": [2, 2],
      "datatype": "FP64", "data": [[1.5, 2], [-3, 4]]}]})");
  ASSERT_TRUE(nested.ok()) << nested.status().ToString();
  EXPECT_EQ(nested->input.rows, (std::vector<double>{1.5, 2, -3, 4}));
  auto cols = d.DecodeInfer(R"({"inputs": [
      {"name": "b", "shape": [2], "datatype": "INT64", "data": [2, 4]},
      {"name": "a", "shape": [2, 1], "datatype": "FP32", "data": [1.5, -3]}]})");
  ASSERT_TRUE(cols.ok()) << cols.status().ToString();
  EXPECT_EQ(cols->input.rows, (std::vector<double>{1.5, 2, -3, 4}));
}

TEST(InferV2Test, ErrorsNameTheInput) {
  InputDecoder d = TinyDecoder();
  auto err = [&](const char* body, const std::string& fragment) {
    auto r = d.DecodeInfer(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
  };
  err(R"({"inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3]}]})",
      "inputs 'x': shape holds 4 values but 'data' has 3");
  err(R"({"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP16", "data": [1, 2]}]})",
      "unsupported datatype 'FP16'");
  err(R"({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]})",
      "expected shape [N, 2]");
  err(R"({"inputs": [{"name": "x", "shape": [1, 2], "datatype": "INT32", "data": [1, 2.5]}]})",
      "INT32 needs integers");
  err(R"({"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32", "data": [1, "a"]}]})",
      "FP32 needs numbers");
  err(R"({"inputs": [{"name": "a", "shape": [1], "datatype": "FP32", "data": [1]}]})",
      "missing required column 'b'");
  err(R"({"inputs": [{"name": "a", "shape": [1], "datatype": "FP32", "data": [1]},
                     {"name": "b", "shape": [2], "datatype": "INT64", "data": [1, 2]}]})",
      "inputs 'b': shape must be [1]");
  err(R"({"inputs": [{"name": "a", "shape": [1], "datatype": "FP32", "data": [1]},
                     {"name": "z", "shape": [1], "datatype": "FP32", "data": [1]}]})",
      "unknown column 'z'");
  err(R"({"inputs": []})", "non-empty list");
  err(R"({"inputs": [{"name": "x", "shape": [-1, 2], "datatype": "FP32", "data": []}]})",
      "shape dimension out of range");
  err(R"({"inputs": [{"shape": [1, 2], "datatype": "FP32", "data": [1, 2]}]})",
      "missing 'name'");
}

// Mutated bodies must come back as a value or a Status, never a crash (run under ASan/UBSan
// in the sanitizer build).
TEST(DecoderRobustnessTest, RandomMutationsNeverCrash) {
  InputDecoder d = TinyDecoder();
  const std::string seeds[] = {
      R"({"dataframe_split": {"columns": ["a", "b"], "data": [[1.5, 2], [-3, 4]]}})",
      R"({"dataframe_records": [{"a": 1.5, "b": 2}, {"b": 4, "a": -3}]})",
      R"({"inputs": {"a": [1.5, -3], "b": [2, 4]}, "params": {"x": "y"}})",
      R"({"id": "1", "inputs": [{"name": "input0", "shape": [2, 2], "datatype": "FP32",
          "data": [[1.5, 2], [-3, 4]]}]})",
  };
  std::mt19937 rng(7);
  const char kBytes[] = "{}[]\",:0123456789.-eE ntruefalsNaI\\x";
  for (const std::string& seed : seeds) {
    for (int trial = 0; trial < 2000; ++trial) {
      std::string body = seed;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        const size_t pos = rng() % body.size();
        switch (rng() % 3) {
          case 0: body[pos] = kBytes[rng() % (sizeof(kBytes) - 1)]; break;
          case 1: body.erase(pos, 1 + rng() % 3); break;
          default: body.insert(pos, 1, kBytes[rng() % (sizeof(kBytes) - 1)]); break;
        }
        if (body.empty()) body = "{";
      }
      auto inv = d.DecodeInvocations("application/json", body);
      if (inv.ok()) {
        EXPECT_EQ(inv->rows.size(), inv->n_rows * 2);
      }
      auto csv = d.DecodeInvocations("text/csv", body);
      if (csv.ok()) {
        EXPECT_EQ(csv->rows.size(), csv->n_rows * 2);
      }
      auto v2 = d.DecodeInfer(body);
      if (v2.ok()) {
        EXPECT_EQ(v2->input.rows.size(), v2->input.n_rows * 2);
      }
    }
  }
}

TEST(EncodeTest, V2ModelMetadataFromSignature) {
  InputDecoder d = TinyDecoder();
  json meta = json::parse(EncodeV2ModelMetadata("tiny", {"1", "2"}, "cairn_linear", d, 1,
                                                models::OutputKind::kValue));
  EXPECT_EQ(meta["name"], "tiny");
  EXPECT_EQ(meta["versions"], json::parse(R"(["1", "2"])"));
  EXPECT_EQ(meta["inputs"], json::parse(R"([{"name": "a", "datatype": "FP64", "shape": [-1]},
                                            {"name": "b", "datatype": "INT64", "shape": [-1]}])"));
  EXPECT_EQ(meta["outputs"][0]["shape"], json::parse("[-1]"));
}

TEST(EncodeTest, ResponsesAreJson) {
  const std::vector<double> p = {0.25, 0.75, 0.5, 0.5};
  json inv = json::parse(EncodeInvocationsResponse(p, 2, models::OutputKind::kProbability));
  EXPECT_EQ(inv["predictions"], json::parse("[[0.25, 0.75], [0.5, 0.5]]"));
  json labels = json::parse(
      EncodeInvocationsResponse({1, 0, 2}, 1, models::OutputKind::kClassLabel));
  EXPECT_EQ(labels.dump(), R"({"predictions":[1,0,2]})");
  json v2 = json::parse(EncodeInferResponse("m\"x", "3", "42", p, 2,
                                            models::OutputKind::kProbability));
  EXPECT_EQ(v2["model_name"], "m\"x");
  EXPECT_EQ(v2["model_version"], "3");
  EXPECT_EQ(v2["id"], "42");
  EXPECT_EQ(v2["outputs"][0]["shape"], json::parse("[2, 2]"));
  EXPECT_EQ(v2["outputs"][0]["datatype"], "FP64");
  EXPECT_EQ(v2["outputs"][0]["data"], json::parse("[0.25, 0.75, 0.5, 0.5]"));
  // A float32 prediction keeps its exact value (shortest repr of the double).
  const double f = static_cast<double>(0.1f);
  json exact = json::parse(EncodeInvocationsResponse({f}, 1, models::OutputKind::kValue));
  EXPECT_EQ(exact["predictions"][0].get<double>(), f);
}

}  // namespace
}  // namespace cairn::serving
