#include "scenarios/conformance/supply_chain.hpp"

#include <filesystem>
#include <openssl/pem.h>
#include <sstream>
#include <thread>

#include "actor/state_dir.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "ossl/errors.hpp"
#include "pki/certificate_builder.hpp"
#include "pki/csr.hpp"
#include "pki/inspect.hpp"

namespace chainlab::conformance {
namespace {

using namespace std::chrono_literals;

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

ossl::Ptr<EVP_PKEY> p256_key() {
  ossl::Ptr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key)
    throw Error(Reason::internal_error, "cannot make a P-256 key: " + ossl::drain_errors());
  return key;
}

ossl::Ptr<X509> make_root(const std::string &name, EVP_PKEY *key) {
  pki::CertificatePlan plan;
  plan.subject = pki::parse_subject("CN=" + name);
  plan.public_key = ossl::up_ref(key);
  plan.profile = pki::Profile::root_ca;
  plan.not_before = now() - 5min;
  plan.not_after = now() + 24h;
  return pki::sign_certificate(plan, nullptr, key);
}

ServerCredentials server_certificate(X509 *issuer, EVP_PKEY *issuer_key, const std::string &name,
                                     std::chrono::system_clock::time_point not_before,
                                     std::chrono::system_clock::time_point not_after) {
  ServerCredentials out;
  out.key = p256_key();
  pki::CertificatePlan plan;
  plan.subject = pki::parse_subject("CN=" + name);
  plan.public_key = ossl::up_ref(out.key.get());
  plan.profile = pki::Profile::tls_server;
  plan.subject_alt_name = "DNS:" + name + (name == "localhost" ? ",IP:127.0.0.1" : "");
  plan.not_before = not_before;
  plan.not_after = not_after;
  out.certificate = pki::sign_certificate(plan, issuer, issuer_key);
  out.chain.push_back(ossl::up_ref(issuer));
  return out;
}

std::string private_key_pem(EVP_PKEY *key) {
  ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw Error(Reason::internal_error, "cannot write a key as PEM: " + ossl::drain_errors());
  char *data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, std::size_t(size));
}

} // namespace

Result<ossl::Ptr<X509>> RecordingAuthority::simple_enroll(X509_REQ *csr, const std::string &secret,
                                                          const est::Requester &requester) {
  auto issued = ca_.simple_enroll(csr, secret, requester);
  EnrolmentRecord record{secret, pki::to_pem(csr), "", ""};
  if (issued)
    record.issued_pem = pki::to_pem(issued.value().get());
  else
    record.refusal = std::string(to_string(issued.error().reason())) + ": " + issued.error().detail();
  std::lock_guard lock(mutex_);
  records_.push_back(std::move(record));
  return issued;
}

std::vector<EnrolmentRecord> RecordingAuthority::records() const {
  std::lock_guard lock(mutex_);
  return records_;
}

HubPki make_hub_pki(const std::string &hub_host) {
  HubPki pki;
  pki.hub_ca_key = p256_key();
  pki.hub_ca = make_root("Conformance Hub CA", pki.hub_ca_key.get());
  auto from = now() - 5min, until = now() + 24h;
  pki.good = server_certificate(pki.hub_ca.get(), pki.hub_ca_key.get(), hub_host, from, until);
  pki.wrong_host = server_certificate(pki.hub_ca.get(), pki.hub_ca_key.get(),
                                      "not-the-hub.invalid", from, until);
  pki.expired = server_certificate(pki.hub_ca.get(), pki.hub_ca_key.get(), hub_host,
                                   now() - 72h, now() - 24h);
  // Same names as the real ones, other keys: only the pin tells them apart.
  auto impostor_key = p256_key();
  auto impostor = make_root("Conformance Hub CA", impostor_key.get());
  pki.untrusted = server_certificate(impostor.get(), impostor_key.get(), hub_host, from, until);
  auto est_key = p256_key();
  auto est_root = make_root("Technician-Z", est_key.get());
  pki.impostor_est = server_certificate(est_root.get(), est_key.get(), hub_host, from, until);
  return pki;
}

SupplyChain::SupplyChain(const std::string &work_dir, const std::string &bin_dir, std::ostream &out)
    : work_dir_(work_dir), bin_dir_(bin_dir), out_(out), narrator_("Technician-Z", out) {
  start_ca("company", "Company-X", "", "");
  start_ca("factory", "Factory-Y", "company", "1");
  start_ca("technician", "Technician-Z", "factory", "0");
  root_ = pki::parse_certificate(pki::read_file(work_dir_ + "/company-x/certificate.pem"),
                                 "Company-X's certificate");
  est_ = std::make_unique<ca::EstService>(technician_dir(), 0, narrator_,
                                          [this](est::Authority &ca) -> est::Authority & {
                                            recorder_ = std::make_unique<RecordingAuthority>(ca);
                                            return *recorder_;
                                          });
  est_thread_ = std::thread([this] { est_->run(); });
  out_ << "  Technician-Z's EST server (recorded by the suite) on port " << est_->port() << "\n";
}

SupplyChain::~SupplyChain() {
  if (est_) {
    est_->stop();
    est_thread_.join();
  }
}

std::uint16_t SupplyChain::est_port() const { return est_->port(); }
std::string SupplyChain::est_fingerprint() const { return est_->fingerprint(); }

std::string SupplyChain::run(const std::string &role, const std::vector<std::string> &args,
                             bool narrate) {
  std::string dir = work_dir_ + "/" + (role == "company"   ? "company-x"
                                       : role == "factory" ? "factory-y"
                                                           : "technician-z");
  std::vector<std::string> argv = {bin_dir_ + "/" + role, "--state", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  auto result = scenario::run_command(argv, {}, 60s);
  if (narrate)
    out_ << result.out;
  if (result.exit_code != 0)
    throw Error(Reason::internal_error, "provisioning: `" + role + " " + args.front() +
                                            "` failed: " + trimmed(result.out + result.err));
  return trimmed(result.out);
}

void SupplyChain::start_ca(const std::string &role, const std::string &name,
                           const std::string &parent, const std::string &path_len) {
  std::vector<std::string> init = {"init", "--name", name};
  if (!parent.empty()) {
    auto [port, fingerprint] = endpoints_.at(parent);
    std::string secret = run(parent, {"issue-secret", "--subject", "CN=" + name, "--profile",
                                      "subordinate-ca", "--path-len", path_len}, false);
    init.insert(init.end(), {"--path-len", path_len, "--parent-port", std::to_string(port),
                             "--parent-fingerprint", fingerprint, "--secret", secret});
  }
  run(role, init);
  if (role == "technician")
    return; // served in-process, with the recorder in front
  std::string dir = work_dir_ + "/" + (role == "company" ? "company-x" : "factory-y");
  servers_[role] = std::make_unique<scenario::BackgroundProcess>(
      std::vector<std::string>{bin_dir_ + "/" + role, "--state", dir, "serve"},
      scenario::Environment{}, dir + ".log");
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!std::filesystem::exists(dir + "/est.port") || pki::read_file(dir + "/est.port").empty()) {
    if (std::chrono::steady_clock::now() > deadline || servers_[role]->exited())
      throw Error(Reason::internal_error, "provisioning: " + name + " did not start serving: " +
                                              pki::read_file(dir + ".log"));
    std::this_thread::sleep_for(20ms);
  }
  std::string fingerprint = run(role, {"fingerprint"}, false);
  endpoints_[role] = {std::uint16_t(std::stoi(pki::read_file(dir + "/est.port"))), fingerprint};
}

std::string SupplyChain::issue_secret(const std::string &device_id) {
  std::ostringstream quiet;
  Narrator narrator("Technician-Z", quiet);
  return ca::issue_secret(technician_dir(), {"CN=" + device_id, "device", {}, {}}, narrator);
}

void SupplyChain::issue_pem_identity(const std::string &device_id, const std::string &directory) {
  auto key = p256_key();
  auto subject = pki::parse_subject("CN=" + device_id);
  std::vector<ossl::Ptr<X509_REQ>> csrs;
  csrs.push_back(pki::build_csr(key.get(), subject.get(), pki::Profile::device));
  auto issued = ca::issue_devices(technician_dir(), csrs, narrator_);
  if (!issued.front())
    throw issued.front().error();
  std::string leaf = pki::to_pem(issued.front().value().get());
  std::string technician = pki::read_file(technician_dir() + "/certificate.pem");
  std::string factory = pki::read_file(work_dir_ + "/factory-y/certificate.pem");
  std::filesystem::create_directories(directory);
  pki::write_file_atomically(directory + "/cert.pem", leaf);
  pki::write_file_atomically(directory + "/chain.pem", leaf + technician + factory);
  pki::write_file_atomically(directory + "/key.pem", private_key_pem(key.get()));
}

TokenIdentity SupplyChain::issue_token_identity(const std::string &device_id,
                                                const std::string &directory) {
  auto device = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {bin_dir_ + "/device", "--state", directory});
    auto result = scenario::run_command(args, {}, 60s);
    out_ << result.out;
    if (result.exit_code != 0)
      throw Error(Reason::internal_error, "provisioning: `device " + args[3] + "` failed: " +
                                              trimmed(result.out + result.err));
  };
  device({"init", "--id", device_id, "--backend", "pkcs11"});
  device({"enroll", "--ca-port", std::to_string(est_port()), "--ca-fingerprint",
          est_fingerprint(), "--secret", issue_secret(device_id), "--ca-name", "Technician-Z"});
  actor::StateDir state(directory);
  pki::write_file_atomically(directory + "/cert.pem", pki::read_file(state.path("certificate.pem")));
  pki::write_file_atomically(directory + "/chain.pem", pki::read_file(state.path("fullchain.pem")));
  std::string pin = trimmed(pki::read_file(state.path("token") + "/user.pin"));
  return {state.load_config().key_uri + "?pin-value=" + pin,
          state.path("token") + "/softhsm2.conf"};
}

} // namespace chainlab::conformance
