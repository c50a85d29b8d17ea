// ReadModelSummary on real models from Debian's libonnx-testdata (a build dependency: the tests
// fail, not skip, when it is missing) and on hand-made malformed bytes.
#include "hubfs/hubs/onnx/onnx_model_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace hubfs::hubs::onnx {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kTestData = "/usr/share/libonnx-testdata/data";

std::string ReadModel(const std::string& rel) {
  const fs::path path = kTestData / rel / "model.onnx";
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path << " is missing: install Debian's libonnx-testdata";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<int64_t> Dims(const ModelPort& p) {
  std::vector<int64_t> out;
  for (const ModelDim& d : p.shape) out.push_back(d.value.value_or(-1));
  return out;
}

TEST(OnnxModelReaderTest, ReadsTensorPortsAndOpset) {
  auto m = ReadModelSummary(ReadModel("node/test_abs"));
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->ir_version, 7);
  EXPECT_EQ(m->opset, 13);
  ASSERT_EQ(m->inputs.size(), 1u);
  EXPECT_EQ(m->inputs[0].name, "x");
  EXPECT_EQ(m->inputs[0].type, "tensor(float)");
  EXPECT_EQ(Dims(m->inputs[0]), (std::vector<int64_t>{3, 4, 5}));
  ASSERT_EQ(m->outputs.size(), 1u);
  EXPECT_EQ(m->outputs[0].name, "y");
}

TEST(OnnxModelReaderTest, InitializersAreNotInputs) {
  auto m = ReadModelSummary(ReadModel("pytorch-converted/test_Conv2d"));
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->ir_version, 3);
  EXPECT_EQ(m->opset, 6);
  ASSERT_EQ(m->inputs.size(), 1u);  // "1" and "2" are the weights
  EXPECT_EQ(m->inputs[0].name, "0");
  EXPECT_EQ(Dims(m->inputs[0]), (std::vector<int64_t>{2, 3, 7, 5}));
}

TEST(OnnxModelReaderTest, SequenceAndOptionalTypes) {
  auto seq = ReadModelSummary(ReadModel("node/test_sequence_insert_at_back"));
  ASSERT_TRUE(seq.ok()) << seq.error().ToString();
  EXPECT_EQ(seq->opset, 11);
  ASSERT_EQ(seq->inputs.size(), 2u);
  EXPECT_EQ(seq->inputs[0].type, "seq(tensor(int64))");
  EXPECT_EQ(seq->inputs[1].type, "tensor(int64)");

  auto opt = ReadModelSummary(ReadModel("node/test_optional_get_element_sequence"));
  ASSERT_TRUE(opt.ok()) << opt.error().ToString();
  ASSERT_EQ(opt->inputs.size(), 1u);
  EXPECT_EQ(opt->inputs[0].type, "optional(seq(tensor(int32)))");
  ASSERT_EQ(opt->outputs.size(), 1u);
  EXPECT_EQ(opt->outputs[0].type, "seq(tensor(int32))");
}

TEST(OnnxModelReaderTest, UnknownDimAndScalarShape) {
  auto m = ReadModelSummary(ReadModel("simple/test_sequence_model1"));
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->inputs.size(), 3u);  // X, Y, Z; pos and pos_at are initializers
  ASSERT_EQ(m->outputs.size(), 1u);
  ASSERT_EQ(m->outputs[0].shape.size(), 3u);
  EXPECT_FALSE(m->outputs[0].shape[0].value.has_value());
  EXPECT_TRUE(m->outputs[0].shape[0].param.empty());
  EXPECT_EQ(m->outputs[0].shape[1].value, 3);
}

// Every model Debian ships parses and has a graph with outputs.
TEST(OnnxModelReaderTest, EveryTestDataModelParses) {
  size_t count = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kTestData)) {
    if (entry.path().filename() != "model.onnx") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto m = ReadModelSummary(ss.str());
    ASSERT_TRUE(m.ok()) << entry.path() << ": " << m.error().ToString();
    // The training-op tests import only ai.onnx.preview.training, no default-domain opset.
    const std::string test = entry.path().parent_path().filename().string();
    const bool training = test.starts_with("test_adagrad") || test.starts_with("test_adam") ||
                          test.starts_with("test_momentum") || test.starts_with("test_nesterov");
    EXPECT_EQ(m->opset.has_value(), !training) << entry.path();
    EXPECT_FALSE(m->outputs.empty()) << entry.path();
    ++count;
  }
  EXPECT_GT(count, 1000u) << "libonnx-testdata looks incomplete";
}

TEST(OnnxModelReaderTest, RejectsMalformedBytes) {
  const std::string model = ReadModel("node/test_abs");
  for (size_t cut : {size_t{1}, model.size() / 2, model.size() - 1}) {
    auto m = ReadModelSummary(std::string_view(model).substr(0, cut));
    EXPECT_FALSE(m.ok()) << "cut at " << cut;
  }
  EXPECT_THAT(ReadModelSummary("").error().message(), HasSubstr("no graph"));
  EXPECT_THAT(ReadModelSummary("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01").error().message(),
              HasSubstr("varint"));
  EXPECT_FALSE(ReadModelSummary("\x0b").ok());  // wire type 3 (groups)
  EXPECT_FALSE(ReadModelSummary("\x3a\x05\x00").ok());  // graph longer than the input
  EXPECT_FALSE(ReadModelSummary(std::string("\x00\x00", 2)).ok());  // field number 0
}

TEST(OnnxModelReaderTest, BoundsTypeNesting) {
  // ValueInfo{type: seq(seq(...(tensor)))} nested far deeper than kMaxTypeDepth.
  std::string type;
  // Deep nesting needs multi-byte lengths; build it with a helper instead.
  auto len = [](size_t n) {
    std::string out;
    do {
      uint8_t b = n & 0x7f;
      n >>= 7;
      out.push_back(static_cast<char>(n ? (b | 0x80) : b));
    } while (n);
    return out;
  };
  type = "\x0a\x02\x08\x01";
  for (int i = 0; i < kMaxTypeDepth + 4; ++i) {
    std::string seq = "\x0a" + len(type.size()) + type;
    type = "\x22" + len(seq.size()) + seq;
  }
  std::string value_info = "\x0a\x01x\x12" + len(type.size()) + type;
  std::string graph = "\x5a" + len(value_info.size()) + value_info;  // input = 11
  std::string model = "\x3a" + len(graph.size()) + graph;
  auto m = ReadModelSummary(model);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.error().message(), HasSubstr("nested"));
}

TEST(OnnxModelReaderTest, ElemTypeNames) {
  EXPECT_EQ(ElemTypeName(1), "float");
  EXPECT_EQ(ElemTypeName(7), "int64");
  EXPECT_EQ(ElemTypeName(16), "bfloat16");
  EXPECT_EQ(ElemTypeName(0), "");
  EXPECT_EQ(ElemTypeName(999), "");
}

}  // namespace
}  // namespace hubfs::hubs::onnx
