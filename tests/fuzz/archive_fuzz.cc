// Fuzz target: archives as hubs serve them (archive/archive.h): listing with the containment
// rules, unpacking every member, and the cached index codec. Any input must give a value or an
// error, never a crash, a hang or a sanitizer report; no member may unpack to more bytes than
// the index declared, and every member path must be made of safe names.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "hubfs/archive/archive.h"
#include "hubfs/core/names.h"

namespace {

class MemorySource : public hubfs::archive::Source {
 public:
  MemorySource(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint64_t size() const override { return size_; }
  hubfs::Result<size_t> ReadAt(uint64_t offset, char* out, size_t length) override {
    if (offset >= size_) return size_t{0};
    const size_t n = std::min<size_t>(length, size_ - offset);
    std::memcpy(out, data_ + offset, n);
    return n;
  }

 private:
  const uint8_t* data_;
  size_t size_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace archive = hubfs::archive;
  (void)archive::DecodeIndex(std::string_view(reinterpret_cast<const char*>(data), size));
  MemorySource source(data, size);
  archive::Limits limits;
  limits.max_total_bytes = 64 << 20;  // keep each run small
  auto index = archive::ReadIndex(source, limits);
  if (!index) return 0;
  for (const archive::Member& m : index->members) {
    for (const auto& part : m.path) {
      if (!hubfs::IsSafeName(part)) __builtin_trap();
    }
    if (m.kind != archive::MemberKind::kFile) continue;
    uint64_t got = 0;
    auto st = archive::ExtractMember(source, m, [&](std::string_view bytes) {
      got += bytes.size();
      return hubfs::Status();
    });
    if (got > m.size) __builtin_trap();
    if (st.ok() && got != m.size) __builtin_trap();
  }
  return 0;
}
