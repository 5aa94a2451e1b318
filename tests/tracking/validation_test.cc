// Validation against MLflow's own verdicts: goldens/validation_goldens.jsonl is written by
// goldens/make_validation_goldens.py running mlflow.utils.validation (pinned mlflow).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tracking/validation.h"

namespace cairn::tracking {
namespace {

using nlohmann::json;

std::vector<json> LoadGoldens() {
  std::ifstream in(std::string(CAIRN_SOURCE_DIR) +
                   "/tests/tracking/goldens/validation_goldens.jsonl");
  std::vector<json> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

// Runs cairn's validator for one golden case; returns the error message ("" when OK) and sets
// *result for cases whose golden records a result.
std::string RunCase(const json& c, json* result) {
  const std::string kind = c["kind"];
  const json& a = c["args"];
  Status st;
  if (kind == "metric_name") {
    st = ValidateMetricName(a[0].get<std::string>());
  } else if (kind == "param_name") {
    st = ValidateParamName(a[0].get<std::string>());
  } else if (kind == "tag_name") {
    st = ValidateTagName(a[0].get<std::string>());
  } else if (kind == "normpath") {
    *result = NormPath(a[0].get<std::string>());
  } else if (kind == "metric" || kind == "metric_in_batch") {
    Metric m;
    m.key = a[0];
    m.value = 0.5;
    m.timestamp = a[1];
    st = ValidateMetric(m, kind == "metric" ? "" : "metrics[3]");
  } else if (kind == "param" || kind == "param_in_batch") {
    Param p{a[0], a[1]};
    st = ValidateParam(p, kind == "param" ? "" : "params[1]");
    if (st.ok()) *result = Utf8Length(p.value);
  } else if (kind == "run_tag" || kind == "run_tag_in_batch") {
    Tag t{a[0], a[1]};
    st = ValidateRunTag(t, kind == "run_tag" ? "" : "tags[0]");
    if (st.ok()) *result = Utf8Length(t.value);
  } else if (kind == "experiment_tag") {
    st = ValidateExperimentTag({a[0], a[1]});
  } else if (kind == "experiment_name") {
    st = ValidateExperimentName(a[0].get<std::string>());
  } else if (kind == "run_id") {
    st = ValidateRunId(a[0].get<std::string>());
  } else if (kind == "batch_limits") {
    st = ValidateBatchLimits(a[0], a[1], a[2]);
  } else if (kind == "param_keys_unique") {
    std::vector<Param> params;
    for (const auto& k : a[0]) params.push_back({k, "1"});
    st = ValidateParamKeysUnique(params);
  } else if (kind == "logged_model_name") {
    st = ValidateLoggedModelName(a[0].get<std::string>());
  } else if (kind == "dataset_input") {
    DatasetInput in;
    in.dataset = {a[0], a[1], "local", a[2], std::nullopt, std::nullopt};
    in.tags.push_back({a[3], a[4]});
    st = ValidateDatasetInputs({in});
  } else {
    ADD_FAILURE() << "unknown golden kind " << kind;
  }
  if (!st.ok()) {
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
  }
  return st.ok() ? "" : st.message();
}

TEST(ValidationGoldenTest, MatchesMlflow) {
  auto goldens = LoadGoldens();
  ASSERT_GT(goldens.size(), 100u);
  for (const json& c : goldens) {
    json result;
    std::string error = RunCase(c, &result);
    std::string expected = c["error"].is_null() ? "" : c["error"].get<std::string>();
    EXPECT_EQ(error, expected) << c.dump().substr(0, 300);
    if (c.contains("result")) {
      EXPECT_EQ(result, c["result"]) << c.dump().substr(0, 300);
    }
  }
}

TEST(ValidationTest, Utf8Helpers) {
  EXPECT_EQ(Utf8Length("h\xC3\xA9llo"), 5u);            // "héllo": é is two bytes
  EXPECT_EQ(Utf8Truncate("h\xC3\xA9llo", 2), "h\xC3\xA9");  // never splits a code point
  EXPECT_EQ(JsonQuote("a\"b\n"), "\"a\\\"b\\n\"");
}

}  // namespace
}  // namespace cairn::tracking
