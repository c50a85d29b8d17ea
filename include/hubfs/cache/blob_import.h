// ImportBlob: fills the blob of a published sha256 from a local file (a hub client's own cache,
// e.g. ~/.cache/onnx/hub) instead of the network.
//
// Contract:
// - The source is opened O_RDONLY|O_NOFOLLOW and never written, renamed or deleted; a symlink,
//   a FIFO, a device or any other non-regular file is refused. Its atime is left alone where
//   the kernel allows (O_NOATIME).
// - Nothing is trusted before it is hashed. A first pass hashes the whole file (sha256) and
//   records each block's XXH3-128; a file whose sha256 differs from the expected one is refused
//   and the cache is not touched at all (no record, no blob file).
// - A second pass copies the blocks that are not present yet, each under the block's
//   cross-process lock (Blob::LockBlock, as downloads take it) and committed one by one, so a
//   reader waiting for a block waits for one block copy, never for the whole file. Every block
//   is compared with its first-pass digest before it is written: a file that changes between
//   the passes stops the import, and every block committed so far is one the first pass hashed.
// - Blocks already recorded (present, or with a digest from an uncached read) must have the
//   first-pass digest; otherwise the import is refused (kFailedPrecondition) and the read
//   engine sorts the blob out as usual.
// - When every block is present with its first-pass digest, the blob is marked verified.
// - The cache limit is respected without evicting anything: an import that does not fit in the
//   room left is refused before it starts (kResourceExhausted); one that stops fitting midway
//   stops there, leaving correct blocks that a later read completes.
// - Poisoned blobs, and blobs recorded with another size (readers opened them so), are left
//   alone (kFailedPrecondition).
//
// Thread-safety: any thread; several imports may run at once (the block locks serialise them).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "hubfs/cache/cache.h"
#include "hubfs/core/result.h"

namespace hubfs::cache {

struct ImportOptions {
  // Polled between blocks; true stops the import with kCancelled (blocks copied so far stay).
  std::function<bool()> cancelled;
};

struct ImportOutcome {
  bool already_verified = false;  // nothing to do: the blob was complete and verified
  uint64_t bytes_hashed = 0;      // bytes read from the source (both passes)
  uint64_t bytes_copied = 0;      // bytes written into the cache
};

// Imports `path` as the blob of `spec` (spec.sha256 required; spec.size must be the file's
// size). The blob's key is BlobKeyForDigest(*spec.sha256); spec.source_url is recorded as its
// source when the blob is new.
// Errors: kInvalidArgument (no sha256), kFailedPrecondition (not a regular file, another size,
// a poisoned blob, recorded blocks that differ), kNotFound (no such file), kDataLoss (the content's sha256 differs, or the
// file changed while it was copied), kResourceExhausted (no room without evicting), kCancelled,
// kIoError (reading or writing).
Result<ImportOutcome> ImportBlob(Cache& cache, const BlobSpec& spec, const std::string& path,
                                 const ImportOptions& options = {});

}  // namespace hubfs::cache
