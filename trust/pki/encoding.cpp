#include "pki/encoding.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "core/error.hpp"
#include "ossl/errors.hpp"

namespace chainlab::pki {
namespace {

ossl::Ptr<BIO> memory_bio(std::string_view bytes) {
  return ossl::Ptr<BIO>(BIO_new_mem_buf(bytes.data(), int(bytes.size())));
}

bool looks_like_pem(std::string_view bytes) {
  return bytes.find("-----BEGIN") != std::string_view::npos;
}

std::string bio_contents(BIO *bio) {
  char *data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, size_t(size));
}

} // namespace

CertList parse_certificates(std::string_view bytes, std::string_view source) {
  CertList certs;
  if (looks_like_pem(bytes)) {
    auto bio = memory_bio(bytes);
    while (X509 *cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
      certs.emplace_back(cert);
    // The loop ends on a "no start line" error once input runs out; any
    // other error means a damaged block.
    unsigned long last = ERR_peek_last_error();
    bool clean_end = ERR_GET_REASON(last) == PEM_R_NO_START_LINE;
    std::string openssl_text = ossl::drain_errors();
    if (!clean_end || certs.empty())
      throw Error(Reason::malformed_certificate,
                  std::string(source) + ": cannot read PEM certificate #" +
                      std::to_string(certs.size() + 1) + " (" + openssl_text +
                      ")");
    return certs;
  }
  const auto *cursor = reinterpret_cast<const unsigned char *>(bytes.data());
  ossl::Ptr<X509> cert(d2i_X509(nullptr, &cursor, long(bytes.size())));
  if (!cert || cursor != reinterpret_cast<const unsigned char *>(
                            bytes.data() + bytes.size()))
    throw Error(Reason::malformed_certificate,
                std::string(source) +
                    ": neither PEM nor a single DER certificate (" +
                    ossl::drain_errors() + ")");
  certs.push_back(std::move(cert));
  return certs;
}

ossl::Ptr<X509> parse_certificate(std::string_view bytes,
                                  std::string_view source) {
  auto certs = parse_certificates(bytes, source);
  if (certs.size() != 1)
    throw Error(Reason::malformed_certificate,
                std::string(source) + ": expected one certificate, found " +
                    std::to_string(certs.size()));
  return std::move(certs.front());
}

ossl::Ptr<X509_REQ> parse_csr(std::string_view bytes, std::string_view source) {
  ossl::Ptr<X509_REQ> csr;
  if (looks_like_pem(bytes)) {
    auto bio = memory_bio(bytes);
    csr.reset(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const auto *cursor = reinterpret_cast<const unsigned char *>(bytes.data());
    csr.reset(d2i_X509_REQ(nullptr, &cursor, long(bytes.size())));
    if (csr && cursor != reinterpret_cast<const unsigned char *>(
                             bytes.data() + bytes.size()))
      csr.reset();
  }
  if (!csr)
    throw Error(Reason::malformed_csr,
                std::string(source) + ": not a PKCS#10 certificate request (" +
                    ossl::drain_errors() + ")");
  return csr;
}

std::string to_pem(X509 *cert) {
  ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return bio_contents(bio.get());
}

std::string to_pem(const CertList &certs) {
  std::string pem;
  for (const auto &cert : certs)
    pem += to_pem(cert.get());
  return pem;
}

std::string to_pem(X509_REQ *csr) {
  ossl::Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), csr);
  return bio_contents(bio.get());
}

std::string to_der(X509 *cert) {
  std::string der = ossl::to_der_bytes(i2d_X509, cert);
  if (der.empty())
    throw Error(Reason::internal_error, "cannot DER-encode certificate");
  return der;
}

std::string to_der(X509_REQ *csr) {
  std::string der = ossl::to_der_bytes(i2d_X509_REQ, csr);
  if (der.empty())
    throw Error(Reason::internal_error, "cannot DER-encode CSR");
  return der;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                      reinterpret_cast<const unsigned char *>(bytes.data()),
                      int(bytes.size()));
  out.resize(size_t(written));
  return out;
}

namespace {

bool is_base64_symbol(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
}

} // namespace

std::string base64_decode(std::string_view text, std::string_view source) {
  std::string compact;
  compact.reserve(text.size());
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c)))
      compact += c;
  // Padding is at most two '=' at the very end; anything else (such as
  // "====") is refused here, before OpenSSL sees it.
  size_t padding = 0;
  while (padding < compact.size() && compact[compact.size() - 1 - padding] == '=')
    ++padding;
  bool symbols_ok = std::all_of(compact.begin(), compact.end() - long(padding), is_base64_symbol);
  if (compact.size() % 4 != 0 || padding > 2 || !symbols_ok ||
      compact.size() > size_t(std::numeric_limits<int>::max()))
    throw Error(Reason::malformed_request, std::string(source) + ": body is not valid base64 "
                                           "(RFC 4648: A-Z a-z 0-9 + /, length a multiple "
                                           "of 4, at most two '=' at the end)");
  std::string out(compact.size() / 4 * 3, '\0');
  int written = EVP_DecodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                reinterpret_cast<const unsigned char *>(compact.data()),
                                int(compact.size()));
  if (written < 0 || size_t(written) < padding)
    throw Error(Reason::malformed_request, std::string(source) + ": body is not valid base64");
  // EVP_DecodeBlock counts padding as zero bytes; drop them.
  out.resize(size_t(written) - padding);
  return out;
}

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(Reason::config_invalid,
                path + ": cannot open (" + std::strerror(errno) + ")");
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

void write_file_atomically(const std::string &path, std::string_view bytes,
                           unsigned mode) {
  std::string temporary = path + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0)
    throw Error(Reason::storage_failed,
                temporary + ": cannot create (" + std::strerror(errno) + ")");
  bool written = ::write(fd, bytes.data(), bytes.size()) == ssize_t(bytes.size());
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced || ::rename(temporary.c_str(), path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    throw Error(Reason::storage_failed,
                path + ": cannot write (" + std::strerror(errno) + ")");
  }
}

CertList clone(const CertList &certs) {
  CertList copy;
  for (const auto &cert : certs)
    copy.push_back(ossl::up_ref(cert.get()));
  return copy;
}

} // namespace chainlab::pki
