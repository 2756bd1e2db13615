#include "transparency/log_client.hpp"

#include "est/server.hpp"
#include "net/https_client.hpp"
#include "pki/encoding.hpp"
#include "pki/inspect.hpp"
#include "transparency/log_json.hpp"

namespace chainlab::transparency {
namespace {

using nlohmann::json;

constexpr std::chrono::seconds kTimeout{10};
// What one audit reads of one log at most: a log (or a CA's leaked key)
// signing a tree head of 2^60 entries must not make the auditor fetch and
// hold them all.
constexpr std::uint64_t kMaxEntriesRead = 1'000'000;
constexpr std::size_t kMaxBytesRead = std::size_t(256) << 20;

} // namespace

Result<std::pair<std::string, std::uint16_t>> parse_log_url(const std::string &url) {
  auto bad = [&](const std::string &why) {
    return Error(Reason::config_invalid,
                 "log URL \"" + url.substr(0, 200) + "\" " + why + " (want https://HOST:PORT)");
  };
  constexpr std::string_view scheme = "https://";
  if (url.rfind(std::string(scheme), 0) != 0)
    return bad("is not https");
  std::string rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/')
    rest.pop_back();
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return bad("has no host and port");
  std::string host = rest.substr(0, colon), port = rest.substr(colon + 1);
  if (host.find_first_of("/?#@ ") != std::string::npos)
    return bad("has a path or credentials");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) == 0 || std::stoul(port) > 65535)
    return bad("has no valid port");
  return std::pair{host, std::uint16_t(std::stoul(port))};
}

LogClient::LogClient(const LogLocation &location)
    : LogClient(location, parse_log_url(location.url).take_or_throw()) {}

LogClient::LogClient(const LogLocation &location,
                     const std::pair<std::string, std::uint16_t> &address)
    : url_(location.url), host_(address.first),
      name_(pki::subject_text(location.ca_certificate.get())), port_(address.second),
      certificate_(ossl::up_ref(location.ca_certificate.get())),
      tls_(pki::sha256_fingerprint(location.ca_certificate.get()), address.first) {}

Error LogClient::unavailable(const std::string &what) const {
  return Error(Reason::log_unavailable, name_ + "'s log at " + url_ + ": " + what);
}

Result<json> LogClient::get(const std::string &operation) {
  HttpResponse response;
  try {
    response = net::https_request(host_, port_, tls_.get(),
                                  {"GET", std::string(kLogPrefix) + operation, {}, ""},
                                  kTimeout);
  } catch (const Error &error) {
    return unavailable(tls_.failure().empty() ? error.detail() : tls_.failure());
  }
  std::string name = operation.substr(0, operation.find('?'));
  if (response.status != 200) {
    std::string reason = response.header(est::kReasonHeader);
    std::string text = response.body.substr(0, 300);
    while (!text.empty() && text.back() == '\n')
      text.pop_back();
    if (reason == "not_in_log")
      return Error(Reason::not_in_log, name_ + "'s log at " + url_ + " answered " + name +
                                           ": " + text);
    return unavailable(name + " answered HTTP " + std::to_string(response.status) + ": " + text);
  }
  json body = json::parse(response.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return unavailable(name + " answered with something other than a JSON object");
  return body;
}

Result<TreeHead> LogClient::tree_head() {
  auto body = get("get-sth");
  if (!body)
    return body.error();
  auto head = tree_head_from_json(body.value(), name_ + "'s tree head");
  if (!head)
    return unavailable(head.error().detail());
  if (!verify_tree_head(head.value(), key()))
    return unavailable("the tree head of size " + std::to_string(head.value().tree_size) +
                       " does not carry a valid signature of " + name_ + "'s key");
  return head;
}

Result<std::vector<std::string>> LogClient::entries(std::uint64_t start, std::uint64_t end) {
  if (end > start && end - start > kMaxEntriesRead)
    return unavailable("its tree of " + std::to_string(end) + " entries is more than the " +
                       std::to_string(kMaxEntriesRead) + " one read may fetch");
  std::vector<std::string> out;
  std::size_t bytes = 0;
  while (start < end) {
    auto body = get("get-entries?start=" + std::to_string(start) +
                    "&end=" + std::to_string(end - 1));
    if (!body)
      return body.error();
    const json &list = body.value()["entries"];
    if (!list.is_array() || list.empty() || list.size() > end - start)
      return unavailable("get-entries from " + std::to_string(start) +
                         " answered no usable \"entries\" array");
    for (const auto &item : list) {
      auto entry = bytes_field(item, "leaf_input", 1 << 20, "entry " + std::to_string(start));
      if (!entry)
        return unavailable(entry.error().detail());
      bytes += entry.value().size();
      if (bytes > kMaxBytesRead)
        return unavailable("its entries exceed " + std::to_string(kMaxBytesRead >> 20) +
                           " MiB, more than one read may hold");
      out.push_back(std::move(entry.value()));
      ++start;
    }
  }
  return out;
}

Result<std::vector<Hash>> LogClient::consistency(std::uint64_t first, std::uint64_t second) {
  auto body = get("get-sth-consistency?first=" + std::to_string(first) +
                  "&second=" + std::to_string(second));
  if (!body)
    return body.error();
  auto proof = hashes_from_json(body.value(), "consistency", name_ + "'s consistency proof");
  if (!proof)
    return unavailable(proof.error().detail());
  return proof;
}

Result<LocatedEntry> LogClient::entry_by_certificate(const std::string &certificate_sha256) {
  auto body = get("get-entry-by-certificate?sha256=" + certificate_sha256);
  if (!body)
    return body.error();
  auto index = unsigned_field(body.value(), "leaf_index", name_ + "'s entry lookup");
  auto entry = bytes_field(body.value(), "leaf_input", 1 << 20, name_ + "'s entry lookup");
  if (!index)
    return unavailable(index.error().detail());
  if (!entry)
    return unavailable(entry.error().detail());
  return LocatedEntry{index.value(), entry.value()};
}

Result<bool> LogClient::prove_inclusion(const Hash &leaf, std::uint64_t index,
                                        const TreeHead &head) {
 auto body = get("get-proof-by-hash?hash=" + hash_query_value(leaf) + "&tree_size=" + std::to_string(head.tree_size));
  if (!body)
    return body.error();
  auto path = hashes_from_json(body.value(), "audit_path", name_ + "'s inclusion proof");
  auto at = unsigned_field(body.value(), "leaf_index", name_ + "'s inclusion proof");
  if (!path)
    return unavailable(path.error().detail());
  if (!at)
    return unavailable(at.error().detail());
  if (at.value() != index ||
      !verify_inclusion(index, head.tree_size, leaf, path.value(), head.root))
    return unavailable("the inclusion proof of entry " + std::to_string(index) +
                       " does not lead to the root of the signed tree head of size " +
                       std::to_string(head.tree_size));
  return true;
}

Result<Inclusion> LogClient::prove_certificate(const std::string &certificate_der) {
  auto head = tree_head();
  if (!head)
    return head.error();
  std::string sha256 = certificate_sha256(certificate_der);
  auto located = entry_by_certificate(sha256);
  if (!located)
    return located.error();
  auto entry = decode_entry(std::span(reinterpret_cast<const std::uint8_t *>(
                                          located.value().entry.data()),
                                      located.value().entry.size()),
                            name_ + "'s entry " + std::to_string(located.value().index));
  if (!entry)
    return unavailable(entry.error().detail());
  if (entry.value().certificate_der != certificate_der)
    return unavailable("entry " + std::to_string(located.value().index) +
                       " was returned for certificate SHA-256 " + sha256 +
                       " but holds another certificate");
  if (located.value().index >= head.value().tree_size)
    return Error(Reason::not_in_log, "certificate SHA-256 " + sha256 + " is entry " +
                                         std::to_string(located.value().index) + " of " + name_ +
                                         "'s log, beyond its signed tree head of size " +
                                         std::to_string(head.value().tree_size));
  auto proven = prove_inclusion(entry_leaf_hash(located.value().entry), located.value().index,
                                head.value());
  if (!proven)
    return proven.error();
  return Inclusion{located.value(), head.value()};
}

} // namespace chainlab::transparency
