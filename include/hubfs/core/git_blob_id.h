// Git blob ids: sha1("blob " + decimal size + "\0" + content), the id git (and the Hugging Face
// Hub, for files not stored with LFS) gives a file's content. SHA-1 is used here only because the
// hub publishes nothing else for such files; sha256 is still pinned on first use.
//
// Thread-safety: one GitBlobHasher per hashing operation.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace hubfs {

using GitBlobId = std::array<uint8_t, 20>;

std::string ToHex(const GitBlobId& id);
// Accepts exactly 40 hex digits (either case); nullopt otherwise.
std::optional<GitBlobId> GitBlobIdFromHex(std::string_view hex);

class GitBlobHasher {
 public:
  // `size`: the content's total size, which git hashes before the content.
  explicit GitBlobHasher(uint64_t size);
  ~GitBlobHasher();
  GitBlobHasher(const GitBlobHasher&) = delete;
  GitBlobHasher& operator=(const GitBlobHasher&) = delete;

  void Update(std::string_view data);
  // The id; the object must not be used afterwards.
  GitBlobId Finish();

  static GitBlobId Of(std::string_view content);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace hubfs
