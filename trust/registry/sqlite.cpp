#include "registry/sqlite.hpp"

#include "core/error.hpp"

namespace chainlab::registry {
namespace {

[[noreturn]] void fail(sqlite3 *db, const std::string &path,
                       const std::string &what) {
  throw Error(Reason::storage_failed,
              path + ": " + what + " (" + (db ? sqlite3_errmsg(db) : "no handle") + ")");
}

} // namespace

Database::Database(const std::string &path) : path_(path) {
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

Statement Database::prepare(const std::string &sql) {
  sqlite3_stmt *statement = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &statement, nullptr) !=
      SQLITE_OK)
    fail(db_.get(), path_, "cannot prepare: " + sql);
  return Statement(*this, statement);
}

Statement::Statement(Database &db, sqlite3_stmt *statement)
    : db_(db), statement_(statement) {}

Statement &Statement::bind(int index, const std::string &text) {
  sqlite3_bind_text(statement_.get(), index, text.data(), int(text.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement &Statement::bind(int index, std::int64_t number) {
  sqlite3_bind_int64(statement_.get(), index, number);
  return *this;
}

Statement &Statement::bind_null(int index) {
  sqlite3_bind_null(statement_.get(), index);
  return *this;
}

Statement &Statement::bind_blob(int index, std::string_view bytes) {
  sqlite3_bind_blob64(statement_.get(), index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}

std::string Statement::blob(int column) const {
  const auto *data = sqlite3_column_blob(statement_.get(), column);
  return data ? std::string(static_cast<const char *>(data),
                            size_t(sqlite3_column_bytes(statement_.get(), column)))
              : std::string();
}

bool Statement::step() {
  int rc = sqlite3_step(statement_.get());
  if (rc == SQLITE_ROW)
    return true;
  if (rc == SQLITE_DONE)
    return false;
  fail(db_.db_.get(), db_.path_, "statement failed");
}

Statement &Statement::reset() {
  sqlite3_reset(statement_.get());
  sqlite3_clear_bindings(statement_.get());
  return *this;
}

void Statement::run() {
  while (step()) {
  }
}

std::string Statement::text(int column) const {
  const auto *data = sqlite3_column_text(statement_.get(), column);
  return data ? std::string(reinterpret_cast<const char *>(data),
                            size_t(sqlite3_column_bytes(statement_.get(), column)))
              : std::string();
}

std::int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(statement_.get(), column);
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(statement_.get(), column) == SQLITE_NULL;
}

Transaction::Transaction(Database &db) : db_(db) {
  db_.execute("BEGIN IMMEDIATE");
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
  db_.execute("COMMIT");
  done_ = true;
}

} // namespace chainlab::registry
