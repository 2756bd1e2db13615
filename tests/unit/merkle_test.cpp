// The transparency log's Merkle tree against RFC 9162's algorithms and the
// published test vectors of the transparency-dev/merkle library (leaf
// inputs, root hashes of every size 0..8, inclusion and consistency
// proofs), then exhaustively over sizes around powers of two.
#include <gtest/gtest.h>

#include "transparency/merkle.hpp"

namespace chainlab::transparency {
namespace {

std::vector<std::uint8_t> bytes(const std::string &hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(std::uint8_t(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

Hash hash(const std::string &hex) {
  Hash out{};
  auto raw = bytes(hex);
  std::copy(raw.begin(), raw.end(), out.begin());
  return out;
}

std::vector<Hash> hashes(std::initializer_list<const char *> hex) {
  std::vector<Hash> out;
  for (const auto *h : hex)
    out.push_back(hash(h));
  return out;
}

const std::vector<std::string> kLeafInputs = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"};

const std::vector<std::string> kRoots = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

std::vector<Hash> vector_leaves() {
  std::vector<Hash> out;
  for (const auto &input : kLeafInputs)
    out.push_back(leaf_hash(bytes(input)));
  return out;
}

std::vector<Hash> counting_leaves(std::size_t n) {
  std::vector<Hash> out;
  for (std::size_t i = 0; i < n; ++i) {
    std::string entry = "entry " + std::to_string(i);
    out.push_back(leaf_hash(std::span(reinterpret_cast<const std::uint8_t *>(entry.data()), entry.size())));
  }
  return out;
}

TEST(Merkle, RootHashesOfEverySizeMatchTheVectors) {
  auto leaves = vector_leaves();
  for (std::size_t n = 0; n <= leaves.size(); ++n)
    EXPECT_EQ(to_hex(root_hash(std::span(leaves).first(n))), kRoots[n]) << "size " << n;
}

struct InclusionVector {
  std::uint64_t index, size;
  std::vector<Hash> proof;
};

TEST(Merkle, InclusionProofsMatchTheVectorsAndVerify) {
  auto leaves = vector_leaves();
  std::vector<InclusionVector> vectors = {
      {0, 1, {}},
      {0, 8, hashes({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {5, 8, hashes({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 3, hashes({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"})},
      {1, 5, hashes({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})}};
  for (const auto &v : vectors) {
    auto tree = std::span(leaves).first(v.size);
    EXPECT_EQ(inclusion_proof(tree, v.index), v.proof) << v.index << " in " << v.size;
    Hash root = hash(kRoots[v.size]);
    EXPECT_TRUE(verify_inclusion(v.index, v.size, leaves[v.index], v.proof, root));
  }
}

TEST(Merkle, EveryCorruptedInclusionProofFails) {
  auto leaves = vector_leaves();
  Hash root = hash(kRoots[8]);
  Hash leaf = leaves[5];
  auto proof = inclusion_proof(leaves, 5);
  ASSERT_TRUE(verify_inclusion(5, 8, leaf, proof, root));
  EXPECT_FALSE(verify_inclusion(4, 8, leaf, proof, root));
  EXPECT_FALSE(verify_inclusion(6, 8, leaf, proof, root));
  EXPECT_FALSE(verify_inclusion(5 ^ 2, 8, leaf, proof, root));
  EXPECT_FALSE(verify_inclusion(5, 16, leaf, proof, root));
  EXPECT_FALSE(verify_inclusion(5, 4, leaf, proof, root));
  EXPECT_FALSE(verify_inclusion(5, 8, leaves[4], proof, root));
  EXPECT_FALSE(verify_inclusion(5, 8, leaf, proof, hash(kRoots[0])));
  auto longer = proof;
  longer.push_back(root);
  EXPECT_FALSE(verify_inclusion(5, 8, leaf, longer, root));
  longer = proof;
  longer.insert(longer.begin(), root);
  EXPECT_FALSE(verify_inclusion(5, 8, leaf, longer, root));
  EXPECT_FALSE(verify_inclusion(5, 8, leaf, std::span(proof).first(2), root));
  for (std::size_t i = 0; i < proof.size(); ++i)
    for (std::size_t byte = 0; byte < 32; byte += 7) {
      auto flipped = proof;
      flipped[i][byte] ^= 0x08;
      EXPECT_FALSE(verify_inclusion(5, 8, leaf, flipped, root)) << "proof[" << i << "] byte " << byte;
    }
}

struct ConsistencyVector {
  std::uint64_t size1, size2;
  std::vector<Hash> proof;
};

TEST(Merkle, ConsistencyProofsMatchTheVectorsAndVerify) {
  auto leaves = vector_leaves();
  std::vector<ConsistencyVector> vectors = {
      {1, 1, {}},
      {1, 8, hashes({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {6, 8, hashes({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 5, hashes({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
      {6, 7, hashes({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})}};
  for (const auto &v : vectors) {
    EXPECT_EQ(consistency_proof(std::span(leaves).first(v.size2), v.size1), v.proof)
        << v.size1 << " to " << v.size2;
    EXPECT_TRUE(verify_consistency(v.size1, v.size2, v.proof, hash(kRoots[v.size1]), hash(kRoots[v.size2])));
  }
}

TEST(Merkle, EveryCorruptedConsistencyProofFails) {
  auto leaves = vector_leaves();
  Hash root6 = hash(kRoots[6]), root8 = hash(kRoots[8]);
  auto proof = consistency_proof(leaves, 6);
  ASSERT_TRUE(verify_consistency(6, 8, proof, root6, root8));
  EXPECT_FALSE(verify_consistency(5, 8, proof, root6, root8));
  EXPECT_FALSE(verify_consistency(7, 8, proof, root6, root8));
  EXPECT_FALSE(verify_consistency(6 ^ 2, 8, proof, root6, root8));
  EXPECT_FALSE(verify_consistency(6, 16, proof, root6, root8));
  EXPECT_FALSE(verify_consistency(6, 4, proof, root6, root8));
  EXPECT_FALSE(verify_consistency(6, 8, proof, hash(kRoots[5]), root8));
  EXPECT_FALSE(verify_consistency(6, 8, proof, root6, hash(kRoots[7])));
  EXPECT_FALSE(verify_consistency(6, 8, proof, root8, root6));
  EXPECT_FALSE(verify_consistency(6, 8, {}, root6, root8));
  for (const Hash &extra : {root6, root8, proof[0]}) {
    auto longer = proof;
    longer.push_back(extra);
    EXPECT_FALSE(verify_consistency(6, 8, longer, root6, root8));
    longer = proof;
    longer.insert(longer.begin(), extra);
    EXPECT_FALSE(verify_consistency(6, 8, longer, root6, root8));
  }
  EXPECT_FALSE(verify_consistency(6, 8, std::span(proof).first(2), root6, root8));
  for (std::size_t i = 0; i < proof.size(); ++i) {
    auto flipped = proof;
    flipped[i][0] ^= 0x10;
    EXPECT_FALSE(verify_consistency(6, 8, flipped, root6, root8)) << "proof[" << i << "]";
  }
}

TEST(Merkle, EdgeSizes) {
  Hash empty = hash(kRoots[0]), some = hash(kRoots[3]);
  EXPECT_TRUE(verify_consistency(0, 0, {}, empty, empty));
  EXPECT_FALSE(verify_consistency(0, 0, {}, empty, some));
  EXPECT_TRUE(verify_consistency(0, 5, {}, empty, some));
  EXPECT_FALSE(verify_consistency(0, 1, std::vector<Hash>{empty}, empty, empty));
  EXPECT_FALSE(verify_consistency(1, 0, {}, some, empty));
  EXPECT_FALSE(verify_consistency(1, 2, {}, some, empty));
  EXPECT_FALSE(verify_inclusion(0, 0, some, {}, empty));
  EXPECT_FALSE(verify_inclusion(1, 1, some, {}, some));
  EXPECT_TRUE(verify_inclusion(0, 1, some, {}, some));
  EXPECT_FALSE(verify_inclusion(0, 1, some, {}, empty));
  EXPECT_THROW(inclusion_proof({}, 0), std::out_of_range);
  auto one = counting_leaves(1);
  EXPECT_THROW(consistency_proof(one, 0), std::out_of_range);
  EXPECT_THROW(consistency_proof(one, 2), std::out_of_range);
}

// Every proof of every tree up to 70 leaves (all of 1, 2, 4, 8, 16, 32, 64
// and their neighbours) verifies, and fails against a neighbouring tree.
TEST(Merkle, EveryProofOfEverySmallTreeVerifies) {
  auto leaves = counting_leaves(70);
  std::vector<Hash> roots;
  for (std::size_t n = 0; n <= leaves.size(); ++n)
    roots.push_back(root_hash(std::span(leaves).first(n)));
  for (std::uint64_t n = 1; n <= leaves.size(); ++n) {
    auto tree = std::span(leaves).first(n);
    for (std::uint64_t i = 0; i < n; ++i) {
      auto proof = inclusion_proof(tree, i);
      ASSERT_TRUE(verify_inclusion(i, n, leaves[i], proof, roots[n])) << i << " in " << n;
      if (n > 1) {
        ASSERT_FALSE(verify_inclusion(i, n, leaves[(i + 1) % n], proof, roots[n])) << i << " in " << n;
      }
    }
    for (std::uint64_t m = 1; m <= n; ++m) {
      auto proof = consistency_proof(tree, m);
      ASSERT_TRUE(verify_consistency(m, n, proof, roots[m], roots[n])) << m << " to " << n;
      if (m < n) {
        ASSERT_FALSE(verify_consistency(m, n, proof, roots[m - 1], roots[n])) << m << " to " << n;
      }
    }
  }
}

} // namespace
} // namespace chainlab::transparency
