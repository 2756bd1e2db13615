// The hub's live page, through the real service API handler and a real
// registry, in process: what needs the token and what does not, the state
// it draws, the event stream's cursor, and the feed that holds a request
// until something happens.
#include <gtest/gtest.h>

#include <future>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/narrator.hpp"
#include "hub/event_feed.hpp"
#include "hub/service_api.hpp"
#include "support/test_pki.hpp"

namespace chainlab {
namespace {

using nlohmann::json;

class Dashboard : public ::testing::Test {
protected:
  void SetUp() override {
    registry_ = std::make_unique<registry::HubRegistry>(dir_.file("hub.db"));
    registration_ = std::make_unique<hub::CaRegistration>(*registry_, narrator_, policy_);
    token_ = registry_->create_hub("classroom");
  }

  HttpResponse get(const std::string &target, std::vector<std::pair<std::string, std::string>> headers = {}, bool with_token = true) {
    if (with_token)
      headers.emplace_back("Authorization", "Bearer " + token_);
    hub::TrustStore trust(*registry_);
    hub::ServiceContext context{*registry_, *registration_, trust, nullptr, nullptr};
    return hub::handle_service_request(context, {"GET", target, headers, ""});
  }

  void admit(const std::string &device, const std::string &chain) {
    registry::DeviceRecord record;
    record.hub = "classroom";
    record.device_id = device;
    record.registration = "ca";
    record.ca_name = "Company-X";
    record.chain_subjects = chain;
    registry_->upsert_device(record);
  }

  testing::TempDir dir_;
  std::ostringstream log_;
  Narrator narrator_{"hub", log_};
  hub::RegistrationPolicy policy_;
  std::unique_ptr<registry::HubRegistry> registry_;
  std::unique_ptr<hub::CaRegistration> registration_;
  std::string token_;
};

TEST_F(Dashboard, ThePageAndItsFilesNeedNoTokenAndLoadNothingFromElsewhere) {
  for (const char *target : {"/hubs/classroom/dashboard", "/hubs/no-such-hub/dashboard",
                             "/dashboard/app.js", "/dashboard/app.css"}) {
    auto page = get(target, {}, false);
    EXPECT_EQ(page.status, 200) << target;
    EXPECT_NE(page.header("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
    EXPECT_EQ(page.header("Referrer-Policy"), "no-referrer");
    EXPECT_EQ(page.body.find("http://"), std::string::npos) << target;
    EXPECT_EQ(page.body.find("https://"), std::string::npos) << target;
  }
  // The page is the same for every hub name: it tells nothing about hubs.
  EXPECT_EQ(get("/hubs/classroom/dashboard", {}, false).body, get("/hubs/x/dashboard", {}, false).body);
  std::string script = get("/dashboard/app.js", {}, false).body;
  EXPECT_EQ(script.find("innerHTML"), std::string::npos); // recorded text is set as text only
  EXPECT_EQ(script.find("localStorage"), std::string::npos);
}

TEST_F(Dashboard, ItsDataNeedsTheHubsToken) {
  for (const char *target : {"/hubs/classroom/dashboard/state", "/hubs/classroom/dashboard/events"}) {
    auto refused = get(target, {}, false);
    EXPECT_EQ(refused.status, 401) << target;
    EXPECT_EQ(refused.header("X-Chainlab-Reason"), "unauthorized");
  }
}

TEST_F(Dashboard, StateHoldsDevicesRefusalsAndTheCursor) {
  admit("widget-001", "CN=widget-001 <- CN=Technician-Z <- CN=Factory-Y <- CN=Company-X");
  registry_->add_event({0, "classroom", now(), "refused", "issuer_missing", "widget-002", "x"});
  registry_->add_event({0, "classroom", now(), "refused", "issuer_missing", "widget-003", "y"});
  registry_->add_event({0, "classroom", now(), "device_connected", "", "widget-001", "z"});
  registry_->create_hub("other");
  registry_->add_event({0, "other", now(), "refused", "issuer_missing", "widget-009", "not ours"});
  registry_->add_telemetry({"classroom", "widget-001", now(), "t", "{}"});
  auto state = json::parse(get("/hubs/classroom/dashboard/state").body);
  ASSERT_EQ(state["devices"].size(), 1u);
  EXPECT_EQ(state["devices"][0]["deviceId"], "widget-001");
  EXPECT_EQ(state["refusalsByReason"], json({{"issuer_missing", 2}})); // this hub's refusals only
  auto cursor = hub::parse_cursor(state["cursor"]);
  EXPECT_EQ(cursor.event, registry_->events("classroom").back().id);
  EXPECT_EQ(cursor.telemetry, registry_->last_telemetry_id());
}

// The tree is drawn for people: a large fleet sends its first 1,000
// devices by id and how many there are, not every device on each refresh.
TEST_F(Dashboard, StateHoldsAPageOfALargeFleetAndItsSize) {
  for (int i = 0; i < 1003; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "widget-%04d", i);
    admit(id, std::string("CN=") + id + " <- CN=Company-X");
  }
  auto state = json::parse(get("/hubs/classroom/dashboard/state").body);
  ASSERT_EQ(state["devices"].size(), 1000u);
  EXPECT_EQ(state["devices"][999]["deviceId"], "widget-0999");
  EXPECT_EQ(state["deviceCount"], 1003);
}

// A live page that comes back with an old cursor gets one batch, read as
// one batch: the history behind it is never read whole.
TEST_F(Dashboard, TheFeedReadsOneBatchAtATime) {
  std::size_t total = hub::EventFeed::kBatchLimit + 50;
  for (std::size_t i = 0; i < total; ++i)
    registry_->add_event({0, "classroom", now(), "refused", "issuer_missing", "w", std::to_string(i)});
  auto first = hub::read_feed(*registry_, "classroom", {0, 0});
  ASSERT_EQ(first.events.size(), hub::EventFeed::kBatchLimit);
  EXPECT_EQ(first.next.event, first.events.back().id);
  auto rest = hub::read_feed(*registry_, "classroom", first.next);
  ASSERT_EQ(rest.events.size(), 50u);
  EXPECT_EQ(rest.events.front().id, first.next.event + 1);
  EXPECT_EQ(registry_->events("classroom", 0, 3).size(), 3u);
}

TEST_F(Dashboard, EventsComeAfterTheCursorAsServerSentEvents) {
  registry_->add_event({0, "classroom", now(), "ca_uploaded", "", "CN=Company-X", "first"});
  auto first = get("/hubs/classroom/dashboard/events", {{"Last-Event-ID", "0:0"}});
  EXPECT_EQ(first.header("Content-Type"), "text/event-stream; charset=utf-8");
  EXPECT_NE(first.body.find("event: hub-event\ndata: {"), std::string::npos);
  EXPECT_NE(first.body.find("\"first\""), std::string::npos);
  std::int64_t seen = registry_->events("classroom").back().id;
  std::string cursor = std::to_string(seen) + ":0";
  EXPECT_NE(first.body.find("id: " + cursor + "\n"), std::string::npos);

  registry_->add_event({0, "classroom", now(), "refused", "issuer_missing", "w", "second"});
  registry_->add_telemetry({"classroom", "w", now(), "t", "<img src=x onerror=alert(1)>"});
  auto next = get("/hubs/classroom/dashboard/events", {{"Last-Event-ID", cursor}});
  EXPECT_EQ(next.body.find("\"first\""), std::string::npos); // only what came after
  EXPECT_NE(next.body.find("\"second\""), std::string::npos);
  EXPECT_NE(next.body.find("event: telemetry"), std::string::npos);
  EXPECT_NE(next.body.find("<img src=x onerror=alert(1)>"), std::string::npos); // data, as JSON text
}

TEST_F(Dashboard, PathSegmentsArePercentDecodedButHoldNoControlCharacters) {
  auto decoded = get("/hubs/classroom/certificates/Evil%3Cscript%3E%20x");
  EXPECT_EQ(decoded.status, 404);
  EXPECT_NE(decoded.body.find("Evil<script> x"), std::string::npos) << decoded.body;
  for (const char *bad : {"/hubs/classroom/certificates/a%00b", "/hubs/classroom/devices/a%0Ab",
                          "/hubs/classroom/devices/%7F"}) {
    auto refused = get(bad);
    EXPECT_EQ(refused.status, 400) << bad;
    EXPECT_EQ(refused.header("X-Chainlab-Reason"), "malformed_request") << bad;
  }
}

TEST(FeedCursor, ReadsOnlyTwoNonNegativeNumbers) {
  EXPECT_EQ(hub::parse_cursor("12:34").event, 12);
  EXPECT_EQ(hub::parse_cursor("12:34").telemetry, 34);
  for (const char *bad : {"", "12", "12:", ":3", "a:b", "1:2:3", "-1:2", "1:-2", "1 :2",
                          "99999999999999999999999999999999999999999:1"}) {
    auto cursor = hub::parse_cursor(bad);
    EXPECT_EQ(cursor.event, 0) << bad;
    EXPECT_EQ(cursor.telemetry, 0) << bad;
  }
}

TEST_F(Dashboard, TheFeedAnswersWhenSomethingHappensOrWhenItsHoldEnds) {
  std::promise<hub::FeedBatch> held, idle;
  hub::EventFeed patient(*registry_, std::chrono::hours(1)); // answers only when something happens
  ASSERT_TRUE(patient.wait("classroom", {0, 0}, [&](hub::FeedBatch b) { held.set_value(std::move(b)); }));
  registry_->add_event({0, "classroom", now(), "refused", "issuer_missing", "w", "d"});
  auto batch = held.get_future().get();
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].reason, "issuer_missing");

  hub::EventFeed brief(*registry_, std::chrono::milliseconds(300));
  ASSERT_TRUE(brief.wait("classroom", batch.next, [&](hub::FeedBatch b) { idle.set_value(std::move(b)); }));
  auto nothing = idle.get_future().get(); // after the hold, with nothing new
  EXPECT_TRUE(nothing.empty());
  EXPECT_EQ(nothing.next.event, batch.next.event);
}

TEST_F(Dashboard, TheFeedHoldsABoundedNumberOfPagesAndAnswersThemAllWhenItCloses) {
  hub::EventFeed feed(*registry_, std::chrono::hours(1));
  std::atomic<int> answered{0};
  for (std::size_t i = 0; i < hub::EventFeed::kMaxWaiters; ++i)
    ASSERT_TRUE(feed.wait("classroom", {0, 0}, [&](hub::FeedBatch) { ++answered; }));
  EXPECT_FALSE(feed.wait("classroom", {0, 0}, [&](hub::FeedBatch) { ++answered; }));
  feed.close();
  EXPECT_EQ(answered.load(), int(hub::EventFeed::kMaxWaiters));
}

} // namespace
} // namespace chainlab
