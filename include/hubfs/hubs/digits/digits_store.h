// Which stores a DIGITS hub lists, and their folder names (docs/hubs/digits.md). Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hubfs/core/result.h"

namespace hubfs::hubs::digits {

// One configured store.
struct StoreSpec {
  std::string url;   // the store's base URL, http:// or https://
  std::string name;  // its folder in the hub; empty: derived from the URL
};

// A store ready to be listed.
struct Store {
  std::string base;  // `url` with exactly one trailing '/'
  std::string name;  // passes IsSafeName, unique within the hub
};

struct ResolvedStores {
  std::vector<Store> stores;
  std::vector<std::string> warnings;  // one line per dropped duplicate URL
};

// Accepts http:// and https:// URLs (scheme case-insensitive) with a host, without query,
// fragment, whitespace or control characters. kInvalidArgument naming the URL otherwise.
Status CheckStoreUrl(std::string_view url);

// The value of DIGITS_MODEL_STORE_URL: comma-separated base URLs. Kinder than DIGITS: blanks
// around each element are trimmed and empty elements skipped (so "" and unset mean no store).
// kInvalidArgument when an element fails CheckStoreUrl.
Result<std::vector<std::string>> ParseStoreUrlList(std::string_view value);

// A readable folder name for a store URL: the last non-empty path component, percent-decoded
// (".../modelstore/5.0" -> "5.0", "http://h/storeA/" -> "storeA"), else the host without port.
// A decoded component that is not a safe name is slugified; "store" when nothing usable is left.
std::string DeriveStoreName(std::string_view url);

// Checks every URL, drops repeated base URLs (the first wins), and names the stores: configured
// names are kept as given (they must pass IsSafeName and be unique), then each derived name that is
// already taken gets "-2", "-3", ... in spec order. Deterministic for a given spec list.
// kInvalidArgument when a URL or a configured name is unusable.
Result<ResolvedStores> ResolveStores(const std::vector<StoreSpec>& specs);

}  // namespace hubfs::hubs::digits
