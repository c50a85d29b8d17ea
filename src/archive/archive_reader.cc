// ReadIndex and ExtractMember over libarchive, reading through an archive::Source.
#include <archive.h>
#include <archive_entry.h>

#include <cstring>
#include <map>
#include <memory>

#include "hubfs/archive/archive.h"
#include "raw_entry.h"

namespace hubfs::archive {
namespace {

// libarchive pulls bytes through callbacks; this is their state. A failure of the Source is kept
// here, so the caller reports it rather than libarchive's generic "read error".
struct SourceCursor {
  Source* source = nullptr;
  uint64_t position = 0;
  std::vector<char> buffer = std::vector<char>(size_t{1} << 20);
  Status error;
};

la_ssize_t ReadCallback(struct archive* a, void* data, const void** out) {
  auto* c = static_cast<SourceCursor*>(data);
  auto n = c->source->ReadAt(c->position, c->buffer.data(), c->buffer.size());
  if (!n) {
    c->error = n.error();
    archive_set_error(a, EIO, "%s", n.error().message().c_str());
    return -1;
  }
  c->position += *n;
  *out = c->buffer.data();
  return static_cast<la_ssize_t>(*n);
}

la_int64_t SeekCallback(struct archive*, void* data, la_int64_t offset, int whence) {
  auto* c = static_cast<SourceCursor*>(data);
  int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? static_cast<int64_t>(c->position)
                                                             : static_cast<int64_t>(c->source->size());
  int64_t to = base + offset;
  if (to < 0) return ARCHIVE_FATAL;
  c->position = static_cast<uint64_t>(to);
  return to;
}

la_int64_t SkipCallback(struct archive*, void* data, la_int64_t request) {
  auto* c = static_cast<SourceCursor*>(data);
  const uint64_t left = c->source->size() > c->position ? c->source->size() - c->position : 0;
  const uint64_t skip = std::min<uint64_t>(static_cast<uint64_t>(std::max<la_int64_t>(request, 0)), left);
  c->position += skip;
  return static_cast<la_int64_t>(skip);
}

// One libarchive read handle, opened on a Source.
class Reader {
 public:
  // `streaming`: zip read front to back by its local headers (to locate them), not through its
  // central directory (which is what unzip trusts, and what indexes and extracts).
  explicit Reader(Source& source, bool streaming = false) : handle_(archive_read_new()), streaming_(streaming) {
    cursor_.source = &source;
  }
  ~Reader() {
    if (handle_) archive_read_free(handle_);
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  Status Open() {
    if (!handle_) return Status::ResourceExhausted("libarchive: out of memory");
    // Only the formats hubfs shows folders for: less parser surface for untrusted input.
    if (streaming_) {
      archive_read_support_format_zip_streamable(handle_);
    } else {
      archive_read_support_format_zip_seekable(handle_);
      archive_read_support_format_tar(handle_);
    }
    archive_read_support_filter_gzip(handle_);
    archive_read_support_filter_bzip2(handle_);
    archive_read_support_filter_xz(handle_);
    archive_read_set_read_callback(handle_, ReadCallback);
    archive_read_set_seek_callback(handle_, SeekCallback);
    archive_read_set_skip_callback(handle_, SkipCallback);
    archive_read_set_callback_data(handle_, &cursor_);
    if (archive_read_open1(handle_) != ARCHIVE_OK) return Failure("cannot open the archive");
    return Status();
  }

  // The next entry; nullptr at the end.
  Result<archive_entry*> Next() {
    archive_entry* entry = nullptr;
    const int rc = archive_read_next_header(handle_, &entry);
    if (rc == ARCHIVE_EOF) return static_cast<archive_entry*>(nullptr);
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return Failure("cannot read the next member");
    return entry;
  }

  Status Failure(std::string_view what) const {
    if (!cursor_.error.ok()) return cursor_.error;
    const char* detail = archive_error_string(handle_);
    return Status::DataLoss(std::string(what) + ": " + (detail ? detail : "not a zip or tar archive"));
  }

  std::string FormatName() const {
    const int format = archive_format(handle_) & ARCHIVE_FORMAT_BASE_MASK;
    if (format == ARCHIVE_FORMAT_ZIP) return "zip";
    std::string name = "tar";
    switch (archive_filter_code(handle_, 0)) {
      case ARCHIVE_FILTER_GZIP: return name + ".gz";
      case ARCHIVE_FILTER_BZIP2: return name + ".bz2";
      case ARCHIVE_FILTER_XZ: return name + ".xz";
      default: return name;
    }
  }

  struct archive* get() const { return handle_; }
  uint64_t HeaderPosition() const { return static_cast<uint64_t>(archive_read_header_position(handle_)); }

 private:
  struct archive* handle_;
  bool streaming_;
  SourceCursor cursor_;
};

RawType TypeOf(archive_entry* entry) {
  if (archive_entry_hardlink(entry)) return RawType::kHardlink;
  switch (archive_entry_filetype(entry)) {
    case AE_IFREG: return RawType::kFile;
    case AE_IFDIR: return RawType::kDirectory;
    case AE_IFLNK: return RawType::kSymlink;
    default: return RawType::kOther;
  }
}

uint16_t Le16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

// Roughly where each name's first local header starts, from a streaming pass (libarchive does not
// expose the central directory's offsets; the streaming reader reports a position before the
// previous member's data descriptor). Stops quietly where the streaming reader gives up.
std::map<std::string, uint64_t> LocalHeaders(Source& source) {
  std::map<std::string, uint64_t> found;
  Reader reader(source, /*streaming=*/true);
  if (!reader.Open().ok()) return found;
  while (true) {
    auto entry = reader.Next();
    if (!entry || !*entry) break;
    const char* name = archive_entry_pathname(*entry);
    if (name) found.emplace(name, reader.HeaderPosition());
  }
  return found;
}

// A zip member stored without compression can be served from the archive itself: its bytes
// follow its local header. Accept only what is certainly plain: the local header's signature and
// name, method 0, no encryption, and bytes identical to what the central directory's entry
// unpacks to (a hostile zip may carry a decoy local header of the same name).
std::optional<uint64_t> StoredDataOffset(Source& source, const Member& member, const std::string& name,
                                         uint64_t near) {
  // The local header is within a data descriptor's length (at most 24 bytes) after `near`.
  std::vector<char> window(64 + 30 + name.size());
  auto got_window = source.ReadAt(near, window.data(), window.size());
  if (!got_window) return std::nullopt;
  uint64_t header = 0;
  bool found = false;
  for (size_t i = 0; i + 4 <= *got_window && i < 64 && !found; ++i) {
    if (std::memcmp(window.data() + i, "PK\x03\x04", 4) == 0) {
      header = near + i;
      found = true;
    }
  }
  if (!found) return std::nullopt;
  std::vector<char> h(30 + name.size());
  auto n = source.ReadAt(header, h.data(), h.size());
  const auto* u = reinterpret_cast<const unsigned char*>(h.data());
  if (!n || *n != h.size() || std::memcmp(u, "PK\x03\x04", 4) != 0) return std::nullopt;
  const uint16_t flags = Le16(u + 6), method = Le16(u + 8);
  if (method != 0 || (flags & 1) != 0 || Le16(u + 26) != name.size()) return std::nullopt;
  if (std::memcmp(h.data() + 30, name.data(), name.size()) != 0) return std::nullopt;
  const uint64_t data = header + 30 + name.size() + Le16(u + 28);
  if (data + member.size > source.size()) return std::nullopt;
  uint64_t at = data;
  std::vector<char> mine;
  Status same = ExtractMember(source, member, [&](std::string_view unpacked) {
    if (unpacked.empty()) return Status();
    mine.resize(unpacked.size());
    auto got = source.ReadAt(at, mine.data(), mine.size());
    if (!got || *got != unpacked.size() || std::memcmp(mine.data(), unpacked.data(), unpacked.size()) != 0) {
      return Status::DataLoss("differs");
    }
    at += unpacked.size();
    return Status();
  });
  if (!same.ok()) return std::nullopt;
  return data;
}

}  // namespace

Result<Index> ReadIndex(Source& source, const Limits& limits) {
  Reader reader(source);
  HUBFS_RETURN_IF_ERROR(reader.Open());
  std::vector<RawEntry> raw;
  uint64_t declared = 0;
  while (true) {
    HUBFS_ASSIGN_OR_RETURN(archive_entry * entry, reader.Next());
    if (!entry) break;
    RawEntry e;
    const char* name = archive_entry_pathname(entry);
    e.name = name ? name : "";
    e.type = TypeOf(entry);
    e.size = archive_entry_size_is_set(entry) ? static_cast<uint64_t>(archive_entry_size(entry)) : 0;
    if (const char* link = e.type == RawType::kHardlink ? archive_entry_hardlink(entry) : archive_entry_symlink(entry)) {
      e.link = link;
    }
    e.encrypted = archive_entry_is_encrypted(entry);
    e.ordinal = static_cast<uint32_t>(raw.size());
    if (e.type == RawType::kFile) declared += e.size;
    raw.push_back(std::move(e));
    // Stop early on a bomb: walking a tar means unpacking it, so do not walk past the limits.
    if (raw.size() > limits.max_members || declared > limits.max_total_bytes ||
        declared > limits.max_ratio * std::max<uint64_t>(source.size(), 1)) {
      break;
    }
  }
  Index index = Contain(raw, source.size(), limits);
  index.format = reader.FormatName();
  if (index.format == "zip" && index.refused.empty()) {
    const std::map<std::string, uint64_t> headers = LocalHeaders(source);
    for (Member& m : index.members) {
      const std::string& name = raw[m.ordinal].name;
      auto it = headers.find(name);
      if (m.kind == MemberKind::kFile && m.size > 0 && it != headers.end()) {
        m.stored_offset = StoredDataOffset(source, m, name, it->second);
      }
    }
  }
  return index;
}

Status ExtractMember(Source& source, const Member& member,
                     const std::function<Status(std::string_view)>& sink) {
  Reader reader(source);
  HUBFS_RETURN_IF_ERROR(reader.Open());
  archive_entry* entry = nullptr;
  for (uint32_t i = 0; i <= member.ordinal; ++i) {
    HUBFS_ASSIGN_OR_RETURN(entry, reader.Next());
    if (!entry) return Status::DataLoss("the archive ended before member " + std::to_string(member.ordinal));
  }
  const bool sparse = archive_entry_sparse_count(entry) > 0;  // holes read as zeros
  uint64_t done = 0;
  static const std::string kZeros(64 << 10, '\0');
  while (true) {
    const void* block = nullptr;
    size_t length = 0;
    la_int64_t offset = 0;
    const int rc = archive_read_data_block(reader.get(), &block, &length, &offset);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return reader.Failure("cannot unpack " + std::string(archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "a member"));
    if (offset < 0 || static_cast<uint64_t>(offset) < done || static_cast<uint64_t>(offset) + length > member.size) {
      return Status::DataLoss("a member unpacks to more than its declared " + std::to_string(member.size) + " bytes");
    }
    if (!sparse && static_cast<uint64_t>(offset) != done) return Status::DataLoss("a member's bytes are not contiguous");
    while (done < static_cast<uint64_t>(offset)) {  // a hole of a sparse member
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kZeros.size(), static_cast<uint64_t>(offset) - done));
      HUBFS_RETURN_IF_ERROR(sink(std::string_view(kZeros.data(), n)));
      done += n;
    }
    if (length > 0) HUBFS_RETURN_IF_ERROR(sink(std::string_view(static_cast<const char*>(block), length)));
    done += length;
  }
  if (!sparse && done != member.size) {
    return Status::DataLoss("a member unpacks to " + std::to_string(done) + " bytes, not its declared " +
                            std::to_string(member.size));
  }
  while (done < member.size) {  // a sparse member ending in a hole
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kZeros.size(), member.size - done));
    HUBFS_RETURN_IF_ERROR(sink(std::string_view(kZeros.data(), n)));
    done += n;
  }
  return Status();
}

}  // namespace hubfs::archive
