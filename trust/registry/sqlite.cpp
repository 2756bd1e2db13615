#include "registry/sqlite.hpp"

#include <mutex>

#include "core/error.hpp"

namespace chainlab::registry {
namespace {

[[noreturn]] void fail(sqlite3 *db, const std::string &path,
                       const std::string &what) {
  throw Error(Reason::storage_failed,
              path + ": " + what + " (" + (db ? sqlite3_errmsg(db) : "no handle") + ")");
}

// SQLite keeps a statement's own journal (the pages it changed, so that a
// failing statement can be undone inside a longer transaction) in memory up
// to 64 KiB, and in a temporary file past that: a group commit's multi-row
// telemetry INSERT, whose rows land on as many index pages as devices, went
// to that file whenever a batch held more than about a dozen devices'
// messages (a pwrite per page, about one per message). 4 MiB keeps any
// ordinary statement in memory and still bounds one that changes a whole
// large table.
constexpr int kStatementJournalInMemory = 4 << 20;

// configure_once: process-wide settings, which SQLite takes only before its
// first use. If something in the process used SQLite first, the defaults stay.
void configure_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, kStatementJournalInMemory);
  });
}

} // namespace

Database::Database(const std::string &path) : path_(path) {
  configure_once();
  sqlite3 *raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                               SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  db_.reset(raw);
  if (rc != SQLITE_OK)
    fail(raw, path, "cannot open database");
  sqlite3_busy_timeout(raw, 5000);
  execute("PRAGMA journal_mode=WAL");
  execute("PRAGMA synchronous=FULL");
  execute("PRAGMA foreign_keys=ON");
}

void Database::execute(const std::string &sql) {
  char *message = nullptr;
  if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &message) !=
      SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    throw Error(Reason::storage_failed, path_ + ": " + text + " in: " + sql);
  }
}

void Database::add_column(const std::string &table, const std::string &column,
                          const std::string &definition) {
  auto columns = prepare("SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
  columns.bind(1, table).bind(2, column);
  if (!columns.step())
    execute("ALTER TABLE " + table + " ADD COLUMN " + column + " " + definition);
}

Database::~Database() {
  for (auto &[sql, kept] : kept_)
    sqlite3_finalize(kept.statement);
}

Statement Database::prepare(std::string_view sql) {
  {
    std::lock_guard lock(kept_mutex_);
    auto found = kept_.find(sql);
    if (found != kept_.end() && !found->second.handed_out) {
      found->second.handed_out = true;
      return Statement(*this, found->second.statement, &found->second);
    }
  }
  sqlite3_stmt *statement = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.data(), int(sql.size()), &statement, nullptr) != SQLITE_OK)
    fail(db_.get(), path_, "cannot prepare: " + std::string(sql));
  std::lock_guard lock(kept_mutex_);
  if (kept_.size() >= kKeptStatements || kept_.count(sql))
    return Statement(*this, statement, nullptr); // one kept per text, a bounded number of texts
  Kept &kept = kept_.emplace(std::string(sql), Kept{statement, true}).first->second;
  return Statement(*this, statement, &kept);
}

void Database::give_back(Kept *kept) noexcept {
  sqlite3_reset(kept->statement);
  sqlite3_clear_bindings(kept->statement);
  std::lock_guard lock(kept_mutex_);
  kept->handed_out = false;
}

Statement::Statement(Database &db, sqlite3_stmt *statement, Database::Kept *kept)
    : db_(db), statement_(statement), kept_(kept) {}

Statement::Statement(Statement &&other) noexcept
    : db_(other.db_), statement_(other.statement_), kept_(other.kept_) {
  other.statement_ = nullptr;
  other.kept_ = nullptr;
}

Statement::~Statement() {
  if (kept_)
    db_.give_back(kept_);
  else if (statement_)
    sqlite3_finalize(statement_);
}

Statement &Statement::bind(int index, const std::string &text) {
  sqlite3_bind_text(statement_, index, text.data(), int(text.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement &Statement::bind(int index, std::int64_t number) {
  sqlite3_bind_int64(statement_, index, number);
  return *this;
}

Statement &Statement::bind_null(int index) {
  sqlite3_bind_null(statement_, index);
  return *this;
}

Statement &Statement::bind_blob(int index, std::string_view bytes) {
  sqlite3_bind_blob64(statement_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}

Statement &Statement::bind_unowned(int index, std::string_view text) {
  sqlite3_bind_text(statement_, index, text.data(), int(text.size()), SQLITE_STATIC);
  return *this;
}

Statement &Statement::bind_blob_unowned(int index, std::string_view bytes) {
  sqlite3_bind_blob64(statement_, index, bytes.data(), bytes.size(), SQLITE_STATIC);
  return *this;
}

std::string Statement::blob(int column) const {
  const auto *data = sqlite3_column_blob(statement_, column);
  return data ? std::string(static_cast<const char *>(data),
                            size_t(sqlite3_column_bytes(statement_, column)))
              : std::string();
}

bool Statement::step() {
  int rc = sqlite3_step(statement_);
  if (rc == SQLITE_ROW)
    return true;
  if (rc == SQLITE_DONE)
    return false;
  fail(db_.db_.get(), db_.path_, "statement failed");
}

Statement &Statement::reset() {
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
  return *this;
}

void Statement::run() {
  while (step()) {
  }
}

std::string Statement::text(int column) const {
  const auto *data = sqlite3_column_text(statement_, column);
  return data ? std::string(reinterpret_cast<const char *>(data),
                            size_t(sqlite3_column_bytes(statement_, column)))
              : std::string();
}

std::int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(statement_, column);
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

// BEGIN and COMMIT run as kept statements: sqlite3_exec would compile them
// again for every transaction (group commit makes one per batch).
Transaction::Transaction(Database &db) : db_(db) {
  db_.prepare("BEGIN IMMEDIATE").run();
}

Transaction::~Transaction() {
  if (!done_) {
    try {
      db_.execute("ROLLBACK");
    } catch (...) {
      // The connection is unusable anyway; nothing more can be done here.
    }
  }
}

void Transaction::commit() {
  db_.prepare("COMMIT").run();
  done_ = true;
}

} // namespace chainlab::registry
