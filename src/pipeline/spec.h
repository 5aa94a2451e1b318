// Pipeline spec: a pipeline.yaml parsed and validated into plain structs.
//
// The format (see examples/ for complete files):
//
//   name: train-model
//   image: ghcr.io/acme/cairn:0.1        # container image for compiled targets (optional)
//   schedule: {cron: "0 2 * * *", timezone: Europe/Paris}   # optional
//   params:
//     lr: {type: float, default: 0.1}     # types: string, int, float, bool, list
//     regions: {type: list, default: [eu, us]}
//   steps:
//     prepare:
//       run: "python prep.py --lr ${params.lr}"   # a string runs under /bin/sh -c;
//                                                  # a list is an argv run directly
//       inputs: [data/raw.csv]             # files or folders, relative to the spec's folder
//       outputs: [out/clean.csv]
//       params: [lr]                       # params the step uses (also found in `run`)
//       env: {OMP_NUM_THREADS: "1"}
//       retries: {limit: 2, backoff: 1s, factor: 2, max_backoff: 30s}   # or `retries: 2`
//       timeout: 10m
//       cache: true
//     train:
//       needs: [prepare]
//       foreach: ${params.regions}         # or a literal list; `${item}` in run/inputs/outputs
//       run: "train --region ${item}"
//     register:
//       needs: [evaluate]
//       when: steps.evaluate.outputs.auc > 0.8 and params.lr < 1
//       type: register                     # a built-in step type instead of `run`
//       with: {model: out/model.json}      # the built-in's config
//
// Every error names the YAML line and column ("pipeline.yaml:12:7: ...").
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "pipeline/expr.h"

namespace cairn::pipeline {

// A position in the YAML file, 1-based (0 = unknown).
struct Mark {
  int line = 0;
  int column = 0;
};

enum class ParamType { kString, kInt, kFloat, kBool, kList };
std::string_view ParamTypeName(ParamType type);

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kString;
  Value default_value;  // always present and of `type` after validation
  Mark mark;
};

struct RetryPolicy {
  int limit = 0;                  // extra attempts after the first
  int64_t backoff_ms = 1000;      // delay before the first retry
  double factor = 2.0;            // delay multiplier per further retry
  int64_t max_backoff_ms = 3600 * 1000;
};

struct StepSpec {
  std::string name;
  Mark mark;
  // Exactly one of `run` / `type` is set.
  std::string run_shell;                // `run: "..."`: run under /bin/sh -c
  std::vector<std::string> run_argv;    // `run: [prog, arg]`: exec'd directly
  std::string type;                     // built-in step type (see step_types.h)
  std::map<std::string, std::string> with;  // the built-in's config, values as text
  std::vector<std::string> needs;       // explicit upstream steps
  std::vector<std::string> inputs;      // declared input files/folders (relative paths)
  std::vector<Mark> input_marks;        // where each input is written in the file
  std::vector<std::string> outputs;     // declared output files/folders
  std::vector<std::string> params;      // params used: declared plus found in run/inputs/...
  std::map<std::string, std::string> env;
  RetryPolicy retries;
  int64_t timeout_ms = 0;  // 0 = none
  bool cache = true;
  std::shared_ptr<const Expr> when;  // null = always
  std::string when_text;
  // foreach: a literal list or a list param reference ("${params.x}").
  bool has_foreach = false;
  std::vector<Value> foreach_items;     // literal items
  std::string foreach_param;            // or the list param's name
  Mark foreach_mark;

  bool is_builtin() const { return !type.empty(); }
};

struct ScheduleSpec {
  std::string cron;      // five fields: minute hour day-of-month month day-of-week
  std::string timezone;  // IANA name; empty = UTC
  bool allow_concurrent = false;
};

struct PipelineSpec {
  std::string name;
  std::string image;     // container image for compiled targets
  std::string source_path;  // the file parsed ("" when parsed from text)
  std::string base_dir;     // folder relative paths are resolved against
  std::vector<ParamSpec> params;
  std::vector<StepSpec> steps;  // in file order
  std::optional<ScheduleSpec> schedule;

  const ParamSpec* FindParam(const std::string& name) const;
  const StepSpec* FindStep(const std::string& name) const;
};

// Parses and validates YAML text. `source_name` prefixes error messages; `base_dir` is stored.
// InvalidArgument naming "<source>:<line>:<col>" for malformed YAML, unknown keys, bad types,
// unknown steps in `needs`/`when`, undefined params, dependency cycles (the cycle is named),
// and bad durations or expressions.
StatusOr<PipelineSpec> ParseSpec(const std::string& yaml_text, const std::string& source_name,
                                 const std::string& base_dir);
// Reads and parses a file; NotFound when it cannot be read. base_dir = the file's folder.
StatusOr<PipelineSpec> LoadSpec(const std::string& path);

// Parses a `--param name=value` override against the param's declared type (lists are
// comma-separated). InvalidArgument for an unknown param or a value of the wrong type.
StatusOr<std::pair<std::string, Value>> ParseParamOverride(const PipelineSpec& spec,
                                                           const std::string& assignment);

// "90s", "10m", "1h", "250ms", "2" (seconds) → milliseconds. InvalidArgument otherwise.
StatusOr<int64_t> ParseDurationMs(const std::string& text);

}  // namespace cairn::pipeline
