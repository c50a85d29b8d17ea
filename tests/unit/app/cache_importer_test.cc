// CacheImporter: a pass imports what the clients' caches hold for listed files (cache_importer.h).
#include "app/cache_importer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "testing/temp_dir.h"
#include "testing/test_bytes.h"

namespace hubfs::app {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

class CacheImporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cache = cache::Cache::Open(tmp_.Sub("cache"));
    ASSERT_TRUE(cache.ok()) << cache.error().ToString();
    cache_ = std::move(cache).value();
  }
  std::string Write(const std::string& rel, const std::string& data) {
    const std::string path = tmp_.Sub(rel);
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << data;
    return path;
  }
  static hubs::RemoteObject Listed(const std::string& name, const std::string& data) {
    return hubs::RemoteObject("http://hub.test/" + name, data.size(), Sha256::Of(data));
  }
  cache::BlobState StateOf(const std::string& data) {
    auto record = cache_->GetBlob(cache::BlobKeyForDigest(Sha256::Of(data)));
    EXPECT_TRUE(record.ok());
    return record.ok() && *record ? (*record)->state : cache::BlobState::kPartial;
  }
  bool HasRecord(const std::string& data) {
    auto record = cache_->GetBlob(cache::BlobKeyForDigest(Sha256::Of(data)));
    return record.ok() && record->has_value();
  }
  // Schedules a pass and waits until `passes` have finished.
  void RunPass(CacheImporter& importer, uint64_t passes) {
    importer.Schedule();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (counters_.passes.load() < passes && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(counters_.passes.load(), passes);
  }

  test::TempDir tmp_;
  std::unique_ptr<cache::Cache> cache_;
  ImportCounters counters_;
};

TEST_F(CacheImporterTest, ImportsMatchingFilesAndRejectsTamperedOnesOnce) {
  const std::string onnx = test::Bytes(3 * kMiB, 1), hf = test::Bytes(1000, 2), ms = test::Bytes(5000, 3);
  const std::string tampered = test::Bytes(2000, 4);
  const std::string onnx_sha = ToHex(Sha256::Of(onnx)), hf_sha = ToHex(Sha256::Of(hf));
  Write("onnx/hub/validated/vision/m/model/" + onnx_sha + "_m-12.onnx", onnx);
  Write("hf/hub/models--org--name/blobs/" + hf_sha, hf);
  Write("ms/mindspore/1.10/weights.ckpt", ms);
  std::string bad = tampered;
  bad[10] ^= 1;
  Write("onnx/hub/validated/other/" + ToHex(Sha256::Of(tampered)) + "_t.onnx", bad);
  const std::vector<hubs::RemoteObject> wanted = {Listed("m-12.onnx", onnx), Listed("hf.bin", hf),
                                                  Listed("weights.ckpt", ms), Listed("t.onnx", tampered),
                                                  Listed("not-cached.onnx", test::Bytes(10, 5))};
  {
    CacheImporter importer(*cache_, {tmp_.Sub("onnx/hub"), tmp_.Sub("hf/hub"), tmp_.Sub("ms"), tmp_.Sub("none")},
                           [&] { return wanted; }, counters_);
    RunPass(importer, 1);
    EXPECT_EQ(counters_.files.load(), 3u);
    EXPECT_EQ(counters_.bytes.load(), onnx.size() + hf.size() + ms.size());
    EXPECT_EQ(counters_.rejected.load(), 1u);
    EXPECT_EQ(StateOf(onnx), cache::BlobState::kVerified);
    EXPECT_EQ(StateOf(hf), cache::BlobState::kVerified);
    EXPECT_EQ(StateOf(ms), cache::BlobState::kVerified);
    EXPECT_FALSE(HasRecord(tampered));

    // Nothing new: verified blobs are not read again, the tampered file is not hashed again.
    RunPass(importer, 2);
    EXPECT_EQ(counters_.files.load(), 3u);
    EXPECT_EQ(counters_.rejected.load(), 1u);
  }
  const std::string stats = ImportStatsText(counters_);
  EXPECT_NE(stats.find("hubfs_imported_files_total 3\n"), std::string::npos) << stats;
  EXPECT_NE(stats.find("hubfs_import_rejected_total 1\n"), std::string::npos) << stats;
  EXPECT_NE(stats.find("hubfs_import_running 0\n"), std::string::npos) << stats;
}

TEST_F(CacheImporterTest, DestroyingStopsAPassAndJoins) {
  const std::string data = test::Bytes(3 * kMiB, 6);
  Write("c/" + ToHex(Sha256::Of(data)) + "_m.onnx", data);
  const std::vector<hubs::RemoteObject> wanted = {Listed("m.onnx", data)};
  std::atomic<bool> asked{false};
  {
    CacheImporter importer(*cache_, {tmp_.Sub("c")}, [&] {
      asked = true;
      std::this_thread::sleep_for(std::chrono::seconds(1));  // the destructor starts meanwhile
      return wanted;
    }, counters_);
    importer.Schedule();
    while (!asked.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }  // stops the pass and joins
  EXPECT_EQ(counters_.files.load(), 0u);
  EXPECT_EQ(counters_.passes.load(), 0u);
  EXPECT_FALSE(HasRecord(data));
  EXPECT_FALSE(counters_.running.load());
}

}  // namespace
}  // namespace hubfs::app
