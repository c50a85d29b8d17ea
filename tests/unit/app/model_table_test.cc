#include "app/model_table.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hubfs::app {
namespace {

std::vector<ModelSummary> Sample() {
  ModelSummary onnx;
  onnx.hub = "onnx";
  onnx.path = "vision/resnet50";
  onnx.name = "ResNet50";
  onnx.opsets = {12, 14};
  onnx.version = "12,14";
  onnx.framework = "onnx";
  onnx.tags = {"vision", "classification"};
  onnx.size = 102400;
  ModelSummary digits;
  digits.hub = "digits";
  digits.path = "storeA/lenet";
  digits.name = "LeNet on MNIST";
  digits.framework = "caffe";
  return {onnx, digits};
}

TEST(ModelTableTest, HumanSize) {
  EXPECT_EQ(HumanSize(0), "0B");
  EXPECT_EQ(HumanSize(1023), "1023B");
  EXPECT_EQ(HumanSize(1536), "1.5K");
  EXPECT_EQ(HumanSize(102400), "100K");
  EXPECT_EQ(HumanSize(664871060), "634M");
  EXPECT_EQ(HumanSize(uint64_t{3} << 30), "3.0G");
}

TEST(ModelTableTest, TableIsAlignedWithDashesForUnknown) {
  EXPECT_EQ(FormatTable(Sample()),
            "onnx/vision/resnet50  ResNet50        opset 12,14  onnx   vision,classification  100K\n"
            "digits/storeA/lenet   LeNet on MNIST  -            caffe  -                      -\n");
  EXPECT_EQ(FormatTable({}), "");
}

TEST(ModelTableTest, Json) {
  auto doc = nlohmann::json::parse(FormatJson(Sample()));
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), 2u);
  EXPECT_EQ(doc[0]["hub"], "onnx");
  EXPECT_EQ(doc[0]["path"], "vision/resnet50");
  EXPECT_EQ(doc[0]["opsets"], nlohmann::json({12, 14}));
  EXPECT_EQ(doc[0]["size"], 102400);
  EXPECT_EQ(doc[0]["tags"], nlohmann::json({"vision", "classification"}));
  EXPECT_TRUE(doc[1]["size"].is_null());
  EXPECT_FALSE(doc[1].contains("opsets"));
  EXPECT_EQ(doc[1]["version"], "");
  EXPECT_EQ(FormatJson({}), "[]\n");
}

TEST(ModelTableTest, JsonSurvivesInvalidUtf8) {
  auto models = Sample();
  models[0].name = "bad\xff";
  EXPECT_NO_THROW(nlohmann::json::parse(FormatJson(models)));
}

}  // namespace
}  // namespace hubfs::app
