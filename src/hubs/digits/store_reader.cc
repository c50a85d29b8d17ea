#include "store_reader.h"

#include <algorithm>

#include "hubfs/core/logging.h"
#include "hubfs/hubs/digits/digits_html_listing.h"
#include "hubfs/hubs/digits/digits_hub.h"
#include "hubfs/hubs/digits/digits_master.h"
#include "hubfs/hubs/digits/digits_model_info.h"
#include "hubfs/hubs/digits/digits_model_names.h"
#include "hubfs/hubs/digits/digits_url.h"
#include "hubfs/hubs/model_framework.h"

namespace hubfs::hubs::digits {
namespace {

constexpr char kInfoJson[] = "info.json";
constexpr char kAuxJson[] = "aux.json";

// The store's HTML page as a model list; an error when it links no usable folder.
Result<HtmlListing> FoldersOfPage(const std::string& body) {
  HUBFS_ASSIGN_OR_RETURN(HtmlListing listing, ParseHtmlListing(body));
  if (listing.folders.empty()) {
    std::string why = "the page lists no model folders";
    if (!listing.skipped.empty()) {
      why += " it can use (" + std::to_string(listing.skipped.size()) + " skipped, first: " +
             listing.skipped.front() + ")";
    }
    return Status::DataLoss(why);
  }
  return listing;
}

}  // namespace

StoreReader::StoreReader(const std::string& hub, const Store& store, DocumentSource& documents,
                         bool refresh)
    : hub_(hub), store_(store), documents_(documents), refresh_(refresh) {}

Result<DocumentSource::Document> StoreReader::Get(const std::string& url) {
  auto doc = documents_.Get(url, {.revalidate = refresh_});
  if (doc && doc->stale) {
    if (stale_documents_++ == 0) stale_reason_ = doc->stale_reason;
  }
  return doc;
}

Entry StoreReader::MakeEntry(const std::string& model, const std::string& file) const {
  Entry e;
  e.path = {store_.name, model};
  if (!file.empty()) e.path.push_back(file);
  e.kind = file.empty() ? EntryKind::kDirectory : EntryKind::kFile;
  return e;
}

Result<std::vector<std::string>> StoreReader::ReadChildren(int64_t* fetched_at) {
  const std::string master_url = store_.base + "master.json";
  std::string master_problem;
  auto master = Get(master_url);
  if (master) {
    auto parsed = ParseMasterJson(master->body);
    if (parsed) {
      for (const std::string& line : parsed->skipped) {
        HUBFS_LOG_WARN("hub {}: store {}: {}: skipped {}", hub_, store_.name, master_url, line);
      }
      *fetched_at = master->fetched_at;
      return std::move(parsed->children);
    }
    master_problem = parsed.error().ToString();
    HUBFS_LOG_WARN("hub {}: store {}: {}: {}; trying the folder's HTML listing", hub_, store_.name,
                   master_url, master_problem);
  } else {
    master_problem = master.error().ToString();
    if (!master.error().IsNotFound()) {
      HUBFS_LOG_WARN("hub {}: store {}: {}; trying the folder's HTML listing", hub_, store_.name,
                     master_problem);
    }
  }

  auto page = Get(store_.base);
  std::string page_problem;
  if (page) {
    auto listing = FoldersOfPage(page->body);
    if (listing) {
      for (const std::string& line : listing->skipped) {
        HUBFS_LOG_WARN("hub {}: store {}: listing {}: skipped {}", hub_, store_.name, store_.base,
                       line);
      }
      *fetched_at = page->fetched_at;
      return std::move(listing->folders);
    }
    page_problem = listing.error().ToString();
  } else {
    page_problem = page.error().ToString();
  }
  return Status::Unavailable("The DIGITS model store '" + store_.name + "' (" + store_.base +
                             ") could not be listed.\n\nURLs tried:\n  " + master_url + "\n    " +
                             master_problem + "\n  " + store_.base + "\n    " + page_problem +
                             "\n\nThe other stores of hub '" + hub_ +
                             "' are not affected. `hubfs refresh " + hub_ + "` tries again.\n");
}

void StoreReader::AddOptionalFile(const std::string& model, const std::string& file,
                                  std::vector<Entry>* out) {
  const std::string url = ModelFileUrl(store_.base, model, file);
  auto doc = Get(url);
  if (!doc) {
    if (!doc.error().IsNotFound()) {
      HUBFS_LOG_WARN("hub {}: store {}: model {}: not showing {}: {}", hub_, store_.name, model,
                     file, doc.error().ToString());
    }
    return;
  }
  Entry e = MakeEntry(model, file);
  if (doc->body.size() <= kMaxInlineFileBytes) {
    e.content = std::move(doc->body);
  } else {
    e.remote = RemoteObject{url, std::nullopt, std::nullopt};
  }
  out->push_back(std::move(e));
}

void StoreReader::AddModel(const std::string& model, std::vector<Entry>* out) {
  out->push_back(MakeEntry(model, ""));
  std::set<std::string> taken = {kInfoJson, kAuxJson};
  auto warn = [&](const std::string& what) {
    HUBFS_LOG_WARN("hub {}: store {}: model {}: {}", hub_, store_.name, model, what);
  };

  // info.json: served as published; the files it names are remote files.
  auto info = Get(ModelFileUrl(store_.base, model, kInfoJson));
  if (info) {
    auto named = ParseInfoJson(info->body);
    Entry e = MakeEntry(model, kInfoJson);
    e.content = std::move(info->body);
    out->push_back(std::move(e));
    if (!named) {
      warn(named.error().ToString() + "; listing no model files");
    } else {
      for (const std::string& line : named->skipped) warn("info.json: skipped " + line);
      for (const std::string& file : named->files) {
        if (!taken.insert(file).second) {
          warn("info.json names " + file + ", which is a file hubfs generates; skipped");
          continue;
        }
        Entry f = MakeEntry(model, file);
        f.remote = RemoteObject{ModelFileUrl(store_.base, model, file), std::nullopt, std::nullopt};
        if (std::find(named->models.begin(), named->models.end(), file) != named->models.end()) {
          // DIGITS jobs are Caffe unless info.json says otherwise (torch, tensorflow).
          f.framework = NormalizeFramework(named->framework);
          if (f.framework.empty()) f.framework = "caffe";
        }
        out->push_back(std::move(f));
      }
    }
  } else if (!info.error().IsNotFound()) {
    warn("info.json: " + info.error().ToString());
  }

  // aux.json: served as published; license.txt and the logo only when they exist.
  auto aux = Get(ModelFileUrl(store_.base, model, kAuxJson));
  if (aux) {
    auto named = ParseAuxJson(aux->body);
    Entry e = MakeEntry(model, kAuxJson);
    e.content = std::move(aux->body);
    out->push_back(std::move(e));
    if (!named) {
      warn(named.error().ToString());
    } else {
      for (const std::string& line : named->skipped) warn("aux.json: skipped " + line);
      for (const std::string& file : named->files) {
        if (taken.insert(file).second) AddOptionalFile(model, file, out);
      }
    }
  } else if (!aux.error().IsNotFound()) {
    warn("aux.json: " + aux.error().ToString());
  }
}

Result<StoreListing> StoreReader::Read() {
  StoreListing listing;
  HUBFS_ASSIGN_OR_RETURN(std::vector<std::string> children, ReadChildren(&listing.fetched_at));
  ModelNames models = SelectModelNames(children, kMaxModelsPerStore);
  for (const std::string& line : models.skipped) {
    HUBFS_LOG_WARN("hub {}: store {}: skipped {}", hub_, store_.name, line);
  }
  for (const std::string& model : models.names) AddModel(model, &listing.entries);
  if (stale_documents_ > 0) {
    HUBFS_LOG_WARN("hub {}: store {}: {} document(s) served from the cache: {}", hub_, store_.name,
                   stale_documents_, stale_reason_);
  }
  HUBFS_LOG_INFO("hub {}: store {} ({}): {} models, {} entries", hub_, store_.name, store_.base,
                 models.names.size(), listing.entries.size());
  return listing;
}

}  // namespace hubfs::hubs::digits
