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
#include <string>
#include <vector>

#include "cli/command.h"
#include "common/clock.h"
#include "pipeline/compile.h"
#include "pipeline/executor.h"
#include "pipeline/process.h"
#include "pipeline/spec.h"
#include "pipeline/step_types.h"

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
  bool quiet = false;
};

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
  auto types = pipeline::StepTypeRegistry::WithBuiltins();
  std::map<std::string, Value> overrides;
  auto spec = LoadAndCheck(f, types, &overrides);
  if (!spec.ok()) return Fail(spec.status());
  auto launcher = pipeline::NewPosixProcessLauncher();
  pipeline::Executor executor(launcher.get(), &SystemClock::Get(), &types);
  pipeline::RunOptions options;
  options.jobs = f.jobs;
  options.use_cache = !f.no_cache;
  options.state_dir = f.state_dir;
  options.resume_run_id = f.resume;
  options.params = overrides;
  if (single_step) options.only_steps = {f.step};
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
  if (!result->ok && !single_step) {
    std::fprintf(stderr, "resume with: cairn pipeline run %s --resume %s\n", f.spec_path.c_str(),
                 result->run_id.c_str());
  }
  if (g_cancel.load()) return 130;
  return result->ok ? kExitOk : kExitFailed;
}

int Validate(const PipelineFlags& f) {
  auto types = pipeline::StepTypeRegistry::WithBuiltins();
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
  auto types = pipeline::StepTypeRegistry::WithBuiltins();
  std::map<std::string, Value> overrides;
  auto spec = LoadAndCheck(f, types, &overrides);
  if (!spec.ok()) return Fail(spec.status());
  pipeline::CompileOptions options;
  options.params = overrides;
  options.spec_path_in_image = f.spec_path_in_image;
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
  run->callback([flags] { SetExitCode(RunPipeline(*flags, false)); });

  auto* step = cmd->add_subcommand("step", "Run one step (what compiled targets run)");
  step->add_option("spec", flags->spec_path, "pipeline.yaml")->required();
  step->add_option("step", flags->step, "Step or step instance name")->required();
  step->add_option("--param", flags->params, "Override a param: name=value");
  step->add_flag("--no-cache", flags->no_cache, "Neither use nor fill the step cache");
  step->add_option("--state-dir", flags->state_dir, "Run state and cache folder");
  step->add_flag("-q,--quiet", flags->quiet, "No progress lines");
  step->callback([flags] { SetExitCode(RunPipeline(*flags, true)); });

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
  compile->callback([flags] { SetExitCode(Compile(*flags)); });
}

}  // namespace

CAIRN_REGISTER_COMMAND(AddPipelineCommand);

}  // namespace cairn::cli
