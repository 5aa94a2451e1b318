// Executes the compiled SQL against a real in-memory SQLite database holding the schema the
// team agreed on, loaded with data that MLflow's own store produced (goldens/*_fixture.sql),
// and checks which rows come back, in which order, page by page, against what MLflow's store
// returned for the same searches (goldens/*_exec.txt, made by make_goldens.py).
#include <sqlite3.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "golden_file.h"
#include "tracking/search/search.h"

namespace cairn::tracking::search {
namespace {

using testing::GoldenFile;

// The agreed schema (/tmp/tracking-schema.md and the registry tables of the search brief).
constexpr const char* kSchema = R"sql(
CREATE TABLE experiments(experiment_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  artifact_location TEXT, lifecycle_stage TEXT NOT NULL, creation_time INTEGER,
  last_update_time INTEGER);
CREATE TABLE experiment_tags(experiment_id INTEGER, key TEXT, value TEXT,
  PRIMARY KEY(experiment_id, key));
CREATE TABLE runs(run_uuid TEXT PRIMARY KEY, name TEXT, experiment_id INTEGER NOT NULL,
  user_id TEXT, status TEXT, start_time INTEGER, end_time INTEGER, lifecycle_stage TEXT NOT NULL,
  artifact_uri TEXT, deleted_time INTEGER);
CREATE TABLE metrics(run_uuid TEXT, key TEXT, value REAL, is_nan INTEGER, timestamp INTEGER,
  step INTEGER, model_id TEXT, dataset_name TEXT, dataset_digest TEXT);
CREATE TABLE latest_metrics(run_uuid TEXT, key TEXT, value REAL, is_nan INTEGER,
  timestamp INTEGER, step INTEGER, PRIMARY KEY(run_uuid, key));
CREATE TABLE params(run_uuid TEXT, key TEXT, value TEXT, PRIMARY KEY(run_uuid, key));
CREATE TABLE tags(run_uuid TEXT, key TEXT, value TEXT, PRIMARY KEY(run_uuid, key));
CREATE TABLE datasets(dataset_uuid TEXT PRIMARY KEY, experiment_id INTEGER, name TEXT,
  digest TEXT, source_type TEXT, source TEXT, schema TEXT, profile TEXT,
  UNIQUE(experiment_id, name, digest));
CREATE TABLE inputs(input_uuid TEXT PRIMARY KEY, source_type TEXT, source_id TEXT,
  destination_type TEXT, destination_id TEXT);
CREATE TABLE input_tags(input_uuid TEXT, name TEXT, value TEXT, PRIMARY KEY(input_uuid, name));
CREATE TABLE logged_models(model_id TEXT PRIMARY KEY, experiment_id INTEGER, name TEXT,
  artifact_location TEXT, creation_timestamp_ms INTEGER, last_updated_timestamp_ms INTEGER,
  status TEXT, lifecycle_stage TEXT, model_type TEXT, source_run_id TEXT, status_message TEXT);
CREATE TABLE logged_model_params(model_id TEXT, experiment_id INTEGER, param_key TEXT,
  param_value TEXT);
CREATE TABLE logged_model_tags(model_id TEXT, experiment_id INTEGER, tag_key TEXT,
  tag_value TEXT);
CREATE TABLE logged_model_metrics(model_id TEXT, metric_name TEXT, metric_timestamp_ms INTEGER,
  metric_step INTEGER, metric_value REAL, experiment_id INTEGER, run_id TEXT,
  dataset_uuid TEXT, dataset_name TEXT, dataset_digest TEXT);
CREATE TABLE registered_models(name TEXT PRIMARY KEY, creation_time INTEGER,
  last_updated_time INTEGER, description TEXT, user_id TEXT);
CREATE TABLE registered_model_tags(name TEXT, key TEXT, value TEXT, PRIMARY KEY(name, key));
CREATE TABLE model_versions(name TEXT, version INTEGER, creation_time INTEGER,
  last_updated_time INTEGER, description TEXT, user_id TEXT, current_stage TEXT, source TEXT,
  run_id TEXT, run_link TEXT, status TEXT, status_message TEXT, storage_location TEXT,
  model_id TEXT, PRIMARY KEY(name, version));
CREATE TABLE model_version_tags(name TEXT, version INTEGER, key TEXT, value TEXT,
  PRIMARY KEY(name, version, key));
CREATE TABLE registered_model_aliases(name TEXT, alias TEXT, version INTEGER,
  PRIMARY KEY(name, alias));
)sql";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A small RAII wrapper over an in-memory database.
class Db {
 public:
  explicit Db(bool case_sensitive_like) {
    sqlite3_open(":memory:", &db_);
    Exec(kSchema);
    // LIKE must be case-sensitive whatever this pragma says (the compiler emits GLOB).
    Exec(case_sensitive_like ? "PRAGMA case_sensitive_like = ON;"
                             : "PRAGMA case_sensitive_like = OFF;");
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void Exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    ASSERT_EQ(rc, SQLITE_OK) << (err ? err : "") << "\n" << sql.substr(0, 200);
  }

  // Runs `sql` with the binds; returns the rows, each column as text joined by '/'.
  std::vector<std::string> Query(const std::string& sql, const std::vector<BindValue>& binds) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
    EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errmsg(db_) << "\n" << sql;
    if (rc != SQLITE_OK) return {"<prepare failed>"};
    EXPECT_EQ(sqlite3_bind_parameter_count(stmt), static_cast<int>(binds.size())) << sql;
    for (size_t i = 0; i < binds.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      if (auto* v = std::get_if<int64_t>(&binds[i])) sqlite3_bind_int64(stmt, idx, *v);
      if (auto* v = std::get_if<double>(&binds[i])) sqlite3_bind_double(stmt, idx, *v);
      if (auto* v = std::get_if<std::string>(&binds[i])) {
        sqlite3_bind_text(stmt, idx, v->c_str(), static_cast<int>(v->size()), SQLITE_TRANSIENT);
      }
    }
    std::vector<std::string> rows;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        if (c) row += "/";
        const unsigned char* text = sqlite3_column_text(stmt, c);
        row += text ? reinterpret_cast<const char*>(text) : "NULL";
      }
      rows.push_back(row);
    }
    EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db_) << "\n" << sql;
    sqlite3_finalize(stmt);
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
};

struct ExecSpec {
  std::string filter;
  std::vector<std::string> order_by;
  int64_t max_results = 0;
  std::vector<LoggedModelOrderBy> model_order_by;      // order_by_json:
  std::vector<LoggedModelDatasetFilter> model_datasets;  // dataset:
};

std::optional<std::string> OptionalString(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<std::string>();
}

ExecSpec ParseSpec(const std::vector<std::string>& inputs,
                   const std::map<std::string, std::string>& ids) {
  ExecSpec spec;
  for (std::string line : inputs) {
    // {name} -> that run's id.
    for (const auto& [name, id] : ids) {
      std::string ph = "{" + name + "}";
      for (size_t p; (p = line.find(ph)) != std::string::npos;) line.replace(p, ph.size(), id);
    }
    size_t colon = line.find(": ");
    std::string key = line.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 2);
    if (key == "filter") spec.filter = value;
    else if (key == "order_by") spec.order_by.push_back(value);
    else if (key == "max_results") spec.max_results = std::stoll(value);
    else if (key == "order_by_json") {
      auto j = nlohmann::json::parse(value);
      spec.model_order_by.push_back({j["field_name"].get<std::string>(),
                                     j.value("ascending", true), OptionalString(j, "dataset_name"),
                                     OptionalString(j, "dataset_digest")});
    } else if (key == "dataset") {
      auto j = nlohmann::json::parse(value);
      spec.model_datasets.push_back(
          {j["dataset_name"].get<std::string>(), OptionalString(j, "dataset_digest")});
    }
    else ADD_FAILURE() << "unknown input " << line;
  }
  return spec;
}

// How each search assembles its statement and pages, as MLflow's stores do.
struct SearchShape {
  std::string select_from;          // "SELECT r.name FROM runs r"
  std::string store_filter;         // appended to WHERE with AND
  std::vector<BindValue> store_binds;
  int64_t default_max = 1000;
  bool fetch_one_more = true;       // runs: token when a full page came back
  bool print_tokens = true;         // logged models: MLflow's tokens are store-specific
};

using Compiler = std::function<StatusOr<SqlQuery>(const ExecSpec&)>;

Compiler Strings(StatusOr<SqlQuery> (*compile)(std::string_view, const std::vector<std::string>&,
                                                Dialect)) {
  return [compile](const ExecSpec& spec) {
    return compile(spec.filter, spec.order_by, Dialect::kSqlite);
  };
}

std::vector<std::string> RunPaged(Db& db, const SearchShape& shape, const ExecSpec& spec,
                                  const Compiler& compile) {
  std::vector<std::string> out;
  int64_t max_results = spec.max_results ? spec.max_results : shape.default_max;
  std::string token;
  for (int page = 0; page < 50; ++page) {
    auto q = compile(spec);
    if (!q.ok()) {
      EXPECT_EQ(q.status().code(), Code::kInvalidArgument);
      out.push_back("error: " + q.status().message());
      return out;
    }
    auto offset = DecodePageToken(token);
    if (!offset.ok()) {
      out.push_back("error: " + offset.status().message());
      return out;
    }
    std::string sql = shape.select_from + q->joins + " WHERE (" + q->where + ") AND " +
                      shape.store_filter + " ORDER BY " + q->order_by + " LIMIT ? OFFSET ?";
    std::vector<BindValue> binds = q->join_binds;
    binds.insert(binds.end(), q->where_binds.begin(), q->where_binds.end());
    binds.insert(binds.end(), shape.store_binds.begin(), shape.store_binds.end());
    int64_t limit = shape.fetch_one_more ? max_results + 1 : max_results;
    binds.push_back(limit);
    binds.push_back(*offset);
    std::vector<std::string> rows = db.Query(sql, binds);
    bool more = shape.fetch_one_more ? static_cast<int64_t>(rows.size()) == max_results + 1
                                     : static_cast<int64_t>(rows.size()) == max_results;
    if (static_cast<int64_t>(rows.size()) > max_results) rows.resize(max_results);
    std::string line = "page:";
    for (const auto& r : rows) line += " " + r;
    if (rows.empty()) line += " (none)";
    out.push_back(line);
    if (!more) break;
    token = EncodePageToken(*offset + max_results);
    if (shape.print_tokens) out.push_back("token: " + token);
  }
  return out;
}

void CheckCase(const testing::GoldenCase& c, const std::string& file) {
  if (testing::RewriteGoldens()) return;
  EXPECT_TRUE(testing::Matches(c.expected, c.actual))
      << file << ": " << c.header << "\n  input: " << testing::Join(c.inputs) << "  expected:\n"
      << testing::Join(c.expected) << "  actual:\n"
      << testing::Join(c.actual);
}

class SearchSqliteTest : public ::testing::TestWithParam<bool> {};

TEST_P(SearchSqliteTest, RunsAndExperimentsMatchMlflow) {
  Db db(GetParam());
  db.Exec(ReadFile(testing::GoldenDir() + "runs_fixture.sql"));
  std::map<std::string, std::string> ids;
  for (const std::string& row : db.Query("SELECT name, run_uuid FROM runs", {})) {
    ids[row.substr(0, row.find('/'))] = row.substr(row.find('/') + 1);
  }
  std::vector<std::string> exp = db.Query(
      "SELECT experiment_id FROM experiments WHERE name = ?", {std::string("search-exp")});
  ASSERT_EQ(exp.size(), 1u);

  SearchShape runs{"SELECT r.name FROM runs r",
                   "r.experiment_id = ? AND r.lifecycle_stage = ?",
                   {static_cast<int64_t>(std::stoll(exp[0])), std::string("active")},
                   1000,
                   /*fetch_one_more=*/false};
  SearchShape experiments{"SELECT e.name FROM experiments e", "e.lifecycle_stage = ?",
                          {std::string("active")}, 1000, true};
  std::vector<std::string> lm_exp = db.Query(
      "SELECT experiment_id FROM experiments WHERE name = ?", {std::string("models-exp")});
  ASSERT_EQ(lm_exp.size(), 1u);
  SearchShape logged_models{"SELECT lm.name FROM logged_models lm",
                            "lm.experiment_id = ? AND lm.lifecycle_stage != ?",
                            {static_cast<int64_t>(std::stoll(lm_exp[0])), std::string("deleted")},
                            50,
                            /*fetch_one_more=*/true,
                            /*print_tokens=*/false};

  GoldenFile file = GoldenFile::Read("runs_exec.txt");
  ASSERT_FALSE(file.cases.empty());
  for (auto& c : file.cases) {
    ExecSpec spec = ParseSpec(c.inputs, ids);
    if (c.header == "runs") {
      c.actual = RunPaged(db, runs, spec, Strings(&CompileRunSearch));
    } else if (c.header == "experiments") {
      c.actual = RunPaged(db, experiments, spec, Strings(&CompileExperimentSearch));
    } else if (c.header == "logged_models") {
      c.actual = RunPaged(db, logged_models, spec, [](const ExecSpec& s) {
        return CompileLoggedModelSearch(s.filter, s.model_order_by, s.model_datasets,
                                        Dialect::kSqlite);
      });
    } else {
      FAIL() << "unknown entity " << c.header;
    }
    CheckCase(c, "runs_exec.txt");
  }
  if (testing::RewriteGoldens() && GetParam()) file.Write();
}

// A search ordered first by a metric: MetricFirstOrder selects the runs with a real value of
// that metric, and they must be exactly the first rows of the full search, in the same order
// (the store answers pages from it alone while they lie among those runs).
TEST_P(SearchSqliteTest, MetricFirstOrderIsThePrefixOfTheFullOrder) {
  Db db(GetParam());
  db.Exec(ReadFile(testing::GoldenDir() + "runs_fixture.sql"));
  std::map<std::string, std::string> ids;
  for (const std::string& row : db.Query("SELECT name, run_uuid FROM runs", {})) {
    ids[row.substr(0, row.find('/'))] = row.substr(row.find('/') + 1);
  }
  GoldenFile file = GoldenFile::Read("runs_exec.txt");
  std::vector<std::vector<std::string>> orders = {
      {"metrics.acc DESC"}, {"metrics.acc ASC"}, {"metrics.loss"},
      {"metrics.loss DESC", "params.lr"}, {"metrics.acc", "tags.team DESC", "start_time"}};
  int checked = 0, non_empty_tails = 0;
  for (const auto& c : file.cases) {
    if (c.header != "runs") continue;
    ExecSpec spec = ParseSpec(c.inputs, ids);
    for (const auto& order : orders) {
      auto q = CompileRunSearch(spec.filter, order, Dialect::kSqlite);
      if (!q.ok()) continue;
      ASSERT_TRUE(q->metric_first.has_value());
      const std::string store_filter = ") AND r.lifecycle_stage = 'active' ORDER BY ";
      std::vector<BindValue> full_binds = q->join_binds;
      full_binds.insert(full_binds.end(), q->where_binds.begin(), q->where_binds.end());
      std::vector<std::string> full =
          db.Query("SELECT r.name FROM runs r" + q->joins + " WHERE (" + q->where +
                       store_filter + q->order_by, full_binds);
      const MetricFirstOrder& m = *q->metric_first;
      std::vector<BindValue> binds = m.from_binds;
      binds.insert(binds.end(), m.join_binds.begin(), m.join_binds.end());
      binds.insert(binds.end(), q->where_binds.begin(), q->where_binds.end());
      std::vector<std::string> first = db.Query(
          "SELECT r.name FROM " + m.from + m.joins + " WHERE (" + q->where + store_filter +
              m.order_by, binds);
      ASSERT_LE(first.size(), full.size());
      EXPECT_TRUE(std::equal(first.begin(), first.end(), full.begin()))
          << spec.filter << " / " << order[0] << "\n  first: " << testing::Join(first)
          << "  full: " << testing::Join(full);
      // rest_where selects exactly the remaining runs, in the full order.
      std::vector<std::string> rest =
          db.Query("SELECT r.name FROM runs r" + q->joins + " WHERE (" + q->where + ") AND (" +
                       m.rest_where + store_filter + q->order_by, full_binds);
      EXPECT_EQ(first.size() + rest.size(), full.size()) << spec.filter << " / " << order[0];
      EXPECT_TRUE(std::equal(rest.begin(), rest.end(), full.begin() + std::min(first.size(),
                                                                                full.size())))
          << spec.filter << " / " << order[0];
      if (full.size() > first.size()) ++non_empty_tails;  // NaN or missing runs after them
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
  EXPECT_GT(non_empty_tails, 10);
  // Orders that do not start with a metric have no MetricFirstOrder.
  EXPECT_FALSE(CompileRunSearch("", {"params.lr", "metrics.acc"}, Dialect::kSqlite)
                   ->metric_first.has_value());
  EXPECT_FALSE(CompileRunSearch("", {}, Dialect::kSqlite)->metric_first.has_value());
}

TEST_P(SearchSqliteTest, RegistryMatchesMlflow) {
  Db db(GetParam());
  db.Exec(ReadFile(testing::GoldenDir() + "registry_fixture.sql"));
  SearchShape models{"SELECT rm.name FROM registered_models rm", "1 = 1", {}, 100, true};
  SearchShape versions{"SELECT mv.name, mv.version FROM model_versions mv", "1 = 1", {}, 10000,
                       true};
  GoldenFile file = GoldenFile::Read("registry_exec.txt");
  ASSERT_FALSE(file.cases.empty());
  for (auto& c : file.cases) {
    ExecSpec spec = ParseSpec(c.inputs, {});
    if (c.header == "registered_models") {
      c.actual = RunPaged(db, models, spec, Strings(&CompileRegisteredModelSearch));
    } else if (c.header == "model_versions") {
      c.actual = RunPaged(db, versions, spec, Strings(&CompileModelVersionSearch));
    } else {
      FAIL() << "unknown entity " << c.header;
    }
    CheckCase(c, "registry_exec.txt");
  }
  if (testing::RewriteGoldens() && GetParam()) file.Write();
}

// Every golden filter that compiles yields SQL SQLite accepts, with one bind per `?`.
TEST(SearchSqlShapeTest, EveryCompiledGoldenFilterPrepares) {
  Db db(false);
  GoldenFile file = GoldenFile::Read("filters.txt");
  int prepared = 0;
  for (const auto& c : file.cases) {
    std::string entity = c.header.substr(c.header.find(' ') + 1);
    const std::string& filter = c.inputs[0];
    StatusOr<SqlQuery> q = InvalidArgument("");
    std::string from;
    if (entity == "runs") {
      q = CompileRunSearch(filter, {"metrics.m DESC", "params.p", "tags.t"}, Dialect::kSqlite);
      from = "SELECT r.run_uuid FROM runs r";
    } else if (entity == "experiments") {
      q = CompileExperimentSearch(filter, {}, Dialect::kSqlite);
      from = "SELECT e.name FROM experiments e";
    } else if (entity == "registered_models") {
      q = CompileRegisteredModelSearch(filter, {}, Dialect::kSqlite);
      from = "SELECT rm.name FROM registered_models rm";
    } else if (entity == "model_versions") {
      q = CompileModelVersionSearch(filter, {}, Dialect::kSqlite);
      from = "SELECT mv.name FROM model_versions mv";
    } else {
      q = CompileLoggedModelSearch(filter, {{"metrics.m", false, "ds", "dg"}}, {{"ds", "d"}},
                                   Dialect::kSqlite);
      from = "SELECT lm.name FROM logged_models lm";
    }
    if (!q.ok()) continue;
    std::vector<BindValue> binds = q->join_binds;
    binds.insert(binds.end(), q->where_binds.begin(), q->where_binds.end());
    db.Query(from + q->joins + " WHERE (" + q->where + ") ORDER BY " + q->order_by, binds);
    ++prepared;
  }
  EXPECT_GT(prepared, 100);
}

INSTANTIATE_TEST_SUITE_P(CaseSensitiveLikePragma, SearchSqliteTest, ::testing::Bool());

}  // namespace
}  // namespace cairn::tracking::search
