#include "transparency/log_json.hpp"

#include "pki/encoding.hpp"

namespace chainlab::transparency {
namespace {

using nlohmann::json;

// No proof of a tree of up to 2^64 leaves is longer than this.
constexpr std::size_t kMaxProofHashes = 64;
constexpr std::size_t kMaxSignature = 1024;

Error malformed(const std::string &source, const std::string &what) {
  return Error(Reason::malformed_request, source + ": " + what);
}

} // namespace

std::string hash_to_base64(const Hash &hash) {
  return pki::base64_encode({reinterpret_cast<const char *>(hash.data()), hash.size()});
}

std::string hash_query_value(const Hash &hash) {
  std::string out;
  for (char c : hash_to_base64(hash))
    out += c == '+' ? "%2B" : c == '/' ? "%2F" : c == '=' ? "%3D" : std::string(1, c);
  return out;
}

Result<Hash> hash_from_base64(const std::string &text, const std::string &source) {
  if (text.size() > 64)
    return malformed(source, "a hash of " + std::to_string(text.size()) + " base64 characters");
  std::string bytes;
  try {
    bytes = pki::base64_decode(text, source);
  } catch (const Error &error) {
    return error;
  }
  Hash hash{};
  if (bytes.size() != hash.size())
    return malformed(source, "a hash of " + std::to_string(bytes.size()) + " bytes, not 32");
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

Result<std::uint64_t> unsigned_field(const json &body, const std::string &field,
                                     const std::string &source) {
  if (!body.is_object() || !body.contains(field) || !body[field].is_number_unsigned())
    return malformed(source, "\"" + field + "\" must be an unsigned integer");
  return body[field].get<std::uint64_t>();
}

Result<std::string> bytes_field(const json &body, const std::string &field, std::size_t limit,
                                const std::string &source) {
  if (!body.is_object() || !body.contains(field) || !body[field].is_string())
    return malformed(source, "\"" + field + "\" must be a base64 string");
  const auto &text = body[field].get_ref<const std::string &>();
  if (text.size() > limit / 3 * 4 + 8)
    return malformed(source, "\"" + field + "\" is longer than " + std::to_string(limit) + " bytes");
  try {
    return pki::base64_decode(text, source + " \"" + field + "\"");
  } catch (const Error &error) {
    return error;
  }
}

json to_json(const TreeHead &head) {
  return {{"tree_size", head.tree_size},
          {"timestamp", head.timestamp_ms},
          {"sha256_root_hash", hash_to_base64(head.root)},
          {"tree_head_signature", pki::base64_encode(head.signature)}};
}

Result<TreeHead> tree_head_from_json(const json &body, const std::string &source) {
  TreeHead head;
  auto size = unsigned_field(body, "tree_size", source);
  auto timestamp = unsigned_field(body, "timestamp", source);
  auto root = bytes_field(body, "sha256_root_hash", 32, source);
  auto signature = bytes_field(body, "tree_head_signature", kMaxSignature, source);
  for (const Error *error : {size ? nullptr : &size.error(), timestamp ? nullptr : &timestamp.error(),
                             root ? nullptr : &root.error(), signature ? nullptr : &signature.error()})
    if (error)
      return *error;
  if (root.value().size() != head.root.size())
    return malformed(source, "a root hash of " + std::to_string(root.value().size()) +
                                 " bytes, not 32");
  std::copy(root.value().begin(), root.value().end(), head.root.begin());
  head.tree_size = size.value();
  head.timestamp_ms = timestamp.value();
  head.signature = signature.value();
  return head;
}

json hashes_to_json(const std::vector<Hash> &hashes) {
  json out = json::array();
  for (const auto &hash : hashes)
    out.push_back(hash_to_base64(hash));
  return out;
}

Result<std::vector<Hash>> hashes_from_json(const json &body, const std::string &field,
                                           const std::string &source) {
  if (!body.is_object() || !body.contains(field) || !body[field].is_array())
    return malformed(source, "\"" + field + "\" must be an array of base64 hashes");
  if (body[field].size() > kMaxProofHashes)
    return malformed(source, "\"" + field + "\" holds " + std::to_string(body[field].size()) +
                                 " hashes; no proof needs more than 64");
  std::vector<Hash> hashes;
  for (const auto &item : body[field]) {
    if (!item.is_string())
      return malformed(source, "\"" + field + "\" holds something other than a string");
    auto hash = hash_from_base64(item.get<std::string>(), source + " \"" + field + "\"");
    if (!hash)
      return hash.error();
    hashes.push_back(hash.value());
  }
  return hashes;
}

} // namespace chainlab::transparency
