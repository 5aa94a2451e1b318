// `cairn model ...`: the model registry from a shell or a CI job, talking to a running
// `cairn server` over HTTP (--tracking-uri, else $MLFLOW_TRACKING_URI, else
// http://127.0.0.1:5000).
//
//   cairn model resolve URI                       prints the version a models:/ URI names and
//                                                 where its files are
//   cairn model promote NAME --version V --to ENV moves alias ENV (dev, test, prod, ...) to V if
//                                                 the model's promotion gate passes
//
// Exit codes: 0 done; 3 the gate refused the promotion (the failed conditions are listed on
// stderr); 1 any other failure (unknown model, server unreachable, ...); 2 usage.
//
// The HTTP client is a small blocking one on POSIX sockets (plain http only), kept in this
// file: one request per connection, `Connection: close`.

#include <CLI/CLI.hpp>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/command.h"
#include "common/status.h"

namespace cairn::cli {
namespace {

using nlohmann::json;

constexpr int kExitGateRefused = 3;
constexpr int kTimeoutSeconds = 60;

struct HttpReply {
  int status = 0;
  std::string body;
};

struct ServerAddress {
  std::string host;
  std::string port = "80";
  std::string base_path;  // without a trailing '/'
};

StatusOr<ServerAddress> ParseTrackingUri(std::string uri) {
  constexpr std::string_view kHttp = "http://";
  if (uri.rfind(kHttp, 0) != 0) {
    return InvalidArgument("tracking URI '" + uri +
                           "' is not supported: use http://HOST:PORT of a cairn server");
  }
  uri = uri.substr(kHttp.size());
  ServerAddress a;
  size_t slash = uri.find('/');
  std::string authority = uri.substr(0, slash);
  if (slash != std::string::npos) a.base_path = uri.substr(slash);
  while (!a.base_path.empty() && a.base_path.back() == '/') a.base_path.pop_back();
  size_t at = authority.rfind('@');
  if (at != std::string::npos) authority = authority.substr(at + 1);
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    a.port = authority.substr(colon + 1);
    authority = authority.substr(0, colon);
  }
  if (!authority.empty() && authority.front() == '[' && authority.back() == ']') {
    authority = authority.substr(1, authority.size() - 2);
  }
  if (authority.empty()) return InvalidArgument("tracking URI has no host");
  a.host = authority;
  return a;
}

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Decodes a chunked body; returns the input unchanged when it is not well-formed chunks.
std::string Dechunk(const std::string& body) {
  std::string out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t eol = body.find("\r\n", pos);
    if (eol == std::string::npos) return body;
    size_t size = std::strtoul(body.substr(pos, eol - pos).c_str(), nullptr, 16);
    pos = eol + 2;
    if (size == 0) return out;
    if (pos + size > body.size()) return body;
    out.append(body, pos, size);
    pos += size + 2;
  }
  return out;
}

StatusOr<HttpReply> HttpCall(const ServerAddress& server, const std::string& method,
                             const std::string& path, const std::string& body) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(server.host.c_str(), server.port.c_str(), &hints, &found);
  if (rc != 0) {
    return Unavailable("cannot resolve " + server.host + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addrs(found, freeaddrinfo);
  int fd = -1;
  for (addrinfo* a = found; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    timeval tv{kTimeoutSeconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  if (fd < 0) {
    return Unavailable("cannot connect to http://" + server.host + ":" + server.port + ": " +
                       std::strerror(errno));
  }
  std::string request = method + " " + server.base_path + path + " HTTP/1.1\r\nHost: " +
                        server.host + ":" + server.port +
                        "\r\nUser-Agent: cairn-cli\r\nAccept: application/json\r\n"
                        "Connection: close\r\n";
  if (!body.empty() || method == "POST") {
    request += "Content-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      close(fd);
      return Unavailable(std::string("sending the request failed: ") + std::strerror(errno));
    }
    sent += static_cast<size_t>(n);
  }
  std::string response;
  char buf[16384];
  while (true) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0) {
      close(fd);
      return Unavailable(std::string("reading the response failed: ") + std::strerror(errno));
    }
    if (n == 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  size_t header_end = response.find("\r\n\r\n");
  if (response.rfind("HTTP/", 0) != 0 || header_end == std::string::npos) {
    return Unavailable("the server sent no valid HTTP response");
  }
  HttpReply reply;
  size_t space = response.find(' ');
  reply.status = std::atoi(response.c_str() + space + 1);
  std::string headers = response.substr(0, header_end);
  for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  reply.body = response.substr(header_end + 4);
  if (headers.find("transfer-encoding: chunked") != std::string::npos) {
    reply.body = Dechunk(reply.body);
  }
  return reply;
}

// The server's error message, or the status line when the body is not an MLflow error.
std::string ErrorText(const HttpReply& reply) {
  json body = json::parse(reply.body, nullptr, false);
  if (body.is_object() && body.contains("message") && body["message"].is_string()) {
    std::string code = body.value("error_code", "");
    return (code.empty() ? "" : code + ": ") + body["message"].get<std::string>();
  }
  return "HTTP " + std::to_string(reply.status) +
         (reply.status == 404 ? " (is this a cairn server?)" : "");
}

std::string TrackingUri(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("MLFLOW_TRACKING_URI"); env && *env) return env;
  return "http://127.0.0.1:5000";
}

struct ResolveArgs {
  std::string uri;
  std::string tracking_uri;
  bool json_output = false;
};

int RunResolve(const ResolveArgs& args) {
  auto server = ParseTrackingUri(TrackingUri(args.tracking_uri));
  if (!server.ok()) {
    std::fprintf(stderr, "cairn model resolve: %s\n", server.status().message().c_str());
    return kExitUsage;
  }
  auto reply = HttpCall(*server, "GET", "/api/v1/models/resolve?uri=" + UrlEncode(args.uri), "");
  if (!reply.ok()) {
    std::fprintf(stderr, "cairn model resolve: %s\n", reply.status().message().c_str());
    return kExitFailed;
  }
  if (reply->status != 200) {
    std::fprintf(stderr, "cairn model resolve: %s\n", ErrorText(*reply).c_str());
    return kExitFailed;
  }
  json body = json::parse(reply->body, nullptr, false);
  if (!body.is_object()) {
    std::fprintf(stderr, "cairn model resolve: the server answered with malformed JSON\n");
    return kExitFailed;
  }
  if (args.json_output) {
    std::printf("%s\n", body.dump(2).c_str());
    return kExitOk;
  }
  for (const char* key : {"name", "version", "current_stage", "run_id", "model_id", "source",
                          "download_uri", "artifact_location"}) {
    if (body.contains(key) && body[key].is_string() && !body[key].get<std::string>().empty()) {
      std::printf("%s: %s\n", key, body[key].get<std::string>().c_str());
    }
  }
  if (body.contains("aliases") && body["aliases"].is_array() && !body["aliases"].empty()) {
    std::string aliases;
    for (const auto& a : body["aliases"]) {
      aliases += (aliases.empty() ? "" : ", ") + a.get<std::string>();
    }
    std::printf("aliases: %s\n", aliases.c_str());
  }
  return kExitOk;
}

struct PromoteArgs {
  std::string name;
  std::string version;
  std::string to;
  std::string user;
  std::string tracking_uri;
  bool dry_run = false;
};

void PrintChecks(std::FILE* out, const json& gate) {
  if (!gate.is_object() || !gate.contains("checks")) return;
  for (const auto& c : gate["checks"]) {
    std::fprintf(out, "  [%s] %s: %s\n", c.value("passed", false) ? "pass" : "FAIL",
                 c.value("condition", "").c_str(), c.value("detail", "").c_str());
  }
}

int RunPromote(const PromoteArgs& args) {
  auto server = ParseTrackingUri(TrackingUri(args.tracking_uri));
  if (!server.ok()) {
    std::fprintf(stderr, "cairn model promote: %s\n", server.status().message().c_str());
    return kExitUsage;
  }
  std::string user = args.user;
  if (user.empty()) {
    if (const char* env = std::getenv("USER"); env) user = env;
  }
  json request = {{"version", args.version}, {"to", args.to}, {"dry_run", args.dry_run}};
  if (!user.empty()) request["user"] = user;
  auto reply = HttpCall(*server, "POST", "/api/v1/models/" + UrlEncode(args.name) + "/promote",
                        request.dump());
  if (!reply.ok()) {
    std::fprintf(stderr, "cairn model promote: %s\n", reply.status().message().c_str());
    return kExitFailed;
  }
  json body = json::parse(reply->body, nullptr, false);
  if (reply->status == 200 && body.is_object()) {
    std::string from = body.value("from_version", json()).is_string()
                           ? "v" + body["from_version"].get<std::string>()
                           : "none";
    if (args.dry_run) {
      bool passed = body["gate"].value("passed", false);
      std::printf("dry run: the gate %s promoting %s v%s to %s (now %s)\n",
                  passed ? "allows" : "refuses", args.name.c_str(), args.version.c_str(),
                  args.to.c_str(), from.c_str());
      PrintChecks(stdout, body["gate"]);
      return passed ? kExitOk : kExitGateRefused;
    }
    std::printf("promoted %s v%s to %s (was %s)\n", args.name.c_str(), args.version.c_str(),
                args.to.c_str(), from.c_str());
    PrintChecks(stdout, body["gate"]);
    return kExitOk;
  }
  if (body.is_object() && body.value("error_code", "") == "PROMOTION_GATE_FAILED") {
    std::fprintf(stderr, "cairn model promote: %s\n", body.value("message", "").c_str());
    return kExitGateRefused;
  }
  std::fprintf(stderr, "cairn model promote: %s\n", ErrorText(*reply).c_str());
  return kExitFailed;
}

void AddModelCommand(CLI::App& app) {
  CLI::App* model = app.add_subcommand("model", "The model registry: resolve URIs, promote");
  model->require_subcommand(1);

  auto resolve = std::make_shared<ResolveArgs>();
  CLI::App* r = model->add_subcommand(
      "resolve", "Print the version a models:/ URI names and where its files are");
  r->add_option("uri", resolve->uri,
                "models:/NAME/VERSION, models:/NAME@ALIAS, models:/NAME/STAGE, "
                "models:/NAME/latest or models:/LOGGED_MODEL_ID")
      ->required();
  r->add_option("--tracking-uri", resolve->tracking_uri,
                "cairn server (default: $MLFLOW_TRACKING_URI, else http://127.0.0.1:5000)");
  r->add_flag("--json", resolve->json_output, "Print the server's JSON answer");
  r->callback([resolve] { SetExitCode(RunResolve(*resolve)); });

  auto promote = std::make_shared<PromoteArgs>();
  CLI::App* p = model->add_subcommand(
      "promote", "Move an environment alias to a version if the model's promotion gate passes "
                 "(exit 3 with the failed conditions when it does not)");
  p->add_option("name", promote->name, "Registered model name")->required();
  p->add_option("--version", promote->version, "Model version to promote")->required();
  p->add_option("--to", promote->to, "Target environment alias (dev, test, prod, ...)")
      ->required();
  p->add_option("--user", promote->user, "Recorded in the alias history (default: $USER)");
  p->add_option("--tracking-uri", promote->tracking_uri,
                "cairn server (default: $MLFLOW_TRACKING_URI, else http://127.0.0.1:5000)");
  p->add_flag("--dry-run", promote->dry_run, "Check the gate only; move nothing, record nothing");
  p->callback([promote] { SetExitCode(RunPromote(*promote)); });
}

}  // namespace

CAIRN_REGISTER_COMMAND(AddModelCommand);

}  // namespace cairn::cli
