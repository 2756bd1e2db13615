// core/random.hpp: random identifiers from OpenSSL's CSPRNG, as hex.
#pragma once

#include <cstddef>
#include <string>

namespace chainlab {

// random_hex returns |bytes| random bytes as 2*|bytes| hex digits
// (secrets, PINs, tokens, verification codes).
std::string random_hex(std::size_t bytes, bool upper_case = false);

} // namespace chainlab
