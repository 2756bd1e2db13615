// device/device_actor.hpp: a Smart-X-Widget's manufacturing-time identity:
// a key made inside its own token, enrolment at the CA that installs it,
// and the certificate and chain stored on the device.
#pragma once

#include <string>

#include "actor/enrolment.hpp"

namespace chainlab::device {

struct DeviceOptions {
  std::string state_dir;
  std::string device_id; // becomes the certificate's CN
  std::string backend = "pkcs11";
  std::string key_type = "ec-p256";
};

// init_device creates the device's token and key.
void init_device(const DeviceOptions &options, Narrator &narrator);
// enroll_device enrols at |request.parent| with a one-time secret.
void enroll_device(const std::string &state_dir, actor::EnrolmentRequest request,
                   Narrator &narrator);

} // namespace chainlab::device
