#include "actor/state_dir.hpp"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "hsm/file_key_store.hpp"
#include "hsm/pkcs11_key_store.hpp"

namespace chainlab::actor {
namespace {

bool self_signed(X509 *cert) {
  return X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) == 0 &&
         X509_check_issued(cert, cert) == X509_V_OK;
}

} // namespace

StateDir::StateDir(std::string root) : root_(std::move(root)) {}

bool StateDir::initialised() const {
  return std::filesystem::exists(path("actor.json"));
}

ActorConfig StateDir::load_config() const {
  std::string file = path("actor.json");
  if (!initialised())
    throw Error(Reason::config_invalid, file + ": missing; run init first");
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(pki::read_file(file));
    ActorConfig config;
    config.role = json.at("role");
    config.name = json.at("name");
    config.subject = json.at("subject");
    config.backend = json.at("backend");
    config.key_type = json.at("key_type");
    config.key_uri = json.value("key_uri", "");
    config.parent_host = json.value("parent_host", "");
    config.parent_port = json.value("parent_port", std::uint16_t(0));
    config.parent_fingerprint = json.value("parent_fingerprint", "");
    return config;
  } catch (const nlohmann::json::exception &error) {
    throw Error(Reason::config_invalid, file + ": " + error.what());
  }
}

void StateDir::save_config(const ActorConfig &config) const {
  nlohmann::json json = {{"role", config.role},
                         {"name", config.name},
                         {"subject", config.subject},
                         {"backend", config.backend},
                         {"key_type", config.key_type},
                         {"key_uri", config.key_uri},
                         {"parent_host", config.parent_host},
                         {"parent_port", config.parent_port},
                         {"parent_fingerprint", config.parent_fingerprint}};
  pki::write_file_atomically(path("actor.json"), json.dump(2) + "\n");
}

std::unique_ptr<hsm::KeyStore> StateDir::open_key_store(const ActorConfig &config,
                                                        bool create) const {
  if (config.backend == "pkcs11")
    return hsm::Pkcs11KeyStore::open({path("token"), config.name}, create);
  if (config.backend == "file")
    return std::make_unique<hsm::FileKeyStore>(path("keys"));
  throw Error(Reason::config_invalid,
              path("actor.json") + ": backend \"" + config.backend +
                  "\" is neither pkcs11 nor file");
}

void StateDir::store_identity(X509 *certificate, const pki::CertList &ca_certs) const {
  pki::CertList intermediates;
  ossl::Ptr<X509> root;
  for (const auto &cert : ca_certs) {
    if (self_signed(cert.get()))
      root = ossl::up_ref(cert.get());
    else
      intermediates.push_back(ossl::up_ref(cert.get()));
  }
  // A self-signed root CA is its own root.
  if (!root && self_signed(certificate))
    root = ossl::up_ref(certificate);
  if (!root)
    throw Error(Reason::malformed_certificate,
                "the CA certificates received end without a self-signed root");
  pki::write_file_atomically(path("certificate.pem"), pki::to_pem(certificate));
  pki::write_file_atomically(path("intermediates.pem"), pki::to_pem(intermediates));
  pki::write_file_atomically(path("root.pem"), pki::to_pem(root.get()));
  pki::write_file_atomically(path("fullchain.pem"),
                             pki::to_pem(certificate) + pki::to_pem(intermediates));
}

ossl::Ptr<X509> StateDir::certificate() const {
  std::string file = path("certificate.pem");
  return pki::parse_certificate(pki::read_file(file), file);
}

pki::CertList StateDir::intermediates() const {
  std::string file = path("intermediates.pem");
  std::string pem = pki::read_file(file);
  return pem.empty() ? pki::CertList{} : pki::parse_certificates(pem, file);
}

ossl::Ptr<X509> StateDir::root() const {
  std::string file = path("root.pem");
  return pki::parse_certificate(pki::read_file(file), file);
}

pki::CertList StateDir::chain_to_root() const {
  pki::CertList chain;
  auto own = certificate();
  auto anchor = root();
  bool own_is_root = X509_cmp(own.get(), anchor.get()) == 0;
  chain.push_back(std::move(own));
  for (auto &cert : intermediates())
    chain.push_back(std::move(cert));
  if (!own_is_root)
    chain.push_back(std::move(anchor));
  return chain;
}

} // namespace chainlab::actor
