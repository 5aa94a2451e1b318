#include "http/mlflow_registry_routes.h"

#include <nlohmann/json.hpp>

#include "http/errors.h"
#include "http/mlflow_json.h"
#include "registry/validation.h"
#include "tracking/search/search.h"

namespace cairn::http {

namespace {

using mlflow::Json;
using registry::RegistryStore;

constexpr char kSeeDocs[] = " See the API docs for more information about request parameters.";

// ---------------------------------------------------------------------------------------------
// Entities -> protobuf JSON, with MLflow 3.6's presence rules (entities/model_registry/*.py
// to_proto): a version's optional strings are sent when set (even ""), a registered model's
// description and last_updated_timestamp only when non-empty/non-zero.

Json TagsToJson(const std::vector<registry::Tag>& tags) {
  Json out = Json::array();
  for (const auto& t : tags) out.push_back({{"key", t.key}, {"value", t.value}});
  return out;
}

Json ModelVersionToJson(const registry::ModelVersion& mv) {
  Json j = {{"name", mv.name},
            {"version", std::to_string(mv.version)},
            {"creation_timestamp", mv.creation_timestamp},
            {"current_stage", mv.current_stage},
            {"status", mv.status}};
  if (mv.last_updated_timestamp) j["last_updated_timestamp"] = *mv.last_updated_timestamp;
  if (mv.user_id) j["user_id"] = *mv.user_id;
  if (mv.description) j["description"] = *mv.description;
  if (mv.source) j["source"] = *mv.source;
  if (mv.run_id) j["run_id"] = *mv.run_id;
  if (mv.status_message && !mv.status_message->empty()) j["status_message"] = *mv.status_message;
  if (!mv.tags.empty()) j["tags"] = TagsToJson(mv.tags);
  if (mv.run_link) j["run_link"] = *mv.run_link;
  if (!mv.aliases.empty()) j["aliases"] = mv.aliases;
  return j;
}

Json RegisteredModelToJson(const registry::RegisteredModel& rm) {
  Json j = {{"name", rm.name}, {"creation_timestamp", rm.creation_timestamp}};
  if (rm.last_updated_timestamp && *rm.last_updated_timestamp != 0) {
    j["last_updated_timestamp"] = *rm.last_updated_timestamp;
  }
  if (rm.description && !rm.description->empty()) j["description"] = *rm.description;
  if (!rm.latest_versions.empty()) {
    Json list = Json::array();
    for (const auto& mv : rm.latest_versions) list.push_back(ModelVersionToJson(mv));
    j["latest_versions"] = std::move(list);
  }
  if (!rm.tags.empty()) j["tags"] = TagsToJson(rm.tags);
  if (!rm.aliases.empty()) {
    Json list = Json::array();
    for (const auto& a : rm.aliases) {
      list.push_back({{"alias", a.alias}, {"version", std::to_string(a.version)}});
    }
    j["aliases"] = std::move(list);
  }
  return j;
}

// ---------------------------------------------------------------------------------------------
// Request decoding

// [{key, value}] -> tags (an absent value is "", as protobuf's default).
StatusOr<std::vector<registry::Tag>> GetTags(const Json& msg) {
  std::vector<registry::Tag> out;
  auto it = msg.find("tags");
  if (it == msg.end() || it->is_null()) return out;
  if (!it->is_array()) {
    return InvalidArgument("Invalid value " +
                           it->dump(-1, ' ', false, Json::error_handler_t::replace) +
                           " for parameter 'tags' supplied. Hint: Value was of type 'list' "
                           "expected." + std::string(kSeeDocs));
  }
  for (const Json& item : *it) {
    if (!item.is_object()) {
      return InvalidArgument("Invalid value for parameter 'tags' supplied: every item must be "
                             "an object with a key and a value.");
    }
    ASSIGN_OR_RETURN(std::optional<std::string> key, mlflow::GetString(item, "key"));
    ASSIGN_OR_RETURN(std::optional<std::string> value, mlflow::GetString(item, "value"));
    out.push_back({key.value_or(""), value.value_or("")});
  }
  return out;
}

std::string PyTypeName(const Json& v) {
  if (v.is_string()) return "str";
  if (v.is_boolean()) return "bool";
  if (v.is_number_integer() || v.is_number_unsigned()) return "int";
  if (v.is_number_float()) return "float";
  return "NoneType";
}

// max_results with the handler's bound check (_assert_less_than_or_equal), which MLflow
// reports as an invalid value of the type as sent.
StatusOr<std::optional<int64_t>> GetMaxResults(const Json& msg, int64_t limit) {
  ASSIGN_OR_RETURN(std::optional<int64_t> v, mlflow::GetInt64(msg, "max_results"));
  if (v && *v > limit) {
    const Json& raw = msg.at("max_results");
    return InvalidArgument("Invalid value " +
                           raw.dump(-1, ' ', false, Json::error_handler_t::replace) +
                           " for parameter 'max_results' supplied:  Hint: Value was of type '" +
                           PyTypeName(raw) + "'." + kSeeDocs);
  }
  return v;
}

StatusOr<registry::SearchRequest> GetSearchRequest(const Json& msg, int64_t limit) {
  registry::SearchRequest req;
  ASSIGN_OR_RETURN(std::optional<std::string> filter, mlflow::GetString(msg, "filter"));
  ASSIGN_OR_RETURN(std::optional<std::string> token, mlflow::GetString(msg, "page_token"));
  req.filter = filter.value_or("");
  req.page_token = token.value_or("");
  ASSIGN_OR_RETURN(req.max_results, GetMaxResults(msg, limit));
  ASSIGN_OR_RETURN(req.order_by, mlflow::GetStringList(msg, "order_by"));
  return req;
}

// Who is acting, for the alias history.
std::string RequestUser(const Request& req, const Json& msg) {
  if (auto user = mlflow::GetString(msg, "user"); user.ok() && *user && !(*user)->empty()) {
    return **user;
  }
  if (const std::string& h = req.Header("x-cairn-user"); !h.empty()) return h;
  const std::string& auth = req.Header("authorization");
  if (auth.size() > 6 && (auth.compare(0, 6, "Basic ") == 0 || auth.compare(0, 6, "basic ") == 0)) {
    auto decoded = tracking::search::Base64Decode(auth.substr(6));
    if (decoded) return decoded->substr(0, decoded->find(':'));
  }
  return "";
}

Response Empty() { return Response::Json("{}"); }

Json PageResult(Json body, const std::string& next_page_token) {
  if (!next_page_token.empty()) body["next_page_token"] = next_page_token;
  return body;
}

// ---------------------------------------------------------------------------------------------
// MLflow route table

using mlflow::MessageHandler;
using mlflow::Registrar;

void AddRegisteredModelRoutes(Registrar& r, RegistryStore& store) {
  r.Add("POST", "/registered-models/create", [&store](const Json& msg, const Request&)
                                                 -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(std::vector<registry::Tag> tags, GetTags(msg));
    ASSIGN_OR_RETURN(std::optional<std::string> description, mlflow::GetString(msg, "description"));
    ASSIGN_OR_RETURN(registry::RegisteredModel rm,
                     store.CreateRegisteredModel(name, std::move(tags), description));
    return mlflow::JsonResponse({{"registered_model", RegisteredModelToJson(rm)}});
  });
  r.Add("GET", "/registered-models/get", [&store](const Json& msg, const Request&)
                                             -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(registry::RegisteredModel rm, store.GetRegisteredModel(name));
    return mlflow::JsonResponse({{"registered_model", RegisteredModelToJson(rm)}});
  });
  r.Add("POST", "/registered-models/rename", [&store](const Json& msg, const Request&)
                                                 -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(std::string new_name, mlflow::RequireString(msg, "new_name"));
    ASSIGN_OR_RETURN(registry::RegisteredModel rm, store.RenameRegisteredModel(name, new_name));
    return mlflow::JsonResponse({{"registered_model", RegisteredModelToJson(rm)}});
  });
  r.Add("PATCH", "/registered-models/update", [&store](const Json& msg, const Request&)
                                                  -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(std::optional<std::string> description, mlflow::GetString(msg, "description"));
    ASSIGN_OR_RETURN(registry::RegisteredModel rm,
                     store.UpdateRegisteredModel(name, description.value_or("")));
    return mlflow::JsonResponse({{"registered_model", RegisteredModelToJson(rm)}});
  });
  r.Add("DELETE", "/registered-models/delete", [&store](const Json& msg, const Request&)
                                                   -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    RETURN_IF_ERROR(store.DeleteRegisteredModel(name));
    return Empty();
  });
  r.Add(
      "GET", "/registered-models/search",
      [&store](const Json& msg, const Request&) -> StatusOr<Response> {
        ASSIGN_OR_RETURN(registry::SearchRequest req,
                         GetSearchRequest(msg, registry::kMaxRegisteredModelsPerPage));
        ASSIGN_OR_RETURN(registry::SearchRegisteredModelsResult res,
                         store.SearchRegisteredModels(req));
        Json body = Json::object();
        if (!res.registered_models.empty()) {
          Json list = Json::array();
          for (const auto& rm : res.registered_models) list.push_back(RegisteredModelToJson(rm));
          body["registered_models"] = std::move(list);
        }
        return mlflow::JsonResponse(PageResult(std::move(body), res.next_page_token));
      },
      {"order_by"});
  MessageHandler latest = [&store](const Json& msg, const Request&) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(std::vector<std::string> stages, mlflow::GetStringList(msg, "stages"));
    ASSIGN_OR_RETURN(std::vector<registry::ModelVersion> mvs,
                     store.GetLatestVersions(name, stages));
    Json body = Json::object();
    if (!mvs.empty()) {
      Json list = Json::array();
      for (const auto& mv : mvs) list.push_back(ModelVersionToJson(mv));
      body["model_versions"] = std::move(list);
    }
    return mlflow::JsonResponse(body);
  };
  r.Add("POST", "/registered-models/get-latest-versions", latest, {"stages"});
  r.Add("GET", "/registered-models/get-latest-versions", latest, {"stages"});
  r.Add("POST", "/registered-models/set-tag", [&store](const Json& msg, const Request&)
                                                  -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(std::string key, mlflow::RequireString(msg, "key"));
    ASSIGN_OR_RETURN(std::optional<std::string> value, mlflow::GetString(msg, "value"));
    RETURN_IF_ERROR(store.SetRegisteredModelTag(name, {key, value.value_or("")}));
    return Empty();
  });
  r.Add("DELETE", "/registered-models/delete-tag", [&store](const Json& msg, const Request&)
                                                       -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(std::string key, mlflow::RequireString(msg, "key"));
    RETURN_IF_ERROR(store.DeleteRegisteredModelTag(name, key));
    return Empty();
  });
  r.Add("POST", "/registered-models/alias", [&store](const Json& msg, const Request& req)
                                                -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(std::string alias, mlflow::RequireString(msg, "alias"));
    ASSIGN_OR_RETURN(std::string version, mlflow::RequireString(msg, "version"));
    RETURN_IF_ERROR(store.SetRegisteredModelAlias(name, alias, version, RequestUser(req, msg)));
    return Empty();
  });
  r.Add("DELETE", "/registered-models/alias", [&store](const Json& msg, const Request& req)
                                                  -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(std::string alias, mlflow::RequireString(msg, "alias"));
    RETURN_IF_ERROR(store.DeleteRegisteredModelAlias(name, alias, RequestUser(req, msg)));
    return Empty();
  });
  r.Add("GET", "/registered-models/alias", [&store](const Json& msg, const Request&)
                                               -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(std::string alias, mlflow::RequireString(msg, "alias"));
    ASSIGN_OR_RETURN(registry::ModelVersion mv, store.GetModelVersionByAlias(name, alias));
    return mlflow::JsonResponse({{"model_version", ModelVersionToJson(mv)}});
  });
}

void AddModelVersionRoutes(Registrar& r, RegistryStore& store) {
  r.Add("POST", "/model-versions/create", [&store](const Json& msg, const Request&)
                                              -> StatusOr<Response> {
    registry::CreateModelVersionRequest req;
    ASSIGN_OR_RETURN(req.name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(req.source, mlflow::RequireString(msg, "source"));
    ASSIGN_OR_RETURN(std::optional<std::string> run_id, mlflow::GetString(msg, "run_id"));
    ASSIGN_OR_RETURN(std::optional<std::string> run_link, mlflow::GetString(msg, "run_link"));
    ASSIGN_OR_RETURN(std::optional<std::string> description,
                     mlflow::GetString(msg, "description"));
    ASSIGN_OR_RETURN(std::optional<std::string> model_id, mlflow::GetString(msg, "model_id"));
    ASSIGN_OR_RETURN(req.tags, GetTags(msg));
    // MLflow stores the protobuf defaults: absent strings become "".
    req.run_id = run_id.value_or("");
    req.run_link = run_link.value_or("");
    req.description = description.value_or("");
    if (model_id && !model_id->empty()) req.model_id = model_id;
    ASSIGN_OR_RETURN(registry::ModelVersion mv, store.CreateModelVersion(std::move(req)));
    return mlflow::JsonResponse({{"model_version", ModelVersionToJson(mv)}});
  });
  r.Add("GET", "/model-versions/get", [&store](const Json& msg, const Request&)
                                          -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(std::string version, mlflow::RequireString(msg, "version"));
    ASSIGN_OR_RETURN(registry::ModelVersion mv, store.GetModelVersion(name, version));
    return mlflow::JsonResponse({{"model_version", ModelVersionToJson(mv)}});
  });
  r.Add("PATCH", "/model-versions/update", [&store](const Json& msg, const Request&)
                                               -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(std::string version, mlflow::RequireString(msg, "version"));
    ASSIGN_OR_RETURN(std::optional<std::string> description, mlflow::GetString(msg, "description"));
    ASSIGN_OR_RETURN(registry::ModelVersion mv,
                     store.UpdateModelVersion(name, version, description));
    return mlflow::JsonResponse({{"model_version", ModelVersionToJson(mv)}});
  });
  r.Add("POST", "/model-versions/transition-stage", [&store](const Json& msg, const Request&)
                                                        -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(std::string version, mlflow::RequireString(msg, "version"));
    ASSIGN_OR_RETURN(std::string stage, mlflow::RequireString(msg, "stage"));
    ASSIGN_OR_RETURN(std::optional<bool> archive,
                     mlflow::GetBool(msg, "archive_existing_versions"));
    ASSIGN_OR_RETURN(registry::ModelVersion mv,
                     store.TransitionModelVersionStage(name, version, stage,
                                                       archive.value_or(false)));
    return mlflow::JsonResponse({{"model_version", ModelVersionToJson(mv)}});
  });
  r.Add("DELETE", "/model-versions/delete", [&store](const Json& msg, const Request& req)
                                                -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(std::string version, mlflow::RequireString(msg, "version"));
    RETURN_IF_ERROR(store.DeleteModelVersion(name, version, RequestUser(req, msg)));
    return Empty();
  });
  r.Add("GET", "/model-versions/get-download-uri", [&store](const Json& msg, const Request&)
                                                       -> StatusOr<Response> {
    // MLflow declares no schema here: missing fields reach the store's own checks.
    ASSIGN_OR_RETURN(std::optional<std::string> name, mlflow::GetString(msg, "name"));
    ASSIGN_OR_RETURN(std::optional<std::string> version, mlflow::GetString(msg, "version"));
    ASSIGN_OR_RETURN(std::string uri, store.GetModelVersionDownloadUri(name.value_or(""),
                                                                       version.value_or("")));
    return mlflow::JsonResponse({{"artifact_uri", uri}});
  });
  r.Add(
      "GET", "/model-versions/search",
      [&store](const Json& msg, const Request&) -> StatusOr<Response> {
        ASSIGN_OR_RETURN(registry::SearchRequest req,
                         GetSearchRequest(msg, registry::kMaxModelVersionsPerPage));
        ASSIGN_OR_RETURN(registry::SearchModelVersionsResult res, store.SearchModelVersions(req));
        Json body = Json::object();
        if (!res.model_versions.empty()) {
          Json list = Json::array();
          for (const auto& mv : res.model_versions) list.push_back(ModelVersionToJson(mv));
          body["model_versions"] = std::move(list);
        }
        return mlflow::JsonResponse(PageResult(std::move(body), res.next_page_token));
      },
      {"order_by"});
  r.Add("POST", "/model-versions/set-tag", [&store](const Json& msg, const Request&)
                                               -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(std::string version, mlflow::RequireString(msg, "version"));
    ASSIGN_OR_RETURN(std::string key, mlflow::RequireString(msg, "key"));
    ASSIGN_OR_RETURN(std::optional<std::string> value, mlflow::GetString(msg, "value"));
    RETURN_IF_ERROR(store.SetModelVersionTag(name, version, {key, value.value_or("")}));
    return Empty();
  });
  r.Add("DELETE", "/model-versions/delete-tag", [&store](const Json& msg, const Request&)
                                                    -> StatusOr<Response> {
    ASSIGN_OR_RETURN(std::string name, mlflow::RequireString(msg, "name"));
    ASSIGN_OR_RETURN(std::string version, mlflow::RequireString(msg, "version"));
    ASSIGN_OR_RETURN(std::string key, mlflow::RequireString(msg, "key"));
    RETURN_IF_ERROR(store.DeleteModelVersionTag(name, version, key));
    return Empty();
  });
}

// ---------------------------------------------------------------------------------------------
// Native routes (/api/v1)

Json OptionalVersion(const std::optional<int64_t>& v) {
  return v ? Json(std::to_string(*v)) : Json(nullptr);
}

Json ChecksToJson(const std::vector<registry::GateCheck>& checks) {
  Json out = Json::array();
  for (const auto& c : checks) {
    out.push_back({{"condition", c.condition}, {"passed", c.passed}, {"detail", c.detail}});
  }
  return out;
}

Json EventToJson(const registry::AliasEvent& e) {
  return {{"id", e.id},
          {"name", e.name},
          {"alias", e.alias},
          {"from_version", OptionalVersion(e.from_version)},
          {"to_version", OptionalVersion(e.to_version)},
          {"timestamp", e.timestamp},
          {"user_id", e.user_id},
          {"action", e.action},
          {"outcome", e.outcome},
          {"gate_checks", ChecksToJson(e.gate_checks)}};
}

Json GateToJson(const registry::PromotionGate& g) {
  Json conditions = Json::array();
  for (const auto& c : g.conditions) conditions.push_back(c.expression);
  Json tags = Json::object();
  for (const auto& t : g.required_tags) tags[t.key] = t.value;
  Json j = {{"name", g.name},
            {"alias", g.alias},
            {"conditions", std::move(conditions)},
            {"required_tags", std::move(tags)}};
  if (g.updated_timestamp) j["updated_timestamp"] = *g.updated_timestamp;
  if (g.updated_by) j["updated_by"] = *g.updated_by;
  return j;
}

Json PromotionToJson(const registry::PromoteResult& r, const std::string& alias) {
  Json j = {{"promoted", r.promoted},
            {"alias", alias},
            {"from_version", OptionalVersion(r.from_version)},
            {"to_version", std::to_string(r.to_version)},
            {"gate",
             {{"has_gate", r.gate.has_gate},
              {"gate_alias", r.gate.gate_alias},
              {"passed", r.gate.passed},
              {"champion_version", OptionalVersion(r.gate.champion_version)},
              {"checks", ChecksToJson(r.gate.checks)}}}};
  if (r.event) j["event"] = EventToJson(*r.event);
  return j;
}

Json MapOf(const std::vector<tracking::Tag>& kv) {
  Json out = Json::object();
  for (const auto& t : kv) out[t.key] = t.value;
  return out;
}

Json LineageToJson(const registry::Lineage& l) {
  Json j = {{"model_version", ModelVersionToJson(l.model_version)}};
  j["model_version"]["storage_location"] = l.model_version.storage_location.value_or("");
  if (l.model_version.model_id) j["model_version"]["model_id"] = *l.model_version.model_id;
  if (l.run) {
    const tracking::Run& r = *l.run;
    Json params = Json::object();
    for (const auto& p : r.data.params) params[p.key] = p.value;
    Json metrics = Json::object();
    for (const auto& m : r.data.metrics) metrics[m.key] = mlflow::DoubleToJson(m.value);
    Json datasets = Json::array();
    for (const auto& in : r.inputs.dataset_inputs) {
      Json d = {{"name", in.dataset.name},
                {"digest", in.dataset.digest},
                {"source_type", in.dataset.source_type},
                {"source", in.dataset.source},
                {"tags", MapOf(in.tags)}};
      for (const auto& t : in.tags) {
        if (t.key == tracking::kDatasetContextTag) d["context"] = t.value;
      }
      if (in.dataset.schema) d["schema"] = *in.dataset.schema;
      datasets.push_back(std::move(d));
    }
    Json run = {{"run_id", r.info.run_id},
                {"run_name", r.info.run_name},
                {"experiment_id", r.info.experiment_id},
                {"user_id", r.info.user_id},
                {"status", r.info.status},
                {"artifact_uri", r.info.artifact_uri},
                {"lifecycle_stage", r.info.lifecycle_stage},
                {"params", std::move(params)},
                {"metrics", std::move(metrics)},
                {"tags", MapOf(r.data.tags)},
                {"dataset_inputs", std::move(datasets)}};
    if (r.info.start_time) run["start_time"] = *r.info.start_time;
    if (r.info.end_time) run["end_time"] = *r.info.end_time;
    j["run"] = std::move(run);
  } else {
    j["run"] = nullptr;
  }
  if (l.logged_model) {
    const tracking::LoggedModel& m = *l.logged_model;
    Json params = Json::object();
    for (const auto& p : m.params) params[p.key] = p.value;
    Json lm = {{"model_id", m.model_id},
               {"name", m.name},
               {"experiment_id", m.experiment_id},
               {"artifact_uri", m.artifact_uri},
               {"status", m.status},
               {"params", std::move(params)},
               {"tags", MapOf(m.tags)}};
    if (m.model_type) lm["model_type"] = *m.model_type;
    if (m.source_run_id) lm["source_run_id"] = *m.source_run_id;
    if (m.creation_timestamp_ms) lm["creation_timestamp_ms"] = *m.creation_timestamp_ms;
    j["logged_model"] = std::move(lm);
  } else {
    j["logged_model"] = nullptr;
  }
  j["notes"] = l.notes;
  return j;
}

// The gate in a PUT body: {"conditions": [...], "required_tags": {"k": "v"} | [{key,value}]}.
StatusOr<registry::PromotionGate> DecodeGate(const Json& msg) {
  registry::PromotionGate gate;
  ASSIGN_OR_RETURN(std::vector<std::string> conditions, mlflow::GetStringList(msg, "conditions"));
  for (auto& c : conditions) gate.conditions.push_back({std::move(c)});
  auto it = msg.find("required_tags");
  if (it != msg.end() && !it->is_null()) {
    if (it->is_object()) {
      for (auto t = it->begin(); t != it->end(); ++t) {
        if (!t.value().is_string()) {
          return InvalidArgument("required_tags." + t.key() + " must be a string");
        }
        gate.required_tags.push_back({t.key(), t.value().get<std::string>()});
      }
    } else if (it->is_array()) {
      for (const Json& t : *it) {
        if (!t.is_object()) return InvalidArgument("required_tags items must be objects");
        ASSIGN_OR_RETURN(std::optional<std::string> key, mlflow::GetString(t, "key"));
        ASSIGN_OR_RETURN(std::optional<std::string> value, mlflow::GetString(t, "value"));
        gate.required_tags.push_back({key.value_or(""), value.value_or("")});
      }
    } else {
      return InvalidArgument("required_tags must be an object of tag values");
    }
  }
  return gate;
}

void AddNativeRoutes(Router& router, RegistryStore& store) {
  router.Add("GET", "/api/v1/models/resolve", [&store](const Request& req) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(Json msg, mlflow::ParseRequestMessage(req));
    ASSIGN_OR_RETURN(std::string uri, mlflow::RequireString(msg, "uri"));
    ASSIGN_OR_RETURN(registry::ResolvedModel m, store.ResolveModelUri(uri));
    Json j = {{"uri", uri},
              {"source", m.source},
              {"download_uri", m.download_uri},
              {"artifact_location", m.artifact_location}};
    if (!m.name.empty()) {
      j["name"] = m.name;
      j["version"] = std::to_string(m.version);
      j["current_stage"] = m.current_stage;
      j["aliases"] = m.aliases;
    }
    if (m.run_id && !m.run_id->empty()) j["run_id"] = *m.run_id;
    if (m.model_id) j["model_id"] = *m.model_id;
    return mlflow::JsonResponse(j);
  });
  router.Add("GET", "/api/v1/models/{name}/history",
             [&store](const Request& req) -> StatusOr<Response> {
               std::string alias = req.QueryParam("alias").value_or("");
               ASSIGN_OR_RETURN(std::vector<registry::AliasEvent> events,
                                store.GetAliasHistory(req.path_params.at("name"), alias));
               Json list = Json::array();
               for (const auto& e : events) list.push_back(EventToJson(e));
               return mlflow::JsonResponse({{"events", std::move(list)}});
             });
  router.Add("GET", "/api/v1/models/{name}/versions/{version}/lineage",
             [&store](const Request& req) -> StatusOr<Response> {
               ASSIGN_OR_RETURN(registry::Lineage l,
                                store.GetLineage(req.path_params.at("name"),
                                                 req.path_params.at("version")));
               return mlflow::JsonResponse(LineageToJson(l));
             });
  router.Add("POST", "/api/v1/models/{name}/promote",
             [&store](const Request& req) -> StatusOr<Response> {
               ASSIGN_OR_RETURN(Json msg, mlflow::ParseRequestMessage(req));
               registry::PromoteRequest p;
               p.name = req.path_params.at("name");
               ASSIGN_OR_RETURN(std::string version, mlflow::RequireString(msg, "version"));
               ASSIGN_OR_RETURN(p.version, registry::ParseVersion(version));
               ASSIGN_OR_RETURN(p.alias, mlflow::RequireString(msg, "to"));
               ASSIGN_OR_RETURN(std::optional<bool> dry_run, mlflow::GetBool(msg, "dry_run"));
               p.dry_run = dry_run.value_or(false);
               p.user_id = RequestUser(req, msg);
               ASSIGN_OR_RETURN(registry::PromoteResult r, store.Promote(p));
               Json body = PromotionToJson(r, p.alias);
               if (r.promoted || p.dry_run) return mlflow::JsonResponse(body);
               std::string failed;
               for (const auto& c : r.gate.checks) {
                 if (c.passed) continue;
                 failed += "\n  - " + c.condition + ": " + c.detail;
               }
               Status refused = Status(Code::kFailedPrecondition,
                                       "Promotion of " + p.name + " version " + version +
                                           " to '" + p.alias + "' refused by its gate; failed "
                                           "conditions:" + failed)
                                    .WithMlflowCode("PROMOTION_GATE_FAILED");
               Json error = {{"error_code", MlflowErrorCodeFor(refused)},
                             {"message", refused.message()},
                             {"promotion", std::move(body)}};
               return mlflow::JsonResponse(error, HttpStatusFor(refused.code()));
             });
  router.Add("GET", "/api/v1/models/{name}/gates",
             [&store](const Request& req) -> StatusOr<Response> {
               ASSIGN_OR_RETURN(std::vector<registry::PromotionGate> gates,
                                store.GetPromotionGates(req.path_params.at("name")));
               Json list = Json::array();
               for (const auto& g : gates) list.push_back(GateToJson(g));
               return mlflow::JsonResponse({{"gates", std::move(list)}});
             });
  auto put_gate = [&store](const Request& req, const std::string& alias) -> StatusOr<Response> {
    ASSIGN_OR_RETURN(Json msg, mlflow::ParseRequestMessage(req));
    ASSIGN_OR_RETURN(registry::PromotionGate gate, DecodeGate(msg));
    gate.name = req.path_params.at("name");
    gate.alias = alias;
    std::string user = RequestUser(req, msg);
    if (!user.empty()) gate.updated_by = user;
    ASSIGN_OR_RETURN(registry::PromotionGate saved, store.SetPromotionGate(std::move(gate)));
    return mlflow::JsonResponse({{"gate", GateToJson(saved)}});
  };
  router.Add("PUT", "/api/v1/models/{name}/gates/{alias}",
             [put_gate](const Request& req) { return put_gate(req, req.path_params.at("alias")); });
  router.Add("PUT", "/api/v1/models/{name}/gate",
             [put_gate](const Request& req) { return put_gate(req, ""); });
  router.Add("DELETE", "/api/v1/models/{name}/gates/{alias}",
             [&store](const Request& req) -> StatusOr<Response> {
               RETURN_IF_ERROR(store.DeletePromotionGate(req.path_params.at("name"),
                                                         req.path_params.at("alias")));
               return Empty();
             });
  router.Add("DELETE", "/api/v1/models/{name}/gate",
             [&store](const Request& req) -> StatusOr<Response> {
               RETURN_IF_ERROR(store.DeletePromotionGate(req.path_params.at("name"), ""));
               return Empty();
             });
}

}  // namespace

void RegisterMlflowRegistryRoutes(Router& router, RegistryStore& store) {
  Registrar r{router};
  AddRegisteredModelRoutes(r, store);
  AddModelVersionRoutes(r, store);
  AddNativeRoutes(router, store);
}

}  // namespace cairn::http
