// core/error.hpp: the one error type. It carries a stable reason code for
// machines and a human explanation naming the certificate and the rule.
#pragma once

#include <stdexcept>
#include <string>
#include <variant>

#include "core/reason.hpp"

namespace chainlab {

class Error : public std::runtime_error {
public:
  Error(Reason reason, std::string detail)
      : std::runtime_error(std::string(to_string(reason)) + ": " + detail),
        reason_(reason), detail_(std::move(detail)) {}

  Reason reason() const { return reason_; }
  // detail is the human explanation, without the reason code prefix.
  const std::string &detail() const { return detail_; }

private:
  Reason reason_;
  std::string detail_;
};

// Result holds either a value or the Error explaining why there is none.
// Runtime refusals travel as Results; exceptions are for broken set-ups.
template <typename T> class Result {
public:
  Result(T value) : state_(std::move(value)) {}
  Result(Error error) : state_(std::move(error)) {}

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }
  T &value() { return std::get<T>(state_); }
  const T &value() const { return std::get<T>(state_); }
  T &operator*() { return value(); }
  const T &operator*() const { return value(); }
  const Error &error() const { return std::get<Error>(state_); }
  // value_or_throw turns a refusal into an exception at a CLI boundary.
  T take_or_throw() {
    if (!ok())
      throw error();
    return std::move(value());
  }

private:
  std::variant<T, Error> state_;
};

} // namespace chainlab
