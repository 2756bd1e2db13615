// The log's own encodings: an entry round-trips, anything else is refused,
// and every kind of byte in an entry or a signed tree head, flipped, is
// caught (a decode error, another leaf hash, or a signature that fails).
#include <gtest/gtest.h>

#include "support/test_pki.hpp"
#include "transparency/log_entry.hpp"
#include "transparency/log_json.hpp"

namespace chainlab::transparency {
namespace {

std::span<const std::uint8_t> bytes(const std::string &text) {
  return {reinterpret_cast<const std::uint8_t *>(text.data()), text.size()};
}

LogEntry sample() { return {1'700'000'000'123, "device", std::string("\x30\x82\x01\x0a rest", 9)}; }

TEST(LogEntry, RoundTrips) {
  auto encoded = encode_entry(sample());
  auto decoded = decode_entry(bytes(encoded), "test");
  ASSERT_TRUE(decoded) << decoded.error().what();
  EXPECT_EQ(decoded.value().issued_at_ms, sample().issued_at_ms);
  EXPECT_EQ(decoded.value().profile, "device");
  EXPECT_EQ(decoded.value().certificate_der, sample().certificate_der);
  EXPECT_EQ(encoded.size(), 1u + 8 + 1 + 6 + 3 + 9);
}

TEST(LogEntry, RefusesEveryTruncationAndTrailingBytes) {
  auto encoded = encode_entry(sample());
  for (std::size_t size = 0; size < encoded.size(); ++size) {
    auto decoded = decode_entry(bytes(encoded.substr(0, size)), "entry 7");
    ASSERT_FALSE(decoded) << "accepted a truncation to " << size << " bytes";
    EXPECT_EQ(decoded.error().reason(), Reason::malformed_request);
    EXPECT_NE(decoded.error().detail().find("entry 7"), std::string::npos);
  }
  EXPECT_FALSE(decode_entry(bytes(encoded + "x"), "test"));
  std::string other_version = encoded;
  other_version[0] = 2;
  EXPECT_FALSE(decode_entry(bytes(other_version), "test"));
}

TEST(LogEntry, RefusesWhatCannotBeEncoded) {
  EXPECT_THROW(encode_entry({1, "", "der"}), Error);
  EXPECT_THROW(encode_entry({1, std::string(256, 'p'), "der"}), Error);
  EXPECT_THROW(encode_entry({1, "device", ""}), Error);
}

// Every byte class of an entry (version, time, profile length, profile,
// certificate length, certificate): a flipped bit either no longer decodes
// or changes the leaf hash, so no inclusion proof for the original holds.
TEST(LogEntry, EveryFlippedByteIsCaught) {
  auto encoded = encode_entry(sample());
  Hash original = entry_leaf_hash(encoded);
  for (std::size_t at = 0; at < encoded.size(); ++at)
    for (std::uint8_t bit : {0x01, 0x80}) {
      std::string flipped = encoded;
      flipped[at] = char(flipped[at] ^ bit);
      bool decodes = decode_entry(bytes(flipped), "test").ok();
      EXPECT_TRUE(!decodes || entry_leaf_hash(flipped) != original) << "byte " << at;
      EXPECT_NE(entry_leaf_hash(flipped), original) << "byte " << at;
    }
}

class TreeHeads : public ::testing::Test {
protected:
  TreeHeads() : key_(testing::make_key()) {
    head_.tree_size = 5;
    head_.timestamp_ms = 1'700'000'000'000;
    head_.root = leaf_hash(bytes("root"));
    sign_tree_head(head_, key_.get());
  }
  ossl::Ptr<EVP_PKEY> key_;
  TreeHead head_;
};

TEST_F(TreeHeads, VerifyWithTheSigningKeyOnly) {
  EXPECT_TRUE(verify_tree_head(head_, key_.get()));
  auto other = testing::make_key();
  EXPECT_FALSE(verify_tree_head(head_, other.get()));
  EXPECT_FALSE(verify_tree_head(head_, nullptr));
}

// Every byte class of a signed tree head: size, timestamp, root, signature.
TEST_F(TreeHeads, EveryChangedFieldIsCaught) {
  for (int bit = 0; bit < 64; ++bit) {
    TreeHead changed = head_;
    changed.tree_size ^= std::uint64_t(1) << bit;
    EXPECT_FALSE(verify_tree_head(changed, key_.get())) << "tree_size bit " << bit;
    changed = head_;
    changed.timestamp_ms ^= std::uint64_t(1) << bit;
    EXPECT_FALSE(verify_tree_head(changed, key_.get())) << "timestamp bit " << bit;
  }
  for (std::size_t at = 0; at < head_.root.size(); ++at) {
    TreeHead changed = head_;
    changed.root[at] ^= 0x01;
    EXPECT_FALSE(verify_tree_head(changed, key_.get())) << "root byte " << at;
  }
  for (std::size_t at = 0; at < head_.signature.size(); ++at) {
    TreeHead changed = head_;
    changed.signature[at] = char(changed.signature[at] ^ 0x01);
    EXPECT_FALSE(verify_tree_head(changed, key_.get())) << "signature byte " << at;
  }
  TreeHead truncated = head_;
  truncated.signature.pop_back();
  EXPECT_FALSE(verify_tree_head(truncated, key_.get()));
}

TEST_F(TreeHeads, JsonRoundTripsAndRefusesMalformedFields) {
  auto json = to_json(head_);
  auto back = tree_head_from_json(json, "test");
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_TRUE(verify_tree_head(back.value(), key_.get()));
  for (const char *field : {"tree_size", "timestamp", "sha256_root_hash", "tree_head_signature"}) {
    auto missing = json;
    missing.erase(field);
    auto refused = tree_head_from_json(missing, "CN=Technician-Z's tree head");
    ASSERT_FALSE(refused) << field;
    EXPECT_NE(refused.error().detail().find(field), std::string::npos);
    auto wrong_type = json;
    wrong_type[field] = nlohmann::json::array();
    EXPECT_FALSE(tree_head_from_json(wrong_type, "test")) << field;
  }
  auto short_root = json;
  short_root["sha256_root_hash"] = "AAAA";
  EXPECT_FALSE(tree_head_from_json(short_root, "test"));
  auto negative = json;
  negative["tree_size"] = -1;
  EXPECT_FALSE(tree_head_from_json(negative, "test"));
  EXPECT_FALSE(tree_head_from_json(nlohmann::json("text"), "test"));
}

TEST(LogJson, HashListsAreBounded) {
  nlohmann::json body = {{"audit_path", nlohmann::json::array()}};
  for (int i = 0; i < 65; ++i)
    body["audit_path"].push_back(hash_to_base64(Hash{}));
  EXPECT_FALSE(hashes_from_json(body, "audit_path", "test"));
  body["audit_path"].erase(0);
  EXPECT_TRUE(hashes_from_json(body, "audit_path", "test"));
  body["audit_path"][3] = 5;
  EXPECT_FALSE(hashes_from_json(body, "audit_path", "test"));
}

} // namespace
} // namespace chainlab::transparency
