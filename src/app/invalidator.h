// Invalidator: tells the kernel what lookup-driven listings changed (fs::Filesystem's change
// listener), from a thread of its own. A FUSE request handler must not send invalidations for
// the folder it is answering about (the kernel holds that folder's lock until the reply), so
// the lookup only posts here and returns.
//
// The destructor wakes the thread, lets it finish what it is doing (queued work is dropped:
// the mount is going away) and joins it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "hubfs/fs/filesystem.h"

namespace hubfs::app {

class Invalidator {
 public:
  explicit Invalidator(std::function<void(const fs::RefreshResult&)> invalidate)
      : invalidate_(std::move(invalidate)), thread_([this] { Loop(); }) {}
  ~Invalidator() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Invalidator(const Invalidator&) = delete;
  Invalidator& operator=(const Invalidator&) = delete;

  void Post(const fs::RefreshResult& changes) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      queue_.push_back(changes);
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      fs::RefreshResult next = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      invalidate_(next);  // writes to /dev/fuse: without the lock
      lock.lock();
    }
  }

  std::function<void(const fs::RefreshResult&)> invalidate_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<fs::RefreshResult> queue_;  // guarded by mu_
  bool stopping_ = false;                // guarded by mu_
  std::thread thread_;                   // last: starts after everything above exists
};

}  // namespace hubfs::app
