// scenarios/process.hpp: the runner's child processes. Each runs in its own
// process group, so stopping it stops everything it started; a command has
// a deadline; nothing outlives the runner, also on SIGINT/SIGTERM.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace chainlab::scenario {

struct CommandResult {
  int exit_code = -1;
  bool timed_out = false;
  bool interrupted = false;
  std::string out; // stdout
  std::string err; // stderr
};

using Environment = std::map<std::string, std::string>;

// run_command runs |argv| to completion or |timeout|, whichever first.
CommandResult run_command(const std::vector<std::string> &argv, const Environment &environment,
                          std::chrono::milliseconds timeout);

// BackgroundProcess is a server the runner started; its output goes to
// |log_file|. Destroying it stops its whole process group.
class BackgroundProcess {
public:
  BackgroundProcess(const std::vector<std::string> &argv, const Environment &environment,
                    const std::string &log_file);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess &) = delete;
  BackgroundProcess &operator=(const BackgroundProcess &) = delete;

  void stop();
  // exited: whether the process itself has ended (its children may not).
  bool exited();
  int exit_code() const { return exit_code_; } // once exited()
  pid_t pid() const { return pid_; }
  const std::string &log_file() const { return log_file_; }

private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_code_ = -1;
  std::string log_file_;
};

// make_private_dir creates a fresh directory $TMPDIR/PREFIX-XXXXXX (mode
// 0700) and returns its path; Error(storage_failed) if it cannot.
std::string make_private_dir(const std::string &prefix);

// install_interrupt_handler makes SIGINT/SIGTERM stop every child; the
// runner then winds down and interrupted() is true.
void install_interrupt_handler();
bool interrupted();

} // namespace chainlab::scenario
