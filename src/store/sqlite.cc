#include "store/sqlite.h"

#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <utility>

namespace cairn::store {

Status SqliteStatus(int rc, std::string_view context, std::string_view message) {
  std::string text(context);
  text += ": ";
  text += message;
  switch (rc & 0xFF) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
      return OkStatus();
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable(std::move(text));
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExists(std::move(text));
      }
      return Internal(std::move(text));
    case SQLITE_CANTOPEN:
      return Unavailable(std::move(text));
    default:
      return Internal(std::move(text));
  }
}

namespace {
Status DbError(sqlite3* db, int rc, std::string_view context) {
  return SqliteStatus(rc, context, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}
}  // namespace

// ---- Statement ----

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      db_(other.db_),
      bind_error_(other.bind_error_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    db_ = other.db_;
    bind_error_ = other.bind_error_;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

void Statement::NoteBindResult(int rc, int index) {
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
}

Statement& Statement::Bind(int index, int64_t value) {
  NoteBindResult(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  NoteBindResult(sqlite3_bind_double(stmt_, index, value), index);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  NoteBindResult(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                     SQLITE_UTF8),
                 index);
  return *this;
}

Statement& Statement::BindNoCopy(int index, std::string_view value) {
  NoteBindResult(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_STATIC,
                                     SQLITE_UTF8),
                 index);
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  NoteBindResult(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT),
                 index);
  return *this;
}

Statement& Statement::BindBlobNoCopy(int index, std::string_view bytes) {
  NoteBindResult(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_STATIC),
                 index);
  return *this;
}

Statement& Statement::BindNull(int index) {
  NoteBindResult(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

StatusOr<bool> Statement::Step() {
  if (bind_error_ != 0) {
    int rc = bind_error_;
    bind_error_ = 0;
    return SqliteStatus(rc, "bind", sqlite3_errstr(rc));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status st = SqliteStatus(sqlite3_extended_errcode(db_), "step", sqlite3_errmsg(db_));
  sqlite3_reset(stmt_);
  if (st.ok()) st = Internal("step: unexpected sqlite result");
  return st;
}

Status Statement::Run() {
  while (true) {
    auto row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return OkStatus();
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = 0;
}

void Statement::Rewind() {
  sqlite3_reset(stmt_);
  bind_error_ = 0;
}

int Statement::ColumnCount() const { return sqlite3_column_count(stmt_); }
bool Statement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
int64_t Statement::Int64(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::Double(int col) const { return sqlite3_column_double(stmt_, col); }

std::string Statement::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (!p) return std::string();
  return std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col));
}

std::optional<std::string> Statement::OptionalText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}

std::string_view Statement::Blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  if (!p) return {};
  return std::string_view(static_cast<const char*>(p), sqlite3_column_bytes(stmt_, col));
}

std::optional<int64_t> Statement::OptionalInt64(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int64(col);
}

std::string_view Statement::sql() const {
  const char* s = stmt_ ? sqlite3_sql(stmt_) : nullptr;
  return s ? std::string_view(s) : std::string_view();
}

// ---- Database ----

StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                   const OpenOptions& options) {
  // Memory statistics take a global mutex on every allocation; cairn does not read them.
  // Must precede sqlite3_initialize(); if another component initialised SQLite first the call
  // fails harmlessly.
  static std::once_flag config_once;
  std::call_once(config_once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  int flags = SQLITE_OPEN_NOMUTEX;  // callers serialise use of one connection
  if (options.read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE;
    if (options.create) flags |= SQLITE_OPEN_CREATE;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    if (raw) sqlite3_close_v2(raw);
    return Unavailable("cannot open database '" + path + "': " + msg);
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  std::unique_ptr<Database> db(new Database(raw, path));
  if (!options.read_only) {
    RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
  }
  RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                           "PRAGMA temp_store=MEMORY;"));
  RETURN_IF_ERROR(db->Exec("PRAGMA cache_size=-" + std::to_string(options.cache_kib) +
                           "; PRAGMA mmap_size=" + std::to_string(options.mmap_bytes) + ";"));
  if (!options.read_only) {
    RETURN_IF_ERROR(db->Exec("PRAGMA wal_autocheckpoint=" +
                             std::to_string(options.wal_autocheckpoint_pages)));
  }
  return db;
}

Database::~Database() {
  cache_.clear();  // finalize statements before closing
  sqlite3_close_v2(db_);
}

Status Database::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return SqliteStatus(sqlite3_extended_errcode(db_), "exec", msg);
  }
  return OkStatus();
}

StatusOr<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return DbError(db_, sqlite3_extended_errcode(db_), "prepare '" + std::string(sql) + "'");
  }
  if (!stmt) return Internal("prepare: empty SQL");
  return Statement(stmt, db_);
}

StatusOr<Statement*> Database::Cached(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it != cache_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  ASSIGN_OR_RETURN(Statement stmt, Prepare(sql));
  auto owned = std::make_unique<Statement>(std::move(stmt));
  Statement* raw = owned.get();
  cache_.emplace(std::string(sql), std::move(owned));
  return raw;
}

namespace {
constexpr int kProgressBlock = 1000;
}  // namespace

int Database::OnProgress(void* self) {
  auto* db = static_cast<Database*>(self);
  if (--db->budget_blocks_ > 0) return 0;
  db->budget_exhausted_ = true;
  return 1;  // interrupts the running statement (SQLITE_INTERRUPT)
}

void Database::SetStepBudget(int64_t vm_steps) {
  budget_exhausted_ = false;
  if (vm_steps <= 0) {
    sqlite3_progress_handler(db_, 0, nullptr, nullptr);
    budget_blocks_ = 0;
    return;
  }
  budget_blocks_ = std::max<int64_t>(1, vm_steps / kProgressBlock);
  sqlite3_progress_handler(db_, kProgressBlock, &Database::OnProgress, this);
}

int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int Database::Changes() const { return sqlite3_changes(db_); }
bool Database::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

// ---- Transaction ----

StatusOr<Transaction> Transaction::Begin(Database& db, Mode mode) {
  RETURN_IF_ERROR(db.Exec(mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  return Transaction(&db);
}

Transaction::~Transaction() { Rollback(); }

Status Transaction::Commit() {
  if (!db_) return FailedPrecondition("transaction already finished");
  Status st = db_->Exec("COMMIT");
  if (!st.ok()) {
    Rollback();
    return st;
  }
  db_ = nullptr;
  return OkStatus();
}

void Transaction::Rollback() {
  if (db_) {
    if (db_->InTransaction()) (void)db_->Exec("ROLLBACK");
    db_ = nullptr;
  }
}

}  // namespace cairn::store
