// registry/sqlite.hpp: a small RAII adapter over sqlite3. A statement is
// compiled once per SQL text and kept for the next use (finalised with the
// database); a Transaction rolls back unless committed.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace chainlab::registry {

struct DatabaseCloser {
  void operator()(sqlite3 *db) const noexcept { sqlite3_close(db); }
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
  ~Database(); // finalises the kept statements, then closes
  Database(const Database &) = delete;
  Database &operator=(const Database &) = delete;
  void execute(const std::string &sql);
  // add_column adds |column| (with its type and default) to |table| unless
  // an earlier version of the schema already has it.
  void add_column(const std::string &table, const std::string &column,
                  const std::string &definition);
  // prepare hands out the kept statement for |sql| when it is free (reset,
  // no bindings), else compiles one; it goes back when the Statement ends.
  Statement prepare(std::string_view sql);
  // changes is the number of rows the last statement modified.
  int changes() const { return sqlite3_changes(db_.get()); }
  const std::string &path() const { return path_; }

  static constexpr std::size_t kKeptStatements = 256;

private:
  friend class Statement;
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  // A kept statement, idle or handed out; its SQL text is the map's key.
  struct Kept {
    sqlite3_stmt *statement = nullptr;
    bool handed_out = false;
  };
  void give_back(Kept *kept) noexcept;

  std::unique_ptr<sqlite3, DatabaseCloser> db_;
  std::string path_;
  std::mutex kept_mutex_; // a connection may serve several threads
  std::unordered_map<std::string, Kept, SqlHash, std::equal_to<>> kept_;
};

class Statement {
public:
  ~Statement();
  Statement(Statement &&other) noexcept;
  Statement &operator=(Statement &&) = delete;

  Statement &bind(int index, const std::string &text);
  Statement &bind(int index, std::int64_t number);
  Statement &bind_null(int index);
  // bind_blob binds bytes as a BLOB: nothing assumes they are text.
  Statement &bind_blob(int index, std::string_view bytes);
  // bind_unowned / bind_blob_unowned bind without SQLite's copy (a malloc
  // per value): the bytes must stay put until this Statement is gone, which
  // clears its bindings. For hot paths, with values held by the caller.
  Statement &bind_unowned(int index, std::string_view text);
  Statement &bind_blob_unowned(int index, std::string_view bytes);
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
  Statement(Database &db, sqlite3_stmt *statement, Database::Kept *kept);
  Database &db_;
  sqlite3_stmt *statement_ = nullptr;
  Database::Kept *kept_ = nullptr; // null: compiled for this use only
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
