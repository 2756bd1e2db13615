#include "cli/run_main.hpp"

#include <iostream>

#include "core/error.hpp"

namespace chainlab::cli {

int run_main(CLI::App &app, int argc, char **argv, const std::string &actor) {
  try {
    app.require_subcommand(1);
    app.parse(argc, argv);
    return kExitOk;
  } catch (const CLI::ParseError &error) {
    return app.exit(error);
  } catch (const Error &error) {
    std::cerr << actor << ": error (" << to_string(error.reason())
              << "): " << error.detail() << std::endl;
    return error.reason() == Reason::config_invalid ? kExitConfig : kExitRefused;
  } catch (const std::exception &error) {
    std::cerr << actor << ": error (internal_error): " << error.what() << std::endl;
    return kExitRefused;
  }
}

} // namespace chainlab::cli
