#include "scenarios/process.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/error.hpp"

namespace chainlab::scenario {
namespace {

std::atomic<bool> g_interrupted{false};
// Process groups alive right now, for the signal handler (async-safe: a
// fixed array of atomics, no allocation).
constexpr int kMaxGroups = 256;
std::atomic<pid_t> g_groups[kMaxGroups];

void remember(pid_t group) {
  for (auto &slot : g_groups) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, group))
      return;
  }
}
void forget(pid_t group) {
  for (auto &slot : g_groups) {
    pid_t expected = group;
    if (slot.compare_exchange_strong(expected, 0))
      return;
  }
}

void on_signal(int) {
  g_interrupted = true;
  for (auto &slot : g_groups)
    if (pid_t group = slot.load(); group > 0)
      ::kill(-group, SIGTERM);
}

std::string read_all(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// spawn starts |argv| in a new process group with stdout and stderr sent to
// the given files (the same file for both is fine).
pid_t spawn(const std::vector<std::string> &argv, const Environment &environment,
            const std::string &out_file, const std::string &err_file) {
  int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  int err = out_file == err_file ? out : ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (out < 0 || err < 0)
    throw Error(Reason::storage_failed, "cannot open " + out_file + " for a child's output");
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    // A runner killed outright (SIGKILL, a crash) takes its children along.
    // The signal comes when the forking thread ends; every child is
    // stopped by the thread that started it, so none goes early.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent)
      ::_exit(127);
    ::setpgid(0, 0);
    ::signal(SIGPIPE, SIG_DFL); // the suite ignores it; its children must not inherit that
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, STDIN_FILENO);
    for (const auto &[name, value] : environment)
      ::setenv(name.c_str(), value.c_str(), 1);
    std::vector<char *> args;
    for (const auto &arg : argv)
      args.push_back(const_cast<char *>(arg.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::string message = "cannot run " + argv[0] + ": " + std::strerror(errno) + "\n";
    (void)!::write(STDERR_FILENO, message.data(), message.size());
    ::_exit(127);
  }
  ::close(out);
  if (err != out)
    ::close(err);
  if (pid < 0)
    throw Error(Reason::internal_error, std::string("fork failed: ") + std::strerror(errno));
  ::setpgid(pid, pid); // also from the parent, so the group exists before any kill
  remember(pid);
  return pid;
}

void stop_group(pid_t group) {
  ::kill(-group, SIGTERM);
  for (int i = 0; i < 50; ++i) { // up to 5 s to shut down cleanly
    if (::waitpid(group, nullptr, WNOHANG) == group) {
      ::kill(-group, SIGKILL); // anything it left behind
      forget(group);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(-group, SIGKILL);
  ::waitpid(group, nullptr, 0);
  forget(group);
}

} // namespace

std::string make_private_dir(const std::string &prefix) {
  const char *base = std::getenv("TMPDIR");
  std::string pattern = std::string(base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  if (!::mkdtemp(pattern.data()))
    throw Error(Reason::storage_failed, "cannot create a working directory " + pattern);
  return pattern;
}

void install_interrupt_handler() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

bool interrupted() { return g_interrupted; }

CommandResult run_command(const std::vector<std::string> &argv, const Environment &environment,
                          std::chrono::milliseconds timeout) {
  char out_template[] = "/tmp/chainlab-out-XXXXXX", err_template[] = "/tmp/chainlab-err-XXXXXX";
  int out_fd = ::mkstemp(out_template), err_fd = ::mkstemp(err_template);
  ::close(out_fd);
  ::close(err_fd);
  CommandResult result;
  pid_t pid = spawn(argv, environment, out_template, err_template);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid)
      break;
    if (g_interrupted || std::chrono::steady_clock::now() >= deadline) {
      result.timed_out = !g_interrupted;
      result.interrupted = g_interrupted;
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(-pid, SIGKILL); // nothing the command started may linger
  forget(pid);
  if (WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  result.out = read_all(out_template);
  result.err = read_all(err_template);
  ::unlink(out_template);
  ::unlink(err_template);
  return result;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string> &argv,
                                     const Environment &environment, const std::string &log_file)
    : log_file_(log_file) {
  pid_ = spawn(argv, environment, log_file, log_file);
}

BackgroundProcess::~BackgroundProcess() { stop(); }

void BackgroundProcess::stop() {
  if (pid_ > 0 && exited_) { // reaped already: only what it left behind remains
    ::kill(-pid_, SIGKILL);
    forget(pid_);
  } else if (pid_ > 0) {
    stop_group(pid_);
  }
  pid_ = -1;
}

bool BackgroundProcess::exited() {
  if (pid_ > 0 && !exited_) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
  }
  return exited_;
}

} // namespace chainlab::scenario
