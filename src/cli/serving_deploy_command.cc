// `cairn deploy ...`: deployments of a running `cairn server`, over its native API
// (--server-uri, else $CAIRN_SERVER_URI, else $MLFLOW_TRACKING_URI, else
// http://127.0.0.1:5000):
//
//   cairn deploy create NAME --model M (--version V | --alias A) [--environment dev|test|prod]
//        [--canary V|@ALIAS --canary-weight W] [--shadow V|@ALIAS ...] [--sticky-header H]
//        [--spec FILE.json]                      create or replace (FILE: the API's JSON body)
//   cairn deploy get NAME | list [--environment E] | delete NAME
//   cairn deploy set-weights NAME (--canary W | --variant NAME=W ...)
//   cairn deploy promote NAME | rollback NAME
//   cairn deploy inferences NAME [--start MS] [--end MS] [--format csv|jsonl|json] [--out FILE]
//
// Exit codes: 0 done; 1 the server refused or could not be reached (its message on stderr);
// 2 usage.

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "common/status.h"
#include "http/http_client.h"

namespace cairn::cli {
namespace {

using nlohmann::ordered_json;

struct DeployArgs {
  std::string server_uri;
  bool json_output = false;
  std::string name;
  // create
  std::string model, version, alias, environment = "dev", canary, spec_file, sticky_header;
  double canary_weight = -1;
  std::vector<std::string> shadows;
  // list
  std::string list_environment;
  // set-weights
  double weight_canary = -1;
  std::vector<std::string> variant_weights;
  // inferences
  std::string start, end, format = "csv", out;
};

std::string ServerUri(const std::string& flag) {
  if (!flag.empty()) return flag;
  for (const char* var : {"CAIRN_SERVER_URI", "MLFLOW_TRACKING_URI"}) {
    if (const char* env = std::getenv(var); env && *env) return env;
  }
  return "http://127.0.0.1:5000";
}

int Fail(const std::string& what, const Status& st) {
  std::fprintf(stderr, "cairn deploy %s: %s\n", what.c_str(), st.message().c_str());
  return st.code() == Code::kInvalidArgument && st.message().find("URL") != std::string::npos
             ? kExitUsage
             : kExitFailed;
}

// Sends one request; prints the server's error and returns false on failure.
bool Call(const DeployArgs& args, const std::string& what, const std::string& method,
          const std::string& target, const std::string& body, http::ClientResponse* out) {
  auto client = http::HttpClient::Create(ServerUri(args.server_uri));
  if (!client.ok()) {
    Fail(what, client.status());
    return false;
  }
  auto reply = (*client)->Request(method, target, body);
  if (!reply.ok()) {
    Fail(what, reply.status());
    return false;
  }
  if (Status st = http::MlflowError(*reply); !st.ok()) {
    Fail(what, st);
    return false;
  }
  *out = std::move(*reply);
  return true;
}

std::string Target(const std::string& name, const std::string& rest = "") {
  return "/api/v1/deployments/" + http::UrlEncode(name) + rest;
}

std::string RouteText(const ordered_json& r) {
  std::string s = r.value("model", "") + " v" + r.value("version", "?");
  if (r.contains("alias")) s += " (@" + r.value("alias", "") + ")";
  return s;
}

void PrintDeployment(const ordered_json& d) {
  std::printf("%s [%s] %s, generation %llu\n", d.value("name", "").c_str(),
              d.value("environment", "").c_str(), d.value("state", "").c_str(),
              static_cast<unsigned long long>(d.value("generation", 0ull)));
  std::printf("  primary  %s\n", RouteText(d["primary"]).c_str());
  if (d.contains("canary")) {
    std::printf("  canary   %s  %g%%\n", RouteText(d["canary"]).c_str(),
                d["canary"].value("weight", 0.0));
  }
  if (d.contains("variants")) {
    for (const auto& v : d["variants"]) {
      std::printf("  variant  %s: %s  %g%%\n", v.value("name", "").c_str(), RouteText(v).c_str(),
                  v.value("weight", 0.0));
    }
  }
  if (d.contains("sticky")) std::printf("  sticky   %s\n", d["sticky"].dump().c_str());
  if (d.contains("shadows")) {
    for (const auto& s : d["shadows"]) std::printf("  shadow   %s\n", RouteText(s).c_str());
  }
  if (d.contains("error")) std::printf("  error    %s\n", d.value("error", "").c_str());
}

int PrintAnswer(const DeployArgs& args, const http::ClientResponse& reply) {
  ordered_json body = ordered_json::parse(reply.body, nullptr, false);
  if (args.json_output || !body.is_object()) {
    std::printf("%s\n", body.is_discarded() ? reply.body.c_str() : body.dump(2).c_str());
    return kExitOk;
  }
  if (body.contains("deployment")) PrintDeployment(body["deployment"]);
  if (body.contains("deployments")) {
    for (const auto& d : body["deployments"]) PrintDeployment(d);
  }
  return kExitOk;
}

// "3" -> {"version": "3"}, "@champion" -> {"alias": "champion"}.
ordered_json Ref(const std::string& model, const std::string& version_or_alias) {
  ordered_json r = {{"model", model}};
  if (!version_or_alias.empty() && version_or_alias[0] == '@') {
    r["alias"] = version_or_alias.substr(1);
  } else {
    r["version"] = version_or_alias;
  }
  return r;
}

int RunCreate(const DeployArgs& args) {
  std::string body;
  if (!args.spec_file.empty()) {
    std::ifstream in(args.spec_file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cairn deploy create: cannot read %s\n", args.spec_file.c_str());
      return kExitUsage;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    body = ss.str();
  } else {
    if (args.model.empty() || (args.version.empty() == args.alias.empty())) {
      std::fprintf(stderr,
                   "cairn deploy create: give --model and one of --version / --alias (or --spec)\n");
      return kExitUsage;
    }
    ordered_json spec = {{"environment", args.environment},
                         {"primary", Ref(args.model, args.alias.empty() ? args.version
                                                                        : "@" + args.alias)}};
    if (!args.canary.empty()) {
      ordered_json c = Ref(args.model, args.canary);
      c["weight"] = args.canary_weight < 0 ? 10.0 : args.canary_weight;
      spec["canary"] = c;
    }
    for (const std::string& s : args.shadows) spec["shadows"].push_back(Ref(args.model, s));
    if (!args.sticky_header.empty()) spec["sticky"] = {{"header", args.sticky_header}};
    body = spec.dump();
  }
  http::ClientResponse reply;
  if (!Call(args, "create", "PUT", Target(args.name), body, &reply)) return kExitFailed;
  return PrintAnswer(args, reply);
}

int RunSimple(const DeployArgs& args, const std::string& what, const std::string& method,
              const std::string& target) {
  http::ClientResponse reply;
  if (!Call(args, what, method, target, "", &reply)) return kExitFailed;
  if (method == "DELETE") {
    std::printf("deleted %s\n", args.name.c_str());
    return kExitOk;
  }
  return PrintAnswer(args, reply);
}

int RunSetWeights(const DeployArgs& args) {
  ordered_json body = ordered_json::object();
  if (args.weight_canary >= 0) body["canary"] = args.weight_canary;
  for (const std::string& vw : args.variant_weights) {
    size_t eq = vw.find('=');
    char* end = nullptr;
    double w = eq == std::string::npos ? 0 : std::strtod(vw.c_str() + eq + 1, &end);
    if (eq == std::string::npos || eq == 0 || end == nullptr || *end != '\0') {
      std::fprintf(stderr, "cairn deploy set-weights: --variant takes NAME=WEIGHT, got '%s'\n",
                   vw.c_str());
      return kExitUsage;
    }
    body["variants"][vw.substr(0, eq)] = w;
  }
  if (body.empty()) {
    std::fprintf(stderr, "cairn deploy set-weights: give --canary W or --variant NAME=W\n");
    return kExitUsage;
  }
  http::ClientResponse reply;
  if (!Call(args, "set-weights", "POST", Target(args.name, "/weights"), body.dump(), &reply)) {
    return kExitFailed;
  }
  return PrintAnswer(args, reply);
}

int RunInferences(const DeployArgs& args) {
  std::string target = Target(args.name, "/inferences?format=" + http::UrlEncode(args.format));
  if (!args.start.empty()) target += "&start=" + http::UrlEncode(args.start);
  if (!args.end.empty()) target += "&end=" + http::UrlEncode(args.end);
  if (args.format == "json") target += "&max_results=10000";
  http::ClientResponse reply;
  if (!Call(args, "inferences", "GET", target, "", &reply)) return kExitFailed;
  if (args.out.empty()) {
    std::fwrite(reply.body.data(), 1, reply.body.size(), stdout);
    return kExitOk;
  }
  std::ofstream out(args.out, std::ios::binary);
  out << reply.body;
  if (!out) {
    std::fprintf(stderr, "cairn deploy inferences: cannot write %s\n", args.out.c_str());
    return kExitFailed;
  }
  std::fprintf(stderr, "wrote %zu bytes to %s\n", reply.body.size(), args.out.c_str());
  return kExitOk;
}

void AddDeployCommand(CLI::App& app) {
  auto args = std::make_shared<DeployArgs>();
  CLI::App* deploy = app.add_subcommand(
      "deploy", "Deployments of a cairn server: canary, A/B, shadow, promote, roll back");
  deploy->require_subcommand(1);
  auto common = [args](CLI::App* c, bool named) {
    if (named) c->add_option("name", args->name, "Deployment name")->required();
    c->add_option("--server-uri", args->server_uri,
                  "cairn server URL (default: $CAIRN_SERVER_URI, $MLFLOW_TRACKING_URI, "
                  "http://127.0.0.1:5000)");
    c->add_flag("--json", args->json_output, "Print the server's JSON answer");
  };

  CLI::App* create = deploy->add_subcommand("create", "Create or replace a deployment");
  common(create, true);
  create->add_option("--model", args->model, "Registered model");
  create->add_option("--version", args->version, "Model version to serve");
  create->add_option("--alias", args->alias, "Serve the version this alias points to, following it");
  create->add_option("--environment", args->environment, "dev, test or prod")
      ->capture_default_str();
  create->add_option("--canary", args->canary, "Canary version (or @alias) of the same model");
  create->add_option("--canary-weight", args->canary_weight, "Canary traffic in % (default 10)");
  create->add_option("--shadow", args->shadows, "Shadow version (or @alias); repeatable");
  create->add_option("--sticky-header", args->sticky_header,
                     "Assign canary traffic by this request header's value");
  create->add_option("--spec", args->spec_file, "The whole deployment as a JSON file");
  create->callback([args] { SetExitCode(RunCreate(*args)); });

  CLI::App* get = deploy->add_subcommand("get", "Show a deployment");
  common(get, true);
  get->callback([args] {
    SetExitCode(RunSimple(*args, "get", "GET", Target(args->name)));
  });
  CLI::App* list = deploy->add_subcommand("list", "List deployments");
  common(list, false);
  list->add_option("--environment", args->list_environment, "Only this environment");
  list->callback([args] {
    std::string target = "/api/v1/deployments";
    if (!args->list_environment.empty()) {
      target += "?environment=" + http::UrlEncode(args->list_environment);
    }
    SetExitCode(RunSimple(*args, "list", "GET", target));
  });
  CLI::App* del = deploy->add_subcommand("delete", "Delete a deployment");
  common(del, true);
  del->callback([args] {
    SetExitCode(RunSimple(*args, "delete", "DELETE", Target(args->name)));
  });
  CLI::App* promote = deploy->add_subcommand("promote", "Make the canary the primary");
  common(promote, true);
  promote->callback([args] {
    SetExitCode(RunSimple(*args, "promote", "POST", Target(args->name, "/promote")));
  });
  CLI::App* rollback =
      deploy->add_subcommand("rollback", "Restore the routing before the last change");
  common(rollback, true);
  rollback->callback([args] {
    SetExitCode(RunSimple(*args, "rollback", "POST", Target(args->name, "/rollback")));
  });
  CLI::App* weights = deploy->add_subcommand("set-weights", "Change canary or A/B weights");
  common(weights, true);
  weights->add_option("--canary", args->weight_canary, "Canary traffic in %");
  weights->add_option("--variant", args->variant_weights, "NAME=WEIGHT for every A/B variant");
  weights->callback([args] { SetExitCode(RunSetWeights(*args)); });
  CLI::App* inferences =
      deploy->add_subcommand("inferences", "Export a deployment's inference log");
  common(inferences, true);
  inferences->add_option("--start", args->start, "From this time (ms since the epoch)");
  inferences->add_option("--end", args->end, "Before this time (ms since the epoch)");
  inferences->add_option("--format", args->format, "csv, jsonl or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"csv", "jsonl", "json"}));
  inferences->add_option("--out", args->out, "Write to this file instead of stdout");
  inferences->callback([args] { SetExitCode(RunInferences(*args)); });
}

}  // namespace

CAIRN_REGISTER_COMMAND(AddDeployCommand);

}  // namespace cairn::cli
