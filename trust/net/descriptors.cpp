#include "net/descriptors.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace chainlab::net {

std::uint64_t raise_open_file_limit(std::uint64_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return 0;
  if (wanted > limit.rlim_max) {
    rlimit higher{rlim_t(wanted), rlim_t(wanted)};
    if (::setrlimit(RLIMIT_NOFILE, &higher) == 0)
      return wanted;
  }
  limit.rlim_cur = std::max(limit.rlim_cur, std::min<rlim_t>(limit.rlim_max, rlim_t(wanted)));
  ::setrlimit(RLIMIT_NOFILE, &limit);
  ::getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

} // namespace chainlab::net
