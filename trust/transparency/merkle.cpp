#include "transparency/merkle.hpp"

#include <bit>
#include <openssl/evp.h>
#include <stdexcept>

namespace chainlab::transparency {
namespace {

// One fetch of SHA-256 for the process: fetching per hash is what makes
// OpenSSL 3 slow.
const EVP_MD *sha256() {
  static EVP_MD *md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

Hash digest(std::uint8_t prefix, std::span<const std::uint8_t> a, std::span<const std::uint8_t> b = {}) {
  Hash out{};
  EVP_MD_CTX *context = EVP_MD_CTX_new();
  bool ok = context && EVP_DigestInit_ex(context, sha256(), nullptr) == 1 &&
            EVP_DigestUpdate(context, &prefix, 1) == 1 &&
            EVP_DigestUpdate(context, a.data(), a.size()) == 1 &&
            EVP_DigestUpdate(context, b.data(), b.size()) == 1 &&
            EVP_DigestFinal_ex(context, out.data(), nullptr) == 1;
  EVP_MD_CTX_free(context);
  if (!ok)
    throw std::bad_alloc(); // only allocation can fail SHA-256
  return out;
}

// split is k, the largest power of two smaller than n (n > 1).
std::uint64_t split(std::uint64_t n) { return std::bit_floor(n - 1); }

// subproof is SUBPROOF(m, D[begin:end], b) of RFC 9162 2.1.4.1.
void subproof(std::uint64_t m, std::uint64_t begin, std::uint64_t end, bool complete,
              const SubtreeRoot &mth, std::vector<Hash> &out) {
  std::uint64_t n = end - begin;
  if (m == n) {
    if (!complete)
      out.push_back(mth(begin, end));
    return;
  }
  std::uint64_t k = split(n);
  if (m <= k) {
    subproof(m, begin, begin + k, complete, mth, out);
    out.push_back(mth(begin + k, end));
  } else {
    subproof(m - k, begin + k, end, false, mth, out);
    out.push_back(mth(begin, begin + k));
  }
}

SubtreeRoot over(std::span<const Hash> leaves) {
  return [leaves](std::uint64_t begin, std::uint64_t end) {
    return root_hash(leaves.subspan(begin, end - begin));
  };
}

// walk is the verification walk shared by RFC 9162's inclusion (2.1.3.2)
// and consistency (2.1.4.2) checks: each proof hash joins on the left or
// the right as fn and sn, the node's and the last node's indices, climb.
// True when the walk used the whole proof and reached the root (sn == 0).
template <class Left, class Right>
bool walk(std::uint64_t fn, std::uint64_t sn, std::span<const Hash> path, Left left, Right right) {
  for (const Hash &c : path) {
    if (sn == 0)
      return false;
    if ((fn & 1) || fn == sn) {
      left(c);
      while (fn != 0 && !(fn & 1)) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      right(c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0;
}

} // namespace

Hash leaf_hash(std::span<const std::uint8_t> entry) { return digest(0x00, entry); }

Hash node_hash(const Hash &left, const Hash &right) { return digest(0x01, left, right); }

Hash root_hash(std::span<const Hash> leaves) {
  if (leaves.empty()) {
    Hash out{};
    EVP_Digest(nullptr, 0, out.data(), nullptr, sha256(), nullptr);
    return out;
  }
  if (leaves.size() == 1)
    return leaves.front();
  std::uint64_t k = split(leaves.size());
  return node_hash(root_hash(leaves.first(k)), root_hash(leaves.subspan(k)));
}

std::vector<Hash> inclusion_proof(std::uint64_t size, std::uint64_t index,
                                  const SubtreeRoot &mth) {
  if (index >= size)
    throw std::out_of_range("inclusion_proof: index past the tree");
  std::vector<Hash> path;
  // Walk down from the root, collecting siblings; the RFC lists them leaf first.
  std::uint64_t begin = 0, end = size;
  while (end - begin > 1) {
    std::uint64_t middle = begin + split(end - begin);
    if (index < middle) {
      path.push_back(mth(middle, end));
      end = middle;
    } else {
      path.push_back(mth(begin, middle));
      begin = middle;
    }
  }
  return {path.rbegin(), path.rend()};
}

std::vector<Hash> consistency_proof(std::uint64_t size1, std::uint64_t size2,
                                    const SubtreeRoot &mth) {
  if (size1 == 0 || size1 > size2)
    throw std::out_of_range("consistency_proof: size1 outside 1..n");
  std::vector<Hash> proof;
  subproof(size1, 0, size2, true, mth, proof);
  return proof;
}

std::vector<Hash> inclusion_proof(std::span<const Hash> leaves, std::uint64_t index) {
  return inclusion_proof(leaves.size(), index, over(leaves));
}

std::vector<Hash> consistency_proof(std::span<const Hash> leaves, std::uint64_t size1) {
  return consistency_proof(size1, leaves.size(), over(leaves));
}

std::uint64_t subtree_split(std::uint64_t size) { return split(size); }

bool verify_inclusion(std::uint64_t index, std::uint64_t size, const Hash &leaf,
                      std::span<const Hash> proof, const Hash &root) {
  if (index >= size)
    return false;
  Hash r = leaf;
  return walk(
             index, size - 1, proof, [&](const Hash &c) { r = node_hash(c, r); },
             [&](const Hash &c) { r = node_hash(r, c); }) &&
         r == root;
}

bool verify_consistency(std::uint64_t size1, std::uint64_t size2, std::span<const Hash> proof,
                        const Hash &root1, const Hash &root2) {
  if (size1 > size2)
    return false;
  if (size1 == size2)
    return proof.empty() && root1 == root2;
  if (size1 == 0)
    return proof.empty(); // the empty tree is a prefix of every tree
  if (proof.empty())
    return false;
  std::vector<Hash> path(proof.begin(), proof.end());
  if (std::has_single_bit(size1))
    path.insert(path.begin(), root1);
  std::uint64_t fn = size1 - 1, sn = size2 - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path.front(), sr = path.front();
  auto left = [&](const Hash &c) {
    fr = node_hash(c, fr);
    sr = node_hash(c, sr);
  };
  return walk(fn, sn, std::span(path).subspan(1), left, [&](const Hash &c) { sr = node_hash(sr, c); }) &&
         fr == root1 && sr == root2;
}

std::string to_hex(const Hash &hash) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto byte : hash) {
    out += digits[byte >> 4];
    out += digits[byte & 0xf];
  }
  return out;
}

} // namespace chainlab::transparency
