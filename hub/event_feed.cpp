#include "hub/event_feed.hpp"

#include <cctype>

namespace chainlab::hub {

FeedCursor parse_cursor(const std::string &text) {
  // Two runs of 1 to 18 digits around one colon; anything else starts over.
  std::size_t colon = text.find(':');
  auto digits = [&](std::size_t from, std::size_t to) {
    if (to <= from || to - from > 18)
      return false;
    for (std::size_t i = from; i < to; ++i)
      if (!std::isdigit(static_cast<unsigned char>(text[i])))
        return false;
    return true;
  };
  if (colon == std::string::npos || !digits(0, colon) || !digits(colon + 1, text.size()))
    return {};
  return {std::stoll(text.substr(0, colon)), std::stoll(text.substr(colon + 1))};
}

std::string cursor_text(const FeedCursor &cursor) {
  return std::to_string(cursor.event) + ":" + std::to_string(cursor.telemetry);
}

FeedBatch read_feed(registry::HubRegistry &registry, const std::string &hub, FeedCursor after) {
  FeedBatch batch;
  batch.next = after;
  for (auto &event : registry.events(hub, after.event, EventFeed::kBatchLimit)) {
    batch.next.event = event.id;
    batch.events.push_back(std::move(event));
  }
  batch.telemetry = registry.telemetry_after(hub, after.telemetry, EventFeed::kBatchLimit);
  if (!batch.telemetry.empty())
    batch.next.telemetry = batch.telemetry.back().first;
  return batch;
}

EventFeed::EventFeed(registry::HubRegistry &registry, std::chrono::milliseconds hold)
    : registry_(registry), hold_(hold), thread_([this] { run(); }) {}

EventFeed::~EventFeed() { close(); }

void EventFeed::close() {
  {
    std::lock_guard lock(mutex_);
    if (closed_)
      return;
    closed_ = stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool EventFeed::wait(const std::string &hub, FeedCursor after, Answer answer) {
  std::lock_guard lock(mutex_);
  if (waiters_.size() >= kMaxWaiters || stopping_)
    return false;
  waiters_.push_back({hub, after, std::move(answer), std::chrono::steady_clock::now() + hold_});
  return true;
}

void EventFeed::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping_; });
    bool final = stopping_;
    std::list<Waiter> looking;
    looking.swap(waiters_);
    lock.unlock();
    look(looking, final); // answers without the lock: a session may call wait() again
    lock.lock();
    waiters_.splice(waiters_.begin(), looking);
    if (final)
      return;
  }
}

// look answers each waiter that has something new, is past its hold, or
// is still waiting when the feed stops; the rest stay in |waiters|.
void EventFeed::look(std::list<Waiter> &waiters, bool final) {
  auto now = std::chrono::steady_clock::now();
  for (auto waiter = waiters.begin(); waiter != waiters.end();) {
    FeedBatch batch;
    try {
      batch = read_feed(registry_, waiter->hub, waiter->after);
    } catch (const std::exception &) { // the registry failed: answer with nothing
      batch.next = waiter->after;
      final = true;
    }
    if (batch.empty() && now < waiter->deadline && !final) {
      ++waiter;
      continue;
    }
    waiter->answer(std::move(batch));
    waiter = waiters.erase(waiter);
  }
}

} // namespace chainlab::hub
