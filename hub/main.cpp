// hub: the IoT hub service. It trusts a CA only after proof-of-possession.
#include <iostream>

#include "cli/run_main.hpp"
#include "hub/hub_actor.hpp"

using namespace chainlab;

int main(int argc, char **argv) {
  CLI::App app("chainlab IoT hub service", "hub");
  std::string state, name;
  std::uint16_t api_port = 0;
  long code_lifetime = 3600;
  app.add_option("--state", state, "the hub service's state directory")->required();
  app.fallthrough();
  Narrator narrator("hub", std::cout);

  app.add_subcommand("init", "create the service CA and TLS identity")->callback([&] {
    hub::init_hub(state, narrator);
  });
  auto *create = app.add_subcommand("create", "add a named hub; prints its service token");
  create->add_option("--name", name, "hub name")->required();
  create->callback([&] {
    Narrator quiet("hub", std::cerr); // the token alone goes to stdout
    std::cout << hub::create_tenant(state, name, quiet) << std::endl;
  });
  auto *serve = app.add_subcommand("serve", "run the service API until SIGINT/SIGTERM");
  serve->add_option("--api-port", api_port, "port on 127.0.0.1 (0 = ephemeral)");
  serve->add_option("--code-lifetime", code_lifetime,
                    "seconds a CA verification code stays usable")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve->callback([&] {
    hub::serve_hub(state, api_port, std::chrono::seconds(code_lifetime), narrator);
  });
  auto *events = app.add_subcommand("events", "list a hub's events and refusals by reason");
  events->add_option("--name", name, "hub name")->required();
  events->callback([&] { hub::print_events(state, name, std::cout); });
  app.add_subcommand("fingerprint", "print the service CA's SHA-256 fingerprint to pin")
      ->callback([&] { std::cout << hub::service_fingerprint(state) << std::endl; });
  return cli::run_main(app, argc, argv, "hub");
}
