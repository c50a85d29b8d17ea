// hubfs validate DIR --format onnx|digits: re-reads what hubfs publish wrote with hubfs' own
// parsers and re-hashes the files (docs/cli.md).
#include <set>

#include <nlohmann/json.hpp>

#include "app/publish.h"
#include "hubfs/core/names.h"
#include "hubfs/hubs/digits/digits_master.h"
#include "hubfs/hubs/digits/digits_model_info.h"
#include "hubfs/hubs/onnx/onnx_manifest.h"

namespace hubfs::app::publish {
namespace {

namespace fs = std::filesystem;
constexpr size_t kMaxDocumentBytes = 64u << 20;

// Checks one file named by the manifest; returns "" when it matches.
std::string CheckFile(const fs::path& dir, const hubs::onnx::ManifestFile& f) {
  auto parts = SplitSafePath(f.path);
  if (!parts) return "unsafe path";
  fs::path path = dir;
  for (const std::string& p : *parts) path /= p;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return "missing";
  auto hashed = HashFile(path);
  if (!hashed) return hashed.error().message();
  if (f.bytes && *f.bytes != hashed->bytes) {
    return "size " + std::to_string(hashed->bytes) + ", manifest says " + std::to_string(*f.bytes);
  }
  if (!f.sha256) return "no sha256 in the manifest";
  if (*f.sha256 != hashed->sha256) {
    return "sha256 " + ToHex(hashed->sha256) + ", manifest says " + ToHex(*f.sha256);
  }
  return "";
}

}  // namespace

int CheckOnnx(const fs::path& dir, std::ostream& out, std::ostream& err) {
  auto text = ReadSmallFile(dir / "ONNX_HUB_MANIFEST.json", kMaxDocumentBytes);
  if (!text) {
    err << "hubfs validate: " << text.error().message() << "\n";
    return 1;
  }
  auto manifest = hubs::onnx::ParseManifest(*text);
  if (!manifest) {
    out << (dir / "ONNX_HUB_MANIFEST.json").string() << ": " << manifest.error().message() << "\n";
    return 1;
  }
  size_t problems = manifest->skipped.size();
  for (const std::string& s : manifest->skipped) out << "ONNX_HUB_MANIFEST.json: " << s << "\n";
  size_t files = 0;
  for (const auto& e : manifest->entries) {
    std::vector<const hubs::onnx::ManifestFile*> refs = {&e.model_file};
    if (e.with_data) refs.push_back(&*e.with_data);
    for (const auto* f : refs) {
      ++files;
      std::string problem = CheckFile(dir, *f);
      err << (problem.empty() ? "ok      " : "FAILED  ") << f->path << "\n";
      if (!problem.empty()) {
        ++problems;
        out << f->path << ": " << problem << "\n";
      }
    }
  }
  out << manifest->entries.size() << " entries, " << files << " files checked: "
      << (problems == 0 ? "all match" : std::to_string(problems) + " problems") << "\n";
  return problems == 0 ? 0 : 1;
}

int CheckDigits(const fs::path& dir, std::ostream& out, std::ostream& err) {
  auto text = ReadSmallFile(dir / "master.json", kMaxDocumentBytes);
  if (!text) {
    err << "hubfs validate: " << text.error().message() << "\n";
    return 1;
  }
  auto master = hubs::digits::ParseMasterJson(*text);
  if (!master) {
    out << "master.json: " << master.error().message() << "\n";
    return 1;
  }
  size_t problems = master->skipped.size();
  for (const std::string& s : master->skipped) out << "master.json: " << s << "\n";
  auto problem = [&](const std::string& where, const std::string& what) {
    ++problems;
    out << where << ": " << what << "\n";
  };
  for (const std::string& child : master->children) {
    std::error_code ec;
    if (!IsSafeName(child) || !fs::is_directory(dir / child, ec)) {
      problem(child, "listed in master.json but no such folder");
      continue;
    }
    const std::string where = child + "/info.json";
    auto info_text = ReadSmallFile(dir / child / "info.json", kMaxDocumentBytes);
    if (!info_text) {
      problem(where, "missing (DIGITS cannot import the model)");
      continue;
    }
    auto files = hubs::digits::ParseInfoJson(*info_text);
    if (!files) {
      problem(where, files.error().message());
      continue;
    }
    for (const std::string& s : files->skipped) problem(where, s);
    auto info = nlohmann::json::parse(*info_text, nullptr, false);
    for (const char* key : {"snapshot file", "framework", "name"}) {
      if (!info.contains(key)) problem(where, std::string("no \"") + key + "\" (DIGITS needs it to import)");
    }
    if (!info.contains("model file") && !info.contains("network file")) {
      problem(where, "no \"model file\" or \"network file\" (DIGITS needs one to import)");
    }
    for (const std::string& f : files->files) {
      if (!fs::is_regular_file(dir / child / f, ec)) problem(child + "/" + f, "named by info.json but missing");
    }
    err << "checked " << child << " (" << files->files.size() << " files)\n";
  }
  out << master->children.size() << " models checked: "
      << (problems == 0 ? "all match" : std::to_string(problems) + " problems") << "\n";
  return problems == 0 ? 0 : 1;
}

}  // namespace hubfs::app::publish
