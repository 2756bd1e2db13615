#include "registry/transparency_log.hpp"

#include <bit>
#include <stdexcept>

#include "core/error.hpp"

namespace chainlab::registry {
namespace {

constexpr const char *kSchema = R"sql(
CREATE TABLE IF NOT EXISTS log_entries (
  leaf_index INTEGER PRIMARY KEY,
  entry BLOB NOT NULL,
  leaf_hash BLOB NOT NULL,
  certificate_sha256 TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_entries_by_leaf ON log_entries (leaf_hash);
CREATE INDEX IF NOT EXISTS log_entries_by_certificate ON log_entries (certificate_sha256);
CREATE TABLE IF NOT EXISTS log_nodes (
  level INTEGER NOT NULL,
  node_index INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (level, node_index)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_tree_heads (
  tree_size INTEGER PRIMARY KEY,
  timestamp_ms INTEGER NOT NULL,
  root_hash BLOB NOT NULL,
  signature BLOB NOT NULL
);
)sql";

std::string_view as_text(const Hash &hash) {
  return {reinterpret_cast<const char *>(hash.data()), hash.size()};
}

// to_hash refuses a stored value of the wrong size: a damaged row must
// not turn into a plausible-looking hash.
Hash to_hash(const std::string &bytes, const std::string &what) {
  Hash out{};
  if (bytes.size() != out.size())
    throw Error(Reason::storage_failed, what + " is " + std::to_string(bytes.size()) +
                                            " bytes, not a 32-byte SHA-256");
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

TreeHead read_head(const Statement &row) {
  TreeHead head;
  head.tree_size = std::uint64_t(row.integer(0));
  head.timestamp_ms = std::uint64_t(row.integer(1));
  head.root = to_hash(row.blob(2), "stored tree head " + std::to_string(head.tree_size));
  head.signature = row.blob(3);
  return head;
}

} // namespace

TransparencyLog::TransparencyLog(Database &db) : db_(db) { db_.execute(kSchema); }

std::uint64_t TransparencyLog::size() {
  auto query = db_.prepare("SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM log_entries");
  query.step();
  return std::uint64_t(query.integer(0));
}

std::uint64_t TransparencyLog::append(const transparency::LogEntry &entry) {
  std::string encoded_entry = transparency::encode_entry(entry);
  std::uint64_t index = size();
  Hash hash = transparency::entry_leaf_hash(encoded_entry);
  db_.prepare("INSERT INTO log_entries (leaf_index, entry, leaf_hash, certificate_sha256) "
              "VALUES (?, ?, ?, ?)")
      .bind(1, std::int64_t(index))
      .bind_blob(2, encoded_entry)
      .bind_blob(3, as_text(hash))
      .bind(4, transparency::certificate_sha256(entry.certificate_der))
      .run();
  auto store = db_.prepare("INSERT OR REPLACE INTO log_nodes (level, node_index, hash) "
                           "VALUES (?, ?, ?)");
  auto lookup = node_lookup();
  // Store the leaf, then every subtree this leaf completes (its right edge).
  unsigned level = 0;
  for (std::uint64_t at = index;; at >>= 1, ++level) {
    store.reset().bind(1, std::int64_t(level)).bind(2, std::int64_t(at)).bind_blob(3, as_text(hash)).run();
    if ((at & 1) == 0)
      break;
    hash = transparency::node_hash(node(lookup, level, at - 1), hash);
  }
  return index;
}

Statement TransparencyLog::node_lookup() {
  return db_.prepare("SELECT hash FROM log_nodes WHERE level = ? AND node_index = ?");
}

Hash TransparencyLog::node(Statement &lookup, unsigned level, std::uint64_t index) {
  lookup.reset().bind(1, std::int64_t(level)).bind(2, std::int64_t(index));
  std::string where = "log node (level " + std::to_string(level) + ", index " +
                      std::to_string(index) + ") in " + db_.path();
  if (!lookup.step())
    throw Error(Reason::storage_failed, where + " is missing");
  return to_hash(lookup.blob(0), where);
}

transparency::SubtreeRoot TransparencyLog::subtree_roots(Statement &lookup) {
  // MTH(D[begin:end]): a stored node when the range is a complete aligned
  // subtree, else RFC 9162's split into a complete left part and the rest.
  return [this, &lookup](std::uint64_t begin, std::uint64_t end) {
    auto mth = [this, &lookup](auto &self, std::uint64_t b, std::uint64_t e) -> Hash {
      std::uint64_t width = e - b;
      if (std::has_single_bit(width) && b % width == 0)
        return node(lookup, unsigned(std::countr_zero(width)), b / width);
      std::uint64_t k = transparency::subtree_split(width);
      return transparency::node_hash(self(self, b, b + k), self(self, b + k, e));
    };
    return mth(mth, begin, end);
  };
}

Hash TransparencyLog::root(std::uint64_t tree_size) {
  if (tree_size == 0)
    return transparency::root_hash({});
  auto lookup = node_lookup();
  return subtree_roots(lookup)(0, tree_size);
}

std::vector<std::string> TransparencyLog::entries(std::uint64_t start, std::uint64_t end) {
  auto query = db_.prepare("SELECT entry FROM log_entries WHERE leaf_index >= ? AND "
                           "leaf_index < ? ORDER BY leaf_index");
  query.bind(1, std::int64_t(start)).bind(2, std::int64_t(end));
  std::vector<std::string> out;
  while (query.step())
    out.push_back(query.blob(0));
  return out;
}

std::optional<std::uint64_t> TransparencyLog::index_of_leaf(const Hash &leaf_hash,
                                                            std::uint64_t tree_size) {
  auto query = db_.prepare("SELECT MIN(leaf_index) FROM log_entries WHERE leaf_hash = ? AND "
                           "leaf_index < ?");
  query.bind_blob(1, as_text(leaf_hash)).bind(2, std::int64_t(tree_size));
  if (!query.step() || query.is_null(0))
    return std::nullopt;
  return std::uint64_t(query.integer(0));
}

std::optional<std::uint64_t>
TransparencyLog::index_of_certificate(const std::string &certificate_sha256) {
  auto query = db_.prepare("SELECT MIN(leaf_index) FROM log_entries WHERE certificate_sha256 = ?");
  query.bind(1, certificate_sha256);
  if (!query.step() || query.is_null(0))
    return std::nullopt;
  return std::uint64_t(query.integer(0));
}

std::vector<Hash> TransparencyLog::inclusion_proof(std::uint64_t index, std::uint64_t tree_size) {
  auto lookup = node_lookup();
  return transparency::inclusion_proof(tree_size, index, subtree_roots(lookup));
}

std::vector<Hash> TransparencyLog::consistency_proof(std::uint64_t first, std::uint64_t second) {
  auto lookup = node_lookup();
  return transparency::consistency_proof(first, second, subtree_roots(lookup));
}

std::optional<TreeHead> TransparencyLog::latest_tree_head() {
  auto query = db_.prepare("SELECT tree_size, timestamp_ms, root_hash, signature FROM "
                           "log_tree_heads ORDER BY tree_size DESC LIMIT 1");
  if (!query.step())
    return std::nullopt;
  return read_head(query);
}

std::optional<TreeHead> TransparencyLog::tree_head(std::uint64_t tree_size) {
  auto query = db_.prepare("SELECT tree_size, timestamp_ms, root_hash, signature FROM "
                           "log_tree_heads WHERE tree_size = ?");
  query.bind(1, std::int64_t(tree_size));
  if (!query.step())
    return std::nullopt;
  return read_head(query);
}

TreeHead TransparencyLog::publish(EVP_PKEY *key, std::uint64_t now_ms) {
  Transaction transaction(db_);
  auto latest = latest_tree_head();
  std::uint64_t tree_size = size();
  if (latest && latest->tree_size >= tree_size)
    return *latest;
  TreeHead head;
  head.tree_size = tree_size;
  // Tree heads never go back in time, even if the clock does.
  head.timestamp_ms = latest ? std::max(now_ms, latest->timestamp_ms) : now_ms;
  head.root = root(tree_size);
  transparency::sign_tree_head(head, key);
  db_.prepare("INSERT INTO log_tree_heads (tree_size, timestamp_ms, root_hash, signature) "
              "VALUES (?, ?, ?, ?)")
      .bind(1, std::int64_t(head.tree_size))
      .bind(2, std::int64_t(head.timestamp_ms))
      .bind_blob(3, as_text(head.root))
      .bind_blob(4, head.signature)
      .run();
  transaction.commit();
  return head;
}

} // namespace chainlab::registry
