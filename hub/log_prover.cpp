#include "hub/log_prover.hpp"

#include "transparency/log_client.hpp"

namespace chainlab::hub {
namespace {

std::string cache_key(const LogRegistration &log, const std::string &certificate_der) {
  return log.url + " " + log.key_fingerprint + " " +
         transparency::certificate_sha256(certificate_der);
}

} // namespace

LogProver::LogProver() : worker_([this] { work(); }) {}

LogProver::~LogProver() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  worker_.join();
}

void LogProver::check(std::shared_ptr<const LogRegistration> log, std::string certificate_der,
                      Done done) {
  bool proven = false, queued = false;
  {
    std::lock_guard lock(mutex_);
    proven = proven_.count(cache_key(*log, certificate_der)) != 0;
    if (!proven && queue_.size() < kMaxQueued) {
      queue_.push_back({std::move(log), std::move(certificate_der), std::move(done)});
      queued = true;
    }
  }
  if (queued)
    return wake_.notify_one();
  if (proven) // answered outside the lock: |done| may take its time
    return done(std::nullopt);
  done(Error(Reason::log_unavailable, std::to_string(kMaxQueued) +
                                          " log checks are already waiting; try again later"));
}

std::optional<Error> LogProver::prove(const Job &job) {
  try {
    transparency::LogClient client({job.log->url, ossl::up_ref(job.log->certificate.get())});
    auto proven = client.prove_certificate(job.certificate_der);
    if (!proven)
      return proven.error();
    return std::nullopt;
  } catch (const std::exception &error) {
    return Error(Reason::log_unavailable, error.what());
  }
}

void LogProver::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_)
        return;
      job = std::move(queue_.front());
      queue_.pop_front();
      std::string key = cache_key(*job.log, job.certificate_der);
      if (proven_.count(key)) {
        lock.unlock();
        job.done(std::nullopt);
        continue;
      }
    }
    auto failure = prove(job);
    if (!failure) {
      std::lock_guard lock(mutex_);
      if (proven_.size() >= kMaxCached)
        proven_.clear(); // bounded: a full cache starts over
      proven_.insert(cache_key(*job.log, job.certificate_der));
    }
    try {
      job.done(failure);
    } catch (...) {
      // The session reports its own failures; the prover serves on.
    }
  }
}

} // namespace chainlab::hub
