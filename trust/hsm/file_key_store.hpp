// hsm/file_key_store.hpp: software keys kept as PEM files (mode 0600).
// Deliberately weaker than a token: attack scenarios "leak" these keys.
#pragma once

#include "hsm/key_store.hpp"

namespace chainlab::hsm {

class FileKeyStore final : public KeyStore {
public:
  explicit FileKeyStore(std::string directory);

  std::string generate_key(const std::string &label, KeyType type) override;
  ossl::Ptr<EVP_PKEY> load_key(const std::string &label) override;
  bool has_key(const std::string &label) override;
  std::string key_uri(const std::string &label) const override;
  std::string describe() const override;

  std::string key_path(const std::string &label) const;

private:
  std::string directory_;
};

// generate_software_key makes a key in memory (also used by tests and by
// attack steps that forge certificates with a key of their own).
ossl::Ptr<EVP_PKEY> generate_software_key(KeyType type);

} // namespace chainlab::hsm
