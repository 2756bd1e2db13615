// technician: Technician-Z, the last CA in the seed's chain; it signs each
// Smart-X-Widget it installs.
#include "cli/ca_commands.hpp"

int main(int argc, char **argv) {
  return chainlab::cli::run_ca_actor(
      {"technician", "Technician-Z", "Technician-Z: installer CA under Factory-Y", false},
      argc, argv);
}
