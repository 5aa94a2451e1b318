// Compilers from a pipeline spec to cluster runners.
//
// Argo: a Workflow (or a CronWorkflow when the spec has a schedule) with one DAG template
// `main` and one container template per step. Each container runs
//   cairn pipeline step <spec path in image> <step> --param name={{inputs.parameters.name}} ...
// in the spec's `image`, working in the spec's folder there (steps resolve their inputs and
// outputs against it, as `cairn pipeline run` does locally). The mapping:
//   needs          → task `depends: "a && b"`
//   params         → workflow `arguments.parameters`, passed to the templates that use them
//   retries        → `retryStrategy {limit, retryPolicy: Always, backoff{duration, factor, cap}}`
//   timeout        → template `activeDeadlineSeconds`
//   outputs/inputs → output artifacts (paths in the spec's folder); an input that another step outputs becomes an input
//                    artifact `from: {{tasks.<producer>.outputs.artifacts.<name>}}`
//   when           → task `when` over `{{tasks.<step>.outputs.parameters.<key>}}`; the
//                    producing template declares those output parameters
//   foreach        → task `withItems`
//   cache: true    → `memoize {key: <cairn cache key>, maxAge, cache.configMap}`. The key is
//                    the one `cairn pipeline run` computes, over the compile-time param values
//                    and the content of the inputs present at compile time. For a step whose
//                    inputs come from upstream steps the key instead covers the upstream
//                    steps' keys (inputs produced by identical steps from identical inputs).
// KFP: a PipelineSpec IR document (schemaVersion 2.1.0): components, deploymentSpec
//   executors, root DAG with dependentTasks, componentInputParameter, retryPolicy,
//   cachingOptions, triggerPolicy.condition (CEL) and parameterIterator for foreach.
// Output is YAML (default) or JSON. Thread-safety: pure functions.
#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "pipeline/spec.h"

namespace cairn::pipeline {

struct CompileOptions {
  std::map<std::string, Value> params;  // overrides of the params' defaults
  std::string spec_path_in_image = "/pipeline/pipeline.yaml";
  std::string default_image = "cairn:latest";  // when the spec names no image
  // Set as MLFLOW_TRACKING_URI in every step's container (unless the step's env sets it), so
  // lineage and the register/promote/deploy steps reach the tracking server. "" = not set.
  std::string tracking_uri;
  std::string cache_config_map = "cairn-step-cache";
  std::string memoize_max_age = "720h";
  bool json = false;  // emit JSON instead of YAML
};

// InvalidArgument for bad param overrides and a relative spec_path_in_image.
StatusOr<std::string> CompileArgo(const PipelineSpec& spec, const CompileOptions& options);
StatusOr<std::string> CompileKfp(const PipelineSpec& spec, const CompileOptions& options);

}  // namespace cairn::pipeline
