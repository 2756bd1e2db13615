// The conformance profile loader: any text is either a profile whose
// command expands with every placeholder, or a config_invalid error naming
// the file. Nothing else may come out.
#include "core/error.hpp"
#include "fuzz/fuzz_input.hpp"
#include "scenarios/conformance/profile.hpp"

using namespace chainlab;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  conformance::DeviceProfile profile;
  try {
    profile = conformance::parse_profile(fuzz::FuzzInput(data, size).all(), "fuzz.json");
  } catch (const Error &error) {
    fuzz::require(error.reason() == Reason::config_invalid, "a refusal other than config_invalid");
    fuzz::require(error.detail().starts_with("fuzz.json: "), "a refusal that does not name the file");
    return 0;
  }
  std::map<std::string, std::string> values;
  for (auto name : conformance::kPlaceholders)
    values[std::string(name)] = "it's {" + std::string(name) + "}";
  // A profile that loaded always expands: its template was checked.
  conformance::expand_command(profile.command, values);
  return 0;
}
