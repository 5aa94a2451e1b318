// Built-in step types (`type: ingest` in a spec): run in-process by the executor.
//
// Modules above pipeline (registry, models, monitor) plug in their own types (register,
// promote, deploy, train-xgboost, validate) by registering a StepType with the registry the
// executor is given; pipeline itself ships `ingest`.
// Thread-safety: register everything before running; lookups are then read-only.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "pipeline/spec.h"

namespace cairn::pipeline {

struct StepContext {
  std::string base_dir;                       // the spec's folder; paths are relative to it
  std::map<std::string, std::string> with;    // the step's config, interpolated
  std::vector<std::string> inputs;            // declared inputs, interpolated
  std::vector<std::string> outputs;           // declared outputs, interpolated
  std::map<std::string, Value> params;        // the params the step uses
  std::string log_path;                       // where the step's log goes (its stdout file)
  std::string run_id;                         // the pipeline run
  std::string step;                           // the step instance's name
  std::string metrics_path;                   // where the step may write its metrics JSON
};

class StepType {
 public:
  virtual ~StepType() = default;
  // Checks the config at validation time (unknown or missing keys). InvalidArgument.
  virtual Status CheckConfig(const std::map<std::string, std::string>& with) const = 0;
  // Runs the step. Values put in `values` become the step's outputs (for `when` and the
  // cache). A non-OK status fails the attempt (and is retried per the step's policy).
  virtual Status Run(const StepContext& ctx, std::map<std::string, std::string>* values) const = 0;
  // Files the step reads beyond its declared inputs (relative to ctx.base_dir, or absolute),
  // hashed into its cache key. Default: none.
  virtual std::vector<std::string> ImplicitInputs(const StepContext& ctx) const { return {}; }
  // False for steps with effects outside their outputs (register, promote, deploy): they
  // run every time, whatever the step's `cache` setting.
  virtual bool Cacheable() const { return true; }
};

class StepTypeRegistry {
 public:
  // Replaces any type of the same name.
  void Register(const std::string& name, std::unique_ptr<StepType> type);
  const StepType* Find(const std::string& name) const;  // nullptr when unknown
  std::vector<std::string> Names() const;
  // A registry holding the types pipeline ships (`ingest`).
  static StepTypeRegistry WithBuiltins();

 private:
  std::map<std::string, std::shared_ptr<const StepType>> types_;
};

// Checks every `type:` step against the registry and its config; InvalidArgument naming the
// spec's line and column for unknown types and bad config.
Status CheckStepTypes(const PipelineSpec& spec, const StepTypeRegistry& registry);

// `ingest`: reads CSV (optionally gzip-compressed) from `with.path` (a file or a glob,
// relative to the spec's folder), checks every file has the same header, that it contains
// `with.columns` (comma-separated, optional) and that every row has the header's field
// count, and writes the concatenation to the step's first declared output. Values: rows,
// files, columns.
std::unique_ptr<StepType> NewIngestStepType();

}  // namespace cairn::pipeline
