// Keys in a SoftHSMv2 token: generated inside, usable for signing through
// libp11, and impossible to read out. Runs under the `hsm` label.
#include <gtest/gtest.h>

#include <functional>
#include <sstream>

#include "device/device_actor.hpp"
#include "hsm/pkcs11_key_store.hpp"
#include "pki/csr.hpp"
#include "pki/inspect.hpp"
#include "support/test_pki.hpp"

namespace chainlab {
namespace {

CK_BBOOL read_bool(const hsm::Pkcs11Session &session, CK_OBJECT_HANDLE object,
                   CK_ATTRIBUTE_TYPE type) {
  std::vector<unsigned char> value;
  EXPECT_EQ(session.read_attribute(object, type, value), CKR_OK);
  return value.size() == 1 ? value[0] : 0xff;
}

TEST(Hsm, DeviceKeyCannotBeReadOutOfItsToken) {
  testing::TempDir dir;
  std::ostringstream transcript;
  Narrator narrator("widget-001", transcript);
  device::init_device({dir.path(), "widget-001", "pkcs11", "ec-p256"}, narrator);

  auto store = hsm::Pkcs11KeyStore::open({dir.file("token"), "widget-001"}, false);
  auto session = store->session();
  auto keys = session->find_objects(CKO_PRIVATE_KEY, actor::kIdentityKeyLabel);
  ASSERT_EQ(keys.size(), 1u);
  CK_OBJECT_HANDLE key = keys.front();

  std::vector<unsigned char> value;
  EXPECT_EQ(session->read_attribute(key, CKA_VALUE, value), CKR_ATTRIBUTE_SENSITIVE)
      << "the private value must not be readable";
  EXPECT_EQ(read_bool(*session, key, CKA_EXTRACTABLE), CK_FALSE);
  EXPECT_EQ(read_bool(*session, key, CKA_NEVER_EXTRACTABLE), CK_TRUE);
  EXPECT_EQ(read_bool(*session, key, CKA_SENSITIVE), CK_TRUE);
  EXPECT_EQ(read_bool(*session, key, CKA_ALWAYS_SENSITIVE), CK_TRUE);
  EXPECT_EQ(read_bool(*session, key, CKA_SIGN), CK_TRUE);
  EXPECT_EQ(read_bool(*session, key, CKA_DECRYPT), CK_FALSE);
  EXPECT_EQ(read_bool(*session, key, CKA_UNWRAP), CK_FALSE);
  EXPECT_EQ(read_bool(*session, key, CKA_DERIVE), CK_FALSE);

  // The public half sits beside it under the same CKA_ID.
  auto publics = session->find_objects(CKO_PUBLIC_KEY, actor::kIdentityKeyLabel);
  ASSERT_EQ(publics.size(), 1u);
  std::vector<unsigned char> private_id, public_id;
  ASSERT_EQ(session->read_attribute(key, CKA_ID, private_id), CKR_OK);
  ASSERT_EQ(session->read_attribute(publics.front(), CKA_ID, public_id), CKR_OK);
  EXPECT_EQ(private_id, public_id);
  EXPECT_NE(transcript.str().find("pkcs11:token=widget-001;object=identity-key;type=private"),
            std::string::npos)
      << transcript.str();
}

TEST(Hsm, EveryKeyTypeSignsInsideTheToken) {
  testing::TempDir dir;
  auto store = hsm::Pkcs11KeyStore::open({dir.file("token"), "Factory-Y"}, true);
  for (auto type : {hsm::KeyType::ec_p256, hsm::KeyType::ec_p384, hsm::KeyType::rsa_2048,
                    hsm::KeyType::rsa_3072}) {
    std::string label(hsm::to_string(type));
    std::string uri = store->generate_key(label, type);
    EXPECT_EQ(uri, "pkcs11:token=Factory-Y;object=" + label + ";type=private");
    auto key = store->load_key(label);
    auto csr = pki::build_csr(key.get(), pki::parse_subject("CN=Factory-Y").get(),
                              pki::Profile::subordinate_ca, 1);
    EXPECT_EQ(X509_REQ_verify(csr.get(), X509_REQ_get0_pubkey(csr.get())), 1) << label;
  }
  EXPECT_EQ(pki::describe_key(store->load_key("ec-p384").get()), "EC P-384");
  EXPECT_EQ(pki::describe_key(store->load_key("rsa-3072").get()), "RSA 3072");
}

TEST(Hsm, KeysAreNamedAndNotDuplicated) {
  testing::TempDir dir;
  auto store = hsm::Pkcs11KeyStore::open({dir.file("token"), "Technician-Z"}, true);
  store->generate_key("identity-key", hsm::KeyType::ec_p256);
  EXPECT_TRUE(store->has_key("identity-key"));
  EXPECT_FALSE(store->has_key("other"));
  for (auto attempt : std::vector<std::function<void()>>{
           [&] { store->generate_key("identity-key", hsm::KeyType::ec_p256); },
           [&] { store->load_key("other"); }}) {
    try {
      attempt();
      ADD_FAILURE() << "expected key_store_failed";
    } catch (const Error &error) {
      EXPECT_EQ(error.reason(), Reason::key_store_failed) << error.what();
    }
  }
}

TEST(Hsm, OneProcessServesOneTokenDirectory) {
  testing::TempDir first, second;
  hsm::Pkcs11KeyStore::open({first.file("token"), "Company-X"}, true);
  try {
    hsm::Pkcs11KeyStore::open({second.file("token"), "Factory-Y"}, true);
    FAIL() << "a second SoftHSM config was accepted in one process";
  } catch (const Error &error) {
    EXPECT_EQ(error.reason(), Reason::config_invalid);
    EXPECT_NE(error.detail().find("once per process"), std::string::npos);
  }
}

TEST(Hsm, MissingTokenIsAConfigError) {
  testing::TempDir dir;
  try {
    hsm::Pkcs11KeyStore::open({dir.file("token"), "Nobody"}, false);
    FAIL();
  } catch (const Error &error) {
    EXPECT_EQ(error.reason(), Reason::config_invalid);
    EXPECT_NE(error.detail().find(dir.file("token")), std::string::npos);
  }
}

} // namespace
} // namespace chainlab
