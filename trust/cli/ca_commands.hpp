// cli/ca_commands.hpp: the command line shared by the CA actors (company,
// factory, technician). Each actor's main only names its role.
#pragma once

#include <string>

namespace chainlab::cli {

struct CaActor {
  std::string role;         // "company"
  std::string default_name; // "Company-X"
  std::string description;  // one line for --help
  bool may_self_sign;       // only a company owns a root
};

int run_ca_actor(const CaActor &actor, int argc, char **argv);

} // namespace chainlab::cli
