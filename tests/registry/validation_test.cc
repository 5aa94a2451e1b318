// Registry input rules. Expected messages are MLflow 3.6's, as its server answered them
// (mlflow/utils/validation.py, mlflow/server/handlers.py); see tests/e2e/test_registry_mlflow.py
// for the same cases compared live against a real MLflow server.
#include <gtest/gtest.h>

#include "registry/validation.h"

namespace cairn::registry {
namespace {

TEST(RegistryValidationTest, VersionsAreIntegers) {
  EXPECT_EQ(*ParseVersion("3"), 3);
  EXPECT_EQ(*ParseVersion(" 12 "), 12);  // Python int() strips spaces
  auto bad = ParseVersion("abc");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "Parameter 'version' must be an integer, got 'abc'.");
  EXPECT_FALSE(ParseVersion("").ok());
  EXPECT_FALSE(ParseVersion("1.5").ok());
}

TEST(RegistryValidationTest, AliasNamesAndReservedNames) {
  EXPECT_TRUE(ValidateAliasName("champion").ok());
  EXPECT_TRUE(ValidateAliasName("prod-eu_1").ok());
  EXPECT_EQ(ValidateAliasName("bad alias").message(),
            "Invalid alias name: 'bad alias'. Names may only contain alphanumerics, "
            "underscores (_), and dashes (-).");
  EXPECT_EQ(ValidateAliasName("").message(), "Registered model alias name cannot be empty.");
  EXPECT_FALSE(ValidateAliasName(std::string(256, 'a')).ok());
  EXPECT_EQ(ValidateAliasNotReserved("Latest").message(),
            "'latest' alias name (case insensitive) is reserved.");
  EXPECT_EQ(ValidateAliasNotReserved("V3").message(), "Version alias name 'V3' is reserved.");
  EXPECT_TRUE(ValidateAliasNotReserved("v").ok());
  EXPECT_TRUE(ValidateAliasNotReserved("v1a").ok());
}

TEST(RegistryValidationTest, StagesAreCanonicalised) {
  EXPECT_EQ(*CanonicalStage("production"), "Production");
  EXPECT_EQ(*CanonicalStage("NONE"), "None");
  EXPECT_EQ(CanonicalStage("bogus").status().message(),
            "Invalid Model Version stage: bogus. Value must be one of None, Staging, "
            "Production, Archived.");
}

TEST(RegistryValidationTest, SourcesMustBeInTheArtifactStore) {
  EXPECT_TRUE(ValidateModelVersionSource("runs:/0123abcd/model", false).ok());
  EXPECT_TRUE(ValidateModelVersionSource("models:/m-0123", true).ok());
  EXPECT_TRUE(ValidateModelVersionSource("mlflow-artifacts:/1/abc/artifacts/model", false).ok());
  EXPECT_TRUE(
      ValidateModelVersionSource("mlflow-artifacts://host:5000/1/abc/artifacts", false).ok());
  // Local paths: MLflow's own message.
  EXPECT_EQ(ValidateModelVersionSource("/etc/passwd", false).message(),
            "Invalid model version source: '/etc/passwd'. To use a local path as a model "
            "version source, the run_id request parameter has to be specified and the local "
            "path has to be contained within the artifact directory of the run specified by "
            "the run_id.");
  EXPECT_FALSE(ValidateModelVersionSource("file:///etc", false).ok());
  EXPECT_FALSE(ValidateModelVersionSource("relative/dir", false).ok());
  // Relative segments, also percent-encoded (twice).
  for (const char* s : {"mlflow-artifacts:/0/../../etc", "mlflow-artifacts:/0/%2e%2e/etc",
                        "mlflow-artifacts:/0/%252e%252e/etc", "runs:/abc/./model",
                        "mlflow-artifacts:/0/x%00"}) {
    Status st = ValidateModelVersionSource(s, false);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << s;
    EXPECT_NE(st.message().find("an absolute path must be provided"), std::string::npos) << s;
  }
  // Other stores: cairn cannot serve their files.
  Status s3 = ValidateModelVersionSource("s3://bucket/model", false);
  EXPECT_EQ(s3.code(), Code::kInvalidArgument);
  EXPECT_NE(s3.message().find("artifact store"), std::string::npos);
}

TEST(RegistryValidationTest, ModelUrisParseLikeMlflow) {
  auto v = ParseModelUri("models:/fraud/3");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->name, "fraud");
  EXPECT_EQ(v->version, "3");
  auto a = ParseModelUri("models:/fraud@champion");
  EXPECT_EQ(a->name, "fraud");
  EXPECT_EQ(a->alias, "champion");
  auto s = ParseModelUri("models:/fraud/Production");
  EXPECT_EQ(s->stage, "Production");
  auto l = ParseModelUri("models:/fraud/LATEST");
  EXPECT_TRUE(l->latest());
  EXPECT_EQ(l->name, "fraud");
  auto id = ParseModelUri("models:/m-0123456789abcdef0123456789abcdef");
  EXPECT_EQ(id->model_id, "m-0123456789abcdef0123456789abcdef");
  for (const char* bad : {"runs:/abc/model", "models:", "models:/", "models:/a/b/c",
                          "models:/a/", "models:/a@", "models:/ /1"}) {
    auto r = ParseModelUri(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message().rfind("Not a proper models:/ URI: ", 0), 0u) << bad;
  }
}

TEST(RegistryValidationTest, TagKeysFollowMlflowRules) {
  EXPECT_TRUE(ValidateRegisteredModelTag({"team", "fraud"}).ok());
  EXPECT_EQ(ValidateRegisteredModelTag({"../bad", "v"}).message(),
            "Invalid value \"../bad\" for parameter 'key' supplied: Names may be treated as "
            "files in certain cases, and must not resolve to other names when treated as such. "
            "This name would resolve to '../bad'");
  EXPECT_EQ(ValidateModelVersionTag({std::string(251, 'k'), "v"}).message(),
            "'key' exceeds the maximum length of 250 characters");
  EXPECT_FALSE(ValidateModelVersionTag({"k", std::string(100001, 'v')}).ok());
}

}  // namespace
}  // namespace cairn::registry
