// The scenario runner's table of actions and the loader that validates
// steps against it: no processes, no sockets.
#include <gtest/gtest.h>

#include <set>

#include "core/error.hpp"
#include "scenarios/actions.hpp"
#include "scenarios/scenario_file.hpp"

namespace chainlab::scenario {
namespace {

TEST(Actions, EveryActionHasAHandlerAndARoleAndAppearsOnce) {
  std::set<std::string_view> names;
  for (const auto &action : actions()) {
    EXPECT_NE(action.handler, nullptr) << action.name;
    EXPECT_FALSE(action.roles.empty()) << action.name;
    EXPECT_TRUE(names.insert(action.name).second) << action.name << " appears twice";
  }
}

TEST(Actions, FindActionHonoursTheRole) {
  ASSERT_NE(find_action("register-ca", "factory"), nullptr);
  EXPECT_EQ(find_action("register-ca", "device"), nullptr);
  EXPECT_EQ(find_action("upload-ca", "device"), nullptr);
  EXPECT_NE(find_action("conformance", "device"), nullptr);
  EXPECT_EQ(find_action("no-such-action", "hub"), nullptr);
}

TEST(Actions, ActionsByRoleIsBuiltFromTheTable) {
  const auto &by_role = actions_by_role();
  size_t rows = 0;
  for (const auto &[role, names] : by_role)
    for (const auto &name : names) {
      EXPECT_NE(find_action(name, role), nullptr) << role << " " << name;
      ++rows;
    }
  size_t expected = 0;
  for (const auto &action : actions())
    expected += action.roles.size();
  EXPECT_EQ(rows, expected);
  EXPECT_EQ(by_role.count("hub"), 1u);
}

std::string refusal(const std::string &step) {
  std::string text = R"({"name":"t","description":"d","actors":[
      {"id":"c","role":"company","name":"Company-X"},
      {"id":"w","role":"device","parent":"c"},
      {"id":"h","role":"hub","hubs":["x"]}],"steps":[)" + step + "]}";
  try {
    parse_scenario_text(text, "t.json");
  } catch (const Error &error) {
    EXPECT_EQ(error.reason(), Reason::config_invalid);
    return error.what();
  }
  return "accepted";
}

TEST(Actions, TheLoaderRefusesAnActionTheActorsRoleCannotTake) {
  EXPECT_EQ(refusal(R"({"actor":"w","action":"connect","args":{"hub":"x"}})"), "accepted");
  EXPECT_EQ(refusal(R"({"actor":"w","action":"conformance","args":{"profile":"p.json"}})"), "accepted");
  EXPECT_NE(refusal(R"({"actor":"w","action":"upload-ca"})").find("t.json: /steps/0/action"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"actor":"h","action":"connect"})").find("t.json: /steps/0/action"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"actor":"c","action":"launch-missiles"})").find("/steps/0/action"),
            std::string::npos);
}

TEST(Actions, AStepMaySetItsOwnTimeoutWithinTheScenarioBounds) {
  std::string text = R"({"name":"t","description":"d","timeout_seconds":45,"actors":[
      {"id":"c","role":"company","name":"Company-X"},{"id":"w","role":"device","parent":"c"},
      {"id":"h","role":"hub","hubs":["x"]}],"steps":[
      {"actor":"w","action":"connect","args":{"hub":"x"},"timeout_seconds":2},
      {"actor":"w","action":"connect","args":{"hub":"x"}}]})";
  Scenario scenario = parse_scenario_text(text, "t.json");
  EXPECT_EQ(scenario.timeout_seconds, 45);
  EXPECT_EQ(scenario.steps[0].timeout_seconds, 2);
  EXPECT_FALSE(scenario.steps[1].timeout_seconds.has_value());
  for (const char *bad : {"0", "601", "\"2\"", "1.5"})
    EXPECT_NE(refusal(std::string(R"({"actor":"w","action":"connect","args":{"hub":"x"},)") +
                      R"("timeout_seconds":)" + bad + "}")
                  .find("t.json: /steps/0/timeout_seconds: expected an integer from 1 to 600"),
              std::string::npos)
        << bad;
}

} // namespace
} // namespace chainlab::scenario
