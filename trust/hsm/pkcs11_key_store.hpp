// hsm/pkcs11_key_store.hpp: keys inside one SoftHSMv2 token that belongs to
// one actor. The token's config and object files live in the actor's own
// state directory, so no actor can reach another's keys.
#pragma once

#include <memory>

#include "hsm/key_store.hpp"
#include "hsm/pkcs11_module.hpp"

namespace chainlab::hsm {

// Pkcs11Token names one actor's token: its directory (holding softhsm2.conf,
// the token files and the PIN files) and its label.
struct Pkcs11Token {
  std::string directory;
  std::string label;

  std::string conf_path() const { return directory + "/softhsm2.conf"; }
  std::string user_pin_path() const { return directory + "/user.pin"; }
};

class Pkcs11KeyStore final : public KeyStore {
public:
  // open loads the token, creating its config and initialising it first
  // when |create| is set and it does not exist yet. SoftHSM reads its
  // config once per process, so a process can serve only one token
  // directory; a second one throws Error(config_invalid).
  static std::unique_ptr<Pkcs11KeyStore> open(const Pkcs11Token &token,
                                              bool create);

  std::string generate_key(const std::string &label, KeyType type) override;
  ossl::Ptr<EVP_PKEY> load_key(const std::string &label) override;
  bool has_key(const std::string &label) override;
  std::string key_uri(const std::string &label) const override;
  std::string describe() const override;

  // session opens a raw logged-in session, for tests that prove what the
  // token refuses to reveal.
  std::unique_ptr<Pkcs11Session> session() const;

private:
  Pkcs11KeyStore(Pkcs11Token token, std::string user_pin, Pkcs11Module &module);
  Pkcs11Token token_;
  std::string user_pin_;
  Pkcs11Module &module_;
};

// pkcs11_module_path is $CHAINLAB_PKCS11_MODULE or Debian's SoftHSMv2 module.
std::string pkcs11_module_path();

} // namespace chainlab::hsm
