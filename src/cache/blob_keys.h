// Index keys derived from blob keys. Private to src/cache/.
//
//   blob key   "sha256:<64 hex>" or "url:<64 hex>" (cache.h)
//   blob id    33 bytes: the kind's first letter and the 32 bytes of the hex
//   block key  blob id + the block index as 8 big-endian bytes, so a cursor walks a blob's
//              blocks in order and a prefix scan finds them all
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "hubfs/core/sha256.h"

namespace hubfs::cache {

// Access times order eviction; seconds would tie every file read within the same second.
inline int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

inline std::string BlobIdOf(std::string_view key) {
  std::string id(1, key.empty() ? '?' : key[0]);
  size_t colon = key.find(':');
  auto digest = colon == std::string_view::npos ? std::nullopt : DigestFromHex(key.substr(colon + 1));
  // Keys are made by BlobKeyFor*; anything else still gets a unique, fixed-width id.
  Digest d = digest ? *digest : Sha256::Of(key);
  id.append(reinterpret_cast<const char*>(d.data()), d.size());
  return id;
}

inline std::string BlockKey(const std::string& id, uint64_t index) {
  std::string key = id;
  for (int i = 7; i >= 0; --i) key.push_back(static_cast<char>(index >> (8 * i)));
  return key;
}

inline uint64_t BlockIndexOf(std::string_view block_key) {
  uint64_t index = 0;
  if (block_key.size() < 8) return 0;
  for (char c : block_key.substr(block_key.size() - 8)) index = index << 8 | static_cast<uint8_t>(c);
  return index;
}

}  // namespace hubfs::cache
