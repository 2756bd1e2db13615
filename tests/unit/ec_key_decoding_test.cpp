// ossl/ec_key_decoding: once installed, EC public keys decode through
// chainlab's copy of OpenSSL's built-in method (a group kept per named
// curve). Whatever OpenSSL's providers would make of the same bytes, it
// must make too: the same key, the same encoding, the same checks.
#include <gtest/gtest.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "ossl/ec_key_decoding.hpp"
#include "ossl/ptr.hpp"

namespace chainlab::ossl {
namespace {

using Bytes = std::vector<unsigned char>;

// Keys made by the default provider, before the method is installed (once
// installed, EC keys made in the process are the built-in method's too).
struct ProviderKeys {
  std::map<std::string, std::vector<Ptr<EVP_PKEY>>> by_curve;
  ProviderKeys() {
    for (const char *curve : {"P-256", "P-384", "P-521"})
      for (int i = 0; i < 2; ++i)
        by_curve[curve].emplace_back(EVP_EC_gen(curve));
  }
};
ProviderKeys *provider_keys = nullptr;

class EcKeyDecoding : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    provider_keys = new ProviderKeys();
    ASSERT_EQ(use_builtin_ec_key_decoding(), "");
  }
  static void TearDownTestSuite() { delete provider_keys; }
};

// The |n|th provider key on |curve| (0 or 1).
EVP_PKEY *generate(const char *curve, int n = 0) {
  return provider_keys->by_curve.at(curve).at(std::size_t(n)).get();
}

Bytes spki_of(const EVP_PKEY *key) {
  unsigned char *der = nullptr;
  int length = i2d_PUBKEY(key, &der);
  Bytes out(der, der + std::max(length, 0));
  OPENSSL_free(der);
  return out;
}

Ptr<EVP_PKEY> decode(const Bytes &spki) {
  const unsigned char *in = spki.data();
  return Ptr<EVP_PKEY>(d2i_PUBKEY(nullptr, &in, long(spki.size())));
}

std::string printed(const EVP_PKEY *key) {
  Ptr<BIO> out(BIO_new(BIO_s_mem()));
  EXPECT_EQ(EVP_PKEY_print_public(out.get(), key, 2, nullptr), 1);
  char *text = nullptr;
  long length = BIO_get_mem_data(out.get(), &text);
  return std::string(text, std::size_t(length));
}

const unsigned char *bytes_of(const std::string &message) {
  return reinterpret_cast<const unsigned char *>(message.data());
}

Bytes sign(EVP_PKEY *key, const std::string &message) {
  Ptr<EVP_MD_CTX> context(EVP_MD_CTX_new());
  std::size_t length = 0;
  EXPECT_EQ(
      EVP_DigestSignInit_ex(context.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr), 1);
  EXPECT_EQ(
      EVP_DigestSign(context.get(), nullptr, &length, bytes_of(message), message.size()), 1);
  Bytes signature(length);
  EXPECT_EQ(EVP_DigestSign(context.get(), signature.data(), &length, bytes_of(message),
                           message.size()),
            1);
  signature.resize(length);
  return signature;
}

bool verifies(EVP_PKEY *key, const Bytes &signature, const std::string &message) {
  Ptr<EVP_MD_CTX> context(EVP_MD_CTX_new());
  return EVP_DigestVerifyInit_ex(context.get(), nullptr, "SHA256", nullptr, nullptr, key,
                                 nullptr) == 1 &&
         EVP_DigestVerify(context.get(), signature.data(), signature.size(), bytes_of(message),
                          message.size()) == 1;
}

TEST_F(EcKeyDecoding, DecodedKeysEncodeCompareAndVerifyAsTheProvidersDo) {
  for (auto [curve, bits] : {std::pair{"P-256", 256}, {"P-384", 384}, {"P-521", 521}}) {
    SCOPED_TRACE(curve);
    auto *key = generate(curve);
    ASSERT_TRUE(key);
    ASSERT_NE(EVP_PKEY_get0_provider(key), nullptr);
    Bytes spki = spki_of(key);
    auto decoded = decode(spki);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(spki_of(decoded.get()), spki);
    EXPECT_EQ(EVP_PKEY_get_bits(decoded.get()), bits);
    EXPECT_EQ(EVP_PKEY_get_size(decoded.get()), EVP_PKEY_get_size(key));
    EXPECT_EQ(EVP_PKEY_eq(decoded.get(), key), 1);
    EXPECT_EQ(EVP_PKEY_eq(decoded.get(), decode(spki).get()), 1);
    EXPECT_EQ(EVP_PKEY_eq(decoded.get(), decode(spki_of(generate(curve, 1))).get()), 0);
    EXPECT_EQ(printed(decoded.get()), printed(key));

    Bytes signature = sign(key, "a device's CertificateVerify");
    EXPECT_TRUE(verifies(decoded.get(), signature, "a device's CertificateVerify"));
    EXPECT_FALSE(verifies(decoded.get(), signature, "another message"));
  }
}

TEST_F(EcKeyDecoding, CompressedPointsAndExplicitParametersRoundTrip) {
  auto *key = generate("P-256", 1);
  ASSERT_EQ(EVP_PKEY_set_utf8_string_param(key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                           "compressed"), 1);
  Bytes compressed = spki_of(key);
  auto decoded = decode(compressed);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(spki_of(decoded.get()), compressed);
  EXPECT_EQ(EVP_PKEY_eq(decoded.get(), key), 1);

  ASSERT_EQ(EVP_PKEY_set_utf8_string_param(key, OSSL_PKEY_PARAM_EC_ENCODING,
                                           OSSL_PKEY_EC_ENCODING_EXPLICIT), 1);
  Bytes explicit_parameters = spki_of(key);
  ASSERT_NE(explicit_parameters, compressed);
  auto from_explicit = decode(explicit_parameters);
  ASSERT_TRUE(from_explicit);
  EXPECT_EQ(EVP_PKEY_eq(from_explicit.get(), key), 1);
  // Encoded again, still explicit (OpenSSL's own method may write the
  // generator in another point form than the provider's encoder did).
  Bytes encoded_again = spki_of(from_explicit.get());
  auto again = decode(encoded_again);
  ASSERT_TRUE(again);
  EXPECT_EQ(EVP_PKEY_eq(again.get(), key), 1);
  const unsigned char *in = encoded_again.data();
  X509_PUBKEY *pubkey = d2i_X509_PUBKEY(nullptr, &in, long(encoded_again.size()));
  ASSERT_NE(pubkey, nullptr);
  X509_ALGOR *algorithm = nullptr;
  int parameters_type = 0;
  ASSERT_EQ(X509_PUBKEY_get0_param(nullptr, nullptr, nullptr, &algorithm, pubkey), 1);
  X509_ALGOR_get0(nullptr, &parameters_type, nullptr, algorithm);
  EXPECT_EQ(parameters_type, V_ASN1_SEQUENCE);
  X509_PUBKEY_free(pubkey);
  Bytes signature = sign(key, "signed");
  EXPECT_TRUE(verifies(from_explicit.get(), signature, "signed"));
}

TEST_F(EcKeyDecoding, MalformedKeysAreRefused) {
  Bytes spki = spki_of(generate("P-256"));
  // The point's last byte changed: no longer on the curve.
  Bytes off_curve = spki;
  off_curve.back() ^= 0x01;
  EXPECT_FALSE(decode(off_curve));
  // The curve OID's last byte changed (prime256v1 is 1.2.840.10045.3.1.7):
  // an OID that names no curve OpenSSL knows.
  const Bytes p256_oid = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
  auto at = std::search(spki.begin(), spki.end(), p256_oid.begin(), p256_oid.end());
  ASSERT_NE(at, spki.end());
  Bytes unknown_curve = spki;
  unknown_curve[std::size_t(at - spki.begin()) + p256_oid.size() - 1] = 0x7f;
  EXPECT_FALSE(decode(unknown_curve));
  // A point of the wrong length for its curve.
  Bytes truncated = spki_of(generate("P-384"));
  truncated.resize(truncated.size() - 1);
  EXPECT_FALSE(decode(truncated));
  ERR_clear_error();
}

} // namespace
} // namespace chainlab::ossl
