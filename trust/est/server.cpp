#include "est/server.hpp"

#include "core/protocol_codes.hpp"
#include "est/codec.hpp"

namespace chainlab::est {
namespace {

constexpr std::string_view kPrefix = "/.well-known/est/";

HttpResponse certs_response(const pki::CertList &certs, std::string_view type) {
  HttpResponse response;
  response.headers = {{"Content-Type", std::string(type)},
                      {"Content-Transfer-Encoding", "base64"}};
  response.body = encode_certs_only(certs);
  return response;
}

HttpResponse plain(int status, const std::string &text) {
  return HttpResponse{status, {{"Content-Type", "text/plain"}}, text + "\n"};
}

bool is_csr_type(const std::string &content_type) {
  return content_type.rfind(std::string(kCsrType), 0) == 0;
}

HttpResponse enrol(Authority &authority, const HttpRequest &request,
                   const Requester &requester, bool renewal) {
  if (!is_csr_type(request.header("Content-Type")))
    return error_response(Error(
        Reason::malformed_request,
        "Content-Type must be application/pkcs10, got \"" +
            request.header("Content-Type") + "\""));
  ossl::Ptr<X509_REQ> csr;
  try {
    csr = decode_csr(request.body, "EST request body");
  } catch (const Error &error) {
    return error_response(error);
  }
  Result<ossl::Ptr<X509>> issued =
      renewal ? authority.simple_reenroll(csr.get(), requester)
              : authority.simple_enroll(
                    csr.get(), basic_password(request.header("Authorization")),
                    requester);
  if (!issued)
    return error_response(issued.error());
  pki::CertList certs;
  certs.push_back(std::move(issued.value()));
  return certs_response(certs, kCertsOnlyType);
}

} // namespace

std::string basic_password(const std::string &authorization) {
  constexpr std::string_view scheme = "Basic ";
  if (authorization.rfind(std::string(scheme), 0) != 0)
    return {};
  std::string decoded;
  try {
    decoded = pki::base64_decode(authorization.substr(scheme.size()),
                                 "Authorization header");
  } catch (const Error &) {
    return {};
  }
  auto colon = decoded.find(':');
  return colon == std::string::npos ? std::string() : decoded.substr(colon + 1);
}

HttpResponse error_response(const Error &error) {
  HttpResponse response = plain(http_status(error.reason()),
                                std::string(to_string(error.reason())) + ": " +
                                    error.detail());
  response.headers.emplace_back(std::string(kReasonHeader),
                                std::string(to_string(error.reason())));
  if (response.status == 401)
    response.headers.emplace_back("WWW-Authenticate",
                                  "Basic realm=\"chainlab EST\"");
  return response;
}

HttpResponse handle_request(Authority &authority, const HttpRequest &request,
                            const Requester &requester) {
  std::string target = request.target.substr(0, request.target.find('?'));
  if (target.rfind(std::string(kPrefix), 0) != 0)
    return plain(404, "not an EST path: " + target);
  std::string operation = target.substr(kPrefix.size());
  bool is_get = request.method == "GET", is_post = request.method == "POST";
  if (operation == "cacerts") {
    if (!is_get)
      return plain(405, "cacerts takes GET");
    return certs_response(authority.ca_certificates(), kCaCertsType);
  }
  if (operation == "simpleenroll" || operation == "simplereenroll") {
    if (!is_post)
      return plain(405, operation + " takes POST");
    return enrol(authority, request, requester, operation == "simplereenroll");
  }
  return plain(404, "unsupported EST operation: " + operation);
}

} // namespace chainlab::est
