// Transparency log: what an auditor or the hub decodes from a log (an
// entry's bytes, a tree head or a proof in JSON), and what a CA's log API
// answers to any request target. Whatever decodes must re-encode to the
// same thing; the API answers every target with a status, never a crash.
#include <nlohmann/json.hpp>

#include "ca/log_api.hpp"
#include "core/error.hpp"
#include "fuzz/fuzz_input.hpp"
#include "support/test_pki.hpp"
#include "transparency/log_json.hpp"

using namespace chainlab;

namespace {

void entry_round_trip(std::string_view bytes) {
  auto decoded = transparency::decode_entry(
      {reinterpret_cast<const std::uint8_t *>(bytes.data()), bytes.size()}, "fuzz input");
  if (decoded)
    fuzz::require(transparency::encode_entry(decoded.value()) == bytes,
                  "a decoded log entry does not re-encode to its bytes");
}

void json_round_trip(std::string_view text) {
  auto body = nlohmann::json::parse(text, nullptr, false);
  if (body.is_discarded())
    return;
  if (auto head = transparency::tree_head_from_json(body, "fuzz input")) {
    auto again = transparency::tree_head_from_json(transparency::to_json(head.value()), "again");
    fuzz::require(again && again.value().root == head.value().root &&
                      again.value().tree_size == head.value().tree_size &&
                      again.value().signature == head.value().signature,
                  "a tree head does not round-trip through JSON");
  }
  if (auto path = transparency::hashes_from_json(body, "audit_path", "fuzz input"))
    fuzz::require(path.value().size() <= 64, "a proof longer than any tree needs was accepted");
}

// StoredLog: one CA log of 21 entries for the whole run.
struct StoredLog {
  StoredLog() : db(dir.file("issuance.db")), log(db) {
    for (int i = 0; i < 21; ++i)
      log.append({std::uint64_t(i), "device", "certificate " + std::to_string(i)});
    log.publish(key.get(), 1);
  }
  testing::TempDir dir;
  ossl::Ptr<EVP_PKEY> key = testing::make_key();
  registry::Database db;
  registry::TransparencyLog log;
};

void api_request(std::string_view target) {
  static StoredLog stored;
  auto response = ca::handle_log_request(stored.log, "CN=Technician-Z",
                                         {"GET", "/log/v1/" + std::string(target), {}, ""});
  fuzz::require(response.status == 200 || response.status == 400 || response.status == 404 ||
                    response.status == 405,
                "the log API answered with an unexpected status");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  try {
    switch (input.selector() % 3) {
    case 0:
      entry_round_trip(input.rest());
      break;
    case 1:
      json_round_trip(input.rest());
      break;
    default:
      api_request(input.rest());
    }
  } catch (const Error &) {
  }
  return 0;
}
