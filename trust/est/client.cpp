#include "est/client.hpp"

#include "est/codec.hpp"
#include "est/server.hpp"
#include "net/https_client.hpp"
#include "pki/inspect.hpp"

namespace chainlab::est {

Client::Client(Endpoint endpoint, const net::TlsIdentity *client_identity)
    : endpoint_(std::move(endpoint)),
      tls_(endpoint_.pinned_fingerprint, endpoint_.host, client_identity) {}

HttpResponse Client::exchange(
    const std::string &method, const std::string &operation,
    const std::vector<std::pair<std::string, std::string>> &headers,
    const std::string &body) {
  HttpRequest request{method, "/.well-known/est/" + operation, headers, body};
  try {
    return net::https_request(endpoint_.host, endpoint_.port, tls_.get(), request);
  } catch (const Error &error) {
    // The pin check knows precisely why the server was not trusted.
    if (error.reason() == Reason::server_untrusted && !tls_.failure().empty())
      throw Error(Reason::server_untrusted,
                  "EST server " + endpoint_.text() + ": " + tls_.failure());
    throw;
  }
}

pki::CertList Client::ca_certificates() {
  if (ca_certificates_)
    return pki::clone(*ca_certificates_);
  HttpResponse response = exchange("GET", "cacerts", {}, "");
  if (response.status != 200)
    throw Error(Reason::peer_refused, "EST server " + endpoint_.text() +
                                          " answered cacerts with HTTP " +
                                          std::to_string(response.status));
  auto certs = decode_certs_only(response.body, "cacerts response from " + endpoint_.text());
  if (pki::normalise_fingerprint(pki::sha256_fingerprint(certs.front().get())) !=
      pki::normalise_fingerprint(endpoint_.pinned_fingerprint))
    throw Error(Reason::server_untrusted,
                "EST server " + endpoint_.text() + " names CA " +
                    pki::subject_text(certs.front().get()) +
                    ", which is not the pinned CA certificate");
  ca_certificates_ = pki::clone(certs);
  return certs;
}

Result<ossl::Ptr<X509>> Client::read_issued(const HttpResponse &response,
                                            X509_REQ *csr) {
  if (response.status != 200) {
    std::string code = response.header(kReasonHeader);
    Reason reason = reason_from_string(code).value_or(Reason::peer_refused);
    std::string body = response.body;
    while (!body.empty() && body.back() == '\n')
      body.pop_back();
    std::string prefix = code + ": ";
    if (body.rfind(prefix, 0) == 0)
      body = body.substr(prefix.size());
    return Error(reason, "CA at " + endpoint_.text() + " refused (HTTP " +
                             std::to_string(response.status) + "): " + body);
  }
  auto certs = decode_certs_only(response.body, "enrolment response from " + endpoint_.text());
  ossl::Ptr<X509> issued = std::move(certs.front());
  // Check what came back: our key, signed by the pinned CA.
  X509 *ca = ca_certificates().front().get();
  if (EVP_PKEY_eq(X509_get0_pubkey(issued.get()), X509_REQ_get0_pubkey(csr)) != 1 ||
      X509_verify(issued.get(), X509_get0_pubkey(ca)) != 1)
    throw Error(Reason::server_untrusted,
                "the certificate returned by " + endpoint_.text() +
                    " is not for our key or not signed by the pinned CA");
  return issued;
}

Result<ossl::Ptr<X509>> Client::simple_enroll(X509_REQ *csr,
                                              const std::string &username,
                                              const std::string &secret) {
  ca_certificates(); // proves the pinned CA before the secret is sent
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", std::string(kCsrType)},
      {"Content-Transfer-Encoding", "base64"}};
  if (!secret.empty())
    headers.emplace_back("Authorization",
                         "Basic " + pki::base64_encode(username + ":" + secret));
  return read_issued(exchange("POST", "simpleenroll", headers, encode_csr(csr)), csr);
}

Result<ossl::Ptr<X509>> Client::simple_reenroll(X509_REQ *csr) {
  ca_certificates();
  return read_issued(exchange("POST", "simplereenroll",
                              {{"Content-Type", std::string(kCsrType)},
                               {"Content-Transfer-Encoding", "base64"}},
                              encode_csr(csr)),
                     csr);
}

} // namespace chainlab::est
