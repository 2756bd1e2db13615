// factory: Factory-Y, an intermediate CA signed by Company-X; it signs the
// CAs of its installers, or devices directly (alternate chain).
#include "cli/ca_commands.hpp"

int main(int argc, char **argv) {
  return chainlab::cli::run_ca_actor(
      {"factory", "Factory-Y", "Factory-Y: intermediate CA under Company-X", false},
      argc, argv);
}
