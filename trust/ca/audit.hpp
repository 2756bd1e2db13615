// ca/audit.hpp: Company-X's auditor. It fetches the hub's registered
// devices (each with its certificate) and the transparency log of every CA
// in its tree, then checks, per log: the tree head's signature, that the
// served entries hash to the signed root, consistency with the tree head
// it saw last time (stored between audits), that every device at the hub
// is in its issuer's log (with a verified inclusion proof), and which
// issued device certificates the hub never saw.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "ca/hub_registration.hpp"
#include "core/error.hpp"
#include "transparency/log_entry.hpp"

namespace chainlab::ca {

struct AuditedLogSource {
  std::string url;         // https://HOST:PORT (its EST server; the log is beside it)
  std::string fingerprint; // SHA-256 of the CA's certificate, pinned
};

struct AuditOptions {
  HubEndpoint hub;
  std::vector<AuditedLogSource> logs;
  std::string heads_file; // where the tree heads seen are kept between audits
};

struct Finding {
  Reason reason; // not_in_log, log_inconsistent or log_unavailable
  std::string subject; // the device ID, or the log's CA
  std::string detail;
};

struct LogReport {
  std::string ca; // subject
  std::string url;
  std::optional<transparency::TreeHead> head;
  std::string previous; // what the last audit saw, for the report
  bool verified = false; // signed head, entries hash to it, continues the last one
  std::size_t device_entries = 0, devices_at_hub = 0;
  std::vector<Finding> problems;
  std::vector<std::string> unseen; // device certificates issued, never at the hub
};

struct AuditReport {
  std::string hub;
  std::size_t devices = 0;
  std::vector<LogReport> logs;
  std::vector<Finding> problems; // devices whose issuer has no audited log
  std::size_t problem_count() const;
  Reason first_reason() const; // of the first problem found (not_in_log if none)
  nlohmann::json to_json() const;
  void print(std::ostream &out) const;
};

// check_entries: do |entries| (encoded) hash to |head|'s root, and does each
// decode? nullopt if so, else log_inconsistent naming the log.
std::optional<Error> check_entries(const std::string &ca, const transparency::TreeHead &head,
                                   const std::vector<std::string> &entries);

// audit runs the whole audit and stores the tree heads that verified.
AuditReport audit(const AuditOptions &options);

} // namespace chainlab::ca
