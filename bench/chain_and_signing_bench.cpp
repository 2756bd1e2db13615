// Figures, not assertions: how much a device chain costs the hub to
// validate (in full, and under a cached intermediate), and how fast a CA
// key signs inside SoftHSM compared with in memory.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>

#include "hsm/file_key_store.hpp"
#include "pki/certificate_builder.hpp"
#include "hsm/pkcs11_key_store.hpp"
#include "pki/chain_validation.hpp"
#include "pki/csr.hpp"
#include "pki/inspect.hpp"

namespace chainlab {
namespace {

using std::chrono::hours;
using Clock = std::chrono::system_clock;

struct Ca {
  ossl::Ptr<X509> certificate;
  ossl::Ptr<EVP_PKEY> key;
};

Ca make_ca(const Ca *issuer, const std::string &subject, std::optional<long> path_len) {
  Ca ca{nullptr, hsm::generate_software_key(hsm::KeyType::ec_p256)};
  pki::CertificatePlan plan;
  plan.subject = pki::parse_subject(subject);
  plan.public_key = ossl::up_ref(ca.key.get());
  plan.profile = issuer ? pki::Profile::subordinate_ca : pki::Profile::root_ca;
  plan.path_len = path_len;
  plan.not_before = Clock::now() - hours(1);
  plan.not_after = Clock::now() + hours(24 * 365);
  ca.certificate = pki::sign_certificate(plan, issuer ? issuer->certificate.get() : nullptr,
                                         issuer ? issuer->key.get() : ca.key.get());
  return ca;
}

struct SeedChain {
  Ca company = make_ca(nullptr, "CN=Company-X", std::nullopt);
  Ca factory = make_ca(&company, "CN=Factory-Y", 1);
  Ca technician = make_ca(&factory, "CN=Technician-Z", 0);
  std::vector<ossl::Ptr<X509>> devices;
  pki::CertList intermediates;
  std::vector<pki::TrustAnchor> anchors;

  SeedChain() {
    for (int i = 0; i < 64; ++i) {
      pki::CertificatePlan plan;
      plan.subject = pki::parse_subject("CN=widget-" + std::to_string(i));
      plan.public_key = hsm::generate_software_key(hsm::KeyType::ec_p256);
      plan.profile = pki::Profile::device;
      plan.not_before = Clock::now() - hours(1);
      plan.not_after = Clock::now() + hours(24 * 30);
      devices.push_back(pki::sign_certificate(plan, technician.certificate.get(), technician.key.get()));
    }
    intermediates.push_back(ossl::up_ref(technician.certificate.get()));
    intermediates.push_back(ossl::up_ref(factory.certificate.get()));
    anchors.push_back({"company-x", ossl::up_ref(company.certificate.get()), true, true});
  }
};

void BM_ValidateChainInFull(benchmark::State &state) {
  SeedChain seed;
  std::size_t i = 0;
  for (auto _ : state) {
    auto result = pki::validate_device_chain(seed.devices[i++ % seed.devices.size()].get(),
                                             seed.intermediates, seed.anchors, Clock::now());
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValidateChainInFull)->Threads(1)->Threads(2)->UseRealTime();

void BM_ValidateChainWithCachedIntermediate(benchmark::State &state) {
  static SeedChain seed;
  static pki::ChainValidator validator;
  std::size_t i = std::size_t(state.thread_index()) * 7;
  for (auto _ : state) {
    auto result = validator.validate(seed.devices[i++ % seed.devices.size()].get(),
                                     seed.intermediates, seed.anchors, Clock::now());
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValidateChainWithCachedIntermediate)->Threads(1)->Threads(2)->UseRealTime();

void sign_csrs(benchmark::State &state, EVP_PKEY *key) {
  auto subject = pki::parse_subject("CN=widget-bench");
  for (auto _ : state) {
    auto csr = pki::build_csr(key, subject.get(), pki::Profile::device);
    benchmark::DoNotOptimize(csr);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_SignP256InMemory(benchmark::State &state) {
  auto key = hsm::generate_software_key(hsm::KeyType::ec_p256);
  sign_csrs(state, key.get());
}
BENCHMARK(BM_SignP256InMemory);

// One token per process (SoftHSM reads its config once), removed at exit.
struct BenchToken {
  std::filesystem::path directory = std::filesystem::temp_directory_path() /
                                    ("chainlab-bench-" + std::to_string(::getpid()));
  std::unique_ptr<hsm::Pkcs11KeyStore> store =
      hsm::Pkcs11KeyStore::open({directory.string() + "/token", "bench"}, true);
  ossl::Ptr<EVP_PKEY> key = [this] {
    store->generate_key("signer", hsm::KeyType::ec_p256);
    return store->load_key("signer");
  }();
  ~BenchToken() { std::filesystem::remove_all(directory); }
};

void BM_SignP256InSoftHsm(benchmark::State &state) {
  static BenchToken token;
  sign_csrs(state, token.key.get());
}
BENCHMARK(BM_SignP256InSoftHsm);

} // namespace
} // namespace chainlab

BENCHMARK_MAIN();
