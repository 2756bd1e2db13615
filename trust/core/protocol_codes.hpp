// core/protocol_codes.hpp: the one place where reason codes become
// protocol codes. Add a mapping here, never at a call site.
#pragma once

#include "core/reason.hpp"

namespace chainlab {

// http_status is the HTTP status an EST or service API refusal carries.
int http_status(Reason reason);

} // namespace chainlab
