#include "net/git/tree_listing.h"

#include <fmt/format.h>

#include <utility>

#include "hubfs/core/logging.h"
#include "net/git/git_errors.h"

namespace hubfs::net::git {
namespace {

struct Folder {
  TreePtr tree;
  std::string base;  // path of this folder with a trailing '/', or "" for the root
  size_t next = 0;   // index of the next entry to visit
};

std::string OidHex(const git_oid* id) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof(hex), id);
  return hex;
}

}  // namespace

Status ListRegularFiles(git_repository* repo, TreePtr root, const std::string& base,
                        const TreeLimits& limits, std::vector<GitFile>* out) {
  git_odb* raw_odb = nullptr;
  if (int rc = git_repository_odb(&raw_odb, repo); rc < 0) return GitStatus(rc, "open odb");
  OdbPtr odb(raw_odb);

  std::vector<Folder> stack;
  stack.push_back(Folder{std::move(root), base, 0});
  while (!stack.empty()) {
    Folder& folder = stack.back();
    if (folder.next == git_tree_entrycount(folder.tree.get())) {
      stack.pop_back();
      continue;
    }
    const git_tree_entry* entry = git_tree_entry_byindex(folder.tree.get(), folder.next++);
    const std::string path = folder.base + git_tree_entry_name(entry);
    const git_filemode_t mode = git_tree_entry_filemode(entry);
    const git_oid* id = git_tree_entry_id(entry);

    if (mode == GIT_FILEMODE_TREE) {
      if (stack.size() > limits.max_depth) {
        return Status::ResourceExhausted(
            fmt::format("{}: folders nested deeper than {}", path, limits.max_depth));
      }
      git_tree* raw_tree = nullptr;
      if (int rc = git_tree_lookup(&raw_tree, repo, id); rc < 0) {
        return GitStatus(rc, fmt::format("tree {}", path));
      }
      stack.push_back(Folder{TreePtr(raw_tree), path + "/", 0});  // invalidates `folder`
      continue;
    }
    if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) continue;

    size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    if (int rc = git_odb_read_header(&size, &type, odb.get(), id); rc < 0) {
      return GitStatus(rc, fmt::format("blob {}", path));
    }
    if (type != GIT_OBJECT_BLOB) {
      HUBFS_LOG_DEBUG("git tree: skipping {}: a file entry naming a non-blob object", path);
      continue;
    }
    if (out->size() >= limits.max_files) {
      return Status::ResourceExhausted(fmt::format("more than {} files", limits.max_files));
    }
    out->push_back(GitFile{path, OidHex(id), static_cast<uint64_t>(size)});
  }
  return Status::Ok();
}

}  // namespace hubfs::net::git
