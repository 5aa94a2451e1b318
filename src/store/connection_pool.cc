#include "store/connection_pool.h"

#include <algorithm>

namespace cairn::store {

namespace {
// A sampled ANALYZE: the planner needs the shape of the data (how selective a key or a value
// is), not exact counts, and a full ANALYZE of a large database would stall writes.
constexpr char kAnalyzeSql[] = "PRAGMA analysis_limit=400; ANALYZE;";
}  // namespace

StatusOr<std::unique_ptr<ConnectionPool>> ConnectionPool::Open(
    const std::string& path, const std::vector<Migration>& migrations,
    const PoolOptions& options) {
  if (path.empty() || path == ":memory:" || path.rfind("file::memory:", 0) == 0) {
    return InvalidArgument("ConnectionPool needs a database file path, got '" + path + "'");
  }
  std::unique_ptr<ConnectionPool> pool(new ConnectionPool());
  pool->path_ = path;
  pool->options_ = options;
  OpenOptions open;
  open.busy_timeout_ms = options.busy_timeout_ms;
  ASSIGN_OR_RETURN(pool->writer_, Database::Open(path, open));
  RETURN_IF_ERROR(ApplyMigrations(*pool->writer_, migrations));
  if (options.analyze_every_writes > 0) {
    ASSIGN_OR_RETURN(Statement has_stats,
                     pool->writer_->Prepare("SELECT 1 FROM sqlite_master WHERE name = "
                                            "'sqlite_stat1'"));
    ASSIGN_OR_RETURN(bool stats, has_stats.Step());
    if (!stats) RETURN_IF_ERROR(pool->writer_->Exec(kAnalyzeSql));
  }
  open.create = false;
  open.cache_kib = 16384;
  for (int i = 0; i < std::max(1, options.num_readers); ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<Database> reader, Database::Open(path, open));
    RETURN_IF_ERROR(reader->Exec("PRAGMA query_only=1"));
    pool->idle_readers_.push_back(std::move(reader));
  }
  pool->total_readers_ = static_cast<int>(pool->idle_readers_.size());
  return pool;
}

ConnectionPool::~ConnectionPool() {
  // Callers must have finished all Read/Write calls; closing the writer last checkpoints.
  idle_readers_.clear();
  writer_.reset();
}

Status ConnectionPool::Write(WriteFn fn) {
  PendingWrite me;
  me.fn = std::move(fn);
  std::unique_lock<std::mutex> lock(queue_mu_);
  queue_.push_back(&me);
  while (!me.done) {
    if (leader_active_) {
      queue_cv_.wait(lock);
      continue;
    }
    // Become the leader: take a group (ours is in it or was already done by a previous
    // leader) and run it without holding the queue lock.
    leader_active_ = true;
    std::vector<PendingWrite*> group;
    while (!queue_.empty() && static_cast<int>(group.size()) < options_.max_group_size) {
      group.push_back(queue_.front());
      queue_.pop_front();
    }
    lock.unlock();
    RunGroup(group);
    lock.lock();
    for (PendingWrite* w : group) w->done = true;
    leader_active_ = false;
    queue_cv_.notify_all();
  }
  return me.result;
}

void ConnectionPool::RunGroup(std::vector<PendingWrite*>& group) {
  Database& db = *writer_;
  auto begin = Transaction::Begin(db, Transaction::Mode::kImmediate);
  if (!begin.ok()) {
    for (PendingWrite* w : group) w->result = begin.status();
    return;
  }
  Transaction txn = std::move(begin).value();
  std::vector<PendingWrite*> applied;
  for (PendingWrite* w : group) {
    Status sp = db.Exec("SAVEPOINT w");
    if (!sp.ok()) {
      w->result = sp;
      continue;
    }
    Status st;
    try {
      st = w->fn(db);
    } catch (const std::exception& e) {
      st = Internal(std::string("write failed: ") + e.what());
    } catch (...) {
      st = Internal("write failed with an unknown exception");
    }
    if (!db.InTransaction()) {
      // SQLite rolled the whole transaction back (e.g. disk full): every write so far in this
      // group is lost; report it to all of them and stop.
      Status lost = st.ok() ? Internal("transaction aborted by the database") : st;
      for (PendingWrite* a : applied) a->result = lost;
      w->result = lost;
      for (PendingWrite* rest : group) {
        if (rest->result.ok() && rest != w &&
            std::find(applied.begin(), applied.end(), rest) == applied.end()) {
          rest->result = Unavailable("transaction aborted by the database; retry");
        }
      }
      txn.Rollback();
      return;
    }
    if (st.ok()) {
      st = db.Exec("RELEASE w");
      applied.push_back(w);
    } else {
      (void)db.Exec("ROLLBACK TO w");
      (void)db.Exec("RELEASE w");
    }
    w->result = st;
  }
  writes_since_analyze_ += static_cast<int64_t>(applied.size());
  if (options_.analyze_every_writes > 0 &&
      writes_since_analyze_ >= options_.analyze_every_writes) {
    writes_since_analyze_ = 0;
    // Best effort: statistics are an optimisation; a failure must not fail the writes.
    (void)db.Exec("SAVEPOINT analyze");
    if (!db.Exec(kAnalyzeSql).ok()) (void)db.Exec("ROLLBACK TO analyze");
    (void)db.Exec("RELEASE analyze");
  }
  Status commit = txn.Commit();
  if (!commit.ok()) {
    for (PendingWrite* a : applied) a->result = commit;
  }
}

Status ConnectionPool::Read(const ReadFn& fn) {
  std::unique_ptr<Database> db;
  {
    std::unique_lock<std::mutex> lock(readers_mu_);
    readers_cv_.wait(lock, [&] { return !idle_readers_.empty(); });
    db = std::move(idle_readers_.back());
    idle_readers_.pop_back();
  }
  Status st;
  {
    auto txn = Transaction::Begin(*db, Transaction::Mode::kDeferred);
    if (!txn.ok()) {
      st = txn.status();
    } else {
      try {
        st = fn(*db);
      } catch (const std::exception& e) {
        st = Internal(std::string("read failed: ") + e.what());
      } catch (...) {
        st = Internal("read failed with an unknown exception");
      }
      Status end = txn->Commit();
      if (st.ok() && !end.ok()) st = end;
    }
  }
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    idle_readers_.push_back(std::move(db));
  }
  readers_cv_.notify_one();
  return st;
}

}  // namespace cairn::store
