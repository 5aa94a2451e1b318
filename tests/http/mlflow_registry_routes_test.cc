// The registry routes (MLflow rpcs and cairn's native /api/v1/models routes), called through a
// Router with Request structs (no network). Expected bodies and messages are what MLflow 3.6's
// server answered for the same requests (tests/e2e/test_registry_mlflow.py compares live).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "http/mlflow_registry_routes.h"
#include "http/router.h"
#include "http/server.h"
#include "registry/sqlite_registry_store.h"
#include "tracking/sqlite_tracking_store.h"

namespace cairn::http {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Reply {
  int status = 0;
  json body;
};

class RegistryRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() / ("cairn-registry-routes-test-" +
                                        std::to_string(::getpid()) + "-" +
                                        std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto t = tracking::SqliteTrackingStore::Open((dir_ / "tracking.db").string());
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tracking_ = std::move(t).value();
    registry::RegistryStoreOptions options;
    options.tracking = tracking_.get();
    auto s = registry::SqliteRegistryStore::Open((dir_ / "registry.db").string(), options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    RegisterMlflowRegistryRoutes(router_, *store_);
  }
  void TearDown() override {
    store_.reset();
    tracking_.reset();
    fs::remove_all(dir_);
  }

  Reply Call(const std::string& method, const std::string& target, const json& body = nullptr,
             std::map<std::string, std::string> headers = {}) {
    Request req;
    req.method = method;
    req.target = target;
    size_t q = target.find('?');
    req.raw_path = target.substr(0, q);
    req.path = *PercentDecode(req.raw_path, false);
    if (q != std::string::npos) {
      req.query = target.substr(q + 1);
      req.query_params = ParseQueryString(req.query);
    }
    if (!body.is_null()) req.body = body.dump();
    req.headers = std::move(headers);
    req.headers["content-type"] = "application/json";
    Response resp = Dispatch(router_, req);
    Reply r;
    r.status = resp.status;
    r.body = resp.body.empty() ? json() : json::parse(resp.body, nullptr, false);
    return r;
  }
  Reply Api(const std::string& method, const std::string& rpc, const json& body = nullptr) {
    return Call(method, "/api/2.0/mlflow/" + rpc, body);
  }
  void CreateModel(const std::string& name) {
    ASSERT_EQ(Api("POST", "registered-models/create", {{"name", name}}).status, 200);
  }
  std::string CreateVersion(const std::string& name, const std::string& run_id = "") {
    json body = {{"name", name}, {"source", "mlflow-artifacts:/0/abc/artifacts/model"}};
    if (!run_id.empty()) body["run_id"] = run_id;
    Reply r = Api("POST", "model-versions/create", body);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return r.body["model_version"]["version"].get<std::string>();
  }
  std::string RunWithMetrics(const std::map<std::string, double>& metrics) {
    tracking::CreateRunRequest req;
    req.experiment_id = "0";
    auto run = tracking_->CreateRun(req);
    tracking::LogBatchRequest batch;
    batch.run_id = run->info.run_id;
    for (const auto& [k, v] : metrics) {
      tracking::Metric m;
      m.key = k;
      m.value = v;
      m.timestamp = 1;
      batch.metrics.push_back(m);
    }
    EXPECT_TRUE(tracking_->LogBatch(batch).ok());
    return run->info.run_id;
  }

  fs::path dir_;
  std::unique_ptr<tracking::SqliteTrackingStore> tracking_;
  std::unique_ptr<registry::SqliteRegistryStore> store_;
  Router router_;
};

TEST_F(RegistryRoutesTest, CreateAndGetMatchMlflowsWireShape) {
  Reply created = Api("POST", "registered-models/create", {{"name", "m1"}});
  ASSERT_EQ(created.status, 200);
  const json& rm = created.body["registered_model"];
  EXPECT_EQ(rm["name"], "m1");
  EXPECT_TRUE(rm["creation_timestamp"].is_number_integer());
  EXPECT_EQ(rm["last_updated_timestamp"], rm["creation_timestamp"]);
  EXPECT_FALSE(rm.contains("description"));
  EXPECT_FALSE(rm.contains("latest_versions"));
  EXPECT_FALSE(rm.contains("tags"));

  Reply mv = Api("POST", "model-versions/create",
                 {{"name", "m1"}, {"source", "mlflow-artifacts:/0/abc/artifacts/model"}});
  ASSERT_EQ(mv.status, 200) << mv.body.dump();
  const json& v = mv.body["model_version"];
  // MLflow: version as a string, READY, and the absent strings sent as "".
  EXPECT_EQ(v["version"], "1");
  EXPECT_EQ(v["status"], "READY");
  EXPECT_EQ(v["current_stage"], "None");
  EXPECT_EQ(v["description"], "");
  EXPECT_EQ(v["run_id"], "");
  EXPECT_EQ(v["run_link"], "");
  EXPECT_FALSE(v.contains("user_id"));
  EXPECT_FALSE(v.contains("aliases"));

  for (const char* prefix : {"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"}) {
    Reply got = Call("GET", std::string(prefix) + "registered-models/get?name=m1");
    ASSERT_EQ(got.status, 200);
    ASSERT_EQ(got.body["registered_model"]["latest_versions"].size(), 1u);
  }
  // A GET without a query string is read from its JSON body.
  EXPECT_EQ(Api("GET", "model-versions/get", {{"name", "m1"}, {"version", "1"}}).status, 200);
}

TEST_F(RegistryRoutesTest, ErrorsAreMlflowShapedWithTheRightStatus) {
  CreateModel("m1");
  CreateVersion("m1");
  struct Case {
    std::string method, rpc;
    json body;
    int status;
    std::string code, message;
  };
  const std::string docs = " See the API docs for more information about request parameters.";
  std::vector<Case> cases = {
      {"POST", "registered-models/create", {{"name", "m1"}}, 400, "RESOURCE_ALREADY_EXISTS",
       "Registered Model (name=m1) already exists."},
      {"POST", "registered-models/create", json::object(), 400, "INVALID_PARAMETER_VALUE",
       "Missing value for required parameter 'name'." + docs},
      {"GET", "registered-models/get?name=nope", nullptr, 404, "RESOURCE_DOES_NOT_EXIST",
       "Registered Model with name=nope not found"},
      {"GET", "model-versions/get?name=m1&version=99", nullptr, 404, "RESOURCE_DOES_NOT_EXIST",
       "Model Version (name=m1, version=99) not found"},
      {"GET", "model-versions/get?name=m1&version=x", nullptr, 400, "INVALID_PARAMETER_VALUE",
       "Parameter 'version' must be an integer, got 'x'."},
      {"GET", "model-versions/get?name=m1", nullptr, 400, "INVALID_PARAMETER_VALUE",
       "Missing value for required parameter 'version'." + docs},
      {"POST", "registered-models/alias", {{"name", "m1"}, {"alias", "latest"}, {"version", "1"}},
       400, "INVALID_PARAMETER_VALUE", "'latest' alias name (case insensitive) is reserved."},
      {"POST", "registered-models/alias", {{"name", "m1"}, {"alias", "V3"}, {"version", "1"}},
       400, "INVALID_PARAMETER_VALUE", "Version alias name 'V3' is reserved."},
      {"POST", "registered-models/alias", {{"name", "m1"}, {"alias", "x"}, {"version", "99"}},
       404, "RESOURCE_DOES_NOT_EXIST", "Model Version (name=m1, version=99) not found"},
      {"GET", "registered-models/alias?name=m1&alias=nope", nullptr, 400,
       "INVALID_PARAMETER_VALUE", "Registered model alias nope not found."},
      {"POST", "model-versions/create", {{"name", "m1"}, {"source", "/etc/passwd"}}, 400,
       "INVALID_PARAMETER_VALUE",
       "Invalid model version source: '/etc/passwd'. To use a local path as a model version "
       "source, the run_id request parameter has to be specified and the local path has to be "
       "contained within the artifact directory of the run specified by the run_id."},
      {"POST", "model-versions/create",
       {{"name", "nope"}, {"source", "mlflow-artifacts:/0/abc/artifacts/model"}}, 404,
       "RESOURCE_DOES_NOT_EXIST", "Registered Model with name=nope not found"},
      {"POST", "model-versions/transition-stage",
       {{"name", "m1"}, {"version", "1"}, {"stage", "bogus"}}, 400, "INVALID_PARAMETER_VALUE",
       "Invalid Model Version stage: bogus. Value must be one of None, Staging, Production, "
       "Archived."},
      {"POST", "registered-models/rename", {{"name", "m1"}}, 400, "INVALID_PARAMETER_VALUE",
       "Missing value for required parameter 'new_name'." + docs},
      {"GET", "model-versions/search?max_results=0", nullptr, 400, "INVALID_PARAMETER_VALUE",
       "Invalid value for max_results. It must be a positive integer, but got 0"},
  };
  for (const Case& c : cases) {
    Reply r = c.method == "GET" ? Api("GET", c.rpc) : Api(c.method, c.rpc, c.body);
    EXPECT_EQ(r.status, c.status) << c.rpc << " " << c.body.dump();
    EXPECT_EQ(r.body["error_code"], c.code) << c.rpc << " " << r.body.dump();
    EXPECT_EQ(r.body["message"], c.message) << c.rpc;
  }
  // Nothing changed: still one model with one version and no aliases.
  Reply got = Api("GET", "registered-models/get?name=m1");
  EXPECT_EQ(got.body["registered_model"]["latest_versions"].size(), 1u);
  EXPECT_FALSE(got.body["registered_model"].contains("aliases"));
  // POST without a JSON content type.
  Request req;
  req.method = "POST";
  req.path = "/api/2.0/mlflow/registered-models/create";
  req.headers["content-type"] = "text/plain";
  req.body = "{\"name\":\"x\"}";
  EXPECT_EQ(Dispatch(router_, req).status, 400);
}

TEST_F(RegistryRoutesTest, AliasesStagesLatestVersionsAndDownloadUri) {
  CreateModel("m");
  for (int i = 0; i < 4; ++i) CreateVersion("m");
  ASSERT_EQ(Api("POST", "registered-models/alias",
                {{"name", "m"}, {"alias", "champ"}, {"version", "2"}})
                .status,
            200);
  Reply by_alias = Api("GET", "registered-models/alias?name=m&alias=champ");
  EXPECT_EQ(by_alias.body["model_version"]["version"], "2");
  EXPECT_EQ(by_alias.body["model_version"]["aliases"], json::array({"champ"}));
  ASSERT_EQ(Api("POST", "model-versions/transition-stage",
                {{"name", "m"}, {"version", "1"}, {"stage", "production"}})
                .status,
            200);
  Reply t = Api("POST", "model-versions/transition-stage",
                {{"name", "m"},
                 {"version", "2"},
                 {"stage", "Production"},
                 {"archive_existing_versions", true}});
  EXPECT_EQ(t.body["model_version"]["current_stage"], "Production");
  Reply latest = Api("POST", "registered-models/get-latest-versions", {{"name", "m"}});
  std::vector<std::string> order;
  for (const auto& mv : latest.body["model_versions"]) {
    order.push_back(mv["version"].get<std::string>() + ":" +
                    mv["current_stage"].get<std::string>());
  }
  // MLflow's order for this history (observed): 1 Archived, 2 Production, 4 None.
  EXPECT_EQ(order, (std::vector<std::string>{"1:Archived", "2:Production", "4:None"}));
  Reply prod = Api("GET", "registered-models/get-latest-versions?name=m&stages=production");
  ASSERT_EQ(prod.body["model_versions"].size(), 1u);
  Reply rm = Api("GET", "registered-models/get?name=m");
  EXPECT_EQ(rm.body["registered_model"]["aliases"],
            json::array({{{"alias", "champ"}, {"version", "2"}}}));
  Reply uri = Api("GET", "model-versions/get-download-uri?name=m&version=3");
  EXPECT_EQ(uri.body["artifact_uri"], "mlflow-artifacts:/0/abc/artifacts/model");
  ASSERT_EQ(Api("DELETE", "registered-models/alias", {{"name", "m"}, {"alias", "champ"}}).status,
            200);
  Reply after = Api("GET", "registered-models/get?name=m");
  EXPECT_FALSE(after.body["registered_model"].contains("aliases"));
}

TEST_F(RegistryRoutesTest, SearchRenameUpdateTagsDelete) {
  CreateModel("a");
  CreateModel("b");
  ASSERT_EQ(Api("POST", "registered-models/create",
                {{"name", "p"},
                 {"tags", {{{"key", "mlflow.prompt.is_prompt"}, {"value", "true"}}}}})
                .status,
            200);
  // filter: tags.`mlflow.prompt.is_prompt` != 'true', as the client sends it.
  Reply page = Api("GET", "registered-models/search?max_results=1&filter="
                          "tags.%60mlflow.prompt.is_prompt%60%20%21%3D%20%27true%27");
  ASSERT_EQ(page.status, 200) << page.body.dump();
  ASSERT_EQ(page.body["registered_models"].size(), 1u);
  // base64(json.dumps({"offset": 1})), as MLflow's token for the same page.
  EXPECT_EQ(page.body["next_page_token"], "eyJvZmZzZXQiOiAxfQ==");
  Reply too_many = Api("GET", "registered-models/search?max_results=1001");
  EXPECT_EQ(too_many.status, 400);
  ASSERT_EQ(Api("POST", "registered-models/set-tag", {{"name", "a"}, {"key", "t"}, {"value", "v"}})
                .status,
            200);
  Reply tagged = Call("GET", "/api/2.0/mlflow/registered-models/search?filter=tags.t%3D%27v%27");
  ASSERT_EQ(tagged.body["registered_models"].size(), 1u);
  EXPECT_EQ(tagged.body["registered_models"][0]["name"], "a");
  CreateVersion("a");
  Reply renamed = Api("POST", "registered-models/rename", {{"name", "a"}, {"new_name", "a2"}});
  ASSERT_EQ(renamed.status, 200);
  EXPECT_EQ(renamed.body["registered_model"]["latest_versions"][0]["name"], "a2");
  Reply clash = Api("POST", "registered-models/rename", {{"name", "a2"}, {"new_name", "b"}});
  EXPECT_EQ(clash.body["error_code"], "RESOURCE_ALREADY_EXISTS");
  Reply updated = Call("PATCH", "/api/2.0/mlflow/registered-models/update",
                       {{"name", "a2"}, {"description", "hello"}});
  EXPECT_EQ(updated.body["registered_model"]["description"], "hello");
  Reply mv_updated = Call("PATCH", "/api/2.0/mlflow/model-versions/update",
                          {{"name", "a2"}, {"version", "1"}});
  EXPECT_FALSE(mv_updated.body["model_version"].contains("description"));
  ASSERT_EQ(Api("POST", "model-versions/set-tag",
                {{"name", "a2"}, {"version", "1"}, {"key", "k"}, {"value", "v"}})
                .status,
            200);
  Reply versions = Call("GET", "/api/2.0/mlflow/model-versions/search?filter=name%3D%27a2%27");
  ASSERT_EQ(versions.body["model_versions"].size(), 1u);
  EXPECT_EQ(versions.body["model_versions"][0]["tags"],
            json::array({{{"key", "k"}, {"value", "v"}}}));
  EXPECT_EQ(
      Api("DELETE", "model-versions/delete-tag", {{"name", "a2"}, {"version", "1"}, {"key", "k"}})
          .status,
      200);
  EXPECT_EQ(Api("DELETE", "model-versions/delete", {{"name", "a2"}, {"version", "1"}}).status,
            200);
  EXPECT_EQ(Api("DELETE", "model-versions/delete", {{"name", "a2"}, {"version", "1"}}).status,
            404);
  EXPECT_EQ(Api("DELETE", "registered-models/delete", {{"name", "a2"}}).status, 200);
  EXPECT_EQ(Api("GET", "registered-models/get?name=a2").status, 404);
}

TEST_F(RegistryRoutesTest, PromoteGatesHistoryAndLineage) {
  CreateModel("fraud");
  CreateVersion("fraud", RunWithMetrics({{"auc", 0.90}, {"latency_p99_ms", 4}}));
  CreateVersion("fraud", RunWithMetrics({{"auc", 0.80}, {"latency_p99_ms", 4}}));
  Reply gate = Call("PUT", "/api/v1/models/fraud/gates/prod",
                    {{"conditions", {"auc >= champion.auc - 0.002", "latency_p99_ms <= 5"}},
                     {"required_tags", json::object()}});
  ASSERT_EQ(gate.status, 200) << gate.body.dump();
  Reply bad_gate = Call("PUT", "/api/v1/models/fraud/gates/prod", {{"conditions", {"auc >>"}}});
  EXPECT_EQ(bad_gate.status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/models/fraud/gates").body["gates"][0]["conditions"].size(), 2u);

  Reply first = Call("POST", "/api/v1/models/fraud/promote", {{"version", "1"}, {"to", "prod"}},
                     {{"x-cairn-user", "alice"}});
  ASSERT_EQ(first.status, 200) << first.body.dump();
  EXPECT_EQ(first.body["promoted"], true);
  Reply refused = Call("POST", "/api/v1/models/fraud/promote",
                       {{"version", "2"}, {"to", "prod"}, {"user", "bob"}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.body["error_code"], "PROMOTION_GATE_FAILED");
  EXPECT_NE(refused.body["message"].get<std::string>().find("auc >= champion.auc - 0.002"),
            std::string::npos);
  EXPECT_EQ(refused.body["promotion"]["promoted"], false);
  Reply holder = Api("GET", "registered-models/alias?name=fraud&alias=prod");
  EXPECT_EQ(holder.body["model_version"]["version"], "1");
  Reply unknown = Call("POST", "/api/v1/models/fraud/promote", {{"version", "7"}, {"to", "prod"}});
  EXPECT_EQ(unknown.status, 404);

  // An MLflow set-alias is recorded too.
  ASSERT_EQ(Call("POST", "/api/2.0/mlflow/registered-models/alias",
                 {{"name", "fraud"}, {"alias", "dev"}, {"version", "2"}},
                 {{"x-cairn-user", "carol"}})
                .status,
            200);
  Reply history = Call("GET", "/api/v1/models/fraud/history");
  ASSERT_EQ(history.status, 200);
  const json& events = history.body["events"];
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["alias"], "dev");
  EXPECT_EQ(events[0]["user_id"], "carol");
  EXPECT_EQ(events[0]["action"], "set-alias");
  EXPECT_EQ(events[1]["outcome"], "refused");
  EXPECT_EQ(events[1]["user_id"], "bob");
  EXPECT_EQ(events[1]["from_version"], "1");
  EXPECT_EQ(events[1]["to_version"], "2");
  EXPECT_EQ(events[2]["outcome"], "moved");
  EXPECT_TRUE(events[2]["from_version"].is_null());
  EXPECT_EQ(events[2]["gate_checks"].size(), 2u);
  EXPECT_EQ(Call("GET", "/api/v1/models/fraud/history?alias=prod").body["events"].size(), 2u);
  EXPECT_EQ(Call("GET", "/api/v1/models/nope/history").status, 404);

  Reply lineage = Call("GET", "/api/v1/models/fraud/versions/1/lineage");
  ASSERT_EQ(lineage.status, 200) << lineage.body.dump();
  EXPECT_EQ(lineage.body["run"]["metrics"]["auc"], 0.90);
  EXPECT_EQ(Call("GET", "/api/v1/models/fraud/versions/9/lineage").status, 404);

  Reply resolved = Call("GET", "/api/v1/models/resolve?uri=models%3A%2Ffraud%40prod");
  ASSERT_EQ(resolved.status, 200) << resolved.body.dump();
  EXPECT_EQ(resolved.body["version"], "1");
  EXPECT_EQ(resolved.body["artifact_location"], "mlflow-artifacts:/0/abc/artifacts/model");
}

}  // namespace
}  // namespace cairn::http
