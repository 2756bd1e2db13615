// core/narrator.hpp: the narrated transcript trainees follow. Each actor
// speaks in its own name; lines are written whole, so concurrent actors
// writing to one terminal interleave by line, never mid-line.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

namespace chainlab {

class Narrator {
public:
  Narrator(std::string actor, std::ostream &out) : actor_(std::move(actor)), out_(out) {}
  ~Narrator(); // flushes what say_soon left

  // say: something the actor did ("asks Company-X for a certificate").
  void say(const std::string &text) { line("", text, true); }
  // say_soon: as say, for lines that can come thousands a second (each
  // message and connection of a fleet): written at once, flushed within
  // kFlushWithin together with the lines after it, not one write each.
  void say_soon(const std::string &text) { line("", text, false); }
  // check: a rule that was checked and held.
  void check(const std::string &text) { line("  \u2713 ", text, true); }
  // refuse: a rule that failed, with its reason code.
  void refuse(const std::string &reason, const std::string &text) {
    line("  \u2717 ", "refused (" + reason + "): " + text, true);
  }
  // detail: an indented fact (a fingerprint, a URI).
  void detail(const std::string &text) { line("    ", text, true); }

  const std::string &actor() const { return actor_; }

  static constexpr std::chrono::milliseconds kFlushWithin{20};

private:
  void line(const char *marker, const std::string &text, bool flush_now);
  void flush_later(); // the flusher thread, started by the first say_soon

  std::string actor_;
  std::ostream &out_;
  std::mutex mutex_;
  std::condition_variable unflushed_changed_;
  bool unflushed_ = false, stopping_ = false;
  std::thread flusher_;
};

} // namespace chainlab
