#include "ca/log_api.hpp"

#include <nlohmann/json.hpp>

#include <functional>

#include "est/server.hpp"
#include "pki/encoding.hpp"
#include "transparency/log_json.hpp"

namespace chainlab::ca {
namespace {

using nlohmann::json;

struct LogCall {
  registry::TransparencyLog &log;
  const std::string &ca_name;
  const HttpRequest &request;
  std::string parameter(const std::string &name) const {
    return query_parameter(request.target, name);
  }
};

HttpResponse json_response(const json &body) {
  return HttpResponse{200, {{"Content-Type", "application/json"}}, body.dump() + "\n"};
}

HttpResponse refuse(Reason reason, const std::string &detail) {
  return est::error_response(Error(reason, detail));
}

// absent: a lookup that found nothing is 404, with its reason as usual.
HttpResponse absent(const std::string &detail) {
  HttpResponse response = refuse(Reason::not_in_log, detail);
  response.status = 404;
  return response;
}

// number: query parameter |name|, which each log request requires.
Result<std::uint64_t> number(const LogCall &call, const std::string &name) {
  auto value = number_parameter(call.request.target, name, std::nullopt, INT64_MAX);
  if (!value)
    return value.error();
  return std::uint64_t(*value);
}

HttpResponse get_sth(LogCall &call) {
  auto head = call.log.latest_tree_head();
  if (!head)
    return refuse(Reason::not_found, call.ca_name + "'s log has signed no tree head yet");
  return json_response(transparency::to_json(*head));
}

HttpResponse get_entries(LogCall &call) {
  auto start = number(call, "start"), end = number(call, "end");
  if (!start)
    return est::error_response(start.error());
  if (!end)
    return est::error_response(end.error());
  std::uint64_t size = call.log.size();
  if (*start > *end || *start >= size)
    return refuse(Reason::malformed_request,
                  "entries " + std::to_string(*start) + ".." + std::to_string(*end) +
                      " lie outside " + call.ca_name + "'s log of " + std::to_string(size) +
                      " entries");
  std::uint64_t last = std::min({*end, size - 1, *start + kMaxEntriesPerRequest - 1});
  json entries = json::array();
  for (const auto &entry : call.log.entries(*start, last + 1))
    entries.push_back({{"leaf_input", pki::base64_encode(entry)}});
  return json_response({{"entries", entries}});
}

HttpResponse get_proof_by_hash(LogCall &call) {
  auto tree_size = number(call, "tree_size");
  if (!tree_size)
    return est::error_response(tree_size.error());
  auto hash = transparency::hash_from_base64(call.parameter("hash"), "query parameter \"hash\"");
  if (!hash)
    return est::error_response(hash.error());
  if (*tree_size == 0 || *tree_size > call.log.size())
    return refuse(Reason::malformed_request,
                  "tree_size " + std::to_string(*tree_size) + " is not a size of " +
                      call.ca_name + "'s log (1.." + std::to_string(call.log.size()) + ")");
  auto index = call.log.index_of_leaf(hash.value(), *tree_size);
  if (!index)
    return absent("no entry among the first " + std::to_string(*tree_size) +
                                          " of " + call.ca_name + "'s log has leaf hash " +
                                          transparency::to_hex(hash.value()));
  return json_response(
      {{"leaf_index", *index},
       {"audit_path", transparency::hashes_to_json(call.log.inclusion_proof(*index, *tree_size))}});
}

HttpResponse get_sth_consistency(LogCall &call) {
  auto first = number(call, "first"), second = number(call, "second");
  if (!first)
    return est::error_response(first.error());
  if (!second)
    return est::error_response(second.error());
  std::uint64_t size = call.log.size();
  if (*first == 0 || *first > *second || *second > size)
    return refuse(Reason::malformed_request,
                  "no consistency proof from " + std::to_string(*first) + " to " +
                      std::to_string(*second) + " in " + call.ca_name + "'s log of " +
                      std::to_string(size) + " entries (need 0 < first <= second <= size)");
  return json_response({{"consistency", transparency::hashes_to_json(
                                            call.log.consistency_proof(*first, *second))}});
}

HttpResponse get_entry_by_certificate(LogCall &call) {
  std::string sha256 = call.parameter("sha256");
  if (sha256.size() != 64 || sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
    return refuse(Reason::malformed_request,
                  "query parameter \"sha256\" must be 64 lower-case hex digits");
  auto index = call.log.index_of_certificate(sha256);
  if (!index)
    return absent("no certificate with SHA-256 " + sha256 + " is in " +
                                          call.ca_name + "'s log");
  auto entry = call.log.entries(*index, *index + 1);
  return json_response(
      {{"leaf_index", *index}, {"leaf_input", pki::base64_encode(entry.at(0))}});
}

struct Route {
  std::string_view name;
  HttpResponse (*handler)(LogCall &);
};

constexpr Route kRoutes[] = {
    {"get-sth", get_sth},
    {"get-entries", get_entries},
    {"get-proof-by-hash", get_proof_by_hash},
    {"get-sth-consistency", get_sth_consistency},
    {"get-entry-by-certificate", get_entry_by_certificate},
};

} // namespace

bool is_log_request(const HttpRequest &request) {
  return request.target.rfind(std::string(transparency::kLogPrefix), 0) == 0;
}

HttpResponse handle_log_request(registry::TransparencyLog &log, const std::string &ca_name,
                                const HttpRequest &request) {
  std::string target = request.target.substr(0, request.target.find('?'));
  std::string operation = target.substr(std::min(target.size(), transparency::kLogPrefix.size()));
  for (const auto &route : kRoutes) {
    if (route.name != operation)
      continue;
    if (request.method != "GET")
      return HttpResponse{405, {{"Content-Type", "text/plain"}, {"Allow", "GET"}},
                          operation + " takes GET\n"};
    LogCall call{log, ca_name, request};
    return route.handler(call);
  }
  return HttpResponse{404, {{"Content-Type", "text/plain"}},
                      "unknown log operation: " + operation.substr(0, 100) + "\n"};
}

} // namespace chainlab::ca
