// What `hubfs publish --format onnx` needs from a .onnx file: the IR version, the operator sets,
// and the graph's inputs and outputs with their types and shapes (docs/hubs/onnx.md, "Publishing").
//
// A small protobuf decoder for just these fields of onnx.proto (ModelProto, GraphProto,
// ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto, TensorProto.name); every other
// field is skipped without being decoded. Pure function over bytes (e.g. a read-only mapping of
// the file): no I/O, bounded in depth, count and name length, safe to fuzz. The input is untrusted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hubfs/core/result.h"

namespace hubfs::hubs::onnx {

// One dimension of a tensor shape: a fixed size, a symbolic name, or unknown (neither).
struct ModelDim {
  std::optional<int64_t> value;  // dim_value
  std::string param;             // dim_param ("" when absent)
};

struct ModelPort {
  std::string name;
  // The type in onnxruntime's notation: "tensor(float)", "seq(tensor(uint8))",
  // "map(int64,tensor(float))", "optional(tensor(int32))", "sparse_tensor(float)"; "" when the
  // ValueInfoProto has no type.
  std::string type;
  std::vector<ModelDim> shape;  // of the (innermost) tensor; empty for a scalar or no shape
  bool has_shape = false;       // a shape was present (a rank-0 tensor has one, with no dims)
};

struct ModelSummary {
  int64_t ir_version = 0;
  // Version of the default domain ("" or "ai.onnx"); nullopt when the model imports none (IR < 3
  // models, which the ONNX spec treats as opset 1).
  std::optional<int64_t> opset;
  std::vector<ModelPort> inputs;   // graph inputs that are not initializers, in model order
  std::vector<ModelPort> outputs;  // graph outputs, in model order
  bool has_graph = false;
};

// Limits on what the reader accepts; a model beyond them is kResourceExhausted.
inline constexpr int kMaxTypeDepth = 16;          // nested seq/map/optional types
inline constexpr size_t kMaxPorts = 100000;       // graph inputs + outputs + initializer names
inline constexpr size_t kMaxDims = 64;            // dims of one shape
inline constexpr size_t kMaxModelNameBytes = 4096;  // one name or dim_param

// Decodes `bytes` as an onnx ModelProto. kDataLoss when the bytes are not a well-formed protobuf
// message (truncated field, bad wire type, overlong varint) or carry no graph.
Result<ModelSummary> ReadModelSummary(std::string_view bytes);

// "float", "uint8", ..., for TensorProto.DataType values; "" for an unknown value.
std::string ElemTypeName(int64_t elem_type);

}  // namespace hubfs::hubs::onnx
