// Deterministic test payloads: bytes that differ for every (size, seed) and at every offset, so
// a block served from the wrong place or a hole of zeros never passes for the right data.
#pragma once

#include <cstdint>
#include <string>

namespace hubfs::test {

inline std::string Bytes(size_t size, uint32_t seed) {
  std::string out(size, '\0');
  uint64_t x = 0x9E3779B97F4A7C15ull ^ seed;  // xorshift64
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<char>(x);
  }
  return out;
}

}  // namespace hubfs::test
