#include "cli/store_paths.h"

#include <filesystem>

namespace cairn::cli {

StatusOr<StorePaths> ResolveStorePaths(const std::string& backend_store_uri,
                                       const std::string& artifacts_destination) {
  std::string uri = backend_store_uri.empty()
                        ? std::string("sqlite:///") + kDefaultDataDir + "/cairn.db"
                        : backend_store_uri;
  StorePaths paths;
  constexpr std::string_view kSqlite = "sqlite:///";
  if (uri.rfind(kSqlite, 0) == 0) {
    paths.db_path = uri.substr(kSqlite.size());
  } else if (uri.find("://") != std::string::npos) {
    return InvalidArgument("unsupported --backend-store-uri '" + uri +
                           "' (this build supports sqlite:///PATH)");
  } else {
    paths.db_path = uri;
  }
  if (paths.db_path.empty()) return InvalidArgument("--backend-store-uri names no file");
  paths.artifact_root = artifacts_destination.empty()
                            ? std::string(kDefaultDataDir) + "/artifacts"
                            : artifacts_destination;
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(paths.db_path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return InvalidArgument("cannot create " + parent.string() + ": " + ec.message());
  return paths;
}

}  // namespace cairn::cli
