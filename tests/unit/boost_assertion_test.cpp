// A failed BOOST_ASSERT aborts in builds without NDEBUG, except Beast 1.74's
// one wrong assertion in parse_chunk_header (core/boost_assertion.cpp).
#include <gtest/gtest.h>

#include <cstdlib>

namespace boost { // declared by <boost/assert.hpp> only where the handler is on
void assertion_failed(const char *expr, const char *function, const char *file, long line);
} // namespace boost

namespace chainlab {
namespace {

constexpr const char *kBeastParser = "/usr/include/boost/beast/http/impl/basic_parser.ipp";
constexpr const char *kChunkHeader =
    "void boost::beast::http::basic_parser<true>::parse_chunk_header(char *&, std::size_t, "
    "boost::beast::error_code &)";

TEST(BoostAssertion, AnyOtherFailedAssertionAborts) {
  EXPECT_DEATH(boost::assertion_failed("got_some()", "put_eof", kBeastParser, 226),
               "Assertion `got_some\\(\\)' failed");
  EXPECT_DEATH(boost::assertion_failed("n >= 5", "parse_fields", kBeastParser, 688),
               "Assertion `n >= 5' failed");
}

TEST(BoostAssertion, BeastsChunkHeaderLengthAssertionIsTolerated) {
  EXPECT_EXIT(
      {
        boost::assertion_failed("n >= 5", kChunkHeader, kBeastParser, 688);
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

} // namespace
} // namespace chainlab
