// Figures, not assertions: how much a device chain costs the hub to
// validate (in full, and under a cached intermediate), and how fast a CA
// key signs inside SoftHSM compared with in memory: the signature alone,
// and a whole CSR.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <array>
#include <filesystem>

#include "bench_pki.hpp"
#include "hsm/file_key_store.hpp"
#include "hsm/pkcs11_key_store.hpp"
#include "pki/chain_validation.hpp"
#include "pki/csr.hpp"
#include "pki/inspect.hpp"

namespace chainlab {
namespace {

using bench::SeedChain;

using Clock = std::chrono::system_clock;

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

// The signature alone: one context per signature (as a CA makes it), 256
// bytes to be signed (about a device certificate's TBS).
void sign_only(benchmark::State &state, EVP_PKEY *key) {
  std::array<unsigned char, 256> tbs{};
  std::array<unsigned char, 128> signature{};
  for (auto _ : state) {
    ossl::Ptr<EVP_MD_CTX> context(EVP_MD_CTX_new());
    std::size_t length = signature.size();
    if (EVP_DigestSignInit_ex(context.get(), nullptr, "SHA2-256", nullptr,
                              nullptr, key, nullptr) != 1 ||
        EVP_DigestSign(context.get(), signature.data(), &length, tbs.data(), tbs.size()) != 1) {
      state.SkipWithError("the signature failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// A whole CSR. For a key in memory (an OpenSSL 3.0 provider key) most of
// it is not the signature: X509_REQ_set_pubkey encodes the public key
// through OSSL_ENCODER_CTX_new_for_pkey, which looks up every provider's
// encoders on each call (about 170 of the 220 µs here). A SoftHSM key is
// a legacy EC_KEY and encodes without that look-up.
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
  sign_only(state, key.get());
}
BENCHMARK(BM_SignP256InMemory);

void BM_BuildCsrP256InMemory(benchmark::State &state) {
  auto key = hsm::generate_software_key(hsm::KeyType::ec_p256);
  sign_csrs(state, key.get());
}
BENCHMARK(BM_BuildCsrP256InMemory);

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

BenchToken &bench_token() {
  static BenchToken token;
  return token;
}

void BM_SignP256InSoftHsm(benchmark::State &state) {
  sign_only(state, bench_token().key.get());
}
BENCHMARK(BM_SignP256InSoftHsm);

void BM_BuildCsrP256InSoftHsm(benchmark::State &state) {
  sign_csrs(state, bench_token().key.get());
}
BENCHMARK(BM_BuildCsrP256InSoftHsm);

} // namespace
} // namespace chainlab

BENCHMARK_MAIN();
