// net/https_client.hpp: one HTTPS request over a fresh TLS connection, with
// a deadline. Asio stays behind this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/http_message.hpp"
#include "ossl/ptr.hpp"

namespace chainlab::net {

// https_request connects to |host|:|port| using |context| (which decides
// whom to trust), sends |request| and returns the response.
// Throws Error(peer_unreachable) if no connection could be made,
// Error(server_untrusted) if the TLS handshake failed, and
// Error(peer_refused) if the exchange broke off.
HttpResponse https_request(const std::string &host, std::uint16_t port,
                           SSL_CTX *context, const HttpRequest &request,
                           std::chrono::seconds timeout = std::chrono::seconds(30));

} // namespace chainlab::net
