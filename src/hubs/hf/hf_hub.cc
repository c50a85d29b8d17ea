#include "hubfs/hubs/hf/hf_hub.h"

#include <algorithm>
#include <ctime>

#include "hubfs/core/logging.h"
#include "hubfs/core/names.h"
#include "hubfs/hubs/model_framework.h"

namespace hubfs::hubs::hf {
namespace {

constexpr char kDatasets[] = "datasets";

std::string FileUrl(const std::string& path) { return "file://" + PercentEncode(path, /*keep_slash=*/true); }

std::string Describe(const RepoRef& repo) {
  std::string text = repo.type == RepoType::kDataset ? "dataset " + repo.id : repo.id;
  if (!repo.revision.empty()) text += "@" + repo.revision;
  return text;
}

bool IsAccessDenied(const Status& s) {
  return s.code() == Code::kUnauthenticated || s.code() == Code::kPermissionDenied;
}

}  // namespace

HfHub::HfHub(HfHubOptions options, DocumentSource& documents, Clock clock)
    : options_(std::move(options)), documents_(documents), local_(options_.local_cache), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return static_cast<int64_t>(std::time(nullptr)); };
  while (!options_.endpoint.empty() && options_.endpoint.back() == '/') options_.endpoint.pop_back();
}

std::vector<std::string> HfHub::FolderOf(const RepoRef& repo) {
  std::vector<std::string> folder;
  if (repo.type == RepoType::kDataset) folder.push_back(kDatasets);
  const size_t slash = repo.id.find('/');
  folder.push_back(repo.id.substr(0, slash));
  folder.push_back(RepoFolderName(repo.id.substr(slash + 1), repo.revision));
  return folder;
}

std::string HfHub::Explain(const RepoRef& repo, const Status& status) const {
  if (!IsAccessDenied(status)) return Describe(repo) + ": " + status.message();
  std::string why = Describe(repo) + ": the server refused access (" + status.message() +
                    "): the repository is private or gated (or does not exist)";
  // The transport (net::AuthorizingClient) may have said what to do about the token already.
  if (status.message().find("token") != std::string::npos) return why;
  return why + "; " +
         (options_.has_token ? "the configured token does not give access to it"
                             : "set a token (token = \"...\" in the hub's configuration, HF_TOKEN, or the token "
                               "file in HF_HOME) to read it");
}

Result<std::string> HfHub::ResolveCommit(const RepoRef& repo, bool refresh, int64_t* fetched_at) {
  const int64_t now = clock_();
  *fetched_at = now;
  if (IsCommitId(repo.revision)) return repo.revision;  // immutable: nothing to ask
  auto local = local_.Resolve(repo);
  if (local && !refresh && now >= local->mtime && now - local->mtime < options_.metadata_ttl) {
    *fetched_at = local->mtime;
    return local->commit;  // the local client asked the server recently enough
  }
  const std::string url = RepoInfoUrl(options_.endpoint, repo);
  auto doc = documents_.Get(url, {.revalidate = refresh});
  if (doc) {
    if (doc->stale) HUBFS_LOG_WARN("hub {}: {}: using the cached revision: {}", options_.name, Describe(repo), doc->stale_reason);
    auto commit = ParseRepoInfoCommit(doc->body);
    if (!commit) return commit.error().WithContext(url);
    *fetched_at = doc->fetched_at;
    return commit;
  }
  // The server cannot be asked and hubfs has no copy: the local cache's ref, however old.
  if (local && !doc.error().IsNotFound() && !IsAccessDenied(doc.error())) {
    HUBFS_LOG_WARN("hub {}: {}: {}; using the revision in the HF cache", options_.name, Describe(repo),
                   doc.error().message());
    *fetched_at = local->mtime;
    return local->commit;
  }
  return doc.error();
}

Result<std::vector<TreeEntry>> HfHub::ListFiles(const RepoRef& repo, const std::string& commit, bool refresh,
                                                const std::optional<HfLocalCache::Snapshot>& snapshot) {
  (void)refresh;  // the tree of a commit never changes: cached pages stay valid
  if (snapshot && snapshot->complete) return snapshot->files;
  std::vector<TreeEntry> files;
  std::set<std::string> visited;
  std::string url = TreeUrl(options_.endpoint, repo, commit);
  const std::string api = options_.endpoint + "/api/";
  Status failure;
  for (size_t page = 0; !url.empty(); ++page) {
    if (page == options_.max_tree_pages || !visited.insert(url).second) {
      failure = Status::DataLoss("the tree listing of " + Describe(repo) + " does not end after " +
                                 std::to_string(page) + " pages");
      break;
    }
    auto doc = documents_.Get(url);
    if (!doc) {
      failure = doc.error();
      break;
    }
    auto parsed = ParseTreePage(doc->body);
    if (!parsed) {
      failure = parsed.error().WithContext(url);
      break;
    }
    for (const auto& why : parsed->skipped) HUBFS_LOG_WARN("hub {}: {}: skipped {}", options_.name, Describe(repo), why);
    for (auto& e : parsed->entries) files.push_back(std::move(e));
    url.clear();
    if (auto next = NextLink(doc->link)) {
      // Pages stay on the endpoint's API: a Link elsewhere would carry the listing (and, for
      // tokens, the credentials' reach) to another host.
      if (next->rfind(api, 0) != 0) {
        failure = Status::DataLoss("the tree listing of " + Describe(repo) + " links to " + *next +
                                   ", outside " + api);
        break;
      }
      url = *next;
    }
  }
  if (failure.ok()) return files;
  if (snapshot && !IsAccessDenied(failure) && !failure.IsNotFound()) {
    HUBFS_LOG_WARN("hub {}: {}: {}; listing only the files the HF cache holds", options_.name, Describe(repo),
                   failure.message());
    return snapshot->files;
  }
  return failure;
}

HfHub::RepoListing HfHub::MakeEntries(const RepoRef& repo, const std::string& commit,
                                      const std::vector<TreeEntry>& files,
                                      const std::optional<HfLocalCache::Snapshot>& snapshot) {
  RepoListing out;
  for (const TreeEntry& file : files) {
    auto path = SplitSafePath(file.path);
    if (!path) {
      HUBFS_LOG_WARN("hub {}: {}: skipped a file with an unusable path", options_.name, Describe(repo));
      continue;
    }
    Entry entry;
    entry.path = std::move(*path);
    if (file.directory) {
      entry.kind = EntryKind::kDirectory;
      out.entries.push_back(std::move(entry));
      continue;
    }
    RemoteObject object;
    object.size = file.size;
    if (file.lfs_sha256) {
      object.sha256 = file.lfs_sha256;
    } else {
      object.git_blob_id = file.blob_id;  // the tree's oid of an LFS file is its pointer's: unused
    }
    // Content the HF cache holds is read from there (and verified like a download).
    std::optional<std::string> local;
    if (snapshot) {
      if (auto it = snapshot->local.find(file.path); it != snapshot->local.end()) local = it->second;
    }
    if (!local && file.lfs_sha256) local = local_.Blob(repo, ToHex(*file.lfs_sha256));
    if (!local && !file.lfs_sha256 && file.blob_id) local = local_.Blob(repo, ToHex(*file.blob_id));
    object.url = local ? FileUrl(*local) : ResolveUrl(options_.endpoint, repo, commit, file.path);
    entry.remote = std::move(object);
    // Model repositories only (datasets hold no models), by file extension.
    if (repo.type == RepoType::kModel) entry.framework = FrameworkOfFileName(entry.path.back());
    out.entries.push_back(std::move(entry));
  }
  return out;
}

Result<HfHub::RepoListing> HfHub::ListRepo(const RepoRef& repo, bool refresh) {
  int64_t fetched_at = 0;
  HUBFS_ASSIGN_OR_RETURN(std::string commit, ResolveCommit(repo, refresh, &fetched_at));
  const auto snapshot = local_.Read(repo, commit);
  HUBFS_ASSIGN_OR_RETURN(auto files, ListFiles(repo, commit, refresh, snapshot));
  RepoListing listing = MakeEntries(repo, commit, files, snapshot);
  listing.mtime = fetched_at;
  return listing;
}

Result<Listing> HfHub::List(const ListOptions& options) {
  std::set<RepoRef> repos(options_.repos.begin(), options_.repos.end());
  std::set<RepoRef> discovered;
  std::set<std::vector<std::string>> namespaces;
  {
    std::lock_guard lock(mu_);
    discovered = discovered_;
    namespaces = namespaces_;
  }
  repos.insert(discovered.begin(), discovered.end());
  Listing listing;
  listing.mtime = 0;
  for (const auto& folder : namespaces) listing.entries.push_back(Entry{folder, EntryKind::kDirectory, {}, ""});
  size_t files = 0;
  for (const RepoRef& repo : repos) {
    const std::vector<std::string> folder = FolderOf(repo);
    listing.entries.push_back(Entry{folder, EntryKind::kDirectory, {}, ""});
    auto listed = ListRepo(repo, options.refresh);
    std::optional<RepoListing> use;
    if (listed) {
      std::lock_guard lock(mu_);
      last_good_[repo] = *listed;
      use = std::move(listed).value();
    } else {
      const std::string why = Explain(repo, listed.error());
      HUBFS_LOG_ERROR("hub {}: cannot list {}", options_.name, why);
      std::lock_guard lock(mu_);
      if (listed.error().IsNotFound() && discovered_.count(repo)) {
        discovered_.erase(repo);  // gone from the server: gone from the mount
        last_good_.erase(repo);
        listing.entries.pop_back();
        continue;
      }
      if (auto it = last_good_.find(repo); it != last_good_.end()) use = it->second;
      if (!use) {
        Entry error;
        error.path = folder;
        error.path.push_back("ERROR.txt");
        error.content = "hubfs could not list " + why + "\n";
        listing.entries.push_back(std::move(error));
        continue;
      }
    }
    listing.mtime = std::max(listing.mtime, use->mtime);
    for (Entry& e : use->entries) {
      std::vector<std::string> path = folder;
      path.insert(path.end(), e.path.begin(), e.path.end());
      e.path = std::move(path);
      if (e.remote) ++files;
      listing.entries.push_back(std::move(e));
    }
  }
  if (listing.mtime == 0) listing.mtime = clock_();
  HUBFS_LOG_INFO("hub {}: {} repositories, {} files", options_.name, repos.size(), files);
  return listing;
}

Result<bool> HfHub::Discover(const std::vector<std::string>& folder, std::string_view name) {
  // /<hub>/<org> and /<hub>/datasets: a namespace folder, shown at once; whether repositories
  // exist in it is asked when they are looked up.
  if (folder.empty()) {
    if (name != kDatasets && !IsValidRepoPart(name)) return false;
    std::lock_guard lock(mu_);
    if (namespaces_.size() >= options_.max_discovered) return false;
    namespaces_.insert({std::string(name)});
    return true;
  }
  if (folder.size() == 1 && folder[0] == kDatasets) {
    if (!IsValidRepoPart(name)) return false;
    std::lock_guard lock(mu_);
    if (namespaces_.size() >= options_.max_discovered) return false;
    namespaces_.insert({kDatasets, std::string(name)});
    return true;
  }
  const bool dataset = folder.size() == 2 && folder[0] == kDatasets;
  if (!dataset && (folder.size() != 1 || folder[0] == kDatasets)) return false;  // inside a repo: no more to learn
  const std::string& org = folder.back();
  auto parsed = ParseRepoFolder(name);
  if (!IsValidRepoPart(org) || !parsed) return false;
  RepoRef repo;
  repo.type = dataset ? RepoType::kDataset : RepoType::kModel;
  repo.id = org + "/" + parsed->name;
  repo.revision = parsed->revision;
  const int64_t now = clock_();
  {
    std::lock_guard lock(mu_);
    if (auto it = missing_.find(repo); it != missing_.end()) {
      if (now >= it->second.at && now - it->second.at < options_.negative_ttl) {
        if (it->second.why.IsNotFound()) return false;
        return it->second.why;
      }
      missing_.erase(it);
    }
    if (discovered_.size() >= options_.max_discovered) {
      return Status::Unavailable("hub " + options_.name + " already shows " +
                                       std::to_string(discovered_.size()) +
                                       " repositories that were looked up; add this one to its repos, or remount");
    }
  }
  auto listed = ListRepo(repo, /*refresh=*/false);  // network I/O: no lock held
  std::lock_guard lock(mu_);
  if (!listed) {
    // Misses and refusals are remembered: the kernel does not cache an EACCES, and tools probe
    // the same names again and again.
    if (missing_.size() > 4096) missing_.clear();  // bounded
    if (listed.error().IsNotFound()) {
      missing_[repo] = Miss{now, listed.error()};
      return false;
    }
    const Status why(listed.error().code(), Explain(repo, listed.error()));
    HUBFS_LOG_ERROR("hub {}: {}", options_.name, why.message());
    if (IsAccessDenied(listed.error())) missing_[repo] = Miss{now, why};
    return why;
  }
  discovered_.insert(repo);
  namespaces_.insert(std::vector<std::string>(folder.begin(), folder.end()));
  last_good_[repo] = std::move(listed).value();
  return true;
}

}  // namespace hubfs::hubs::hf
