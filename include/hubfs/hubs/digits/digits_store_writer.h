// Writes the documents of a DIGITS model store (HUB-PROTOCOLS.md §2): master.json and, for a
// model folder that has none, an info.json guessed from its file names. Used by `hubfs publish
// --format digits`; ParseMasterJson / ParseInfoJson read the output back. Pure functions: no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hubfs/core/result.h"

namespace hubfs::hubs::digits {

// {"msg": msg, "children": children} with 4-space indent and a final newline.
std::string WriteMasterJson(std::string_view msg, const std::vector<std::string>& children);

// An info.json for the model folder `name` holding `files` (plain names), as DIGITS' "Download
// Model" would name them, with sorted keys and 4-space indent:
//   Caffe: "snapshot file" = the *.caffemodel (the highest snapshot_iter_N when several),
//          "model file" = deploy.prototxt, else original.prototxt, else another *.prototxt that is
//          not solver/train_val; "train_val file", "solver file", "labels file" (labels.txt),
//          "mean file" (mean.binaryproto) when present; "framework": "caffe".
//   Torch: "snapshot file" = *.t7, "model file" = *.lua; "framework": "torch".
// kNotFound (with what is missing) when neither framework's weights and model definition are
// both there: the user must write info.json.
Result<std::string> GuessInfoJson(std::string_view name, const std::vector<std::string>& files);

}  // namespace hubfs::hubs::digits
