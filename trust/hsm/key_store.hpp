// hsm/key_store.hpp: where an actor's private keys live. Two backends share
// this interface: a PKCS#11 token (SoftHSMv2, the default) and PEM files
// (for attack scenarios and large simulated fleets).
#pragma once

#include <memory>
#include <string>

#include "hsm/key_type.hpp"
#include "ossl/ptr.hpp"

namespace chainlab::hsm {

class KeyStore {
public:
  virtual ~KeyStore() = default;

  // generate_key creates a new sign-only key named |label| inside the
  // store and returns its URI. Throws Error(key_store_failed) if a key of
  // that name exists already.
  virtual std::string generate_key(const std::string &label, KeyType type) = 0;
  // load_key returns a handle that signs with the key named |label|; for
  // PKCS#11 the private half never leaves the token. The store must outlive
  // the returned handle.
  virtual ossl::Ptr<EVP_PKEY> load_key(const std::string &label) = 0;
  virtual bool has_key(const std::string &label) = 0;
  // key_uri names the key: an RFC 7512 pkcs11: URI or a file: URI.
  virtual std::string key_uri(const std::string &label) const = 0;
  // describe says where keys live, for narration: "PKCS#11 token 'Factory-Y'".
  virtual std::string describe() const = 0;
};

} // namespace chainlab::hsm
