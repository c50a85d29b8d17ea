// What a running mount's daemon reports to `hubfs status` (control op "status"): one JSON object
// made from the filesystem's, the read engine's and the cache's state. Private to src/app/.
//
// Reply fields (docs/cli.md, "hubfs status"): ok, mountpoint, pid, version, started_at,
// uptime_seconds, config_source, metadata_ttl_seconds, cache {dir, used_bytes, reserved_bytes,
// limit_bytes (null: none)}, hubs [{name, type, entries, files, listed_at, age_seconds, stale,
// error}], open_files, nodes, fetches_in_flight, downloads [{path, url, size, cached_bytes,
// state, readers}], counters {...}, errors_total, errors [{at, op, path, source, kind, message}].
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "hubfs/fs/filesystem.h"
#include "hubfs/fs/read_engine.h"

namespace hubfs::app {

// What the daemon knows about itself from its start.
struct DaemonFacts {
  int64_t pid = 0;
  int64_t started_at = 0;  // seconds since the epoch
  std::string mountpoint;
  std::string config_source;  // Config::source
  int64_t metadata_ttl = 600;  // seconds
  std::map<std::string, std::string> hub_types;  // hub name -> "onnx", "digits", "mindspore"
};

// Errors shown by status: the most recent ones.
inline constexpr size_t kStatusErrors = 10;

// A hub is stale when its last listing attempt failed, it has no listing, or its listing's
// source was last confirmed more than twice metadata_ttl ago (the periodic revalidation, every
// metadata_ttl, could not reach the server).
bool HubIsStale(const fs::HubStatus& hub, int64_t metadata_ttl, int64_t now);

// The status reply, as of `now` (seconds since the epoch). Reads the cache index for the open
// files' progress; never waits for a refresh or a download.
nlohmann::json DescribeDaemon(const DaemonFacts& facts, const fs::Filesystem& filesystem,
                              fs::ReadEngine& engine, int64_t now);

}  // namespace hubfs::app
