// The checks of the MindSpore Hub's md_validator (ValidMarkdown) that need no network, plus the
// ones hubfs relies on (docs/hubs/mindspore.md lists them). Pure functions: no I/O.
//
// Not checked, because they need the network or data we do not have: that repo-link and
// asset-link resolve and answer (the official tool does DNS and HTTP), the train-dataset
// allow-list, and featured-image files in images/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hubfs/hubs/mindspore/mindspore_markdown.h"

namespace hubfs::hubs::mindspore {

struct Problem {
  int line = 0;  // 1-based line in the file; 0 when the problem has no line (a missing field)
  std::string message;
};

// Every rule: required fields, value types and allow-lists, no extra ':' in values, links, and
// the asset entries (AssetProblems).
std::vector<Problem> ValidateAssetMarkdown(const AssetMarkdown& markdown);

// Parses and validates; an unparsable file gives one problem (with its line when known).
std::vector<Problem> ValidateAssetText(std::string_view text);

// What hubfs needs to serve the assets: each entry is a mapping with a file-format in the
// allow-list, an angle-bracketed http(s) asset-link, and an asset-sha256 of 64 hex digits.
std::vector<Problem> AssetProblems(const AssetMarkdown& markdown);

// True for a link written as the hub writes them: "<http://…>" or "<https://…>" with a host,
// and no spaces or control characters.
bool IsBracketedHttpUrl(std::string_view link);

// "alexnet_cifar10_cn.md" -> "alexnet_cifar10.md": the official tool checks a Chinese twin
// through its English file. "" when `file_name` is not a "_cn.md" name.
std::string EnglishTwinName(std::string_view file_name);

}  // namespace hubfs::hubs::mindspore
