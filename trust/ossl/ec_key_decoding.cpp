// ENGINE and EVP_PKEY_METHOD are deprecated in OpenSSL 3.0 but present and
// supported through 3.x; this file alone sees them (OPENSSL_API_COMPAT).
#include "ossl/ec_key_decoding.hpp"

#include <openssl/engine.h>
#include <openssl/evp.h>

#include <mutex>

#include "ossl/errors.hpp"

namespace chainlab::ossl {
namespace {

const int kEcNids[] = {EVP_PKEY_EC, 0};
EVP_PKEY_METHOD *builtin_ec_method = nullptr; // lives as long as the process

int ec_methods(ENGINE *, EVP_PKEY_METHOD **method, const int **nids, int nid) {
  if (method == nullptr) {
    *nids = kEcNids;
    return 1;
  }
  *method = nid == EVP_PKEY_EC ? builtin_ec_method : nullptr;
  return *method != nullptr ? 1 : 0;
}

std::string install() {
  const EVP_PKEY_METHOD *builtin = EVP_PKEY_meth_find(EVP_PKEY_EC);
  if (builtin == nullptr)
    return "OpenSSL has no built-in EC key method";
  builtin_ec_method = EVP_PKEY_meth_new(EVP_PKEY_EC, 0);
  if (builtin_ec_method == nullptr)
    return "cannot allocate an EC key method";
  EVP_PKEY_meth_copy(builtin_ec_method, builtin);
  // The ENGINE keeps its structural and functional references for the
  // process's life: OpenSSL's own clean-up at exit releases the table.
  ENGINE *engine = ENGINE_new();
  if (engine == nullptr || ENGINE_set_id(engine, "chainlab-builtin-ec") != 1 ||
      ENGINE_set_name(engine, "OpenSSL's built-in EC key method, without decoder lookups") != 1 ||
      ENGINE_set_pkey_meths(engine, ec_methods) != 1 || ENGINE_init(engine) != 1 ||
      ENGINE_register_pkey_meths(engine) != 1) {
    auto why = drain_errors();
    if (engine != nullptr)
      ENGINE_free(engine);
    return "cannot register the EC ENGINE: " + why;
  }
  ENGINE_free(engine); // drops the structural reference; ENGINE_init's stays
  return {};
}

} // namespace

std::string use_builtin_ec_key_decoding() {
  static std::once_flag once;
  static std::string outcome;
  std::call_once(once, [] { outcome = install(); });
  return outcome;
}

} // namespace chainlab::ossl
