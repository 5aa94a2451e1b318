// A built-in step in its own process: the contract between the local executor and
// `cairn pipeline step <spec> <instance> --context <file>` (executor.h says when it is used).
//
// Before it starts the child, the executor writes the context file (JSON): the step type, its
// StepContext exactly as resolved for its cache key, the two files the child reports through,
// and where the platform is. The child (the cairn binary, or any program built on
// RunBuiltinInvocation, like the pipeline tests' own binary) runs the type in its process and
//   - appends `key=value` lines of its values to ctx.log_path (its stdout file) and, when it
//     fails, the status to its stderr;
//   - writes its values to outputs_path as a flat JSON object of strings (the file
//     $CAIRN_OUTPUTS names, which the executor reads as it does for a `run` step);
//   - when it fails, writes the status message to error_path (the executor's failure message,
//     the same text as when the built-in runs in-process);
//   - exits 0 when the step succeeded, 1 when it failed.
// Thread-safety: plain functions over plain values.
#pragma once

#include <map>
#include <ostream>
#include <string>

#include "common/status.h"
#include "pipeline/executor.h"
#include "pipeline/step_types.h"

namespace cairn::pipeline {

struct BuiltinInvocation {
  std::string type;          // the built-in step type
  StepContext ctx;           // everything the type's Run gets
  std::string outputs_path;  // values, as a JSON object
  std::string error_path;    // the failure's message
  StepPlatform platform;     // for register / promote / deploy
};

// Internal when the file cannot be written.
Status WriteBuiltinInvocation(const std::string& path, const BuiltinInvocation& invocation);
// NotFound when the file cannot be read; InvalidArgument when it is not a context file.
StatusOr<BuiltinInvocation> ReadBuiltinInvocation(const std::string& path);

// Runs `type` in this process, as both the child and the executor's in-process path do: the
// type's Run, then its failed status to `err` and its values as `key=value` lines to `out`.
// Returns Run's status.
Status RunBuiltinHere(const StepType& type, const StepContext& ctx, std::ostream& out,
                      std::ostream& err, std::map<std::string, std::string>* values);

// The child's work: finds the invocation's type in `types`, runs it (RunBuiltinHere, `out` =
// ctx.log_path appended, `err` = `err`) and writes outputs_path / error_path. Returns the
// process exit code: 0 succeeded, 1 failed (an unknown type fails too).
int RunBuiltinInvocation(const BuiltinInvocation& invocation, const StepTypeRegistry& types,
                         std::ostream& err);

// Params as a JSON object text and back (ints, floats, bools, strings and lists keep their
// kind). What the run journal and the context file store. A malformed text gives an empty map.
std::string ParamsToJson(const std::map<std::string, Value>& params);
std::map<std::string, Value> ParamsFromJson(const std::string& json_text);

}  // namespace cairn::pipeline
