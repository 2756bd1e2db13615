// ossl/ptr.hpp: owning smart pointers for OpenSSL objects.
// Each type gets one stateless deleter, declared once here, so logic never
// calls a bare *_free. Raw pointers elsewhere are borrowed (get0_*) only.
#pragma once

#include <memory>
#include <string>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace chainlab::ossl {

template <typename T> struct Deleter;

#define CHAINLAB_OSSL_DELETER(Type, free_fn)                                   \
  template <> struct Deleter<Type> {                                           \
    void operator()(Type *p) const noexcept { free_fn(p); }                    \
  };

CHAINLAB_OSSL_DELETER(X509, X509_free)
CHAINLAB_OSSL_DELETER(X509_REQ, X509_REQ_free)
CHAINLAB_OSSL_DELETER(X509_NAME, X509_NAME_free)
CHAINLAB_OSSL_DELETER(X509_EXTENSION, X509_EXTENSION_free)
CHAINLAB_OSSL_DELETER(X509_STORE, X509_STORE_free)
CHAINLAB_OSSL_DELETER(X509_STORE_CTX, X509_STORE_CTX_free)
CHAINLAB_OSSL_DELETER(EVP_PKEY, EVP_PKEY_free)
CHAINLAB_OSSL_DELETER(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
CHAINLAB_OSSL_DELETER(EC_GROUP, EC_GROUP_free)
CHAINLAB_OSSL_DELETER(EVP_MD_CTX, EVP_MD_CTX_free)
CHAINLAB_OSSL_DELETER(BIO, BIO_free_all)
CHAINLAB_OSSL_DELETER(BIGNUM, BN_free)
// ASN1_INTEGER, ASN1_TIME and ASN1_OCTET_STRING are all ASN1_STRING.
CHAINLAB_OSSL_DELETER(ASN1_STRING, ASN1_STRING_free)
CHAINLAB_OSSL_DELETER(ASN1_OBJECT, ASN1_OBJECT_free)
CHAINLAB_OSSL_DELETER(BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free)
CHAINLAB_OSSL_DELETER(EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free)
CHAINLAB_OSSL_DELETER(GENERAL_NAMES, GENERAL_NAMES_free)
CHAINLAB_OSSL_DELETER(PKCS7, PKCS7_free)
CHAINLAB_OSSL_DELETER(PKCS12, PKCS12_free)
CHAINLAB_OSSL_DELETER(X509_SIG, X509_SIG_free)
CHAINLAB_OSSL_DELETER(SSL_CTX, SSL_CTX_free)
CHAINLAB_OSSL_DELETER(SSL, SSL_free)

#undef CHAINLAB_OSSL_DELETER

// stack_st_X509 needs the pop_free form so the certificates go too.
struct X509StackDeleter {
  void operator()(STACK_OF(X509) * s) const noexcept {
    sk_X509_pop_free(s, X509_free);
  }
};
// A stack that only borrows its certificates: freeing it leaves them be.
struct BorrowingX509StackDeleter {
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_free(s); }
};
struct ExtensionStackDeleter {
  void operator()(STACK_OF(X509_EXTENSION) * s) const noexcept {
    sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
  }
};

template <typename T> using Ptr = std::unique_ptr<T, Deleter<T>>;

// Buffer owns memory OpenSSL allocated for the caller (i2d_*, BN_bn2hex...).
struct OpensslFree {
  void operator()(void *p) const noexcept { OPENSSL_free(p); }
};
template <typename T> using Buffer = std::unique_ptr<T, OpensslFree>;

// to_der runs an i2d_* function and returns the DER bytes; empty on error.
template <typename T, typename Encoder> std::string to_der_bytes(Encoder encode, T *object) {
  unsigned char *raw = nullptr;
  int size = encode(object, &raw);
  Buffer<unsigned char> owned(raw);
  return size > 0 ? std::string(reinterpret_cast<char *>(raw), size_t(size)) : std::string();
}
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;
using BorrowingX509StackPtr = std::unique_ptr<STACK_OF(X509), BorrowingX509StackDeleter>;
using ExtensionStackPtr =
    std::unique_ptr<STACK_OF(X509_EXTENSION), ExtensionStackDeleter>;

// up_ref returns a second owning handle on a reference-counted object.
inline Ptr<X509> up_ref(X509 *cert) {
  X509_up_ref(cert);
  return Ptr<X509>(cert);
}
inline Ptr<EVP_PKEY> up_ref(EVP_PKEY *key) {
  EVP_PKEY_up_ref(key);
  return Ptr<EVP_PKEY>(key);
}

} // namespace chainlab::ossl
