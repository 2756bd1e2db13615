// hub/event_feed.hpp: what the live page's event stream waits on. A request
// for what happened after a cursor is answered at once when something has,
// else held until something does or the hold time passes. One thread looks
// for new rows four times a second, only for hubs someone waits on, so an
// idle page costs no query and a burst of events one query per look.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "registry/hub_registry.hpp"

namespace chainlab::hub {

struct FeedCursor {
  std::int64_t event = 0;     // the last event id seen
  std::int64_t telemetry = 0; // the last telemetry id seen
};
// parse_cursor reads "EVENT:TELEMETRY" (a Last-Event-ID); {0,0} if malformed.
FeedCursor parse_cursor(const std::string &text);
std::string cursor_text(const FeedCursor &cursor);

struct FeedBatch {
  std::vector<registry::EventRecord> events;
  std::vector<std::pair<std::int64_t, registry::TelemetryRecord>> telemetry;
  FeedCursor next;
  bool empty() const { return events.empty() && telemetry.empty(); }
};

// read_feed: at most kBatchLimit events and messages of |hub| after |after|.
FeedBatch read_feed(registry::HubRegistry &registry, const std::string &hub, FeedCursor after);

class EventFeed {
public:
  using Answer = std::function<void(FeedBatch)>;
  static constexpr std::size_t kMaxWaiters = 64;
  static constexpr std::size_t kBatchLimit = 200;

  explicit EventFeed(registry::HubRegistry &registry,
                     std::chrono::milliseconds hold = std::chrono::seconds(20));
  ~EventFeed(); // close()
  // close answers every waiter with what there is and stops the thread:
  // call it while the sessions' I/O context still exists.
  void close();
  EventFeed(const EventFeed &) = delete;
  EventFeed &operator=(const EventFeed &) = delete;

  // wait answers |answer| once, from the feed's thread; false, and no
  // answer, when kMaxWaiters already wait.
  bool wait(const std::string &hub, FeedCursor after, Answer answer);

private:
  struct Waiter {
    std::string hub;
    FeedCursor after;
    Answer answer;
    std::chrono::steady_clock::time_point deadline;
  };
  void run();
  void look(std::list<Waiter> &waiters, bool final);

  registry::HubRegistry &registry_;
  std::chrono::milliseconds hold_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::list<Waiter> waiters_;
  bool stopping_ = false;
  bool closed_ = false;
  std::thread thread_;
};

} // namespace chainlab::hub
