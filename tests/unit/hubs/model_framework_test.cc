#include "hubfs/hubs/model_framework.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hubfs/hubs/digits/digits_model_info.h"
#include "hubfs/hubs/dms/dms_hub.h"

namespace hubfs::hubs {
namespace {

using ::testing::ElementsAre;

TEST(ModelFrameworkTest, ByExtension) {
  EXPECT_EQ(FrameworkOfFileName("model.onnx"), "onnx");
  EXPECT_EQ(FrameworkOfFileName("MODEL.ONNX"), "onnx");
  EXPECT_EQ(FrameworkOfFileName("model.safetensors"), "pytorch");
  EXPECT_EQ(FrameworkOfFileName("pytorch_model.bin"), "pytorch");
  EXPECT_EQ(FrameworkOfFileName("resnet.pth"), "pytorch");
  EXPECT_EQ(FrameworkOfFileName("tf_model.h5"), "keras");
  EXPECT_EQ(FrameworkOfFileName("saved_model.pb"), "tensorflow");
  EXPECT_EQ(FrameworkOfFileName("m.tflite"), "tensorflow");
  EXPECT_EQ(FrameworkOfFileName("flax_model.msgpack"), "flax");
  EXPECT_EQ(FrameworkOfFileName("snapshot_iter_100.caffemodel"), "caffe");
  EXPECT_EQ(FrameworkOfFileName("net.mindir"), "mindspore");
  EXPECT_EQ(FrameworkOfFileName("llama.Q4_K_M.gguf"), "gguf");
  // Ambiguous or no model at all.
  EXPECT_EQ(FrameworkOfFileName("weights.ckpt"), "");
  EXPECT_EQ(FrameworkOfFileName("spiece.model"), "");
  EXPECT_EQ(FrameworkOfFileName("config.json"), "");
  EXPECT_EQ(FrameworkOfFileName("README"), "");
  EXPECT_EQ(FrameworkOfFileName(".onnx"), "");
  EXPECT_EQ(FrameworkOfFileName("model."), "");
}

TEST(ModelFrameworkTest, NormalizesPublishedNames) {
  EXPECT_EQ(NormalizeFramework("Caffe"), "caffe");
  EXPECT_EQ(NormalizeFramework("tensorflow"), "tensorflow");
  EXPECT_EQ(NormalizeFramework("c++-1.0_x"), "c++-1.0_x");
  EXPECT_EQ(NormalizeFramework(""), "");
  EXPECT_EQ(NormalizeFramework("../etc"), "");
  EXPECT_EQ(NormalizeFramework("a/b"), "");
  EXPECT_EQ(NormalizeFramework("two words"), "");
  EXPECT_EQ(NormalizeFramework(std::string(33, 'a')), "");
}

TEST(ModelFrameworkTest, DigitsInfoJsonSaysWhichFilesAreTheModel) {
  auto named = digits::ParseInfoJson(R"({"framework": "Torch", "snapshot file": "snap.t7",
      "model file": "model.lua", "labels file": "labels.txt", "mean file": "mean.jpg",
      "deploy file": "model.lua", "solver file": "solver.prototxt"})");
  ASSERT_TRUE(named.ok()) << named.error().ToString();
  EXPECT_THAT(named->models, ElementsAre("snap.t7", "model.lua"));
  EXPECT_EQ(named->framework, "Torch");
  auto old_caffe = digits::ParseInfoJson(R"({"snapshot file": "s.caffemodel", "network file": "n.prototxt",
      "framework": 7})");
  ASSERT_TRUE(old_caffe.ok());
  EXPECT_THAT(old_caffe->models, ElementsAre("s.caffemodel", "n.prototxt"));
  EXPECT_EQ(old_caffe->framework, "");
}

TEST(ModelFrameworkTest, ModelServerArchivesAreMxnetModels) {
  dms::DmsHub hub({"dms", {{"squeezenet", "https://models.test/squeezenet_v1.1.model"}}});
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ(listing->entries.size(), 1u);
  EXPECT_EQ(listing->entries[0].path, std::vector<std::string>{"squeezenet.model"});
  EXPECT_EQ(listing->entries[0].framework, "mxnet");
}

}  // namespace
}  // namespace hubfs::hubs
