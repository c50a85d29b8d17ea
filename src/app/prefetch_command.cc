// `hubfs prefetch PATH... [--pin] [--jobs N]`: fills the cache by reading files through the
// mount, so the download takes the same path as any reader's (single flight, verification, the
// cache limit) and hubfs' read engine sees the sequential 1 MiB reads it serves fastest. A file
// the cache already holds whole and verified is skipped without a read, which makes an
// interrupted prefetch resumable by running it again.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "hubfs/app/commands.h"
#include "pin.h"
#include "prefetch_plan.h"
#include "interruptible_workers.h"
#include "prefetch_progress.h"
#include "xattr.h"

namespace hubfs::app {
namespace {

constexpr size_t kReadSize = 1 << 20;
// After the last byte was read, how long a lazily verified file may take to show "verified".
constexpr double kVerifyGraceSeconds = 10;
constexpr double kVerifyBytesPerSecond = 100e6;

struct CacheState {
  uint64_t cached_bytes = 0;
  std::string verified;  // "yes", "no" or "poisoned"
};

Result<CacheState> StateOf(const std::string& path) {
  HUBFS_ASSIGN_OR_RETURN(std::string bytes, ReadXattr(path, "user.hubfs.cached_bytes"));
  HUBFS_ASSIGN_OR_RETURN(std::string verified, ReadXattr(path, "user.hubfs.verified"));
  return CacheState{std::strtoull(bytes.c_str(), nullptr, 10), verified};
}

bool Whole(const CacheState& state, uint64_t size) {
  return state.verified == "yes" && state.cached_bytes == size;
}

std::string ReasonFor(int err, const PrefetchFile& file) {
  if (err == EIO) return "I/O error (see the daemon's log: " + file.cache_dir + "/hubfs.log)";
  return std::strerror(err);
}

// Shared by the workers and the main thread.
struct Run {
  const std::vector<PrefetchFile>* files;
  PrefetchProgress* progress;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
};

// Reads `file` through the mount in slot `slot`; returns false when stopped half-way.
bool FetchOne(const PrefetchFile& file, size_t slot, Run* run, std::vector<char>* buffer) {
  PrefetchProgress& progress = *run->progress;
  struct stat st {};
  if (::stat(file.path.c_str(), &st) != 0) {
    int err = errno;
    progress.Started(slot, file.path, file.size);
    progress.Finished(slot, FileOutcome::kFailed, ReasonFor(err, file));
    return true;
  }
  const auto size = static_cast<uint64_t>(st.st_size);  // fresher than the plan's (HEAD)
  progress.Started(slot, file.path, size);
  if (auto state = StateOf(file.path); state && Whole(*state, size)) {
    progress.Finished(slot, FileOutcome::kSkipped);
    return true;
  }
  int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    progress.Finished(slot, FileOutcome::kFailed, ReasonFor(errno, file));
    return true;
  }
  // Pages the kernel kept from an earlier read would be served without asking hubfs, whose
  // cache may have evicted them since: drop them, and ask for a generous readahead.
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  uint64_t offset = 0;
  int err = 0;
  while (!run->stop.load()) {
    ssize_t n = ::read(fd, buffer->data(), buffer->size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    offset += static_cast<uint64_t>(n);
    progress.Advanced(slot, offset);
  }
  ::close(fd);
  if (run->stop.load() && err == 0) return false;
  if (err != 0) {
    progress.Finished(slot, FileOutcome::kFailed, ReasonFor(err, file));
    return true;
  }
  if (offset < size) {
    progress.Finished(slot, FileOutcome::kFailed,
                      fmt::format("the file ended after {} of {} bytes", offset, size));
    return true;
  }
  // Strict verification verified it before the first byte came back; lazy verifies in the
  // background once the last block is in, so give it a moment.
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration<double>(kVerifyGraceSeconds + size / kVerifyBytesPerSecond);
  Result<CacheState> state = StateOf(file.path);
  while (state && !Whole(*state, size) && state->verified == "no" && state->cached_bytes == size &&
         std::chrono::steady_clock::now() < deadline && !run->stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    state = StateOf(file.path);
  }
  if (!state) {
    progress.Finished(slot, FileOutcome::kFailed, state.error().message());
  } else if (Whole(*state, size)) {
    progress.Finished(slot, FileOutcome::kFetched);
  } else if (state->verified == "poisoned") {
    progress.Finished(slot, FileOutcome::kFailed, "its sha256 does not match the hub's");
  } else if (state->cached_bytes < size) {
    progress.Finished(slot, FileOutcome::kFailed,
                      fmt::format("read, but the cache kept only {} of {} (cache_size too small, "
                                  "or full of pinned files)",
                                  FormatBytes(state->cached_bytes), FormatBytes(size)));
  } else {
    progress.Finished(slot, FileOutcome::kFailed, "read, but not verified yet (lazy verification)");
  }
  return true;
}

void Worker(size_t slot, Run* run) {
  std::vector<char> buffer(kReadSize);
  while (!run->stop.load()) {
    size_t i = run->next.fetch_add(1);
    if (i >= run->files->size()) break;
    if (!FetchOne((*run->files)[i], slot, run, &buffer)) break;
  }
}

// Updates the in-flight files' progress from how much of them the cache holds: a strictly
// verified file returns its first byte only once it is whole, so reads alone would not move.
void PollCached(PrefetchProgress* progress) {
  for (const auto& [slot, path] : progress->InFlight()) {
    if (auto bytes = ReadXattr(path, "user.hubfs.cached_bytes")) {
      progress->Advanced(slot, std::strtoull(bytes->c_str(), nullptr, 10));
    }
  }
}

}  // namespace

int RunPrefetch(const PrefetchArgs& args) {
  auto plan = PlanPrefetch(args.paths);
  if (!plan) {
    std::fprintf(stderr, "hubfs prefetch: %s\n", plan.error().message().c_str());
    return 2;
  }
  if (plan->files.empty() && plan->problems.empty()) {
    std::fprintf(stderr, "hubfs prefetch: nothing to fetch (no files with remote content)\n");
    return 0;
  }
  std::vector<PrefetchFile> files;
  uint64_t total = 0;
  for (const PrefetchFile& f : plan->files) total += f.size;
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  const size_t jobs = static_cast<size_t>(std::max(1, args.jobs));
  PrefetchProgress progress(stdout, tty, plan->files.size() + plan->problems.size(), total, jobs);
  for (const auto& [path, status] : plan->problems) progress.FailedOutsideSlot(path, status.message());
  // Pin everything first, so that files read early in a prefetch larger than the cache's
  // spare room are not evicted by the ones read later.
  if (args.pin) {
    OpenCaches caches;
    for (const PrefetchFile& f : plan->files) {
      if (Status s = PinFile(f.path, true, &caches); !s.ok()) {
        progress.FailedOutsideSlot(f.path, "cannot pin it: " + s.message());
      } else {
        files.push_back(f);
      }
    }
  } else {
    files = plan->files;
  }

  Run run;
  run.files = &files;
  run.progress = &progress;
  WorkerHooks hooks;
  hooks.work = [&run](size_t slot) { Worker(slot, &run); };
  hooks.tick = [&] {
    if (tty) PollCached(&progress);
    progress.Tick();
  };
  hooks.summary = [&](bool interrupted) { progress.Summary(interrupted); };
  auto interrupted =
      RunInterruptibleWorkers(std::min(jobs, std::max<size_t>(files.size(), 1)), run.stop, hooks);
  if (!interrupted) {
    std::fprintf(stderr, "hubfs prefetch: %s\n", interrupted.error().message().c_str());
    return 1;
  }
  if (*interrupted) return 130;
  return progress.failed() == 0 ? 0 : 1;
}

}  // namespace hubfs::app
