// hsm/key_type.hpp: the key algorithms an actor may choose.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chainlab::hsm {

// rsa_1024 is too weak for any chainlab CA's policy: only a deliberately
// misbehaving device makes one (the conformance suite's weak-key case).
enum class KeyType { ec_p256, ec_p384, rsa_2048, rsa_3072, rsa_1024 };

// Names as used on command lines and in actor.json: "ec-p256", "rsa-2048"...
std::string_view to_string(KeyType type);
std::optional<KeyType> key_type_from_string(std::string_view name);

} // namespace chainlab::hsm
