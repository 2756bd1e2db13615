#include "hub/connection_limits.hpp"

namespace chainlab::hub {

Result<std::shared_ptr<ConnectionLimits::Place>> ConnectionLimits::admit(const std::string &address) {
  std::lock_guard lock(mutex_);
  if (open_ >= settings_.max_connections)
    return Error(Reason::limit_exceeded,
                 "the hub holds " + std::to_string(open_) + " device connections, its limit (" +
                     "--max-connections " + std::to_string(settings_.max_connections) +
                     "): the connection from " + address + " was closed at once");
  std::size_t &waiting = unauthenticated_[address];
  if (waiting >= settings_.max_unauthenticated_per_address)
    return Error(Reason::limit_exceeded,
                 address + " already has " + std::to_string(waiting) +
                     " connections that have not authenticated, its limit (" +
                     "--max-unauthenticated-per-address " +
                     std::to_string(settings_.max_unauthenticated_per_address) +
                     "): the new one was closed at once");
  ++waiting;
  ++open_;
  return std::make_shared<Place>(shared_from_this(), address);
}

std::size_t ConnectionLimits::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

std::size_t ConnectionLimits::unauthenticated(const std::string &address) const {
  std::lock_guard lock(mutex_);
  auto found = unauthenticated_.find(address);
  return found == unauthenticated_.end() ? 0 : found->second;
}

void ConnectionLimits::release_unauthenticated_locked(const std::string &address) {
  auto found = unauthenticated_.find(address);
  if (found != unauthenticated_.end() && --found->second == 0)
    unauthenticated_.erase(found); // the map holds only addresses with waiting peers
}

void ConnectionLimits::Place::authenticated() {
  std::lock_guard lock(limits_->mutex_);
  if (!authenticated_)
    limits_->release_unauthenticated_locked(address_);
  authenticated_ = true;
}

ConnectionLimits::Place::~Place() {
  std::lock_guard lock(limits_->mutex_);
  if (!authenticated_)
    limits_->release_unauthenticated_locked(address_);
  --limits_->open_;
}

} // namespace chainlab::hub
