#include "ca/audit.hpp"

#include <filesystem>
#include <algorithm>
#include <map>
#include <set>

#include "ca/hub_api.hpp"
#include "core/clock.hpp"
#include "core/http_message.hpp"
#include "est/client.hpp"
#include "pki/encoding.hpp"
#include "pki/inspect.hpp"
#include "transparency/log_client.hpp"
#include "transparency/log_json.hpp"

namespace chainlab::ca {
namespace {

using nlohmann::json;
using transparency::TreeHead;

struct VerifiedEntry {
  std::uint64_t index = 0;
  transparency::LogEntry entry;
  transparency::Hash leaf;
};

// verified_entries decodes every entry once and checks that together they
// hash to |head|'s root; log_inconsistent, naming the log, if not.
Result<std::vector<VerifiedEntry>> verified_entries(const std::string &ca, const TreeHead &head,
                                                    const std::vector<std::string> &entries);

struct FetchedLog {
  LogReport report;
  std::unique_ptr<transparency::LogClient> client;
  std::string key_fingerprint;
  // Verified entries by their certificate's SHA-256.
  std::map<std::string, VerifiedEntry> by_certificate;
  bool usable = false; // its head verified and its entries hash to it
};

std::span<const std::uint8_t> bytes(const std::string &text) {
  return {reinterpret_cast<const std::uint8_t *>(text.data()), text.size()};
}

std::string when(std::uint64_t ms) {
  return pki::format_time(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

json read_heads(const std::string &file) {
  if (!std::filesystem::exists(file))
    return json::object();
  json heads = json::parse(pki::read_file(file), nullptr, false);
  if (!heads.is_object())
    throw Error(Reason::config_invalid, file + ": not the JSON object of tree heads an earlier "
                                               "audit stored; move it away to start afresh");
  return heads;
}

// previous_head: the tree head of this log (by its key) the last audit
// stored, if any, re-verified so an edited heads file is noticed.
std::optional<TreeHead> previous_head(const json &heads, FetchedLog &log) {
  if (!heads.contains(log.key_fingerprint))
    return std::nullopt;
  auto head = transparency::tree_head_from_json(heads[log.key_fingerprint].value("head", json()),
                                                "stored tree head of " + log.report.ca);
  if (!head || !transparency::verify_tree_head(head.value(), log.client->key()))
    throw Error(Reason::config_invalid,
                "the stored tree head of " + log.report.ca + "'s log is damaged or not signed by "
                "its key; move the heads file away to start afresh");
  return head.value();
}

void check_continuation(FetchedLog &log, const std::optional<TreeHead> &previous) {
  auto &report = log.report;
  const TreeHead &head = *report.head;
  if (!previous) {
    report.previous = "first audit of this log: its tree head is stored for the next";
    return;
  }
  std::string seen = "tree head of size " + std::to_string(previous->tree_size) + " signed " +
                     when(previous->timestamp_ms);
  report.previous = "continues the " + seen + ", seen at the last audit";
  auto inconsistent = [&](const std::string &why) {
    report.problems.push_back({Reason::log_inconsistent, report.ca,
                               report.ca + "'s log " + why + ": it forked or was rewritten"});
  };
  if (previous->tree_size > head.tree_size)
    return inconsistent("shrank from " + std::to_string(previous->tree_size) + " entries (" + seen + ") to " + std::to_string(head.tree_size));
  if (previous->tree_size == head.tree_size) {
    if (previous->root != head.root)
      inconsistent("signed two different roots for size " + std::to_string(head.tree_size));
    return;
  }
  if (previous->tree_size == 0)
    return;
  auto proof = log.client->consistency(previous->tree_size, head.tree_size);
  if (!proof)
    return report.problems.push_back({proof.error().reason(), report.ca, proof.error().detail()});
  if (!transparency::verify_consistency(previous->tree_size, head.tree_size, proof.value(),
                                        previous->root, head.root))
    inconsistent("is not a continuation of the " + seen + " seen at the last audit (the consistency proof to size " +
                 std::to_string(head.tree_size) + " fails)");
}

FetchedLog fetch_log(const AuditedLogSource &source, const json &heads) {
  FetchedLog log;
  log.report.url = source.url;
  log.report.ca = source.url;
  try {
    auto [host, port] = transparency::parse_log_url(source.url).take_or_throw();
    est::Client est({host, port, source.fingerprint});
    auto certificates = est.ca_certificates();
    log.report.ca = pki::subject_text(certificates.front().get());
    log.key_fingerprint = pki::key_fingerprint(certificates.front().get());
    log.client = std::make_unique<transparency::LogClient>(
        transparency::LogLocation{source.url, ossl::up_ref(certificates.front().get())});
  } catch (const Error &error) {
    log.report.problems.push_back({Reason::log_unavailable, log.report.ca, error.detail()});
    return log;
  }
  auto head = log.client->tree_head();
  if (!head) {
    log.report.problems.push_back({head.error().reason(), log.report.ca, head.error().detail()});
    return log;
  }
  log.report.head = head.value();
  auto entries = log.client->entries(0, head.value().tree_size);
  if (!entries) {
    log.report.problems.push_back({entries.error().reason(), log.report.ca, entries.error().detail()});
    return log;
  }
  auto verified = verified_entries(log.report.ca, head.value(), entries.value());
  if (!verified) {
    log.report.problems.push_back({verified.error().reason(), log.report.ca,
                                   verified.error().detail()});
    return log;
  }
  check_continuation(log, previous_head(heads, log));
  log.report.verified = log.report.problems.empty();
  for (auto &item : verified.value()) {
    log.report.device_entries += item.entry.profile == "device";
    auto sha256 = transparency::certificate_sha256(item.entry.certificate_der);
    log.by_certificate.emplace(sha256, std::move(item));
  }
  log.usable = true;
  return log;
}

// check_device: is this device, at the hub, in its issuer's log?
void check_device(const json &device, std::vector<FetchedLog> &logs, AuditReport &report,
                  std::set<std::string> &seen) {
  std::string id = device.value("deviceId", "?");
  std::string issuer = device.value("issuer", "?");
  std::string issuer_key = device.value("issuerKey", "");
  auto log = std::find_if(logs.begin(), logs.end(),
                          [&](const FetchedLog &l) { return l.key_fingerprint == issuer_key; });
  if (log == logs.end())
    return report.problems.push_back(
        {Reason::not_in_log, id,
         "device " + id + " is at the hub, issued by " + issuer + " (key sha256 " +
             issuer_key.substr(0, 16) + "…), and no audited log belongs to that issuer: it was "
             "signed outside the supply chain's logs"});
  log->report.devices_at_hub++;
  if (!device.contains("certificate") || !device["certificate"].is_string())
    return log->report.problems.push_back(
        {Reason::not_found, id, "the hub kept no certificate for device " + id + ", so it "
                                "cannot be looked up in " + log->report.ca + "'s log"});
  if (!log->usable)
    return;
  std::string der = pki::base64_decode(device["certificate"].get<std::string>(), "device " + id);
  std::string sha256 = transparency::certificate_sha256(der);
  seen.insert(sha256);
  auto found = log->by_certificate.find(sha256);
  if (found == log->by_certificate.end())
    return log->report.problems.push_back(
        {Reason::not_in_log, id,
         "device " + id + " is at the hub with a certificate issued by " + issuer +
             " (SHA-256 " + sha256.substr(0, 16) + "…) that is in no entry of " + log->report.ca +
             "'s log (tree size " + std::to_string(log->report.head->tree_size) +
             "): it was signed outside the supply chain"});
  auto proven = log->client->prove_inclusion(found->second.leaf, found->second.index,
                                             *log->report.head);
  if (!proven)
    log->report.problems.push_back({proven.error().reason(), id, proven.error().detail()});
}

void list_unseen(FetchedLog &log, const std::set<std::string> &seen) {
  for (const auto &[sha256, located] : log.by_certificate) {
    if (located.entry.profile != "device" || seen.count(sha256))
      continue;
    std::string where = "entry " + std::to_string(located.index);
    try {
      where = pki::subject_text(pki::parse_certificate(located.entry.certificate_der, where).get());
    } catch (const Error &) {
      // An entry whose certificate does not parse is still listed, by index.
    }
    log.report.unseen.push_back(where);
  }
}

void store_heads(const std::string &file, json heads, const std::vector<FetchedLog> &logs) {
  for (const auto &log : logs)
    if (log.report.verified)
      heads[log.key_fingerprint] = {{"ca", log.report.ca},
                                    {"url", log.report.url},
                                    {"head", transparency::to_json(*log.report.head)},
                                    {"audited_at", pki::format_time(now())}};
  pki::write_file_atomically(file, heads.dump(2) + "\n");
}

Result<std::vector<VerifiedEntry>> verified_entries(const std::string &ca, const TreeHead &head,
                                                    const std::vector<std::string> &entries) {
  if (entries.size() != head.tree_size)
    return Error(Reason::log_inconsistent,
                 ca + "'s log served " + std::to_string(entries.size()) + " entries for a signed "
                 "tree head of size " + std::to_string(head.tree_size));
  std::vector<VerifiedEntry> verified;
  std::vector<transparency::Hash> leaves;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto decoded = transparency::decode_entry(bytes(entries[i]),
                                              ca + "'s entry " + std::to_string(i));
    if (!decoded)
      return Error(Reason::log_inconsistent, decoded.error().detail());
    leaves.push_back(transparency::entry_leaf_hash(entries[i]));
    verified.push_back({i, std::move(decoded.value()), leaves.back()});
  }
  if (transparency::root_hash(leaves) != head.root)
    return Error(Reason::log_inconsistent,
                 ca + "'s log entries do not hash to the root its key signed for size " +
                     std::to_string(head.tree_size) + " (" + when(head.timestamp_ms) +
                     "): entries were edited after they were logged");
  return verified;
}

} // namespace

std::optional<Error> check_entries(const std::string &ca, const TreeHead &head,
                                   const std::vector<std::string> &entries) {
  auto verified = verified_entries(ca, head, entries);
  return verified ? std::nullopt : std::optional<Error>(verified.error());
}

namespace {

// for_each_device hands |visit| each of the hub's devices with its
// certificate, read page by page: a large fleet is never one answer.
template <typename Visit> void for_each_device(HubApi &hub, Visit visit) {
  for (std::string after;;) {
    json page = hub.call("GET", "/devices?certificates=true&after=" + percent_encode(after));
    for (const auto &device : page.value("devices", json::array()))
      visit(device);
    std::string next = page.value("next", "");
    if (!page.value("more", false) || next <= after) // a page that moves nothing ends it
      return;
    after = next;
  }
}

} // namespace

AuditReport audit(const AuditOptions &options) {
  json heads = read_heads(options.heads_file);
  AuditReport report;
  report.hub = options.hub.hub;
  std::vector<FetchedLog> logs;
  for (const auto &source : options.logs)
    logs.push_back(fetch_log(source, heads));
  HubApi hub(options.hub);
  std::set<std::string> seen;
  for_each_device(hub, [&](const json &device) {
    if (device.value("registration", "") == "thumbprint")
      return; // registered one-to-one by an operator: no CA vouches for it
    report.devices++;
    check_device(device, logs, report, seen);
  });
  for (auto &log : logs) {
    if (log.usable)
      list_unseen(log, seen);
    report.logs.push_back(log.report);
  }
  store_heads(options.heads_file, heads, logs);
  return report;
}

std::size_t AuditReport::problem_count() const {
  std::size_t count = problems.size();
  for (const auto &log : logs)
    count += log.problems.size();
  return count;
}

Reason AuditReport::first_reason() const {
  for (const auto &log : logs)
    if (!log.problems.empty())
      return log.problems.front().reason;
  return problems.empty() ? Reason::not_in_log : problems.front().reason;
}

namespace {

json finding_json(const Finding &finding) {
  return {{"reason", to_string(finding.reason)},
          {"subject", finding.subject},
          {"detail", finding.detail}};
}

} // namespace

json AuditReport::to_json() const {
  json out = {{"hub", hub}, {"devices", devices}, {"problems", problem_count()},
              {"ok", problem_count() == 0}, {"logs", json::array()}, {"findings", json::array()}};
  for (const auto &finding : problems)
    out["findings"].push_back(finding_json(finding));
  for (const auto &log : logs) {
    json item = {{"ca", log.ca},
                 {"url", log.url},
                 {"verified", log.verified},
                 {"previous", log.previous},
                 {"device_entries", log.device_entries},
                 {"devices_at_hub", log.devices_at_hub},
                 {"unseen", log.unseen},
                 {"findings", json::array()}};
    if (log.head)
      item["tree_head"] = transparency::to_json(*log.head);
    for (const auto &finding : log.problems)
      item["findings"].push_back(finding_json(finding));
    out["logs"].push_back(item);
  }
  return out;
}

void AuditReport::print(std::ostream &out) const {
  out << "audit of hub " << hub << ": " << devices << " device(s) at the hub, " << logs.size()
      << " log(s)\n";
  for (const auto &log : logs) {
    out << "  " << log.ca << "  " << log.url;
    if (log.head)
      out << "  tree size " << log.head->tree_size << ", signed " << when(log.head->timestamp_ms);
    out << "\n";
    if (log.verified)
      out << "    ok  tree head signed by its key; every entry hashes to its root\n"
          << "    ok  " << (log.previous.empty() ? "no earlier tree head" : log.previous) << "\n";
    if (log.head)
      out << "    ok  " << log.devices_at_hub << " device(s) at the hub issued here; "
          << log.device_entries << " device certificate(s) in the log\n";
    for (const auto &finding : log.problems)
      out << "    !!  " << to_string(finding.reason) << ": " << finding.detail << "\n";
    for (const auto &subject : log.unseen)
      out << "    --  issued, never seen at the hub: " << subject << "\n";
  }
  for (const auto &finding : problems)
    out << "  !!  " << to_string(finding.reason) << ": " << finding.detail << "\n";
  std::size_t count = problem_count();
  out << (count == 0 ? "result: clean, every device at the hub is in its issuer's log\n"
                     : "result: " + std::to_string(count) + " problem(s)\n");
}

} // namespace chainlab::ca
