#include "cli/show_identity.hpp"

#include "actor/state_dir.hpp"
#include "pki/inspect.hpp"

namespace chainlab::cli {

void show_identity(const std::string &state_dir, std::ostream &out) {
  actor::StateDir state(state_dir);
  auto config = state.load_config();
  auto store = state.open_key_store(config, false);
  out << config.role << " " << config.name << "\n"
      << "  subject:   " << config.subject << "\n"
      << "  key:       " << config.key_uri << " (" << config.key_type << ")\n"
      << "  key store: " << store->describe() << "\n";
  if (!config.parent_fingerprint.empty())
    out << "  enrolled at https://" << config.parent_host << ":" << config.parent_port
        << " (pinned CA " << config.parent_fingerprint << ")\n";
  auto chain = state.chain_to_root();
  out << "  chain (leaf first):\n";
  for (size_t depth = 0; depth < chain.size(); ++depth) {
    X509 *cert = chain[depth].get();
    out << "    [" << depth << "] " << pki::subject_text(cert) << "\n"
        << "        issuer  " << pki::issuer_text(cert) << "\n"
        << "        serial  " << pki::serial_hex(cert) << "\n"
        << "        sha256  " << pki::sha256_fingerprint(cert) << "\n"
        << "        valid   " << pki::format_time(pki::not_before(cert)) << " .. "
        << pki::format_time(pki::not_after(cert)) << "\n"
        << "        key     " << pki::describe_key(X509_get0_pubkey(cert))
        << (pki::is_ca(cert) ? ", CA" : ", end entity");
    if (auto limit = pki::path_len(cert))
      out << ", pathLen " << *limit;
    out << "\n";
  }
}

} // namespace chainlab::cli
