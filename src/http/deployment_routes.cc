#include "http/deployment_routes.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

#include "http/artifact_routes.h"
#include "http/errors.h"
#include "http/scoring_routes.h"

namespace cairn::http {

namespace {

using Json = nlohmann::ordered_json;
using serving::DeploymentInfo;
using serving::DeploymentManager;

constexpr const char* kBase = "/api/v1/deployments";

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Json DeploymentJson(const DeploymentInfo& info) {
  Json j = Json::parse(serving::DeploymentSpecToJson(info.stored.spec));
  // Annotate each route with the version it resolves to, in route order.
  size_t i = 0;
  auto annotate = [&](Json& route) {
    if (i < info.resolved_versions.size() && !info.resolved_versions[i].empty()) {
      route["version"] = info.resolved_versions[i];
    }
    ++i;
  };
  annotate(j["primary"]);
  if (j.contains("canary")) annotate(j["canary"]);
  if (j.contains("variants")) {
    for (Json& v : j["variants"]) annotate(v);
  }
  if (j.contains("shadows")) {
    for (Json& s : j["shadows"]) annotate(s);
  }
  j["state"] = info.ready ? "ready" : "failed";
  if (!info.error.empty()) j["error"] = info.error;
  j["generation"] = info.stored.generation;
  j["history_depth"] = info.stored.history.size();
  j["created_at"] = info.stored.created_ms;
  j["updated_at"] = info.stored.updated_ms;
  return j;
}

Response DeploymentResponse(const DeploymentInfo& info) {
  return Response::Json(Dump({{"deployment", DeploymentJson(info)}}));
}

StatusOr<Json> ParseBody(const Request& req) {
  if (req.body.empty()) return Json::object();
  Json j = Json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("the request body is not valid JSON");
  if (!j.is_object()) return InvalidArgument("the request body must be a JSON object");
  return j;
}

StatusOr<int64_t> TimeParam(const Request& req, const char* key, int64_t fallback) {
  auto v = req.QueryParam(key);
  if (!v || v->empty()) return fallback;
  try {
    size_t used = 0;
    int64_t ms = std::stoll(*v, &used);
    if (used == v->size()) return ms;
  } catch (const std::exception&) {
  }
  return InvalidArgument(std::string(key) + " must be milliseconds since the epoch, got '" + *v +
                         "'");
}

StatusOr<serving::InferenceQuery> QueryOf(const Request& req) {
  serving::InferenceQuery q;
  q.deployment = req.path_params.at("name");
  ASSIGN_OR_RETURN(q.from_ms, TimeParam(req, "start", 0));
  ASSIGN_OR_RETURN(q.to_ms, TimeParam(req, "end", INT64_MAX));
  ASSIGN_OR_RETURN(int64_t max_results, TimeParam(req, "max_results", 1000));
  if (max_results < 1 || max_results > 10000) {
    return InvalidArgument("max_results must be in 1..10000");
  }
  q.page_size = static_cast<size_t>(max_results);
  q.page_token = req.QueryParam("page_token").value_or("");
  return q;
}

Json Embedded(const std::string& text) {
  Json v = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) return text;
  return v;
}

Json RecordJson(const serving::InferenceRecord& r) {
  return {{"request_id", r.request_id},   {"time_ms", r.time_ms},
          {"deployment", r.deployment},   {"variant", r.variant},
          {"model_version", r.model_version}, {"entity_key", r.entity_key},
          {"input", Embedded(r.input_json)},  {"output", Embedded(r.output_json)},
          {"latency_us", r.latency_us}};
}

Status RecordOneOutcome(serving::InferenceLog& log, const std::string& deployment,
                        const Json& o, const std::string& field) {
  if (!o.is_object()) return InvalidArgument(field + " must be an object");
  auto value = o.find("value");
  if (value == o.end()) return InvalidArgument(field + ".value is required");
  auto rid = o.find("request_id");
  auto ent = o.find("entity_key");
  if ((rid == o.end()) == (ent == o.end())) {
    return InvalidArgument(field + " needs exactly one of request_id and entity_key");
  }
  const Json& key = rid != o.end() ? *rid : *ent;
  if (!key.is_string() && !key.is_number_integer()) {
    return InvalidArgument(field + (rid != o.end() ? ".request_id" : ".entity_key") +
                           " must be a string");
  }
  std::string key_text = key.is_string() ? key.get<std::string>() : key.dump();
  return log.RecordOutcome(
      deployment, rid != o.end() ? serving::OutcomeKey::kRequestId : serving::OutcomeKey::kEntityKey,
      key_text, Dump(*value));
}

Response ScoredResponse(const serving::ScoreResult& r, bool oip) {
  Response resp;
  if (!r.status.ok()) {
    resp = oip ? OipErrorResponse(r.status) : MlflowScoringErrorResponse(r.status);
  } else {
    resp = Response::Json(r.body);
  }
  resp.headers.emplace_back("X-Request-Id", r.request_id);
  if (!r.version.empty()) {
    resp.headers.emplace_back("X-Model-Name", r.model);
    resp.headers.emplace_back("X-Model-Version", r.version);
    resp.headers.emplace_back("X-Deployment-Variant", r.variant);
  }
  return resp;
}

// A client-chosen request id is kept when it is short and printable.
std::string ClientRequestId(const Request& req) {
  const std::string& id = req.Header("x-request-id");
  if (id.empty() || id.size() > 128) return "";
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return "";
  }
  return id;
}

}  // namespace

serving::ModelResolver MakeRegistryModelResolver(registry::RegistryStore& registry,
                                                 const artifacts::LocalArtifactStore& artifacts) {
  registry::RegistryStore* reg = &registry;
  const artifacts::LocalArtifactStore* store = &artifacts;
  return [reg, store](const serving::ModelRef& ref) -> StatusOr<serving::ResolvedRef> {
    std::string uri = "models:/" + ref.model +
                      (ref.follows_alias() ? "@" + ref.alias : "/" + ref.version);
    ASSIGN_OR_RETURN(registry::ResolvedModel resolved, reg->ResolveModelUri(uri));
    serving::ResolvedRef out;
    out.version = std::to_string(resolved.version);
    const std::string& location = resolved.artifact_location;
    if (location.rfind("mlflow-artifacts:", 0) == 0) {
      ASSIGN_OR_RETURN(std::string rel, ArtifactUriToRelativePath(location));
      ASSIGN_OR_RETURN(out.path, store->Resolve(rel));
    } else if (location.rfind("file://", 0) == 0) {
      out.path = location.substr(7);
    } else if (!location.empty() && location[0] == '/') {
      out.path = location;
    } else {
      return InvalidArgument("model '" + ref.model + "' version " + out.version +
                             " has an artifact location cairn cannot read: '" + location + "'");
    }
    return out;
  };
}

void RegisterDeploymentRoutes(Router& router, DeploymentManager& manager,
                              serving::InferenceLog* log) {
  DeploymentManager* m = &manager;
  std::string base = kBase;

  auto put = [m](const Request& req, const std::string& name) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(serving::DeploymentSpec spec,
                     serving::DeploymentSpecFromJson(req.body, name));
    ASSIGN_OR_RETURN(DeploymentInfo info, m->Put(std::move(spec)));
    return DeploymentResponse(info);
  };
  router.Add("PUT", base + "/{name}", [put](const Request& req) -> StatusOr<Response> {
    return put(req, req.path_params.at("name"));
  });
  router.Add("POST", base, [put](const Request& req) { return put(req, ""); });
  router.Add("GET", base, [m](const Request& req) -> StatusOr<Response> {
    std::string env = req.QueryParam("environment").value_or("");
    Json list = Json::array();
    for (const DeploymentInfo& info : m->List(env)) list.push_back(DeploymentJson(info));
    return Response::Json(Dump({{"deployments", list}}));
  });
  router.Add("GET", base + "/{name}", [m](const Request& req) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(DeploymentInfo info, m->Get(req.path_params.at("name")));
    return DeploymentResponse(info);
  });
  router.Add("DELETE", base + "/{name}", [m](const Request& req) -> StatusOr<Response> {
    RETURN_IF_ERROR(m->Delete(req.path_params.at("name")));
    return Response::Json("{}");
  });
  router.Add("POST", base + "/{name}/weights", [m](const Request& req) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(Json body, ParseBody(req));
    serving::WeightChange change;
    for (auto it = body.begin(); it != body.end(); ++it) {
      if (it.key() == "canary") {
        if (!it->is_number()) return InvalidArgument("canary must be a number (percent)");
        change.canary = it->get<double>();
      } else if (it.key() == "variants") {
        if (!it->is_object()) {
          return InvalidArgument("variants must be an object {\"name\": weight, ...}");
        }
        for (auto v = it->begin(); v != it->end(); ++v) {
          if (!v->is_number()) return InvalidArgument("variants." + v.key() + " must be a number");
          change.variants.emplace_back(v.key(), v->get<double>());
        }
      } else {
        return InvalidArgument("unknown key '" + it.key() + "' (expected canary or variants)");
      }
    }
    ASSIGN_OR_RETURN(DeploymentInfo info, m->SetWeights(req.path_params.at("name"), change));
    return DeploymentResponse(info);
  });
  router.Add("POST", base + "/{name}/promote", [m](const Request& req) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(DeploymentInfo info, m->PromoteCanary(req.path_params.at("name")));
    return DeploymentResponse(info);
  });
  router.Add("POST", base + "/{name}/rollback", [m](const Request& req) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(DeploymentInfo info, m->Rollback(req.path_params.at("name")));
    return DeploymentResponse(info);
  });

  // ---- scoring ----
  auto score = [m](const Request& req, serving::ScoreProtocol protocol, bool oip) {
    serving::ScoreRequest sr;
    sr.deployment = req.path_params.at("name");
    sr.protocol = protocol;
    sr.content_type = req.Header("content-type");
    sr.body = req.body;
    sr.headers = &req.headers;
    sr.request_id = ClientRequestId(req);
    if (auto v = req.path_params.find("version"); v != req.path_params.end()) {
      sr.pinned_version = v->second;
    }
    return ScoredResponse(m->Score(sr), oip);
  };
  router.Add("POST", base + "/{name}/invocations", [score](const Request& req) -> StatusOr<Response> {
    return score(req, serving::ScoreProtocol::kInvocations, false);
  });

  // ---- Open Inference Protocol v2: a deployment is a model ----
  router.Add("GET", "/v2", [](const Request&) -> StatusOr<Response> {
    return Response::Json(Dump({{"name", "cairn"}, {"version", "1"},
                                {"extensions", Json::array()}}));
  });
  router.Add("GET", "/v2/health/live", [](const Request&) -> StatusOr<Response> {
    return Response::Json(R"({"live":true})");
  });
  router.Add("GET", "/v2/health/ready", [](const Request&) -> StatusOr<Response> {
    return Response::Json(R"({"ready":true})");
  });
  for (std::string v2 : {"/v2/models/{name}", "/v2/models/{name}/versions/{version}"}) {
    auto info_of = [m](const Request& req, DeploymentInfo* out) -> Status {
      const std::string& name = req.path_params.at("name");
      auto info = m->Get(name);
      if (!info.ok()) return NotFound("model '" + name + "' is not served here");
      auto v = req.path_params.find("version");
      if (v != req.path_params.end() &&
          std::find(info->resolved_versions.begin(), info->resolved_versions.end(), v->second) ==
              info->resolved_versions.end()) {
        return NotFound("model '" + name + "' has no version '" + v->second + "' here");
      }
      *out = std::move(*info);
      return OkStatus();
    };
    router.Add("GET", v2, [m, info_of](const Request& req) -> StatusOr<Response> {
      DeploymentInfo info;
      if (Status st = info_of(req, &info); !st.ok()) return OipErrorResponse(st);
      auto v = req.path_params.find("version");
      auto served = m->ServedVersion(info.stored.spec.name,
                                     v == req.path_params.end() ? "" : v->second);
      if (!served.ok()) return OipErrorResponse(served.status());
      std::vector<std::string> versions;
      for (const std::string& r : info.resolved_versions) {
        if (!r.empty() && std::find(versions.begin(), versions.end(), r) == versions.end()) {
          versions.push_back(r);
        }
      }
      const serving::ServedModel& sm = **served;
      return Response::Json(serving::EncodeV2ModelMetadata(
          info.stored.spec.name, versions, sm.loaded.flavor, sm.decoder,
          sm.loaded.model->output_width(), sm.loaded.model->output_kind()));
    });
    router.Add("GET", v2 + "/ready", [info_of](const Request& req) -> StatusOr<Response> {
      DeploymentInfo info;
      if (Status st = info_of(req, &info); !st.ok()) return OipErrorResponse(st);
      return Response::Json(Dump({{"name", info.stored.spec.name}, {"ready", info.ready}}),
                            info.ready ? 200 : 503);
    });
    router.Add("POST", v2 + "/infer", [score](const Request& req) -> StatusOr<Response> {
      return score(req, serving::ScoreProtocol::kInfer, true);
    });
  }

  // ---- inference log, outcomes ----
  router.Add("GET", base + "/{name}/inferences", [m, log](const Request& req) -> StatusOr<Response> {
    if (log == nullptr) return FailedPrecondition("this server has no inference log");
    ASSIGN_OR_RETURN(serving::InferenceQuery q, QueryOf(req));
    std::string format = req.QueryParam("format").value_or("json");
    // Read-your-writes: what was scored before this query is in the answer.
    RETURN_IF_ERROR(log->Flush());
    if (format == "csv" || format == "jsonl") {
      std::ostringstream out;
      if (format == "csv") {
        RETURN_IF_ERROR(log->ExportCsv(q, out));
        Response r = Response::Text(out.str());
        r.content_type = "text/csv; charset=utf-8";
        return r;
      }
      RETURN_IF_ERROR(log->ExportJsonLines(q, out));
      Response r = Response::Text(out.str());
      r.content_type = "application/x-ndjson";
      return r;
    }
    if (format != "json") return InvalidArgument("format must be json, jsonl or csv");
    ASSIGN_OR_RETURN(serving::InferencePage page, log->Query(q));
    Json records = Json::array();
    for (const auto& r : page.records) records.push_back(RecordJson(r));
    Json out = {{"inferences", records}};
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return Response::Json(Dump(out));
  });
  router.Add("POST", base + "/{name}/outcomes", [m, log](const Request& req) -> StatusOr<Response> {
    if (log == nullptr) return FailedPrecondition("this server has no inference log");
    const std::string& name = req.path_params.at("name");
    RETURN_IF_ERROR(m->Get(name).status());
    ASSIGN_OR_RETURN(Json body, ParseBody(req));
    size_t n = 0;
    if (auto list = body.find("outcomes"); list != body.end()) {
      if (!list->is_array()) return InvalidArgument("outcomes must be a list");
      for (size_t i = 0; i < list->size(); ++i) {
        RETURN_IF_ERROR(
            RecordOneOutcome(*log, name, (*list)[i], "outcomes[" + std::to_string(i) + "]"));
        ++n;
      }
    } else {
      RETURN_IF_ERROR(RecordOneOutcome(*log, name, body, "outcome"));
      n = 1;
    }
    return Response::Json(Dump({{"recorded", n}}));
  });
  router.Add("GET", base + "/{name}/outcomes", [log](const Request& req) -> StatusOr<Response> {
    if (log == nullptr) return FailedPrecondition("this server has no inference log");
    ASSIGN_OR_RETURN(serving::InferenceQuery q, QueryOf(req));
    RETURN_IF_ERROR(log->Flush());
    ASSIGN_OR_RETURN(serving::OutcomePage page, log->JoinOutcomes(q));
    Json rows = Json::array();
    for (const auto& r : page.rows) {
      Json j = RecordJson(r.request);
      j["outcome"] = Embedded(r.outcome_json);
      j["outcome_time_ms"] = r.outcome_time_ms;
      rows.push_back(j);
    }
    Json out = {{"outcomes", rows}};
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return Response::Json(Dump(out));
  });

  router.Add("GET", "/metrics", [m, log](const Request&) -> StatusOr<Response> {
    std::string text = m->RenderPrometheus();
    if (log != nullptr) text += log->RenderPrometheus();
    Response r = Response::Text(text);
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  });
}

}  // namespace cairn::http
