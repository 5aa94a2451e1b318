// `cairn serve MODEL`: a standalone scoring server for one model — the container entrypoint
// for SageMaker (port 8080, /ping, /invocations), Vertex AI (AIP_HTTP_PORT, AIP_HEALTH_ROUTE,
// AIP_PREDICT_ROUTE), KServe (Open Inference Protocol v2) and MLflow clients.

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/signals.h"
#include "common/log.h"
#include "http/router.h"
#include "http/scoring_routes.h"
#include "http/server.h"

namespace cairn::cli {

namespace {

struct ServeFlags {
  std::string model_uri;
  std::string host = "0.0.0.0";
  int port = -1;  // -1: $AIP_HTTP_PORT, else 8080
  int workers = 2;
  std::string name;
  std::string version = "1";
  bool access_log = false;
};

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

int RunServe(const ServeFlags& flags) {
  std::string path = flags.model_uri;
  if (path.rfind("file://", 0) == 0) path = path.substr(7);
  if (path.find("://") != std::string::npos || path.rfind("runs:/", 0) == 0 ||
      path.rfind("models:/", 0) == 0) {
    std::fprintf(stderr,
                 "cairn serve: %s: only local model paths are supported by this build "
                 "(download the model first, e.g. with mlflow artifacts download)\n",
                 flags.model_uri.c_str());
    return kExitUsage;
  }
  std::string name = flags.name;
  if (name.empty()) {
    name = std::filesystem::path(path).lexically_normal().filename().string();
    if (name.empty()) name = "model";
  }
  auto model = http::ScoringModel::Load(path, name, flags.version);
  if (!model.ok()) {
    std::fprintf(stderr, "cairn serve: cannot load %s: %s\n", path.c_str(),
                 model.status().message().c_str());
    return kExitFailed;
  }
  http::ModelSlot slot;
  slot.Set(*model);
  http::ScoringMetrics metrics;
  http::ScoringRoutesOptions options;
  options.vertex_health_route = EnvOr("AIP_HEALTH_ROUTE", "");
  options.vertex_predict_route = EnvOr("AIP_PREDICT_ROUTE", "");
  options.version_string = CAIRN_MLFLOW_COMPAT_VERSION;
  http::Router router;
  http::RegisterScoringRoutes(router, slot, metrics, options);

  http::ServerOptions server_options;
  server_options.host = flags.host;
  server_options.port = flags.port >= 0 ? flags.port : std::atoi(EnvOr("AIP_HTTP_PORT", "8080").c_str());
  server_options.threads = flags.workers;
  server_options.access_log = flags.access_log;
  BlockTerminationSignals();
  http::Server server(server_options, &router);
  auto port = server.Start();
  if (!port.ok()) {
    std::fprintf(stderr, "cairn serve: %s\n", port.status().message().c_str());
    return kExitFailed;
  }
  std::printf("cairn serve: model '%s' (%s, %zu features) listening on http://%s:%d\n",
              name.c_str(), (*model)->loaded.flavor.c_str(),
              (*model)->loaded.model->num_features(), flags.host.c_str(), *port);
  std::fflush(stdout);
  WaitForTerminationSignal();
  server.Stop();
  server.Wait();
  return kExitOk;
}

void AddServeCommand(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Serve one model over the MLflow, Open Inference Protocol v2, SageMaker and "
               "Vertex AI scoring protocols");
  cmd->add_option("model", flags->model_uri,
                  "An MLflow model directory or a bare XGBoost / cairn linear model file")
      ->required();
  cmd->add_option("--host", flags->host, "Address to bind")->capture_default_str();
  cmd->add_option("--port", flags->port,
                  "Port (default: $AIP_HTTP_PORT, else 8080; 0 picks a free port)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--workers", flags->workers, "Worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--name", flags->name, "Model name on /v2/models (default: the path's basename)");
  cmd->add_option("--model-version", flags->version, "Model version on /v2/models")
      ->capture_default_str();
  cmd->add_flag("--access-log", flags->access_log, "Log every request to stderr");
  cmd->callback([flags] { SetExitCode(RunServe(*flags)); });
}

}  // namespace

CAIRN_REGISTER_COMMAND(AddServeCommand);

}  // namespace cairn::cli
