// A CA's transparency log as stored in SQLite and served by the log API:
// its roots and proofs equal the in-memory RFC 9162 tree's for every size,
// and each endpoint answers what the verifiers accept, or refuses with a
// reason.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ca/audit.hpp"
#include "ca/log_api.hpp"
#include "est/server.hpp"
#include "pki/encoding.hpp"
#include "registry/transparency_log.hpp"
#include "support/test_pki.hpp"
#include "transparency/log_json.hpp"

namespace chainlab {
namespace {

using nlohmann::json;
using transparency::Hash;

class StoredLog : public ::testing::Test {
protected:
  StoredLog() : db_(dir_.file("issuance.db")), log_(db_), key_(testing::make_key()) {}

  transparency::LogEntry entry(int i) {
    return {std::uint64_t(1'700'000'000'000 + i), i % 3 ? "device" : "subordinate-ca",
            "certificate " + std::to_string(i)};
  }
  void append(int count) {
    for (int i = 0; i < count; ++i) {
      auto e = entry(int(leaves_.size()));
      leaves_.push_back(transparency::entry_leaf_hash(transparency::encode_entry(e)));
      log_.append(e);
    }
  }
  HttpResponse get(const std::string &operation) {
    return ca::handle_log_request(log_, "CN=Technician-Z", {"GET", "/log/v1/" + operation, {}, ""});
  }
  json ok(const std::string &operation) {
    auto response = get(operation);
    EXPECT_EQ(response.status, 200) << operation << ": " << response.body;
    return json::parse(response.body, nullptr, false);
  }
  void expect_refused(const std::string &operation, int status, Reason reason) {
    auto response = get(operation);
    EXPECT_EQ(response.status, status) << operation << ": " << response.body;
    EXPECT_EQ(response.header(est::kReasonHeader), to_string(reason)) << operation;
  }

  testing::TempDir dir_;
  registry::Database db_;
  registry::TransparencyLog log_;
  ossl::Ptr<EVP_PKEY> key_;
  std::vector<Hash> leaves_;
};

TEST_F(StoredLog, RootsAndProofsEqualTheInMemoryTreeAtEverySize) {
  EXPECT_EQ(log_.root(0), transparency::root_hash({}));
  for (int size = 1; size <= 70; ++size) {
    append(1);
    std::span<const Hash> leaves(leaves_);
    ASSERT_EQ(log_.size(), std::uint64_t(size));
    ASSERT_EQ(log_.root(size), transparency::root_hash(leaves)) << "size " << size;
  }
  std::span<const Hash> all(leaves_);
  for (std::uint64_t n = 1; n <= 70; ++n)
    for (std::uint64_t m = 1; m <= n; ++m) {
      ASSERT_EQ(log_.inclusion_proof(m - 1, n), transparency::inclusion_proof(all.first(n), m - 1))
          << "index " << m - 1 << " of " << n;
      ASSERT_EQ(log_.consistency_proof(m, n), transparency::consistency_proof(all.first(n), m))
          << m << " -> " << n;
    }
}

TEST_F(StoredLog, PublishSignsOnlyWhatIsNewAndNeverGoesBackInTime) {
  append(3);
  auto first = log_.publish(key_.get(), 5000);
  EXPECT_EQ(first.tree_size, 3u);
  EXPECT_TRUE(transparency::verify_tree_head(first, key_.get()));
  EXPECT_EQ(log_.publish(key_.get(), 9000).timestamp_ms, 5000u) << "nothing new: same head";
  append(2);
  auto second = log_.publish(key_.get(), 1000); // the clock went back
  EXPECT_EQ(second.tree_size, 5u);
  EXPECT_EQ(second.timestamp_ms, 5000u);
  EXPECT_EQ(second.root, log_.root(5));
  ASSERT_TRUE(log_.tree_head(3));
  EXPECT_EQ(log_.tree_head(3)->root, first.root);
  EXPECT_EQ(log_.latest_tree_head()->tree_size, 5u);
}

TEST_F(StoredLog, GetSthAnswersTheLatestSignedHead) {
  expect_refused("get-sth", 404, Reason::not_found);
  append(4);
  log_.publish(key_.get(), 1234);
  auto head = transparency::tree_head_from_json(ok("get-sth"), "get-sth");
  ASSERT_TRUE(head) << head.error().what();
  EXPECT_EQ(head.value().tree_size, 4u);
  EXPECT_TRUE(transparency::verify_tree_head(head.value(), key_.get()));
}

TEST_F(StoredLog, GetEntriesAnswersARangeInOrderAndBoundsIt) {
  append(300);
  auto body = ok("get-entries?start=5&end=7");
  ASSERT_EQ(body["entries"].size(), 3u);
  for (int i = 0; i < 3; ++i) {
    std::string bytes = pki::base64_decode(body["entries"][i]["leaf_input"].get<std::string>(), "t");
    EXPECT_EQ(transparency::entry_leaf_hash(bytes), leaves_[5 + i]);
  }
  EXPECT_EQ(ok("get-entries?start=0&end=299")["entries"].size(), ca::kMaxEntriesPerRequest);
  EXPECT_EQ(ok("get-entries?start=298&end=100000")["entries"].size(), 2u);
  for (const char *bad : {"get-entries?start=7&end=5", "get-entries?start=300&end=300",
                          "get-entries?start=-1&end=3", "get-entries?start=1",
                          "get-entries?start=1e3&end=2000", "get-entries?start=0&end=9999999999999999999"})
    expect_refused(bad, 400, Reason::malformed_request);
}

TEST_F(StoredLog, GetProofByHashProvesInclusionInTheSignedTree) {
  append(11);
  auto head = log_.publish(key_.get(), 1);
  for (std::uint64_t index : {0u, 5u, 10u}) {
    auto body = ok("get-proof-by-hash?hash=" + transparency::hash_query_value(leaves_[index]) +
                   "&tree_size=11");
    EXPECT_EQ(body["leaf_index"], index);
    auto path = transparency::hashes_from_json(body, "audit_path", "test");
    ASSERT_TRUE(path);
    EXPECT_TRUE(transparency::verify_inclusion(index, 11, leaves_[index], path.value(), head.root));
  }
  // A tree size below the leaf's index does not hold it.
  expect_refused("get-proof-by-hash?hash=" + transparency::hash_query_value(leaves_[10]) +
                     "&tree_size=10",
                 404, Reason::not_in_log);
  expect_refused("get-proof-by-hash?hash=" + transparency::hash_query_value(Hash{}) + "&tree_size=11",
                 404, Reason::not_in_log);
  expect_refused("get-proof-by-hash?hash=AAAA&tree_size=11", 400, Reason::malformed_request);
  expect_refused("get-proof-by-hash?hash=" + transparency::hash_query_value(leaves_[0]) +
                     "&tree_size=12",
                 400, Reason::malformed_request);
}

TEST_F(StoredLog, GetSthConsistencyProvesThePrefix) {
  append(6);
  auto old_head = log_.publish(key_.get(), 1);
  append(7);
  auto new_head = log_.publish(key_.get(), 2);
  auto proof = transparency::hashes_from_json(ok("get-sth-consistency?first=6&second=13"),
                                              "consistency", "test");
  ASSERT_TRUE(proof);
  EXPECT_TRUE(transparency::verify_consistency(6, 13, proof.value(), old_head.root, new_head.root));
  for (const char *bad : {"get-sth-consistency?first=0&second=13",
                          "get-sth-consistency?first=7&second=6",
                          "get-sth-consistency?first=1&second=14", "get-sth-consistency"})
    expect_refused(bad, 400, Reason::malformed_request);
}

TEST_F(StoredLog, GetEntryByCertificateFindsTheLeaf) {
  append(4);
  auto body = ok("get-entry-by-certificate?sha256=" +
                 transparency::certificate_sha256(entry(2).certificate_der));
  EXPECT_EQ(body["leaf_index"], 2u);
  EXPECT_EQ(pki::base64_decode(body["leaf_input"].get<std::string>(), "t"),
            transparency::encode_entry(entry(2)));
  expect_refused("get-entry-by-certificate?sha256=" + std::string(64, 'a'), 404, Reason::not_in_log);
  expect_refused("get-entry-by-certificate?sha256=" + std::string(64, 'A'), 400,
                 Reason::malformed_request);
  expect_refused("get-entry-by-certificate?sha256=abc", 400, Reason::malformed_request);
}

TEST_F(StoredLog, OnlyGetAndKnownOperations) {
  auto post = ca::handle_log_request(log_, "CN=T", {"POST", "/log/v1/get-sth", {}, ""});
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(get("add-chain").status, 404);
  EXPECT_EQ(get("").status, 404);
}

// The auditor's check of a log's entries against its signed tree head:
// every edited byte of every stored entry, a dropped entry and a swapped
// pair are each reported as log_inconsistent.
TEST_F(StoredLog, TheAuditCatchesEveryEditedByteOfEveryEntry) {
  append(5);
  auto head = log_.publish(key_.get(), 1);
  auto entries = log_.entries(0, 5);
  ASSERT_FALSE(ca::check_entries("CN=T", head, entries));
  for (std::size_t i = 0; i < entries.size(); ++i)
    for (std::size_t at = 0; at < entries[i].size(); ++at) {
      auto edited = entries;
      edited[i][at] = char(edited[i][at] ^ 0x20);
      auto found = ca::check_entries("CN=T", head, edited);
      ASSERT_TRUE(found) << "entry " << i << " byte " << at;
      EXPECT_EQ(found->reason(), Reason::log_inconsistent);
    }
  auto dropped = entries;
  dropped.pop_back();
  EXPECT_TRUE(ca::check_entries("CN=T", head, dropped));
  auto swapped = entries;
  std::swap(swapped[1], swapped[2]);
  EXPECT_TRUE(ca::check_entries("CN=T", head, swapped));
}

// Edited in the database itself: the log still serves its stored roots
// (computed when each entry arrived), so the served entries give it away.
TEST_F(StoredLog, AnEntryEditedInTheDatabaseNoLongerMatchesTheSignedRoot) {
  append(4);
  auto head = log_.publish(key_.get(), 1);
  std::string entry = log_.entries(2, 3).at(0);
  entry[12] = char(entry[12] ^ 1);
  db_.prepare("UPDATE log_entries SET entry = ? WHERE leaf_index = 2").bind_blob(1, entry).run();
  EXPECT_EQ(log_.latest_tree_head()->root, head.root);
  auto found = ca::check_entries("CN=Technician-Z", head, log_.entries(0, 4));
  ASSERT_TRUE(found);
  EXPECT_NE(found->detail().find("CN=Technician-Z"), std::string::npos);
}

} // namespace
} // namespace chainlab
