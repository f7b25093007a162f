// Injected time: everything that decides by time (rise/fall, expiry, rotation) takes a Clock,
// so tests drive it by hand instead of sleeping.
#pragma once

#include <chrono>

namespace geodns {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() const noexcept = 0;
  virtual std::chrono::system_clock::time_point wall_now() const noexcept = 0;
};

class SystemClock final : public Clock {
 public:
  time_point now() const noexcept override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall_now() const noexcept override {
    return std::chrono::system_clock::now();
  }
};

// A clock that moves only when told to (tests).
class ManualClock final : public Clock {
 public:
  time_point now() const noexcept override { return now_; }
  std::chrono::system_clock::time_point wall_now() const noexcept override { return wall_; }
  void advance(std::chrono::nanoseconds d) {
    now_ += d;
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }

 private:
  time_point now_{std::chrono::hours(1000)};
  std::chrono::system_clock::time_point wall_{std::chrono::seconds(1'800'000'000)};
};

}  // namespace geodns
