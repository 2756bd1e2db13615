// pki/csr.hpp: building a PKCS#10 request that asks for a profile's
// extensions, and reading back what a request asks for.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ossl/ptr.hpp"
#include "pki/profile.hpp"

namespace chainlab::pki {

// build_csr makes a request for |subject|, signed by |key| (which may live
// in a token), asking for the extensions |profile| needs. |path_len| is
// asked for only by a subordinate CA.
ossl::Ptr<X509_REQ> build_csr(EVP_PKEY *key, const X509_NAME *subject,
                              Profile profile,
                              std::optional<long> path_len = std::nullopt);

// RequestedExtensions is what a CSR's extensionRequest attribute contains.
struct RequestedExtensions {
  std::optional<bool> ca;          // basicConstraints cA, if requested
  std::optional<long> path_len;    // basicConstraints pathLen, if requested
  std::optional<unsigned> key_usage; // X509v3_KU_* bits, if requested
  std::vector<int> extended_key_usage; // NIDs, e.g. NID_client_auth
  std::vector<std::string> others;  // any other extension, by short name
};

// requested_extensions reads |csr|'s extension request.
// Throws Error(malformed_csr) when the attribute cannot be decoded.
RequestedExtensions requested_extensions(X509_REQ *csr);

} // namespace chainlab::pki
