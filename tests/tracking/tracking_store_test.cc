#include <gtest/gtest.h>

#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <regex>
#include <thread>

#include "common/clock.h"
#include "tracking/search_adapter.h"
#include "store/migrations.h"
#include "store/sqlite.h"
#include "tracking/sqlite_tracking_store.h"

namespace cairn::tracking {
namespace {

namespace fs = std::filesystem;
using TRun = ::cairn::tracking::Run;  // testing::Test has a Run() member

class TrackingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("cairn-tracking-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    SqliteTrackingStoreOptions options;
    options.clock = &clock_;
    auto s = SqliteTrackingStore::Open((dir_ / "mlflow.db").string(), options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  std::string NewExperiment(const std::string& name) {
    auto id = store_->CreateExperiment(name, "", {});
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }
  TRun NewRun(const std::string& experiment_id, const std::string& name = "") {
    CreateRunRequest req;
    req.experiment_id = experiment_id;
    req.user_id = "alice";
    req.run_name = name;
    req.start_time = clock_.NowMillis();
    clock_.AdvanceMillis(1);
    auto run = store_->CreateRun(req);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? *run : TRun{};
  }
  static Metric M(const std::string& key, double value, int64_t ts, int64_t step) {
    Metric m;
    m.key = key;
    m.value = value;
    m.timestamp = ts;
    m.step = step;
    return m;
  }
  static std::string TagValue(const std::vector<Tag>& tags, const std::string& key) {
    for (const Tag& t : tags) {
      if (t.key == key) return t.value;
    }
    return "<absent>";
  }

  FakeClock clock_{4102444800000};  // 2100-01-01: after the default experiment's real creation time
  fs::path dir_;
  std::unique_ptr<SqliteTrackingStore> store_;
};

TEST_F(TrackingStoreTest, DefaultExperimentExists) {
  auto e = store_->GetExperiment("0");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->name, "Default");
  EXPECT_EQ(e->artifact_location, "mlflow-artifacts:/0");
  EXPECT_EQ(e->lifecycle_stage, "active");
  auto by_name = store_->GetExperimentByName("Default");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->experiment_id, "0");
}

TEST_F(TrackingStoreTest, CreateExperimentAssignsIdsAndArtifactLocation) {
  auto id = store_->CreateExperiment("exp", "", {{"team", "ml"}});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "1");
  auto e = store_->GetExperiment("1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->artifact_location, "mlflow-artifacts:/1");
  EXPECT_EQ(e->creation_time, clock_.NowMillis());
  ASSERT_EQ(e->tags.size(), 1u);
  EXPECT_EQ(e->tags[0], (Tag{"team", "ml"}));
  auto custom = store_->CreateExperiment("exp2", "s3://bucket/x", {});
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ(store_->GetExperiment(*custom)->artifact_location, "s3://bucket/x");
}

TEST_F(TrackingStoreTest, DuplicateExperimentNameIsResourceAlreadyExists) {
  NewExperiment("exp");
  auto dup = store_->CreateExperiment("exp", "", {});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(dup.status().mlflow_error_code(), "RESOURCE_ALREADY_EXISTS");
  EXPECT_EQ(store_->CreateExperiment("", "", {}).status().code(), Code::kInvalidArgument);
}

TEST_F(TrackingStoreTest, UnknownExperimentIsNotFound) {
  EXPECT_EQ(store_->GetExperiment("42").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetExperiment("abc").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetExperimentByName("nope").status().code(), Code::kNotFound);
}

TEST_F(TrackingStoreTest, ExperimentTagsRenameDeleteRestore) {
  std::string id = NewExperiment("exp");
  ASSERT_TRUE(store_->SetExperimentTag(id, {"k", "v1"}).ok());
  ASSERT_TRUE(store_->SetExperimentTag(id, {"k", "v2"}).ok());
  EXPECT_EQ(TagValue(store_->GetExperiment(id)->tags, "k"), "v2");
  ASSERT_TRUE(store_->DeleteExperimentTag(id, "k").ok());
  EXPECT_EQ(store_->DeleteExperimentTag(id, "k").code(), Code::kNotFound);

  ASSERT_TRUE(store_->RenameExperiment(id, "renamed").ok());
  EXPECT_EQ(store_->GetExperimentByName("renamed")->experiment_id, id);
  NewExperiment("other");
  EXPECT_EQ(store_->RenameExperiment(id, "other").code(), Code::kAlreadyExists);

  TRun run = NewRun(id);
  ASSERT_TRUE(store_->DeleteExperiment(id).ok());
  EXPECT_EQ(store_->GetExperiment(id)->lifecycle_stage, "deleted");
  EXPECT_EQ(store_->GetRun(run.info.run_id)->info.lifecycle_stage, "deleted");
  EXPECT_EQ(store_->DeleteExperiment(id).code(), Code::kNotFound);
  EXPECT_EQ(store_->RenameExperiment(id, "again").code(), Code::kFailedPrecondition);
  EXPECT_EQ(store_->SetExperimentTag(id, {"k", "v"}).code(), Code::kInvalidArgument);
  CreateRunRequest req;
  req.experiment_id = id;
  EXPECT_EQ(store_->CreateRun(req).status().code(), Code::kInvalidArgument);

  ASSERT_TRUE(store_->RestoreExperiment(id).ok());
  EXPECT_EQ(store_->GetRun(run.info.run_id)->info.lifecycle_stage, "active");
}

TEST_F(TrackingStoreTest, CreateRunGeneratesNameAndUris) {
  std::string id = NewExperiment("exp");
  TRun run = NewRun(id);
  EXPECT_TRUE(std::regex_match(run.info.run_id, std::regex("[0-9a-f]{32}")));
  EXPECT_TRUE(std::regex_match(run.info.run_name, std::regex("[a-z]+-[a-z]+-[0-9]{1,3}")))
      << run.info.run_name;
  EXPECT_EQ(TagValue(run.data.tags, "mlflow.runName"), run.info.run_name);
  EXPECT_EQ(run.info.artifact_uri, "mlflow-artifacts:/" + id + "/" + run.info.run_id + "/artifacts");
  EXPECT_EQ(run.info.status, "RUNNING");
  EXPECT_EQ(run.info.user_id, "alice");
  EXPECT_EQ(run.info.experiment_id, id);
  EXPECT_FALSE(run.info.end_time.has_value());
}

TEST_F(TrackingStoreTest, RunNameAndTagStayInSync) {
  TRun run = NewRun("0", "first");
  EXPECT_EQ(run.info.run_name, "first");
  EXPECT_EQ(TagValue(run.data.tags, "mlflow.runName"), "first");

  CreateRunRequest from_tag;
  from_tag.tags = {{"mlflow.runName", "tagged"}};
  EXPECT_EQ(store_->CreateRun(from_tag)->info.run_name, "tagged");

  CreateRunRequest conflict;
  conflict.run_name = "a";
  conflict.tags = {{"mlflow.runName", "b"}};
  EXPECT_EQ(store_->CreateRun(conflict).status().code(), Code::kInvalidArgument);

  UpdateRunRequest up;
  up.run_id = run.info.run_id;
  up.run_name = "second";
  up.status = "FINISHED";
  up.end_time = 123;
  auto info = store_->UpdateRun(up);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->run_name, "second");
  EXPECT_EQ(info->status, "FINISHED");
  EXPECT_EQ(info->end_time, 123);
  EXPECT_EQ(TagValue(store_->GetRun(run.info.run_id)->data.tags, "mlflow.runName"), "second");

  ASSERT_TRUE(store_->SetTag(run.info.run_id, {"mlflow.runName", "third"}).ok());
  EXPECT_EQ(store_->GetRun(run.info.run_id)->info.run_name, "third");

  up.status = "BOGUS";
  EXPECT_EQ(store_->UpdateRun(up).status().code(), Code::kInvalidArgument);
}

TEST_F(TrackingStoreTest, UnknownRunIsNotFound) {
  const std::string missing = "0123456789abcdef0123456789abcdef";
  EXPECT_EQ(store_->GetRun(missing).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->LogParam(missing, {"a", "1"}).code(), Code::kNotFound);
  EXPECT_EQ(store_->LogMetric(missing, M("m", 1, 1, 0)).code(), Code::kNotFound);
  EXPECT_EQ(store_->DeleteRun(missing).code(), Code::kNotFound);
}

TEST_F(TrackingStoreTest, ParamsAreImmutable) {
  TRun run = NewRun("0");
  ASSERT_TRUE(store_->LogParam(run.info.run_id, {"lr", "0.1"}).ok());
  ASSERT_TRUE(store_->LogParam(run.info.run_id, {"lr", "0.1"}).ok());  // same value: no-op
  Status changed = store_->LogParam(run.info.run_id, {"lr", "0.2"});
  EXPECT_EQ(changed.code(), Code::kInvalidArgument);
  EXPECT_NE(changed.message().find("Changing param values is not allowed"), std::string::npos);
  auto got = store_->GetRun(run.info.run_id);
  ASSERT_EQ(got->data.params.size(), 1u);
  EXPECT_EQ(got->data.params[0], (Param{"lr", "0.1"}));
}

TEST_F(TrackingStoreTest, DeletedRunRefusesWritesAndRestoreAllowsThem) {
  TRun run = NewRun("0");
  ASSERT_TRUE(store_->DeleteRun(run.info.run_id).ok());
  EXPECT_EQ(store_->GetRun(run.info.run_id)->info.lifecycle_stage, "deleted");
  EXPECT_EQ(store_->LogParam(run.info.run_id, {"a", "1"}).code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->SetTag(run.info.run_id, {"a", "1"}).code(), Code::kInvalidArgument);
  LogBatchRequest batch;
  batch.run_id = run.info.run_id;
  batch.metrics = {M("m", 1, 1, 0)};
  EXPECT_EQ(store_->LogBatch(batch).code(), Code::kInvalidArgument);
  ASSERT_TRUE(store_->RestoreRun(run.info.run_id).ok());
  EXPECT_TRUE(store_->LogBatch(batch).ok());
}

TEST_F(TrackingStoreTest, LogBatchIsAllOrNothing) {
  TRun run = NewRun("0");
  ASSERT_TRUE(store_->LogParam(run.info.run_id, {"p", "old"}).ok());
  LogBatchRequest batch;
  batch.run_id = run.info.run_id;
  for (int i = 0; i < 50; ++i) batch.metrics.push_back(M("loss", i, 1000 + i, i));
  batch.tags = {{"t", "v"}};
  batch.params = {{"q", "1"}, {"p", "new"}};  // the second conflicts
  EXPECT_EQ(store_->LogBatch(batch).code(), Code::kInvalidArgument);
  auto got = store_->GetRun(run.info.run_id);
  EXPECT_TRUE(got->data.metrics.empty());
  EXPECT_EQ(got->data.params.size(), 1u);
  EXPECT_EQ(TagValue(got->data.tags, "t"), "<absent>");
  MetricHistoryRequest h{run.info.run_id, "loss", std::nullopt, ""};
  EXPECT_TRUE(store_->GetMetricHistory(h)->metrics.empty());

  batch.params = {{"q", "1"}, {"q", "2"}};
  Status dup = store_->LogBatch(batch);
  EXPECT_EQ(dup.code(), Code::kInvalidArgument);
  EXPECT_NE(dup.message().find("Duplicate parameter keys"), std::string::npos);

  batch.params = {{"q", "1"}};
  ASSERT_TRUE(store_->LogBatch(batch).ok());
  EXPECT_EQ(store_->GetMetricHistory(h)->metrics.size(), 50u);

  LogBatchRequest too_many;
  too_many.run_id = run.info.run_id;
  too_many.metrics.assign(1001, M("m", 1, 1, 0));
  EXPECT_EQ(store_->LogBatch(too_many).code(), Code::kInvalidArgument);
}

TEST_F(TrackingStoreTest, LatestMetricIsMaxOfStepTimestampValue) {
  TRun run = NewRun("0");
  const std::string& id = run.info.run_id;
  ASSERT_TRUE(store_->LogMetric(id, M("m", 3, 5, 1)).ok());
  ASSERT_TRUE(store_->LogMetric(id, M("m", 1, 1, 2)).ok());    // higher step wins
  ASSERT_TRUE(store_->LogMetric(id, M("m", 0.5, 1, 2)).ok());  // same step+ts, lower value
  ASSERT_TRUE(store_->LogMetric(id, M("m", 9, 0, 1)).ok());    // older step
  auto run2 = store_->GetRun(id);
  ASSERT_EQ(run2->data.metrics.size(), 1u);
  EXPECT_EQ(run2->data.metrics[0].value, 1);
  EXPECT_EQ(run2->data.metrics[0].step, 2);
  // Within one batch too.
  LogBatchRequest batch;
  batch.run_id = id;
  batch.metrics = {M("b", 7, 10, 5), M("b", 2, 11, 5), M("b", 100, 1, 4)};
  ASSERT_TRUE(store_->LogBatch(batch).ok());
  auto after = store_->GetRun(id);
  ASSERT_TRUE(after.ok());
  for (const Metric& m : after->data.metrics) {
    if (m.key == "b") {
      EXPECT_EQ(m.value, 2);
    }
  }
}

TEST_F(TrackingStoreTest, NanAndInfinityAreStoredLikeMlflow) {
  TRun run = NewRun("0");
  const std::string& id = run.info.run_id;
  ASSERT_TRUE(store_->LogMetric(id, M("nan", NAN, 1, 0)).ok());
  ASSERT_TRUE(store_->LogMetric(id, M("inf", INFINITY, 1, 0)).ok());
  ASSERT_TRUE(store_->LogMetric(id, M("ninf", -INFINITY, 1, 0)).ok());
  auto hist = [&](const std::string& key) {
    return store_->GetMetricHistory({id, key, std::nullopt, ""})->metrics.at(0).value;
  };
  EXPECT_TRUE(std::isnan(hist("nan")));
  EXPECT_EQ(hist("inf"), DBL_MAX);
  EXPECT_EQ(hist("ninf"), -DBL_MAX);
  auto got = store_->GetRun(id);
  ASSERT_TRUE(got.ok());
  for (const Metric& m : got->data.metrics) {
    if (m.key == "nan") {
      EXPECT_TRUE(std::isnan(m.value));
    }
  }
  EXPECT_EQ(store_->LogMetric(id, M("neg", 1, -1, 0)).code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->LogMetric(id, M("../bad", 1, 1, 0)).code(), Code::kInvalidArgument);
}

TEST_F(TrackingStoreTest, MetricHistoryPagesInTimestampOrderAndDropsExactDuplicates) {
  TRun run = NewRun("0");
  const std::string& id = run.info.run_id;
  for (int i = 4; i >= 0; --i) ASSERT_TRUE(store_->LogMetric(id, M("m", i * 10, 100 + i, i)).ok());
  ASSERT_TRUE(store_->LogMetric(id, M("m", 0, 100, 0)).ok());  // exact duplicate
  std::vector<int64_t> steps;
  std::string token;
  int pages = 0;
  do {
    auto page = store_->GetMetricHistory({id, "m", 2, token});
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const Metric& m : page->metrics) steps.push_back(m.step);
    token = page->next_page_token;
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(steps, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(pages, 3);
  EXPECT_TRUE(store_->GetMetricHistory({id, "absent", std::nullopt, ""})->metrics.empty());
  EXPECT_EQ(store_->GetMetricHistory({id, "m", 2, "!!notatoken"}).status().code(),
            Code::kInvalidArgument);
}

TEST_F(TrackingStoreTest, BulkIntervalSamplesStepsKeepingEnds) {
  TRun a = NewRun("0"), b = NewRun("0");
  LogBatchRequest batch;
  batch.run_id = a.info.run_id;
  for (int s = 0; s < 10; ++s) batch.metrics.push_back(M("m", s, 1000 + s, s));
  ASSERT_TRUE(store_->LogBatch(batch).ok());
  ASSERT_TRUE(store_->LogMetric(b.info.run_id, M("m", 1, 1, 7)).ok());
  MetricHistoryBulkIntervalRequest req;
  req.run_ids = {a.info.run_id, b.info.run_id};
  req.metric_key = "m";
  req.max_results = 3;
  auto got = store_->GetMetricHistoryBulkInterval(req);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  // Steps 0..9, 3 samples: indexes 0, 3, 6 (interval 10/3), plus the last step 9 and each
  // run's min/max (0, 9 and 7) -> {0, 3, 6, 7, 9}; run b has only step 7.
  std::vector<std::pair<std::string, int64_t>> rows;
  for (const Metric& m : *got) rows.push_back({*m.run_id, m.step});
  std::vector<std::pair<std::string, int64_t>> expected = {
      {a.info.run_id, 0}, {a.info.run_id, 3}, {a.info.run_id, 6}, {a.info.run_id, 7},
      {a.info.run_id, 9}, {b.info.run_id, 7}};
  EXPECT_EQ(rows, expected);
  req.start_step = 5;
  EXPECT_EQ(store_->GetMetricHistoryBulkInterval(req).status().code(), Code::kInvalidArgument);
  req.max_results = 0;
  req.start_step.reset();
  EXPECT_EQ(store_->GetMetricHistoryBulkInterval(req).status().code(), Code::kInvalidArgument);
}

TEST_F(TrackingStoreTest, InputsAndOutputs) {
  TRun run = NewRun("0");
  const std::string& id = run.info.run_id;
  DatasetInput d1;
  d1.dataset = {"train", "abc123", "local", "/data/train.csv", "{\"cols\":[]}", std::nullopt};
  d1.tags = {{"mlflow.data.context", "training"}};
  DatasetInput d1_again = d1;
  d1_again.dataset.source = "ignored";
  ASSERT_TRUE(store_->LogInputs(id, {d1, d1_again}, {{"m-0123"}}).ok());
  ASSERT_TRUE(store_->LogInputs(id, {d1}, {}).ok());  // already linked: no second input
  ASSERT_TRUE(store_->LogOutputs(id, {{"m-abc", 3}}).ok());
  auto got = store_->GetRun(id);
  ASSERT_EQ(got->inputs.dataset_inputs.size(), 1u);
  EXPECT_EQ(got->inputs.dataset_inputs[0].dataset.source, "/data/train.csv");
  EXPECT_EQ(got->inputs.dataset_inputs[0].dataset.schema, "{\"cols\":[]}");
  EXPECT_FALSE(got->inputs.dataset_inputs[0].dataset.profile.has_value());
  EXPECT_EQ(got->inputs.dataset_inputs[0].tags, d1.tags);
  ASSERT_EQ(got->inputs.model_inputs.size(), 1u);
  EXPECT_EQ(got->inputs.model_inputs[0].model_id, "m-0123");
  ASSERT_EQ(got->outputs.model_outputs.size(), 1u);
  EXPECT_EQ(got->outputs.model_outputs[0].model_id, "m-abc");
  EXPECT_EQ(got->outputs.model_outputs[0].step, 3);
  DatasetInput bad = d1;
  bad.dataset.digest = std::string(37, 'x');
  EXPECT_EQ(store_->LogInputs(id, {bad}, {}).code(), Code::kInvalidArgument);
}

std::string Describe(const TRun& r) {
  std::string out = r.info.run_id + "|" + r.info.run_name + "|" + r.info.experiment_id + "|" +
                    r.info.user_id + "|" + r.info.status + "|" +
                    std::to_string(r.info.start_time.value_or(-1)) + "|" +
                    std::to_string(r.info.end_time.value_or(-1)) + "|" + r.info.artifact_uri +
                    "|" + r.info.lifecycle_stage + "\n";
  for (const Metric& m : r.data.metrics) {
    out += "m " + m.key + "=" + std::to_string(m.value) + "@" + std::to_string(m.step) + "\n";
  }
  for (const Param& p : r.data.params) out += "p " + p.key + "=" + p.value + "\n";
  for (const Tag& t : r.data.tags) out += "t " + t.key + "=" + t.value + "\n";
  for (const DatasetInput& d : r.inputs.dataset_inputs) {
    out += "d " + d.dataset.name + "/" + d.dataset.digest + "/" + d.dataset.source + "/" +
           d.dataset.schema.value_or("-") + "\n";
    for (const Tag& t : d.tags) out += "  dt " + t.key + "=" + t.value + "\n";
  }
  for (const ModelInput& m : r.inputs.model_inputs) out += "mi " + m.model_id + "\n";
  for (const ModelOutput& m : r.outputs.model_outputs) {
    out += "mo " + m.model_id + "@" + std::to_string(m.step) + "\n";
  }
  return out;
}

TEST_F(TrackingStoreTest, SearchResultsCarryTheWholeRunLikeGetRun) {
  std::string exp = NewExperiment("whole");
  for (int i = 0; i < 3; ++i) {
    TRun run = NewRun(exp);
    const std::string& id = run.info.run_id;
    LogBatchRequest b;
    b.run_id = id;
    b.metrics = {M("a", i, 1, 0), M("b", NAN, 2, 3)};
    b.params = {{"p", std::to_string(i)}};
    b.tags = {{"t", "x" + std::to_string(i)}};
    ASSERT_TRUE(store_->LogBatch(b).ok());
    if (i != 1) {
      DatasetInput d;
      d.dataset = {"ds" + std::to_string(i), "dg", "local", "/src", "{}", std::nullopt};
      d.tags = {{"mlflow.data.context", "train"}, {"k", "v"}};
      ASSERT_TRUE(store_->LogInputs(id, {d}, {{"m-in"}}).ok());
      ASSERT_TRUE(store_->LogOutputs(id, {{"m-out", 4}}).ok());
    }
  }
  SearchRunsRequest req;
  req.experiment_ids = {exp};
  auto res = store_->SearchRuns(req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  ASSERT_EQ(res->runs.size(), 3u);
  for (const TRun& r : res->runs) {
    auto single = store_->GetRun(r.info.run_id);
    ASSERT_TRUE(single.ok());
    EXPECT_EQ(Describe(r), Describe(*single));
  }
  EXPECT_EQ(res->runs[0].inputs.dataset_inputs.size(), 1u);  // newest first: i = 2
  EXPECT_EQ(res->runs[0].inputs.dataset_inputs[0].tags.size(), 2u);
  EXPECT_TRUE(res->runs[1].inputs.dataset_inputs.empty());
}

TEST_F(TrackingStoreTest, LoggedModelLifecycle) {
  std::string exp = NewExperiment("exp");
  TRun run = NewRun(exp);
  CreateLoggedModelRequest req;
  req.experiment_id = exp;
  req.name = "model";
  req.model_type = "xgboost";
  req.source_run_id = run.info.run_id;
  req.params = {{"depth", "6"}};
  req.tags = {{"t", "1"}};
  auto m = store_->CreateLoggedModel(req);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(std::regex_match(m->model_id, std::regex("m-[0-9a-f]{32}")));
  EXPECT_EQ(m->artifact_uri, "mlflow-artifacts:/" + exp + "/models/" + m->model_id + "/artifacts");
  EXPECT_EQ(m->status, "LOGGED_MODEL_PENDING");
  EXPECT_EQ(m->params, req.params);
  EXPECT_EQ(m->tags, req.tags);

  // Metrics logged with the model id show up on the model.
  Metric metric = M("acc", 0.9, 5, 1);
  metric.model_id = m->model_id;
  ASSERT_TRUE(store_->LogMetric(run.info.run_id, metric).ok());
  auto again = store_->GetLoggedModel(m->model_id);
  ASSERT_EQ(again->metrics.size(), 1u);
  EXPECT_EQ(again->metrics[0].run_id, run.info.run_id);

  auto ready = store_->FinalizeLoggedModel(m->model_id, "LOGGED_MODEL_READY");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, "LOGGED_MODEL_READY");
  EXPECT_EQ(store_->FinalizeLoggedModel(m->model_id, "BAD").status().code(),
            Code::kInvalidArgument);
  ASSERT_TRUE(store_->SetLoggedModelTags(m->model_id, {{"t", "2"}, {"u", "3"}}).ok());
  ASSERT_TRUE(store_->DeleteLoggedModelTag(m->model_id, "u").ok());
  EXPECT_EQ(store_->DeleteLoggedModelTag(m->model_id, "u").code(), Code::kNotFound);
  ASSERT_TRUE(store_->LogLoggedModelParams(m->model_id, {{"eta", "0.3"}}).ok());
  again = store_->GetLoggedModel(m->model_id);
  EXPECT_EQ(again->tags, (std::vector<Tag>{{"t", "2"}}));
  EXPECT_EQ(again->params.size(), 2u);

  CreateLoggedModelRequest unnamed;
  unnamed.experiment_id = exp;
  auto m2 = store_->CreateLoggedModel(unnamed);
  ASSERT_TRUE(m2.ok());
  EXPECT_FALSE(m2->name.empty());
  unnamed.name = "a/b";
  EXPECT_EQ(store_->CreateLoggedModel(unnamed).status().code(), Code::kInvalidArgument);
  unnamed.experiment_id = "999";
  unnamed.name.reset();
  EXPECT_EQ(store_->CreateLoggedModel(unnamed).status().code(), Code::kNotFound);

  SearchLoggedModelsRequest search;
  search.experiment_ids = {exp};
  search.max_results = 1;
  auto page1 = store_->SearchLoggedModels(search);
  ASSERT_TRUE(page1.ok()) << page1.status().ToString();
  ASSERT_EQ(page1->models.size(), 1u);
  EXPECT_FALSE(page1->next_page_token.empty());
  search.page_token = page1->next_page_token;
  auto page2 = store_->SearchLoggedModels(search);
  ASSERT_EQ(page2->models.size(), 1u);
  EXPECT_TRUE(page2->next_page_token.empty());
  EXPECT_NE(page1->models[0].model_id, page2->models[0].model_id);
  if (search_adapter::HaveSearchGrammar()) {
    // MLflow's logged-model tokens remember the query they belong to.
    SearchLoggedModelsRequest other = search;
    other.filter = "name = 'model'";
    EXPECT_EQ(store_->SearchLoggedModels(other).status().code(), Code::kInvalidArgument);
  }

  ASSERT_TRUE(store_->DeleteLoggedModel(m->model_id).ok());
  EXPECT_EQ(store_->GetLoggedModel(m->model_id).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetLoggedModel("m-nope").status().code(), Code::kNotFound);
  search.page_token.clear();
  search.max_results = 50;
  EXPECT_EQ(store_->SearchLoggedModels(search)->models.size(), 1u);
}

TEST_F(TrackingStoreTest, SearchRunsDefaultOrderViewTypeAndPaging) {
  std::string exp = NewExperiment("exp");
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(NewRun(exp).info.run_id);  // increasing start_time
  ASSERT_TRUE(store_->DeleteRun(ids[0]).ok());
  SearchRunsRequest req;
  req.experiment_ids = {exp};
  req.max_results = 2;
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    req.page_token = token;
    auto page = store_->SearchRuns(req);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const TRun& r : page->runs) seen.push_back(r.info.run_id);
    token = page->next_page_token;
    ++pages;
  } while (!token.empty() && pages < 10);
  // Newest first; deleted run hidden; like MLflow, a full last page still offers a token.
  EXPECT_EQ(seen, (std::vector<std::string>{ids[4], ids[3], ids[2], ids[1]}));
  EXPECT_EQ(pages, 3);
  req.page_token.clear();
  req.max_results = 100;
  req.view_type = ViewType::kDeletedOnly;
  auto deleted = store_->SearchRuns(req);
  ASSERT_EQ(deleted->runs.size(), 1u);
  EXPECT_EQ(deleted->runs[0].info.run_id, ids[0]);
  req.view_type = ViewType::kAll;
  EXPECT_EQ(store_->SearchRuns(req)->runs.size(), 5u);
  req.max_results = 50001;
  EXPECT_EQ(store_->SearchRuns(req).status().code(), Code::kInvalidArgument);
}

// A metric-ordered search answers from the metric's index (with or without running out of
// its work budget, then falling back to the full query) exactly as the full query does: the
// same runs, NaN then missing after the numbers, ties by start time and id, same pages.
TEST_F(TrackingStoreTest, MetricOrderedSearchIsTheSameWhicheverPlanAnswers) {
  if (!search_adapter::HaveSearchGrammar()) GTEST_SKIP() << "search grammar not in this build";
  std::string exp = NewExperiment("ordered");
  for (int i = 0; i < 300; ++i) {
    TRun run = NewRun(exp);
    LogBatchRequest b;
    b.run_id = run.info.run_id;
    if (i % 15 != 0) b.metrics.push_back(M("m", i % 10 == 0 ? NAN : (i * 37 % 100) / 100.0, 1, 0));
    b.metrics.push_back(M("other", i, 1, 0));
    b.params = {{"p", i % 70 == 3 ? "rare" : "common"}};
    ASSERT_TRUE(store_->LogBatch(b).ok());
  }
  auto all_pages = [&](SqliteTrackingStore& s, const std::string& filter,
                       const std::vector<std::string>& order_by, int page_size) {
    std::vector<std::string> out;
    SearchRunsRequest req;
    req.experiment_ids = {exp};
    req.filter = filter;
    req.order_by = order_by;
    req.max_results = page_size;
    for (int page = 0; page < 400; ++page) {
      auto res = s.SearchRuns(req);
      EXPECT_TRUE(res.ok()) << res.status().ToString();
      if (!res.ok()) break;
      for (const TRun& r : res->runs) out.push_back(r.info.run_id);
      out.push_back("|");  // page boundary
      if (res->next_page_token.empty()) break;
      req.page_token = res->next_page_token;
    }
    return out;
  };
  const std::string path = (dir_ / "mlflow.db").string();
  std::vector<std::unique_ptr<SqliteTrackingStore>> stores;
  for (int64_t budget : {int64_t{0}, int64_t{-1}, int64_t{1000}}) {
    SqliteTrackingStoreOptions options;
    options.metric_order_scan_budget = budget;
    auto s = SqliteTrackingStore::Open(path, options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    stores.push_back(std::move(s).value());
  }
  struct Shape {
    std::string filter;
    std::vector<std::string> order_by;
    int page_size;
  };
  const std::vector<Shape> shapes = {
      {"params.p = 'rare'", {"metrics.m DESC"}, 2},
      {"", {"metrics.m ASC"}, 37},
      {"", {"metrics.m DESC", "metrics.other ASC"}, 100},
      {"metrics.other >= 100", {"metrics.m"}, 50},
  };
  for (const Shape& shape : shapes) {
    // The planner's full query (budget 0) is the reference.
    const auto expected = all_pages(*stores[0], shape.filter, shape.order_by, shape.page_size);
    EXPECT_GT(expected.size(), 4u);
    EXPECT_EQ(all_pages(*stores[1], shape.filter, shape.order_by, shape.page_size), expected)
        << shape.filter;
    EXPECT_EQ(all_pages(*stores[2], shape.filter, shape.order_by, shape.page_size), expected)
        << shape.filter;
  }
  // NaN after numbers and missing after NaN, in MLflow's order: check the reference itself on
  // the unfiltered ascending search.
  SearchRunsRequest asc;
  asc.experiment_ids = {exp};
  asc.order_by = {"metrics.m ASC"};
  auto one = stores[0]->SearchRuns(asc);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->runs.size(), 300u);
  auto m_of = [](const TRun& r) -> std::optional<double> {
    for (const Metric& m : r.data.metrics) {
      if (m.key == "m") return m.value;
    }
    return std::nullopt;
  };
  int phase = 0;  // 0 numbers, 1 NaN, 2 missing
  double last = -1;
  for (const TRun& r : one->runs) {
    auto v = m_of(r);
    const int kind = !v ? 2 : std::isnan(*v) ? 1 : 0;
    EXPECT_GE(kind, phase);
    phase = kind;
    if (kind == 0) {
      EXPECT_GE(*v, last);
      last = *v;
    }
  }
  EXPECT_EQ(phase, 2);
}

// A database written before migration 6 (metric points keyed by the run's id) migrates
// forward: every point is still there, under the run's new integer key, and new runs and
// points go on from there.
TEST_F(TrackingStoreTest, MigrationSixKeysExistingMetricPointsByRunKey) {
  store_.reset();
  const std::string path = (dir_ / "old.db").string();
  {
    auto db = std::move(store::Database::Open(path)).value();
    ASSERT_TRUE(store::ApplyMigrations(*db, {SqliteTrackingStore::Migrations().front()}).ok());
    ASSERT_TRUE(db->Exec(R"sql(
INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, lifecycle_stage,
                  artifact_uri) VALUES
  ('aaaa0000000000000000000000000001', 'first', 0, 'u', 'RUNNING', 1, 'active', 'x'),
  ('aaaa0000000000000000000000000002', 'second', 0, 'u', 'RUNNING', 2, 'active', 'y');
INSERT INTO metrics (run_uuid, key, step, timestamp, value, is_nan) VALUES
  ('aaaa0000000000000000000000000001', 'loss', 0, 10, 0.5, 0),
  ('aaaa0000000000000000000000000001', 'loss', 1, 11, 0.25, 0),
  ('aaaa0000000000000000000000000002', 'loss', 0, 10, 0, 1);
INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES
  ('aaaa0000000000000000000000000001', 'loss', 0.25, 0, 11, 1),
  ('aaaa0000000000000000000000000002', 'loss', 0, 1, 10, 0);
)sql").ok());
  }
  auto opened = SqliteTrackingStore::Open(path);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store_ = std::move(opened).value();
  auto first = store_->GetMetricHistory({"aaaa0000000000000000000000000001", "loss", 100, ""});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->metrics.size(), 2u);
  EXPECT_EQ(first->metrics[0].value, 0.5);
  EXPECT_EQ(first->metrics[1].value, 0.25);
  auto second = store_->GetMetricHistory({"aaaa0000000000000000000000000002", "loss", 100, ""});
  ASSERT_EQ(second->metrics.size(), 1u);
  EXPECT_TRUE(std::isnan(second->metrics[0].value));
  // A new run gets the next key; its points do not mix with the migrated ones.
  TRun fresh = NewRun("0");
  ASSERT_TRUE(store_->LogMetric(fresh.info.run_id, M("loss", 9, 12, 0)).ok());
  ASSERT_TRUE(store_->LogMetric("aaaa0000000000000000000000000001", M("loss", 0.125, 12, 2)).ok());
  EXPECT_EQ(store_->GetMetricHistory({fresh.info.run_id, "loss", 100, ""})->metrics.size(), 1u);
  EXPECT_EQ(store_->GetMetricHistory({"aaaa0000000000000000000000000001", "loss", 100, ""})
                ->metrics.size(),
            3u);
  auto db = std::move(store::Database::Open(path)).value();
  auto keys = db->Prepare("SELECT COUNT(DISTINCT run_key), COUNT(*) FROM runs");
  ASSERT_TRUE(keys.ok() && *keys->Step());
  EXPECT_EQ(keys->Int64(0), 3);
  EXPECT_EQ(keys->Int64(1), 3);
}

// The row-per-point table that metric blocks replaced, as the reference for their read
// semantics: points go in with INSERT OR IGNORE on MLflow's primary key, histories come out of
// the same ORDER BY as before migration 7 (plus is_nan, which that order left unspecified
// between a 0 and a NaN of the same step and timestamp).
class RowPerPointReference {
 public:
  explicit RowPerPointReference(const std::string& path)
      : db_(std::move(store::Database::Open(path)).value()) {
    EXPECT_TRUE(db_->Exec(R"sql(
CREATE TABLE metrics (run_uuid TEXT, key TEXT, step INTEGER, timestamp INTEGER, value REAL,
  is_nan INTEGER, model_id TEXT, dataset_name TEXT, dataset_digest TEXT,
  PRIMARY KEY (run_uuid, key, step, timestamp, value, is_nan)) WITHOUT ROWID;)sql")
                    .ok());
  }
  void Begin() { ASSERT_TRUE(db_->Exec("BEGIN").ok()); }
  void Commit() { ASSERT_TRUE(db_->Exec("COMMIT").ok()); }
  void Log(const std::string& run_id, const Metric& m) {
    auto ins = db_->Cached("INSERT OR IGNORE INTO metrics VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    ASSERT_TRUE(ins.ok());
    const bool is_nan = std::isnan(m.value);
    const double stored = is_nan ? 0.0 : std::isinf(m.value) ? std::copysign(DBL_MAX, m.value) : m.value;
    (*ins)->Bind(1, run_id).Bind(2, m.key).Bind(3, m.step).Bind(4, m.timestamp).Bind(5, stored);
    (*ins)->Bind(6, int64_t{is_nan}).Bind(7, m.model_id).Bind(8, m.dataset_name);
    (*ins)->Bind(9, m.dataset_digest);
    ASSERT_TRUE((*ins)->Run().ok());
  }
  std::vector<Metric> History(const std::string& run_id, const std::string& key, bool by_step) {
    auto st = db_->Prepare(std::string("SELECT key, value, is_nan, timestamp, step, model_id, "
                                       "dataset_name, dataset_digest FROM metrics WHERE run_uuid = "
                                       "?1 AND key = ?2 ORDER BY ") +
                           (by_step ? "step, timestamp, value, is_nan"
                                    : "timestamp, step, value, is_nan"));
    EXPECT_TRUE(st.ok());
    st->Bind(1, run_id).Bind(2, key);
    std::vector<Metric> out;
    while (*st->Step()) {
      Metric m;
      m.key = st->Text(0);
      m.value = st->Int64(2) ? std::numeric_limits<double>::quiet_NaN() : st->Double(1);
      m.timestamp = st->Int64(3);
      m.step = st->Int64(4);
      m.model_id = st->OptionalText(5);
      m.dataset_name = st->OptionalText(6);
      m.dataset_digest = st->OptionalText(7);
      out.push_back(std::move(m));
    }
    return out;
  }

 private:
  std::unique_ptr<store::Database> db_;
};

// Every field, the value bit for bit (NaN as any NaN).
std::string Describe(const Metric& m) {
  uint64_t bits = 0;
  if (!std::isnan(m.value)) std::memcpy(&bits, &m.value, sizeof bits);
  return m.key + "|" + std::to_string(m.step) + "|" + std::to_string(m.timestamp) + "|" +
         (std::isnan(m.value) ? std::string("nan") : std::to_string(bits)) + "|" +
         m.model_id.value_or("-") + "|" + m.dataset_name.value_or("-") + "|" +
         m.dataset_digest.value_or("-") + "|" + m.run_id.value_or("-");
}
std::vector<std::string> Describe(const std::vector<Metric>& ms) {
  std::vector<std::string> out;
  for (const Metric& m : ms) out.push_back(Describe(m));
  return out;
}

// Random batches and single points full of exact duplicates (also across the compaction of a
// run's recent writes into per-key blocks, which both runs go through: one by points, one by
// number of writes), NaN, +-Inf, -0.0 and points naming a logged model: every history read
// answers what the row-per-point table answers.
TEST_F(TrackingStoreTest, MetricBlocksAnswerLikeTheRowPerPointTable) {
  RowPerPointReference ref((dir_ / "reference.db").string());
  TRun big = NewRun("0"), many = NewRun("0");
  std::mt19937 rng(42);
  const double values[] = {0.0, -0.0, 1.5, 2.0, std::nan(""),
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()};
  const std::vector<std::string> keys = {"loss", "acc", "lr"};
  auto random_point = [&] {
    Metric m = M(keys[rng() % keys.size()], values[rng() % 7], rng() % 20, rng() % 40);
    if (rng() % 50 == 0) m.model_id = "m-" + std::to_string(rng() % 3);
    if (rng() % 60 == 0) {
      m.dataset_name = "train";
      m.dataset_digest = "d" + std::to_string(rng() % 2);
    }
    return m;
  };
  // 80 batches of 500 to 1000 points: more than one compaction's worth of points.
  ref.Begin();
  for (int b = 0; b < 80; ++b) {
    LogBatchRequest batch;
    batch.run_id = big.info.run_id;
    const int n = 500 + static_cast<int>(rng() % 501);
    for (int i = 0; i < n; ++i) batch.metrics.push_back(random_point());
    ASSERT_TRUE(store_->LogBatch(batch).ok());
    for (const Metric& m : batch.metrics) ref.Log(big.info.run_id, m);
  }
  // 300 single points: more writes than the recent area holds.
  for (int i = 0; i < 300; ++i) {
    Metric m = random_point();
    ASSERT_TRUE(store_->LogMetric(many.info.run_id, m).ok());
    ref.Log(many.info.run_id, m);
  }
  ref.Commit();
  for (const TRun& run : {big, many}) {
    for (const std::string& key : {std::string("loss"), std::string("acc"), std::string("lr"),
                                   std::string("absent")}) {
      SCOPED_TRACE(run.info.run_id + " " + key);
      const std::vector<Metric> want = ref.History(run.info.run_id, key, /*by_step=*/false);
      auto all = store_->GetMetricHistory({run.info.run_id, key, std::nullopt, ""});
      ASSERT_TRUE(all.ok()) << all.status().ToString();
      EXPECT_EQ(Describe(all->metrics), Describe(want));
      // Paged, the pages concatenate to the same history.
      std::vector<Metric> paged;
      std::string token;
      const int page_size = run.info.run_id == big.info.run_id ? 1009 : 7;
      do {
        auto page = store_->GetMetricHistory({run.info.run_id, key, page_size, token});
        ASSERT_TRUE(page.ok()) << page.status().ToString();
        paged.insert(paged.end(), page->metrics.begin(), page->metrics.end());
        token = page->next_page_token;
      } while (!token.empty());
      EXPECT_EQ(Describe(paged), Describe(want));
      // Bulk interval over every step (fewer than max_results): the points in step order.
      MetricHistoryBulkIntervalRequest bulk;
      bulk.run_ids = {run.info.run_id};
      bulk.metric_key = key;
      auto got = store_->GetMetricHistoryBulkInterval(bulk);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      std::vector<Metric> by_step = ref.History(run.info.run_id, key, /*by_step=*/true);
      for (Metric& m : by_step) {
        m.model_id.reset();
        m.dataset_name.reset();
        m.dataset_digest.reset();
        m.run_id = run.info.run_id;
      }
      EXPECT_EQ(Describe(*got), Describe(by_step));
    }
  }
  // Both runs went through a compaction, and the points are in blocks, not rows.
  auto db = std::move(store::Database::Open((dir_ / "mlflow.db").string())).value();
  auto counts = db->Prepare("SELECT COUNT(DISTINCT run_key), SUM(n) FROM metric_blocks");
  ASSERT_TRUE(counts.ok() && *counts->Step());
  EXPECT_EQ(counts->Int64(0), 2);
  EXPECT_GT(counts->Int64(1), 40000);
}

// A database written before migration 7 (one row per point) migrates forward: every history
// reads back exactly as it did from the old table (a key with more points than one migrated
// block holds included), the old table is gone, and new points go on from there.
TEST_F(TrackingStoreTest, MigrationSevenPacksExistingMetricPointsIntoBlocks) {
  store_.reset();
  const std::string path = (dir_ / "v6.db").string();
  std::vector<store::Migration> up_to_six;
  for (const store::Migration& m : SqliteTrackingStore::Migrations()) {
    if (m.version <= 6) up_to_six.push_back(m);
  }
  const std::string run_a = "aaaa0000000000000000000000000001";
  const std::string run_b = "aaaa0000000000000000000000000002";
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> before;
  {
    auto db = std::move(store::Database::Open(path)).value();
    ASSERT_TRUE(store::ApplyMigrations(*db, up_to_six).ok());
    ASSERT_TRUE(db->Exec(R"sql(
INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, lifecycle_stage,
                  artifact_uri, run_key) VALUES
  ('aaaa0000000000000000000000000001', 'first', 0, 'u', 'RUNNING', 1, 'active', 'x', 1),
  ('aaaa0000000000000000000000000002', 'second', 0, 'u', 'RUNNING', 2, 'active', 'y', 2);
INSERT INTO metrics (run_key, key, step, timestamp, value, is_nan, model_id, dataset_name,
                     dataset_digest) VALUES
  (1, 'loss', 0, 10, 0.5, 0, NULL, NULL, NULL),
  (1, 'loss', 1, 11, 0.25, 0, 'm-1', 'eval', 'abc'),
  (1, 'loss', 1, 11, 0, 1, NULL, NULL, NULL),
  (1, 'acc', 5, 3, 1.7976931348623157e308, 0, NULL, NULL, NULL),
  (2, 'loss', 0, 10, 0, 1, NULL, NULL, NULL);
WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM i WHERE x < 2499)
INSERT INTO metrics (run_key, key, step, timestamp, value, is_nan)
  SELECT 2, 'long', x, 2500 - x, x * 0.5, 0 FROM i;
)sql").ok());
    // What the v6 store's history query answered.
    auto st = db->Prepare(
        "SELECT r.run_uuid, m.key, m.step, m.timestamp, m.value, m.is_nan, m.model_id, "
        "m.dataset_name, m.dataset_digest FROM metrics m JOIN runs r USING (run_key) "
        "ORDER BY r.run_uuid, m.key, m.timestamp, m.step, m.value, m.is_nan");
    ASSERT_TRUE(st.ok());
    while (*st->Step()) {
      Metric m;
      m.key = st->Text(1);
      m.step = st->Int64(2);
      m.timestamp = st->Int64(3);
      m.value = st->Int64(5) ? std::numeric_limits<double>::quiet_NaN() : st->Double(4);
      m.model_id = st->OptionalText(6);
      m.dataset_name = st->OptionalText(7);
      m.dataset_digest = st->OptionalText(8);
      before[{st->Text(0), m.key}].push_back(Describe(m));
    }
  }
  ASSERT_EQ(before.size(), 4u);
  auto opened = SqliteTrackingStore::Open(path);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store_ = std::move(opened).value();
  for (const auto& [run_key, want] : before) {
    auto got = store_->GetMetricHistory({run_key.first, run_key.second, std::nullopt, ""});
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(Describe(got->metrics), want) << run_key.first << " " << run_key.second;
  }
  EXPECT_EQ((before[{run_b, "long"}].size()), 2500u);
  ASSERT_TRUE(store_->LogMetric(run_a, M("loss", 0.125, 12, 2)).ok());
  ASSERT_TRUE(store_->LogMetric(run_a, M("loss", 0.5, 10, 0)).ok());  // an exact duplicate
  EXPECT_EQ(store_->GetMetricHistory({run_a, "loss", std::nullopt, ""})->metrics.size(), 4u);
  auto db = std::move(store::Database::Open(path)).value();
  auto old_table = db->Prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'metrics'");
  ASSERT_TRUE(old_table.ok() && *old_table->Step());
  EXPECT_EQ(old_table->Int64(0), 0);
  auto blocks = db->Prepare("SELECT COUNT(*), SUM(n) FROM metric_blocks WHERE run_key = 2");
  ASSERT_TRUE(blocks.ok() && *blocks->Step());
  EXPECT_EQ(blocks->Int64(0), 4);  // 'loss' and 'long' in blocks of at most 1000: 1 + 3
  EXPECT_EQ(blocks->Int64(1), 2501);
}

// A corrupt block in the database is a clear error on read, never a crash.
TEST_F(TrackingStoreTest, CorruptMetricBlockIsAnInternalError) {
  TRun run = NewRun("0");
  LogBatchRequest batch;
  batch.run_id = run.info.run_id;
  for (int i = 0; i < 10; ++i) batch.metrics.push_back(M("m", i, i, i));
  ASSERT_TRUE(store_->LogBatch(batch).ok());
  {
    auto db = std::move(store::Database::Open((dir_ / "mlflow.db").string())).value();
    ASSERT_TRUE(db->Exec("UPDATE metric_batches SET body = substr(body, 1, length(body) - 3)").ok());
  }
  auto got = store_->GetMetricHistory({run.info.run_id, "m", std::nullopt, ""});
  EXPECT_EQ(got.status().code(), Code::kInternal);
  EXPECT_NE(got.status().message().find("corrupt metric block"), std::string::npos)
      << got.status().ToString();
}

TEST_F(TrackingStoreTest, SearchWithFiltersAndOrderBy) {
  if (!search_adapter::HaveSearchGrammar()) GTEST_SKIP() << "search grammar not in this build";
  std::string exp = NewExperiment("searchable");
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    TRun run = NewRun(exp, "run-" + std::to_string(i));
    ids.push_back(run.info.run_id);
    LogBatchRequest b;
    b.run_id = run.info.run_id;
    b.metrics = {M("acc", 0.1 * i, 1, 0)};
    b.params = {{"model", i % 2 ? "xgb" : "linear"}};
    b.tags = {{"group", i < 3 ? "A" : "B"}};
    ASSERT_TRUE(store_->LogBatch(b).ok());
  }
  SearchRunsRequest req;
  req.experiment_ids = {exp};
  req.filter = "metrics.acc > 0.15 and params.model = 'xgb'";
  req.order_by = {"metrics.acc DESC"};
  auto res = store_->SearchRuns(req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  std::vector<std::string> got;
  for (const TRun& r : res->runs) got.push_back(r.info.run_id);
  EXPECT_EQ(got, (std::vector<std::string>{ids[5], ids[3]}));

  req.filter = "tags.group = 'A' and attributes.run_name LIKE 'run-%'";
  req.order_by = {"attributes.run_name ASC"};
  res = store_->SearchRuns(req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  got.clear();
  for (const TRun& r : res->runs) got.push_back(r.info.run_name);
  EXPECT_EQ(got, (std::vector<std::string>{"run-0", "run-1", "run-2"}));

  req.filter = "metrics.acc >";
  EXPECT_EQ(store_->SearchRuns(req).status().code(), Code::kInvalidArgument);

  SearchExperimentsRequest ereq;
  ereq.filter = "name LIKE 'search%'";
  auto exps = store_->SearchExperiments(ereq);
  ASSERT_TRUE(exps.ok()) << exps.status().ToString();
  ASSERT_EQ(exps->experiments.size(), 1u);
  EXPECT_EQ(exps->experiments[0].experiment_id, exp);

  CreateLoggedModelRequest mreq;
  mreq.experiment_id = exp;
  mreq.name = "wanted";
  ASSERT_TRUE(store_->CreateLoggedModel(mreq).ok());
  mreq.name = "other";
  ASSERT_TRUE(store_->CreateLoggedModel(mreq).ok());
  SearchLoggedModelsRequest lreq;
  lreq.experiment_ids = {exp};
  lreq.filter = "name = 'wanted'";
  auto models = store_->SearchLoggedModels(lreq);
  ASSERT_TRUE(models.ok()) << models.status().ToString();
  ASSERT_EQ(models->models.size(), 1u);
  EXPECT_EQ(models->models[0].name, "wanted");
}

TEST_F(TrackingStoreTest, SearchExperimentsViewTypeAndPaging) {
  for (int i = 0; i < 3; ++i) {
    NewExperiment("e" + std::to_string(i));
    clock_.AdvanceMillis(10);
  }
  ASSERT_TRUE(store_->DeleteExperiment("2").ok());
  SearchExperimentsRequest req;
  req.max_results = 2;
  auto page1 = store_->SearchExperiments(req);
  ASSERT_TRUE(page1.ok()) << page1.status().ToString();
  ASSERT_EQ(page1->experiments.size(), 2u);
  EXPECT_EQ(page1->experiments[0].name, "e2");  // creation_time DESC
  EXPECT_EQ(page1->experiments[1].name, "e0");
  ASSERT_FALSE(page1->next_page_token.empty());
  req.page_token = page1->next_page_token;
  auto page2 = store_->SearchExperiments(req);
  ASSERT_EQ(page2->experiments.size(), 1u);
  EXPECT_EQ(page2->experiments[0].name, "Default");
  EXPECT_TRUE(page2->next_page_token.empty());
  req.page_token.clear();
  req.view_type = ViewType::kDeletedOnly;
  auto deleted = store_->SearchExperiments(req);
  ASSERT_EQ(deleted->experiments.size(), 1u);
  EXPECT_EQ(deleted->experiments[0].name, "e1");
  req.max_results = 0;
  EXPECT_EQ(store_->SearchExperiments(req).status().code(), Code::kInvalidArgument);
}

TEST_F(TrackingStoreTest, ConcurrentBatchesIntoSameAndDifferentRunsAllLand) {
  TRun shared = NewRun("0");
  constexpr int kThreads = 8, kBatches = 10, kPerBatch = 200;
  std::vector<std::string> own(kThreads);
  for (int t = 0; t < kThreads; ++t) own[t] = NewRun("0").info.run_id;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        for (const std::string& run_id : {shared.info.run_id, own[t]}) {
          LogBatchRequest req;
          req.run_id = run_id;
          for (int i = 0; i < kPerBatch; ++i) {
            int step = b * kPerBatch + i;
            req.metrics.push_back(M("t" + std::to_string(t), step, 1000 + step, step));
          }
          req.params = {{"p" + std::to_string(t) + "_" + std::to_string(b), "v"}};
          Status st = store_->LogBatch(std::move(req));
          if (!st.ok()) {
            ++failures;
            ADD_FAILURE() << st.ToString();
          }
          // Reads run concurrently with the writes.
          if (!store_->GetRun(run_id).ok()) ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto shared_run = store_->GetRun(shared.info.run_id);
  ASSERT_TRUE(shared_run.ok());
  EXPECT_EQ(shared_run->data.params.size(), static_cast<size_t>(kThreads * kBatches));
  ASSERT_EQ(shared_run->data.metrics.size(), static_cast<size_t>(kThreads));
  for (const Metric& m : shared_run->data.metrics) {
    EXPECT_EQ(m.step, kBatches * kPerBatch - 1) << m.key;
  }
  for (int t = 0; t < kThreads; ++t) {
    const std::string key = "t" + std::to_string(t);
    EXPECT_EQ(store_->GetMetricHistory({shared.info.run_id, key, std::nullopt, ""})->metrics.size(),
              static_cast<size_t>(kBatches * kPerBatch));
    EXPECT_EQ(store_->GetMetricHistory({own[t], key, std::nullopt, ""})->metrics.size(),
              static_cast<size_t>(kBatches * kPerBatch));
  }
}

TEST(TrackingStoreOnPoolTest, SharesAPoolWithOtherModulesMigrations) {
  auto dir = fs::temp_directory_path() / ("cairn-tracking-pool-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<store::Migration> all = SqliteTrackingStore::Migrations();
  // Another module's migration, numbered after tracking's in the shared sequence.
  all.push_back({all.back().version + 1, "another module", "CREATE TABLE other_module (x INTEGER)"});
  {
    auto pool = store::ConnectionPool::Open((dir / "db").string(), all);
    ASSERT_TRUE(pool.ok()) << pool.status().ToString();
    auto s = SqliteTrackingStore::OnPool(**pool);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ((*s)->GetExperiment("0")->artifact_location, "mlflow-artifacts:/0");
    EXPECT_TRUE((*s)->CreateExperiment("e", "", {}).ok());
  }
  // Opening that file with the tracking migrations alone is refused, clearly (it carries a
  // newer version than tracking knows).
  auto alone = SqliteTrackingStore::Open((dir / "db").string());
  EXPECT_EQ(alone.status().code(), Code::kFailedPrecondition);
  fs::remove_all(dir);
}

TEST_F(TrackingStoreTest, DataSurvivesReopen) {
  std::string exp = NewExperiment("persist");
  TRun run = NewRun(exp, "kept");
  ASSERT_TRUE(store_->LogMetric(run.info.run_id, M("m", 1.5, 1, 0)).ok());
  Reopen();
  auto got = store_->GetRun(run.info.run_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->info.run_name, "kept");
  ASSERT_EQ(got->data.metrics.size(), 1u);
  EXPECT_EQ(got->data.metrics[0].value, 1.5);
  EXPECT_EQ(store_->GetExperimentByName("persist")->experiment_id, exp);
  EXPECT_EQ(NewExperiment("next"), "2");  // ids keep increasing
}

}  // namespace
}  // namespace cairn::tracking
