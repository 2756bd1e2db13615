#include "scenarios/forgery.hpp"

#include <filesystem>

#include <openssl/pem.h>

#include "hsm/file_key_store.hpp"
#include "pki/certificate_builder.hpp"
#include "pki/encoding.hpp"
#include "pki/inspect.hpp"
#include "registry/transparency_log.hpp"

namespace chainlab::scenario {
namespace {

// replace_with_weak_key swaps the device's key for RSA-1024, which no
// chainlab CA would certify.
void replace_with_weak_key(hsm::FileKeyStore &keys) {
  ossl::Ptr<EVP_PKEY> weak(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(1024)));
  ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), weak.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char *data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  pki::write_file_atomically(keys.key_path("identity-key"), std::string(data, size_t(size)), 0600);
}

void install(const std::string &dir, X509 *certificate, const pki::CertList &above, X509 *root) {
  pki::write_file_atomically(dir + "/certificate.pem", pki::to_pem(certificate));
  pki::write_file_atomically(dir + "/intermediates.pem", pki::to_pem(above));
  pki::write_file_atomically(dir + "/fullchain.pem", pki::to_pem(certificate) + pki::to_pem(above));
  pki::write_file_atomically(dir + "/root.pem", pki::to_pem(root));
}

} // namespace

std::string forge_certificate(const ForgeryRequest &request) {
  const auto &options = request.options;
  hsm::FileKeyStore own_keys(request.device_dir + "/keys");
  if (options.value("key_type", "") == "rsa-1024")
    replace_with_weak_key(own_keys);
  auto key = own_keys.load_key("identity-key");

  pki::CertificatePlan plan;
  plan.subject = pki::parse_subject("CN=" + request.device_name);
  plan.public_key = ossl::up_ref(key.get());
  plan.profile = options.value("profile", "device") == "tls-server" ? pki::Profile::tls_server
                                                                     : pki::Profile::device;
  // No clamping to the issuer's validity: a forger ignores policy.
  plan.not_before = std::chrono::system_clock::now() - std::chrono::hours(1);
  plan.not_after = std::chrono::system_clock::now() + std::chrono::hours(24 * 30);

  if (request.signer_dir.empty()) { // self-signed, for thumbprint registration
    auto made = pki::sign_certificate(plan, nullptr, key.get());
    install(request.device_dir, made.get(), {}, made.get());
    return "made a self-signed " + pki::subject_text(made.get()) + " (thumbprint " +
           pki::sha256_fingerprint(made.get()).substr(0, 23) + "…)";
  }
  hsm::FileKeyStore signer_keys(request.signer_dir + "/keys");
  auto signer_key = signer_keys.load_key("identity-key");
  std::string signer_file = request.signer_dir + "/certificate.pem";
  auto signer_cert = pki::parse_certificate(pki::read_file(signer_file), signer_file);
  auto forged = pki::sign_certificate(plan, signer_cert.get(), signer_key.get());
  if (options.value("digest", "sha256") == "sha1")
    X509_sign(forged.get(), signer_key.get(), EVP_sha1());
  // The forger installs the signer's own chain above its certificate.
  std::string chain_file = request.signer_dir + "/fullchain.pem";
  auto above = pki::parse_certificates(pki::read_file(chain_file), chain_file);
  std::string root_file = request.signer_dir + "/root.pem";
  auto root = pki::parse_certificate(pki::read_file(root_file), root_file);
  install(request.device_dir, forged.get(), above, root.get());
  return "forged " + pki::subject_text(forged.get()) + ", signed by " +
         pki::subject_text(signer_cert.get()) + "'s key, outside any issuance policy";
}

std::string rewrite_log(const std::string &ca_dir, bool truncate, std::int64_t index) {
  std::string file = ca_dir + "/issuance.db";
  registry::Database db(file);
  registry::TransparencyLog log(db);
  std::uint64_t size = log.size();
  if (index < 0 || std::uint64_t(index) >= size)
    throw Error(Reason::config_invalid, file + ": the log has no entry " + std::to_string(index) +
                                            " (it holds " + std::to_string(size) + ")");
  if (!truncate) {
    std::string entry = log.entries(index, index + 1).at(0);
    entry.back() = char(entry.back() ^ 0x01);
    db.prepare("UPDATE log_entries SET entry = ? WHERE leaf_index = ?")
        .bind_blob(1, entry)
        .bind(2, index)
        .run();
    return "changed one byte of entry " + std::to_string(index) + " in " + file +
           " (its certificate's signature); the signed tree heads were left as they were";
  }
  hsm::FileKeyStore keys(ca_dir + "/keys");
  auto key = keys.load_key("identity-key");
  {
    registry::Transaction transaction(db);
    db.prepare("DELETE FROM log_entries WHERE leaf_index >= ?").bind(1, index).run();
    db.prepare("DELETE FROM log_nodes WHERE ((node_index + 1) << level) > ?").bind(1, index).run();
    db.prepare("DELETE FROM log_tree_heads WHERE tree_size > ?").bind(1, index).run();
    transaction.commit();
  }
  auto head = log.publish(key.get(), std::uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                       std::chrono::system_clock::now().time_since_epoch())
                                                       .count()));
  return "dropped entries " + std::to_string(index) + ".." + std::to_string(size - 1) + " of " +
         file + " and signed the shorter tree (size " + std::to_string(head.tree_size) +
         ") with the CA's key";
}

} // namespace chainlab::scenario
