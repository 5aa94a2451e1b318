// The registry schema as versioned migrations. Versions continue the one global sequence that
// every module's migrations share (tracking has 1); append new migrations, never edit one that
// has shipped. Table and column names for MLflow's entities are the ones the search compiler
// (tracking/search/search.h) generates SQL against.
#include <algorithm>

#include "registry/sqlite_registry_store.h"

namespace cairn::registry {

const std::vector<store::Migration>& SqliteRegistryStore::Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {2, "registry schema: registered models, versions, tags, aliases, promotion gates, "
          "alias history",
       R"sql(
CREATE TABLE registered_models (
  name TEXT PRIMARY KEY,
  creation_time INTEGER,
  last_updated_time INTEGER,
  description TEXT,
  user_id TEXT
);
CREATE TABLE registered_model_tags (
  name TEXT NOT NULL REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT,
  PRIMARY KEY (name, key)
);
-- A deleted version keeps its row in stage 'Deleted_Internal' so its number is never reused.
CREATE TABLE model_versions (
  name TEXT NOT NULL REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE,
  version INTEGER NOT NULL,
  creation_time INTEGER,
  last_updated_time INTEGER,
  description TEXT,
  user_id TEXT,
  current_stage TEXT NOT NULL DEFAULT 'None',
  source TEXT,
  run_id TEXT,
  run_link TEXT,
  status TEXT NOT NULL DEFAULT 'READY',
  status_message TEXT,
  storage_location TEXT,
  model_id TEXT,
  PRIMARY KEY (name, version)
);
CREATE INDEX model_versions_by_run ON model_versions (run_id);
CREATE TABLE model_version_tags (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT,
  PRIMARY KEY (name, version, key),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
    ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE TABLE registered_model_aliases (
  name TEXT NOT NULL REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (name, alias)
);
-- Promotion gates: one per (model, target alias); alias '' is the model's default gate.
CREATE TABLE promotion_gates (
  name TEXT NOT NULL REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE,
  alias TEXT NOT NULL,
  updated_time INTEGER,
  updated_by TEXT,
  PRIMARY KEY (name, alias)
);
-- kind 'metric': expression is a condition (registry/gates.h); kind 'tag': tag_key = tag_value.
CREATE TABLE promotion_gate_rules (
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  position INTEGER NOT NULL,
  kind TEXT NOT NULL,
  expression TEXT,
  tag_key TEXT,
  tag_value TEXT,
  PRIMARY KEY (name, alias, position),
  FOREIGN KEY (name, alias) REFERENCES promotion_gates(name, alias)
    ON UPDATE CASCADE ON DELETE CASCADE
);
-- Every alias change (and every promotion a gate refused), newest has the highest id.
CREATE TABLE alias_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE,
  alias TEXT NOT NULL,
  from_version INTEGER,
  to_version INTEGER,
  timestamp INTEGER NOT NULL,
  user_id TEXT,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL
);
CREATE INDEX alias_history_by_model ON alias_history (name, id);
CREATE TABLE alias_history_checks (
  event_id INTEGER NOT NULL REFERENCES alias_history(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  condition TEXT NOT NULL,
  passed INTEGER NOT NULL,
  detail TEXT,
  PRIMARY KEY (event_id, position)
);
)sql"},
  };
  return kMigrations;
}

}  // namespace cairn::registry
