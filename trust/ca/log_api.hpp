// ca/log_api.hpp: a CA's transparency log over HTTPS, beside EST, as one
// pure function from request to response (after RFC 6962 section 4):
//
//   GET /log/v1/get-sth                                   latest signed tree head
//   GET /log/v1/get-entries?start=A&end=B                 entries A..B inclusive (at most 256)
//   GET /log/v1/get-proof-by-hash?hash=B64&tree_size=N    inclusion proof of a leaf hash
//   GET /log/v1/get-sth-consistency?first=M&second=N      consistency proof
//   GET /log/v1/get-entry-by-certificate?sha256=HEX       which leaf holds a certificate
//
// Read-only: tree heads are signed when the CA issues, never on a read.
#pragma once

#include <string_view>

#include "core/http_message.hpp"
#include "registry/transparency_log.hpp"
#include "transparency/log_json.hpp"

namespace chainlab::ca {

inline constexpr std::uint64_t kMaxEntriesPerRequest = 256;

bool is_log_request(const HttpRequest &request);
HttpResponse handle_log_request(registry::TransparencyLog &log, const std::string &ca_name,
                                const HttpRequest &request);

} // namespace chainlab::ca
