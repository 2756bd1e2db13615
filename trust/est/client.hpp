// est/client.hpp: the enrolling side of RFC 7030. The CA is trusted only
// through the SHA-256 fingerprint of its certificate, given out of band.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/http_message.hpp"
#include "net/tls_context.hpp"
#include "pki/encoding.hpp"

namespace chainlab::est {

struct Endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string pinned_fingerprint; // SHA-256 of the CA's own certificate

  std::string text() const { return host + ":" + std::to_string(port); }
};

class Client {
public:
  // |client_identity| (borrowed) is presented as TLS client certificate,
  // for simplereenroll.
  explicit Client(Endpoint endpoint,
                  const net::TlsIdentity *client_identity = nullptr);

  // ca_certificates fetches /cacerts and checks that the first certificate
  // is the pinned CA. Throws Error(server_untrusted) otherwise.
  pki::CertList ca_certificates();
  // simple_enroll sends |csr| with HTTP Basic (|username|, |secret|). A CA
  // refusal comes back as the Result's error, with the CA's reason code.
  Result<ossl::Ptr<X509>> simple_enroll(X509_REQ *csr, const std::string &username,
                                        const std::string &secret);
  Result<ossl::Ptr<X509>> simple_reenroll(X509_REQ *csr);

private:
  HttpResponse exchange(const std::string &method, const std::string &operation,
                        const std::vector<std::pair<std::string, std::string>> &headers,
                        const std::string &body);
  Result<ossl::Ptr<X509>> read_issued(const HttpResponse &response, X509_REQ *csr);

  Endpoint endpoint_;
  net::PinnedClientContext tls_;
  std::optional<pki::CertList> ca_certificates_;
};

} // namespace chainlab::est
