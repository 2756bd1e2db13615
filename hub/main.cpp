// hub: the IoT hub service. It trusts a CA only after proof-of-possession.
#include <iostream>

#include "cli/run_main.hpp"
#include "hub/hub_actor.hpp"

using namespace chainlab;

int main(int argc, char **argv) {
  CLI::App app("chainlab IoT hub service", "hub");
  std::string state, name;
  hub::ServeOptions serve_options;
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
  serve->add_option("--api-port", serve_options.api_port, "port on 127.0.0.1 (0 = ephemeral)");
  serve->add_option("--event-retention", serve_options.event_retention,
                    "events kept per hub, the oldest dropped first (0 = keep all)")
      ->capture_default_str();
  serve->add_option("--max-connections", serve_options.connections.max_connections,
                    "device connections each hub holds at most; more are closed at once")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve->add_option("--max-unauthenticated-per-address",
                    serve_options.connections.max_unauthenticated_per_address,
                    "connections one peer address may hold before they authenticate")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve->add_option("--code-lifetime", code_lifetime,
                    "seconds a CA verification code stays usable")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve->callback([&] {
    serve_options.code_lifetime = std::chrono::seconds(code_lifetime);
    hub::serve_hub(state, serve_options, narrator);
  });
  auto *events = app.add_subcommand("events", "list a hub's events and refusals by reason");
  events->add_option("--name", name, "hub name")->required();
  events->callback([&] { hub::print_events(state, name, std::cout); });
  app.add_subcommand("fingerprint", "print the service CA's SHA-256 fingerprint to pin")
      ->callback([&] { std::cout << hub::service_fingerprint(state) << std::endl; });
  return cli::run_main(app, argc, argv, "hub");
}
