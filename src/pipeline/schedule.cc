#include "pipeline/schedule.h"

#include <climits>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace cairn::pipeline {

// --- TimeZone ------------------------------------------------------------------------------

namespace {

int64_t ReadBE(const std::string& data, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(data[pos + i]);
  if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

}  // namespace

TimeZone TimeZone::Utc() { return TimeZone(); }

StatusOr<TimeZone> TimeZone::Load(const std::string& name, const std::string& zoneinfo_dir) {
  if (name.empty() || name == "UTC" || name == "Etc/UTC") return Utc();
  if (name.find("..") != std::string::npos || name[0] == '/') {
    return InvalidArgument(fmt::format("bad time zone name '{}'", name));
  }
  std::ifstream in(zoneinfo_dir + "/" + name, std::ios::binary);
  if (!in) return NotFound(fmt::format("unknown time zone '{}'", name));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string data = ss.str();
  auto bad = [&] { return InvalidArgument(fmt::format("time zone '{}': bad TZif file", name)); };
  if (data.size() < 44 || data.compare(0, 4, "TZif") != 0) return bad();
  // Header: magic, version, 15 unused bytes, then six big-endian 32-bit counts.
  auto counts = [&](size_t at, int64_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = ReadBE(data, at + 20 + 4 * i, 4);
  };
  int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  size_t pos = 44;
  int time_size = 4;
  if (data[4] >= '2') {
    // Skip the v1 block; use the 64-bit v2+ block.
    pos += c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    if (data.size() < pos + 44 || data.compare(pos, 4, "TZif") != 0) return bad();
    counts(pos, c);
    pos += 44;
    time_size = 8;
  }
  int64_t timecnt = c[3], typecnt = c[4];
  if (typecnt <= 0 ||
      data.size() < pos + timecnt * time_size + timecnt + typecnt * 6) {
    return bad();
  }
  TimeZone tz;
  tz.name_ = name;
  std::vector<int32_t> type_offsets(typecnt);
  std::vector<bool> type_dst(typecnt);
  size_t types_at = pos + timecnt * time_size + timecnt;
  for (int64_t i = 0; i < typecnt; ++i) {
    type_offsets[i] = static_cast<int32_t>(ReadBE(data, types_at + 6 * i, 4));
    type_dst[i] = data[types_at + 6 * i + 4] != 0;
  }
  for (int64_t i = 0; i < timecnt; ++i) {
    int64_t t = ReadBE(data, pos + i * time_size, time_size);
    unsigned idx = static_cast<unsigned char>(data[pos + timecnt * time_size + i]);
    if (idx >= type_offsets.size()) return bad();
    tz.transitions_.push_back(t);
    tz.offsets_.push_back(type_offsets[idx]);
  }
  tz.initial_offset_ = type_offsets[0];
  for (int64_t i = 0; i < typecnt; ++i) {
    if (!type_dst[i]) {
      tz.initial_offset_ = type_offsets[i];
      break;
    }
  }
  return tz;
}

int64_t TimeZone::OffsetSeconds(int64_t utc_seconds) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc_seconds);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_[it - transitions_.begin() - 1];
}

// --- CronSchedule --------------------------------------------------------------------------

namespace {

struct Civil {
  int64_t year;
  int month, day, hour, minute, weekday;  // weekday 0 = Sunday
};

// Days since 1970-01-01 → civil date (Howard Hinnant's algorithm).
Civil CivilFromSeconds(int64_t s) {
  int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
  int64_t secs = s - days * 86400;
  Civil c;
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs % 3600 / 60);
  c.weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2);
  return c;
}

StatusOr<int> ParseFieldValue(std::string s, int lo, int hi,
                              const std::vector<std::string>& names) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (size_t i = 0; i < names.size(); ++i) {
    if (s == names[i]) return lo + static_cast<int>(i);
  }
  if (s.empty() || !std::all_of(s.begin(), s.end(), ::isdigit) || s.size() > 4) {
    return InvalidArgument(fmt::format("'{}' is not a number", s));
  }
  int v = std::stoi(s);
  if (v < lo || v > hi) return InvalidArgument(fmt::format("{} is out of range {}-{}", v, lo, hi));
  return v;
}

StatusOr<uint64_t> ParseField(const std::string& field, int lo, int hi,
                              const std::vector<std::string>& names) {
  uint64_t bits = 0;
  std::stringstream ss(field);
  std::string part;
  while (std::getline(ss, part, ',')) {
    int step = 1;
    size_t slash = part.find('/');
    if (slash != std::string::npos) {
      ASSIGN_OR_RETURN(step, ParseFieldValue(part.substr(slash + 1), 1, hi, {}));
      part = part.substr(0, slash);
    }
    int a, b;
    if (part == "*") {
      a = lo;
      b = hi;
    } else if (size_t dash = part.find('-'); dash != std::string::npos && dash > 0) {
      ASSIGN_OR_RETURN(a, ParseFieldValue(part.substr(0, dash), lo, hi, names));
      ASSIGN_OR_RETURN(b, ParseFieldValue(part.substr(dash + 1), lo, hi, names));
      if (b < a) return InvalidArgument(fmt::format("range '{}' runs backwards", part));
    } else {
      ASSIGN_OR_RETURN(a, ParseFieldValue(part, lo, hi, names));
      b = slash != std::string::npos ? hi : a;
    }
    for (int v = a; v <= b; v += step) bits |= uint64_t{1} << v;
  }
  if (bits == 0) return InvalidArgument(fmt::format("empty field '{}'", field));
  return bits;
}

bool Has(uint64_t bits, int v) { return (bits >> v) & 1; }

}  // namespace

StatusOr<CronSchedule> CronSchedule::Parse(const std::string& expr) {
  std::istringstream ss(expr);
  std::vector<std::string> f;
  std::string x;
  while (ss >> x) f.push_back(x);
  if (f.size() != 5) {
    return InvalidArgument(fmt::format(
        "cron '{}': expected 5 fields (minute hour day-of-month month day-of-week), got {}", expr,
        f.size()));
  }
  static const std::vector<std::string> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                   "jul", "aug", "sep", "oct", "nov", "dec"};
  static const std::vector<std::string> kDays = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  CronSchedule c;
  c.text_ = expr;
  const char* names[] = {"minute", "hour", "day-of-month", "month", "day-of-week"};
  StatusOr<uint64_t> parsed[5] = {ParseField(f[0], 0, 59, {}), ParseField(f[1], 0, 23, {}),
                                  ParseField(f[2], 1, 31, {}), ParseField(f[3], 1, 12, kMonths),
                                  ParseField(f[4], 0, 7, kDays)};
  for (int i = 0; i < 5; ++i) {
    if (!parsed[i].ok()) {
      return InvalidArgument(
          fmt::format("cron '{}': {}: {}", expr, names[i], parsed[i].status().message()));
    }
  }
  c.minutes_ = *parsed[0];
  c.hours_ = *parsed[1];
  c.days_ = *parsed[2];
  c.months_ = *parsed[3];
  c.weekdays_ = *parsed[4];
  if (Has(c.weekdays_, 7)) c.weekdays_ |= 1;  // 7 is Sunday
  c.days_restricted_ = f[2] != "*";
  c.weekdays_restricted_ = f[4] != "*";
  return c;
}

StatusOr<int64_t> CronSchedule::NextAfter(int64_t after_millis, const TimeZone& tz) const {
  int64_t t = (after_millis >= 0 ? after_millis / 60000 : (after_millis - 59999) / 60000) * 60 + 60;
  const int64_t limit = t + int64_t{5} * 366 * 86400;
  while (t < limit) {
    int64_t local = t + tz.OffsetSeconds(t);
    Civil c = CivilFromSeconds(local);
    bool day_ok;
    bool dom = Has(days_, c.day), dow = Has(weekdays_, c.weekday);
    if (days_restricted_ && weekdays_restricted_) {
      day_ok = dom || dow;
    } else {
      day_ok = dom && dow;
    }
    if (!Has(months_, c.month) || !day_ok || !Has(hours_, c.hour)) {
      t += (60 - c.minute) * 60;  // to the next local hour
      continue;
    }
    if (!Has(minutes_, c.minute)) {
      t += 60;
      continue;
    }
    // After clocks go back, a local time repeats; it fired at its first occurrence already.
    int64_t off_now = local - t;
    int64_t off_before = tz.OffsetSeconds(t - 7200);
    if (off_before > off_now && tz.OffsetSeconds(local - off_before) == off_before) {
      t += 60;
      continue;
    }
    return t * 1000;
  }
  return NotFound(fmt::format("cron '{}' does not fire within five years", text_));
}

// --- ActiveRuns ----------------------------------------------------------------------------

bool ActiveRuns::TryStart(const std::string& pipeline, bool allow_concurrent) {
  return TryStartLimited(pipeline, allow_concurrent ? INT_MAX : 1);
}

bool ActiveRuns::TryStartLimited(const std::string& pipeline, int max_active) {
  std::lock_guard<std::mutex> lock(mu_);
  int& n = active_[pipeline];
  if (n >= std::max(1, max_active)) return false;
  ++n;
  return true;
}

void ActiveRuns::Finish(const std::string& pipeline) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = active_.find(pipeline);
  if (it != active_.end() && it->second > 0 && --it->second == 0) active_.erase(it);
}

int ActiveRuns::Active(const std::string& pipeline) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = active_.find(pipeline);
  return it == active_.end() ? 0 : it->second;
}

// --- Scheduler -----------------------------------------------------------------------------

Scheduler::Scheduler(const Clock* clock, ActiveRuns* active, StartRunFn start_run)
    : clock_(clock), active_(active), start_run_(std::move(start_run)) {}

Status Scheduler::Schedule(const std::string& pipeline, const ScheduleSpec& schedule) {
  ASSIGN_OR_RETURN(CronSchedule cron, CronSchedule::Parse(schedule.cron));
  ASSIGN_OR_RETURN(TimeZone tz, TimeZone::Load(schedule.timezone));
  ASSIGN_OR_RETURN(int64_t next, cron.NextAfter(clock_->NowMillis(), tz));
  std::lock_guard<std::mutex> lock(mu_);
  entries_[pipeline] = Entry{std::move(cron), std::move(tz), schedule.allow_concurrent, next};
  return OkStatus();
}

void Scheduler::Unschedule(const std::string& pipeline) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(pipeline);
}

void Scheduler::SetMaxActive(const std::string& pipeline, int max_active) {
  std::lock_guard<std::mutex> lock(mu_);
  max_active_[pipeline] = max_active;
}

Status Scheduler::StartLocked(const std::string& pipeline, const std::string& reason) {
  int max_active = 1;
  auto limit = max_active_.find(pipeline);
  auto entry = entries_.find(pipeline);
  if (limit != max_active_.end()) {
    max_active = limit->second;
  } else if (entry != entries_.end() && entry->second.allow_concurrent) {
    max_active = INT_MAX;
  }
  if (!active_->TryStartLimited(pipeline, max_active)) {
    return FailedPrecondition(
        max_active <= 1
            ? fmt::format("pipeline '{}' already has an active run", pipeline)
            : fmt::format("pipeline '{}' already has {} active runs", pipeline, max_active));
  }
  Status st = start_run_(pipeline, reason);
  if (!st.ok()) active_->Finish(pipeline);
  return st;
}

std::vector<Scheduler::Firing> Scheduler::Tick() {
  std::vector<Firing> out;
  int64_t now = clock_->NowMillis();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, e] : entries_) {
    if (e.next_millis > now) continue;
    Firing f;
    f.pipeline = name;
    f.scheduled_millis = e.next_millis;
    Status st = StartLocked(name, "schedule " + e.cron.text());
    f.started = st.ok();
    if (!st.ok()) {
      f.why_not = st.code() == Code::kFailedPrecondition ? "already running" : st.message();
    }
    out.push_back(f);
    auto next = e.cron.NextAfter(now, e.tz);
    e.next_millis = next.ok() ? *next : INT64_MAX;
  }
  return out;
}

int64_t Scheduler::NextFireMillis() const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t next = INT64_MAX;
  for (const auto& [name, e] : entries_) next = std::min(next, e.next_millis);
  return next;
}

Status Scheduler::Trigger(const std::string& pipeline, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  return StartLocked(pipeline, reason);
}

}  // namespace cairn::pipeline
