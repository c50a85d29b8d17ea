#include "hubfs/fs/framework_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "hubfs/core/names.h"
#include "hubfs/core/sha256.h"

namespace hubfs::fs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using hubs::Entry;
using hubs::EntryKind;
using hubs::Listing;
using hubs::RemoteObject;

constexpr int64_t kListingTime = 1'650'000'000;

// A model file whose bytes are `body` (its sha256 published).
Entry Model(std::vector<std::string> path, std::string framework, const std::string& body) {
  Entry e(path, EntryKind::kFile,
          RemoteObject{"http://hub/" + body + "/" + path.back(), body.size(), Sha256::Of(body)}, "");
  e.framework = std::move(framework);
  return e;
}

// A model file without a published sha256 (DIGITS): identified by its URL.
Entry Unhashed(std::vector<std::string> path, std::string framework, const std::string& url) {
  Entry e(path, EntryKind::kFile, RemoteObject{url, std::nullopt, std::nullopt}, "");
  e.framework = std::move(framework);
  return e;
}

Listing Of(std::vector<Entry> entries) { return Listing{std::move(entries), kListingTime}; }

// {"<framework>/<name>": "<hub index>:<url>"} of the whole view.
std::map<std::string, std::string> Flatten(const std::vector<FrameworkViewPart>& parts) {
  std::map<std::string, std::string> out;
  for (const FrameworkViewPart& part : parts) {
    for (const Entry& e : part.listing.entries) {
      EXPECT_EQ(e.path.size(), 2u);
      EXPECT_EQ(e.path[0], e.framework);
      EXPECT_TRUE(IsSafeName(e.path[1])) << e.path[1];
      const std::string key = e.path[0] + "/" + e.path[1];
      EXPECT_EQ(out.count(key), 0u) << key << " twice";
      out[key] = std::to_string(part.hub_index) + ":" + e.remote->url;
    }
  }
  return out;
}

TEST(FrameworkViewTest, ListsModelFilesOnlyUnderTheirFramework) {
  Listing zoo = Of({
      Model({"vision", "resnet", "resnet-12.onnx"}, "onnx", "r12"),
      Entry({"vision", "resnet", "resnet-12.tar.gz"}, EntryKind::kFile, RemoteObject{"http://hub/tgz", 9, std::nullopt}, ""),
      Entry({"vision", "resnet", "info.json"}, EntryKind::kFile, std::nullopt, "{}"),
      Entry({"vision", "resnet", "model.onnx"}, EntryKind::kSymlink, std::nullopt, "resnet-12.onnx"),
      Entry({"vision"}, EntryKind::kDirectory, std::nullopt, ""),
  });
  Listing store = Of({Unhashed({"store", "lenet", "snapshot.caffemodel"}, "caffe", "http://digits/s")});
  auto parts = BuildFrameworkView({{0, "onnx", &zoo}, {3, "digits", &store}});
  EXPECT_THAT(Flatten(parts), ElementsAre(std::pair<const std::string, std::string>{"caffe/snapshot.caffemodel", "3:http://digits/s"},
                                          std::pair<const std::string, std::string>{"onnx/resnet-12.onnx", "0:http://hub/r12/resnet-12.onnx"}));
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].listing.mtime, kListingTime);
  // The view's file is the hub's: same RemoteObject, so the same cache blob.
  const Entry& e = parts[0].listing.entries[0];
  EXPECT_EQ(e.remote->sha256, Sha256::Of("r12"));
  EXPECT_EQ(e.remote->size, 3u);
}

TEST(FrameworkViewTest, TheSameFileUnderTheSameNameIsListedOnce) {
  // Two hubs publishing the same bytes (same sha256, other URLs), and one hub listing a file twice.
  Listing a = Of({Model({"m", "net.onnx"}, "onnx", "same")});
  Listing b = Of({Model({"other", "net.onnx"}, "onnx", "same"), Model({"x", "net.onnx"}, "onnx", "same")});
  Listing c = Of({Unhashed({"s", "m", "w.caffemodel"}, "caffe", "http://u/w"),
                  Unhashed({"t", "m", "w.caffemodel"}, "caffe", "http://u/w")});
  auto view = Flatten(BuildFrameworkView({{0, "a", &a}, {1, "b", &b}, {2, "c", &c}}));
  EXPECT_EQ(view.size(), 2u);
  EXPECT_EQ(view["onnx/net.onnx"], "0:http://hub/same/net.onnx");
  EXPECT_EQ(view["caffe/w.caffemodel"], "2:http://u/w");
}

TEST(FrameworkViewTest, CollisionsKeepThePlainNameForTheFirstAndQualifyTheOthers) {
  Listing digits = Of({
      Unhashed({"storeA", "lenet", "deploy.prototxt"}, "caffe", "http://a/lenet"),
      Unhashed({"storeA", "alexnet", "deploy.prototxt"}, "caffe", "http://a/alexnet"),
      Unhashed({"storeB", "lenet", "deploy.prototxt"}, "caffe", "http://b/lenet"),
      Unhashed({"storeB", "alexnet", "deploy.prototxt"}, "caffe", "http://b/alexnet"),
      Unhashed({"storeC", "alexnet", "deploy.prototxt"}, "caffe", "http://c/alexnet"),
  });
  Listing other = Of({Unhashed({"deploy.prototxt"}, "caffe", "http://o/top")});
  auto view = Flatten(BuildFrameworkView({{0, "digits", &digits}, {1, "zoo", &other}}));
  EXPECT_EQ(view["caffe/deploy.prototxt"], "0:http://a/lenet");
  EXPECT_EQ(view["caffe/deploy~alexnet.prototxt"], "0:http://a/alexnet");
  EXPECT_EQ(view["caffe/deploy~lenet.prototxt"], "0:http://b/lenet");
  EXPECT_EQ(view["caffe/deploy~alexnet~digits.prototxt"], "0:http://b/alexnet");
  EXPECT_EQ(view["caffe/deploy~alexnet~digits~2.prototxt"], "0:http://c/alexnet");
  // A file at the top of its hub is qualified by the hub's name.
  EXPECT_EQ(view["caffe/deploy~zoo.prototxt"], "1:http://o/top");
  EXPECT_EQ(view.size(), 6u);
}

TEST(FrameworkViewTest, TheOrderIsConfigurationThenListingOrder) {
  Listing a = Of({Model({"x", "m.onnx"}, "onnx", "a")});
  Listing b = Of({Model({"y", "m.onnx"}, "onnx", "b")});
  EXPECT_EQ(Flatten(BuildFrameworkView({{0, "a", &a}, {1, "b", &b}}))["onnx/m.onnx"], "0:http://hub/a/m.onnx");
  EXPECT_EQ(Flatten(BuildFrameworkView({{0, "b", &b}, {1, "a", &a}}))["onnx/m.onnx"], "0:http://hub/b/m.onnx");
}

TEST(FrameworkViewTest, ARenamedFileNeverTakesAnotherFilesOwnName) {
  // "m~y.onnx" is a file's own name, listed after the "m.onnx" that would be renamed to it.
  Listing a = Of({Model({"x", "m.onnx"}, "onnx", "1"), Model({"y", "m.onnx"}, "onnx", "2"),
                  Model({"z", "m~y.onnx"}, "onnx", "3")});
  auto view = Flatten(BuildFrameworkView({{0, "a", &a}}));
  EXPECT_EQ(view["onnx/m.onnx"], "0:http://hub/1/m.onnx");
  EXPECT_EQ(view["onnx/m~y.onnx"], "0:http://hub/3/m~y.onnx");
  EXPECT_EQ(view["onnx/m~y~a.onnx"], "0:http://hub/2/m.onnx");
}

TEST(FrameworkViewTest, AnArchiveAlsoTakesTheNameOfItsUnpackedFolder) {
  // The tree shows squeezenet/ beside squeezenet.mar: a file called "squeezenet" must not collide.
  Listing dms = Of({Model({"squeezenet.mar"}, "mxnet", "archive"), Model({"m", "squeezenet"}, "mxnet", "plain"),
                    Model({"n", "squeezenet.model"}, "mxnet", "second-archive")});
  auto view = Flatten(BuildFrameworkView({{0, "dms", &dms}}));
  EXPECT_EQ(view["mxnet/squeezenet.mar"], "0:http://hub/archive/squeezenet.mar");
  EXPECT_EQ(view["mxnet/squeezenet~m"], "0:http://hub/plain/squeezenet");
  EXPECT_EQ(view["mxnet/squeezenet~n.model"], "0:http://hub/second-archive/squeezenet.model");
  EXPECT_EQ(view.size(), 3u);
}

TEST(FrameworkViewTest, DoubleExtensionsStayWholeAndLongNamesAreCut) {
  const std::string stem(250, 'w');
  Listing a = Of({Model({"p", "data.tar.gz"}, "onnx", "1"), Model({"q", "data.tar.gz"}, "onnx", "2"),
                  Model({"p", stem + ".onnx"}, "onnx", "3"), Model({"q", stem + ".onnx"}, "onnx", "4")});
  auto view = Flatten(BuildFrameworkView({{0, "a", &a}}));
  EXPECT_EQ(view["onnx/data~q.tar.gz"], "0:http://hub/2/data.tar.gz");
  // The stem is cut, the qualifier and the extension stay: 248 + "~q" + ".onnx" = 255 bytes.
  EXPECT_EQ(view["onnx/" + stem.substr(0, 248) + "~q.onnx"], "0:http://hub/4/" + stem + ".onnx");
  EXPECT_EQ(view.size(), 4u);
}

TEST(FrameworkViewTest, CutsNamesAtACharacterBoundary) {
  std::string stem;
  for (int i = 0; i < 126; ++i) stem += "\xc3\xa9";  // "é" × 126 = 252 bytes
  Listing a = Of({Model({"p", stem + ".pt"}, "pytorch", "1"), Model({"qq", stem + ".pt"}, "pytorch", "2")});
  auto view = Flatten(BuildFrameworkView({{0, "a", &a}}));
  ASSERT_EQ(view.size(), 2u);
  for (const auto& [key, source] : view) {
    const std::string name = key.substr(key.find('/') + 1);
    ASSERT_TRUE(name.ends_with(".pt")) << name;
    const std::string base = name.substr(0, name.size() - 3);
    // Whole two-byte characters, then (for the renamed one) the qualifier.
    size_t i = 0;
    while (i + 1 < base.size() && base.compare(i, 2, "\xc3\xa9") == 0) i += 2;
    EXPECT_TRUE(i == base.size() || base[i] == '~') << name;
  }
}

TEST(FrameworkViewTest, UnsafeFrameworkNamesAreLeftOut) {
  Listing a = Of({Model({"m", "x.onnx"}, "../etc", "1"), Model({"m", "y.onnx"}, "ONNX", "2"),
                  Model({"m", "z.onnx"}, "onnx", "3")});
  auto view = Flatten(BuildFrameworkView({{0, "a", &a}}));
  EXPECT_EQ(view.size(), 1u);
  EXPECT_EQ(view.count("onnx/z.onnx"), 1u);
}

TEST(FrameworkViewTest, NoModelsNoParts) {
  Listing a = Of({Entry({"readme"}, EntryKind::kFile, std::nullopt, "hi")});
  EXPECT_THAT(BuildFrameworkView({{0, "a", &a}, {1, "b", nullptr}}), IsEmpty());
}

TEST(FrameworkViewTest, AddsTheFolderWithEachEntryStampedWithItsHub) {
  Listing a = Of({Model({"m", "x.onnx"}, "onnx", "1")});
  Listing b = Of({Model({"m", "y.onnx"}, "onnx", "2")});
  Tree tree(kListingTime);
  std::vector<std::string> warnings;
  tree.AddHub("a", a, &warnings, 0);
  tree.AddHub("b", b, &warnings, 1);
  AddFrameworkView({{0, "a", &a}, {1, "b", &b}}, kListingTime, &tree, &warnings);
  tree.Finish();
  EXPECT_THAT(warnings, IsEmpty());
  const Node* view = tree.Child(kRootId, kFrameworkFolder);
  ASSERT_NE(view, nullptr);
  const Node* onnx = tree.Child(view->id, "onnx");
  ASSERT_NE(onnx, nullptr);
  const Node* x = tree.Child(onnx->id, "x.onnx");
  const Node* y = tree.Child(onnx->id, "y.onnx");
  ASSERT_TRUE(x && y);
  EXPECT_EQ(x->hub, 0u);
  EXPECT_EQ(y->hub, 1u);
  EXPECT_EQ(y->framework, "onnx");
  EXPECT_EQ(y->size, 1u);
  EXPECT_EQ(y->remote->url, b.entries[0].remote->url);
  // The hub's own node carries the framework too (user.hubfs.framework).
  EXPECT_EQ(tree.Child(tree.Child(tree.Child(kRootId, "a")->id, "m")->id, "x.onnx")->framework, "onnx");
}

TEST(FrameworkViewTest, TheFolderExistsWithoutModelsAndYieldsToAHubOfItsName) {
  Tree empty(kListingTime);
  std::vector<std::string> warnings;
  AddFrameworkView({}, kListingTime, &empty, &warnings);
  empty.Finish();
  ASSERT_NE(empty.Child(kRootId, kFrameworkFolder), nullptr);
  EXPECT_THAT(warnings, IsEmpty());

  Listing a = Of({Model({"m", "x.onnx"}, "onnx", "1")});
  Tree taken(kListingTime);
  taken.AddHub(kFrameworkFolder, a, &warnings, 0);
  AddFrameworkView({{0, kFrameworkFolder, &a}}, kListingTime, &taken, &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("a hub has that name"));
}

TEST(FrameworkViewTest, SplitExtensionAndArchiveStem) {
  EXPECT_EQ(SplitExtension("resnet50-12.onnx"), (std::pair<std::string, std::string>{"resnet50-12", ".onnx"}));
  EXPECT_EQ(SplitExtension("data.tar.gz"), (std::pair<std::string, std::string>{"data", ".tar.gz"}));
  EXPECT_EQ(SplitExtension("a.b.c"), (std::pair<std::string, std::string>{"a.b", ".c"}));
  EXPECT_EQ(SplitExtension("README"), (std::pair<std::string, std::string>{"README", ""}));
  EXPECT_EQ(SplitExtension(".hidden"), (std::pair<std::string, std::string>{".hidden", ""}));
  EXPECT_EQ(SplitExtension(".tar.gz"), (std::pair<std::string, std::string>{".tar", ".gz"}));
  EXPECT_EQ(ArchiveStem("squeezenet.mar"), "squeezenet");
  EXPECT_EQ(ArchiveStem("x.model"), "x");
  EXPECT_EQ(ArchiveStem("b.tar.gz"), "b");
  EXPECT_EQ(ArchiveStem("b.tgz"), "b");
  EXPECT_EQ(ArchiveStem("m.onnx"), "");
  EXPECT_EQ(ArchiveStem(".zip"), "");
}

}  // namespace
}  // namespace hubfs::fs
