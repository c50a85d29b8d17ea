// Containment rules for archive members (archive.h): which entries become members, under which
// paths, and when an archive is refused as a whole.
#include <map>
#include <set>

#include "hubfs/core/names.h"
#include "raw_entry.h"

namespace hubfs::archive {
namespace {

// "./a//b/" -> {"a", "b"}. nullopt (and *why) for names that could leave the folder or that
// cannot be shown.
std::optional<std::vector<std::string>> NormalizeName(std::string_view name, std::string* why) {
  if (name.empty()) {
    *why = "empty name";
    return std::nullopt;
  }
  if (name.front() == '/') {
    *why = "absolute path";
    return std::nullopt;
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      *why = "'..' in the path";
      return std::nullopt;
    }
    if (!IsSafeName(part)) {
      *why = "a path component that cannot be a file name";
      return std::nullopt;
    }
    parts.emplace_back(part);
  }
  if (parts.empty()) {
    *why = "empty name";
    return std::nullopt;
  }
  return parts;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

// True when `target`, read from the folder of the link at `link_path`, names a place inside the
// view folder without passing through another link (whose own target could lead elsewhere).
bool LinkStaysInside(const std::vector<std::string>& link_path, const std::string& target,
                     const std::set<std::string>& links) {
  if (target.empty() || target.front() == '/') return false;
  std::vector<std::string> at(link_path.begin(), link_path.end() - 1);
  size_t start = 0;
  while (start <= target.size()) {
    size_t slash = target.find('/', start);
    if (slash == std::string::npos) slash = target.size();
    std::string part = target.substr(start, slash - start);
    const bool last = slash == target.size();
    start = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (at.empty()) return false;
      at.pop_back();
      continue;
    }
    at.push_back(part);
    if (!last && links.count(Join(at))) return false;
  }
  return true;
}

}  // namespace

Index Contain(const std::vector<RawEntry>& entries, uint64_t archive_size, const Limits& limits) {
  Index index;
  index.archive_size = archive_size;
  if (entries.size() > limits.max_members) {
    index.refused = "more than " + std::to_string(limits.max_members) + " members";
    return index;
  }
  struct Candidate {
    const RawEntry* raw;
    std::vector<std::string> path;
  };
  std::vector<Candidate> candidates;
  uint64_t total = 0;
  for (const RawEntry& e : entries) {
    std::string why;
    auto path = NormalizeName(e.name, &why);
    if (!path) {
      index.skipped.push_back(e.name + ": " + why);
      continue;
    }
    if (e.encrypted) {
      index.skipped.push_back(e.name + ": encrypted");
      continue;
    }
    if (e.type == RawType::kOther) {
      index.skipped.push_back(e.name + ": not a file, folder or link");
      continue;
    }
    if (e.type == RawType::kFile) total += e.size;
    candidates.push_back({&e, std::move(*path)});
  }
  if (total > limits.max_total_bytes) {
    index.refused = "unpacks to " + std::to_string(total) + " bytes, more than the limit of " +
                    std::to_string(limits.max_total_bytes);
    return index;
  }
  if (total > limits.max_ratio * std::max<uint64_t>(archive_size, 1)) {
    index.refused = "unpacks to " + std::to_string(total) + " bytes from " + std::to_string(archive_size) +
                    ", more than " + std::to_string(limits.max_ratio) + " times its size";
    return index;
  }

  // One top-level folder holding everything is stripped.
  bool strip = !candidates.empty();
  for (const Candidate& c : candidates) {
    if (c.path.front() != candidates.front().path.front() ||
        (c.path.size() == 1 && c.raw->type != RawType::kDirectory)) {
      strip = false;
      break;
    }
  }
  if (strip) {
    std::vector<Candidate> kept;
    for (Candidate& c : candidates) {
      if (c.path.size() == 1) continue;  // the top folder itself
      c.path.erase(c.path.begin());
      kept.push_back(std::move(c));
    }
    candidates = std::move(kept);
  }

  std::set<std::string> links;
  for (const Candidate& c : candidates) {
    if (c.raw->type == RawType::kSymlink) links.insert(Join(c.path));
  }
  std::map<std::string, MemberKind> taken;     // every path a member occupies, implied folders too
  std::map<std::string, size_t> file_by_name;  // stored name -> member index (hard link targets)
  for (const Candidate& c : candidates) {
    const RawEntry& e = *c.raw;
    const std::string joined = Join(c.path);
    Member m;
    m.path = c.path;
    m.ordinal = e.ordinal;
    switch (e.type) {
      case RawType::kFile: m.kind = MemberKind::kFile; m.size = e.size; break;
      case RawType::kDirectory: m.kind = MemberKind::kDirectory; break;
      case RawType::kSymlink:
        m.kind = MemberKind::kSymlink;
        m.link_target = e.link;
        if (!LinkStaysInside(c.path, e.link, links)) {
          index.skipped.push_back(e.name + ": link target '" + e.link + "' leaves the folder");
          continue;
        }
        break;
      case RawType::kHardlink: {
        std::string ignored;
        auto target = NormalizeName(e.link, &ignored);
        auto it = target ? file_by_name.find(Join(*target)) : file_by_name.end();
        if (it == file_by_name.end()) {
          index.skipped.push_back(e.name + ": hard link to '" + e.link + "', which is not a file before it");
          continue;
        }
        const Member& to = index.members[it->second];
        m.kind = MemberKind::kFile;
        m.size = to.size;
        m.ordinal = to.ordinal;
        break;
      }
      case RawType::kOther: continue;
    }
    // The folders above it must be folders, and the name itself free (a folder may repeat).
    bool blocked = false;
    for (size_t i = 1; i < c.path.size() && !blocked; ++i) {
      auto it = taken.find(Join({c.path.begin(), c.path.begin() + static_cast<long>(i)}));
      blocked = it != taken.end() && it->second != MemberKind::kDirectory;
    }
    if (blocked) {
      index.skipped.push_back(e.name + ": lies below a name that is not a folder");
      continue;
    }
    if (auto it = taken.find(joined); it != taken.end()) {
      if (it->second == MemberKind::kDirectory && m.kind == MemberKind::kDirectory) continue;
      index.skipped.push_back(e.name + ": the name appears twice (the first one is shown)");
      continue;
    }
    for (size_t i = 1; i < c.path.size(); ++i) {
      taken.emplace(Join({c.path.begin(), c.path.begin() + static_cast<long>(i)}), MemberKind::kDirectory);
    }
    taken.emplace(joined, m.kind);
    if (m.kind == MemberKind::kFile) {
      std::string ignored;
      if (auto original = NormalizeName(e.name, &ignored)) file_by_name.emplace(Join(*original), index.members.size());
    }
    index.members.push_back(std::move(m));
  }
  return index;
}

}  // namespace hubfs::archive
