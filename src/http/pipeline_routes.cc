#include "http/pipeline_routes.h"

#include <nlohmann/json.hpp>

#include "http/mlflow_json.h"

namespace cairn::http {

namespace {

using Json = nlohmann::json;

Json PipelineToJson(const pipeline::RegisteredPipeline& p) {
  Json params = Json::object();
  for (const auto& [k, v] : p.params) params[k] = v;
  Json schedule = nullptr;
  if (!p.schedule_cron.empty()) {
    schedule = {{"cron", p.schedule_cron},
                {"timezone", p.schedule_timezone.empty() ? "UTC" : p.schedule_timezone}};
  }
  return {{"name", p.name},           {"spec_path", p.spec_path},
          {"params", params},         {"schedule", schedule},
          {"concurrency", p.concurrency}, {"created_at", p.created_at},
          {"updated_at", p.updated_at}};
}

Json RunToJson(const pipeline::PipelineRunRecord& r) {
  Json j = {{"run_id", r.run_id},
            {"pipeline", r.pipeline},
            {"trigger", r.trigger},
            {"reason", r.reason},
            {"status", r.status},
            {"tracking_run_id", r.tracking_run_id},
            {"start_time", r.start_time},
            {"end_time", r.end_time ? Json(*r.end_time) : Json(nullptr)},
            {"duration_ms", r.duration_ms},
            {"executed", r.executed},
            {"cached", r.cached},
            {"failed", r.failed},
            {"skipped", r.skipped},
            {"not_run", r.not_run},
            {"retries", r.retries},
            {"failed_step", r.failed_step},
            {"log_tail", r.log_tail},
            {"message", r.message}};
  Json steps = Json::array();
  for (const auto& s : r.steps) {
    steps.push_back({{"step", s.step},
                     {"status", s.status},
                     {"attempts", s.attempts},
                     {"duration_ms", s.duration_ms},
                     {"cache_hit", s.cache_hit},
                     {"rows_in", s.rows_in ? Json(*s.rows_in) : Json(nullptr)},
                     {"rows_out", s.rows_out ? Json(*s.rows_out) : Json(nullptr)},
                     {"exit_code", s.exit_code},
                     {"message", s.message}});
  }
  j["steps"] = std::move(steps);
  return j;
}

// A JSON object of param overrides; values may be strings, numbers or booleans.
StatusOr<std::map<std::string, std::string>> ParamsOf(const Json& msg) {
  std::map<std::string, std::string> out;
  if (!msg.contains("params") || msg["params"].is_null()) return out;
  const Json& p = msg["params"];
  if (!p.is_object()) return InvalidArgument("'params' must be an object of name: value");
  for (const auto& [k, v] : p.items()) {
    if (v.is_string()) {
      out[k] = v.get<std::string>();
    } else if (v.is_number() || v.is_boolean()) {
      out[k] = v.dump();
    } else if (v.is_array()) {
      std::string list;
      for (const auto& item : v) {
        list += (list.empty() ? "" : ",") + (item.is_string() ? item.get<std::string>()
                                                              : item.dump());
      }
      out[k] = list;
    } else {
      return InvalidArgument("param '" + k + "' must be a string, number, boolean or list");
    }
  }
  return out;
}

}  // namespace

void RegisterPipelineRoutes(Router& router, pipeline::PipelineService& service) {
  router.Add("POST", "/api/v1/pipelines", [&service](const Request& req) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(Json msg, mlflow::ParseRequestMessage(req));
    pipeline::RegisterPipelineRequest r;
    ASSIGN_OR_RETURN(r.spec_path, mlflow::RequireString(msg, "spec_path"));
    ASSIGN_OR_RETURN(std::optional<std::string> spec, mlflow::GetString(msg, "spec"));
    r.spec_yaml = spec.value_or("");
    ASSIGN_OR_RETURN(r.params, ParamsOf(msg));
    ASSIGN_OR_RETURN(std::optional<int64_t> concurrency, mlflow::GetInt64(msg, "concurrency"));
    if (concurrency) {
      if (*concurrency < 1 || *concurrency > 100) {
        return InvalidArgument("concurrency must be in 1..100");
      }
      r.concurrency = static_cast<int>(*concurrency);
    }
    ASSIGN_OR_RETURN(pipeline::RegisteredPipeline p, service.Register(r));
    return mlflow::JsonResponse({{"pipeline", PipelineToJson(p)}});
  });
  router.Add("GET", "/api/v1/pipelines", [&service](const Request&) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(auto list, service.List());
    Json out = Json::array();
    for (const auto& p : list) out.push_back(PipelineToJson(p));
    return mlflow::JsonResponse({{"pipelines", std::move(out)}});
  });
  router.Add("GET", "/api/v1/pipelines/{name}",
             [&service](const Request& req) -> StatusOr<Response> {
               const std::string& name = req.path_params.at("name");
               ASSIGN_OR_RETURN(pipeline::RegisteredPipeline p, service.Get(name));
               return mlflow::JsonResponse(
                   {{"pipeline", PipelineToJson(p)},
                    {"active_runs", service.ActiveRunCount(name)}});
             });
  router.Add("POST", "/api/v1/pipelines/{name}/trigger",
             [&service](const Request& req) -> StatusOr<Response> {
               ASSIGN_OR_RETURN(Json msg, mlflow::ParseRequestMessage(req));
               pipeline::TriggerRequest t;
               t.pipeline = req.path_params.at("name");
               ASSIGN_OR_RETURN(std::optional<std::string> kind, mlflow::GetString(msg, "trigger"));
               t.trigger = kind.value_or("api");
               if (t.trigger != "manual" && t.trigger != "api" && t.trigger != "alert") {
                 return InvalidArgument("trigger must be manual, api or alert");
               }
               ASSIGN_OR_RETURN(std::optional<std::string> reason, mlflow::GetString(msg, "reason"));
               t.reason = reason.value_or("");
               ASSIGN_OR_RETURN(t.params, ParamsOf(msg));
               ASSIGN_OR_RETURN(std::string run_id, service.Trigger(t));
               return mlflow::JsonResponse({{"run_id", run_id}, {"status", "running"}});
             });
  router.Add("GET", "/api/v1/pipelines/{name}/runs",
             [&service](const Request& req) -> StatusOr<Response> {
               int limit = 50;
               if (auto l = req.QueryParam("limit")) {
                 char* end = nullptr;
                 long v = std::strtol(l->c_str(), &end, 10);
                 if (end == l->c_str() || *end != '\0' || v < 1 || v > 1000) {
                   return InvalidArgument("limit must be an integer in 1..1000");
                 }
                 limit = static_cast<int>(v);
               }
               ASSIGN_OR_RETURN(auto runs, service.Runs(req.path_params.at("name"), limit));
               Json out = Json::array();
               for (const auto& r : runs) out.push_back(RunToJson(r));
               return mlflow::JsonResponse({{"runs", std::move(out)}});
             });
  router.Add("GET", "/api/v1/pipelines/{name}/runs/{run_id}",
             [&service](const Request& req) -> StatusOr<Response> {
               ASSIGN_OR_RETURN(pipeline::PipelineRunRecord r,
                                service.Run(req.path_params.at("run_id")));
               if (r.pipeline != req.path_params.at("name")) {
                 return NotFound("no run '" + r.run_id + "' of pipeline '" +
                                 req.path_params.at("name") + "'");
               }
               return mlflow::JsonResponse({{"run", RunToJson(r)}});
             });
}

}  // namespace cairn::http
