#include "hubfs/fs/archive_views.h"

#include <ctime>
#include <optional>

#include "hubfs/core/logging.h"

namespace hubfs::fs {
namespace {

constexpr char kIndexDocPrefix[] = "archive-index ";

// An open archive, read through the engine (so through the cache, verified).
class EngineSource : public archive::Source {
 public:
  EngineSource(ReadEngine& engine, ReadEngine::File& file) : engine_(engine), file_(file) {}
  uint64_t size() const override { return file_.size(); }
  Result<size_t> ReadAt(uint64_t offset, char* out, size_t length) override {
    if (offset >= file_.size()) return size_t{0};
    return engine_.Read(file_, offset, static_cast<size_t>(std::min<uint64_t>(length, file_.size() - offset)), out);
  }

 private:
  ReadEngine& engine_;
  ReadEngine::File& file_;
};

std::string JoinPath(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

}  // namespace

ArchiveViews::ArchiveViews(ReadEngine& engine, archive::Limits limits) : engine_(engine), limits_(limits) {}

std::shared_ptr<std::mutex> ArchiveViews::LockFor(const std::string& key) {
  std::lock_guard lock(mu_);
  auto& slot = locks_[key];
  if (!slot) slot = std::make_shared<std::mutex>();
  return slot;
}

std::shared_ptr<const archive::Index> ArchiveViews::Known(const hubs::RemoteObject& object) {
  const std::string key = ReadEngine::KeyFor(object);
  {
    std::lock_guard lock(mu_);
    if (auto it = known_.find(key); it != known_.end()) return it->second;
  }
  auto doc = engine_.cache().GetDoc(kIndexDocPrefix + key);
  if (!doc || !*doc) return nullptr;
  auto index = archive::DecodeIndex((*doc)->body);
  if (!index || (object.size && *object.size != index->archive_size)) return nullptr;  // another archive now
  auto shared = std::make_shared<const archive::Index>(std::move(index).value());
  std::lock_guard lock(mu_);
  return known_.emplace(key, std::move(shared)).first->second;
}

Result<std::shared_ptr<const archive::Index>> ArchiveViews::Index(const hubs::RemoteObject& object) {
  if (auto known = Known(object)) return known;
  const std::string key = ReadEngine::KeyFor(object);
  std::shared_ptr<std::mutex> one_at_a_time = LockFor("index " + key);
  std::lock_guard working(*one_at_a_time);
  if (auto known = Known(object)) return known;  // indexed while this call waited

  HUBFS_ASSIGN_OR_RETURN(auto file, engine_.Open(object, Verification::kStrict));
  EngineSource source(engine_, *file);
  auto index = archive::ReadIndex(source, limits_);
  if (!index) {
    return Status(index.error().code(), "cannot read the archive " + object.url + ": " + index.error().message())
        .WithHttpStatus(index.error().http_status());
  }
  if (!index->refused.empty()) HUBFS_LOG_WARN("archive {}: not unpacked: {}", object.url, index->refused);
  for (const std::string& why : index->skipped) HUBFS_LOG_WARN("archive {}: member skipped: {}", object.url, why);
  cache::DocRecord record;
  record.body = archive::EncodeIndex(*index);
  record.fetched_at = static_cast<int64_t>(std::time(nullptr));
  if (Status put = engine_.cache().PutDoc(kIndexDocPrefix + key, record); !put.ok()) {
    HUBFS_LOG_WARN("archive {}: index not kept in the cache: {}", object.url, put.message());
  }
  auto shared = std::make_shared<const archive::Index>(std::move(index).value());
  std::lock_guard lock(mu_);
  known_[key] = shared;
  return shared;
}

hubs::RemoteObject ArchiveViews::DerivedObject(const ArchiveMemberRef& ref) {
  return hubs::RemoteObject("hubfs-archive:" + ReadEngine::KeyFor(ref.archive) + "/" +
                                std::to_string(ref.member.ordinal) + "/" + JoinPath(ref.member.path),
                            ref.member.size, std::nullopt);
}

std::string ArchiveViews::KeyFor(const ArchiveMemberRef& ref) {
  return ref.member.stored_offset ? ReadEngine::KeyFor(ref.archive) : ReadEngine::KeyFor(DerivedObject(ref));
}

Result<std::unique_ptr<ReadEngine::File>> ArchiveViews::Open(const ArchiveMemberRef& ref, Verification policy,
                                                             uint64_t* offset) {
  if (ref.member.stored_offset) {
    *offset = *ref.member.stored_offset;
    return engine_.Open(ref.archive, policy);
  }
  *offset = 0;
  const hubs::RemoteObject derived = DerivedObject(ref);
  const std::string key = ReadEngine::KeyFor(derived);
  std::shared_ptr<std::mutex> one_at_a_time = LockFor(key);
  std::lock_guard working(*one_at_a_time);
  cache::BlobSpec spec;
  spec.size = ref.member.size;
  spec.source_url = derived.url;
  HUBFS_ASSIGN_OR_RETURN(std::shared_ptr<cache::Blob> blob, engine_.cache().OpenBlob(key, spec));
  // In use until the engine has it open too: nothing may evict what was just unpacked.
  HUBFS_RETURN_IF_ERROR(blob->AcquireUse());
  struct Release {
    cache::Blob* blob;
    ~Release() { blob->ReleaseUse(); }
  } release{blob.get()};
  HUBFS_ASSIGN_OR_RETURN(std::vector<bool> present, blob->PresentBlocks());
  bool complete = true;
  for (bool p : present) complete = complete && p;
  if (!complete) {
    HUBFS_LOG_INFO("unpacking {} from {}", JoinPath(ref.member.path), ref.archive.url);
    HUBFS_RETURN_IF_ERROR(Unpack(ref, *blob));
  }
  return engine_.Open(derived, policy);
}

Status ArchiveViews::Unpack(const ArchiveMemberRef& ref, cache::Blob& blob) {
  HUBFS_ASSIGN_OR_RETURN(auto file, engine_.Open(ref.archive, Verification::kStrict));
  EngineSource source(engine_, *file);
  uint64_t block = 0;
  std::optional<cache::Blob::Writer> writer;
  Status unpacked = archive::ExtractMember(source, ref.member, [&](std::string_view data) -> Status {
    while (!data.empty()) {
      if (!writer) {
        HUBFS_ASSIGN_OR_RETURN(cache::Blob::Writer w, blob.WriteBlock(block));
        writer.emplace(std::move(w));
      }
      const size_t room = blob.BlockLength(block) - static_cast<size_t>(writer->written());
      const size_t n = std::min(room, data.size());
      HUBFS_RETURN_IF_ERROR(writer->Append(data.substr(0, n)));
      data.remove_prefix(n);
      if (writer->written() == blob.BlockLength(block)) {
        HUBFS_RETURN_IF_ERROR(writer->Commit());
        writer.reset();
        ++block;
      }
    }
    return Status();
  });
  if (!unpacked.ok()) {
    return Status(unpacked.code(), "cannot unpack " + JoinPath(ref.member.path) + " from " + ref.archive.url + ": " +
                                       unpacked.message());
  }
  return Status();
}

}  // namespace hubfs::fs
