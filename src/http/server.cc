// The only file that includes Boost.Beast/Asio.
//
// Each connection is a Session on its own strand: read the header, pick the route, read the
// body (into memory or, for streaming routes, straight into a temp file), dispatch, write,
// repeat while keep-alive. Handlers run synchronously on the worker thread that read the
// request; they may block on the database, which is why the pool has several threads.

#include "http/server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>

#include "common/ids.h"
#include "common/log.h"
#include "http/errors.h"

namespace cairn::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view in, bool plus_as_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQueryString(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = 0;
  while (i <= query.size() && !query.empty()) {
    size_t amp = query.find('&', i);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(i, amp - i);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string_view k = pair.substr(0, eq);
      std::string_view v = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
      auto dk = PercentDecode(k, true), dv = PercentDecode(v, true);
      out.emplace_back(dk ? *dk : std::string(k), dv ? *dv : std::string(v));
    }
    i = amp + 1;
  }
  return out;
}

Response Dispatch(const Router& router, Request& request) {
  RouteMatch match = router.Match(request.method, request.path);
  if (match.route == nullptr) {
    if (match.path_matched_other_method) {
      return ErrorResponse(
          Status(Code::kInvalidArgument,
                 "method " + request.method + " is not allowed on " + request.path)
              .WithMlflowCode("BAD_REQUEST"));
    }
    Response r = ErrorResponse(
        NotFound("no route for " + request.method + " " + request.path)
            .WithMlflowCode("ENDPOINT_NOT_FOUND"));
    return r;
  }
  request.path_params = std::move(match.path_params);
  try {
    StatusOr<Response> result = match.route->handler(request);
    if (!result.ok()) return ErrorResponse(result.status());
    return std::move(result).value();
  } catch (const std::exception& e) {
    log::Error(std::string("handler for ") + request.method + " " + request.path +
               " threw: " + e.what());
    return ErrorResponse(Internal(std::string("internal error: ") + e.what()));
  } catch (...) {
    log::Error("handler for " + request.method + " " + request.path + " threw");
    return ErrorResponse(Internal("internal error"));
  }
}

struct ServerCore;

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, ServerCore* server);
  ~Session();
  void Start();
  // Closes the connection if it is waiting for a new request (used by Stop()).
  void CloseIfIdle();

 private:
  void ReadHeader();
  void OnHeader(beast::error_code ec);
  void ReadMemoryBody();
  void ReadFileBody(const Route* route);
  void Handle(Request request, bool keep_alive);
  void WriteError(int status, const Status& st, bool keep_alive);
  void Write(Response response, bool keep_alive, const std::string& method);
  void AfterWrite(bool keep_alive, beast::error_code ec);
  Request BuildRequest(const bhttp::request_header<>& header);
  void Close();
  void ArmBodyDeadline();

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  ServerCore* server_;
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> string_parser_;
  std::optional<bhttp::request_parser<bhttp::file_body>> file_parser_;
  std::string temp_body_file_;
  std::shared_ptr<void> response_keepalive_;  // keeps the response alive during async_write
  std::atomic<bool> idle_{true};
  // Body reads use this timer rather than the stream's own expiry (which would close the
  // socket), so a stalled client can still be told 408.
  asio::steady_timer body_deadline_;
  bool body_timed_out_ = false;
  int64_t request_start_us_ = 0;
  std::string remote_;
  std::list<Session*>::iterator registry_it_;
};

}  // namespace

struct ServerCore {
  ServerOptions options;
  const Router* router;
  asio::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> served{0};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;

  std::mutex sessions_mu;
  std::list<Session*> sessions;  // GUARDED_BY(sessions_mu)
  std::condition_variable sessions_cv;

  ServerCore(ServerOptions o, const Router* r)
      : options(std::move(o)), router(r), ioc(options.threads) {}

  void Accept() {
    acceptor->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      if (ec) {
        if (stopping) return;
        log::Warn("accept failed: " + ec.message());
      } else {
        s.set_option(tcp::no_delay(true));
        std::make_shared<Session>(std::move(s), this)->Start();
      }
      if (!stopping) Accept();
    });
  }

  std::list<Session*>::iterator Register(Session* s) {
    std::lock_guard<std::mutex> lock(sessions_mu);
    sessions.push_front(s);
    return sessions.begin();
  }
  void Unregister(std::list<Session*>::iterator it) {
    std::lock_guard<std::mutex> lock(sessions_mu);
    sessions.erase(it);
    sessions_cv.notify_all();
  }
};

namespace {

Session::Session(tcp::socket&& socket, ServerCore* server)
    : stream_(std::move(socket)), server_(server), body_deadline_(stream_.get_executor()) {
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  registry_it_ = server_->Register(this);
}

Session::~Session() {
  if (!temp_body_file_.empty()) {
    std::error_code ec;
    std::filesystem::remove(temp_body_file_, ec);
  }
  server_->Unregister(registry_it_);
}

void Session::Start() {
  asio::dispatch(stream_.get_executor(),
                 beast::bind_front_handler(&Session::ReadHeader, shared_from_this()));
}

void Session::CloseIfIdle() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->idle_) self->Close();
  });
}

void Session::Close() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
}

void Session::ReadHeader() {
  if (server_->stopping) return Close();
  idle_ = true;
  header_parser_.emplace();
  header_parser_->header_limit(64 * 1024);
  header_parser_->body_limit(server_->options.max_streamed_body_bytes);
  // The first bytes of a request may be long in coming (keep-alive); after that the whole
  // header must arrive within the read timeout.
  stream_.expires_after(std::chrono::milliseconds(server_->options.idle_timeout_ms));
  bhttp::async_read_header(stream_, buffer_, *header_parser_,
                           beast::bind_front_handler(
                               [](std::shared_ptr<Session> self, beast::error_code ec, size_t) {
                                 self->OnHeader(ec);
                               },
                               shared_from_this()));
}

Request Session::BuildRequest(const bhttp::request_header<>& header) {
  Request req;
  req.method = std::string(header.method_string());
  req.target = std::string(header.target());
  std::string_view target = req.target;
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  req.raw_path = std::string(raw_path);
  if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
  auto decoded = PercentDecode(raw_path, false);
  req.path = decoded ? *decoded : std::string(raw_path);
  req.query_params = ParseQueryString(req.query);
  for (const auto& field : header) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers[name] = std::string(field.value());
  }
  req.remote_address = remote_;
  return req;
}

void Session::OnHeader(beast::error_code ec) {
  if (ec) {
    if (ec == bhttp::error::header_limit) {
      return WriteError(431, InvalidArgument("request header too large"), false);
    }
    if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout &&
        ec != asio::error::operation_aborted && ec != asio::error::connection_reset &&
        ec != asio::error::eof) {
      // A malformed request line or header: answer 400 and close.
      return WriteError(400, InvalidArgument("malformed HTTP request: " + ec.message()), false);
    }
    return Close();
  }
  idle_ = false;
  request_start_us_ = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  const auto& header = header_parser_->get();
  std::string_view target(header.target().data(), header.target().size());
  auto decoded = PercentDecode(target.substr(0, target.find('?')), false);
  std::string path = decoded ? *decoded : std::string(target);
  RouteMatch match = server_->router->Match(std::string(header.method_string()), path);
  if (header[bhttp::field::expect] == "100-continue") {
    // Tell curl-like clients to go ahead rather than making them wait a second.
    auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
    bhttp::write(stream_, *cont, ec);
    if (ec) return Close();
  }
  bool streamed = match.route != nullptr && !match.route->options.stream_body_to_dir.empty();
  uint64_t limit = server_->options.max_body_bytes;
  if (streamed) {
    limit = match.route->options.max_streamed_body_bytes
                ? match.route->options.max_streamed_body_bytes
                : server_->options.max_streamed_body_bytes;
  }
  if (auto length = header_parser_->content_length(); length && *length > limit) {
    return WriteError(
        413, ResourceExhausted("request body exceeds the limit of " + std::to_string(limit) +
                               " bytes"),
        false);
  }
  if (streamed) return ReadFileBody(match.route);
  ReadMemoryBody();
}

void Session::ArmBodyDeadline() {
  stream_.expires_never();
  body_deadline_.expires_after(std::chrono::milliseconds(server_->options.read_timeout_ms));
  body_deadline_.async_wait([weak = weak_from_this()](beast::error_code ec) {
    auto self = weak.lock();
    if (!self || ec) return;  // cancelled: data arrived or the read finished
    self->body_timed_out_ = true;
    beast::error_code ignored;
    self->stream_.socket().shutdown(tcp::socket::shutdown_receive, ignored);
    self->stream_.socket().cancel(ignored);
  });
}

void Session::ReadMemoryBody() {
  string_parser_.emplace(std::move(*header_parser_));
  header_parser_.reset();
  string_parser_->body_limit(server_->options.max_body_bytes);
  ArmBodyDeadline();
  bhttp::async_read(
      stream_, buffer_, *string_parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) {
        self->body_deadline_.cancel();
        if (ec && self->body_timed_out_) ec = beast::error::timeout;
        if (ec == bhttp::error::body_limit) {
          return self->WriteError(
              413,
              ResourceExhausted("request body exceeds the limit of " +
                                std::to_string(self->server_->options.max_body_bytes) + " bytes"),
              false);
        }
        if (ec == beast::error::timeout) {
          return self->WriteError(408, DeadlineExceeded("timed out reading the request body"),
                                  false);
        }
        if (ec) return self->Close();
        auto msg = self->string_parser_->release();
        self->string_parser_.reset();
        Request req = self->BuildRequest(msg.base());
        req.body = std::move(msg.body());
        req.body_size = req.body.size();
        self->Handle(std::move(req), msg.keep_alive());
      });
}

void Session::ReadFileBody(const Route* route) {
  uint64_t limit = route->options.max_streamed_body_bytes
                       ? route->options.max_streamed_body_bytes
                       : server_->options.max_streamed_body_bytes;
  std::error_code fec;
  std::filesystem::create_directories(route->options.stream_body_to_dir, fec);
  temp_body_file_ = route->options.stream_body_to_dir + "/.upload-" + NewUuidHex();
  file_parser_.emplace(std::move(*header_parser_));
  header_parser_.reset();
  file_parser_->body_limit(limit);
  beast::error_code ec;
  file_parser_->get().body().open(temp_body_file_.c_str(), beast::file_mode::write, ec);
  if (ec) {
    temp_body_file_.clear();
    return WriteError(500, Internal("cannot create upload file: " + ec.message()), false);
  }
  ArmBodyDeadline();
  // Re-arm the timeout as data arrives: a multi-GiB upload may take longer than one period.
  bhttp::async_read_some(
      stream_, buffer_, *file_parser_,
      [self = shared_from_this(), limit](beast::error_code ec, size_t) {
        struct Loop {
          static void Step(std::shared_ptr<Session> s, uint64_t limit, beast::error_code ec) {
            if (ec && s->body_timed_out_) ec = beast::error::timeout;
            if (!ec && !s->file_parser_->is_done()) {
              s->ArmBodyDeadline();
              bhttp::async_read_some(s->stream_, s->buffer_, *s->file_parser_,
                                     [s, limit](beast::error_code ec2, size_t) {
                                       Step(s, limit, ec2);
                                     });
              return;
            }
            s->body_deadline_.cancel();
            if (ec == bhttp::error::body_limit) {
              return s->WriteError(413,
                                   ResourceExhausted("request body exceeds the limit of " +
                                                     std::to_string(limit) + " bytes"),
                                   false);
            }
            if (ec == beast::error::timeout) {
              return s->WriteError(408, DeadlineExceeded("timed out reading the request body"),
                                   false);
            }
            if (ec) return s->Close();
            auto msg = s->file_parser_->release();
            s->file_parser_.reset();
            beast::error_code cec;
            msg.body().close();
            Request req = s->BuildRequest(msg.base());
            req.body_file = s->temp_body_file_;
            std::error_code sec;
            req.body_size = std::filesystem::file_size(req.body_file, sec);
            s->Handle(std::move(req), msg.keep_alive());
          }
        };
        Loop::Step(self, limit, ec);
      });
}

void Session::Handle(Request request, bool keep_alive) {
  std::string method = request.method;
  Response response = Dispatch(*server_->router, request);
  if (!temp_body_file_.empty()) {
    std::error_code ec;
    std::filesystem::remove(temp_body_file_, ec);
    temp_body_file_.clear();
  }
  if (server_->options.access_log) {
    int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
    char line[160];
    std::snprintf(line, sizeof(line), " %d %.3fms %zub", response.status,
                  (now_us - request_start_us_) / 1000.0,
                  response.file_path.empty() ? response.body.size() : size_t{0});
    log::Info(remote_ + " " + method + " " + request.target + line);
  }
  Write(std::move(response), keep_alive && !server_->stopping, method);
}

void Session::WriteError(int status, const Status& st, bool keep_alive) {
  Response r = ErrorResponse(st);
  r.status = status;
  Write(std::move(r), keep_alive, "");
}

void Session::Write(Response response, bool keep_alive, const std::string& method) {
  ++server_->served;
  auto add_headers = [&](auto& res) {
    res.set(bhttp::field::server, server_->options.server_name);
    res.set(bhttp::field::content_type, response.content_type);
    for (const auto& [k, v] : response.headers) res.set(k, v);
    res.keep_alive(keep_alive);
  };
  stream_.expires_after(std::chrono::milliseconds(server_->options.idle_timeout_ms));
  if (!response.file_path.empty()) {
    auto res = std::make_shared<bhttp::response<bhttp::file_body>>(
        static_cast<bhttp::status>(response.status), 11);
    beast::error_code ec;
    res->body().open(response.file_path.c_str(), beast::file_mode::scan, ec);
    if (ec) {
      Response err = ErrorResponse(NotFound("cannot open " + response.file_path));
      return Write(std::move(err), keep_alive, method);
    }
    add_headers(*res);
    res->prepare_payload();
    response_keepalive_ = res;
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                         self->AfterWrite(keep_alive, ec);
                       });
    return;
  }
  auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
      static_cast<bhttp::status>(response.status), 11);
  add_headers(*res);
  res->body() = std::move(response.body);
  res->prepare_payload();
  if (method == "HEAD") res->body().clear();
  response_keepalive_ = res;
  bhttp::async_write(stream_, *res,
                     [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                       self->AfterWrite(keep_alive, ec);
                     });
}

void Session::AfterWrite(bool keep_alive, beast::error_code ec) {
  response_keepalive_.reset();
  if (ec || !keep_alive) return Close();
  ReadHeader();
}

}  // namespace

struct Server::Impl : ServerCore {
  using ServerCore::ServerCore;
};

Server::Server(ServerOptions options, const Router* router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}

Server::~Server() {
  Stop(0);
  Wait();
}

StatusOr<int> Server::Start() {
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec) return InvalidArgument("bad host address '" + impl_->options.host + "': " + ec.message());
  tcp::endpoint endpoint(address, static_cast<unsigned short>(impl_->options.port));
  impl_->acceptor.emplace(impl_->ioc);
  impl_->acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor->bind(endpoint, ec);
  if (!ec) impl_->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("cannot listen on " + impl_->options.host + ":" +
                       std::to_string(impl_->options.port) + ": " + ec.message());
  }
  int port = impl_->acceptor->local_endpoint().port();
  impl_->work.emplace(impl_->ioc.get_executor());
  impl_->Accept();
  int n = std::max(1, impl_->options.threads);
  for (int i = 0; i < n; ++i) {
    impl_->threads.emplace_back([this] {
      try {
        impl_->ioc.run();
      } catch (const std::exception& e) {
        log::Error(std::string("server thread died: ") + e.what());
      }
    });
  }
  return port;
}

void Server::Stop(int grace_ms) {
  if (impl_->stopping.exchange(true)) return;
  asio::post(impl_->ioc, [this] {
    beast::error_code ec;
    if (impl_->acceptor) impl_->acceptor->close(ec);
  });
  // Take strong references under the lock, act on them outside it: dropping what may be the
  // last reference to a session runs ~Session, which unregisters under the same lock.
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> lock(impl_->sessions_mu);
    for (Session* s : impl_->sessions) {
      if (auto strong = s->weak_from_this().lock()) live.push_back(std::move(strong));
    }
  }
  for (auto& s : live) s->CloseIfIdle();
  live.clear();
  {
    std::unique_lock<std::mutex> lock(impl_->sessions_mu);
    impl_->sessions_cv.wait_for(lock, std::chrono::milliseconds(grace_ms),
                                [this] { return impl_->sessions.empty(); });
  }
  impl_->work.reset();
  impl_->ioc.stop();
}

void Server::Wait() {
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  impl_->threads.clear();
  // Stop() posts the acceptor's close, but ioc.stop() may win the race; with every thread
  // gone it is safe to close here, so the port stops listening once Wait() returns.
  if (impl_->stopping.load() && impl_->acceptor) {
    beast::error_code ec;
    impl_->acceptor->close(ec);
  }
}

uint64_t Server::requests_served() const { return impl_->served.load(); }

}  // namespace cairn::http
