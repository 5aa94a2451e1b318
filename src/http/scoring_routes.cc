#include "http/scoring_routes.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "http/errors.h"

namespace cairn::http {

namespace {

using Clock = std::chrono::steady_clock;

std::string Dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// MLflow's scoring server answers every client mistake with 400 BAD_REQUEST, and an
// unsupported content type with 415.
Response MlflowScoringError(const Status& st) {
  if (st.code() == Code::kUnimplemented) {
    Response r = ErrorResponse(Status(st.code(), st.message()).WithMlflowCode("BAD_REQUEST"));
    r.status = 415;
    return r;
  }
  Status shown = st;
  if (st.code() == Code::kInvalidArgument || st.code() == Code::kResourceExhausted) {
    shown = Status(st.code(), st.message()).WithMlflowCode("BAD_REQUEST");
  }
  Response r = ErrorResponse(shown);
  if (st.code() == Code::kInvalidArgument) r.status = 400;
  return r;
}

// The Open Inference Protocol's error shape.
Response OipError(int status, const std::string& message) {
  return Response::Json(Dump({{"error", message}}), status);
}

int OipStatus(const Status& st) {
  switch (st.code()) {
    case Code::kNotFound: return 404;
    case Code::kInternal: return 500;
    case Code::kUnavailable: return 503;
    case Code::kResourceExhausted: return 413;
    default: return 400;
  }
}

StatusOr<std::vector<double>> Predict(const ScoringModel& m, const serving::DecodedInput& in) {
  std::vector<double> out(in.n_rows * m.loaded.model->output_width());
  RETURN_IF_ERROR(m.loaded.model->Predict(in.rows, in.n_rows, out));
  return out;
}

// Times a handler and records it in the metrics, whatever the outcome.
template <typename Fn>
Response Observed(ScoringMetrics& metrics, ScoringMetrics::Route route, Fn&& fn) {
  auto start = Clock::now();
  size_t rows = 0;
  Response r = fn(&rows);
  metrics.Observe(route, r.status, std::chrono::duration<double>(Clock::now() - start).count(),
                  rows);
  return r;
}

}  // namespace

Response MlflowScoringErrorResponse(const Status& status) { return MlflowScoringError(status); }

Response OipErrorResponse(const Status& status) {
  return OipError(OipStatus(status), status.message());
}

std::shared_ptr<const ScoringModel> ModelSlot::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return model_;
}

void ModelSlot::Set(std::shared_ptr<const ScoringModel> model) {
  std::lock_guard<std::mutex> lock(mu_);
  model_ = std::move(model);
}

void ScoringMetrics::Observe(Route route, int status, double seconds, size_t rows) {
  PerRoute& r = routes_[route];
  if (status < 400) {
    r.ok.fetch_add(1, std::memory_order_relaxed);
  } else if (status < 500) {
    r.client_errors.fetch_add(1, std::memory_order_relaxed);
  } else {
    r.server_errors.fetch_add(1, std::memory_order_relaxed);
  }
  r.rows.fetch_add(rows, std::memory_order_relaxed);
  int b = 0;
  while (b < kBuckets && seconds > kBounds[b]) ++b;
  r.buckets[b].fetch_add(1, std::memory_order_relaxed);
  r.sum_micros.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string ScoringMetrics::Render(const ScoringModel* model) const {
  static const char* kRouteNames[kNumRoutes] = {"invocations", "infer", "vertex_predict"};
  std::string model_labels;
  if (model != nullptr) {
    // Names come from the command line / registry; escape what the text format requires.
    auto esc = [](const std::string& s) {
      std::string o;
      for (char c : s) {
        if (c == '\\' || c == '"') o.push_back('\\');
        if (c == '\n') {
          o += "\\n";
          continue;
        }
        o.push_back(c);
      }
      return o;
    };
    model_labels = "model=\"" + esc(model->name) + "\",version=\"" + esc(model->version) + "\",";
  }
  std::string out;
  char line[512];
  out += "# HELP cairn_scoring_requests_total Scoring requests answered, by route and outcome.\n";
  out += "# TYPE cairn_scoring_requests_total counter\n";
  for (int i = 0; i < kNumRoutes; ++i) {
    const PerRoute& r = routes_[i];
    const std::pair<const char*, uint64_t> outcomes[] = {
        {"ok", r.ok.load()}, {"client_error", r.client_errors.load()},
        {"server_error", r.server_errors.load()}};
    for (const auto& [outcome, n] : outcomes) {
      std::snprintf(line, sizeof(line),
                    "cairn_scoring_requests_total{%sroute=\"%s\",outcome=\"%s\"} %llu\n",
                    model_labels.c_str(), kRouteNames[i], outcome,
                    static_cast<unsigned long long>(n));
      out += line;
    }
  }
  out += "# HELP cairn_scoring_rows_total Rows scored, by route.\n";
  out += "# TYPE cairn_scoring_rows_total counter\n";
  for (int i = 0; i < kNumRoutes; ++i) {
    std::snprintf(line, sizeof(line), "cairn_scoring_rows_total{%sroute=\"%s\"} %llu\n",
                  model_labels.c_str(), kRouteNames[i],
                  static_cast<unsigned long long>(routes_[i].rows.load()));
    out += line;
  }
  out += "# HELP cairn_scoring_request_duration_seconds Time to answer a scoring request.\n";
  out += "# TYPE cairn_scoring_request_duration_seconds histogram\n";
  for (int i = 0; i < kNumRoutes; ++i) {
    const PerRoute& r = routes_[i];
    uint64_t cumulative = 0;
    for (int b = 0; b <= kBuckets; ++b) {
      cumulative += r.buckets[b].load();
      char le[32];
      if (b < kBuckets) {
        std::snprintf(le, sizeof(le), "%g", kBounds[b]);
      } else {
        std::snprintf(le, sizeof(le), "+Inf");
      }
      std::snprintf(line, sizeof(line),
                    "cairn_scoring_request_duration_seconds_bucket{%sroute=\"%s\",le=\"%s\"} %llu\n",
                    model_labels.c_str(), kRouteNames[i], le,
                    static_cast<unsigned long long>(cumulative));
      out += line;
    }
    std::snprintf(line, sizeof(line),
                  "cairn_scoring_request_duration_seconds_sum{%sroute=\"%s\"} %.6f\n"
                  "cairn_scoring_request_duration_seconds_count{%sroute=\"%s\"} %llu\n",
                  model_labels.c_str(), kRouteNames[i], r.sum_micros.load() / 1e6,
                  model_labels.c_str(), kRouteNames[i],
                  static_cast<unsigned long long>(cumulative));
    out += line;
  }
  return out;
}

std::string OpenApiDocument(const ScoringModel& model) {
  nlohmann::ordered_json props = nlohmann::ordered_json::object();
  nlohmann::ordered_json required = nlohmann::ordered_json::array();
  nlohmann::ordered_json columns = nlohmann::ordered_json::array();
  for (const auto& c : model.decoder.columns()) {
    std::string type = "number";
    if (c.categorical || c.type == models::ColumnType::kString) type = "string";
    if (c.type == models::ColumnType::kBoolean) type = "boolean";
    if (c.type == models::ColumnType::kLong || c.type == models::ColumnType::kInteger) {
      type = "integer";
    }
    nlohmann::ordered_json p = {{"type", type}};
    if (c.categorical) {
      nlohmann::ordered_json values = nlohmann::ordered_json::array();
      for (const auto& [k, v] : c.category_codes) values.push_back(k);
      p["enum"] = values;
    }
    props[c.name] = p;
    if (c.required) required.push_back(c.name);
    columns.push_back(c.name);
  }
  nlohmann::ordered_json record = {{"type", "object"}, {"properties", props},
                                   {"required", required}, {"additionalProperties", false}};
  nlohmann::ordered_json doc = {
      {"openapi", "3.0.3"},
      {"info", {{"title", "cairn scoring: " + model.name}, {"version", model.version}}},
      {"paths",
       {{"/invocations",
         {{"post",
           {{"summary", "Score rows (MLflow scoring protocol)"},
            {"requestBody",
             {{"required", true},
              {"content",
               {{"application/json",
                 {{"schema",
                   {{"oneOf",
                     {{{"type", "object"},
                       {"properties",
                        {{"dataframe_records", {{"type", "array"}, {"items", record}}}}},
                       {"required", {"dataframe_records"}}},
                      {{"type", "object"},
                       {"properties",
                        {{"dataframe_split",
                          {{"type", "object"},
                           {"properties",
                            {{"columns",
                              {{"type", "array"}, {"items", {{"type", "string"}}},
                               {"example", columns}}},
                             {"data", {{"type", "array"}, {"items", {{"type", "array"}}}}}}}}}}},
                       {"required", {"dataframe_split"}}},
                      {{"type", "object"},
                       {"properties", {{"instances", {{"type", "array"}, {"items", record}}}}},
                       {"required", {"instances"}}}}}}}}},
                {"text/csv", {{"schema", {{"type", "string"}}}}}}}}},
            {"responses",
             {{"200",
               {{"description", "predictions"},
                {"content",
                 {{"application/json",
                   {{"schema",
                     {{"type", "object"},
                      {"properties", {{"predictions", {{"type", "array"}}}}}}}}}}}}},
              {"400", {{"description", "the input does not match the model's signature"}}},
              {"415", {{"description", "unsupported content type"}}}}}}}}}}}};
  return Dump(doc);
}

void RegisterScoringRoutes(Router& router, const ModelSlot& slot, ScoringMetrics& metrics,
                           const ScoringRoutesOptions& options) {
  const ModelSlot* s = &slot;
  ScoringMetrics* mx = &metrics;
  auto ok_text = [](const Request&) -> StatusOr<Response> { return Response::Text("\n"); };
  router.Add("GET", "/ping", ok_text);
  router.Add("GET", "/health", ok_text);
  std::string version = options.version_string;
  router.Add("GET", "/version", [version](const Request&) -> StatusOr<Response> {
    return Response::Text(version);
  });

  auto invocations = [s, mx](ScoringMetrics::Route route) {
    return [s, mx, route](const Request& req) -> StatusOr<Response> {
      return Observed(*mx, route, [&](size_t* rows) -> Response {
        auto model = s->Get();
        if (!model) return MlflowScoringError(Unavailable("no model is loaded"));
        auto decoded = model->decoder.DecodeInvocations(req.Header("content-type"), req.body);
        if (!decoded.ok()) return MlflowScoringError(decoded.status());
        auto predictions = Predict(*model, *decoded);
        if (!predictions.ok()) return MlflowScoringError(predictions.status());
        *rows = decoded->n_rows;
        return Response::Json(serving::EncodeInvocationsResponse(
            *predictions, model->loaded.model->output_width(),
            model->loaded.model->output_kind()));
      });
    };
  };
  router.Add("POST", "/invocations", invocations(ScoringMetrics::kInvocations));
  if (!options.vertex_predict_route.empty()) {
    router.Add("POST", options.vertex_predict_route,
               invocations(ScoringMetrics::kVertexPredict));
  }
  if (!options.vertex_health_route.empty() && options.vertex_health_route != "/ping" &&
      options.vertex_health_route != "/health") {
    router.Add("GET", options.vertex_health_route, ok_text);
  }

  // ---- Open Inference Protocol v2 ----
  router.Add("GET", "/v2", [version](const Request&) -> StatusOr<Response> {
    return Response::Json(Dump({{"name", "cairn"}, {"version", version},
                                {"extensions", nlohmann::ordered_json::array()}}));
  });
  router.Add("GET", "/v2/health/live", [](const Request&) -> StatusOr<Response> {
    return Response::Json(R"({"live":true})");
  });
  router.Add("GET", "/v2/health/ready", [s](const Request&) -> StatusOr<Response> {
    bool ready = s->Get() != nullptr;
    return Response::Json(ready ? R"({"ready":true})" : R"({"ready":false})", ready ? 200 : 503);
  });
  // Finds the model a v2 path names, or answers 404 as the protocol says.
  auto resolve = [s](const Request& req, std::shared_ptr<const ScoringModel>* out) -> Status {
    auto model = s->Get();
    const std::string& name = req.path_params.at("name");
    if (!model || model->name != name) return NotFound("model '" + name + "' is not served here");
    auto v = req.path_params.find("version");
    if (v != req.path_params.end() && v->second != model->version) {
      return NotFound("model '" + name + "' has no version '" + v->second + "' here");
    }
    *out = std::move(model);
    return OkStatus();
  };
  for (std::string base : {"/v2/models/{name}", "/v2/models/{name}/versions/{version}"}) {
    router.Add("GET", base, [resolve](const Request& req) -> StatusOr<Response> {
      std::shared_ptr<const ScoringModel> m;
      if (Status st = resolve(req, &m); !st.ok()) return OipError(OipStatus(st), st.message());
      return Response::Json(serving::EncodeV2ModelMetadata(
          m->name, {m->version}, m->loaded.flavor, m->decoder, m->loaded.model->output_width(),
          m->loaded.model->output_kind()));
    });
    router.Add("GET", base + "/ready", [resolve](const Request& req) -> StatusOr<Response> {
      std::shared_ptr<const ScoringModel> m;
      if (Status st = resolve(req, &m); !st.ok()) return OipError(OipStatus(st), st.message());
      return Response::Json(Dump({{"name", m->name}, {"ready", true}}));
    });
    router.Add("POST", base + "/infer", [resolve, mx](const Request& req) -> StatusOr<Response> {
      return Observed(*mx, ScoringMetrics::kInfer, [&](size_t* rows) -> Response {
        std::shared_ptr<const ScoringModel> m;
        if (Status st = resolve(req, &m); !st.ok()) return OipError(OipStatus(st), st.message());
        auto infer = m->decoder.DecodeInfer(req.body);
        if (!infer.ok()) return OipError(OipStatus(infer.status()), infer.status().message());
        auto predictions = Predict(*m, infer->input);
        if (!predictions.ok()) {
          return OipError(OipStatus(predictions.status()), predictions.status().message());
        }
        *rows = infer->input.n_rows;
        return Response::Json(serving::EncodeInferResponse(
            m->name, m->version, infer->id, *predictions, m->loaded.model->output_width(),
            m->loaded.model->output_kind()));
      });
    });
  }

  router.Add("GET", "/metrics", [s, mx](const Request&) -> StatusOr<Response> {
    Response r = Response::Text(mx->Render(s->Get().get()));
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  });
  router.Add("GET", "/openapi.json", [s](const Request&) -> StatusOr<Response> {
    auto m = s->Get();
    if (!m) return Unavailable("no model is loaded");
    return Response::Json(OpenApiDocument(*m));
  });
}

}  // namespace cairn::http
