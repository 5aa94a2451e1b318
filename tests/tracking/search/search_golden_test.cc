// Grammar goldens (filters.txt, order_by.txt, page_tokens.txt), produced by MLflow 3.6.0
// through goldens/make_goldens.py. Run the binary with --rewrite to overwrite the expected
// outputs with cairn's (then diff against git and regenerate with MLflow to check).
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "golden_file.h"
#include "tracking/search/internal.h"
#include "tracking/search/search.h"

namespace cairn::tracking::search {
namespace {

using testing::GoldenFile;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

std::vector<std::string> ErrorLines(const Status& s) {
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  return {"error: " + s.message()};
}

bool EntityFromName(const std::string& name, Entity* entity) {
  if (name == "runs") *entity = Entity::kRuns;
  else if (name == "experiments") *entity = Entity::kExperiments;
  else if (name == "registered_models") *entity = Entity::kRegisteredModels;
  else if (name == "model_versions") *entity = Entity::kModelVersions;
  else if (name == "logged_models") *entity = Entity::kLoggedModels;
  else return false;
  return true;
}

StatusOr<SqlQuery> Compile(Entity entity, const std::string& filter,
                           const std::vector<std::string>& order_by) {
  switch (entity) {
    case Entity::kRuns: return CompileRunSearch(filter, order_by, Dialect::kSqlite);
    case Entity::kExperiments: return CompileExperimentSearch(filter, order_by, Dialect::kSqlite);
    case Entity::kRegisteredModels:
      return CompileRegisteredModelSearch(filter, order_by, Dialect::kSqlite);
    case Entity::kModelVersions:
      return CompileModelVersionSearch(filter, order_by, Dialect::kSqlite);
    case Entity::kLoggedModels: return CompileLoggedModelSearch(filter, {}, {}, Dialect::kSqlite);
  }
  return InvalidArgument("entity");
}

std::vector<std::string> RunFilterCase(Entity entity, const std::string& filter) {
  auto parsed = ParseFilter(entity, filter);
  if (!parsed.ok()) return ErrorLines(parsed.status());
  auto compiled = Compile(entity, filter, {});
  if (!compiled.ok()) return ErrorLines(compiled.status());
  return Lines(FormatClauses(*parsed));
}

std::vector<std::string> RunOrderByCase(Entity entity, const std::vector<std::string>& entries) {
  auto compiled = Compile(entity, "", entries);
  if (!compiled.ok()) return ErrorLines(compiled.status());
  std::vector<std::string> out = {"ok"};
  for (const std::string& e : entries) {
    StatusOr<internal::OrderTerm> term = InvalidArgument("entity");
    switch (entity) {
      case Entity::kRuns: term = internal::ParseRunOrderBy(e); break;
      case Entity::kExperiments: term = internal::ParseExperimentOrderBy(e); break;
      case Entity::kRegisteredModels: term = internal::ParseRegisteredModelOrderBy(e); break;
      case Entity::kModelVersions: term = internal::ParseModelVersionOrderBy(e); break;
      case Entity::kLoggedModels: break;
    }
    if (!term.ok()) return ErrorLines(term.status());
    out.push_back(std::string(KeyTypeName(term->type)) + " \"" + term->key + "\" " +
                  (term->ascending ? "ASC" : "DESC"));
  }
  return out;
}

std::vector<std::string> RunPageTokenCase(const std::string& token) {
  auto offset = DecodePageToken(token);
  if (!offset.ok()) return ErrorLines(offset.status());
  return {"offset " + std::to_string(*offset)};
}

std::vector<std::string> RunLoggedModelTokenCase(const std::vector<std::string>& inputs) {
  auto req = nlohmann::json::parse(inputs.at(0));
  std::vector<std::string> experiment_ids = req["experiment_ids"];
  std::string filter = req.value("filter", "");
  std::vector<LoggedModelOrderBy> order_by;
  for (const auto& o : req.value("order_by", nlohmann::json::array())) {
    LoggedModelOrderBy ob;
    ob.field_name = o["field_name"];
    ob.ascending = o.value("ascending", true);
    if (o.contains("dataset_name")) ob.dataset_name = o["dataset_name"].get<std::string>();
    if (o.contains("dataset_digest")) ob.dataset_digest = o["dataset_digest"].get<std::string>();
    order_by.push_back(ob);
  }
  const std::string& op = inputs.at(1);
  std::string arg = op.substr(op.find(' ') + 1);
  if (op.rfind("encode ", 0) == 0) {
    return {"token " + EncodeLoggedModelPageToken(experiment_ids, filter, order_by,
                                                  std::stoll(arg))};
  }
  auto offset = DecodeLoggedModelPageToken(arg, experiment_ids, filter, order_by);
  if (!offset.ok()) return ErrorLines(offset.status());
  return {"offset " + std::to_string(*offset)};
}

void RunGoldenFile(const std::string& name) {
  GoldenFile file = GoldenFile::Read(name);
  ASSERT_FALSE(file.cases.empty()) << "no cases in " << file.path;
  for (auto& c : file.cases) {
    std::string kind = c.header.substr(0, c.header.find(' '));
    std::string entity_name =
        c.header.find(' ') == std::string::npos ? "" : c.header.substr(c.header.find(' ') + 1);
    Entity entity = Entity::kRuns;
    if (kind == "filter") {
      ASSERT_TRUE(EntityFromName(entity_name, &entity)) << c.header;
      c.actual = RunFilterCase(entity, c.inputs.empty() ? "" : c.inputs[0]);
    } else if (kind == "order_by") {
      ASSERT_TRUE(EntityFromName(entity_name, &entity)) << c.header;
      c.actual = RunOrderByCase(entity, c.inputs);
    } else if (kind == "page_token") {
      c.actual = RunPageTokenCase(c.inputs.empty() ? "" : c.inputs[0]);
    } else if (kind == "logged_model_page_token") {
      c.actual = RunLoggedModelTokenCase(c.inputs);
    } else {
      FAIL() << "unknown case kind: " << c.header;
    }
    if (!testing::RewriteGoldens()) {
      EXPECT_TRUE(testing::Matches(c.expected, c.actual))
          << name << ": " << c.header << "\n  input: " << testing::Join(c.inputs)
          << "  expected:\n" << testing::Join(c.expected) << "  actual:\n"
          << testing::Join(c.actual);
    }
  }
  if (testing::RewriteGoldens()) file.Write();
}

TEST(SearchGoldenTest, Filters) { RunGoldenFile("filters.txt"); }
TEST(SearchGoldenTest, OrderBy) { RunGoldenFile("order_by.txt"); }
TEST(SearchGoldenTest, PageTokens) { RunGoldenFile("page_tokens.txt"); }

}  // namespace
}  // namespace cairn::tracking::search

// A main of our own (it replaces gtest_main's) to accept --rewrite.
int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rewrite") == 0) {
      cairn::tracking::search::testing::RewriteGoldens() = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  ::testing::InitGoogleTest(&n, args.data());
  return RUN_ALL_TESTS();
}
