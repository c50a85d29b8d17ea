#include "record_codec.h"

#include <cstring>

namespace hubfs::cache {
namespace {

constexpr char kBlobTag = 'B';
constexpr char kDocTag = 'D';

class Writer {
 public:
  explicit Writer(char tag) { out_.push_back(tag); }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
  }
  void Str(std::string_view s) {
    U64(s.size());
    out_.append(s);
  }
  void Raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(std::string_view in, char tag) : in_(in) {
    ok_ = !in_.empty() && in_[0] == tag;
    pos_ = 1;
  }
  uint64_t U64() {
    if (!Need(8)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(static_cast<unsigned char>(in_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return v;
  }
  std::string Str() {
    uint64_t n = U64();
    if (!Need(n)) return {};
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  void Raw(void* p, size_t n) {
    if (!Need(n)) return;
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  bool ok() const { return ok_ && pos_ == in_.size(); }
  bool AtEnd() const { return !ok_ || pos_ == in_.size(); }

 private:
  bool Need(uint64_t n) {
    if (!ok_ || n > in_.size() - pos_) ok_ = false;
    return ok_;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = false;
};

}  // namespace

// Blob record flags.
constexpr uint64_t kHasSha = 1;
constexpr uint64_t kPublished = 2;
constexpr uint64_t kPinned = 4;

std::string EncodeBlobRecord(const BlobRecord& r) {
  Writer w(kBlobTag);
  w.U64(r.size);
  w.U64((r.sha256 ? kHasSha : 0) | (r.published ? kPublished : 0) | (r.pinned ? kPinned : 0));
  Digest sha = r.sha256.value_or(Digest{});
  w.Raw(sha.data(), sha.size());
  w.U64(static_cast<uint64_t>(r.state));
  w.U64(r.cached_bytes);
  w.Str(r.source_url);
  w.U64(static_cast<uint64_t>(r.created));
  w.U64(static_cast<uint64_t>(r.last_access));
  w.Str(r.note);
  return w.Take();
}

Result<BlobRecord> DecodeBlobRecord(std::string_view bytes) {
  Reader rd(bytes, kBlobTag);
  BlobRecord r;
  r.size = rd.U64();
  const uint64_t flags = rd.U64();
  Digest sha{};
  rd.Raw(sha.data(), sha.size());
  if (flags & kHasSha) r.sha256 = sha;
  r.published = (flags & kPublished) != 0;
  r.pinned = (flags & kPinned) != 0;
  const uint64_t state = rd.U64();
  if (state > static_cast<uint64_t>(BlobState::kPoisoned)) return Status::DataLoss("bad blob state");
  r.state = static_cast<BlobState>(state);
  r.cached_bytes = rd.U64();
  r.source_url = rd.Str();
  r.created = static_cast<int64_t>(rd.U64());
  r.last_access = static_cast<int64_t>(rd.U64());
  r.note = rd.Str();
  if (!rd.ok()) return Status::DataLoss("malformed blob record");
  return r;
}

std::string EncodeBlockRecord(const BlockInfo& b) {
  std::string out(1 + b.digest.size(), '\0');
  out[0] = b.present ? 1 : 0;
  std::memcpy(out.data() + 1, b.digest.data(), b.digest.size());
  return out;
}

Result<BlockInfo> DecodeBlockRecord(std::string_view bytes) {
  BlockInfo b;
  if (bytes.size() != 1 + b.digest.size() || (static_cast<uint8_t>(bytes[0]) & ~1u) != 0) {
    return Status::DataLoss("malformed block record");
  }
  b.digest_known = true;
  b.present = bytes[0] == 1;
  std::memcpy(b.digest.data(), bytes.data() + 1, b.digest.size());
  return b;
}

std::string EncodeDocRecord(const DocRecord& r) {
  Writer w(kDocTag);
  w.Str(r.body);
  w.U64(static_cast<uint64_t>(r.fetched_at));
  w.Str(r.etag);
  w.Str(r.last_modified);
  if (!r.link.empty()) w.Str(r.link);  // optional trailing field: records without it stay readable
  return w.Take();
}

Result<DocRecord> DecodeDocRecord(std::string_view bytes) {
  Reader rd(bytes, kDocTag);
  DocRecord r;
  r.body = rd.Str();
  r.fetched_at = static_cast<int64_t>(rd.U64());
  r.etag = rd.Str();
  r.last_modified = rd.Str();
  if (!rd.AtEnd()) r.link = rd.Str();
  if (!rd.ok()) return Status::DataLoss("malformed document record");
  return r;
}

}  // namespace hubfs::cache
