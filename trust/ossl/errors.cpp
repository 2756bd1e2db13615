#include "ossl/errors.hpp"

#include <openssl/err.h>

namespace chainlab::ossl {

std::string drain_errors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!text.empty())
      text += "; ";
    text += buffer;
  }
  return text.empty() ? "no OpenSSL error recorded" : text;
}

} // namespace chainlab::ossl
