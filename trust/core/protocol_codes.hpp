// core/protocol_codes.hpp: the one place where reason codes become
// protocol codes. Add a mapping here, never at a call site.
#pragma once

#include "core/reason.hpp"

namespace chainlab {

// http_status is the HTTP status an EST or service API refusal carries.
int http_status(Reason reason);
// tls_alert is the TLS alert (SSL_AD_*) a refused client certificate gets.
int tls_alert(Reason reason);
// connack_code is the MQTT 3.1.1 CONNACK return code for a refusal after
// TLS: 5 (not authorised) for every authorisation failure, so that SDKs
// report an authentication error.
int connack_code(Reason reason);
// answered_after_tls: the device's certificate is sound, but the identity
// it claims may not connect (disabled, unregistered, pending, bound to
// another certificate). Such refusals let TLS finish and answer CONNECT
// with connack_code(); every other refusal is a TLS alert.
bool answered_after_tls(Reason reason);

} // namespace chainlab
