#include "app/hf_summary.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "app/model_table.h"

namespace hubfs::app {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kCommit[] = "0123456789abcdef0123456789abcdef01234567";
constexpr char kOther[] = "fedcba9876543210fedcba9876543210fedcba98";

hubs::Entry Folder(std::vector<std::string> path) {
  hubs::Entry e;
  e.path = std::move(path);
  e.kind = hubs::EntryKind::kDirectory;
  return e;
}

hubs::Entry File(std::vector<std::string> path, uint64_t size, std::string url) {
  hubs::Entry e;
  e.path = std::move(path);
  e.remote = hubs::RemoteObject{std::move(url), size, std::nullopt};
  return e;
}

std::string Resolve(const std::string& repo, const std::string& file,
                    const std::string& commit = kCommit) {
  return "https://hub.test/" + repo + "/resolve/" + commit + "/" + file;
}

// As HfHub lists: namespaces, then each repository folder followed by its entries.
hubs::Listing Sample() {
  hubs::Listing listing;
  listing.entries.push_back(Folder({"onnx-test"}));
  listing.entries.push_back(Folder({"datasets", "onnx-test"}));
  listing.entries.push_back(Folder({"onnx-test", "mnist"}));
  listing.entries.push_back(
      File({"onnx-test", "mnist", "config.json"}, 100, Resolve("onnx-test/mnist", "config.json")));
  listing.entries.push_back(Folder({"onnx-test", "mnist", "onnx"}));
  listing.entries.push_back(File({"onnx-test", "mnist", "onnx", "model.onnx"}, 1000,
                                 Resolve("onnx-test/mnist", "onnx/model.onnx")));
  listing.entries.push_back(Folder({"onnx-test", "mnist@v1.0"}));
  // A file the local HF cache holds: a file:// URL, no commit in it.
  listing.entries.push_back(
      File({"onnx-test", "mnist@v1.0", "model.safetensors"}, 24, "file:///hf/blobs/x"));
  listing.entries.push_back(File({"onnx-test", "mnist@v1.0", "weights.pt"}, 8,
                                 Resolve("onnx-test/mnist", "weights.pt", kOther)));
  listing.entries.push_back(Folder({"gated-org", "gated-model"}));
  listing.entries.push_back(File({"gated-org", "gated-model", "weights.bin"}, 1 << 20,
                                 Resolve("gated-org/gated-model", "weights.bin")));
  listing.entries.push_back(Folder({"datasets", "onnx-test", "digits-data"}));
  listing.entries.push_back(File({"datasets", "onnx-test", "digits-data", "data", "train.csv"}, 50,
                                 "https://hub.test/datasets/onnx-test/digits-data/resolve/" +
                                     std::string(kCommit) + "/data/train.csv"));
  // A repository HfHub could not list.
  listing.entries.push_back(Folder({"private-org", "private-model"}));
  hubs::Entry error;
  error.path = {"private-org", "private-model", "ERROR.txt"};
  error.content =
      "hubfs could not list private-org/private-model: the server refused access (HTTP 401)\n";
  listing.entries.push_back(error);
  return listing;
}

TEST(HfSummaryTest, OneLinePerRepositoryWithFilesAndSizes) {
  Summaries s = SummarizeListing("hf", "hf", Sample());
  ASSERT_EQ(s.models.size(), 4u);
  const ModelSummary& mnist = s.models[0];
  EXPECT_EQ(mnist.hub, "hf");
  EXPECT_EQ(mnist.path, "onnx-test/mnist");
  EXPECT_EQ(mnist.name, "onnx-test/mnist");
  EXPECT_EQ(mnist.version, kCommit);   // from the resolve URLs
  EXPECT_EQ(mnist.framework, "onnx");  // guessed from model.onnx: no repo info
  EXPECT_THAT(mnist.tags, IsEmpty());
  EXPECT_EQ(mnist.size, 1100u);
  EXPECT_EQ(mnist.files, 2u);
  EXPECT_FALSE(mnist.gated);
  const ModelSummary& v1 = s.models[1];
  EXPECT_EQ(v1.path, "onnx-test/mnist@v1.0");
  EXPECT_EQ(v1.name, "onnx-test/mnist");
  EXPECT_EQ(v1.version, kOther);       // the first resolve URL, past the file:// one
  EXPECT_EQ(v1.framework, "pytorch");  // weights.pt comes before *.safetensors
  EXPECT_EQ(v1.files, 2u);
  EXPECT_EQ(s.models[2].path, "gated-org/gated-model");
  EXPECT_EQ(s.models[2].framework, "");  // weights.bin says nothing
  const ModelSummary& data = s.models[3];
  EXPECT_EQ(data.path, "datasets/onnx-test/digits-data");
  EXPECT_EQ(data.name, "onnx-test/digits-data");
  EXPECT_EQ(data.framework, "");
  EXPECT_EQ(data.size, 50u);
  EXPECT_EQ(data.files, 1u);
  EXPECT_THAT(s.failures,
              ElementsAre("private-org/private-model: the server refused access (HTTP 401)"));
}

TEST(HfSummaryTest, RepoInfoGivesTagsLibraryAndGating) {
  std::map<std::string, std::string> infos = {
      {"model onnx-test/mnist ",
       R"({"sha": "0123456789abcdef0123456789abcdef01234567", "library_name": "Transformers",
           "pipeline_tag": "image-classification", "tags": ["onnx", "Image-Classification", "license:mit", 7]})"},
      {"model onnx-test/mnist v1.0",
       R"({"sha": "fedcba9876543210fedcba9876543210fedcba98", "tags": ["v1"]})"},
      {"model gated-org/gated-model ",
       R"({"gated": "manual", "tags": "not a list", "library_name": 3})"},
      {"dataset onnx-test/digits-data ",
       R"({"gated": false, "library_name": "datasets", "tags": ["csv"]})"},
  };
  std::vector<std::string> asked;
  RepoInfoOf repo_info = [&](const hubs::hf::RepoRef& repo) -> std::optional<std::string> {
    const std::string key =
        std::string(repo.type == hubs::hf::RepoType::kDataset ? "dataset " : "model ") + repo.id +
        " " + repo.revision;
    asked.push_back(key);
    auto it = infos.find(key);
    if (it == infos.end()) return std::nullopt;
    return it->second;
  };
  Summaries s = SummarizeListing("hf", "hf", Sample(), repo_info);
  ASSERT_EQ(s.models.size(), 4u);
  EXPECT_EQ(s.models[0].framework, "transformers");  // library_name wins over the file guess
  EXPECT_THAT(s.models[0].tags, ElementsAre("onnx", "Image-Classification", "license:mit"));
  EXPECT_THAT(s.models[1].tags, ElementsAre("v1"));
  EXPECT_TRUE(s.models[2].gated);
  EXPECT_THAT(s.models[2].tags, IsEmpty());
  EXPECT_EQ(s.models[2].framework, "");
  EXPECT_FALSE(s.models[3].gated);
  EXPECT_EQ(s.models[3].framework, "");  // a dataset has no framework
  EXPECT_THAT(s.models[3].tags, ElementsAre("csv"));
  // The failed repository is not asked about.
  EXPECT_THAT(asked, ElementsAre("model onnx-test/mnist ", "model onnx-test/mnist v1.0",
                                 "model gated-org/gated-model ", "dataset onnx-test/digits-data "));
}

TEST(HfSummaryTest, VersionComesFromACommitRevisionThenUrlsThenRepoInfo) {
  hubs::Listing listing;
  listing.entries.push_back(Folder({"org", std::string("pinned@") + kCommit}));
  listing.entries.push_back(
      File({"org", std::string("pinned@") + kCommit, "a.txt"}, 1, "file:///x"));
  listing.entries.push_back(Folder({"org", "local"}));
  listing.entries.push_back(File({"org", "local", "a.txt"}, 1, "file:///y"));
  listing.entries.push_back(Folder({"org", "empty"}));
  RepoInfoOf repo_info = [](const hubs::hf::RepoRef& repo) -> std::optional<std::string> {
    if (repo.id == "org/local")
      return std::string(R"({"sha": "fedcba9876543210fedcba9876543210fedcba98"})");
    return std::nullopt;
  };
  Summaries s = SummarizeListing("hf", "hf", listing, repo_info);
  ASSERT_EQ(s.models.size(), 3u);
  EXPECT_EQ(s.models[0].version, kCommit);
  EXPECT_EQ(s.models[1].version, kOther);
  EXPECT_EQ(s.models[2].path, "org/empty");  // a repository without files is still one
  EXPECT_EQ(s.models[2].version, "");
  EXPECT_EQ(s.models[2].files, 0u);
  EXPECT_EQ(s.models[2].size, 0u);
}

TEST(HfSummaryTest, FrameworkOfFiles) {
  EXPECT_EQ(FrameworkOfFiles({"README.md", "model.safetensors", "model.ONNX"}), "onnx");
  EXPECT_EQ(FrameworkOfFiles({"model-q4.gguf", "model.safetensors"}), "gguf");
  EXPECT_EQ(FrameworkOfFiles({"net.mindir"}), "mindspore");
  EXPECT_EQ(FrameworkOfFiles({"pytorch_model-00001-of-00002.bin", "tf_model.h5"}), "pytorch");
  EXPECT_EQ(FrameworkOfFiles({"model.safetensors", "tf_model.h5"}), "safetensors");
  EXPECT_EQ(FrameworkOfFiles({"saved_model.pb"}), "tensorflow");
  EXPECT_EQ(FrameworkOfFiles({"weights.bin", "config.json"}), "");
  EXPECT_EQ(FrameworkOfFiles({}), "");
}

TEST(HfSummaryTest, TableShortensCommitsAndCountsFiles) {
  Summaries s = SummarizeListing("hf", "hf", Sample());
  s.models.resize(1);
  EXPECT_EQ(FormatTable(s.models),
            "hf/onnx-test/mnist  onnx-test/mnist  0123456  onnx  -  1.1K (2 files)\n");
  auto doc = nlohmann::json::parse(FormatJson(s.models));
  EXPECT_EQ(doc[0]["version"], kCommit);
  EXPECT_EQ(doc[0]["files"], 2);
  EXPECT_EQ(doc[0]["gated"], false);
  EXPECT_EQ(doc[0]["size"], 1100);
  s.models[0].files = 1;
  EXPECT_EQ(FormatTable(s.models),
            "hf/onnx-test/mnist  onnx-test/mnist  0123456  onnx  -  1.1K (1 file)\n");
}

}  // namespace
}  // namespace hubfs::app
