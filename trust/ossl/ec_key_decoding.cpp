// ENGINE and EVP_PKEY_METHOD are deprecated in OpenSSL 3.0 but present and
// supported through 3.x; this file alone sees them (OPENSSL_API_COMPAT).
#include "ossl/ec_key_decoding.hpp"

#include <openssl/engine.h>
#include <openssl/evp.h>

#include <iterator>
#include <mutex>

#include "ossl/ec_public_key_method.hpp"
#include "ossl/errors.hpp"

namespace chainlab::ossl {
namespace {

const int kEcNids[] = {EVP_PKEY_EC};
// All three live as long as the process, held here so that they stay
// reachable.
EVP_PKEY_METHOD *builtin_ec_method = nullptr;
EVP_PKEY_ASN1_METHOD *ec_asn1_method = nullptr;
ENGINE *builtin_ec_engine = nullptr;

// An ENGINE's key-method callback: asked without |method|, it lists its
// key types and returns how many; else it hands out the method for |nid|.
int ec_methods(ENGINE *, EVP_PKEY_METHOD **method, const int **nids, int nid) {
  if (method == nullptr) {
    *nids = kEcNids;
    return int(std::size(kEcNids));
  }
  *method = nid == EVP_PKEY_EC ? builtin_ec_method : nullptr;
  return *method != nullptr ? 1 : 0;
}

// The same for the ASN.1 (encoding) method, which decoded keys then carry.
int ec_asn1_methods(ENGINE *, EVP_PKEY_ASN1_METHOD **method, const int **nids, int nid) {
  if (method == nullptr) {
    *nids = kEcNids;
    return int(std::size(kEcNids));
  }
  *method = nid == EVP_PKEY_EC ? ec_asn1_method : nullptr;
  return *method != nullptr ? 1 : 0;
}

std::string register_engine() {
  ENGINE *engine = ENGINE_new();
  if (engine == nullptr)
    return "cannot allocate an ENGINE";
  bool set = ENGINE_set_id(engine, "chainlab-builtin-ec") == 1 &&
             ENGINE_set_name(engine, "OpenSSL's built-in EC key method") == 1 &&
             ENGINE_set_pkey_meths(engine, ec_methods) == 1 &&
             ENGINE_set_pkey_asn1_meths(engine, ec_asn1_methods) == 1;
  bool initialised = set && ENGINE_init(engine) == 1;
  bool registered = initialised && ENGINE_register_pkey_meths(engine) == 1 &&
                    ENGINE_register_pkey_asn1_meths(engine) == 1;
  if (registered) {
    builtin_ec_engine = engine; // with ENGINE_new's and ENGINE_init's references
    return {};
  }
  std::string why = "cannot register the EC ENGINE: " + drain_errors();
  // One registration may have succeeded: undone, since the methods it
  // points to are freed by the caller.
  ENGINE_unregister_pkey_meths(engine);
  ENGINE_unregister_pkey_asn1_meths(engine);
  if (initialised)
    ENGINE_finish(engine);
  ENGINE_free(engine);
  return why;
}

std::string install() {
  const EVP_PKEY_METHOD *builtin = EVP_PKEY_meth_find(EVP_PKEY_EC);
  if (builtin == nullptr)
    return "OpenSSL has no built-in EC key method";
  builtin_ec_method = EVP_PKEY_meth_new(EVP_PKEY_EC, 0);
  if (builtin_ec_method == nullptr)
    return "cannot allocate an EC key method";
  EVP_PKEY_meth_copy(builtin_ec_method, builtin);
  ec_asn1_method = new_ec_public_key_method();
  auto why = ec_asn1_method ? register_engine() : "cannot allocate an EC ASN.1 method";
  if (!why.empty()) {
    EVP_PKEY_meth_free(builtin_ec_method);
    EVP_PKEY_asn1_free(ec_asn1_method);
    builtin_ec_method = nullptr;
    ec_asn1_method = nullptr;
  }
  return why;
}

} // namespace

std::string use_builtin_ec_key_decoding() {
  static std::once_flag once;
  static std::string outcome;
  std::call_once(once, [] { outcome = install(); });
  return outcome;
}

} // namespace chainlab::ossl
