#include "hubfs/fs/inode_numbers.h"

namespace hubfs::fs {

NodeId InodeNumbers::For(NodeId parent, std::string_view name, std::string_view identity) {
  // Names cannot hold '/' or NUL (IsSafeName), so these separators make the key unambiguous.
  std::string key = std::to_string(parent);
  key.push_back('/');
  key.append(name);
  key.push_back('\0');
  key.append(identity);
  std::lock_guard lock(mu_);
  auto [it, added] = numbers_.try_emplace(std::move(key), next_);
  if (added) ++next_;
  return it->second;
}

size_t InodeNumbers::size() const {
  std::lock_guard lock(mu_);
  return numbers_.size();
}

}  // namespace hubfs::fs
