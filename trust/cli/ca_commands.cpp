#include "cli/ca_commands.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "ca/audit.hpp"
#include "ca/hub_registration.hpp"
#include "ca/operations.hpp"
#include "cli/run_main.hpp"
#include "cli/show_identity.hpp"
#include "core/error.hpp"

namespace chainlab::cli {
namespace {

struct ParentOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string fingerprint;
  std::string secret;
  std::string name = "the parent CA";
};

void add_parent_options(CLI::App &command, ParentOptions &parent, bool required) {
  command.add_option("--parent-port", parent.port, "EST port of the CA to enrol at")
      ->required(required);
  command.add_option("--parent-fingerprint", parent.fingerprint,
                     "SHA-256 fingerprint of that CA's certificate (pinned)")
      ->required(required);
  command.add_option("--secret", parent.secret, "one-time enrolment secret");
  command.add_option("--parent-host", parent.host, "EST host")->capture_default_str();
  command.add_option("--parent-name", parent.name, "parent's name, for narration");
}

void add_init_command(CLI::App &app, const CaActor &actor, std::string &state) {
  auto options = std::make_shared<ca::InitOptions>();
  auto parent = std::make_shared<ParentOptions>();
  auto path_len = std::make_shared<long>(-1);
  options->name = actor.default_name;
  auto *command = app.add_subcommand(
      "init", actor.may_self_sign
                  ? "create the CA key in a new token and a self-signed root, or "
                    "enrol at a public root (--parent-*)"
                  : "create the CA key in a new token and enrol at the parent CA");
  command->add_option("--name", options->name, "name; also the token label")
      ->capture_default_str();
  command->add_option("--subject", options->subject, "subject (default CN=<name>)");
  command->add_option("--backend", options->backend, "pkcs11 or file")
      ->check(CLI::IsMember({"pkcs11", "file"}))
      ->capture_default_str();
  command->add_option("--key-type", options->key_type, "ec-p256, ec-p384, rsa-2048, rsa-3072")
      ->check(CLI::IsMember({"ec-p256", "ec-p384", "rsa-2048", "rsa-3072"}))
      ->capture_default_str();
  add_parent_options(*command, *parent, !actor.may_self_sign);
  if (actor.may_self_sign) {
    command->add_option("--path-len", *path_len, "self-signed root's pathLen (default unlimited)");
    command->add_option("--days", options->root_days, "self-signed root's lifetime")
        ->capture_default_str();
  } else {
    command->add_option("--path-len", *path_len, "pathLen to ask the parent for");
  }
  command->callback([=, &state] {
    options->state_dir = state;
    options->role = actor.role;
    if (*path_len >= 0)
      options->root_path_len = *path_len;
    if (parent->port != 0) {
      actor::EnrolmentRequest request;
      request.profile = pki::Profile::subordinate_ca;
      if (*path_len >= 0)
        request.path_len = *path_len;
      request.parent = {parent->host, parent->port, parent->fingerprint};
      request.parent_name = parent->name;
      request.secret = parent->secret;
      options->parent = request;
    }
    Narrator narrator(options->name, std::cout);
    ca::init_ca(*options, narrator);
  });
}

void add_serve_command(CLI::App &app, std::string &state) {
  auto port = std::make_shared<std::uint16_t>(0);
  auto *command = app.add_subcommand("serve", "run the EST server until SIGINT/SIGTERM");
  command->add_option("--port", *port, "port on 127.0.0.1 (0 = ephemeral)")
      ->capture_default_str();
  command->callback([port, &state] {
    Narrator narrator(actor::StateDir(state).load_config().name, std::cout);
    ca::serve_ca(state, *port, narrator);
  });
}

void add_issue_secret_command(CLI::App &app, std::string &state) {
  auto options = std::make_shared<ca::SecretOptions>();
  auto path_len = std::make_shared<long>(-1);
  auto expires_in = std::make_shared<long>(0);
  auto *command = app.add_subcommand(
      "issue-secret", "print a one-time enrolment secret bound to a subject");
  command->add_option("--subject", options->subject, "e.g. CN=widget-001")->required();
  command->add_option("--profile", options->profile, "device or subordinate-ca")
      ->check(CLI::IsMember({"device", "subordinate-ca"}))
      ->capture_default_str();
  command->add_option("--path-len", *path_len, "pathLen granted to a subordinate CA");
  command->add_option("--expires-in", *expires_in, "seconds until the secret expires");
  command->callback([=, &state] {
    if (*path_len >= 0)
      options->path_len = *path_len;
    if (*expires_in > 0)
      options->valid_for = std::chrono::seconds(*expires_in);
    // The secret alone goes to stdout, so scripts can capture it.
    Narrator narrator(actor::StateDir(state).load_config().name, std::cerr);
    std::cout << ca::issue_secret(state, *options, narrator) << std::endl;
  });
}

void add_register_ca_command(CLI::App &app, std::string &state) {
  auto endpoint = std::make_shared<ca::HubEndpoint>();
  auto token_file = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto *command = app.add_subcommand(
      "register-ca", "register this CA with a hub: upload, verification code, proof of possession");
  command->add_option("--hub-port", endpoint->port, "the hub's service API port")->required();
  command->add_option("--hub-fingerprint", endpoint->pinned_fingerprint,
                      "SHA-256 fingerprint of the hub's service CA (pinned)")
      ->required();
  command->add_option("--hub", endpoint->hub, "hub (tenant) name")->required();
  command->add_option("--token-file", *token_file, "file holding the hub's service token")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--hub-host", endpoint->host, "hub host")->capture_default_str();
  command->add_option("--certificate-name", *name, "name for the CA at the hub (default: its name)");
  command->callback([=, &state] {
    std::string token = pki::read_file(*token_file);
    token.erase(token.find_last_not_of(" \n\r") + 1);
    endpoint->token = token;
    auto config = actor::StateDir(state).load_config();
    Narrator narrator(config.name, std::cout);
    ca::register_with_hub(state, *endpoint, name->empty() ? config.name : *name, narrator);
  });
}

// parse_log_source reads URL@FINGERPRINT.
ca::AuditedLogSource parse_log_source(const std::string &text) {
  auto at = text.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == text.size())
    throw Error(Reason::config_invalid, "--log \"" + text.substr(0, 200) +
                                            "\": expected https://HOST:PORT@SHA256-FINGERPRINT");
  return {text.substr(0, at), text.substr(at + 1)};
}

void add_audit_command(CLI::App &app, std::string &state) {
  auto options = std::make_shared<ca::AuditOptions>();
  auto token_file = std::make_shared<std::string>();
  auto logs = std::make_shared<std::vector<std::string>>();
  auto as_json = std::make_shared<bool>(false);
  auto *command = app.add_subcommand(
      "audit", "check every device at the hub against the transparency logs of the CAs in "
               "this tree; exit 1 when anything is wrong");
  command->add_option("--hub-port", options->hub.port, "the hub's service API port")->required();
  command->add_option("--hub-fingerprint", options->hub.pinned_fingerprint,
                      "SHA-256 fingerprint of the hub's service CA (pinned)")
      ->required();
  command->add_option("--hub", options->hub.hub, "hub (tenant) name")->required();
  command->add_option("--token-file", *token_file, "file holding the hub's service token")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--hub-host", options->hub.host, "hub host")->capture_default_str();
  command->add_option("--log", *logs,
                      "a CA's log as https://HOST:PORT@FINGERPRINT (its EST server, pinned by the "
                      "CA certificate's SHA-256); repeat per CA. This CA's own log is added when "
                      "its server runs");
  command->add_option("--heads", options->heads_file,
                      "where tree heads are kept between audits (default <state>/audit-heads.json)");
  command->add_flag("--json", *as_json, "print the report as JSON");
  command->callback([=, &state] {
    std::string token = pki::read_file(*token_file);
    token.erase(token.find_last_not_of(" \n\r") + 1);
    options->hub.token = token;
    actor::StateDir dir(state);
    dir.load_config();
    if (options->heads_file.empty())
      options->heads_file = dir.path("audit-heads.json");
    for (const auto &text : *logs)
      options->logs.push_back(parse_log_source(text));
    if (std::filesystem::exists(dir.path("est.port"))) {
      std::string port = pki::read_file(dir.path("est.port"));
      port.erase(port.find_last_not_of(" \n\r") + 1);
      std::string own = "https://127.0.0.1:" + port;
      if (std::none_of(options->logs.begin(), options->logs.end(),
                       [&](const auto &log) { return log.url == own; }))
        options->logs.insert(options->logs.begin(), {own, ca::fingerprint(state)});
    }
    auto report = ca::audit(*options);
    if (*as_json)
      std::cout << report.to_json().dump(2) << std::endl;
    else
      report.print(std::cout);
    if (report.problem_count() > 0)
      throw Error(report.first_reason(), "the audit found " + std::to_string(report.problem_count()) + " problem(s)");
  });
}

} // namespace

int run_ca_actor(const CaActor &actor, int argc, char **argv) {
  CLI::App app(actor.description, actor.role);
  std::string state;
  app.add_option("--state", state, "this actor's state directory")->required();
  app.fallthrough(); // --state may come before or after the subcommand
  add_init_command(app, actor, state);
  add_serve_command(app, state);
  add_issue_secret_command(app, state);
  add_register_ca_command(app, state);
  if (actor.may_self_sign)
    add_audit_command(app, state);
  app.add_subcommand("list", "list every certificate this CA issued")->callback([&] {
    ca::list_issued(state, std::cout);
  });
  app.add_subcommand("fingerprint", "print the SHA-256 fingerprint to pin")->callback([&] {
    std::cout << ca::fingerprint(state) << std::endl;
  });
  app.add_subcommand("show", "show this CA's identity, chain and key")->callback([&] {
    show_identity(state, std::cout);
  });
  app.add_subcommand("reenroll", "renew this CA's certificate at its parent")->callback([&] {
    Narrator narrator(actor::StateDir(state).load_config().name, std::cout);
    actor::reenrol(actor::StateDir(state), narrator);
  });
  return run_main(app, argc, argv, actor.role);
}

} // namespace chainlab::cli
