#include "hubfs/hubs/digits/digits_store_writer.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

namespace hubfs::hubs::digits {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.ends_with(suffix);
}

// The trailing number before the extension ("snapshot_iter_28140.caffemodel" -> 28140), -1 if none.
long long SnapshotNumber(std::string_view name) {
  size_t dot = name.rfind('.');
  std::string_view stem = name.substr(0, dot);
  size_t start = stem.size();
  while (start > 0 && stem[start - 1] >= '0' && stem[start - 1] <= '9') --start;
  if (start == stem.size() || stem.size() - start > 18) return -1;
  return std::stoll(std::string(stem.substr(start)));
}

// The file with the highest snapshot number among those ending in `ext` ("" when none).
std::string Newest(const std::vector<std::string>& files, std::string_view ext) {
  std::string best;
  long long best_n = -2;
  for (const std::string& f : files) {
    if (!EndsWith(f, ext)) continue;
    long long n = SnapshotNumber(f);
    if (n > best_n || (n == best_n && f > best)) best = f, best_n = n;
  }
  return best;
}

bool Has(const std::vector<std::string>& files, std::string_view name) {
  return std::find(files.begin(), files.end(), name) != files.end();
}

std::string CaffeModelFile(const std::vector<std::string>& files) {
  for (const char* preferred : {"deploy.prototxt", "original.prototxt"}) {
    if (Has(files, preferred)) return preferred;
  }
  for (const std::string& f : files) {
    if (EndsWith(f, ".prototxt") && f != "solver.prototxt" && f != "train_val.prototxt") return f;
  }
  return "";
}

}  // namespace

std::string WriteMasterJson(std::string_view msg, const std::vector<std::string>& children) {
  nlohmann::ordered_json doc;
  doc["msg"] = msg;
  doc["children"] = children;
  return doc.dump(4, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<std::string> GuessInfoJson(std::string_view name, const std::vector<std::string>& files) {
  std::map<std::string, std::string> info;  // sorted keys, as DIGITS writes them
  info["name"] = name;
  const std::string caffe_weights = Newest(files, ".caffemodel");
  const std::string torch_weights = Newest(files, ".t7");
  if (!caffe_weights.empty()) {
    const std::string model = CaffeModelFile(files);
    if (model.empty()) return Status::NotFound("a .caffemodel but no .prototxt model definition");
    info["framework"] = "caffe";
    info["snapshot file"] = caffe_weights;
    info["model file"] = model;
    if (Has(files, "train_val.prototxt")) info["train_val file"] = "train_val.prototxt";
    if (Has(files, "solver.prototxt")) info["solver file"] = "solver.prototxt";
  } else if (!torch_weights.empty()) {
    const std::string model = Newest(files, ".lua");
    if (model.empty()) return Status::NotFound("a .t7 snapshot but no .lua model definition");
    info["framework"] = "torch";
    info["snapshot file"] = torch_weights;
    info["model file"] = model;
  } else {
    return Status::NotFound("no weights file (.caffemodel or .t7)");
  }
  if (Has(files, "labels.txt")) info["labels file"] = "labels.txt";
  if (Has(files, "mean.binaryproto")) info["mean file"] = "mean.binaryproto";
  return nlohmann::json(info).dump(4, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace hubfs::hubs::digits
