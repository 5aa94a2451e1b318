// `cairn server`: the platform — MLflow-compatible REST APIs, artifacts, native API.

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "artifacts/artifact_store.h"
#include "cli/command.h"
#include "cli/signals.h"
#include "cli/store_paths.h"
#include "common/log.h"
#include "http/artifact_routes.h"
#include "http/mlflow_registry_routes.h"
#include "http/mlflow_tracking_routes.h"
#include "http/router.h"
#include "http/server.h"
#include "cli/platform_stores.h"
#if CAIRN_HAVE_DEPLOYMENTS
#include "common/clock.h"
#include "http/deployment_routes.h"
#include "serving/deployment_manager.h"
#include "serving/inference_log.h"
#endif
#ifdef CAIRN_HAVE_PIPELINE_ROUTES
#include "http/pipeline_routes.h"
#include "pipeline/store_platform.h"
#ifdef CAIRN_HAVE_PIPELINE_REST
#include "http/pipeline_rest_platform.h"
#endif
#endif

namespace cairn::cli {

namespace {

struct ServerFlags {
  std::string host = "127.0.0.1";
  int port = 5000;
  std::string backend_store_uri;
  std::string artifacts_destination;
  int workers = 8;
  uint64_t max_body_mb = 64;
  int read_timeout_ms = 30'000;
  bool quiet = false;
  // Deployments (serving).
  int alias_poll_ms = 1000;
  size_t inference_log_batch = 1000;
  size_t inference_log_queue = 100'000;
  int inference_log_flush_ms = 50;
};

#if CAIRN_HAVE_DEPLOYMENTS
// Deployments: the inference log and the deployment manager on the platform pool, restored
// from the database, with their routes. Destroyed (threads joined, log flushed) after the
// server stops and before the stores close.
struct Deployments {
  std::unique_ptr<serving::InferenceLog> log;
  std::unique_ptr<serving::DeploymentStore> store;
  std::unique_ptr<serving::DeploymentManager> manager;
};

StatusOr<Deployments> StartDeployments(const ServerFlags& flags, PlatformStores& stores,
                                       const artifacts::LocalArtifactStore& artifact_store,
                                       http::Router& router) {
  Deployments d;
  serving::InferenceLogOptions log_options;
  log_options.max_batch = flags.inference_log_batch;
  log_options.queue_capacity = flags.inference_log_queue;
  log_options.flush_interval_ms = flags.inference_log_flush_ms;
  ASSIGN_OR_RETURN(d.log, serving::InferenceLog::Attach(*stores.pool, SystemClock::Get(),
                                                        log_options));
  d.store = std::make_unique<serving::DeploymentStore>(*stores.pool);
  serving::DeploymentManagerOptions options;
  options.alias_poll_ms = flags.alias_poll_ms;
  d.manager = std::make_unique<serving::DeploymentManager>(
      *d.store, http::MakeRegistryModelResolver(*stores.registry, artifact_store), d.log.get(),
      SystemClock::Get(), options);
  ASSIGN_OR_RETURN(size_t ready, d.manager->Restore());
  log::Info("restored " + std::to_string(ready) + " ready deployment(s)");
  http::RegisterDeploymentRoutes(router, *d.manager, d.log.get());
  return d;
}
#endif

void AddRoutesOfThisBuild(http::Router& router) {
  router.Add("GET", "/health", [](const http::Request&) -> StatusOr<http::Response> {
    return http::Response::Text("OK");
  });
  router.Add("GET", "/version", [](const http::Request&) -> StatusOr<http::Response> {
    return http::Response::Text(CAIRN_MLFLOW_COMPAT_VERSION);
  });
}

int RunServer(const ServerFlags& flags) {
  if (flags.quiet) log::SetLevel(log::Level::kWarn);
  // Before any thread starts (the deployments' and pipelines' threads too), so that SIGTERM
  // reaches WaitForTerminationSignal instead of killing the process from another thread.
  BlockTerminationSignals();
  auto paths = ResolveStorePaths(flags.backend_store_uri, flags.artifacts_destination);
  if (!paths.ok()) {
    std::fprintf(stderr, "cairn server: %s\n", paths.status().message().c_str());
    return kExitUsage;
  }
  artifacts::LocalArtifactStore artifact_store(paths->artifact_root);
  if (Status st = artifact_store.Init(); !st.ok()) {
    std::fprintf(stderr, "cairn server: %s\n", st.message().c_str());
    return kExitFailed;
  }

  auto stores = OpenPlatformStores(paths->db_path);
  if (!stores.ok()) {
    std::fprintf(stderr, "cairn server: cannot open the metadata store %s: %s\n",
                 paths->db_path.c_str(), stores.status().message().c_str());
    return kExitFailed;
  }
  tracking::TrackingStore& tracking = *stores->tracking;

  http::Router router;
  AddRoutesOfThisBuild(router);
  http::RegisterArtifactRoutes(router, artifact_store);
  http::RegisterMlflowTrackingRoutes(router, tracking);
  http::RegisterMlflowRegistryRoutes(router, *stores->registry);
  http::RegisterRunArtifactListRoute(router, artifact_store,
                                     [&tracking](const std::string& run_id) -> StatusOr<std::string> {
                                       ASSIGN_OR_RETURN(tracking::Run run, tracking.GetRun(run_id));
                                       return run.info.artifact_uri;
                                     });
#if CAIRN_HAVE_DEPLOYMENTS
  auto deployments = StartDeployments(flags, *stores, artifact_store, router);
  if (!deployments.ok()) {
    std::fprintf(stderr, "cairn server: deployments: %s\n", deployments.status().message().c_str());
    return kExitFailed;
  }
#endif
#ifdef CAIRN_HAVE_PIPELINE_ROUTES
  // Pipelines (pipeline/service.h): registered pipelines, cron schedules and triggers, run in
  // this process with lineage written to this server's own stores. `self_url` is where a
  // deploy step without a server goes; it is set once the port is known, before Start().
  std::string self_url;
  auto pipeline_platform = pipeline::NewStorePlatform(
      &tracking, stores->registry.get(), &artifact_store,
      [&self_url](const pipeline::DeployRequest& r) -> StatusOr<std::string> {
#ifdef CAIRN_HAVE_PIPELINE_REST
        return http::PutDeployment(r.server.empty() ? self_url : r.server, r);
#else
        return FailedPrecondition("this build has no HTTP client for deploy steps");
#endif
      });
  pipeline::LineageOptions lineage_options;
  lineage_options.warn = [](const std::string& m) { log::Warn(m); };
  pipeline::LineageRecorder pipeline_lineage(pipeline_platform.get(), &SystemClock::Get(),
                                             lineage_options);
  pipeline::ServiceOptions pipeline_options;
  pipeline_options.state_dir =
      (std::filesystem::path(paths->db_path).parent_path() / "pipelines").string();
  pipeline::PipelineService pipelines(stores->pipelines.get(), &SystemClock::Get(),
                                      &pipeline_lineage, pipeline_options);
  http::RegisterPipelineRoutes(router, pipelines);
#endif

  http::ServerOptions options;
  options.host = flags.host;
  options.port = flags.port;
  options.threads = flags.workers;
  options.max_body_bytes = flags.max_body_mb << 20;
  options.access_log = !flags.quiet;
  options.read_timeout_ms = flags.read_timeout_ms;
  http::Server server(options, &router);
  auto port = server.Start();
  if (!port.ok()) {
    std::fprintf(stderr, "cairn server: %s\n", port.status().message().c_str());
    return kExitFailed;
  }
#ifdef CAIRN_HAVE_PIPELINE_ROUTES
  bool any_host = flags.host == "0.0.0.0" || flags.host == "::";
  self_url = "http://" + (any_host ? std::string("127.0.0.1") : flags.host) + ":" +
             std::to_string(*port);
  // Built-in steps run as child processes of this binary; their platform steps (register,
  // promote, deploy) come back to this server over REST (docs/ARCHITECTURE.md, pipelines).
  pipelines.UseStepProcesses("/proc/self/exe", self_url);
  if (Status st = pipelines.Start(); !st.ok()) {
    std::fprintf(stderr, "cairn server: pipelines: %s\n", st.message().c_str());
    server.Stop();
    server.Wait();
    return kExitFailed;
  }
#endif
  std::printf("cairn server listening on http://%s:%d\n", flags.host.c_str(), *port);
  std::fflush(stdout);
  int sig = WaitForTerminationSignal();
  log::Info(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
            ", finishing in-flight requests");
  server.Stop();
  server.Wait();
#ifdef CAIRN_HAVE_PIPELINE_ROUTES
  pipelines.Stop();
#endif
  log::Info("stopped cleanly");
  return kExitOk;
}

void AddServerCommand(CLI::App& app) {
  auto flags = std::make_shared<ServerFlags>();
  CLI::App* cmd = app.add_subcommand("server", "Run the cairn platform server (MLflow-compatible)");
  cmd->add_option("--host", flags->host, "Address to bind")->capture_default_str();
  cmd->add_option("--port", flags->port, "Port to bind (0 picks a free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--backend-store-uri", flags->backend_store_uri,
                  "Metadata store, sqlite:///PATH (default: sqlite:///cairn-data/cairn.db)");
  cmd->add_option("--artifacts-destination", flags->artifacts_destination,
                  "Folder for artifacts (default: cairn-data/artifacts)");
  cmd->add_option("--workers", flags->workers, "Worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--max-body-mb", flags->max_body_mb, "Largest in-memory request body (MiB)")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--read-timeout-ms", flags->read_timeout_ms,
                  "Disconnect a client that stops sending a request for this long")
      ->capture_default_str()
      ->check(CLI::Range(50, 3'600'000));
  cmd->add_flag("--quiet", flags->quiet, "No access log; warnings and errors only");
  cmd->add_option("--alias-poll-ms", flags->alias_poll_ms,
                  "How often deployments re-resolve the aliases they follow (0 = never)")
      ->capture_default_str()
      ->check(CLI::Range(0, 3'600'000));
  cmd->add_option("--inference-log-batch", flags->inference_log_batch,
                  "Inference-log records written per transaction")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000));
  cmd->add_option("--inference-log-queue", flags->inference_log_queue,
                  "Inference-log records waiting at most (beyond: dropped and counted)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  cmd->add_option("--inference-log-flush-ms", flags->inference_log_flush_ms,
                  "Write queued inference-log records at least this often")
      ->capture_default_str()
      ->check(CLI::Range(1, 60'000));
  cmd->callback([flags] { SetExitCode(RunServer(*flags)); });
}

}  // namespace

CAIRN_REGISTER_COMMAND(AddServerCommand);

}  // namespace cairn::cli
