#include "hubfs/hubs/mindspore/mindspore_markdown.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <exception>

namespace hubfs::hubs::mindspore {
namespace {

// Renderings of nested values are for display and xattrs only; these bounds keep a hostile
// header (deep nesting, alias bombs) from costing more than a few KiB and a few thousand steps.
constexpr size_t kMaxRenderedBytes = 4096;
constexpr int kMaxRenderDepth = 32;
constexpr size_t kMaxRenderSteps = 4096;
constexpr size_t kMaxListItems = 256;  // items kept per list (real files have at most 2 assets)

// Splits like Python's text-mode file iteration: "\n", "\r\n" and a lone "\r" end a line.
std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') continue;
    out.push_back(text.substr(start, i - start));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) out.push_back(text.substr(start));
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string TrimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// The official client's quirk: `evaluation: -` (an empty score) would be a YAML list, so it
// rewrites every '-' of that line to "no" before parsing.
std::string RewriteEvaluationDash(std::string_view line) {
  if (line.find("evaluation: -") == std::string_view::npos) return std::string(line);
  std::string out;
  for (char c : line) {
    if (c == '-') {
      out += "no";
    } else {
      out += c;
    }
  }
  return out;
}

class Renderer {
 public:
  std::string Render(const YAML::Node& node) {
    std::string out;
    Visit(node, 0, &out);
    return out;
  }

 private:
  void Visit(const YAML::Node& node, int depth, std::string* out) {
    if (++steps_ > kMaxRenderSteps || depth > kMaxRenderDepth || out->size() > kMaxRenderedBytes) {
      if (!truncated_) out->append("...");
      truncated_ = true;
      return;
    }
    switch (node.Type()) {
      case YAML::NodeType::Scalar:
        out->append(node.Scalar(), 0, kMaxRenderedBytes);
        return;
      case YAML::NodeType::Sequence: {
        out->push_back('[');
        bool first = true;
        for (const YAML::Node& item : node) {
          if (!first) out->append(", ");
          first = false;
          Visit(item, depth + 1, out);
          if (truncated_) break;
        }
        out->push_back(']');
        return;
      }
      case YAML::NodeType::Map: {
        out->push_back('{');
        bool first = true;
        for (const auto& kv : node) {
          if (!first) out->append(", ");
          first = false;
          Visit(kv.first, depth + 1, out);
          out->append(": ");
          Visit(kv.second, depth + 1, out);
          if (truncated_) break;
        }
        out->push_back('}');
        return;
      }
      default:
        return;  // null and undefined render as ""
    }
  }

  size_t steps_ = 0;
  bool truncated_ = false;
};

ValueKind KindOf(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return ValueKind::kScalar;
    case YAML::NodeType::Sequence:
      return ValueKind::kSequence;
    case YAML::NodeType::Map:
      return ValueKind::kMap;
    default:
      return ValueKind::kNull;
  }
}

std::string TextOf(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  return Renderer().Render(node);
}

// yaml-cpp tags plain scalars "?" and quoted ones "!"; an explicit tag ("!!str") also makes
// a scalar something other than a plain bool or number.
bool IsQuoted(const YAML::Node& node) { return node.IsScalar() && node.Tag() != "?"; }

AssetEntry ReadAsset(const YAML::Node& node, int first_line) {
  AssetEntry asset;
  asset.line = first_line + node.Mark().line;
  if (!node.IsMap()) {
    asset.is_map = false;
    return asset;
  }
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) continue;
    const std::string& key = kv.first.Scalar();
    std::string value = TextOf(kv.second);
    if (key == "file-format") asset.file_format = std::move(value);
    if (key == "asset-link") asset.asset_link = std::move(value);
    if (key == "asset-sha256") asset.asset_sha256 = std::move(value);
  }
  return asset;
}

Result<AssetMarkdown> ParseHeader(const std::string& yaml, int first_line, AssetMarkdown md,
                                  int* error_line) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(yaml);
  } catch (const YAML::Exception& e) {
    *error_line = e.mark.is_null() ? 0 : first_line + e.mark.line;
    return Status::DataLoss("front matter is not valid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return Status::DataLoss(std::string("front matter is not valid YAML: ") + e.what());
  }
  if (docs.size() > 1) return Status::DataLoss("front matter holds more than one YAML document");
  if (docs.empty() || docs[0].IsNull()) return Status::DataLoss("front matter is empty");
  const YAML::Node& root = docs[0];
  if (!root.IsMap()) {
    *error_line = first_line;
    return Status::DataLoss("front matter is not a key: value mapping");
  }

  try {
    for (const auto& kv : root) {
      if (!kv.first.IsScalar()) {
        *error_line = first_line + kv.first.Mark().line;
        return Status::DataLoss("front matter key is not a plain name");
      }
      FrontMatterField field;
      field.key = kv.first.Scalar();
      field.kind = KindOf(kv.second);
      field.text = TextOf(kv.second);
      field.quoted = IsQuoted(kv.second);
      field.line = first_line + kv.first.Mark().line;
      if (kv.second.IsSequence()) {
        for (const YAML::Node& item : kv.second) {
          if (field.items.size() >= kMaxListItems) break;
          field.items.push_back(TextOf(item));
        }
      }
      if (field.key == "asset") {
        md.assets.clear();
        md.asset_is_list = kv.second.IsSequence() || kv.second.IsNull();
        if (kv.second.IsSequence()) {
          for (const YAML::Node& item : kv.second) {
            if (md.assets.size() >= kMaxListItems) break;
            md.assets.push_back(ReadAsset(item, first_line));
          }
        }
      }
      auto same = std::find_if(md.fields.begin(), md.fields.end(),
                               [&](const FrontMatterField& f) { return f.key == field.key; });
      if (same != md.fields.end()) {
        *same = std::move(field);
      } else {
        md.fields.push_back(std::move(field));
      }
    }
  } catch (const std::exception& e) {
    return Status::DataLoss(std::string("front matter could not be read: ") + e.what());
  }
  return md;
}

}  // namespace

const FrontMatterField* AssetMarkdown::Find(std::string_view key) const {
  for (const FrontMatterField& f : fields) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

std::optional<std::string> AssetMarkdown::Scalar(std::string_view key) const {
  const FrontMatterField* f = Find(key);
  if (f == nullptr || f->kind != ValueKind::kScalar) return std::nullopt;
  return f->text;
}

Result<AssetMarkdown> ParseAssetMarkdown(std::string_view text, int* error_line) {
  int unused_line = 0;
  if (error_line == nullptr) error_line = &unused_line;
  *error_line = 0;
  if (text.size() > kMaxMarkdownBytes) {
    return Status::ResourceExhausted("asset file is larger than " +
                                     std::to_string(kMaxMarkdownBytes) + " bytes");
  }
  AssetMarkdown md;
  std::string header;
  std::vector<int> delimiters;  // 1-based lines starting with "---"
  bool in_header = false;
  int first_line = 0;  // 1-based file line of the header's first line
  const std::vector<std::string_view> lines = SplitLines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const int number = static_cast<int>(i) + 1;
    const std::string_view line = lines[i];
    if (StartsWith(line, "---")) {
      delimiters.push_back(number);
      in_header = !in_header;
      if (in_header && delimiters.size() == 1) first_line = number + 1;
      continue;
    }
    if (in_header) {
      header += RewriteEvaluationDash(line);
      header += '\n';
    } else if (md.title_line == 0 && StartsWith(line, "# ")) {
      md.title = TrimRight(line.substr(2));
      md.title_line = number;
    }
  }
  if (delimiters.size() != 2) {
    std::string where;
    for (size_t i = 0; i < delimiters.size() && i < 4; ++i) {
      where += (i == 0 ? " (lines " : ", ") + std::to_string(delimiters[i]);
    }
    if (!where.empty()) where += delimiters.size() > 4 ? ", ...)" : ")";
    if (delimiters.size() > 2) *error_line = delimiters[2];
    return Status::DataLoss("needs exactly two lines starting with '---' around the front matter, found " +
                            std::to_string(delimiters.size()) + where);
  }
  md.header_line = delimiters[0];
  return ParseHeader(header, first_line, std::move(md), error_line);
}

std::string StripAngleBrackets(std::string_view link) {
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!link.empty() && is_space(link.front())) link.remove_prefix(1);
  while (!link.empty() && is_space(link.back())) link.remove_suffix(1);
  while (!link.empty() && link.front() == '<') link.remove_prefix(1);
  while (!link.empty() && link.back() == '>') link.remove_suffix(1);
  return std::string(link);
}

std::string UrlBasename(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) {
    url.remove_prefix(scheme + 3);
    size_t slash = url.find('/');
    if (slash == std::string_view::npos) return "";  // host only
    url.remove_prefix(slash);
  }
  size_t slash = url.rfind('/');
  return std::string(slash == std::string_view::npos ? url : url.substr(slash + 1));
}

}  // namespace hubfs::hubs::mindspore
