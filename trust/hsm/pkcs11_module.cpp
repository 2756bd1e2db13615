#include "hsm/pkcs11_module.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>

#include "core/error.hpp"

namespace chainlab::hsm {
namespace {

std::string token_label_text(const CK_UTF8CHAR (&padded)[32]) {
  std::string label(reinterpret_cast<const char *>(padded), 32);
  label.erase(label.find_last_not_of(' ') + 1);
  return label;
}

void check(CK_RV rv, const std::string &what) {
  if (rv != CKR_OK)
    throw Error(Reason::key_store_failed, what + " failed: " + describe_rv(rv));
}

// DER-encoded OIDs of the named curves, as CKA_EC_PARAMS wants them.
const std::vector<unsigned char> kP256 = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                          0xce, 0x3d, 0x03, 0x01, 0x07};
const std::vector<unsigned char> kP384 = {0x06, 0x05, 0x2b, 0x81,
                                          0x04, 0x00, 0x22};

} // namespace

std::string describe_rv(CK_RV rv) {
  switch (rv) {
  case CKR_OK: return "CKR_OK";
  case CKR_ATTRIBUTE_SENSITIVE: return "CKR_ATTRIBUTE_SENSITIVE";
  case CKR_ATTRIBUTE_TYPE_INVALID: return "CKR_ATTRIBUTE_TYPE_INVALID";
  case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT";
  case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
  case CKR_TOKEN_NOT_RECOGNIZED: return "CKR_TOKEN_NOT_RECOGNIZED";
  case CKR_SLOT_ID_INVALID: return "CKR_SLOT_ID_INVALID";
  case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN";
  case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID";
  case CKR_TEMPLATE_INCONSISTENT: return "CKR_TEMPLATE_INCONSISTENT";
  case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
  default: {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "CKR 0x%08lx", rv);
    return buffer;
  }
  }
}

Pkcs11Module::Pkcs11Module(const std::string &module_path) : path_(module_path) {
  library_ = ::dlopen(module_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library_)
    throw Error(Reason::key_store_failed,
                "cannot load PKCS#11 module " + module_path + ": " + ::dlerror());
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(
      ::dlsym(library_, "C_GetFunctionList"));
  if (!get_list || get_list(&functions_) != CKR_OK)
    throw Error(Reason::key_store_failed,
                module_path + " is not a PKCS#11 module (no C_GetFunctionList)");
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  CK_RV rv = functions_->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
    check(rv, "C_Initialize of " + module_path);
  initialised_here_ = rv == CKR_OK;
}

Pkcs11Module::~Pkcs11Module() {
  // Finalising would pull the module out from under libp11's handles, which
  // live until process exit; the module is released by the OS then.
  (void)initialised_here_;
}

std::optional<CK_SLOT_ID>
Pkcs11Module::find_token(const std::string &label) const {
  CK_ULONG count = 0;
  check(functions_->C_GetSlotList(CK_TRUE, nullptr, &count), "C_GetSlotList");
  std::vector<CK_SLOT_ID> slots(count);
  check(functions_->C_GetSlotList(CK_TRUE, slots.data(), &count),
        "C_GetSlotList");
  for (CK_ULONG i = 0; i < count; ++i) {
    CK_TOKEN_INFO info{};
    if (functions_->C_GetTokenInfo(slots[i], &info) != CKR_OK)
      continue;
    if ((info.flags & CKF_TOKEN_INITIALIZED) &&
        token_label_text(info.label) == label)
      return slots[i];
  }
  return std::nullopt;
}

void Pkcs11Module::init_token(const std::string &label,
                              const std::string &so_pin,
                              const std::string &user_pin) {
  if (label.empty() || label.size() > 32)
    throw Error(Reason::config_invalid,
                "token label '" + label + "' must be 1 to 32 bytes");
  CK_ULONG count = 0;
  check(functions_->C_GetSlotList(CK_TRUE, nullptr, &count), "C_GetSlotList");
  std::vector<CK_SLOT_ID> slots(count);
  check(functions_->C_GetSlotList(CK_TRUE, slots.data(), &count),
        "C_GetSlotList");
  auto free_slot = std::find_if(slots.begin(), slots.end(), [&](CK_SLOT_ID s) {
    CK_TOKEN_INFO info{};
    return functions_->C_GetTokenInfo(s, &info) == CKR_OK &&
           !(info.flags & CKF_TOKEN_INITIALIZED);
  });
  if (free_slot == slots.end())
    throw Error(Reason::key_store_failed,
                "no free PKCS#11 slot to initialise token '" + label + "'");
  CK_UTF8CHAR padded[32];
  std::memset(padded, ' ', sizeof padded);
  std::memcpy(padded, label.data(), label.size());
  std::string so = so_pin;
  check(functions_->C_InitToken(*free_slot,
                                reinterpret_cast<CK_UTF8CHAR_PTR>(so.data()),
                                so.size(), padded),
        "C_InitToken('" + label + "')");
  // The slot id changes once the token exists; look it up again by label.
  auto slot = find_token(label);
  if (!slot)
    throw Error(Reason::key_store_failed,
                "token '" + label + "' vanished after C_InitToken");
  CK_SESSION_HANDLE session = 0;
  check(functions_->C_OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
                                  nullptr, nullptr, &session),
        "C_OpenSession");
  std::string user = user_pin;
  CK_RV rv = functions_->C_Login(
      session, CKU_SO, reinterpret_cast<CK_UTF8CHAR_PTR>(so.data()), so.size());
  if (rv == CKR_OK)
    rv = functions_->C_InitPIN(
        session, reinterpret_cast<CK_UTF8CHAR_PTR>(user.data()), user.size());
  functions_->C_Logout(session);
  functions_->C_CloseSession(session);
  check(rv, "setting the user PIN of token '" + label + "'");
}

Pkcs11Session::Pkcs11Session(const Pkcs11Module &module, CK_SLOT_ID slot,
                             const std::string &user_pin)
    : module_(module) {
  auto *f = module_.functions();
  check(f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                         nullptr, &handle_),
        "C_OpenSession");
  std::string pin = user_pin;
  CK_RV rv = f->C_Login(handle_, CKU_USER,
                        reinterpret_cast<CK_UTF8CHAR_PTR>(pin.data()), pin.size());
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
    f->C_CloseSession(handle_);
    check(rv, "C_Login");
  }
}

Pkcs11Session::~Pkcs11Session() { module_.functions()->C_CloseSession(handle_); }

std::vector<CK_OBJECT_HANDLE>
Pkcs11Session::find_objects(CK_OBJECT_CLASS object_class,
                            const std::string &label) const {
  auto *f = module_.functions();
  std::string text = label;
  CK_ATTRIBUTE query[] = {
      {CKA_CLASS, &object_class, sizeof object_class},
      {CKA_LABEL, text.data(), text.size()},
  };
  check(f->C_FindObjectsInit(handle_, query, 2), "C_FindObjectsInit");
  std::vector<CK_OBJECT_HANDLE> found;
  CK_OBJECT_HANDLE batch[16];
  CK_ULONG count = 0;
  while (f->C_FindObjects(handle_, batch, 16, &count) == CKR_OK && count > 0)
    found.insert(found.end(), batch, batch + count);
  f->C_FindObjectsFinal(handle_);
  return found;
}

void Pkcs11Session::generate_key_pair(const std::string &label,
                                      const std::vector<unsigned char> &id,
                                      KeyType type) {
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  std::string label_bytes = label;
  std::vector<unsigned char> id_bytes = id;
  bool is_ec = type == KeyType::ec_p256 || type == KeyType::ec_p384;
  std::vector<unsigned char> curve = type == KeyType::ec_p384 ? kP384 : kP256;
  CK_ULONG modulus_bits = type == KeyType::rsa_3072   ? 3072
                          : type == KeyType::rsa_1024 ? 1024
                                                      : 2048;
  unsigned char exponent[] = {0x01, 0x00, 0x01};

  std::vector<CK_ATTRIBUTE> public_template = {
      {CKA_TOKEN, &yes, sizeof yes},
      {CKA_PRIVATE, &no, sizeof no},
      {CKA_VERIFY, &yes, sizeof yes},
      {CKA_ENCRYPT, &no, sizeof no},
      {CKA_WRAP, &no, sizeof no},
      {CKA_LABEL, label_bytes.data(), label_bytes.size()},
      {CKA_ID, id_bytes.data(), id_bytes.size()},
  };
  if (is_ec) {
    public_template.push_back({CKA_EC_PARAMS, curve.data(), curve.size()});
  } else {
    public_template.push_back({CKA_MODULUS_BITS, &modulus_bits, sizeof modulus_bits});
    public_template.push_back({CKA_PUBLIC_EXPONENT, exponent, sizeof exponent});
  }
  // Sign-only, and the private value can never leave the token.
  std::vector<CK_ATTRIBUTE> private_template = {
      {CKA_TOKEN, &yes, sizeof yes},
      {CKA_PRIVATE, &yes, sizeof yes},
      {CKA_SENSITIVE, &yes, sizeof yes},
      {CKA_EXTRACTABLE, &no, sizeof no},
      {CKA_SIGN, &yes, sizeof yes},
      {CKA_DECRYPT, &no, sizeof no},
      {CKA_UNWRAP, &no, sizeof no},
      {CKA_DERIVE, &no, sizeof no},
      {CKA_LABEL, label_bytes.data(), label_bytes.size()},
      {CKA_ID, id_bytes.data(), id_bytes.size()},
  };
  CK_MECHANISM mechanism{is_ec ? CKM_EC_KEY_PAIR_GEN : CKM_RSA_PKCS_KEY_PAIR_GEN,
                         nullptr, 0};
  CK_OBJECT_HANDLE public_key = 0, private_key = 0;
  check(module_.functions()->C_GenerateKeyPair(
            handle_, &mechanism, public_template.data(), public_template.size(),
            private_template.data(), private_template.size(), &public_key,
            &private_key),
        "C_GenerateKeyPair(" + std::string(to_string(type)) + ", '" + label + "')");
}

CK_RV Pkcs11Session::read_attribute(CK_OBJECT_HANDLE object,
                                    CK_ATTRIBUTE_TYPE type,
                                    std::vector<unsigned char> &out_value) const {
  CK_ATTRIBUTE attribute{type, nullptr, 0};
  CK_RV rv = module_.functions()->C_GetAttributeValue(handle_, object, &attribute, 1);
  if (rv != CKR_OK)
    return rv;
  out_value.resize(attribute.ulValueLen);
  attribute.pValue = out_value.data();
  return module_.functions()->C_GetAttributeValue(handle_, object, &attribute, 1);
}

} // namespace chainlab::hsm
