#include "hubfs/hubs/onnx/onnx_manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hubfs::hubs::onnx {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kResnetSha[] = "8d3c6d5e5fb3f3a8c1b1b6f4c7f2b9a0e1d2c3b4a5968778695a4b3c2d1e0f1a";
constexpr char kBundleSha[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// --- ParseRepoSpec ----------------------------------------------------------------------------

TEST(ParseRepoSpecTest, OwnerAndNameDefaultToMain) {
  auto spec = ParseRepoSpec("onnx/models");
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  EXPECT_EQ(spec->owner, "onnx");
  EXPECT_EQ(spec->name, "models");
  EXPECT_EQ(spec->ref, "main");
}

TEST(ParseRepoSpecTest, CommitRef) {
  auto spec = ParseRepoSpec("onnx/models:771185265efbdc049fb223bd68ab1aeb1aecde76");
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  EXPECT_EQ(spec->owner, "onnx");
  EXPECT_EQ(spec->name, "models");
  EXPECT_EQ(spec->ref, "771185265efbdc049fb223bd68ab1aeb1aecde76");
}

TEST(ParseRepoSpecTest, ExtraSlashPartsAreIgnored) {
  auto spec = ParseRepoSpec("onnx/models/extra/parts:dev");
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  EXPECT_EQ(spec->owner, "onnx");
  EXPECT_EQ(spec->name, "models");
  EXPECT_EQ(spec->ref, "dev");

  auto no_ref = ParseRepoSpec("me/zoo/ignored");
  ASSERT_TRUE(no_ref.ok());
  EXPECT_EQ(no_ref->name, "zoo");
  EXPECT_EQ(no_ref->ref, "main");
}

TEST(ParseRepoSpecTest, RefIsTheTextBetweenFirstAndSecondColon) {
  auto spec = ParseRepoSpec("onnx/models:v1:ignored");
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  EXPECT_EQ(spec->ref, "v1");
}

TEST(ParseRepoSpecTest, SlashesInTheRefAreKept) {
  // The official client splits on ':' only, so "a/b:feature/x" keeps the branch name whole.
  auto spec = ParseRepoSpec("a/b:feature/x");
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  EXPECT_EQ(spec->owner, "a");
  EXPECT_EQ(spec->name, "b");
  EXPECT_EQ(spec->ref, "feature/x");
}

TEST(ParseRepoSpecTest, WithoutSlashIsInvalid) {
  for (const char* text : {"a:b", "models", "", ":main", "onnx:models/x"}) {
    auto spec = ParseRepoSpec(text);
    ASSERT_FALSE(spec.ok()) << text;
    EXPECT_EQ(spec.error().code(), Code::kInvalidArgument) << text;
  }
}

TEST(ParseRepoSpecTest, ErrorNamesTheSpec) {
  auto spec = ParseRepoSpec("a:b");
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(spec.error().message(), HasSubstr("'a:b'"));
}

TEST(ParseRepoSpecTest, EmptyPartsAreInvalid) {
  for (const char* text :
       {"/models", "onnx/", "onnx/:main", "/", "onnx/models:", "onnx/models::x"}) {
    auto spec = ParseRepoSpec(text);
    EXPECT_FALSE(spec.ok()) << text;
  }
}

TEST(ParseRepoSpecTest, UnsafePartsAreRejected) {
  const std::string cases[] = {
      "../models",
      "onnx/..",
      "./models",
      "onnx/models:..",
      "onnx/models:../../etc",
      "onnx/models:main/../x",
      std::string("on\0nx/models", 12),
      std::string("onnx/mod\0els", 12),
      std::string("onnx/models:ma\0in", 17),
      "onnx/models:ma\nin",
      "on\tnx/models",
      "onnx/mo\x7f"
      "dels",
      "onnx/" + std::string(256, 'm'),
  };
  for (const std::string& text : cases) {
    auto spec = ParseRepoSpec(text);
    ASSERT_FALSE(spec.ok()) << text;
    EXPECT_EQ(spec.error().code(), Code::kInvalidArgument);
  }
}

// --- ParseManifest ----------------------------------------------------------------------------

// One entry in the shape of the ONNX Model Zoo's ONNX_HUB_MANIFEST.json.
nlohmann::json ZooEntry() {
  return nlohmann::json::parse(R"json({
    "model": "ResNet50",
    "model_path": "validated/vision/classification/resnet/model/resnet50-v1-12.onnx",
    "onnx_version": "1.7.0",
    "opset_version": 12,
    "metadata": {
      "model_sha": ")json" + std::string(kResnetSha) +
                               R"json(",
      "model_bytes": 102583340,
      "tags": ["vision", "classification", "resnet"],
      "io_ports": {
        "inputs": [{"name": "data", "shape": [1, 3, 224, 224], "type": "tensor(float)"}],
        "outputs": [{"name": "resnetv17_dense0_fwd", "shape": [1, 1000], "type": "tensor(float)"}]
      },
      "model_with_data_path": "validated/vision/classification/resnet/model/resnet50-v1-12.tar.gz",
      "model_with_data_sha": ")json" +
                               std::string(kBundleSha) + R"json(",
      "model_with_data_bytes": 92167346
    }
  })json");
}

std::string Array(const std::vector<nlohmann::json>& items) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& i : items) a.push_back(i);
  return a.dump(2);
}

TEST(ParseManifestTest, ParsesAZooEntry) {
  auto parsed = ParseManifest(Array({ZooEntry()}));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_THAT(parsed->skipped, IsEmpty());
  ASSERT_THAT(parsed->entries, SizeIs(1));
  const ManifestEntry& e = parsed->entries[0];
  EXPECT_EQ(e.model, "ResNet50");
  EXPECT_EQ(e.opset, 12);
  EXPECT_EQ(e.model_file.path, "validated/vision/classification/resnet/model/resnet50-v1-12.onnx");
  ASSERT_TRUE(e.model_file.sha256.has_value());
  EXPECT_EQ(ToHex(*e.model_file.sha256), kResnetSha);
  EXPECT_EQ(e.model_file.bytes, 102583340u);
  ASSERT_TRUE(e.with_data.has_value());
  EXPECT_EQ(e.with_data->path,
            "validated/vision/classification/resnet/model/resnet50-v1-12.tar.gz");
  ASSERT_TRUE(e.with_data->sha256.has_value());
  EXPECT_EQ(ToHex(*e.with_data->sha256), kBundleSha);
  EXPECT_EQ(e.with_data->bytes, 92167346u);
}

TEST(ParseManifestTest, RawJsonIsTheEntryAsPublishedInCompactForm) {
  const nlohmann::json entry = ZooEntry();
  auto parsed = ParseManifest(Array({entry}));
  ASSERT_TRUE(parsed.ok());
  ASSERT_THAT(parsed->entries, SizeIs(1));
  const std::string& raw = parsed->entries[0].raw_json;
  EXPECT_EQ(raw.find('\n'), std::string::npos) << raw;
  // Fields hubfs does not use (onnx_version, tags, io_ports) are kept too.
  EXPECT_EQ(nlohmann::json::parse(raw), entry);
}

TEST(ParseManifestTest, NullBundleDigestIsAbsent) {
  nlohmann::json entry = ZooEntry();
  entry["metadata"]["model_with_data_sha"] = nullptr;
  auto parsed = ParseManifest(Array({entry}));
  ASSERT_TRUE(parsed.ok());
  ASSERT_THAT(parsed->entries, SizeIs(1));
  ASSERT_TRUE(parsed->entries[0].with_data.has_value());
  EXPECT_FALSE(parsed->entries[0].with_data->sha256.has_value());
  EXPECT_EQ(parsed->entries[0].with_data->bytes, 92167346u);
  EXPECT_TRUE(parsed->entries[0].model_file.sha256.has_value());
}

TEST(ParseManifestTest, NullSizesAndDigestsAreAbsent) {
  nlohmann::json entry = ZooEntry();
  entry["metadata"]["model_sha"] = nullptr;
  entry["metadata"]["model_bytes"] = nullptr;
  entry["metadata"]["model_with_data_path"] = nullptr;
  auto parsed = ParseManifest(Array({entry}));
  ASSERT_TRUE(parsed.ok());
  ASSERT_THAT(parsed->entries, SizeIs(1));
  EXPECT_FALSE(parsed->entries[0].model_file.sha256.has_value());
  EXPECT_FALSE(parsed->entries[0].model_file.bytes.has_value());
  EXPECT_FALSE(parsed->entries[0].with_data.has_value());
}

TEST(ParseManifestTest, MetadataIsOptional) {
  auto parsed = ParseManifest(
      R"([{"model": "A", "model_path": "a/b/a.onnx", "opset_version": 7},
          {"model": "B", "model_path": "a/b/b.onnx", "opset_version": 8, "metadata": null}])");
  ASSERT_TRUE(parsed.ok());
  EXPECT_THAT(parsed->skipped, IsEmpty());
  ASSERT_THAT(parsed->entries, SizeIs(2));
  for (const ManifestEntry& e : parsed->entries) {
    EXPECT_FALSE(e.model_file.sha256.has_value());
    EXPECT_FALSE(e.model_file.bytes.has_value());
    EXPECT_FALSE(e.with_data.has_value());
  }
  EXPECT_EQ(parsed->entries[1].model, "B");
  EXPECT_EQ(parsed->entries[1].opset, 8);
}

TEST(ParseManifestTest, LargeSizesAndUpperCaseDigestsAreRead) {
  nlohmann::json entry = ZooEntry();
  entry["metadata"]["model_bytes"] = 5000000000ull;
  std::string upper = kResnetSha;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  entry["metadata"]["model_sha"] = upper;
  auto parsed = ParseManifest(Array({entry}));
  ASSERT_TRUE(parsed.ok());
  ASSERT_THAT(parsed->entries, SizeIs(1));
  EXPECT_EQ(parsed->entries[0].model_file.bytes, 5000000000ull);
  EXPECT_EQ(ToHex(*parsed->entries[0].model_file.sha256), kResnetSha);
}

TEST(ParseManifestTest, EmptyArrayHasNoEntries) {
  auto parsed = ParseManifest("[]");
  ASSERT_TRUE(parsed.ok());
  EXPECT_THAT(parsed->entries, IsEmpty());
  EXPECT_THAT(parsed->skipped, IsEmpty());
}

// Each bad element is skipped, reported with its index, and does not stop the ones after it.
struct BadEntryCase {
  const char* label;
  std::function<void(nlohmann::json&)> mutate;
};

TEST(ParseManifestTest, UnusableEntriesAreSkippedWithTheirIndex) {
  const BadEntryCase cases[] = {
      {"not an object", [](nlohmann::json& e) { e = 42; }},
      {"array",
       [](nlohmann::json& e) {
         e = nlohmann::json::array({1, 2});
       }},
      {"null", [](nlohmann::json& e) { e = nullptr; }},
      {"no model", [](nlohmann::json& e) { e.erase("model"); }},
      {"model not string", [](nlohmann::json& e) { e["model"] = 5; }},
      {"no model_path", [](nlohmann::json& e) { e.erase("model_path"); }},
      {"model_path not string",
       [](nlohmann::json& e) { e["model_path"] = nlohmann::json::array(); }},
      {"no opset", [](nlohmann::json& e) { e.erase("opset_version"); }},
      {"opset string", [](nlohmann::json& e) { e["opset_version"] = "12"; }},
      {"opset float", [](nlohmann::json& e) { e["opset_version"] = 12.5; }},
      {"opset negative", [](nlohmann::json& e) { e["opset_version"] = -1; }},
      {"opset huge", [](nlohmann::json& e) { e["opset_version"] = 1000000000000ll; }},
      {"metadata not object", [](nlohmann::json& e) { e["metadata"] = "x"; }},
      {"sha not hex", [](nlohmann::json& e) { e["metadata"]["model_sha"] = std::string(64, 'z'); }},
      {"sha short", [](nlohmann::json& e) { e["metadata"]["model_sha"] = "abc123"; }},
      {"sha number", [](nlohmann::json& e) { e["metadata"]["model_sha"] = 7; }},
      {"bytes negative", [](nlohmann::json& e) { e["metadata"]["model_bytes"] = -5; }},
      {"bytes string", [](nlohmann::json& e) { e["metadata"]["model_bytes"] = "100"; }},
      {"bytes float", [](nlohmann::json& e) { e["metadata"]["model_bytes"] = 1.5; }},
      {"bundle path number", [](nlohmann::json& e) { e["metadata"]["model_with_data_path"] = 3; }},
      {"bundle sha bad", [](nlohmann::json& e) { e["metadata"]["model_with_data_sha"] = "nope"; }},
      {"bundle bytes bad", [](nlohmann::json& e) { e["metadata"]["model_with_data_bytes"] = -1; }},
  };
  for (const BadEntryCase& c : cases) {
    nlohmann::json good_before = ZooEntry();
    good_before["model"] = "Before";
    nlohmann::json bad = ZooEntry();
    c.mutate(bad);
    nlohmann::json good_after = ZooEntry();
    good_after["model"] = "After";
    auto parsed = ParseManifest(Array({good_before, bad, good_after}));
    ASSERT_TRUE(parsed.ok()) << c.label;
    ASSERT_THAT(parsed->entries, SizeIs(2)) << c.label;
    EXPECT_EQ(parsed->entries[0].model, "Before") << c.label;
    EXPECT_EQ(parsed->entries[1].model, "After") << c.label;
    ASSERT_THAT(parsed->skipped, SizeIs(1)) << c.label;
    EXPECT_THAT(parsed->skipped[0], HasSubstr("entry 1:")) << c.label;
  }
}

TEST(ParseManifestTest, SkippedLinesNameTheField) {
  auto parsed = ParseManifest(
      R"([{"model_path": "a/b/c.onnx", "opset_version": 1},
          {"model": "x", "opset_version": 1},
          {"model": "x", "model_path": "a/b/c.onnx"},
          {"model": "x", "model_path": "a/b/c.onnx", "opset_version": 1,
           "metadata": {"model_sha": "zz"}}])");
  ASSERT_TRUE(parsed.ok());
  EXPECT_THAT(parsed->entries, IsEmpty());
  ASSERT_THAT(parsed->skipped, SizeIs(4));
  EXPECT_THAT(parsed->skipped[0], HasSubstr("entry 0:"));
  EXPECT_THAT(parsed->skipped[0], HasSubstr("model"));
  EXPECT_THAT(parsed->skipped[1], HasSubstr("entry 1:"));
  EXPECT_THAT(parsed->skipped[1], HasSubstr("model_path"));
  EXPECT_THAT(parsed->skipped[2], HasSubstr("entry 2:"));
  EXPECT_THAT(parsed->skipped[2], HasSubstr("opset_version"));
  EXPECT_THAT(parsed->skipped[3], HasSubstr("entry 3:"));
  EXPECT_THAT(parsed->skipped[3], HasSubstr("model_sha"));
}

TEST(ParseManifestTest, OpsetBoundsAreInclusive) {
  auto parsed = ParseManifest(
      R"([{"model": "a", "model_path": "a/b/a.onnx", "opset_version": 0},
          {"model": "b", "model_path": "a/b/b.onnx", "opset_version": 100000},
          {"model": "c", "model_path": "a/b/c.onnx", "opset_version": 100001}])");
  ASSERT_TRUE(parsed.ok());
  ASSERT_THAT(parsed->entries, SizeIs(2));
  EXPECT_EQ(parsed->entries[0].opset, 0);
  EXPECT_EQ(parsed->entries[1].opset, 100000);
  ASSERT_THAT(parsed->skipped, SizeIs(1));
  EXPECT_THAT(parsed->skipped[0], HasSubstr("entry 2:"));
}

TEST(ParseManifestTest, DocumentsThatAreNotArraysAreDataLoss) {
  for (const char* text : {"{}", R"({"model": "x"})", "\"text\"", "42", "null", "true"}) {
    auto parsed = ParseManifest(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code(), Code::kDataLoss) << text;
  }
}

TEST(ParseManifestTest, InvalidJsonIsDataLoss) {
  const std::string cases[] = {
      "", "[", "[{\"model\": \"x\"", "not json", "[1,]", "<html>404</html>", std::string("[\0]", 3),
  };
  for (const std::string& text : cases) {
    auto parsed = ParseManifest(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code(), Code::kDataLoss) << text;
  }
}

}  // namespace
}  // namespace hubfs::hubs::onnx
