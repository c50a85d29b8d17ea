// LibGit2Repository: the mirror's life cycle (open/create, fetch with TTL, lock and staleness)
// and the reads. The network fetch is in remote_fetch.cc, the tree walk in tree_listing.cc.
#include "hubfs/net/git/git_mirror.h"

#include <fmt/format.h>
#include <git2.h>

#include <ctime>
#include <filesystem>
#include <system_error>
#include <utility>

#include "hubfs/core/logging.h"
#include "net/git/git_errors.h"
#include "net/git/git_handles.h"
#include "net/git/libgit2_runtime.h"
#include "net/git/mirror_files.h"
#include "net/git/remote_fetch.h"
#include "net/git/tree_listing.h"

namespace hubfs::net {

struct LibGit2Repository::ReadHandle {
  git::RepositoryPtr repo;
};

namespace {

using Clock = std::chrono::steady_clock;

// A stamp this far in the future means the clock went back; it no longer counts as fresh.
constexpr int64_t kClockSkewSeconds = 60;

std::string LockPath(const std::string& dir) { return dir + "/hubfs-fetch.lock"; }
std::string StampPath(const std::string& dir) { return dir + "/hubfs-fetched-at"; }
std::string BranchRef(const std::string& branch) { return "refs/heads/" + branch; }

int64_t NowSeconds() { return static_cast<int64_t>(std::time(nullptr)); }

bool IsFresh(int64_t stamp, int64_t now, int64_t max_age_seconds) {
  return max_age_seconds > 0 && stamp > 0 && stamp <= now + kClockSkewSeconds &&
         now - stamp < max_age_seconds;
}

bool IsValidBranch(const std::string& branch) {
  int valid = 0;
  return !branch.empty() && git_reference_name_is_valid(&valid, BranchRef(branch).c_str()) == 0 &&
         valid != 0;
}

std::string OidHex(const git_oid& id) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof(hex), &id);
  return hex;
}

bool HasRepository(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::exists(dir + "/HEAD", ec);
}

// Opens the bare repository in `dir`, creating it when the folder holds none yet. Creation
// happens under the mirror lock, so two processes never initialise the same folder at once;
// opening an existing mirror needs no lock (and so never waits for another process' fetch).
Result<git::RepositoryPtr> OpenOrCreateBare(const std::string& dir, Clock::time_point deadline) {
  git_repository* raw = nullptr;
  if (!HasRepository(dir)) {
    Result<git::MirrorLock> lock = git::MirrorLock::Acquire(LockPath(dir), deadline);
    if (!lock) return lock.error().WithContext("create git mirror");
    if (!HasRepository(dir)) {
      if (int rc = git_repository_init(&raw, dir.c_str(), /*is_bare=*/1); rc < 0) {
        return git::GitStatus(rc, fmt::format("create git mirror {}", dir));
      }
      return git::RepositoryPtr(raw);
    }
  }
  if (int rc = git_repository_open_bare(&raw, dir.c_str()); rc < 0) {
    return git::GitStatus(rc, fmt::format("open git mirror {}", dir));
  }
  return git::RepositoryPtr(raw);
}

// The tree at the tip of `branch`; kNotFound when the mirror has no such branch.
Result<git::TreePtr> BranchTree(git_repository* repo, const std::string& branch) {
  git_reference* raw_ref = nullptr;
  if (int rc = git_reference_lookup(&raw_ref, repo, BranchRef(branch).c_str()); rc < 0) {
    if (rc == GIT_ENOTFOUND) return Status::NotFound(fmt::format("no branch {}", branch));
    return git::GitStatus(rc, fmt::format("branch {}", branch));
  }
  git::ReferencePtr ref(raw_ref);
  git_object* raw_tree = nullptr;
  if (int rc = git_reference_peel(&raw_tree, ref.get(), GIT_OBJECT_TREE); rc < 0) {
    return git::GitStatus(rc, fmt::format("tree of branch {}", branch));
  }
  return git::TreePtr(reinterpret_cast<git_tree*>(raw_tree));  // peeled to GIT_OBJECT_TREE
}

// The folder `prefix` ("a/b", trailing '/' allowed) inside `root`; kNotFound when it is missing
// or not a folder.
Result<git::TreePtr> SubTree(git_repository* repo, const git_tree* root, std::string prefix) {
  git_tree_entry* raw_entry = nullptr;
  if (int rc = git_tree_entry_bypath(&raw_entry, root, prefix.c_str()); rc < 0) {
    if (rc == GIT_ENOTFOUND) return Status::NotFound(fmt::format("no folder {}", prefix));
    return git::GitStatus(rc, fmt::format("folder {}", prefix));
  }
  git::TreeEntryPtr entry(raw_entry);
  if (git_tree_entry_type(entry.get()) != GIT_OBJECT_TREE) {
    return Status::NotFound(fmt::format("{} is not a folder", prefix));
  }
  git_tree* raw_tree = nullptr;
  if (int rc = git_tree_lookup(&raw_tree, repo, git_tree_entry_id(entry.get())); rc < 0) {
    return git::GitStatus(rc, fmt::format("folder {}", prefix));
  }
  return git::TreePtr(raw_tree);
}

}  // namespace

Result<std::unique_ptr<LibGit2Repository>> LibGit2Repository::Open(GitMirrorOptions options) {
  if (options.url.empty()) return Status::InvalidArgument("git mirror: empty url");
  if (options.mirror_dir.empty()) return Status::InvalidArgument("git mirror: empty mirror_dir");
  if (options.branches.empty()) return Status::InvalidArgument("git mirror: no branches");
  for (const std::string& branch : options.branches) {
    if (!IsValidBranch(branch)) {
      return Status::InvalidArgument(fmt::format("git mirror: invalid branch name '{}'", branch));
    }
  }
  if (options.timeout.count() <= 0) return Status::InvalidArgument("git mirror: timeout <= 0");
  HUBFS_RETURN_IF_ERROR(git::EnsureLibGit2());

  std::error_code ec;
  std::filesystem::create_directories(options.mirror_dir, ec);
  if (ec) {
    return Status::IoError(fmt::format("create {}: {}", options.mirror_dir, ec.message()));
  }
  HUBFS_ASSIGN_OR_RETURN(git::RepositoryPtr repo,
                         OpenOrCreateBare(options.mirror_dir, Clock::now() + options.timeout));

  auto reader = std::make_unique<ReadHandle>(ReadHandle{std::move(repo)});
  return std::unique_ptr<LibGit2Repository>(
      new LibGit2Repository(std::move(options), std::move(reader)));
}

LibGit2Repository::LibGit2Repository(GitMirrorOptions options, std::unique_ptr<ReadHandle> reader)
    : options_(std::move(options)), reader_(std::move(reader)) {}

LibGit2Repository::~LibGit2Repository() = default;

Result<GitFetchResult> LibGit2Repository::Fetch(int64_t max_age_seconds) {
  const Clock::time_point asked = Clock::now();
  std::lock_guard fetch_lock(fetch_mutex_);
  // Single flight: an attempt that ended while we waited answers us too.
  if (last_attempt_ && last_attempt_->finished >= asked) return last_attempt_->result;
  return FetchLocked(max_age_seconds);
}

Result<GitFetchResult> LibGit2Repository::FetchLocked(int64_t max_age_seconds) {
  const std::string& dir = options_.mirror_dir;
  const auto has_all_branches = [this] {
    std::lock_guard lock(read_mutex_);
    for (const std::string& branch : options_.branches) {
      git_oid id;
      if (git_reference_name_to_id(&id, reader_->repo.get(), BranchRef(branch).c_str()) != 0) return false;
    }
    return true;
  };
  const int64_t stamp = git::ReadFetchStamp(StampPath(dir));
  // A fresh fetch counts only if it covered every configured branch: a branch added to the
  // configuration since (the mirror is shared by everything with this URL) is fetched now.
  if (IsFresh(stamp, NowSeconds(), max_age_seconds) && has_all_branches()) {
    return GitFetchResult{stamp, false, ""};
  }

  const Clock::time_point deadline = Clock::now() + options_.timeout;
  Result<GitFetchResult> result = [&]() -> Result<GitFetchResult> {
    Result<git::MirrorLock> lock = git::MirrorLock::Acquire(LockPath(dir), deadline);
    if (!lock) return StaleOrError(lock.error().WithContext("git mirror"));
    // Another process may have fetched while we waited for its lock.
    const int64_t after_wait = git::ReadFetchStamp(StampPath(dir));
    if (after_wait != stamp && IsFresh(after_wait, NowSeconds(), max_age_seconds) && has_all_branches()) {
      return GitFetchResult{after_wait, false, ""};
    }
    if (Status fetched = git::FetchBranches(dir, options_.url, options_.branches, deadline);
        !fetched.ok()) {
      return StaleOrError(fetched);
    }
    const int64_t now = NowSeconds();
    if (Status written = git::WriteFetchStamp(StampPath(dir), now); !written.ok()) {
      // The mirror is up to date; only the next Fetch(max_age) will not know it.
      HUBFS_LOG_WARN("git mirror {}: {}", dir, written.ToString());
    }
    return GitFetchResult{now, false, ""};
  }();
  last_attempt_.emplace(FetchAttempt{Clock::now(), result});
  return result;
}

Result<GitFetchResult> LibGit2Repository::StaleOrError(const Status& error) {
  if (!HasAnyBranch()) return error;
  return GitFetchResult{git::ReadFetchStamp(StampPath(options_.mirror_dir)), true,
                        error.ToString()};
}

bool LibGit2Repository::HasAnyBranch() {
  std::lock_guard lock(read_mutex_);
  for (const std::string& branch : options_.branches) {
    git_oid id;
    if (git_reference_name_to_id(&id, reader_->repo.get(), BranchRef(branch).c_str()) == 0) {
      return true;
    }
  }
  return false;
}

Result<std::string> LibGit2Repository::BranchTip(const std::string& branch) {
  if (!IsValidBranch(branch)) {
    return Status::InvalidArgument(fmt::format("invalid branch name '{}'", branch));
  }
  std::lock_guard lock(read_mutex_);
  git_reference* raw_ref = nullptr;
  if (int rc = git_reference_lookup(&raw_ref, reader_->repo.get(), BranchRef(branch).c_str());
      rc < 0) {
    if (rc == GIT_ENOTFOUND) {
      return Status::NotFound(fmt::format("git mirror of {}: no branch {}",
                                          git::RedactUrl(options_.url), branch));
    }
    return git::GitStatus(rc, fmt::format("branch {}", branch));
  }
  git::ReferencePtr ref(raw_ref);
  git_object* raw_commit = nullptr;
  if (int rc = git_reference_peel(&raw_commit, ref.get(), GIT_OBJECT_COMMIT); rc < 0) {
    return git::GitStatus(rc, fmt::format("commit of branch {}", branch));
  }
  git::ObjectPtr commit(raw_commit);
  return OidHex(*git_object_id(commit.get()));
}

Result<std::vector<GitFile>> LibGit2Repository::ListFiles(const std::string& branch,
                                                          const std::string& prefix) {
  if (!IsValidBranch(branch)) {
    return Status::InvalidArgument(fmt::format("invalid branch name '{}'", branch));
  }
  std::string folder = prefix;
  while (!folder.empty() && folder.back() == '/') folder.pop_back();

  const std::string context =
      fmt::format("git mirror of {}, branch {}", git::RedactUrl(options_.url), branch);
  std::lock_guard lock(read_mutex_);
  git_repository* repo = reader_->repo.get();
  Result<git::TreePtr> tree = BranchTree(repo, branch);
  if (!tree) return tree.error().WithContext(context);
  if (!folder.empty()) {
    tree = SubTree(repo, tree->get(), folder);
    if (!tree) return tree.error().WithContext(context);
  }
  std::vector<GitFile> files;
  const git::TreeLimits limits{kMaxTreeDepth, kMaxListedFiles};
  Status listed = git::ListRegularFiles(repo, std::move(*tree),
                                        folder.empty() ? "" : folder + "/", limits, &files);
  if (!listed.ok()) return listed.WithContext(context);
  return files;
}

Result<std::string> LibGit2Repository::ReadBlob(const std::string& blob_id, uint64_t max_bytes) {
  git_oid id;
  if (blob_id.size() != GIT_OID_HEXSZ ||
      git_oid_fromstrn(&id, blob_id.data(), blob_id.size()) != 0) {
    return Status::InvalidArgument(fmt::format("'{}' is not a blob id", blob_id));
  }
  const std::string context = fmt::format("blob {}", blob_id);
  std::lock_guard lock(read_mutex_);
  git_odb* raw_odb = nullptr;
  if (int rc = git_repository_odb(&raw_odb, reader_->repo.get()); rc < 0) {
    return git::GitStatus(rc, context);
  }
  git::OdbPtr odb(raw_odb);
  size_t size = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  if (int rc = git_odb_read_header(&size, &type, odb.get(), &id); rc < 0) {
    return git::GitStatus(rc, context);
  }
  if (type != GIT_OBJECT_BLOB) return Status::NotFound(fmt::format("{}: not a blob", context));
  // Checked before anything is inflated: a hostile repository may hold huge blobs.
  if (size > max_bytes) {
    return Status::ResourceExhausted(
        fmt::format("{}: {} bytes, more than the {} allowed", context, size, max_bytes));
  }
  git_blob* raw_blob = nullptr;
  if (int rc = git_blob_lookup(&raw_blob, reader_->repo.get(), &id); rc < 0) {
    return git::GitStatus(rc, context);
  }
  git::BlobPtr blob(raw_blob);
  const git_object_size_t raw_size = git_blob_rawsize(blob.get());
  if (raw_size > max_bytes) {  // the header lied
    return Status::DataLoss(fmt::format("{}: size differs from its header", context));
  }
  const auto* data = static_cast<const char*>(git_blob_rawcontent(blob.get()));
  return std::string(data, static_cast<size_t>(raw_size));
}

}  // namespace hubfs::net
