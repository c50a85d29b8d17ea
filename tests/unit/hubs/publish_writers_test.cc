// The document writers of hubfs publish, read back with hubfs' own parsers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "hubfs/hubs/digits/digits_master.h"
#include "hubfs/hubs/digits/digits_model_info.h"
#include "hubfs/hubs/digits/digits_store_writer.h"
#include "hubfs/hubs/mindspore/mindspore_markdown.h"
#include "hubfs/hubs/mindspore/mindspore_markdown_writer.h"
#include "hubfs/hubs/mindspore/mindspore_validator.h"
#include "hubfs/hubs/onnx/onnx_manifest.h"
#include "hubfs/hubs/onnx/onnx_manifest_writer.h"

namespace hubfs::hubs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

onnx::PublishedModel Mnist() {
  onnx::PublishedModel m;
  m.model = "mnist";
  m.opset = 8;
  m.onnx_version = onnx::OnnxVersionOfOpset(8);
  m.file = {"vision/classification/mnist/model/mnist-8.onnx", Sha256::Of("model"), 5};
  m.tags = onnx::TagsFromPath(m.file.path);
  onnx::ModelPort in{"Input3", "tensor(float)", {}, true};
  in.shape = {{1, ""}, {std::nullopt, "N"}, {std::nullopt, ""}};
  m.inputs = {in};
  m.outputs = {{"out", "seq(tensor(uint8))", {}, false}};
  m.with_data = onnx::PublishedFile{"vision/classification/mnist/model/mnist-8.tar.gz",
                                    Sha256::Of("bundle"), 6};
  return m;
}

TEST(OnnxManifestWriterTest, RoundTripsThroughParseManifest) {
  onnx::PublishedModel plain = Mnist();
  plain.model = "plain";
  plain.with_data.reset();
  const std::string text = onnx::WriteManifest({Mnist(), plain});
  EXPECT_NE(text.back(), '\n');  // as the zoo's file
  auto parsed = onnx::ParseManifest(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_THAT(parsed->skipped, IsEmpty());
  ASSERT_EQ(parsed->entries.size(), 2u);
  const onnx::ManifestEntry& e = parsed->entries[0];
  EXPECT_EQ(e.model, "mnist");
  EXPECT_EQ(e.opset, 8);
  EXPECT_EQ(e.model_file.path, "vision/classification/mnist/model/mnist-8.onnx");
  EXPECT_EQ(e.model_file.sha256, Sha256::Of("model"));
  EXPECT_EQ(e.model_file.bytes, 5u);
  ASSERT_TRUE(e.with_data.has_value());
  EXPECT_EQ(e.with_data->sha256, Sha256::Of("bundle"));
  EXPECT_EQ(e.with_data->bytes, 6u);
  EXPECT_FALSE(parsed->entries[1].with_data.has_value());

  auto doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc[0]["onnx_version"], "1.3");
  EXPECT_EQ(doc[0]["metadata"]["tags"], nlohmann::json({"vision", "classification", "mnist"}));
  EXPECT_EQ(doc[0]["metadata"]["io_ports"]["inputs"][0]["shape"], nlohmann::json::parse(R"([1, "N", null])"));
  EXPECT_EQ(doc[0]["metadata"]["io_ports"]["outputs"][0]["type"], "seq(tensor(uint8))");
  EXPECT_FALSE(doc[1]["metadata"].contains("model_with_data_path"));
}

TEST(OnnxManifestWriterTest, EmptyManifestIsAnEmptyArray) {
  auto parsed = onnx::ParseManifest(onnx::WriteManifest({}));
  ASSERT_TRUE(parsed.ok());
  EXPECT_THAT(parsed->entries, IsEmpty());
}

TEST(OnnxManifestWriterTest, NamesTagsAndVersions) {
  EXPECT_EQ(onnx::ModelNameFromStem("mnist-8", 8), "mnist");
  EXPECT_EQ(onnx::ModelNameFromStem("mnist-8", 12), "mnist-8");
  EXPECT_EQ(onnx::ModelNameFromStem("-8", 8), "-8");
  EXPECT_EQ(onnx::ModelNameFromStem("resnet50", 7), "resnet50");
  EXPECT_THAT(onnx::TagsFromPath("a.onnx"), IsEmpty());
  EXPECT_THAT(onnx::TagsFromPath("Object_Detection/yolo/models/y.onnx"),
              ElementsAre("object detection", "yolo"));
  EXPECT_THAT(onnx::TagsFromPath("vision/resnet/preproc/r.onnx"),
              ElementsAre("vision", "resnet", "preprocessing"));
  EXPECT_THAT(onnx::TagsFromPath("x/x/m.onnx"), ElementsAre("x"));
  EXPECT_EQ(onnx::OnnxVersionOfOpset(1), "1.0");
  EXPECT_EQ(onnx::OnnxVersionOfOpset(8), "1.3");
  EXPECT_EQ(onnx::OnnxVersionOfOpset(13), "1.8");
  EXPECT_EQ(onnx::OnnxVersionOfOpset(23), "1.18");
  EXPECT_EQ(onnx::OnnxVersionOfOpset(99), "");
}

TEST(DigitsStoreWriterTest, MasterJsonRoundTrips) {
  auto master = digits::ParseMasterJson(digits::WriteMasterJson("My store", {"lenet", "alexnet"}));
  ASSERT_TRUE(master.ok()) << master.error().ToString();
  EXPECT_EQ(master->msg, "My store");
  EXPECT_THAT(master->children, ElementsAre("lenet", "alexnet"));
}

TEST(DigitsStoreWriterTest, GuessesCaffeInfo) {
  auto info = digits::GuessInfoJson(
      "lenet", {"deploy.prototxt", "labels.txt", "mean.binaryproto", "snapshot_iter_900.caffemodel",
                "snapshot_iter_28140.caffemodel", "solver.prototxt", "train_val.prototxt"});
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  auto doc = nlohmann::json::parse(*info);
  EXPECT_EQ(doc["framework"], "caffe");
  EXPECT_EQ(doc["name"], "lenet");
  EXPECT_EQ(doc["snapshot file"], "snapshot_iter_28140.caffemodel");
  EXPECT_EQ(doc["model file"], "deploy.prototxt");
  auto files = digits::ParseInfoJson(*info);
  ASSERT_TRUE(files.ok());
  EXPECT_THAT(files->files, ElementsAre("snapshot_iter_28140.caffemodel", "deploy.prototxt",
                                        "labels.txt", "mean.binaryproto", "train_val.prototxt",
                                        "solver.prototxt"));
}

TEST(DigitsStoreWriterTest, OriginalPrototxtAndTorchAndMissing) {
  auto caffe = digits::GuessInfoJson("m", {"original.prototxt", "solver.prototxt", "w.caffemodel"});
  ASSERT_TRUE(caffe.ok());
  EXPECT_EQ(nlohmann::json::parse(*caffe)["model file"], "original.prototxt");
  auto torch = digits::GuessInfoJson("t", {"model.lua", "snapshot_5_Model.t7"});
  ASSERT_TRUE(torch.ok());
  EXPECT_EQ(nlohmann::json::parse(*torch)["framework"], "torch");
  EXPECT_THAT(digits::GuessInfoJson("x", {"w.caffemodel", "solver.prototxt"}).error().message(),
              HasSubstr("prototxt"));
  EXPECT_THAT(digits::GuessInfoJson("x", {"readme.txt"}).error().message(), HasSubstr("no weights"));
}

TEST(MindsporeMarkdownWriterTest, OutputPassesTheValidator) {
  mindspore::PublishedAssetFile f{"toynet", "1.10", "http://127.0.0.1:8080/", "2024-5-9", {}};
  f.assets.push_back({"ckpt", "http://127.0.0.1:8080/1.10/toynet/toynet.ckpt", Sha256::Of("w")});
  f.assets.push_back({"mindir", "http://127.0.0.1:8080/1.10/toynet/toynet.mindir", Sha256::Of("m")});
  const std::string text = mindspore::WriteAssetMarkdown(f);
  EXPECT_THAT(mindspore::ValidateAssetText(text), IsEmpty()) << text;
  auto md = mindspore::ParseAssetMarkdown(text);
  ASSERT_TRUE(md.ok());
  ASSERT_EQ(md->assets.size(), 2u);
  EXPECT_EQ(md->assets[0].asset_sha256, ToHex(Sha256::Of("w")));
  EXPECT_EQ(md->assets[1].asset_link, "<http://127.0.0.1:8080/1.10/toynet/toynet.mindir>");
  EXPECT_EQ(md->Scalar("model-version"), "1.10");
}

TEST(MindsporeMarkdownWriterTest, FileFormats) {
  EXPECT_EQ(mindspore::FileFormatOf("a.ckpt"), "ckpt");
  EXPECT_EQ(mindspore::FileFormatOf("a.ms"), "mslite");
  EXPECT_EQ(mindspore::FileFormatOf("a.mindir"), "mindir");
  EXPECT_EQ(mindspore::FileFormatOf(".ckpt"), "");
  EXPECT_EQ(mindspore::FileFormatOf("a.txt"), "");
}

}  // namespace
}  // namespace hubfs::hubs
