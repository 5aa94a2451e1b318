// The monitor's work items: independent pieces of one run (performance estimation, realized
// performance, PCA, data quality, one per column, ...) spread over a fixed number of threads
// (the config's `threads`) and taken in the order they were added by whichever thread is free.
// An item may split part of its own work into parallel sub-items (ParallelFor); the same
// threads take those before any further item, so a long item (CBPE's calibration folds) is
// shortened instead of waiting behind the others. No threads beyond `threads` exist at any time.
//
// Thread-safety: Add before Run, from one thread. ParallelFor may be called from inside an item
// (any thread) or outside Run (then it runs in order on the caller's thread).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

namespace cairn::monitor {

// Runs item(0) … item(count − 1), in any order and possibly at once, and returns when all have
// run. An empty ParallelFor means: in order, on the calling thread.
using ParallelFor =
    std::function<void(size_t count, const std::function<void(size_t)>& item)>;

// Calls `parallel` if set, else runs the items in order.
void RunParallel(const ParallelFor& parallel, size_t count,
                 const std::function<void(size_t)>& item);

class WorkItems {
 public:
  explicit WorkItems(int threads);
  WorkItems(const WorkItems&) = delete;
  WorkItems& operator=(const WorkItems&) = delete;

  void Add(std::function<void()> item);
  // Runs every added item on up to `threads` threads (the caller's included; never more
  // threads than items) and returns when all items and their sub-items have run.
  void Run();
  // See ParallelFor. The calling thread runs indices too; idle threads of this Run help.
  void ParallelForEach(size_t count, const std::function<void(size_t)>& item);
  // ParallelForEach bound to this object (valid while it lives).
  ParallelFor Parallel();

 private:
  struct Batch {
    const std::function<void(size_t)>* item = nullptr;
    size_t count = 0;
    std::atomic<size_t> next{0};
    std::atomic<size_t> done{0};
  };
  bool HelpOneBatchItem();
  void Worker();

  int threads_;
  bool running_ = false;  // inside Run with more than one thread
  std::vector<std::function<void()>> items_;
  std::atomic<size_t> next_item_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Batch*> batches_;  // open batches (guarded by mu_)
  size_t items_left_ = 0;        // items not yet finished (guarded by mu_)
};

}  // namespace cairn::monitor
