// A thin adapter over SQLite: a connection (Database), prepared statements with typed binds
// and reads (Statement), and scoped transactions (Transaction). sqlite3.h is included only by
// sqlite.cc; nothing SQLite-specific leaks into callers beyond SQL text.
//
// Errors: every call that can fail returns Status. SQLITE_BUSY/LOCKED become kUnavailable,
// unique/primary-key violations kAlreadyExists, anything else kInternal (message includes the
// SQLite error text). No exception leaves this adapter.
//
// Thread-safety: a Database and its Statements belong to one thread at a time (callers
// serialise access, see store/connection_pool.h). Different Databases may be used
// concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace cairn::store {

class Database;

// A prepared statement. Bind indexes are 1-based ("?1"); column indexes are 0-based.
// Move-only; finalizes on destruction.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binds never fail for a valid index; an out-of-range index is remembered and reported by
  // the next Step()/Run().
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view value);  // copied (SQLITE_TRANSIENT)
  Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Statement& Bind(int index, const std::string& value) {
    return Bind(index, std::string_view(value));
  }
  // Binds text without copying it: `value` must stay alive and unchanged until the statement
  // is stepped to completion and rebound, rewound or reset. For hot loops.
  Statement& BindNoCopy(int index, std::string_view value);
  Statement& BindNull(int index);
  // Binds bytes as a BLOB: copied, or (NoCopy) under the same lifetime rule as BindNoCopy.
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindBlobNoCopy(int index, std::string_view bytes);
  template <typename T>
  Statement& Bind(int index, const std::optional<T>& value) {
    return value ? Bind(index, *value) : BindNull(index);
  }

  // Advances one row: true when a row is available, false when done.
  StatusOr<bool> Step();
  // Steps until done (for statements that return no rows, or whose rows are ignored).
  Status Run();
  // Rewinds and clears bindings so the statement can be reused.
  void Reset();
  // Rewinds but keeps the bindings (for re-running with only some values rebound).
  void Rewind();

  int ColumnCount() const;
  bool IsNull(int col) const;
  int64_t Int64(int col) const;
  double Double(int col) const;
  std::string Text(int col) const;  // "" for NULL
  std::optional<std::string> OptionalText(int col) const;
  std::optional<int64_t> OptionalInt64(int col) const;
  // A BLOB (or text) column's bytes, empty for NULL; valid until the next Step, Reset or
  // Rewind of this statement.
  std::string_view Blob(int col) const;

  // The SQL text this statement was prepared from.
  std::string_view sql() const;

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  void NoteBindResult(int rc, int index);

  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
  int bind_error_ = 0;  // first failing sqlite rc from a Bind, 0 when none
};

struct OpenOptions {
  bool read_only = false;
  int busy_timeout_ms = 10000;
  // Create the file when missing (ignored when read_only).
  bool create = true;
  // Page cache per connection, in KiB (PRAGMA cache_size = -N).
  int cache_kib = 65536;
  // Memory-mapped I/O window in bytes (PRAGMA mmap_size); 0 disables.
  int64_t mmap_bytes = 256LL << 20;
  // WAL pages written before an automatic checkpoint (PRAGMA wal_autocheckpoint).
  int wal_autocheckpoint_pages = 4000;
};

// One SQLite connection, opened with WAL journaling, synchronous=NORMAL, foreign keys on and
// a busy timeout.
class Database {
 public:
  // Opens (and creates, unless read_only) the database at `path`.
  // Errors: kUnavailable when the file cannot be opened, kInternal on pragma failures.
  static StatusOr<std::unique_ptr<Database>> Open(const std::string& path,
                                                  const OpenOptions& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more ';'-separated statements that take no parameters.
  Status Exec(std::string_view sql);
  // Prepares a fresh statement owned by the caller.
  StatusOr<Statement> Prepare(std::string_view sql);
  // A statement prepared once per connection and reused: returned reset with cleared
  // bindings. Owned by the Database; valid until the Database is destroyed. Callers must not
  // hold two uses of the same SQL at once.
  StatusOr<Statement*> Cached(std::string_view sql);

  // Bounds the work of this connection's statements: once they have run about `vm_steps`
  // more SQLite virtual-machine instructions in total (counted in blocks of 1000), the
  // running Step() fails and StepBudgetExhausted() is true until the next SetStepBudget().
  // An interrupted SELECT leaves the enclosing transaction open. 0 removes the bound. For
  // trying a query plan that is usually much faster but can be slower than the planner's
  // (see SqliteTrackingStore::SearchRuns); deterministic for the same data and SQL.
  void SetStepBudget(int64_t vm_steps);
  bool StepBudgetExhausted() const { return budget_exhausted_; }

  int64_t LastInsertRowId() const;
  int Changes() const;  // rows changed by the last statement
  bool InTransaction() const;
  const std::string& path() const { return path_; }

 private:
  explicit Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  static int OnProgress(void* self);
  sqlite3* db_;
  std::string path_;
  int64_t budget_blocks_ = 0;  // blocks of 1000 instructions left while a budget is set
  bool budget_exhausted_ = false;
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
};

// A scoped transaction: BEGIN IMMEDIATE (or DEFERRED for readers) on construction via
// Begin(); rolled back on destruction unless Commit() succeeded.
class Transaction {
 public:
  enum class Mode { kDeferred, kImmediate };
  static StatusOr<Transaction> Begin(Database& db, Mode mode = Mode::kImmediate);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();
  void Rollback();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;
};

// Maps a SQLite result code and message to a Status (exposed for tests).
Status SqliteStatus(int rc, std::string_view context, std::string_view message);

}  // namespace cairn::store
