#include "core/byte_reader.hpp"

namespace chainlab {

bool ByteReader::read_u8(std::uint8_t &out_value) {
  if (remaining() < 1)
    return false;
  out_value = bytes_[position_++];
  return true;
}

bool ByteReader::read_u16(std::uint16_t &out_value) {
  if (remaining() < 2)
    return false;
  out_value = std::uint16_t(bytes_[position_] << 8 | bytes_[position_ + 1]);
  position_ += 2;
  return true;
}

bool ByteReader::read_uint(std::size_t width, std::uint64_t &out_value) {
  if (width == 0 || width > 8 || remaining() < width)
    return false;
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i)
    value = value << 8 | bytes_[position_ + i];
  position_ += width;
  out_value = value;
  return true;
}

bool ByteReader::read_bytes(std::size_t count, std::span<const std::uint8_t> &out_bytes) {
  if (remaining() < count)
    return false;
  out_bytes = bytes_.subspan(position_, count);
  position_ += count;
  return true;
}

bool ByteReader::read_binary(std::string &out_value) {
  std::size_t start = position_;
  std::uint16_t length = 0;
  std::span<const std::uint8_t> data;
  if (!read_u16(length) || !read_bytes(length, data)) {
    position_ = start;
    return false;
  }
  // By pointer and size: libstdc++ assigns from other iterator types through
  // a temporary string (two allocations instead of one).
  out_value.assign(reinterpret_cast<const char *>(data.data()), data.size());
  return true;
}

bool ByteReader::read_utf8(std::string &out_value) {
  std::size_t start = position_;
  std::uint16_t length = 0;
  std::span<const std::uint8_t> data;
  bool read = read_u16(length) && read_bytes(length, data);
  std::string_view text(reinterpret_cast<const char *>(data.data()), data.size());
  if (!read || !is_valid_utf8(text)) {
    position_ = start;
    return false;
  }
  // Checked in place, then assigned: |out_value|'s capacity is reused.
  out_value.assign(text);
  return true;
}

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte == 0)
      return false;
    std::size_t length = byte < 0x80 ? 1 : (byte >> 5) == 0x6 ? 2 : (byte >> 4) == 0xe ? 3
                                         : (byte >> 3) == 0x1e ? 4 : 0;
    if (length == 0 || i + length > text.size())
      return false;
    std::uint32_t code = length == 1 ? byte : byte & (0x7f >> length);
    for (std::size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80)
        return false;
      code = code << 6 | (next & 0x3f);
    }
    static constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
      return false;
    i += length;
  }
  return true;
}

} // namespace chainlab
