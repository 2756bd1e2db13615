// scenario: runs JSON scenario files (scenarios/SCHEMA.md) with real actor
// processes, and reports what held and what did not.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/run_main.hpp"
#include "core/error.hpp"
#include "pki/encoding.hpp"
#include "scenarios/conformance/suite.hpp"
#include "scenarios/html_report.hpp"
#include "scenarios/process.hpp"
#include "scenarios/report.hpp"
#include "scenarios/runner.hpp"

using namespace chainlab;

namespace {

// write_report creates the report's directory if needed (build/junit/...).
void write_report(const std::string &path, const std::string &content) {
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty())
    std::filesystem::create_directories(parent);
  pki::write_file_atomically(path, content);
}

// per_run_path: |path| for one scenario; with several, each gets its own
// file, named after it ("report.html" -> "report-seed-story.html").
std::string per_run_path(const std::string &path, const scenario::RunResult &run, size_t runs) {
  if (runs == 1)
    return path;
  std::filesystem::path file(path);
  return (file.parent_path() / (file.stem().string() + "-" + run.scenario + file.extension().string()))
      .string();
}

// `scenario conformance`: a device maker's device under test, judged.
void add_conformance_command(CLI::App &app, const std::string &bin_dir, int &exit_code) {
  static std::string profile_file, junit_file, json_file;
  static std::vector<std::string> only;
  static bool list_checks = false, keep = false;
  auto *command = app.add_subcommand(
      "conformance", "run the conformance checks against a device; exit 0 only if all it claims pass");
  command->add_option("--device", profile_file, "the device profile (JSON)")->check(CLI::ExistingFile);
  command->add_option("--only", only, "run only these checks (IDs from --list-checks)");
  command->add_option("--junit", junit_file, "write JUnit XML here (one test case per check)");
  auto *json_option = command->add_option(
      "--json", json_file, "write a JSON report to FILE, or to stdout (the transcript then goes to stderr)");
  json_option->expected(0, 1);
  command->add_flag("--list-checks", list_checks, "print every check: ID, what it proves, why");
  command->add_flag("--keep", keep, "keep the working directory for inspection");
  command->callback([&bin_dir, &exit_code, json_option] {
    if (list_checks) {
      conformance::print_checks(std::cout);
      return;
    }
    if (profile_file.empty())
      throw Error(Reason::config_invalid, "scenario conformance: give --device PROFILE.json");
    auto profile = conformance::load_profile(profile_file);
    scenario::install_interrupt_handler();
    bool json_to_stdout = json_option->count() > 0 && json_file.empty();
    std::ostream &transcript = json_to_stdout ? std::cerr : std::cout;
    conformance::SuiteOptions options{{only.begin(), only.end()}, bin_dir, keep};
    auto result = conformance::run_conformance(profile, options, transcript);
    conformance::print_summary(result, transcript);
    if (json_to_stdout)
      std::cout << conformance::json_report(result).dump(2) << std::endl;
    else if (!json_file.empty())
      write_report(json_file, conformance::json_report(result).dump(2) + "\n");
    if (!junit_file.empty())
      write_report(junit_file, conformance::junit_report(result));
    exit_code = result.interrupted ? 130 : result.passed() ? cli::kExitOk : cli::kExitRefused;
  });
}

// The reports `scenario run` writes besides its transcript.
struct ReportFiles {
  std::string json, junit, diagram, html;
  bool json_to_stdout = false;
};

void write_run_reports(const std::vector<scenario::RunResult> &results, const ReportFiles &files,
                       const std::string &mermaid_js) {
  if (files.json_to_stdout)
    std::cout << scenario::json_report(results).dump(2) << std::endl;
  else if (!files.json.empty())
    write_report(files.json, scenario::json_report(results).dump(2) + "\n");
  if (!files.junit.empty())
    write_report(files.junit, scenario::junit_report(results));
  for (const auto &result : results) {
    if (!files.diagram.empty())
      write_report(per_run_path(files.diagram, result, results.size()),
                   scenario::mermaid_diagram(result));
    if (!files.html.empty())
      write_report(per_run_path(files.html, result, results.size()),
                   scenario::html_report(result, mermaid_js));
  }
}

// `scenario run`: scenario files, each with its own actors, then the reports.
void add_run_command(CLI::App &app, std::string &bin_dir, int &exit_code) {
  static std::vector<std::string> files;
  static ReportFiles reports;
  static bool keep = false, allow_device_commands = false, pause = false;
  auto *run = app.add_subcommand("run", "run scenario files; exit 0 only if every expectation held");
  run->add_option("files", files, "scenario files")->required()->check(CLI::ExistingFile);
  auto *json_option = run->add_option(
      "--json", reports.json, "write a JSON report to FILE, or to stdout (the transcript then goes to stderr)");
  json_option->expected(0, 1);
  run->add_option("--junit", reports.junit, "write JUnit XML here");
  run->add_option("--diagram", reports.diagram,
                   "write the Mermaid sequence diagram here (several scenarios: FILE-NAME.ext each)");
  run->add_option("--html", reports.html,
                  "write a self-contained HTML report here: diagram, steps, trust tree, refusals, "
                  "transcript (several scenarios: FILE-NAME.ext each)");
  run->add_option("--bin", bin_dir, "where the actor executables are")->capture_default_str();
  run->add_flag("--keep", keep, "keep each working directory for inspection");
  run->add_flag("--pause", pause,
                "wait for Enter before each step (watch the hub's live page; its address is printed)");
  run->add_flag("--allow-device-commands", allow_device_commands,
                "let conformance steps run the command of the device profile they name");
  run->callback([&bin_dir, &exit_code, json_option] {
    scenario::install_interrupt_handler();
    reports.json_to_stdout = json_option->count() > 0 && reports.json.empty();
    std::ostream &transcript = reports.json_to_stdout ? std::cerr : std::cout;
    std::string mermaid_js = reports.html.empty() ? "" : scenario::mermaid_bundle(); // before, not after a run
    std::vector<scenario::RunResult> results;
    for (const auto &file : files) {
      auto loaded = scenario::load_scenario(file);
      results.push_back(scenario::run_scenario(loaded, {bin_dir, keep, allow_device_commands, pause}, transcript));
      if (scenario::interrupted())
        break;
    }
    transcript << "\n";
    for (const auto &result : results) {
      transcript << (result.passed() ? "PASS " : "FAIL ") << result.scenario << " (" << result.file << ")\n";
      if (!result.passed())
        exit_code = cli::kExitRefused;
    }
    write_run_reports(results, reports, mermaid_js);
    if (scenario::interrupted())
      exit_code = 130;
  });
}

// `scenario validate` and `scenario list`: scenario files checked, or named.
void add_file_commands(CLI::App &app) {
  static std::vector<std::string> files;
  auto *validate = app.add_subcommand("validate", "check scenario files against the schema");
  validate->add_option("files", files, "scenario files")->required()->check(CLI::ExistingFile);
  validate->callback([] {
    for (const auto &file : files) {
      scenario::load_scenario(file);
      std::cout << file << ": valid\n";
    }
  });

  static std::string directory = ".";
  auto *list = app.add_subcommand("list", "list the scenarios in a directory");
  list->add_option("directory", directory, "where to look")->capture_default_str();
  list->callback([] {
    std::vector<std::string> found;
    for (const auto &entry : std::filesystem::directory_iterator(directory))
      if (entry.path().extension() == ".json")
        found.push_back(entry.path().string());
    std::sort(found.begin(), found.end());
    for (const auto &file : found) {
      auto loaded = scenario::load_scenario(file);
      std::cout << loaded.name << "  " << loaded.description << "\n";
    }
  });
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app("chainlab scenario runner", "scenario");
  std::string bin_dir = std::filesystem::canonical("/proc/self/exe").parent_path().string();
  int exit_code = cli::kExitOk;
  add_run_command(app, bin_dir, exit_code);
  add_file_commands(app);
  add_conformance_command(app, bin_dir, exit_code);
  int parsed = cli::run_main(app, argc, argv, "scenario");
  return parsed != cli::kExitOk ? parsed : exit_code;
}
