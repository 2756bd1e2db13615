// core/narrator.hpp: the narrated transcript trainees follow. Each actor
// speaks in its own name; lines are written whole, so concurrent actors
// writing to one terminal interleave by line, never mid-line.
#pragma once

#include <mutex>
#include <ostream>
#include <string>

namespace chainlab {

class Narrator {
public:
  Narrator(std::string actor, std::ostream &out) : actor_(std::move(actor)), out_(out) {}

  // say: something the actor did ("asks Company-X for a certificate").
  void say(const std::string &text) { line("", text); }
  // check: a rule that was checked and held.
  void check(const std::string &text) { line("  \u2713 ", text); }
  // refuse: a rule that failed, with its reason code.
  void refuse(const std::string &reason, const std::string &text) {
    line("  \u2717 ", "refused (" + reason + "): " + text);
  }
  // detail: an indented fact (a fingerprint, a URI).
  void detail(const std::string &text) { line("    ", text); }

  const std::string &actor() const { return actor_; }

private:
  void line(const char *marker, const std::string &text) {
    std::lock_guard lock(mutex_);
    out_ << "[" << actor_ << "] " << marker << text << std::endl;
  }
  std::string actor_;
  std::ostream &out_;
  std::mutex mutex_;
};

} // namespace chainlab
