// Clock: the only way cairn code reads the time, so tests can pass a FakeClock.
// Thread-safety: SystemClock and FakeClock are safe to call from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace cairn {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (wall time; what MLflow stores).
  virtual int64_t NowMillis() const = 0;
  // Monotonic microseconds, for measuring durations.
  virtual int64_t MonotonicMicros() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override;
  int64_t MonotonicMicros() const override;
  // A process-wide instance; never destroyed.
  static const Clock& Get();
};

// A clock that moves only when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_millis = 0) : now_ms_(now_millis) {}
  int64_t NowMillis() const override { return now_ms_.load(); }
  int64_t MonotonicMicros() const override { return now_ms_.load() * 1000; }
  void AdvanceMillis(int64_t ms) { now_ms_ += ms; }
  void SetMillis(int64_t ms) { now_ms_ = ms; }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace cairn
