#include "pki/csr.hpp"

#include "core/error.hpp"
#include "ossl/errors.hpp"

namespace chainlab::pki {
namespace {

void add_extension(STACK_OF(X509_EXTENSION) * stack, int nid,
                   const std::string &value) {
  X509_EXTENSION *extension =
      X509V3_EXT_conf_nid(nullptr, nullptr, nid, value.c_str());
  if (!extension)
    throw Error(Reason::internal_error,
                "cannot build extension " + value + " (" + ossl::drain_errors() + ")");
  sk_X509_EXTENSION_push(stack, extension);
}

} // namespace

ossl::Ptr<X509_REQ> build_csr(EVP_PKEY *key, const X509_NAME *subject,
                              Profile profile, std::optional<long> path_len) {
  ossl::Ptr<X509_REQ> csr(X509_REQ_new());
  X509_REQ_set_version(csr.get(), X509_REQ_VERSION_1);
  X509_REQ_set_subject_name(csr.get(), subject);
  X509_REQ_set_pubkey(csr.get(), key);

  ossl::ExtensionStackPtr extensions(sk_X509_EXTENSION_new_null());
  switch (profile) {
  case Profile::root_ca:
  case Profile::subordinate_ca:
    add_extension(extensions.get(), NID_basic_constraints,
                  path_len ? "critical,CA:TRUE,pathlen:" + std::to_string(*path_len)
                           : std::string("critical,CA:TRUE"));
    add_extension(extensions.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    break;
  case Profile::device:
    add_extension(extensions.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_extension(extensions.get(), NID_key_usage, "critical,digitalSignature");
    add_extension(extensions.get(), NID_ext_key_usage, "clientAuth");
    break;
  case Profile::tls_server:
    add_extension(extensions.get(), NID_ext_key_usage, "serverAuth");
    break;
  case Profile::verification:
    break;
  }
  X509_REQ_add_extensions(csr.get(), extensions.get());

  // EC keys sign with SHA-384 when they are P-384, else SHA-256.
  const EVP_MD *digest = EVP_PKEY_get_bits(key) >= 384 &&
                                 EVP_PKEY_get_base_id(key) == EVP_PKEY_EC
                             ? EVP_sha384()
                             : EVP_sha256();
  if (X509_REQ_sign(csr.get(), key, digest) <= 0)
    throw Error(Reason::key_store_failed,
                "cannot sign the CSR with the subject's key (" +
                    ossl::drain_errors() + ")");
  return csr;
}

RequestedExtensions requested_extensions(X509_REQ *csr) {
  RequestedExtensions requested;
  ossl::ExtensionStackPtr extensions(X509_REQ_get_extensions(csr));
  if (!extensions) {
    // No extension request at all is fine; a damaged one is not.
    if (X509_REQ_get_attr_by_NID(csr, NID_ext_req, -1) >= 0)
      throw Error(Reason::malformed_csr,
                  "the CSR's extensionRequest attribute cannot be decoded");
    return requested;
  }
  for (int i = 0; i < sk_X509_EXTENSION_num(extensions.get()); ++i) {
    X509_EXTENSION *extension = sk_X509_EXTENSION_value(extensions.get(), i);
    int nid = OBJ_obj2nid(X509_EXTENSION_get_object(extension));
    if (nid != NID_basic_constraints && nid != NID_key_usage &&
        nid != NID_ext_key_usage) {
      char name[80];
      OBJ_obj2txt(name, sizeof name, X509_EXTENSION_get_object(extension), 0);
      requested.others.emplace_back(name);
      continue;
    }
    void *decoded = X509V3_EXT_d2i(extension);
    if (!decoded)
      throw Error(Reason::malformed_csr,
                  std::string("requested extension ") + OBJ_nid2sn(nid) +
                      " cannot be decoded");
    if (nid == NID_basic_constraints) {
      ossl::Ptr<BASIC_CONSTRAINTS> constraints(
          static_cast<BASIC_CONSTRAINTS *>(decoded));
      requested.ca = constraints->ca != 0;
      if (constraints->pathlen)
        requested.path_len = ASN1_INTEGER_get(constraints->pathlen);
    } else if (nid == NID_key_usage) {
      ossl::Ptr<ASN1_STRING> bits(static_cast<ASN1_BIT_STRING *>(decoded));
      unsigned usage = 0;
      for (int bit = 0; bit < 8; ++bit)
        if (ASN1_BIT_STRING_get_bit(bits.get(), bit))
          usage |= 0x80u >> bit; // the X509v3_KU_* layout for bits 0..7
      if (ASN1_BIT_STRING_get_bit(bits.get(), 8))
        usage |= X509v3_KU_DECIPHER_ONLY;
      requested.key_usage = usage;
    } else {
      ossl::Ptr<EXTENDED_KEY_USAGE> usages(
          static_cast<EXTENDED_KEY_USAGE *>(decoded));
      for (int k = 0; k < sk_ASN1_OBJECT_num(usages.get()); ++k)
        requested.extended_key_usage.push_back(
            OBJ_obj2nid(sk_ASN1_OBJECT_value(usages.get(), k)));
    }
  }
  return requested;
}

} // namespace chainlab::pki
