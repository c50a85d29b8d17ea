// The output of `hubfs prefetch`: on a terminal, one line redrawn in place (bytes done/total,
// speed, ETA, the file being read) with failures printed above it; otherwise one plain line per
// file when it finishes, for logs and scripts:
//   ok PATH SIZE TIME
//   skipped PATH SIZE (cached)
//   failed PATH: REASON
// and a summary line at the end in both modes.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace hubfs::app {

// "0B", "512B", "4.0KiB", "26.5MiB", "1.20GiB".
std::string FormatBytes(uint64_t bytes);
// "0.31s", "12.3s", "2m05s", "1h02m".
std::string FormatSeconds(double seconds);
// "0:05", "12:34", "1:02:03": an ETA.
std::string FormatClock(double seconds);

// The progress line without "\r" and erase codes, cut to `width` columns (the file name is
// shortened from the left, behind "..."). `speed` is bytes/s; 0 means not known yet (no ETA).
std::string ProgressLine(uint64_t done, uint64_t total, double speed, size_t files_done,
                         size_t files, const std::string& current, size_t width);

enum class FileOutcome { kFetched, kSkipped, kFailed };

// The words of the plain lines and the summary, for the commands that share this progress
// (prefetch, stage).
struct ProgressWords {
  std::string command = "prefetch";  // the summary line's prefix
  std::string done = "fetched";      // what happened to the files done
  std::string skipped = "cached";    // why files were skipped
};

// Thread-safe: workers report per slot (one slot per worker), the main thread ticks.
class PrefetchProgress {
 public:
  // `out` receives everything; `tty` selects the redrawn line. `files`/`bytes`: the plan's
  // totals. `slots`: how many files may be in flight at once.
  PrefetchProgress(std::FILE* out, bool tty, size_t files, uint64_t bytes, size_t slots,
                   ProgressWords words = {});

  // Slot `slot` starts reading `path` (`size` bytes).
  void Started(size_t slot, const std::string& path, uint64_t size);
  // At least `bytes` of the file in `slot` are done (read or cached); never goes back.
  void Advanced(size_t slot, uint64_t bytes);
  // The file in `slot` is done. `reason` is for kFailed.
  void Finished(size_t slot, FileOutcome outcome, const std::string& reason = "");
  // A path that failed before any slot took it (a folder that could not be listed).
  void FailedOutsideSlot(const std::string& path, const std::string& reason);

  // Redraws the terminal line (no-op otherwise).
  void Tick();
  // Clears the terminal line and prints the summary; `interrupted` says Ctrl-C stopped it.
  void Summary(bool interrupted);

  size_t failed() const;

  // Paths in flight now (for polling how much of them the cache holds).
  std::vector<std::pair<size_t, std::string>> InFlight() const;

 private:
  struct Slot {
    std::string path;
    uint64_t size = 0;
    uint64_t done = 0;
    bool busy = false;
    std::chrono::steady_clock::time_point started;
  };
  void PrintLocked(const std::string& line);  // a permanent line, above the progress line
  void DrawLocked();

  std::FILE* out_;
  const bool tty_;
  const ProgressWords words_;
  const size_t files_;
  const uint64_t bytes_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  mutable std::mutex mu_;
  std::vector<Slot> slots_;         // guarded by mu_
  uint64_t finished_bytes_ = 0;     // sizes of finished files (any outcome); guarded by mu_
  uint64_t fetched_bytes_ = 0;      // bytes read from files fetched (not skipped); guarded by mu_
  size_t fetched_ = 0, skipped_ = 0, failed_ = 0;  // guarded by mu_
  bool line_shown_ = false;         // a progress line is on screen; guarded by mu_
  std::string last_started_;        // guarded by mu_
  bool closed_ = false;             // the summary is out: no more drawing; guarded by mu_
};

}  // namespace hubfs::app
