// InodeNumbers: the inode number of every entry a mount has ever shown, so that a refreshed tree
// gives an unchanged entry its old number and a changed one a new number.
//
// The kernel keeps inodes (and, with keep_cache, their pages) by number across a refresh. An
// entry keeps its number only while its parent, name and identity stay the same; the identity
// says what the entry is (its kind, and for files where the bytes come from), so a file whose
// content changed gets a new number and the kernel can never serve the old pages for it. A
// number is never reused for something else.
//
// Thread-safety: For may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace hubfs::fs {

using NodeId = uint64_t;
inline constexpr NodeId kRootId = 1;

class InodeNumbers {
 public:
  // The number of the entry `name` in folder `parent` with `identity`; a new one the first time.
  NodeId For(NodeId parent, std::string_view name, std::string_view identity);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, NodeId> numbers_;  // guarded by mu_
  NodeId next_ = kRootId + 1;                        // guarded by mu_
};

}  // namespace hubfs::fs
