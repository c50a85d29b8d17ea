// hubfs_fill_cache: fills a hubfs cache folder with many one-block blobs, for the remount
// benchmark (P8, docs/performance.md): a cache whose index holds 100,000 blocks, built in
// seconds and a few hundred MiB instead of 200 GiB of 2 MiB blocks.
//
//   hubfs_fill_cache DIR [--blocks N] [--block-bytes B] [--seed S] [--jobs J]
//
// Every blob goes through the public Cache API exactly as the read engine stores a download:
// OpenBlob (record + sparse file), WriteBlock(0)/Append/Commit (block record with its XXH3
// digest, used bytes), MarkVerified (the sha256 of its bytes, which is also its key). So the
// result is a cache like one left by real downloads of N small files: N blob records, N block
// records and N files spread over blobs/00..ff. The bytes are pseudo-random, different for
// every (seed, index). Prints one summary line on stdout; exits 1 on the first error.
//
// MarkVerified syncs the index (one fdatasync per blob, ~3 ms on the bench VM's disk): J threads
// (default 8) store blobs in parallel so that those syncs overlap (Cache is thread-safe).
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>
#include <string_view>

#include "hubfs/cache/cache.h"
#include "hubfs/core/sha256.h"

namespace {

// splitmix64: cheap, good enough to make every blob's bytes (and so its sha256) distinct.
uint64_t Next(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void Fill(std::string& buf, uint64_t seed, uint64_t index) {
  uint64_t state = seed * 0x100000001b3ULL ^ index;
  for (size_t i = 0; i < buf.size(); i += 8) {
    uint64_t v = Next(state);
    std::memcpy(buf.data() + i, &v, std::min<size_t>(8, buf.size() - i));
  }
}

int Usage(const char* why) {
  std::fprintf(stderr,
               "hubfs_fill_cache: %s\n"
               "usage: hubfs_fill_cache DIR [--blocks N] [--block-bytes B] [--seed S] [--jobs J]\n"
               "  N one-block blobs of B bytes each (default 100000 x 4096), stored and verified\n"
               "  through the Cache API in the cache folder DIR (created if missing)\n",
               why);
  return 2;
}

bool ParseU64(const char* text, uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') return false;
  *out = v;
  return true;
}

void Report(uint64_t index, const char* step, const hubfs::Status& status) {
  std::fprintf(stderr, "hubfs_fill_cache: blob %llu: %s: %s\n",
               static_cast<unsigned long long>(index), step, status.ToString().c_str());
}

// Stores blobs first, first + stride, ... below `count`. Returns false after reporting an error.
bool StoreBlobs(hubfs::cache::Cache& cache, uint64_t first, uint64_t stride, uint64_t count,
                uint64_t block_bytes, uint64_t seed) {
  std::string buf(block_bytes, '\0');
  for (uint64_t i = first; i < count; i += stride) {
    Fill(buf, seed, i);
    const hubfs::Digest sha = hubfs::Sha256::Of(buf);
    hubfs::cache::BlobSpec spec;
    spec.size = block_bytes;
    spec.sha256 = sha;
    spec.source_url = "http://127.0.0.1/hubfs-fill-cache/" + std::to_string(seed) + "/" + std::to_string(i);
    auto blob = cache.OpenBlob(hubfs::cache::BlobKeyForDigest(sha), spec);
    if (!blob) return Report(i, "OpenBlob", blob.error()), false;
    auto writer = (*blob)->WriteBlock(0);
    if (!writer) return Report(i, "WriteBlock", writer.error()), false;
    if (auto s = writer->Append(buf); !s.ok()) return Report(i, "Append", s), false;
    if (auto s = writer->Commit(); !s.ok()) return Report(i, "Commit", s), false;
    if (auto s = (*blob)->MarkVerified(sha); !s.ok()) return Report(i, "MarkVerified", s), false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  uint64_t blocks = 100000, block_bytes = 4096, seed = 1, jobs = 8;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    uint64_t* target = arg == "--blocks" ? &blocks : arg == "--block-bytes" ? &block_bytes
                       : arg == "--seed" ? &seed : arg == "--jobs" ? &jobs : nullptr;
    if (target) {
      if (i + 1 >= argc || !ParseU64(argv[++i], target)) return Usage("bad or missing number");
    } else if (arg.starts_with("-")) {
      return Usage("unknown option");
    } else if (dir.empty()) {
      dir = argv[i];
    } else {
      return Usage("one cache folder only");
    }
  }
  if (dir.empty()) return Usage("no cache folder");
  if (block_bytes == 0 || block_bytes > hubfs::cache::kBlockSize) {
    return Usage("--block-bytes must be 1..2097152 (one block)");
  }
  if (jobs == 0 || jobs > 64) return Usage("--jobs must be 1..64");

  const auto t0 = std::chrono::steady_clock::now();
  auto cache = hubfs::cache::Cache::Open(dir);
  if (!cache) return Report(0, "opening the cache", cache.error()), 1;
  std::vector<std::thread> workers;
  std::vector<char> ok(jobs, 0);
  for (uint64_t j = 0; j < jobs; ++j) {
    workers.emplace_back([&, j] { ok[j] = StoreBlobs(**cache, j, jobs, blocks, block_bytes, seed); });
  }
  for (auto& w : workers) w.join();
  for (char good : ok) {
    if (!good) return 1;
  }
  if (auto s = (*cache)->Sync(); !s.ok()) return Report(blocks, "Sync", s), 1;
  const auto usage = (*cache)->Usage();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%llu blobs of one %llu-byte block in %s: cache uses %llu bytes; %.1f s\n",
              static_cast<unsigned long long>(blocks), static_cast<unsigned long long>(block_bytes),
              dir.c_str(), static_cast<unsigned long long>(usage.used_bytes), secs);
  return 0;
}
