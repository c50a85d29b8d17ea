// Git blob ids over OpenSSL's EVP SHA-1.
#include <openssl/evp.h>

#include <cstdlib>

#include "hubfs/core/git_blob_id.h"

namespace hubfs {

struct GitBlobHasher::Ctx {
  struct Free {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> md{EVP_MD_CTX_new()};
};

// As in sha256_openssl.cc: an EVP failure is memory exhaustion or a broken OpenSSL.
static void Check(int ok) {
  if (ok != 1) std::abort();
}

GitBlobHasher::GitBlobHasher(uint64_t size) : ctx_(std::make_unique<Ctx>()) {
  if (!ctx_->md) std::abort();
  Check(EVP_DigestInit_ex(ctx_->md.get(), EVP_sha1(), nullptr));
  const std::string header = "blob " + std::to_string(size);
  Check(EVP_DigestUpdate(ctx_->md.get(), header.c_str(), header.size() + 1));  // with its NUL
}

GitBlobHasher::~GitBlobHasher() = default;

void GitBlobHasher::Update(std::string_view data) {
  Check(EVP_DigestUpdate(ctx_->md.get(), data.data(), data.size()));
}

GitBlobId GitBlobHasher::Finish() {
  GitBlobId id{};
  unsigned int len = 0;
  Check(EVP_DigestFinal_ex(ctx_->md.get(), id.data(), &len));
  if (len != id.size()) std::abort();
  return id;
}

GitBlobId GitBlobHasher::Of(std::string_view content) {
  GitBlobHasher h(content.size());
  h.Update(content);
  return h.Finish();
}

}  // namespace hubfs
