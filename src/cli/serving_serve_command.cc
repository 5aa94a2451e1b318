// `cairn serve MODEL`: a standalone scoring server for one model — the container entrypoint
// for SageMaker (port 8080, /ping, /invocations), Vertex AI (AIP_HTTP_PORT, AIP_HEALTH_ROUTE,
// AIP_PREDICT_ROUTE), KServe (Open Inference Protocol v2) and MLflow clients.
//
// MODEL is a local path (an MLflow model directory or a model file, file:// allowed), or a
// URI resolved against an MLflow-compatible server (--tracking-uri, else
// $MLFLOW_TRACKING_URI): runs:/RUN_ID/PATH, models:/NAME/VERSION, models:/NAME@ALIAS or
// models:/NAME/latest. Remote models are downloaded through the server's artifact proxy
// (/api/2.0/mlflow-artifacts/artifacts) into a temporary folder, removed at exit.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <system_error>
#include <vector>

#include "cli/command.h"
#include "cli/signals.h"
#include "common/log.h"
#include "common/ids.h"
#include "http/http_client.h"
#include "http/router.h"
#include "http/scoring_routes.h"
#include "http/server.h"

namespace cairn::cli {

namespace {

struct ServeFlags {
  std::string model_uri;
  std::string tracking_uri;
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

using nlohmann::json;

// A model found on a tracking server: where its files are, and the name/version it has there.
struct RemoteModel {
  std::string artifact_uri;
  std::string name;
  std::string version;
};

StatusOr<json> GetJson(http::HttpClient& client, const std::string& target,
                       const std::string& post_body = "") {
  ASSIGN_OR_RETURN(http::ClientResponse r, post_body.empty()
                                               ? client.Request("GET", target)
                                               : client.Request("POST", target, post_body));
  RETURN_IF_ERROR(http::MlflowError(r));
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_object()) return Internal("the server answered " + target + " with malformed JSON");
  return j;
}

// Resolves runs:/ and models:/ URIs the way the mlflow client does, over the REST API.
StatusOr<RemoteModel> ResolveRemote(http::HttpClient& client, const std::string& uri) {
  RemoteModel out;
  if (uri.rfind("runs:/", 0) == 0) {
    std::string rest = uri.substr(6);
    while (!rest.empty() && rest[0] == '/') rest.erase(0, 1);
    size_t slash = rest.find('/');
    std::string run_id = rest.substr(0, slash);
    std::string sub = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (run_id.empty()) return InvalidArgument("runs:/ URI without a run id: " + uri);
    ASSIGN_OR_RETURN(json run, GetJson(client, "/api/2.0/mlflow/runs/get?run_id=" +
                                                   http::UrlEncode(run_id)));
    std::string base = run["run"]["info"].value("artifact_uri", "");
    while (!base.empty() && base.back() == '/') base.pop_back();
    out.artifact_uri = sub.empty() ? base : base + "/" + sub;
    out.name = std::filesystem::path(sub.empty() ? run_id : sub).filename().string();
    out.version = run_id.substr(0, 8);
    return out;
  }
  std::string rest = uri.substr(8);  // after models:/
  while (!rest.empty() && rest[0] == '/') rest.erase(0, 1);
  size_t at = rest.find('@');
  size_t slash = rest.find('/');
  if (at != std::string::npos) {
    out.name = rest.substr(0, at);
    ASSIGN_OR_RETURN(json mv, GetJson(client, "/api/2.0/mlflow/registered-models/alias?name=" +
                                                  http::UrlEncode(out.name) + "&alias=" +
                                                  http::UrlEncode(rest.substr(at + 1))));
    out.version = mv["model_version"].value("version", "");
  } else if (slash != std::string::npos) {
    out.name = rest.substr(0, slash);
    out.version = rest.substr(slash + 1);
    if (out.version == "latest") {
      ASSIGN_OR_RETURN(json latest,
                       GetJson(client, "/api/2.0/mlflow/registered-models/get-latest-versions",
                               json{{"name", out.name}}.dump()));
      int64_t best = 0;
      for (const auto& v : latest.value("model_versions", json::array())) {
        best = std::max<int64_t>(best, std::stoll(v.value("version", "0")));
      }
      if (best == 0) return NotFound("model '" + out.name + "' has no versions");
      out.version = std::to_string(best);
    }
  } else {
    return InvalidArgument("expected models:/NAME/VERSION or models:/NAME@ALIAS, got " + uri);
  }
  if (out.name.empty() || out.version.empty()) return InvalidArgument("cannot resolve " + uri);
  ASSIGN_OR_RETURN(json dl, GetJson(client, "/api/2.0/mlflow/model-versions/get-download-uri?name=" +
                                                http::UrlEncode(out.name) + "&version=" +
                                                http::UrlEncode(out.version)));
  out.artifact_uri = dl.value("artifact_uri", "");
  if (out.artifact_uri.empty()) return Internal("no download URI for " + uri);
  // A version registered from a run without a storage location downloads from its source,
  // a runs:/ URI (as MLflow answers): resolve it as the mlflow client does.
  if (out.artifact_uri.rfind("runs:/", 0) == 0) {
    ASSIGN_OR_RETURN(RemoteModel source, ResolveRemote(client, out.artifact_uri));
    out.artifact_uri = std::move(source.artifact_uri);
  }
  return out;
}

// Downloads the artifact directory (or file) at store-relative `rel` into `dest`.
Status DownloadTree(http::HttpClient& client, const std::string& rel,
                    const std::filesystem::path& dest, int depth = 0) {
  if (depth > 16) return InvalidArgument("artifact tree too deep at " + rel);
  ASSIGN_OR_RETURN(json listing, GetJson(client, "/api/2.0/mlflow-artifacts/artifacts?path=" +
                                                     http::UrlEncode(rel)));
  auto files = listing.value("files", json::array());
  std::error_code ec;
  std::filesystem::create_directories(dest, ec);
  if (ec) return Internal("cannot create " + dest.string() + ": " + ec.message());
  if (files.empty()) {
    // A single file (or an empty folder): try it as a file.
    std::filesystem::path file = dest / std::filesystem::path(rel).filename();
    ASSIGN_OR_RETURN(http::ClientResponse r,
                     client.DownloadToFile("/api/2.0/mlflow-artifacts/artifacts/" + rel,
                                           file.string()));
    return http::MlflowError(r);
  }
  for (const auto& f : files) {
    std::string path = f.value("path", "");
    std::string leaf = std::filesystem::path(path).filename().string();
    if (leaf.empty() || leaf == "." || leaf == "..") continue;
    std::string child = rel.empty() ? leaf : rel + "/" + leaf;
    if (f.value("is_dir", false)) {
      RETURN_IF_ERROR(DownloadTree(client, child, dest / leaf, depth + 1));
      continue;
    }
    ASSIGN_OR_RETURN(http::ClientResponse r,
                     client.DownloadToFile("/api/2.0/mlflow-artifacts/artifacts/" + child,
                                           (dest / leaf).string()));
    RETURN_IF_ERROR(http::MlflowError(r));
  }
  return OkStatus();
}

// Resolves a runs:/ or models:/ URI and returns the local path of its files.
StatusOr<std::string> FetchRemoteModel(const std::string& tracking_uri, const std::string& uri,
                                       const std::filesystem::path& temp_dir,
                                       RemoteModel* remote) {
  ASSIGN_OR_RETURN(auto client, http::HttpClient::Create(tracking_uri));
  ASSIGN_OR_RETURN(*remote, ResolveRemote(*client, uri));
  const std::string& location = remote->artifact_uri;
  if (location.rfind("file://", 0) == 0) return location.substr(7);
  if (!location.empty() && location[0] == '/') return location;
  constexpr std::string_view kScheme = "mlflow-artifacts:";
  if (location.rfind(kScheme, 0) != 0) {
    return Unimplemented("cannot download '" + location +
                         "': only mlflow-artifacts:/ (the server's artifact proxy) and local "
                         "paths are supported");
  }
  std::string rel = location.substr(kScheme.size());
  if (rel.rfind("//", 0) == 0) {  // mlflow-artifacts://host:port/path
    size_t slash = rel.find('/', 2);
    rel = slash == std::string::npos ? "" : rel.substr(slash);
  }
  while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
  std::filesystem::path dest = temp_dir / "model";
  std::fprintf(stderr, "cairn serve: downloading %s (%s) ...\n", uri.c_str(), location.c_str());
  RETURN_IF_ERROR(DownloadTree(*client, rel, dest));
  // A single downloaded file is the model itself.
  size_t entries = 0;
  std::filesystem::path only;
  for (const auto& e : std::filesystem::directory_iterator(dest)) {
    ++entries;
    only = e.path();
  }
  if (entries == 1 && std::filesystem::is_regular_file(only)) return only.string();
  return dest.string();
}

// Removes the download folder when serving ends.
struct TempDir {
  std::filesystem::path path;
  ~TempDir() {
    if (path.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

int RunServe(const ServeFlags& flags) {
  std::string path = flags.model_uri;
  if (path.rfind("file://", 0) == 0) path = path.substr(7);
  std::string name = flags.name;
  std::string version = flags.version;
  TempDir temp;
  if (path.rfind("runs:/", 0) == 0 || path.rfind("models:/", 0) == 0) {
    std::string tracking = flags.tracking_uri;
    if (tracking.empty()) tracking = EnvOr("MLFLOW_TRACKING_URI", "");
    if (tracking.empty()) {
      std::fprintf(stderr, "cairn serve: %s needs --tracking-uri (or $MLFLOW_TRACKING_URI)\n",
                   path.c_str());
      return kExitUsage;
    }
    temp.path = std::filesystem::temp_directory_path() / ("cairn-serve-" + NewUuidHex());
    RemoteModel remote;
    auto local = FetchRemoteModel(tracking, path, temp.path, &remote);
    if (!local.ok()) {
      std::fprintf(stderr, "cairn serve: cannot fetch %s from %s: %s\n", path.c_str(),
                   tracking.c_str(), local.status().message().c_str());
      return kExitFailed;
    }
    path = *local;
    if (name.empty()) name = remote.name;
    if (version == "1" && !remote.version.empty()) version = remote.version;
  } else if (path.find("://") != std::string::npos) {
    std::fprintf(stderr, "cairn serve: %s: unsupported URI (a local path, runs:/ or models:/)\n",
                 flags.model_uri.c_str());
    return kExitUsage;
  }
  if (name.empty()) {
    name = std::filesystem::path(path).lexically_normal().filename().string();
    if (name.empty()) name = "model";
  }
  auto model = http::ScoringModel::Load(path, name, version);
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
                  "An MLflow model directory or a bare XGBoost / cairn linear model file, or "
                  "runs:/RUN/PATH, models:/NAME/VERSION, models:/NAME@ALIAS")
      ->required();
  cmd->add_option("--tracking-uri", flags->tracking_uri,
                  "MLflow-compatible server for runs:/ and models:/ (default: "
                  "$MLFLOW_TRACKING_URI)");
  cmd->add_option("--host", flags->host, "Address to bind")->capture_default_str();
  cmd->add_option("--port", flags->port,
                  "Port (default: $AIP_HTTP_PORT, else 8080; 0 picks a free port)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--workers", flags->workers, "Worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--name", flags->name, "Model name on /v2/models (default: the path's basename)");
  cmd->add_option("--model-version", flags->version,
                  "Model version on /v2/models (default: the registry's for models:/)")
      ->capture_default_str();
  cmd->add_flag("--access-log", flags->access_log, "Log every request to stderr");
  cmd->callback([flags] { SetExitCode(RunServe(*flags)); });
}

}  // namespace

CAIRN_REGISTER_COMMAND(AddServeCommand);

}  // namespace cairn::cli
