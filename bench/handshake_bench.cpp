// Figures, not assertions: device handshakes per second through the hub's
// own verify glue, before and after the tenant snapshot. Both ends run in
// this process over a memory BIO pair (TLS 1.3, X25519, P-256 on both
// sides), so each figure includes the client's crypto too; what differs
// between the two is only where the decision reads its trust from.
//   before: every handshake reads the hub's CAs from SQLite, parses their
//           PEM and validates the chain from scratch (the old gateway);
//   after:  every handshake reads the published snapshot (CAs parsed once,
//           proven intermediates cached).
#include <benchmark/benchmark.h>

#include <openssl/ssl.h>
#include <unistd.h>

#include <filesystem>

#include "bench_pki.hpp"
#include "hub/device_handshake.hpp"
#include "hub/trust_store.hpp"
#include "net/memory_tls.hpp"
#include "net/tls_context.hpp"
#include "ossl/ec_key_decoding.hpp"
#include "pki/inspect.hpp"

namespace chainlab {
namespace {

using Clock = std::chrono::system_clock;
constexpr const char *kHub = "bench-hub";
constexpr int kOtherCas = 3; // a tenant rarely has one CA only

struct HandshakeBed {
  bench::SeedChain seed;
  std::filesystem::path directory = std::filesystem::temp_directory_path() /
                                    ("chainlab-handshake-bench-" + std::to_string(::getpid()));
  std::unique_ptr<registry::HubRegistry> registry;
  std::unique_ptr<hub::TrustStore> trust;
  bench::Ca hub_ca = bench::make_ca(nullptr, "CN=Hub TLS CA", std::nullopt);
  ossl::Ptr<EVP_PKEY> server_key;
  ossl::Ptr<X509> server_cert;
  std::vector<ossl::Ptr<SSL_CTX>> devices; // one client context per device

  HandshakeBed() {
    std::filesystem::create_directories(directory);
    registry = std::make_unique<registry::HubRegistry>((directory / "hub.db").string());
    registry->create_hub(kHub);
    add_ca("company-x", seed.company.certificate.get());
    for (int i = 0; i < kOtherCas; ++i)
      add_ca("other-" + std::to_string(i),
             bench::make_ca(nullptr, "CN=Other-" + std::to_string(i), std::nullopt)
                 .certificate.get());
    trust = std::make_unique<hub::TrustStore>(*registry);
    auto server = bench::make_leaf(hub_ca, "CN=localhost", pki::Profile::tls_server);
    server_cert = std::move(server.certificate);
    server_key = std::move(server.key);
    for (std::size_t i = 0; i < seed.devices.size(); ++i)
      devices.push_back(device_context(i));
  }
  ~HandshakeBed() {
    trust.reset();
    registry.reset();
    std::filesystem::remove_all(directory);
  }
  void add_ca(const std::string &name, X509 *certificate) {
    registry::CaRecord record;
    record.hub = kHub;
    record.name = name;
    record.certificate_pem = pki::to_pem(certificate);
    record.subject = pki::subject_text(certificate);
    record.thumbprint = pki::sha256_fingerprint(certificate);
    record.verified = true;
    record.created_at = record.verified_at.emplace(Clock::now());
    record.not_after = Clock::now() + std::chrono::hours(24);
    registry->add_ca(record, {0, kHub, Clock::now(), "ca_uploaded", "", record.subject, "bench"});
  }
  ossl::Ptr<SSL_CTX> device_context(std::size_t i) const {
    ossl::Ptr<SSL_CTX> context(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_min_proto_version(context.get(), TLS1_3_VERSION);
    SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
    SSL_CTX_use_certificate(context.get(), seed.devices[i].get());
    SSL_CTX_use_PrivateKey(context.get(), seed.device_keys[i].get());
    for (const auto &cert : seed.intermediates)
      SSL_CTX_add1_chain_cert(context.get(), cert.get());
    return context;
  }
};

// The snapshot each handshake decides on, by strategy.
using SnapshotSource = std::shared_ptr<const hub::TenantSnapshot> (*)(HandshakeBed &);

std::shared_ptr<const hub::TenantSnapshot> read_registry(HandshakeBed &bed) {
  auto snapshot = std::make_shared<hub::TenantSnapshot>();
  snapshot->hub = kHub;
  snapshot->cas = hub::CaTrust::from(bed.registry->list_cas(kHub));
  return snapshot;
}

std::shared_ptr<const hub::TenantSnapshot> published(HandshakeBed &bed) {
  return bed.trust->snapshot(kHub);
}

struct Verifier {
  HandshakeBed *bed;
  SnapshotSource source;
  bool accepted = false;
};

int verify(X509_STORE_CTX *store_ctx, void *arg) {
  auto &verifier = *static_cast<Verifier *>(arg);
  auto judged = hub::judge_presented_chain(*verifier.source(*verifier.bed), store_ctx,
                                           Clock::now());
  verifier.accepted = judged.verdict.ok();
  return judged.proceeds() ? 1 : 0;
}

HandshakeBed &shared_bed() {
  static HandshakeBed bed;
  return bed;
}

void handshakes(benchmark::State &state, SnapshotSource source) {
  HandshakeBed &bed = shared_bed();
  Verifier verifier{&bed, source};
  auto server = net::make_server_context({bed.server_cert.get(), nullptr, bed.server_key.get()},
                                         nullptr);
  hub::require_device_certificates(server.get(), verify, &verifier);
  std::size_t i = 0;
  for (auto _ : state) {
    auto run = net::run_memory_handshake(bed.devices[i++ % bed.devices.size()].get(), server.get());
    if (!run.completed() || !verifier.accepted) {
      state.SkipWithError("a handshake of the seed chain failed");
      break;
    }
  }
  state.counters["handshakes/s"] =
      benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_DeviceHandshake_Before_RegistryPerHandshake(benchmark::State &state) {
  handshakes(state, read_registry);
}
BENCHMARK(BM_DeviceHandshake_Before_RegistryPerHandshake)->UseRealTime();

void BM_DeviceHandshake_After_PublishedSnapshot(benchmark::State &state) {
  handshakes(state, published);
}
BENCHMARK(BM_DeviceHandshake_After_PublishedSnapshot)->UseRealTime();

// As the hub runs since: certificate keys decoded by OpenSSL's built-in EC
// method (ossl/ec_key_decoding). It changes the whole process, so it is
// registered after the two above; run it alone with --benchmark_filter to
// compare without order effects.
void BM_DeviceHandshake_After_SnapshotAndBuiltinEcDecoding(benchmark::State &state) {
  shared_bed(); // its keys first: made as every other variant made them
  if (auto why = ossl::use_builtin_ec_key_decoding(); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  handshakes(state, published);
}
BENCHMARK(BM_DeviceHandshake_After_SnapshotAndBuiltinEcDecoding)->UseRealTime();

// The decision alone, without TLS: what the snapshot saves per handshake.
void decisions(benchmark::State &state, SnapshotSource source) {
  HandshakeBed &bed = shared_bed();
  std::size_t i = 0;
  for (auto _ : state) {
    std::size_t n = i++ % bed.seed.devices.size();
    auto verdict = hub::authenticate_device(*source(bed), bed.seed.devices[n].get(),
                                            bed.seed.intermediates, Clock::now());
    if (!verdict) {
      state.SkipWithError(verdict.error().what());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Decision_Before_RegistryPerHandshake(benchmark::State &state) {
  decisions(state, read_registry);
}
BENCHMARK(BM_Decision_Before_RegistryPerHandshake);

void BM_Decision_After_PublishedSnapshot(benchmark::State &state) {
  decisions(state, published);
}
BENCHMARK(BM_Decision_After_PublishedSnapshot);

} // namespace
} // namespace chainlab
