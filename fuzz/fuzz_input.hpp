// fuzz/fuzz_input.hpp: small helpers shared by the libFuzzer targets.
//
// A target treats chainlab::Error as the expected answer to bad input.
// Anything else that escapes (a standard-library exception, a sanitizer
// report, an assertion) is a defect, and libFuzzer stops on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string_view>

namespace chainlab::fuzz {

// FuzzInput splits one input: a selector byte first, the rest as bytes.
struct FuzzInput {
  FuzzInput(const std::uint8_t *data, std::size_t size) : data_(data), size_(size) {}

  std::uint8_t selector() const { return size_ ? data_[0] : 0; }
  std::string_view rest() const {
    return size_ ? std::string_view(reinterpret_cast<const char *>(data_ + 1), size_ - 1)
                 : std::string_view();
  }
  std::string_view all() const {
    return std::string_view(reinterpret_cast<const char *>(data_), size_);
  }

private:
  const std::uint8_t *data_;
  std::size_t size_;
};

// require stops the run with |what| when an invariant of the code under
// test does not hold; libFuzzer saves the input that broke it.
inline void require(bool holds, const char *what) {
  if (!holds) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

} // namespace chainlab::fuzz
