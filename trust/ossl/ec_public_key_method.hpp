// ossl/ec_public_key_method.hpp: OpenSSL's built-in EC ASN.1 key method,
// with the public-key half replaced so that a certificate's key is decoded
// on a group built once per named curve (see ec_key_decoding.hpp).
//
// OpenSSL 3.0 builds a new EC_GROUP (its Montgomery constants included) for
// every EC key it decodes, and again when it hands a decoded key to the
// default provider for a signature check: six builds per device handshake,
// about 20 us each on the development machine. A copy of a built group costs
// about 1.5 us. The method's other functions (private keys, parameters,
// export) are OpenSSL's own, copied.
#pragma once

#include <openssl/evp.h>

namespace chainlab::ossl {

// A new dynamic method for EVP_PKEY_EC (the caller owns it); null if OpenSSL
// has no built-in EC method or is out of memory.
EVP_PKEY_ASN1_METHOD *new_ec_public_key_method();

} // namespace chainlab::ossl
