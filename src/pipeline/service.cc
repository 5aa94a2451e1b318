#include "pipeline/service.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/log.h"
#include "pipeline/executor.h"
#include "pipeline/platform_steps.h"
#include "pipeline/process.h"

namespace fs = std::filesystem;

namespace cairn::pipeline {

namespace {

// The trigger being started by this thread (Scheduler::Trigger calls StartRun synchronously);
// null while the scheduler fires a schedule.
thread_local const void* t_pending = nullptr;

std::string Tail(const std::string& path, size_t max_lines, size_t max_bytes) {
  std::ifstream in(path);
  if (!in) return "";
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (lines.size() > max_lines) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  if (out.size() > max_bytes) out = out.substr(out.size() - max_bytes);
  return out;
}

std::optional<int64_t> IntValue(const std::map<std::string, std::string>& values,
                                const std::string& key) {
  auto it = values.find(key);
  if (it == values.end()) return std::nullopt;
  char* end = nullptr;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (end == it->second.c_str()) return std::nullopt;
  return static_cast<int64_t>(v);
}

// Writes step health as steps finish and forwards events to lineage.
class HealthObserver final : public RunObserver {
 public:
  HealthObserver(PipelineStore* store, const Clock* clock, LineageRecorder* lineage)
      : store_(store), clock_(clock), lineage_(lineage) {}

  void OnRunStarted(const std::string& run_id, const PipelineSpec& spec,
                    const std::map<std::string, Value>& params) override {
    if (lineage_) lineage_->OnRunStarted(run_id, spec, params);
  }
  void OnStepFinished(const std::string& run_id, const StepResult& step) override {
    StepHealth h;
    h.step = step.name;
    h.status = std::string(StepStatusName(step.status));
    h.attempts = step.attempts;
    h.duration_ms = step.duration_ms;
    h.cache_hit = step.status == StepStatus::kCached;
    h.rows_in = IntValue(step.values, "rows_in");
    h.rows_out = IntValue(step.values, "rows_out");
    if (!h.rows_out) h.rows_out = IntValue(step.values, "rows");
    h.exit_code = step.exit_code;
    h.message = step.message;
    h.finished_at = clock_->NowMillis();
    Status st = store_->PutStep(run_id, h);
    if (!st.ok()) log::Warn("pipeline health: " + st.message());
    if (lineage_) lineage_->OnStepFinished(run_id, step);
  }
  void OnRunFinished(const RunResult& result) override {
    if (lineage_) lineage_->OnRunFinished(result);
  }

 private:
  PipelineStore* store_;
  const Clock* clock_;
  LineageRecorder* lineage_;
};

}  // namespace

PipelineService::PipelineService(PipelineStore* store, const Clock* clock,
                                 LineageRecorder* lineage, ServiceOptions options)
    : store_(store),
      clock_(clock),
      lineage_(lineage),
      options_(std::move(options)),
      types_(AllStepTypes(lineage)),
      scheduler_(clock, &active_, [this](const std::string& pipeline, const std::string& reason) {
        return StartRun(pipeline, reason);
      }) {}

PipelineService::~PipelineService() { Stop(); }

Status PipelineService::Start() {
  auto failed = store_->FailInterruptedRuns("interrupted: the server stopped during the run",
                                            clock_->NowMillis());
  if (!failed.ok()) return failed.status();
  ASSIGN_OR_RETURN(auto pipelines, store_->List());
  for (const auto& p : pipelines) {
    scheduler_.SetMaxActive(p.name, p.concurrency);
    if (p.schedule_cron.empty()) continue;
    Status st = scheduler_.Schedule(p.name, {p.schedule_cron, p.schedule_timezone, false});
    if (!st.ok()) log::Warn(fmt::format("pipeline '{}': schedule not started: {}", p.name,
                                        st.message()));
  }
  if (options_.scheduler_thread) scheduler_thread_ = std::thread([this] { SchedulerLoop(); });
  return OkStatus();
}

void PipelineService::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !scheduler_thread_.joinable() && runs_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (scheduler_thread_.joinable()) scheduler_thread_.join();
  cancel_.store(true);
  std::list<std::unique_ptr<RunThread>> runs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    runs.swap(runs_);
  }
  for (auto& r : runs) {
    if (r->thread.joinable()) r->thread.join();
  }
}

void PipelineService::SchedulerLoop() {
  // Lock order: the scheduler's lock may be taken before mu_ (Trigger → StartRun), never
  // after, so the next fire time is read without holding mu_.
  while (true) {
    int64_t wait = std::clamp<int64_t>(scheduler_.NextFireMillis() - clock_->NowMillis(), 0,
                                       options_.max_tick_ms);
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_) break;
      cv_.wait_for(lock, std::chrono::milliseconds(wait));
      if (stopping_) break;
    }
    for (const auto& f : Tick()) {
      if (f.started) {
        log::Info(fmt::format("pipeline '{}': scheduled run started", f.pipeline));
      } else {
        log::Warn(fmt::format("pipeline '{}': scheduled run not started: {}", f.pipeline,
                              f.why_not));
      }
    }
    ReapFinished();
  }
}

void PipelineService::ReapFinished() {
  std::list<std::unique_ptr<RunThread>> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = runs_.begin(); it != runs_.end();) {
      if ((*it)->done.load()) {
        finished.push_back(std::move(*it));
        it = runs_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& r : finished) r->thread.join();
}

StatusOr<RegisteredPipeline> PipelineService::Register(const RegisterPipelineRequest& request) {
  if (request.spec_path.empty() || request.spec_path[0] != '/') {
    return InvalidArgument("spec_path must be an absolute path on the server");
  }
  if (request.concurrency < 1 || request.concurrency > 100) {
    return InvalidArgument("concurrency must be in 1..100");
  }
  std::string text = request.spec_yaml;
  if (text.empty()) {
    std::ifstream in(request.spec_path);
    if (!in) return NotFound(fmt::format("cannot read '{}'", request.spec_path));
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  std::string base_dir = fs::path(request.spec_path).parent_path().string();
  ASSIGN_OR_RETURN(PipelineSpec spec, ParseSpec(text, request.spec_path, base_dir));
  RETURN_IF_ERROR(CheckStepTypes(spec, types_));
  for (const auto& [k, v] : request.params) {
    RETURN_IF_ERROR(ParseParamOverride(spec, k + "=" + v).status());
  }
  if (spec.schedule) {
    ASSIGN_OR_RETURN(CronSchedule cron, CronSchedule::Parse(spec.schedule->cron));
    RETURN_IF_ERROR(TimeZone::Load(spec.schedule->timezone).status());
  }
  RegisteredPipeline p;
  p.name = spec.name;
  p.spec_path = request.spec_path;
  p.spec_yaml = text;
  p.params = request.params;
  p.concurrency = spec.schedule && spec.schedule->allow_concurrent && request.concurrency == 1
                      ? 100
                      : request.concurrency;
  if (spec.schedule) {
    p.schedule_cron = spec.schedule->cron;
    p.schedule_timezone = spec.schedule->timezone;
  }
  p.created_at = p.updated_at = clock_->NowMillis();
  RETURN_IF_ERROR(store_->Upsert(p));
  scheduler_.SetMaxActive(p.name, p.concurrency);
  if (spec.schedule) {
    RETURN_IF_ERROR(scheduler_.Schedule(p.name, *spec.schedule));
  } else {
    scheduler_.Unschedule(p.name);
  }
  cv_.notify_all();  // the scheduler thread recomputes its next wake-up
  return store_->Get(p.name);
}

StatusOr<RegisteredPipeline> PipelineService::Get(const std::string& name) {
  return store_->Get(name);
}

StatusOr<std::vector<RegisteredPipeline>> PipelineService::List() { return store_->List(); }

StatusOr<std::string> PipelineService::Trigger(const TriggerRequest& request) {
  RETURN_IF_ERROR(store_->Get(request.pipeline).status());
  PendingTrigger pending{NewPipelineRunId(*clock_), request.trigger, request.params};
  t_pending = &pending;
  Status st = scheduler_.Trigger(request.pipeline,
                                 request.reason.empty() ? request.trigger : request.reason);
  t_pending = nullptr;
  RETURN_IF_ERROR(st);
  return pending.run_id;
}

StatusOr<std::string> PipelineService::TriggerFromAlert(const std::string& pipeline,
                                                        const std::string& alert) {
  TriggerRequest r;
  r.pipeline = pipeline;
  r.trigger = "alert";
  r.reason = alert;
  return Trigger(r);
}

std::vector<Scheduler::Firing> PipelineService::Tick() { return scheduler_.Tick(); }

Status PipelineService::StartRun(const std::string& pipeline, const std::string& reason) {
  const auto* pending = static_cast<const PendingTrigger*>(t_pending);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Unavailable("the server is stopping");
  }
  ASSIGN_OR_RETURN(RegisteredPipeline p, store_->Get(pipeline));
  std::string base_dir = fs::path(p.spec_path).parent_path().string();
  ASSIGN_OR_RETURN(PipelineSpec spec, ParseSpec(p.spec_yaml, p.spec_path, base_dir));
  std::map<std::string, Value> params;
  std::map<std::string, std::string> overrides = p.params;
  if (pending) {
    for (const auto& [k, v] : pending->params) overrides[k] = v;
  }
  for (const auto& [k, v] : overrides) {
    ASSIGN_OR_RETURN(auto kv, ParseParamOverride(spec, k + "=" + v));
    params[kv.first] = kv.second;
  }
  PipelineRunRecord record;
  record.run_id = pending ? pending->run_id : NewPipelineRunId(*clock_);
  record.pipeline = pipeline;
  record.trigger = pending ? pending->trigger : "schedule";
  record.reason = reason;
  record.status = "running";
  record.start_time = clock_->NowMillis();
  RETURN_IF_ERROR(store_->InsertRun(record));

  std::lock_guard<std::mutex> lock(mu_);
  auto slot = std::make_unique<RunThread>();
  RunThread* self = slot.get();
  ++running_;
  self->thread = std::thread([this, record, spec = std::move(spec), params = std::move(params),
                              self]() mutable {
    ExecuteRun(std::move(record), std::move(spec), std::move(params), self);
  });
  runs_.push_back(std::move(slot));
  return OkStatus();
}

void PipelineService::ExecuteRun(PipelineRunRecord record, PipelineSpec spec,
                                 std::map<std::string, Value> params, RunThread* self) {
  auto launcher = NewPosixProcessLauncher();
  Executor executor(launcher.get(), clock_, &types_);
  HealthObserver observer(store_, clock_, lineage_);
  RunOptions options;
  options.jobs = options_.jobs;
  options.state_dir = options_.state_dir + "/" + spec.name;
  options.run_id = record.run_id;
  options.params = std::move(params);
  options.cancel = &cancel_;
  options.observer = &observer;
  options.step_binary = step_binary_;
  if (!step_binary_.empty() && lineage_) {
    options.step_platform = [this](const std::string& run_id) {
      return StepPlatform{platform_uri_, lineage_->TrackingRunOf(run_id)};
    };
  }
  std::string pipeline = record.pipeline;
  log::Info(fmt::format("pipeline '{}': run {} started ({})", pipeline, record.run_id,
                        record.trigger));
  StatusOr<RunResult> result = executor.Run(spec, options);
  record.end_time = clock_->NowMillis();
  record.duration_ms = *record.end_time - record.start_time;
  if (!result.ok()) {
    record.status = "failed";
    record.message = result.status().message();
  } else {
    const RunResult& r = *result;
    record.status = cancel_.load() ? "cancelled" : r.ok ? "succeeded" : "failed";
    record.duration_ms = r.duration_ms;
    record.executed = r.executed;
    record.cached = r.cached;
    record.failed = r.failed;
    record.skipped = r.skipped;
    record.not_run = r.not_run;
    for (const auto& s : r.steps) {
      record.retries += std::max(0, s.attempts - 1);
      if (s.status == StepStatus::kFailed && record.failed_step.empty()) {
        record.failed_step = s.name;
        record.message = s.message;
        record.log_tail = Tail(s.stderr_path, 20, 4096);
        if (record.log_tail.empty()) record.log_tail = Tail(s.stdout_path, 20, 4096);
      }
    }
    if (lineage_) {
      if (auto tracked = lineage_->TrackingRunOf(record.run_id)) {
        record.tracking_run_id = tracked->run_id;
      }
    }
  }
  Status st = store_->UpdateRun(record);
  if (!st.ok()) log::Warn("pipeline run history: " + st.message());
  log::Info(fmt::format("pipeline '{}': run {} {}", pipeline, record.run_id, record.status));
  active_.Finish(pipeline);
  {
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
    self->done.store(true);
  }
  cv_.notify_all();
}

void PipelineService::UseStepProcesses(std::string binary, std::string platform_uri) {
  step_binary_ = std::move(binary);
  platform_uri_ = std::move(platform_uri);
}

StatusOr<std::vector<PipelineRunRecord>> PipelineService::Runs(const std::string& pipeline,
                                                               int limit) {
  RETURN_IF_ERROR(store_->Get(pipeline).status());
  return store_->ListRuns(pipeline, std::clamp(limit, 1, 1000));
}

StatusOr<PipelineRunRecord> PipelineService::Run(const std::string& run_id) {
  return store_->GetRun(run_id);
}

void PipelineService::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return running_ == 0; });
}

}  // namespace cairn::pipeline
