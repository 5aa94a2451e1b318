#include "pipeline/lineage.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace cairn::pipeline {

namespace {

void Flatten(const json& j, const std::string& prefix, std::map<std::string, double>* out) {
  for (const auto& [k, v] : j.items()) {
    std::string key = prefix.empty() ? k : prefix + "." + k;
    if (v.is_object()) {
      Flatten(v, key, out);
    } else if (v.is_number()) {
      double d = v.get<double>();
      if (std::isfinite(d)) (*out)[key] = d;
    } else if (v.is_boolean()) {
      (*out)[key] = v.get<bool>() ? 1.0 : 0.0;
    }
  }
}

// MLflow metric and tag keys: alphanumerics, _ - . / and space.
std::string SafeKey(const std::string& key) {
  std::string out = key;
  for (char& c : out) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
              c == '/' || c == ' ';
    if (!ok) c = '_';
  }
  return out;
}

int64_t SizeOf(const fs::path& p) {
  std::error_code ec;
  if (fs::is_regular_file(p, ec)) return static_cast<int64_t>(fs::file_size(p, ec));
  int64_t total = 0;
  for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec)) total += static_cast<int64_t>(it->file_size(ec));
  }
  return total;
}

}  // namespace

std::map<std::string, double> ReadMetricsJson(const std::string& path) {
  std::map<std::string, double> out;
  std::ifstream in(path);
  if (!in) return out;
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_object()) Flatten(j, "", &out);
  return out;
}

LineageRecorder::LineageRecorder(Platform* platform, const Clock* clock, LineageOptions options)
    : platform_(platform), clock_(clock), options_(std::move(options)) {}

void LineageRecorder::Warn(const std::string& what, const Status& st) const {
  if (options_.warn) options_.warn(fmt::format("lineage: {}: {}", what, st.message()));
}

void LineageRecorder::OnRunStarted(const std::string& run_id, const PipelineSpec& spec,
                                   const std::map<std::string, Value>& params) {
  std::string experiment = options_.experiment.empty() ? "pipeline:" + spec.name
                                                       : options_.experiment;
  auto exp = platform_->EnsureExperiment(experiment);
  if (!exp.ok()) return Warn("experiment '" + experiment + "'", exp.status());
  std::map<std::string, std::string> tags = {
      {"cairn.pipeline", spec.name},
      {"cairn.pipeline_run_id", run_id},
      {"mlflow.source.name", spec.source_path.empty() ? spec.name : spec.source_path},
      {"mlflow.source.type", "PIPELINE"}};
  auto run = platform_->StartRun(*exp, spec.name + "/" + run_id, clock_->NowMillis(), tags);
  if (!run.ok()) return Warn("start run", run.status());
  std::map<std::string, std::string> text_params;
  for (const auto& [k, v] : params) text_params[SafeKey(k)] = v.ToText();
  Status st = platform_->LogBatch(run->run_id, text_params, {}, {}, clock_->NowMillis());
  if (!st.ok()) Warn("log params", st);
  std::lock_guard<std::mutex> lock(mu_);
  runs_[run_id] = Active{*run, spec.base_dir, spec.name};
}

std::map<std::string, double> LineageRecorder::StepMetrics(const std::string& base_dir,
                                                           const StepResult& step) const {
  std::map<std::string, double> metrics;
  for (const auto& o : step.outputs) {
    if (fs::path(o).filename() == "metrics.json") {
      for (const auto& [k, v] : ReadMetricsJson(base_dir + "/" + o)) metrics[SafeKey(k)] = v;
    }
  }
  if (!step.metrics_path.empty()) {
    for (const auto& [k, v] : ReadMetricsJson(step.metrics_path)) metrics[SafeKey(k)] = v;
  }
  return metrics;
}

void LineageRecorder::OnStepFinished(const std::string& run_id, const StepResult& step) {
  Active parent;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return;
    parent = it->second;
  }
  int64_t now = clock_->NowMillis();
  bool cached = step.status == StepStatus::kCached;
  std::map<std::string, std::string> tags = {
      {"mlflow.parentRunId", parent.run.run_id},
      {"cairn.pipeline", parent.pipeline},
      {"cairn.pipeline_run_id", run_id},
      {"cairn.step", step.step_name.empty() ? step.name : step.step_name},
      {"cairn.step_status", std::string(StepStatusName(step.status))},
      {"cache_hit", cached ? "true" : "false"},
      {"cairn.cache_key", step.cache_key},
      {"cairn.attempts", std::to_string(step.attempts)}};
  if (!step.message.empty()) tags["cairn.message"] = step.message.substr(0, 4000);
  auto child = platform_->StartRun(parent.run.experiment_id, step.name, now - step.duration_ms,
                                   tags);
  if (!child.ok()) return Warn("step " + step.name, child.status());

  std::map<std::string, double> metrics;
  bool ran = step.status == StepStatus::kSucceeded || step.status == StepStatus::kCached ||
             step.status == StepStatus::kFailed;
  if (ran) {
    metrics = StepMetrics(parent.base_dir, step);
    metrics["duration_ms"] = static_cast<double>(step.duration_ms);
    metrics["attempts"] = step.attempts;
  }
  std::map<std::string, std::string> extra_tags;
  if (ran && step.status != StepStatus::kFailed) {
    for (const auto& o : step.outputs) {
      fs::path local = fs::path(parent.base_dir) / o;
      std::error_code ec;
      if (!fs::exists(local, ec)) continue;
      if (SizeOf(local) > options_.max_artifact_bytes) {
        extra_tags["cairn.artifact_skipped." + SafeKey(o)] = "larger than the artifact limit";
        continue;
      }
      Status st = platform_->LogArtifact(*child, local.string(), o);
      if (!st.ok()) Warn("log artifact " + o, st);
    }
  }
  Status st = platform_->LogBatch(child->run_id, {}, metrics, extra_tags, now);
  if (!st.ok()) Warn("log metrics of " + step.name, st);
  std::string status = step.status == StepStatus::kFailed ? "FAILED"
                       : ran                              ? "FINISHED"
                                                          : "KILLED";
  st = platform_->EndRun(child->run_id, status, now);
  if (!st.ok()) Warn("end run of " + step.name, st);
}

void LineageRecorder::OnRunFinished(const RunResult& result) {
  Active parent;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = runs_.find(result.run_id);
    if (it == runs_.end()) return;
    parent = it->second;
  }
  int64_t now = clock_->NowMillis();
  std::map<std::string, double> metrics = {
      {"duration_ms", static_cast<double>(result.duration_ms)},
      {"steps_executed", result.executed},
      {"steps_cached", result.cached},
      {"steps_failed", result.failed},
      {"steps_skipped", result.skipped},
      {"steps_not_run", result.not_run}};
  Status st = platform_->LogBatch(parent.run.run_id, {}, metrics, {}, now);
  if (!st.ok()) Warn("log run metrics", st);
  st = platform_->EndRun(parent.run.run_id, result.ok ? "FINISHED" : "FAILED", now);
  if (!st.ok()) Warn("end run", st);
}

void LineageRecorder::AdoptRun(const std::string& pipeline_run_id, const TrackedRun& run) {
  std::lock_guard<std::mutex> lock(mu_);
  runs_[pipeline_run_id] = Active{run, "", ""};
}

std::optional<TrackedRun> LineageRecorder::TrackingRunOf(
    const std::string& pipeline_run_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(pipeline_run_id);
  if (it == runs_.end()) return std::nullopt;
  return it->second.run;
}

}  // namespace cairn::pipeline
