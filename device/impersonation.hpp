// device/impersonation.hpp: the tool of a clone that copied a device's
// certificate but not its key. The returned key claims |certificate|'s
// public key, so a TLS stack will load the pair, but signs with |signer|;
// the hub's check of TLS CertificateVerify then fails. EC keys only.
#pragma once

#include "ossl/ptr.hpp"

namespace chainlab::device {

ossl::Ptr<EVP_PKEY> impersonating_key(X509 *certificate, EVP_PKEY *signer);

} // namespace chainlab::device
