#include "hubfs/hubs/onnx/onnx_layout.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hubfs/core/names.h"

namespace hubfs::hubs::onnx {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using Path = std::vector<std::string>;

constexpr char kPrefix[] = "https://media.example/media/onnx/models/main";

// A manifest entry as ParseManifest would produce it, raw_json included.
ManifestEntry Make(const std::string& model, const std::string& model_path, int opset,
                   std::optional<std::string> bundle = std::nullopt, uint64_t bytes = 1000) {
  ManifestEntry e;
  e.model = model;
  e.opset = opset;
  e.model_file.path = model_path;
  e.model_file.bytes = bytes;
  e.model_file.sha256 = Sha256::Of(model_path);
  nlohmann::json meta = {{"model_sha", ToHex(*e.model_file.sha256)}, {"model_bytes", bytes}};
  if (bundle) {
    e.with_data = ManifestFile{*bundle, Sha256::Of(*bundle), bytes * 2};
    meta["model_with_data_path"] = *bundle;
    meta["model_with_data_sha"] = ToHex(*e.with_data->sha256);
    meta["model_with_data_bytes"] = bytes * 2;
  }
  nlohmann::json raw = {{"model", model},
                        {"model_path", model_path},
                        {"onnx_version", "1.9.0"},
                        {"opset_version", opset},
                        {"metadata", meta}};
  e.raw_json = raw.dump();
  return e;
}

const Entry* Find(const LayoutResult& layout, const Path& path) {
  for (const Entry& e : layout.entries) {
    if (e.path == path) return &e;
  }
  return nullptr;
}

std::vector<Path> Paths(const LayoutResult& layout) {
  std::vector<Path> out;
  for (const Entry& e : layout.entries) out.push_back(e.path);
  return out;
}

// The names directly inside `folder`.
std::set<std::string> Children(const LayoutResult& layout, const Path& folder) {
  std::set<std::string> out;
  for (const Entry& e : layout.entries) {
    if (e.path.size() > folder.size() && std::equal(folder.begin(), folder.end(), e.path.begin())) {
      out.insert(e.path[folder.size()]);
    }
  }
  return out;
}

// Invariants every layout must keep, whatever the manifest says.
void ExpectWellFormed(const LayoutResult& layout) {
  std::set<Path> seen;
  for (const Entry& e : layout.entries) {
    EXPECT_FALSE(e.path.empty());
    for (const std::string& part : e.path) {
      EXPECT_TRUE(IsSafeName(part)) << "unsafe component '" << part << "'";
    }
    EXPECT_TRUE(seen.insert(e.path).second)
        << "duplicate path " << ::testing::PrintToString(e.path);
  }
  // No path is both a file and a folder.
  for (const Path& p : seen) {
    for (size_t n = 1; n < p.size(); ++n) {
      EXPECT_EQ(seen.count(Path(p.begin(), p.begin() + n)), 0u)
          << ::testing::PrintToString(p) << " is below a file";
    }
  }
}

bool AnyWarningContains(const LayoutResult& layout, const std::string& text) {
  return std::any_of(layout.warnings.begin(), layout.warnings.end(),
                     [&](const std::string& w) { return w.find(text) != std::string::npos; });
}

TEST(BuildLayoutTest, EmptyManifestGivesNoEntries) {
  LayoutResult layout = BuildLayout({}, kPrefix);
  EXPECT_THAT(layout.entries, IsEmpty());
  EXPECT_THAT(layout.warnings, IsEmpty());
}

TEST(BuildLayoutTest, DomainIsBelowTheSharedTopFolder) {
  const std::vector<ManifestEntry> manifest = {
      Make("ResNet50", "validated/vision/classification/resnet/model/resnet50-v1-12.onnx", 12),
      Make("BERT-Squad", "validated/text/machine_comprehension/bert-squad/model/bertsquad-12.onnx",
           12),
  };
  LayoutResult layout = BuildLayout(manifest, kPrefix);
  ExpectWellFormed(layout);
  EXPECT_THAT(layout.warnings, IsEmpty());
  EXPECT_EQ(Children(layout, {}), (std::set<std::string>{"vision", "text", "tree"}));
  EXPECT_NE(Find(layout, {"vision", "resnet50", "resnet50-v1-12.onnx"}), nullptr);
  EXPECT_NE(Find(layout, {"text", "bert-squad", "bertsquad-12.onnx"}), nullptr);
}

TEST(BuildLayoutTest, SingleEntryStripsItsTopFolder) {
  LayoutResult layout = BuildLayout({Make("Yolo", "validated/vision/yolo.onnx", 9)}, kPrefix);
  EXPECT_NE(Find(layout, {"vision", "yolo", "yolo.onnx"}), nullptr);
}

TEST(BuildLayoutTest, DomainIsTheFirstFolderWithoutASharedOne) {
  const std::vector<ManifestEntry> manifest = {
      Make("ResNet50", "vision/classification/resnet50.onnx", 12),
      Make("GPT-2", "text/gpt2.onnx", 10),
  };
  LayoutResult layout = BuildLayout(manifest, kPrefix);
  ExpectWellFormed(layout);
  EXPECT_EQ(Children(layout, {}), (std::set<std::string>{"vision", "text", "tree"}));
  EXPECT_NE(Find(layout, {"vision", "resnet50", "resnet50.onnx"}), nullptr);
  EXPECT_NE(Find(layout, {"text", "gpt-2", "gpt2.onnx"}), nullptr);
}

TEST(BuildLayoutTest, ModelsAtTheRepoRootGoToOther) {
  const std::vector<ManifestEntry> manifest = {
      Make("Root", "root.onnx", 12),
      Make("Deep", "vision/deep.onnx", 12),
  };
  LayoutResult layout = BuildLayout(manifest, kPrefix);
  ExpectWellFormed(layout);
  EXPECT_NE(Find(layout, {"other", "root", "root.onnx"}), nullptr);
  EXPECT_NE(Find(layout, {"vision", "deep", "deep.onnx"}), nullptr);
  EXPECT_NE(Find(layout, {"tree", "root.onnx"}), nullptr);
}

TEST(BuildLayoutTest, FilesCarryUrlSizeAndDigest) {
  const std::string path = "validated/vision/classification/resnet/model/resnet50-v1-12.onnx";
  LayoutResult layout = BuildLayout({Make("ResNet50", path, 12, std::nullopt, 102583340)}, kPrefix);
  const Entry* file = Find(layout, {"vision", "resnet50", "resnet50-v1-12.onnx"});
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->kind, EntryKind::kFile);
  ASSERT_TRUE(file->remote.has_value());
  EXPECT_EQ(file->remote->url, std::string(kPrefix) + "/" + path);
  EXPECT_EQ(file->remote->size, 102583340u);
  EXPECT_EQ(file->remote->sha256, Sha256::Of(path));
}

TEST(BuildLayoutTest, SeveralOpsetsShareOneFolderAndModelOnnxPointsToTheLargest) {
  const std::string dir = "validated/vision/classification/resnet/model/";
  const std::vector<ManifestEntry> manifest = {
      Make("ResNet50", dir + "resnet50-v1-7.onnx", 7),
      Make("ResNet50", dir + "resnet50-v1-12.onnx", 12),
      Make("ResNet50", dir + "resnet50-v1-8.onnx", 8),
  };
  LayoutResult layout = BuildLayout(manifest, kPrefix);
  ExpectWellFormed(layout);
  EXPECT_THAT(layout.warnings, IsEmpty());
  EXPECT_EQ(Children(layout, {"vision", "resnet50"}),
            (std::set<std::string>{"resnet50-v1-7.onnx", "resnet50-v1-12.onnx",
                                   "resnet50-v1-8.onnx", "model.onnx", "info.json"}));
  const Entry* link = Find(layout, {"vision", "resnet50", "model.onnx"});
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->kind, EntryKind::kSymlink);
  EXPECT_EQ(link->content, "resnet50-v1-12.onnx");
  EXPECT_FALSE(link->remote.has_value());
}

TEST(BuildLayoutTest, ModelOnnxTiesGoToTheFirstEntry) {
  const std::vector<ManifestEntry> manifest = {
      Make("Net", "validated/vision/net-fp32-12.onnx", 12),
      Make("Net", "validated/vision/net-int8-12.onnx", 12),
      Make("Net", "validated/vision/net-11.onnx", 11),
  };
  LayoutResult layout = BuildLayout(manifest, kPrefix);
  const Entry* link = Find(layout, {"vision", "net", "model.onnx"});
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->content, "net-fp32-12.onnx");

  // Reversed order: the first of the tied entries is now the int8 one.
  const std::vector<ManifestEntry> reversed = {manifest[2], manifest[1], manifest[0]};
  LayoutResult layout2 = BuildLayout(reversed, kPrefix);
  const Entry* link2 = Find(layout2, {"vision", "net", "model.onnx"});
  ASSERT_NE(link2, nullptr);
  EXPECT_EQ(link2->content, "net-int8-12.onnx");
}

TEST(BuildLayoutTest, InfoJsonIsTheArrayOfTheModelsRawEntries) {
  const std::vector<ManifestEntry> manifest = {
      Make("ResNet50", "validated/vision/r/resnet50-7.onnx", 7),
      Make("MobileNet", "validated/vision/m/mobilenet-12.onnx", 12),
      Make("ResNet50", "validated/vision/r/resnet50-12.onnx", 12,
           "validated/vision/r/resnet50-12.tar.gz"),
  };
  LayoutResult layout = BuildLayout(manifest, kPrefix);
  const Entry* info = Find(layout, {"vision", "resnet50", "info.json"});
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->kind, EntryKind::kFile);
  EXPECT_FALSE(info->remote.has_value());
  nlohmann::json parsed = nlohmann::json::parse(info->content);
  nlohmann::json expected = nlohmann::json::array(
      {nlohmann::json::parse(manifest[0].raw_json), nlohmann::json::parse(manifest[2].raw_json)});
  EXPECT_EQ(parsed, expected);

  const Entry* other = Find(layout, {"vision", "mobilenet", "info.json"});
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(nlohmann::json::parse(other->content),
            nlohmann::json::array({nlohmann::json::parse(manifest[1].raw_json)}));
}

TEST(BuildLayoutTest, BundleAppearsNextToTheModelAndInTheMirror) {
  const std::string model = "validated/vision/r/model/resnet50-12.onnx";
  const std::string bundle = "validated/vision/r/model/resnet50-12.tar.gz";
  LayoutResult layout = BuildLayout({Make("ResNet50", model, 12, bundle, 500)}, kPrefix);
  ExpectWellFormed(layout);
  const Entry* tarball = Find(layout, {"vision", "resnet50", "resnet50-12.tar.gz"});
  ASSERT_NE(tarball, nullptr);
  ASSERT_TRUE(tarball->remote.has_value());
  EXPECT_EQ(tarball->remote->url, std::string(kPrefix) + "/" + bundle);
  EXPECT_EQ(tarball->remote->size, 1000u);
  EXPECT_EQ(tarball->remote->sha256, Sha256::Of(bundle));

  const Entry* mirrored =
      Find(layout, {"tree", "validated", "vision", "r", "model", "resnet50-12.tar.gz"});
  ASSERT_NE(mirrored, nullptr);
  ASSERT_TRUE(mirrored->remote.has_value());
  EXPECT_EQ(mirrored->remote->url, tarball->remote->url);
}

TEST(BuildLayoutTest, OnlyTheModelFilesInModelFoldersAreOnnxModels) {
  const std::string model = "validated/vision/r/model/resnet50-12.onnx";
  LayoutResult layout = BuildLayout({Make("ResNet50", model, 12, "validated/vision/r/model/resnet50-12.tar.gz")}, kPrefix);
  for (const Entry& e : layout.entries) {
    const bool is_model = e.path == Path{"vision", "resnet50", "resnet50-12.onnx"};
    EXPECT_EQ(e.framework, is_model ? "onnx" : "") << ::testing::PrintToString(e.path);
  }
}

TEST(BuildLayoutTest, SharedBundleIsListedOnce) {
  const std::string bundle = "validated/vision/n/net.tar.gz";
  const std::vector<ManifestEntry> manifest = {
      Make("Net", "validated/vision/n/net-7.onnx", 7, bundle),
      Make("Net", "validated/vision/n/net-8.onnx", 8, bundle),
  };
  LayoutResult layout = BuildLayout(manifest, kPrefix);
  ExpectWellFormed(layout);
  EXPECT_NE(Find(layout, {"vision", "net", "net.tar.gz"}), nullptr);
  EXPECT_NE(Find(layout, {"tree", "validated", "vision", "n", "net.tar.gz"}), nullptr);
  EXPECT_THAT(layout.warnings, IsEmpty());
}

TEST(BuildLayoutTest, TreeMirrorsEveryRepoPath) {
  const std::vector<ManifestEntry> manifest = {
      Make("A", "validated/vision/a/a-7.onnx", 7, "validated/vision/a/a-7.tar.gz"),
      Make("B", "validated/text/b/b-12.onnx", 12),
  };
  LayoutResult layout = BuildLayout(manifest, kPrefix);
  ExpectWellFormed(layout);
  std::vector<Path> mirrored;
  for (const Entry& e : layout.entries) {
    if (e.path.front() == kTreeFolder) mirrored.push_back(e.path);
  }
  EXPECT_THAT(mirrored, ::testing::UnorderedElementsAre(
                            Path{"tree", "validated", "vision", "a", "a-7.onnx"},
                            Path{"tree", "validated", "vision", "a", "a-7.tar.gz"},
                            Path{"tree", "validated", "text", "b", "b-12.onnx"}));
  const Entry* b = Find(layout, {"tree", "validated", "text", "b", "b-12.onnx"});
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->kind, EntryKind::kFile);
  ASSERT_TRUE(b->remote.has_value());
  EXPECT_EQ(b->remote->url, std::string(kPrefix) + "/validated/text/b/b-12.onnx");
  EXPECT_EQ(b->remote->size, 1000u);
}

TEST(BuildLayoutTest, SamePathWithDifferentDigestsKeepsTheFirstInTheMirror) {
  ManifestEntry first = Make("A", "validated/vision/a/a.onnx", 7, std::nullopt, 10);
  ManifestEntry second = Make("B", "validated/vision/a/a.onnx", 8, std::nullopt, 20);
  LayoutResult layout = BuildLayout({first, second}, kPrefix);
  ExpectWellFormed(layout);
  const Entry* mirrored = Find(layout, {"tree", "validated", "vision", "a", "a.onnx"});
  ASSERT_NE(mirrored, nullptr);
  EXPECT_EQ(mirrored->remote->size, 10u);
  EXPECT_TRUE(AnyWarningContains(layout, "validated/vision/a/a.onnx"));
}

// Hostile or broken entries: each is skipped with a warning, and the good entry is unaffected.
TEST(BuildLayoutTest, HostileEntriesAreSkippedWithAWarning) {
  struct Case {
    const char* label;
    ManifestEntry entry;
  };
  const Case cases[] = {
      {"dot-dot path", Make("Evil", "validated/vision/../../../etc/passwd", 1)},
      {"absolute path", Make("Evil", "/etc/passwd", 1)},
      {"empty component", Make("Evil", "validated//evil.onnx", 1)},
      {"trailing slash", Make("Evil", "validated/vision/", 1)},
      {"empty path", Make("Evil", "", 1)},
      {"slash in name", Make("a/b", "validated/vision/evil.onnx", 1)},
      {"nul in name", Make(std::string("ev\0il", 5), "validated/vision/evil.onnx", 1)},
      {"newline in name", Make("ev\nil", "validated/vision/evil.onnx", 1)},
      {"del in name", Make("ev\x7fil", "validated/vision/evil.onnx", 1)},
      {"empty name", Make("", "validated/vision/evil.onnx", 1)},
      {"name without slug", Make("--", "validated/vision/evil.onnx", 1)},
      {"dot-dot name", Make("..", "validated/vision/evil.onnx", 1)},
      {"300-byte name", Make(std::string(300, 'n'), "validated/vision/evil.onnx", 1)},
      {"300-byte component",
       Make("Evil", "validated/vision/" + std::string(300, 'x') + ".onnx", 1)},
      {"control char in path", Make("Evil", "validated/vision/ev\til.onnx", 1)},
      {"unsafe bundle", Make("Evil", "validated/vision/evil.onnx", 1, "validated/../../x.tar.gz")},
      {"absolute bundle", Make("Evil", "validated/vision/evil.onnx", 1, "/tmp/x.tar.gz")},
  };
  const ManifestEntry good = Make("Good", "validated/vision/good.onnx", 12);
  for (const Case& c : cases) {
    LayoutResult layout = BuildLayout({c.entry, good}, kPrefix);
    ExpectWellFormed(layout);
    ASSERT_EQ(layout.warnings.size(), 1u) << c.label;
    EXPECT_THAT(layout.warnings[0], HasSubstr("skipped")) << c.label;
    EXPECT_THAT(layout.warnings[0], Not(HasSubstr(std::string(1, '\0')))) << c.label;
    EXPECT_THAT(layout.warnings[0], Not(HasSubstr("\n"))) << c.label;
    // Only the good entry's files: its folder (file, model.onnx, info.json) and its mirror.
    EXPECT_EQ(layout.entries.size(), 4u) << c.label;
    EXPECT_NE(Find(layout, {"vision", "good", "good.onnx"}), nullptr) << c.label;
    EXPECT_NE(Find(layout, {"tree", "validated", "vision", "good.onnx"}), nullptr) << c.label;
    for (const Entry& e : layout.entries) {
      if (e.remote) {
        EXPECT_THAT(e.remote->url, Not(HasSubstr("evil"))) << c.label;
        EXPECT_THAT(e.remote->url, Not(HasSubstr(".."))) << c.label;
      }
    }
  }
}

TEST(BuildLayoutTest, SlugCollisionsGetNumberedDeterministically) {
  const ManifestEntry vgg_space = Make("VGG 16", "validated/vision/vgg/vgg16-a.onnx", 7);
  const ManifestEntry vgg_dash = Make("VGG-16", "validated/vision/vgg/vgg16-b.onnx", 8);
  for (const auto& manifest : {std::vector<ManifestEntry>{vgg_space, vgg_dash},
                               std::vector<ManifestEntry>{vgg_dash, vgg_space}}) {
    LayoutResult layout = BuildLayout(manifest, kPrefix);
    ExpectWellFormed(layout);
    // Sorted by name, "VGG 16" comes first and keeps the plain slug.
    EXPECT_NE(Find(layout, {"vision", "vgg-16", "vgg16-a.onnx"}), nullptr);
    EXPECT_NE(Find(layout, {"vision", "vgg-16-2", "vgg16-b.onnx"}), nullptr);
    EXPECT_EQ(Find(layout, {"vision", "vgg-16", "vgg16-b.onnx"}), nullptr);
    EXPECT_TRUE(AnyWarningContains(layout, "vgg-16-2"));
    const Entry* info = Find(layout, {"vision", "vgg-16-2", "info.json"});
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(nlohmann::json::parse(info->content)[0]["model"], "VGG-16");
  }
}

TEST(BuildLayoutTest, SameSlugInDifferentDomainsDoesNotCollide) {
  const std::vector<ManifestEntry> manifest = {
      Make("VGG 16", "validated/vision/vgg16-a.onnx", 7),
      Make("VGG-16", "validated/text/vgg16-b.onnx", 8),
  };
  LayoutResult layout = BuildLayout(manifest, kPrefix);
  EXPECT_NE(Find(layout, {"vision", "vgg-16", "vgg16-a.onnx"}), nullptr);
  EXPECT_NE(Find(layout, {"text", "vgg-16", "vgg16-b.onnx"}), nullptr);
  EXPECT_THAT(layout.warnings, IsEmpty());
}

TEST(BuildLayoutTest, RenamedSlugDoesNotTakeAnotherModelsFolder) {
  // "A" and "a" both slug to "a"; the renamed one must not land in "a 2"'s folder "a-2".
  const std::vector<ManifestEntry> manifest = {
      Make("A", "validated/vision/upper.onnx", 7),
      Make("a", "validated/vision/lower.onnx", 7),
      Make("a 2", "validated/vision/two.onnx", 7),
  };
  LayoutResult layout = BuildLayout(manifest, kPrefix);
  ExpectWellFormed(layout);
  std::set<std::string> folders = Children(layout, {"vision"});
  EXPECT_EQ(folders.size(), 3u) << ::testing::PrintToString(folders);
  // Each folder holds exactly one model file.
  for (const std::string& folder : folders) {
    std::set<std::string> files = Children(layout, {"vision", folder});
    EXPECT_EQ(files.size(), 3u) << folder << ": " << ::testing::PrintToString(files);
  }
  // A model whose own slug is free keeps it.
  EXPECT_NE(Find(layout, {"vision", "a", "upper.onnx"}), nullptr);
  EXPECT_NE(Find(layout, {"vision", "a-2", "two.onnx"}), nullptr);
}

TEST(BuildLayoutTest, RenamedLongSlugStaysASafeName) {
  const std::string upper(255, 'M');
  const std::string lower(255, 'm');
  LayoutResult layout = BuildLayout({Make(upper, "validated/vision/upper.onnx", 7),
                                     Make(lower, "validated/vision/lower.onnx", 7)},
                                    kPrefix);
  ExpectWellFormed(layout);
  EXPECT_EQ(Children(layout, {"vision"}).size(), 2u);
}

TEST(BuildLayoutTest, BasenameCollisionInAFolderKeepsTheFirst) {
  const std::vector<ManifestEntry> manifest = {
      Make("Net", "validated/vision/a/model-12.onnx", 12),
      Make("Net", "validated/vision/b/model-12.onnx", 13),
  };
  LayoutResult layout = BuildLayout(manifest, kPrefix);
  ExpectWellFormed(layout);
  const Entry* file = Find(layout, {"vision", "net", "model-12.onnx"});
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->remote->url, std::string(kPrefix) + "/validated/vision/a/model-12.onnx");
  EXPECT_TRUE(AnyWarningContains(layout, "model-12.onnx"));
  // model.onnx only points at a file that made it into the folder.
  const Entry* link = Find(layout, {"vision", "net", "model.onnx"});
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->content, "model-12.onnx");
  // Both survive in the mirror.
  EXPECT_NE(Find(layout, {"tree", "validated", "vision", "a", "model-12.onnx"}), nullptr);
  EXPECT_NE(Find(layout, {"tree", "validated", "vision", "b", "model-12.onnx"}), nullptr);
  // info.json still describes both published entries.
  const Entry* info = Find(layout, {"vision", "net", "info.json"});
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(nlohmann::json::parse(info->content).size(), 2u);
}

TEST(BuildLayoutTest, RepeatedIdenticalEntryIsListedOnce) {
  const ManifestEntry e = Make("Net", "validated/vision/net.onnx", 12);
  LayoutResult layout = BuildLayout({e, e}, kPrefix);
  ExpectWellFormed(layout);
  EXPECT_NE(Find(layout, {"vision", "net", "net.onnx"}), nullptr);
}

TEST(BuildLayoutTest, ModelFileNamedModelOnnxReplacesTheSymlink) {
  LayoutResult layout = BuildLayout({Make("Net", "validated/vision/net/model.onnx", 12)}, kPrefix);
  ExpectWellFormed(layout);
  const Entry* file = Find(layout, {"vision", "net", "model.onnx"});
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->kind, EntryKind::kFile);
  ASSERT_TRUE(file->remote.has_value());
}

TEST(BuildLayoutTest, ModelFileNamedInfoJsonDoesNotReplaceTheGeneratedOne) {
  const std::vector<ManifestEntry> manifest = {
      Make("Net", "validated/vision/net/info.json", 12),
      Make("Net", "validated/vision/net/net-11.onnx", 11),
  };
  LayoutResult layout = BuildLayout(manifest, kPrefix);
  ExpectWellFormed(layout);
  const Entry* info = Find(layout, {"vision", "net", "info.json"});
  ASSERT_NE(info, nullptr);
  EXPECT_FALSE(info->remote.has_value());
  EXPECT_EQ(nlohmann::json::parse(info->content).size(), 2u);
  EXPECT_TRUE(AnyWarningContains(layout, "info.json"));
  const Entry* link = Find(layout, {"vision", "net", "model.onnx"});
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->content, "net-11.onnx");
}

TEST(BuildLayoutTest, DomainNamedTreeDoesNotShadowTheMirror) {
  const std::vector<ManifestEntry> manifest = {
      Make("Oak", "validated/tree/oak.onnx", 12),
      Make("Pine", "validated/vision/pine.onnx", 12),
  };
  LayoutResult layout = BuildLayout(manifest, kPrefix);
  ExpectWellFormed(layout);
  EXPECT_NE(Find(layout, {"tree-models", "oak", "oak.onnx"}), nullptr);
  EXPECT_NE(Find(layout, {"tree", "validated", "tree", "oak.onnx"}), nullptr);
  for (const Entry& e : layout.entries) {
    if (e.path.front() == kTreeFolder) {
      EXPECT_EQ(e.path[1], "validated") << e.path.back();
    }
  }
}

TEST(BuildLayoutTest, UnsharedTopFolderNamedTreeIsRenamed) {
  const std::vector<ManifestEntry> manifest = {
      Make("Oak", "tree/oak.onnx", 12),
      Make("Pine", "vision/pine.onnx", 12),
  };
  LayoutResult layout = BuildLayout(manifest, kPrefix);
  ExpectWellFormed(layout);
  EXPECT_NE(Find(layout, {"tree-models", "oak", "oak.onnx"}), nullptr);
  EXPECT_NE(Find(layout, {"tree", "tree", "oak.onnx"}), nullptr);
}

TEST(BuildLayoutTest, MessyManifestStaysWellFormed) {
  const std::vector<ManifestEntry> manifest = {
      Make("Net", "validated/vision/net/model.onnx", 12, "validated/vision/net/model.onnx"),
      Make("Net", "validated/vision/net/info.json", 11, "validated/vision/net/info.json"),
      Make("NET", "validated/vision/net2/x.onnx", 10, "validated/vision/net2/y.tar.gz"),
      Make("net", "validated/vision/x/a.onnx", 9),
      Make("Net 2", "validated/vision/x/a.onnx", 9),
      Make("tree", "validated/tree/tree.onnx", 1, "validated/tree/tree"),
  };
  LayoutResult layout = BuildLayout(manifest, kPrefix);
  ExpectWellFormed(layout);
  EXPECT_THAT(Paths(layout), Contains(Path{"tree-models", "tree", "tree.onnx"}));
}

TEST(BuildLayoutTest, OnlyCollectionFoldersAreStripped) {
  // A team hub whose models all sit under vision/ keeps vision as the domain.
  const std::vector<ManifestEntry> manifest = {
      Make("ResNet50", "vision/classification/resnet/model/resnet50.onnx", 12),
      Make("MNIST", "vision/classification/mnist/model/mnist-8.onnx", 8),
      Make("Old", "archive/text/old/model/old-7.onnx", 7),
  };
  LayoutResult layout = BuildLayout(manifest, kPrefix);
  ExpectWellFormed(layout);
  EXPECT_EQ(Children(layout, {}), (std::set<std::string>{"vision", "text", "tree"}));
  EXPECT_NE(Find(layout, {"vision", "mnist", "mnist-8.onnx"}), nullptr);
  EXPECT_NE(Find(layout, {"text", "old", "old-7.onnx"}), nullptr);
}

TEST(BuildLayoutTest, AddingAnEntryElsewhereDoesNotRenameDomains) {
  std::vector<ManifestEntry> manifest = {
      Make("ResNet50", "validated/vision/classification/resnet50.onnx", 12)};
  manifest.push_back(Make("Loose", "extra/loose.onnx", 12));
  LayoutResult layout = BuildLayout(manifest, kPrefix);
  EXPECT_NE(Find(layout, {"vision", "resnet50", "resnet50.onnx"}), nullptr);
  EXPECT_NE(Find(layout, {"extra", "loose", "loose.onnx"}), nullptr);
}

}  // namespace
}  // namespace hubfs::hubs::onnx
