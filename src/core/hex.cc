#include "hubfs/core/git_blob_id.h"
#include "hubfs/core/sha256.h"

namespace hubfs {
namespace {

template <size_t N>
std::string BytesToHex(const std::array<uint8_t, N>& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(N * 2, '0');
  for (size_t i = 0; i < N; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <size_t N>
std::optional<std::array<uint8_t, N>> BytesFromHex(std::string_view hex) {
  std::array<uint8_t, N> out{};
  if (hex.size() != N * 2) return std::nullopt;
  for (size_t i = 0; i < N; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

}  // namespace

std::string ToHex(const Digest& digest) { return BytesToHex(digest); }
std::optional<Digest> DigestFromHex(std::string_view hex) { return BytesFromHex<32>(hex); }
std::string ToHex(const GitBlobId& id) { return BytesToHex(id); }
std::optional<GitBlobId> GitBlobIdFromHex(std::string_view hex) { return BytesFromHex<20>(hex); }

}  // namespace hubfs
