#include "pipeline/store_platform.h"

#include <fmt/format.h>

#include <atomic>
#include <filesystem>

namespace fs = std::filesystem;

namespace cairn::pipeline {

namespace {

// "mlflow-artifacts:/1/abc/artifacts" or "mlflow-artifacts://host:port/1/..." → "1/abc/...".
StatusOr<std::string> StoreRelative(const std::string& uri) {
  const std::string scheme = "mlflow-artifacts:";
  if (uri.rfind(scheme, 0) != 0) {
    return FailedPrecondition(
        fmt::format("the run's artifact location '{}' is not in the server's artifact store", uri));
  }
  std::string rest = uri.substr(scheme.size());
  if (rest.rfind("//", 0) == 0) {
    size_t slash = rest.find('/', 2);
    rest = slash == std::string::npos ? "" : rest.substr(slash);
  }
  while (!rest.empty() && rest.front() == '/') rest.erase(0, 1);
  return rest;
}

class StorePlatform final : public Platform {
 public:
  StorePlatform(tracking::TrackingStore* tracking, registry::RegistryStore* registry,
                artifacts::LocalArtifactStore* artifacts, DeployFn deploy, std::string user)
      : tracking_(tracking),
        registry_(registry),
        artifacts_(artifacts),
        deploy_(std::move(deploy)),
        user_(std::move(user)) {}

  StatusOr<std::string> EnsureExperiment(const std::string& name) override {
    auto e = tracking_->GetExperimentByName(name);
    if (e.ok()) {
      if (e->lifecycle_stage == "deleted") {
        RETURN_IF_ERROR(tracking_->RestoreExperiment(e->experiment_id));
      }
      return e->experiment_id;
    }
    if (e.status().code() != Code::kNotFound) return e.status();
    auto created = tracking_->CreateExperiment(name, "", {});
    if (created.ok() || created.status().code() != Code::kAlreadyExists) return created;
    ASSIGN_OR_RETURN(auto again, tracking_->GetExperimentByName(name));  // lost a race
    return again.experiment_id;
  }

  StatusOr<TrackedRun> StartRun(const std::string& experiment_id, const std::string& run_name,
                                int64_t start_millis,
                                const std::map<std::string, std::string>& tags) override {
    tracking::CreateRunRequest req;
    req.experiment_id = experiment_id;
    req.user_id = user_;
    req.run_name = run_name;
    req.start_time = start_millis;
    for (const auto& [k, v] : tags) req.tags.push_back({k, v});
    ASSIGN_OR_RETURN(tracking::Run run, tracking_->CreateRun(std::move(req)));
    return TrackedRun{run.info.run_id, run.info.experiment_id, run.info.artifact_uri};
  }

  Status LogBatch(const std::string& run_id, const std::map<std::string, std::string>& params,
                  const std::map<std::string, double>& metrics,
                  const std::map<std::string, std::string>& tags,
                  int64_t timestamp_millis) override {
    tracking::LogBatchRequest req;
    req.run_id = run_id;
    for (const auto& [k, v] : params) req.params.push_back({k, v.substr(0, 6000)});
    for (const auto& [k, v] : metrics) {
      tracking::Metric m;
      m.key = k;
      m.value = v;
      m.timestamp = timestamp_millis;
      req.metrics.push_back(std::move(m));
    }
    for (const auto& [k, v] : tags) req.tags.push_back({k, v});
    if (req.params.empty() && req.metrics.empty() && req.tags.empty()) return OkStatus();
    return tracking_->LogBatch(std::move(req));
  }

  Status LogArtifact(const TrackedRun& run, const std::string& local_path,
                     const std::string& artifact_path) override {
    ASSIGN_OR_RETURN(std::string root, StoreRelative(run.artifact_uri));
    std::error_code ec;
    if (fs::is_regular_file(local_path, ec)) return PutOne(local_path, root + "/" + artifact_path);
    if (!fs::is_directory(local_path, ec)) {
      return NotFound(fmt::format("no file or folder '{}'", local_path));
    }
    for (auto it = fs::recursive_directory_iterator(local_path, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      std::string rel = fs::relative(it->path(), local_path, ec).generic_string();
      RETURN_IF_ERROR(PutOne(it->path().string(), root + "/" + artifact_path + "/" + rel));
    }
    if (ec) return Internal(fmt::format("cannot list '{}': {}", local_path, ec.message()));
    return OkStatus();
  }

  Status EndRun(const std::string& run_id, const std::string& status,
                int64_t end_millis) override {
    tracking::UpdateRunRequest req;
    req.run_id = run_id;
    req.status = status;
    req.end_time = end_millis;
    return tracking_->UpdateRun(req).status();
  }

  StatusOr<std::string> CreateModelVersion(
      const std::string& name, const std::string& source, const std::string& run_id,
      const std::map<std::string, std::string>& tags) override {
    auto existing = registry_->GetRegisteredModel(name);
    if (!existing.ok()) {
      if (existing.status().code() != Code::kNotFound) return existing.status();
      auto created = registry_->CreateRegisteredModel(name, {}, std::nullopt);
      if (!created.ok() && created.status().code() != Code::kAlreadyExists) {
        return created.status();
      }
    }
    registry::CreateModelVersionRequest req;
    req.name = name;
    req.source = source;
    req.run_id = run_id;
    req.user_id = user_;
    for (const auto& [k, v] : tags) req.tags.push_back({k, v});
    ASSIGN_OR_RETURN(registry::ModelVersion mv, registry_->CreateModelVersion(std::move(req)));
    return std::to_string(mv.version);
  }

  Status SetAlias(const std::string& name, const std::string& alias,
                  const std::string& version) override {
    return registry_->SetRegisteredModelAlias(name, alias, version, user_);
  }

  StatusOr<std::string> Deploy(const DeployRequest& request) override {
    if (!deploy_) return FailedPrecondition("this server cannot deploy (no serving module)");
    return deploy_(request);
  }

 private:
  // Copies through the staging folder so the store's atomic rename applies.
  Status PutOne(const std::string& file, const std::string& rel) {
    std::string staged = artifacts_->staging_dir() + "/pipeline-" +
                         std::to_string(reinterpret_cast<uintptr_t>(this)) + "-" +
                         std::to_string(counter_++);
    std::error_code ec;
    fs::copy_file(file, staged, fs::copy_options::overwrite_existing, ec);
    if (ec) return Internal(fmt::format("cannot stage '{}': {}", file, ec.message()));
    Status st = artifacts_->PutFromFile(rel, staged);
    if (!st.ok()) fs::remove(staged, ec);
    return st;
  }

  tracking::TrackingStore* tracking_;
  registry::RegistryStore* registry_;
  artifacts::LocalArtifactStore* artifacts_;
  DeployFn deploy_;
  std::string user_;
  std::atomic<uint64_t> counter_{0};
};

}  // namespace

std::unique_ptr<Platform> NewStorePlatform(tracking::TrackingStore* tracking,
                                           registry::RegistryStore* registry,
                                           artifacts::LocalArtifactStore* artifacts,
                                           DeployFn deploy, std::string user_id) {
  return std::make_unique<StorePlatform>(tracking, registry, artifacts, std::move(deploy),
                                         std::move(user_id));
}

}  // namespace cairn::pipeline
