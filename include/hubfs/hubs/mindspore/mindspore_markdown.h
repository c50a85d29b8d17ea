// A MindSpore Hub asset file: markdown whose YAML front matter names a model and its weight files
// (HUB-PROTOCOLS.md §3.3, docs/hubs/mindspore.md). Pure functions: no I/O, safe to fuzz.
//
// The split between front matter and body follows the official client
// (ValidMarkdown.check_markdown_file), not CommonMark, so hubfs accepts exactly the files the
// client can load:
//   - every line that starts with "---" toggles "inside the header"; there must be exactly two
//     such lines (a third, e.g. a horizontal rule in the body, makes the file unparsable);
//   - before YAML parsing, a header line containing "evaluation: -" has every '-' replaced by
//     "no" (so "evaluation: -" reads as "evaluation: no");
//   - scalars keep the text as written: "model-version: 1.10" stays "1.10" (PyYAML would give
//     the float 1.1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hubfs/core/result.h"
#include "hubfs/core/sha256.h"

namespace hubfs::hubs::mindspore {

// Larger asset files are refused: real ones are a few KiB, and the text is untrusted.
inline constexpr uint64_t kMaxMarkdownBytes = 1 << 20;

enum class ValueKind { kNull, kScalar, kSequence, kMap };

// One top-level key of the front matter.
struct FrontMatterField {
  std::string key;
  ValueKind kind = ValueKind::kNull;
  // kScalar: the text as written (without quotes). kSequence/kMap: a bounded flow-style
  // rendering, e.g. "[768, 1280, 3]". kNull: "".
  std::string text;
  bool quoted = false;  // a scalar written in quotes: always a string, never a bool or number
  // kSequence: the scalar items as written (nested collections rendered like `text`).
  std::vector<std::string> items;
  int line = 0;  // 1-based line of the key in the file
};

// One element of the `asset` list. Absent keys stay nullopt; the validator reports them.
struct AssetEntry {
  bool is_map = true;  // false when the list element is not a key/value mapping
  std::optional<std::string> file_format;
  std::optional<std::string> asset_link;    // as written, e.g. "<https://host/x.ckpt>"
  std::optional<std::string> asset_sha256;  // as written
  int line = 0;  // 1-based line where the element starts
};

struct AssetMarkdown {
  std::string title;  // text of the first "# " line outside the front matter ("" if none)
  int title_line = 0;
  // Top-level keys in file order. A key written twice appears once, with the last value (as
  // PyYAML keeps it).
  std::vector<FrontMatterField> fields;
  std::vector<AssetEntry> assets;  // the `asset` list; empty when absent
  bool asset_is_list = true;       // false when `asset` is present but not a list
  int header_line = 0;             // 1-based line of the opening "---"

  const FrontMatterField* Find(std::string_view key) const;
  // The scalar text of `key`, nullopt when absent or not a scalar.
  std::optional<std::string> Scalar(std::string_view key) const;
};

// Parses an asset file. kDataLoss when the file is unparsable for the official client: not
// exactly two "---" lines, invalid YAML, or a header that is not a non-empty key/value mapping;
// then `*error_line` (when given) is set to the 1-based line at fault, 0 when there is none.
// kResourceExhausted beyond kMaxMarkdownBytes.
Result<AssetMarkdown> ParseAssetMarkdown(std::string_view text, int* error_line = nullptr);

// "<https://x/y>" -> "https://x/y": strips surrounding whitespace and angle brackets, as the
// client does before using a link.
std::string StripAngleBrackets(std::string_view link);

// The last '/'-component of a URL's path, without query or fragment ("" when the URL ends in
// '/'). Not checked for safety: callers apply IsSafeName.
std::string UrlBasename(std::string_view url);

}  // namespace hubfs::hubs::mindspore
