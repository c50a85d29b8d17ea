// SHA-256 over OpenSSL's EVP interface (SHA256_Init is deprecated since OpenSSL 3.0).
#include <openssl/evp.h>

#include <cstdlib>

#include "hubfs/core/sha256.h"

namespace hubfs {

struct Sha256::Ctx {
  struct Free {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> md{EVP_MD_CTX_new()};
};

// EVP failures here mean memory exhaustion or a broken OpenSSL; hashing cannot continue
// meaningfully, and returning a wrong digest would be worse than stopping.
static void CheckEvp(int ok) {
  if (ok != 1) std::abort();
}

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  if (!ctx_->md) std::abort();
  CheckEvp(EVP_DigestInit_ex(ctx_->md.get(), EVP_sha256(), nullptr));
}

Sha256::~Sha256() = default;

void Sha256::Update(std::string_view data) {
  CheckEvp(EVP_DigestUpdate(ctx_->md.get(), data.data(), data.size()));
}

Digest Sha256::Finish() {
  Digest d{};
  unsigned int len = 0;
  CheckEvp(EVP_DigestFinal_ex(ctx_->md.get(), d.data(), &len));
  if (len != d.size()) std::abort();
  return d;
}

Digest Sha256::Of(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

}  // namespace hubfs
