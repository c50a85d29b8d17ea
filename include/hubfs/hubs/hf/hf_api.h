// The Hugging Face Hub's HTTP API as hubfs reads it (docs/hubs/huggingface.md): repo ids and
// revisions, the tree listing, repo info, the Link pagination header, and the URL templates.
// Pure functions over untrusted text; nothing here does I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hubfs/core/git_blob_id.h"
#include "hubfs/core/result.h"
#include "hubfs/core/sha256.h"

namespace hubfs::hubs::hf {

enum class RepoType { kModel, kDataset };

// A repository and, optionally, the revision the folder pins.
struct RepoRef {
  RepoType type = RepoType::kModel;
  std::string id;        // "org/name"
  std::string revision;  // "" = the default branch
  // "models/org/name" or "datasets/org/name": the API path segment.
  std::string ApiPath() const;
  // "" for models, "datasets/" for datasets: the prefix of file URLs.
  std::string FilePrefix() const;
  bool operator<(const RepoRef& o) const;
  bool operator==(const RepoRef& o) const;
};

// A namespace (user or organisation) or repo name as the Hub accepts it: [A-Za-z0-9_.-]{1,96},
// no "--" or "..", not starting or ending with '-' or '.'.
bool IsValidRepoPart(std::string_view part);
// A full 40-hex commit id.
bool IsCommitId(std::string_view revision);

// A repo folder name below /<hub>/<org>/: "name" or "name@rev", where rev may be
// percent-encoded ("name@refs%2Fpr%2F1"). nullopt when the name or the revision is not valid.
struct RepoFolder {
  std::string name;
  std::string revision;  // decoded; "" when none
};
std::optional<RepoFolder> ParseRepoFolder(std::string_view folder);
// The folder name for a repo at `revision` ("" = default branch): the inverse of ParseRepoFolder.
std::string RepoFolderName(std::string_view name, std::string_view revision);

// Parses "org/name", "datasets/org/name" or "models/org/name" (configured repos), with an
// optional "@rev" suffix.
Result<RepoRef> ParseRepoSpec(std::string_view spec);

// Percent-encodes everything but unreserved characters (RFC 3986), as the Python client quotes
// revisions (safe=""); with `keep_slash`, '/' stays (file paths).
std::string PercentEncode(std::string_view text, bool keep_slash);

// One entry of a tree listing.
struct TreeEntry {
  bool directory = false;
  std::string path;                 // repo-relative, '/'-separated (unchecked: the caller splits it)
  uint64_t size = 0;                // files: the real size (LFS: the object's size)
  std::optional<GitBlobId> blob_id; // files: the git blob sha1 (oid)
  std::optional<Digest> lfs_sha256; // LFS files: lfs.oid
};

struct TreePage {
  std::vector<TreeEntry> entries;
  std::vector<std::string> skipped;  // entries that could not be used, and why
};
// Parses one page of GET /api/{type}s/{repo}/tree/{rev}?recursive=true: a JSON array.
Result<TreePage> ParseTreePage(std::string_view json);

// Parses GET /api/{type}s/{repo}[/revision/{rev}]: the commit the revision resolves to ("sha").
Result<std::string> ParseRepoInfoCommit(std::string_view json);

// The URL of rel="next" in a Link header (RFC 8288), nullopt when there is none.
std::optional<std::string> NextLink(std::string_view link_header);

// An ETag without a leading W/ and surrounding quotes, as the Hub's clients compare them.
std::string NormalizeEtag(std::string_view etag);

// URL templates, `endpoint` without a trailing '/'.
std::string RepoInfoUrl(std::string_view endpoint, const RepoRef& repo);
std::string TreeUrl(std::string_view endpoint, const RepoRef& repo, std::string_view commit);
std::string ResolveUrl(std::string_view endpoint, const RepoRef& repo, std::string_view commit,
                       std::string_view path);

}  // namespace hubfs::hubs::hf
