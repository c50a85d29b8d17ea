#include "hubfs/fs/tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace hubfs::fs {
namespace {

using hubs::Entry;
using hubs::EntryKind;
using hubs::Listing;
using hubs::RemoteObject;

constexpr int64_t kTreeTime = 1000;
constexpr int64_t kListingTime = 2000;

Entry File(std::vector<std::string> path, std::string content) {
  return Entry{std::move(path), EntryKind::kFile, std::nullopt, std::move(content)};
}

Entry Remote(std::vector<std::string> path, std::optional<uint64_t> size) {
  std::string url = "http://hub/" + path.back();
  return Entry{std::move(path), EntryKind::kFile, RemoteObject{std::move(url), size, std::nullopt},
               ""};
}

Entry Dir(std::vector<std::string> path) {
  return Entry{std::move(path), EntryKind::kDirectory, std::nullopt, ""};
}

Entry Link(std::vector<std::string> path, std::string target) {
  return Entry{std::move(path), EntryKind::kSymlink, std::nullopt, std::move(target)};
}

// Follows `path` from the root; nullptr when a component is missing.
const Node* Find(const Tree& tree, const std::vector<std::string>& path) {
  const Node* node = tree.Get(kRootId);
  for (const auto& name : path) {
    if (node == nullptr) return nullptr;
    node = tree.Child(node->id, name);
  }
  return node;
}

std::vector<std::string> ChildNames(const Tree& tree, const Node& dir) {
  std::vector<std::string> names;
  for (NodeId id : dir.children) names.push_back(tree.Get(id)->name);
  return names;
}

TEST(TreeTest, NewTreeHasOnlyTheRoot) {
  Tree tree(kTreeTime);
  EXPECT_EQ(tree.size(), 1u);
  const Node* root = tree.Get(kRootId);
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->id, kRootId);
  EXPECT_EQ(root->parent, kRootId);
  EXPECT_EQ(root->kind, EntryKind::kDirectory);
  EXPECT_EQ(root->mtime, kTreeTime);
  EXPECT_TRUE(root->children.empty());
  EXPECT_EQ(tree.Get(0), nullptr);
  EXPECT_EQ(tree.Get(2), nullptr);
}

TEST(TreeTest, AddHubBuildsEntriesAndImpliedFolders) {
  Tree tree(kTreeTime);
  Listing listing;
  listing.mtime = kListingTime;
  listing.entries = {Remote({"vision", "resnet", "model.onnx"}, 4096),
                     File({"vision", "resnet", "info.json"}, "{}\n"),
                     Link({"latest"}, "vision/resnet")};
  std::vector<std::string> warnings;

  tree.AddHub("zoo", listing, &warnings);
  tree.Finish();

  EXPECT_TRUE(warnings.empty());
  const Node* hub = Find(tree, {"zoo"});
  ASSERT_NE(hub, nullptr);
  EXPECT_EQ(hub->kind, EntryKind::kDirectory);
  EXPECT_EQ(hub->parent, kRootId);
  EXPECT_EQ(hub->mtime, kListingTime);

  const Node* resnet = Find(tree, {"zoo", "vision", "resnet"});
  ASSERT_NE(resnet, nullptr);
  EXPECT_EQ(resnet->kind, EntryKind::kDirectory);
  EXPECT_EQ(resnet->mtime, kListingTime);

  const Node* model = Find(tree, {"zoo", "vision", "resnet", "model.onnx"});
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->kind, EntryKind::kFile);
  EXPECT_EQ(model->parent, resnet->id);
  EXPECT_EQ(model->size, 4096u);
  EXPECT_EQ(model->mtime, kListingTime);
  ASSERT_TRUE(model->remote.has_value());
  EXPECT_EQ(model->remote->url, "http://hub/model.onnx");

  const Node* info = Find(tree, {"zoo", "vision", "resnet", "info.json"});
  ASSERT_NE(info, nullptr);
  EXPECT_FALSE(info->remote.has_value());
  EXPECT_EQ(info->content, "{}\n");
  EXPECT_EQ(info->size, 3u);

  const Node* link = Find(tree, {"zoo", "latest"});
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->kind, EntryKind::kSymlink);
  EXPECT_EQ(link->content, "vision/resnet");
  EXPECT_EQ(link->size, 13u);
}

TEST(TreeTest, RemoteFileWithoutPublishedSizeHasSizeZero) {
  Tree tree(kTreeTime);
  std::vector<std::string> warnings;
  tree.AddHub("zoo", Listing{{Remote({"unsized.bin"}, std::nullopt)}, kListingTime}, &warnings);
  const Node* node = Find(tree, {"zoo", "unsized.bin"});
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->size, 0u);
}

TEST(TreeTest, IdsAreDenseAndMatchTheirIndex) {
  Tree tree(kTreeTime);
  std::vector<std::string> warnings;
  tree.AddHub("zoo", Listing{{File({"a", "b", "c"}, "x"), File({"d"}, "y")}, kListingTime},
              &warnings);
  tree.Finish();
  // root, zoo, a, b, c, d
  ASSERT_EQ(tree.size(), 6u);
  for (NodeId id = 1; id <= tree.size(); ++id) {
    ASSERT_NE(tree.Get(id), nullptr);
    EXPECT_EQ(tree.Get(id)->id, id);
    if (id != kRootId) {
      const Node* parent = tree.Get(tree.Get(id)->parent);
      ASSERT_NE(parent, nullptr);
      EXPECT_EQ(tree.Child(parent->id, tree.Get(id)->name), tree.Get(id));
    }
  }
  EXPECT_EQ(tree.Get(7), nullptr);
}

TEST(TreeTest, FinishSortsChildrenByName) {
  Tree tree(kTreeTime);
  std::vector<std::string> warnings;
  tree.AddHub(
      "zoo",
      Listing{{File({"c"}, ""), File({"a"}, ""), File({"B"}, ""), File({"b"}, "")}, kListingTime},
      &warnings);
  tree.AddHub("alpha", Listing{}, &warnings);
  tree.Finish();

  EXPECT_EQ(ChildNames(tree, *Find(tree, {"zoo"})), (std::vector<std::string>{"B", "a", "b", "c"}));
  EXPECT_EQ(ChildNames(tree, *tree.Get(kRootId)), (std::vector<std::string>{"alpha", "zoo"}));
}

TEST(TreeTest, ChildLookupIsExactAndPerParent) {
  Tree tree(kTreeTime);
  std::vector<std::string> warnings;
  tree.AddHub("zoo", Listing{{File({"x", "name"}, "1"), File({"name2"}, "2")}, kListingTime},
              &warnings);
  const Node* zoo = Find(tree, {"zoo"});
  ASSERT_NE(zoo, nullptr);
  EXPECT_EQ(tree.Child(zoo->id, "name"), nullptr) << "name lives in zoo/x, not zoo";
  EXPECT_EQ(tree.Child(zoo->id, "NAME2"), nullptr);
  EXPECT_NE(tree.Child(zoo->id, "name2"), nullptr);
  EXPECT_EQ(tree.Child(999, "name2"), nullptr);
}

TEST(TreeTest, SameNameTwiceKeepsTheFirstAndWarns) {
  Tree tree(kTreeTime);
  std::vector<std::string> warnings;
  tree.AddHub(
      "zoo",
      Listing{{File({"dir", "a.txt"}, "first"), File({"dir", "a.txt"}, "second!")}, kListingTime},
      &warnings);

  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("/zoo/dir/a.txt"), std::string::npos) << warnings[0];
  const Node* node = Find(tree, {"zoo", "dir", "a.txt"});
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->content, "first");
  EXPECT_EQ(Find(tree, {"zoo", "dir"})->children.size(), 1u);
}

TEST(TreeTest, EntryBelowAFileIsSkippedWithWarning) {
  Tree tree(kTreeTime);
  std::vector<std::string> warnings;
  tree.AddHub("zoo",
              Listing{{File({"model"}, "a file"), File({"model", "weights.bin"}, "x"),
                       File({"model", "deeper", "y"}, "y")},
                      kListingTime},
              &warnings);

  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("/zoo/model/weights.bin"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("/zoo/model/deeper/y"), std::string::npos) << warnings[1];
  const Node* model = Find(tree, {"zoo", "model"});
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->kind, EntryKind::kFile);
  EXPECT_TRUE(model->children.empty());
  EXPECT_EQ(tree.size(), 3u) << "root, zoo, model: nothing else was created";
}

TEST(TreeTest, FileWhereAFolderIsIsSkippedWithWarning) {
  Tree tree(kTreeTime);
  std::vector<std::string> warnings;
  tree.AddHub(
      "zoo",
      Listing{{File({"model", "weights.bin"}, "x"), File({"model"}, "a file")}, kListingTime},
      &warnings);

  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("/zoo/model"), std::string::npos) << warnings[0];
  EXPECT_EQ(Find(tree, {"zoo", "model"})->kind, EntryKind::kDirectory);
  EXPECT_NE(Find(tree, {"zoo", "model", "weights.bin"}), nullptr);
}

TEST(TreeTest, SymlinkWhereAFolderIsIsSkippedWithWarning) {
  Tree tree(kTreeTime);
  std::vector<std::string> warnings;
  tree.AddHub("zoo", Listing{{Dir({"d"}), Link({"d"}, "elsewhere")}, kListingTime}, &warnings);
  EXPECT_EQ(warnings.size(), 1u);
  EXPECT_EQ(Find(tree, {"zoo", "d"})->kind, EntryKind::kDirectory);
}

TEST(TreeTest, SameFolderTwiceOrImpliedThenExplicitIsFine) {
  Tree tree(kTreeTime);
  std::vector<std::string> warnings;
  tree.AddHub("zoo",
              Listing{{File({"d", "f"}, "x"), Dir({"d"}), Dir({"e"}), Dir({"e"})}, kListingTime},
              &warnings);
  EXPECT_TRUE(warnings.empty()) << warnings[0];
  EXPECT_EQ(tree.size(), 5u);  // root, zoo, d, f, e
}

TEST(TreeTest, FolderWhereAFileIsIsSkippedWithWarning) {
  Tree tree(kTreeTime);
  std::vector<std::string> warnings;
  tree.AddHub("zoo", Listing{{File({"x"}, "file"), Dir({"x"})}, kListingTime}, &warnings);
  EXPECT_EQ(warnings.size(), 1u);
  EXPECT_EQ(Find(tree, {"zoo", "x"})->kind, EntryKind::kFile);
}

TEST(TreeTest, EntryWithEmptyPathIsIgnored) {
  Tree tree(kTreeTime);
  std::vector<std::string> warnings;
  tree.AddHub("zoo", Listing{{File({}, "nameless")}, kListingTime}, &warnings);
  EXPECT_EQ(tree.size(), 2u);
}

TEST(TreeTest, HubsAreSeparate) {
  Tree tree(kTreeTime);
  std::vector<std::string> warnings;
  tree.AddHub("one", Listing{{File({"same.txt"}, "1")}, kListingTime}, &warnings);
  tree.AddHub("two", Listing{{File({"same.txt"}, "22")}, kListingTime + 1}, &warnings);
  tree.Finish();

  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(Find(tree, {"one", "same.txt"})->content, "1");
  EXPECT_EQ(Find(tree, {"two", "same.txt"})->content, "22");
  EXPECT_EQ(Find(tree, {"two"})->mtime, kListingTime + 1);
}

TEST(TreeTest, AddHubErrorCreatesErrorFileEndingInNewline) {
  Tree tree(kTreeTime);
  tree.AddHubError("broken", "cannot reach http://hub", 3000);
  tree.Finish();

  const Node* hub = Find(tree, {"broken"});
  ASSERT_NE(hub, nullptr);
  EXPECT_EQ(hub->kind, EntryKind::kDirectory);
  const Node* error = Find(tree, {"broken", kErrorFileName});
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->kind, EntryKind::kFile);
  EXPECT_FALSE(error->remote.has_value());
  EXPECT_EQ(error->content, "cannot reach http://hub\n");
  EXPECT_EQ(error->size, error->content.size());
  EXPECT_EQ(error->mtime, 3000);
  EXPECT_EQ(hub->children.size(), 1u);
}

TEST(TreeTest, AddHubErrorDoesNotDoubleTheNewline) {
  Tree tree(kTreeTime);
  tree.AddHubError("broken", "already ends\n", 3000);
  EXPECT_EQ(Find(tree, {"broken", kErrorFileName})->content, "already ends\n");
}

// ---- refresh: stable inode numbers and the changes the kernel must forget -----------------------

Tree Build(InodeNumbers& numbers, const Listing& listing) {
  Tree tree(kTreeTime, &numbers);
  std::vector<std::string> warnings;
  tree.AddHub("zoo", listing, &warnings);
  tree.Finish();
  return tree;
}

TEST(TreeRefreshTest, UnchangedEntriesKeepTheirNumbersChangedOnesGetNewOnes) {
  InodeNumbers numbers;
  Tree before = Build(numbers, Listing{{File({"a", "same.txt"}, "1"), File({"a", "edited.txt"}, "old"),
                                        Remote({"a", "m.onnx"}, 10), File({"gone.txt"}, "x")},
                                       kListingTime});
  Tree after = Build(numbers, Listing{{File({"a", "same.txt"}, "1"), File({"a", "edited.txt"}, "new"),
                                       Remote({"a", "m.onnx"}, 11), File({"new.txt"}, "y")},
                                      kListingTime});
  EXPECT_EQ(Find(after, {"zoo"})->id, Find(before, {"zoo"})->id);
  EXPECT_EQ(Find(after, {"zoo", "a"})->id, Find(before, {"zoo", "a"})->id);
  EXPECT_EQ(Find(after, {"zoo", "a", "same.txt"})->id, Find(before, {"zoo", "a", "same.txt"})->id);
  EXPECT_NE(Find(after, {"zoo", "a", "edited.txt"})->id, Find(before, {"zoo", "a", "edited.txt"})->id)
      << "new content must never be served from the kernel's pages of the old";
  EXPECT_NE(Find(after, {"zoo", "a", "m.onnx"})->id, Find(before, {"zoo", "a", "m.onnx"})->id);
  // A number is never reused for another entry.
  EXPECT_EQ(after.Get(Find(before, {"zoo", "gone.txt"})->id), nullptr);

  TreeChanges changes = DiffTrees(before, after);
  EXPECT_EQ(changes.added, 1u);
  EXPECT_EQ(changes.removed, 1u);
  EXPECT_EQ(changes.changed, 2u);
  const NodeId zoo = Find(before, {"zoo"})->id, a = Find(before, {"zoo", "a"})->id;
  std::vector<std::pair<NodeId, std::string>> expected = {
      {zoo, "gone.txt"}, {zoo, "new.txt"}, {a, "edited.txt"}, {a, "m.onnx"}};
  auto got = changes.entries;
  std::sort(got.begin(), got.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(got, expected);
  std::vector<NodeId> folders = changes.folders;
  std::sort(folders.begin(), folders.end());
  EXPECT_EQ(folders, (std::vector<NodeId>{std::min(zoo, a), std::max(zoo, a)}));
}

TEST(TreeTest, FoldersCountTheirSubfolders) {
  Tree tree(kTreeTime);
  std::vector<std::string> warnings;
  tree.AddHub("zoo", Listing{{File({"a", "x"}, "1"), Dir({"a", "b"}), File({"a", "c", "y"}, "2"),
                              File({"top.txt"}, "3")}, kListingTime}, &warnings);
  tree.Finish();
  EXPECT_EQ(Find(tree, {})->subdirs, 1u);           // zoo
  EXPECT_EQ(Find(tree, {"zoo"})->subdirs, 1u);      // a
  EXPECT_EQ(Find(tree, {"zoo", "a"})->subdirs, 2u); // b, c
  EXPECT_EQ(Find(tree, {"zoo", "a", "b"})->subdirs, 0u);
}

TEST(TreeRefreshTest, IdenticalListingsChangeNothing) {
  InodeNumbers numbers;
  Listing listing{{File({"a", "x"}, "1"), Remote({"b"}, std::nullopt), Link({"c"}, "a/x")}, kListingTime};
  Tree before = Build(numbers, listing);
  Tree after = Build(numbers, listing);
  TreeChanges changes = DiffTrees(before, after);
  EXPECT_TRUE(changes.entries.empty());
  EXPECT_TRUE(changes.folders.empty());
  for (const Node& node : before.nodes()) EXPECT_NE(after.Get(node.id), nullptr) << node.name;
}

TEST(TreeRefreshTest, ARefreshOfTheSameListingKeepsTimesAndInvalidatesNothing) {
  InodeNumbers numbers;
  Listing first{{File({"a", "x"}, "1"), File({"b"}, "2")}, kListingTime};
  Listing later = first;
  later.mtime = kListingTime + 600;  // revalidated (304): a new fetch time, the same entries
  Tree before = Build(numbers, first);
  Tree after = Build(numbers, later);
  after.KeepTimes(before);
  for (const Node& node : after.nodes()) {
    if (node.id != kRootId) {
      EXPECT_EQ(node.mtime, kListingTime) << node.name;
    }
  }
  TreeChanges changes = DiffTrees(before, after);
  EXPECT_TRUE(changes.folders.empty()) << "a new fetch time alone must not drop the kernel's caches";
  EXPECT_TRUE(changes.entries.empty());

  Listing grown = later;
  grown.entries.push_back(File({"a", "y"}, "3"));
  Tree third = Build(numbers, grown);
  third.KeepTimes(after);
  EXPECT_EQ(Find(third, {"zoo", "a"})->mtime, kListingTime + 600) << "a folder whose entries changed";
  EXPECT_EQ(Find(third, {"zoo", "a", "x"})->mtime, kListingTime) << "an unchanged file";
}

TEST(TreeRefreshTest, AFileBecomingAFolderGetsANewNumber) {
  InodeNumbers numbers;
  Tree before = Build(numbers, Listing{{File({"x"}, "file")}, kListingTime});
  Tree after = Build(numbers, Listing{{File({"x", "inside"}, "now a folder")}, kListingTime});
  EXPECT_NE(Find(after, {"zoo", "x"})->id, Find(before, {"zoo", "x"})->id);
  EXPECT_EQ(DiffTrees(before, after).changed, 1u);
}

}  // namespace
}  // namespace hubfs::fs
