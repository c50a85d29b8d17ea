#include "app/model_summary.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/hubs/mindspore_test_markdown.h"

namespace hubfs::app {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

hubs::Entry Doc(std::vector<std::string> path, std::string content) {
  hubs::Entry e;
  e.path = std::move(path);
  e.content = std::move(content);
  return e;
}

hubs::Entry Remote(std::vector<std::string> path) {
  hubs::Entry e;
  e.path = std::move(path);
  e.remote = hubs::RemoteObject{"https://x.test/f", 10, std::nullopt};
  return e;
}

TEST(ModelSummaryTest, OnnxModelFromInfoJson) {
  hubs::Listing listing;
  listing.entries.push_back(Remote({"vision", "resnet50", "resnet50-12.onnx"}));
  listing.entries.push_back(Doc({"vision", "resnet50", "info.json"}, R"([
    {"model": "ResNet50", "opset_version": 12,
     "metadata": {"model_bytes": 100, "tags": ["vision", "Classification"]}},
    {"model": "ResNet50", "opset_version": 14,
     "metadata": {"model_bytes": 140, "tags": ["classification", "resnet"]}},
    {"model": "ResNet50", "opset_version": 14, "metadata": {"model_bytes": 999}},
    {"model": "ResNet50", "opset_version": 6, "metadata": {"model_bytes": 60}}])"));
  // The tree mirror and documents at other depths are not models.
  listing.entries.push_back(Doc({"tree", "x", "info.json"}, R"([{"model": "X", "opset_version": 1}])"));
  listing.entries.push_back(Doc({"vision", "info.json"}, R"([{"model": "Y", "opset_version": 1}])"));
  Summaries s = SummarizeListing("onnx", "onnx", listing);
  ASSERT_EQ(s.models.size(), 1u);
  const ModelSummary& m = s.models[0];
  EXPECT_EQ(m.hub, "onnx");
  EXPECT_EQ(m.path, "vision/resnet50");
  EXPECT_EQ(m.name, "ResNet50");
  EXPECT_THAT(m.opsets, ElementsAre(6, 12, 14));
  EXPECT_EQ(m.version, "6,12,14");
  EXPECT_EQ(m.framework, "onnx");
  EXPECT_THAT(m.tags, ElementsAre("vision", "Classification", "resnet"));  // case-insensitive union
  EXPECT_EQ(m.size, 140u);  // the first of the largest opset, as model.onnx
  EXPECT_THAT(s.failures, IsEmpty());
}

TEST(ModelSummaryTest, OnnxSkipsUnusableInfoJson) {
  hubs::Listing listing;
  listing.entries.push_back(Doc({"vision", "a", "info.json"}, "not json"));
  listing.entries.push_back(Doc({"vision", "b", "info.json"}, "{}"));
  listing.entries.push_back(Doc({"vision", "c", "info.json"}, R"([{"model": "C", "opset_version": "x"}])"));
  Summaries s = SummarizeListing("onnx", "onnx", listing);
  ASSERT_EQ(s.models.size(), 1u);
  EXPECT_EQ(s.models[0].name, "C");
  EXPECT_THAT(s.models[0].opsets, IsEmpty());
  EXPECT_EQ(s.models[0].size, std::nullopt);
}

TEST(ModelSummaryTest, DigitsModelsAndFailedStores) {
  hubs::Listing listing;
  listing.entries.push_back(Doc({"storeA", "lenet", "info.json"},
                                R"({"name": "LeNet", "framework": "Caffe", "caffe version": "0.15.13"})"));
  listing.entries.push_back(Doc({"storeA", "lenet", "aux.json"}, R"({"dataset": "MNIST"})"));
  listing.entries.push_back(Doc({"storeA", "nameless", "info.json"}, R"({"framework": "torch"})"));
  listing.entries.push_back(Doc({"storeA", "bad", "info.json"}, "[1]"));
  listing.entries.push_back(Doc({"storeC", "ERROR.txt"}, "GET http://x.test/storeC/master.json: HTTP 500\nmore"));
  Summaries s = SummarizeListing("digits", "digits", listing);
  ASSERT_EQ(s.models.size(), 2u);
  EXPECT_EQ(s.models[0].path, "storeA/lenet");
  EXPECT_EQ(s.models[0].name, "LeNet");
  EXPECT_EQ(s.models[0].framework, "caffe");
  EXPECT_EQ(s.models[0].version, "0.15.13");
  EXPECT_THAT(s.models[0].tags, ElementsAre("MNIST"));
  EXPECT_EQ(s.models[0].size, std::nullopt);
  EXPECT_EQ(s.models[1].name, "nameless");  // the folder when info.json has no name
  EXPECT_EQ(s.models[1].framework, "torch");
  EXPECT_EQ(s.models[1].version, "");
  listing.entries.push_back(Doc({"storeD", "ERROR.txt"},
                                "The store could not be listed.\n\nURLs tried:\n  http://x.test/d/master.json\n"
                                "    HTTP 500\n  http://x.test/d/\n    refused\n\nThe other stores ...\n"));
  s = SummarizeListing("digits", "digits", listing);
  EXPECT_THAT(s.failures, ElementsAre("store storeC: GET http://x.test/storeC/master.json: HTTP 500",
                                      "store storeD: http://x.test/d/master.json: HTTP 500; http://x.test/d/: refused"));
}

TEST(ModelSummaryTest, MindSporeFromFrontMatter) {
  hubs::Listing listing;
  listing.entries.push_back(Doc({"1.10", "toynet_cifar10", "toynet_cifar10.md"},
                                hubs::mindspore::test::GoodMarkdown("toynet")));
  listing.entries.push_back(Doc({"1.10", "toynet_cifar10", "toynet_cifar10_cn.md"}, "# 中文\n"));
  listing.entries.push_back(Doc({"1.10", "broken", "broken.md"}, "no front matter"));
  Summaries s = SummarizeListing("mindspore", "ms", listing);
  ASSERT_EQ(s.models.size(), 1u);
  const ModelSummary& m = s.models[0];
  EXPECT_EQ(m.hub, "ms");
  EXPECT_EQ(m.path, "1.10/toynet_cifar10");
  EXPECT_EQ(m.name, "toynet");
  EXPECT_EQ(m.version, "1.10");
  EXPECT_EQ(m.framework, "mindspore");
  EXPECT_THAT(m.tags, ElementsAre("cv-classification", "toynet", "cifar10"));  // type, backbone, dataset
}

hubs::Entry Unsized(std::vector<std::string> path, std::string url) {
  hubs::Entry e;
  e.path = std::move(path);
  e.remote = hubs::RemoteObject{std::move(url), std::nullopt, std::nullopt};
  return e;
}

TEST(ModelSummaryTest, FolderSizesComeFromLearnedSizesWhenAllAreKnown) {
  hubs::Listing listing;
  listing.entries.push_back(Doc({"storeA", "lenet", "info.json"}, R"({"name": "LeNet"})"));
  listing.entries.push_back(Unsized({"storeA", "lenet", "snapshot.caffemodel"}, "http://x.test/a/lenet/snapshot"));
  listing.entries.push_back(Unsized({"storeA", "lenet", "deploy.prototxt"}, "http://x.test/a/lenet/deploy"));
  listing.entries.push_back(Doc({"storeA", "alexnet", "info.json"}, R"({"name": "AlexNet"})"));
  listing.entries.push_back(Unsized({"storeA", "alexnet", "snapshot.caffemodel"}, "http://x.test/a/alexnet/snapshot"));
  listing.entries.push_back(Unsized({"storeA", "alexnet", "deploy.prototxt"}, "http://x.test/a/alexnet/deploy"));
  listing.entries.push_back(Doc({"storeA", "empty", "info.json"}, R"({"name": "Empty"})"));
  listing.entries.push_back(Doc({"storeB", "lenet", "info.json"}, R"({"name": "LeNet"})"));
  hubs::Entry published = Unsized({"storeB", "lenet", "snapshot.caffemodel"}, "http://x.test/b/lenet/snapshot");
  published.remote->size = 7;
  listing.entries.push_back(published);
  Summaries s = SummarizeListing("digits", "digits", listing);
  ASSERT_EQ(s.models.size(), 4u);
  s.models[3].size = 99;  // a size the hub published is kept
  std::vector<std::string> asked;
  AddFolderSizes(
      listing,
      [&](const hubs::RemoteObject& remote) -> std::optional<uint64_t> {
        asked.push_back(remote.url);
        if (remote.url == "http://x.test/a/lenet/snapshot") return 1000;
        if (remote.url == "http://x.test/a/lenet/deploy") return 24;
        if (remote.url == "http://x.test/a/alexnet/snapshot") return 5000;
        return std::nullopt;  // alexnet's deploy.prototxt was never looked up
      },
      &s.models);
  EXPECT_EQ(s.models[0].path, "storeA/lenet");
  EXPECT_EQ(s.models[0].size, 1024u);
  EXPECT_EQ(s.models[1].path, "storeA/alexnet");
  EXPECT_EQ(s.models[1].size, std::nullopt);  // one file of unknown size: no total
  EXPECT_EQ(s.models[2].path, "storeA/empty");
  EXPECT_EQ(s.models[2].size, std::nullopt);  // no remote file
  EXPECT_EQ(s.models[3].size, 99u);
  EXPECT_THAT(asked, ElementsAre("http://x.test/a/lenet/snapshot", "http://x.test/a/lenet/deploy",
                                 "http://x.test/a/alexnet/snapshot", "http://x.test/a/alexnet/deploy"));
}

TEST(ModelSummaryTest, FolderSizesOfMindSporeAssetsUsePublishedSizesFirst) {
  hubs::Listing listing;
  listing.entries.push_back(Doc({"1.10", "toynet_cifar10", "toynet_cifar10.md"},
                                hubs::mindspore::test::GoodMarkdown("toynet")));
  hubs::Entry asset = Unsized({"1.10", "toynet_cifar10", "toynet.ckpt"}, "http://x.test/toynet.ckpt");
  listing.entries.push_back(asset);
  Summaries s = SummarizeListing("mindspore", "ms", listing);
  ASSERT_EQ(s.models.size(), 1u);
  AddFolderSizes(listing, [](const hubs::RemoteObject&) { return std::optional<uint64_t>(4096); }, &s.models);
  EXPECT_EQ(s.models[0].size, 4096u);
}

}  // namespace
}  // namespace hubfs::app
