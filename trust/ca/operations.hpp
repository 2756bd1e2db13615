// ca/operations.hpp: what a CA actor's operator can do, one function per
// subcommand. Company-X, Factory-Y, Technician-Z and a simulated public
// root all run these; they differ only in how they got their certificate.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "actor/enrolment.hpp"
#include "core/error.hpp"
#include "ossl/ptr.hpp"
#include "core/narrator.hpp"
#include "est/authority.hpp"

namespace chainlab::ca {

struct InitOptions {
  std::string state_dir;
  std::string role;    // company, factory, technician
  std::string name;    // "Company-X"; the token label
  std::string subject; // defaults to CN=<name>
  std::string backend = "pkcs11";
  std::string key_type = "ec-p256";
  // Self-signed root: its own pathLen (nullopt = unconstrained) and lifetime.
  std::optional<long> root_path_len;
  int root_days = 3650;
  // Otherwise enrolled at a parent CA (a chainlab CA, or a public root).
  std::optional<actor::EnrolmentRequest> parent;
};

// init_ca creates the actor's token and CA key, then either self-signs or
// enrols at the parent; finally it gives itself an EST server certificate.
void init_ca(InitOptions options, Narrator &narrator);

// EstService is an initialised CA's EST server on 127.0.0.1:|port| (0 =
// ephemeral). |front|, when given, stands between the server and the CA
// (the conformance suite records there what a device sends); it is called
// once with the CA and must return an authority that outlives the service.
class EstService {
public:
  using Front = std::function<est::Authority &(est::Authority &ca)>;
  EstService(const std::string &state_dir, std::uint16_t port, Narrator &narrator,
             Front front = {});
  ~EstService();
  std::uint16_t port() const;
  std::string fingerprint() const; // the CA certificate's, as clients pin it
  std::string key_location() const; // where the CA key lives, for narration
  void run();                      // until SIGINT/SIGTERM or stop()
  void stop();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// serve_ca runs the EST server until SIGINT/SIGTERM. The chosen port is
// printed and written to <state>/est.port.
void serve_ca(const std::string &state_dir, std::uint16_t port, Narrator &narrator);

struct SecretOptions {
  std::string subject;
  std::string profile = "device"; // device or subordinate-ca
  std::optional<long> path_len;
  std::optional<std::chrono::seconds> valid_for;
};
// issue_secret creates a one-time enrolment secret and returns it.
std::string issue_secret(const std::string &state_dir, const SecretOptions &options,
                         Narrator &narrator);

// issue_devices signs each CSR as a device certificate through this CA's
// own policy and issuance log, exactly as EST simpleenroll does (a one-time
// secret bound to the CSR's subject, consumed by it), without a network
// round trip: for load generators that need many identities. The CA's
// server may be running meanwhile (the log is shared safely).
std::vector<Result<ossl::Ptr<X509>>> issue_devices(const std::string &state_dir,
                                                   const std::vector<ossl::Ptr<X509_REQ>> &csrs,
                                                   Narrator &narrator);

void list_issued(const std::string &state_dir, std::ostream &out);
// fingerprint is the SHA-256 fingerprint of the CA's own certificate, the
// value enrolling parties pin.
std::string fingerprint(const std::string &state_dir);

} // namespace chainlab::ca
