#include "transparency/log_entry.hpp"

#include "core/byte_reader.hpp"

#include <openssl/err.h>
#include "ossl/ptr.hpp"

namespace chainlab::transparency {
namespace {

constexpr std::uint8_t kEntryVersion = 1;
constexpr std::string_view kTreeHeadContext = "chainlab issuance log tree head v1";

void put_uint(std::string &out, std::uint64_t value, int width) {
  for (int shift = 8 * (width - 1); shift >= 0; shift -= 8)
    out += char((value >> shift) & 0xff);
}

std::span<const std::uint8_t> bytes_of(const std::string &text) {
  return {reinterpret_cast<const std::uint8_t *>(text.data()), text.size()};
}

} // namespace

std::string encode_entry(const LogEntry &entry) {
  if (entry.profile.empty() || entry.profile.size() > 0xff)
    throw Error(Reason::malformed_request,
                "log entry: profile \"" + entry.profile.substr(0, 64) + "\" must be 1 to 255 bytes");
  if (entry.certificate_der.empty() || entry.certificate_der.size() > 0xffffff)
    throw Error(Reason::malformed_request, "log entry: certificate must be 1 byte to 16 MiB");
  std::string out;
  out += char(kEntryVersion);
  put_uint(out, entry.issued_at_ms, 8);
  put_uint(out, entry.profile.size(), 1);
  out += entry.profile;
  put_uint(out, entry.certificate_der.size(), 3);
  out += entry.certificate_der;
  return out;
}

Result<LogEntry> decode_entry(std::span<const std::uint8_t> bytes, const std::string &source) {
  ByteReader reader(bytes);
  std::uint64_t version = 0, profile_size = 0, der_size = 0;
  LogEntry entry;
  std::span<const std::uint8_t> profile, der;
  auto malformed = [&](const std::string &what) {
    return Error(Reason::malformed_request, source + ": " + what);
  };
  if (!reader.read_uint(1, version))
    return malformed("empty entry");
  if (version != kEntryVersion)
    return malformed("entry version " + std::to_string(version) + " is not 1");
  if (!reader.read_uint(8, entry.issued_at_ms) || !reader.read_uint(1, profile_size) ||
      !reader.read_bytes(profile_size, profile) || !reader.read_uint(3, der_size) ||
      !reader.read_bytes(der_size, der))
    return malformed("entry ends early (" + std::to_string(bytes.size()) + " bytes)");
  if (reader.remaining() != 0)
    return malformed(std::to_string(reader.remaining()) + " bytes after the entry's end");
  if (profile.empty() || der.empty())
    return malformed("entry with an empty profile or certificate");
  entry.profile.assign(profile.begin(), profile.end());
  entry.certificate_der.assign(der.begin(), der.end());
  return entry;
}

Hash entry_leaf_hash(const std::string &encoded_entry) {
  return leaf_hash(bytes_of(encoded_entry));
}

std::string signing_input(const TreeHead &head) {
  std::string out(kTreeHeadContext);
  out += '\0';
  put_uint(out, head.tree_size, 8);
  put_uint(out, head.timestamp_ms, 8);
  out.append(reinterpret_cast<const char *>(head.root.data()), head.root.size());
  return out;
}

void sign_tree_head(TreeHead &head, EVP_PKEY *key) {
  std::string input = signing_input(head);
  ossl::Ptr<EVP_MD_CTX> context(EVP_MD_CTX_new());
  size_t size = 0;
  if (!context || EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &size, bytes_of(input).data(), input.size()) != 1)
    throw Error(Reason::key_store_failed, "the CA key could not sign the log's tree head of size " +
                                              std::to_string(head.tree_size));
  std::string signature(size, '\0');
  if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char *>(signature.data()), &size,
                     bytes_of(input).data(), input.size()) != 1)
    throw Error(Reason::key_store_failed, "the CA key could not sign the log's tree head of size " +
                                              std::to_string(head.tree_size));
  signature.resize(size);
  head.signature = std::move(signature);
}

bool verify_tree_head(const TreeHead &head, EVP_PKEY *public_key) {
  std::string input = signing_input(head);
  ossl::Ptr<EVP_MD_CTX> context(EVP_MD_CTX_new());
  bool ok = context && public_key &&
            EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, public_key) == 1 &&
            EVP_DigestVerify(context.get(), bytes_of(head.signature).data(), head.signature.size(),
                             bytes_of(input).data(), input.size()) == 1;
  ERR_clear_error(); // a bad signature leaves errors on this thread's queue
  return ok;
}

std::string certificate_sha256(const std::string &certificate_der) {
  Hash digest{};
  EVP_Digest(certificate_der.data(), certificate_der.size(), digest.data(), nullptr, EVP_sha256(),
             nullptr);
  return transparency::to_hex(digest);
}

} // namespace chainlab::transparency
