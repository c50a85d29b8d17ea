#include "interruptible_workers.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace hubfs::app {
namespace {

constexpr auto kTick = std::chrono::milliseconds(200);  // progress redraw

// The signals' and the "all done" descriptors, closed and the mask restored on every path.
struct WaitFds {
  sigset_t old_mask{};
  int signal_fd = -1;
  int done_fd = -1;  // eventfd: the last worker to finish writes it, waking the main thread
  ~WaitFds() {
    if (signal_fd >= 0) ::close(signal_fd);
    if (done_fd >= 0) ::close(done_fd);
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  }
};

}  // namespace

Result<bool> RunInterruptibleWorkers(size_t workers, std::atomic<bool>& stop, const WorkerHooks& hooks) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop_signals, sig);
  WaitFds fds;
  pthread_sigmask(SIG_BLOCK, &stop_signals, &fds.old_mask);
  fds.signal_fd = ::signalfd(-1, &stop_signals, SFD_CLOEXEC);
  fds.done_fd = ::eventfd(0, EFD_CLOEXEC);
  if (fds.signal_fd < 0 || fds.done_fd < 0) return Status::FromErrno(errno, "cannot watch for Ctrl-C");

  std::atomic<size_t> left{workers};
  std::vector<std::thread> threads;
  for (size_t slot = 0; slot < workers; ++slot) {
    threads.emplace_back([&, slot] {
      hooks.work(slot);
      if (left.fetch_sub(1) == 1) {
        const uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(fds.done_fd, &one, sizeof one);
      }
    });
  }
  bool interrupted = false;
  hooks.tick();
  while (left.load() > 0) {
    pollfd polled[2] = {{fds.signal_fd, POLLIN, 0}, {fds.done_fd, POLLIN, 0}};
    if (::poll(polled, 2, static_cast<int>(kTick.count())) > 0 && (polled[0].revents & POLLIN)) {
      interrupted = true;
      break;
    }
    hooks.tick();
  }
  if (interrupted) {
    stop = true;
    for (int i = 0; i < 10 && left.load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  hooks.summary(interrupted);
  if (left.load() > 0) {
    if (hooks.abandon) hooks.abandon();
    std::fflush(nullptr);
    std::_Exit(130);
  }
  for (std::thread& t : threads) t.join();
  return interrupted;
}

}  // namespace hubfs::app
