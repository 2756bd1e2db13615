// ossl/errors.hpp: turn OpenSSL's thread-local error queue into text.
#pragma once

#include <string>

namespace chainlab::ossl {

// drain_errors empties the OpenSSL error queue and returns it as one line,
// or "no OpenSSL error recorded" if it was empty.
std::string drain_errors();

} // namespace chainlab::ossl
