#include "daemon_status.h"

#include <cstdint>

namespace hubfs::app {
namespace {

std::string StateName(cache::BlobState state) {
  switch (state) {
    case cache::BlobState::kVerified: return "verified";
    case cache::BlobState::kPoisoned: return "poisoned";
    case cache::BlobState::kPartial: return "partial";
  }
  return "partial";
}

nlohmann::json Hubs(const DaemonFacts& facts, const fs::Filesystem& filesystem, int64_t now) {
  nlohmann::json hubs = nlohmann::json::array();
  for (const fs::HubStatus& hub : filesystem.HubStatuses()) {
    auto type = facts.hub_types.find(hub.name);
    nlohmann::json h{{"name", hub.name},
                     {"type", type == facts.hub_types.end() ? "" : type->second},
                     {"entries", hub.entries},
                     {"files", hub.files},
                     {"listed_at", nullptr},
                     {"age_seconds", nullptr},
                     {"stale", HubIsStale(hub, facts.metadata_ttl, now)},
                     {"error", hub.error}};
    if (hub.listed_at > 0) {
      h["listed_at"] = hub.listed_at;
      h["age_seconds"] = std::max<int64_t>(0, now - hub.listed_at);
    }
    hubs.push_back(std::move(h));
  }
  return hubs;
}

// Open files whose blob is not verified yet: the downloads readers wait for (or will start).
nlohmann::json Downloads(const fs::Filesystem& filesystem, cache::Cache& cache) {
  nlohmann::json downloads = nlohmann::json::array();
  for (const fs::OpenFileStatus& file : filesystem.OpenFiles()) {
    auto record = cache.GetBlob(file.cache_key);
    std::string state = "absent";
    uint64_t cached = 0, size = file.size;
    if (record && *record) {
      const cache::BlobRecord& r = **record;
      if (r.state == cache::BlobState::kVerified) continue;
      state = StateName(r.state);
      cached = r.cached_bytes;
      if (size == 0) size = r.size;
    }
    downloads.push_back({{"path", file.path}, {"url", file.url}, {"size", size}, {"cached_bytes", cached},
                         {"state", state}, {"readers", file.handles}});
  }
  return downloads;
}

nlohmann::json Counters(const fs::EngineCounters& c, uint64_t evictions) {
  const uint64_t reads = c.reads.load(), hits = c.read_hits.load();
  return {{"bytes_from_origin", c.bytes_fetched.load()},
          {"bytes_served", c.bytes_served.load()},
          {"blocks_fetched", c.blocks_fetched.load()},
          {"blocks_from_disk", c.blocks_from_disk.load()},
          {"blocks_repaired", c.blocks_repaired.load()},
          {"blocks_uncached", c.blocks_uncached.load()},
          {"reads", reads},
          {"read_hits", hits},
          {"read_misses", reads >= hits ? reads - hits : 0},
          {"verify_failures", c.verify_failures.load()},
          {"fetch_failures", c.fetch_failures.load()},
          {"evictions", evictions}};
}

}  // namespace

bool HubIsStale(const fs::HubStatus& hub, int64_t metadata_ttl, int64_t now) {
  if (!hub.error.empty() || hub.listed_at <= 0) return true;
  return now - hub.listed_at > 2 * std::max<int64_t>(metadata_ttl, 1);
}

nlohmann::json DescribeDaemon(const DaemonFacts& facts, const fs::Filesystem& filesystem,
                              fs::ReadEngine& engine, int64_t now) {
  cache::Cache& cache = engine.cache();
  const cache::CacheUsage usage = cache.Usage();
  nlohmann::json limit = nullptr;
  if (usage.size_limit != UINT64_MAX) limit = usage.size_limit;
  const fs::FsStats stats = filesystem.Stats();
  uint64_t errors_total = 0;
  nlohmann::json errors = nlohmann::json::array();
  for (const fs::RecordedError& e : filesystem.RecentErrors(kStatusErrors, &errors_total)) {
    errors.push_back({{"at", e.at}, {"op", e.op}, {"path", e.path}, {"source", e.source}, {"kind", e.kind},
                      {"message", e.message}});
  }
  return {{"ok", true},
          {"mountpoint", facts.mountpoint},
          {"pid", facts.pid},
          {"version", HUBFS_VERSION},
          {"started_at", facts.started_at},
          {"uptime_seconds", std::max<int64_t>(0, now - facts.started_at)},
          {"config_source", facts.config_source},
          {"metadata_ttl_seconds", facts.metadata_ttl},
          {"cache", {{"dir", cache.dir()}, {"used_bytes", usage.used_bytes},
                     {"reserved_bytes", usage.reserved_bytes}, {"limit_bytes", limit}}},
          {"hubs", Hubs(facts, filesystem, now)},
          {"open_files", stats.open_handles},
          {"nodes", stats.nodes},
          {"fetches_in_flight", std::max<int64_t>(0, engine.counters().fetches_in_flight.load())},
          {"downloads", Downloads(filesystem, cache)},
          {"counters", Counters(engine.counters(), cache.evictions())},
          {"errors_total", errors_total},
          {"errors", std::move(errors)}};
}

}  // namespace hubfs::app
