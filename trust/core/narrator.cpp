#include "core/narrator.hpp"

namespace chainlab {

Narrator::~Narrator() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  unflushed_changed_.notify_all();
  if (flusher_.joinable())
    flusher_.join();
  std::lock_guard lock(mutex_);
  out_.flush();
}

void Narrator::line(const char *marker, const std::string &text, bool flush_now) {
  std::lock_guard lock(mutex_);
  out_ << "[" << actor_ << "] " << marker << text << '\n';
  if (flush_now) {
    out_.flush(); // and every say_soon line before it, in order
    unflushed_ = false;
    return;
  }
  if (unflushed_)
    return;
  unflushed_ = true;
  if (!flusher_.joinable())
    flusher_ = std::thread([this] { flush_later(); });
  unflushed_changed_.notify_one();
}

void Narrator::flush_later() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    unflushed_changed_.wait(lock, [this] { return unflushed_ || stopping_; });
    // Lines said meanwhile share this flush.
    unflushed_changed_.wait_for(lock, kFlushWithin, [this] { return stopping_; });
    out_.flush();
    unflushed_ = false;
  }
}

} // namespace chainlab
