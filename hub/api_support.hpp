// hub/api_support.hpp: what the service API's handlers share: the call
// they answer, JSON responses, and query parameters.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hub/service_api.hpp"

namespace chainlab::hub::api {

// Call is one routed request: its hub (already authorised), the path's
// parts ("hubs", hub, collection, ...) and where the answer goes.
struct Call {
  ServiceContext &context;
  const HttpRequest &request;
  const std::string &hub;
  const std::vector<std::string> &parts;
  Respond respond;

  const std::string &part(std::size_t index) const { return parts.at(index); }
};

HttpResponse json_response(int status, const nlohmann::json &body);
HttpResponse error_response(const Error &error);
// json_body parses a request body; discarded (not an exception) when it is
// not JSON or nests deeper than the device-JSON limit.
nlohmann::json json_body(const std::string &body);
// A list (GET events, GET devices) answers at most this many per page.
constexpr std::int64_t kMostPerPage = 1000;

// Page is what a paged list was asked for: the rows after "after" (an id,
// 0 for the first page), at most "limit" of them (kMostPerPage if absent).
struct Page {
  std::int64_t after = 0;
  std::size_t limit = kMostPerPage;
};
Result<Page> page_parameters(const std::string &target);
// page_limit: "limit" alone, for a list whose "after" is not a number.
Result<std::size_t> page_limit(const std::string &target);

// last_of_page: a list asks its store for one row more than |limit|, so
// that the extra row (removed here) says whether there are more.
template <class Rows>
bool last_of_page(Rows &rows, std::size_t limit) {
  bool more = rows.size() > limit;
  if (more)
    rows.erase(rows.begin() + std::ptrdiff_t(limit), rows.end());
  return more;
}

nlohmann::json ca_json(const registry::CaRecord &record);
nlohmann::json device_json(const registry::DeviceRecord &device);

// The live page's data (dashboard.cpp).
void dashboard_state(Call &call);
void dashboard_events(Call &call);

// The device routes (device_api.cpp), each answering its Call.
void list_devices(Call &call);
void set_group_enabled(Call &call);
void register_device(Call &call);
void show_device(Call &call);
void delete_device(Call &call);
void approve_device(Call &call);
void set_device_enabled(Call &call);
void pin_thumbprint(Call &call);
void device_twin(Call &call);
void device_telemetry(Call &call);
void send_message(Call &call);
void invoke_method(Call &call);

} // namespace chainlab::hub::api
