#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "store/connection_pool.h"
#include "store/migrations.h"
#include "store/sqlite.h"

namespace cairn::store {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("cairn-store-test-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  static inline std::atomic<int> counter_{0};
  fs::path path_;
};

std::string QueryText(Database& db, const std::string& sql) {
  auto st = db.Prepare(sql);
  EXPECT_TRUE(st.ok()) << st.status().ToString();
  auto row = st->Step();
  EXPECT_TRUE(row.ok() && *row);
  return st->Text(0);
}

int64_t QueryInt(Database& db, const std::string& sql) {
  auto st = db.Prepare(sql);
  EXPECT_TRUE(st.ok()) << st.status().ToString();
  auto row = st->Step();
  EXPECT_TRUE(row.ok() && *row);
  return st->Int64(0);
}

TEST(DatabaseTest, OpensWithWalForeignKeysAndNormalSync) {
  TempDir dir;
  auto db = Database::Open(dir.File("a.db"));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(QueryText(**db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(QueryInt(**db, "PRAGMA foreign_keys"), 1);
  EXPECT_EQ(QueryInt(**db, "PRAGMA synchronous"), 1);  // NORMAL
}

TEST(DatabaseTest, OpenFailureIsAStatus) {
  auto db = Database::Open("/nonexistent-dir-cairn/x/y.db");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Code::kUnavailable);
}

TEST(StatementTest, TypedBindsRoundTrip) {
  TempDir dir;
  auto db = std::move(Database::Open(dir.File("a.db"))).value();
  ASSERT_TRUE(db->Exec("CREATE TABLE t(i INTEGER, d REAL, s TEXT, n TEXT)").ok());
  auto ins = db->Prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4)");
  ASSERT_TRUE(ins.ok());
  std::optional<std::string> none;
  ins->Bind(1, int64_t{9007199254740993}).Bind(2, 0.25).Bind(3, std::string("a\0b", 3)).Bind(4, none);
  ASSERT_TRUE(ins->Run().ok());
  auto sel = db->Prepare("SELECT i, d, s, n FROM t");
  ASSERT_TRUE(sel.ok());
  auto row = sel->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(sel->Int64(0), 9007199254740993);
  EXPECT_EQ(sel->Double(1), 0.25);
  EXPECT_EQ(sel->Text(2), std::string("a\0b", 3));
  EXPECT_TRUE(sel->IsNull(3));
  EXPECT_FALSE(sel->OptionalText(3).has_value());
  row = sel->Step();
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(*row);
}

TEST(StatementTest, ErrorsAreStatuses) {
  TempDir dir;
  auto db = std::move(Database::Open(dir.File("a.db"))).value();
  EXPECT_EQ(db->Prepare("SELEC nonsense").status().code(), Code::kInternal);
  ASSERT_TRUE(db->Exec("CREATE TABLE u(k TEXT PRIMARY KEY)").ok());
  auto ins = db->Cached("INSERT INTO u VALUES (?1)");
  ASSERT_TRUE(ins.ok());
  (*ins)->Bind(1, "x");
  ASSERT_TRUE((*ins)->Run().ok());
  ins = db->Cached("INSERT INTO u VALUES (?1)");
  (*ins)->Bind(1, "x");
  EXPECT_EQ((*ins)->Run().code(), Code::kAlreadyExists);
  // A bad bind index is reported by the next step, not a crash.
  ins = db->Cached("INSERT INTO u VALUES (?1)");
  (*ins)->Bind(7, "y");
  EXPECT_FALSE((*ins)->Run().ok());
}

TEST(TransactionTest, RollsBackUnlessCommitted) {
  TempDir dir;
  auto db = std::move(Database::Open(dir.File("a.db"))).value();
  ASSERT_TRUE(db->Exec("CREATE TABLE t(i INTEGER)").ok());
  {
    auto txn = Transaction::Begin(*db);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1)").ok());
  }
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM t"), 0);
  {
    auto txn = Transaction::Begin(*db);
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (2)").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM t"), 1);
  EXPECT_FALSE(db->InTransaction());
}

TEST(DatabaseTest, StepBudgetInterruptsAReadAndKeepsItsTransaction) {
  TempDir dir;
  auto db = std::move(Database::Open(dir.File("b.db"))).value();
  ASSERT_TRUE(db->Exec("CREATE TABLE t(i INTEGER); INSERT INTO t VALUES (1)").ok());
  const std::string count_to_a_million =
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) "
      "SELECT COUNT(*) FROM c";
  auto txn = Transaction::Begin(*db, Transaction::Mode::kDeferred);
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM t"), 1);  // the read transaction has begun
  db->SetStepBudget(10000);
  auto st = db->Prepare(count_to_a_million);
  ASSERT_TRUE(st.ok());
  auto row = st->Step();
  EXPECT_FALSE(row.ok());
  EXPECT_TRUE(db->StepBudgetExhausted());
  db->SetStepBudget(0);
  EXPECT_FALSE(db->StepBudgetExhausted());
  EXPECT_TRUE(db->InTransaction());
  // Without a budget the same statement completes; a generous budget does not interrupt it.
  EXPECT_EQ(QueryInt(*db, count_to_a_million), 1000000);
  db->SetStepBudget(int64_t{1} << 40);
  EXPECT_EQ(QueryInt(*db, count_to_a_million), 1000000);
  EXPECT_FALSE(db->StepBudgetExhausted());
  db->SetStepBudget(0);
  EXPECT_TRUE(txn->Commit().ok());
}

std::vector<Migration> TwoMigrations() {
  return {{1, "create a", "CREATE TABLE a(x INTEGER)"},
          {2, "create b", "CREATE TABLE b(y INTEGER); INSERT INTO b VALUES (7)"}};
}

TEST(MigrationsTest, AppliesInOrderOnceAndRecordsVersions) {
  TempDir dir;
  auto db = std::move(Database::Open(dir.File("m.db"))).value();
  EXPECT_EQ(*SchemaVersion(*db), 0);
  auto migrations = TwoMigrations();
  ASSERT_TRUE(ApplyMigrations(*db, {migrations[0]}).ok());
  EXPECT_EQ(*SchemaVersion(*db), 1);
  ASSERT_TRUE(ApplyMigrations(*db, migrations).ok());
  EXPECT_EQ(*SchemaVersion(*db), 2);
  ASSERT_TRUE(ApplyMigrations(*db, migrations).ok());  // idempotent
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM b"), 1);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM schema_version"), 2);
}

// One module's store alone applies its own migrations (1 and 3); opening the same file with
// every module's list later still applies the other module's older migration 2.
TEST(MigrationsTest, AppliesMissingOlderVersionsOfAnotherModule) {
  TempDir dir;
  auto db = std::move(Database::Open(dir.File("m.db"))).value();
  Migration c{3, "create c", "CREATE TABLE c(z INTEGER)"};
  auto migrations = TwoMigrations();
  ASSERT_TRUE(ApplyMigrations(*db, {migrations[0], c}).ok());
  EXPECT_EQ(*SchemaVersion(*db), 3);
  ASSERT_TRUE(ApplyMigrations(*db, {migrations[0], migrations[1], c}).ok());
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM b"), 1);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM schema_version"), 3);
}

// Two modules' lists interleave into one sorted sequence; a version used twice is refused and
// names both migrations.
TEST(MigrationsTest, MergesListsAndRefusesAVersionUsedTwice) {
  Migration c{3, "create c", "CREATE TABLE c(z INTEGER)"};
  auto merged = MergeMigrations({{c}, TwoMigrations()});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  ASSERT_EQ(merged->size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ((*merged)[i].version, i + 1);
  auto dup = MergeMigrations({TwoMigrations(), {{2, "other b", "SELECT 1"}}});
  EXPECT_EQ(dup.status().code(), Code::kInvalidArgument);
  EXPECT_NE(dup.status().message().find("'create b' and 'other b'"), std::string::npos)
      << dup.status().message();
}

TEST(MigrationsTest, NewerDatabaseIsAClearError) {
  TempDir dir;
  auto db = std::move(Database::Open(dir.File("m.db"))).value();
  ASSERT_TRUE(ApplyMigrations(*db, TwoMigrations()).ok());
  Status st = ApplyMigrations(*db, {TwoMigrations()[0]});
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
  EXPECT_NE(st.message().find("newer than this cairn binary"), std::string::npos) << st.message();
}

TEST(MigrationsTest, FailingMigrationIsRolledBackWhole) {
  TempDir dir;
  auto db = std::move(Database::Open(dir.File("m.db"))).value();
  std::vector<Migration> bad = {TwoMigrations()[0],
                                {2, "half", "CREATE TABLE c(z INTEGER); SELEC broken"}};
  EXPECT_FALSE(ApplyMigrations(*db, bad).ok());
  EXPECT_EQ(*SchemaVersion(*db), 1);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM sqlite_master WHERE name='c'"), 0);
}

TEST(MigrationsTest, RejectsUnorderedList) {
  TempDir dir;
  auto db = std::move(Database::Open(dir.File("m.db"))).value();
  auto m = TwoMigrations();
  std::swap(m[0], m[1]);
  EXPECT_EQ(ApplyMigrations(*db, m).code(), Code::kInvalidArgument);
}

TEST(ConnectionPoolTest, RejectsInMemoryDatabase) {
  EXPECT_EQ(ConnectionPool::Open(":memory:", {}).status().code(), Code::kInvalidArgument);
}

TEST(ConnectionPoolTest, ConcurrentWritesAllLandAndFailedWritesLeaveNothing) {
  TempDir dir;
  auto pool = ConnectionPool::Open(dir.File("p.db"),
                                   {{1, "t", "CREATE TABLE t(th INTEGER, i INTEGER, "
                                             "PRIMARY KEY(th, i))"}});
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  constexpr int kThreads = 8, kWrites = 100;
  std::atomic<int> failures{0}, expected_failures{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < kWrites; ++i) {
        const bool poison = (i % 10 == 3);
        if (poison) ++expected_failures;
        Status st = (*pool)->Write([&](Database& db) -> Status {
          ASSIGN_OR_RETURN(Statement* ins, db.Cached("INSERT INTO t VALUES (?1, ?2)"));
          ins->Bind(1, th).Bind(2, i);
          RETURN_IF_ERROR(ins->Run());
          if (poison) return InvalidArgument("poisoned after insert");
          return OkStatus();
        });
        if (!st.ok()) {
          ++failures;
          EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
        }
        // Reads interleave with writes and never see "database is locked".
        Status rs = (*pool)->Read([](Database& db) -> Status {
          ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT COUNT(*) FROM t"));
          return s.Run();
        });
        EXPECT_TRUE(rs.ok()) << rs.ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), expected_failures.load());
  int64_t count = -1;
  ASSERT_TRUE((*pool)->Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT COUNT(*) FROM t"));
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) count = s.Int64(0);
    return OkStatus();
  }).ok());
  EXPECT_EQ(count, kThreads * kWrites - expected_failures.load());
}

TEST(ConnectionPoolTest, KeepsPlannerStatisticsFresh) {
  TempDir dir;
  PoolOptions options;
  options.analyze_every_writes = 5;
  auto pool = ConnectionPool::Open(dir.File("a.db"),
                                   {{1, "t", "CREATE TABLE t(k TEXT); CREATE INDEX t_k ON t(k)"}},
                                   options);
  ASSERT_TRUE(pool.ok());
  auto stat_rows = [&] {
    int64_t n = -1;
    EXPECT_TRUE((*pool)->Read([&](Database& db) -> Status {
      ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT COUNT(*) FROM sqlite_stat1 WHERE "
                                               "idx = 't_k'"));
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (row) n = s.Int64(0);
      return OkStatus();
    }).ok());
    return n;
  };
  EXPECT_EQ(stat_rows(), 0);  // analysed at open while empty: no row for the empty index
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE((*pool)->Write([&](Database& db) {
      return db.Exec("INSERT INTO t VALUES ('k" + std::to_string(i) + "')");
    }).ok());
  }
  EXPECT_EQ(stat_rows(), 1);  // the fifth write refreshed the statistics
}

TEST(ConnectionPoolTest, ReopenKeepsDataAndRefusesNewerSchema) {
  TempDir dir;
  std::string path = dir.File("p.db");
  {
    auto pool = ConnectionPool::Open(path, TwoMigrations());
    ASSERT_TRUE(pool.ok());
    ASSERT_TRUE((*pool)->Write([](Database& db) { return db.Exec("INSERT INTO a VALUES (5)"); }).ok());
  }
  {
    auto pool = ConnectionPool::Open(path, TwoMigrations());
    ASSERT_TRUE(pool.ok());
    int64_t x = 0;
    ASSERT_TRUE((*pool)->Read([&](Database& db) -> Status {
      ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT x FROM a"));
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (row) x = s.Int64(0);
      return OkStatus();
    }).ok());
    EXPECT_EQ(x, 5);
  }
  auto older = ConnectionPool::Open(path, {TwoMigrations()[0]});
  EXPECT_EQ(older.status().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace cairn::store
