// WorkItems: every item and every sub-item runs exactly once, on no more threads than asked,
// whether sub-items are taken by the other thread or not.
#include "monitor/work_items.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace cairn::monitor {
namespace {

TEST(WorkItemsTest, EveryItemAndSubItemRunsOnce) {
  for (int threads : {1, 2, 3}) {
    WorkItems items(threads);
    std::vector<std::atomic<int>> ran(20);
    std::vector<std::vector<std::atomic<int>>> sub(20);
    for (auto& s : sub) s = std::vector<std::atomic<int>>(37);
    std::mutex mu;
    std::set<std::thread::id> ids;
    for (size_t i = 0; i < ran.size(); ++i) {
      items.Add([&, i] {
        {
          std::lock_guard<std::mutex> lock(mu);
          ids.insert(std::this_thread::get_id());
        }
        ++ran[i];
        // Every other item splits its work; the sub-items write their own slots.
        if (i % 2 == 0) {
          items.ParallelForEach(sub[i].size(), [&, i](size_t k) {
            {
              std::lock_guard<std::mutex> lock(mu);
              ids.insert(std::this_thread::get_id());
            }
            ++sub[i][k];
          });
        }
      });
    }
    items.Run();
    for (size_t i = 0; i < ran.size(); ++i) {
      EXPECT_EQ(ran[i].load(), 1) << threads << " threads, item " << i;
      for (size_t k = 0; k < sub[i].size(); ++k)
        EXPECT_EQ(sub[i][k].load(), i % 2 == 0 ? 1 : 0) << threads << " threads, " << i << "/" << k;
    }
    EXPECT_LE(ids.size(), static_cast<size_t>(threads));
  }
}

TEST(WorkItemsTest, SubItemsOfALongItemAreSharedWithTheIdleThread) {
  // One item splits into sub-items; the other thread has nothing else to do, so it takes
  // sub-items while the first thread is busy with sub-item 0, which waits (at most 10 s, a
  // guard against a hang, not a timing check) until another thread has run one.
  WorkItems items(2);
  std::atomic<int> seen{0};
  std::atomic<bool> helped{false};
  std::thread::id owner;
  items.Add([&] {
    owner = std::this_thread::get_id();
    items.ParallelForEach(64, [&](size_t k) {
      if (std::this_thread::get_id() != owner) helped = true;
      if (k == 0) {
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!helped && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
      }
      ++seen;
    });
  });
  items.Add([] {});
  items.Run();
  EXPECT_EQ(seen.load(), 64);
  EXPECT_TRUE(helped.load()) << "the idle thread should take sub-items";
}

TEST(WorkItemsTest, ParallelForOutsideRunIsInOrder) {
  WorkItems items(2);
  std::vector<size_t> order;
  items.ParallelForEach(5, [&](size_t k) { order.push_back(k); });
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3, 4}));
  std::vector<size_t> plain;
  RunParallel({}, 3, [&](size_t k) { plain.push_back(k); });
  EXPECT_EQ(plain, (std::vector<size_t>{0, 1, 2}));
}

}  // namespace
}  // namespace cairn::monitor
