// `hubfs cache stats`: what the cache holds, by hub, as text or JSON. Private to src/app/.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "hubfs/app/config.h"
#include "hubfs/cache/cache.h"

namespace hubfs::app {

// Where a hub's files come from: a blob whose source URL starts with `prefix` belongs to `hub`.
struct HubPrefix {
  std::string hub;
  std::string prefix;  // ends with '/'
};

// ONNX hubs: <media_base>/<owner>/<name>/<ref>/ (and the same below raw_base); DIGITS hubs: each
// store URL. MindSpore assets link anywhere, so their blobs cannot be attributed ("other").
std::vector<HubPrefix> HubPrefixes(const Config& config);

// The hub with the longest prefix of `url`, or "other".
std::string HubOfUrl(const std::vector<HubPrefix>& prefixes, const std::string& url);

// "0 B", "512 B", "1.5 KiB", "12.0 MiB", "3.2 GiB" (powers of 1024, one decimal).
std::string HumanBytes(uint64_t bytes);

// "1 blob", "2 blobs".
std::string Plural(uint64_t n, const char* one, const char* many);

struct StatsInput {
  std::string cache_dir;
  uint64_t limit = 0;        // bytes; UINT64_MAX: none
  std::string limit_source;  // where the limit comes from ("cache_size in FILE")
  const cache::CacheSummary* summary = nullptr;
  std::vector<HubPrefix> prefixes;
};

void PrintStatsText(const StatsInput& in, std::ostream& out);
void PrintStatsJson(const StatsInput& in, std::ostream& out);

}  // namespace hubfs::app
