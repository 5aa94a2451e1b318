// Schema migrations versioned inside the database.
//
// The database records applied migrations in a `schema_version` table (version INTEGER
// PRIMARY KEY, description TEXT, applied_at INTEGER ms). A migration list is ordered by
// strictly increasing version; ApplyMigrations runs every migration of the list that the
// database has not recorded, in order, each in its own transaction together with its
// schema_version row, so a crash leaves the database with whole migrations only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/sqlite.h"

namespace cairn::store {

struct Migration {
  int version = 0;          // > 0, strictly increasing within a list
  std::string description;  // one line, recorded in schema_version
  std::string sql;          // one or more ';'-separated statements
  // Optional: runs after `sql`, in the same transaction, for data conversions SQL cannot
  // express (re-encoding rows); a non-OK status rolls the whole migration back.
  std::function<Status(Database&)> convert = nullptr;
};

// The highest applied version; 0 for a fresh database.
StatusOr<int> SchemaVersion(Database& db);

// Brings `db` up to the last migration of `migrations`.
// Errors: kFailedPrecondition when the database is newer than the newest migration (written
// by a newer cairn binary); kInvalidArgument when `migrations` is not strictly increasing;
// the failing statement's status when a migration fails (that migration is rolled back,
// earlier ones stay applied).
Status ApplyMigrations(Database& db, const std::vector<Migration>& migrations);

// The union of several modules' migration lists, sorted by version: the one list a shared
// database is opened with. Errors: kInvalidArgument when two lists use the same version.
StatusOr<std::vector<Migration>> MergeMigrations(
    const std::vector<std::vector<Migration>>& lists);

}  // namespace cairn::store
