// Planning: a validated spec plus param values → concrete step instances in topological order.
//
// `foreach` steps expand into one instance per item ("train[eu]", "train[us]"; by index when
// the item is not a plain word); a step that needs a foreach step needs all its instances.
// `${params.x}` and `${item}` are substituted into run, inputs, outputs, env and with.
// Thread-safety: plain values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "pipeline/spec.h"

namespace cairn::pipeline {

struct PlannedStep {
  std::string name;       // instance name: the step name, or "step[item]" for foreach
  std::string step_name;  // the spec step it came from
  const StepSpec* spec = nullptr;  // points into the PipelineSpec the plan was made from
  std::optional<Value> item;
  std::vector<std::string> argv;  // resolved command: {"/bin/sh", "-c", run} or the argv
  std::string command_text;       // what the cache key and progress lines show
  std::vector<std::string> inputs;   // resolved, relative to the spec's folder
  std::vector<std::string> outputs;  // resolved
  std::map<std::string, std::string> env;   // declared env, resolved
  std::map<std::string, std::string> with;  // built-in config, resolved
  std::map<std::string, Value> params;      // the params it uses, with their values
  std::vector<int> deps;  // indices into Plan::steps, all smaller than this step's index
};

struct Plan {
  std::map<std::string, Value> params;  // every param's value for this run
  std::vector<PlannedStep> steps;       // topological order (file order among ready steps)

  int Find(const std::string& instance_name) const;  // -1 when absent
};

// InvalidArgument for an override of an unknown param or of the wrong type.
StatusOr<Plan> MakePlan(const PipelineSpec& spec, const std::map<std::string, Value>& overrides);

// Checks that every declared input exists under the spec's folder or is (inside) a declared
// output of some step. InvalidArgument naming the input's line and column otherwise.
Status CheckInputsAvailable(const PipelineSpec& spec, const Plan& plan);

// Replaces ${params.x} and ${item} in `text`.
std::string Interpolate(const std::string& text, const std::map<std::string, Value>& params,
                        const std::optional<Value>& item);

}  // namespace cairn::pipeline
