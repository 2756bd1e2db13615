// est/authority.hpp: what the EST layer needs from a CA, and nothing more,
// so the protocol handler can be tested against a fake.
#pragma once

#include <string>

#include "core/error.hpp"
#include "pki/encoding.hpp"

namespace chainlab::est {

// Requester describes who is asking, for the issuance record and narration.
struct Requester {
  std::string address;           // "127.0.0.1:53422"
  X509 *client_cert = nullptr;   // TLS client certificate, if one was sent
  std::string client_cert_error; // why it did not verify, if it did not
};

class Authority {
public:
  virtual ~Authority() = default;
  // ca_certificates: this CA's certificate first, then up to the root.
  virtual pki::CertList ca_certificates() = 0;
  // simple_enroll authorises |csr| with a one-time enrolment secret.
  virtual Result<ossl::Ptr<X509>> simple_enroll(X509_REQ *csr,
                                                const std::string &secret,
                                                const Requester &requester) = 0;
  // simple_reenroll authorises |csr| with the requester's current
  // certificate (presented as the TLS client certificate).
  virtual Result<ossl::Ptr<X509>> simple_reenroll(X509_REQ *csr,
                                                  const Requester &requester) = 0;
};

} // namespace chainlab::est
