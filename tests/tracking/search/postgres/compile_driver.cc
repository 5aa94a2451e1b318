// Compiles searches with Dialect::kPostgres for run_on_postgres.py: one JSON request per
// stdin line ({entity, filter, order_by, model_order_by, datasets}), one JSON answer per
// stdout line ({joins, where, order_by, binds} or {error}).
#include <iostream>
#include <nlohmann/json.hpp>
#include "tracking/search/search.h"
using namespace cairn::tracking::search;
int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    auto j = nlohmann::json::parse(line);
    std::string e = j["entity"], f = j["filter"];
    std::vector<std::string> ob = j["order_by"];
    cairn::StatusOr<SqlQuery> q = cairn::InvalidArgument("x");
    if (e == "runs") q = CompileRunSearch(f, ob, Dialect::kPostgres);
    else if (e == "experiments") q = CompileExperimentSearch(f, ob, Dialect::kPostgres);
    else if (e == "registered_models") q = CompileRegisteredModelSearch(f, ob, Dialect::kPostgres);
    else if (e == "model_versions") q = CompileModelVersionSearch(f, ob, Dialect::kPostgres);
    else {
      std::vector<LoggedModelOrderBy> mob; std::vector<LoggedModelDatasetFilter> ds;
      for (auto& o : j["model_order_by"]) {
        LoggedModelOrderBy x; x.field_name = o["field_name"]; x.ascending = o.value("ascending", true);
        if (o.contains("dataset_name")) x.dataset_name = o["dataset_name"].get<std::string>();
        if (o.contains("dataset_digest")) x.dataset_digest = o["dataset_digest"].get<std::string>();
        mob.push_back(x);
      }
      for (auto& d : j["datasets"]) {
        LoggedModelDatasetFilter x; x.dataset_name = d["dataset_name"];
        if (d.contains("dataset_digest")) x.dataset_digest = d["dataset_digest"].get<std::string>();
        ds.push_back(x);
      }
      q = CompileLoggedModelSearch(f, mob, ds, Dialect::kPostgres);
    }
    nlohmann::json out;
    if (!q.ok()) { out["error"] = q.status().message(); }
    else {
      out["joins"] = q->joins; out["where"] = q->where; out["order_by"] = q->order_by;
      auto binds = nlohmann::json::array();
      for (auto* v : {&q->join_binds, &q->where_binds})
        for (auto& b : *v) std::visit([&](auto& x) { binds.push_back(x); }, b);
      out["binds"] = binds;
    }
    std::cout << out.dump() << std::endl;
  }
}
