// EC_KEY and the EVP_PKEY_ASN1_METHOD setters are deprecated in OpenSSL 3.0
// but present through 3.x; this file and ec_key_decoding.cpp alone see them.
#include "ossl/ec_public_key_method.hpp"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <map>
#include <mutex>

#include "ossl/ptr.hpp"

namespace chainlab::ossl {
namespace {

// One group per named curve OpenSSL knows (a few dozen at most: an OID
// that names no curve builds nothing and is not kept). Never freed: keys
// copy from them for as long as the process decodes certificates.
const EC_GROUP *named_group(int nid) {
  static std::mutex guard;
  static std::map<int, Ptr<EC_GROUP>> *groups = new std::map<int, Ptr<EC_GROUP>>();
  std::lock_guard lock(guard);
  if (auto found = groups->find(nid); found != groups->end())
    return found->second.get();
  Ptr<EC_GROUP> group(EC_GROUP_new_by_curve_name(nid));
  if (!group)
    return nullptr;
  EC_GROUP_set_asn1_flag(group.get(), OPENSSL_EC_NAMED_CURVE);
  return groups->emplace(nid, std::move(group)).first->second.get();
}

// The parameters of an id-ecPublicKey AlgorithmIdentifier, as OpenSSL's own
// method reads them: a named curve's OID, or explicit parameters.
EC_KEY *key_for_parameters(const X509_ALGOR *algorithm) {
  int type = 0;
  const void *value = nullptr;
  X509_ALGOR_get0(nullptr, &type, &value, algorithm);
  if (type == V_ASN1_OBJECT) {
    const EC_GROUP *group = named_group(OBJ_obj2nid(static_cast<const ASN1_OBJECT *>(value)));
    EC_KEY *key = group ? EC_KEY_new() : nullptr;
    if (key && EC_KEY_set_group(key, group) == 1)
      return key;
    EC_KEY_free(key);
    return nullptr;
  }
  if (type == V_ASN1_SEQUENCE) {
    const auto *encoded = static_cast<const ASN1_STRING *>(value);
    const unsigned char *der = ASN1_STRING_get0_data(encoded);
    return d2i_ECParameters(nullptr, &der, ASN1_STRING_length(encoded));
  }
  return nullptr;
}

int decode_public(EVP_PKEY *pkey, const X509_PUBKEY *pubkey) {
  const unsigned char *point = nullptr;
  int point_length = 0;
  X509_ALGOR *algorithm = nullptr;
  if (X509_PUBKEY_get0_param(nullptr, &point, &point_length, &algorithm, pubkey) != 1)
    return 0;
  EC_KEY *key = key_for_parameters(algorithm);
  if (key == nullptr || o2i_ECPublicKey(&key, &point, point_length) == nullptr ||
      EVP_PKEY_assign_EC_KEY(pkey, key) != 1) {
    EC_KEY_free(key);
    ERR_raise(ERR_LIB_EC, EC_R_DECODE_ERROR);
    return 0;
  }
  return 1;
}

const EC_KEY *ec_of(const EVP_PKEY *pkey) { return EVP_PKEY_get0_EC_KEY(pkey); }

// The AlgorithmIdentifier's parameters for |key|: its curve's OID when the
// group is named, else the explicit parameters (as OpenSSL's method does).
bool encode_parameters(const EC_KEY *key, int &type, void *&value) {
  const EC_GROUP *group = EC_KEY_get0_group(key);
  int nid = EC_GROUP_get_curve_name(group);
  if (EC_GROUP_get_asn1_flag(group) != 0 && nid != NID_undef) {
    ASN1_OBJECT *oid = OBJ_nid2obj(nid);
    if (oid == nullptr || OBJ_length(oid) == 0)
      return false;
    type = V_ASN1_OBJECT;
    value = oid;
    return true;
  }
  ASN1_STRING *explicit_parameters = ASN1_STRING_new();
  unsigned char *der = nullptr;
  int length = explicit_parameters ? i2d_ECParameters(key, &der) : 0;
  if (length <= 0) {
    ASN1_STRING_free(explicit_parameters);
    return false;
  }
  ASN1_STRING_set0(explicit_parameters, der, length);
  type = V_ASN1_SEQUENCE;
  value = explicit_parameters;
  return true;
}

int encode_public(X509_PUBKEY *pubkey, const EVP_PKEY *pkey) {
  const EC_KEY *key = ec_of(pkey);
  int type = 0;
  void *parameters = nullptr;
  if (key == nullptr || EC_KEY_get0_group(key) == nullptr ||
      EC_KEY_get0_public_key(key) == nullptr || !encode_parameters(key, type, parameters))
    return 0;
  unsigned char *point = nullptr;
  int length = i2o_ECPublicKey(key, &point);
  if (length > 0 && X509_PUBKEY_set0_param(pubkey, OBJ_nid2obj(EVP_PKEY_EC), type, parameters,
                                           point, length) == 1)
    return 1;
  OPENSSL_free(point);
  if (type == V_ASN1_SEQUENCE)
    ASN1_STRING_free(static_cast<ASN1_STRING *>(parameters));
  return 0;
}

// 1 equal, 0 different, -2 not comparable (EVP_PKEY_eq's convention).
int compare_public(const EVP_PKEY *a, const EVP_PKEY *b) {
  const EC_KEY *key_a = ec_of(a), *key_b = ec_of(b);
  const EC_GROUP *group = key_b ? EC_KEY_get0_group(key_b) : nullptr;
  const EC_POINT *point_a = key_a ? EC_KEY_get0_public_key(key_a) : nullptr;
  const EC_POINT *point_b = key_b ? EC_KEY_get0_public_key(key_b) : nullptr;
  if (group == nullptr || point_a == nullptr || point_b == nullptr)
    return -2;
  switch (EC_POINT_cmp(group, point_a, point_b, nullptr)) {
  case 0: return 1;
  case 1: return 0;
  default: return -2;
  }
}

// The same text as OpenSSL's own method prints for a public EC key.
int print_public(BIO *out, const EVP_PKEY *pkey, int indent, ASN1_PCTX *) {
  const EC_KEY *key = ec_of(pkey);
  const EC_GROUP *group = key ? EC_KEY_get0_group(key) : nullptr;
  if (group == nullptr)
    return 0;
  unsigned char *point = nullptr;
  size_t length = EC_KEY_get0_public_key(key)
                      ? EC_KEY_key2buf(key, EC_KEY_get_conv_form(key), &point, nullptr)
                      : 0;
  bool printed = BIO_indent(out, indent, 128) == 1 &&
                 BIO_printf(out, "Public-Key: (%d bit)\n", EC_GROUP_order_bits(group)) > 0 &&
                 (length == 0 || (BIO_printf(out, "%*spub:\n", indent, "") > 0 &&
                                  ASN1_buf_print(out, point, length, indent + 4) == 1)) &&
                 ECPKParameters_print(out, group, indent) == 1;
  OPENSSL_free(point);
  return printed ? 1 : 0;
}

int signature_size(const EVP_PKEY *pkey) { return ec_of(pkey) ? ECDSA_size(ec_of(pkey)) : 0; }

int order_bits(const EVP_PKEY *pkey) {
  const EC_KEY *key = ec_of(pkey);
  return key && EC_KEY_get0_group(key) ? EC_GROUP_order_bits(EC_KEY_get0_group(key)) : 0;
}

} // namespace

EVP_PKEY_ASN1_METHOD *new_ec_public_key_method() {
  const EVP_PKEY_ASN1_METHOD *builtin = EVP_PKEY_asn1_find(nullptr, EVP_PKEY_EC);
  if (builtin == nullptr)
    return nullptr;
  EVP_PKEY_ASN1_METHOD *method = EVP_PKEY_asn1_new(EVP_PKEY_EC, 0, "EC", "OpenSSL EC algorithm");
  if (method == nullptr)
    return nullptr;
  EVP_PKEY_asn1_copy(method, builtin);
  EVP_PKEY_asn1_set_public(method, decode_public, encode_public, compare_public, print_public,
                           signature_size, order_bits);
  return method;
}

} // namespace chainlab::ossl
