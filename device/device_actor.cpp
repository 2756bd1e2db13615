#include "device/device_actor.hpp"

#include <filesystem>

#include "core/error.hpp"
#include "pki/policy.hpp"

namespace chainlab::device {

void init_device(const DeviceOptions &options, Narrator &narrator) {
  actor::StateDir state(options.state_dir);
  if (state.initialised())
    throw Error(Reason::config_invalid,
                state.path("actor.json") + ": this device is already initialised");
  if (!pki::is_valid_device_id(options.device_id))
    throw Error(Reason::invalid_device_id,
                "device ID \"" + options.device_id +
                    "\" must be 1 to 128 of A-Z a-z 0-9 - . _ :");
  std::filesystem::create_directories(state.directory());
  actor::ActorConfig config;
  config.role = "device";
  config.name = options.device_id.substr(0, 32); // token labels hold 32 bytes
  config.subject = "CN=" + options.device_id;
  config.backend = options.backend;
  config.key_type = options.key_type;
  actor::create_identity_key(state, config, narrator);
}

void enroll_device(const std::string &state_dir, actor::EnrolmentRequest request,
                   Narrator &narrator) {
  actor::StateDir state(state_dir);
  auto config = state.load_config();
  request.profile = pki::Profile::device;
  actor::enrol_with_secret(state, config, request, narrator);
}

} // namespace chainlab::device
