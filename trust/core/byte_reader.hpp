// core/byte_reader.hpp: a bounds-checked cursor over bytes (after
// BoringSSL's CBS). Every read either succeeds whole or returns false and
// leaves the cursor where it was; nothing reads past the end.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace chainlab {

class ByteReader {
public:
  explicit ByteReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  bool read_u8(std::uint8_t &out_value);
  bool read_u16(std::uint16_t &out_value);          // big-endian
  // read_uint: an unsigned big-endian integer |width| bytes wide (1 to 8).
  bool read_uint(std::size_t width, std::uint64_t &out_value);
  bool read_bytes(std::size_t count, std::span<const std::uint8_t> &out_bytes);
  // read_binary: a u16 length, then that many bytes.
  bool read_binary(std::string &out_value);
  // read_utf8: like read_binary, but refuses invalid UTF-8 and U+0000.
  bool read_utf8(std::string &out_value);
  std::span<const std::uint8_t> rest() const { return bytes_.subspan(position_); }
  std::size_t remaining() const { return bytes_.size() - position_; }

private:
  std::span<const std::uint8_t> bytes_;
  std::size_t position_ = 0;
};

// is_valid_utf8 accepts well-formed UTF-8 without NUL, surrogates or
// overlong forms (MQTT 3.1.1 section 1.5.3).
bool is_valid_utf8(std::string_view text);

} // namespace chainlab
