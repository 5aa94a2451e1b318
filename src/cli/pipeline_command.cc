// `cairn pipeline run|validate|step|compile`: the pipeline module's command line.

#include <CLI/CLI.hpp>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "common/clock.h"
#include "pipeline/compile.h"
#include "pipeline/executor.h"
#include "pipeline/lineage.h"
#include "pipeline/platform_steps.h"
#include "pipeline/process.h"
#include "pipeline/spec.h"
#include "pipeline/step_process.h"
#include "pipeline/step_types.h"
#ifdef CAIRN_HAVE_PIPELINE_REST
#include <nlohmann/json.hpp>

#include "http/http_client.h"
#include "http/pipeline_rest_platform.h"
#endif

namespace cairn::cli {
namespace {

using pipeline::PipelineSpec;
using pipeline::Value;

struct PipelineFlags {
  std::string spec_path;
  std::vector<std::string> params;
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  bool no_cache = false;
  std::string resume;
  std::string state_dir;
  std::string step;
  std::string target = "argo";
  std::string output;
  std::string format = "yaml";
  std::string spec_path_in_image = "/pipeline/pipeline.yaml";
  std::string image;  // compile: the step image when the spec names none
  bool quiet = false;
  std::string tracking_uri;  // "" = $MLFLOW_TRACKING_URI; none = no lineage
  std::string experiment;
  std::string server;        // register / trigger: the cairn server
  int concurrency = 1;
  std::string name;
  std::string reason;
  std::string context;  // step: a built-in started by a local executor
};

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// Lineage for a run: a tracking run per pipeline run, through the MLflow REST API.
struct Lineage {
  std::string uri;  // the tracking server ("" = no lineage)
  std::unique_ptr<pipeline::Platform> platform;
  std::unique_ptr<pipeline::LineageRecorder> recorder;
};

StatusOr<Lineage> OpenLineage(const PipelineFlags& f) {
  Lineage l;
  std::string uri = f.tracking_uri.empty() ? EnvOr("MLFLOW_TRACKING_URI", "") : f.tracking_uri;
  if (uri.empty()) return l;
  if (uri.rfind("http://", 0) != 0 && uri.rfind("https://", 0) != 0) {
    if (f.tracking_uri.empty()) {
      // A file store from the environment is the mlflow client's business, not ours.
      if (!f.quiet) {
        std::fprintf(stderr, "note: MLFLOW_TRACKING_URI=%s is not an http:// server; no lineage\n",
                     uri.c_str());
      }
      return l;
    }
    return InvalidArgument("--tracking-uri must be an http:// URL of a cairn or MLflow server, "
                           "got '" + uri + "'");
  }
#ifdef CAIRN_HAVE_PIPELINE_REST
  ASSIGN_OR_RETURN(l.platform, http::NewRestPlatform(uri));
  l.uri = uri;
  pipeline::LineageOptions options;
  options.experiment = f.experiment;
  if (!f.quiet) {
    options.warn = [](const std::string& m) { std::fprintf(stderr, "warning: %s\n", m.c_str()); };
  }
  l.recorder = std::make_unique<pipeline::LineageRecorder>(l.platform.get(), &SystemClock::Get(),
                                                           options);
  return l;
#else
  return Unimplemented("this build of cairn has no HTTP client for --tracking-uri");
#endif
}

std::atomic<bool> g_cancel{false};

void OnSignal(int) { g_cancel.store(true); }

// Ctrl-C / SIGTERM cancel the run: steps run in their own process groups, so the terminal's
// SIGINT does not reach them and the executor has to kill them.
void InstallCancelHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int Fail(const Status& st) {
  std::fprintf(stderr, "cairn pipeline: %s\n", st.message().c_str());
  return st.code() == Code::kInvalidArgument ? kExitUsage : kExitFailed;
}

// Loads and validates the spec (including built-in step types) and the --param overrides.
StatusOr<PipelineSpec> LoadAndCheck(const PipelineFlags& f,
                                    const pipeline::StepTypeRegistry& types,
                                    std::map<std::string, Value>* overrides) {
  ASSIGN_OR_RETURN(PipelineSpec spec, pipeline::LoadSpec(f.spec_path));
  RETURN_IF_ERROR(pipeline::CheckStepTypes(spec, types));
  for (const auto& p : f.params) {
    ASSIGN_OR_RETURN(auto kv, pipeline::ParseParamOverride(spec, p));
    (*overrides)[kv.first] = kv.second;
  }
  return spec;
}

int RunPipeline(const PipelineFlags& f, bool single_step) {
  std::map<std::string, Value> overrides;
  auto spec = LoadAndCheck(f, pipeline::AllStepTypes(nullptr), &overrides);
  if (!spec.ok()) return Fail(spec.status());
  auto lineage = OpenLineage(f);
  if (!lineage.ok()) return Fail(lineage.status());
  auto types = pipeline::AllStepTypes(lineage->recorder.get());
  auto launcher = pipeline::NewPosixProcessLauncher();
  pipeline::Executor executor(launcher.get(), &SystemClock::Get(), &types);
  pipeline::RunOptions options;
  options.jobs = f.jobs;
  options.use_cache = !f.no_cache;
  options.state_dir = f.state_dir;
  options.resume_run_id = f.resume;
  options.params = overrides;
  if (single_step) options.only_steps = {f.step};
  options.observer = lineage->recorder.get();
  if (!single_step) {
    // Built-in steps run as `cairn pipeline step ... --context` children of this very binary
    // (the one compiled targets run per step), so -j, timeouts and retries apply to them as to
    // commands. `cairn pipeline step` itself runs its one built-in in-process: it already is
    // the step's process.
    options.step_binary = "/proc/self/exe";
    pipeline::LineageRecorder* recorder = lineage->recorder.get();
    std::string uri = lineage->uri;
    options.step_platform = [recorder, uri](const std::string& run_id) {
      pipeline::StepPlatform p;
      p.tracking_uri = uri;
      if (recorder) p.run = recorder->TrackingRunOf(run_id);
      return p;
    };
  }
  InstallCancelHandlers();
  options.cancel = &g_cancel;
  if (!f.quiet) {
    options.progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  }
  auto result = executor.Run(*spec, options);
  if (!result.ok()) return Fail(result.status());
  if (single_step) {
    // In a container the step's values are also written one file per key (Argo reads
    // output parameters from files).
    if (const char* dir = std::getenv("CAIRN_OUTPUTS_DIR")) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      for (const auto& s : result->steps) {
        for (const auto& [k, v] : s.values) std::ofstream(std::string(dir) + "/" + k) << v;
      }
    }
    for (const auto& s : result->steps) {
      if (s.status == pipeline::StepStatus::kFailed) {
        std::ifstream err(s.stderr_path);
        std::cerr << err.rdbuf();
      }
    }
  }
  std::printf("%s\n", result->run_id.c_str());
  if (lineage->recorder && !f.quiet) {
    if (auto tracked = lineage->recorder->TrackingRunOf(result->run_id)) {
      std::fprintf(stderr, "lineage: tracking run %s (experiment %s)\n", tracked->run_id.c_str(),
                   tracked->experiment_id.c_str());
    }
  }
  if (!result->ok && !single_step) {
    std::fprintf(stderr, "resume with: cairn pipeline run %s --resume %s\n", f.spec_path.c_str(),
                 result->run_id.c_str());
  }
  if (g_cancel.load()) return 130;
  return result->ok ? kExitOk : kExitFailed;
}

// `cairn pipeline step SPEC STEP --context FILE`: a built-in step started by a local executor
// (pipeline/step_process.h). It runs the step exactly as the context file describes it (SPEC
// is not re-read); the executor that started it keeps the cache, journal and lineage. Platform
// steps reach the tracking server named in the file, on the pipeline's tracking run.
int RunStepProcess(const PipelineFlags& f) {
  auto invocation = pipeline::ReadBuiltinInvocation(f.context);
  if (!invocation.ok()) return Fail(invocation.status());
  if (invocation->ctx.step != f.step) {
    return Fail(InvalidArgument("--context describes step '" + invocation->ctx.step + "', not '" +
                                f.step + "'"));
  }
  std::unique_ptr<pipeline::Platform> platform;
  std::unique_ptr<pipeline::LineageRecorder> recorder;
  if (!invocation->platform.tracking_uri.empty()) {
#ifdef CAIRN_HAVE_PIPELINE_REST
    auto rest = http::NewRestPlatform(invocation->platform.tracking_uri);
    if (!rest.ok()) return Fail(rest.status());
    platform = std::move(*rest);
    pipeline::LineageOptions options;
    options.warn = [](const std::string& m) { std::fprintf(stderr, "warning: %s\n", m.c_str()); };
    recorder =
        std::make_unique<pipeline::LineageRecorder>(platform.get(), &SystemClock::Get(), options);
    if (invocation->platform.run) {
      recorder->AdoptRun(invocation->ctx.run_id, *invocation->platform.run);
    }
#else
    return Fail(Unimplemented("this build of cairn has no HTTP client for the tracking server"));
#endif
  }
  auto types = pipeline::AllStepTypes(recorder.get());
  return pipeline::RunBuiltinInvocation(*invocation, types, std::cerr);
}

int Validate(const PipelineFlags& f) {
  auto types = pipeline::AllStepTypes(nullptr);
  std::map<std::string, Value> overrides;
  auto spec = LoadAndCheck(f, types, &overrides);
  if (!spec.ok()) return Fail(spec.status());
  auto plan = pipeline::MakePlan(*spec, overrides);
  if (!plan.ok()) return Fail(plan.status());
  Status inputs = pipeline::CheckInputsAvailable(*spec, *plan);
  if (!inputs.ok()) return Fail(inputs);
  std::printf("%s: ok (%zu steps, %zu step instances, %zu params)\n", f.spec_path.c_str(),
              spec->steps.size(), plan->steps.size(), spec->params.size());
  return kExitOk;
}

int Compile(const PipelineFlags& f) {
  auto types = pipeline::AllStepTypes(nullptr);
  std::map<std::string, Value> overrides;
  auto spec = LoadAndCheck(f, types, &overrides);
  if (!spec.ok()) return Fail(spec.status());
  // Steps with effects outside their outputs (register, promote, deploy) are never memoized.
  for (auto& s : spec->steps) {
    const pipeline::StepType* t = s.is_builtin() ? types.Find(s.type) : nullptr;
    if (t && !t->Cacheable()) s.cache = false;
  }
  pipeline::CompileOptions options;
  options.params = overrides;
  options.spec_path_in_image = f.spec_path_in_image;
  if (!f.image.empty()) options.default_image = f.image;
  options.tracking_uri = f.tracking_uri;
  options.json = f.format == "json";
  StatusOr<std::string> out = InvalidArgument("--target must be argo or kfp");
  if (f.target == "argo") out = pipeline::CompileArgo(*spec, options);
  if (f.target == "kfp") out = pipeline::CompileKfp(*spec, options);
  if (!out.ok()) return Fail(out.status());
  if (f.output.empty() || f.output == "-") {
    std::fwrite(out->data(), 1, out->size(), stdout);
  } else {
    std::ofstream file(f.output, std::ios::binary | std::ios::trunc);
    file << *out;
    if (!file) return Fail(Internal("cannot write " + f.output));
  }
  return kExitOk;
}

#ifdef CAIRN_HAVE_PIPELINE_REST
std::string ServerOf(const PipelineFlags& f) {
  return !f.server.empty() ? f.server : EnvOr("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000");
}

// POSTs `body` to the server and prints the answer; a non-2xx answer is a failure.
int PostToServer(const PipelineFlags& f, const std::string& target, const nlohmann::json& body) {
  auto client = http::HttpClient::Create(ServerOf(f));
  if (!client.ok()) return Fail(client.status());
  auto r = (*client)->Request("POST", target, body.dump());
  if (!r.ok()) return Fail(r.status());
  Status st = http::MlflowError(*r);
  if (!st.ok()) return Fail(st);
  std::printf("%s\n", r->body.c_str());
  return kExitOk;
}

int Register(const PipelineFlags& f) {
  std::map<std::string, Value> overrides;
  auto spec = LoadAndCheck(f, pipeline::AllStepTypes(nullptr), &overrides);
  if (!spec.ok()) return Fail(spec.status());
  std::ifstream in(f.spec_path);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json params = nlohmann::json::object();
  for (const auto& p : f.params) {
    size_t eq = p.find('=');
    params[p.substr(0, eq)] = p.substr(eq + 1);
  }
  nlohmann::json body = {{"spec_path", std::filesystem::absolute(f.spec_path).string()},
                         {"spec", text.str()},
                         {"params", params},
                         {"concurrency", f.concurrency}};
  return PostToServer(f, "/api/v1/pipelines", body);
}

int Trigger(const PipelineFlags& f) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& p : f.params) {
    size_t eq = p.find('=');
    if (eq == std::string::npos) return Fail(InvalidArgument("--param wants name=value"));
    params[p.substr(0, eq)] = p.substr(eq + 1);
  }
  nlohmann::json body = {{"trigger", "manual"}, {"reason", f.reason}, {"params", params}};
  return PostToServer(f, "/api/v1/pipelines/" + http::UrlEncode(f.name) + "/trigger", body);
}
#endif

void AddPipelineCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("pipeline", "Run, validate and compile pipelines");
  cmd->require_subcommand(1);
  auto flags = std::make_shared<PipelineFlags>();

  auto* run = cmd->add_subcommand("run", "Run a pipeline locally");
  run->add_option("spec", flags->spec_path, "pipeline.yaml")->required();
  run->add_option("--param", flags->params, "Override a param: name=value");
  run->add_option("-j,--jobs", flags->jobs, "Steps to run at once (default: CPU count)")
      ->check(CLI::PositiveNumber);
  run->add_flag("--no-cache", flags->no_cache, "Neither use nor fill the step cache");
  run->add_option("--resume", flags->resume, "Re-run the failed and not-run steps of this run");
  run->add_option("--state-dir", flags->state_dir,
                  "Run state and cache folder (default: .cairn/pipelines beside the spec)");
  run->add_flag("-q,--quiet", flags->quiet, "No progress lines");
  run->add_option("--tracking-uri", flags->tracking_uri,
                  "Record lineage on this MLflow-compatible server (default: "
                  "$MLFLOW_TRACKING_URI; none: no lineage)");
  run->add_option("--experiment", flags->experiment,
                  "Experiment of the lineage runs (default: pipeline:<name>)");
  run->callback([flags] { SetExitCode(RunPipeline(*flags, false)); });

  auto* step = cmd->add_subcommand("step", "Run one step (what compiled targets run)");
  step->add_option("spec", flags->spec_path, "pipeline.yaml")->required();
  step->add_option("step", flags->step, "Step or step instance name")->required();
  step->add_option("--param", flags->params, "Override a param: name=value");
  step->add_flag("--no-cache", flags->no_cache, "Neither use nor fill the step cache");
  step->add_option("--state-dir", flags->state_dir, "Run state and cache folder");
  step->add_flag("-q,--quiet", flags->quiet, "No progress lines");
  step->add_option("--tracking-uri", flags->tracking_uri,
                   "Record lineage on this MLflow-compatible server (default: "
                   "$MLFLOW_TRACKING_URI)");
  step->add_option("--experiment", flags->experiment, "Experiment of the lineage runs");
  step->add_option("--context", flags->context,
                   "Run the built-in step this file describes (written by the local executor "
                   "that started this process; SPEC is not re-read)");
  step->callback([flags] {
    SetExitCode(flags->context.empty() ? RunPipeline(*flags, true) : RunStepProcess(*flags));
  });

  auto* validate = cmd->add_subcommand("validate", "Check a pipeline spec");
  validate->add_option("spec", flags->spec_path, "pipeline.yaml")->required();
  validate->add_option("--param", flags->params, "Override a param: name=value");
  validate->callback([flags] { SetExitCode(Validate(*flags)); });

  auto* compile = cmd->add_subcommand("compile", "Compile to an Argo Workflow or KFP IR");
  compile->add_option("spec", flags->spec_path, "pipeline.yaml")->required();
  compile->add_option("--target", flags->target, "argo or kfp")
      ->check(CLI::IsMember({"argo", "kfp"}));
  compile->add_option("--param", flags->params, "Override a param's default: name=value");
  compile->add_option("-o,--output", flags->output, "Output file (default: stdout)");
  compile->add_option("--format", flags->format, "yaml or json")
      ->check(CLI::IsMember({"yaml", "json"}));
  compile->add_option("--spec-path-in-image", flags->spec_path_in_image,
                      "Where the spec sits inside the step image");
  compile->add_option("--image", flags->image,
                      "Step image when the spec names none (default: cairn:latest)");
  compile->add_option("--tracking-uri", flags->tracking_uri,
                      "MLFLOW_TRACKING_URI set in every step's container (lineage and the "
                      "register/promote/deploy steps); default: none");
  compile->callback([flags] { SetExitCode(Compile(*flags)); });

#ifdef CAIRN_HAVE_PIPELINE_REST
  auto* reg = cmd->add_subcommand("register", "Register a pipeline with a cairn server");
  reg->add_option("spec", flags->spec_path, "pipeline.yaml")->required();
  reg->add_option("--param", flags->params, "Param override for its runs: name=value");
  reg->add_option("--concurrency", flags->concurrency, "Most active runs at once")
      ->check(CLI::Range(1, 100));
  reg->add_option("--server", flags->server,
                  "cairn server (default: $MLFLOW_TRACKING_URI, else http://127.0.0.1:5000)");
  reg->callback([flags] { SetExitCode(Register(*flags)); });

  auto* trig = cmd->add_subcommand("trigger", "Start a run of a registered pipeline now");
  trig->add_option("name", flags->name, "Pipeline name")->required();
  trig->add_option("--param", flags->params, "Param override for this run: name=value");
  trig->add_option("--reason", flags->reason, "Why (kept in the run history)");
  trig->add_option("--server", flags->server,
                   "cairn server (default: $MLFLOW_TRACKING_URI, else http://127.0.0.1:5000)");
  trig->callback([flags] { SetExitCode(Trigger(*flags)); });
#endif
}

}  // namespace

CAIRN_REGISTER_COMMAND(AddPipelineCommand);

}  // namespace cairn::cli
