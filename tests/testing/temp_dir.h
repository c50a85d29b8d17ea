// TempDir: a fresh directory, removed with everything in it when the object is destroyed.
//
// It is created under $HUBFS_TEST_TMPDIR if set, else /dev/shm when writable, else $TMPDIR, else
// /tmp. tmpfs first because the cache syncs its index when a blob is verified or poisoned and on
// close, which costs milliseconds on a real disk and nothing on tmpfs.
//
//   hubfs::test::TempDir dir;
//   auto cache = cache::Cache::Open(dir.Sub("cache"));
//
// Thread-safety: const methods may be called from any thread.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

namespace hubfs::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = BaseDir() + "/hubfs-test.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp " << pattern << ": " << std::strerror(errno);
      return;
    }
    path_ = std::move(pattern);
  }
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The directory's absolute path, without a trailing '/'; empty if it could not be created.
  const std::string& path() const { return path_; }
  // path() + "/" + relative (not created).
  std::string Sub(std::string_view relative) const { return path_ + "/" + std::string(relative); }

 private:
  static std::string BaseDir() {
    auto env = [](const char* name) -> std::string {
      const char* value = std::getenv(name);
      return value != nullptr ? value : "";
    };
    if (std::string dir = env("HUBFS_TEST_TMPDIR"); !dir.empty()) return dir;
    if (::access("/dev/shm", W_OK | X_OK) == 0) return "/dev/shm";
    if (std::string dir = env("TMPDIR"); !dir.empty()) return dir;
    return "/tmp";
  }

  std::string path_;
};

}  // namespace hubfs::test
