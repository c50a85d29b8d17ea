// Tree::AddHub with archive folders (tree.h, fs/archive_views.h).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "hubfs/fs/tree.h"

namespace hubfs::fs {
namespace {

using hubs::Entry;
using hubs::EntryKind;
using hubs::RemoteObject;

const Node* At(const Tree& tree, const std::vector<std::string>& path) {
  const Node* node = tree.Get(kRootId);
  for (const auto& name : path) {
    node = node ? tree.Child(node->id, name) : nullptr;
  }
  return node;
}

Entry Remote(std::vector<std::string> path) {
  std::string url = "http://hub/" + path.back();
  return Entry{std::move(path), EntryKind::kFile, RemoteObject(std::move(url), 100, std::nullopt), ""};
}

archive::Member Member(std::vector<std::string> path, archive::MemberKind kind, uint64_t size, uint32_t ordinal) {
  archive::Member m;
  m.path = std::move(path);
  m.kind = kind;
  m.size = size;
  m.ordinal = ordinal;
  return m;
}

TEST(TreeArchiveTest, ArchivesGetAFolderWithTheirMembersWhenIndexed) {
  hubs::Listing listing;
  listing.mtime = 5;
  listing.entries = {Remote({"m", "bundle.tar.gz"}), Remote({"m", "other.zip"}), Remote({"m", "taken.model"}),
                     Entry{{"m", "taken"}, EntryKind::kDirectory, std::nullopt, ""}, Remote({"m", "plain.onnx"})};
  auto index = std::make_shared<archive::Index>();
  index->members = {Member({"model.onnx"}, archive::MemberKind::kFile, 42, 1),
                    Member({"data", "input_0.pb"}, archive::MemberKind::kFile, 7, 3),
                    Member({"empty.txt"}, archive::MemberKind::kFile, 0, 4),
                    Member({"latest"}, archive::MemberKind::kSymlink, 0, 5)};
  index->members[3].link_target = "model.onnx";
  index->members[0].stored_offset = 99;
  std::vector<std::string> asked;
  ArchiveIndexLookup lookup = [&](const RemoteObject& a) -> std::shared_ptr<const archive::Index> {
    asked.push_back(a.url);
    return a.url == "http://hub/bundle.tar.gz" ? index : nullptr;
  };
  Tree tree(1);
  std::vector<std::string> warnings;
  tree.AddHub("hub", listing, &warnings, 0, lookup);
  tree.Finish();

  const Node* bundle = At(tree, {"hub", "m", "bundle"});
  ASSERT_NE(bundle, nullptr);
  ASSERT_TRUE(bundle->archive.has_value());
  EXPECT_EQ(bundle->archive->url, "http://hub/bundle.tar.gz");
  EXPECT_TRUE(bundle->archive_indexed);
  const Node* model = At(tree, {"hub", "m", "bundle", "model.onnx"});
  ASSERT_NE(model, nullptr);
  ASSERT_NE(model->member, nullptr);
  EXPECT_EQ(model->size, 42u);
  EXPECT_EQ(model->member->member.stored_offset, std::optional<uint64_t>(99));
  EXPECT_EQ(model->member->archive.url, "http://hub/bundle.tar.gz");
  EXPECT_FALSE(model->remote.has_value());
  ASSERT_NE(At(tree, {"hub", "m", "bundle", "data", "input_0.pb"}), nullptr);
  const Node* empty = At(tree, {"hub", "m", "bundle", "empty.txt"});
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->member, nullptr);  // nothing to read: generated, empty
  EXPECT_EQ(empty->size, 0u);
  const Node* link = At(tree, {"hub", "m", "bundle", "latest"});
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->kind, EntryKind::kSymlink);
  EXPECT_EQ(link->content, "model.onnx");

  const Node* other = At(tree, {"hub", "m", "other"});
  ASSERT_NE(other, nullptr);
  EXPECT_FALSE(other->archive_indexed);  // not indexed yet: empty until looked into
  EXPECT_TRUE(other->children.empty());
  const Node* taken = At(tree, {"hub", "m", "taken"});
  ASSERT_NE(taken, nullptr);
  EXPECT_FALSE(taken->archive.has_value());  // the hub's own folder keeps the name
  EXPECT_EQ(At(tree, {"hub", "m", "plain"}), nullptr);
  EXPECT_EQ(asked.size(), 2u);
}

TEST(TreeArchiveTest, ARefusedArchiveShowsWhyAndNoLookupNoFolders) {
  hubs::Listing listing;
  listing.entries = {Remote({"bomb.zip"})};
  auto refused = std::make_shared<archive::Index>();
  refused->refused = "unpacks to 1 TB";
  Tree tree(1);
  std::vector<std::string> warnings;
  tree.AddHub("hub", listing, &warnings, 0, [&](const RemoteObject&) { return refused; });
  tree.Finish();
  const Node* error = At(tree, {"hub", "bomb", "ERROR.txt"});
  ASSERT_NE(error, nullptr);
  EXPECT_NE(error->content.find("unpacks to 1 TB"), std::string::npos);

  Tree plain(1);
  plain.AddHub("hub", listing, &warnings, 0);
  plain.Finish();
  EXPECT_EQ(At(plain, {"hub", "bomb"}), nullptr);
}

}  // namespace
}  // namespace hubfs::fs
