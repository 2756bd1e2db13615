// transparency/log_entry.hpp: what a CA's issuance log holds and signs.
// An entry is one issued certificate (DER) with its issuance metadata; a
// signed tree head commits the CA, with its own key, to the Merkle root of
// its first tree_size entries. Both have one binary encoding (TLS-style
// big-endian lengths): the entry's is what the leaf hash covers, the tree
// head's is what the signature covers. Codecs are pure and return errors.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <span>
#include <string>

#include "core/error.hpp"
#include "transparency/merkle.hpp"

namespace chainlab::transparency {

struct LogEntry {
  std::uint64_t issued_at_ms = 0; // milliseconds since the epoch (UTC)
  std::string profile;            // pki::Profile name: device, subordinate-ca, ...
  std::string certificate_der;
};

// encode_entry: u8 version (1), u64 issued_at_ms, u8-length profile,
// u24-length certificate DER. Throws Error(malformed_request) for a profile
// or certificate too long to encode.
std::string encode_entry(const LogEntry &entry);
// decode_entry refuses anything but exactly one well-formed entry,
// naming |source| (for example "entry 12 of Technician-Z's log").
Result<LogEntry> decode_entry(std::span<const std::uint8_t> bytes, const std::string &source);
Hash entry_leaf_hash(const std::string &encoded_entry);
// certificate_sha256: SHA-256 of a certificate's DER, lower-case hex (how
// the log is searched by certificate).
std::string certificate_sha256(const std::string &certificate_der);

struct TreeHead {
  std::uint64_t tree_size = 0;
  std::uint64_t timestamp_ms = 0;
  Hash root{};
  std::string signature; // over signing_input(), by the CA key
};

// signing_input: a context string, then u64 tree_size, u64 timestamp_ms
// and the 32-byte root. The context keeps a tree-head signature from ever
// being mistaken for a signature over a certificate or a CSR.
std::string signing_input(const TreeHead &head);
// sign_tree_head signs with |key| (usually a handle into the CA's token).
// Throws Error(key_store_failed) when the key cannot sign.
void sign_tree_head(TreeHead &head, EVP_PKEY *key);
bool verify_tree_head(const TreeHead &head, EVP_PKEY *public_key);

} // namespace chainlab::transparency
