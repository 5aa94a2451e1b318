// Where the embedded default keeps its data, shared by every subcommand that opens the
// stores directly (server, demo).
#pragma once

#include <string>

#include "common/status.h"

namespace cairn::cli {

inline constexpr const char* kDefaultDataDir = "cairn-data";

struct StorePaths {
  std::string db_path;        // the SQLite file
  std::string artifact_root;  // the artifacts folder
};

// Resolves --backend-store-uri ("" = sqlite:///cairn-data/cairn.db; "sqlite:///rel.db",
// "sqlite:////abs.db" or a bare path) and --artifacts-destination ("" = cairn-data/artifacts),
// and creates the database's parent folder. InvalidArgument for another URI scheme.
StatusOr<StorePaths> ResolveStorePaths(const std::string& backend_store_uri,
                                       const std::string& artifacts_destination);

}  // namespace cairn::cli
