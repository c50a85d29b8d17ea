// RAII owners for libcurl handles, private to net/. Each deleter accepts null, so a failed
// curl_*_init() can be held and tested like any other unique_ptr.
//
// Thread-safety: like std::unique_ptr; a CURL* must only be used by one thread at a time.
#pragma once

#include <curl/curl.h>

#include <memory>

namespace hubfs::net {

struct CurlEasyDeleter {
  void operator()(CURL* handle) const {
    if (handle != nullptr) curl_easy_cleanup(handle);
  }
};
using CurlEasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlSlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;

struct CurlShareDeleter {
  void operator()(CURLSH* share) const {
    if (share != nullptr) curl_share_cleanup(share);
  }
};
using CurlSharePtr = std::unique_ptr<CURLSH, CurlShareDeleter>;

// Appends `line` to `list` (which may be empty). Returns false, leaving `list` intact, when
// libcurl is out of memory.
inline bool CurlSlistAppend(CurlSlistPtr& list, const char* line) {
  curl_slist* head = curl_slist_append(list.get(), line);
  if (head == nullptr) return false;
  list.release();  // NOLINT(bugprone-unused-return-value): `head` now owns the old nodes
  list.reset(head);
  return true;
}

}  // namespace hubfs::net
