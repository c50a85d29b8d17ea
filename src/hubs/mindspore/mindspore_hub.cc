#include "hubfs/hubs/mindspore/mindspore_hub.h"

#include <set>
#include <utility>

#include "hubfs/core/logging.h"
#include "hubfs/hubs/mindspore/mindspore_layout.h"
#include "hubfs/hubs/mindspore/mindspore_markdown.h"

namespace hubfs::hubs::mindspore {
namespace {

using FolderKey = std::pair<std::string, std::string>;  // (version folder, model)

// Repository paths are untrusted: keep log lines printable and short.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 300)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

std::string LineSuffix(int line) { return line > 0 ? ":" + std::to_string(line) : ""; }

}  // namespace

MindSporeHub::MindSporeHub(MindSporeHubOptions options, net::GitRepository& repository)
    : options_(std::move(options)), repository_(repository) {}

Result<Listing> MindSporeHub::List(const ListOptions& options) {
  auto fetch = repository_.Fetch(options.refresh ? 0 : options_.metadata_ttl);
  if (!fetch) return fetch.error().WithContext("hub " + options_.name + ": git fetch " + options_.git_url);
  if (fetch->stale) {
    if (!stale_logged_) {
      HUBFS_LOG_WARN("hub {}: {} could not be fetched, listing the mirror of {}: {}", options_.name,
                     options_.git_url, fetch->fetched_at, fetch->stale_reason);
    }
    stale_logged_ = true;
  } else {
    stale_logged_ = false;
  }

  std::vector<ModelFile> files;
  std::set<FolderKey> provided;  // folders an earlier branch already provides
  size_t branches_listed = 0;
  size_t other_publishers = 0;
  Status last_error;
  for (const std::string& branch : options_.branches) {
    auto listed = repository_.ListFiles(branch, kAssetsRoot);
    if (!listed) {
      HUBFS_LOG_WARN("hub {}: branch {} not listed: {}", options_.name, branch, listed.error().ToString());
      last_error = listed.error().WithContext("branch " + branch);
      continue;
    }
    ++branches_listed;
    std::set<FolderKey> this_branch;
    for (const net::GitFile& git_file : *listed) {
      auto path = ParseAssetPath(git_file.path);
      if (!path) {
        HUBFS_LOG_WARN("hub {}: {}: skipped: {}", options_.name, branch, path.error().message());
        continue;
      }
      if (!path->has_value()) continue;
      AssetPath& asset_path = **path;
      if (asset_path.publisher != kShownPublisher) {
        ++other_publishers;
        continue;
      }
      const FolderKey key{asset_path.VersionFolder(), asset_path.model};
      if (provided.count(key) > 0) continue;
      const std::string where = branch + ":" + Printable(git_file.path);
      if (git_file.size > kMaxMarkdownBytes) {
        HUBFS_LOG_WARN("hub {}: skipped {}: larger than {} bytes", options_.name, where, kMaxMarkdownBytes);
        continue;
      }
      auto text = repository_.ReadBlob(git_file.blob_id, kMaxMarkdownBytes);
      if (!text) {
        HUBFS_LOG_WARN("hub {}: skipped {}: {}", options_.name, where, text.error().ToString());
        continue;
      }
      ModelFile file{std::move(asset_path), branch, std::move(text).value(), {}};
      if (!file.path.chinese) {
        int error_line = 0;
        auto markdown = ParseAssetMarkdown(file.text, &error_line);
        if (!markdown) {
          HUBFS_LOG_WARN("hub {}: skipped {}{}: unparsable: {}", options_.name, where,
                         LineSuffix(error_line), markdown.error().message());
          continue;
        }
        if (!markdown->asset_is_list) {
          HUBFS_LOG_WARN("hub {}: skipped {}{}: asset is not a list", options_.name, where,
                         LineSuffix(markdown->Find("asset")->line));
          continue;
        }
        file.markdown = std::move(markdown).value();
        this_branch.insert(key);
      }
      files.push_back(std::move(file));
    }
    provided.insert(this_branch.begin(), this_branch.end());
  }
  if (branches_listed == 0) {
    if (last_error.ok()) return Status::InvalidArgument("hub " + options_.name + ": no branches configured");
    return last_error.WithContext("hub " + options_.name);
  }

  LayoutResult layout = BuildLayout(files);
  for (const std::string& line : layout.warnings) HUBFS_LOG_WARN("hub {}: {}", options_.name, line);
  if (other_publishers > 0) {
    HUBFS_LOG_INFO("hub {}: {} asset files of publishers other than {} not shown", options_.name,
                   other_publishers, kShownPublisher);
  }
  HUBFS_LOG_INFO("hub {}: {} asset files from {} branches, {} entries", options_.name, files.size(),
                 branches_listed, layout.entries.size());
  Listing listing;
  listing.entries = std::move(layout.entries);
  listing.mtime = fetch->fetched_at;
  return listing;
}

}  // namespace hubfs::hubs::mindspore
