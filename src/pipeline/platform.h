// Platform: what pipelines need from the rest of cairn (or from an MLflow server): tracking
// runs for lineage, artifacts, model versions, aliases and deployments.
//
// Two implementations: the MLflow REST API over HTTP (http/pipeline_rest_platform.h, what
// `cairn pipeline run --tracking-uri http://...` uses) and the in-process stores
// (pipeline/store_platform.h, what `cairn server` uses for the pipelines it runs).
//
// Errors are the backend's (NotFound for an unknown run or model, Unavailable when a server
// cannot be reached, InvalidArgument for values it refuses).
// Thread-safety: implementations must allow calls from several threads at once (the server
// runs pipelines in parallel).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"

namespace cairn::pipeline {

struct TrackedRun {
  std::string run_id;
  std::string experiment_id;
  std::string artifact_uri;  // as the tracking server reports it
};

struct DeployRequest {
  std::string server;       // base URL of the cairn server ("" = the platform's own)
  std::string deployment;   // PUT {server}/api/v1/deployments/{deployment}
  std::string environment;  // "dev", "test", "prod"
  std::string model;
  std::string version;
};

class Platform {
 public:
  virtual ~Platform() = default;

  // The experiment's id, creating the experiment when it does not exist.
  virtual StatusOr<std::string> EnsureExperiment(const std::string& name) = 0;
  // Starts a RUNNING run. `tags` may hold mlflow.parentRunId to make it a child run.
  virtual StatusOr<TrackedRun> StartRun(const std::string& experiment_id,
                                        const std::string& run_name, int64_t start_millis,
                                        const std::map<std::string, std::string>& tags) = 0;
  // Params, metrics (at `timestamp_millis`, step 0) and tags, in one request.
  virtual Status LogBatch(const std::string& run_id,
                          const std::map<std::string, std::string>& params,
                          const std::map<std::string, double>& metrics,
                          const std::map<std::string, std::string>& tags,
                          int64_t timestamp_millis) = 0;
  // Uploads a local file, or a folder recursively, to `artifact_path` under the run's root.
  virtual Status LogArtifact(const TrackedRun& run, const std::string& local_path,
                             const std::string& artifact_path) = 0;
  // status: FINISHED, FAILED or KILLED.
  virtual Status EndRun(const std::string& run_id, const std::string& status,
                        int64_t end_millis) = 0;

  // Creates a version of `name` (and the registered model when it does not exist) from
  // `source` (e.g. runs:/<run>/model), recording `run_id`. Returns the version number.
  virtual StatusOr<std::string> CreateModelVersion(
      const std::string& name, const std::string& source, const std::string& run_id,
      const std::map<std::string, std::string>& tags) = 0;
  // Points `alias` of `name` at `version`.
  virtual Status SetAlias(const std::string& name, const std::string& alias,
                          const std::string& version) = 0;
  // PUT {server}/api/v1/deployments/{deployment} with
  // {"environment": ..., "primary": {"model": ..., "version": ...}}. Returns the answer's body.
  virtual StatusOr<std::string> Deploy(const DeployRequest& request) = 0;
};

}  // namespace cairn::pipeline
