#include "est/codec.hpp"

#include "core/error.hpp"
#include "ossl/errors.hpp"

namespace chainlab::est {

std::string encode_certs_only(const pki::CertList &certs) {
  ossl::Ptr<PKCS7> bundle(PKCS7_new());
  if (!PKCS7_set_type(bundle.get(), NID_pkcs7_signed) ||
      !PKCS7_content_new(bundle.get(), NID_pkcs7_data))
    throw Error(Reason::internal_error, "cannot build a certs-only SignedData");
  for (const auto &cert : certs)
    PKCS7_add_certificate(bundle.get(), cert.get());
  std::string der = ossl::to_der_bytes(i2d_PKCS7, bundle.get());
  if (der.empty())
    throw Error(Reason::internal_error, "cannot encode a certs-only SignedData");
  return pki::base64_encode(der);
}

pki::CertList decode_certs_only(std::string_view body, std::string_view source) {
  std::string der;
  try {
    der = pki::base64_decode(body, source);
  } catch (const Error &error) {
    throw Error(Reason::malformed_certificate, error.detail());
  }
  const auto *cursor = reinterpret_cast<const unsigned char *>(der.data());
  ossl::Ptr<PKCS7> bundle(d2i_PKCS7(nullptr, &cursor, long(der.size())));
  if (!bundle || !PKCS7_type_is_signed(bundle.get()) || !bundle->d.sign ||
      !bundle->d.sign->cert)
    throw Error(Reason::malformed_certificate,
                std::string(source) + ": not a certs-only PKCS#7 SignedData (" +
                    ossl::drain_errors() + ")");
  pki::CertList certs;
  STACK_OF(X509) *stack = bundle->d.sign->cert;
  for (int i = 0; i < sk_X509_num(stack); ++i)
    certs.push_back(ossl::up_ref(sk_X509_value(stack, i)));
  if (certs.empty())
    throw Error(Reason::malformed_certificate,
                std::string(source) + ": the SignedData holds no certificate");
  return certs;
}

std::string encode_csr(X509_REQ *csr) { return pki::base64_encode(pki::to_der(csr)); }

ossl::Ptr<X509_REQ> decode_csr(std::string_view body, std::string_view source) {
  std::string der;
  try {
    der = pki::base64_decode(body, source);
  } catch (const Error &error) {
    throw Error(Reason::malformed_csr, error.detail());
  }
  return pki::parse_csr(der, source);
}

} // namespace chainlab::est
