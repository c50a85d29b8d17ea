// FakeGitRepository: a GitRepository over in-memory branches, for hub adapter tests.
// Each branch maps repository paths to file contents; blob ids are "<branch>:<path>". Fetch
// answers with `fetch_result` (or `fetch_error`) and records every max_age it was asked with.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hubfs/net/git/git_repository.h"

namespace hubfs::test {

class FakeGitRepository final : public net::GitRepository {
 public:
  Result<net::GitFetchResult> Fetch(int64_t max_age_seconds) override {
    fetch_ages.push_back(max_age_seconds);
    if (fetch_error) return *fetch_error;
    return fetch_result;
  }

  Result<std::string> BranchTip(const std::string& branch) override {
    if (branches.count(branch) == 0) return Status::NotFound("no branch " + branch);
    return std::string(40, '0');
  }

  Result<std::vector<net::GitFile>> ListFiles(const std::string& branch,
                                              const std::string& prefix) override {
    auto it = branches.find(branch);
    if (it == branches.end()) return Status::NotFound("no branch " + branch);
    std::vector<net::GitFile> files;
    for (const auto& [path, content] : it->second) {  // std::map: sorted, like a git tree walk
      if (!prefix.empty() && path.rfind(prefix + "/", 0) != 0) continue;
      files.push_back({path, branch + ":" + path, content.size()});
    }
    return files;
  }

  Result<std::string> ReadBlob(const std::string& blob_id, uint64_t max_bytes) override {
    blobs_read.push_back(blob_id);
    const size_t colon = blob_id.find(':');
    auto branch = branches.find(blob_id.substr(0, colon));
    if (colon == std::string::npos || branch == branches.end()) return Status::NotFound("no blob " + blob_id);
    auto file = branch->second.find(blob_id.substr(colon + 1));
    if (file == branch->second.end()) return Status::NotFound("no blob " + blob_id);
    if (file->second.size() > max_bytes) return Status::ResourceExhausted("blob too large");
    return file->second;
  }

  std::map<std::string, std::map<std::string, std::string>> branches;  // branch -> path -> content
  net::GitFetchResult fetch_result{1700000000, false, ""};
  std::optional<Status> fetch_error;
  std::vector<int64_t> fetch_ages;
  std::vector<std::string> blobs_read;
};

}  // namespace hubfs::test
