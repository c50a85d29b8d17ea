#include "app/model_filter.h"

#include <gtest/gtest.h>

namespace hubfs::app {
namespace {

ModelSummary Model(std::string path, std::string name, std::string framework, std::vector<std::string> tags) {
  ModelSummary m;
  m.hub = "h";
  m.path = std::move(path);
  m.name = std::move(name);
  m.framework = std::move(framework);
  m.tags = std::move(tags);
  return m;
}

ModelFilter Tags(std::vector<std::string> tags) {
  ModelFilter f;
  f.tags = std::move(tags);
  return f;
}
ModelFilter Framework(std::string framework) {
  ModelFilter f;
  f.framework = std::move(framework);
  return f;
}
ModelFilter Name(std::string text) {
  ModelFilter f;
  f.name_contains = std::move(text);
  return f;
}
ModelFilter Path(std::string path) {
  ModelFilter f;
  f.path = std::move(path);
  return f;
}

TEST(ModelFilterTest, EmptyFilterMatchesEverything) {
  EXPECT_TRUE(Matches(ModelFilter{}, Model("a/b", "X", "", {})));
}

TEST(ModelFilterTest, TagsAnyMatchCaseInsensitive) {
  const ModelSummary m = Model("vision/resnet", "ResNet", "onnx", {"vision", "Classification"});
  EXPECT_TRUE(Matches(Tags({"CLASSIFICATION"}), m));
  EXPECT_TRUE(Matches(Tags({"text", "vision"}), m));
  EXPECT_FALSE(Matches(Tags({"text"}), m));
  EXPECT_FALSE(Matches(Tags({"classif"}), m));  // whole tags, not substrings
  EXPECT_FALSE(Matches(Tags({"x"}), Model("a", "A", "onnx", {})));
}

TEST(ModelFilterTest, FrameworkAndName) {
  const ModelSummary m = Model("s/lenet", "LeNet on MNIST", "caffe", {});
  EXPECT_TRUE(Matches(Framework("Caffe"), m));
  EXPECT_FALSE(Matches(Framework("onnx"), m));
  EXPECT_TRUE(Matches(Name("net ON"), m));
  EXPECT_FALSE(Matches(Name("alexnet"), m));
  ModelFilter both = Framework("caffe");
  both.name_contains = "x";
  EXPECT_FALSE(Matches(both, m));  // every criterion must hold
}

TEST(ModelFilterTest, PathSelectsFoldersAndTheModelOfAFile) {
  const ModelSummary m = Model("vision/resnet50", "R", "onnx", {});
  EXPECT_TRUE(Matches(Path("vision"), m));
  EXPECT_TRUE(Matches(Path("vision/resnet50"), m));
  EXPECT_TRUE(Matches(Path("vision/resnet50/info.json"), m));
  EXPECT_FALSE(Matches(Path("vis"), m));
  EXPECT_FALSE(Matches(Path("vision/resnet5"), m));
  EXPECT_FALSE(Matches(Path("text"), m));
}

TEST(ModelFilterTest, SelectKeepsOrder) {
  std::vector<ModelSummary> models = {Model("a", "Beta", "", {}), Model("b", "Alpha", "", {}),
                                      Model("c", "alphabet", "", {})};
  auto selected = Select(Name("ALPHA"), models);
  ASSERT_EQ(selected.size(), 2u);
  EXPECT_EQ(selected[0].path, "b");
  EXPECT_EQ(selected[1].path, "c");
}

}  // namespace
}  // namespace hubfs::app
