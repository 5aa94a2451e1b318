// The blocking client: each operation is an async Beast call run to completion on the
// client's own io_context, so beast::tcp_stream's per-operation deadline applies.
#include "http/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

namespace cairn::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

Status FromError(const beast::error_code& ec, std::string_view what, const HttpUrl& url) {
  std::string where = url.host + ":" + std::to_string(url.port);
  if (ec == beast::error::timeout) {
    return DeadlineExceeded(std::string(what) + " " + where + ": timed out");
  }
  return Unavailable(std::string(what) + " " + where + ": " + ec.message());
}

template <class Body>
void CopyHeaders(const bhttp::response<Body>& res, ClientResponse* out) {
  out->status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    out->headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out->content_type = std::string(res[bhttp::field::content_type]);
}

}  // namespace

std::string ClientResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (IEquals(key, name)) return value;
  }
  return "";
}

StatusOr<HttpUrl> ParseHttpUrl(std::string_view url) {
  constexpr std::string_view kHttp = "http://";
  constexpr std::string_view kHttps = "https://";
  if (url.substr(0, kHttps.size()) == kHttps) {
    return Unimplemented("https:// URLs are not supported by cairn's client (got '" +
                         std::string(url) + "'); use the server's plain http:// address");
  }
  if (url.substr(0, kHttp.size()) != kHttp) {
    return InvalidArgument("expected an http://host[:port] URL, got '" + std::string(url) + "'");
  }
  std::string_view rest = url.substr(kHttp.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (path.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgument("a base URL takes no query or fragment: '" + std::string(url) + "'");
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument("credentials in the URL are not supported: '" + std::string(url) + "'");
  }
  HttpUrl out;
  std::string_view host = authority;
  size_t colon = authority.rfind(':');
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgument("unterminated IPv6 address in '" + std::string(url) + "'");
    }
    host = authority.substr(1, close - 1);
    colon = close + 1 < authority.size() && authority[close + 1] == ':' ? close + 1
                                                                        : std::string_view::npos;
  } else if (colon != std::string_view::npos) {
    host = authority.substr(0, colon);
  }
  if (colon != std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    int value = 0;
    if (port.empty() || port.size() > 5) value = -1;
    for (char c : port) {
      if (c < '0' || c > '9') {
        value = -1;
        break;
      }
      if (value >= 0) value = value * 10 + (c - '0');
    }
    if (value < 1 || value > 65535) {
      return InvalidArgument("bad port in '" + std::string(url) + "'");
    }
    out.port = value;
  }
  if (host.empty()) return InvalidArgument("no host in '" + std::string(url) + "'");
  out.host = std::string(host);
  out.base_path = std::string(path);
  return out;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

struct HttpClient::Impl {
  HttpUrl url;
  ClientOptions options;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  bool reused = false;  // the connection has served a request before

  std::chrono::milliseconds timeout() const { return std::chrono::milliseconds(options.timeout_ms); }

  void Close() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->socket().close(ignored);
      stream.reset();
    }
    buffer.clear();
    reused = false;
  }

  // Runs the queued async operation to completion.
  void Run() {
    ioc.restart();
    ioc.run();
  }

  Status Connect() {
    if (stream) return OkStatus();
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    tcp::resolver::results_type endpoints;
    resolver.async_resolve(url.host, std::to_string(url.port),
                           [&](const beast::error_code& e, tcp::resolver::results_type r) {
                             ec = e;
                             endpoints = std::move(r);
                           });
    Run();
    if (ec) return FromError(ec, "resolving", url);
    stream.emplace(ioc);
    stream->expires_after(timeout());
    stream->async_connect(endpoints, [&](const beast::error_code& e, const tcp::endpoint&) {
      ec = e;
    });
    Run();
    if (ec) {
      stream.reset();
      return FromError(ec, "connecting to", url);
    }
    stream->socket().set_option(tcp::no_delay(true), ec);
    return OkStatus();
  }

  std::string FullTarget(std::string_view target) const {
    std::string out = url.base_path;
    if (target.empty() || target.front() != '/') out.push_back('/');
    out.append(target);
    return out;
  }

  template <class RequestBody>
  void Prepare(bhttp::request<RequestBody>& req, std::string_view method,
               std::string_view target) {
    req.method_string(beast::string_view(method.data(), method.size()));
    req.target(FullTarget(target));
    req.version(11);
    req.set(bhttp::field::host, url.host + ":" + std::to_string(url.port));
    req.set(bhttp::field::user_agent, "cairn");
    req.keep_alive(true);
    for (const auto& [name, value] : options.headers) req.set(name, value);
  }

  // Sends `req` and reads the answer with `parser`. `*answered` tells whether any byte of
  // the answer arrived (a failure before that on a reused connection is retried).
  template <class RequestBody, class Parser>
  Status Exchange(bhttp::request<RequestBody>& req, Parser& parser, bool* answered) {
    *answered = false;
    beast::error_code ec;
    stream->expires_after(timeout());
    bhttp::async_write(*stream, req, [&](const beast::error_code& e, size_t) { ec = e; });
    Run();
    if (ec) return FromError(ec, "sending to", url);
    // The deadline is per read: re-armed as long as bytes keep coming.
    size_t before = 0;
    for (;;) {
      stream->expires_after(timeout());
      size_t got = 0;
      bhttp::async_read_some(*stream, buffer, parser, [&](const beast::error_code& e, size_t n) {
        ec = e;
        got = n;
      });
      Run();
      before += got;
      if (got > 0) *answered = true;
      if (ec == bhttp::error::body_limit) {
        return ResourceExhausted("the answer from " + url.host + " is larger than " +
                                 std::to_string(options.max_body_bytes) + " bytes");
      }
      if (ec) return FromError(ec, "reading from", url);
      if (parser.is_done()) return OkStatus();
    }
  }

  template <class RequestBody, class Parser, class MakeParser>
  Status ExchangeWithRetry(bhttp::request<RequestBody>& req, std::optional<Parser>& parser,
                           MakeParser make_parser) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      RETURN_IF_ERROR(Connect());
      bool was_reused = reused;
      RETURN_IF_ERROR(make_parser(parser));
      bool answered = false;
      Status status = Exchange(req, *parser, &answered);
      if (status.ok()) {
        if (parser->get().keep_alive()) {
          reused = true;
        } else {
          Close();
        }
        return OkStatus();
      }
      Close();
      if (!was_reused || answered || status.code() != Code::kUnavailable) return status;
    }
    return Unavailable("unreachable");
  }

  // Sends `req` (calling `before_attempt` before each try) and reads the answer into memory.
  template <class RequestBody, class BeforeAttempt>
  StatusOr<ClientResponse> ExchangeForString(bhttp::request<RequestBody>& req, bool head,
                                             BeforeAttempt before_attempt) {
    using Parser = bhttp::response_parser<bhttp::string_body>;
    std::optional<Parser> parser;
    RETURN_IF_ERROR(ExchangeWithRetry(req, parser, [&](std::optional<Parser>& p) -> Status {
      p.emplace();
      p->body_limit(options.max_body_bytes);
      if (head) p->skip(true);
      return before_attempt();
    }));
    ClientResponse out;
    auto res = parser->release();
    CopyHeaders(res, &out);
    out.body = std::move(res.body());
    return out;
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() {
  if (impl_) impl_->Close();
}

StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(std::string_view base_url,
                                                         ClientOptions options) {
  ASSIGN_OR_RETURN(HttpUrl url, ParseHttpUrl(base_url));
  auto impl = std::make_unique<Impl>();
  impl->url = std::move(url);
  impl->options = std::move(options);
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

const HttpUrl& HttpClient::url() const { return impl_->url; }

StatusOr<ClientResponse> HttpClient::Request(std::string_view method, std::string_view target,
                                             std::string_view body,
                                             std::string_view content_type) {
  try {
    bhttp::request<bhttp::string_body> req;
    impl_->Prepare(req, method, target);
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
      req.set(bhttp::field::content_type, std::string(content_type));
      req.body() = std::string(body);
      req.prepare_payload();
    }
    return impl_->ExchangeForString(req, /*head=*/method == "HEAD", [] { return OkStatus(); });
  } catch (const std::exception& e) {
    impl_->Close();
    return Internal(std::string("HTTP request failed: ") + e.what());
  }
}

StatusOr<ClientResponse> HttpClient::DownloadToFile(std::string_view target,
                                                    const std::string& path) {
  try {
    bhttp::request<bhttp::empty_body> req;
    impl_->Prepare(req, "GET", target);
    using Parser = bhttp::response_parser<bhttp::file_body>;
    std::optional<Parser> parser;
    RETURN_IF_ERROR(impl_->ExchangeWithRetry(req, parser, [&](std::optional<Parser>& p) {
      p.emplace();
      // Not boost::none: Beast 1.74 compares the content length against the optional and
      // takes "none" as smaller than any length.
      p->body_limit(std::numeric_limits<std::uint64_t>::max());
      beast::error_code ec;
      p->get().body().open(path.c_str(), beast::file_mode::write, ec);
      if (ec) return Internal("cannot write '" + path + "': " + ec.message());
      return OkStatus();
    }));
    ClientResponse out;
    auto res = parser->release();
    res.body().close();
    CopyHeaders(res, &out);
    if (!out.ok()) {
      // Keep the error body for MlflowError, then drop the partial file.
      std::error_code ec;
      auto size = std::filesystem::file_size(path, ec);
      if (!ec && size <= impl_->options.max_body_bytes) {
        if (FILE* f = std::fopen(path.c_str(), "rb")) {
          out.body.resize(size);
          out.body.resize(std::fread(out.body.data(), 1, size, f));
          std::fclose(f);
        }
      }
      std::filesystem::remove(path, ec);
    }
    return out;
  } catch (const std::exception& e) {
    impl_->Close();
    return Internal(std::string("HTTP download failed: ") + e.what());
  }
}

StatusOr<ClientResponse> HttpClient::UploadFile(std::string_view method, std::string_view target,
                                                const std::string& path) {
  try {
    bhttp::request<bhttp::file_body> req;
    impl_->Prepare(req, method, target);
    beast::error_code ec;
    req.body().open(path.c_str(), beast::file_mode::scan, ec);
    if (ec) return NotFound("cannot read '" + path + "': " + ec.message());
    req.set(bhttp::field::content_type, "application/octet-stream");
    req.prepare_payload();
    // A retry re-sends the file from its start.
    return impl_->ExchangeForString(req, /*head=*/false, [&]() -> Status {
      beast::error_code seek_ec;
      req.body().file().seek(0, seek_ec);
      if (seek_ec) return Internal("cannot rewind '" + path + "': " + seek_ec.message());
      return OkStatus();
    });
  } catch (const std::exception& e) {
    impl_->Close();
    return Internal(std::string("HTTP upload failed: ") + e.what());
  }
}

Status MlflowError(const ClientResponse& response) {
  if (response.ok()) return OkStatus();
  std::string message;
  auto json = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object() && json.contains("message") && json["message"].is_string()) {
    message = json["message"].get<std::string>();
    if (json.contains("error_code") && json["error_code"].is_string()) {
      message = json["error_code"].get<std::string>() + ": " + message;
    }
  } else {
    message = "HTTP " + std::to_string(response.status);
    if (!response.body.empty()) message += ": " + response.body.substr(0, 300);
  }
  int s = response.status;
  if (s == 404) return NotFound(message);
  if (s == 400) return InvalidArgument(message);
  if (s == 409) return AlreadyExists(message);
  if (s == 401 || s == 403) return PermissionDenied(message);
  if (s >= 500) return Unavailable(message);
  if (s >= 400) return FailedPrecondition(message);
  return Internal(message);
}

}  // namespace cairn::http
