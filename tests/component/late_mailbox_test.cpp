// A connection's mailbox: tickets that land on the committer thread reach
// the connection on its strand, each once and in order, however many land
// between two deliveries; and nothing reaches a connection that is gone.
#include <gtest/gtest.h>

#include <thread>

#include "hub/late_mailbox.hpp"

namespace chainlab::hub::gateway {
namespace {

namespace asio = boost::asio;

// Target stands for a connection: it records what the mailbox delivers.
struct Target {
  explicit Target(TlsSocket::Strand strand) : strand(std::move(strand)) {}
  void run_late(const LateStep &) { ++steps; }
  void on_landed(const std::vector<LateMailbox<Target>::Landed> &landed) {
    EXPECT_TRUE(strand.running_in_this_thread());
    ++deliveries;
    for (const auto &message : landed)
      heard.push_back(message.kept ? message.ticket : ~message.ticket);
  }
  TlsSocket::Strand strand;
  int steps = 0, deliveries = 0;
  std::vector<std::uint32_t> heard;
};

TEST(LateMailbox, TicketsFromAnotherThreadReachTheStrandEachOnceInOrder) {
  asio::io_context io;
  auto target = std::make_shared<Target>(asio::make_strand(io));
  auto mailbox = std::make_shared<LateMailbox<Target>>(target, target->strand);
  constexpr std::uint32_t kTickets = 5000;
  std::thread committer([&] {
    for (std::uint32_t ticket = 0; ticket < kTickets; ++ticket)
      mailbox->landed(ticket, ticket % 7 != 0);
  });
  // The strand runs while tickets still arrive, so deliveries interleave.
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  committer.join();
  mailbox->run([](DeviceSession &) { return SessionOutput{}; });
  asio::post(target->strand, [&] { work.reset(); });
  runner.join();
  ASSERT_EQ(target->heard.size(), kTickets);
  for (std::uint32_t ticket = 0; ticket < kTickets; ++ticket)
    ASSERT_EQ(target->heard[ticket], ticket % 7 != 0 ? ticket : ~ticket) << ticket;
  EXPECT_EQ(target->steps, 1);
  EXPECT_GE(target->deliveries, 1);
  EXPECT_LE(target->deliveries, int(kTickets));
}

TEST(LateMailbox, NothingIsPostedForAConnectionThatIsGone) {
  asio::io_context io;
  auto target = std::make_shared<Target>(asio::make_strand(io));
  auto mailbox = std::make_shared<LateMailbox<Target>>(target, target->strand);
  target.reset();
  mailbox->landed(1, true);
  mailbox->run([](DeviceSession &) { return SessionOutput{}; });
  EXPECT_EQ(io.poll(), 0u) << "a handler was posted for a connection that is gone";
}

} // namespace
} // namespace chainlab::hub::gateway
