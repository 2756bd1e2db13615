#include "scenarios/conformance/suite.hpp"

#include <csignal>
#include <deque>
#include <fstream>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/error.hpp"
#include "core/random.hpp"
#include "pki/encoding.hpp"
#include "scenarios/process.hpp"

namespace chainlab::conformance {
namespace {

using namespace std::chrono_literals;

// How long a session watches, at most, and after the first connection.
constexpr auto kSessionLimit = 30s;
constexpr auto kMainLimit = 95s;
constexpr auto kRefusalWatch = 3s;
constexpr auto kRetryWatch = 8s;

struct SessionPlan {
  SessionKind kind;
  const ServerCredentials *credentials;
  int max_version = 0;
  MqttBehaviour mqtt = MqttBehaviour::serve;
};

// log_tail: the last lines a device printed, indented, control characters
// dropped and lines cut short, since the device may print anything.
std::string log_tail(const std::string &path) {
  constexpr std::size_t kLines = 8, kWidth = 200;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  // Only the file's end is read: a device may print one endless line.
  auto size = static_cast<std::streamoff>(in.tellg());
  in.seekg(std::max<std::streamoff>(0, size - std::streamoff(kLines * kWidth)));
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line.substr(0, kWidth));
    if (lines.size() > kLines)
      lines.pop_front();
  }
  std::string out;
  for (const auto &line : lines) {
    out += "    | ";
    for (char c : line)
      if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f)
        out += c;
    out += "\n";
  }
  return out;
}

class Suite {
public:
  Suite(const DeviceProfile &profile, const SuiteOptions &options, std::ostream &out)
      : profile_(profile), options_(options), out_(out) {}

  SuiteResult run() {
    result_.profile = profile_.name;
    result_.profile_file = profile_.file;
    make_work_dir();
    auto sessions = select_checks();
    if (!sessions.empty())
      observe(sessions);
    for (auto &check : result_.checks)
      if (check.verdict != Verdict::skipped) {
        auto judgement = judge(*check.check, observations_);
        check.verdict = judgement.verdict;
        check.evidence = judgement.evidence;
      }
    result_.interrupted = scenario::interrupted();
    if (!options_.keep)
      std::filesystem::remove_all(work_dir_);
    else
      out_ << "kept the working directory: " << work_dir_ << "\n";
    return std::move(result_);
  }

private:
  void make_work_dir() { work_dir_ = result_.work_dir = scenario::make_private_dir("chainlab-conformance"); }


  // select_checks fills result_.checks and returns the sessions they need.
  std::set<SessionKind> select_checks() {
    for (const auto &id : options_.only)
      if (!find_check(id))
        throw Error(Reason::config_invalid,
                    "--only " + id + ": no such check (scenario conformance --list-checks)");
    std::set<SessionKind> sessions;
    for (const auto &check : all_checks()) {
      if (!options_.only.empty() && !options_.only.count(std::string(check.id)))
        continue;
      CheckResult result{&check, Verdict::fail, ""};
      if (!check.capability.empty() && !profile_.claims(check.capability)) {
        result.verdict = Verdict::skipped;
        result.evidence = "the profile does not claim " + std::string(check.capability);
      } else {
        sessions.insert(check.session);
        if (check.id == "tls.version")
          sessions.insert(SessionKind::main); // its ClientHello too
      }
      result_.checks.push_back(result);
    }
    return sessions;
  }

  void observe(const std::set<SessionKind> &kinds) {
    out_ << "== provisioning the supply chain in " << work_dir_ << "\n";
    chain_ = std::make_unique<SupplyChain>(work_dir_, options_.bin_dir, out_);
    hub_ = make_hub_pki(kHubHost);
    pki::write_file_atomically(work_dir_ + "/hub-ca.pem", pki::to_pem(hub_.hub_ca.get()));
    observations_.device_id = result_.device_id = "dut-" + random_hex(4);
    observations_.hub_host = kHubHost;
    // A device that enrols makes its own key, in each session.
    if (!profile_.claims("est-enrolment") && profile_.key == "pkcs11")
      token_ = chain_->issue_token_identity(observations_.device_id, work_dir_ + "/identity");
    else if (!profile_.claims("est-enrolment"))
      chain_->issue_pem_identity(observations_.device_id, work_dir_ + "/identity");
    out_ << "== device under test: " << profile_.name << " as " << observations_.device_id << "; "
         << kinds.size() << " session(s) in parallel\n";
    std::vector<std::thread> threads;
    for (auto kind : kinds)
      threads.emplace_back([this, kind] { run_session(plan_for(kind)); });
    for (auto &thread : threads)
      thread.join();
    observations_.enrolments = chain_->enrolments();
    chain_.reset();
  }

  // session_token gives a session its own copy of the device's token:
  // sessions run in parallel, and processes sharing one SoftHSM token
  // directory sometimes fail to load the key under load. The key stays
  // inside a token (the copy is the same non-extractable object).
  std::string session_token(const std::string &dir) const {
    namespace fs = std::filesystem;
    fs::path original = fs::path(token_->softhsm_conf).parent_path();
    std::string from = fs::absolute(original).string(), to = fs::absolute(dir + "/token").string();
    fs::copy(original, to, fs::copy_options::recursive);
    std::string conf = pki::read_file(token_->softhsm_conf);
    for (auto at = conf.find(from); at != std::string::npos; at = conf.find(from, at + to.size()))
      conf.replace(at, from.size(), to);
    pki::write_file_atomically(to + "/softhsm2.conf", conf, 0600);
    return to + "/softhsm2.conf";
  }

  SessionPlan plan_for(SessionKind kind) const {
    switch (kind) {
    case SessionKind::untrusted_hub: return {kind, &hub_.untrusted};
    case SessionKind::wrong_host: return {kind, &hub_.wrong_host};
    case SessionKind::expired_hub: return {kind, &hub_.expired};
    case SessionKind::old_tls: return {kind, &hub_.good, TLS1_1_VERSION};
    case SessionKind::dropping_hub: return {kind, &hub_.good, 0, MqttBehaviour::drop_after_connack};
    case SessionKind::refusing_hub: return {kind, &hub_.good, 0, MqttBehaviour::refuse_connect};
    default: return {kind, &hub_.good};
    }
  }

  std::map<std::string, std::string> placeholders(SessionKind kind, const std::string &dir,
                                                  std::uint16_t hub_port, std::uint16_t impostor,
                                                  const std::string &secret) const {
    bool est = profile_.claims("est-enrolment");
    std::string identity = est ? dir + "/state" : work_dir_ + "/identity";
    std::uint16_t est_port = kind == SessionKind::impostor_est ? impostor : chain_->est_port();
    return {{"hub_host", kHubHost},
            {"hub_port", std::to_string(hub_port)},
            {"device_id", observations_.device_id},
            {"cert", identity + "/cert.pem"},
            {"chain", identity + "/chain.pem"},
            {"key", token_ ? token_->key_uri : identity + "/key.pem"},
            {"hub_ca", work_dir_ + "/hub-ca.pem"},
            {"est_url", "https://" + std::string(kHubHost) + ":" + std::to_string(est_port) +
                            "/.well-known/est"},
            {"est_secret", secret},
            {"est_fingerprint", chain_->est_fingerprint()},
            {"state_dir", dir + "/state"}};
  }

  void run_session(const SessionPlan &plan) {
    std::string dir = work_dir_ + "/" + std::string(to_string(plan.kind));
    std::filesystem::create_directories(dir);
    SessionRecord record;
    try {
      HostileServer hub({{plan.credentials->certificate.get(), &plan.credentials->chain,
                          plan.credentials->key.get()},
                         chain_->root(), plan.max_version, plan.mqtt});
      HostileServer impostor({{hub_.impostor_est.certificate.get(), &hub_.impostor_est.chain,
                               hub_.impostor_est.key.get()},
                              nullptr, 0, MqttBehaviour::silent});
      if (profile_.claims("est-enrolment"))
        record.secret = chain_->issue_secret(observations_.device_id);
      std::string command = expand_command(
          profile_.command, placeholders(plan.kind, dir, hub.port(), impostor.port(), record.secret));
      // Relative paths in a profile's command resolve against its directory.
      command = "cd " + expand_command("{state_dir}", {{"state_dir", profile_dir()}}) + " && " + command;
      pki::write_file_atomically(dir + "/command", command + "\n");
      const char *path = std::getenv("PATH");
      scenario::Environment environment{{"PATH", options_.bin_dir + ":" + (path ? path : "/usr/bin:/bin")}};
      if (token_)
        environment["SOFTHSM2_CONF"] = session_token(dir);
      scenario::BackgroundProcess device({"/bin/sh", "-c", command}, environment, dir + "/device.log");
      record.launched = Clock::now();
      watch(plan.kind, hub, impostor, device, record);
      record.ended = Clock::now();
      record.exited = device.exited();
      record.exit_code = device.exit_code();
      device.stop();
      hub.stop();
      impostor.stop();
      record.hub = hub.records();
      record.est_impostor = impostor.records();
    } catch (const std::exception &error) { // a thread must not end the suite
      std::lock_guard lock(mutex_);
      out_ << "  session " << to_string(plan.kind) << " could not run: " << error.what() << "\n";
    }
    std::lock_guard lock(mutex_);
    out_ << "  session " << to_string(plan.kind) << ": " << record.hub.size()
         << " connection(s) to the hub" <<
        (record.est_impostor.empty() ? "" : ", " + std::to_string(record.est_impostor.size()) +
                                                " to the impostor EST server")
         << ", device " << (record.exited ? "exited " + std::to_string(record.exit_code) : "stopped")
         << " after " << std::chrono::duration_cast<std::chrono::milliseconds>(record.ended - record.launched).count()
         << " ms\n";
    if (plan.kind == SessionKind::main && record.hub.empty())
      out_ << "  the device never reached the hub; the end of what it printed (" << dir
           << "/device.log, --keep keeps it):\n" << log_tail(dir + "/device.log");
    observations_.sessions[plan.kind] = std::move(record);
    if (plan.kind == SessionKind::main)
      observations_.hub_port = main_port_;
  }

  // watch waits until the session has seen what it needs, the device
  // exited, or the time is up.
  void watch(SessionKind kind, HostileServer &hub, HostileServer &impostor,
             scenario::BackgroundProcess &device, SessionRecord &record) {
    if (kind == SessionKind::main)
      main_port_ = hub.port();
    std::optional<Clock::time_point> exited_at;
    while (!scenario::interrupted()) {
      auto now = Clock::now();
      auto elapsed = now - record.launched;
      if (device.exited() && !exited_at)
        exited_at = now;
      if (exited_at && now - *exited_at > 500ms)
        return;
      auto connections = kind == SessionKind::impostor_est ? impostor.records() : hub.records();
      auto since_first = connections.empty() ? Clock::duration{} : now - connections.front().accepted;
      switch (kind) {
      case SessionKind::main:
        if (main_seen_all(connections, record, now) || elapsed > main_limit(connections, record))
          return;
        break;
      case SessionKind::dropping_hub:
      case SessionKind::refusing_hub:
        if (since_first > kRetryWatch || elapsed > kSessionLimit + kRetryWatch)
          return;
        break;
      default:
        if (since_first > kRefusalWatch || elapsed > kSessionLimit)
          return;
      }
      std::this_thread::sleep_for(50ms);
    }
  }

  Clock::duration main_limit(const std::vector<ConnectionRecord> &connections,
                             const SessionRecord &record) const {
    for (const auto &connection : connections)
      for (const auto &seen : connection.packets)
        if (auto *connect = std::get_if<mqtt::Connect>(&seen.packet)) {
          auto wait = seen.at - record.launched + std::chrono::seconds(connect->keep_alive) * 3 / 2 + 1s;
          return std::min<Clock::duration>(std::max<Clock::duration>(wait, kSessionLimit), kMainLimit);
        }
    return kSessionLimit;
  }

  // main_seen_all: every selected check of the main session already passes.
  bool main_seen_all(const std::vector<ConnectionRecord> &connections, const SessionRecord &record,
                     Clock::time_point now) {
    Observations partial;
    partial.device_id = observations_.device_id;
    partial.hub_host = observations_.hub_host;
    partial.hub_port = main_port_;
    partial.sessions[SessionKind::main] = record;
    partial.sessions[SessionKind::main].hub = connections;
    partial.sessions[SessionKind::main].ended = now;
    partial.enrolments = chain_->enrolments();
    for (const auto &check : result_.checks)
      if (check.verdict != Verdict::skipped && check.check->session == SessionKind::main &&
          judge(*check.check, partial).verdict != Verdict::pass)
        return false;
    return !connections.empty();
  }

  std::string profile_dir() const {
    return std::filesystem::absolute(profile_.file).parent_path().string();
  }

  static constexpr const char *kHubHost = "localhost";
  const DeviceProfile &profile_;
  const SuiteOptions &options_;
  std::ostream &out_;
  std::string work_dir_;
  std::unique_ptr<SupplyChain> chain_;
  std::optional<TokenIdentity> token_; // key: pkcs11 without est-enrolment
  HubPki hub_;
  std::mutex mutex_;
  std::atomic<std::uint16_t> main_port_{0};
  Observations observations_;
  SuiteResult result_;
};

} // namespace

bool SuiteResult::passed() const {
  if (interrupted)
    return false;
  return std::all_of(checks.begin(), checks.end(),
                     [](const CheckResult &check) { return check.verdict != Verdict::fail; });
}

SuiteResult run_conformance(const DeviceProfile &profile, const SuiteOptions &options,
                            std::ostream &transcript) {
  // A device that hangs up while the suite's hub writes must not end the
  // suite with SIGPIPE; the write fails and is judged instead.
  ::signal(SIGPIPE, SIG_IGN);
  return Suite(profile, options, transcript).run();
}

} // namespace chainlab::conformance
