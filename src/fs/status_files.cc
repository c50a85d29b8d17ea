#include "status_files.h"

#include <fmt/format.h>

#include "hubfs/core/logging.h"
#include "hubfs/core/time_text.h"

namespace hubfs::fs {
namespace {

void Metric(std::string* out, const char* name, const char* type, const char* help, uint64_t value) {
  *out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
}


}  // namespace

std::string RenderStats(const StatsInput& in) {
  const EngineCounters& c = *in.engine;
  std::string out;
  Metric(&out, "hubfs_origin_bytes_total", "counter", "Bytes downloaded from the hubs.", c.bytes_fetched.load());
  Metric(&out, "hubfs_origin_blocks_total", "counter", "Blocks downloaded from the hubs.", c.blocks_fetched.load());
  Metric(&out, "hubfs_served_bytes_total", "counter", "Bytes returned to readers of remote files.", c.bytes_served.load());
  Metric(&out, "hubfs_cache_block_reads_total", "counter", "Blocks read back from the cache on disk.",
         c.blocks_from_disk.load());
  const uint64_t reads = c.reads.load(), hits = c.read_hits.load();
  Metric(&out, "hubfs_cache_hits_total", "counter", "Reads whose first block was already cached.", hits);
  Metric(&out, "hubfs_cache_misses_total", "counter", "Reads that had to wait for a download.",
         reads > hits ? reads - hits : 0);
  Metric(&out, "hubfs_verify_failures_total", "counter", "Whole-file sha256 mismatches.", c.verify_failures.load());
  Metric(&out, "hubfs_fetch_failures_total", "counter", "Block downloads that failed.", c.fetch_failures.load());
  Metric(&out, "hubfs_blocks_repaired_total", "counter", "Damaged blocks on disk fetched again.",
         c.blocks_repaired.load());
  Metric(&out, "hubfs_blocks_uncached_total", "counter", "Blocks served from memory because the cache was full.",
         c.blocks_uncached.load());
  Metric(&out, "hubfs_evictions_total", "counter", "Blobs this daemon evicted from the cache.", in.evictions);
  const int64_t in_flight = c.fetches_in_flight.load();
  Metric(&out, "hubfs_fetches_in_flight", "gauge", "Downloads running now.", in_flight > 0 ? in_flight : 0);
  Metric(&out, "hubfs_cache_used_bytes", "gauge", "Bytes of cached blocks (all processes).", in.usage.used_bytes);
  Metric(&out, "hubfs_cache_limit_bytes", "gauge", "The cache size limit.", in.usage.size_limit);
  Metric(&out, "hubfs_nodes", "gauge", "Entries in the mount.", in.nodes);
  Metric(&out, "hubfs_open_files", "gauge", "Files open through the mount.", in.open_files);
  Metric(&out, "hubfs_log_lines_dropped_total", "counter",
         "Log lines the syslog target dropped because its socket was full or gone.", log::DroppedLines());
  out += "# HELP hubfs_errors_total Errors returned to readers, by kind.\n# TYPE hubfs_errors_total counter\n";
  for (const auto& [kind, count] : *in.errors_by_kind) {
    out += fmt::format("hubfs_errors_total{{kind=\"{}\"}} {}\n", kind, count);
  }
  return out;
}

std::string RenderErrors(const std::deque<RecordedError>& errors) {
  if (errors.empty()) return "no errors since the mount\n";
  std::string out;
  for (const RecordedError& e : errors) {
    out += fmt::format("{} {} {}{}: {}: {}\n", UtcTimestamp(e.at), e.op, e.path.empty() ? "?" : e.path,
                       e.source.empty() ? "" : " (" + e.source + ")", e.kind, e.message);
  }
  return out;
}

}  // namespace hubfs::fs
