// net/tls_context.hpp: OpenSSL TLS contexts for our servers and clients.
// Clients trust a server only through a pinned CA fingerprint (RFC 7030
// 4.1.1 bootstrap): some certificate in the server's chain must have that
// SHA-256 fingerprint, and the server certificate must verify up to it.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "ossl/ptr.hpp"
#include "pki/encoding.hpp"

namespace chainlab::net {

// TlsIdentity is a certificate, the chain above it, and its key (which may
// live in a PKCS#11 token). All pointers are borrowed.
struct TlsIdentity {
  X509 *certificate = nullptr;
  const pki::CertList *chain = nullptr; // may be null
  EVP_PKEY *key = nullptr;
};

// make_server_context builds a TLS 1.2+ server context. With |client_ca|,
// clients may present a certificate; it is verified against |client_ca| (a
// partial chain is fine) and the result read after the handshake with
// SSL_get_verify_result, so a bad certificate becomes an explained refusal
// rather than a bare alert.
ossl::Ptr<SSL_CTX> make_server_context(const TlsIdentity &identity,
                                       X509 *client_ca);

// ServerChecks: what a client checks of the server. Every field is true
// for a well-behaved client; the misbehaving reference device (the
// conformance suite's test of itself) turns them off.
struct ServerChecks {
  bool verify_chain = true; // the chain up to the pinned CA, with its validity
  bool check_host = true;   // the certificate names the host we asked for
};

// PinnedClientContext is a client context whose server check is the pin.
class PinnedClientContext {
public:
  // |security_level| overrides OpenSSL's (0 lets a deliberately weak
  // client certificate through, for attack scenarios); -1 keeps it.
  PinnedClientContext(std::string pinned_fingerprint, std::string expected_host,
                      const TlsIdentity *client_identity = nullptr, int security_level = -1,
                      ServerChecks checks = {});
  SSL_CTX *get() const { return context_.get(); }
  // failure says why the last server was not trusted ("" if it was).
  const std::string &failure() const { return state_->failure; }

  // A server that presents again the chain that last verified, all of it
  // still valid by the clock, is trusted without checking its signatures
  // again: a load generator makes thousands of handshakes with one server.
  struct VerifiedChain {
    pki::CertList certificates; // the leaf, then the chain as presented
    std::chrono::system_clock::time_point valid_from, valid_until;
  };
  struct PinState {
    std::string fingerprint; // normalised hex
    std::string expected_host;
    std::string failure;
    ServerChecks checks;
    std::mutex mutex; // guards |last_verified|: handshakes may run on several threads
    std::optional<VerifiedChain> last_verified;
  };

private:
  std::unique_ptr<PinState> state_;
  ossl::Ptr<SSL_CTX> context_;
};

// verify_pinned_chain checks |leaf| and the |presented| chain against
// |state| at |when|; returns true or fills state.failure. Exposed for tests.
bool verify_pinned_chain(X509 *leaf, STACK_OF(X509) * presented,
                         PinnedClientContext::PinState &state,
                         std::chrono::system_clock::time_point when);

} // namespace chainlab::net
