// Cron schedules in time zones, the scheduler under a FakeClock, and the one-active-run limit.
// Expected instants are derived by hand in the comments (the DST dates are the EU and US
// rules); Python's zoneinfo gives the same UTC instants for every case.

#include <gtest/gtest.h>

#include <ctime>

#include "common/clock.h"
#include "pipeline/schedule.h"

namespace cairn::pipeline {
namespace {

int64_t Utc(int y, int mo, int d, int h, int mi) {
  struct tm tm = {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

int64_t Next(const std::string& cron, const std::string& tz_name, int64_t after) {
  auto c = CronSchedule::Parse(cron);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  auto tz = TimeZone::Load(tz_name);
  EXPECT_TRUE(tz.ok()) << tz.status().ToString();
  auto n = c->NextAfter(after, *tz);
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  return n.ok() ? *n : -1;
}

TEST(CronTest, UtcBasics) {
  EXPECT_EQ(Next("*/15 * * * *", "UTC", Utc(2026, 1, 1, 0, 5)), Utc(2026, 1, 1, 0, 15));
  // Strictly after: at 00:15 exactly the next is 00:30.
  EXPECT_EQ(Next("*/15 * * * *", "UTC", Utc(2026, 1, 1, 0, 15)), Utc(2026, 1, 1, 0, 30));
  EXPECT_EQ(Next("0 0 1 jan *", "", Utc(2026, 1, 1, 0, 0)), Utc(2027, 1, 1, 0, 0));
  // Day-of-month 13 OR Friday (both restricted): Feb 2026 starts on a Sunday, so Friday the
  // 6th comes before the 13th.
  EXPECT_EQ(Next("0 0 13 * 5", "UTC", Utc(2026, 2, 1, 0, 0)), Utc(2026, 2, 6, 0, 0));
  // Only day-of-month restricted (day-of-week is *): the 13th.
  EXPECT_EQ(Next("0 0 13 * *", "UTC", Utc(2026, 2, 1, 0, 0)), Utc(2026, 2, 13, 0, 0));
  // 7 and sun are Sunday: the first Sunday after Sunday 2026-02-01 00:00 is the 8th.
  EXPECT_EQ(Next("0 0 * * 7", "UTC", Utc(2026, 2, 1, 0, 0)), Utc(2026, 2, 8, 0, 0));
  EXPECT_EQ(Next("0 0 * * sun", "UTC", Utc(2026, 2, 1, 0, 0)), Utc(2026, 2, 8, 0, 0));
}

TEST(CronTest, TimeZonesAndDst) {
  // New York in July is EDT (UTC-4). Friday 2026-07-03 10:00 EDT → next weekday 09:00 is
  // Monday 07-06 09:00 EDT = 13:00 UTC.
  EXPECT_EQ(Next("0 9 * * 1-5", "America/New_York", Utc(2026, 7, 3, 14, 0)),
            Utc(2026, 7, 6, 13, 0));
  // Paris: CET (UTC+1) until Sunday 2026-03-29 01:00 UTC, when 02:00 local jumps to 03:00.
  // 02:30 does not exist that day, so after Saturday noon the next 02:30 is Monday 03-30
  // 02:30 CEST (UTC+2) = 00:30 UTC.
  EXPECT_EQ(Next("30 2 * * *", "Europe/Paris", Utc(2026, 3, 28, 12, 0)),
            Utc(2026, 3, 30, 0, 30));
  // Paris falls back on Sunday 2026-10-25 at 01:00 UTC (03:00 CEST → 02:00 CET): 02:30 local
  // happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET). It fires at the first only;
  // the next one is Monday 02:30 CET = 01:30 UTC.
  EXPECT_EQ(Next("30 2 * * *", "Europe/Paris", Utc(2026, 10, 24, 12, 0)),
            Utc(2026, 10, 25, 0, 30));
  EXPECT_EQ(Next("30 2 * * *", "Europe/Paris", Utc(2026, 10, 25, 0, 30)),
            Utc(2026, 10, 26, 1, 30));
}

TEST(CronTest, BadExpressionsAndZones) {
  EXPECT_FALSE(CronSchedule::Parse("* * * *").ok());
  EXPECT_FALSE(CronSchedule::Parse("60 * * * *").ok());
  EXPECT_FALSE(CronSchedule::Parse("* 24 * * *").ok());
  EXPECT_FALSE(CronSchedule::Parse("* * 0 * *").ok());
  EXPECT_FALSE(CronSchedule::Parse("* * * 13 *").ok());
  EXPECT_FALSE(CronSchedule::Parse("5-1 * * * *").ok());
  EXPECT_FALSE(CronSchedule::Parse("*/0 * * * *").ok());
  EXPECT_FALSE(CronSchedule::Parse("a * * * *").ok());
  auto msg = CronSchedule::Parse("61 * * * *").status().message();
  EXPECT_NE(msg.find("minute: 61 is out of range 0-59"), std::string::npos) << msg;
  auto never = CronSchedule::Parse("0 0 30 2 *");
  ASSERT_TRUE(never.ok());
  EXPECT_EQ(never->NextAfter(0, TimeZone::Utc()).status().code(), Code::kNotFound);
  EXPECT_EQ(TimeZone::Load("Mars/Olympus_Mons").status().code(), Code::kNotFound);
  EXPECT_EQ(TimeZone::Load("../../etc/passwd").status().code(), Code::kInvalidArgument);
}

TEST(SchedulerTest, FiresUnderAFakeClockWithOneActiveRun) {
  FakeClock clock(Utc(2026, 1, 1, 0, 5));
  ActiveRuns active;
  std::vector<std::string> started;
  Scheduler scheduler(&clock, &active, [&](const std::string& p, const std::string& reason) {
    started.push_back(p + ": " + reason);
    return OkStatus();
  });
  ASSERT_TRUE(scheduler.Schedule("train", {"*/15 * * * *", "UTC", false}).ok());
  EXPECT_EQ(scheduler.NextFireMillis(), Utc(2026, 1, 1, 0, 15));

  EXPECT_TRUE(scheduler.Tick().empty());  // 00:05: nothing due
  clock.SetMillis(Utc(2026, 1, 1, 0, 15));
  auto fired = scheduler.Tick();
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_TRUE(fired[0].started);
  EXPECT_EQ(fired[0].scheduled_millis, Utc(2026, 1, 1, 0, 15));
  EXPECT_EQ(started, std::vector<std::string>{"train: schedule */15 * * * *"});
  EXPECT_EQ(active.Active("train"), 1);
  clock.AdvanceMillis(60 * 1000);
  EXPECT_TRUE(scheduler.Tick().empty());  // 00:16: not due again

  // 00:30 while the 00:15 run is still active: the limit holds it back.
  clock.SetMillis(Utc(2026, 1, 1, 0, 30));
  fired = scheduler.Tick();
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_FALSE(fired[0].started);
  EXPECT_EQ(fired[0].why_not, "already running");
  EXPECT_EQ(started.size(), 1u);
  // A manual trigger is held back too.
  EXPECT_EQ(scheduler.Trigger("train", "manual").code(), Code::kFailedPrecondition);

  active.Finish("train");
  // Ticks missed from 00:45 to 01:10 collapse into one firing.
  clock.SetMillis(Utc(2026, 1, 1, 1, 10));
  fired = scheduler.Tick();
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_TRUE(fired[0].started);
  EXPECT_EQ(scheduler.NextFireMillis(), Utc(2026, 1, 1, 1, 15));
}

TEST(SchedulerTest, TriggersConcurrencyAndStartFailures) {
  FakeClock clock(Utc(2026, 1, 1, 0, 0));
  ActiveRuns active;
  int starts = 0;
  bool fail = false;
  Scheduler scheduler(&clock, &active, [&](const std::string&, const std::string&) {
    ++starts;
    return fail ? Unavailable("store down") : OkStatus();
  });
  ASSERT_TRUE(scheduler.Schedule("many", {"0 * * * *", "", true}).ok());
  EXPECT_TRUE(scheduler.Trigger("many", "api").ok());
  EXPECT_TRUE(scheduler.Trigger("many", "alert").ok());  // allow_concurrent
  EXPECT_EQ(active.Active("many"), 2);
  // An unscheduled pipeline triggered by hand gets the one-run limit.
  EXPECT_TRUE(scheduler.Trigger("adhoc", "manual").ok());
  EXPECT_FALSE(scheduler.Trigger("adhoc", "manual").ok());
  // A start that fails releases its slot.
  fail = true;
  EXPECT_EQ(scheduler.Trigger("other", "manual").code(), Code::kUnavailable);
  EXPECT_EQ(active.Active("other"), 0);
  EXPECT_EQ(starts, 4);
  EXPECT_FALSE(scheduler.Schedule("bad", {"0 0 * *", "UTC", false}).ok());
  EXPECT_EQ(scheduler.Schedule("bad", {"0 0 * * *", "No/Where", false}).code(), Code::kNotFound);
}

}  // namespace
}  // namespace cairn::pipeline
