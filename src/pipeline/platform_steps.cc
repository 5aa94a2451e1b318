#include "pipeline/platform_steps.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#ifdef CAIRN_PIPELINE_HAVE_ML_STEPS
#include "pipeline/ml_steps.h"
#endif

namespace fs = std::filesystem;
using nlohmann::json;

namespace cairn::pipeline {

namespace {

Status CheckKeys(const std::string& type, const std::map<std::string, std::string>& with,
                 const std::set<std::string>& allowed) {
  for (const auto& [k, v] : with) {
    if (!allowed.count(k)) {
      std::string names;
      for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
      return InvalidArgument(fmt::format("{}: unknown config key '{}' ({})", type, k, names));
    }
  }
  return OkStatus();
}

std::string Resolve(const StepContext& ctx, const std::string& path) {
  return !path.empty() && path[0] == '/' ? path : ctx.base_dir + "/" + path;
}

Status NeedsLineage(const LineageRecorder* lineage, const std::string& type) {
  if (lineage) return OkStatus();
  return FailedPrecondition(fmt::format(
      "{} needs a tracking server: pass --tracking-uri or set MLFLOW_TRACKING_URI", type));
}

// The model version a promote or deploy step acts on is named either by `registered` (the path
// of a register step's JSON output) or by `name_key` + `version`.
Status CheckVersionRef(const std::map<std::string, std::string>& with, const std::string& type,
                       const std::string& name_key) {
  if (with.count("registered") || (with.count(name_key) && with.count("version"))) {
    return OkStatus();
  }
  return InvalidArgument(
      fmt::format("{} needs 'registered' or both '{}' and 'version'", type, name_key));
}

// The register step's output a step reads, as its implicit input (none without `registered`).
std::vector<std::string> RegisteredInput(const StepContext& ctx) {
  auto it = ctx.with.find("registered");
  return it == ctx.with.end() ? std::vector<std::string>{} : std::vector{it->second};
}

// name + version from `registered` (register's JSON output) or from explicit keys.
StatusOr<std::pair<std::string, std::string>> ModelVersionOf(const StepContext& ctx,
                                                            const std::string& type,
                                                            const std::string& name_key) {
  auto reg = ctx.with.find("registered");
  if (reg != ctx.with.end()) {
    std::ifstream in(Resolve(ctx, reg->second));
    if (!in) return NotFound(fmt::format("{}: cannot read '{}'", type, reg->second));
    std::stringstream ss;
    ss << in.rdbuf();
    json j = json::parse(ss.str(), nullptr, false);
    if (!j.is_object() || !j.contains("name") || !j.contains("version")) {
      return InvalidArgument(
          fmt::format("{}: '{}' is not a register step's output (name, version)", type,
                      reg->second));
    }
    auto text = [](const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
    return std::make_pair(text(j["name"]), text(j["version"]));
  }
  RETURN_IF_ERROR(CheckVersionRef(ctx.with, type, name_key));
  return std::make_pair(ctx.with.at(name_key), ctx.with.at("version"));
}

class RegisterStepType final : public StepType {
 public:
  explicit RegisterStepType(LineageRecorder* lineage) : lineage_(lineage) {}

  Status CheckConfig(const std::map<std::string, std::string>& with) const override {
    RETURN_IF_ERROR(CheckKeys("register", with, {"model", "name", "artifact_path"}));
    if (!with.count("model") || !with.count("name")) {
      return InvalidArgument("register needs 'with.model' and 'with.name'");
    }
    return OkStatus();
  }
  bool Cacheable() const override { return false; }
  std::vector<std::string> ImplicitInputs(const StepContext& ctx) const override {
    auto it = ctx.with.find("model");
    return it == ctx.with.end() ? std::vector<std::string>{} : std::vector{it->second};
  }

  Status Run(const StepContext& ctx, std::map<std::string, std::string>* values) const override {
    RETURN_IF_ERROR(CheckConfig(ctx.with));
    RETURN_IF_ERROR(NeedsLineage(lineage_, "register"));
    std::string model_dir = Resolve(ctx, ctx.with.at("model"));
    std::error_code ec;
    if (!fs::exists(fs::path(model_dir) / "MLmodel", ec)) {
      return NotFound(fmt::format("register: '{}' is not an MLflow model folder (no MLmodel)",
                                  ctx.with.at("model")));
    }
    auto run = lineage_->TrackingRunOf(ctx.run_id);
    if (!run) {
      return FailedPrecondition(
          "register: this pipeline run has no tracking run (the tracking server refused it; "
          "see the warnings above)");
    }
    std::string artifact_path =
        ctx.with.count("artifact_path") ? ctx.with.at("artifact_path") : "model";
    Platform* platform = lineage_->platform();
    RETURN_IF_ERROR(platform->LogArtifact(*run, model_dir, artifact_path));
    std::string source = "runs:/" + run->run_id + "/" + artifact_path;
    const std::string& name = ctx.with.at("name");
    ASSIGN_OR_RETURN(std::string version,
                     platform->CreateModelVersion(name, source, run->run_id,
                                                  {{"cairn.pipeline_run_id", ctx.run_id},
                                                   {"cairn.step", ctx.step}}));
    (*values)["name"] = name;
    (*values)["version"] = version;
    (*values)["run_id"] = run->run_id;
    (*values)["source"] = source;
    if (!ctx.outputs.empty()) {
      std::string out_path = Resolve(ctx, ctx.outputs[0]);
      fs::create_directories(fs::path(out_path).parent_path(), ec);
      std::ofstream out(out_path, std::ios::trunc);
      out << json{{"name", name}, {"version", version}, {"run_id", run->run_id},
                  {"source", source}, {"pipeline_run_id", ctx.run_id}}
                 .dump(1)
          << '\n';
      if (!out) return Internal(fmt::format("register: cannot write '{}'", out_path));
    }
    return OkStatus();
  }

 private:
  LineageRecorder* lineage_;
};

class PromoteStepType final : public StepType {
 public:
  explicit PromoteStepType(LineageRecorder* lineage) : lineage_(lineage) {}

  Status CheckConfig(const std::map<std::string, std::string>& with) const override {
    RETURN_IF_ERROR(CheckKeys("promote", with, {"alias", "registered", "name", "version"}));
    if (!with.count("alias")) return InvalidArgument("promote needs 'with.alias'");
    return CheckVersionRef(with, "promote", "name");
  }
  bool Cacheable() const override { return false; }
  std::vector<std::string> ImplicitInputs(const StepContext& ctx) const override {
    return RegisteredInput(ctx);
  }

  Status Run(const StepContext& ctx, std::map<std::string, std::string>* values) const override {
    RETURN_IF_ERROR(CheckConfig(ctx.with));
    RETURN_IF_ERROR(NeedsLineage(lineage_, "promote"));
    ASSIGN_OR_RETURN(auto mv, ModelVersionOf(ctx, "promote", "name"));
    const std::string& alias = ctx.with.at("alias");
    RETURN_IF_ERROR(lineage_->platform()->SetAlias(mv.first, alias, mv.second));
    (*values)["name"] = mv.first;
    (*values)["version"] = mv.second;
    (*values)["alias"] = alias;
    return OkStatus();
  }

 private:
  LineageRecorder* lineage_;
};

class DeployStepType final : public StepType {
 public:
  explicit DeployStepType(LineageRecorder* lineage) : lineage_(lineage) {}

  Status CheckConfig(const std::map<std::string, std::string>& with) const override {
    RETURN_IF_ERROR(CheckKeys("deploy", with,
                              {"deployment", "environment", "server", "registered", "model",
                               "version"}));
    if (!with.count("deployment")) return InvalidArgument("deploy needs 'with.deployment'");
    return CheckVersionRef(with, "deploy", "model");
  }
  bool Cacheable() const override { return false; }
  std::vector<std::string> ImplicitInputs(const StepContext& ctx) const override {
    return RegisteredInput(ctx);
  }

  Status Run(const StepContext& ctx, std::map<std::string, std::string>* values) const override {
    RETURN_IF_ERROR(CheckConfig(ctx.with));
    RETURN_IF_ERROR(NeedsLineage(lineage_, "deploy"));
    ASSIGN_OR_RETURN(auto mv, ModelVersionOf(ctx, "deploy", "model"));
    DeployRequest req;
    req.server = ctx.with.count("server") ? ctx.with.at("server") : "";
    req.deployment = ctx.with.at("deployment");
    req.environment = ctx.with.count("environment") ? ctx.with.at("environment") : "test";
    req.model = mv.first;
    req.version = mv.second;
    ASSIGN_OR_RETURN(std::string body, lineage_->platform()->Deploy(req));
    std::ofstream(ctx.log_path, std::ios::app) << body << '\n';
    (*values)["deployment"] = req.deployment;
    (*values)["environment"] = req.environment;
    (*values)["model"] = req.model;
    (*values)["version"] = req.version;
    return OkStatus();
  }

 private:
  LineageRecorder* lineage_;
};

}  // namespace

std::unique_ptr<StepType> NewRegisterStepType(LineageRecorder* lineage) {
  return std::make_unique<RegisterStepType>(lineage);
}
std::unique_ptr<StepType> NewPromoteStepType(LineageRecorder* lineage) {
  return std::make_unique<PromoteStepType>(lineage);
}
std::unique_ptr<StepType> NewDeployStepType(LineageRecorder* lineage) {
  return std::make_unique<DeployStepType>(lineage);
}

StepTypeRegistry AllStepTypes(LineageRecorder* lineage) {
  StepTypeRegistry r = StepTypeRegistry::WithBuiltins();
  r.Register("register", NewRegisterStepType(lineage));
  r.Register("promote", NewPromoteStepType(lineage));
  r.Register("deploy", NewDeployStepType(lineage));
#ifdef CAIRN_PIPELINE_HAVE_ML_STEPS
  r.Register("validate", NewValidateStepType());
  r.Register("train-xgboost", NewTrainXgboostStepType());
  r.Register("evaluate", NewEvaluateStepType());
#endif
  return r;
}

}  // namespace cairn::pipeline
