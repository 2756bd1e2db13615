#include "ca/operations.hpp"

#include <filesystem>
#include <iomanip>

#include "ca/certificate_authority.hpp"
#include "ca/log_api.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "est/server.hpp"
#include "hsm/key_type.hpp"
#include "net/https_server.hpp"
#include "net/tls_context.hpp"
#include "pki/certificate_builder.hpp"
#include "pki/inspect.hpp"
#include "pki/policy.hpp"

namespace chainlab::ca {
namespace {

std::string issuance_db(const actor::StateDir &state) { return state.path("issuance.db"); }

void self_sign_root(const actor::StateDir &state, const actor::ActorConfig &config,
                    const InitOptions &options, Narrator &narrator) {
  auto store = state.open_key_store(config, false);
  auto key = store->load_key(actor::kIdentityKeyLabel);
  pki::CertificatePlan plan;
  plan.subject = pki::parse_subject(config.subject);
  plan.public_key = ossl::up_ref(key.get());
  plan.profile = pki::Profile::root_ca;
  plan.path_len = options.root_path_len;
  plan.not_before = now() - std::chrono::minutes(5);
  plan.not_after = now() + std::chrono::hours(24) * options.root_days;
  auto root = pki::sign_certificate(plan, nullptr, key.get());
  state.store_identity(root.get(), {});
  narrator.say("self-signed its root CA certificate " + config.subject +
               " (pathLen " +
               (plan.path_len ? std::to_string(*plan.path_len) : "unlimited") +
               ", valid until " + pki::format_time(plan.not_after) + ")");
}

// ensure_tls_certificate gives the CA's EST server a fresh certificate when
// it has none or it expires within a day.
ossl::Ptr<X509> ensure_tls_certificate(const actor::StateDir &state,
                                       CertificateAuthority &authority,
                                       EVP_PKEY *tls_key) {
  std::string file = state.path("est-server.pem");
  if (std::filesystem::exists(file)) {
    auto existing = pki::parse_certificate(pki::read_file(file), file);
    if (pki::not_after(existing.get()) > now() + std::chrono::hours(24) &&
        EVP_PKEY_eq(X509_get0_pubkey(existing.get()), tls_key) == 1)
      return existing;
  }
  auto issued = authority.issue_tls_server_certificate(tls_key);
  pki::write_file_atomically(file, pki::to_pem(issued.get()));
  return issued;
}

// OpenCa: an initialised CA actor's key store, issuance log and authority.
struct OpenCa {
  OpenCa(const std::string &state_dir, Narrator &narrator)
      : state(state_dir), config(state.load_config()), store(state.open_key_store(config, false)),
        log(issuance_db(state)),
        authority(state.chain_to_root(), store->load_key(actor::kIdentityKeyLabel), log,
                  narrator) {}
  actor::StateDir state;
  actor::ActorConfig config;
  std::unique_ptr<hsm::KeyStore> store;
  registry::IssuanceLog log;
  CertificateAuthority authority;
};

} // namespace

namespace {

// prepare_identity creates the CA's key, or, when an earlier init made the
// key but its enrolment was refused, picks that key up again so the
// operator can retry with a new secret.
actor::ActorConfig prepare_identity(const actor::StateDir &state,
                                    const InitOptions &options, Narrator &narrator) {
  if (state.initialised()) {
    if (std::filesystem::exists(state.path("certificate.pem")))
      throw Error(Reason::config_invalid,
                  state.path("actor.json") + ": this CA is already initialised");
    auto config = state.load_config();
    narrator.say("resumes an unfinished init: its key " + config.key_uri +
                 " exists but has no certificate yet");
    return config;
  }
  std::filesystem::create_directories(state.directory());
  actor::ActorConfig config;
  config.role = options.role;
  config.name = options.name;
  config.subject = options.subject.empty() ? "CN=" + options.name : options.subject;
  config.backend = options.backend;
  config.key_type = options.key_type;
  pki::parse_subject(config.subject); // refuse a bad subject before any key exists
  actor::create_identity_key(state, config, narrator);
  return config;
}

} // namespace

void init_ca(InitOptions options, Narrator &narrator) {
  actor::StateDir state(options.state_dir);
  actor::ActorConfig config = prepare_identity(state, options, narrator);

  if (options.parent)
    actor::enrol_with_secret(state, config, *options.parent, narrator);
  else
    self_sign_root(state, config, options, narrator);

  auto store = state.open_key_store(config, false);
  if (!store->has_key(actor::kTlsKeyLabel))
    store->generate_key(actor::kTlsKeyLabel, hsm::KeyType::ec_p256);
  registry::IssuanceLog log(issuance_db(state));
  CertificateAuthority authority(state.chain_to_root(),
                                 store->load_key(actor::kIdentityKeyLabel), log, narrator);
  ensure_tls_certificate(state, authority, store->load_key(actor::kTlsKeyLabel).get());
  narrator.say("is ready to issue; its CA fingerprint (SHA-256) is " +
               pki::sha256_fingerprint(authority.certificate()));
}

struct EstService::Impl {
  Impl(const std::string &state_dir, std::uint16_t port, Narrator &narrator_in, const Front &front)
      : narrator(narrator_in), ca(state_dir, narrator),
        authority(front ? front(ca.authority) : ca.authority),
        tls_key(ca.store->load_key(actor::kTlsKeyLabel)),
        tls_cert(ensure_tls_certificate(ca.state, ca.authority, tls_key.get())),
        tls_chain(ca.state.chain_to_root()),
        context(net::make_server_context({tls_cert.get(), &tls_chain, tls_key.get()},
                                         ca.authority.certificate())),
        server(
            context.get(),
            [this](const HttpRequest &request, const net::PeerInfo &peer) {
              if (is_log_request(request))
                return handle_log_request(ca.log.tree(), ca.config.name, request);
              est::Requester requester{peer.address, peer.client_cert.get(),
                                       peer.client_cert_error};
              return est::handle_request(authority, request, requester);
            },
            "127.0.0.1", port, [this](const HttpRequest &request, const std::string &what) {
              narrator.refuse("internal_error", request.method + " " +
                                                    request.target.substr(0, 200) +
                                                    " failed inside the EST server (" + what +
                                                    "); answered 500, serving on");
            }) {}
  Narrator &narrator;
  OpenCa ca;
  est::Authority &authority;
  ossl::Ptr<EVP_PKEY> tls_key;
  ossl::Ptr<X509> tls_cert;
  pki::CertList tls_chain;
  ossl::Ptr<SSL_CTX> context;
  net::HttpsServer server;
};

EstService::EstService(const std::string &state_dir, std::uint16_t port, Narrator &narrator,
                       Front front)
    : impl_(std::make_unique<Impl>(state_dir, port, narrator, front)) {}
EstService::~EstService() = default;
std::uint16_t EstService::port() const { return impl_->server.port(); }
std::string EstService::fingerprint() const {
  return pki::sha256_fingerprint(impl_->ca.authority.certificate());
}
std::string EstService::key_location() const { return impl_->ca.store->describe(); }
void EstService::run() { impl_->server.run(); }
void EstService::stop() { impl_->server.stop(); }

void serve_ca(const std::string &state_dir, std::uint16_t port, Narrator &narrator) {
  EstService service(state_dir, port, narrator);
  pki::write_file_atomically(actor::StateDir(state_dir).path("est.port"),
                             std::to_string(service.port()) + "\n");
  narrator.say("EST server listening on https://127.0.0.1:" + std::to_string(service.port()) +
               "/.well-known/est/ (CA key in " + service.key_location() +
               "), its transparency log beside it at /log/v1/");
  service.run();
  narrator.say("EST server stopped");
}

std::string issue_secret(const std::string &state_dir, const SecretOptions &options,
                         Narrator &narrator) {
  actor::StateDir state(state_dir);
  state.load_config(); // only an initialised CA hands out secrets
  auto profile = pki::profile_from_string(options.profile);
  if (!profile || (*profile != pki::Profile::device &&
                   *profile != pki::Profile::subordinate_ca))
    throw Error(Reason::config_invalid,
                "--profile \"" + options.profile + "\" must be device or subordinate-ca");
  auto subject = pki::parse_subject(options.subject);
  if (*profile == pki::Profile::device)
    if (auto refusal = pki::check_device_id(subject.get()))
      throw *refusal;
  registry::StoredSecret secret;
  secret.subject = pki::subject_text(subject.get());
  secret.profile = options.profile;
  secret.path_len = options.path_len;
  if (options.valid_for)
    secret.expires_at = now() + *options.valid_for;
  registry::IssuanceLog log(issuance_db(state));
  std::string text = log.create_secret(secret);
  narrator.say("operator issued a one-time enrolment secret for " + secret.subject +
               " (" + secret.profile +
               (secret.path_len ? ", pathLen " + std::to_string(*secret.path_len) : "") +
               (secret.expires_at ? ", expires " + pki::format_time(*secret.expires_at)
                                  : ", no expiry") +
               ")");
  return text;
}

std::vector<Result<ossl::Ptr<X509>>> issue_devices(const std::string &state_dir,
                                                   const std::vector<ossl::Ptr<X509_REQ>> &csrs,
                                                   Narrator &narrator) {
  OpenCa ca(state_dir, narrator);
  std::vector<Result<ossl::Ptr<X509>>> issued;
  issued.reserve(csrs.size());
  for (const auto &csr : csrs) {
    registry::StoredSecret secret;
    secret.subject = pki::subject_text(X509_REQ_get_subject_name(csr.get()));
    secret.profile = "device";
    secret.expires_at = now() + std::chrono::minutes(5);
    std::string text = ca.log.create_secret(secret);
    issued.push_back(ca.authority.simple_enroll(csr.get(), text, {"local batch", nullptr, ""}));
  }
  return issued;
}

void list_issued(const std::string &state_dir, std::ostream &out) {
  actor::StateDir state(state_dir);
  state.load_config();
  registry::IssuanceLog log(issuance_db(state));
  out << std::left << std::setw(34) << "SERIAL" << std::setw(16) << "PROFILE"
      << std::setw(22) << "ISSUED" << std::setw(22) << "NOT AFTER" << "SUBJECT / KEY / REQUESTER\n";
  for (const auto &record : log.list()) {
    out << std::setw(34) << record.serial << std::setw(16) << record.profile
        << std::setw(22) << pki::format_time(record.issued_at) << std::setw(22)
        << pki::format_time(record.not_after) << record.subject << "\n"
        << std::setw(94) << "" << "key sha256 " << record.key_fingerprint.substr(0, 16)
        << "…, " << record.requester << "\n";
  }
}

std::string fingerprint(const std::string &state_dir) {
  actor::StateDir state(state_dir);
  return pki::sha256_fingerprint(state.certificate().get());
}

} // namespace chainlab::ca
