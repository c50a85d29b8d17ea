#include "hubfs/fs/framework_view.h"

#include <map>
#include <set>

#include "hubfs/archive/archive.h"
#include "hubfs/core/names.h"
#include "hubfs/hubs/model_framework.h"

namespace hubfs::fs {
namespace {

constexpr std::string_view kDoubleExtensions[] = {".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst"};

// One model file that wants a name in a framework folder.
struct Claimant {
  size_t source = 0;  // index into the sources
  const hubs::Entry* entry = nullptr;
  std::string name;   // given out
};

std::string IdentityOf(const hubs::RemoteObject& remote) {
  return remote.sha256 ? "sha256:" + ToHex(*remote.sha256) : "url:" + remote.url;
}

// `text` cut to at most `room` bytes, at a UTF-8 character boundary.
std::string Cut(std::string text, size_t room) {
  if (text.size() <= room) return text;
  text.resize(room);
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) text.pop_back();
  if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) text.pop_back();
  return text;
}

// The `n`th (0-based) renamed candidate of rule 3. Cut to fit: the stem first, then the
// qualifier; the counter and the extension stay.
std::string RenamedCandidate(const std::string& name, const std::string& folder, const std::string& hub,
                             size_t n) {
  auto [stem, ext] = SplitExtension(name);
  if (ext.size() > 32) {  // not an extension worth keeping whole
    stem = name;
    ext.clear();
  }
  const std::string qualifier = "~" + folder + (n >= 1 ? "~" + hub : "");
  const std::string end = (n >= 2 ? "~" + std::to_string(n) : "") + ext;
  const size_t room = kMaxNameBytes - end.size();  // end: at most 32 bytes and a counter
  if (qualifier.size() < room) return Cut(stem, room - qualifier.size()) + qualifier + end;
  return Cut(stem + qualifier, room) + end;
}

// The names of one framework folder, per rules 2-4 of the header.
void NameFolder(const std::vector<FrameworkViewSource>& sources, std::vector<Claimant>* claimants) {
  std::set<std::string> taken;
  auto claim = [&](const std::string& name) {
    if (!IsSafeName(name) || taken.count(name)) return false;
    const std::string stem = ArchiveStem(name);
    if (!stem.empty() && (taken.count(stem) || !IsSafeName(stem))) return false;
    taken.insert(name);
    if (!stem.empty()) taken.insert(stem);
    return true;
  };
  std::vector<Claimant*> renamed;
  for (Claimant& c : *claimants) {
    if (claim(c.entry->path.back())) {
      c.name = c.entry->path.back();
    } else {
      renamed.push_back(&c);
    }
  }
  for (Claimant* c : renamed) {
    const std::vector<std::string>& path = c->entry->path;
    const std::string& hub = sources[c->source].hub;
    const std::string& folder = path.size() >= 2 ? path[path.size() - 2] : hub;
    // From n = 2 on, candidates differ by their counter and `taken` holds at most two names
    // per claimant, so one of these is free; the bound only guards against the unforeseen (a
    // claimant left without a name is left out of the view).
    const size_t tries = 2 * claimants->size() + 16;
    for (size_t n = 0; n < tries; ++n) {
      std::string candidate = RenamedCandidate(path.back(), folder, hub, n);
      if (claim(candidate)) {
        c->name = std::move(candidate);
        break;
      }
    }
  }
}

}  // namespace

std::pair<std::string, std::string> SplitExtension(std::string_view name) {
  for (std::string_view ext : kDoubleExtensions) {
    if (name.size() > ext.size() && name.ends_with(ext)) {
      return {std::string(name.substr(0, name.size() - ext.size())), std::string(ext)};
    }
  }
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return {std::string(name), ""};
  return {std::string(name.substr(0, dot)), std::string(name.substr(dot))};
}

std::string ArchiveStem(std::string_view name) {
  std::string stem;
  return archive::IsArchiveName(name, &stem) ? stem : "";
}

std::vector<FrameworkViewPart> BuildFrameworkView(const std::vector<FrameworkViewSource>& sources) {
  // Rule 1 and the order of rule 2: per framework, in configuration and listing order.
  std::map<std::string, std::vector<Claimant>> folders;
  std::set<std::string> seen;  // framework, name, identity
  for (size_t s = 0; s < sources.size(); ++s) {
    if (!sources[s].listing) continue;
    for (const hubs::Entry& entry : sources[s].listing->entries) {
      if (entry.kind != hubs::EntryKind::kFile || !entry.remote || entry.path.empty() || entry.framework.empty()) {
        continue;
      }
      // Adapters give normalised names; anything else would not be a safe folder name.
      if (hubs::NormalizeFramework(entry.framework) != entry.framework) continue;
      const std::string key = entry.framework + '\0' + entry.path.back() + '\0' + IdentityOf(*entry.remote);
      if (!seen.insert(key).second) continue;
      folders[entry.framework].push_back(Claimant{s, &entry, ""});
    }
  }
  std::vector<FrameworkViewPart> parts(sources.size());
  for (size_t s = 0; s < sources.size(); ++s) {
    parts[s].hub_index = sources[s].hub_index;
    if (sources[s].listing) parts[s].listing.mtime = sources[s].listing->mtime;
  }
  for (auto& [framework, claimants] : folders) {
    NameFolder(sources, &claimants);
    for (const Claimant& c : claimants) {
      if (c.name.empty()) continue;
      hubs::Entry e({framework, c.name}, hubs::EntryKind::kFile, c.entry->remote, "");
      e.framework = framework;
      parts[c.source].listing.entries.push_back(std::move(e));
    }
  }
  std::erase_if(parts, [](const FrameworkViewPart& p) { return p.listing.entries.empty(); });
  return parts;
}

void AddFrameworkView(const std::vector<FrameworkViewSource>& sources, int64_t mtime, Tree* tree,
                      std::vector<std::string>* warnings, const ArchiveIndexLookup& archives) {
  if (tree->Child(kRootId, kFrameworkFolder)) {
    warnings->push_back(std::string("no /") + kFrameworkFolder + " view: a hub has that name");
    return;
  }
  tree->AddHub(kFrameworkFolder, hubs::Listing{{}, mtime}, warnings);  // the folder, even when empty
  for (const FrameworkViewPart& part : BuildFrameworkView(sources)) {
    tree->AddHub(kFrameworkFolder, part.listing, warnings, part.hub_index, archives);
  }
}

}  // namespace hubfs::fs
