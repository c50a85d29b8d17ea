// A DIGITS model store's index: `master.json` at the store's base URL (docs/hubs/digits.md).
//
//   {"msg": "Luke's Model Store", "children": ["lenet", "alexnet"]}
//
// `children` are the model folders below the base URL. Pure function: no I/O, safe to fuzz.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hubfs/core/result.h"

namespace hubfs::hubs::digits {

struct MasterJson {
  std::vector<std::string> children;  // as published, not yet checked as folder names
  std::string msg;                    // the store's welcome text; "" when absent
  // One line per child that is not a string: its index and why.
  std::vector<std::string> skipped;
};

// kDataLoss with a reason when the text is not a JSON object (the single-quoted example of old
// DIGITS docs is not JSON), `children` is missing or not an array, or `msg` is present but not a
// string. Elements of `children` that are not strings are reported in `skipped`.
Result<MasterJson> ParseMasterJson(std::string_view text);

}  // namespace hubfs::hubs::digits
