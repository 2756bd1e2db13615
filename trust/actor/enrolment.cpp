#include "actor/enrolment.hpp"

#include "core/error.hpp"
#include "hsm/key_type.hpp"
#include "pki/csr.hpp"
#include "pki/inspect.hpp"

namespace chainlab::actor {
namespace {

hsm::KeyType parse_key_type(const ActorConfig &config) {
  auto type = hsm::key_type_from_string(config.key_type);
  if (!type)
    throw Error(Reason::config_invalid,
                "key type \"" + config.key_type +
                    "\" is not one of ec-p256, ec-p384, rsa-2048, rsa-3072");
  return *type;
}

void store_and_narrate(const StateDir &state, X509 *issued,
                       const pki::CertList &ca_certs, Narrator &narrator) {
  state.store_identity(issued, ca_certs);
  narrator.say("stored " + pki::subject_text(issued) + " (serial " +
               pki::serial_hex(issued).substr(0, 16) + "…, valid until " +
               pki::format_time(pki::not_after(issued)) + ") with its chain in " +
               state.directory());
}

} // namespace

void create_identity_key(const StateDir &state, ActorConfig &config,
                         Narrator &narrator) {
  auto store = state.open_key_store(config, true);
  config.key_uri = store->generate_key(kIdentityKeyLabel, parse_key_type(config));
  narrator.say("generated a " + config.key_type + " key inside " + store->describe());
  narrator.detail("key: " + config.key_uri +
                  (config.backend == "pkcs11"
                       ? " (sensitive, non-extractable, sign-only)"
                       : " (software key file: can leak)"));
  state.save_config(config);
}

void enrol_with_secret(const StateDir &state, ActorConfig &config,
                       const EnrolmentRequest &request, Narrator &narrator) {
  auto store = state.open_key_store(config, false);
  auto key = store->load_key(kIdentityKeyLabel);
  auto subject = pki::parse_subject(config.subject);
  auto csr = pki::build_csr(key.get(), subject.get(), request.profile, request.path_len);
  narrator.say("built a CSR for " + config.subject + ", signed inside its key store");

  est::Client client(request.parent);
  narrator.say("-> " + request.parent_name + " at https://" + request.parent.text() +
               ": GET cacerts, pinning SHA-256 " + request.parent.pinned_fingerprint.substr(0, 23) + "…");
  auto ca_certs = client.ca_certificates();
  narrator.check("the EST server's TLS chain and its cacerts lead to the pinned CA " +
                 pki::subject_text(ca_certs.front().get()));
  narrator.say("-> " + request.parent_name + ": POST simpleenroll (CSR for " +
               config.subject + ", HTTP Basic with its one-time secret)");
  auto issued = client.simple_enroll(csr.get(), config.name, request.secret);
  if (!issued) {
    narrator.refuse(std::string(to_string(issued.error().reason())),
                    issued.error().detail());
    throw issued.error();
  }
  narrator.check("the returned certificate carries our key and is signed by " +
                 pki::subject_text(ca_certs.front().get()));
  store_and_narrate(state, issued.value().get(), ca_certs, narrator);
  config.parent_host = request.parent.host;
  config.parent_port = request.parent.port;
  config.parent_fingerprint = request.parent.pinned_fingerprint;
  state.save_config(config);
}

void reenrol(const StateDir &state, Narrator &narrator) {
  ActorConfig config = state.load_config();
  if (config.parent_port == 0)
    throw Error(Reason::config_invalid,
                state.path("actor.json") + ": no parent CA recorded (it never enrolled)");
  auto store = state.open_key_store(config, false);
  auto key = store->load_key(kIdentityKeyLabel);
  auto current = state.certificate();
  auto intermediates = state.intermediates();
  net::TlsIdentity identity{current.get(), &intermediates, key.get()};
  auto csr = pki::build_csr(key.get(), X509_get_subject_name(current.get()),
                            pki::is_ca(current.get()) ? pki::Profile::subordinate_ca
                                                      : pki::Profile::device,
                            pki::path_len(current.get()));
  est::Client client({config.parent_host, config.parent_port, config.parent_fingerprint},
                     &identity);
  narrator.say("-> https://" + config.parent_host + ":" + std::to_string(config.parent_port) + ": POST simplereenroll, "
               "authenticated by its current certificate (serial " +
               pki::serial_hex(current.get()).substr(0, 16) + "…)");
  auto ca_certs = client.ca_certificates();
  auto issued = client.simple_reenroll(csr.get());
  if (!issued) {
    narrator.refuse(std::string(to_string(issued.error().reason())),
                    issued.error().detail());
    throw issued.error();
  }
  store_and_narrate(state, issued.value().get(), ca_certs, narrator);
}

} // namespace chainlab::actor
