// Schedules and triggers: cron expressions in a time zone, evaluated against a Clock, and the
// one-active-run-per-pipeline limit. These are library pieces; `cairn server` hosts them (it
// calls Scheduler::Tick on a timer and starts runs from the trigger callback).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "pipeline/spec.h"

namespace cairn::pipeline {

// A time zone read from a TZif file (the system's /usr/share/zoneinfo). Thread-safe (immutable).
class TimeZone {
 public:
  // "" and "UTC" give UTC. NotFound for an unknown name; InvalidArgument for a bad file or a
  // name with "..".
  static StatusOr<TimeZone> Load(const std::string& name,
                                 const std::string& zoneinfo_dir = "/usr/share/zoneinfo");
  static TimeZone Utc();
  // Seconds to add to UTC to get local time at the instant `utc_seconds`.
  int64_t OffsetSeconds(int64_t utc_seconds) const;
  const std::string& name() const { return name_; }

 private:
  std::string name_ = "UTC";
  std::vector<int64_t> transitions_;  // UTC seconds, ascending
  std::vector<int32_t> offsets_;      // offset in effect from transitions_[i]
  int32_t initial_offset_ = 0;        // before the first transition
};

// A five-field cron expression: minute hour day-of-month month day-of-week. Fields take `*`,
// numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`, and month/day names
// (jan..dec, sun..sat; 7 is Sunday too). When both day fields are restricted a day matches
// either (as in Vixie cron). Local times skipped by a DST change do not fire; repeated ones
// fire at their first occurrence only.
class CronSchedule {
 public:
  static StatusOr<CronSchedule> Parse(const std::string& expr);
  // The first fire time strictly after `after_millis` (UTC ms), as UTC ms. NotFound when the
  // expression never fires within five years (e.g. "0 0 30 2 *").
  StatusOr<int64_t> NextAfter(int64_t after_millis, const TimeZone& tz) const;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  uint64_t minutes_ = 0;  // bit i set = value i allowed
  uint64_t hours_ = 0;
  uint64_t days_ = 0;
  uint64_t months_ = 0;
  uint64_t weekdays_ = 0;  // 0 = Sunday
  bool days_restricted_ = false, weekdays_restricted_ = false;
};

// At most one active run per pipeline unless the caller allows more. Thread-safe.
class ActiveRuns {
 public:
  // True (and counts the run) when the pipeline has no active run or allow_concurrent.
  bool TryStart(const std::string& pipeline, bool allow_concurrent);
  // True (and counts the run) when the pipeline has fewer than max_active active runs.
  bool TryStartLimited(const std::string& pipeline, int max_active);
  // Marks one run of the pipeline finished.
  void Finish(const std::string& pipeline);
  int Active(const std::string& pipeline) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, int> active_;  // GUARDED_BY(mu_)
};

// Fires pipelines on their cron schedules and on manual/API/alert triggers.
// Thread-safety: all methods may be called from any thread.
class Scheduler {
 public:
  // Starts a run; the host calls ActiveRuns::Finish when the run ends. A non-OK status means
  // the run could not start (its active slot is released).
  using StartRunFn = std::function<Status(const std::string& pipeline, const std::string& reason)>;

  Scheduler(const Clock* clock, ActiveRuns* active, StartRunFn start_run);

  // Adds or replaces a pipeline's schedule; its first fire is the first cron time after now.
  // InvalidArgument for a bad cron expression; NotFound for an unknown time zone.
  Status Schedule(const std::string& pipeline, const ScheduleSpec& schedule);
  void Unschedule(const std::string& pipeline);
  // The most active runs the pipeline may have (a registered pipeline's `concurrency`).
  // Unset: 1, or unlimited when its schedule allows concurrency.
  void SetMaxActive(const std::string& pipeline, int max_active);

  struct Firing {
    std::string pipeline;
    int64_t scheduled_millis = 0;
    bool started = false;
    std::string why_not;  // when not started: "already running", or the start error
  };
  // Handles every schedule due at the clock's now. Fire times missed while the scheduler did
  // not tick collapse into one firing (no backfill).
  std::vector<Firing> Tick();
  // The earliest next fire time (UTC ms); INT64_MAX when nothing is scheduled.
  int64_t NextFireMillis() const;

  // A manual, API or monitoring-alert trigger. FailedPrecondition when the pipeline already
  // has an active run and its schedule does not allow concurrency.
  Status Trigger(const std::string& pipeline, const std::string& reason);

 private:
  struct Entry {
    CronSchedule cron;
    TimeZone tz;
    bool allow_concurrent = false;
    int64_t next_millis = 0;
  };
  Status StartLocked(const std::string& pipeline, const std::string& reason);

  const Clock* clock_;
  ActiveRuns* active_;
  StartRunFn start_run_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
  std::map<std::string, int> max_active_;  // GUARDED_BY(mu_)
};

}  // namespace cairn::pipeline
