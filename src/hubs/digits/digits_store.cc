#include "hubfs/hubs/digits/digits_store.h"

#include <set>

#include "hubfs/core/names.h"
#include "hubfs/hubs/digits/digits_url.h"
#include "printable.h"

namespace hubfs::hubs::digits {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// The text after "scheme://", or nullopt when the scheme is not http or https.
std::optional<std::string_view> AfterScheme(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (StartsWithNoCase(url, scheme)) return url.substr(scheme.size());
  }
  return std::nullopt;
}

// "user@host:port" -> "host"; "[::1]:8080" -> "::1".
std::string_view HostOf(std::string_view authority) {
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    return close == std::string_view::npos ? authority.substr(1) : authority.substr(1, close - 1);
  }
  return authority.substr(0, authority.find(':'));
}

}  // namespace

Status CheckStoreUrl(std::string_view url) {
  auto invalid = [&](const char* why) {
    return Status::InvalidArgument("store URL " + Printable(url) + " " + why);
  };
  auto rest = AfterScheme(url);
  if (!rest) return invalid("does not start with http:// or https://");
  if (HasControlChars(url)) return invalid("contains control characters");
  for (char c : url) {
    if (IsBlank(c)) return invalid("contains blanks (write spaces as %20)");
  }
  if (url.find_first_of("?#") != std::string_view::npos) {
    return invalid("has a query or fragment; a store is a folder URL");
  }
  if (HostOf(rest->substr(0, rest->find('/'))).empty()) return invalid("has no host");
  return Status::Ok();
}

Result<std::vector<std::string>> ParseStoreUrlList(std::string_view value) {
  std::vector<std::string> urls;
  while (true) {
    const size_t comma = value.find(',');
    const std::string_view element = Trim(value.substr(0, comma));
    if (!element.empty()) {
      Status status = CheckStoreUrl(element);
      if (!status.ok()) return status.WithContext("DIGITS_MODEL_STORE_URL");
      urls.emplace_back(element);
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return urls;
}

std::string DeriveStoreName(std::string_view url) {
  std::string_view rest = AfterScheme(url).value_or(url);
  const size_t slash = rest.find('/');
  const std::string_view host = HostOf(rest.substr(0, slash));
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::string_view last = path.substr(path.rfind('/') + 1);  // path is "" or starts with '/'
  for (std::string_view candidate : {last, host}) {
    if (candidate.empty()) continue;
    const std::string decoded = PercentDecode(candidate);
    if (IsSafeName(decoded)) return decoded;
    std::string slug = Slugify(decoded);
    if (!slug.empty() && IsSafeName(slug)) return slug;
  }
  return "store";
}

Result<ResolvedStores> ResolveStores(const std::vector<StoreSpec>& specs) {
  ResolvedStores out;
  std::vector<const StoreSpec*> kept;
  std::set<std::string> bases;
  for (const StoreSpec& spec : specs) {
    HUBFS_RETURN_IF_ERROR(CheckStoreUrl(spec.url));
    std::string base = WithTrailingSlash(spec.url);
    if (!bases.insert(base).second) {
      out.warnings.push_back("store " + base + " is configured twice; using it once");
      continue;
    }
    kept.push_back(&spec);
    out.stores.push_back(Store{std::move(base), spec.name});
  }
  // Configured names first, so a derived name never takes a name the user chose.
  std::set<std::string> taken;
  for (const Store& store : out.stores) {
    if (store.name.empty()) continue;
    if (!IsSafeName(store.name)) {
      return Status::InvalidArgument("store name " + Printable(store.name) +
                                     " must be a plain folder name");
    }
    if (!taken.insert(store.name).second) {
      return Status::InvalidArgument("store name " + Printable(store.name) + " is used twice");
    }
  }
  for (size_t i = 0; i < out.stores.size(); ++i) {
    Store& store = out.stores[i];
    if (!store.name.empty()) continue;
    const std::string derived = DeriveStoreName(kept[i]->url);
    std::string name = derived;
    for (int n = 2; !taken.insert(name).second; ++n) {
      const std::string suffix = "-" + std::to_string(n);
      name = derived.substr(0, kMaxNameBytes - suffix.size()) + suffix;
    }
    store.name = std::move(name);
  }
  return out;
}

}  // namespace hubfs::hubs::digits
