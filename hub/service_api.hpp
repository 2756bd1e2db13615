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
//   POST   /hubs/{hub}/certificates/{name}/onboarding  {"policy": "first-connection" |
//                                                         "pre-registered" | "approval"}
//   DELETE /hubs/{hub}/certificates/{name}
//   GET    /hubs/{hub}/events[?after=ID]
//   GET    /hubs/{hub}/devices[?ca=NAME&issuer=SUBJECT&under=SUBJECT
//                               &from=ISO8601&until=ISO8601&status=enabled|disabled]
//   POST   /hubs/{hub}/devices/disable | /enable  ?ca=|issuer=|under=  (a whole group)
//   GET    /hubs/{hub}/devices/{id}
//   GET    /hubs/{hub}/devices/{id}/telemetry | /twin
//   PUT    /hubs/{hub}/devices/{id}  {} or {"thumbprint": SHA-256}  (pre-register)
//   POST   /hubs/{hub}/devices/{id}/disable | /enable | /approve
//   DELETE /hubs/{hub}/devices/{id}
//   POST   /hubs/{hub}/devices/{id}/messages[?properties=...]   (body: payload)
//   POST   /hubs/{hub}/devices/{id}/methods/{name}[?timeout=SECONDS] (body: payload)
#pragma once

#include <chrono>
#include <functional>

#include "core/http_message.hpp"
#include "hub/ca_registration.hpp"

namespace chainlab::hub {

using CloudToDevice = std::function<void(const std::string &hub, const std::string &device_id,
                                         const std::string &properties,
                                         const std::string &payload)>;

struct MethodAnswer {
  int status = 0;
  std::string payload;
};
using InvokeMethod = std::function<Result<MethodAnswer>(
    const std::string &hub, const std::string &device_id, const std::string &method,
    const std::string &payload, std::chrono::milliseconds timeout)>;

struct ServiceContext {
  registry::HubRegistry &registry;
  CaRegistration &registration;
  CloudToDevice cloud_to_device; // may be empty (no device gateway)
  InvokeMethod invoke_method;    // may be empty (no device gateway)
};

HttpResponse handle_service_request(ServiceContext &context, const HttpRequest &request);

} // namespace chainlab::hub
