// hubfs publish / hubfs validate --format: dispatch to the per-format files (publish.h).
#include <filesystem>
#include <ostream>

#include "app/publish.h"
#include "hubfs/app/commands.h"

namespace hubfs::app {

namespace fs = std::filesystem;

int RunPublish(const PublishArgs& args, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  const fs::path dir(args.dir);
  if (!fs::is_directory(dir, ec)) {
    err << "hubfs publish: " << args.dir << ": no such folder\n";
    return 2;
  }
  if (args.format == "onnx") return publish::PublishOnnx(dir, out, err);
  if (args.format == "digits") return publish::PublishDigits(dir, out, err);
  if (args.format == "mindspore") {
    return publish::PublishMindspore(dir, args.base_url, args.git, out, err);
  }
  err << "hubfs publish: --format must be onnx, digits or mindspore\n";
  return 2;
}

int RunPublishCheck(const std::string& dir_text, const std::string& format, std::ostream& out,
                    std::ostream& err) {
  std::error_code ec;
  const fs::path dir(dir_text);
  if (!fs::is_directory(dir, ec)) {
    err << "hubfs validate: " << dir_text << ": no such folder\n";
    return 2;
  }
  if (format == "onnx") return publish::CheckOnnx(dir, out, err);
  if (format == "digits") return publish::CheckDigits(dir, out, err);
  err << "hubfs validate: --format must be onnx, digits or mindspore\n";
  return 2;
}

}  // namespace hubfs::app
