// `cairn demo`: seeds the embedded store with a small, real end-to-end story so a new user
// sees something worth opening: XGBoost models trained on NannyML's car-loan data (params,
// per-round learning curves, the model file as an artifact) and a production-monitoring run
// (monthly drift, data quality and realized AUC, the HTML report as an artifact), then the
// example pipeline (examples/car_loan: ingest → validate → train → evaluate → register →
// promote to `test`) with its lineage in the same store.
// Idempotent: a store that already holds the demo experiment is left alone.

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "artifacts/artifact_store.h"
#include "cli/command.h"
#include "cli/store_paths.h"
#include "common/clock.h"
#include "monitor/config.h"
#include "monitor/data_source.h"
#include "monitor/monitor.h"
#include "monitor/xgboost_c.h"
#include "cli/platform_stores.h"
#ifdef CAIRN_PIPELINE_HAVE_SERVICE
#include "pipeline/executor.h"
#include "pipeline/lineage.h"
#include "pipeline/platform_steps.h"
#include "pipeline/store_platform.h"
#endif

namespace cairn::cli {

namespace {

namespace xgb = monitor::xgb;

constexpr const char* kExperiment = "car-loan-demo";
const std::vector<std::string> kFeatures = {
    "car_value",           "salary_range",  "debt_to_income_ratio", "loan_length",
    "repaid_loan_on_prev_car", "size_of_downpayment", "driver_tenure"};

struct DemoFlags {
  std::string backend_store_uri;
  std::string artifacts_destination;
  std::string demo_dir = "demo";
  std::string pipeline;  // "" = <demo_dir>/../examples/car_loan/pipeline.yaml
};

// A dense row-major float matrix with NaN for missing, and labels.
struct Dataset {
  std::vector<float> x;
  std::vector<float> y;
  size_t rows = 0;
  size_t cols = 0;
};

StatusOr<Dataset> LoadTrainingData(const std::string& path) {
  auto source = monitor::OpenCsvFile(path);
  monitor::ReadOptions options;
  options.columns = kFeatures;
  options.columns.push_back("repaid");
  options.types["repaid"] = monitor::ColumnType::kContinuous;
  ASSIGN_OR_RETURN(monitor::Table table, source->Read(options));
  Dataset d;
  d.cols = kFeatures.size();
  d.rows = table.num_rows;
  d.x.assign(d.rows * d.cols, NAN);
  for (size_t c = 0; c < d.cols; ++c) {
    const monitor::Column* col = table.Find(kFeatures[c]);
    if (col == nullptr) return InvalidArgument("demo data lacks column " + kFeatures[c]);
    for (size_t r = 0; r < d.rows; ++r) {
      if (col->IsMissing(r)) continue;
      d.x[r * d.cols + c] = col->IsCategoricalLike()
                                ? static_cast<float>(col->codes[r])
                                : static_cast<float>(col->numbers[r]);
    }
  }
  const monitor::Column* target = table.Find("repaid");
  d.y.resize(d.rows);
  for (size_t r = 0; r < d.rows; ++r) d.y[r] = static_cast<float>(target->numbers[r]);
  return d;
}

struct TrainConfig {
  int max_depth;
  double eta;
  int rounds;
};

std::string ArtifactRel(const std::string& artifact_uri) {
  std::string rel = artifact_uri.substr(artifact_uri.find(':') + 1);
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  return rel;
}

Status TrainRun(tracking::TrackingStore& store, artifacts::LocalArtifactStore& artifacts,
                const std::string& experiment_id, const Dataset& data, const TrainConfig& cfg) {
  // Train on the first 80% of the reference period (in time order), validate on the rest.
  size_t n_train = data.rows * 8 / 10;
  DMatrixHandle dtrain = nullptr, dvalid = nullptr;
  RETURN_IF_ERROR(xgb::Check(XGDMatrixCreateFromMat(data.x.data(), n_train, data.cols, NAN, &dtrain),
                      "XGDMatrixCreateFromMat"));
  std::unique_ptr<void, int (*)(DMatrixHandle)> train_guard(dtrain, XGDMatrixFree);
  RETURN_IF_ERROR(xgb::Check(XGDMatrixCreateFromMat(data.x.data() + n_train * data.cols,
                                             data.rows - n_train, data.cols, NAN, &dvalid),
                      "XGDMatrixCreateFromMat"));
  std::unique_ptr<void, int (*)(DMatrixHandle)> valid_guard(dvalid, XGDMatrixFree);
  RETURN_IF_ERROR(xgb::Check(XGDMatrixSetFloatInfo(dtrain, "label", data.y.data(), n_train), "label"));
  RETURN_IF_ERROR(xgb::Check(XGDMatrixSetFloatInfo(dvalid, "label", data.y.data() + n_train,
                                            data.rows - n_train),
                      "label"));
  DMatrixHandle mats[2] = {dtrain, dvalid};
  const char* names[2] = {"train", "valid"};
  BoosterHandle booster = nullptr;
  RETURN_IF_ERROR(xgb::Check(XGBoosterCreate(mats, 2, &booster), "XGBoosterCreate"));
  std::unique_ptr<void, int (*)(BoosterHandle)> booster_guard(booster, XGBoosterFree);
  std::map<std::string, std::string> params = {
      {"objective", "binary:logistic"}, {"max_depth", std::to_string(cfg.max_depth)},
      {"eta", std::to_string(cfg.eta)}, {"nthread", "2"}, {"seed", "0"},
      {"tree_method", "hist"}};
  for (const auto& [k, v] : params) {
    RETURN_IF_ERROR(xgb::Check(XGBoosterSetParam(booster, k.c_str(), v.c_str()), "XGBoosterSetParam"));
  }
  RETURN_IF_ERROR(xgb::Check(XGBoosterSetParam(booster, "eval_metric", "logloss"), "eval_metric"));
  RETURN_IF_ERROR(xgb::Check(XGBoosterSetParam(booster, "eval_metric", "auc"), "eval_metric"));

  char run_name[64];
  std::snprintf(run_name, sizeof(run_name), "xgb-depth%d-eta%.2f", cfg.max_depth, cfg.eta);
  tracking::CreateRunRequest create;
  create.experiment_id = experiment_id;
  create.user_id = "cairn-demo";
  create.run_name = run_name;
  create.tags = {{"mlflow.source.name", "cairn demo"}, {"model_family", "xgboost"}};
  ASSIGN_OR_RETURN(tracking::Run run, store.CreateRun(std::move(create)));
  const std::string& run_id = run.info.run_id;

  tracking::LogBatchRequest batch;
  batch.run_id = run_id;
  for (const auto& [k, v] : params) batch.params.push_back({k, v});
  batch.params.push_back({"num_boost_round", std::to_string(cfg.rounds)});
  batch.params.push_back({"train_rows", std::to_string(n_train)});
  int64_t now = SystemClock::Get().NowMillis();
  std::map<std::string, double> last;
  for (int i = 0; i < cfg.rounds; ++i) {
    RETURN_IF_ERROR(xgb::Check(XGBoosterUpdateOneIter(booster, i, dtrain), "XGBoosterUpdateOneIter"));
    const char* eval = nullptr;
    RETURN_IF_ERROR(xgb::Check(XGBoosterEvalOneIter(booster, i, mats, names, 2, &eval), "eval"));
    last = xgb::ParseEval(eval);
    for (const auto& [k, v] : last) batch.metrics.push_back({k, v, now + i, i});
  }
  RETURN_IF_ERROR(store.LogBatch(std::move(batch)));

  std::string model_file = artifacts.staging_dir() + "/demo-model-" + run_id + ".json";
  RETURN_IF_ERROR(xgb::Check(XGBoosterSaveModel(booster, model_file.c_str()), "XGBoosterSaveModel"));
  RETURN_IF_ERROR(artifacts.PutFromFile(ArtifactRel(run.info.artifact_uri) + "/model/model.json",
                                        model_file));
  tracking::UpdateRunRequest done;
  done.run_id = run_id;
  done.status = "FINISHED";
  done.end_time = SystemClock::Get().NowMillis();
  RETURN_IF_ERROR(store.UpdateRun(done).status());
  std::fprintf(stderr, "  trained %s: valid-auc %.4f, valid-logloss %.4f\n", run_name,
               last["valid-auc"], last["valid-logloss"]);
  return OkStatus();
}

Status MonitorRun(tracking::TrackingStore& store, artifacts::LocalArtifactStore& artifacts,
                  const std::string& experiment_id, const std::string& demo_dir) {
  ASSIGN_OR_RETURN(monitor::MonitorConfig config,
                   monitor::LoadMonitorConfig(demo_dir + "/car_loan_monitor.yaml"));
  monitor::RunOptions options;
  options.progress = [](std::string_view line) {
    std::fprintf(stderr, "  %.*s\n", static_cast<int>(line.size()), line.data());
  };
  ASSIGN_OR_RETURN(monitor::MonitorResult result, monitor::RunMonitor(config, options));

  tracking::CreateRunRequest create;
  create.experiment_id = experiment_id;
  create.user_id = "cairn-demo";
  create.run_name = "production-monitoring";
  create.tags = {{"mlflow.source.name", "cairn demo"}, {"kind", "monitoring"}};
  ASSIGN_OR_RETURN(tracking::Run run, store.CreateRun(std::move(create)));

  // Drift and quality per analysis chunk become metric histories (step = month index).
  tracking::LogBatchRequest batch;
  batch.run_id = run.info.run_id;
  batch.params = {{"chunking", "monthly"},
                  {"reference_rows", std::to_string(result.reference_rows)},
                  {"analysis_rows", std::to_string(result.analysis_rows)}};
  int64_t now = SystemClock::Get().NowMillis();
  auto flush = [&]() -> Status {
    if (batch.metrics.empty()) return OkStatus();
    Status st = store.LogBatch(batch);
    batch.metrics.clear();
    batch.params.clear();
    return st;
  };
  // The analysis file carries the delayed targets, so the monitor also reports realized
  // performance per month; those records are logged as realized_<metric>.
  for (const auto& r : result.records) {
    if (r.period != "analysis" || std::isnan(r.value)) continue;
    bool realized = r.kind == "performance" || r.kind == "calibration";
    if (!realized && r.kind != "drift" && r.kind != "multivariate" &&
        r.metric != "missing_values_rate") {
      continue;
    }
    std::string key = realized          ? "realized_" + r.metric
                      : r.column == "*" ? r.metric
                                        : r.metric + "." + r.column;
    batch.metrics.push_back({key, r.value, now, r.chunk_index});
    if (batch.metrics.size() >= 900) RETURN_IF_ERROR(flush());
  }
  batch.metrics.push_back({"alerts", static_cast<double>(result.alert_count), now, 0});
  RETURN_IF_ERROR(flush());

  std::string out_dir = artifacts.staging_dir() + "/demo-monitor-" + run.info.run_id;
  RETURN_IF_ERROR(monitor::WriteOutputs(result, config, out_dir));
  std::string rel = ArtifactRel(run.info.artifact_uri) + "/monitoring";
  RETURN_IF_ERROR(artifacts.PutFromFile(rel + "/report.html", out_dir + "/report.html"));
  RETURN_IF_ERROR(artifacts.PutFromFile(rel + "/results.json", out_dir + "/results.json"));
  std::error_code ec;
  std::filesystem::remove_all(out_dir, ec);
  tracking::UpdateRunRequest done;
  done.run_id = run.info.run_id;
  done.status = "FINISHED";
  done.end_time = SystemClock::Get().NowMillis();
  RETURN_IF_ERROR(store.UpdateRun(done).status());
  std::fprintf(stderr, "  monitored %lld months: %lld alerts\n",
               static_cast<long long>(result.analysis_chunks),
               static_cast<long long>(result.alert_count));
  return OkStatus();
}

#ifdef CAIRN_PIPELINE_HAVE_SERVICE
// Runs the example pipeline on the demo's own data, in a copy beside the database, with its
// lineage and model version in the demo's store (pipeline/lineage.h).
Status PipelineRun(PlatformStores& stores, artifacts::LocalArtifactStore& artifacts,
                   const DemoFlags& flags, const std::string& db_path) {
  std::string source = flags.pipeline.empty()
                           ? flags.demo_dir + "/../examples/car_loan/pipeline.yaml"
                           : flags.pipeline;
  namespace fs = std::filesystem;
  fs::path work = fs::absolute(fs::path(db_path)).parent_path() / "demo-pipeline";
  std::error_code ec;
  fs::create_directories(work, ec);
  fs::copy_file(source, work / "pipeline.yaml", fs::copy_options::overwrite_existing, ec);
  if (ec) return NotFound("cannot copy the example pipeline " + source + ": " + ec.message());
  ASSIGN_OR_RETURN(pipeline::PipelineSpec spec,
                   pipeline::LoadSpec((work / "pipeline.yaml").string()));
  auto platform = pipeline::NewStorePlatform(stores.tracking.get(), stores.registry.get(),
                                             &artifacts, nullptr, "cairn-demo");
  pipeline::LineageOptions lineage_options;
  lineage_options.warn = [](const std::string& m) { std::fprintf(stderr, "  %s\n", m.c_str()); };
  pipeline::LineageRecorder lineage(platform.get(), &SystemClock::Get(), lineage_options);
  auto types = pipeline::AllStepTypes(&lineage);
  RETURN_IF_ERROR(pipeline::CheckStepTypes(spec, types));
  pipeline::RunOptions options;
  options.jobs = 2;
  options.observer = &lineage;
  // No step_binary: built-ins run in this process, as the demo's platform is stores with no
  // server running that a step's child process could reach (pipeline/executor.h).
  ASSIGN_OR_RETURN(auto data, pipeline::ParseParamOverride(
                                  spec, "data=" + fs::absolute(flags.demo_dir).string() +
                                            "/data/car_loan_reference.csv.gz"));
  options.params[data.first] = data.second;
  options.progress = [](const std::string& line) { std::fprintf(stderr, "  %s\n", line.c_str()); };
  auto launcher = pipeline::NewPosixProcessLauncher();
  pipeline::Executor executor(launcher.get(), &SystemClock::Get(), &types);
  ASSIGN_OR_RETURN(pipeline::RunResult result, executor.Run(spec, options));
  if (!result.ok) return Internal("the example pipeline failed (logs in " + result.run_dir + ")");
  return OkStatus();
}
#endif

Status SeedDemo(const DemoFlags& flags) {
  ASSIGN_OR_RETURN(StorePaths paths,
                   ResolveStorePaths(flags.backend_store_uri, flags.artifacts_destination));
  artifacts::LocalArtifactStore artifacts(paths.artifact_root);
  RETURN_IF_ERROR(artifacts.Init());
  ASSIGN_OR_RETURN(PlatformStores stores, OpenPlatformStores(paths.db_path));
  tracking::SqliteTrackingStore* store = stores.tracking.get();
  if (store->GetExperimentByName(kExperiment).ok()) {
    std::fprintf(stderr, "cairn demo: the store already holds the demo (experiment '%s')\n",
                 kExperiment);
    return OkStatus();
  }
  std::fprintf(stderr, "cairn demo: seeding experiment '%s' in %s\n", kExperiment,
               paths.db_path.c_str());
  ASSIGN_OR_RETURN(Dataset data, LoadTrainingData(flags.demo_dir + "/data/car_loan_reference.csv.gz"));
  ASSIGN_OR_RETURN(std::string experiment_id,
                   store->CreateExperiment(kExperiment, "", {{"project", "credit-risk"}}));
  for (const TrainConfig& cfg : {TrainConfig{2, 0.3, 40}, TrainConfig{4, 0.1, 60},
                                 TrainConfig{4, 0.3, 40}, TrainConfig{6, 0.1, 60}}) {
    RETURN_IF_ERROR(TrainRun(*store, artifacts, experiment_id, data, cfg));
  }
  RETURN_IF_ERROR(MonitorRun(*store, artifacts, experiment_id, flags.demo_dir));
#ifdef CAIRN_PIPELINE_HAVE_SERVICE
  std::fprintf(stderr, "cairn demo: running the example pipeline\n");
  RETURN_IF_ERROR(PipelineRun(stores, artifacts, flags, paths.db_path));
#endif
  std::fprintf(stderr, "cairn demo: done\n");
  return OkStatus();
}

void AddDemoCommand(CLI::App& app) {
  auto flags = std::make_shared<DemoFlags>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "Seed the store with a demo: XGBoost runs and production monitoring on car-loan data");
  cmd->add_option("--backend-store-uri", flags->backend_store_uri,
                  "Metadata store, sqlite:///PATH (default: sqlite:///cairn-data/cairn.db)");
  cmd->add_option("--artifacts-destination", flags->artifacts_destination,
                  "Folder for artifacts (default: cairn-data/artifacts)");
  cmd->add_option("--demo-dir", flags->demo_dir, "The repository's demo/ folder")
      ->capture_default_str();
  cmd->add_option("--pipeline", flags->pipeline,
                  "The example pipeline (default: <demo-dir>/../examples/car_loan/pipeline.yaml)");
  cmd->callback([flags] {
    Status st = SeedDemo(*flags);
    if (!st.ok()) {
      std::fprintf(stderr, "cairn demo: %s\n", st.message().c_str());
      SetExitCode(kExitFailed);
    }
  });
}

}  // namespace

CAIRN_REGISTER_COMMAND(AddDemoCommand);

}  // namespace cairn::cli
