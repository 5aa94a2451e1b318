// Argo and KFP compilers: structure, and the memoize key equal to the local cache key.
// (tests/pipeline/test_pipeline_compile.py validates the Argo output against Argo's schema.)

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "pipeline/compile.h"
#include "pipeline/executor.h"
#include "pipeline/process.h"
#include "pipeline/spec.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace cairn::pipeline {
namespace {

constexpr const char* kSpec = R"(
name: Train_Model
image: ghcr.io/acme/cairn:1
params:
  lr: {type: float, default: 0.1}
  regions: [eu, us]
steps:
  prep:
    run: "mkdir -p out && cp data/raw.csv out/clean.csv"
    inputs: [data/raw.csv]
    outputs: [out/clean.csv]
  train:
    run: "echo ${params.lr} > out/model.txt; cat out/clean.csv >> out/model.txt"
    inputs: [out/clean.csv]
    outputs: [out/model.txt]
    retries: {limit: 2, backoff: 10s, factor: 2, max_backoff: 2m}
    timeout: 90s
  evaluate:
    run: "echo auc=0.9 > $CAIRN_OUTPUTS"
    needs: [train]
    cache: false
  register:
    when: steps.evaluate.outputs.auc > 0.8
    run: "true"
  per_region:
    needs: [prep]
    foreach: ${params.regions}
    run: "echo ${item} > out/${item}.txt"
    outputs: ["out/${item}.txt"]
)";

class CompileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cairn-compile-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
    std::ofstream(dir_ / "data/raw.csv") << "a,b\n1,2\n";
    std::ofstream(dir_ / "pipeline.yaml") << kSpec;
    auto spec = LoadSpec((dir_ / "pipeline.yaml").string());
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    spec_ = *spec;
  }
  void TearDown() override { fs::remove_all(dir_); }

  json Compile(bool argo, PipelineSpec spec) {
    CompileOptions o;
    o.json = true;
    auto out = argo ? CompileArgo(spec, o) : CompileKfp(spec, o);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return json::parse(out.ok() ? *out : "{}");
  }

  static const json* Find(const json& list, const std::string& name) {
    for (const auto& x : list) {
      if (x.value("name", "") == name) return &x;
    }
    return nullptr;
  }

  fs::path dir_;
  PipelineSpec spec_;
};

TEST_F(CompileTest, ArgoWorkflowStructure) {
  json wf = Compile(true, spec_);
  EXPECT_EQ(wf["apiVersion"], "argoproj.io/v1alpha1");
  EXPECT_EQ(wf["kind"], "Workflow");
  EXPECT_EQ(wf["metadata"]["generateName"], "train-model-");
  const json& spec = wf["spec"];
  EXPECT_EQ(spec["entrypoint"], "main");
  EXPECT_EQ(spec["arguments"]["parameters"][0], (json{{"name", "lr"}, {"value", "0.1"}}));
  const json& tasks = spec["templates"][0]["dag"]["tasks"];
  ASSERT_EQ(tasks.size(), 5u);
  // The implicit edge (train reads prep's output) is explicit in Argo.
  EXPECT_EQ((*Find(tasks, "train"))["depends"], "prep");
  EXPECT_EQ((*Find(tasks, "train"))["arguments"]["artifacts"][0]["from"],
            "{{tasks.prep.outputs.artifacts.out-0}}");
  EXPECT_EQ((*Find(tasks, "register"))["when"],
            "({{tasks.evaluate.outputs.parameters.auc}} > 0.8)");
  EXPECT_EQ((*Find(tasks, "per-region"))["withItems"].size(), 2u);
  EXPECT_EQ((*Find(tasks, "per-region"))["withItems"][0]["instance"], "per_region[eu]");

  const json& train = *Find(spec["templates"], "train");
  EXPECT_EQ(train["retryStrategy"]["limit"], "2");
  EXPECT_EQ(train["retryStrategy"]["backoff"]["duration"], "10s");
  EXPECT_EQ(train["retryStrategy"]["backoff"]["factor"], "2");
  EXPECT_EQ(train["retryStrategy"]["backoff"]["cap"], "120s");
  EXPECT_EQ(train["activeDeadlineSeconds"], "90");
  EXPECT_EQ(train["memoize"]["key"], "{{inputs.parameters.cairn-cache-key}}");
  EXPECT_EQ(train["container"]["image"], "ghcr.io/acme/cairn:1");
  EXPECT_EQ(train["container"]["command"],
            (json{"cairn", "pipeline", "step", "/pipeline/pipeline.yaml", "train", "--param",
                  "lr={{inputs.parameters.lr}}"}));
  const json& evaluate = *Find(spec["templates"], "evaluate");
  EXPECT_FALSE(evaluate.contains("memoize"));  // cache: false
  EXPECT_EQ(evaluate["outputs"]["parameters"][0]["valueFrom"]["path"], "/tmp/cairn-outputs/auc");
}

// `cairn pipeline step` resolves inputs and outputs against the spec's folder (as a local run
// does), so each container works there and Argo places and collects the artifacts there: with
// any other folder the first step's outputs are never found.
TEST_F(CompileTest, ArgoStepsWorkAndPassArtifactsInTheSpecsFolder) {
  CompileOptions o;
  o.json = true;
  o.spec_path_in_image = "/opt/flows/car/pipeline.yaml";
  auto out = CompileArgo(spec_, o);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  json wf = json::parse(*out);
  const json& templates = wf["spec"]["templates"];
  const json& prep = *Find(templates, "prep");
  EXPECT_EQ(prep["container"]["workingDir"], "/opt/flows/car");
  EXPECT_EQ(prep["outputs"]["artifacts"][0]["path"], "/opt/flows/car/out/clean.csv");
  const json& train = *Find(templates, "train");
  EXPECT_EQ(train["container"]["workingDir"], "/opt/flows/car");
  EXPECT_EQ(train["inputs"]["artifacts"][0]["path"], "/opt/flows/car/out/clean.csv");
  EXPECT_EQ(train["container"]["command"][3], "/opt/flows/car/pipeline.yaml");

  // The default: the spec at /pipeline/pipeline.yaml, as the Dockerfile's pipeline images hold it.
  json def = Compile(true, spec_);
  EXPECT_EQ((*Find(def["spec"]["templates"], "prep"))["container"]["workingDir"], "/pipeline");

  o.spec_path_in_image = "pipeline.yaml";
  auto relative = CompileArgo(spec_, o);
  ASSERT_FALSE(relative.ok());
  EXPECT_EQ(relative.status().code(), Code::kInvalidArgument);
  EXPECT_NE(relative.status().message().find("must be absolute"), std::string::npos);
}

// --tracking-uri reaches every step's container as MLFLOW_TRACKING_URI (lineage and the
// register/promote/deploy steps use it), except where a step's env names its own.
TEST_F(CompileTest, TrackingUriIsSetInEveryStepUnlessTheStepSetsIt) {
  auto env_of = [](const json& container) {
    std::map<std::string, std::string> env;
    for (const auto& e : container["env"]) env[e["name"]] = e["value"];
    return env;
  };
  json none = Compile(true, spec_);
  EXPECT_EQ(env_of((*Find(none["spec"]["templates"], "train"))["container"])
                .count("MLFLOW_TRACKING_URI"),
            0u);

  PipelineSpec spec = spec_;
  for (auto& step : spec.steps) {
    if (step.name == "evaluate") step.env["MLFLOW_TRACKING_URI"] = "http://own:5000";
  }
  CompileOptions o;
  o.json = true;
  o.tracking_uri = "http://cairn.mlops:5000";
  for (bool argo : {true, false}) {
    auto out = argo ? CompileArgo(spec, o) : CompileKfp(spec, o);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    json doc = json::parse(*out);
    std::map<std::string, std::string> uris;  // container's step -> its tracking URI
    if (argo) {
      for (const auto& t : doc["spec"]["templates"]) {
        if (t.contains("container")) uris[t["name"]] = env_of(t["container"])["MLFLOW_TRACKING_URI"];
      }
    } else {
      for (const auto& [name, e] : doc["deploymentSpec"]["executors"].items()) {
        uris[name] = env_of(e["container"])["MLFLOW_TRACKING_URI"];
      }
    }
    ASSERT_EQ(uris.size(), 5u) << (argo ? "argo" : "kfp");
    int own = 0;
    for (const auto& [name, uri] : uris) {
      if (name.find("evaluate") != std::string::npos) {
        EXPECT_EQ(uri, "http://own:5000") << name;
        ++own;
      } else {
        EXPECT_EQ(uri, "http://cairn.mlops:5000") << name;
      }
    }
    EXPECT_EQ(own, 1) << (argo ? "argo" : "kfp");
  }
}

TEST_F(CompileTest, MemoizeKeyEqualsTheLocalCacheKey) {
  auto launcher = NewPosixProcessLauncher();
  Executor executor(launcher.get(), &SystemClock::Get(), nullptr);
  RunOptions o;
  auto run = executor.Run(spec_, o);
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(run->ok);
  json wf = Compile(true, spec_);
  const json& tasks = wf["spec"]["templates"][0]["dag"]["tasks"];
  auto key_arg = [&](const std::string& task) {
    for (const auto& p : (*Find(tasks, task))["arguments"]["parameters"]) {
      if (p["name"] == "cairn-cache-key") return p["value"].get<std::string>();
    }
    return std::string();
  };
  EXPECT_EQ(key_arg("prep"), run->Find("prep")->cache_key);
  EXPECT_EQ(key_arg("train"), run->Find("train")->cache_key);
  const json& items = (*Find(tasks, "per-region"))["withItems"];
  EXPECT_EQ(items[1]["key"], run->Find("per_region[us]")->cache_key);
}

TEST_F(CompileTest, ArgoCronWorkflowForSchedules) {
  PipelineSpec spec = spec_;
  spec.schedule = ScheduleSpec{"0 2 * * *", "Europe/Paris", false};
  json cron = Compile(true, spec);
  EXPECT_EQ(cron["kind"], "CronWorkflow");
  EXPECT_EQ(cron["metadata"]["name"], "train-model");
  EXPECT_EQ(cron["spec"]["schedules"], json{"0 2 * * *"});
  EXPECT_EQ(cron["spec"]["timezone"], "Europe/Paris");
  EXPECT_EQ(cron["spec"]["concurrencyPolicy"], "Forbid");
  EXPECT_EQ(cron["spec"]["workflowSpec"]["entrypoint"], "main");
}

TEST_F(CompileTest, KfpIrStructure) {
  json ir = Compile(false, spec_);
  EXPECT_EQ(ir["schemaVersion"], "2.1.0");
  EXPECT_EQ(ir["pipelineInfo"]["name"], "train-model");
  EXPECT_EQ(ir["root"]["inputDefinitions"]["parameters"]["lr"]["parameterType"], "NUMBER_DOUBLE");
  EXPECT_EQ(ir["root"]["inputDefinitions"]["parameters"]["lr"]["defaultValue"], 0.1);
  const json& tasks = ir["root"]["dag"]["tasks"];
  EXPECT_EQ(tasks["train"]["dependentTasks"], json{"prep"});
  EXPECT_EQ(tasks["train"]["componentRef"]["name"], "comp-train");
  EXPECT_EQ(tasks["train"]["inputs"]["parameters"]["lr"]["componentInputParameter"], "lr");
  EXPECT_EQ(tasks["train"]["retryPolicy"]["maxRetryCount"], 2);
  EXPECT_EQ(tasks["evaluate"]["cachingOptions"]["enableCache"], false);
  EXPECT_EQ(tasks["register"]["triggerPolicy"]["condition"],
            "(double(inputs.parameter_values['pipelinechannel--evaluate-auc']) > 0.8)");
  EXPECT_EQ(tasks["register"]["inputs"]["parameters"]["pipelinechannel--evaluate-auc"]
                 ["taskOutputParameter"]["producerTask"],
            "evaluate");
  EXPECT_EQ(tasks["per-region"]["parameterIterator"]["itemInput"], "cairn-instance");
  EXPECT_TRUE(ir["components"].contains("comp-train"));
  EXPECT_EQ(ir["deploymentSpec"]["executors"]["exec-train"]["container"]["image"],
            "ghcr.io/acme/cairn:1");
}

TEST_F(CompileTest, YamlQuotesStringsThatLookLikeOtherTypes) {
  CompileOptions o;
  auto out = CompileArgo(spec_, o);
  ASSERT_TRUE(out.ok());
  // Parameter values and IntOrString fields must stay strings when read back.
  EXPECT_NE(out->find("value: \"0.1\""), std::string::npos) << *out;
  EXPECT_NE(out->find("limit: \"2\""), std::string::npos);
  EXPECT_NE(out->find("activeDeadlineSeconds: \"90\""), std::string::npos);
}

}  // namespace
}  // namespace cairn::pipeline
