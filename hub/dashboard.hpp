// hub/dashboard.hpp: the hub's live page for a class.
//
//   GET /hubs/{hub}/dashboard          the page: a sign-in form (no data; no token needed)
//   GET /dashboard/app.js | app.css    its script and style
//   GET /hubs/{hub}/dashboard/state    bearer token: CAs, devices, disabled
//                                      intermediates, refusals by reason, cursor
//   GET /hubs/{hub}/dashboard/events   bearer token: a text/event-stream of
//                                      what happens after Last-Event-ID ("E:T"),
//                                      open for up to 10 minutes
//
// The page loads nothing from elsewhere (its Content-Security-Policy allows
// only its own script, style and API) and renders every recorded string as
// text. The token lives in the page's memory and travels in a header.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/http_message.hpp"

namespace chainlab::hub {

extern const char *const kDashboardPage;
extern const char *const kDashboardStyle;
extern const char *const kDashboardScript;

// dashboard_file answers the page and its static files, which need no
// token; nullopt for any other path.
std::optional<HttpResponse> dashboard_file(const HttpRequest &request,
                                           const std::vector<std::string> &parts);

} // namespace chainlab::hub
