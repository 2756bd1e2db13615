// actor/state_dir.hpp: one actor instance's private directory: its config
// (actor.json), its own SoftHSM token or key files, its certificates, and
// (for CAs) its issuance database and EST port file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "hsm/key_store.hpp"
#include "pki/encoding.hpp"

namespace chainlab::actor {

// ActorConfig is actor.json: who this actor is and where its key lives.
struct ActorConfig {
  std::string role;     // company, factory, technician, device
  std::string name;     // display name; also the token label
  std::string subject;  // RFC 2253 subject of its certificate
  std::string backend = "pkcs11"; // pkcs11 or file
  std::string key_type = "ec-p256";
  std::string key_uri;  // RFC 7512 pkcs11: URI or file: URI
  // The CA it enrolled with, for renewal: host, port, pinned fingerprint.
  std::string parent_host;
  std::uint16_t parent_port = 0;
  std::string parent_fingerprint;
};

inline constexpr const char *kIdentityKeyLabel = "identity-key";
inline constexpr const char *kTlsKeyLabel = "est-tls-key";

class StateDir {
public:
  explicit StateDir(std::string root);

  const std::string &directory() const { return root_; }
  std::string path(const std::string &file) const { return root_ + "/" + file; }
  bool initialised() const;

  ActorConfig load_config() const;
  void save_config(const ActorConfig &config) const;

  // open_key_store opens this actor's own store (token or key directory).
  std::unique_ptr<hsm::KeyStore> open_key_store(const ActorConfig &config,
                                                bool create) const;

  // store_identity writes certificate.pem, intermediates.pem (the CAs
  // above it, issuer first, root excluded), root.pem and fullchain.pem
  // (certificate + intermediates, what a TLS client presents).
  // |ca_certs| is the issuer's cacerts: issuer first, up to the root.
  void store_identity(X509 *certificate, const pki::CertList &ca_certs) const;
  ossl::Ptr<X509> certificate() const;
  pki::CertList intermediates() const;
  ossl::Ptr<X509> root() const;
  // chain_to_root: certificate, intermediates, then the root (once).
  pki::CertList chain_to_root() const;

private:
  std::string root_;
};

} // namespace chainlab::actor
