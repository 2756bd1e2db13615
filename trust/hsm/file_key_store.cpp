#include "hsm/file_key_store.hpp"

#include <filesystem>

#include <openssl/pem.h>

#include "core/error.hpp"
#include "ossl/errors.hpp"
#include "pki/encoding.hpp"

namespace chainlab::hsm {

ossl::Ptr<EVP_PKEY> generate_software_key(KeyType type) {
  EVP_PKEY *key = nullptr;
  switch (type) {
  // OpenSSL's own curve names: the NIST aliases ("P-256") are unknown to
  // its built-in EC method, which ossl/ec_key_decoding puts in charge.
  case KeyType::ec_p256:
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "prime256v1");
    break;
  case KeyType::ec_p384:
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp384r1");
    break;
  case KeyType::rsa_2048:
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(2048));
    break;
  case KeyType::rsa_3072:
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(3072));
    break;
  case KeyType::rsa_1024:
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(1024));
    break;
  }
  if (!key)
    throw Error(Reason::key_store_failed,
                "cannot generate " + std::string(to_string(type)) + " key (" +
                    ossl::drain_errors() + ")");
  return ossl::Ptr<EVP_PKEY>(key);
}

FileKeyStore::FileKeyStore(std::string directory)
    : directory_(std::move(directory)) {
  std::filesystem::create_directories(directory_);
  std::filesystem::permissions(directory_, std::filesystem::perms::owner_all);
}

std::string FileKeyStore::key_path(const std::string &label) const {
  return directory_ + "/" + label + ".key.pem";
}

bool FileKeyStore::has_key(const std::string &label) {
  return std::filesystem::exists(key_path(label));
}

std::string FileKeyStore::generate_key(const std::string &label, KeyType type) {
  if (has_key(label))
    throw Error(Reason::key_store_failed,
                key_path(label) + ": a key named '" + label + "' exists already");
  auto key = generate_software_key(type);
  ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                           nullptr);
  char *data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  pki::write_file_atomically(key_path(label), std::string_view(data, size_t(size)),
                             0600);
  return key_uri(label);
}

ossl::Ptr<EVP_PKEY> FileKeyStore::load_key(const std::string &label) {
  std::string pem = pki::read_file(key_path(label));
  ossl::Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
  ossl::Ptr<EVP_PKEY> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key)
    throw Error(Reason::key_store_failed,
                key_path(label) + ": not a PEM private key (" +
                    ossl::drain_errors() + ")");
  return key;
}

std::string FileKeyStore::key_uri(const std::string &label) const {
  return "file://" + std::filesystem::absolute(key_path(label)).string();
}

std::string FileKeyStore::describe() const {
  return "software key files in " + directory_;
}

} // namespace chainlab::hsm
