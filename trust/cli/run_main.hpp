// cli/run_main.hpp: the one place where an actor's error becomes a message
// and an exit code, so every executable reports failures the same way.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

namespace chainlab::cli {

// Exit codes, stable for scripts and the scenario runner.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1; // a rule refused the operation
inline constexpr int kExitConfig = 2;  // bad command line, files or set-up

// run_main parses |app| and runs it. Errors print one line on stderr:
// "<actor>: error (<reason>): <detail>".
int run_main(CLI::App &app, int argc, char **argv, const std::string &actor);

} // namespace chainlab::cli
