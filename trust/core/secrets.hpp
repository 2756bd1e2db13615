// core/secrets.hpp: comparing secrets (tokens, codes, their hashes) in
// constant time, so timing reveals nothing about how much of a guess was
// right.
#pragma once

#include <string_view>

namespace chainlab {

// secrets_equal: CRYPTO_memcmp over equal lengths; a length mismatch is
// refused without comparing (the lengths of our secrets are public).
bool secrets_equal(std::string_view a, std::string_view b);

} // namespace chainlab
