#include "cache_importer.h"

#include <fmt/format.h>

#include <chrono>

#include "client_caches.h"
#include "hubfs/cache/blob_import.h"
#include "hubfs/core/logging.h"

namespace hubfs::app {
namespace {

void Metric(std::string* out, const char* name, const char* type, const char* help, uint64_t value) {
  *out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
}

// What identifies one attempt that failed: the same file, unchanged, for the same blob.
std::string RefusalKey(const ClientCacheFile& file, const Digest& sha256) {
  return fmt::format("{}\n{}\n{}\n{}", file.path, file.size, file.mtime_ns, ToHex(sha256));
}

}  // namespace

std::string ImportStatsText(const ImportCounters& c) {
  std::string out;
  Metric(&out, "hubfs_imported_files_total", "counter",
         "Files imported from the hubs' clients' caches (hashed, then copied) instead of downloaded.",
         c.files.load());
  Metric(&out, "hubfs_imported_bytes_total", "counter", "Bytes copied from the hubs' clients' caches.",
         c.bytes.load());
  Metric(&out, "hubfs_import_rejected_total", "counter",
         "Client cache files not imported because their content did not match.", c.rejected.load());
  Metric(&out, "hubfs_import_no_room_total", "counter",
         "Client cache files not imported because they did not fit without evicting.", c.skipped_no_room.load());
  Metric(&out, "hubfs_import_passes_total", "counter", "Finished scans of the clients' caches.", c.passes.load());
  Metric(&out, "hubfs_import_running", "gauge", "1 while a scan of the clients' caches runs.",
         c.running.load() ? 1 : 0);
  return out;
}

CacheImporter::CacheImporter(cache::Cache& cache, std::vector<std::string> dirs, Wanted wanted,
                             ImportCounters& counters)
    : cache_(cache), dirs_(std::move(dirs)), wanted_(std::move(wanted)), counters_(counters),
      thread_([this] { Loop(); }) {}

CacheImporter::~CacheImporter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void CacheImporter::Schedule() {
  {
    std::lock_guard lock(mu_);
    pending_ = true;
  }
  cv_.notify_one();
}

void CacheImporter::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return Stopping() || pending_; });
    if (Stopping()) return;
    pending_ = false;
    lock.unlock();  // a pass reads and copies files: never under the lock
    counters_.running = true;
    Pass();
    counters_.running = false;
    lock.lock();
  }
}

void CacheImporter::Pass() {
  const auto started = std::chrono::steady_clock::now();
  const std::vector<hubs::RemoteObject> wanted = wanted_();
  const ScanResult scan = ScanClientCaches(dirs_);
  for (const std::string& problem : scan.problems) HUBFS_LOG_WARN("import: cannot read {}", problem);
  if (scan.truncated) HUBFS_LOG_WARN("import: stopped scanning after {} files", scan.files.size());
  uint64_t imported = 0, bytes = 0, rejected = 0, no_room = 0;
  cache::ImportOptions options;
  options.cancelled = [this] { return Stopping(); };
  for (const ImportCandidate& candidate : MatchClientCacheFiles(wanted, scan.files)) {
    const Digest& sha256 = *candidate.object.sha256;
    for (const ClientCacheFile* file : candidate.files) {
      if (Stopping()) return;
      const std::string refusal = RefusalKey(*file, sha256);
      if (refused_.count(refusal)) continue;
      const cache::BlobSpec spec{candidate.object.size.value_or(file->size), sha256, candidate.object.url};
      auto outcome = cache::ImportBlob(cache_, spec, file->path, options);
      if (outcome) {
        if (outcome->already_verified) break;
        ++imported;
        bytes += outcome->bytes_copied;
        counters_.files++;
        counters_.bytes += outcome->bytes_copied;
        HUBFS_LOG_INFO("import: {} ({} bytes, {} copied) is {} of {}", file->path, spec.size,
                       outcome->bytes_copied, cache::BlobKeyForDigest(sha256), candidate.object.url);
        break;
      }
      const Status& error = outcome.error();
      if (error.code() == Code::kCancelled) return;
      if (error.code() == Code::kResourceExhausted) {
        ++no_room;
        counters_.skipped_no_room++;
        HUBFS_LOG_INFO("import: {} not imported: {}", file->path, error.message());
        break;  // another copy of the same blob would not fit either
      }
      if (error.code() == Code::kDataLoss || error.code() == Code::kFailedPrecondition) {
        ++rejected;
        counters_.rejected++;
        refused_.insert(refusal);
        HUBFS_LOG_WARN("import: {} not imported for {}: {}", file->path, candidate.object.url, error.message());
        continue;  // another file may hold it
      }
      if (error.code() == Code::kNotFound) {
        HUBFS_LOG_DEBUG("import: {}", error.message());  // removed since the scan
        continue;
      }
      HUBFS_LOG_WARN("import: {}: {}", file->path, error.ToString());
    }
  }
  counters_.passes++;
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  if (imported + rejected + no_room > 0) {
    HUBFS_LOG_INFO("import: {} files in {} folders looked at in {} ms: {} imported ({} bytes), {} rejected, {} "
                   "without room", scan.files.size(), scan.folders, ms, imported, bytes, rejected, no_room);
  } else {
    HUBFS_LOG_DEBUG("import: {} files in {} folders looked at in {} ms: nothing to import", scan.files.size(),
                    scan.folders, ms);
  }
}

}  // namespace hubfs::app
