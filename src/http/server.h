// The HTTP/1.1 server (Boost.Beast underneath; this header does not include it).
//
// Keep-alive connections served by a pool of worker threads. Every request goes through one
// wrapper that never throws: it matches the route, calls the handler, converts a non-OK
// Status or an escaped exception into an MLflow-shaped error, and writes an access-log line.
// Bodies larger than max_body_bytes get 413 (routes that stream their body to a file have
// their own, larger limit); a client that stalls longer than read_timeout_ms while sending a
// request is disconnected.
//
// Thread-safety: Start()/Wait() from one thread; Stop() from any thread or a signal-watching
// thread. The Router must outlive the Server and must not change after Start().
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "http/router.h"

namespace cairn::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 5000;  // 0 picks a free port; Start() returns the one bound
  int threads = 4;
  uint64_t max_body_bytes = 64ull << 20;
  uint64_t max_streamed_body_bytes = 64ull << 30;
  int read_timeout_ms = 30'000;   // a request (header or body) must keep arriving this often
  int idle_timeout_ms = 120'000;  // an idle keep-alive connection is closed after this
  bool access_log = true;
  // The Server header value.
  std::string server_name = "cairn";
};

class Server {
 public:
  Server(ServerOptions options, const Router* router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the worker threads. Returns the bound port. Unavailable when the
  // address cannot be bound (in use, permission), InvalidArgument for a bad host.
  StatusOr<int> Start();
  // Graceful stop: stops accepting, lets requests in flight finish (up to grace_ms), closes
  // idle connections. Safe to call more than once and from any thread.
  void Stop(int grace_ms = 10'000);
  // Blocks until the server has stopped and every worker thread has exited.
  void Wait();

  // Requests completed so far (for tests and /metrics).
  uint64_t requests_served() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Calls the matched route's handler for `request` and returns what to send, never throwing:
// a 404/405 when nothing matches, the MLflow error shape for a non-OK Status, 500 for an
// escaped exception. Exposed so tests can drive routes without a socket.
Response Dispatch(const Router& router, Request& request);

// Percent-decodes a URL component ("%2F" -> "/"; with plus_as_space, "+" -> " "). Returns
// nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view in, bool plus_as_space);
// Splits a query string into decoded key/value pairs (malformed escapes are kept verbatim).
std::vector<std::pair<std::string, std::string>> ParseQueryString(std::string_view query);

}  // namespace cairn::http
