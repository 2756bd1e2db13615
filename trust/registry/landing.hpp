// registry/landing.hpp: how a writer that queues many small durable rows
// hears that each reached the disk, without a callback object per row: it
// names itself once (a Landing) and each row by a number (its ticket).
#pragma once

#include <cstdint>

namespace chainlab::registry {

class Landing {
public:
  // landed runs on the committer thread once the batch holding the row
  // queued with |ticket| has committed (true) or failed (false).
  virtual void landed(std::uint32_t ticket, bool committed) = 0;

protected:
  ~Landing() = default; // owned through the writer's own type
};

} // namespace chainlab::registry
