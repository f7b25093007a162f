// A value published by one thread and read by many without a lock per read: readers keep
// their own shared_ptr and compare a generation counter (one relaxed atomic load) between
// batches; only when it moved do they take the mutex to copy the new pointer.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace geodns {

template <typename T>
class Published {
 public:
  void publish(std::shared_ptr<const T> value) {
    std::lock_guard lock(mutex_);
    value_ = std::move(value);
    generation_.fetch_add(1, std::memory_order_release);
  }
  std::shared_ptr<const T> load() const {
    std::lock_guard lock(mutex_);
    return value_;
  }
  uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }

  // A reader's cached copy: refresh() between batches, get() per query.
  class Reader {
   public:
    explicit Reader(const Published& source) : source_(&source) { refresh(); }
    // Returns true if a new value was picked up.
    bool refresh() {
      const uint64_t g = source_->generation();
      if (g == seen_ && value_) return false;
      value_ = source_->load();
      seen_ = g;
      return true;
    }
    const T* get() const noexcept { return value_.get(); }
    const std::shared_ptr<const T>& shared() const noexcept { return value_; }

   private:
    const Published* source_;
    std::shared_ptr<const T> value_;
    uint64_t seen_ = ~uint64_t{0};
  };

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace geodns
