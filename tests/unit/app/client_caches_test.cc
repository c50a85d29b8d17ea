// Scanning the hubs' clients' caches and matching their files to listed files (client_caches.h).
#include "app/client_caches.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "testing/temp_dir.h"

namespace hubfs::app {
namespace {

const std::string kHexA(64, 'a');
const std::string kHexB = std::string(63, 'b') + "B";  // upper case is accepted too

Digest DigestOf(const std::string& hex) { return *DigestFromHex(hex); }

TEST(ClaimedSha256Test, HfBlobNamesAndOnnxHubPrefixes) {
  EXPECT_EQ(ClaimedSha256(kHexA), DigestOf(kHexA));
  EXPECT_EQ(ClaimedSha256(kHexA + "_mnist-8.onnx"), DigestOf(kHexA));
  EXPECT_EQ(ClaimedSha256(kHexB + "_x"), DigestOf(kHexB));
  EXPECT_FALSE(ClaimedSha256(kHexA + "_"));              // nothing after the prefix
  EXPECT_FALSE(ClaimedSha256(kHexA + ".incomplete"));    // an interrupted HF download
  EXPECT_FALSE(ClaimedSha256(kHexA + "a"));              // 65 digits
  EXPECT_FALSE(ClaimedSha256(std::string(40, 'c')));     // a git blob id (HF small files)
  EXPECT_FALSE(ClaimedSha256(std::string(63, 'a') + "g_x"));
  EXPECT_FALSE(ClaimedSha256("model.onnx"));
  EXPECT_FALSE(ClaimedSha256(""));
}

TEST(UrlBaseNameTest, LastComponentWithoutQuery) {
  EXPECT_EQ(UrlBaseName("https://download.mindspore.cn/models/r1.10/alexnet_acc88.0.ckpt"), "alexnet_acc88.0.ckpt");
  EXPECT_EQ(UrlBaseName("http://h/a/b.ckpt?Expires=1#frag"), "b.ckpt");
  EXPECT_EQ(UrlBaseName("http://h/a/"), "");
}

class ScanTest : public ::testing::Test {
 protected:
  void Write(const std::string& rel, const std::string& data) {
    const std::string path = tmp_.Sub(rel);
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << data;
  }
  test::TempDir tmp_;
};

TEST_F(ScanTest, FindsRegularFilesOfEveryLayoutAndSkipsLinks) {
  Write("onnx/hub/validated/vision/mnist/model/" + kHexA + "_mnist-8.onnx", "onnx");
  Write("hf/hub/models--org--name/blobs/" + kHexB, "hf blob");
  Write("hf/hub/models--org--name/blobs/" + std::string(40, 'c'), "small");
  Write("ms/mindspore/1.10/alexnet.ckpt", "weights");
  const std::string snapshot = tmp_.Sub("hf/hub/models--org--name/snapshots/abc");
  std::filesystem::create_directories(snapshot);
  ASSERT_EQ(::symlink(("../../blobs/" + kHexB).c_str(), (snapshot + "/model.onnx").c_str()), 0);
  ASSERT_EQ(::mkfifo(tmp_.Sub("ms/fifo").c_str(), 0600), 0);
  // A folder symlink out of the cache is not followed.
  Write("elsewhere/" + kHexA + "_other.onnx", "other");
  ASSERT_EQ(::symlink(tmp_.Sub("elsewhere").c_str(), tmp_.Sub("ms/link").c_str()), 0);

  ScanResult scan = ScanClientCaches({tmp_.Sub("onnx/hub"), tmp_.Sub("hf/hub"), tmp_.Sub("ms"), tmp_.Sub("none")});
  EXPECT_EQ(scan.folders, 3u);
  EXPECT_FALSE(scan.truncated);
  std::map<std::string, ClientCacheFile> by_name;
  for (const ClientCacheFile& f : scan.files) by_name[f.name] = f;
  ASSERT_EQ(by_name.size(), 4u);
  EXPECT_EQ(by_name.at(kHexA + "_mnist-8.onnx").claimed_sha256, DigestOf(kHexA));
  EXPECT_EQ(by_name.at(kHexA + "_mnist-8.onnx").size, 4u);
  EXPECT_EQ(by_name.at(kHexB).claimed_sha256, DigestOf(kHexB));
  EXPECT_FALSE(by_name.at(std::string(40, 'c')).claimed_sha256);
  EXPECT_FALSE(by_name.at("alexnet.ckpt").claimed_sha256);
  EXPECT_EQ(by_name.at("alexnet.ckpt").path, tmp_.Sub("ms/mindspore/1.10/alexnet.ckpt"));
}

TEST_F(ScanTest, StopsAtTheLimits) {
  for (int i = 0; i < 5; ++i) Write("c/f" + std::to_string(i), "x");
  Write("c/a/b/c/deep", "x");
  ScanResult few = ScanClientCaches({tmp_.Sub("c")}, ScanLimits{3, 16});
  EXPECT_TRUE(few.truncated);
  EXPECT_EQ(few.files.size(), 3u);
  ScanResult shallow = ScanClientCaches({tmp_.Sub("c")}, ScanLimits{100, 2});
  EXPECT_FALSE(shallow.truncated);
  EXPECT_EQ(shallow.files.size(), 5u);  // c/a/b/c/deep is below the depth limit
}

ClientCacheFile File(std::string name, uint64_t size) {
  ClientCacheFile f;
  f.path = "/cache/" + name;
  f.name = name;
  f.size = size;
  f.claimed_sha256 = ClaimedSha256(name);
  return f;
}

TEST(MatchTest, ByClaimedSha256ThenByUrlName) {
  const std::vector<ClientCacheFile> files = {
      File(kHexA + "_model.onnx", 10),  // claims A
      File(kHexA, 11),                  // claims A, wrong size
      File("weights.ckpt", 20),         // MindSpore: by name
      File("weights.ckpt", 21),
      File(kHexB + "_weights.ckpt", 20),  // claims B: not a candidate by name for A's URL
  };
  hubs::RemoteObject a("http://h/x/model.onnx", 10, DigestOf(kHexA));
  hubs::RemoteObject a_again("http://h/tree/model.onnx", 10, DigestOf(kHexA));  // same blob
  hubs::RemoteObject ms("https://download.test/models/weights.ckpt", std::nullopt,
                        DigestOf(std::string(64, 'd')));
  hubs::RemoteObject unpublished("http://h/x/weights.ckpt", 20, std::nullopt);
  hubs::RemoteObject absent("http://h/y.onnx", 5, DigestOf(std::string(64, 'e')));

  auto matched = MatchClientCacheFiles({a, a_again, ms, unpublished, absent}, files);
  ASSERT_EQ(matched.size(), 2u);
  EXPECT_EQ(matched[0].object.url, a.url);
  ASSERT_EQ(matched[0].files.size(), 1u);
  EXPECT_EQ(matched[0].files[0], &files[0]);
  EXPECT_EQ(matched[1].object.url, ms.url);
  // Size unknown: both files of that name are candidates; the one claiming B is not.
  ASSERT_EQ(matched[1].files.size(), 2u);
  EXPECT_EQ(matched[1].files[0]->name, "weights.ckpt");
  EXPECT_EQ(matched[1].files[1]->name, "weights.ckpt");
}

TEST(MatchTest, AFewCandidatesByNameAtMost) {
  std::vector<ClientCacheFile> files;
  for (int i = 0; i < 10; ++i) files.push_back(File("model.ckpt", 7));
  hubs::RemoteObject object("http://h/model.ckpt", 7, DigestOf(kHexA));
  auto matched = MatchClientCacheFiles({object}, files);
  ASSERT_EQ(matched.size(), 1u);
  EXPECT_EQ(matched[0].files.size(), 4u);
}

}  // namespace
}  // namespace hubfs::app
