// SqliteRegistryStore against MLflow 3.6's registry semantics. Where an expectation encodes an
// MLflow behaviour that is not obvious, the comment says what MLflow's server answered for the
// same sequence (observed on `mlflow server` 3.6.0 with SQLite; the e2e suite compares live).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>

#include "common/clock.h"
#include "registry/sqlite_registry_store.h"
#include "tracking/sqlite_tracking_store.h"

namespace cairn::registry {
namespace {

namespace fs = std::filesystem;

class RegistryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("cairn-registry-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    tracking::SqliteTrackingStoreOptions topts;
    topts.clock = &clock_;
    auto t = tracking::SqliteTrackingStore::Open((dir_ / "tracking.db").string(), topts);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tracking_ = std::move(t).value();
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    tracking_.reset();
    fs::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    RegistryStoreOptions options;
    options.clock = &clock_;
    options.tracking = tracking_.get();
    auto s = SqliteRegistryStore::Open((dir_ / "registry.db").string(), options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void NewModel(const std::string& name) {
    auto rm = store_->CreateRegisteredModel(name, {}, std::nullopt);
    ASSERT_TRUE(rm.ok()) << rm.status().ToString();
  }
  ModelVersion NewVersion(const std::string& name, const std::string& run_id = "",
                          std::vector<Tag> tags = {}) {
    CreateModelVersionRequest req;
    req.name = name;
    req.source = "mlflow-artifacts:/1/" + (run_id.empty() ? "x" : run_id) + "/artifacts/model";
    if (!run_id.empty()) req.run_id = run_id;
    req.tags = std::move(tags);
    clock_.AdvanceMillis(1);
    auto mv = store_->CreateModelVersion(req);
    EXPECT_TRUE(mv.ok()) << mv.status().ToString();
    return mv.ok() ? *mv : ModelVersion{};
  }
  // A run in the tracking store with these latest metric values.
  std::string NewRun(const std::map<std::string, double>& metrics) {
    tracking::CreateRunRequest req;
    req.experiment_id = "0";
    auto run = tracking_->CreateRun(req);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    tracking::LogBatchRequest batch;
    batch.run_id = run->info.run_id;
    for (const auto& [k, v] : metrics) {
      tracking::Metric m;
      m.key = k;
      m.value = v;
      m.timestamp = clock_.NowMillis();
      batch.metrics.push_back(m);
    }
    batch.params.push_back({"max_depth", "6"});
    EXPECT_TRUE(tracking_->LogBatch(batch).ok());
    return run->info.run_id;
  }
  std::vector<int64_t> Versions(const std::vector<ModelVersion>& mvs) {
    std::vector<int64_t> out;
    for (const auto& mv : mvs) out.push_back(mv.version);
    return out;
  }

  FakeClock clock_{1800000000000};
  fs::path dir_;
  std::unique_ptr<tracking::SqliteTrackingStore> tracking_;
  std::unique_ptr<SqliteRegistryStore> store_;
};

TEST_F(RegistryStoreTest, CreateGetAndDuplicateNames) {
  auto rm = store_->CreateRegisteredModel("fraud", {{"team", "risk"}}, "detects fraud");
  ASSERT_TRUE(rm.ok());
  EXPECT_EQ(rm->creation_timestamp, clock_.NowMillis());
  EXPECT_EQ(rm->last_updated_timestamp, clock_.NowMillis());
  auto got = store_->GetRegisteredModel("fraud");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->description, "detects fraud");
  ASSERT_EQ(got->tags.size(), 1u);
  auto dup = store_->CreateRegisteredModel("fraud", {}, std::nullopt);
  EXPECT_EQ(dup.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(dup.status().message(), "Registered Model (name=fraud) already exists.");
  auto missing = store_->GetRegisteredModel("nope");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().message(), "Registered Model with name=nope not found");
  EXPECT_EQ(store_->CreateRegisteredModel("", {}, std::nullopt).status().code(),
            Code::kInvalidArgument);
  // A bad tag refuses the whole creation: nothing is left behind.
  auto bad = store_->CreateRegisteredModel("other", {{"../x", "v"}}, std::nullopt);
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->GetRegisteredModel("other").status().code(), Code::kNotFound);
}

TEST_F(RegistryStoreTest, VersionsAreConsecutiveAndNeverReused) {
  NewModel("m");
  EXPECT_EQ(NewVersion("m").version, 1);
  EXPECT_EQ(NewVersion("m").version, 2);
  ModelVersion v3 = NewVersion("m");
  EXPECT_EQ(v3.version, 3);
  EXPECT_EQ(v3.status, "READY");
  EXPECT_EQ(v3.current_stage, "None");
  ASSERT_TRUE(store_->DeleteModelVersion("m", "3", "").ok());
  // MLflow: after deleting the newest version the next one still gets a new number.
  EXPECT_EQ(NewVersion("m").version, 4);
  auto gone = store_->GetModelVersion("m", "3");
  EXPECT_EQ(gone.status().code(), Code::kNotFound);
  EXPECT_EQ(gone.status().message(), "Model Version (name=m, version=3) not found");
  EXPECT_EQ(store_->DeleteModelVersion("m", "3", "").code(), Code::kNotFound);
  EXPECT_EQ(store_->GetModelVersion("m", "x").status().message(),
            "Parameter 'version' must be an integer, got 'x'.");
  CreateModelVersionRequest req;
  req.name = "nope";
  req.source = "mlflow-artifacts:/1/x";
  EXPECT_EQ(store_->CreateModelVersion(req).status().message(),
            "Registered Model with name=nope not found");
}

TEST_F(RegistryStoreTest, ConcurrentCreationGivesUniqueConsecutiveNumbers) {
  NewModel("busy");
  constexpr int kThreads = 8, kEach = 10;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<int64_t> got;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        CreateModelVersionRequest req;
        req.name = "busy";
        req.source = "mlflow-artifacts:/1/x/artifacts/model";
        auto mv = store_->CreateModelVersion(req);
        if (!mv.ok()) {
          ++failures;
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        got.push_back(mv->version);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  std::sort(got.begin(), got.end());
  std::vector<int64_t> expected(kThreads * kEach);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(got, expected);
}

TEST_F(RegistryStoreTest, StagesArchiveAndLatestVersionsInMlflowOrder) {
  NewModel("m");
  for (int i = 0; i < 4; ++i) NewVersion("m");
  ASSERT_TRUE(store_->TransitionModelVersionStage("m", "1", "production", false).ok());
  auto v2 = store_->TransitionModelVersionStage("m", "2", "Production", true);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->current_stage, "Production");
  EXPECT_EQ(store_->GetModelVersion("m", "1")->current_stage, "Archived");
  EXPECT_EQ(store_->GetModelVersion("m", "3")->current_stage, "None");
  // MLflow answered get-latest-versions for this history with versions 1 (Archived),
  // 2 (Production), 4 (None): stages in the order their first version appears.
  auto latest = store_->GetLatestVersions("m", {});
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(Versions(*latest), (std::vector<int64_t>{1, 2, 4}));
  EXPECT_EQ(Versions(*store_->GetLatestVersions("m", {"production"})),
            std::vector<int64_t>{2});
  EXPECT_EQ(store_->GetLatestVersions("m", {"Bogus"}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->GetLatestVersions("nope", {}).status().code(), Code::kNotFound);
  // Archiving is only for Staging/Production (MLflow answers this with a 500; cairn 400).
  EXPECT_EQ(store_->TransitionModelVersionStage("m", "3", "None", true).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(store_->TransitionModelVersionStage("m", "3", "bogus", false).status().code(),
            Code::kInvalidArgument);
  auto rm = store_->GetRegisteredModel("m");
  EXPECT_EQ(Versions(rm->latest_versions), (std::vector<int64_t>{1, 2, 4}));
}

TEST_F(RegistryStoreTest, AliasesReservedNamesMissingVersionsAndLatest) {
  NewModel("m");
  NewVersion("m");
  NewVersion("m");
  ASSERT_TRUE(store_->SetRegisteredModelAlias("m", "champion", "1", "").ok());
  auto by_alias = store_->GetModelVersionByAlias("m", "champion");
  ASSERT_TRUE(by_alias.ok());
  EXPECT_EQ(by_alias->version, 1);
  EXPECT_EQ(by_alias->aliases, std::vector<std::string>{"champion"});
  EXPECT_EQ(store_->SetRegisteredModelAlias("m", "latest", "1", "").code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->SetRegisteredModelAlias("m", "v2", "1", "").code(), Code::kInvalidArgument);
  Status missing = store_->SetRegisteredModelAlias("m", "x", "9", "");
  EXPECT_EQ(missing.code(), Code::kNotFound);
  EXPECT_EQ(missing.message(), "Model Version (name=m, version=9) not found");
  auto unknown = store_->GetModelVersionByAlias("m", "nope");
  EXPECT_EQ(unknown.status().code(), Code::kInvalidArgument);  // as MLflow: 400, not 404
  EXPECT_EQ(unknown.status().message(), "Registered model alias nope not found.");
  EXPECT_EQ(store_->GetModelVersionByAlias("m", "latest")->version, 2);
  // Nothing changed by the refusals.
  EXPECT_EQ(store_->GetRegisteredModel("m")->aliases,
            (std::vector<ModelAlias>{{"champion", 1}}));
  ASSERT_TRUE(store_->DeleteRegisteredModelAlias("m", "nope", "").ok());  // no-op
  ASSERT_TRUE(store_->DeleteRegisteredModelAlias("m", "champion", "").ok());
  EXPECT_TRUE(store_->GetRegisteredModel("m")->aliases.empty());
  EXPECT_EQ(store_->DeleteRegisteredModelAlias("nope", "a", "").code(), Code::kNotFound);
}

TEST_F(RegistryStoreTest, DeletingAVersionRemovesItsAliases) {
  NewModel("m");
  NewVersion("m");
  NewVersion("m");
  ASSERT_TRUE(store_->SetRegisteredModelAlias("m", "prod", "2", "").ok());
  ASSERT_TRUE(store_->DeleteModelVersion("m", "2", "bob").ok());
  EXPECT_TRUE(store_->GetRegisteredModel("m")->aliases.empty());
  auto history = store_->GetAliasHistory("m", "");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].action, "delete-version");
  EXPECT_EQ((*history)[0].from_version, 2);
  EXPECT_FALSE((*history)[0].to_version.has_value());
  EXPECT_EQ((*history)[0].user_id, "bob");
  EXPECT_EQ((*history)[1].action, "set-alias");
}

TEST_F(RegistryStoreTest, RenameCarriesEverythingAlong) {
  auto rm = store_->CreateRegisteredModel("old", {{"k", "v"}}, std::nullopt);
  ASSERT_TRUE(rm.ok());
  NewVersion("old", "", {{"vk", "vv"}});
  ASSERT_TRUE(store_->SetRegisteredModelAlias("old", "prod", "1", "").ok());
  ASSERT_TRUE(store_->SetPromotionGate({"old", "prod", {{"auc >= 0.5"}}, {}, {}, {}}).ok());
  NewModel("taken");
  auto clash = store_->RenameRegisteredModel("old", "taken");
  EXPECT_EQ(clash.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(clash.status().message(), "Registered Model (name=taken) already exists.");
  EXPECT_EQ(store_->RenameRegisteredModel("nope", "x").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->RenameRegisteredModel("old", "").status().code(), Code::kInvalidArgument);
  clock_.AdvanceMillis(10);
  auto renamed = store_->RenameRegisteredModel("old", "new");
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  EXPECT_EQ(renamed->name, "new");
  EXPECT_EQ(renamed->last_updated_timestamp, clock_.NowMillis());
  EXPECT_EQ(renamed->tags, (std::vector<Tag>{{"k", "v"}}));
  EXPECT_EQ(renamed->aliases, (std::vector<ModelAlias>{{"prod", 1}}));
  auto mv = store_->GetModelVersion("new", "1");
  ASSERT_TRUE(mv.ok());
  EXPECT_EQ(mv->tags, (std::vector<Tag>{{"vk", "vv"}}));
  EXPECT_EQ(mv->last_updated_timestamp, clock_.NowMillis());
  EXPECT_EQ(store_->GetModelVersionByAlias("new", "prod")->version, 1);
  EXPECT_EQ(store_->GetPromotionGates("new")->size(), 1u);
  EXPECT_EQ(store_->GetAliasHistory("new", "")->size(), 1u);
  EXPECT_EQ(store_->GetRegisteredModel("old").status().code(), Code::kNotFound);
}

TEST_F(RegistryStoreTest, DeleteRemovesEverythingAndTheNameCanBeReused) {
  NewModel("m");
  NewVersion("m", "", {{"a", "b"}});
  NewVersion("m");
  ASSERT_TRUE(store_->SetRegisteredModelAlias("m", "prod", "2", "").ok());
  ASSERT_TRUE(store_->DeleteRegisteredModel("m").ok());
  EXPECT_EQ(store_->DeleteRegisteredModel("m").code(), Code::kNotFound);
  NewModel("m");
  ModelVersion first = NewVersion("m");
  EXPECT_EQ(first.version, 1);
  EXPECT_TRUE(first.tags.empty());
  EXPECT_TRUE(store_->GetRegisteredModel("m")->aliases.empty());
  EXPECT_TRUE(store_->GetAliasHistory("m", "")->empty());
}

TEST_F(RegistryStoreTest, TagsUpdateAndDescriptions) {
  NewModel("m");
  NewVersion("m");
  ASSERT_TRUE(store_->SetRegisteredModelTag("m", {"t", "1"}).ok());
  ASSERT_TRUE(store_->SetRegisteredModelTag("m", {"t", "2"}).ok());
  EXPECT_EQ(store_->GetRegisteredModel("m")->tags, (std::vector<Tag>{{"t", "2"}}));
  ASSERT_TRUE(store_->DeleteRegisteredModelTag("m", "absent").ok());
  ASSERT_TRUE(store_->DeleteRegisteredModelTag("m", "t").ok());
  EXPECT_TRUE(store_->GetRegisteredModel("m")->tags.empty());
  EXPECT_EQ(store_->SetRegisteredModelTag("nope", {"t", "1"}).code(), Code::kNotFound);
  ASSERT_TRUE(store_->SetModelVersionTag("m", "1", {"k", "v"}).ok());
  EXPECT_EQ(store_->GetModelVersion("m", "1")->tags, (std::vector<Tag>{{"k", "v"}}));
  EXPECT_EQ(store_->SetModelVersionTag("m", "7", {"k", "v"}).code(), Code::kNotFound);
  ASSERT_TRUE(store_->DeleteModelVersionTag("m", "1", "k").ok());
  EXPECT_TRUE(store_->GetModelVersion("m", "1")->tags.empty());
  auto rm = store_->UpdateRegisteredModel("m", "hello");
  EXPECT_EQ(rm->description, "hello");
  auto mv = store_->UpdateModelVersion("m", "1", "desc");
  EXPECT_EQ(mv->description, "desc");
  EXPECT_FALSE(store_->UpdateModelVersion("m", "1", std::nullopt)->description.has_value());
}

TEST_F(RegistryStoreTest, SearchFiltersPromptsAndPages) {
  for (const char* n : {"a", "b", "c"}) NewModel(n);
  ASSERT_TRUE(store_->CreateRegisteredModel("p", {{"mlflow.prompt.is_prompt", "true"}},
                                            std::nullopt)
                  .ok());
  SearchRequest all;
  all.filter = "tags.`mlflow.prompt.is_prompt` != 'true'";  // what the client always adds
  all.max_results = 2;
  auto page1 = store_->SearchRegisteredModels(all);
  ASSERT_TRUE(page1.ok()) << page1.status().ToString();
  ASSERT_EQ(page1->registered_models.size(), 2u);
  EXPECT_EQ(page1->registered_models[0].name, "a");
  EXPECT_FALSE(page1->next_page_token.empty());
  all.page_token = page1->next_page_token;
  auto page2 = store_->SearchRegisteredModels(all);
  ASSERT_EQ(page2->registered_models.size(), 1u);
  EXPECT_EQ(page2->registered_models[0].name, "c");
  EXPECT_TRUE(page2->next_page_token.empty());
  SearchRequest prompts;
  prompts.filter = "tags.`mlflow.prompt.is_prompt` = 'true'";
  EXPECT_EQ(store_->SearchRegisteredModels(prompts)->registered_models.size(), 1u);
  SearchRequest by_name;
  by_name.filter = "name LIKE 'b%'";
  EXPECT_EQ(store_->SearchRegisteredModels(by_name)->registered_models[0].name, "b");
  SearchRequest too_many;
  too_many.max_results = 1001;
  EXPECT_EQ(store_->SearchRegisteredModels(too_many).status().message(),
            "Invalid value for request parameter max_results. It must be at most 1000, but got "
            "value 1001");
  SearchRequest bad;
  bad.filter = "bogus = 1";
  EXPECT_EQ(store_->SearchRegisteredModels(bad).status().code(), Code::kInvalidArgument);

  NewVersion("a");
  NewVersion("a");
  NewVersion("b");
  SearchRequest versions;
  versions.filter = "name = 'a'";
  auto mvs = store_->SearchModelVersions(versions);
  ASSERT_TRUE(mvs.ok()) << mvs.status().ToString();
  EXPECT_EQ(Versions(mvs->model_versions), (std::vector<int64_t>{2, 1}));
  ASSERT_TRUE(store_->DeleteModelVersion("a", "2", "").ok());
  EXPECT_EQ(Versions(store_->SearchModelVersions(versions)->model_versions),
            std::vector<int64_t>{1});
  SearchRequest zero;
  zero.max_results = 0;
  EXPECT_EQ(store_->SearchModelVersions(zero).status().message(),
            "Invalid value for max_results. It must be a positive integer, but got 0");
}

TEST_F(RegistryStoreTest, SourcesOutsideTheArtifactStoreAreRefused) {
  NewModel("m");
  for (const char* source : {"/etc/passwd", "file:///etc", "s3://bucket/model",
                             "mlflow-artifacts:/0/../../etc"}) {
    CreateModelVersionRequest req;
    req.name = "m";
    req.source = source;
    EXPECT_EQ(store_->CreateModelVersion(req).status().code(), Code::kInvalidArgument) << source;
  }
  EXPECT_TRUE(store_->GetRegisteredModel("m")->latest_versions.empty());
  EXPECT_EQ(NewVersion("m").version, 1);  // the refusals used no numbers
}

TEST_F(RegistryStoreTest, LoggedModelSourcesUseTheModelsArtifactLocationAndTagIt) {
  tracking::CreateRunRequest run_req;
  run_req.experiment_id = "0";
  auto run = tracking_->CreateRun(run_req);
  ASSERT_TRUE(run.ok());
  tracking::CreateLoggedModelRequest lm_req;
  lm_req.experiment_id = "0";
  lm_req.name = "model";
  lm_req.source_run_id = run->info.run_id;
  auto lm = tracking_->CreateLoggedModel(lm_req);
  ASSERT_TRUE(lm.ok()) << lm.status().ToString();
  NewModel("m");
  CreateModelVersionRequest req;
  req.name = "m";
  req.source = "models:/" + lm->model_id;
  req.model_id = lm->model_id;
  auto mv = store_->CreateModelVersion(req);
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_EQ(mv->run_id, run->info.run_id);
  EXPECT_EQ(*store_->GetModelVersionDownloadUri("m", "1"), lm->artifact_uri);
  auto tagged = tracking_->GetLoggedModel(lm->model_id);
  std::string tag;
  for (const auto& t : tagged->tags) {
    if (t.key == "mlflow.modelVersions") tag = t.value;
  }
  // json.dumps([{"name": "m", "version": 1}]) as MLflow writes it.
  EXPECT_EQ(tag, "[{\"name\": \"m\", \"version\": 1}]");
  ASSERT_TRUE(store_->CreateModelVersion(req).ok());
  tagged = tracking_->GetLoggedModel(lm->model_id);
  for (const auto& t : tagged->tags) {
    if (t.key == "mlflow.modelVersions") tag = t.value;
  }
  EXPECT_EQ(tag, "[{\"name\": \"m\", \"version\": 1}, {\"name\": \"m\", \"version\": 2}]");
  // Lineage goes through the logged model to the run.
  auto lineage = store_->GetLineage("m", "1");
  ASSERT_TRUE(lineage.ok());
  ASSERT_TRUE(lineage->logged_model.has_value());
  EXPECT_EQ(lineage->logged_model->model_id, lm->model_id);
  ASSERT_TRUE(lineage->run.has_value());
  EXPECT_EQ(lineage->run->info.run_id, run->info.run_id);

  CreateModelVersionRequest missing;
  missing.name = "m";
  missing.source = "models:/m-0123456789abcdef0123456789abcdef";
  auto err = store_->CreateModelVersion(missing);
  EXPECT_EQ(err.status().code(), Code::kNotFound);
}

TEST_F(RegistryStoreTest, ModelUrisResolveLikeMlflow) {
  NewModel("m");
  std::string run_id = NewRun({{"auc", 0.9}});
  CreateModelVersionRequest req;
  req.name = "m";
  req.source = "runs:/" + run_id + "/model";
  req.run_id = run_id;
  ASSERT_TRUE(store_->CreateModelVersion(req).ok());
  NewVersion("m");
  NewVersion("m");
  ASSERT_TRUE(store_->TransitionModelVersionStage("m", "2", "Staging", false).ok());
  ASSERT_TRUE(store_->SetRegisteredModelAlias("m", "prod", "1", "").ok());
  EXPECT_EQ(store_->ResolveModelUri("models:/m/2")->version, 2);
  EXPECT_EQ(store_->ResolveModelUri("models:/m@prod")->version, 1);
  EXPECT_EQ(store_->ResolveModelUri("models:/m/staging")->version, 2);
  EXPECT_EQ(store_->ResolveModelUri("models:/m/latest")->version, 3);
  auto prod = store_->ResolveModelUri("models:/m@prod");
  EXPECT_EQ(prod->download_uri, "runs:/" + run_id + "/model");
  auto run = tracking_->GetRun(run_id);
  EXPECT_EQ(prod->artifact_location, run->info.artifact_uri + "/model");
  EXPECT_EQ(store_->ResolveModelUri("models:/m/Production").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->ResolveModelUri("models:/m/9").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->ResolveModelUri("models:/m@nope").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->ResolveModelUri("runs:/x/y").status().code(), Code::kInvalidArgument);
}

TEST_F(RegistryStoreTest, PromotionGatesRefuseAndPassAndEverythingIsRecorded) {
  NewModel("fraud");
  NewVersion("fraud", NewRun({{"auc", 0.90}, {"latency_p99_ms", 4}}),
             {{"validation_status", "passed"}});
  NewVersion("fraud", NewRun({{"auc", 0.897}, {"latency_p99_ms", 3}}),
             {{"validation_status", "passed"}});
  NewVersion("fraud", NewRun({{"auc", 0.899}, {"latency_p99_ms", 6}}),
             {{"validation_status", "passed"}});
  NewVersion("fraud", NewRun({{"auc", 0.95}, {"latency_p99_ms", 2}}));
  NewVersion("fraud", NewRun({{"auc", 0.899}, {"latency_p99_ms", 5}}),
             {{"validation_status", "passed"}});
  PromotionGate gate;
  gate.name = "fraud";
  gate.alias = "prod";
  gate.conditions = {{"auc >= champion.auc - 0.002"}, {"latency_p99_ms <= 5"}};
  gate.required_tags = {{"validation_status", "passed"}};
  ASSERT_TRUE(store_->SetPromotionGate(gate).ok());
  PromotionGate bad = gate;
  bad.conditions = {{"auc >>= 1"}};
  EXPECT_EQ(store_->SetPromotionGate(bad).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->GetPromotionGates("fraud")->at(0).conditions, gate.conditions);

  // v1: nobody holds prod yet, so the champion comparison is skipped; 4 <= 5; tag present.
  auto r1 = store_->Promote({"fraud", 1, "prod", "alice", false});
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_TRUE(r1->promoted);
  EXPECT_FALSE(r1->from_version.has_value());
  EXPECT_EQ(store_->GetModelVersionByAlias("fraud", "prod")->version, 1);
  // v2: 0.897 < 0.90 - 0.002 = 0.898: refused, alias unchanged.
  auto r2 = store_->Promote({"fraud", 2, "prod", "alice", false});
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->promoted);
  EXPECT_EQ(r2->gate.champion_version, 1);
  ASSERT_EQ(r2->gate.checks.size(), 3u);
  EXPECT_TRUE(r2->gate.checks[0].passed);   // tag
  EXPECT_FALSE(r2->gate.checks[1].passed);  // auc
  EXPECT_TRUE(r2->gate.checks[2].passed);   // latency
  EXPECT_EQ(store_->GetModelVersionByAlias("fraud", "prod")->version, 1);
  // v3: auc ok (0.899 >= 0.898) but latency 6 > 5.
  EXPECT_FALSE(store_->Promote({"fraud", 3, "prod", "bob", false})->promoted);
  // v4: best metrics but no validation_status tag.
  auto r4 = store_->Promote({"fraud", 4, "prod", "bob", false});
  EXPECT_FALSE(r4->promoted);
  EXPECT_EQ(r4->gate.checks[0].detail, "version 4 has no tag 'validation_status'");
  // Dry run of v5 passes but moves nothing and records nothing.
  auto dry = store_->Promote({"fraud", 5, "prod", "bob", true});
  EXPECT_TRUE(dry->gate.passed);
  EXPECT_FALSE(dry->promoted);
  EXPECT_EQ(store_->GetModelVersionByAlias("fraud", "prod")->version, 1);
  // v5 passes every condition.
  auto r5 = store_->Promote({"fraud", 5, "prod", "carol", false});
  EXPECT_TRUE(r5->promoted);
  EXPECT_EQ(r5->from_version, 1);
  EXPECT_EQ(store_->GetModelVersionByAlias("fraud", "prod")->version, 5);
  // No gate for "dev" (and no default gate): anything goes.
  EXPECT_TRUE(store_->Promote({"fraud", 4, "dev", "dave", false})->promoted);
  // Errors, not refusals.
  EXPECT_EQ(store_->Promote({"fraud", 9, "prod", "x", false}).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Promote({"nope", 1, "prod", "x", false}).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Promote({"fraud", 1, "latest", "x", false}).status().code(),
            Code::kInvalidArgument);

  auto history = store_->GetAliasHistory("fraud", "prod");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 5u);  // newest first: v5 moved, v4/v3/v2 refused, v1 moved
  EXPECT_EQ((*history)[0].outcome, "moved");
  EXPECT_EQ((*history)[0].from_version, 1);
  EXPECT_EQ((*history)[0].to_version, 5);
  EXPECT_EQ((*history)[0].user_id, "carol");
  EXPECT_EQ((*history)[0].gate_checks.size(), 3u);
  EXPECT_EQ((*history)[3].outcome, "refused");
  EXPECT_EQ((*history)[3].to_version, 2);
  EXPECT_FALSE((*history)[3].gate_checks[1].passed);
  EXPECT_EQ((*history)[4].action, "promote");
  EXPECT_FALSE((*history)[4].from_version.has_value());
  EXPECT_EQ(store_->GetAliasHistory("fraud", "")->size(), 6u);
}

TEST_F(RegistryStoreTest, DefaultGateAppliesToAliasesWithoutTheirOwn) {
  NewModel("m");
  NewVersion("m", NewRun({{"auc", 0.4}}));
  ASSERT_TRUE(store_->SetPromotionGate({"m", "", {{"auc >= 0.5"}}, {}, {}, {}}).ok());
  auto r = store_->Promote({"m", 1, "test", "x", false});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->promoted);
  EXPECT_EQ(r->gate.gate_alias, "");
  ASSERT_TRUE(store_->DeletePromotionGate("m", "").ok());
  EXPECT_TRUE(store_->Promote({"m", 1, "test", "x", false})->promoted);
}

TEST_F(RegistryStoreTest, LineageHasRunParamsMetricsAndDatasets) {
  NewModel("m");
  std::string run_id = NewRun({{"auc", 0.9}});
  tracking::DatasetInput d;
  d.dataset = {"train", "abc123", "local", "/data/train.csv", std::nullopt, std::nullopt};
  d.tags = {{"mlflow.data.context", "training"}};
  ASSERT_TRUE(tracking_->LogInputs(run_id, {d}, {}).ok());
  NewVersion("m", run_id);
  auto lineage = store_->GetLineage("m", "1");
  ASSERT_TRUE(lineage.ok());
  ASSERT_TRUE(lineage->run.has_value());
  EXPECT_EQ(lineage->run->data.params, (std::vector<tracking::Param>{{"max_depth", "6"}}));
  ASSERT_EQ(lineage->run->data.metrics.size(), 1u);
  EXPECT_EQ(lineage->run->data.metrics[0].value, 0.9);
  ASSERT_EQ(lineage->run->inputs.dataset_inputs.size(), 1u);
  EXPECT_EQ(lineage->run->inputs.dataset_inputs[0].dataset.digest, "abc123");
  EXPECT_FALSE(lineage->logged_model.has_value());
  EXPECT_EQ(store_->GetLineage("m", "2").status().code(), Code::kNotFound);
}

TEST_F(RegistryStoreTest, DataSurvivesReopening) {
  NewModel("m");
  NewVersion("m");
  ASSERT_TRUE(store_->SetRegisteredModelAlias("m", "prod", "1", "").ok());
  Reopen();
  EXPECT_EQ(store_->GetModelVersionByAlias("m", "prod")->version, 1);
  EXPECT_EQ(NewVersion("m").version, 2);
}

TEST_F(RegistryStoreTest, MigrationsMergeIntoOneSequence) {
  auto merged = store::MergeMigrations(
      {SqliteRegistryStore::Migrations(), tracking::SqliteTrackingStore::Migrations()});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  for (size_t i = 1; i < merged->size(); ++i) {
    EXPECT_LT((*merged)[i - 1].version, (*merged)[i].version);
  }
  // One pool with every migration serves both stores on one file.
  auto pool = store::ConnectionPool::Open((dir_ / "shared.db").string(), *merged);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  SqliteRegistryStore shared(**pool, {});
  ASSERT_TRUE(shared.CreateRegisteredModel("m", {}, std::nullopt).ok());
}

}  // namespace
}  // namespace cairn::registry
