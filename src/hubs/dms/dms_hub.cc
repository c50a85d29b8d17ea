#include "hubfs/hubs/dms/dms_hub.h"

#include <cctype>
#include <ctime>

#include "hubfs/core/logging.h"
#include "hubfs/core/names.h"

namespace hubfs::hubs::dms {

std::string ArchiveFileName(const DmsModel& model) {
  std::string last = model.location;
  if (size_t cut = last.find_first_of("?#"); cut != std::string::npos) last.resize(cut);
  if (size_t slash = last.rfind('/'); slash != std::string::npos) last = last.substr(slash + 1);
  for (char& ch : last) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::string suffix = ".model";
  for (const char* known : {".tar.gz", ".tgz", ".mar", ".zip", ".model"}) {
    const std::string k = known;
    if (last.size() > k.size() && last.compare(last.size() - k.size(), k.size(), k) == 0) {
      suffix = k;
      break;
    }
  }
  std::string file = model.name + suffix;
  return IsSafeName(model.name) && IsSafeName(file) ? file : "";
}

Result<Listing> DmsHub::List(const ListOptions& options) {
  (void)options;  // nothing to ask: the list is the configuration
  Listing listing;
  listing.mtime = static_cast<int64_t>(std::time(nullptr));
  for (const DmsModel& model : options_.models) {
    const std::string file = ArchiveFileName(model);
    if (file.empty()) {
      HUBFS_LOG_WARN("hub {}: model '{}' skipped: not a usable file name", options_.name, model.name);
      continue;
    }
    Entry entry;
    entry.path = {file};
    entry.kind = EntryKind::kFile;
    entry.remote = RemoteObject(model.location, std::nullopt, std::nullopt);
    entry.framework = "mxnet";  // model-server archives (the /by-framework view, docs/staging.md)
    listing.entries.push_back(std::move(entry));
  }
  return listing;
}

}  // namespace hubfs::hubs::dms
