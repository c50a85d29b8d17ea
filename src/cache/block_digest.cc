// Block digests: XXH3-128 (Debian's libxxhash), see cache.h for why not sha256.
#include <xxhash.h>

#include <cstring>

#include "hubfs/cache/cache.h"

namespace hubfs::cache {

namespace {
BlockDigest ToDigest(XXH128_hash_t h) {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, h);
  BlockDigest d;
  static_assert(sizeof(canonical.digest) == sizeof(BlockDigest));
  std::memcpy(d.data(), canonical.digest, d.size());
  return d;
}
}  // namespace

BlockDigest DigestBlock(std::string_view data) { return ToDigest(XXH3_128bits(data.data(), data.size())); }

struct BlockHasher::State {
  XXH3_state_t* s = XXH3_createState();
  ~State() { XXH3_freeState(s); }
};

BlockHasher::BlockHasher() : state_(std::make_unique<State>()) { XXH3_128bits_reset(state_->s); }
BlockHasher::~BlockHasher() = default;

void BlockHasher::Update(std::string_view data) { XXH3_128bits_update(state_->s, data.data(), data.size()); }

BlockDigest BlockHasher::Finish() { return ToDigest(XXH3_128bits_digest(state_->s)); }

}  // namespace hubfs::cache
