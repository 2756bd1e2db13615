#include "device/fleet_identities.hpp"

#include <openssl/pem.h>

#include <filesystem>
#include <memory>
#include <sstream>

#include "actor/state_dir.hpp"
#include "ca/operations.hpp"
#include "hsm/file_key_store.hpp"
#include "pki/csr.hpp"
#include "pki/inspect.hpp"
#include "registry/sqlite.hpp"

namespace chainlab::device {
namespace {

constexpr std::size_t kBatch = 500;

std::unique_ptr<registry::Database> open_store(const std::string &fleet_dir) {
  std::filesystem::create_directories(fleet_dir);
  auto db = std::make_unique<registry::Database>(fleet_dir + "/fleet.db");
  db->execute("CREATE TABLE IF NOT EXISTS identities (number INTEGER PRIMARY KEY, device_id TEXT "
             "UNIQUE NOT NULL, certificate TEXT NOT NULL, key TEXT NOT NULL)");
  return db;
}

std::string key_pem(EVP_PKEY *key) {
  ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char *data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size_t(size));
}

ossl::Ptr<EVP_PKEY> parse_key(const std::string &pem, const std::string &source) {
  ossl::Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
  ossl::Ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key)
    throw Error(Reason::config_invalid, source + ": the stored key does not parse");
  return key;
}

std::size_t stored_count(registry::Database &db) {
  auto count = db.prepare("SELECT COUNT(*) FROM identities");
  count.step();
  return std::size_t(count.integer(0));
}

// write_chain keeps what devices present above their leaf, and the root
// that a server trusts for them (mosquitto's cafile).
void write_chain(const std::string &fleet_dir, const std::string &technician_state) {
  auto chain = actor::StateDir(technician_state).chain_to_root();
  ossl::Ptr<X509> root = std::move(chain.back());
  chain.pop_back();
  pki::write_file_atomically(fleet_dir + "/chain.pem", pki::to_pem(chain));
  pki::write_file_atomically(fleet_dir + "/root.pem", pki::to_pem(root.get()));
}

} // namespace

std::size_t issue_fleet(const std::string &fleet_dir, const std::string &technician_state,
                        std::size_t count, const std::string &prefix, std::ostream &progress) {
  auto store = open_store(fleet_dir);
  registry::Database &db = *store;
  write_chain(fleet_dir, technician_state);
  std::ostringstream quiet; // the CA narrates each issuance; the fleet reports batches
  Narrator narrator("technician", quiet);
  std::size_t have = stored_count(db), added = 0;
  while (have < count) {
    std::vector<ossl::Ptr<EVP_PKEY>> keys;
    std::vector<ossl::Ptr<X509_REQ>> csrs;
    for (std::size_t i = have; i < count && keys.size() < kBatch; ++i) {
      keys.push_back(hsm::generate_software_key(hsm::KeyType::ec_p256));
      auto subject = pki::parse_subject("CN=" + prefix + std::to_string(i));
      csrs.push_back(pki::build_csr(keys.back().get(), subject.get(), pki::Profile::device));
    }
    auto issued = ca::issue_devices(technician_state, csrs, narrator);
    registry::Transaction transaction(db);
    for (std::size_t i = 0; i < issued.size(); ++i) {
      if (!issued[i])
        throw issued[i].error();
      db.prepare("INSERT INTO identities (number, device_id, certificate, key) VALUES (?,?,?,?)")
          .bind(1, std::int64_t(have + i))
          .bind(2, prefix + std::to_string(have + i))
          .bind(3, pki::to_pem(issued[i].value().get()))
          .bind(4, key_pem(keys[i].get()))
          .run();
    }
    transaction.commit();
    have += issued.size();
    added += issued.size();
    progress << "fleet: " << have << " of " << count << " identities issued by "
             << pki::subject_text(actor::StateDir(technician_state).certificate().get())
             << std::endl;
  }
  return added;
}

Fleet load_fleet(const std::string &fleet_dir, std::size_t count) {
  std::string db_path = fleet_dir + "/fleet.db";
  if (!std::filesystem::exists(db_path))
    throw Error(Reason::config_invalid, db_path + ": no fleet here; run `device fleet issue` first");
  auto store = open_store(fleet_dir);
  registry::Database &db = *store;
  Fleet fleet;
  std::string chain_path = fleet_dir + "/chain.pem";
  fleet.intermediates = pki::parse_certificates(pki::read_file(chain_path), chain_path);
  auto rows = db.prepare("SELECT device_id, certificate, key FROM identities ORDER BY number" +
                         (count ? " LIMIT " + std::to_string(count) : std::string()));
  while (rows.step()) {
    std::string id = rows.text(0);
    fleet.devices.push_back({id, pki::parse_certificate(rows.text(1), db_path + ": " + id),
                             parse_key(rows.text(2), db_path + ": " + id)});
  }
  if (count && fleet.devices.size() < count)
    throw Error(Reason::config_invalid, db_path + ": holds " +
                                            std::to_string(fleet.devices.size()) +
                                            " identities, fewer than the " +
                                            std::to_string(count) + " asked for");
  return fleet;
}

} // namespace chainlab::device
