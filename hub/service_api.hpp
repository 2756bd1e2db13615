// hub/service_api.hpp: the hub's HTTPS+JSON service API, shaped like Azure
// IoT Hub's certificates API, as one pure function. Each named hub
// (tenant) has its own bearer token.
//
//   GET    /hubs/{hub}/certificates
//   PUT    /hubs/{hub}/certificates/{name}         {"certificate": PEM or base64 DER}
//   GET    /hubs/{hub}/certificates/{name}
//   POST   /hubs/{hub}/certificates/{name}/generateVerificationCode
//   POST   /hubs/{hub}/certificates/{name}/verify  {"certificate": PEM or base64 DER}
//   POST   /hubs/{hub}/certificates/{name}/disable | /enable
//   DELETE /hubs/{hub}/certificates/{name}
//   GET    /hubs/{hub}/events[?after=ID]
#pragma once

#include "core/http_message.hpp"
#include "hub/ca_registration.hpp"

namespace chainlab::hub {

HttpResponse handle_service_request(registry::HubRegistry &registry,
                                    CaRegistration &registration,
                                    const HttpRequest &request);

} // namespace chainlab::hub
