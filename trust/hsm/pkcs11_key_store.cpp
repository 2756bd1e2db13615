// libp11 is used only here; it needs the OpenSSL 1.1 API compatibility level
// (set for this file in CMake).
#include "hsm/pkcs11_key_store.hpp"

#include <libp11.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>

#include <openssl/rand.h>

#include "core/error.hpp"
#include "core/http_message.hpp"
#include "core/random.hpp"
#include "ossl/errors.hpp"
#include "pki/encoding.hpp"

namespace chainlab::hsm {
namespace {

// One PKCS#11 runtime per process: the raw module, the libp11 context, and
// one logged-in libp11 slot per token. libp11 invalidates a token's earlier
// sessions when it opens a new one, so each token is opened exactly once;
// slot lists are never released because loaded keys point into them.
struct Runtime {
  std::string conf_path;
  std::unique_ptr<Pkcs11Module> module;
  PKCS11_CTX *libp11 = nullptr;
  std::map<std::string, PKCS11_SLOT *> open_slots; // by token label
};

Runtime &runtime_for(const std::string &conf_path) {
  static std::mutex mutex;
  static Runtime *runtime = nullptr; // never destroyed: keys outlive main
  std::lock_guard lock(mutex);
  std::string absolute = std::filesystem::absolute(conf_path).string();
  if (!runtime) {
    ::setenv("SOFTHSM2_CONF", absolute.c_str(), 1);
    runtime = new Runtime();
    runtime->conf_path = absolute;
    runtime->module = std::make_unique<Pkcs11Module>(pkcs11_module_path());
  } else if (runtime->conf_path != absolute) {
    throw Error(Reason::config_invalid,
                "this process already uses SoftHSM config " +
                    runtime->conf_path + "; it cannot also open " + absolute +
                    " (SOFTHSM2_CONF is read once per process)");
  }
  return *runtime;
}

PKCS11_CTX *libp11_context(Runtime &runtime) {
  if (!runtime.libp11) {
    PKCS11_CTX *context = PKCS11_CTX_new();
    if (PKCS11_CTX_load(context, runtime.module->path().c_str()) != 0) {
      PKCS11_CTX_free(context);
      throw Error(Reason::key_store_failed,
                  "libp11 cannot load " + runtime.module->path() + " (" +
                      ossl::drain_errors() + ")");
    }
    runtime.libp11 = context;
  }
  return runtime.libp11;
}

void write_softhsm_config(const Pkcs11Token &token) {
  std::filesystem::create_directories(token.directory + "/objects");
  std::filesystem::permissions(token.directory,
                               std::filesystem::perms::owner_all);
  std::string config =
      "# SoftHSMv2 config for token '" + token.label + "' (this actor only)\n"
      "directories.tokendir = " +
      std::filesystem::absolute(token.directory + "/objects").string() +
      "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n";
  pki::write_file_atomically(token.conf_path(), config, 0600);
}

} // namespace

std::string pkcs11_module_path() {
  if (const char *path = std::getenv("CHAINLAB_PKCS11_MODULE"))
    return path;
  return "/usr/lib/softhsm/libsofthsm2.so";
}

Pkcs11KeyStore::Pkcs11KeyStore(Pkcs11Token token, std::string user_pin,
                               Pkcs11Module &module)
    : token_(std::move(token)), user_pin_(std::move(user_pin)),
      module_(module) {}

std::unique_ptr<Pkcs11KeyStore> Pkcs11KeyStore::open(const Pkcs11Token &token,
                                                     bool create) {
  bool exists = std::filesystem::exists(token.conf_path());
  if (!exists && !create)
    throw Error(Reason::config_invalid,
                token.conf_path() + ": no token here (run init first)");
  if (!exists)
    write_softhsm_config(token);
  Runtime &runtime = runtime_for(token.conf_path());
  if (!runtime.module->find_token(token.label)) {
    if (!create)
      throw Error(Reason::key_store_failed,
                  "token '" + token.label + "' not found under " +
                      token.directory);
    std::string user_pin = random_hex(12);
    runtime.module->init_token(token.label, random_hex(12), user_pin);
    pki::write_file_atomically(token.user_pin_path(), user_pin, 0600);
  }
  std::string user_pin = pki::read_file(token.user_pin_path());
  return std::unique_ptr<Pkcs11KeyStore>(
      new Pkcs11KeyStore(token, std::move(user_pin), *runtime.module));
}

std::unique_ptr<Pkcs11Session> Pkcs11KeyStore::session() const {
  auto slot = module_.find_token(token_.label);
  if (!slot)
    throw Error(Reason::key_store_failed, "token '" + token_.label + "' is gone");
  return std::make_unique<Pkcs11Session>(module_, *slot, user_pin_);
}

bool Pkcs11KeyStore::has_key(const std::string &label) {
  return !session()->find_objects(CKO_PRIVATE_KEY, label).empty();
}

std::string Pkcs11KeyStore::generate_key(const std::string &label, KeyType type) {
  auto raw = session();
  if (!raw->find_objects(CKO_PRIVATE_KEY, label).empty())
    throw Error(Reason::key_store_failed,
                "token '" + token_.label + "' already holds a key '" + label + "'");
  std::vector<unsigned char> id(8);
  RAND_bytes(id.data(), int(id.size()));
  raw->generate_key_pair(label, id, type);
  return key_uri(label);
}

static PKCS11_SLOT *logged_in_slot(Runtime &runtime, const std::string &label,
                            const std::string &user_pin) {
  if (auto found = runtime.open_slots.find(label); found != runtime.open_slots.end())
    return found->second;
  PKCS11_CTX *context = libp11_context(runtime);
  // A fresh list sees tokens initialised since the last one was taken.
  PKCS11_SLOT *slots = nullptr;
  unsigned int slot_count = 0;
  if (PKCS11_enumerate_slots(context, &slots, &slot_count) != 0)
    throw Error(Reason::key_store_failed,
                "libp11 cannot list slots (" + ossl::drain_errors() + ")");
  PKCS11_SLOT *slot = nullptr;
  for (unsigned int i = 0; i < slot_count; ++i)
    if (slots[i].token && slots[i].token->initialized &&
        label == slots[i].token->label)
      slot = &slots[i];
  if (!slot)
    throw Error(Reason::key_store_failed, "libp11 sees no token '" + label + "'");
  if (PKCS11_open_session(slot, 0) != 0 || PKCS11_login(slot, 0, user_pin.c_str()) != 0)
    throw Error(Reason::key_store_failed, "cannot log in to token '" + label +
                                              "' (" + ossl::drain_errors() + ")");
  runtime.open_slots.emplace(label, slot);
  return slot;
}

ossl::Ptr<EVP_PKEY> Pkcs11KeyStore::load_key(const std::string &label) {
  Runtime &runtime = runtime_for(token_.conf_path());
  PKCS11_SLOT *slot = logged_in_slot(runtime, token_.label, user_pin_);
  PKCS11_KEY *keys = nullptr;
  unsigned int key_count = 0;
  if (PKCS11_enumerate_keys(slot->token, &keys, &key_count) != 0)
    throw Error(Reason::key_store_failed,
                "cannot list keys in token '" + token_.label + "'");
  for (unsigned int i = 0; i < key_count; ++i) {
    if (keys[i].label && label == keys[i].label) {
      EVP_PKEY *key = PKCS11_get_private_key(&keys[i]);
      if (!key)
        break;
      return ossl::Ptr<EVP_PKEY>(key);
    }
  }
  throw Error(Reason::key_store_failed,
              "token '" + token_.label + "' has no private key '" + label + "'");
}

std::string Pkcs11KeyStore::key_uri(const std::string &label) const {
  return "pkcs11:token=" + percent_encode(token_.label) +
         ";object=" + percent_encode(label) + ";type=private";
}

std::string Pkcs11KeyStore::describe() const {
  return "PKCS#11 token '" + token_.label + "' (SoftHSMv2, " +
         token_.directory + ")";
}

} // namespace chainlab::hsm
