// The files of one model folder, as named by its `info.json` and `aux.json` (docs/hubs/digits.md).
// Pure functions: no I/O, safe to fuzz.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hubfs/core/result.h"

namespace hubfs::hubs::digits {

// The info.json keys that name a file of the model folder, in the order they are listed. DIGITS
// writes the ones of the job's framework; old Caffe jobs have "network file" instead of
// "model file".
inline constexpr const char* kInfoFileKeys[] = {
    "snapshot file", "model file",  "network file",     "labels file", "python layer file",
    "mean file",     "deploy file", "train_val file",   "solver file",
};

// The kInfoFileKeys that name the model itself (weights and network definitions), as opposed
// to training inputs (labels, mean, solver, train_val): what the /by-framework view lists.
inline constexpr const char* kModelFileKeys[] = {"snapshot file", "model file", "network file", "deploy file"};

struct NamedFiles {
  std::vector<std::string> files;    // plain file names, unique, in key order
  std::vector<std::string> skipped;  // one line per key whose value is unusable: key and why
  std::vector<std::string> models;   // info.json: those of `files` named by a kModelFileKeys key
  std::string framework;             // info.json: its "framework" string as published ("" if none)
};

// Reads the kInfoFileKeys of an info.json object. A value is used when it is a string that passes
// IsSafeName (so it has no '/'); DIGITS' placeholder "no snapshots" is skipped. kDataLoss when the
// text is not a JSON object.
Result<NamedFiles> ParseInfoJson(std::string_view text);

// aux.json, for files "not directly from DIGITS": a non-empty `license` string means the folder
// has `license.txt`; `logo` names a file (e.g. "logo.png"). Other keys (dataset, affiliate) name no
// file. kDataLoss when the text is not a JSON object.
Result<NamedFiles> ParseAuxJson(std::string_view text);

inline constexpr char kLicenseFileName[] = "license.txt";

}  // namespace hubfs::hubs::digits
