// company: Company-X, owner of the root CA (self-signed, or bought from a
// simulated public root by enrolling there).
#include "cli/ca_commands.hpp"

int main(int argc, char **argv) {
  return chainlab::cli::run_ca_actor(
      {"company", "Company-X", "Company-X: root CA owner, issues to its factories", true},
      argc, argv);
}
