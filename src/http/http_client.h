// A small blocking HTTP/1.1 client (Boost.Beast underneath; this header does not include it),
// for the subcommands that talk to a cairn or MLflow server: `cairn deploy`, `cairn serve
// models:/…`, pipeline lineage and the register/promote/deploy steps.
//
// One HttpClient is bound to one base URL (http://host[:port][/prefix]) and keeps its
// connection alive between requests. A request that fails on a reused connection before any
// byte of the answer arrived (the server closed it while idle) is retried once on a fresh
// connection; nothing else is retried. Every operation (connect, write, read) must make
// progress within `timeout_ms`, so a stalled server gives kDeadlineExceeded instead of a hang.
// Bodies are read whole into memory up to `max_body_bytes` (kResourceExhausted beyond);
// DownloadToFile and UploadFile stream, for artifacts of any size.
//
// Only plain http:// is supported; https:// gives kUnimplemented (put a TLS-terminating proxy
// in front, or use the server's plain port).
//
// Thread-safety: one HttpClient per thread (it owns one connection). Cheap to construct.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace cairn::http {

struct ClientOptions {
  int timeout_ms = 30'000;
  uint64_t max_body_bytes = 256ull << 20;
  // Sent on every request (e.g. {"Authorization", "Bearer …"}).
  std::vector<std::pair<std::string, std::string>> headers = {};
};

struct ClientResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  // Every header as received, names as sent by the server.
  std::vector<std::pair<std::string, std::string>> headers;

  bool ok() const { return status >= 200 && status < 300; }
  // The first header with this name (case-insensitive), or "" when absent.
  std::string Header(std::string_view name) const;
};

// A parsed http:// URL. `base_path` has no trailing '/' ("" for the root).
struct HttpUrl {
  std::string host;
  int port = 80;
  std::string base_path;
};

// Errors: InvalidArgument for anything that is not http://host[:port][/path] with a port in
// 1..65535; Unimplemented for https://.
StatusOr<HttpUrl> ParseHttpUrl(std::string_view url);

// Percent-encodes a query-string component (RFC 3986 unreserved characters kept).
std::string UrlEncode(std::string_view text);

class HttpClient {
 public:
  // Errors: those of ParseHttpUrl.
  static StatusOr<std::unique_ptr<HttpClient>> Create(std::string_view base_url,
                                                      ClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // `target` is appended to the base URL's path ("/api/2.0/mlflow/runs/get?run_id=…"). A
  // non-2xx answer is NOT an error: the caller reads `status` (see MlflowError below).
  // Errors: Unavailable when the server cannot be reached or the connection breaks;
  // DeadlineExceeded on a timeout; ResourceExhausted for a body over max_body_bytes.
  StatusOr<ClientResponse> Request(std::string_view method, std::string_view target,
                                   std::string_view body = {},
                                   std::string_view content_type = "application/json");

  // GET `target` streaming the body into `path` (created or truncated). On a non-2xx answer
  // the file is removed and the response (with its body, up to max_body_bytes) is returned.
  StatusOr<ClientResponse> DownloadToFile(std::string_view target, const std::string& path);

  // Sends the file at `path` as the body of `method target` (application/octet-stream).
  StatusOr<ClientResponse> UploadFile(std::string_view method, std::string_view target,
                                      const std::string& path);

  const HttpUrl& url() const;

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Turns a non-2xx answer from an MLflow-style server into a Status carrying its message:
// the body's {"error_code","message"} when present, else the status line and body prefix.
// The code follows the HTTP status (404 → NotFound, 400 → InvalidArgument, 409 →
// AlreadyExists, 401/403 → PermissionDenied, 5xx → Unavailable, any other 4xx →
// FailedPrecondition, anything else → Internal).
// OK for a 2xx answer.
Status MlflowError(const ClientResponse& response);

}  // namespace cairn::http
