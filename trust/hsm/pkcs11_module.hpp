// hsm/pkcs11_module.hpp: a thin adapter over a raw PKCS#11 module, for what
// libp11 cannot do: initialising tokens and generating EC keys in them.
// Tokens are always chosen by label; SoftHSM renumbers slots on init.
#pragma once

#include <p11-kit/pkcs11.h>

#include <optional>
#include <string>
#include <vector>

#include "hsm/key_type.hpp"

namespace chainlab::hsm {

class Pkcs11Module {
public:
  // Loads |module_path| and calls C_Initialize (tolerating a module that
  // another loader in this process has initialised already).
  explicit Pkcs11Module(const std::string &module_path);
  ~Pkcs11Module();
  Pkcs11Module(const Pkcs11Module &) = delete;
  Pkcs11Module &operator=(const Pkcs11Module &) = delete;

  CK_FUNCTION_LIST_PTR functions() const { return functions_; }
  const std::string &path() const { return path_; }

  // find_token returns the slot holding an initialised token named |label|.
  std::optional<CK_SLOT_ID> find_token(const std::string &label) const;
  // init_token puts a new token named |label| into a free slot and sets its
  // SO and user PINs.
  void init_token(const std::string &label, const std::string &so_pin,
                  const std::string &user_pin);

private:
  void *library_ = nullptr;
  CK_FUNCTION_LIST_PTR functions_ = nullptr;
  bool initialised_here_ = false;
  std::string path_;
};

// Pkcs11Session is an RAII read-write session, logged in as the user.
// Closing the last session logs the application out.
class Pkcs11Session {
public:
  Pkcs11Session(const Pkcs11Module &module, CK_SLOT_ID slot,
                const std::string &user_pin);
  ~Pkcs11Session();
  Pkcs11Session(const Pkcs11Session &) = delete;
  Pkcs11Session &operator=(const Pkcs11Session &) = delete;

  // find_objects returns handles of objects of |object_class| labelled |label|.
  std::vector<CK_OBJECT_HANDLE> find_objects(CK_OBJECT_CLASS object_class,
                                             const std::string &label) const;
  // generate_key_pair creates a token key pair: the private half sensitive,
  // non-extractable and sign-only; the public half with the same CKA_ID.
  void generate_key_pair(const std::string &label,
                         const std::vector<unsigned char> &id, KeyType type);
  // read_attribute returns the PKCS#11 return value of C_GetAttributeValue
  // and, on success, the attribute bytes. Used to prove what cannot be read.
  CK_RV read_attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type,
                       std::vector<unsigned char> &out_value) const;

private:
  const Pkcs11Module &module_;
  CK_SESSION_HANDLE handle_ = 0;
};

// describe_rv names a PKCS#11 return value ("CKR_PIN_INCORRECT").
std::string describe_rv(CK_RV rv);

} // namespace chainlab::hsm
