// ca/hub_api.hpp: a CA owner's client for a hub's service API: pinned
// TLS, the hub's bearer token, and refusals turned into Errors that keep
// the hub's reason code.
#pragma once

#include <nlohmann/json.hpp>

#include "ca/hub_registration.hpp"
#include "net/tls_context.hpp"

namespace chainlab::ca {

class HubApi {
public:
  explicit HubApi(const HubEndpoint &endpoint);
  // call sends |body| (if not null) to /hubs/{hub}|path| and returns the
  // parsed answer; throws the hub's refusal as an Error.
  nlohmann::json call(const std::string &method, const std::string &path,
                      const nlohmann::json &body = nullptr);

private:
  HubEndpoint endpoint_;
  net::PinnedClientContext tls_;
};

} // namespace chainlab::ca
