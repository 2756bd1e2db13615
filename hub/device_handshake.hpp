// hub/device_handshake.hpp: the TLS side of a device's authentication,
// without sockets: what the verify callback concludes from the presented
// chain, and what a failed handshake means. The gateway transports these;
// the component tests drive them over memory BIO pairs.
#pragma once

#include <openssl/ssl.h>

#include <optional>
#include <string>

#include "hub/authenticate.hpp"
#include "hub/device_session.hpp"

namespace chainlab::hub {

// require_device_certificates configures a hub's TLS context: a client
// certificate is required, and judged by |verify| (which calls
// judge_presented_chain). Sessions are never resumed: a resumed session
// would skip the decision, so every connection is judged afresh (and no
// ticket is encrypted for a client that will not use it). Idle connections
// release their TLS record buffers.
void require_device_certificates(SSL_CTX *context,
                                 int (*verify)(X509_STORE_CTX *, void *), void *arg);

// ChainJudgement: the one decision, taken on the chain TLS received.
struct ChainJudgement {
  std::string device_id; // the leaf's CN, or its whole subject
  Result<AuthenticatedDevice> verdict;
  // proceeds: TLS completes (accepted, or refused later with CONNACK 5).
  bool proceeds() const;
};

// judge_presented_chain runs authenticate_device on the chain in a
// certificate-verify callback's store. When TLS answers the refusal it sets
// the store's error, so that OpenSSL sends the alert tls_alert() names.
ChainJudgement judge_presented_chain(const TenantSnapshot &snapshot, X509_STORE_CTX *store_ctx,
                                     std::chrono::system_clock::time_point now);

// failed_handshake_reason says why a handshake failed when the chain
// judgement does not: pop_failed after a chain that proceeded (a certificate
// without its key), client_cert_missing when none came. nullopt when the
// judgement already refused the chain.
std::optional<Error> failed_handshake_reason(const ChainJudgement *judged,
                                             bool certificate_presented,
                                             const std::string &peer,
                                             const std::string &tls_error);

// release_peer_chain frees the chain a client presented once the decision
// is taken: a connection keeps the identity it proved, not three parsed
// certificates for its whole life. (OpenSSL keeps the leaf itself.)
void release_peer_chain(SSL *ssl);

// adopt fills a connection's identity from what the decision accepted.
void adopt(const AuthenticatedDevice &authenticated, DeviceIdentity &identity);

// connected_record: the registration facts of a live connection, as
// still_admitted() re-checks them.
registry::DeviceRecord connected_record(const DeviceIdentity &identity);

} // namespace chainlab::hub
