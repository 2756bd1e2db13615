// cli/show_identity.hpp: `<actor> show`: who this actor is, its chain and
// where its key lives.
#pragma once

#include <ostream>
#include <string>

namespace chainlab::cli {

void show_identity(const std::string &state_dir, std::ostream &out);

} // namespace chainlab::cli
