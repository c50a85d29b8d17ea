#include "hubfs/hubs/mindspore/mindspore_validator.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>

#include "hubfs/core/names.h"
#include "hubfs/core/sha256.h"

namespace hubfs::hubs::mindspore {
namespace {

// ValidMarkdown.required_user_fields of the current official tool (HUB-PROTOCOLS.md §3.3).
constexpr std::array<std::string_view, 12> kRequiredFields = {
    "backbone-name", "module-type", "fine-tunable",      "model-version",
    "author",        "update-time", "repo-link",         "user-id",
    "used-for",      "license",     "mindspore-version", "summary"};
constexpr std::array<std::string_view, 11> kModuleTypes = {
    "gnn", "rl", "audio", "cv", "cvtmodel", "nlp", "recommend", "cross", "hpc", "mm", "other"};
constexpr std::array<std::string_view, 3> kUsedFor = {"inference", "extract-feature",
                                                      "transfer-learning"};
constexpr std::array<std::string_view, 3> kBackends = {"ascend", "gpu", "cpu"};
constexpr std::array<std::string_view, 5> kFileFormats = {"air", "ckpt", "onnx", "mindir", "mslite"};
// Keys whose values may contain ':' (URLs and free-form scores).
constexpr std::array<std::string_view, 3> kColonAllowed = {"repo-link", "asset", "evaluation"};

template <size_t N>
bool Contains(const std::array<std::string_view, N>& set, std::string_view value) {
  return std::find(set.begin(), set.end(), value) != set.end();
}

template <size_t N>
std::string Join(const std::array<std::string_view, N>& set) {
  std::string out;
  for (std::string_view s : set) out += (out.empty() ? "" : ", ") + std::string(s);
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

// Values quoted in messages are cut and cleaned: they come from untrusted files.
std::string Quote(std::string_view value) {
  std::string out = "'";
  for (char c : value.substr(0, 120)) {
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  if (value.size() > 120) out += "...";
  return out + "'";
}

// YAML 1.1 booleans as PyYAML resolves them (plain scalars only).
bool IsYamlBool(const FrontMatterField& f) {
  static constexpr std::array<std::string_view, 18> kBools = {
      "yes", "Yes", "YES", "no",   "No",   "NO",   "true",  "True",  "TRUE",
      "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF"};
  return f.kind == ValueKind::kScalar && !f.quoted && Contains(kBools, f.text);
}

// YAML 1.1 int or float as PyYAML's resolver recognises them (plain scalars only).
bool IsYamlNumber(const FrontMatterField& f) {
  if (f.kind != ValueKind::kScalar || f.quoted || f.text.empty() || f.text.size() > 64) return false;
  static const std::regex kNumber(
      "[-+]?(0|[1-9][0-9_]*|0[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+)"
      "|[-+]?[0-9][0-9_]*\\.[0-9_]*([eE][-+][0-9]+)?"
      "|[-+]?\\.[0-9_]+([eE][-+][0-9]+)?"
      "|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)");
  return std::regex_match(f.text, kNumber);
}

void Add(std::vector<Problem>* out, int line, std::string message) {
  out->push_back(Problem{line, std::move(message)});
}

void CheckScalarIn(const AssetMarkdown& md, std::string_view key, char separator,
                   std::string_view allowed_name, bool (*allowed)(std::string_view),
                   std::vector<Problem>* out) {
  const FrontMatterField* f = md.Find(key);
  if (f == nullptr) return;
  if (f->kind != ValueKind::kScalar) {
    Add(out, f->line, std::string(key) + " must be a text value");
    return;
  }
  for (std::string_view part : Split(f->text, separator)) {
    if (!allowed(Lower(part))) {
      Add(out, f->line, std::string(key) + " " + Quote(part) + " is not one of " + std::string(allowed_name));
    }
  }
}

void CheckModuleType(const AssetMarkdown& md, std::vector<Problem>* out) {
  const FrontMatterField* f = md.Find("module-type");
  if (f == nullptr) return;
  if (f->kind != ValueKind::kScalar) {
    Add(out, f->line, "module-type must be a text value");
    return;
  }
  const std::vector<std::string_view> parts = Split(f->text, '-');
  if (parts.size() > 2) {
    Add(out, f->line, "module-type " + Quote(f->text) + " has more than one '-'");
  }
  if (!Contains(kModuleTypes, Lower(parts[0]))) {
    Add(out, f->line, "module-type " + Quote(parts[0]) + " is not one of " + Join(kModuleTypes));
  }
}

void CheckBool(const AssetMarkdown& md, std::string_view key, std::vector<Problem>* out) {
  const FrontMatterField* f = md.Find(key);
  if (f != nullptr && !IsYamlBool(*f)) {
    Add(out, f->line, std::string(key) + " must be a YAML bool (True/False), got " + Quote(f->text));
  }
}

void CheckLink(const AssetMarkdown& md, std::string_view key, std::vector<Problem>* out) {
  const FrontMatterField* f = md.Find(key);
  if (f == nullptr) return;
  if (f->kind != ValueKind::kScalar || !IsBracketedHttpUrl(f->text)) {
    Add(out, f->line, std::string(key) + " must be an http(s) URL in angle brackets, got " + Quote(f->text));
  }
}

// The official tool rejects ':' in str(value) of every other key (a frequent copy-paste error:
// "key: a: b"). A mapping value always prints with ':'.
void CheckNoExtraColon(const AssetMarkdown& md, std::vector<Problem>* out) {
  for (const FrontMatterField& f : md.fields) {
    if (Contains(kColonAllowed, f.key)) continue;
    if (f.kind == ValueKind::kMap || f.text.find(':') != std::string::npos) {
      Add(out, f.line, "remove the extra ':' from the value of " + f.key + ": " + Quote(f.text));
    }
  }
}

}  // namespace

bool IsBracketedHttpUrl(std::string_view link) {
  if (link.size() < 2 || link.front() != '<' || link.back() != '>') return false;
  std::string_view url = link.substr(1, link.size() - 2);
  std::string_view rest;
  if (url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else if (url.substr(0, 8) == "https://") {
    rest = url.substr(8);
  } else {
    return false;
  }
  const std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  if (host.empty()) return false;
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '<' || c == '>') return false;
  }
  return true;
}

std::string EnglishTwinName(std::string_view file_name) {
  constexpr std::string_view kSuffix = "_cn.md";
  if (file_name.size() <= kSuffix.size() ||
      file_name.substr(file_name.size() - kSuffix.size()) != kSuffix) {
    return "";
  }
  return std::string(file_name.substr(0, file_name.size() - kSuffix.size())) + ".md";
}

std::vector<Problem> AssetProblems(const AssetMarkdown& md) {
  std::vector<Problem> out;
  if (!md.asset_is_list) {
    const FrontMatterField* f = md.Find("asset");
    Add(&out, f ? f->line : 0, "asset must be a list of {file-format, asset-link, asset-sha256}");
    return out;
  }
  for (size_t i = 0; i < md.assets.size(); ++i) {
    const AssetEntry& a = md.assets[i];
    const std::string which = "asset " + std::to_string(i + 1);
    if (!a.is_map) {
      Add(&out, a.line, which + " is not a mapping of file-format, asset-link, asset-sha256");
      continue;
    }
    if (!a.file_format || a.file_format->empty()) {
      Add(&out, a.line, which + ": file-format is required");
    } else if (!Contains(kFileFormats, Lower(*a.file_format))) {
      Add(&out, a.line, which + ": file-format " + Quote(*a.file_format) + " is not one of " + Join(kFileFormats));
    }
    if (!a.asset_link || a.asset_link->empty()) {
      Add(&out, a.line, which + ": asset-link is required");
    } else if (!IsBracketedHttpUrl(*a.asset_link)) {
      Add(&out, a.line, which + ": asset-link must be an http(s) URL in angle brackets, got " + Quote(*a.asset_link));
    } else if (!IsSafeName(UrlBasename(StripAngleBrackets(*a.asset_link)))) {
      Add(&out, a.line, which + ": asset-link does not end in a usable file name: " + Quote(*a.asset_link));
    }
    if (!a.asset_sha256 || a.asset_sha256->empty()) {
      Add(&out, a.line, which + ": asset-sha256 is required");
    } else if (!DigestFromHex(*a.asset_sha256)) {
      Add(&out, a.line, which + ": asset-sha256 must be 64 hex digits, got " + Quote(*a.asset_sha256));
    }
  }
  return out;
}

std::vector<Problem> ValidateAssetMarkdown(const AssetMarkdown& md) {
  std::vector<Problem> out;
  for (std::string_view key : kRequiredFields) {
    if (md.Find(key) == nullptr) Add(&out, 0, "field " + std::string(key) + " is required");
  }
  CheckBool(md, "fine-tunable", &out);
  CheckModuleType(md, &out);
  CheckScalarIn(md, "used-for", '/', "inference, extract-feature, transfer-learning (separated by '/')",
                [](std::string_view v) { return Contains(kUsedFor, v); }, &out);
  CheckScalarIn(md, "infer-backend", '/', "ascend, gpu, cpu (separated by '/')",
                [](std::string_view v) { return Contains(kBackends, v); }, &out);
  CheckScalarIn(md, "train-backend", '/', "ascend, gpu, cpu (separated by '/')",
                [](std::string_view v) { return Contains(kBackends, v); }, &out);
  CheckBool(md, "allow-cache-ckpt", &out);
  CheckBool(md, "mindspore-lite", &out);
  if (const FrontMatterField* f = md.Find("accuracy"); f != nullptr && !IsYamlNumber(*f)) {
    Add(&out, f->line, "accuracy must be a number, got " + Quote(f->text));
  }
  if (const FrontMatterField* f = md.Find("input-shape");
      f != nullptr && f->kind != ValueKind::kSequence) {
    Add(&out, f->line, "input-shape must be a list, got " + Quote(f->text));
  }
  CheckLink(md, "repo-link", &out);
  std::vector<Problem> assets = AssetProblems(md);
  out.insert(out.end(), assets.begin(), assets.end());
  CheckNoExtraColon(md, &out);
  std::stable_sort(out.begin(), out.end(), [](const Problem& a, const Problem& b) { return a.line < b.line; });
  return out;
}

std::vector<Problem> ValidateAssetText(std::string_view text) {
  int line = 0;
  auto parsed = ParseAssetMarkdown(text, &line);
  if (!parsed) return {Problem{line, "unparsable: " + parsed.error().message()}};
  return ValidateAssetMarkdown(*parsed);
}

}  // namespace hubfs::hubs::mindspore
