// SHA-256: incremental hashing (OpenSSL EVP behind it) and hex digests.
//
// Thread-safety: one Sha256 object per hashing operation; never share one across threads.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace hubfs {

using Digest = std::array<uint8_t, 32>;

std::string ToHex(const Digest& digest);
// Accepts exactly 64 hex digits (either case); nullopt otherwise.
std::optional<Digest> DigestFromHex(std::string_view hex);

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  // Returns the digest; the object must not be used afterwards.
  Digest Finish();

  static Digest Of(std::string_view data);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace hubfs
