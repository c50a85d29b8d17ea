// Filesystem's accessors for `hubfs status` (declared in filesystem.h): snapshots of the hubs
// and the recent errors, taken without waiting for a refresh. OpenFiles is in filesystem.cc,
// beside the OpenFile it reads.
#include "hubfs/fs/filesystem.h"

namespace hubfs::fs {
namespace {

// Counts the nodes below `dir` (not `dir` itself) into *entries, and those with remote content
// into *files.
void CountBelow(const Tree& tree, const Node& dir, uint64_t* entries, uint64_t* files) {
  std::vector<const Node*> pending{&dir};
  while (!pending.empty()) {
    const Node* node = pending.back();
    pending.pop_back();
    for (NodeId id : node->children) {
      const Node* child = tree.Get(id);
      if (!child) continue;
      ++*entries;
      if (child->remote) ++*files;
      if (child->kind == hubs::EntryKind::kDirectory) pending.push_back(child);
    }
  }
}

}  // namespace

std::vector<HubStatus> Filesystem::HubStatuses() const {
  std::shared_ptr<const Tree> tree;
  std::vector<HubStatus> result;
  {
    std::lock_guard lock(mu_);
    tree = tree_.load();
    result = hub_status_;
  }
  result.resize(hubs_.size());
  for (size_t i = 0; i < hubs_.size(); ++i) {
    HubStatus& status = result[i];
    status.name = hubs_[i]->name();
    if (const Node* dir = tree->Child(kRootId, status.name)) CountBelow(*tree, *dir, &status.entries, &status.files);
  }
  return result;
}

std::vector<RecordedError> Filesystem::RecentErrors(size_t n, uint64_t* total) const {
  std::lock_guard lock(errors_mu_);
  if (total) {
    *total = 0;
    for (const auto& [kind, count] : errors_by_kind_) *total += count;
  }
  const size_t first = errors_.size() > n ? errors_.size() - n : 0;
  return std::vector<RecordedError>(errors_.begin() + static_cast<std::ptrdiff_t>(first), errors_.end());
}

}  // namespace hubfs::fs
