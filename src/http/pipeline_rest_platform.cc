#include "http/pipeline_rest_platform.h"

#include <fmt/format.h>

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "http/http_client.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace cairn::http {

namespace {

std::string EncodePath(const std::string& path) {
  std::string out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string seg = path.substr(start, slash == std::string::npos ? std::string::npos
                                                                      : slash - start);
    if (!seg.empty()) out += (out.empty() ? "" : "/") + UrlEncode(seg);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

StatusOr<json> ParseBody(const ClientResponse& r) {
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded()) return Internal("the tracking server sent malformed JSON");
  return j;
}

class RestPlatform final : public pipeline::Platform {
 public:
  RestPlatform(std::unique_ptr<HttpClient> client, std::string base)
      : client_(std::move(client)), base_(std::move(base)) {}

  StatusOr<std::string> EnsureExperiment(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(ClientResponse got,
                     client_->Request("GET", "/api/2.0/mlflow/experiments/get-by-name?"
                                             "experiment_name=" + UrlEncode(name)));
    if (got.ok()) {
      ASSIGN_OR_RETURN(json j, ParseBody(got));
      return j["experiment"].value("experiment_id", "");
    }
    if (got.status != 404) return MlflowError(got);
    ASSIGN_OR_RETURN(ClientResponse created,
                     client_->Request("POST", "/api/2.0/mlflow/experiments/create",
                                      json{{"name", name}}.dump()));
    RETURN_IF_ERROR(MlflowError(created));
    ASSIGN_OR_RETURN(json j, ParseBody(created));
    return j.value("experiment_id", "");
  }

  StatusOr<pipeline::TrackedRun> StartRun(const std::string& experiment_id,
                                          const std::string& run_name, int64_t start_millis,
                                          const std::map<std::string, std::string>& tags) override {
    json t = json::array();
    for (const auto& [k, v] : tags) t.push_back({{"key", k}, {"value", v}});
    json body = {{"experiment_id", experiment_id}, {"run_name", run_name},
                 {"start_time", start_millis}, {"tags", t}, {"user_id", "cairn-pipeline"}};
    ASSIGN_OR_RETURN(json j, Call("POST", "/api/2.0/mlflow/runs/create", body));
    const json& info = j["run"]["info"];
    return pipeline::TrackedRun{info.value("run_id", ""), info.value("experiment_id", ""),
                                info.value("artifact_uri", "")};
  }

  Status LogBatch(const std::string& run_id, const std::map<std::string, std::string>& params,
                  const std::map<std::string, double>& metrics,
                  const std::map<std::string, std::string>& tags,
                  int64_t timestamp_millis) override {
    if (params.empty() && metrics.empty() && tags.empty()) return OkStatus();
    json p = json::array(), m = json::array(), t = json::array();
    for (const auto& [k, v] : params) p.push_back({{"key", k}, {"value", v.substr(0, 6000)}});
    for (const auto& [k, v] : metrics) {
      m.push_back({{"key", k}, {"value", v}, {"timestamp", timestamp_millis}, {"step", 0}});
    }
    for (const auto& [k, v] : tags) t.push_back({{"key", k}, {"value", v}});
    return Call("POST", "/api/2.0/mlflow/runs/log-batch",
                {{"run_id", run_id}, {"params", p}, {"metrics", m}, {"tags", t}})
        .status();
  }

  Status LogArtifact(const pipeline::TrackedRun& run, const std::string& local_path,
                     const std::string& artifact_path) override {
    std::error_code ec;
    std::vector<std::pair<std::string, std::string>> files;  // local, relative artifact path
    if (fs::is_regular_file(local_path, ec)) {
      files.emplace_back(local_path, artifact_path);
    } else if (fs::is_directory(local_path, ec)) {
      for (auto it = fs::recursive_directory_iterator(local_path, ec); !ec && it != fs::end(it);
           it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        files.emplace_back(it->path().string(),
                           artifact_path + "/" +
                               fs::relative(it->path(), local_path, ec).generic_string());
      }
    } else {
      return NotFound(fmt::format("no file or folder '{}'", local_path));
    }
    const std::string& uri = run.artifact_uri;
    const std::string proxy = "mlflow-artifacts:";
    if (uri.rfind(proxy, 0) == 0) {
      std::string root = uri.substr(proxy.size());
      if (root.rfind("//", 0) == 0) {
        size_t slash = root.find('/', 2);
        root = slash == std::string::npos ? "" : root.substr(slash);
      }
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [local, rel] : files) {
        std::string target = "/api/2.0/mlflow-artifacts/artifacts/" + EncodePath(root + "/" + rel);
        ASSIGN_OR_RETURN(ClientResponse r, client_->UploadFile("PUT", target, local));
        RETURN_IF_ERROR(MlflowError(r));
      }
      return OkStatus();
    }
    std::string dir = uri.rfind("file://", 0) == 0 ? uri.substr(7) : uri;
    if (dir.empty() || dir[0] != '/') {
      return Unimplemented(fmt::format("cannot upload artifacts to '{}'", uri));
    }
    for (const auto& [local, rel] : files) {
      fs::path dest = fs::path(dir) / rel;
      fs::create_directories(dest.parent_path(), ec);
      fs::copy_file(local, dest, fs::copy_options::overwrite_existing, ec);
      if (ec) return Internal(fmt::format("cannot copy to '{}': {}", dest.string(), ec.message()));
    }
    return OkStatus();
  }

  Status EndRun(const std::string& run_id, const std::string& status,
                int64_t end_millis) override {
    return Call("POST", "/api/2.0/mlflow/runs/update",
                {{"run_id", run_id}, {"status", status}, {"end_time", end_millis}})
        .status();
  }

  StatusOr<std::string> CreateModelVersion(
      const std::string& name, const std::string& source, const std::string& run_id,
      const std::map<std::string, std::string>& tags) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ASSIGN_OR_RETURN(ClientResponse r,
                       client_->Request("POST", "/api/2.0/mlflow/registered-models/create",
                                        json{{"name", name}}.dump()));
      Status st = MlflowError(r);
      if (!st.ok() && st.code() != Code::kAlreadyExists &&
          r.body.find("RESOURCE_ALREADY_EXISTS") == std::string::npos) {
        return st;
      }
    }
    json t = json::array();
    for (const auto& [k, v] : tags) t.push_back({{"key", k}, {"value", v}});
    ASSIGN_OR_RETURN(json j, Call("POST", "/api/2.0/mlflow/model-versions/create",
                                  {{"name", name}, {"source", source}, {"run_id", run_id},
                                   {"tags", t}}));
    const json& v = j["model_version"]["version"];
    return v.is_string() ? v.get<std::string>() : v.dump();
  }

  Status SetAlias(const std::string& name, const std::string& alias,
                  const std::string& version) override {
    return Call("POST", "/api/2.0/mlflow/registered-models/alias",
                {{"name", name}, {"alias", alias}, {"version", version}})
        .status();
  }

  StatusOr<std::string> Deploy(const pipeline::DeployRequest& request) override {
    return PutDeployment(request.server.empty() ? base_ : request.server, request);
  }

 private:
  StatusOr<json> Call(const char* method, const std::string& target, const json& body) {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(ClientResponse r, client_->Request(method, target, body.dump()));
    RETURN_IF_ERROR(MlflowError(r));
    return ParseBody(r);
  }

  std::mutex mu_;
  std::unique_ptr<HttpClient> client_;  // GUARDED_BY(mu_)
  std::string base_;
};

}  // namespace

StatusOr<std::unique_ptr<pipeline::Platform>> NewRestPlatform(const std::string& tracking_uri) {
  std::string base = tracking_uri;
  while (!base.empty() && base.back() == '/') base.pop_back();
  ASSIGN_OR_RETURN(std::unique_ptr<HttpClient> client, HttpClient::Create(base));
  return std::unique_ptr<pipeline::Platform>(new RestPlatform(std::move(client), base));
}

StatusOr<std::string> PutDeployment(const std::string& server,
                                    const pipeline::DeployRequest& request) {
  if (server.empty()) return InvalidArgument("deploy: no server URL");
  if (request.deployment.empty()) return InvalidArgument("deploy: no deployment name");
  std::string base = server;
  while (!base.empty() && base.back() == '/') base.pop_back();
  ASSIGN_OR_RETURN(std::unique_ptr<HttpClient> client, HttpClient::Create(base));
  json body = {{"environment", request.environment},
               {"primary", {{"model", request.model}, {"version", request.version}}}};
  ASSIGN_OR_RETURN(ClientResponse r,
                   client->Request("PUT", "/api/v1/deployments/" + UrlEncode(request.deployment),
                                   body.dump()));
  RETURN_IF_ERROR(MlflowError(r));
  return r.body;
}

}  // namespace cairn::http
