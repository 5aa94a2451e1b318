#include "store/migrations.h"

#include <algorithm>
#include <chrono>

namespace cairn::store {

namespace {
constexpr char kCreateVersionTable[] =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
StatusOr<bool> IsApplied(Database& db, int version) {
  ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT 1 FROM schema_version WHERE version = ?1"));
  st.Bind(1, version);
  return st.Step();
}
}  // namespace

StatusOr<int> SchemaVersion(Database& db) {
  ASSIGN_OR_RETURN(Statement exists,
                   db.Prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND "
                              "name='schema_version'"));
  ASSIGN_OR_RETURN(bool has_table, exists.Step());
  if (!has_table) return 0;
  ASSIGN_OR_RETURN(Statement max, db.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  ASSIGN_OR_RETURN(bool row, max.Step());
  if (!row) return 0;
  return static_cast<int>(max.Int64(0));
}

Status ApplyMigrations(Database& db, const std::vector<Migration>& migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version <= 0 || (i > 0 && migrations[i].version <= migrations[i - 1].version)) {
      return InvalidArgument("migrations must have strictly increasing positive versions");
    }
  }
  const int newest = migrations.empty() ? 0 : migrations.back().version;
  {
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db));
    RETURN_IF_ERROR(db.Exec(kCreateVersionTable));
    RETURN_IF_ERROR(txn.Commit());
  }
  ASSIGN_OR_RETURN(int current, SchemaVersion(db));
  if (current > newest) {
    return FailedPrecondition("database '" + db.path() + "' has schema version " +
                              std::to_string(current) + ", newer than this cairn binary supports (" +
                              std::to_string(newest) + "); upgrade cairn to open it");
  }
  for (const Migration& m : migrations) {
    // By presence, not only by the highest version: modules number their migrations in one
    // sequence, so a database one module's store created alone (tracking 1 and 6) still gets
    // another module's older migrations (registry 2) when the platform opens it.
    ASSIGN_OR_RETURN(bool applied, IsApplied(db, m.version));
    if (applied) continue;
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db));
    // Re-check under the write lock: another process may have migrated meanwhile.
    ASSIGN_OR_RETURN(applied, IsApplied(db, m.version));
    if (applied) continue;
    Status st = db.Exec(m.sql);
    if (st.ok() && m.convert) st = m.convert(db);
    if (!st.ok()) {
      return Status(st.code(), "migration " + std::to_string(m.version) + " (" + m.description +
                                   ") failed: " + st.message());
    }
    ASSIGN_OR_RETURN(Statement ins, db.Prepare("INSERT INTO schema_version(version, description, "
                                               "applied_at) VALUES (?1, ?2, ?3)"));
    ins.Bind(1, m.version).Bind(2, m.description).Bind(3, NowMs());
    RETURN_IF_ERROR(ins.Run());
    RETURN_IF_ERROR(txn.Commit());
  }
  return OkStatus();
}

StatusOr<std::vector<Migration>> MergeMigrations(
    const std::vector<std::vector<Migration>>& lists) {
  std::vector<Migration> all;
  for (const auto& list : lists) all.insert(all.end(), list.begin(), list.end());
  std::stable_sort(all.begin(), all.end(),
                   [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (size_t i = 1; i < all.size(); ++i) {
    if (all[i].version == all[i - 1].version) {
      return InvalidArgument("two modules use migration version " +
                             std::to_string(all[i].version) + " ('" + all[i - 1].description +
                             "' and '" + all[i].description + "')");
    }
  }
  return all;
}

}  // namespace cairn::store
