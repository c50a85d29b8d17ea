#include "hubfs/fs/filesystem.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "hubfs/fs/errno_map.h"
#include "testing/fake_http_client.h"
#include "testing/temp_dir.h"

namespace hubfs::fs {
namespace {

using hubfs::test::FakeHttpClient;
using hubs::Entry;
using hubs::EntryKind;
using hubs::Listing;

constexpr int64_t kListingTime = 1'650'000'000;
constexpr char kModelUrl[] = "http://zoo/vision/resnet.onnx";
const std::string kModelBody = "ONNX model weights: 0123456789abcdef";

// A hub with a fixed listing (or a fixed error).
class FakeHub final : public hubs::Hub {
 public:
  FakeHub(std::string name, Result<Listing> listing)
      : name_(std::move(name)), listing_(std::move(listing)) {}
  const std::string& name() const override { return name_; }
  Result<Listing> List(const hubs::ListOptions&) override { return listing_; }

 private:
  std::string name_;
  Result<Listing> listing_;
};

Entry File(std::vector<std::string> path, std::string content) {
  return Entry{std::move(path), EntryKind::kFile, std::nullopt, std::move(content)};
}

Listing ZooListing() {
  Listing listing;
  listing.mtime = kListingTime;
  listing.entries = {
      Entry{{"vision", "resnet.onnx"},
            EntryKind::kFile,
            hubs::RemoteObject{kModelUrl, kModelBody.size(), Sha256::Of(kModelBody)},
            ""},
      Entry{{"vision", "corrupt.onnx"},
            EntryKind::kFile,
            hubs::RemoteObject{"http://zoo/vision/corrupt.onnx", 4, Sha256::Of("good")},
            ""},
      File({"vision", "info.json"}, "{\"name\": \"resnet\"}\n"),
      Entry{{"latest"}, EntryKind::kSymlink, std::nullopt, "vision/resnet.onnx"},
      File({"README"}, "hello"),
      File({"README"}, "conflicting second README"),   // same name twice: skipped
      File({"README", "nested.txt"}, "below a file"),  // below a file: skipped
  };
  return listing;
}

class FilesystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = cache::Cache::Open(tmp_.Sub("cache"));
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    cache_ = std::move(opened).value();
    engine_ = std::make_unique<ReadEngine>(http_, *cache_, ReadEngineOptions{});
    http_.Serve(kModelUrl, {.body = kModelBody});
    http_.Serve("http://zoo/vision/corrupt.onnx", {.body = "evil"});
    options_.uid = 1234;
    options_.gid = 5678;
    fs_ = std::make_unique<Filesystem>(std::vector<hubs::Hub*>{&zoo_, &broken_, &other_}, *engine_,
                                       options_);
    fs_->Load();
  }

  // Looks up each component from the root; the Attr of the last.
  Result<Attr> Walk(const std::vector<std::string>& path) {
    NodeId at = kRootId;
    Result<Attr> attr = Status::NotFound("empty path");
    for (const auto& name : path) {
      attr = fs_->Lookup(at, name);
      if (!attr.ok()) return attr;
      at = attr->ino;
    }
    return attr;
  }

  NodeId Ino(const std::vector<std::string>& path) {
    auto attr = Walk(path);
    EXPECT_TRUE(attr.ok()) << attr.error().ToString();
    return attr.ok() ? attr->ino : 0;
  }

  std::vector<DirEntry> ReadDirAll(NodeId ino, uint64_t offset = 0) {
    std::vector<DirEntry> entries;
    Status s = fs_->ReadDir(ino, offset, [&](const DirEntry& e, uint64_t) {
      entries.push_back(e);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return entries;
  }

  static std::vector<std::string> Names(const std::vector<DirEntry>& entries) {
    std::vector<std::string> names;
    for (const auto& e : entries) names.push_back(e.name);
    return names;
  }

  // Opens `path`, reads `size` bytes at `offset`, releases.
  Result<std::string> ReadFile(const std::vector<std::string>& path, uint64_t offset, size_t size) {
    auto opened = fs_->Open(Ino(path));
    if (!opened.ok()) return opened.error();
    std::string buf(size, '\0');
    auto n = fs_->Read(opened->handle, offset, size, buf.data());
    fs_->Release(opened->handle);
    if (!n.ok()) return n.error();
    buf.resize(*n);
    return buf;
  }

  hubfs::test::TempDir tmp_;
  FakeHttpClient http_;
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<ReadEngine> engine_;
  FakeHub zoo_{"zoo", ZooListing()};
  FakeHub broken_{"broken", Status::Unavailable("GET http://broken/index.json: HTTP 503")};
  FakeHub other_{"other", Listing{{File({"ok.txt"}, "fine")}, kListingTime}};
  FsOptions options_;
  std::unique_ptr<Filesystem> fs_;
};

TEST_F(FilesystemTest, RootListsOneFolderPerHub) {
  EXPECT_EQ(Names(ReadDirAll(kRootId)),
            (std::vector<std::string>{".", "..", ".hubfs", "broken", "other", "zoo"}));
}

TEST_F(FilesystemTest, LookupReturnsAttrAndCountsReferences) {
  auto attr = fs_->Lookup(kRootId, "zoo");
  ASSERT_TRUE(attr.ok()) << attr.error().ToString();
  const NodeId zoo = attr->ino;
  EXPECT_NE(zoo, kRootId);
  EXPECT_EQ(fs_->LookupCount(zoo), 1u);
  ASSERT_TRUE(fs_->Lookup(kRootId, "zoo").ok());
  EXPECT_EQ(fs_->LookupCount(zoo), 2u);
  EXPECT_EQ(fs_->LookupCount(kRootId), 0u);
}

TEST_F(FilesystemTest, ForgetDecrementsAndSaturates) {
  const NodeId zoo = Ino({"zoo"});
  ASSERT_TRUE(fs_->Lookup(kRootId, "zoo").ok());
  ASSERT_TRUE(fs_->Lookup(kRootId, "zoo").ok());
  ASSERT_EQ(fs_->LookupCount(zoo), 3u);

  fs_->Forget(zoo, 2);
  EXPECT_EQ(fs_->LookupCount(zoo), 1u);
  fs_->Forget(zoo, 5);
  EXPECT_EQ(fs_->LookupCount(zoo), 0u);
  fs_->Forget(zoo, 1);
  EXPECT_EQ(fs_->LookupCount(zoo), 0u);
  fs_->Forget(9999, 1);  // never looked up: ignored
  EXPECT_EQ(fs_->LookupCount(9999), 0u);

  ASSERT_TRUE(fs_->Lookup(kRootId, "zoo").ok());
  EXPECT_EQ(fs_->LookupCount(zoo), 1u) << "counting starts again after a full forget";
}

TEST_F(FilesystemTest, LookupOfUnknownNameIsNotFoundAndNotCounted) {
  const NodeId zoo = Ino({"zoo"});
  auto attr = fs_->Lookup(zoo, "no-such-model");
  ASSERT_FALSE(attr.ok());
  EXPECT_EQ(attr.error().code(), Code::kNotFound);
  EXPECT_EQ(ErrnoFor(attr.error()), ENOENT);
  EXPECT_FALSE(fs_->Lookup(zoo, "VISION").ok()) << "names are case-sensitive";
}

TEST_F(FilesystemTest, LookupInUnknownInodeIsNotFound) {
  auto attr = fs_->Lookup(424242, "x");
  ASSERT_FALSE(attr.ok());
  EXPECT_EQ(attr.error().code(), Code::kNotFound);
}

TEST_F(FilesystemTest, LookupInAFileIsAnErrorAndNotCounted) {
  const NodeId readme = Ino({"zoo", "README"});
  const uint64_t before = fs_->LookupCount(readme);
  auto attr = fs_->Lookup(readme, "x");
  ASSERT_FALSE(attr.ok());
  EXPECT_NE(ErrnoFor(attr.error()), 0);
  EXPECT_EQ(fs_->LookupCount(readme), before);
}

TEST_F(FilesystemTest, GetAttrOfFolder) {
  auto root = fs_->GetAttr(kRootId);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->ino, kRootId);
  EXPECT_EQ(root->mode, static_cast<uint32_t>(S_IFDIR | 0555));
  EXPECT_GE(root->nlink, 2u);

  auto vision = fs_->GetAttr(Ino({"zoo", "vision"}));
  ASSERT_TRUE(vision.ok());
  EXPECT_EQ(vision->mode, static_cast<uint32_t>(S_IFDIR | 0555));
  EXPECT_EQ(vision->mtime, kListingTime);
  EXPECT_EQ(vision->uid, 1234u);
  EXPECT_EQ(vision->gid, 5678u);
}

TEST_F(FilesystemTest, GetAttrOfRemoteFileUsesListedSizeWithoutDownloading) {
  auto attr = fs_->GetAttr(Ino({"zoo", "vision", "resnet.onnx"}));
  ASSERT_TRUE(attr.ok());
  EXPECT_EQ(attr->mode, static_cast<uint32_t>(S_IFREG | 0444));
  EXPECT_EQ(attr->size, kModelBody.size());
  EXPECT_EQ(attr->mtime, kListingTime);
  EXPECT_EQ(attr->nlink, 1u);
  EXPECT_EQ(attr->uid, 1234u);
  EXPECT_EQ(http_.TotalRequests(), 0);
}

TEST_F(FilesystemTest, GetAttrOfGeneratedFileAndSymlink) {
  auto info = fs_->GetAttr(Ino({"zoo", "vision", "info.json"}));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->mode, static_cast<uint32_t>(S_IFREG | 0444));
  EXPECT_EQ(info->size, 19u);

  auto link = fs_->GetAttr(Ino({"zoo", "latest"}));
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->mode, static_cast<uint32_t>(S_IFLNK | 0777));
  EXPECT_EQ(link->size, std::string("vision/resnet.onnx").size());
}

TEST_F(FilesystemTest, LookupAttrMatchesGetAttr) {
  auto looked_up = Walk({"zoo", "vision", "resnet.onnx"});
  ASSERT_TRUE(looked_up.ok());
  auto attr = fs_->GetAttr(looked_up->ino);
  ASSERT_TRUE(attr.ok());
  EXPECT_EQ(looked_up->mode, attr->mode);
  EXPECT_EQ(looked_up->size, attr->size);
  EXPECT_EQ(looked_up->mtime, attr->mtime);
}

TEST_F(FilesystemTest, GetAttrOfUnknownInodeIsNotFound) {
  EXPECT_EQ(fs_->GetAttr(0).status().code(), Code::kNotFound);
  EXPECT_EQ(fs_->GetAttr(424242).status().code(), Code::kNotFound);
}

TEST_F(FilesystemTest, ReadDirListsDotsFirstThenSortedChildren) {
  const NodeId zoo = Ino({"zoo"});
  std::vector<std::pair<DirEntry, uint64_t>> seen;
  ASSERT_TRUE(fs_->ReadDir(zoo, 0,
                           [&](const DirEntry& e, uint64_t next) {
                             seen.emplace_back(e, next);
                             return true;
                           })
                  .ok());

  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[0].first.name, ".");
  EXPECT_EQ(seen[0].first.ino, zoo);
  EXPECT_EQ(seen[1].first.name, "..");
  EXPECT_EQ(seen[1].first.ino, kRootId);
  EXPECT_EQ(seen[2].first.name, "README");
  EXPECT_EQ(seen[2].first.mode & S_IFMT, static_cast<uint32_t>(S_IFREG));
  EXPECT_EQ(seen[3].first.name, "latest");
  EXPECT_EQ(seen[3].first.mode & S_IFMT, static_cast<uint32_t>(S_IFLNK));
  EXPECT_EQ(seen[4].first.name, "vision");
  EXPECT_EQ(seen[4].first.mode & S_IFMT, static_cast<uint32_t>(S_IFDIR));
  EXPECT_EQ(seen[4].first.ino, Ino({"zoo", "vision"}));
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i].second, i + 1);
}

TEST_F(FilesystemTest, ReadDirOfRootHasRootAsParent) {
  auto entries = ReadDirAll(kRootId);
  ASSERT_GE(entries.size(), 2u);
  EXPECT_EQ(entries[1].name, "..");
  EXPECT_EQ(entries[1].ino, kRootId);
}

TEST_F(FilesystemTest, ReadDirResumesFromOffset) {
  const NodeId zoo = Ino({"zoo"});
  EXPECT_EQ(Names(ReadDirAll(zoo, 3)), (std::vector<std::string>{"latest", "vision"}));
  EXPECT_EQ(Names(ReadDirAll(zoo, 1)),
            (std::vector<std::string>{"..", "README", "latest", "vision"}));
  EXPECT_TRUE(ReadDirAll(zoo, 5).empty());
  EXPECT_TRUE(ReadDirAll(zoo, 1000).empty());
}

TEST_F(FilesystemTest, ReadDirStopsWhenCallbackIsFullAndResumesWithoutLoss) {
  const NodeId zoo = Ino({"zoo"});
  std::vector<std::string> names;
  uint64_t resume = 0;
  int calls = 0;
  // A buffer with room for two entries per call, like a small getdents buffer.
  for (int round = 0; round < 10; ++round) {
    int room = 2;
    size_t before = names.size();
    ASSERT_TRUE(fs_->ReadDir(zoo, resume,
                             [&](const DirEntry& e, uint64_t next) {
                               ++calls;
                               if (room == 0) return false;
                               --room;
                               names.push_back(e.name);
                               resume = next;
                               return true;
                             })
                    .ok());
    if (names.size() == before) break;
  }
  EXPECT_EQ(names, (std::vector<std::string>{".", "..", "README", "latest", "vision"}));
  EXPECT_LE(calls, 8) << "ReadDir must stop at the first refused entry";
}

TEST_F(FilesystemTest, ReadDirOfAFileIsAnError) {
  Status s =
      fs_->ReadDir(Ino({"zoo", "README"}), 0, [](const DirEntry&, uint64_t) { return true; });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(fs_->ReadDir(424242, 0, [](const DirEntry&, uint64_t) { return true; }).code(),
            Code::kNotFound);
}

TEST_F(FilesystemTest, ReadLinkReturnsTarget) {
  auto target = fs_->ReadLink(Ino({"zoo", "latest"}));
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(*target, "vision/resnet.onnx");
  EXPECT_FALSE(fs_->ReadLink(Ino({"zoo", "README"})).ok());
  EXPECT_EQ(fs_->ReadLink(424242).status().code(), Code::kNotFound);
}

TEST_F(FilesystemTest, OpenOnlyFiles) {
  auto file = fs_->Open(Ino({"zoo", "README"}));
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(file->keep_cache);
  EXPECT_FALSE(fs_->Open(Ino({"zoo", "vision"})).ok());
  EXPECT_FALSE(fs_->Open(Ino({"zoo", "latest"})).ok());
  EXPECT_EQ(fs_->Open(424242).status().code(), Code::kNotFound);
  fs_->Release(file->handle);
}

TEST_F(FilesystemTest, HandlesAreDistinctAndCounted) {
  const NodeId readme = Ino({"zoo", "README"});
  auto a = fs_->Open(readme);
  auto b = fs_->Open(readme);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->handle, b->handle);
  EXPECT_EQ(fs_->Stats().open_handles, 2u);
  fs_->Release(a->handle);
  EXPECT_EQ(fs_->Stats().open_handles, 1u);
  fs_->Release(b->handle);
  EXPECT_EQ(fs_->Stats().open_handles, 0u);
}

TEST_F(FilesystemTest, ReadGeneratedContentAtOffsetsAndPastEnd) {
  const std::vector<std::string> readme = {"zoo", "README"};
  EXPECT_EQ(ReadFile(readme, 0, 100).value(), "hello");
  EXPECT_EQ(ReadFile(readme, 1, 3).value(), "ell");
  EXPECT_EQ(ReadFile(readme, 3, 100).value(), "lo");
  EXPECT_EQ(ReadFile(readme, 5, 10).value(), "");
  EXPECT_EQ(ReadFile(readme, 500, 10).value(), "");
  EXPECT_EQ(ReadFile(readme, 0, 0).value(), "");
  EXPECT_EQ(http_.TotalRequests(), 0);
}

TEST_F(FilesystemTest, ReadRemoteContentDownloadsOnceAndServesOffsets) {
  const std::vector<std::string> model = {"zoo", "vision", "resnet.onnx"};
  auto opened = fs_->Open(Ino(model));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(http_.TotalRequests(), 0) << "open alone does not download";

  char buf[64];
  auto n = fs_->Read(opened->handle, 20, 6, buf);
  ASSERT_TRUE(n.ok()) << n.error().ToString();
  EXPECT_EQ(std::string(buf, *n), kModelBody.substr(20, 6));

  n = fs_->Read(opened->handle, kModelBody.size() - 4, sizeof buf, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), kModelBody.substr(kModelBody.size() - 4));

  n = fs_->Read(opened->handle, kModelBody.size() + 100, sizeof buf, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  // One block, fetched once for all reads of the open file.
  EXPECT_EQ(engine_->counters().blocks_fetched, 1u);
  EXPECT_EQ(http_.RequestCount(kModelUrl), 1);
  fs_->Release(opened->handle);

  // Another open of the same file is served from the cache.
  EXPECT_EQ(ReadFile(model, 0, 100).value(), kModelBody);
  EXPECT_EQ(http_.RequestCount(kModelUrl), 1);
  EXPECT_EQ(engine_->counters().blocks_fetched, 1u);
  auto record = cache_->GetBlob(cache::BlobKeyForDigest(Sha256::Of(kModelBody)));
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->state, cache::BlobState::kVerified);
}

TEST_F(FilesystemTest, ReadOfCorruptRemoteContentIsAnIoError) {
  auto got = ReadFile({"zoo", "vision", "corrupt.onnx"}, 0, 4);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), Code::kDataLoss);
  EXPECT_EQ(ErrnoFor(got.error()), EIO);
}

TEST_F(FilesystemTest, ConcurrentReadsOfOneHandleDownloadOnce) {
  auto opened = fs_->Open(Ino({"zoo", "vision", "resnet.onnx"}));
  ASSERT_TRUE(opened.ok());
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] {
      char buf[64];
      auto n = fs_->Read(opened->handle, i, 8, buf);
      got[i] = n.ok() ? std::string(buf, *n) : n.error().ToString();
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], kModelBody.substr(i, 8));
  EXPECT_EQ(http_.RequestCount(kModelUrl), 1);
  fs_->Release(opened->handle);
}

TEST_F(FilesystemTest, ReleaseInvalidatesTheHandle) {
  auto opened = fs_->Open(Ino({"zoo", "README"}));
  ASSERT_TRUE(opened.ok());
  fs_->Release(opened->handle);
  char buf[8];
  auto n = fs_->Read(opened->handle, 0, sizeof buf, buf);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(ErrnoFor(n.error()), 0);
  fs_->Release(opened->handle);  // twice: harmless
  EXPECT_FALSE(fs_->Read(987654, 0, sizeof buf, buf).ok());
}

TEST_F(FilesystemTest, FailingHubShowsErrorFileOthersUnaffected) {
  EXPECT_EQ(Names(ReadDirAll(Ino({"broken"}))), (std::vector<std::string>{".", "..", "ERROR.txt"}));
  auto attr = Walk({"broken", kErrorFileName});
  ASSERT_TRUE(attr.ok());
  EXPECT_EQ(attr->mode, static_cast<uint32_t>(S_IFREG | 0444));

  auto text = ReadFile({"broken", kErrorFileName}, 0, 4096);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->size(), attr->size);
  EXPECT_NE(text->find("GET http://broken/index.json: HTTP 503"), std::string::npos) << *text;
  EXPECT_NE(text->find("broken"), std::string::npos);
  EXPECT_EQ(text->back(), '\n');

  EXPECT_EQ(ReadFile({"other", "ok.txt"}, 0, 100).value(), "fine");
  EXPECT_FALSE(Walk({"other", kErrorFileName}).ok());
  EXPECT_FALSE(Walk({"zoo", kErrorFileName}).ok());
}

TEST_F(FilesystemTest, ConflictingEntriesAreSkipped) {
  EXPECT_EQ(ReadFile({"zoo", "README"}, 0, 100).value(), "hello") << "the first README wins";
  auto attr = Walk({"zoo", "README"});
  ASSERT_TRUE(attr.ok());
  EXPECT_EQ(attr->mode & S_IFMT, static_cast<uint32_t>(S_IFREG));
  EXPECT_FALSE(fs_->Lookup(attr->ino, "nested.txt").ok());
}

TEST_F(FilesystemTest, StatsCountNodes) {
  // root; zoo, vision, resnet.onnx, corrupt.onnx, info.json, latest, README;
  // broken, ERROR.txt; other, ok.txt; .hubfs, stats, errors, config
  EXPECT_EQ(fs_->Stats().nodes, 16u);
  EXPECT_EQ(fs_->Stats().open_handles, 0u);
}

TEST_F(FilesystemTest, RemoteStrictFileMayKeepThePageCache) {
  auto opened = fs_->Open(Ino({"zoo", "vision", "resnet.onnx"}));
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_TRUE(opened->keep_cache) << "strict content is verified before any byte is served";
  EXPECT_FALSE(opened->direct_io) << "the size is published";
  fs_->Release(opened->handle);
}

TEST_F(FilesystemTest, CorruptRemoteContentLeavesNothingCached) {
  ASSERT_FALSE(ReadFile({"zoo", "vision", "corrupt.onnx"}, 0, 4).ok());
  auto record = cache_->GetBlob(cache::BlobKeyForDigest(Sha256::Of("good")));
  ASSERT_TRUE(record.ok());
  EXPECT_FALSE(record->has_value());
  EXPECT_EQ(cache_->Usage().used_bytes, 0u);
}

// Two hubs with the same files, one strict and one lazy.
class FilesystemPolicyTest : public ::testing::Test {
 protected:
  static Listing HubListing(const std::string& host) {
    Listing listing;
    listing.mtime = kListingTime;
    listing.entries = {
        Entry{{"good.onnx"}, EntryKind::kFile,
              hubs::RemoteObject{"http://" + host + "/good.onnx", kModelBody.size(), Sha256::Of(kModelBody)},
              ""},
        Entry{{"bad.onnx"}, EntryKind::kFile,
              hubs::RemoteObject{"http://" + host + "/bad.onnx", 4, Sha256::Of("good")}, ""},
        Entry{{"unsized.bin"}, EntryKind::kFile,
              hubs::RemoteObject{"http://" + host + "/unsized.bin", std::nullopt, std::nullopt}, ""},
        Entry{{"missing.onnx"}, EntryKind::kFile,
              hubs::RemoteObject{"http://" + host + "/missing.onnx", 3, Sha256::Of("abc")}, ""},
    };
    return listing;
  }

  void SetUp() override {
    auto opened = cache::Cache::Open(tmp_.Sub("cache"));
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    cache_ = std::move(opened).value();
    for (const char* host : {"strict", "lazy"}) {
      http_.Serve(std::string("http://") + host + "/good.onnx", {.body = kModelBody});
      http_.Serve(std::string("http://") + host + "/bad.onnx", {.body = "evil"});
      http_.Serve(std::string("http://") + host + "/unsized.bin", {.body = "no size was published"});
    }
    engine_ = std::make_unique<ReadEngine>(http_, *cache_, ReadEngineOptions{});
    FsOptions options;
    options.verification = {Verification::kStrict, Verification::kLazy};
    fs_ = std::make_unique<Filesystem>(std::vector<hubs::Hub*>{&strict_, &lazy_}, *engine_, options);
    fs_->Load();
  }

  NodeId Ino(const std::string& hub, const std::string& name) {
    auto dir = fs_->Lookup(kRootId, hub);
    EXPECT_TRUE(dir.ok());
    if (!dir.ok()) return 0;
    auto file = fs_->Lookup(dir->ino, name);
    EXPECT_TRUE(file.ok()) << hub << "/" << name;
    return file.ok() ? file->ino : 0;
  }

  Result<std::string> ReadAll(uint64_t handle, size_t size = 4096) {
    std::string buf(size, '\0');
    auto n = fs_->Read(handle, 0, size, buf.data());
    if (!n.ok()) return n.error();
    buf.resize(*n);
    return buf;
  }

  hubfs::test::TempDir tmp_;
  FakeHttpClient http_;
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<ReadEngine> engine_;
  FakeHub strict_{"strict", HubListing("strict")};
  FakeHub lazy_{"lazy", HubListing("lazy")};
  std::unique_ptr<Filesystem> fs_;
};

TEST_F(FilesystemPolicyTest, LazyFileKeepsNoPageCacheUntilVerified) {
  auto opened = fs_->Open(Ino("lazy", "good.onnx"));
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_FALSE(opened->keep_cache) << "unverified lazy content may still turn out bad";
  EXPECT_EQ(ReadAll(opened->handle).value(), kModelBody);
  // The same content through the strict hub is verified before it is served.
  auto strict = fs_->Open(Ino("strict", "good.onnx"));
  ASSERT_TRUE(strict.ok());
  EXPECT_TRUE(strict->keep_cache);
  EXPECT_EQ(ReadAll(strict->handle).value(), kModelBody);
  fs_->Release(strict->handle);
  fs_->Release(opened->handle);
  // Once verified, a lazy open may keep the page cache too.
  auto again = fs_->Open(Ino("lazy", "good.onnx"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->keep_cache);
  fs_->Release(again->handle);
}

TEST_F(FilesystemPolicyTest, LazyCorruptContentEndsAsAnIoError) {
  auto opened = fs_->Open(Ino("lazy", "bad.onnx"));
  ASSERT_TRUE(opened.ok());
  // The first read may be served before the whole file is verified; later reads fail.
  Result<std::string> got = ReadAll(opened->handle);
  for (int i = 0; i < 500 && got.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    got = ReadAll(opened->handle);
  }
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), Code::kDataLoss);
  EXPECT_EQ(ErrnoFor(got.error()), EIO);
  fs_->Release(opened->handle);
}

TEST_F(FilesystemPolicyTest, UnsizedFileUsesDirectIoAndHeadForItsSize) {
  auto opened = fs_->Open(Ino("strict", "unsized.bin"));
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_TRUE(opened->direct_io);
  EXPECT_EQ(ReadAll(opened->handle).value(), "no size was published");
  auto requests = http_.Requests("http://strict/unsized.bin");
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests[0].method, "HEAD");
  fs_->Release(opened->handle);
}

TEST_F(FilesystemPolicyTest, ListedFileMissingOnTheServerIsEioNotEnoent) {
  for (const char* hub : {"strict", "lazy"}) {
    auto opened = fs_->Open(Ino(hub, "missing.onnx"));
    ASSERT_TRUE(opened.ok());
    auto got = ReadAll(opened->handle);
    ASSERT_FALSE(got.ok()) << hub;
    EXPECT_NE(got.error().code(), Code::kNotFound) << got.error().ToString();
    EXPECT_EQ(ErrnoFor(got.error()), EIO) << got.error().ToString();
    EXPECT_EQ(got.error().http_status(), 404);
    fs_->Release(opened->handle);
  }
}

// A cache and a read engine for a filesystem without hubs.
struct NoHubs {
  hubfs::test::TempDir tmp;
  FakeHttpClient http;
  std::unique_ptr<cache::Cache> cache = cache::Cache::Open(tmp.Sub("cache")).value();
  ReadEngine engine{http, *cache, ReadEngineOptions{}};
};

TEST(FilesystemBeforeLoadTest, OnlyTheEmptyRoot) {
  NoHubs env;
  Filesystem fs({}, env.engine, FsOptions{});
  auto root = fs.GetAttr(kRootId);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->mode, static_cast<uint32_t>(S_IFDIR | 0555));
  EXPECT_EQ(fs.Stats().nodes, 1u);
  fs.Load();
  EXPECT_EQ(fs.Stats().nodes, 5u) << "the root and .hubfs/{stats,errors,config}";
}

TEST(FilesystemStatusFilesTest, StatsAndErrorsAreMadeAtOpen) {
  NoHubs env;
  FsOptions options;
  options.config_text = "# effective configuration\n";
  Filesystem fs({}, env.engine, options);
  fs.Load();
  const NodeId dir = fs.Lookup(kRootId, ".hubfs")->ino;
  auto read_all = [&](const char* name) {
    auto attr = fs.Lookup(dir, name);
    EXPECT_TRUE(attr.ok());
    auto opened = fs.Open(attr->ino);
    EXPECT_TRUE(opened.ok());
    std::string buf(1 << 16, '\0');
    auto n = fs.Read(opened->handle, 0, buf.size(), buf.data());
    fs.Release(opened->handle);
    buf.resize(n.value_or(0));
    return std::make_pair(*opened, buf);
  };
  auto [stats_open, stats] = read_all("stats");
  EXPECT_TRUE(stats_open.direct_io) << "made at open: st_size cannot be known";
  EXPECT_FALSE(stats_open.keep_cache);
  EXPECT_NE(stats.find("# TYPE hubfs_origin_bytes_total counter\nhubfs_origin_bytes_total 0\n"), std::string::npos)
      << stats;
  EXPECT_EQ(read_all("errors").second, "no errors since the mount\n");
  EXPECT_EQ(read_all("config").second, "# effective configuration\n");

  fs.RecordError("read", dir, Status::DataLoss("sha256 mismatch"));
  const std::string errors = read_all("errors").second;
  EXPECT_NE(errors.find("read /.hubfs: DataLoss: sha256 mismatch"), std::string::npos) << errors;
  EXPECT_NE(read_all("stats").second.find("hubfs_errors_total{kind=\"DataLoss\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace hubfs::fs
