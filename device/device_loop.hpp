// device/device_loop.hpp: `device run`, a long-lived Smart-X-Widget. At
// first boot it makes its key and enrols over EST; then it stays connected
// to its hub, sends telemetry, answers direct methods, applies desired twin
// properties, and reconnects with exponential backoff and jitter. It is
// also the conformance suite's reference device under test, so it can
// misbehave on purpose.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "actor/enrolment.hpp"
#include "device/hub_client.hpp"

namespace chainlab::device {

struct Backoff {
  std::chrono::milliseconds first{500};
  std::chrono::milliseconds ceiling{30000};
  // Reset to |first| after a connection that stayed up this long.
  std::chrono::milliseconds stable{30000};
};

// next_delay is the wait before reconnect attempt |attempt| (0-based):
// |first| doubled per attempt up to |ceiling|, then a uniform jitter in
// [50%, 100%] of that (|jitter| in [0, 1] draws it), so a fleet dropped at
// once does not come back at once.
std::chrono::milliseconds next_delay(const Backoff &backoff, unsigned attempt, double jitter);

struct DeviceRunOptions {
  std::string device_id;             // used by the first boot only
  std::string backend = "pkcs11";
  std::string key_type = "ec-p256";
  std::optional<actor::EnrolmentRequest> enrolment; // the first boot's EST enrolment
  HubEndpoint hub;
  std::chrono::milliseconds telemetry_every{5000};
  std::chrono::milliseconds run_for{0}; // 0: until SIGTERM
  Backoff backoff;
  Misbehaviour misbehaviour;
  bool no_backoff = false;   // misbehaviour: reconnect at once, forever
  bool weak_csr_key = false; // misbehaviour: an RSA-1024 key in the CSR
};

// parse_est_url reads "https://HOST:PORT[/.well-known/est[/]]" into |endpoint|;
// Error(config_invalid) naming the URL otherwise.
void parse_est_url(const std::string &url, est::Endpoint &endpoint);

// run_device provisions the device if it has no certificate yet, then runs
// until |run_for| passes (or forever). Throws only for what no retry can
// fix: a refused enrolment or an unusable state directory.
void run_device(const std::string &state_dir, const DeviceRunOptions &options, Narrator &narrator);

} // namespace chainlab::device
