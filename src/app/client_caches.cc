#include "client_caches.h"

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <set>
#include <system_error>

namespace hubfs::app {
namespace stdfs = std::filesystem;

std::optional<Digest> ClaimedSha256(std::string_view file_name) {
  constexpr size_t kHex = 64;
  if (file_name.size() < kHex) return std::nullopt;
  if (file_name.size() > kHex && (file_name[kHex] != '_' || file_name.size() == kHex + 1)) return std::nullopt;
  return DigestFromHex(file_name.substr(0, kHex));
}

std::string UrlBaseName(std::string_view url) {
  const size_t end = url.find_first_of("?#");
  if (end != std::string_view::npos) url = url.substr(0, end);
  const size_t slash = url.rfind('/');
  return std::string(slash == std::string_view::npos ? url : url.substr(slash + 1));
}

namespace {

void ScanOne(const std::string& root, const ScanLimits& limits, ScanResult* result) {
  std::error_code ec;
  if (!stdfs::is_directory(root, ec)) return;  // not there: this client was never used
  ++result->folders;
  stdfs::recursive_directory_iterator it(root, stdfs::directory_options::skip_permission_denied, ec);
  if (ec) {
    result->problems.push_back(root + ": " + ec.message());
    return;
  }
  for (; it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      result->problems.push_back(root + ": " + ec.message());
      return;
    }
    const stdfs::directory_entry& entry = *it;
    std::error_code status_ec;
    const stdfs::file_status status = entry.symlink_status(status_ec);
    if (status_ec) continue;
    if (stdfs::is_directory(status)) {
      if (it.depth() + 1 >= limits.max_depth) it.disable_recursion_pending();
      continue;
    }
    if (!stdfs::is_regular_file(status)) continue;  // symlinks (HF snapshots), FIFOs, ...
    if (result->files.size() >= limits.max_files) {
      result->truncated = true;
      return;
    }
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0) continue;
    ClientCacheFile file;
    file.path = entry.path().string();
    file.name = entry.path().filename().string();
    file.size = static_cast<uint64_t>(st.st_size);
    file.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    file.claimed_sha256 = ClaimedSha256(file.name);
    result->files.push_back(std::move(file));
  }
}

}  // namespace

ScanResult ScanClientCaches(const std::vector<std::string>& dirs, const ScanLimits& limits) {
  ScanResult result;
  for (const std::string& dir : dirs) {
    if (result.truncated) break;
    ScanOne(dir, limits, &result);
  }
  return result;
}

std::vector<ImportCandidate> MatchClientCacheFiles(const std::vector<hubs::RemoteObject>& wanted,
                                                   const std::vector<ClientCacheFile>& files) {
  std::multimap<Digest, const ClientCacheFile*> by_sha;
  std::multimap<std::string, const ClientCacheFile*> by_name;
  for (const ClientCacheFile& file : files) {
    if (file.claimed_sha256) by_sha.emplace(*file.claimed_sha256, &file);
    by_name.emplace(file.name, &file);
  }
  auto size_fits = [](const hubs::RemoteObject& object, const ClientCacheFile& file) {
    return !object.size || *object.size == file.size;
  };
  std::vector<ImportCandidate> out;
  std::set<Digest> seen;
  for (const hubs::RemoteObject& object : wanted) {
    if (!object.sha256 || !seen.insert(*object.sha256).second) continue;
    ImportCandidate candidate{object, {}};
    auto [first, last] = by_sha.equal_range(*object.sha256);
    for (auto it = first; it != last; ++it) {
      if (size_fits(object, *it->second)) candidate.files.push_back(it->second);
    }
    const std::string name = UrlBaseName(object.url);
    auto [from, to] = name.empty() ? std::pair(by_name.end(), by_name.end()) : by_name.equal_range(name);
    // Names like "model.ckpt" may be common: hash a few, not every one of them.
    constexpr size_t kMaxByName = 4;
    size_t by_name_taken = 0;
    for (auto it = from; it != to && by_name_taken < kMaxByName; ++it) {
      const ClientCacheFile& file = *it->second;
      // A name that claims another sha256 is not this content; one claiming this is listed already.
      if (file.claimed_sha256 || !size_fits(object, file)) continue;
      candidate.files.push_back(&file);
      ++by_name_taken;
    }
    if (!candidate.files.empty()) out.push_back(std::move(candidate));
  }
  return out;
}

}  // namespace hubfs::app
