// ossl/ec_key_decoding.hpp: decode the P-256 keys in certificates without a
// provider-decoder lookup per key.
//
// OpenSSL 3.0 decodes each certificate's public key with
// OSSL_DECODER_CTX_new_for_pkey, which enumerates every provider's decoders
// on each call (3.1 added a cache; 3.0 has none). That lookup is the largest
// cost of a mutual-TLS handshake above the crypto itself: three times per
// device chain. OpenSSL 3.0 still takes its built-in (non-provider) decoder
// when an ENGINE is registered for the key type (it lets ENGINEs win over
// providers). This installs such an ENGINE whose EC key method is a copy of
// OpenSSL's own built-in one, and whose ASN.1 method is too, but for the
// public-key functions (ec_public_key_method.hpp): each key decodes onto a
// copy of a group built once per curve, and a key that carries the ENGINE
// checks signatures through the built-in method directly instead of being
// exported to the default provider (which built its group again). Provided keys
// (the server's own key, X25519 shares) are untouched: OpenSSL never routes
// them through an ENGINE.
#pragma once

#include <string>

namespace chainlab::ossl {

// Process-wide and idempotent; call before starting threads. Returns an
// empty string on success, else why it could not (the process then keeps
// OpenSSL's default, slower path, which is equally correct).
std::string use_builtin_ec_key_decoding();

} // namespace chainlab::ossl
