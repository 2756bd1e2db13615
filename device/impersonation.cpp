// Uses the legacy EC_KEY_METHOD (as libp11 does for token keys), so this
// file is compiled at the OpenSSL 1.1 API level (see CMakeLists.txt).
#include "device/impersonation.hpp"

#include <openssl/ec.h>

#include "core/error.hpp"

namespace chainlab::device {
namespace {

// The facade owns its signer: freeing the facade frees it.
void free_signer(void *, void *signer, CRYPTO_EX_DATA *, int, long, void *) {
  EC_KEY_free(static_cast<EC_KEY *>(signer));
}

int signer_index() {
  static int index = EC_KEY_get_ex_new_index(0, nullptr, nullptr, nullptr, free_signer);
  return index;
}

EC_KEY *signer_of(EC_KEY *facade) {
  return static_cast<EC_KEY *>(EC_KEY_get_ex_data(facade, signer_index()));
}

int sign(int type, const unsigned char *digest, int digest_length, unsigned char *signature,
         unsigned int *signature_length, const BIGNUM *, const BIGNUM *, EC_KEY *facade) {
  return ECDSA_sign(type, digest, digest_length, signature, signature_length, signer_of(facade));
}

ECDSA_SIG *sign_sig(const unsigned char *digest, int digest_length, const BIGNUM *, const BIGNUM *,
                    EC_KEY *facade) {
  return ECDSA_do_sign(digest, digest_length, signer_of(facade));
}

const EC_KEY_METHOD *impersonating_method() {
  static EC_KEY_METHOD *method = [] {
    EC_KEY_METHOD *m = EC_KEY_METHOD_new(EC_KEY_get_default_method());
    EC_KEY_METHOD_set_sign(m, sign, nullptr, sign_sig);
    return m;
  }();
  return method;
}

} // namespace

ossl::Ptr<EVP_PKEY> impersonating_key(X509 *certificate, EVP_PKEY *signer) {
  const EC_KEY *claimed = EVP_PKEY_get0_EC_KEY(X509_get0_pubkey(certificate));
  EC_KEY *actual = EVP_PKEY_get1_EC_KEY(signer);
  if (!claimed || !actual)
    throw Error(Reason::config_invalid, "impersonation needs EC keys on both sides");
  EC_KEY *facade = EC_KEY_new();
  EC_KEY_set_method(facade, impersonating_method());
  EC_KEY_set_group(facade, EC_KEY_get0_group(claimed));
  EC_KEY_set_public_key(facade, EC_KEY_get0_public_key(claimed));
  EC_KEY_set_ex_data(facade, signer_index(), actual); // freed with the facade
  ossl::Ptr<EVP_PKEY> key(EVP_PKEY_new());
  EVP_PKEY_assign_EC_KEY(key.get(), facade);
  return key;
}

} // namespace chainlab::device
