// Small MindSpore Hub asset files for the mindspore_* tests, written for these tests.
#pragma once

#include <string>
#include <string_view>

namespace hubfs::hubs::mindspore::test {

inline constexpr char kSha1[] = "1111111111111111111111111111111111111111111111111111111111111111";
inline constexpr char kSha2[] = "2222222222222222222222222222222222222222222222222222222222222222";

// A valid asset file in the current layout's style: one ckpt asset, float-looking versions.
// Line numbers are in the comments: the front matter is lines 4-23, between "---" lines 3 and 24.
inline std::string GoodMarkdown(std::string_view model = "toynet",
                                std::string_view asset_url = "https://dl.test/models/toynet_v1.ckpt",
                                std::string_view sha = kSha1) {
  std::string md;
  md += "# Toy Net\n";                                      // 1
  md += "\n";                                               // 2
  md += "---\n";                                            // 3
  md += "model-name: " + std::string(model) + "\n";         // 4
  md += "backbone-name: toynet\n";                          // 5
  md += "module-type: cv-classification\n";                 // 6
  md += "fine-tunable: True\n";                             // 7
  md += "model-version: 1.10\n";                            // 8
  md += "train-dataset: cifar10\n";                         // 9
  md += "evaluation: acc88.0\n";                            // 10
  md += "author: Toy team\n";                               // 11
  md += "update-time: 2023-2-17\n";                         // 12
  md += "repo-link: <https://code.test/toy/models/tree/r1.10/toynet>\n";  // 13
  md += "user-id: Toy\n";                                   // 14
  md += "used-for: inference\n";                            // 15
  md += "mindspore-version: 1.10\n";                        // 16
  md += "asset:\n";                                         // 17
  md += "-\n";                                              // 18
  md += "    file-format: ckpt\n";                          // 19
  md += "    asset-link: <" + std::string(asset_url) + ">\n";  // 20
  md += "    asset-sha256: " + std::string(sha) + "\n";     // 21
  md += "license: Apache2.0\n";                             // 22
  md += "summary: toynet is used for cv\n";                 // 23
  md += "---\n";                                            // 24
  md += "\n## Introduction\n\nA toy.\n";
  return md;
}

// Replaces the first occurrence of `from` (which must exist) in `text`.
inline std::string Replace(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

}  // namespace hubfs::hubs::mindspore::test
