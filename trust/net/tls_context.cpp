#include "net/tls_context.hpp"

#include "core/clock.hpp"
#include "core/error.hpp"
#include "ossl/errors.hpp"
#include "pki/inspect.hpp"

namespace chainlab::net {
namespace {

int accept_and_record(int /*preverify_ok*/, X509_STORE_CTX * /*ctx*/) {
  // Keep the handshake going; the verify result is read afterwards.
  return 1;
}

int pinned_verify_callback(X509_STORE_CTX *store_ctx, void *arg) {
  auto &state = *static_cast<PinnedClientContext::PinState *>(arg);
  if (!state.checks.verify_chain)
    return 1; // a deliberately broken client trusts anyone
  X509 *leaf = X509_STORE_CTX_get0_cert(store_ctx);
  // chainlab's clock, so an actor whose clock was moved sees what it would.
  if (verify_pinned_chain(leaf, X509_STORE_CTX_get0_untrusted(store_ctx), state, now()))
    return 1;
  X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_CERT_UNTRUSTED);
  return 0;
}

void use_identity(SSL_CTX *context, const TlsIdentity &identity) {
  if (SSL_CTX_use_certificate(context, identity.certificate) != 1 ||
      SSL_CTX_use_PrivateKey(context, identity.key) != 1 ||
      SSL_CTX_check_private_key(context) != 1)
    throw Error(Reason::config_invalid,
                "TLS certificate " + pki::subject_text(identity.certificate) +
                    " cannot be used with its key (" + ossl::drain_errors() + ")");
  if (identity.chain)
    for (const auto &cert : *identity.chain)
      SSL_CTX_add1_chain_cert(context, cert.get());
}

bool is_last_verified(X509 *leaf, STACK_OF(X509) * presented,
                      PinnedClientContext::PinState &state,
                      std::chrono::system_clock::time_point when) {
  std::lock_guard lock(state.mutex);
  if (!state.last_verified)
    return false;
  const auto &last = *state.last_verified;
  int count = presented ? sk_X509_num(presented) : 0;
  if (when < last.valid_from || when > last.valid_until ||
      last.certificates.size() != std::size_t(count) + 1 ||
      !pki::same_certificate(leaf, last.certificates[0].get()))
    return false;
  for (int i = 0; i < count; ++i)
    if (!pki::same_certificate(sk_X509_value(presented, i), last.certificates[i + 1].get()))
      return false;
  return true;
}

void remember_verified(X509 *leaf, STACK_OF(X509) * presented,
                       PinnedClientContext::PinState &state) {
  PinnedClientContext::VerifiedChain verified;
  verified.valid_from = std::chrono::system_clock::time_point::min();
  verified.valid_until = std::chrono::system_clock::time_point::max();
  auto keep = [&](X509 *cert) {
    verified.certificates.push_back(ossl::up_ref(cert));
    verified.valid_from = std::max(verified.valid_from, pki::not_before(cert));
    verified.valid_until = std::min(verified.valid_until, pki::not_after(cert));
  };
  keep(leaf);
  for (int i = 0; presented && i < sk_X509_num(presented); ++i)
    keep(sk_X509_value(presented, i));
  std::lock_guard lock(state.mutex);
  state.last_verified = std::move(verified);
}

} // namespace

bool verify_pinned_chain(X509 *leaf, STACK_OF(X509) * presented,
                         PinnedClientContext::PinState &state,
                         std::chrono::system_clock::time_point when) {
  state.failure.clear();
  if (is_last_verified(leaf, presented, state, when))
    return true;
  X509 *anchor = nullptr;
  auto consider = [&](X509 *cert) {
    if (!anchor && pki::normalise_fingerprint(pki::sha256_fingerprint(cert)) ==
                       state.fingerprint)
      anchor = cert;
  };
  consider(leaf);
  for (int i = 0; presented && i < sk_X509_num(presented); ++i)
    consider(sk_X509_value(presented, i));
  if (!anchor) {
    state.failure = "no certificate the server presented (leaf " +
                    pki::subject_text(leaf) +
                    ") has the pinned SHA-256 fingerprint " + state.fingerprint;
    return false;
  }
  ossl::Ptr<X509_STORE> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), anchor);
  ossl::Ptr<X509_STORE_CTX> verify(X509_STORE_CTX_new());
  X509_STORE_CTX_init(verify.get(), store.get(), leaf, presented);
  X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(verify.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT);
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(when));
  if (!state.checks.check_host)
    ; // a deliberately broken client accepts any name
  else if (state.expected_host == "127.0.0.1")
    X509_VERIFY_PARAM_set1_ip_asc(param, state.expected_host.c_str());
  else
    X509_VERIFY_PARAM_set1_host(param, state.expected_host.c_str(), 0);
  if (X509_verify_cert(verify.get()) == 1) {
    remember_verified(leaf, presented, state);
    return true;
  }
  int depth = X509_STORE_CTX_get_error_depth(verify.get());
  X509 *failed = X509_STORE_CTX_get_current_cert(verify.get());
  state.failure = std::string("server certificate chain does not verify up to the "
                              "pinned CA: ") +
                  X509_verify_cert_error_string(X509_STORE_CTX_get_error(verify.get())) +
                  " at depth " + std::to_string(depth) +
                  (failed ? " (" + pki::subject_text(failed) + ")" : "");
  ossl::drain_errors();
  return false;
}

ossl::Ptr<SSL_CTX> make_server_context(const TlsIdentity &identity,
                                       X509 *client_ca) {
  ossl::Ptr<SSL_CTX> context(SSL_CTX_new(TLS_server_method()));
  SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION);
  use_identity(context.get(), identity);
  if (client_ca) {
    X509_STORE *store = SSL_CTX_get_cert_store(context.get());
    X509_STORE_add_cert(store, client_ca);
    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT);
    X509_STORE_set_purpose(store, X509_PURPOSE_SSL_CLIENT);
    SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, accept_and_record);
  }
  return context;
}

PinnedClientContext::PinnedClientContext(std::string pinned_fingerprint,
                                         std::string expected_host,
                                         const TlsIdentity *client_identity,
                                         int security_level, ServerChecks checks)
    : state_(std::make_unique<PinState>()), context_(SSL_CTX_new(TLS_client_method())) {
  state_->fingerprint = pki::normalise_fingerprint(pinned_fingerprint);
  state_->expected_host = std::move(expected_host);
  state_->checks = checks;
  if (state_->fingerprint.size() != 64)
    throw Error(Reason::config_invalid,
                "pinned fingerprint \"" + pinned_fingerprint +
                    "\" is not a SHA-256 fingerprint (64 hex digits)");
  SSL_CTX_set_min_proto_version(context_.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(context_.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_cert_verify_callback(context_.get(), pinned_verify_callback,
                                   state_.get());
  if (security_level >= 0)
    SSL_CTX_set_security_level(context_.get(), security_level);
  if (client_identity)
    use_identity(context_.get(), *client_identity);
}

} // namespace chainlab::net
