// hub/connection_limits.hpp: how many device connections a hub holds, in
// all and per peer address before they authenticate. A client that opens
// connections and never finishes a handshake can hold at most
// max_unauthenticated_per_address of them; nobody can hold more than
// max_connections. Pure bookkeeping, tested without sockets.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/error.hpp"

namespace chainlab::hub {

struct ConnectionLimitSettings {
  std::size_t max_connections = 50'000;
  std::size_t max_unauthenticated_per_address = 256;
};

// Places keep their ConnectionLimits alive: a connection may outlive its
// listener during shutdown. Create it with std::make_shared.
class ConnectionLimits : public std::enable_shared_from_this<ConnectionLimits> {
public:
  class Place;
  explicit ConnectionLimits(ConnectionLimitSettings settings = {}) : settings_(settings) {}

  // admit: a place for a new connection from |address| (an IP address, no
  // port), or Error(limit_exceeded) naming the limit it would break.
  Result<std::shared_ptr<Place>> admit(const std::string &address);

  std::size_t open() const;
  std::size_t unauthenticated(const std::string &address) const;

  // Place holds one connection's share of the limits until destroyed.
  class Place {
  public:
    Place(std::shared_ptr<ConnectionLimits> limits, std::string address)
        : limits_(std::move(limits)), address_(std::move(address)) {}
    ~Place();
    Place(const Place &) = delete;
    Place &operator=(const Place &) = delete;
    // authenticated: the peer proved its identity; it no longer counts
    // against its address's unauthenticated connections.
    void authenticated();

  private:
    std::shared_ptr<ConnectionLimits> limits_;
    std::string address_;
    bool authenticated_ = false;
  };

private:
  void release_unauthenticated_locked(const std::string &address);

  ConnectionLimitSettings settings_;
  mutable std::mutex mutex_;
  std::size_t open_ = 0;
  std::unordered_map<std::string, std::size_t> unauthenticated_;
};

} // namespace chainlab::hub
