#include "ca/hub_api.hpp"

#include "core/error.hpp"
#include "net/https_client.hpp"

namespace chainlab::ca {

using nlohmann::json;

HubApi::HubApi(const HubEndpoint &endpoint)
    : endpoint_(endpoint), tls_(endpoint.pinned_fingerprint, endpoint.host) {}

json HubApi::call(const std::string &method, const std::string &path, const json &body) {
  HttpRequest request{method, "/hubs/" + endpoint_.hub + path,
                      {{"Authorization", "Bearer " + endpoint_.token},
                       {"Content-Type", "application/json"}},
                      body.is_null() ? "" : body.dump()};
  HttpResponse response;
  try {
    response = net::https_request(endpoint_.host, endpoint_.port, tls_.get(), request);
  } catch (const Error &error) {
    if (error.reason() == Reason::server_untrusted && !tls_.failure().empty())
      throw Error(Reason::server_untrusted, "hub at " + endpoint_.host + ":" +
                                                std::to_string(endpoint_.port) + ": " +
                                                tls_.failure());
    throw;
  }
  json parsed = json::parse(response.body, nullptr, false);
  if (response.status >= 300) {
    auto reason = reason_from_string(response.header("X-Chainlab-Reason"));
    std::string message = parsed.is_object() ? parsed.value("message", response.body)
                                             : response.body;
    throw Error(reason.value_or(Reason::peer_refused),
                "hub refused " + method + " " + path + " (HTTP " +
                    std::to_string(response.status) + "): " + message);
  }
  return parsed;
}

} // namespace chainlab::ca
