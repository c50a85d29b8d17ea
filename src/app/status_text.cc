#include "status_text.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <ostream>

#include "cache_stats.h"
#include "hubfs/core/time_text.h"

namespace hubfs::app {

// The label column: "  label       " (two spaces, label padded to 12).
std::string LabelColumn(const char* label) {
  std::string s = "  ";
  s += label;
  if (s.size() < 15) s.append(15 - s.size(), ' ');
  return s;
}

namespace {

const std::string kIndent(15, ' ');

uint64_t U64(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>()
         : it != j.end() && it->is_number_integer() && it->get<int64_t>() >= 0 ? static_cast<uint64_t>(it->get<int64_t>())
                                                                                : 0;
}
std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "?";
}
bool Has(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && !it->is_null();
}

std::string Percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return "";
  char buf[16];
  std::snprintf(buf, sizeof buf, " (%" PRIu64 "%%)", part * 100 / whole);
  return buf;
}

void PrintHubs(const nlohmann::json& hubs, std::ostream& out) {
  if (!hubs.is_array() || hubs.empty()) {
    out << LabelColumn("hubs") << "none\n";
    return;
  }
  bool first = true;
  for (const auto& h : hubs) {
    out << (first ? LabelColumn("hubs") : kIndent) << Str(h, "name");
    first = false;
    const std::string type = Str(h, "type");
    if (!type.empty() && type != "?") out << " (" << type << ")";
    out << ": " << U64(h, "entries") << " entries, " << U64(h, "files") << " files, ";
    if (Has(h, "age_seconds")) {
      out << "listed " << FormatDuration(h["age_seconds"].get<int64_t>()) << " ago";
    } else {
      out << "no listing";
    }
    if (h.value("stale", false)) out << ", stale";
    const std::string error = Str(h, "error");
    if (!error.empty() && error != "?") out << ": " << error;
    out << "\n";
  }
}

void PrintDownloads(const nlohmann::json& s, std::ostream& out) {
  out << LabelColumn("fetches") << U64(s, "fetches_in_flight") << " in flight\n";
  auto it = s.find("downloads");
  if (it == s.end() || !it->is_array()) return;
  for (const auto& d : *it) {
    const uint64_t size = U64(d, "size"), cached = U64(d, "cached_bytes");
    out << kIndent << Str(d, "path") << ": " << HumanBytes(cached) << " of "
        << (size ? HumanBytes(size) : std::string("?")) << Percent(cached, size) << ", " << Str(d, "state")
        << " (" << Str(d, "url") << ")\n";
  }
}

void PrintCounters(const nlohmann::json& c, std::ostream& out) {
  out << LabelColumn("traffic") << HumanBytes(U64(c, "bytes_from_origin")) << " from origin, "
      << HumanBytes(U64(c, "bytes_served")) << " served\n";
  out << LabelColumn("reads") << U64(c, "reads") << ": " << U64(c, "read_hits") << " hits, " << U64(c, "read_misses")
      << " misses\n";
  out << LabelColumn("failures") << U64(c, "verify_failures") << " verify, " << U64(c, "fetch_failures") << " fetch; "
      << U64(c, "evictions") << " evictions\n";
}

void PrintErrors(const nlohmann::json& s, std::ostream& out) {
  const uint64_t total = U64(s, "errors_total");
  auto it = s.find("errors");
  const size_t shown = it != s.end() && it->is_array() ? it->size() : 0;
  if (total == 0 && shown == 0) {
    out << LabelColumn("errors") << "none\n";
    return;
  }
  out << LabelColumn("errors") << total << " since the mount";
  if (shown > 0) out << "; the last " << shown << ":";
  out << "\n";
  for (size_t i = 0; i < shown; ++i) {
    const auto& e = (*it)[i];
    const std::string source = Str(e, "source");
    out << kIndent << UtcTimestamp(Has(e, "at") ? e["at"].get<int64_t>() : 0) << " " << Str(e, "op") << " "
        << Str(e, "path") << ((source.empty() || source == "?") ? "" : " (" + source + ")") << ": "
        << Str(e, "kind") << ": " << Str(e, "message") << "\n";
  }
}

}  // namespace

std::string FormatDuration(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  char buf[32];
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%" PRId64 "s", seconds);
  } else if (seconds < 3600) {
    std::snprintf(buf, sizeof buf, "%" PRId64 "m %02" PRId64 "s", seconds / 60, seconds % 60);
  } else if (seconds < 86400) {
    std::snprintf(buf, sizeof buf, "%" PRId64 "h %02" PRId64 "m", seconds / 3600, seconds % 3600 / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%" PRId64 "d %02" PRId64 "h", seconds / 86400, seconds % 86400 / 3600);
  }
  return buf;
}


void PrintStatusText(const nlohmann::json& s, std::ostream& out) {
  out << Str(s, "mountpoint") << "\n";
  out << LabelColumn("daemon") << "pid " << U64(s, "pid") << ", up "
      << FormatDuration(Has(s, "uptime_seconds") ? s["uptime_seconds"].get<int64_t>() : 0) << " (hubfs "
      << Str(s, "version") << ")\n";
  out << LabelColumn("config") << Str(s, "config_source") << "\n";
  const nlohmann::json cache = s.value("cache", nlohmann::json::object());
  const uint64_t used = U64(cache, "used_bytes");
  out << LabelColumn("cache") << Str(cache, "dir") << ": " << HumanBytes(used) << " used of ";
  if (Has(cache, "limit_bytes")) {
    out << HumanBytes(U64(cache, "limit_bytes")) << Percent(used, U64(cache, "limit_bytes"));
  } else {
    out << "no limit";
  }
  out << "\n";
  PrintHubs(s.value("hubs", nlohmann::json::array()), out);
  out << LabelColumn("open files") << U64(s, "open_files") << "\n";
  PrintDownloads(s, out);
  PrintCounters(s.value("counters", nlohmann::json::object()), out);
  PrintErrors(s, out);
}

void PrintNotAnswering(const std::string& mountpoint, const std::string& reason, std::ostream& out) {
  out << mountpoint << "\n" << LabelColumn("daemon") << "not answering: " << reason << "\n";
}

}  // namespace hubfs::app
