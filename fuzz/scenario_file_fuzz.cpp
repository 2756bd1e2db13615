// The scenario loader and validator: any text is either a scenario or a
// config_invalid error naming the file. Nothing else may come out.
#include "core/error.hpp"
#include "fuzz/fuzz_input.hpp"
#include "scenarios/scenario_file.hpp"

using namespace chainlab;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  try {
    scenario::parse_scenario_text(fuzz::FuzzInput(data, size).all(), "fuzz.json");
  } catch (const Error &error) {
    fuzz::require(error.reason() == Reason::config_invalid, "a refusal other than config_invalid");
    fuzz::require(error.detail().starts_with("fuzz.json: "), "a refusal that does not name the file");
  }
  return 0;
}
