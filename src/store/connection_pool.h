// ConnectionPool: how every cairn component talks to one SQLite database file.
//
// One writer connection and a small pool of reader connections. Writes never contend with
// each other inside the process (they are queued, not retried), and WAL lets readers run
// while a write is in progress, so SQLITE_BUSY ("database is locked") is not produced by
// this process's own traffic. Another process on the same file is waited for with the busy
// timeout; if that elapses the error is kUnavailable (a retryable 503), never a crash.
//
// Group commit: concurrent Write() calls are collected by whichever caller becomes the
// leader and run back to back inside ONE transaction, each inside its own SAVEPOINT. A write
// whose function fails is rolled back to its savepoint (nothing of it stays) without
// disturbing the others; a successful write is durable (to the WAL, synchronous=NORMAL) when
// Write() returns OK. One commit per group instead of one per request is what makes
// high-rate log-batch ingest cheap.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/migrations.h"
#include "store/sqlite.h"

namespace cairn::store {

struct PoolOptions {
  int num_readers = 4;
  int busy_timeout_ms = 10000;
  // The most writes committed together in one group.
  int max_group_size = 64;
  // Refresh the query planner's statistics (a sampled ANALYZE, tens of milliseconds on large
  // databases) after this many writes, and at open when the database has none. 0 = never.
  int analyze_every_writes = 20000;
};

class ConnectionPool {
 public:
  // Opens `path` (created when missing; must be a file path, not ":memory:"), applies
  // `migrations` on the writer, then opens the readers.
  // Errors: those of Database::Open and ApplyMigrations (e.g. kFailedPrecondition for a
  // database newer than this binary).
  static StatusOr<std::unique_ptr<ConnectionPool>> Open(const std::string& path,
                                                        const std::vector<Migration>& migrations,
                                                        const PoolOptions& options = {});
  ~ConnectionPool();

  using WriteFn = std::function<Status(Database&)>;
  using ReadFn = std::function<Status(Database&)>;

  // Runs `fn` on the writer connection inside a transaction (shared with concurrent writes,
  // see above). Returns fn's status if it failed (its effects rolled back), otherwise the
  // commit's status. `fn` must not start or end transactions itself and must not call back
  // into this pool. Results that fn computes must be used only when Write() returns OK.
  Status Write(WriteFn fn);

  // Runs `fn` on a reader connection inside one read transaction (a consistent snapshot that
  // includes every Write() that returned before Read() was called). Blocks while all readers
  // are busy.
  Status Read(const ReadFn& fn);

  const std::string& path() const { return path_; }

 private:
  struct PendingWrite {
    WriteFn fn;
    Status result;
    bool done = false;
  };

  ConnectionPool() = default;
  // Runs a group of writes in one transaction on writer_ and fills in their results.
  void RunGroup(std::vector<PendingWrite*>& group);

  std::string path_;
  PoolOptions options_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<PendingWrite*> queue_;  // GUARDED_BY(queue_mu_)
  bool leader_active_ = false;       // GUARDED_BY(queue_mu_)
  // Used only by the current leader (leader_active_ hands it over).
  std::unique_ptr<Database> writer_;
  int64_t writes_since_analyze_ = 0;  // leader-owned, like writer_

  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<Database>> idle_readers_;  // GUARDED_BY(readers_mu_)
  int total_readers_ = 0;
};

}  // namespace cairn::store
