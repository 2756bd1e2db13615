// registry/transparency_log.hpp: a CA's issuance log as an append-only
// Merkle tree (RFC 9162), stored in the CA's own SQLite file beside what it
// issued, so an issuance and its log entry commit together. Every complete
// subtree's hash is stored when its last leaf arrives, so appending costs
// O(log n) and each root or proof reads O(log n) stored nodes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "registry/sqlite.hpp"
#include "transparency/log_entry.hpp"

namespace chainlab::registry {

using transparency::Hash;
using transparency::TreeHead;

class TransparencyLog {
public:
  explicit TransparencyLog(Database &db); // creates its tables; |db| is borrowed

  // append adds |entry| as the next leaf; call it inside the transaction
  // that records the issuance. Returns the leaf's index.
  std::uint64_t append(const transparency::LogEntry &entry);
  std::uint64_t size();
  Hash root(std::uint64_t tree_size);
  // entries [start, end), encoded, in log order.
  std::vector<std::string> entries(std::uint64_t start, std::uint64_t end);
  // index_of_leaf: the first leaf with this hash within the first tree_size.
  std::optional<std::uint64_t> index_of_leaf(const Hash &leaf_hash, std::uint64_t tree_size);
  // index_of_certificate: the leaf whose certificate's DER has this SHA-256
  // (lower-case hex), if any.
  std::optional<std::uint64_t> index_of_certificate(const std::string &certificate_sha256);
  std::vector<Hash> inclusion_proof(std::uint64_t index, std::uint64_t tree_size);
  std::vector<Hash> consistency_proof(std::uint64_t first, std::uint64_t second);

  std::optional<TreeHead> latest_tree_head();
  std::optional<TreeHead> tree_head(std::uint64_t tree_size);
  // publish signs a tree head over every entry with |key| (the CA key)
  // unless the latest one already covers them; returns the latest head.
  TreeHead publish(EVP_PKEY *key, std::uint64_t now_ms);

private:
  Statement node_lookup(); // bind level and index, step, read column 0
  transparency::SubtreeRoot subtree_roots(Statement &lookup);
  Hash node(Statement &lookup, unsigned level, std::uint64_t index);
  Database &db_;
};

} // namespace chainlab::registry
