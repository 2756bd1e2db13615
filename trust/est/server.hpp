// est/server.hpp: the RFC 7030 server side as one pure function from an
// HTTP request to an HTTP response. Routing, content types, Basic auth and
// error bodies live here; issuance decisions live behind est::Authority.
#pragma once

#include "core/http_message.hpp"
#include "est/authority.hpp"

namespace chainlab::est {

inline constexpr std::string_view kReasonHeader = "X-Chainlab-Reason";

HttpResponse handle_request(Authority &authority, const HttpRequest &request,
                            const Requester &requester);

// error_response renders a refusal: status from the reason, the reason code
// in kReasonHeader, and a text body a person can read.
HttpResponse error_response(const Error &error);

// basic_password extracts the password of an "Authorization: Basic" header;
// empty if the header is missing or not Basic.
std::string basic_password(const std::string &authorization);

} // namespace chainlab::est
