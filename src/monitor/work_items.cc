#include "monitor/work_items.h"

#include <algorithm>
#include <thread>

namespace cairn::monitor {

void RunParallel(const ParallelFor& parallel, size_t count,
                 const std::function<void(size_t)>& item) {
  if (parallel) {
    parallel(count, item);
    return;
  }
  for (size_t i = 0; i < count; ++i) item(i);
}

WorkItems::WorkItems(int threads) : threads_(std::max(1, threads)) {}

void WorkItems::Add(std::function<void()> item) { items_.push_back(std::move(item)); }

ParallelFor WorkItems::Parallel() {
  return [this](size_t count, const std::function<void(size_t)>& item) {
    ParallelForEach(count, item);
  };
}

bool WorkItems::HelpOneBatchItem() {
  Batch* batch = nullptr;
  size_t index = 0;
  size_t count = 0;  // read while the batch surely exists: see below
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Batch* b : batches_) {
      index = b->next.fetch_add(1);
      if (index < b->count) {
        batch = b;
        count = b->count;
        break;
      }
    }
  }
  if (batch == nullptr) return false;
  (*batch->item)(index);
  // The increment is this thread's last touch of the batch: once `done` reaches its count the
  // owner (ParallelForEach) may return and destroy it.
  if (batch->done.fetch_add(1) + 1 == count) {
    std::lock_guard<std::mutex> lock(mu_);
    cv_.notify_all();
  }
  return true;
}

void WorkItems::Worker() {
  while (true) {
    if (HelpOneBatchItem()) continue;
    const size_t i = next_item_.fetch_add(1);
    if (i < items_.size()) {
      items_[i]();
      std::lock_guard<std::mutex> lock(mu_);
      if (--items_left_ == 0) cv_.notify_all();
      continue;
    }
    // No item left to start: help the items still running until they have all finished.
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] {
      if (items_left_ == 0) return true;
      for (Batch* b : batches_)
        if (b->next.load() < b->count) return true;
      return false;
    });
    if (items_left_ == 0) return;
  }
}

void WorkItems::Run() {
  const int threads = std::min<int>(threads_, static_cast<int>(items_.size()));
  if (threads <= 1) {
    for (auto& item : items_) item();
    items_.clear();
    return;
  }
  items_left_ = items_.size();
  next_item_ = 0;
  running_ = true;
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back([this] { Worker(); });
  Worker();
  for (auto& t : pool) t.join();
  running_ = false;
  items_.clear();
}

void WorkItems::ParallelForEach(size_t count, const std::function<void(size_t)>& item) {
  if (!running_ || count <= 1) {
    for (size_t i = 0; i < count; ++i) item(i);
    return;
  }
  Batch batch;
  batch.item = &item;
  batch.count = count;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batches_.push_back(&batch);
  }
  cv_.notify_all();
  for (size_t i = batch.next.fetch_add(1); i < count; i = batch.next.fetch_add(1)) {
    item(i);
    batch.done.fetch_add(1);
  }
  std::unique_lock<std::mutex> lock(mu_);
  batches_.erase(std::find(batches_.begin(), batches_.end(), &batch));
  cv_.wait(lock, [&] { return batch.done.load() == count; });
}

}  // namespace cairn::monitor
