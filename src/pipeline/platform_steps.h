// Built-in step types that act on the platform: `register`, `promote`, `deploy`. They talk to
// the Platform of the LineageRecorder they are given (the MLflow REST API of the tracking URI
// for `cairn pipeline run`, the in-process stores inside `cairn server`). None is cacheable:
// they run every time.
//
//   register:  with {model: <MLflow model folder>, name: <registered model>,
//                    artifact_path: model (default)}
//              Uploads the folder to the pipeline run's tracking run under artifact_path and
//              creates a version with source runs:/<pipeline tracking run>/<artifact_path>
//              and run_id = that run, tagged cairn.pipeline and cairn.pipeline_run_id. Values:
//              name, version, run_id, source; the first declared output (if any) receives
//              them as JSON (what `promote` and `deploy` read through `registered`).
//   promote:   with {alias, and either registered: <register's JSON> or name + version}
//              Sets the alias. Values: name, version, alias.
//   deploy:    with {deployment, environment (default test), server (default: the platform's
//                    own), and either registered: <file> or model + version}
//              PUT {server}/api/v1/deployments/{deployment}. Values: deployment, environment,
//              model, version.
// Without a lineage recorder (no tracking URI) they fail with FailedPrecondition saying so.
// Thread-safety: immutable; the recorder is thread-safe.
#pragma once

#include <memory>

#include "pipeline/lineage.h"
#include "pipeline/step_types.h"

namespace cairn::pipeline {

std::unique_ptr<StepType> NewRegisterStepType(LineageRecorder* lineage);
std::unique_ptr<StepType> NewPromoteStepType(LineageRecorder* lineage);
std::unique_ptr<StepType> NewDeployStepType(LineageRecorder* lineage);

// Every built-in type this build has: ingest, register, promote, deploy, and validate,
// train-xgboost, evaluate when the monitor and models modules are built. `lineage` may be
// null (then register/promote/deploy fail when run, but specs using them still validate).
StepTypeRegistry AllStepTypes(LineageRecorder* lineage);

}  // namespace cairn::pipeline
