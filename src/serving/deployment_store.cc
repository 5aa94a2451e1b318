#include "serving/deployment_store.h"

#include <nlohmann/json.hpp>

#include "common/log.h"

namespace cairn::serving {
namespace {

using store::Database;
using store::Statement;

constexpr const char* kSchemaSql = R"sql(
CREATE TABLE deployments (
  name TEXT PRIMARY KEY,
  environment TEXT NOT NULL,
  spec_json TEXT NOT NULL,
  history_json TEXT NOT NULL DEFAULT '[]',
  generation INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

constexpr const char* kColumns =
    "name, environment, spec_json, history_json, generation, created_ms, updated_ms";

std::string HistoryJson(const std::vector<DeploymentSpec>& history) {
  size_t start = history.size() > DeploymentStore::kMaxHistory
                     ? history.size() - DeploymentStore::kMaxHistory
                     : 0;
  std::string out = "[";
  for (size_t i = start; i < history.size(); ++i) {
    if (i > start) out += ",";
    out += DeploymentSpecToJson(history[i]);
  }
  return out + "]";
}

StatusOr<StoredDeployment> ReadRow(const Statement& st) {
  StoredDeployment d;
  std::string name = st.Text(0);
  ASSIGN_OR_RETURN(d.spec, DeploymentSpecFromJson(st.Text(2), name));
  nlohmann::json history = nlohmann::json::parse(st.Text(3), nullptr, false);
  if (!history.is_array()) return Internal("deployment '" + name + "': corrupt history");
  for (const auto& h : history) {
    ASSIGN_OR_RETURN(DeploymentSpec spec, DeploymentSpecFromJson(h.dump(), name));
    d.history.push_back(std::move(spec));
  }
  d.generation = static_cast<uint64_t>(st.Int64(4));
  d.created_ms = st.Int64(5);
  d.updated_ms = st.Int64(6);
  return d;
}

}  // namespace

const std::vector<store::Migration>& DeploymentStore::Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {kMigrationVersion, "serving deployments: deployments", kSchemaSql},
  };
  return kMigrations;
}

Status DeploymentStore::Put(const StoredDeployment& d) {
  std::string spec_json = DeploymentSpecToJson(d.spec);
  std::string history_json = HistoryJson(d.history);
  return pool_.Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement * st,
                     db.Cached(std::string("INSERT OR REPLACE INTO deployments (") + kColumns +
                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    st->Bind(1, d.spec.name)
        .Bind(2, d.spec.environment)
        .Bind(3, spec_json)
        .Bind(4, history_json)
        .Bind(5, static_cast<int64_t>(d.generation))
        .Bind(6, d.created_ms)
        .Bind(7, d.updated_ms);
    Status result = st->Run();
    st->Reset();
    return result;
  });
}

StatusOr<StoredDeployment> DeploymentStore::Get(const std::string& name) const {
  std::optional<StoredDeployment> found;
  RETURN_IF_ERROR(pool_.Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement st, db.Prepare(std::string("SELECT ") + kColumns +
                                              " FROM deployments WHERE name = ?1"));
    st.Bind(1, name);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) {
      ASSIGN_OR_RETURN(StoredDeployment d, ReadRow(st));
      found = std::move(d);
    }
    return OkStatus();
  }));
  if (!found) return NotFound("deployment '" + name + "' not found");
  return std::move(*found);
}

StatusOr<std::vector<StoredDeployment>> DeploymentStore::List() const {
  std::vector<StoredDeployment> out;
  RETURN_IF_ERROR(pool_.Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement st, db.Prepare(std::string("SELECT ") + kColumns +
                                              " FROM deployments ORDER BY name"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      auto d = ReadRow(st);
      if (!d.ok()) {
        log::Warn("skipping stored deployment '" + st.Text(0) + "': " + d.status().message());
        continue;
      }
      out.push_back(std::move(*d));
    }
    return OkStatus();
  }));
  return out;
}

Status DeploymentStore::Delete(const std::string& name) {
  bool deleted = false;
  RETURN_IF_ERROR(pool_.Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(Statement * st, db.Cached("DELETE FROM deployments WHERE name = ?1"));
    st->Bind(1, name);
    Status result = st->Run();
    deleted = db.Changes() > 0;
    st->Reset();
    return result;
  }));
  if (!deleted) return NotFound("deployment '" + name + "' not found");
  return OkStatus();
}

}  // namespace cairn::serving
