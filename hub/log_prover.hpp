// hub/log_prover.hpp: asks issuers' transparency logs, off the I/O
// threads, whether they hold a device's certificate. One worker thread
// with a bounded queue; proofs that verified are cached, so a certificate
// is proven once (refusals are not cached: a log may have been down).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "hub/tenant_snapshot.hpp"

namespace chainlab::hub {

class LogProver {
public:
  static constexpr std::size_t kMaxQueued = 256;
  static constexpr std::size_t kMaxCached = 100'000;
  // |done| hears nullopt when the log proved the certificate included,
  // else why not (not_in_log or log_unavailable, from the log client).
  using Done = std::function<void(std::optional<Error>)>;

  LogProver();
  ~LogProver(); // answers nothing still queued; waits for the one in flight

  // check calls |done| once: at once for a cached proof or a full queue,
  // otherwise from the worker thread.
  void check(std::shared_ptr<const LogRegistration> log, std::string certificate_der, Done done);

private:
  struct Job {
    std::shared_ptr<const LogRegistration> log;
    std::string certificate_der;
    Done done;
  };
  void work();
  std::optional<Error> prove(const Job &job);

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  std::set<std::string> proven_; // log URL + certificate SHA-256
  bool stopping_ = false;
  std::thread worker_;
};

} // namespace chainlab::hub
