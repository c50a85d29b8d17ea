// Worker threads for commands that copy or fetch many files (`hubfs prefetch`, `hubfs stage`),
// with a main thread that redraws progress and takes Ctrl-C.
//
// Ctrl-C, SIGTERM and SIGHUP are blocked and taken by the main thread alone (through a signalfd),
// so a read a worker is blocked in is not cut short by a signal. On one, `stop` is set and the
// workers get up to 1 s to notice; one still blocked (a strict read waits for a whole file to be
// verified, and the download goes on in the daemon anyway) is abandoned: `abandon` runs (remove
// temporary files), then the process exits with 130 at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>

#include "hubfs/core/result.h"

namespace hubfs::app {

struct WorkerHooks {
  std::function<void(size_t slot)> work;  // one worker's whole life: returns when done or when stop is set
  std::function<void()> tick;             // every 200 ms while workers run (redraw progress)
  std::function<void(bool interrupted)> summary;  // once, before the workers are joined
  std::function<void()> abandon;          // may be empty: see above
};

// Runs `workers` threads of hooks.work and returns whether a signal interrupted them (all
// joined by then). An error when the signals cannot be taken (nothing ran).
Result<bool> RunInterruptibleWorkers(size_t workers, std::atomic<bool>& stop, const WorkerHooks& hooks);

}  // namespace hubfs::app
