// Deployments: routing splits (within binomial tolerance, fixed seed), stickiness, shadows
// that never change an answer, hot swaps under concurrent scoring, alias following (and a
// corrupt version that leaves the previous one serving), promote / rollback / weights, and
// persistence across a restart. Models are cairn linear-model files: version N predicts
// N * x, so an answer says which version produced it.
#include "serving/deployment_manager.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/ids.h"
#include "serving/deployment_store.h"
#include "serving/traffic_router.h"
#include "serving/inference_log.h"
#include "store/connection_pool.h"

namespace cairn::serving {
namespace {

namespace fs = std::filesystem;

// A registry stand-in: model/version -> file, alias -> version.
class FakeRegistry {
 public:
  void AddVersion(const std::string& model, const std::string& version, const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    files_[model + "/" + version] = path;
  }
  void SetAlias(const std::string& model, const std::string& alias, const std::string& version) {
    std::lock_guard<std::mutex> lock(mu_);
    aliases_[model + "@" + alias] = version;
  }
  ModelResolver Resolver() {
    return [this](const ModelRef& ref) -> StatusOr<ResolvedRef> {
      std::lock_guard<std::mutex> lock(mu_);
      std::string version = ref.version;
      if (ref.follows_alias()) {
        auto a = aliases_.find(ref.model + "@" + ref.alias);
        if (a == aliases_.end()) return InvalidArgument("alias " + ref.alias + " not found");
        version = a->second;
      }
      auto f = files_.find(ref.model + "/" + version);
      if (f == files_.end()) return NotFound("no version " + version + " of " + ref.model);
      return ResolvedRef{version, f->second};
    };
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> files_;
  std::map<std::string, std::string> aliases_;
};

// Deterministic draws for requests without a key (splitmix64 from a fixed seed).
std::function<uint64_t()> SeededRandom(uint64_t seed) {
  auto state = std::make_shared<std::atomic<uint64_t>>(seed);
  return [state] {
    uint64_t z = state->fetch_add(0x9e3779b97f4a7c15ULL) + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
}

InferenceQuery QueryOf(const std::string& deployment) {
  InferenceQuery q;
  q.deployment = deployment;
  return q;
}

class DeploymentManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("cairn-deployments-" + NewUuidHex());
    fs::create_directories(dir_);
    for (int v = 1; v <= 4; ++v) {
      std::string path = (dir_ / ("m" + std::to_string(v) + ".json")).string();
      std::ofstream(path) << R"({"format": "cairn.linear/v1", "features": ["x"], "coefficients": [)"
                          << v << R"(], "intercept": 0, "link": "identity"})";
      registry_.AddVersion("m", std::to_string(v), path);
    }
    std::string corrupt = (dir_ / "corrupt.json").string();
    std::ofstream(corrupt) << R"({"format": "cairn.linear/v1", "features": ["x"], "coeffi)";
    registry_.AddVersion("m", "9", corrupt);
    Open();
  }
  void TearDown() override {
    Close();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void Open() {
    std::vector<store::Migration> migrations = InferenceLog::Migrations();
    for (const auto& m : DeploymentStore::Migrations()) migrations.push_back(m);
    auto pool = store::ConnectionPool::Open((dir_ / "db.sqlite").string(), migrations);
    ASSERT_TRUE(pool.ok()) << pool.status().ToString();
    pool_ = std::move(*pool);
    InferenceLogOptions log_options;
    log_options.flush_interval_ms = 0;
    auto log = InferenceLog::Attach(*pool_, clock_, log_options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(*log);
    store_ = std::make_unique<DeploymentStore>(*pool_);
    DeploymentManagerOptions options;
    options.alias_poll_ms = 0;
    options.random = SeededRandom(42);
    manager_ = std::make_unique<DeploymentManager>(*store_, registry_.Resolver(), log_.get(),
                                                   clock_, options);
  }
  void Close() {
    manager_.reset();
    store_.reset();
    log_.reset();
    pool_.reset();
  }

  static DeploymentSpec Spec(const std::string& json) {
    auto spec = DeploymentSpecFromJson(json);
    EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    return spec.ok() ? *spec : DeploymentSpec{};
  }

  ScoreResult Score(const std::string& name, double x, const std::string& user = "",
                    const std::string& body_override = "") {
    std::string body = body_override.empty()
                           ? R"({"dataframe_records": [{"x": )" + std::to_string(x) + "}]}"
                           : body_override;
    std::map<std::string, std::string> headers;
    if (!user.empty()) headers["x-user-id"] = user;
    ScoreRequest req;
    req.deployment = name;
    req.content_type = "application/json";
    req.body = body;
    req.headers = &headers;
    return manager_->Score(req);
  }

  static double Prediction(const ScoreResult& r) {
    auto j = nlohmann::json::parse(r.body);
    return j["predictions"][0].get<double>();
  }

  fs::path dir_;
  FakeClock clock_{1'700'000'000'000};
  FakeRegistry registry_;
  std::unique_ptr<store::ConnectionPool> pool_;
  std::unique_ptr<InferenceLog> log_;
  std::unique_ptr<DeploymentStore> store_;
  std::unique_ptr<DeploymentManager> manager_;
};

TEST_F(DeploymentManagerTest, PutGetScoreAndLog) {
  auto info = manager_->Put(Spec(R"({"name": "d", "environment": "test",
                                     "primary": {"model": "m", "version": "2"}})"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->ready);
  EXPECT_EQ(info->resolved_versions, std::vector<std::string>{"2"});
  ScoreResult r = Score("d", 1.5);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(Prediction(r), 3.0);  // version 2: 2 * 1.5
  EXPECT_EQ(r.version, "2");
  EXPECT_EQ(r.variant, "primary");
  ASSERT_TRUE(log_->Flush().ok());
  auto page = log_->Query(QueryOf("d"));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_EQ(page->records[0].request_id, r.request_id);
  EXPECT_EQ(page->records[0].model_version, "2");
  EXPECT_EQ(nlohmann::json::parse(page->records[0].input_json)["x"], 1.5);
  EXPECT_EQ(page->records[0].output_json, "3");
}

TEST_F(DeploymentManagerTest, UnknownDeploymentAndBadInput) {
  EXPECT_EQ(Score("nope", 1).status.code(), Code::kNotFound);
  ASSERT_TRUE(manager_->Put(Spec(R"({"name": "d", "primary": {"model": "m", "version": "1"}})")).ok());
  ScoreResult r = Score("d", 0, "", R"({"dataframe_records": [{"y": 1}]})");
  EXPECT_EQ(r.status.code(), Code::kInvalidArgument);
  r = Score("d", 0, "", R"({"dataframe_records": [{"x": 1})");
  EXPECT_EQ(r.status.code(), Code::kInvalidArgument);
}

TEST_F(DeploymentManagerTest, WeightsMustSumTo100AndFailedChangesKeepTheOldRouting) {
  ASSERT_TRUE(manager_->Put(Spec(R"({"name": "d", "primary": {"model": "m", "version": "1"}})")).ok());
  auto bad = DeploymentSpecFromJson(R"({"name": "d", "primary": {"model": "m", "version": "1"},
      "variants": [{"name": "a", "model": "m", "version": "1", "weight": 50},
                   {"name": "b", "model": "m", "version": "2", "weight": 40}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("sum to 100, got 90"), std::string::npos);
  // A corrupt model version: a clear error, and version 1 keeps serving.
  auto corrupt = manager_->Put(Spec(R"({"name": "d", "primary": {"model": "m", "version": "9"}})"));
  ASSERT_FALSE(corrupt.ok());
  EXPECT_NE(corrupt.status().message().find("cannot load model 'm' version 9"), std::string::npos)
      << corrupt.status().message();
  EXPECT_EQ(Score("d", 2).version, "1");
  // An unknown version.
  EXPECT_EQ(manager_->Put(Spec(R"({"name": "d", "primary": {"model": "m", "version": "7"}})"))
                .status()
                .code(),
            Code::kNotFound);
  EXPECT_EQ(manager_->Get("d")->stored.generation, 1u);
}

// The canary's share over 10,000 keyless requests with a fixed seed is within 4 binomial
// standard deviations of its weight: n = 10000, p = 0.2, sd = sqrt(n p (1-p)) = 40.
TEST_F(DeploymentManagerTest, CanarySplitWithinBinomialTolerance) {
  ASSERT_TRUE(manager_->Put(Spec(R"({"name": "d", "primary": {"model": "m", "version": "1"},
      "canary": {"model": "m", "version": "2", "weight": 20}})")).ok());
  const int n = 10000;
  int canary = 0;
  for (int i = 0; i < n; ++i) {
    ScoreResult r = Score("d", 1);
    ASSERT_TRUE(r.status.ok());
    if (r.variant == "canary") {
      ++canary;
      EXPECT_EQ(r.version, "2");
      EXPECT_EQ(Prediction(r), 2.0);
    }
  }
  EXPECT_NEAR(canary, 2000, 4 * 40);
}

TEST_F(DeploymentManagerTest, StickyVariantsByHeader) {
  ASSERT_TRUE(manager_->Put(Spec(R"({"name": "ab", "primary": {"model": "m", "version": "1"},
      "variants": [{"name": "control", "model": "m", "version": "1", "weight": 50},
                   {"name": "treatment", "model": "m", "version": "2", "weight": 50}],
      "sticky": {"header": "X-User-Id"}})")).ok());
  std::map<std::string, int> per_variant;
  for (int u = 0; u < 200; ++u) {
    std::string user = "user-" + std::to_string(u);
    std::string first = Score("ab", 1, user).variant;
    for (int k = 0; k < 3; ++k) EXPECT_EQ(Score("ab", 1, user).variant, first) << user;
    EXPECT_EQ(first, BucketForKey("ab", user) < 5000 ? "control" : "treatment");
    ++per_variant[first];
  }
  EXPECT_GT(per_variant["control"], 0);
  EXPECT_GT(per_variant["treatment"], 0);
}

TEST_F(DeploymentManagerTest, StickyFieldIsRoutingOnlyAndStripped) {
  ASSERT_TRUE(manager_->Put(Spec(R"({"name": "ab", "primary": {"model": "m", "version": "1"},
      "variants": [{"name": "a", "model": "m", "version": "1", "weight": 50},
                   {"name": "b", "model": "m", "version": "2", "weight": 50}],
      "sticky": {"field": "customer_id"}})")).ok());
  for (int c = 0; c < 50; ++c) {
    std::string id = "c" + std::to_string(c);
    ScoreResult r = Score("ab", 1, "", R"({"dataframe_records": [{"x": 1, "customer_id": ")" +
                                           id + R"("}]})");
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_EQ(r.variant, BucketForKey("ab", id) < 5000 ? "a" : "b");
  }
}

// The same key in every body shape lands on the same variant, and the key column never
// reaches the model (which would reject it as an unknown column).
TEST_F(DeploymentManagerTest, StickyFieldInEveryBodyShape) {
  ASSERT_TRUE(manager_->Put(Spec(R"({"name": "ab", "primary": {"model": "m", "version": "1"},
      "variants": [{"name": "a", "model": "m", "version": "1", "weight": 50},
                   {"name": "b", "model": "m", "version": "2", "weight": 50}],
      "sticky": {"field": "cid"}})")).ok());
  for (int c = 0; c < 20; ++c) {
    std::string id = "k" + std::to_string(c);
    std::string want = BucketForKey("ab", id) < 5000 ? "a" : "b";
    for (const std::string& body :
         {R"({"dataframe_split": {"columns": ["cid", "x"], "data": [[")" + id + R"(", 2]]}})",
          R"({"instances": [{"x": 2, "cid": ")" + id + R"("}]})",
          R"({"inputs": {"x": [2], "cid": [")" + id + R"("]}})"}) {
      ScoreResult r = Score("ab", 0, "", body);
      ASSERT_TRUE(r.status.ok()) << body << ": " << r.status.ToString();
      EXPECT_EQ(r.variant, want) << body;
      EXPECT_EQ(Prediction(r), 2.0 * std::stod(r.version)) << body;
    }
    ScoreRequest infer;
    infer.deployment = "ab";
    infer.protocol = ScoreProtocol::kInfer;
    std::string body = R"({"id": "q", "inputs": [
        {"name": "cid", "shape": [1], "datatype": "BYTES", "data": [")" + id + R"("]},
        {"name": "x", "shape": [1], "datatype": "FP64", "data": [2]}]})";
    infer.body = body;
    ScoreResult r = manager_->Score(infer);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_EQ(r.variant, want);
    auto j = nlohmann::json::parse(r.body);
    EXPECT_EQ(j["model_name"], "ab");
    EXPECT_EQ(j["model_version"], r.version);
    EXPECT_EQ(j["outputs"][0]["data"][0].get<double>(), 2.0 * std::stod(r.version));
  }
}

TEST_F(DeploymentManagerTest, ShadowNeverChangesTheAnswerAndIsLogged) {
  ASSERT_TRUE(manager_->Put(Spec(R"({"name": "d", "primary": {"model": "m", "version": "1"}})")).ok());
  ScoreResult before = Score("d", 3);
  ASSERT_TRUE(manager_->Put(Spec(R"({"name": "d", "primary": {"model": "m", "version": "1"},
      "shadows": [{"model": "m", "version": "3"}]})")).ok());
  ScoreResult after = Score("d", 3);
  EXPECT_EQ(after.body, before.body);
  EXPECT_EQ(after.version, "1");
  manager_->DrainShadows();
  ASSERT_TRUE(log_->Flush().ok());
  auto page = log_->Query(QueryOf("d"));
  ASSERT_TRUE(page.ok());
  int shadows = 0;
  for (const auto& r : page->records) {
    if (r.variant != "shadow") continue;
    ++shadows;
    EXPECT_EQ(r.request_id, after.request_id);
    EXPECT_EQ(r.model_version, "3");
    EXPECT_EQ(r.output_json, "9");
  }
  EXPECT_EQ(shadows, 1);
}

TEST_F(DeploymentManagerTest, HotSwapUnderConcurrentScoringLosesNoRequest) {
  ASSERT_TRUE(manager_->Put(Spec(R"({"name": "d", "primary": {"model": "m", "version": "1"}})")).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&] {
      while (!stop) {
        ScoreResult r = Score("d", 1);
        // Every answer is whole and from the version it names.
        if (r.status.ok() && Prediction(r) == std::stod(r.version)) {
          ++ok;
        } else {
          ++bad;
        }
      }
    });
  }
  for (int i = 0; i < 40; ++i) {
    // Swap only once the clients have been answered since the last swap.
    int seen = ok.load() + bad.load();
    while (ok.load() + bad.load() < seen + 3) std::this_thread::yield();
    std::string v = std::to_string(1 + i % 3);
    ASSERT_TRUE(manager_->Put(Spec(R"({"name": "d", "primary": {"model": "m", "version": ")" + v +
                                   R"("}})")).ok());
  }
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(ok.load(), 0);
}

TEST_F(DeploymentManagerTest, FollowsAliasAndKeepsServingWhenTheNewVersionIsCorrupt) {
  registry_.SetAlias("m", "champion", "1");
  ASSERT_TRUE(manager_->Put(Spec(R"({"name": "d", "primary": {"model": "m", "alias": "champion"}})")).ok());
  EXPECT_EQ(Score("d", 1).version, "1");
  EXPECT_EQ(manager_->RefreshAliases(), 0u);
  registry_.SetAlias("m", "champion", "3");
  EXPECT_EQ(manager_->RefreshAliases(), 1u);
  EXPECT_EQ(Score("d", 1).version, "3");
  EXPECT_EQ(manager_->Get("d")->resolved_versions, std::vector<std::string>{"3"});
  registry_.SetAlias("m", "champion", "9");
  EXPECT_EQ(manager_->RefreshAliases(), 0u);
  EXPECT_EQ(Score("d", 1).version, "3");
  auto info = manager_->Get("d");
  EXPECT_TRUE(info->ready);
  EXPECT_NE(info->error.find("still serving the previous versions"), std::string::npos);
  // The alias follow is not a routing change: nothing to roll back.
  EXPECT_EQ(manager_->Rollback("d").status().code(), Code::kFailedPrecondition);
}

TEST_F(DeploymentManagerTest, WeightsPromoteRollbackAndRestart) {
  ASSERT_TRUE(manager_->Put(Spec(R"({"name": "d", "environment": "prod",
      "primary": {"model": "m", "version": "1"},
      "canary": {"model": "m", "version": "2", "weight": 10}})")).ok());
  WeightChange w;
  w.canary = 150;
  EXPECT_EQ(manager_->SetWeights("d", w).status().code(), Code::kInvalidArgument);
  w.canary = 100;
  ASSERT_TRUE(manager_->SetWeights("d", w).ok());
  EXPECT_EQ(Score("d", 1).version, "2");
  WeightChange variants;
  variants.variants = {{"a", 50}};
  EXPECT_EQ(manager_->SetWeights("d", variants).status().code(), Code::kFailedPrecondition);
  auto promoted = manager_->PromoteCanary("d");
  ASSERT_TRUE(promoted.ok());
  EXPECT_EQ(promoted->stored.spec.primary.version, "2");
  EXPECT_FALSE(promoted->stored.spec.canary.has_value());
  EXPECT_EQ(manager_->PromoteCanary("d").status().code(), Code::kFailedPrecondition);
  auto back = manager_->Rollback("d");  // to canary at 100%
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(back->stored.spec.canary.has_value());
  EXPECT_EQ(back->stored.spec.canary->weight, 100);

  // A restart restores the spec and its history.
  DeploymentSpec before = back->stored.spec;
  size_t depth = back->stored.history.size();
  Close();
  Open();
  auto restored = manager_->Restore();
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(*restored, 1u);
  auto info = manager_->Get("d");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->stored.spec, before);
  EXPECT_EQ(info->stored.history.size(), depth);
  EXPECT_EQ(manager_->List("prod").size(), 1u);
  EXPECT_EQ(manager_->List("dev").size(), 0u);
  ASSERT_TRUE(manager_->Rollback("d").ok());  // to the 10% canary
  EXPECT_EQ(manager_->Get("d")->stored.spec.canary->weight, 10);
  ASSERT_TRUE(manager_->Delete("d").ok());
  EXPECT_EQ(manager_->Get("d").status().code(), Code::kNotFound);
  EXPECT_EQ(manager_->Delete("d").code(), Code::kNotFound);
}

TEST(DeploymentSpecTest, RejectsBadSpecsWithTheFieldNamed) {
  struct Case {
    const char* json;
    const char* message;
  } cases[] = {
      {R"({"name": "d"})", "primary is required"},
      {R"({"name": "d", "primary": {"model": "m"}})", "primary needs a \"version\" or an \"alias\""},
      {R"({"name": "d", "environment": "staging", "primary": {"model": "m", "version": "1"}})",
       "environment must be one of dev, test, prod"},
      {R"({"name": "../x", "primary": {"model": "m", "version": "1"}})", "deployment name"},
      {R"({"name": "d", "primary": {"model": "m", "version": "1"}, "colour": 1})",
       "unknown key 'colour'"},
      {R"({"name": "d", "primary": {"model": "m", "version": "1"},
           "canary": {"model": "m", "version": "2", "weight": 101}})",
       "canary.weight must be a percentage in [0, 100], got 101"},
      {R"({"name": "d", "primary": {"model": "m", "version": "x"}})",
       "primary.version must be a version number"},
      {R"({"name": "d", "primary": {"model": "m", "version": "1"},
           "sticky": {"header": "a", "field": "b"}})", "a header or a field"},
      {R"({"name": "d", "primary": )", "not valid JSON"},
  };
  for (const Case& c : cases) {
    auto spec = DeploymentSpecFromJson(c.json);
    ASSERT_FALSE(spec.ok()) << c.json;
    EXPECT_EQ(spec.status().code(), Code::kInvalidArgument);
    EXPECT_NE(spec.status().message().find(c.message), std::string::npos)
        << spec.status().message();
  }
}

TEST(DeploymentSpecTest, JsonRoundTrip) {
  auto spec = DeploymentSpecFromJson(R"({"name": "d", "environment": "prod",
      "primary": {"model": "m", "alias": "champion", "version": "3"},
      "variants": [{"name": "a", "model": "m", "version": 1, "weight": 25},
                   {"name": "b", "model": "n", "alias": "challenger", "weight": 75}],
      "sticky": {"field": "customer_id"}, "shadows": [{"model": "m", "version": "4"}]})");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->primary.alias, "champion");
  EXPECT_EQ(spec->primary.version, "");  // the alias wins
  EXPECT_EQ(spec->variants[0].ref.version, "1");
  auto again = DeploymentSpecFromJson(DeploymentSpecToJson(*spec));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *spec);
  auto renamed = DeploymentSpecFromJson(DeploymentSpecToJson(*spec), "other");
  EXPECT_FALSE(renamed.ok());
}

}  // namespace
}  // namespace cairn::serving
