#include "hub/device_handshake.hpp"

#include "core/protocol_codes.hpp"
#include "pki/inspect.hpp"

namespace chainlab::hub {
namespace {

// The verify error whose alert OpenSSL sends is the one tls_alert() names.
int verify_error_for_alert(int alert) {
  switch (alert) {
  case SSL_AD_UNKNOWN_CA: return X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
  case SSL_AD_CERTIFICATE_EXPIRED: return X509_V_ERR_CERT_HAS_EXPIRED;
  case SSL_AD_UNSUPPORTED_CERTIFICATE: return X509_V_ERR_INVALID_PURPOSE;
  case SSL_AD_DECRYPT_ERROR: return X509_V_ERR_CERT_SIGNATURE_FAILURE;
  default: return X509_V_ERR_CERT_REJECTED;
  }
}

} // namespace

void require_device_certificates(SSL_CTX *context,
                                 int (*verify)(X509_STORE_CTX *, void *), void *arg) {
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_cert_verify_callback(context, verify, arg);
  SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(context, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(context, 0);
  // An idle device holds no TLS record buffers between its packets.
  SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);
}

bool ChainJudgement::proceeds() const {
  return verdict.ok() || answered_after_tls(verdict.error().reason());
}

ChainJudgement judge_presented_chain(const TenantSnapshot &snapshot, X509_STORE_CTX *store_ctx,
                                     std::chrono::system_clock::time_point now) {
  X509 *leaf = X509_STORE_CTX_get0_cert(store_ctx);
  pki::CertList presented;
  STACK_OF(X509) *untrusted = X509_STORE_CTX_get0_untrusted(store_ctx);
  for (int i = 0; untrusted && i < sk_X509_num(untrusted); ++i)
    if (X509_cmp(sk_X509_value(untrusted, i), leaf) != 0)
      presented.push_back(ossl::up_ref(sk_X509_value(untrusted, i)));
  auto cn = pki::common_name(X509_get_subject_name(leaf));
  ChainJudgement judged{cn.value_or(pki::subject_text(leaf)),
                        authenticate_device(snapshot, leaf, presented, now)};
  if (!judged.proceeds())
    X509_STORE_CTX_set_error(store_ctx,
                             verify_error_for_alert(tls_alert(judged.verdict.error().reason())));
  return judged;
}

std::optional<Error> failed_handshake_reason(const ChainJudgement *judged,
                                             bool certificate_presented,
                                             const std::string &peer,
                                             const std::string &tls_error) {
  if (judged && judged->proceeds())
    // The chain was sound, so the client failed TLS CertificateVerify: it
    // holds a certificate but not its key (a copied certificate).
    return Error(Reason::pop_failed, "the client presented " + judged->device_id +
                                         "'s valid certificate chain but could not prove "
                                         "possession of its key (TLS CertificateVerify failed: " +
                                         tls_error + ")");
  if (!judged && !certificate_presented)
    return Error(Reason::client_cert_missing, "the TLS client from " + peer +
                                                  " presented no certificate (" + tls_error + ")");
  return std::nullopt;
}

void release_peer_chain(SSL *ssl) {
  for (STACK_OF(X509) *chain : {SSL_get_peer_cert_chain(ssl), SSL_get0_verified_chain(ssl)})
    while (chain && sk_X509_num(chain) > 0)
      X509_free(sk_X509_pop(chain));
}

void adopt(const AuthenticatedDevice &authenticated, DeviceIdentity &identity) {
  const auto &device = authenticated.device;
  identity.ca_name = device.ca_name;
  identity.issuer_subject = device.issuer_subject;
  identity.issuer_key = device.issuer_key;
  identity.chain_subjects = device.chain_subjects;
  identity.chain_keys = device.chain_keys;
  identity.thumbprint = device.thumbprint;
  identity.approved = device.approved;
  identity.authentication = authenticated.authentication;
  identity.onboarding = authenticated.onboarding;
  identity.binding = authenticated.binding;
  identity.previous_thumbprint = authenticated.previous_thumbprint;
  identity.previous_chain = authenticated.previous_chain;
  identity.certificate_der = authenticated.certificate_der;
  identity.required_log = authenticated.required_log;
}

registry::DeviceRecord connected_record(const DeviceIdentity &identity) {
  registry::DeviceRecord connected;
  connected.device_id = identity.device_id;
  connected.thumbprint = identity.thumbprint;
  connected.ca_name = identity.ca_name;
  connected.chain_subjects = identity.chain_subjects;
  connected.chain_keys = identity.chain_keys;
  return connected;
}

} // namespace chainlab::hub
