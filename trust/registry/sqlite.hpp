// registry/sqlite.hpp: a small RAII adapter over sqlite3. Statements are
// finalised by their owner; a Transaction rolls back unless committed.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace chainlab::registry {

struct DatabaseCloser {
  void operator()(sqlite3 *db) const noexcept { sqlite3_close(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt *statement) const noexcept {
    sqlite3_finalize(statement);
  }
};

// Times are stored as whole seconds since the epoch (UTC).
inline std::int64_t to_seconds(std::chrono::system_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
}
inline std::chrono::system_clock::time_point from_seconds(std::int64_t seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

class Statement;

class Database {
public:
  // open creates the file if needed, in WAL mode with a busy timeout so a
  // CA's operator commands and its server can share it.
  explicit Database(const std::string &path);
  void execute(const std::string &sql);
  // add_column adds |column| (with its type and default) to |table| unless
  // an earlier version of the schema already has it.
  void add_column(const std::string &table, const std::string &column,
                  const std::string &definition);
  Statement prepare(const std::string &sql);
  // changes is the number of rows the last statement modified.
  int changes() const { return sqlite3_changes(db_.get()); }
  const std::string &path() const { return path_; }

private:
  friend class Statement;
  std::unique_ptr<sqlite3, DatabaseCloser> db_;
  std::string path_;
};

class Statement {
public:
  Statement &bind(int index, const std::string &text);
  Statement &bind(int index, std::int64_t number);
  Statement &bind_null(int index);
  // bind_blob binds bytes as a BLOB: nothing assumes they are text.
  Statement &bind_blob(int index, std::string_view bytes);
  // step returns true while a row is available.
  bool step();
  // reset makes the statement ready to bind and step again.
  Statement &reset();
  // run steps a statement that returns no rows.
  void run();
  std::string text(int column) const;
  std::string blob(int column) const;
  std::int64_t integer(int column) const;
  bool is_null(int column) const;

private:
  friend class Database;
  Statement(Database &db, sqlite3_stmt *statement);
  Database &db_;
  std::unique_ptr<sqlite3_stmt, StatementFinalizer> statement_;
};

class Transaction {
public:
  explicit Transaction(Database &db); // BEGIN IMMEDIATE
  ~Transaction();                     // ROLLBACK unless committed
  void commit();

private:
  Database &db_;
  bool done_ = false;
};

} // namespace chainlab::registry
