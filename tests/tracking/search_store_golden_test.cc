// SqliteTrackingStore::SearchRuns replayed over MLflow 3.6's own search results
// (search/goldens/runs_exec.txt over runs_fixture.sql, both made by make_goldens.py from
// MLflow's SQLAlchemy store): the pages, their order and the page tokens must be MLflow's
// whichever way the store answers a metric-ordered search — from the metric's index with a
// LIMIT (no budget), through the planner's full query (the ordered attempt switched off), or
// by falling back after the ordered attempt ran out of its budget.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "search/golden_file.h"
#include "store/sqlite.h"
#include "tracking/search_adapter.h"
#include "tracking/sqlite_tracking_store.h"

namespace cairn::tracking {
namespace {

namespace fs = std::filesystem;
using search::testing::GoldenFile;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Spec {
  std::string filter;
  std::vector<std::string> order_by;
  int max_results = 1000;
};

Spec ParseSpec(const std::vector<std::string>& inputs,
               const std::map<std::string, std::string>& ids) {
  Spec spec;
  for (std::string line : inputs) {
    for (const auto& [name, id] : ids) {
      const std::string ph = "{" + name + "}";
      for (size_t p; (p = line.find(ph)) != std::string::npos;) line.replace(p, ph.size(), id);
    }
    const size_t colon = line.find(": ");
    const std::string key = line.substr(0, colon);
    const std::string value = colon == std::string::npos ? "" : line.substr(colon + 2);
    if (key == "filter") {
      spec.filter = value;
    } else if (key == "order_by") {
      spec.order_by.push_back(value);
    } else if (key == "max_results") {
      spec.max_results = std::stoi(value);
    } else {
      ADD_FAILURE() << "unknown input " << line;
    }
  }
  return spec;
}

class SearchStoreGoldenTest : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override {
    if (!search_adapter::HaveSearchGrammar()) GTEST_SKIP() << "no search grammar in this build";
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() / ("cairn-search-store-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const std::string path = (dir_ / "mlflow.db").string();
    SqliteTrackingStoreOptions options;
    options.metric_order_scan_budget = GetParam();
    auto s = SqliteTrackingStore::Open(path, options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    // MLflow's rows, written into the store's own schema (the fixture brings its own
    // default experiment).
    auto db = store::Database::Open(path);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->Exec("DELETE FROM experiments").ok());
    const std::string fixture =
        ReadFile(search::testing::GoldenDir() + "runs_fixture.sql");
    ASSERT_FALSE(fixture.empty());
    Status loaded = (*db)->Exec(fixture);
    ASSERT_TRUE(loaded.ok()) << loaded.ToString();
    auto names = (*db)->Prepare("SELECT name, run_uuid FROM runs");
    ASSERT_TRUE(names.ok());
    while (*names->Step()) ids_[names->Text(0)] = names->Text(1);
    auto exp = (*db)->Prepare("SELECT experiment_id FROM experiments WHERE name = 'search-exp'");
    ASSERT_TRUE(exp.ok());
    ASSERT_TRUE(*exp->Step());
    experiment_id_ = std::to_string(exp->Int64(0));
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // Pages through the store as the golden generator paged through MLflow's store.
  std::vector<std::string> RunPaged(const Spec& spec) {
    std::vector<std::string> out;
    SearchRunsRequest req;
    req.experiment_ids = {experiment_id_};
    req.filter = spec.filter;
    req.order_by = spec.order_by;
    req.max_results = spec.max_results;
    for (int page = 0; page < 50; ++page) {
      auto res = store_->SearchRuns(req);
      if (!res.ok()) {
        EXPECT_EQ(res.status().code(), Code::kInvalidArgument);
        out.push_back("error: " + res.status().message());
        return out;
      }
      std::string line = "page:";
      for (const auto& r : res->runs) line += " " + r.info.run_name;
      if (res->runs.empty()) line += " (none)";
      out.push_back(line);
      if (res->next_page_token.empty()) break;
      out.push_back("token: " + res->next_page_token);
      req.page_token = res->next_page_token;
    }
    return out;
  }

  fs::path dir_;
  std::unique_ptr<SqliteTrackingStore> store_;
  std::map<std::string, std::string> ids_;
  std::string experiment_id_;
};

TEST_P(SearchStoreGoldenTest, RunSearchesMatchMlflowPageByPage) {
  GoldenFile file = GoldenFile::Read("runs_exec.txt");
  int checked = 0, metric_first = 0;
  for (auto& c : file.cases) {
    if (c.header != "runs") continue;
    const Spec spec = ParseSpec(c.inputs, ids_);
    if (!spec.order_by.empty() && spec.order_by[0].rfind("metrics.", 0) == 0) ++metric_first;
    const std::vector<std::string> actual = RunPaged(spec);
    EXPECT_TRUE(search::testing::Matches(c.expected, actual))
        << "input:\n" << search::testing::Join(c.inputs) << "expected:\n"
        << search::testing::Join(c.expected) << "actual:\n" << search::testing::Join(actual);
    ++checked;
  }
  EXPECT_GT(checked, 50);
  EXPECT_GE(metric_first, 5);  // the cases that take the index-ordered path
}

// -1: the ordered attempt has no bound; 0: never tried; 2000: tried and cut short (a couple
// of blocks of SQLite instructions) on the bigger cases, which then fall back.
INSTANTIATE_TEST_SUITE_P(OrderedScanBudgets, SearchStoreGoldenTest,
                         ::testing::Values(int64_t{-1}, int64_t{0}, int64_t{2000}));

}  // namespace
}  // namespace cairn::tracking
