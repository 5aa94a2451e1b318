// Deployments inside `cairn server`: the live routing of each deployment (see
// deployment_spec.h), its loaded model versions, scoring with request logging, shadow
// copies, and alias following.
//
// Changes (Put, SetWeights, PromoteCanary, Rollback, Delete) are serialised. Each one
// resolves every route to a version and its files (ModelResolver), loads and compiles the
// versions not yet in the cache (one compiled model per model version, shared by every
// deployment using it), validates the routing table, persists the new spec with the replaced
// one appended to its history (DeploymentStore), and only then swaps in an immutable
// snapshot. If anything fails (an unknown version, a corrupt model file, an unsupported
// objective, weights that do not sum to 100, the database) the error is returned and the
// deployment keeps serving exactly what it served before. A request takes the snapshot once
// at its start, so in-flight requests finish on the versions they started on; nothing is
// dropped by a swap.
//
// Alias following (polling): a thread re-resolves every alias route every alias_poll_ms
// (default 1000 ms), whatever moved the alias (the MLflow set-alias API, `cairn model
// promote`, another process writing the same database). When a resolved version changed, the
// new versions are loaded and swapped in (not recorded in the history: the spec itself did
// not change). If the new version fails to load, the deployment keeps serving the previous
// one and reports the failure in DeploymentInfo::error until the alias moves again.
//
// Scoring: Score() routes a request (sticky by the spec's header or field when it has one,
// else a random draw), decodes it with the chosen version's decoder, predicts, and encodes
// the protocol's answer. Every scored row is handed to the InferenceLog (never blocking;
// one record per row, request_id "<id>" for a one-row request, "<id>#<row>" otherwise) with
// the variant ("primary", "canary" or the A/B variant's name) and the model version. Shadow
// versions get a copy of the request on a bounded queue served by one background thread,
// after the answer is computed; their answers are logged with variant "shadow" and never
// reach the caller. A full shadow queue drops the copy and counts it.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "serving/deployment_spec.h"
#include "serving/deployment_store.h"
#include "serving/inference_log.h"
#include "serving/served_model.h"

namespace cairn::serving {

// A route's model reference resolved: the concrete version and the local path of its files
// (an MLflow model directory or a model file).
struct ResolvedRef {
  std::string version;
  std::string path;
};
// Errors are returned to the caller of the change (NotFound for an unknown model, version or
// alias, ...). Must be thread-safe.
using ModelResolver = std::function<StatusOr<ResolvedRef>(const ModelRef& ref)>;

struct DeploymentManagerOptions {
  int alias_poll_ms = 1000;  // 0 = no polling thread (call RefreshAliases() yourself)
  size_t shadow_queue_capacity = 1024;
  // Random 64-bit values for requests without a sticky key; default: a per-thread generator
  // seeded from cairn::RandomU64. Must be thread-safe.
  std::function<uint64_t()> random;
};

// What GET answers: the spec, the version each route resolves to now, and the state.
struct DeploymentInfo {
  StoredDeployment stored;
  // Resolved versions in route order: primary, canary (if any), variants, shadows.
  std::vector<std::string> resolved_versions;
  bool ready = false;  // false: restored but not loadable; scoring answers 503
  std::string error;   // why not ready, or the last failed alias follow
};

struct WeightChange {
  std::optional<double> canary;                           // the canary's new weight
  std::vector<std::pair<std::string, double>> variants;  // variant name -> weight (all of them)
};

enum class ScoreProtocol { kInvocations, kInfer };

struct ScoreRequest {
  std::string deployment;
  ScoreProtocol protocol = ScoreProtocol::kInvocations;
  std::string_view content_type;
  std::string_view body;
  const std::map<std::string, std::string>* headers = nullptr;  // lowercase names
  std::string request_id;      // "" = a new one is generated
  std::string pinned_version;  // OIP .../versions/{v}/infer: only a route serving v answers
};

struct ScoreResult {
  Status status;     // not OK: body is empty
  std::string body;  // the protocol's JSON answer
  std::string request_id;
  std::string variant;
  std::string model;
  std::string version;
};

class DeploymentManager {
 public:
  // `store` and `clock` must outlive the manager; `log` may be null (no logging) or must
  // outlive it. Starts the alias-polling and shadow threads.
  DeploymentManager(DeploymentStore& store, ModelResolver resolver, InferenceLog* log,
                    const Clock& clock, DeploymentManagerOptions options = {});
  ~DeploymentManager();
  DeploymentManager(const DeploymentManager&) = delete;
  DeploymentManager& operator=(const DeploymentManager&) = delete;

  // Loads every stored deployment. One that cannot be loaded stays listed, not ready, with
  // its error (and is retried when its aliases move). Returns how many are ready.
  // Errors: only the database's.
  StatusOr<size_t> Restore();

  // Creates or replaces (the old spec goes to the history). Errors: see the class comment.
  StatusOr<DeploymentInfo> Put(DeploymentSpec spec);
  // NotFound for an unknown deployment.
  StatusOr<DeploymentInfo> Get(const std::string& name) const;
  // By name; `environment` "" = all.
  std::vector<DeploymentInfo> List(const std::string& environment) const;
  Status Delete(const std::string& name);
  // FailedPrecondition when the deployment has no canary (for a canary weight) or no
  // variants (for variant weights); InvalidArgument for an unknown variant name, a missing
  // one, or weights that do not sum to 100.
  StatusOr<DeploymentInfo> SetWeights(const std::string& name, const WeightChange& change);
  // The canary becomes the primary. FailedPrecondition without a canary.
  StatusOr<DeploymentInfo> PromoteCanary(const std::string& name);
  // Back to the spec in force before the last change. FailedPrecondition when there is none.
  StatusOr<DeploymentInfo> Rollback(const std::string& name);

  // The loaded model answering for `version` in deployment `name` ("" = the first routed
  // version: the primary, or the first A/B variant). NotFound for an unknown deployment or a
  // version it does not route to; Unavailable when the deployment is not ready.
  StatusOr<std::shared_ptr<const ServedModel>> ServedVersion(const std::string& name,
                                                             const std::string& version) const;

  // Re-resolves aliases now (what the polling thread does). Returns how many deployments
  // swapped to new versions.
  size_t RefreshAliases();

  // Scores one request. Status codes: NotFound for an unknown deployment (or a pinned
  // version it does not serve); Unavailable when it is not ready; the decoder's
  // InvalidArgument / Unimplemented / ResourceExhausted for bad input.
  ScoreResult Score(const ScoreRequest& request);

  // Waits until every shadow copy queued so far has been scored (tests, shutdown).
  void DrainShadows();

  // Prometheus text: cairn_deployment_requests_total{deployment,variant,model,version,
  // outcome}, cairn_deployment_rows_total, cairn_deployment_request_duration_seconds
  // (histogram), cairn_deployment_shadow_{queued,dropped,failed}_total.
  std::string RenderPrometheus() const;

 private:
  struct Stats;
  struct Target;
  struct Active;
  struct ShadowJob;

  StatusOr<std::shared_ptr<Active>> Build(const StoredDeployment& stored,
                                          std::vector<std::string>* resolved_out);
  StatusOr<std::shared_ptr<const ServedModel>> LoadCached(const ModelRef& ref,
                                                          const ResolvedRef& resolved);
  std::shared_ptr<Stats> StatsFor(const std::string& deployment, const std::string& variant,
                                  const std::string& model, const std::string& version);
  StatusOr<DeploymentInfo> Commit(StoredDeployment next);
  void Install(const std::string& name, std::shared_ptr<const Active> active);
  std::shared_ptr<const Active> Find(const std::string& name) const;
  void PruneCache();
  DeploymentInfo InfoOf(const Active& a) const;
  uint64_t Random() const;
  void RunPoller();
  void RunShadows();
  void ScoreShadows(const ShadowJob& job);

  DeploymentStore& store_;
  ModelResolver resolver_;
  InferenceLog* log_;
  const Clock& clock_;
  const DeploymentManagerOptions options_;

  std::mutex change_mu_;  // serialises changes, RefreshAliases and the cache
  std::map<std::string, std::shared_ptr<const ServedModel>> cache_;  // GUARDED_BY(change_mu_)

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Active>> active_;  // GUARDED_BY(mu_)

  mutable std::mutex stats_mu_;
  std::map<std::string, std::shared_ptr<Stats>> stats_;  // GUARDED_BY(stats_mu_)

  std::mutex shadow_mu_;
  std::condition_variable shadow_cv_;
  std::condition_variable shadow_done_cv_;
  std::deque<ShadowJob> shadow_queue_;  // GUARDED_BY(shadow_mu_)
  size_t shadow_busy_ = 0;              // GUARDED_BY(shadow_mu_)
  std::atomic<uint64_t> shadow_queued_{0}, shadow_dropped_{0}, shadow_failed_{0};

  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool stopping_ = false;  // GUARDED_BY(poll_mu_) and shadow_mu_ (set under both)
  std::thread poller_;
  std::thread shadow_thread_;
};

}  // namespace cairn::serving
