// transparency/merkle.hpp: the Merkle tree of an append-only log, hashed
// as in RFC 9162 (Certificate Transparency 2.0) section 2.1: SHA-256, leaf
// hashes prefixed 0x00, interior nodes 0x01. Pure functions over leaf
// hashes: tree heads, inclusion and consistency proofs, and their checks.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace chainlab::transparency {

using Hash = std::array<std::uint8_t, 32>;

Hash leaf_hash(std::span<const std::uint8_t> entry);
Hash node_hash(const Hash &left, const Hash &right);
// root_hash is MTH(D[n]) over the leaves' hashes; SHA-256("") when empty.
Hash root_hash(std::span<const Hash> leaves);

// SubtreeRoot answers MTH(D[begin:end]) of some tree's leaves. Proofs only
// ask for subtrees that are complete and aligned (a power of two of leaves
// starting at a multiple of it) or that end at the tree's last leaf, so a
// log that stores its complete subtrees answers each in O(log n).
using SubtreeRoot = std::function<Hash(std::uint64_t begin, std::uint64_t end)>;
// subtree_split is k of RFC 9162: the largest power of two below |size| (> 1).
std::uint64_t subtree_split(std::uint64_t size);

std::vector<Hash> inclusion_proof(std::uint64_t size, std::uint64_t index,
                                  const SubtreeRoot &mth);
std::vector<Hash> consistency_proof(std::uint64_t size1, std::uint64_t size2,
                                    const SubtreeRoot &mth);

// inclusion_proof is PATH(index, D[n]) (RFC 9162 2.1.3.1); index < size.
std::vector<Hash> inclusion_proof(std::span<const Hash> leaves, std::uint64_t index);
// consistency_proof is PROOF(size1, D[n]) (RFC 9162 2.1.4.1); 0 < size1 <= n.
std::vector<Hash> consistency_proof(std::span<const Hash> leaves, std::uint64_t size1);

// verify_inclusion checks that |leaf| is entry |index| of the tree of
// |size| leaves whose root is |root| (RFC 9162 2.1.3.2).
bool verify_inclusion(std::uint64_t index, std::uint64_t size, const Hash &leaf,
                      std::span<const Hash> proof, const Hash &root);
// verify_consistency checks that the tree of |size1| leaves with |root1| is
// a prefix of the tree of |size2| leaves with |root2| (RFC 9162 2.1.4.2).
bool verify_consistency(std::uint64_t size1, std::uint64_t size2, std::span<const Hash> proof,
                        const Hash &root1, const Hash &root2);

std::string to_hex(const Hash &hash);

} // namespace chainlab::transparency
