// HTTP requests as the servers read them (Beast's parser with our limits),
// then handled by the EST server and by the hub's service API. A request
// without credentials gets the hub's bearer token, so that the fuzzer
// reaches the routes behind it.
#include "est/server.hpp"
#include "fuzz/fuzz_input.hpp"
#include "fuzz/hub_fixture.hpp"
#include "net/http_codec.hpp"
#include "pki/encoding.hpp"

using namespace chainlab;

namespace {

// IssuingAuthority answers every enrolment by issuing nothing new: it
// returns its own certificate, so the response encoder runs too.
class IssuingAuthority final : public est::Authority {
public:
  explicit IssuingAuthority(const testing::TestCa &ca) : ca_(ca) {}
  pki::CertList ca_certificates() override {
    pki::CertList list;
    list.push_back(ossl::up_ref(ca_.certificate.get()));
    return list;
  }
  Result<ossl::Ptr<X509>> simple_enroll(X509_REQ *, const std::string &secret,
                                        const est::Requester &) override {
    if (secret != "one-time-secret")
      return Error(Reason::secret_unknown, "no such enrolment secret");
    return ossl::up_ref(ca_.certificate.get());
  }
  Result<ossl::Ptr<X509>> simple_reenroll(X509_REQ *, const est::Requester &) override {
    return Error(Reason::client_cert_missing, "no client certificate");
  }

private:
  const testing::TestCa &ca_;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  net::ParsedRequest parsed = net::parse_request(fuzz::FuzzInput(data, size).all());
  fuzz::require(parsed.request.has_value() + parsed.refusal.has_value() <= 1,
                "a request that is both accepted and refused");
  if (!parsed.request)
    return 0;
  HttpRequest &request = *parsed.request;
  fuzz::HubFixture &hub = fuzz::hub_fixture();

  IssuingAuthority authority(hub.company); // the hub, and its CA, may be new for this input
  HttpResponse est_answer = est::handle_request(authority, request, {"127.0.0.1:1", nullptr, ""});
  fuzz::require(est_answer.status >= 200 && est_answer.status < 600, "EST answered no status");

  if (request.header("Authorization").empty())
    request.headers.emplace_back("Authorization", "Bearer " + hub.token);
  HttpResponse hub_answer = hub::handle_service_request(*hub.context, request);
  fuzz::require(hub_answer.status >= 200 && hub_answer.status < 600, "the hub answered no status");
  return 0;
}
