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
//                                     or {"policy": "logged", "logs": [{"url", "certificate"}]}
//   POST   /hubs/{hub}/certificates/{name}/certificateChange  {"policy": "any" |
//                                                         "same-issuer" | "pinned"}
//   DELETE /hubs/{hub}/certificates/{name}
//   GET    /hubs/{hub}/events[?after=ID]
//   GET    /hubs/{hub}/devices[?ca=NAME&issuer=SUBJECT&under=SUBJECT
//                               &from=ISO8601&until=ISO8601&status=enabled|disabled
//                               &certificates=true (each device's certificate, base64 DER)]
//   POST   /hubs/{hub}/devices/disable | /enable  ?ca=|issuer=|under=[&key=SPKI-SHA256]
//          (a whole group; issuer= and under= also stand for devices signed later)
//   GET    /hubs/{hub}/devices/{id}
//   GET    /hubs/{hub}/devices/{id}/telemetry | /twin
//   PUT    /hubs/{hub}/devices/{id}  {} or {"thumbprint": SHA-256}  (pre-register)
//   POST   /hubs/{hub}/devices/{id}/disable | /enable | /approve
//   PUT    /hubs/{hub}/devices/{id}/thumbprint  {"thumbprint": SHA-256}  (re-pin)
//   DELETE /hubs/{hub}/devices/{id}
//   POST   /hubs/{hub}/devices/{id}/messages[?properties=...]   (body: payload)
//   POST   /hubs/{hub}/devices/{id}/methods/{name}[?timeout=SECONDS] (body: payload)
//   GET    /hubs/{hub}/dashboard[/state|/events]  the live page (hub/dashboard.hpp)
#pragma once

#include <chrono>
#include <functional>

#include "core/http_message.hpp"
#include "hub/ca_registration.hpp"
#include "hub/trust_store.hpp"

namespace chainlab::hub {

class EventFeed;

using CloudToDevice = std::function<Result<bool>(
    const std::string &hub, const std::string &device_id, const std::string &properties,
    const std::string &payload)>;

struct MethodAnswer {
  int status = 0;
  std::string payload;
};
// InvokeMethod answers through |done|, once, later: no API thread waits.
using InvokeMethod = std::function<void(
    const std::string &hub, const std::string &device_id, const std::string &method,
    const std::string &payload, std::chrono::milliseconds timeout,
    std::function<void(Result<MethodAnswer>)> done)>;

struct ServiceContext {
  registry::HubRegistry &registry;
  CaRegistration &registration;
  TrustStore &trust;             // republished after every operator change
  CloudToDevice cloud_to_device; // may be empty (no device gateway)
  InvokeMethod invoke_method;    // may be empty (no device gateway)
  EventFeed *feed = nullptr;     // the live page's event wait; null: answer at once
};

using Respond = std::function<void(HttpResponse)>;

// handle_service_request answers |request| through |respond|, once: at
// once for most routes, when the device answers for a direct method.
void handle_service_request(ServiceContext &context, const HttpRequest &request,
                            Respond respond);
// The same, waiting for the answer (tests and tools).
HttpResponse handle_service_request(ServiceContext &context, const HttpRequest &request);

} // namespace chainlab::hub
