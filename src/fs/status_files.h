// The files of the mount's `.hubfs/` folder that are made at each open: `stats` (Prometheus
// text format) and `errors` (the most recent errors, newest last). Private to src/fs/.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "hubfs/cache/cache.h"
#include "hubfs/fs/filesystem.h"
#include "hubfs/fs/read_engine.h"

namespace hubfs::fs {


struct StatsInput {
  const EngineCounters* engine = nullptr;
  cache::CacheUsage usage;
  uint64_t evictions = 0;
  uint64_t nodes = 0;
  uint64_t open_files = 0;
  const std::map<std::string, uint64_t>* errors_by_kind = nullptr;
};

std::string RenderStats(const StatsInput& in);
std::string RenderErrors(const std::deque<RecordedError>& errors);

}  // namespace hubfs::fs
