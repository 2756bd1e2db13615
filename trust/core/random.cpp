#include "core/random.hpp"

#include <vector>

#include <openssl/rand.h>

#include "core/error.hpp"

namespace chainlab {

std::string random_hex(std::size_t bytes, bool upper_case) {
  std::vector<unsigned char> random(bytes);
  if (RAND_bytes(random.data(), int(random.size())) != 1)
    throw Error(Reason::internal_error, "the random number generator failed");
  const char *digits = upper_case ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string text;
  for (unsigned char b : random) {
    text += digits[b >> 4];
    text += digits[b & 0xf];
  }
  return text;
}

} // namespace chainlab
