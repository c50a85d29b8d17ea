// hubfs publish --format onnx: DIR is the repo root; writes DIR/ONNX_HUB_MANIFEST.json
// (docs/hubs/onnx.md, "Publishing your own hub").
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "app/publish.h"
#include "hubfs/hubs/onnx/onnx_manifest_writer.h"

namespace hubfs::app::publish {
namespace {

namespace fs = std::filesystem;
namespace onnx = hubfs::hubs::onnx;

// A read-only mapping of a whole file, unmapped on destruction.
class MappedFile {
 public:
  ~MappedFile() {
    if (addr_ != nullptr) ::munmap(addr_, size_);
  }
  Status Open(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, path.string());
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      Status s = Status::FromErrno(errno, path.string());
      ::close(fd);
      return s;
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      void* addr = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (addr == MAP_FAILED) {
        Status s = Status::FromErrno(errno, "mmap " + path.string());
        ::close(fd);
        return s;
      }
      addr_ = addr;
    }
    ::close(fd);
    return Status::Ok();
  }
  std::string_view bytes() const {
    return addr_ == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(addr_), size_);
  }

 private:
  void* addr_ = nullptr;
  size_t size_ = 0;
};

// Every *.onnx below `dir` (hidden folders and files skipped, folder symlinks not followed).
std::vector<fs::path> FindModels(const fs::path& dir, std::ostream& err) {
  std::vector<fs::path> found;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->path().extension() == ".onnx" && it->is_regular_file(ec)) found.push_back(it->path());
  }
  if (ec) err << "hubfs publish: " << dir.string() << ": " << ec.message() << "\n";
  std::sort(found.begin(), found.end());
  return found;
}

bool PlainPath(const std::string& rel) {
  size_t start = 0;
  for (;;) {
    size_t slash = rel.find('/', start);
    if (!IsPlainUrlName(rel.substr(start, slash - start))) return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

// The manifest entry for one model file; an error says why the file is skipped.
Result<onnx::PublishedModel> Describe(const fs::path& dir, const fs::path& file, std::ostream& err) {
  const std::string rel = RelativePath(dir, file);
  if (!PlainPath(rel)) {
    return Status::InvalidArgument(
        "path has characters a URL cannot carry verbatim (use A-Z a-z 0-9 . _ - +)");
  }
  MappedFile mapped;
  HUBFS_RETURN_IF_ERROR(mapped.Open(file));
  HUBFS_ASSIGN_OR_RETURN(onnx::ModelSummary summary, onnx::ReadModelSummary(mapped.bytes()));
  onnx::PublishedModel m;
  m.opset = summary.opset.value_or(1);
  m.model = onnx::ModelNameFromStem(file.stem().string(), m.opset);
  m.onnx_version = onnx::OnnxVersionOfOpset(m.opset);
  m.tags = onnx::TagsFromPath(rel);
  m.inputs = std::move(summary.inputs);
  m.outputs = std::move(summary.outputs);
  m.file.path = rel;
  Sha256 sha;
  sha.Update(mapped.bytes());
  m.file.sha256 = sha.Finish();
  m.file.bytes = mapped.bytes().size();

  fs::path bundle = file;
  bundle.replace_extension(".tar.gz");
  std::error_code ec;
  if (fs::is_regular_file(bundle, ec)) {
    HUBFS_ASSIGN_OR_RETURN(Hashed h, HashFile(bundle));
    m.with_data = onnx::PublishedFile{RelativePath(dir, bundle), h.sha256, h.bytes};
    err << "  bundle " << m.with_data->path << " (" << h.bytes << " bytes)\n";
  }
  return m;
}

}  // namespace

int PublishOnnx(const fs::path& dir, std::ostream& out, std::ostream& err) {
  std::vector<onnx::PublishedModel> models;
  size_t skipped = 0;
  for (const fs::path& file : FindModels(dir, err)) {
    const std::string rel = RelativePath(dir, file);
    auto model = Describe(dir, file, err);
    if (!model) {
      ++skipped;
      err << "skipped " << rel << ": " << model.error().message() << "\n";
      continue;
    }
    err << "ok      " << rel << " (" << model->file.bytes << " bytes, opset " << model->opset
        << ", " << model->inputs.size() << " inputs, " << model->outputs.size() << " outputs)\n";
    models.push_back(std::move(model).value());
  }
  const fs::path manifest = dir / "ONNX_HUB_MANIFEST.json";
  if (Status s = WriteFileAtomically(manifest, onnx::WriteManifest(models)); !s.ok()) {
    err << "hubfs publish: " << s.message() << "\n";
    return 1;
  }
  out << "wrote " << manifest.string() << ": " << models.size()
      << (models.size() == 1 ? " model" : " models");
  if (skipped > 0) out << ", " << skipped << " skipped";
  out << "\n"
      << "serve it: make DIR reachable as <base>/<owner>/<name>/<ref>/ (e.g. a folder\n"
      << "<www>/acme/models/main -> DIR and nginx 'root <www>'), then configure a hub with\n"
      << "repo = \"acme/models:main\" and raw_base = media_base = \"http://host/<base>\"\n";
  return skipped == 0 ? 0 : 1;
}

}  // namespace hubfs::app::publish
