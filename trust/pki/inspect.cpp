#include "pki/inspect.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <ctime>
#include <iomanip>
#include <sstream>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "core/error.hpp"
#include "ossl/errors.hpp"

namespace chainlab::pki {
namespace {

std::string hex(const unsigned char *data, size_t size, bool colons) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    if (colons && i > 0)
      out += ':';
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0xf];
  }
  return out;
}

// from_seconds converts, saturating at what Clock can hold (years 1678 to
// 2262 with nanoseconds): certificates say 9999-12-31 for "never expires",
// and hostile input says anything.
Clock::time_point from_seconds(std::time_t seconds) {
  using std::chrono::duration_cast;
  constexpr auto latest = duration_cast<std::chrono::seconds>(Clock::duration::max()).count() - 1;
  constexpr auto earliest = duration_cast<std::chrono::seconds>(Clock::duration::min()).count() + 1;
  return Clock::time_point(duration_cast<Clock::duration>(
      std::chrono::seconds(std::clamp<std::int64_t>(seconds, earliest, latest))));
}

Clock::time_point from_asn1(const ASN1_TIME *time) {
  struct tm parts {};
  ASN1_TIME_to_tm(time, &parts);
  return from_seconds(timegm(&parts));
}

// Fetched once: OpenSSL 3 otherwise looks the algorithm up on every use.
const EVP_MD *sha256() {
  static EVP_MD *md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  return md;
}

std::string spki_fingerprint(const std::string &spki) {
  if (spki.empty())
    throw Error(Reason::internal_error, "cannot encode public key");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(spki.data(), spki.size(), digest, &size, sha256(), nullptr);
  std::string text = hex(digest, size, false);
  for (auto &c : text)
    c = char(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

} // namespace

std::string sha256_digest(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, sha256(), nullptr) != 1)
    throw Error(Reason::internal_error, "SHA-256 failed");
  return std::string(reinterpret_cast<const char *>(digest), size);
}

std::string sha256_fingerprint(X509 *cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  X509_digest(cert, sha256(), digest, &size);
  return hex(digest, size, true);
}

std::string key_fingerprint(X509 *certificate) {
  // The certificate's own SubjectPublicKeyInfo: no key encoder involved,
  // which in OpenSSL 3 costs more than the hash.
  return spki_fingerprint(ossl::to_der_bytes(i2d_X509_PUBKEY, X509_get_X509_PUBKEY(certificate)));
}

std::string key_fingerprint(EVP_PKEY *key) {
  return spki_fingerprint(ossl::to_der_bytes(i2d_PUBKEY, key));
}

std::string normalise_fingerprint(std::string_view text) {
  std::string out;
  for (char c : text)
    if (std::isxdigit(static_cast<unsigned char>(c)))
      out += char(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string subject_text(const X509_NAME *name) {
  ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char *data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size_t(size));
}

std::string subject_text(X509 *cert) {
  return subject_text(X509_get_subject_name(cert));
}

std::string issuer_text(X509 *cert) {
  return subject_text(X509_get_issuer_name(cert));
}

std::optional<std::string> common_name(const X509_NAME *name) {
  int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0)
    return std::nullopt;
  const ASN1_STRING *value =
      X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char *raw = nullptr;
  int size = ASN1_STRING_to_UTF8(&raw, value);
  ossl::Buffer<unsigned char> utf8(raw);
  if (size < 0)
    return std::nullopt;
  std::string cn(reinterpret_cast<char *>(utf8.get()), size_t(size));
  if (cn.find('\0') != std::string::npos)
    return std::nullopt;
  return cn;
}

ossl::Ptr<X509_NAME> parse_subject(std::string_view text) {
  ossl::Ptr<X509_NAME> name(X509_NAME_new());
  std::string field, value, *current = &field;
  auto flush = [&] {
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(' '));
      s.erase(s.find_last_not_of(' ') + 1);
      return s;
    };
    field = trim(field);
    value = trim(value);
    if (field.empty() || value.empty() ||
        !X509_NAME_add_entry_by_txt(
            name.get(), field.c_str(), MBSTRING_UTF8,
            reinterpret_cast<const unsigned char *>(value.c_str()), -1, -1, 0))
      throw Error(Reason::config_invalid,
                  "subject \"" + std::string(text) +
                      "\": cannot use attribute \"" + field + "=" + value +
                      "\" (expected forms like CN=Factory-Y,O=Company-X)");
    field.clear();
    value.clear();
    current = &field;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      *current += text[++i];
    } else if (c == '=' && current == &field) {
      current = &value;
    } else if (c == ',') {
      flush();
    } else {
      *current += c;
    }
  }
  flush();
  // RFC 2253 lists the most specific attribute first; X.509 stores it last.
  ossl::Ptr<X509_NAME> ordered(X509_NAME_new());
  for (int i = X509_NAME_entry_count(name.get()) - 1; i >= 0; --i)
    X509_NAME_add_entry(ordered.get(), X509_NAME_get_entry(name.get(), i), -1,
                        0);
  return ordered;
}

std::string describe_key(EVP_PKEY *key) {
  if (key == nullptr) // OpenSSL could not decode the certificate's key
    return "no key that decodes";
  int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_EC) {
    char curve[64] = {};
    size_t length = 0;
    EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof curve, &length);
    std::string name(curve);
    if (name == "prime256v1")
      return "EC P-256";
    if (name == "secp384r1")
      return "EC P-384";
    return "EC " + (name.empty() ? std::string("unknown curve") : name);
  }
  if (id == EVP_PKEY_RSA)
    return "RSA " + std::to_string(EVP_PKEY_get_bits(key));
  return std::string(OBJ_nid2sn(id));
}

std::string serial_hex(X509 *cert) {
  ossl::Ptr<BIGNUM> serial(
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  ossl::Buffer<char> text(BN_bn2hex(serial.get()));
  std::string out(text.get());
  for (auto &c : out)
    c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Clock::time_point not_before(X509 *cert) {
  return from_asn1(X509_get0_notBefore(cert));
}
Clock::time_point not_after(X509 *cert) {
  return from_asn1(X509_get0_notAfter(cert));
}

std::string format_time(Clock::time_point when) {
  std::time_t seconds = Clock::to_time_t(when);
  struct tm parts {};
  gmtime_r(&seconds, &parts);
  std::ostringstream out;
  out << std::put_time(&parts, "%Y-%m-%dT%H:%M:%SZ");
  return out.str();
}

std::optional<Clock::time_point> parse_time(std::string_view iso8601) {
  struct tm parts {};
  std::istringstream in{std::string(iso8601)};
  in >> std::get_time(&parts, "%Y-%m-%dT%H:%M:%S");
  if (in.fail())
    return std::nullopt;
  return from_seconds(timegm(&parts));
}

std::optional<long> path_len(X509 *cert) {
  long value = X509_get_pathlen(cert);
  if (value < 0)
    return std::nullopt;
  return value;
}

bool is_ca(X509 *cert) { return X509_check_ca(cert) == 1; }

std::string_view signature_bytes(const X509 *cert) {
  const ASN1_BIT_STRING *signature = nullptr;
  X509_get0_signature(&signature, nullptr, cert);
  if (!signature)
    return {};
  return {reinterpret_cast<const char *>(ASN1_STRING_get0_data(signature)),
          std::size_t(ASN1_STRING_length(signature))};
}

bool same_certificate(const X509 *a, const X509 *b) {
  const X509_ALGOR *algorithm_a = nullptr, *algorithm_b = nullptr;
  X509_get0_signature(nullptr, &algorithm_a, a);
  X509_get0_signature(nullptr, &algorithm_b, b);
  return X509_cmp(a, b) == 0 && algorithm_a && algorithm_b &&
         X509_ALGOR_cmp(algorithm_a, algorithm_b) == 0 &&
         signature_bytes(a) == signature_bytes(b);
}

} // namespace chainlab::pki
