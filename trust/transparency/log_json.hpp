// transparency/log_json.hpp: the log API's JSON shapes (after RFC 6962
// section 4): tree heads, hash lists and entries, with hashes, signatures
// and entries in base64. Decoding refuses anything malformed, naming where
// it came from; it never throws.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "transparency/log_entry.hpp"

namespace chainlab::transparency {

// Where a CA serves its log, beside EST.
inline constexpr std::string_view kLogPrefix = "/log/v1/";

nlohmann::json to_json(const TreeHead &head);
Result<TreeHead> tree_head_from_json(const nlohmann::json &body, const std::string &source);

nlohmann::json hashes_to_json(const std::vector<Hash> &hashes);
// hashes_from_json reads body[field], an array of at most 64 base64 hashes.
Result<std::vector<Hash>> hashes_from_json(const nlohmann::json &body, const std::string &field,
                                           const std::string &source);
Result<Hash> hash_from_base64(const std::string &text, const std::string &source);
std::string hash_to_base64(const Hash &hash);
// hash_query_value: a hash's base64, percent-encoded for a query string.
std::string hash_query_value(const Hash &hash);

// A number of the API (tree sizes, indices) is a JSON unsigned integer.
Result<std::uint64_t> unsigned_field(const nlohmann::json &body, const std::string &field,
                                     const std::string &source);
// bytes_field reads body[field] as base64, at most |limit| decoded bytes.
Result<std::string> bytes_field(const nlohmann::json &body, const std::string &field,
                                std::size_t limit, const std::string &source);

} // namespace chainlab::transparency
