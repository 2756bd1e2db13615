// core/boost_assertion.cpp: where a failed BOOST_ASSERT goes in builds
// without NDEBUG (the sanitizer and fuzz build; CMakeLists.txt defines
// BOOST_ENABLE_ASSERT_DEBUG_HANDLER). It aborts as assert() would, except
// for one assertion that Boost 1.74 makes wrongly.
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

// Beast 1.74's parse_chunk_header asserts n >= 5, but a chunk line that
// arrives split across reads can leave 3 or 4 bytes there, and the code
// after the assertion answers need_more correctly (fixed upstream in
// boostorg/beast#2861). Release builds never check it.
bool is_beast_chunk_header_assertion(const char *expr, const char *function,
                                     const char *file) {
  return std::strcmp(expr, "n >= 5") == 0 &&
         std::strstr(file, "beast/http/impl/basic_parser.ipp") != nullptr &&
         std::strstr(function, "parse_chunk_header") != nullptr;
}

[[noreturn]] void fail(const char *expr, const char *msg, const char *function,
                       const char *file, long line) {
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed%s%s.\n", file, line, function, expr,
               msg ? ": " : "", msg ? msg : "");
  std::abort();
}

} // namespace

namespace boost {

void assertion_failed(const char *expr, const char *function, const char *file, long line) {
  if (!is_beast_chunk_header_assertion(expr, function, file))
    fail(expr, nullptr, function, file, line);
}

void assertion_failed_msg(const char *expr, const char *msg, const char *function,
                          const char *file, long line) {
  fail(expr, msg, function, file, line);
}

} // namespace boost
