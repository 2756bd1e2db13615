#include "hsm/key_type.hpp"

#include <array>
#include <utility>

namespace chainlab::hsm {
namespace {
constexpr std::array kNames = {
    std::pair{KeyType::ec_p256, "ec-p256"},
    std::pair{KeyType::ec_p384, "ec-p384"},
    std::pair{KeyType::rsa_2048, "rsa-2048"},
    std::pair{KeyType::rsa_3072, "rsa-3072"},
    std::pair{KeyType::rsa_1024, "rsa-1024"},
};
} // namespace

std::string_view to_string(KeyType type) {
  for (const auto &[value, name] : kNames)
    if (value == type)
      return name;
  return "ec-p256";
}

std::optional<KeyType> key_type_from_string(std::string_view name) {
  for (const auto &[value, text] : kNames)
    if (name == text)
      return value;
  return std::nullopt;
}

} // namespace chainlab::hsm
