// `hubfs pin` / `hubfs unpin`: the mounted file tells, through its xattrs, which cache and blob
// hold it; the command then marks the blob in that cache's index (LMDB is shared between
// processes, so the running daemon sees the change at once).
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

#include "hubfs/app/commands.h"
#include "pin.h"
#include "xattr.h"

namespace hubfs::app {

Status PinFile(const std::string& path, bool pin, OpenCaches* caches) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::FromErrno(errno, path);
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + " is not a file");
  HUBFS_ASSIGN_OR_RETURN(std::string dir, ReadXattr(path, "user.hubfs.cache_dir"));
  HUBFS_ASSIGN_OR_RETURN(std::string key, ReadXattr(path, "user.hubfs.cache_key"));
  HUBFS_ASSIGN_OR_RETURN(std::string source, ReadXattr(path, "user.hubfs.source"));
  auto& cache = (*caches)[dir];
  if (!cache) {
    HUBFS_ASSIGN_OR_RETURN(cache, cache::Cache::Open(dir));
  }
  HUBFS_ASSIGN_OR_RETURN(auto record, cache->GetBlob(key));
  if (record || !pin) return record ? cache->SetPinned(key, pin) : Status();
  // Never read yet: create its record so the pin comes first. The size must be known (a hub
  // that publishes none shows 0 until the file was opened once).
  if (st.st_size == 0 && key.rfind("sha256:", 0) != 0) {
    return Status::InvalidArgument(path + ": its size is not known yet; read it once, then pin it");
  }
  cache::BlobSpec spec;
  spec.size = static_cast<uint64_t>(st.st_size);
  spec.source_url = source;
  if (key.rfind("sha256:", 0) == 0) spec.sha256 = DigestFromHex(key.substr(7));
  HUBFS_ASSIGN_OR_RETURN(auto blob, cache->OpenBlob(key, spec));
  return cache->SetPinned(key, pin);
}

int RunPin(const std::vector<std::string>& paths, bool pin) {
  OpenCaches caches;
  int failures = 0;
  for (const std::string& path : paths) {
    Status s = PinFile(path, pin, &caches);
    if (!s.ok()) {
      std::fprintf(stderr, "hubfs %s: %s\n", pin ? "pin" : "unpin", s.message().c_str());
      ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace hubfs::app
