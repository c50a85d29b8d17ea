#include "hubfs/hubs/model_framework.h"

#include <array>
#include <utility>

namespace hubfs::hubs {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr std::array<std::pair<std::string_view, std::string_view>, 13> kByExtension = {{
    {"onnx", "onnx"},
    {"safetensors", "pytorch"},
    {"bin", "pytorch"},
    {"pt", "pytorch"},
    {"pth", "pytorch"},
    {"h5", "keras"},
    {"keras", "keras"},
    {"pb", "tensorflow"},
    {"tflite", "tensorflow"},
    {"msgpack", "flax"},
    {"caffemodel", "caffe"},
    {"mindir", "mindspore"},
    {"gguf", "gguf"},
}};

}  // namespace

std::string FrameworkOfFileName(std::string_view name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) return "";
  std::string ext;
  for (char c : name.substr(dot + 1)) ext.push_back(Lower(c));
  for (const auto& [extension, framework] : kByExtension) {
    if (ext == extension) return std::string(framework);
  }
  return "";
}

std::string NormalizeFramework(std::string_view published) {
  if (published.empty() || published.size() > 32 || published.front() == '.') return "";
  std::string out;
  for (char c : published) {
    c = Lower(c);
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '+' || c == '-';
    if (!ok) return "";
    out.push_back(c);
  }
  return out;
}

}  // namespace hubfs::hubs
