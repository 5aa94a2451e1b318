// Lineage over the in-process stores (what `cairn server` runs pipelines against): a tracking
// run per pipeline run with its params and status, a child run per step with metrics from
// $CAIRN_METRICS and a metrics.json output, outputs as artifacts and the cache_hit tag; a
// model version registered by a step points at the pipeline's tracking run; promote sets an
// alias. The e2e tests (tests/e2e/test_pipeline_lineage.py) check the same through the real
// mlflow client and the REST platform.

#include "pipeline/lineage.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "artifacts/artifact_store.h"
#include "common/clock.h"
#include "common/ids.h"
#include "pipeline/executor.h"
#include "pipeline/platform_steps.h"
#include "pipeline/process.h"
#include "pipeline/store_platform.h"
#include "registry/sqlite_registry_store.h"
#include "store/migrations.h"
#include "tracking/sqlite_tracking_store.h"

namespace cairn::pipeline {
namespace {

namespace fs = std::filesystem;

std::map<std::string, std::string> Tags(const tracking::Run& run) {
  std::map<std::string, std::string> out;
  for (const auto& t : run.data.tags) out[t.key] = t.value;
  return out;
}
std::map<std::string, double> Metrics(const tracking::Run& run) {
  std::map<std::string, double> out;
  for (const auto& m : run.data.metrics) out[m.key] = m.value;
  return out;
}

class LineageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-lineage-test-" + NewUuidHex().substr(0, 10));
    fs::create_directories(dir_ / "work");
    auto migrations = store::MergeMigrations(
        {tracking::SqliteTrackingStore::Migrations(), registry::SqliteRegistryStore::Migrations()});
    ASSERT_TRUE(migrations.ok());
    auto pool = store::ConnectionPool::Open((dir_ / "cairn.db").string(), *migrations);
    ASSERT_TRUE(pool.ok()) << pool.status().ToString();
    pool_ = std::move(*pool);
    auto tracking = tracking::SqliteTrackingStore::OnPool(*pool_);
    ASSERT_TRUE(tracking.ok());
    tracking_ = std::move(*tracking);
    registry::RegistryStoreOptions ro;
    ro.tracking = tracking_.get();
    registry_ = std::make_unique<registry::SqliteRegistryStore>(*pool_, ro);
    artifacts_ = std::make_unique<artifacts::LocalArtifactStore>((dir_ / "artifacts").string());
    ASSERT_TRUE(artifacts_->Init().ok());
    platform_ = NewStorePlatform(tracking_.get(), registry_.get(), artifacts_.get(), nullptr);
    recorder_ = std::make_unique<LineageRecorder>(platform_.get(), &SystemClock::Get());
    types_ = AllStepTypes(recorder_.get());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  StatusOr<RunResult> RunSpec(const std::string& yaml) {
    ASSIGN_OR_RETURN(PipelineSpec spec, ParseSpec(yaml, "pipeline.yaml", (dir_ / "work").string()));
    spec_ = spec;
    RETURN_IF_ERROR(CheckStepTypes(spec_, types_));
    auto launcher = NewPosixProcessLauncher();
    Executor executor(launcher.get(), &SystemClock::Get(), &types_);
    RunOptions options;
    options.observer = recorder_.get();
    return executor.Run(spec_, options);
  }

  // The child runs of a parent, by run name.
  std::map<std::string, tracking::Run> Children(const std::string& parent) {
    tracking::SearchRunsRequest req;
    req.experiment_ids = {tracked_experiment_};
    req.filter = "tags.mlflow.parentRunId = '" + parent + "'";
    auto found = tracking_->SearchRuns(req);
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    std::map<std::string, tracking::Run> out;
    if (found.ok()) {
      for (auto& r : found->runs) out[r.info.run_name] = r;
    }
    return out;
  }

  fs::path dir_;
  std::unique_ptr<store::ConnectionPool> pool_;
  std::unique_ptr<tracking::SqliteTrackingStore> tracking_;
  std::unique_ptr<registry::SqliteRegistryStore> registry_;
  std::unique_ptr<artifacts::LocalArtifactStore> artifacts_;
  std::unique_ptr<Platform> platform_;
  std::unique_ptr<LineageRecorder> recorder_;
  StepTypeRegistry types_;
  PipelineSpec spec_;
  std::string tracked_experiment_;
};

constexpr char kSpec[] =
    "name: lin\n"
    "params: {lr: {type: float, default: 0.5}}\n"
    "steps:\n"
    "  make:\n"
    "    run: \"mkdir -p out && echo ${params.lr} > out/data.txt && "
    "echo '{\\\"loss\\\": 0.25, \\\"nested\\\": {\\\"acc\\\": 0.75}}' > $CAIRN_METRICS\"\n"
    "    outputs: [out/data.txt]\n"
    "  score:\n"
    "    inputs: [out/data.txt]\n"
    "    run: \"echo '{\\\"auc\\\": 0.875, \\\"note\\\": \\\"text\\\"}' > out/metrics.json\"\n"
    "    outputs: [out/metrics.json]\n";

TEST_F(LineageTest, PipelineRunAndChildRunsWithMetricsArtifactsAndCacheHits) {
  auto first = RunSpec(kSpec);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(first->ok);
  auto tracked = recorder_->TrackingRunOf(first->run_id);
  ASSERT_TRUE(tracked.has_value());
  tracked_experiment_ = tracked->experiment_id;
  auto exp = tracking_->GetExperimentByName("pipeline:lin");
  ASSERT_TRUE(exp.ok());
  EXPECT_EQ(exp->experiment_id, tracked->experiment_id);

  auto parent = tracking_->GetRun(tracked->run_id);
  ASSERT_TRUE(parent.ok());
  EXPECT_EQ(parent->info.status, "FINISHED");
  ASSERT_TRUE(parent->info.end_time.has_value());
  ASSERT_EQ(parent->data.params.size(), 1u);
  EXPECT_EQ(parent->data.params[0].key, "lr");
  EXPECT_EQ(parent->data.params[0].value, "0.5");
  EXPECT_EQ(Tags(*parent)["cairn.pipeline_run_id"], first->run_id);
  EXPECT_EQ(Metrics(*parent)["steps_executed"], 2);

  auto children = Children(tracked->run_id);
  ASSERT_EQ(children.size(), 2u);
  const auto& make = children.at("make");
  EXPECT_EQ(Tags(make)["cache_hit"], "false");
  EXPECT_EQ(Tags(make)["cairn.step_status"], "succeeded");
  EXPECT_EQ(Metrics(make)["loss"], 0.25);
  EXPECT_EQ(Metrics(make)["nested.acc"], 0.75);
  EXPECT_EQ(make.info.status, "FINISHED");
  // The declared output is an artifact of the step's run.
  std::string rel = make.info.artifact_uri.substr(std::string("mlflow-artifacts:/").size());
  std::ifstream artifact(dir_ / "artifacts" / rel / "out" / "data.txt");
  std::string content;
  std::getline(artifact, content);
  EXPECT_EQ(content, "0.5");
  const auto& score = children.at("score");
  EXPECT_EQ(Metrics(score)["auc"], 0.875);
  EXPECT_EQ(Metrics(score).count("note"), 0u);

  // Unchanged: both steps are cache hits, recorded as such in a new pipeline run.
  auto second = RunSpec(kSpec);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->cached, 2);
  auto tracked2 = recorder_->TrackingRunOf(second->run_id);
  ASSERT_TRUE(tracked2.has_value());
  EXPECT_NE(tracked2->run_id, tracked->run_id);
  auto again = Children(tracked2->run_id);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(Tags(again.at("make"))["cache_hit"], "true");
  EXPECT_EQ(Metrics(again.at("score"))["auc"], 0.875);  // from the restored metrics.json
}

TEST_F(LineageTest, FailedRunIsFailedInTracking) {
  auto r = RunSpec("name: bad\nsteps:\n  a: {run: \"exit 4\"}\n  b: {needs: [a], run: \"true\"}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  auto tracked = recorder_->TrackingRunOf(r->run_id);
  ASSERT_TRUE(tracked.has_value());
  tracked_experiment_ = tracked->experiment_id;
  auto parent = tracking_->GetRun(tracked->run_id);
  ASSERT_TRUE(parent.ok());
  EXPECT_EQ(parent->info.status, "FAILED");
  auto children = Children(tracked->run_id);
  EXPECT_EQ(children.at("a").info.status, "FAILED");
  EXPECT_EQ(children.at("b").info.status, "KILLED");
  EXPECT_EQ(Tags(children.at("b"))["cairn.step_status"], "not-run");
}

TEST_F(LineageTest, RegisteredVersionPointsAtThePipelineRunAndPromoteSetsTheAlias) {
  // A minimal MLflow model folder (register checks for MLmodel; it does not load the model).
  fs::create_directories(dir_ / "work" / "model");
  std::ofstream(dir_ / "work" / "model" / "MLmodel") << "flavors: {}\n";
  std::ofstream(dir_ / "work" / "model" / "model.ubj") << "x";
  auto r = RunSpec(
      "name: reg\n"
      "steps:\n"
      "  register:\n"
      "    type: register\n"
      "    inputs: [model]\n"
      "    with: {model: model, name: credit}\n"
      "    outputs: [out/version.json]\n"
      "  promote:\n"
      "    type: promote\n"
      "    inputs: [out/version.json]\n"
      "    with: {registered: out/version.json, alias: test}\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->ok) << r->steps[0].message << " / " << r->steps[1].message;
  auto tracked = recorder_->TrackingRunOf(r->run_id);
  ASSERT_TRUE(tracked.has_value());
  auto mv = registry_->GetModelVersionByAlias("credit", "test");
  ASSERT_TRUE(mv.ok()) << mv.status().ToString();
  EXPECT_EQ(mv->version, 1);
  ASSERT_TRUE(mv->run_id.has_value());
  EXPECT_EQ(*mv->run_id, tracked->run_id);
  ASSERT_TRUE(mv->source.has_value());
  EXPECT_EQ(*mv->source, "runs:/" + tracked->run_id + "/model");
  // The model files were logged to the pipeline's run.
  std::string rel = tracked->artifact_uri.substr(std::string("mlflow-artifacts:/").size());
  EXPECT_TRUE(fs::exists(dir_ / "artifacts" / rel / "model" / "MLmodel"));
  EXPECT_EQ(r->Find("register")->values.at("version"), "1");
}

TEST_F(LineageTest, RegisterWithoutTrackingFailsClearly) {
  StepTypeRegistry no_lineage = AllStepTypes(nullptr);
  fs::create_directories(dir_ / "work" / "model");
  std::ofstream(dir_ / "work" / "model" / "MLmodel") << "flavors: {}\n";
  auto spec = ParseSpec("name: r\nsteps:\n  r: {type: register, with: {model: model, name: m}}\n",
                        "pipeline.yaml", (dir_ / "work").string());
  ASSERT_TRUE(spec.ok());
  auto launcher = NewPosixProcessLauncher();
  Executor executor(launcher.get(), &SystemClock::Get(), &no_lineage);
  auto r = executor.Run(*spec, RunOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->steps[0].message.find("--tracking-uri"), std::string::npos) << r->steps[0].message;
}

}  // namespace
}  // namespace cairn::pipeline
