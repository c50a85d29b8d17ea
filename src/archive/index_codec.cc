// Index <-> JSON text, for the metadata cache (one document per indexed archive), so a remount
// shows an archive's folder without reading the archive again.
#include <nlohmann/json.hpp>

#include "hubfs/archive/archive.h"
#include "hubfs/core/names.h"

namespace hubfs::archive {
namespace {

constexpr int kIndexVersion = 1;

const char* KindName(MemberKind kind) {
  switch (kind) {
    case MemberKind::kDirectory: return "dir";
    case MemberKind::kSymlink: return "link";
    case MemberKind::kFile: break;
  }
  return "file";
}

}  // namespace

std::string EncodeIndex(const Index& index) {
  nlohmann::json members = nlohmann::json::array();
  for (const Member& m : index.members) {
    nlohmann::json j = {{"path", m.path}, {"kind", KindName(m.kind)}, {"ordinal", m.ordinal}};
    if (m.kind == MemberKind::kFile) j["size"] = m.size;
    if (m.kind == MemberKind::kSymlink) j["target"] = m.link_target;
    if (m.stored_offset) j["stored_offset"] = *m.stored_offset;
    members.push_back(std::move(j));
  }
  nlohmann::json doc = {{"version", kIndexVersion}, {"format", index.format},
                        {"archive_size", index.archive_size}, {"members", std::move(members)},
                        {"skipped", index.skipped}, {"refused", index.refused}};
  return doc.dump();
}

Result<Index> DecodeIndex(std::string_view text) {
  try {
    const auto doc = nlohmann::json::parse(text);
    if (doc.at("version").get<int>() != kIndexVersion) return Status::DataLoss("archive index of another version");
    Index index;
    index.format = doc.at("format").get<std::string>();
    index.archive_size = doc.at("archive_size").get<uint64_t>();
    index.skipped = doc.at("skipped").get<std::vector<std::string>>();
    index.refused = doc.at("refused").get<std::string>();
    for (const auto& j : doc.at("members")) {
      Member m;
      m.path = j.at("path").get<std::vector<std::string>>();
      if (m.path.empty()) return Status::DataLoss("archive index: a member without a path");
      for (const auto& part : m.path) {
        if (!IsSafeName(part)) return Status::DataLoss("archive index: unsafe member name");
      }
      const std::string kind = j.at("kind").get<std::string>();
      m.kind = kind == "dir" ? MemberKind::kDirectory : kind == "link" ? MemberKind::kSymlink : MemberKind::kFile;
      m.ordinal = j.at("ordinal").get<uint32_t>();
      if (m.kind == MemberKind::kFile) m.size = j.at("size").get<uint64_t>();
      if (m.kind == MemberKind::kSymlink) m.link_target = j.at("target").get<std::string>();
      if (j.contains("stored_offset")) m.stored_offset = j.at("stored_offset").get<uint64_t>();
      index.members.push_back(std::move(m));
    }
    return index;
  } catch (const nlohmann::json::exception& e) {
    return Status::DataLoss(std::string("archive index: ") + e.what());
  }
}

bool IsArchiveName(std::string_view name, std::string* stem) {
  static constexpr std::string_view kSuffixes[] = {".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar",
                                                    ".zip",    ".model",    ".mar"};
  for (std::string_view suffix : kSuffixes) {
    if (name.size() <= suffix.size()) continue;
    std::string_view tail = name.substr(name.size() - suffix.size());
    bool same = true;
    for (size_t i = 0; i < suffix.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(tail[i])) == suffix[i];
    }
    if (!same) continue;
    if (stem) *stem = std::string(name.substr(0, name.size() - suffix.size()));
    return true;
  }
  return false;
}

}  // namespace hubfs::archive
