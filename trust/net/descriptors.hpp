// net/descriptors.hpp: servers and load generators that hold many
// connections need a descriptor each.
#pragma once

#include <cstdint>

namespace chainlab::net {

// raise_open_file_limit lifts RLIMIT_NOFILE towards |wanted| (the hard
// limit too, where the process may: root may go up to fs.nr_open), and at
// least to the hard limit. Returns the soft limit now in force.
std::uint64_t raise_open_file_limit(std::uint64_t wanted);

} // namespace chainlab::net
