#include "hubfs/hubs/digits/digits_hub.h"

#include <algorithm>
#include <ctime>

#include "hubfs/core/logging.h"
#include "store_reader.h"

namespace hubfs::hubs::digits {

DigitsHub::DigitsHub(DigitsHubOptions options, DocumentSource& documents)
    : options_(std::move(options)), documents_(documents) {
  auto resolved = ResolveStores(options_.stores);
  if (!resolved) {
    resolve_error_ = resolved.error();
    return;
  }
  for (const std::string& line : resolved->warnings) HUBFS_LOG_WARN("hub {}: {}", options_.name, line);
  stores_ = std::move(resolved->stores);
}

Result<Listing> DigitsHub::List(const ListOptions& options) {
  if (!resolve_error_.ok()) return resolve_error_.WithContext("hub " + options_.name);
  if (stores_.empty()) {
    return Status::InvalidArgument("hub " + options_.name +
                                   " has no stores: set 'urls' or DIGITS_MODEL_STORE_URL");
  }
  Listing listing;
  for (const Store& store : stores_) {
    Entry folder;
    folder.path = {store.name};
    folder.kind = EntryKind::kDirectory;
    listing.entries.push_back(std::move(folder));
    StoreReader reader(options_.name, store, documents_, options.refresh);
    auto read = reader.Read();
    if (!read) {
      // One store's failure is shown in its own folder and never hides the other stores.
      HUBFS_LOG_WARN("hub {}: store {} ({}) could not be listed; see {}/ERROR.txt", options_.name,
                     store.name, store.base, store.name);
      Entry error;
      error.path = {store.name, "ERROR.txt"};
      error.kind = EntryKind::kFile;
      error.content = read.error().message();
      listing.entries.push_back(std::move(error));
      continue;
    }
    listing.mtime = std::max(listing.mtime, read->fetched_at);
    std::move(read->entries.begin(), read->entries.end(), std::back_inserter(listing.entries));
  }
  if (listing.mtime == 0) listing.mtime = static_cast<int64_t>(std::time(nullptr));
  return listing;
}

}  // namespace hubfs::hubs::digits
