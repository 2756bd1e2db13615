#include "scenarios/conformance/judges.hpp"

#include <algorithm>
#include <functional>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pki/csr.hpp"
#include "pki/encoding.hpp"
#include "pki/inspect.hpp"
#include "scenarios/conformance/hub_script.hpp"

namespace chainlab::conformance {
namespace {

using Records = std::vector<ConnectionRecord>;
constexpr int kMaxAttempts = 8;
constexpr auto kMinGap = std::chrono::milliseconds(100);

Judgement pass(std::string evidence) { return {Verdict::pass, std::move(evidence)}; }
Judgement fail(std::string evidence) { return {Verdict::fail, std::move(evidence)}; }

const SessionRecord &session(const Observations &seen, SessionKind kind) {
  static const SessionRecord none;
  auto found = seen.sessions.find(kind);
  return found == seen.sessions.end() ? none : found->second;
}

std::string seconds(Clock::duration duration) {
  std::ostringstream out;
  out.precision(2);
  out << std::fixed << std::chrono::duration<double>(duration).count() << " s";
  return out.str();
}

std::string version_name(std::uint16_t version) {
  switch (version) {
  case 0x0304: return "TLSv1.3";
  case 0x0303: return "TLSv1.2";
  case 0x0302: return "TLSv1.1";
  case 0x0301: return "TLSv1.0";
  case 0x0300: return "SSLv3";
  }
  std::ostringstream out;
  out << "0x" << std::hex << version;
  return out.str();
}

bool is_grease(std::uint16_t version) { return (version & 0x0f0f) == 0x0a0a; }

std::string handshake_errors(const Records &records) {
  std::set<std::string> errors;
  for (const auto &record : records)
    if (!record.handshake_done)
      errors.insert(record.handshake_error);
  std::string out;
  for (const auto &error : errors)
    out += (out.empty() ? "" : "; ") + error;
  return out;
}

const ConnectionRecord *first_with_leaf(const Records &records) {
  for (const auto &record : records)
    if (record.handshake_done && !record.leaf_pem.empty())
      return &record;
  return nullptr;
}

template <typename T> std::vector<std::pair<Clock::time_point, T>> packets_of(const Records &records) {
  std::vector<std::pair<Clock::time_point, T>> out;
  for (const auto &record : records)
    for (const auto &seen : record.packets)
      if (auto *packet = std::get_if<T>(&seen.packet))
        out.push_back({seen.at, *packet});
  return out;
}

std::vector<mqtt::Publish> publishes(const Records &records, const std::string &prefix) {
  std::vector<mqtt::Publish> out;
  for (auto &[at, publish] : packets_of<mqtt::Publish>(records))
    if (azure_topic(publish.topic).rfind(prefix, 0) == 0)
      out.push_back(publish);
  return out;
}

std::string subject_of(const std::string &pem) {
  return pki::subject_text(pki::parse_certificate(pem, "the device certificate").get());
}

// ---- enrolment ----
const EnrolmentRecord *main_enrolment(const Observations &seen) {
  const std::string &secret = session(seen, SessionKind::main).secret;
  for (const auto &record : seen.enrolments)
    if (!secret.empty() && record.secret == secret)
      return &record;
  return nullptr;
}

Judgement refuses_impostor(const Observations &seen) {
  const auto &records = session(seen, SessionKind::impostor_est).est_impostor;
  if (records.empty())
    return fail("the device never contacted the impostor EST server it was pointed at");
  std::size_t bytes = 0;
  for (const auto &record : records)
    bytes += record.application_bytes;
  if (bytes > 0)
    return fail("the device accepted the impostor's certificate (its CA is not the pinned one) and "
                "sent it " + std::to_string(bytes) + " bytes of EST request, with the secret");
  return pass("the device aborted " + std::to_string(records.size()) +
              " TLS handshake(s) with the impostor (" + handshake_errors(records) +
              ") and sent it nothing");
}

std::string key_strength(EVP_PKEY *key, bool &adequate) {
  int bits = EVP_PKEY_get_bits(key);
  if (EVP_PKEY_is_a(key, "EC")) {
    char curve[64] = "";
    size_t length = 0;
    EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof curve, &length);
    std::string name = curve;
    adequate = name == "prime256v1" || name == "secp384r1" || name == "secp521r1";
    return "EC " + name;
  }
  adequate = EVP_PKEY_is_a(key, "RSA") && bits >= 2048;
  return std::string(EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "?") + "-" +
         std::to_string(bits);
}

Judgement csr(const Observations &seen) {
  const EnrolmentRecord *record = main_enrolment(seen);
  if (!record)
    return fail("no CSR reached the EST server with the secret the device was given");
  auto request = pki::parse_csr(record->csr_pem, "the device's CSR");
  EVP_PKEY *key = X509_REQ_get0_pubkey(request.get());
  bool adequate = false;
  std::string strength = key ? key_strength(key, adequate) : "no key";
  auto cn = pki::common_name(X509_REQ_get_subject_name(request.get())).value_or("");
  auto extensions = pki::requested_extensions(request.get());
  bool asks_ca = extensions.ca.value_or(false) ||
                 (extensions.key_usage && (*extensions.key_usage & KU_KEY_CERT_SIGN));
  for (const auto &other : seen.enrolments) {
    if (&other == record || other.csr_pem.empty())
      continue;
    auto other_request = pki::parse_csr(other.csr_pem, "another CSR");
    if (key && EVP_PKEY_eq(key, X509_REQ_get0_pubkey(other_request.get())) == 1)
      return fail("the CSR's key (" + strength + ") was also in another enrolment: not fresh");
  }
  std::string facts = strength + " key, CN=" + cn + (asks_ca ? ", asks to be a CA" : ", no CA request");
  if (!adequate)
    return fail("the CSR's key is too weak: " + facts +
                (record->refusal.empty() ? "" : " (the CA refused it: " + record->refusal + ")"));
  if (cn != seen.device_id)
    return fail("the CSR's CN is \"" + cn + "\", not the device ID " + seen.device_id);
  if (asks_ca)
    return fail("the CSR asks for a CA certificate: " + facts);
  return pass(facts + "; a key not seen in the " + std::to_string(seen.enrolments.size() - 1) +
              " other enrolment(s)");
}

Judgement installed_chain(const Observations &seen) {
  const EnrolmentRecord *record = main_enrolment(seen);
  if (!record || record->issued_pem.empty())
    return fail("no certificate was issued to the device, so none could be installed" +
                (record ? " (the CA refused: " + record->refusal + ")" : std::string()));
  const ConnectionRecord *first = first_with_leaf(session(seen, SessionKind::main).hub);
  if (!first)
    return fail("the device never presented a certificate to the hub after enrolling");
  auto issued = pki::parse_certificate(record->issued_pem, "the issued certificate");
  auto presented = pki::parse_certificate(first->leaf_pem, "the presented certificate");
  if (X509_cmp(issued.get(), presented.get()) != 0)
    return fail("the device presented " + pki::subject_text(presented.get()) +
                " (serial " + pki::serial_hex(presented.get()) + "), not the certificate it was issued (serial " +
                pki::serial_hex(issued.get()) + ")");
  return pass("the device presented the certificate it was issued (serial " +
              pki::serial_hex(issued.get()) + ") with " + std::to_string(first->intermediates) +
              " intermediate(s)");
}

// ---- TLS ----
Judgement tls_version(const Observations &seen) {
  std::set<std::uint16_t> offered;
  for (const auto &[kind, record] : seen.sessions)
    for (const auto *records : {&record.hub, &record.est_impostor})
      for (const auto &connection : *records) {
        if (!connection.hello.seen)
          continue;
        if (connection.hello.supported_versions.empty())
          offered.insert(connection.hello.legacy_version);
        for (auto version : connection.hello.supported_versions)
          if (!is_grease(version))
            offered.insert(version);
      }
  std::string list;
  for (auto it = offered.rbegin(); it != offered.rend(); ++it)
    list += (list.empty() ? "" : ", ") + version_name(*it);
  if (offered.empty())
    return fail("no ClientHello was seen");
  if (*offered.begin() < 0x0303)
    return fail("the device offered " + list);
  const auto &old = session(seen, SessionKind::old_tls).hub;
  if (old.empty())
    return fail("offered " + list + ", but never connected to the TLS 1.0/1.1 hub, so its refusal "
                "was not seen");
  for (const auto &connection : old)
    if (connection.handshake_done)
      return fail("offered " + list + ", yet completed a " + connection.protocol +
                  " handshake with a hub that speaks only TLS 1.0/1.1");
  return pass("offered " + list + "; refused the TLS 1.0/1.1 hub (" + handshake_errors(old) + ")");
}

Judgement sni(const Observations &seen) {
  for (const auto &connection : session(seen, SessionKind::main).hub) {
    if (!connection.hello.seen)
      continue;
    if (!connection.hello.sni)
      return fail("the ClientHello has no server_name extension");
    if (*connection.hello.sni != seen.hub_host)
      return fail("the ClientHello names \"" + *connection.hello.sni + "\", not " + seen.hub_host);
    return pass("server_name " + seen.hub_host);
  }
  return fail("no ClientHello reached the hub");
}

Judgement full_chain(const Observations &seen) {
  const ConnectionRecord *first = first_with_leaf(session(seen, SessionKind::main).hub);
  if (!first)
    return fail("the device presented no certificate in a completed handshake");
  std::string what = subject_of(first->leaf_pem) + " with " + std::to_string(first->intermediates) +
                     " intermediate(s)";
  if (!first->chain_verified)
    return fail("the device presented " + what + "; with only Company-X trusted and nothing cached "
                "the chain does not verify: " + first->chain_error);
  return pass("the device presented " + what + ", which verify up to Company-X");
}

Judgement possession(const Observations &seen) {
  const auto &records = session(seen, SessionKind::main).hub;
  if (const ConnectionRecord *first = first_with_leaf(records))
    return pass("TLS CertificateVerify verified with the key of " + subject_of(first->leaf_pem) +
                " (" + first->protocol + ")");
  if (records.empty())
    return fail("the device never connected to the hub");
  return fail("no handshake with a client certificate completed: " + handshake_errors(records));
}

Judgement refuses_hub(const Observations &seen, SessionKind kind, const std::string &what) {
  const auto &records = session(seen, kind).hub;
  if (records.empty())
    return fail("the device never connected to the hub with " + what + ", so no refusal was seen");
  std::size_t bytes = 0;
  for (const auto &record : records)
    bytes += record.application_bytes;
  if (bytes > 0) {
    auto connects = packets_of<mqtt::Connect>(records);
    return fail("the device accepted " + what + " and sent " + std::to_string(bytes) +
                " bytes of MQTT" +
                (connects.empty() ? "" : " (CONNECT as " + connects.front().second.client_id + ")"));
  }
  return pass("the device aborted " + std::to_string(records.size()) + " handshake(s) with " + what +
              " (" + handshake_errors(records) + ") and sent no MQTT bytes");
}

// ---- MQTT ----
Judgement connect(const Observations &seen) {
  auto connects = packets_of<mqtt::Connect>(session(seen, SessionKind::main).hub);
  if (connects.empty())
    return fail("no CONNECT reached the hub");
  const mqtt::Connect &first = connects.front().second;
  std::string port = std::to_string(seen.hub_port);
  std::string user = first.username.value_or("");
  bool user_ok = false;
  for (const auto &host : {seen.hub_host, seen.hub_host + ":" + port})
    if (user.rfind(host + "/" + seen.device_id + "/?", 0) == 0 &&
        user.find("api-version=") != std::string::npos)
      user_ok = true;
  std::string facts = "client ID \"" + first.client_id + "\", user name \"" + user + "\"" +
                      (first.password ? ", a password" : ", no password");
  if (first.client_id != seen.device_id)
    return fail(facts + ": the client ID is not the certificate's CN " + seen.device_id);
  if (!user_ok)
    return fail(facts + ": expected the user name " + seen.hub_host + "/" + seen.device_id +
                "/?api-version=...");
  if (first.password)
    return fail(facts + ": X.509 devices send no password");
  return pass(facts);
}

Judgement keepalive(const Observations &seen) {
  const SessionRecord &main = session(seen, SessionKind::main);
  for (const auto &record : main.hub) {
    auto connects = packets_of<mqtt::Connect>({record});
    if (connects.empty())
      continue;
    auto keep_alive = std::chrono::seconds(connects.front().second.keep_alive);
    if (keep_alive.count() == 0)
      return fail("CONNECT sets no keep-alive (0)");
    Clock::duration longest{};
    Clock::time_point last = record.packets.front().at;
    bool pinged = false;
    for (const auto &seen_packet : record.packets) {
      longest = std::max(longest, seen_packet.at - last);
      last = seen_packet.at;
      pinged |= std::holds_alternative<mqtt::Pingreq>(seen_packet.packet);
    }
    auto end = record.closed != Clock::time_point{} ? record.closed : main.ended;
    longest = std::max(longest, end - last);
    std::string facts = "keep-alive " + std::to_string(keep_alive.count()) + " s, longest silence " +
                        seconds(longest);
    if (longest > keep_alive * 3 / 2)
      return fail(facts + ": over 1.5 times the keep-alive, when the hub may drop the device");
    if (!pinged)
      return fail(facts + ", but no PINGREQ in the " + seconds(end - record.packets.front().at) +
                  " observed");
    return pass(facts + ", PINGREQ seen");
  }
  return fail("no CONNECT reached the hub");
}

Judgement telemetry(const Observations &seen) {
  const auto &records = session(seen, SessionKind::main).hub;
  std::string own = "devices/" + seen.device_id + "/messages/events/";
  for (const auto &publish : publishes(records, "devices/"))
    if (azure_topic(publish.topic).rfind(own, 0) != 0 &&
        azure_topic(publish.topic).find("/messages/events/") != std::string::npos)
      return fail("telemetry on another device's topic: " + publish.topic);
  auto mine = publishes(records, own);
  if (mine.empty())
    return fail("no telemetry on " + own);
  for (const auto &publish : mine)
    if (publish.qos != 1)
      return fail("telemetry at QoS " + std::to_string(publish.qos) + " on " + publish.topic);
  return pass(std::to_string(mine.size()) + " message(s) on " + own + " at QoS 1");
}

Judgement c2d(const Observations &seen) {
  const auto &records = session(seen, SessionKind::main).hub;
  bool sent = std::any_of(records.begin(), records.end(),
                          [](const auto &record) { return record.c2d_packet_id != 0; });
  if (!sent)
    return fail("the device never subscribed to devices/" + seen.device_id +
                "/messages/devicebound/#, so no message could be delivered");
  for (auto &[at, puback] : packets_of<mqtt::Puback>(records))
    if (puback.packet_id == kC2dPacketId)
      return pass("the cloud-to-device message (packet " + std::to_string(kC2dPacketId) +
                  ") was acknowledged");
  return fail("the cloud-to-device message (packet " + std::to_string(kC2dPacketId) +
              ") was never acknowledged");
}

Judgement twin(const Observations &seen) {
  const auto &records = session(seen, SessionKind::main).hub;
  auto gets = publishes(records, "$iothub/twin/GET/");
  auto patches = publishes(records, "$iothub/twin/PATCH/properties/reported/");
  if (gets.empty())
    return fail("no twin request on $iothub/twin/GET/");
  if (patches.empty())
    return fail("the twin was requested, but no reported properties were sent");
  if (!nlohmann::json::parse(patches.front().payload, nullptr, false).is_object())
    return fail("the reported properties are not a JSON object");
  return pass(std::to_string(gets.size()) + " twin request(s), " + std::to_string(patches.size()) +
              " reported patch(es), e.g. " + patches.front().payload.substr(0, 80));
}

Judgement methods(const Observations &seen) {
  const auto &records = session(seen, SessionKind::main).hub;
  std::string rid;
  for (const auto &record : records)
    if (!record.method_rid.empty())
      rid = record.method_rid;
  if (rid.empty())
    return fail("the device never subscribed to $iothub/methods/POST/#");
  auto answers = publishes(records, "$iothub/methods/res/");
  for (const auto &answer : answers)
    if (azure_topic(answer.topic).find("$rid=" + rid) != std::string::npos)
      return pass("method " + std::string(kMethodName) + " answered on " + answer.topic);
  if (!answers.empty())
    return fail("an answer on " + answers.front().topic + ", but not with the request's $rid=" + rid);
  return fail("method " + std::string(kMethodName) + " ($rid=" + rid + ") was never answered");
}

// ---- resilience ----
Judgement retries(const Observations &seen, SessionKind kind, const std::string &after,
                  bool must_return) {
  const auto &records = session(seen, kind).hub;
  std::vector<Clock::time_point> attempts;
  for (const auto &record : records)
    attempts.push_back(record.accepted);
  std::string gaps;
  Clock::duration shortest = Clock::duration::max();
  for (std::size_t i = 1; i < attempts.size(); ++i) {
    shortest = std::min(shortest, attempts[i] - attempts[i - 1]);
    if (i <= 6)
      gaps += (gaps.empty() ? "" : ", ") + seconds(attempts[i] - attempts[i - 1]);
  }
  std::string facts = std::to_string(attempts.size()) + " connection(s) " + after +
                      (gaps.empty() ? "" : ", gaps " + gaps);
  if (attempts.empty())
    return fail("the device never connected");
  if (must_return && attempts.size() < 2)
    return fail(facts + ": it did not reconnect");
  if (int(attempts.size()) > kMaxAttempts)
    return fail(facts + ": more than " + std::to_string(kMaxAttempts) + " attempts, it spins");
  if (attempts.size() > 1 && shortest < kMinGap)
    return fail(facts + ": an attempt within " + seconds(shortest) + " of the last, no backoff");
  return pass(facts);
}

using Judge = std::function<Judgement(const Observations &)>;

const std::map<std::string_view, Judge> &judges() {
  static const std::map<std::string_view, Judge> table = {
      {"est.refuses-impostor", refuses_impostor},
      {"est.csr", csr},
      {"est.installed-chain", installed_chain},
      {"tls.version", tls_version},
      {"tls.sni", sni},
      {"tls.full-chain", full_chain},
      {"tls.possession", possession},
      {"tls.refuses-untrusted-ca",
       [](const Observations &seen) {
         return refuses_hub(seen, SessionKind::untrusted_hub, "a hub certificate from an untrusted CA");
       }},
      {"tls.refuses-wrong-host",
       [](const Observations &seen) {
         return refuses_hub(seen, SessionKind::wrong_host, "a hub certificate for not-the-hub.invalid");
       }},
      {"tls.refuses-expired",
       [](const Observations &seen) {
         return refuses_hub(seen, SessionKind::expired_hub, "an expired hub certificate");
       }},
      {"mqtt.connect", connect},
      {"mqtt.keepalive", keepalive},
      {"mqtt.telemetry", telemetry},
      {"mqtt.c2d", c2d},
      {"mqtt.twin", twin},
      {"mqtt.methods", methods},
      {"resilience.reconnect",
       [](const Observations &seen) {
         return retries(seen, SessionKind::dropping_hub, "while dropped after every CONNACK", true);
       }},
      {"resilience.connack-refused",
       [](const Observations &seen) {
         return retries(seen, SessionKind::refusing_hub, "while refused with CONNACK 5", false);
       }},
  };
  return table;
}

} // namespace

std::string_view to_string(Verdict verdict) {
  return verdict == Verdict::pass ? "pass" : verdict == Verdict::fail ? "fail" : "skipped";
}

Judgement judge(const CheckInfo &check, const Observations &observations) {
  auto found = judges().find(check.id);
  if (found == judges().end())
    return fail("no judge for this check (a defect in the suite)");
  try {
    return found->second(observations);
  } catch (const std::exception &error) {
    return fail(std::string("what the device sent could not be judged: ") + error.what());
  }
}

} // namespace chainlab::conformance
