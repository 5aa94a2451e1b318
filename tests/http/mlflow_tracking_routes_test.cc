// The MLflow tracking routes, called through a Router with Request structs (no network).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "http/errors.h"
#include "http/mlflow_tracking_routes.h"
#include "http/router.h"
#include "tracking/sqlite_tracking_store.h"

namespace cairn::http {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Reply {
  int status = 0;
  json body;
  std::string raw;
};

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

class MlflowTrackingRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("cairn-routes-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto s = tracking::SqliteTrackingStore::Open((dir_ / "db.sqlite").string());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    RegisterMlflowTrackingRoutes(router_, *store_);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // Dispatches like the server: match, call, render a non-OK status with ErrorResponse; an
  // unknown route is 404 with an empty body.
  Reply Call(const std::string& method, const std::string& target, const std::string& body = "",
             const std::string& content_type = "application/json") {
    Request req;
    req.method = method;
    req.target = target;
    size_t q = target.find('?');
    req.raw_path = target.substr(0, q);
    req.path = PercentDecode(req.raw_path);
    if (q != std::string::npos) {
      req.query = target.substr(q + 1);
      size_t start = 0;
      while (start <= req.query.size()) {
        size_t amp = req.query.find('&', start);
        if (amp == std::string::npos) amp = req.query.size();
        std::string part = req.query.substr(start, amp - start);
        size_t eq = part.find('=');
        if (!part.empty()) {
          req.query_params.emplace_back(PercentDecode(part.substr(0, eq)),
                                        eq == std::string::npos ? "" : PercentDecode(part.substr(eq + 1)));
        }
        start = amp + 1;
      }
    }
    if (!content_type.empty()) req.headers["content-type"] = content_type;
    req.body = body;
    Reply reply;
    RouteMatch m = router_.Match(req.method, req.path);
    if (!m.route) {
      reply.status = 404;
      return reply;
    }
    req.path_params = m.path_params;
    StatusOr<Response> resp = m.route->handler(req);
    Response r = resp.ok() ? *resp : ErrorResponse(resp.status());
    reply.status = r.status;
    reply.raw = r.body;
    reply.body = json::parse(r.body, nullptr, false);
    return reply;
  }
  Reply Post(const std::string& path, const json& body) {
    return Call("POST", "/api/2.0/mlflow/" + path, body.dump());
  }
  Reply Get(const std::string& path_and_query) {
    return Call("GET", "/api/2.0/mlflow/" + path_and_query, "", "");
  }
  std::string CreateRun(const std::string& experiment_id = "0") {
    Reply r = Post("runs/create", {{"experiment_id", experiment_id}, {"start_time", 1000}});
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.body["run"]["info"]["run_id"].get<std::string>();
  }

  fs::path dir_;
  std::unique_ptr<tracking::SqliteTrackingStore> store_;
  Router router_;
};

TEST_F(MlflowTrackingRoutesTest, ExperimentCreateGetAndErrorsTheClientBranchesOn) {
  Reply created = Post("experiments/create", {{"name", "exp"}, {"tags", {{{"key", "a"}, {"value", "b"}}}}});
  ASSERT_EQ(created.status, 200) << created.raw;
  EXPECT_EQ(created.body, json({{"experiment_id", "1"}}));

  Reply got = Get("experiments/get?experiment_id=1");
  ASSERT_EQ(got.status, 200) << got.raw;
  const json& e = got.body["experiment"];
  EXPECT_EQ(e["name"], "exp");
  EXPECT_EQ(e["artifact_location"], "mlflow-artifacts:/1");
  EXPECT_EQ(e["lifecycle_stage"], "active");
  EXPECT_TRUE(e["creation_time"].is_number_integer());
  EXPECT_EQ(e["tags"], json::parse(R"([{"key":"a","value":"b"}])"));

  Reply missing = Get("experiments/get-by-name?experiment_name=nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body["error_code"], "RESOURCE_DOES_NOT_EXIST");

  Reply dup = Post("experiments/create", {{"name", "exp"}});
  EXPECT_EQ(dup.status, 400);
  EXPECT_EQ(dup.body["error_code"], "RESOURCE_ALREADY_EXISTS");

  Reply no_name = Post("experiments/create", json::object());
  EXPECT_EQ(no_name.status, 400);
  EXPECT_EQ(no_name.body["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_NE(no_name.body["message"].get<std::string>().find("'name'"), std::string::npos);

  // The default experiment has no tags: the field is omitted, not [].
  Reply def = Get("experiments/get?experiment_id=0");
  EXPECT_FALSE(def.body["experiment"].contains("tags")) << def.raw;
}

TEST_F(MlflowTrackingRoutesTest, AjaxPrefixAndUnknownRoutes) {
  Reply r = Call("GET", "/ajax-api/2.0/mlflow/experiments/get?experiment_id=0", "", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Call("GET", "/api/2.0/mlflow/experiments/nope", "", "").status, 404);
}

TEST_F(MlflowTrackingRoutesTest, RequestDecodingRules) {
  // POST needs application/json.
  Reply no_type = Call("POST", "/api/2.0/mlflow/experiments/create", R"({"name":"x"})", "");
  EXPECT_EQ(no_type.status, 400);
  Reply wrong_type =
      Call("POST", "/api/2.0/mlflow/experiments/create", R"({"name":"x"})", "text/plain");
  EXPECT_EQ(wrong_type.status, 400);
  EXPECT_EQ(wrong_type.body["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(Call("POST", "/api/2.0/mlflow/experiments/create", R"({"name":"x1"})",
                 "application/json; charset=utf-8")
                .status,
            200);
  // Malformed JSON and non-object bodies are clear 400s.
  Reply bad = Call("POST", "/api/2.0/mlflow/experiments/create", "{\"name\": ");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(Call("POST", "/api/2.0/mlflow/experiments/create", "[1,2]").status, 400);
  // A double-encoded body is accepted.
  Reply dbl = Call("POST", "/api/2.0/mlflow/experiments/create",
                   json(json({{"name", "double"}}).dump()).dump());
  EXPECT_EQ(dbl.status, 200) << dbl.raw;
  // A GET without a query string is read from its JSON body.
  Reply body_get = Call("GET", "/api/2.0/mlflow/experiments/get-by-name",
                        R"({"experiment_name":"double"})", "");
  EXPECT_EQ(body_get.status, 200) << body_get.raw;
  EXPECT_EQ(body_get.body["experiment"]["name"], "double");
  // Wrong types are named.
  Reply wrong = Post("experiments/create", {{"name", 5}});
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body["message"].get<std::string>().find("Value was of type 'int'"),
            std::string::npos);
}

TEST_F(MlflowTrackingRoutesTest, RunShapeAndRunIdAliases) {
  Reply created = Post("runs/create", {{"experiment_id", "0"},
                                       {"user_id", "bob"},
                                       {"start_time", 1700000000123},
                                       {"tags", {{{"key", "mlflow.user"}, {"value", "bob"}}}}});
  ASSERT_EQ(created.status, 200) << created.raw;
  const json& run = created.body["run"];
  const json& info = run["info"];
  const std::string id = info["run_id"];
  EXPECT_EQ(info["run_uuid"], id);
  EXPECT_EQ(info["start_time"], 1700000000123);
  EXPECT_TRUE(info["start_time"].is_number_integer());
  EXPECT_FALSE(info.contains("end_time"));
  EXPECT_EQ(info["status"], "RUNNING");
  EXPECT_EQ(info["artifact_uri"], "mlflow-artifacts:/0/" + id + "/artifacts");
  EXPECT_EQ(run["inputs"], json::object());
  EXPECT_EQ(run["outputs"], json::object());
  bool has_name_tag = false;
  for (const auto& t : run["data"]["tags"]) {
    if (t["key"] == "mlflow.runName") has_name_tag = t["value"] == info["run_name"];
  }
  EXPECT_TRUE(has_name_tag);

  Reply by_uuid = Get("runs/get?run_uuid=" + id);
  EXPECT_EQ(by_uuid.status, 200);
  Reply by_both = Get("runs/get?run_uuid=" + id + "&run_id=" + id);
  EXPECT_EQ(by_both.status, 200);
  Reply missing = Get("runs/get?run_id=0123456789abcdef0123456789abcdef");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body["error_code"], "RESOURCE_DOES_NOT_EXIST");

  Reply updated = Post("runs/update", {{"run_uuid", id}, {"status", "FINISHED"}, {"end_time", 5}});
  ASSERT_EQ(updated.status, 200) << updated.raw;
  EXPECT_EQ(updated.body["run_info"]["status"], "FINISHED");
  EXPECT_EQ(updated.body["run_info"]["end_time"], 5);
}

TEST_F(MlflowTrackingRoutesTest, MetricsNanInfinityAndHistoryPaging) {
  std::string id = CreateRun();
  EXPECT_EQ(Post("runs/log-metric", {{"run_id", id}, {"key", "m"}, {"value", "NaN"},
                                     {"timestamp", 1}, {"step", 0}})
                .status,
            200);
  EXPECT_EQ(Post("runs/log-metric",
                 {{"run_id", id}, {"key", "i"}, {"value", "Infinity"}, {"timestamp", 1}})
                .status,
            200);
  for (int s = 1; s <= 4; ++s) {
    ASSERT_EQ(Post("runs/log-metric",
                   {{"run_id", id}, {"key", "m"}, {"value", s * 0.5}, {"timestamp", 1 + s}, {"step", s}})
                  .status,
              200);
  }
  Reply page = Get("metrics/get-history?run_id=" + id + "&metric_key=m&max_results=2");
  ASSERT_EQ(page.status, 200) << page.raw;
  ASSERT_EQ(page.body["metrics"].size(), 2u);
  EXPECT_EQ(page.body["metrics"][0]["value"], "NaN");
  EXPECT_EQ(page.body["metrics"][1]["value"], 0.5);
  ASSERT_TRUE(page.body.contains("next_page_token"));
  std::string token = page.body["next_page_token"];
  Reply next = Call("GET", "/api/2.0/mlflow/metrics/get-history", json({{"run_id", id}, {"metric_key", "m"}, {"max_results", 2}, {"page_token", token}}).dump(), "");
  ASSERT_EQ(next.status, 200) << next.raw;
  EXPECT_EQ(next.body["metrics"][0]["step"], 2);

  Reply inf = Get("metrics/get-history?run_id=" + id + "&metric_key=i");
  EXPECT_EQ(inf.body["metrics"][0]["value"], 1.7976931348623157e308);

  Reply bad_value = Post("runs/log-metric", {{"run_id", id}, {"key", "m"}, {"value", "abc"}, {"timestamp", 1}});
  EXPECT_EQ(bad_value.status, 400);
  Reply bool_value = Post("runs/log-metric", {{"run_id", id}, {"key", "m"}, {"value", true}, {"timestamp", 1}});
  EXPECT_EQ(bool_value.status, 400);
  Reply no_ts = Post("runs/log-metric", {{"run_id", id}, {"key", "m"}, {"value", 1}});
  EXPECT_EQ(no_ts.status, 400);
  Reply neg_ts = Post("runs/log-metric", {{"run_id", id}, {"key", "m"}, {"value", 1}, {"timestamp", -5}});
  EXPECT_EQ(neg_ts.status, 400);
}

TEST_F(MlflowTrackingRoutesTest, LogBatchLimitsAndParamImmutability) {
  std::string id = CreateRun();
  json metrics = json::array();
  for (int i = 0; i < 1001; ++i) metrics.push_back({{"key", "m"}, {"value", i}, {"timestamp", i}, {"step", i}});
  Reply over = Post("runs/log-batch", {{"run_id", id}, {"metrics", metrics}});
  EXPECT_EQ(over.status, 400);
  EXPECT_NE(over.body["message"].get<std::string>().find("at most 1000 metrics"), std::string::npos);

  metrics.erase(metrics.end() - 3, metrics.end());  // 998 metrics + 1 param + 1 tag = 1000
  Reply ok = Post("runs/log-batch", {{"run_id", id},
                                     {"metrics", metrics},
                                     {"params", {{{"key", "lr"}, {"value", "0.1"}}}},
                                     {"tags", {{{"key", "t"}, {"value", "v"}}}}});
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(ok.raw, "{}");
  Reply changed = Post("runs/log-parameter", {{"run_id", id}, {"key", "lr"}, {"value", "0.2"}});
  EXPECT_EQ(changed.status, 400);
  EXPECT_EQ(changed.body["error_code"], "INVALID_PARAMETER_VALUE");
  Reply same = Post("runs/log-parameter", {{"run_uuid", id}, {"key", "lr"}, {"value", "0.1"}});
  EXPECT_EQ(same.status, 200);
  Reply run = Get("runs/get?run_id=" + id);
  ASSERT_EQ(run.body["run"]["data"]["metrics"].size(), 1u);
  EXPECT_EQ(run.body["run"]["data"]["metrics"][0]["step"], 997);

  Reply bad_key = Post("runs/log-batch", {{"run_id", id}, {"params", {{{"key", "../x"}, {"value", "1"}}}}});
  EXPECT_EQ(bad_key.status, 400);
  Reply deleted = Post("runs/delete", {{"run_id", id}});
  EXPECT_EQ(deleted.status, 200);
  Reply after = Post("runs/set-tag", {{"run_id", id}, {"key", "k"}, {"value", "v"}});
  EXPECT_EQ(after.status, 400);
}

// log-batch has a fast decoder for the common shape and the general one for everything else;
// both must store the same thing.
TEST_F(MlflowTrackingRoutesTest, LogBatchShapesDecodeTheSame) {
  std::string id = CreateRun();
  // run_uuid only, integer values, step omitted, model id, params and tags.
  Reply plain = Post("runs/log-batch",
                     {{"run_uuid", id},
                      {"metrics", {{{"key", "a"}, {"value", 3}, {"timestamp", 10}},
                                   {{"key", "b"}, {"value", 1.5}, {"timestamp", 11}, {"step", 7},
                                    {"model_id", "m-1"}, {"dataset_name", ""}}}},
                      {"params", {{{"key", "p"}, {"value", "v"}}}},
                      {"tags", {{{"key", "t"}, {"value", "w"}}, {{"key", "empty"}}}}});
  ASSERT_EQ(plain.status, 200) << plain.raw;
  // String-encoded numbers go through the general decoder.
  Reply strings = Post("runs/log-batch",
                       {{"run_id", id},
                        {"metrics", {{{"key", "c"}, {"value", "NaN"}, {"timestamp", "12"}, {"step", "2"}},
                                     {{"key", "d"}, {"value", "-Infinity"}, {"timestamp", 13}}}}});
  ASSERT_EQ(strings.status, 200) << strings.raw;
  Reply run = Get("runs/get?run_id=" + id);
  std::map<std::string, json> metrics;
  for (const auto& m : run.body["run"]["data"]["metrics"]) metrics[m["key"]] = m;
  ASSERT_EQ(metrics.size(), 4u) << run.raw;
  EXPECT_EQ(metrics["a"]["value"], 3.0);
  EXPECT_EQ(metrics["a"]["step"], 0);
  EXPECT_EQ(metrics["b"]["step"], 7);
  EXPECT_EQ(metrics["c"]["value"], "NaN");
  EXPECT_EQ(metrics["c"]["timestamp"], 12);
  EXPECT_EQ(metrics["d"]["value"], -1.7976931348623157e308);
  std::map<std::string, std::string> tags;
  for (const auto& t : run.body["run"]["data"]["tags"]) tags[t["key"]] = t["value"];
  EXPECT_EQ(tags["t"], "w");
  EXPECT_EQ(tags["empty"], "");
  EXPECT_EQ(run.body["run"]["data"]["params"][0]["value"], "v");
  Reply hist = Get("metrics/get-history?run_id=" + id + "&metric_key=b");
  EXPECT_EQ(hist.body["metrics"][0]["model_id"], "m-1");
  EXPECT_FALSE(hist.body["metrics"][0].contains("dataset_name"));

  // Malformed shapes are refused, whichever decoder sees them.
  EXPECT_EQ(Post("runs/log-batch", {{"run_id", id}, {"metrics", {{{"key", "x"}, {"timestamp", 1}}}}}).status, 400);
  EXPECT_EQ(Post("runs/log-batch", {{"run_id", id}, {"metrics", {{{"key", "x"}, {"value", 1}}}}}).status, 400);
  EXPECT_EQ(Post("runs/log-batch", {{"run_id", id}, {"metrics", {{{"value", 1}, {"timestamp", 1}}}}}).status, 400);
  EXPECT_EQ(Post("runs/log-batch", {{"run_id", id}, {"metrics", {{{"key", "x"}, {"value", true}, {"timestamp", 1}}}}}).status, 400);
  EXPECT_EQ(Post("runs/log-batch", {{"run_id", id}, {"metrics", "nope"}}).status, 400);
  EXPECT_EQ(Post("runs/log-batch", {{"metrics", json::array()}}).status, 400);
  EXPECT_EQ(Call("POST", "/api/2.0/mlflow/runs/log-batch", "{\"run_id\": ", "application/json").status, 400);
  EXPECT_EQ(Call("POST", "/api/2.0/mlflow/runs/log-batch", json({{"run_id", id}}).dump(), "text/plain").status, 400);
}

// Mutated request bodies (bytes flipped, cut, duplicated; invalid UTF-8 included) never crash
// a handler and never become a 5xx: each is answered 200 or a 4xx.
TEST_F(MlflowTrackingRoutesTest, MutatedBodiesGetClientErrorsNeverServerErrors) {
  std::string id = CreateRun();
  Reply model = Call("POST", "/api/2.0/mlflow/logged-models", json({{"experiment_id", "0"}}).dump());
  ASSERT_EQ(model.status, 200);
  const std::string mid = model.body["model"]["info"]["model_id"];
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"POST /api/2.0/mlflow/runs/log-batch",
       json({{"run_id", id},
             {"metrics", {{{"key", "m"}, {"value", 1.5}, {"timestamp", 1}, {"step", 2}}}},
             {"params", {{{"key", "p"}, {"value", "v"}}}},
             {"tags", {{{"key", "t"}, {"value", "w"}}}}}).dump()},
      {"POST /api/2.0/mlflow/runs/log-inputs",
       json({{"run_id", id},
             {"datasets", {{{"dataset", {{"name", "d"}, {"digest", "x"}, {"source_type", "s"}, {"source", "y"}}},
                            {"tags", {{{"key", "k"}, {"value", "v"}}}}}}}}).dump()},
      {"POST /api/2.0/mlflow/runs/create",
       json({{"experiment_id", "0"}, {"tags", {{{"key", "a"}, {"value", "b"}}}}}).dump()},
      {"POST /api/2.0/mlflow/runs/search",
       json({{"experiment_ids", {"0"}}, {"max_results", 5}, {"order_by", {"metrics.m DESC"}}}).dump()},
      {"PATCH /api/2.0/mlflow/logged-models/" + mid, R"({"status":"LOGGED_MODEL_READY"})"},
      {"POST /api/2.0/mlflow/logged-models/search",
       json({{"experiment_ids", {"0"}}, {"order_by", {{{"field_name", "name"}, {"ascending", true}}}}}).dump()},
  };
  std::mt19937 rng(12345);
  int answered = 0;
  for (const auto& [route, body] : seeds) {
    const std::string method = route.substr(0, route.find(' '));
    const std::string path = route.substr(route.find(' ') + 1);
    for (int i = 0; i < 300; ++i) {
      std::string b = body;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !b.empty(); ++e) {
        size_t pos = rng() % b.size();
        switch (rng() % 4) {
          case 0: b[pos] = static_cast<char>(rng() % 256); break;
          case 1: b.erase(pos, 1 + rng() % 8); break;
          case 2: b.insert(pos, b.substr(pos, 1 + rng() % 16)); break;
          case 3: b.resize(pos); break;
        }
      }
      Reply r = Call(method, path, b);
      EXPECT_TRUE(r.status == 200 || (r.status >= 400 && r.status < 500))
          << r.status << " for " << route << " body " << b << " -> " << r.raw;
      ++answered;
    }
  }
  EXPECT_EQ(answered, 1800);
}

TEST_F(MlflowTrackingRoutesTest, SearchRunsFromQueryStringAndBody) {
  Post("experiments/create", {{"name", "e1"}});
  std::string a = CreateRun("0"), b = CreateRun("1");
  Reply get = Get("runs/search?experiment_ids=0&experiment_ids=1&max_results=1");
  ASSERT_EQ(get.status, 200) << get.raw;
  EXPECT_EQ(get.body["runs"].size(), 1u);
  EXPECT_TRUE(get.body.contains("next_page_token"));
  Reply post = Post("runs/search", {{"experiment_ids", {"0", "1"}}, {"run_view_type", "ALL"}});
  ASSERT_EQ(post.status, 200) << post.raw;
  EXPECT_EQ(post.body["runs"].size(), 2u);
  Reply none = Post("runs/search", {{"experiment_ids", {"0"}}, {"run_view_type", "DELETED_ONLY"}});
  EXPECT_EQ(none.raw, "{}");
  Reply bad_view = Post("runs/search", {{"experiment_ids", {"0"}}, {"run_view_type", "SOME"}});
  EXPECT_EQ(bad_view.status, 400);
  Reply exps = Post("experiments/search", {{"max_results", 10}});
  ASSERT_EQ(exps.status, 200) << exps.raw;
  EXPECT_EQ(exps.body["experiments"].size(), 2u);
}

TEST_F(MlflowTrackingRoutesTest, InputsOutputsAndLoggedModels) {
  std::string id = CreateRun();
  Reply model = Call("POST", "/api/2.0/mlflow/logged-models",
                     json({{"experiment_id", "0"}, {"name", "model"}, {"source_run_id", id},
                           {"params", {{{"key", "depth"}, {"value", "6"}}}}})
                         .dump());
  ASSERT_EQ(model.status, 200) << model.raw;
  const json& info = model.body["model"]["info"];
  const std::string model_id = info["model_id"];
  EXPECT_EQ(info["status"], "LOGGED_MODEL_PENDING");
  EXPECT_EQ(info["artifact_uri"], "mlflow-artifacts:/0/models/" + model_id + "/artifacts");
  EXPECT_EQ(model.body["model"]["data"]["params"][0]["key"], "depth");

  EXPECT_EQ(Post("runs/outputs", {{"run_id", id}, {"models", {{{"model_id", model_id}, {"step", 0}}}}}).status, 200);
  json dataset = {{"name", "d"}, {"digest", "x1"}, {"source_type", "local"}, {"source", "/tmp/d"}};
  EXPECT_EQ(Post("runs/log-inputs", {{"run_id", id}, {"datasets", {{{"dataset", dataset}, {"tags", {{{"key", "mlflow.data.context"}, {"value", "train"}}}}}}}}).status, 200);
  Reply run = Get("runs/get?run_id=" + id);
  EXPECT_EQ(run.body["run"]["outputs"]["model_outputs"][0]["model_id"], model_id);
  EXPECT_EQ(run.body["run"]["inputs"]["dataset_inputs"][0]["dataset"]["name"], "d");
  EXPECT_EQ(run.body["run"]["inputs"]["dataset_inputs"][0]["tags"][0]["value"], "train");

  const std::string base = "/api/2.0/mlflow/logged-models/" + model_id;
  Reply got = Call("GET", base, "", "");
  ASSERT_EQ(got.status, 200);
  Reply ready = Call("PATCH", base, R"({"status":"LOGGED_MODEL_READY"})");
  ASSERT_EQ(ready.status, 200) << ready.raw;
  EXPECT_EQ(ready.body["model"]["info"]["status"], "LOGGED_MODEL_READY");
  EXPECT_EQ(Call("PATCH", base + "/tags", R"({"tags":[{"key":"a","value":"1"}]})").status, 200);
  EXPECT_EQ(Call("DELETE", base + "/tags/a", "").status, 200);
  EXPECT_EQ(Call("DELETE", base + "/tags/a", "").status, 404);
  EXPECT_EQ(Call("POST", base + "/params", R"({"params":[{"key":"eta","value":"0.3"}]})").status, 200);
  Reply search = Call("POST", "/api/2.0/mlflow/logged-models/search", R"({"experiment_ids":["0"]})");
  ASSERT_EQ(search.status, 200) << search.raw;
  EXPECT_EQ(search.body["models"].size(), 1u);
  EXPECT_EQ(Call("DELETE", base, "").status, 200);
  EXPECT_EQ(Call("GET", base, "", "").status, 404);
  EXPECT_EQ(Call("GET", "/api/2.0/mlflow/logged-models/m-missing", "", "").body["error_code"],
            "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(MlflowTrackingRoutesTest, BulkIntervalRepeatedRunIds) {
  std::string a = CreateRun(), b = CreateRun();
  for (const auto& id : {a, b}) {
    Post("runs/log-batch", {{"run_id", id}, {"metrics", {{{"key", "m"}, {"value", 1}, {"timestamp", 1}, {"step", 3}}}}});
  }
  Reply r = Get("metrics/get-history-bulk-interval?run_ids=" + a + "&run_ids=" + b +
                "&metric_key=m&max_results=10");
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["metrics"].size(), 2u);
  EXPECT_EQ(r.body["metrics"][0]["run_id"], a);
  EXPECT_EQ(r.body["metrics"][1]["run_id"], b);
  EXPECT_EQ(Get("metrics/get-history-bulk-interval?metric_key=m").status, 400);
}

}  // namespace
}  // namespace cairn::http
