// Filesystem::Refresh: new listings replace the tree while unchanged entries keep their inode
// numbers, vanished entries the kernel holds stay reachable, and open files keep reading.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "hubfs/fs/filesystem.h"
#include "testing/fake_http_client.h"
#include "testing/temp_dir.h"

namespace hubfs::fs {
namespace {

using hubs::Entry;
using hubs::EntryKind;
using hubs::Listing;

// A hub whose listing the test changes; counts List calls and remembers the last options.
class ChangingHub final : public hubs::Hub {
 public:
  explicit ChangingHub(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  Result<Listing> List(const hubs::ListOptions& options) override {
    calls++;
    last_refresh = options.refresh;
    return listing;
  }
  Result<Listing> listing = Listing{};
  int calls = 0;
  bool last_refresh = false;

 private:
  std::string name_;
};

Entry Text(std::vector<std::string> path, std::string content) {
  return Entry{std::move(path), EntryKind::kFile, std::nullopt, std::move(content)};
}

class FilesystemRefreshTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = cache::Cache::Open(tmp_.Sub("cache"));
    ASSERT_TRUE(opened.ok());
    cache_ = std::move(opened).value();
    engine_ = std::make_unique<ReadEngine>(http_, *cache_, ReadEngineOptions{});
    zoo_.listing = Listing{{Text({"a", "keep.txt"}, "keep"), Text({"a", "old.txt"}, "old")}, 1};
    other_.listing = Listing{{Text({"o.txt"}, "other")}, 1};
    fs_ = std::make_unique<Filesystem>(std::vector<hubs::Hub*>{&zoo_, &other_}, *engine_, FsOptions{});
    fs_->Load();
  }

  Result<Attr> Walk(const std::vector<std::string>& path) {
    NodeId at = kRootId;
    Result<Attr> attr = Status::NotFound("empty");
    for (const auto& name : path) {
      attr = fs_->Lookup(at, name);
      if (!attr.ok()) return attr;
      at = attr->ino;
    }
    return attr;
  }

  Result<std::string> ReadAll(NodeId ino) {
    auto opened = fs_->Open(ino);
    if (!opened.ok()) return opened.error();
    std::string buf(100, '\0');
    auto n = fs_->Read(opened->handle, 0, buf.size(), buf.data());
    fs_->Release(opened->handle);
    if (!n.ok()) return n.error();
    buf.resize(*n);
    return buf;
  }

  hubfs::test::TempDir tmp_;
  hubfs::test::FakeHttpClient http_;
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<ReadEngine> engine_;
  ChangingHub zoo_{"zoo"};
  ChangingHub other_{"other"};
  std::unique_ptr<Filesystem> fs_;
};

TEST_F(FilesystemRefreshTest, RefreshShowsNewEntriesAndKeepsNumbersOfUnchangedOnes) {
  const NodeId keep = Walk({"zoo", "a", "keep.txt"})->ino;
  const NodeId old = Walk({"zoo", "a", "old.txt"})->ino;
  EXPECT_FALSE(Walk({"zoo", "a", "new.txt"}).ok());
  zoo_.listing = Listing{{Text({"a", "keep.txt"}, "keep"), Text({"a", "new.txt"}, "new")}, 2};

  auto result = fs_->Refresh({"zoo"}, {.refresh = true});

  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(result->hubs, std::vector<std::string>{"zoo"});
  EXPECT_TRUE(zoo_.last_refresh) << "refresh must reach the hub";
  EXPECT_EQ(other_.calls, 1) << "only the named hub is listed again";
  EXPECT_EQ(result->changes.added, 1u);
  EXPECT_EQ(result->changes.removed, 1u);
  EXPECT_EQ(Walk({"zoo", "a", "keep.txt"})->ino, keep);
  EXPECT_EQ(ReadAll(Walk({"zoo", "a", "new.txt"})->ino).value(), "new");
  EXPECT_FALSE(Walk({"zoo", "a", "old.txt"}).ok());
  // The kernel still holds old.txt (looked up above): its number answers until forgotten.
  EXPECT_TRUE(fs_->GetAttr(old).ok());
  EXPECT_EQ(ReadAll(old).value(), "old");
  fs_->Forget(old, fs_->LookupCount(old));
  EXPECT_FALSE(fs_->GetAttr(old).ok());
  // The other hub is untouched.
  EXPECT_EQ(ReadAll(Walk({"other", "o.txt"})->ino).value(), "other");
}

TEST_F(FilesystemRefreshTest, OpenFilesKeepReadingAcrossARefresh) {
  const NodeId ino = Walk({"zoo", "a", "old.txt"})->ino;
  auto opened = fs_->Open(ino);
  ASSERT_TRUE(opened.ok());
  zoo_.listing = Listing{{Text({"a", "keep.txt"}, "keep")}, 2};
  ASSERT_TRUE(fs_->Refresh({}, {}).ok());
  std::string buf(10, '\0');
  auto n = fs_->Read(opened->handle, 0, buf.size(), buf.data());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(buf.substr(0, *n), "old");
  fs_->Release(opened->handle);
}

TEST_F(FilesystemRefreshTest, FailingRefreshKeepsTheLastListing) {
  zoo_.listing = Status::Unavailable("GET http://zoo/index: HTTP 503");
  auto result = fs_->Refresh({"zoo"}, {.refresh = true});
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->errors.size(), 1u);
  EXPECT_NE(result->errors[0].find("503"), std::string::npos);
  EXPECT_TRUE(Walk({"zoo", "a", "keep.txt"}).ok());
  EXPECT_FALSE(Walk({"zoo", "ERROR.txt"}).ok());
}

TEST_F(FilesystemRefreshTest, HubThatNeverListedShowsErrorUntilARefreshWorks) {
  ChangingHub late("late");
  late.listing = Status::Unavailable("down");
  Filesystem fs({&late}, *engine_, FsOptions{});
  fs.Load();
  auto dir = fs.Lookup(kRootId, "late");
  ASSERT_TRUE(dir.ok());
  EXPECT_TRUE(fs.Lookup(dir->ino, "ERROR.txt").ok());
  late.listing = Listing{{Text({"up.txt"}, "up")}, 2};
  auto result = fs.Refresh({}, {.refresh = true});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(fs.Lookup(kRootId, "late")->ino, dir->ino) << "the hub folder keeps its number";
  EXPECT_TRUE(fs.Lookup(dir->ino, "up.txt").ok());
  EXPECT_FALSE(fs.Lookup(dir->ino, "ERROR.txt").ok());
}

TEST_F(FilesystemRefreshTest, OtherXattrNamespacesAreUnsupportedNotMissing) {
  const NodeId ino = Walk({"zoo", "a", "keep.txt"})->ino;
  EXPECT_EQ(fs_->GetXattr(ino, "security.selinux").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(fs_->GetXattr(kRootId, "system.posix_acl_access").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(fs_->GetXattr(ino, "user.hubfs.sha256").error().code(), Code::kNotFound);
}

TEST_F(FilesystemRefreshTest, UnknownHubNameIsNotFoundAndNamesTheHubs) {
  auto result = fs_->Refresh({"nope"}, {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), Code::kNotFound);
  EXPECT_NE(result.error().message().find("zoo, other"), std::string::npos) << result.error().message();
  EXPECT_EQ(zoo_.calls, 1);
}

// A file whose hub publishes no size learns it with one HEAD on lookup, remembered after.
TEST(FilesystemSizesTest, UnpublishedSizeIsLearnedOnLookupAndOpenUsesIt) {
  hubfs::test::TempDir tmp;
  hubfs::test::FakeHttpClient http;
  auto cache = cache::Cache::Open(tmp.Sub("cache")).value();
  ReadEngine engine(http, *cache, ReadEngineOptions{});
  RemoteSizes sizes(http, *cache, 600);
  const std::string url = "http://store/lenet/weights.caffemodel";
  http.Serve(url, {.headers = {{"ETag", "\"w1\""}}, .body = "caffe weights"});
  http.Serve("http://store/lenet/missing.bin", {.status = 404});
  ChangingHub store("store");
  store.listing = Listing{{Entry{{"weights.caffemodel"}, EntryKind::kFile, hubs::RemoteObject{url, std::nullopt, std::nullopt}, ""},
                           Entry{{"missing.bin"}, EntryKind::kFile,
                                 hubs::RemoteObject{"http://store/lenet/missing.bin", std::nullopt, std::nullopt}, ""}},
                          1};
  Filesystem fs({&store}, engine, FsOptions{}, &sizes);
  fs.Load();
  const NodeId dir = fs.Lookup(kRootId, "store")->ino;

  auto attr = fs.Lookup(dir, "weights.caffemodel");
  ASSERT_TRUE(attr.ok());
  EXPECT_EQ(attr->size, 13u);
  EXPECT_EQ(attr->timeout, FsOptions{}.entry_timeout);
  EXPECT_EQ(http.RequestCount(url), 1);
  auto opened = fs.Open(attr->ino);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_FALSE(opened->direct_io) << "the size is known now";
  std::string buf(64, '\0');
  EXPECT_EQ(fs.Read(opened->handle, 0, buf.size(), buf.data()).value(), 13u);
  fs.Release(opened->handle);
  EXPECT_EQ(http.RequestCount(url), 2) << "one HEAD, one GET";

  auto missing = fs.Lookup(dir, "missing.bin");
  ASSERT_TRUE(missing.ok()) << "listed by the hub: it exists, its size is unknown";
  EXPECT_EQ(missing->size, 0u);
  EXPECT_EQ(missing->timeout, FsOptions{}.unknown_size_timeout);
  auto open_missing = fs.Open(missing->ino);
  ASSERT_FALSE(open_missing.ok());
  EXPECT_NE(open_missing.error().code(), Code::kNotFound) << "an I/O error, not ENOENT, for a listed file";
}

}  // namespace
}  // namespace hubfs::fs
