#include "cache_stats.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "hubfs/net/http_client.h"

namespace hubfs::app {
namespace {

constexpr size_t kBiggest = 10;
constexpr const char* kHitRateNote =
    "not recorded: the cache keeps no hit or miss counters; a running mount counts them since "
    "it started in <mount>/.hubfs/stats (hubfs_cache_hits_total, hubfs_cache_misses_total)";

std::string WithSlash(std::string url) {
  if (url.empty() || url.back() != '/') url.push_back('/');
  return url;
}

const char* StateName(cache::BlobState state) {
  switch (state) {
    case cache::BlobState::kVerified: return "verified";
    case cache::BlobState::kPoisoned: return "poisoned";
    case cache::BlobState::kPartial: break;
  }
  return "partial";
}

struct Totals {
  uint64_t verified = 0, partial = 0, poisoned = 0, pinned = 0;
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_hub;  // hub -> (bytes, blobs with bytes)
  std::vector<const cache::BlobEntry*> biggest;
};

Totals Count(const StatsInput& in) {
  Totals t;
  for (const auto& hub : in.prefixes) t.by_hub[hub.hub];  // every hub shows, even with 0 bytes
  for (const cache::BlobEntry& e : in.summary->blobs) {
    const auto& r = e.record;
    (r.state == cache::BlobState::kVerified ? t.verified
     : r.state == cache::BlobState::kPoisoned ? t.poisoned
                                               : t.partial)++;
    if (r.pinned) ++t.pinned;
    if (r.cached_bytes == 0) continue;
    auto& slot = t.by_hub[HubOfUrl(in.prefixes, r.source_url)];
    slot.first += r.cached_bytes;
    ++slot.second;
    t.biggest.push_back(&e);
  }
  std::sort(t.biggest.begin(), t.biggest.end(), [](const cache::BlobEntry* a, const cache::BlobEntry* b) {
    return a->record.cached_bytes > b->record.cached_bytes;
  });
  if (t.biggest.size() > kBiggest) t.biggest.resize(kBiggest);
  return t;
}

}  // namespace

std::string Plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::vector<HubPrefix> HubPrefixes(const Config& config) {
  std::vector<HubPrefix> out;
  for (const HubConfig& hub : config.hubs) {
    if (hub.type == "onnx") {
      const auto& o = hub.onnx;
      const std::string repo = o.repo.owner + "/" + o.repo.name + "/" + o.repo.ref;
      out.push_back({hub.name, WithSlash(net::JoinUrl(o.media_base, repo))});
      out.push_back({hub.name, WithSlash(net::JoinUrl(o.raw_base, repo))});
    } else if (hub.type == "digits") {
      for (const auto& store : hub.digits.stores) out.push_back({hub.name, WithSlash(store.url)});
    } else {
      out.push_back({hub.name, ""});  // listed, never matched
    }
  }
  return out;
}

std::string HubOfUrl(const std::vector<HubPrefix>& prefixes, const std::string& url) {
  const HubPrefix* best = nullptr;
  for (const HubPrefix& p : prefixes) {
    if (p.prefix.empty() || url.compare(0, p.prefix.size(), p.prefix) != 0) continue;
    if (!best || p.prefix.size() > best->prefix.size()) best = &p;
  }
  return best ? best->hub : "other";
}

std::string HumanBytes(uint64_t bytes) {
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", value, kUnits[unit]);
  return buf;
}

void PrintStatsText(const StatsInput& in, std::ostream& out) {
  const cache::CacheSummary& s = *in.summary;
  const Totals t = Count(in);
  out << "cache       " << in.cache_dir << "\n";
  out << "limit       " << (in.limit == UINT64_MAX ? std::string("none") : HumanBytes(in.limit)) << " ("
      << in.limit_source << ")\n";
  out << "used        " << HumanBytes(s.used_bytes);
  if (in.limit != UINT64_MAX && in.limit > 0) out << " (" << (s.used_bytes * 100 / in.limit) << "% of the limit)";
  out << ", " << HumanBytes(s.reserved_bytes) << " reserved for blocks being written\n";
  out << "blobs       " << s.blobs.size() << ": " << t.verified << " verified, " << t.partial << " partial, "
      << t.poisoned << " poisoned; " << t.pinned << " pinned";
  if (s.malformed_blobs > 0) out << "; " << s.malformed_blobs << " unreadable records";
  out << "\n";
  bool first = true;
  for (const auto& [hub, slot] : t.by_hub) {
    out << (first ? "by hub      " : "            ") << hub << ": " << HumanBytes(slot.first) << " in "
        << Plural(slot.second, "blob", "blobs") << "\n";
    first = false;
  }
  out << "documents   " << Plural(s.documents, "cached document", "cached documents") << ", "
      << Plural(s.trust_records, "trust record", "trust records") << ", "
      << Plural(s.size_records, "size record", "size records") << ", "
      << Plural(s.absent_records, "absent record", "absent records") << "\n";
  out << "hit rate    " << kHitRateNote << "\n";
  if (!t.biggest.empty()) out << "biggest blobs (bytes cached, state, source):\n";
  for (const cache::BlobEntry* e : t.biggest) {
    char size[16];
    std::snprintf(size, sizeof size, "%10s", HumanBytes(e->record.cached_bytes).c_str());
    out << "  " << size << "  " << StateName(e->record.state) << (e->record.pinned ? ", pinned" : "") << "  "
        << e->record.source_url << "\n";
  }
}

void PrintStatsJson(const StatsInput& in, std::ostream& out) {
  const cache::CacheSummary& s = *in.summary;
  const Totals t = Count(in);
  nlohmann::json j;
  j["cache_dir"] = in.cache_dir;
  j["limit_bytes"] = in.limit == UINT64_MAX ? nlohmann::json(nullptr) : nlohmann::json(in.limit);
  j["limit_source"] = in.limit_source;
  j["used_bytes"] = s.used_bytes;
  j["reserved_bytes"] = s.reserved_bytes;
  j["blobs"] = {{"total", s.blobs.size()}, {"verified", t.verified}, {"partial", t.partial},
                {"poisoned", t.poisoned}, {"pinned", t.pinned}, {"unreadable", s.malformed_blobs}};
  j["hubs"] = nlohmann::json::array();
  for (const auto& [hub, slot] : t.by_hub) j["hubs"].push_back({{"hub", hub}, {"bytes", slot.first}, {"blobs", slot.second}});
  j["documents"] = s.documents;
  j["trust_records"] = s.trust_records;
  j["size_records"] = s.size_records;
  j["absent_records"] = s.absent_records;
  j["hit_rate"] = nullptr;
  j["hit_rate_note"] = kHitRateNote;
  j["biggest"] = nlohmann::json::array();
  for (const cache::BlobEntry* e : t.biggest) {
    j["biggest"].push_back({{"key", e->key}, {"source_url", e->record.source_url},
                            {"cached_bytes", e->record.cached_bytes}, {"size", e->record.size},
                            {"state", StateName(e->record.state)}, {"pinned", e->record.pinned},
                            {"last_access_ms", e->record.last_access}});
  }
  out << j.dump(2) << "\n";
}

}  // namespace hubfs::app
