// A bounded protobuf decoder for the few onnx.proto fields ReadModelSummary reports.
//
// Why not libprotobuf + the onnx headers (Debian libonnx-dev): they would add two shared
// libraries and a generated-code/ABI coupling to a binary that needs five fields, and the
// generated parser allocates every initializer of a multi-GiB model. This reader walks the
// wire format in place and skips everything else by its length.
#include "hubfs/hubs/onnx/onnx_model_reader.h"

#include <array>
#include <set>

namespace hubfs::hubs::onnx {
namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

struct Field {
  uint32_t number = 0;
  uint32_t wire = 0;
  uint64_t varint = 0;     // kVarint
  std::string_view bytes;  // kLen
};

// A cursor over one message's bytes.
class Wire {
 public:
  explicit Wire(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }

  // Reads the next field; kLen payloads are returned as views (bounds-checked), fixed-size
  // values are skipped.
  Result<Field> Next() {
    Field f;
    HUBFS_ASSIGN_OR_RETURN(uint64_t tag, Varint());
    f.number = static_cast<uint32_t>(tag >> 3);
    f.wire = static_cast<uint32_t>(tag & 7);
    if (f.number == 0 || (tag >> 3) > 0x1fffffff) return Bad("bad field number");
    switch (f.wire) {
      case kVarint: {
        HUBFS_ASSIGN_OR_RETURN(f.varint, Varint());
        return f;
      }
      case kFixed64:
        return Skip(8, f);
      case kFixed32:
        return Skip(4, f);
      case kLen: {
        HUBFS_ASSIGN_OR_RETURN(uint64_t len, Varint());
        if (len > data_.size() - pos_) return Bad("length-delimited field runs past its message");
        f.bytes = data_.substr(pos_, static_cast<size_t>(len));
        pos_ += static_cast<size_t>(len);
        return f;
      }
      default:
        return Bad("unsupported wire type " + std::to_string(f.wire));
    }
  }

 private:
  Result<uint64_t> Varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos_ >= data_.size()) return Bad("truncated varint");
      const auto byte = static_cast<uint8_t>(data_[pos_++]);
      if (shift == 63 && byte > 1) return Bad("varint overflows 64 bits");
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    return Bad("varint longer than 10 bytes");
  }
  Result<Field> Skip(size_t n, Field f) {
    if (n > data_.size() - pos_) return Bad("truncated fixed-size field");
    pos_ += n;
    return f;
  }
  static Status Bad(std::string why) { return Status::DataLoss("not an ONNX model: " + why); }

  std::string_view data_;
  size_t pos_ = 0;
};

Status WrongWire(const char* what) {
  return Status::DataLoss(std::string("not an ONNX model: ") + what + " has the wrong wire type");
}

Result<std::string> ReadName(const Field& f, const char* what) {
  if (f.wire != kLen) return WrongWire(what);
  if (f.bytes.size() > kMaxModelNameBytes) {
    return Status::ResourceExhausted(std::string(what) + " longer than " +
                                     std::to_string(kMaxModelNameBytes) + " bytes");
  }
  return std::string(f.bytes);
}

Status ReadShape(std::string_view bytes, ModelPort* port) {
  port->has_shape = true;
  port->shape.clear();
  Wire w(bytes);
  while (!w.done()) {
    HUBFS_ASSIGN_OR_RETURN(Field f, w.Next());
    if (f.number != 1) continue;  // dim
    if (f.wire != kLen) return WrongWire("TensorShapeProto.dim");
    if (port->shape.size() >= kMaxDims) {
      return Status::ResourceExhausted("more than " + std::to_string(kMaxDims) + " dimensions");
    }
    ModelDim dim;
    Wire d(f.bytes);
    while (!d.done()) {
      HUBFS_ASSIGN_OR_RETURN(Field df, d.Next());
      if (df.number == 1 && df.wire == kVarint) {
        dim.value = static_cast<int64_t>(df.varint);
        dim.param.clear();
      } else if (df.number == 2) {
        HUBFS_ASSIGN_OR_RETURN(dim.param, ReadName(df, "dim_param"));
        dim.value.reset();
      }
    }
    port->shape.push_back(std::move(dim));
  }
  return Status::Ok();
}

// TypeProto.Tensor and TypeProto.SparseTensor: elem_type = 1, shape = 2.
Result<std::string> ReadTensorType(std::string_view bytes, ModelPort* port) {
  int64_t elem = 0;
  Wire w(bytes);
  while (!w.done()) {
    HUBFS_ASSIGN_OR_RETURN(Field f, w.Next());
    if (f.number == 1 && f.wire == kVarint) elem = static_cast<int64_t>(f.varint);
    if (f.number == 2) {
      if (f.wire != kLen) return WrongWire("tensor shape");
      HUBFS_RETURN_IF_ERROR(ReadShape(f.bytes, port));
    }
  }
  std::string name = ElemTypeName(elem);
  return name.empty() ? "unknown(" + std::to_string(elem) + ")" : name;
}

Result<std::string> ReadType(std::string_view bytes, ModelPort* port, int depth);

// The TypeProto held in field `field` of a Sequence/Optional/Map message.
Result<std::string> ReadNestedType(std::string_view bytes, uint32_t field, ModelPort* port,
                                   int depth) {
  std::string inner = "unknown";
  Wire w(bytes);
  while (!w.done()) {
    HUBFS_ASSIGN_OR_RETURN(Field f, w.Next());
    if (f.number != field) continue;
    if (f.wire != kLen) return WrongWire("nested type");
    HUBFS_ASSIGN_OR_RETURN(inner, ReadType(f.bytes, port, depth + 1));
  }
  return inner;
}

Result<std::string> ReadMapType(std::string_view bytes, ModelPort* port, int depth) {
  int64_t key = 0;
  Wire w(bytes);
  while (!w.done()) {
    HUBFS_ASSIGN_OR_RETURN(Field f, w.Next());
    if (f.number == 1 && f.wire == kVarint) key = static_cast<int64_t>(f.varint);
  }
  HUBFS_ASSIGN_OR_RETURN(std::string value, ReadNestedType(bytes, 2, port, depth));
  std::string key_name = ElemTypeName(key);
  return "map(" + (key_name.empty() ? "unknown" : key_name) + "," + value + ")";
}

Result<std::string> ReadType(std::string_view bytes, ModelPort* port, int depth) {
  if (depth > kMaxTypeDepth) {
    return Status::ResourceExhausted("types nested deeper than " + std::to_string(kMaxTypeDepth));
  }
  std::string type;
  Wire w(bytes);
  while (!w.done()) {
    HUBFS_ASSIGN_OR_RETURN(Field f, w.Next());
    if (f.number != 1 && f.number != 4 && f.number != 5 && f.number != 8 && f.number != 9) continue;
    if (f.wire != kLen) return WrongWire("TypeProto value");
    switch (f.number) {
      case 1: {
        HUBFS_ASSIGN_OR_RETURN(std::string elem, ReadTensorType(f.bytes, port));
        type = "tensor(" + elem + ")";
        break;
      }
      case 4: {
        HUBFS_ASSIGN_OR_RETURN(std::string inner, ReadNestedType(f.bytes, 1, port, depth));
        type = "seq(" + inner + ")";
        break;
      }
      case 5: {
        HUBFS_ASSIGN_OR_RETURN(type, ReadMapType(f.bytes, port, depth));
        break;
      }
      case 8: {
        HUBFS_ASSIGN_OR_RETURN(std::string elem, ReadTensorType(f.bytes, port));
        type = "sparse_tensor(" + elem + ")";
        break;
      }
      default: {
        HUBFS_ASSIGN_OR_RETURN(std::string inner, ReadNestedType(f.bytes, 1, port, depth));
        type = "optional(" + inner + ")";
        break;
      }
    }
  }
  return type;
}

Result<ModelPort> ReadValueInfo(std::string_view bytes) {
  ModelPort port;
  Wire w(bytes);
  while (!w.done()) {
    HUBFS_ASSIGN_OR_RETURN(Field f, w.Next());
    if (f.number == 1) {
      HUBFS_ASSIGN_OR_RETURN(port.name, ReadName(f, "ValueInfoProto.name"));
    } else if (f.number == 2) {
      if (f.wire != kLen) return WrongWire("ValueInfoProto.type");
      ModelPort typed;
      HUBFS_ASSIGN_OR_RETURN(typed.type, ReadType(f.bytes, &typed, 0));
      port.type = std::move(typed.type);
      port.shape = std::move(typed.shape);
      port.has_shape = typed.has_shape;
    }
  }
  return port;
}

// The name (field `field`) of a TensorProto.
Result<std::string> ReadTensorName(std::string_view bytes, uint32_t field) {
  std::string name;
  Wire w(bytes);
  while (!w.done()) {
    HUBFS_ASSIGN_OR_RETURN(Field f, w.Next());
    if (f.number == field) {
      HUBFS_ASSIGN_OR_RETURN(name, ReadName(f, "TensorProto.name"));
    }
  }
  return name;
}

struct GraphParts {
  std::vector<ModelPort> inputs;
  std::vector<ModelPort> outputs;
  std::set<std::string> initializers;
  size_t count() const { return inputs.size() + outputs.size() + initializers.size(); }
};

Status ReadGraph(std::string_view bytes, GraphParts* g) {
  Wire w(bytes);
  while (!w.done()) {
    HUBFS_ASSIGN_OR_RETURN(Field f, w.Next());
    if (f.number != 5 && f.number != 11 && f.number != 12 && f.number != 15) continue;
    if (f.wire != kLen) return WrongWire("GraphProto field");
    if (g->count() >= kMaxPorts) {
      return Status::ResourceExhausted("more than " + std::to_string(kMaxPorts) +
                                       " graph inputs, outputs and initializers");
    }
    if (f.number == 5) {  // initializer: TensorProto, name = 8
      HUBFS_ASSIGN_OR_RETURN(std::string name, ReadTensorName(f.bytes, 8));
      g->initializers.insert(std::move(name));
    } else if (f.number == 15) {  // sparse_initializer: SparseTensorProto, values = 1
      Wire s(f.bytes);
      while (!s.done()) {
        HUBFS_ASSIGN_OR_RETURN(Field sf, s.Next());
        if (sf.number != 1) continue;
        if (sf.wire != kLen) return WrongWire("SparseTensorProto.values");
        HUBFS_ASSIGN_OR_RETURN(std::string name, ReadTensorName(sf.bytes, 8));
        g->initializers.insert(std::move(name));
      }
    } else {
      HUBFS_ASSIGN_OR_RETURN(ModelPort port, ReadValueInfo(f.bytes));
      (f.number == 11 ? g->inputs : g->outputs).push_back(std::move(port));
    }
  }
  return Status::Ok();
}

}  // namespace

std::string ElemTypeName(int64_t elem_type) {
  static constexpr std::array<const char*, 24> kNames = {
      "",           "float",          "uint8",      "int8",          "uint16",   "int16",
      "int32",      "int64",          "string",     "bool",          "float16",  "double",
      "uint32",     "uint64",         "complex64",  "complex128",    "bfloat16", "float8e4m3fn",
      "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4",     "int4",     "float4e2m1"};
  if (elem_type <= 0 || elem_type >= static_cast<int64_t>(kNames.size())) return "";
  return kNames[static_cast<size_t>(elem_type)];
}

Result<ModelSummary> ReadModelSummary(std::string_view bytes) {
  ModelSummary out;
  GraphParts graph;
  Wire w(bytes);
  while (!w.done()) {
    HUBFS_ASSIGN_OR_RETURN(Field f, w.Next());
    if (f.number == 1 && f.wire == kVarint) {
      out.ir_version = static_cast<int64_t>(f.varint);
    } else if (f.number == 7) {  // graph; repeated occurrences merge, as in protobuf
      if (f.wire != kLen) return WrongWire("ModelProto.graph");
      out.has_graph = true;
      HUBFS_RETURN_IF_ERROR(ReadGraph(f.bytes, &graph));
    } else if (f.number == 8) {  // opset_import: domain = 1, version = 2
      if (f.wire != kLen) return WrongWire("ModelProto.opset_import");
      std::string domain;
      int64_t version = 0;
      Wire o(f.bytes);
      while (!o.done()) {
        HUBFS_ASSIGN_OR_RETURN(Field of, o.Next());
        if (of.number == 1) {
          HUBFS_ASSIGN_OR_RETURN(domain, ReadName(of, "opset domain"));
        }
        if (of.number == 2 && of.wire == kVarint) version = static_cast<int64_t>(of.varint);
      }
      if (domain.empty() || domain == "ai.onnx") out.opset = version;
    }
  }
  if (!out.has_graph) return Status::DataLoss("not an ONNX model: no graph");
  for (ModelPort& in : graph.inputs) {
    if (!graph.initializers.contains(in.name)) out.inputs.push_back(std::move(in));
  }
  out.outputs = std::move(graph.outputs);
  return out;
}

}  // namespace hubfs::hubs::onnx
