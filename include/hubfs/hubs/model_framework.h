// Which framework a model file belongs to, for Entry::framework and the /by-framework view
// (docs/staging.md). Pure functions.
#pragma once

#include <string>
#include <string_view>

namespace hubfs::hubs {

// The framework a file name's extension says, lower case; "" when the extension says none.
// Deliberately short and unambiguous (case-insensitive):
//   .onnx                              onnx
//   .safetensors .bin .pt .pth         pytorch
//   .h5 .keras                         keras
//   .pb .tflite                        tensorflow
//   .msgpack                           flax
//   .caffemodel                        caffe
//   .mindir                            mindspore
//   .gguf                              gguf
// Ambiguous ones (.ckpt: MindSpore, TensorFlow or Lightning; .model: SentencePiece or MXNet) say
// nothing here: a hub that knows (MindSpore assets, model-server archives) sets the framework.
std::string FrameworkOfFileName(std::string_view name);

// A framework name as a hub published it (DIGITS' info.json "framework") made into a folder name:
// lower case; "" when it is empty, longer than 32 bytes or holds anything but a-z, 0-9, '.', '_',
// '+' and '-' (or starts with '.').
std::string NormalizeFramework(std::string_view published);

}  // namespace hubfs::hubs
