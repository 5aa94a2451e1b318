#include "http/mlflow_tracking_routes.h"

#include <nlohmann/json.hpp>

#ifdef CAIRN_HAVE_SIMDJSON
#include <simdjson.h>
#endif

#include "http/mlflow_json.h"

namespace cairn::http {

namespace {

using mlflow::Json;
using tracking::TrackingStore;


// ---------------------------------------------------------------------------------------------
// Entities -> protobuf JSON

Json TagsToJson(const std::vector<tracking::Tag>& tags) {
  Json out = Json::array();
  for (const auto& t : tags) out.push_back({{"key", t.key}, {"value", t.value}});
  return out;
}

Json ParamsToJson(const std::vector<tracking::Param>& params) {
  Json out = Json::array();
  for (const auto& p : params) out.push_back({{"key", p.key}, {"value", p.value}});
  return out;
}

Json MetricToJson(const tracking::Metric& m) {
  Json j = {{"key", m.key},
            {"value", mlflow::DoubleToJson(m.value)},
            {"timestamp", m.timestamp},
            {"step", m.step}};
  if (m.dataset_name) j["dataset_name"] = *m.dataset_name;
  if (m.dataset_digest) j["dataset_digest"] = *m.dataset_digest;
  if (m.model_id) j["model_id"] = *m.model_id;
  if (m.run_id) j["run_id"] = *m.run_id;
  return j;
}

Json ExperimentToJson(const tracking::Experiment& e) {
  Json j = {{"experiment_id", e.experiment_id},
            {"name", e.name},
            {"artifact_location", e.artifact_location},
            {"lifecycle_stage", e.lifecycle_stage}};
  if (e.last_update_time) j["last_update_time"] = *e.last_update_time;
  if (e.creation_time) j["creation_time"] = *e.creation_time;
  if (!e.tags.empty()) j["tags"] = TagsToJson(e.tags);
  return j;
}

Json RunInfoToJson(const tracking::RunInfo& i) {
  Json j = {{"run_uuid", i.run_id},          {"experiment_id", i.experiment_id},
            {"run_name", i.run_name},        {"user_id", i.user_id},
            {"status", i.status}};
  if (i.start_time) j["start_time"] = *i.start_time;
  if (i.end_time) j["end_time"] = *i.end_time;
  j["artifact_uri"] = i.artifact_uri;
  j["lifecycle_stage"] = i.lifecycle_stage;
  j["run_id"] = i.run_id;
  return j;
}

Json RunToJson(const tracking::Run& r) {
  Json data = Json::object();
  if (!r.data.metrics.empty()) {
    Json metrics = Json::array();
    for (const auto& m : r.data.metrics) metrics.push_back(MetricToJson(m));
    data["metrics"] = std::move(metrics);
  }
  if (!r.data.params.empty()) data["params"] = ParamsToJson(r.data.params);
  if (!r.data.tags.empty()) data["tags"] = TagsToJson(r.data.tags);
  Json inputs = Json::object();
  if (!r.inputs.dataset_inputs.empty()) {
    Json list = Json::array();
    for (const auto& in : r.inputs.dataset_inputs) {
      Json ds = {{"name", in.dataset.name},
                 {"digest", in.dataset.digest},
                 {"source_type", in.dataset.source_type},
                 {"source", in.dataset.source}};
      if (in.dataset.schema) ds["schema"] = *in.dataset.schema;
      if (in.dataset.profile) ds["profile"] = *in.dataset.profile;
      Json item = Json::object();
      if (!in.tags.empty()) item["tags"] = TagsToJson(in.tags);
      item["dataset"] = std::move(ds);
      list.push_back(std::move(item));
    }
    inputs["dataset_inputs"] = std::move(list);
  }
  if (!r.inputs.model_inputs.empty()) {
    Json list = Json::array();
    for (const auto& m : r.inputs.model_inputs) list.push_back({{"model_id", m.model_id}});
    inputs["model_inputs"] = std::move(list);
  }
  Json outputs = Json::object();
  if (!r.outputs.model_outputs.empty()) {
    Json list = Json::array();
    for (const auto& m : r.outputs.model_outputs) {
      list.push_back({{"model_id", m.model_id}, {"step", m.step}});
    }
    outputs["model_outputs"] = std::move(list);
  }
  return {{"info", RunInfoToJson(r.info)},
          {"data", std::move(data)},
          {"inputs", std::move(inputs)},
          {"outputs", std::move(outputs)}};
}

Json LoggedModelToJson(const tracking::LoggedModel& m) {
  Json info = {{"model_id", m.model_id}, {"experiment_id", m.experiment_id}, {"name", m.name}};
  if (m.creation_timestamp_ms) info["creation_timestamp_ms"] = *m.creation_timestamp_ms;
  if (m.last_updated_timestamp_ms) {
    info["last_updated_timestamp_ms"] = *m.last_updated_timestamp_ms;
  }
  info["artifact_uri"] = m.artifact_uri;
  info["status"] = m.status;
  if (m.status_message) info["status_message"] = *m.status_message;
  if (m.model_type) info["model_type"] = *m.model_type;
  if (m.source_run_id) info["source_run_id"] = *m.source_run_id;
  if (!m.tags.empty()) info["tags"] = TagsToJson(m.tags);
  Json data = Json::object();
  if (!m.params.empty()) data["params"] = ParamsToJson(m.params);
  if (!m.metrics.empty()) {
    Json metrics = Json::array();
    for (const auto& x : m.metrics) metrics.push_back(MetricToJson(x));
    data["metrics"] = std::move(metrics);
  }
  return {{"info", std::move(info)}, {"data", std::move(data)}};
}

// ---------------------------------------------------------------------------------------------
// Request decoding helpers

// A list field of objects; absent = empty. Anything else is a type error.
StatusOr<std::vector<const Json*>> GetObjectList(const Json& msg, std::string_view field) {
  std::vector<const Json*> out;
  auto it = msg.find(field);
  if (it == msg.end() || it->is_null()) return out;
  if (!it->is_array()) {
    return InvalidArgument("Invalid value " + it->dump(-1, ' ', false,
                                                       Json::error_handler_t::replace) +
                           " for parameter '" + std::string(field) +
                           "' supplied. Hint: Value was of type 'list' expected.");
  }
  for (const Json& item : *it) {
    if (!item.is_object()) {
      return InvalidArgument("Invalid value for parameter '" + std::string(field) +
                             "' supplied: every item must be an object.");
    }
    out.push_back(&item);
  }
  return out;
}

// [{key, value}] -> tags; `path` names the list in messages.
StatusOr<std::vector<tracking::Tag>> GetKeyValues(const Json& msg, std::string_view field) {
  ASSIGN_OR_RETURN(std::vector<const Json*> items, GetObjectList(msg, field));
  std::vector<tracking::Tag> out;
  out.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string path = std::string(field) + "[" + std::to_string(i) + "]";
    ASSIGN_OR_RETURN(std::optional<std::string> key, mlflow::GetString(*items[i], "key"));
    ASSIGN_OR_RETURN(std::optional<std::string> value, mlflow::GetString(*items[i], "value"));
    if (!key) {
      return InvalidArgument("Missing value for required parameter '" + path +
                             ".key'. See the API docs for more information about request "
                             "parameters.");
    }
    out.push_back({std::move(*key), value.value_or("")});
  }
  return out;
}

StatusOr<std::vector<tracking::Param>> GetParams(const Json& msg, std::string_view field) {
  ASSIGN_OR_RETURN(std::vector<tracking::Tag> kv, GetKeyValues(msg, field));
  std::vector<tracking::Param> out;
  out.reserve(kv.size());
  for (auto& t : kv) out.push_back({std::move(t.key), std::move(t.value)});
  return out;
}

StatusOr<tracking::ViewType> GetViewType(const Json& msg, std::string_view field) {
  auto it = msg.find(field);
  if (it == msg.end() || it->is_null()) return tracking::ViewType::kActiveOnly;
  if (it->is_number_integer()) {
    switch (it->get<int64_t>()) {
      case 1: return tracking::ViewType::kActiveOnly;
      case 2: return tracking::ViewType::kDeletedOnly;
      case 3: return tracking::ViewType::kAll;
    }
  } else if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (s == "ACTIVE_ONLY" || s == "1") return tracking::ViewType::kActiveOnly;
    if (s == "DELETED_ONLY" || s == "2") return tracking::ViewType::kDeletedOnly;
    if (s == "ALL" || s == "3") return tracking::ViewType::kAll;
  }
  return InvalidArgument("Invalid value " + it->dump(-1, ' ', false, Json::error_handler_t::replace) +
                         " for parameter '" + std::string(field) +
                         "' supplied: expected ACTIVE_ONLY, DELETED_ONLY or ALL.");
}

StatusOr<int> GetMaxResults(const Json& msg, int default_value) {
  ASSIGN_OR_RETURN(std::optional<int64_t> v, mlflow::GetInt64(msg, "max_results"));
  if (!v) return default_value;
  if (*v > 1'000'000'000 || *v < -1'000'000'000) {
    return InvalidArgument("Invalid value " + std::to_string(*v) +
                           " for parameter 'max_results' supplied.");
  }
  return static_cast<int>(*v);
}

StatusOr<tracking::Metric> DecodeMetric(const Json& m, const std::string& path) {
  auto field = [&](const char* name) { return path.empty() ? std::string(name) : path + "." + name; };
  tracking::Metric metric;
  ASSIGN_OR_RETURN(std::optional<std::string> key, mlflow::GetString(m, "key"));
  if (!key) {
    return InvalidArgument("Missing value for required parameter '" + field("key") +
                           "'. See the API docs for more information about request parameters.");
  }
  metric.key = std::move(*key);
  auto value = mlflow::GetDouble(m, "value");
  if (!value.ok()) {
    return InvalidArgument("Invalid value for parameter '" + field("value") +
                           "' supplied: " + value.status().message());
  }
  if (!*value) {
    return InvalidArgument("Missing value for required parameter '" + field("value") +
                           "'. See the API docs for more information about request parameters.");
  }
  metric.value = **value;
  ASSIGN_OR_RETURN(std::optional<int64_t> ts, mlflow::GetInt64(m, "timestamp"));
  if (!ts) {
    return InvalidArgument("Missing value for required parameter '" + field("timestamp") +
                           "'. See the API docs for more information about request parameters.");
  }
  metric.timestamp = *ts;
  ASSIGN_OR_RETURN(std::optional<int64_t> step, mlflow::GetInt64(m, "step"));
  metric.step = step.value_or(0);
  ASSIGN_OR_RETURN(metric.model_id, mlflow::GetString(m, "model_id"));
  ASSIGN_OR_RETURN(metric.dataset_name, mlflow::GetString(m, "dataset_name"));
  ASSIGN_OR_RETURN(metric.dataset_digest, mlflow::GetString(m, "dataset_digest"));
  if (metric.model_id && metric.model_id->empty()) metric.model_id.reset();
  if (metric.dataset_name && metric.dataset_name->empty()) metric.dataset_name.reset();
  if (metric.dataset_digest && metric.dataset_digest->empty()) metric.dataset_digest.reset();
  return metric;
}

#ifdef CAIRN_HAVE_SIMDJSON
// The log-batch hot path: decodes the common, well-formed request shape with simdjson (an
// order of magnitude faster than the DOM above on 1000-metric bodies). Returns false for
// anything unusual (strings for numbers, missing fields, double-encoded bodies, ...) so the
// general decoder handles it and produces MLflow's messages.
bool DecodeLogBatchFast(const std::string& body, tracking::LogBatchRequest& out) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) return false;
  simdjson::dom::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) return false;
  auto get_key_values = [](simdjson::dom::element list, auto&& add) -> bool {
    simdjson::dom::array arr;
    if (list.get_array().get(arr) != simdjson::SUCCESS) return false;
    for (simdjson::dom::element item : arr) {
      simdjson::dom::object obj;
      if (item.get_object().get(obj) != simdjson::SUCCESS) return false;
      std::string_view key, value;
      bool has_key = false, has_value = false;
      for (auto field : obj) {
        if (field.key == "key") {
          if (field.value.get_string().get(key) != simdjson::SUCCESS) return false;
          has_key = true;
        } else if (field.value.is_null()) {
          continue;
        } else if (field.key == "value") {
          if (field.value.get_string().get(value) != simdjson::SUCCESS) return false;
          has_value = true;
        }
      }
      if (!has_key) return false;
      add(key, has_value ? value : std::string_view());
    }
    return true;
  };
  for (auto field : root) {
    if (field.value.is_null()) continue;
    if (field.key == "run_id" || field.key == "run_uuid") {
      std::string_view id;
      if (field.value.get_string().get(id) != simdjson::SUCCESS) return false;
      if (out.run_id.empty() || field.key == "run_id") {
        if (!id.empty()) out.run_id = std::string(id);
      }
    } else if (field.key == "metrics") {
      simdjson::dom::array arr;
      if (field.value.get_array().get(arr) != simdjson::SUCCESS) return false;
      out.metrics.reserve(arr.size());
      for (simdjson::dom::element item : arr) {
        simdjson::dom::object obj;
        if (item.get_object().get(obj) != simdjson::SUCCESS) return false;
        tracking::Metric m;
        bool has_key = false, has_value = false, has_ts = false;
        for (auto f : obj) {
          if (f.value.is_null()) continue;
          if (f.key == "key") {
            std::string_view k;
            if (f.value.get_string().get(k) != simdjson::SUCCESS) return false;
            m.key = std::string(k);
            has_key = true;
          } else if (f.key == "value") {
            if (!f.value.is_number()) return false;  // "NaN" strings etc.: general path
            if (f.value.get_double().get(m.value) != simdjson::SUCCESS) return false;
            has_value = true;
          } else if (f.key == "timestamp") {
            if (f.value.get_int64().get(m.timestamp) != simdjson::SUCCESS) return false;
            has_ts = true;
          } else if (f.key == "step") {
            if (f.value.get_int64().get(m.step) != simdjson::SUCCESS) return false;
          } else if (f.key == "model_id" || f.key == "dataset_name" ||
                     f.key == "dataset_digest") {
            std::string_view v;
            if (f.value.get_string().get(v) != simdjson::SUCCESS) return false;
            if (v.empty()) continue;
            if (f.key == "model_id") m.model_id = std::string(v);
            else if (f.key == "dataset_name") m.dataset_name = std::string(v);
            else m.dataset_digest = std::string(v);
          }
        }
        if (!has_key || !has_value || !has_ts) return false;
        out.metrics.push_back(std::move(m));
      }
    } else if (field.key == "params") {
      if (!get_key_values(field.value, [&](std::string_view k, std::string_view v) {
            out.params.push_back({std::string(k), std::string(v)});
          })) {
        return false;
      }
    } else if (field.key == "tags") {
      if (!get_key_values(field.value, [&](std::string_view k, std::string_view v) {
            out.tags.push_back({std::string(k), std::string(v)});
          })) {
        return false;
      }
    }
  }
  return !out.run_id.empty();
}
#endif  // CAIRN_HAVE_SIMDJSON

Json PageResult(Json body, const std::string& next_page_token) {
  if (!next_page_token.empty()) body["next_page_token"] = next_page_token;
  return body;
}

Response Empty() { return Response::Json("{}"); }

// ---------------------------------------------------------------------------------------------
// Route table

using mlflow::MessageHandler;
using mlflow::Registrar;

void AddExperimentRoutes(Registrar& r, TrackingStore& store) {
  r.Add("POST", "/experiments/create", [&store](const Json& msg, const Request&)
                                           -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(std::optional<std::string> location,
                     mlflow::GetString(msg, "artifact_location"));
    ASSIGN_OR_RETURN(std::vector<tracking::Tag> tags, GetKeyValues(msg, "tags"));
    ASSIGN_OR_RETURN(std::string id,
                     store.CreateExperiment(name, location.value_or(""), std::move(tags)));
    return mlflow::JsonResponse({{"experiment_id", id}});
  });
  r.Add("GET", "/experiments/get", [&store](const Json& msg, const Request&)
                                       -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string id, mlflow::RequireString(msg, "experiment_id"));
    ASSIGN_OR_RETURN(tracking::Experiment e, store.GetExperiment(id));
    return mlflow::JsonResponse({{"experiment", ExperimentToJson(e)}});
  });
  r.Add("GET", "/experiments/get-by-name", [&store](const Json& msg, const Request&)
                                               -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "experiment_name"));
    ASSIGN_OR_RETURN(tracking::Experiment e, store.GetExperimentByName(name));
    return mlflow::JsonResponse({{"experiment", ExperimentToJson(e)}});
  });
  MessageHandler search = [&store](const Json& msg, const Request&) -> StatusOr<Response> {
    tracking::SearchExperimentsRequest req;
    ASSIGN_OR_RETURN(req.max_results, GetMaxResults(msg, 1000));
    ASSIGN_OR_RETURN(std::optional<std::string> token, mlflow::GetString(msg, "page_token"));
    ASSIGN_OR_RETURN(std::optional<std::string> filter, mlflow::GetString(msg, "filter"));
    req.page_token = token.value_or("");
    req.filter = filter.value_or("");
    ASSIGN_OR_RETURN(req.order_by, mlflow::GetStringList(msg, "order_by"));
    ASSIGN_OR_RETURN(req.view_type, GetViewType(msg, "view_type"));
    ASSIGN_OR_RETURN(tracking::SearchExperimentsResult res, store.SearchExperiments(req));
    Json body = Json::object();
    if (!res.experiments.empty()) {
      Json list = Json::array();
      for (const auto& e : res.experiments) list.push_back(ExperimentToJson(e));
      body["experiments"] = std::move(list);
    }
    return mlflow::JsonResponse(PageResult(std::move(body), res.next_page_token));
  };
  r.Add("POST", "/experiments/search", search, {"order_by"});
  r.Add("GET", "/experiments/search", search, {"order_by"});
  r.Add("POST", "/experiments/update", [&store](const Json& msg, const Request&)
                                           -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string id, mlflow::RequireString(msg, "experiment_id"));
    ASSIGN_OR_RETURN(std::optional<std::string> new_name, mlflow::GetString(msg, "new_name"));
    RETURN_IF_ERROR(store.RenameExperiment(id, new_name.value_or("")));
    return Empty();
  });
  r.Add("POST", "/experiments/delete", [&store](const Json& msg, const Request&)
                                           -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string id, mlflow::RequireString(msg, "experiment_id"));
    RETURN_IF_ERROR(store.DeleteExperiment(id));
    return Empty();
  });
  r.Add("POST", "/experiments/restore", [&store](const Json& msg, const Request&)
                                            -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string id, mlflow::RequireString(msg, "experiment_id"));
    RETURN_IF_ERROR(store.RestoreExperiment(id));
    return Empty();
  });
  r.Add("POST", "/experiments/set-experiment-tag", [&store](const Json& msg, const Request&)
                                                       -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string id, mlflow::RequireString(msg, "experiment_id"));
    ASSIGN_OR_RETURN(std::string key, mlflow::RequireString(msg, "key"));
    ASSIGN_OR_RETURN(std::optional<std::string> value, mlflow::GetString(msg, "value"));
    RETURN_IF_ERROR(store.SetExperimentTag(id, {key, value.value_or("")}));
    return Empty();
  });
  r.Add("POST", "/experiments/delete-experiment-tag", [&store](const Json& msg, const Request&)
                                                          -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string id, mlflow::RequireString(msg, "experiment_id"));
    ASSIGN_OR_RETURN(std::string key, mlflow::RequireString(msg, "key"));
    RETURN_IF_ERROR(store.DeleteExperimentTag(id, key));
    return Empty();
  });
}

void AddRunRoutes(Registrar& r, TrackingStore& store) {
  r.Add("POST", "/runs/create", [&store](const Json& msg, const Request&) -> StatusOr<Response> {
    tracking::CreateRunRequest req;
    ASSIGN_OR_RETURN(std::optional<std::string> exp, mlflow::GetString(msg, "experiment_id"));
    ASSIGN_OR_RETURN(std::optional<std::string> user, mlflow::GetString(msg, "user_id"));
    ASSIGN_OR_RETURN(std::optional<std::string> name, mlflow::GetString(msg, "run_name"));
    req.experiment_id = exp.value_or("");
    req.user_id = user.value_or("");
    req.run_name = name.value_or("");
    ASSIGN_OR_RETURN(req.start_time, mlflow::GetInt64(msg, "start_time"));
    ASSIGN_OR_RETURN(req.tags, GetKeyValues(msg, "tags"));
    ASSIGN_OR_RETURN(tracking::Run run, store.CreateRun(std::move(req)));
    return mlflow::JsonResponse({{"run", RunToJson(run)}});
  });
  r.Add("POST", "/runs/update", [&store](const Json& msg, const Request&) -> StatusOr<Response> {
    tracking::UpdateRunRequest req;
    ASSIGN_OR_RETURN(req.run_id, mlflow::GetRunId(msg));
    ASSIGN_OR_RETURN(req.status, mlflow::GetString(msg, "status"));
    ASSIGN_OR_RETURN(req.end_time, mlflow::GetInt64(msg, "end_time"));
    ASSIGN_OR_RETURN(req.run_name, mlflow::GetString(msg, "run_name"));
    ASSIGN_OR_RETURN(tracking::RunInfo info, store.UpdateRun(req));
    return mlflow::JsonResponse({{"run_info", RunInfoToJson(info)}});
  });
  r.Add("POST", "/runs/delete", [&store](const Json& msg, const Request&) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string id, mlflow::GetRunId(msg));
    RETURN_IF_ERROR(store.DeleteRun(id));
    return Empty();
  });
  r.Add("POST", "/runs/restore", [&store](const Json& msg, const Request&) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string id, mlflow::GetRunId(msg));
    RETURN_IF_ERROR(store.RestoreRun(id));
    return Empty();
  });
  r.Add("GET", "/runs/get", [&store](const Json& msg, const Request&) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string id, mlflow::GetRunId(msg));
    ASSIGN_OR_RETURN(tracking::Run run, store.GetRun(id));
    return mlflow::JsonResponse({{"run", RunToJson(run)}});
  });
  MessageHandler search = [&store](const Json& msg, const Request&) -> StatusOr<Response> {
    tracking::SearchRunsRequest req;
    ASSIGN_OR_RETURN(req.experiment_ids, mlflow::GetStringList(msg, "experiment_ids"));
    ASSIGN_OR_RETURN(std::optional<std::string> filter, mlflow::GetString(msg, "filter"));
    ASSIGN_OR_RETURN(std::optional<std::string> token, mlflow::GetString(msg, "page_token"));
    req.filter = filter.value_or("");
    req.page_token = token.value_or("");
    ASSIGN_OR_RETURN(req.view_type, GetViewType(msg, "run_view_type"));
    ASSIGN_OR_RETURN(req.max_results, GetMaxResults(msg, 1000));
    ASSIGN_OR_RETURN(req.order_by, mlflow::GetStringList(msg, "order_by"));
    ASSIGN_OR_RETURN(tracking::SearchRunsResult res, store.SearchRuns(req));
    Json body = Json::object();
    if (!res.runs.empty()) {
      Json list = Json::array();
      for (const auto& run : res.runs) list.push_back(RunToJson(run));
      body["runs"] = std::move(list);
    }
    return mlflow::JsonResponse(PageResult(std::move(body), res.next_page_token));
  };
  r.Add("POST", "/runs/search", search, {"experiment_ids", "order_by"});
  r.Add("GET", "/runs/search", search, {"experiment_ids", "order_by"});
  r.Add("POST", "/runs/log-metric", [&store](const Json& msg, const Request&)
                                        -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string id, mlflow::GetRunId(msg));
    ASSIGN_OR_RETURN(tracking::Metric metric, DecodeMetric(msg, ""));
    RETURN_IF_ERROR(store.LogMetric(id, metric));
    return Empty();
  });
  r.Add("POST", "/runs/log-parameter", [&store](const Json& msg, const Request&)
                                           -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string id, mlflow::GetRunId(msg));
    ASSIGN_OR_RETURN(std::string key, mlflow::RequireString(msg, "key"));
    ASSIGN_OR_RETURN(std::optional<std::string> value, mlflow::GetString(msg, "value"));
    RETURN_IF_ERROR(store.LogParam(id, {key, value.value_or("")}));
    return Empty();
  });
  r.Add("POST", "/runs/set-tag", [&store](const Json& msg, const Request&) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string id, mlflow::GetRunId(msg));
    ASSIGN_OR_RETURN(std::string key, mlflow::RequireString(msg, "key"));
    ASSIGN_OR_RETURN(std::optional<std::string> value, mlflow::GetString(msg, "value"));
    RETURN_IF_ERROR(store.SetTag(id, {key, value.value_or("")}));
    return Empty();
  });
  r.Add("POST", "/runs/delete-tag", [&store](const Json& msg, const Request&)
                                        -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string id, mlflow::GetRunId(msg));
    ASSIGN_OR_RETURN(std::string key, mlflow::RequireString(msg, "key"));
    RETURN_IF_ERROR(store.DeleteTag(id, key));
    return Empty();
  });
  MessageHandler log_batch = [&store](const Json& msg, const Request&) -> StatusOr<Response> {
    tracking::LogBatchRequest req;
    ASSIGN_OR_RETURN(req.run_id, mlflow::GetRunId(msg));
    ASSIGN_OR_RETURN(std::vector<const Json*> metrics, GetObjectList(msg, "metrics"));
    req.metrics.reserve(metrics.size());
    for (size_t i = 0; i < metrics.size(); ++i) {
      ASSIGN_OR_RETURN(tracking::Metric m,
                       DecodeMetric(*metrics[i], "metrics[" + std::to_string(i) + "]"));
      req.metrics.push_back(std::move(m));
    }
    ASSIGN_OR_RETURN(req.params, GetParams(msg, "params"));
    ASSIGN_OR_RETURN(req.tags, GetKeyValues(msg, "tags"));
    RETURN_IF_ERROR(store.LogBatch(std::move(req)));
    return Empty();
  };
  r.AddRaw("POST", "/runs/log-batch", [&store, log_batch](const Request& req)
                                          -> StatusOr<Response> {
#ifdef CAIRN_HAVE_SIMDJSON
    if (req.ContentType() == "application/json") {
      tracking::LogBatchRequest fast;
      if (DecodeLogBatchFast(req.body, fast)) {
        RETURN_IF_ERROR(store.LogBatch(std::move(fast)));
        return Empty();
      }
    }
#endif
    ASSIGN_OR_RETURN(Json msg, mlflow::ParseRequestMessage(req));
    return log_batch(msg, req);
  });
  r.Add("POST", "/runs/log-inputs", [&store](const Json& msg, const Request&)
                                        -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string id, mlflow::GetRunId(msg));
    ASSIGN_OR_RETURN(std::vector<const Json*> items, GetObjectList(msg, "datasets"));
    std::vector<tracking::DatasetInput> datasets;
    for (size_t i = 0; i < items.size(); ++i) {
      tracking::DatasetInput in;
      ASSIGN_OR_RETURN(in.tags, GetKeyValues(*items[i], "tags"));
      auto ds = items[i]->find("dataset");
      if (ds == items[i]->end() || !ds->is_object()) {
        return InvalidArgument("Dataset input must have a dataset associated with it.");
      }
      const std::string path = "datasets[" + std::to_string(i) + "].dataset.";
      for (const char* field : {"name", "digest", "source_type", "source"}) {
        ASSIGN_OR_RETURN(std::optional<std::string> v, mlflow::GetString(*ds, field));
        if (!v) {
          return InvalidArgument("Missing value for required parameter '" + path + field +
                                 "'. See the API docs for more information about request "
                                 "parameters.");
        }
      }
      in.dataset.name = (*ds)["name"].get<std::string>();
      in.dataset.digest = (*ds)["digest"].get<std::string>();
      in.dataset.source_type = (*ds)["source_type"].get<std::string>();
      in.dataset.source = (*ds)["source"].get<std::string>();
      ASSIGN_OR_RETURN(in.dataset.schema, mlflow::GetString(*ds, "schema"));
      ASSIGN_OR_RETURN(in.dataset.profile, mlflow::GetString(*ds, "profile"));
      datasets.push_back(std::move(in));
    }
    ASSIGN_OR_RETURN(std::vector<const Json*> model_items, GetObjectList(msg, "models"));
    std::vector<tracking::ModelInput> models;
    for (const Json* m : model_items) {
      ASSIGN_OR_RETURN(std::string model_id, mlflow::RequireString(*m, "model_id"));
      models.push_back({std::move(model_id)});
    }
    RETURN_IF_ERROR(store.LogInputs(id, datasets, models));
    return Empty();
  });
  r.Add("POST", "/runs/outputs", [&store](const Json& msg, const Request&) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string id, mlflow::GetRunId(msg));
    ASSIGN_OR_RETURN(std::vector<const Json*> items, GetObjectList(msg, "models"));
    std::vector<tracking::ModelOutput> models;
    for (const Json* m : items) {
      ASSIGN_OR_RETURN(std::string model_id, mlflow::RequireString(*m, "model_id"));
      ASSIGN_OR_RETURN(int64_t step, mlflow::RequireInt64(*m, "step"));
      models.push_back({std::move(model_id), step});
    }
    RETURN_IF_ERROR(store.LogOutputs(id, models));
    return Empty();
  });
  // Legacy (MLflow 2.x clients): appends the model's JSON to the mlflow.log-model.history tag.
  r.Add("POST", "/runs/log-model", [&store](const Json& msg, const Request&)
                                       -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string id, mlflow::GetRunId(msg));
    ASSIGN_OR_RETURN(std::string model_json, mlflow::RequireString(msg, "model_json"));
    Json model = Json::parse(model_json, nullptr, false);
    if (model.is_discarded() || !model.is_object()) {
      return InvalidArgument("Malformed model info. \n" + model_json);
    }
    ASSIGN_OR_RETURN(tracking::Run run, store.GetRun(id));
    Json history = Json::array();
    for (const auto& t : run.data.tags) {
      if (t.key == "mlflow.log-model.history") {
        Json old = Json::parse(t.value, nullptr, false);
        if (old.is_array()) history = std::move(old);
      }
    }
    history.push_back(std::move(model));
    RETURN_IF_ERROR(store.SetTag(id, {"mlflow.log-model.history", history.dump(-1, ' ', false, Json::error_handler_t::replace)}));
    return Empty();
  });
}

void AddMetricRoutes(Registrar& r, TrackingStore& store) {
  r.Add("GET", "/metrics/get-history", [&store](const Json& msg, const Request&)
                                           -> StatusOr<Response> {
    tracking::MetricHistoryRequest req;
    ASSIGN_OR_RETURN(req.run_id, mlflow::GetRunId(msg));
    ASSIGN_OR_RETURN(req.metric_key, mlflow::RequireString(msg, "metric_key"));
    ASSIGN_OR_RETURN(std::optional<int64_t> max_results, mlflow::GetInt64(msg, "max_results"));
    if (max_results) {
      if (*max_results < 1 || *max_results > 1'000'000'000) {
        return InvalidArgument("Invalid value " + std::to_string(*max_results) +
                               " for parameter 'max_results' supplied. It must be a positive "
                               "integer");
      }
      req.max_results = static_cast<int>(*max_results);
    }
    ASSIGN_OR_RETURN(std::optional<std::string> token, mlflow::GetString(msg, "page_token"));
    req.page_token = token.value_or("");
    ASSIGN_OR_RETURN(tracking::MetricHistoryResult res, store.GetMetricHistory(req));
    Json body = Json::object();
    if (!res.metrics.empty()) {
      Json list = Json::array();
      for (const auto& m : res.metrics) list.push_back(MetricToJson(m));
      body["metrics"] = std::move(list);
    }
    return mlflow::JsonResponse(PageResult(std::move(body), res.next_page_token));
  });
  r.Add(
      "GET", "/metrics/get-history-bulk-interval",
      [&store](const Json& msg, const Request&) -> StatusOr<Response> {
        tracking::MetricHistoryBulkIntervalRequest req;
        ASSIGN_OR_RETURN(req.run_ids, mlflow::GetStringList(msg, "run_ids"));
        if (req.run_ids.empty()) {
          return InvalidArgument(
              "Missing value for required parameter 'run_ids'. See the API docs for more "
              "information about request parameters.");
        }
        ASSIGN_OR_RETURN(req.metric_key, mlflow::RequireString(msg, "metric_key"));
        ASSIGN_OR_RETURN(req.start_step, mlflow::GetInt64(msg, "start_step"));
        ASSIGN_OR_RETURN(req.end_step, mlflow::GetInt64(msg, "end_step"));
        ASSIGN_OR_RETURN(std::optional<int64_t> max_results,
                         mlflow::GetInt64(msg, "max_results"));
        if (max_results) {
          if (*max_results < 1 || *max_results > 2500) {
            return InvalidArgument("max_results must be between 1 and 2500.");
          }
          req.max_results = static_cast<int>(*max_results);
        }
        ASSIGN_OR_RETURN(std::vector<tracking::Metric> metrics,
                         store.GetMetricHistoryBulkInterval(req));
        Json body = Json::object();
        if (!metrics.empty()) {
          Json list = Json::array();
          for (const auto& m : metrics) list.push_back(MetricToJson(m));
          body["metrics"] = std::move(list);
        }
        return mlflow::JsonResponse(body);
      },
      {"run_ids"});
}

StatusOr<std::string> LoggedModelStatusName(const Json& msg) {
  auto it = msg.find("status");
  if (it == msg.end() || it->is_null()) {
    return InvalidArgument("Missing value for required parameter 'status'. See the API docs "
                           "for more information about request parameters.");
  }
  if (it->is_number_integer()) {
    switch (it->get<int64_t>()) {
      case 1: return std::string(tracking::kLoggedModelPending);
      case 2: return std::string(tracking::kLoggedModelReady);
      case 3: return std::string(tracking::kLoggedModelUploadFailed);
    }
  } else if (it->is_string()) {
    return it->get<std::string>();
  }
  return InvalidArgument("Invalid value " + it->dump(-1, ' ', false, Json::error_handler_t::replace) +
                         " for parameter 'status' supplied.");
}

void AddLoggedModelRoutes(Registrar& r, TrackingStore& store) {
  r.Add("POST", "/logged-models", [&store](const Json& msg, const Request&)
                                      -> StatusOr<Response> {
    tracking::CreateLoggedModelRequest req;
    ASSIGN_OR_RETURN(req.experiment_id, mlflow::RequireString(msg, "experiment_id"));
    ASSIGN_OR_RETURN(req.name, mlflow::GetString(msg, "name"));
    ASSIGN_OR_RETURN(req.model_type, mlflow::GetString(msg, "model_type"));
    ASSIGN_OR_RETURN(req.source_run_id, mlflow::GetString(msg, "source_run_id"));
    ASSIGN_OR_RETURN(req.params, GetParams(msg, "params"));
    ASSIGN_OR_RETURN(req.tags, GetKeyValues(msg, "tags"));
    if (req.params.size() > 100) {
      return InvalidArgument("Invalid value for parameter 'params' supplied: at most 100 "
                             "params may be logged with a model.");
    }
    ASSIGN_OR_RETURN(tracking::LoggedModel m, store.CreateLoggedModel(std::move(req)));
    return mlflow::JsonResponse({{"model", LoggedModelToJson(m)}});
  });
  r.Add("POST", "/logged-models/search", [&store](const Json& msg, const Request&)
                                             -> StatusOr<Response> {
    tracking::SearchLoggedModelsRequest req;
    ASSIGN_OR_RETURN(req.experiment_ids, mlflow::GetStringList(msg, "experiment_ids"));
    ASSIGN_OR_RETURN(std::optional<std::string> filter, mlflow::GetString(msg, "filter"));
    ASSIGN_OR_RETURN(std::optional<std::string> token, mlflow::GetString(msg, "page_token"));
    req.filter = filter.value_or("");
    req.page_token = token.value_or("");
    ASSIGN_OR_RETURN(req.max_results, GetMaxResults(msg, 50));
    ASSIGN_OR_RETURN(std::vector<const Json*> datasets, GetObjectList(msg, "datasets"));
    for (const Json* d : datasets) {
      tracking::LoggedModelDatasetFilter f;
      ASSIGN_OR_RETURN(std::optional<std::string> name, mlflow::GetString(*d, "dataset_name"));
      f.dataset_name = name.value_or("");
      ASSIGN_OR_RETURN(f.dataset_digest, mlflow::GetString(*d, "dataset_digest"));
      req.datasets.push_back(std::move(f));
    }
    ASSIGN_OR_RETURN(std::vector<const Json*> order, GetObjectList(msg, "order_by"));
    for (const Json* o : order) {
      tracking::LoggedModelOrderBy ob;
      ASSIGN_OR_RETURN(ob.field_name, mlflow::RequireString(*o, "field_name"));
      ASSIGN_OR_RETURN(std::optional<bool> asc, mlflow::GetBool(*o, "ascending"));
      ob.ascending = asc.value_or(true);
      ASSIGN_OR_RETURN(ob.dataset_name, mlflow::GetString(*o, "dataset_name"));
      ASSIGN_OR_RETURN(ob.dataset_digest, mlflow::GetString(*o, "dataset_digest"));
      req.order_by.push_back(std::move(ob));
    }
    ASSIGN_OR_RETURN(tracking::SearchLoggedModelsResult res, store.SearchLoggedModels(req));
    Json body = Json::object();
    if (!res.models.empty()) {
      Json list = Json::array();
      for (const auto& m : res.models) list.push_back(LoggedModelToJson(m));
      body["models"] = std::move(list);
    }
    return mlflow::JsonResponse(PageResult(std::move(body), res.next_page_token));
  });
  r.Add("GET", "/logged-models/{model_id}", [&store](const Json&, const Request& req)
                                                -> StatusOr<Response> {
    ASSIGN_OR_RETURN(tracking::LoggedModel m,
                     store.GetLoggedModel(req.path_params.at("model_id")));
    return mlflow::JsonResponse({{"model", LoggedModelToJson(m)}});
  });
  r.Add("PATCH", "/logged-models/{model_id}", [&store](const Json& msg, const Request& req)
                                                  -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string status, LoggedModelStatusName(msg));
    ASSIGN_OR_RETURN(tracking::LoggedModel m,
                     store.FinalizeLoggedModel(req.path_params.at("model_id"), status));
    return mlflow::JsonResponse({{"model", LoggedModelToJson(m)}});
  });
  r.Add("DELETE", "/logged-models/{model_id}", [&store](const Json&, const Request& req)
                                                   -> StatusOr<Response> {
    RETURN_IF_ERROR(store.DeleteLoggedModel(req.path_params.at("model_id")));
    return Empty();
  });
  r.Add("PATCH", "/logged-models/{model_id}/tags", [&store](const Json& msg, const Request& req)
                                                       -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::vector<tracking::Tag> tags, GetKeyValues(msg, "tags"));
    RETURN_IF_ERROR(store.SetLoggedModelTags(req.path_params.at("model_id"), std::move(tags)));
    return Empty();
  });
  r.Add("DELETE", "/logged-models/{model_id}/tags/{tag_key}",
        [&store](const Json&, const Request& req) -> StatusOr<Response> {
          RETURN_IF_ERROR(store.DeleteLoggedModelTag(req.path_params.at("model_id"),
                                                     req.path_params.at("tag_key")));
          return Empty();
        });
  r.Add("POST", "/logged-models/{model_id}/params", [&store](const Json& msg, const Request& req)
                                                        -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::vector<tracking::Param> params, GetParams(msg, "params"));
    RETURN_IF_ERROR(
        store.LogLoggedModelParams(req.path_params.at("model_id"), std::move(params)));
    return Empty();
  });
}

}  // namespace

void RegisterMlflowTrackingRoutes(Router& router, TrackingStore& store) {
  Registrar r{router};
  AddExperimentRoutes(r, store);
  AddRunRoutes(r, store);
  AddMetricRoutes(r, store);
  AddLoggedModelRoutes(r, store);
}

}  // namespace cairn::http
