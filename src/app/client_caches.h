// Client caches: what the hubs' own clients left on disk, and which listed files it may hold.
//
// Layouts (docs/cache.md, "Importing the clients' caches"):
//   onnx.hub     <hub dir>/<dirs of model_path>/<model_sha256>_<basename>   (and the tarballs)
//   huggingface  <hub cache>/models--<org>--<name>/blobs/<sha256>           (LFS files; git
//                blob ids, 40 hex digits, name small files and are not used)
//   MindSpore    ~/.mscache/<publisher>/<version>/<basename of asset-link>  (the name claims
//                nothing: matched by the URL's last component)
// A scan does not care which client wrote a folder: any regular file whose name is
// "<64 hex>" or "<64 hex>_<name>" claims that sha256; every regular file can also match a
// listed file by its name. Either way nothing is trusted before ImportBlob hashed it.
//
// Pure functions of the file system (scan) and of values (match); no thread, no cache.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hubfs/core/sha256.h"
#include "hubfs/hubs/hub.h"

namespace hubfs::app {

struct ClientCacheFile {
  std::string path;
  std::string name;  // the last component of path
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::optional<Digest> claimed_sha256;  // what the name claims (ClaimedSha256)
};

// "<64 hex>" or "<64 hex>_<something>" (either case): the sha256 the name claims.
std::optional<Digest> ClaimedSha256(std::string_view file_name);

// The last path component of a URL, without query or fragment ("" when it ends with '/').
std::string UrlBaseName(std::string_view url);

struct ScanLimits {
  size_t max_files = 200000;  // regular files collected over all folders
  int max_depth = 16;         // folders below each root
};

struct ScanResult {
  std::vector<ClientCacheFile> files;
  size_t folders = 0;        // roots that exist and were scanned
  bool truncated = false;    // a limit was reached
  std::vector<std::string> problems;  // folders that could not be read (logged, not fatal)
};

// Walks each folder (missing ones are skipped), without following symbolic links below it.
ScanResult ScanClientCaches(const std::vector<std::string>& dirs, const ScanLimits& limits = {});

// One listed blob and the files that may hold it, the most likely first.
struct ImportCandidate {
  hubs::RemoteObject object;             // has a sha256
  std::vector<const ClientCacheFile*> files;
};

// For each distinct sha256 among `wanted`: the files whose name claims it (with the listed size,
// when the hub publishes one), then the files whose name is the URL's last component and whose
// size fits (at most 4 of those). Objects without a sha256, or with no such file, are left out. Pointers point into
// `files`.
std::vector<ImportCandidate> MatchClientCacheFiles(const std::vector<hubs::RemoteObject>& wanted,
                                                   const std::vector<ClientCacheFile>& files);

}  // namespace hubfs::app
