// scenarios/actions.hpp: the table of scenario step actions. Each action
// has a name, the roles whose actors may take it, and one handler that does
// the step and judges it against the step's expectation. The scenario
// loader validates action names against this table; the runner dispatches
// through it. A new action is a new row.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/run_context.hpp"

namespace chainlab::scenario {

using ActionHandler = void (*)(RunContext &, StepCall &);

struct Action {
  std::string_view name;
  std::vector<std::string_view> roles;
  ActionHandler handler;
};

const std::vector<Action> &actions();
// find_action is the action |name| may take for |role|, or nullptr.
const Action *find_action(std::string_view name, std::string_view role);

} // namespace chainlab::scenario
