// The LMDB environment behind a Cache and its databases. Private to src/cache/.
//   meta    "format_version" -> 4 bytes LE; "used_bytes" -> 8 bytes LE (bytes of present blocks)
//   blobs   blob key -> BlobRecord
//   blocks  block key (blob_keys.h) -> BlockInfo
//   docs    URL -> DocRecord
#pragma once

#include "hubfs/cache/cache.h"
#include "lmdb_env.h"

namespace hubfs::cache {

struct Cache::Index {
  LmdbEnv env;
  MDB_dbi meta = 0;
  MDB_dbi blobs = 0;
  MDB_dbi blocks = 0;
  MDB_dbi docs = 0;
};

}  // namespace hubfs::cache
