#include "prefetch_progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>

namespace hubfs::app {

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{}B", bytes);
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  for (value /= 1024; value >= 1024 && unit + 1 < std::size(kUnits); value /= 1024) ++unit;
  // Three significant digits at most: 4.0KiB, 26.5MiB, 1.20GiB, 512KiB.
  if (value >= 100) return fmt::format("{:.0f}{}", value, kUnits[unit]);
  if (unit >= 2 && value < 10) return fmt::format("{:.2f}{}", value, kUnits[unit]);
  return fmt::format("{:.1f}{}", value, kUnits[unit]);
}

std::string FormatSeconds(double seconds) {
  if (seconds < 10) return fmt::format("{:.2f}s", seconds);
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  auto whole = static_cast<uint64_t>(std::llround(seconds));
  if (whole < 3600) return fmt::format("{}m{:02}s", whole / 60, whole % 60);
  return fmt::format("{}h{:02}m", whole / 3600, whole / 60 % 60);
}

std::string FormatClock(double seconds) {
  auto whole = static_cast<uint64_t>(std::llround(std::max(0.0, seconds)));
  if (whole < 3600) return fmt::format("{}:{:02}", whole / 60, whole % 60);
  return fmt::format("{}:{:02}:{:02}", whole / 3600, whole / 60 % 60, whole % 60);
}

std::string ProgressLine(uint64_t done, uint64_t total, double speed, size_t files_done,
                         size_t files, const std::string& current, size_t width) {
  const int percent = total == 0 ? 100 : static_cast<int>(std::min<uint64_t>(done, total) * 100 / total);
  std::string line = fmt::format("[{:3}%] {}/{}", percent, FormatBytes(done), FormatBytes(total));
  if (speed > 0) {
    line += fmt::format("  {}/s", FormatBytes(static_cast<uint64_t>(speed)));
    if (done < total) line += "  ETA " + FormatClock(static_cast<double>(total - done) / speed);
  }
  line += fmt::format("  {}/{} files", files_done, files);
  if (!current.empty() && line.size() + 4 < width) {
    // The end of a path says most (the file name): shorten it from the left.
    size_t room = width - line.size() - 2;
    std::string name = current.size() <= room ? current : "..." + current.substr(current.size() - (room - 3));
    line += "  " + name;
  }
  if (line.size() > width) line.resize(width);
  return line;
}

PrefetchProgress::PrefetchProgress(std::FILE* out, bool tty, size_t files, uint64_t bytes,
                                   size_t slots, ProgressWords words)
    : out_(out), tty_(tty), words_(std::move(words)), files_(files), bytes_(bytes), slots_(slots) {}

void PrefetchProgress::Started(size_t slot, const std::string& path, uint64_t size) {
  std::lock_guard lock(mu_);
  slots_[slot] = Slot{path, size, 0, true, std::chrono::steady_clock::now()};
  last_started_ = path;
}

void PrefetchProgress::Advanced(size_t slot, uint64_t bytes) {
  std::lock_guard lock(mu_);
  Slot& s = slots_[slot];
  if (s.busy) s.done = std::max(s.done, std::min(bytes, s.size));
}

void PrefetchProgress::Finished(size_t slot, FileOutcome outcome, const std::string& reason) {
  std::lock_guard lock(mu_);
  Slot& s = slots_[slot];
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - s.started).count();
  s.busy = false;
  finished_bytes_ += s.size;
  switch (outcome) {
    case FileOutcome::kFetched:
      ++fetched_;
      fetched_bytes_ += s.size;
      if (!tty_) PrintLocked(fmt::format("ok {} {} {}", s.path, FormatBytes(s.size), FormatSeconds(seconds)));
      break;
    case FileOutcome::kSkipped:
      ++skipped_;
      if (!tty_) PrintLocked(fmt::format("skipped {} {} ({})", s.path, FormatBytes(s.size), words_.skipped));
      break;
    case FileOutcome::kFailed:
      ++failed_;
      fetched_bytes_ += s.done;
      PrintLocked(fmt::format("failed {}: {}", s.path, reason));
      break;
  }
  if (tty_ && !closed_) DrawLocked();  // at once: a fast prefetch may end before the first tick
}

void PrefetchProgress::FailedOutsideSlot(const std::string& path, const std::string& reason) {
  std::lock_guard lock(mu_);
  ++failed_;
  PrintLocked(fmt::format("failed {}: {}", path, reason));
}

void PrefetchProgress::Tick() {
  if (!tty_) return;
  std::lock_guard lock(mu_);
  if (!closed_) DrawLocked();
}

void PrefetchProgress::Summary(bool interrupted) {
  std::lock_guard lock(mu_);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string line = fmt::format("{} files ({}): {} {}, {} skipped ({}), {} failed in {}", files_,
                                 FormatBytes(bytes_), fetched_, words_.done, skipped_, words_.skipped,
                                 failed_, FormatSeconds(seconds));
  if (interrupted) {
    size_t left = files_ - std::min(files_, fetched_ + skipped_ + failed_);
    line = fmt::format("interrupted: {}; {} not done, run the same command again to resume", line, left);
  }
  closed_ = true;
  PrintLocked(words_.command + ": " + line);
}

size_t PrefetchProgress::failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}

std::vector<std::pair<size_t, std::string>> PrefetchProgress::InFlight() const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<size_t, std::string>> paths;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].busy) paths.emplace_back(i, slots_[i].path);
  }
  return paths;
}

void PrefetchProgress::PrintLocked(const std::string& line) {
  if (line_shown_) std::fputs("\r\x1b[K", out_);  // erase the progress line, print over it
  std::fprintf(out_, "%s\n", line.c_str());
  line_shown_ = false;
  if (tty_ && !closed_) DrawLocked();
  std::fflush(out_);
}

void PrefetchProgress::DrawLocked() {
  uint64_t done = finished_bytes_, fetched = fetched_bytes_;
  std::string current;
  for (const Slot& s : slots_) {
    if (!s.busy) continue;
    done += s.done;
    fetched += s.done;
    if (current.empty()) current = s.path;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double speed = seconds > 0.2 && fetched > 0 ? static_cast<double>(fetched) / seconds : 0;
  struct winsize ws {};
  size_t width = 80;
  if (::ioctl(::fileno(out_), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) width = ws.ws_col;
  const size_t finished = fetched_ + skipped_ + failed_;
  if (current.empty() && finished < files_) current = last_started_;  // between two files
  std::string line = ProgressLine(done, bytes_, speed, finished, files_, current, width - 1);
  std::fprintf(out_, "\r%s\x1b[K", line.c_str());
  std::fflush(out_);
  line_shown_ = true;
}

}  // namespace hubfs::app
