#include "http/artifact_routes.h"

#include <nlohmann/json.hpp>

#include "http/server.h"

namespace cairn::http {

namespace {

constexpr const char* kPrefixes[] = {"/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts"};

std::string ListingJson(const std::vector<artifacts::FileEntry>& entries) {
  if (entries.empty()) return "{}";
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const auto& e : entries) {
    nlohmann::ordered_json f = {{"path", e.path}, {"is_dir", e.is_dir}};
    if (!e.is_dir) f["file_size"] = e.file_size;
    files.push_back(std::move(f));
  }
  return nlohmann::ordered_json{{"files", std::move(files)}}.dump(-1, ' ', false,
                                                           nlohmann::json::error_handler_t::replace);
}

std::string BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

}  // namespace

StatusOr<std::string> ArtifactUriToRelativePath(std::string_view uri) {
  constexpr std::string_view kScheme = "mlflow-artifacts:";
  if (uri.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgument("unsupported artifact URI (expected mlflow-artifacts:/...): " +
                           std::string(uri));
  }
  std::string_view rest = uri.substr(kScheme.size());
  if (rest.substr(0, 2) == "//") {  // mlflow-artifacts://host:port/path
    size_t slash = rest.find('/', 2);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::string rel(rest);
  RETURN_IF_ERROR(artifacts::ValidateRelativePath(rel));
  return rel;
}

void RegisterArtifactRoutes(Router& router, artifacts::LocalArtifactStore& store) {
  artifacts::LocalArtifactStore* s = &store;
  for (const char* prefix : kPrefixes) {
    std::string base = std::string(prefix) + "/artifacts";
    auto list = [s](const Request& req) -> StatusOr<Response> {
      std::string dir = req.QueryParam("path").value_or("");
      ASSIGN_OR_RETURN(auto entries, s->List(dir));
      return Response::Json(ListingJson(entries));
    };
    router.Add("GET", base, list);
    router.Add("GET", base + "/{path...}", [s, list](const Request& req) -> StatusOr<Response> {
      const std::string& rel = req.path_params.at("path");
      if (rel.empty()) return list(req);
      ASSIGN_OR_RETURN(std::string file, s->FileForRead(rel));
      Response r;
      r.file_path = file;
      std::string name = BaseName(rel);
      r.content_type = artifacts::GuessMimeType(name);
      r.headers.emplace_back("Content-Disposition", "attachment; filename=" + name);
      r.headers.emplace_back("X-Content-Type-Options", "nosniff");
      return r;
    });
    RouteOptions upload;
    upload.stream_body_to_dir = store.staging_dir();
    router.Add(
        "PUT", base + "/{path...}",
        [s](const Request& req) -> StatusOr<Response> {
          const std::string& rel = req.path_params.at("path");
          RETURN_IF_ERROR(s->PutFromFile(rel, req.body_file));
          return Response::Json("{}");
        },
        upload);
    router.Add("DELETE", base + "/{path...}", [s](const Request& req) -> StatusOr<Response> {
      RETURN_IF_ERROR(s->Delete(req.path_params.at("path")));
      return Response::Json("{}");
    });
    for (const char* op : {"create", "complete", "abort"}) {
      router.Add("POST", std::string(prefix) + "/mpu/" + op + "/{path...}",
                 [](const Request&) -> StatusOr<Response> {
                   return Unimplemented(
                       "Multipart upload is not supported for the local artifact store");
                 });
    }
  }
}

void RegisterRunArtifactListRoute(Router& router, artifacts::LocalArtifactStore& store,
                                  RunArtifactUriFn run_artifact_uri) {
  artifacts::LocalArtifactStore* s = &store;
  auto handler = [s, run_artifact_uri](const Request& req) -> StatusOr<Response> {
    std::string run_id, path;
    if (!req.query.empty()) {
      run_id = req.QueryParam("run_id").value_or(req.QueryParam("run_uuid").value_or(""));
      path = req.QueryParam("path").value_or("");
    } else if (!req.body.empty()) {
      nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
      if (body.is_discarded() || !body.is_object()) {
        return InvalidArgument("malformed JSON request body").WithMlflowCode("MALFORMED_REQUEST");
      }
      auto str = [&](const char* key) {
        auto it = body.find(key);
        return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      run_id = str("run_id");
      if (run_id.empty()) run_id = str("run_uuid");
      path = str("path");
    }
    if (run_id.empty()) return InvalidArgument("Missing value for required parameter 'run_id'.");
    RETURN_IF_ERROR(artifacts::ValidateRelativePath(path));
    ASSIGN_OR_RETURN(std::string root_uri, run_artifact_uri(run_id));
    ASSIGN_OR_RETURN(std::string root_rel, ArtifactUriToRelativePath(root_uri));
    while (!path.empty() && path.back() == '/') path.pop_back();
    std::string dir = path.empty() ? root_rel : root_rel + "/" + path;
    ASSIGN_OR_RETURN(auto entries, s->List(dir));
    nlohmann::ordered_json out;
    out["root_uri"] = root_uri;
    if (!entries.empty()) {
      nlohmann::ordered_json files = nlohmann::ordered_json::array();
      for (const auto& e : entries) {
        nlohmann::ordered_json f;
        f["path"] = path.empty() ? e.path : path + "/" + e.path;
        f["is_dir"] = e.is_dir;
        if (!e.is_dir) f["file_size"] = e.file_size;
        files.push_back(std::move(f));
      }
      out["files"] = std::move(files);
    }
    return Response::Json(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  };
  for (const char* prefix : {"/api/2.0/mlflow", "/ajax-api/2.0/mlflow"}) {
    router.Add("GET", std::string(prefix) + "/artifacts/list", handler);
  }
}

}  // namespace cairn::http
