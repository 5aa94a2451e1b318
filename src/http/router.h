// HTTP routing: the plain structs every route handler sees, and the table that maps
// (method, path pattern) to a handler.
//
// Handlers never see Boost.Beast: the server (http/server.h) turns the wire request into a
// Request, calls the matched handler through one wrapper that catches everything, and writes
// the Response. A handler returns StatusOr<Response>; a non-OK Status becomes the
// MLflow-shaped error body via http/errors.h.
//
// Thread-safety: a Router is built before the server starts and is read-only afterwards;
// Match() may be called from any number of threads. Handlers run concurrently on the
// server's worker threads and must be thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace cairn::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // the raw request-target, "/api/2.0/mlflow/runs/get?run_id=..."
  std::string path;    // the target's path, percent-decoded
  std::string raw_path;  // the target's path as sent (not decoded)
  std::string query;   // the raw query string after '?', or ""
  // Decoded query parameters in order; repeated keys appear repeatedly.
  std::vector<std::pair<std::string, std::string>> query_params;
  // Header names lowercased.
  std::map<std::string, std::string> headers;
  std::string body;  // empty for streamed-body routes
  // For routes registered with RouteOptions::stream_body_to_file: the temp file holding the
  // body (the handler may rename it; the server deletes it afterwards if it still exists).
  std::string body_file;
  uint64_t body_size = 0;
  // Values captured from "{name}" segments of the matched pattern.
  std::map<std::string, std::string> path_params;
  std::string remote_address;

  // The header's value, or "" when absent. `name` must be lowercase.
  const std::string& Header(std::string_view name) const;
  // The first query parameter with this key, if any.
  std::optional<std::string> QueryParam(std::string_view key) const;
  // The media type of Content-Type, lowercased, without parameters ("application/json").
  std::string ContentType() const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is streamed from this file instead of `body` (large downloads).
  std::string file_path;

  static Response Json(std::string json_body, int status = 200);
  static Response Text(std::string text, int status = 200);
};

using Handler = std::function<StatusOr<Response>(const Request&)>;

struct RouteOptions {
  // The body is written to a temp file under this directory instead of memory, and may be
  // larger than the server's in-memory body limit (up to max_streamed_body_bytes).
  std::string stream_body_to_dir;
  uint64_t max_streamed_body_bytes = 0;  // 0 = the server's streamed-body default
};

struct Route {
  std::string method;
  std::string pattern;
  Handler handler;
  RouteOptions options;
  // The pattern split at '/' (filled by Router::Add, so a request splits only its own path).
  std::vector<std::string> segments;
};

struct RouteMatch {
  const Route* route = nullptr;
  std::map<std::string, std::string> path_params;
  // True when the path matched some route but not with this method (405 rather than 404).
  bool path_matched_other_method = false;
};

class Router {
 public:
  // Adds a route. `pattern` is a path whose segments are literals, "{name}" (one segment) or,
  // as the last segment only, "{name...}" (the rest of the path, possibly empty or with '/').
  // Literal routes win over captures when both match. Aborts on a malformed pattern (a
  // programming error, not user input).
  void Add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});

  // Finds the route for a decoded path. route == nullptr when nothing matches.
  RouteMatch Match(std::string_view method, std::string_view path) const;

  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace cairn::http
