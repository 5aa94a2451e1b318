#include "registry/sqlite_registry_store.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <variant>

#include "registry/gates.h"
#include "registry/validation.h"
#include "tracking/search/search.h"
#include "tracking/validation.h"

namespace cairn::registry {

using store::Database;
using store::Statement;

namespace {

constexpr char kVersionColumns[] =
    "name, version, creation_time, last_updated_time, description, user_id, current_stage, "
    "source, run_id, run_link, status, status_message, storage_location, model_id";

Status ModelNotFound(std::string_view name) {
  return NotFound("Registered Model with name=" + std::string(name) + " not found");
}

Status VersionNotFound(std::string_view name, std::string_view version) {
  return NotFound("Model Version (name=" + std::string(name) + ", version=" +
                  std::string(version) + ") not found");
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void BindValue(Statement& st, int index, const tracking::search::BindValue& v) {
  std::visit([&](const auto& x) { st.Bind(index, x); }, v);
}

// One page of a compiled search: `select` ("SELECT ... FROM table alias") completed by q's
// joins, filter and order, read from `offset` with `read_row(st)` per row. Reads one row past
// `max_results`: when it exists the page is cut to `max_results` and `next_page_token` set.
template <typename ReadRow>
auto ReadSearchPage(Database& db, const std::string& select, const tracking::search::SqlQuery& q,
                    int64_t max_results, int64_t offset, ReadRow read_row,
                    std::string& next_page_token)
    -> StatusOr<std::vector<decltype(read_row(std::declval<Statement&>()))>> {
  ASSIGN_OR_RETURN(Statement st, db.Prepare(select + q.joins + " WHERE (" + q.where +
                                            ") ORDER BY " + q.order_by + " LIMIT ? OFFSET ?"));
  int i = 1;
  for (const auto& v : q.join_binds) BindValue(st, i++, v);
  for (const auto& v : q.where_binds) BindValue(st, i++, v);
  st.Bind(i, max_results + 1).Bind(i + 1, offset);
  std::vector<decltype(read_row(st))> rows;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    rows.push_back(read_row(st));
  }
  if (static_cast<int64_t>(rows.size()) == max_results + 1) {
    next_page_token = tracking::search::EncodePageToken(offset + max_results);
    rows.resize(static_cast<size_t>(max_results));
  }
  return rows;
}

ModelVersion ReadVersionRow(const Statement& st) {
  ModelVersion mv;
  mv.name = st.Text(0);
  mv.version = st.Int64(1);
  mv.creation_timestamp = st.OptionalInt64(2).value_or(0);
  mv.last_updated_timestamp = st.OptionalInt64(3);
  mv.description = st.OptionalText(4);
  mv.user_id = st.OptionalText(5);
  mv.current_stage = st.Text(6);
  mv.source = st.OptionalText(7);
  mv.run_id = st.OptionalText(8);
  mv.run_link = st.OptionalText(9);
  mv.status = st.Text(10);
  mv.status_message = st.OptionalText(11);
  mv.storage_location = st.OptionalText(12);
  mv.model_id = st.OptionalText(13);
  return mv;
}

Status LoadVersionTags(Database& db, ModelVersion& mv) {
  ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT key, value FROM model_version_tags WHERE "
                                            "name = ?1 AND version = ?2 ORDER BY key"));
  st.Bind(1, mv.name).Bind(2, mv.version);
  mv.tags.clear();
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    mv.tags.push_back({st.Text(0), st.Text(1)});
  }
  return OkStatus();
}

Status LoadVersionAliases(Database& db, ModelVersion& mv) {
  ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT alias FROM registered_model_aliases WHERE "
                                            "name = ?1 AND version = ?2 ORDER BY alias"));
  st.Bind(1, mv.name).Bind(2, mv.version);
  mv.aliases.clear();
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    mv.aliases.push_back(st.Text(0));
  }
  return OkStatus();
}

StatusOr<bool> ModelExists(Database& db, const std::string& name) {
  ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT 1 FROM registered_models WHERE name = ?1"));
  st.Bind(1, name);
  return st.Step();
}

Status RequireModel(Database& db, const std::string& name) {
  ASSIGN_OR_RETURN(bool exists, ModelExists(db, name));
  if (!exists) return ModelNotFound(name);
  return OkStatus();
}

// A live (not deleted) version with its tags, and its aliases when asked.
StatusOr<ModelVersion> LoadVersion(Database& db, const std::string& name, int64_t version,
                                   std::string_view version_text, bool with_aliases) {
  ASSIGN_OR_RETURN(Statement st,
                   db.Prepare(std::string("SELECT ") + kVersionColumns +
                              " FROM model_versions WHERE name = ?1 AND version = ?2 AND "
                              "current_stage != 'Deleted_Internal'"));
  st.Bind(1, name).Bind(2, version);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return VersionNotFound(name, version_text);
  ModelVersion mv = ReadVersionRow(st);
  RETURN_IF_ERROR(LoadVersionTags(db, mv));
  if (with_aliases) RETURN_IF_ERROR(LoadVersionAliases(db, mv));
  return mv;
}

// MLflow's latest_versions: walking the live versions in ascending order, the newest of each
// stage, with stages in the order they first appear.
StatusOr<std::vector<ModelVersion>> LatestVersions(Database& db, const std::string& name) {
  ASSIGN_OR_RETURN(Statement st,
                   db.Prepare(std::string("SELECT ") + kVersionColumns +
                              " FROM model_versions WHERE name = ?1 AND current_stage != "
                              "'Deleted_Internal' ORDER BY version"));
  st.Bind(1, name);
  std::vector<ModelVersion> latest;
  std::map<std::string, size_t> index_of_stage;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    ModelVersion mv = ReadVersionRow(st);
    auto it = index_of_stage.find(mv.current_stage);
    if (it == index_of_stage.end()) {
      index_of_stage[mv.current_stage] = latest.size();
      latest.push_back(std::move(mv));
    } else {
      latest[it->second] = std::move(mv);
    }
  }
  for (ModelVersion& mv : latest) RETURN_IF_ERROR(LoadVersionTags(db, mv));
  return latest;
}

StatusOr<std::optional<RegisteredModel>> LoadModel(Database& db, const std::string& name) {
  ASSIGN_OR_RETURN(Statement st,
                   db.Prepare("SELECT name, creation_time, last_updated_time, description, "
                              "user_id FROM registered_models WHERE name = ?1"));
  st.Bind(1, name);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<RegisteredModel>();
  RegisteredModel rm;
  rm.name = st.Text(0);
  rm.creation_timestamp = st.OptionalInt64(1).value_or(0);
  rm.last_updated_timestamp = st.OptionalInt64(2);
  rm.description = st.OptionalText(3);
  rm.user_id = st.OptionalText(4);
  ASSIGN_OR_RETURN(rm.latest_versions, LatestVersions(db, name));
  ASSIGN_OR_RETURN(Statement tags, db.Prepare("SELECT key, value FROM registered_model_tags "
                                              "WHERE name = ?1 ORDER BY key"));
  tags.Bind(1, name);
  while (true) {
    ASSIGN_OR_RETURN(bool more, tags.Step());
    if (!more) break;
    rm.tags.push_back({tags.Text(0), tags.Text(1)});
  }
  ASSIGN_OR_RETURN(Statement aliases, db.Prepare("SELECT alias, version FROM "
                                                 "registered_model_aliases WHERE name = ?1 "
                                                 "ORDER BY alias"));
  aliases.Bind(1, name);
  while (true) {
    ASSIGN_OR_RETURN(bool more, aliases.Step());
    if (!more) break;
    rm.aliases.push_back({aliases.Text(0), aliases.Int64(1)});
  }
  return std::optional<RegisteredModel>(std::move(rm));
}

StatusOr<RegisteredModel> RequireLoadedModel(Database& db, const std::string& name) {
  ASSIGN_OR_RETURN(std::optional<RegisteredModel> rm, LoadModel(db, name));
  if (!rm) return ModelNotFound(name);
  return std::move(*rm);
}

Status TouchModel(Database& db, const std::string& name, int64_t now) {
  ASSIGN_OR_RETURN(Statement st, db.Prepare("UPDATE registered_models SET last_updated_time = "
                                            "?2 WHERE name = ?1"));
  st.Bind(1, name).Bind(2, now);
  return st.Run();
}

StatusOr<std::optional<int64_t>> AliasHolder(Database& db, const std::string& name,
                                             const std::string& alias) {
  ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT version FROM registered_model_aliases "
                                            "WHERE name = ?1 AND alias = ?2"));
  st.Bind(1, name).Bind(2, alias);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<int64_t>();
  return std::optional<int64_t>(st.Int64(0));
}

Status UpsertAlias(Database& db, const std::string& name, const std::string& alias,
                   int64_t version) {
  ASSIGN_OR_RETURN(Statement st,
                   db.Prepare("INSERT INTO registered_model_aliases (name, alias, version) "
                              "VALUES (?1, ?2, ?3) ON CONFLICT (name, alias) DO UPDATE SET "
                              "version = excluded.version"));
  st.Bind(1, name).Bind(2, alias).Bind(3, version);
  return st.Run();
}

StatusOr<int64_t> RecordEvent(Database& db, AliasEvent& event) {
  ASSIGN_OR_RETURN(Statement st,
                   db.Prepare("INSERT INTO alias_history (name, alias, from_version, "
                              "to_version, timestamp, user_id, action, outcome) VALUES (?1, ?2, "
                              "?3, ?4, ?5, ?6, ?7, ?8)"));
  st.Bind(1, event.name).Bind(2, event.alias).Bind(3, event.from_version);
  st.Bind(4, event.to_version).Bind(5, event.timestamp).Bind(6, event.user_id);
  st.Bind(7, event.action).Bind(8, event.outcome);
  RETURN_IF_ERROR(st.Run());
  event.id = db.LastInsertRowId();
  for (size_t i = 0; i < event.gate_checks.size(); ++i) {
    const GateCheck& c = event.gate_checks[i];
    ASSIGN_OR_RETURN(Statement ins,
                     db.Prepare("INSERT INTO alias_history_checks (event_id, position, "
                                "condition, passed, detail) VALUES (?1, ?2, ?3, ?4, ?5)"));
    ins.Bind(1, event.id).Bind(2, static_cast<int64_t>(i)).Bind(3, c.condition);
    ins.Bind(4, c.passed ? 1 : 0).Bind(5, c.detail);
    RETURN_IF_ERROR(ins.Run());
  }
  return event.id;
}

StatusOr<std::vector<PromotionGate>> LoadGates(Database& db, const std::string& name) {
  std::vector<PromotionGate> gates;
  ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT alias, updated_time, updated_by FROM "
                                            "promotion_gates WHERE name = ?1 ORDER BY alias"));
  st.Bind(1, name);
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    PromotionGate g;
    g.name = name;
    g.alias = st.Text(0);
    g.updated_timestamp = st.OptionalInt64(1);
    g.updated_by = st.OptionalText(2);
    gates.push_back(std::move(g));
  }
  for (PromotionGate& g : gates) {
    ASSIGN_OR_RETURN(Statement rules,
                     db.Prepare("SELECT kind, expression, tag_key, tag_value FROM "
                                "promotion_gate_rules WHERE name = ?1 AND alias = ?2 ORDER BY "
                                "position"));
    rules.Bind(1, name).Bind(2, g.alias);
    while (true) {
      ASSIGN_OR_RETURN(bool row, rules.Step());
      if (!row) break;
      if (rules.Text(0) == "metric") {
        g.conditions.push_back({rules.Text(1)});
      } else {
        g.required_tags.push_back({rules.Text(2), rules.Text(3)});
      }
    }
  }
  return gates;
}

// The tag MLflow puts on a logged model: json.dumps of [{"name": n, "version": v}, ...].
std::string AppendModelVersionsTag(const std::optional<std::string>& existing,
                                   const std::string& name, int64_t version) {
  nlohmann::ordered_json entry = {{"name", name}, {"version", version}};
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  if (existing) {
    try {
      list = nlohmann::ordered_json::parse(*existing);
      if (!list.is_array()) list = nlohmann::ordered_json::array();
    } catch (const std::exception&) {
      list = nlohmann::ordered_json::array();
    }
  }
  bool present = false;
  for (const auto& e : list) present = present || e == entry;
  if (!present) list.push_back(entry);
  // json.dumps separators: ", " and ": ".
  std::string out = "[";
  for (size_t i = 0; i < list.size(); ++i) {
    if (i) out += ", ";
    if (!list[i].is_object()) {
      out += list[i].dump();
      continue;
    }
    out += "{";
    bool first = true;
    for (auto it = list[i].begin(); it != list[i].end(); ++it) {
      if (!first) out += ", ";
      first = false;
      out += nlohmann::json(it.key()).dump() + ": " +
             it.value().dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
    }
    out += "}";
  }
  return out + "]";
}

bool HasPromptTag(const std::vector<Tag>& tags) {
  for (const Tag& t : tags) {
    if (t.key == kPromptTagKey) return true;
  }
  return false;
}

}  // namespace

// =============================================================================================

SqliteRegistryStore::SqliteRegistryStore(store::ConnectionPool& pool,
                                         const RegistryStoreOptions& options)
    : pool_(&pool),
      tracking_(options.tracking),
      clock_(options.clock ? options.clock : &SystemClock::Get()) {}

StatusOr<std::unique_ptr<SqliteRegistryStore>> SqliteRegistryStore::Open(
    const std::string& db_path, const RegistryStoreOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<store::ConnectionPool> pool,
                   store::ConnectionPool::Open(db_path, Migrations()));
  auto s = std::make_unique<SqliteRegistryStore>(*pool, options);
  s->owned_pool_ = std::move(pool);
  return s;
}

// ---- Registered models ---------------------------------------------------------------------

StatusOr<RegisteredModel> SqliteRegistryStore::CreateRegisteredModel(
    const std::string& name, std::vector<Tag> tags, std::optional<std::string> description) {
  RETURN_IF_ERROR(ValidateModelName(name));
  for (const Tag& t : tags) RETURN_IF_ERROR(ValidateRegisteredModelTag(t));
  // Later duplicates of a key win, as MLflow's dict does.
  std::map<std::string, std::string> unique_tags;
  for (Tag& t : tags) unique_tags[t.key] = std::move(t.value);
  const int64_t now = Now();
  RegisteredModel out;
  RETURN_IF_ERROR(pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(std::optional<RegisteredModel> existing, LoadModel(db, name));
    if (existing) {
      bool old_prompt = HasPromptTag(existing->tags);
      bool new_prompt = unique_tags.count(kPromptTagKey) > 0;
      if (old_prompt != new_prompt) {
        std::string was = old_prompt ? "prompt" : "registered model";
        std::string now_kind = new_prompt ? "prompt" : "registered model";
        return AlreadyExists("Tried to create a " + now_kind + " with name '" + name +
                             "', but the name is already taken by a " + was +
                             ". MLflow does not allow creating a model and a prompt with the "
                             "same name.");
      }
      return AlreadyExists(std::string(new_prompt ? "Prompt" : "Registered Model") +
                           " (name=" + name + ") already exists.");
    }
    ASSIGN_OR_RETURN(Statement ins,
                     db.Prepare("INSERT INTO registered_models (name, creation_time, "
                                "last_updated_time, description) VALUES (?1, ?2, ?2, ?3)"));
    ins.Bind(1, name).Bind(2, now).Bind(3, description);
    RETURN_IF_ERROR(ins.Run());
    for (const auto& [key, value] : unique_tags) {
      ASSIGN_OR_RETURN(Statement t, db.Prepare("INSERT INTO registered_model_tags (name, key, "
                                               "value) VALUES (?1, ?2, ?3)"));
      t.Bind(1, name).Bind(2, key).Bind(3, value);
      RETURN_IF_ERROR(t.Run());
    }
    ASSIGN_OR_RETURN(out, RequireLoadedModel(db, name));
    return OkStatus();
  }));
  return out;
}

StatusOr<RegisteredModel> SqliteRegistryStore::GetRegisteredModel(const std::string& name) {
  RETURN_IF_ERROR(ValidateModelName(name));
  RegisteredModel out;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(out, RequireLoadedModel(db, name));
    return OkStatus();
  }));
  return out;
}

StatusOr<RegisteredModel> SqliteRegistryStore::UpdateRegisteredModel(
    const std::string& name, std::optional<std::string> description) {
  RETURN_IF_ERROR(ValidateModelName(name));
  const int64_t now = Now();
  RegisteredModel out;
  RETURN_IF_ERROR(pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, name));
    ASSIGN_OR_RETURN(Statement st, db.Prepare("UPDATE registered_models SET description = ?2, "
                                              "last_updated_time = ?3 WHERE name = ?1"));
    st.Bind(1, name).Bind(2, description).Bind(3, now);
    RETURN_IF_ERROR(st.Run());
    ASSIGN_OR_RETURN(out, RequireLoadedModel(db, name));
    return OkStatus();
  }));
  return out;
}

StatusOr<RegisteredModel> SqliteRegistryStore::RenameRegisteredModel(const std::string& name,
                                                                     const std::string& new_name) {
  RETURN_IF_ERROR(ValidateNewModelName(new_name));
  RETURN_IF_ERROR(ValidateModelName(name));
  const int64_t now = Now();
  RegisteredModel out;
  RETURN_IF_ERROR(pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, name));
    if (new_name != name) {
      ASSIGN_OR_RETURN(bool taken, ModelExists(db, new_name));
      if (taken) {
        return AlreadyExists("Registered Model (name=" + new_name + ") already exists.");
      }
    }
    // Foreign keys (ON UPDATE CASCADE) carry versions, tags, aliases, gates and history along.
    ASSIGN_OR_RETURN(Statement st, db.Prepare("UPDATE registered_models SET name = ?2, "
                                              "last_updated_time = ?3 WHERE name = ?1"));
    st.Bind(1, name).Bind(2, new_name).Bind(3, now);
    RETURN_IF_ERROR(st.Run());
    ASSIGN_OR_RETURN(Statement mv, db.Prepare("UPDATE model_versions SET last_updated_time = ?2 "
                                              "WHERE name = ?1"));
    mv.Bind(1, new_name).Bind(2, now);
    RETURN_IF_ERROR(mv.Run());
    ASSIGN_OR_RETURN(out, RequireLoadedModel(db, new_name));
    return OkStatus();
  }));
  return out;
}

Status SqliteRegistryStore::DeleteRegisteredModel(const std::string& name) {
  RETURN_IF_ERROR(ValidateModelName(name));
  return pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, name));
    // Foreign keys (ON DELETE CASCADE) remove everything that belongs to the model.
    ASSIGN_OR_RETURN(Statement st, db.Prepare("DELETE FROM registered_models WHERE name = ?1"));
    st.Bind(1, name);
    return st.Run();
  });
}

StatusOr<SearchRegisteredModelsResult> SqliteRegistryStore::SearchRegisteredModels(
    const SearchRequest& request) {
  const int64_t max_results = request.max_results.value_or(kDefaultRegisteredModelsPerPage);
  if (max_results > kMaxRegisteredModelsPerPage) {
    return InvalidArgument(
        "Invalid value for request parameter max_results. It must be at most " +
        std::to_string(kMaxRegisteredModelsPerPage) + ", but got value " +
        std::to_string(max_results));
  }
  if (max_results < 0) {
    return InvalidArgument("Invalid value for max_results. It must be a positive integer, but "
                           "got " + std::to_string(max_results));
  }
  ASSIGN_OR_RETURN(tracking::search::SqlQuery q,
                   tracking::search::CompileRegisteredModelSearch(
                       request.filter, request.order_by, tracking::search::Dialect::kSqlite));
  ASSIGN_OR_RETURN(int64_t offset, tracking::search::DecodePageToken(request.page_token));
  SearchRegisteredModelsResult out;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(std::vector<std::string> names,
                     ReadSearchPage(
                         db, "SELECT rm.name FROM registered_models rm", q, max_results, offset,
                         [](Statement& st) { return st.Text(0); }, out.next_page_token));
    for (const std::string& n : names) {
      ASSIGN_OR_RETURN(RegisteredModel rm, RequireLoadedModel(db, n));
      out.registered_models.push_back(std::move(rm));
    }
    return OkStatus();
  }));
  return out;
}

StatusOr<std::vector<ModelVersion>> SqliteRegistryStore::GetLatestVersions(
    const std::string& name, const std::vector<std::string>& stages) {
  RETURN_IF_ERROR(ValidateModelName(name));
  std::set<std::string> wanted;
  for (const std::string& s : stages) {
    ASSIGN_OR_RETURN(std::string canonical, CanonicalStage(s));
    wanted.insert(canonical);
  }
  std::vector<ModelVersion> out;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, name));
    ASSIGN_OR_RETURN(std::vector<ModelVersion> latest, LatestVersions(db, name));
    for (ModelVersion& mv : latest) {
      if (!wanted.empty() && !wanted.count(mv.current_stage)) continue;
      RETURN_IF_ERROR(LoadVersionAliases(db, mv));
      out.push_back(std::move(mv));
    }
    return OkStatus();
  }));
  return out;
}

Status SqliteRegistryStore::SetRegisteredModelTag(const std::string& name, Tag tag) {
  RETURN_IF_ERROR(ValidateModelName(name));
  RETURN_IF_ERROR(ValidateRegisteredModelTag(tag));
  return pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, name));
    ASSIGN_OR_RETURN(Statement st,
                     db.Prepare("INSERT INTO registered_model_tags (name, key, value) VALUES "
                                "(?1, ?2, ?3) ON CONFLICT (name, key) DO UPDATE SET value = "
                                "excluded.value"));
    st.Bind(1, name).Bind(2, tag.key).Bind(3, tag.value);
    return st.Run();
  });
}

Status SqliteRegistryStore::DeleteRegisteredModelTag(const std::string& name,
                                                     const std::string& key) {
  RETURN_IF_ERROR(ValidateModelName(name));
  RETURN_IF_ERROR(tracking::ValidateTagName(key));
  return pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, name));
    ASSIGN_OR_RETURN(Statement st, db.Prepare("DELETE FROM registered_model_tags WHERE name = "
                                              "?1 AND key = ?2"));
    st.Bind(1, name).Bind(2, key);
    return st.Run();
  });
}

// ---- Model versions ------------------------------------------------------------------------

StatusOr<ModelVersion> SqliteRegistryStore::CreateModelVersion(
    CreateModelVersionRequest request) {
  RETURN_IF_ERROR(ValidateModelName(request.name));
  if (request.source.empty()) return InvalidArgument(tracking::MissingValueMessage("source"));
  for (const Tag& t : request.tags) RETURN_IF_ERROR(ValidateModelVersionTag(t));
  const bool is_prompt = HasPromptTag(request.tags);
  const bool model_id_given = request.model_id && !request.model_id->empty();
  if (!is_prompt) RETURN_IF_ERROR(ValidateModelVersionSource(request.source, model_id_given));

  // Where the files are: for a models:/ source, the logged model's artifact location or the
  // referenced version's download URI.
  std::optional<std::string> storage_location = request.source;
  const bool run_id_given = request.run_id && !request.run_id->empty();
  if (SplitUri(request.source).scheme == "models") {
    ASSIGN_OR_RETURN(ModelUri uri, ParseModelUri(request.source));
    if (uri.model_id) {
      if (!tracking_) {
        return FailedPrecondition("models:/<logged model id> sources need the tracking store");
      }
      auto model = tracking_->GetLoggedModel(*uri.model_id);
      if (!model.ok()) {
        return Status(model.status().code(),
                      "Unable to fetch model from model URI source artifact location '" +
                          request.source + "'. Error: " + model.status().message());
      }
      storage_location = model->artifact_uri;
      if (!run_id_given && model->source_run_id) request.run_id = model->source_run_id;
    } else {
      auto resolved = ResolveModelUri(request.source);
      if (!resolved.ok()) {
        return Status(resolved.status().code(),
                      "Unable to fetch model from model URI source artifact location '" +
                          request.source + "'. Error: " + resolved.status().message());
      }
      storage_location = resolved->download_uri;
    }
  }
  if (!(request.run_id && !request.run_id->empty()) && model_id_given && tracking_) {
    ASSIGN_OR_RETURN(tracking::LoggedModel model, tracking_->GetLoggedModel(*request.model_id));
    if (model.source_run_id) request.run_id = model.source_run_id;
  }

  std::map<std::string, std::string> unique_tags;
  for (Tag& t : request.tags) unique_tags[t.key] = std::move(t.value);
  const int64_t now = Now();
  ModelVersion out;
  RETURN_IF_ERROR(pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, request.name));
    // The single writer serialises this read-then-insert, so concurrent creations get
    // consecutive numbers; deleted versions keep their rows, so numbers are never reused.
    ASSIGN_OR_RETURN(Statement next, db.Prepare("SELECT COALESCE(MAX(version), 0) + 1 FROM "
                                                "model_versions WHERE name = ?1"));
    next.Bind(1, request.name);
    ASSIGN_OR_RETURN(bool row, next.Step());
    if (!row) return Internal("no next version");
    const int64_t version = next.Int64(0);
    ASSIGN_OR_RETURN(Statement ins,
                     db.Prepare("INSERT INTO model_versions (name, version, creation_time, "
                                "last_updated_time, description, user_id, current_stage, "
                                "source, run_id, run_link, status, storage_location, model_id) "
                                "VALUES (?1, ?2, ?3, ?3, ?4, ?5, 'None', ?6, ?7, ?8, 'READY', "
                                "?9, ?10)"));
    ins.Bind(1, request.name).Bind(2, version).Bind(3, now).Bind(4, request.description);
    ins.Bind(5, request.user_id).Bind(6, request.source).Bind(7, request.run_id);
    ins.Bind(8, request.run_link).Bind(9, storage_location);
    if (model_id_given) {
      ins.Bind(10, *request.model_id);
    } else {
      ins.BindNull(10);
    }
    RETURN_IF_ERROR(ins.Run());
    for (const auto& [key, value] : unique_tags) {
      ASSIGN_OR_RETURN(Statement t, db.Prepare("INSERT INTO model_version_tags (name, version, "
                                               "key, value) VALUES (?1, ?2, ?3, ?4)"));
      t.Bind(1, request.name).Bind(2, version).Bind(3, key).Bind(4, value);
      RETURN_IF_ERROR(t.Run());
    }
    RETURN_IF_ERROR(TouchModel(db, request.name, now));
    ASSIGN_OR_RETURN(out, LoadVersion(db, request.name, version, std::to_string(version), true));
    return OkStatus();
  }));

  // As MLflow's handler: record the new version on the logged model it came from. The version
  // exists either way; a failure here is logged in the status of the tag only.
  if (model_id_given && !is_prompt && tracking_) {
    auto model = tracking_->GetLoggedModel(*request.model_id);
    if (model.ok()) {
      std::optional<std::string> existing;
      for (const Tag& t : model->tags) {
        if (t.key == kModelVersionsTag) existing = t.value;
      }
      Status st = tracking_->SetLoggedModelTags(
          *request.model_id,
          {{kModelVersionsTag, AppendModelVersionsTag(existing, out.name, out.version)}});
      (void)st;
    }
  }
  return out;
}

StatusOr<ModelVersion> SqliteRegistryStore::GetModelVersion(const std::string& name,
                                                            const std::string& version) {
  RETURN_IF_ERROR(ValidateModelName(name));
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  ModelVersion out;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(out, LoadVersion(db, name, v, version, true));
    return OkStatus();
  }));
  return out;
}

StatusOr<ModelVersion> SqliteRegistryStore::UpdateModelVersion(
    const std::string& name, const std::string& version, std::optional<std::string> description) {
  RETURN_IF_ERROR(ValidateModelName(name));
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  const int64_t now = Now();
  ModelVersion out;
  RETURN_IF_ERROR(pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(LoadVersion(db, name, v, version, false).status());
    ASSIGN_OR_RETURN(Statement st, db.Prepare("UPDATE model_versions SET description = ?3, "
                                              "last_updated_time = ?4 WHERE name = ?1 AND "
                                              "version = ?2"));
    st.Bind(1, name).Bind(2, v).Bind(3, description).Bind(4, now);
    RETURN_IF_ERROR(st.Run());
    ASSIGN_OR_RETURN(out, LoadVersion(db, name, v, version, true));
    return OkStatus();
  }));
  return out;
}

StatusOr<ModelVersion> SqliteRegistryStore::TransitionModelVersionStage(
    const std::string& name, const std::string& version, const std::string& stage,
    bool archive_existing_versions) {
  ASSIGN_OR_RETURN(std::string canonical, CanonicalStage(stage));
  const bool active = canonical == kStageStaging || canonical == kStageProduction;
  if (archive_existing_versions && !active) {
    return InvalidArgument("Model version transition cannot archive existing model versions "
                           "because '" + stage + "' is not an Active stage. Valid stages are "
                           "['Staging', 'Production']");
  }
  RETURN_IF_ERROR(ValidateModelName(name));
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  const int64_t now = Now();
  ModelVersion out;
  RETURN_IF_ERROR(pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(LoadVersion(db, name, v, version, false).status());
    if (archive_existing_versions) {
      ASSIGN_OR_RETURN(Statement st,
                       db.Prepare("UPDATE model_versions SET current_stage = 'Archived', "
                                  "last_updated_time = ?4 WHERE name = ?1 AND version != ?2 AND "
                                  "current_stage = ?3"));
      st.Bind(1, name).Bind(2, v).Bind(3, canonical).Bind(4, now);
      RETURN_IF_ERROR(st.Run());
    }
    ASSIGN_OR_RETURN(Statement st, db.Prepare("UPDATE model_versions SET current_stage = ?3, "
                                              "last_updated_time = ?4 WHERE name = ?1 AND "
                                              "version = ?2"));
    st.Bind(1, name).Bind(2, v).Bind(3, canonical).Bind(4, now);
    RETURN_IF_ERROR(st.Run());
    RETURN_IF_ERROR(TouchModel(db, name, now));
    ASSIGN_OR_RETURN(out, LoadVersion(db, name, v, version, true));
    return OkStatus();
  }));
  return out;
}

Status SqliteRegistryStore::DeleteModelVersion(const std::string& name, const std::string& version,
                                               const std::string& user_id) {
  RETURN_IF_ERROR(ValidateModelName(name));
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  const int64_t now = Now();
  return pool_->Write([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(ModelVersion mv, LoadVersion(db, name, v, version, true));
    RETURN_IF_ERROR(TouchModel(db, name, now));
    for (const std::string& alias : mv.aliases) {
      AliasEvent event;
      event.name = name;
      event.alias = alias;
      event.from_version = v;
      event.timestamp = now;
      event.user_id = user_id;
      event.action = "delete-version";
      event.outcome = "moved";
      RETURN_IF_ERROR(RecordEvent(db, event).status());
    }
    ASSIGN_OR_RETURN(Statement del, db.Prepare("DELETE FROM registered_model_aliases WHERE name "
                                                "= ?1 AND version = ?2"));
    del.Bind(1, name).Bind(2, v);
    RETURN_IF_ERROR(del.Run());
    // MLflow keeps the row (and its tags) with the identifying fields redacted.
    ASSIGN_OR_RETURN(Statement st,
                     db.Prepare("UPDATE model_versions SET current_stage = 'Deleted_Internal', "
                                "last_updated_time = ?3, description = NULL, user_id = NULL, "
                                "source = 'REDACTED-SOURCE-PATH', run_id = 'REDACTED-RUN-ID', "
                                "run_link = 'REDACTED-RUN-LINK', status_message = NULL, "
                                "storage_location = NULL WHERE name = ?1 AND version = ?2"));
    st.Bind(1, name).Bind(2, v).Bind(3, now);
    return st.Run();
  });
}

StatusOr<std::string> SqliteRegistryStore::GetModelVersionDownloadUri(
    const std::string& name, const std::string& version) {
  ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(name, version));
  if (mv.storage_location && !mv.storage_location->empty()) return *mv.storage_location;
  return mv.source.value_or("");
}

StatusOr<SearchModelVersionsResult> SqliteRegistryStore::SearchModelVersions(
    const SearchRequest& request) {
  const int64_t max_results = request.max_results.value_or(kMaxModelVersionsPerPage);
  if (max_results < 1) {
    return InvalidArgument("Invalid value for max_results. It must be a positive integer, but "
                           "got " + std::to_string(max_results));
  }
  if (max_results > kMaxModelVersionsPerPage) {
    return InvalidArgument(
        "Invalid value for request parameter max_results. It must be at most " +
        std::to_string(kMaxModelVersionsPerPage) + ", but got value " +
        std::to_string(max_results));
  }
  ASSIGN_OR_RETURN(tracking::search::SqlQuery q,
                   tracking::search::CompileModelVersionSearch(
                       request.filter, request.order_by, tracking::search::Dialect::kSqlite));
  ASSIGN_OR_RETURN(int64_t offset, tracking::search::DecodePageToken(request.page_token));
  SearchModelVersionsResult out;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    using NameAndVersion = std::pair<std::string, int64_t>;
    ASSIGN_OR_RETURN(std::vector<NameAndVersion> keys,
                     ReadSearchPage(
                         db, "SELECT mv.name, mv.version FROM model_versions mv", q, max_results,
                         offset,
                         [](Statement& st) { return std::make_pair(st.Text(0), st.Int64(1)); },
                         out.next_page_token));
    for (const auto& [n, v] : keys) {
      ASSIGN_OR_RETURN(ModelVersion mv, LoadVersion(db, n, v, std::to_string(v), false));
      out.model_versions.push_back(std::move(mv));
    }
    return OkStatus();
  }));
  return out;
}

Status SqliteRegistryStore::SetModelVersionTag(const std::string& name, const std::string& version,
                                               Tag tag) {
  RETURN_IF_ERROR(ValidateModelName(name));
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  RETURN_IF_ERROR(ValidateModelVersionTag(tag));
  return pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(LoadVersion(db, name, v, version, false).status());
    ASSIGN_OR_RETURN(Statement st,
                     db.Prepare("INSERT INTO model_version_tags (name, version, key, value) "
                                "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name, version, key) DO "
                                "UPDATE SET value = excluded.value"));
    st.Bind(1, name).Bind(2, v).Bind(3, tag.key).Bind(4, tag.value);
    return st.Run();
  });
}

Status SqliteRegistryStore::DeleteModelVersionTag(const std::string& name,
                                                  const std::string& version,
                                                  const std::string& key) {
  RETURN_IF_ERROR(ValidateModelName(name));
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  RETURN_IF_ERROR(tracking::ValidateTagName(key));
  return pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(LoadVersion(db, name, v, version, false).status());
    ASSIGN_OR_RETURN(Statement st, db.Prepare("DELETE FROM model_version_tags WHERE name = ?1 "
                                              "AND version = ?2 AND key = ?3"));
    st.Bind(1, name).Bind(2, v).Bind(3, key);
    return st.Run();
  });
}

// ---- Aliases -------------------------------------------------------------------------------

Status SqliteRegistryStore::SetRegisteredModelAlias(const std::string& name,
                                                    const std::string& alias,
                                                    const std::string& version,
                                                    const std::string& user_id) {
  RETURN_IF_ERROR(ValidateModelName(name));
  RETURN_IF_ERROR(ValidateAliasName(alias));
  RETURN_IF_ERROR(ValidateAliasNotReserved(alias));
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  const int64_t now = Now();
  return pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(LoadVersion(db, name, v, version, false).status());
    ASSIGN_OR_RETURN(std::optional<int64_t> previous, AliasHolder(db, name, alias));
    if (previous == v) return OkStatus();
    RETURN_IF_ERROR(UpsertAlias(db, name, alias, v));
    AliasEvent event;
    event.name = name;
    event.alias = alias;
    event.from_version = previous;
    event.to_version = v;
    event.timestamp = now;
    event.user_id = user_id;
    event.action = "set-alias";
    event.outcome = "moved";
    return RecordEvent(db, event).status();
  });
}

Status SqliteRegistryStore::DeleteRegisteredModelAlias(const std::string& name,
                                                       const std::string& alias,
                                                       const std::string& user_id) {
  RETURN_IF_ERROR(ValidateModelName(name));
  RETURN_IF_ERROR(ValidateAliasName(alias));
  const int64_t now = Now();
  return pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, name));
    ASSIGN_OR_RETURN(std::optional<int64_t> previous, AliasHolder(db, name, alias));
    if (!previous) return OkStatus();
    ASSIGN_OR_RETURN(Statement st, db.Prepare("DELETE FROM registered_model_aliases WHERE name "
                                              "= ?1 AND alias = ?2"));
    st.Bind(1, name).Bind(2, alias);
    RETURN_IF_ERROR(st.Run());
    AliasEvent event;
    event.name = name;
    event.alias = alias;
    event.from_version = previous;
    event.timestamp = now;
    event.user_id = user_id;
    event.action = "delete-alias";
    event.outcome = "moved";
    return RecordEvent(db, event).status();
  });
}

StatusOr<ModelVersion> SqliteRegistryStore::GetModelVersionByAlias(const std::string& name,
                                                                   const std::string& alias) {
  RETURN_IF_ERROR(ValidateModelName(name));
  RETURN_IF_ERROR(ValidateAliasName(alias));
  if (Lower(alias) == "latest") {
    ASSIGN_OR_RETURN(std::vector<ModelVersion> latest, GetLatestVersions(name, {}));
    if (latest.empty()) return NotFound("Latest version not found for model " + name + ".");
    return latest.front();
  }
  ModelVersion out;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    ASSIGN_OR_RETURN(std::optional<int64_t> v, AliasHolder(db, name, alias));
    if (!v) return InvalidArgument("Registered model alias " + alias + " not found.");
    ASSIGN_OR_RETURN(out, LoadVersion(db, name, *v, std::to_string(*v), true));
    return OkStatus();
  }));
  return out;
}

// ---- models:/ URIs -------------------------------------------------------------------------

StatusOr<ResolvedModel> SqliteRegistryStore::ResolveModelUri(const std::string& uri) {
  ASSIGN_OR_RETURN(ModelUri parsed, ParseModelUri(uri));
  ResolvedModel out;
  if (parsed.model_id) {
    if (!tracking_) {
      return FailedPrecondition("models:/<logged model id> URIs need the tracking store");
    }
    ASSIGN_OR_RETURN(tracking::LoggedModel model, tracking_->GetLoggedModel(*parsed.model_id));
    out.source = uri;
    out.download_uri = model.artifact_uri;
    out.model_id = model.model_id;
    out.run_id = model.source_run_id;
    out.artifact_location = model.artifact_uri;
    return out;
  }
  ModelVersion mv;
  if (parsed.version) {
    ASSIGN_OR_RETURN(mv, GetModelVersion(parsed.name, *parsed.version));
  } else if (parsed.alias) {
    ASSIGN_OR_RETURN(mv, GetModelVersionByAlias(parsed.name, *parsed.alias));
  } else {
    std::vector<std::string> stages;
    if (parsed.stage) stages.push_back(*parsed.stage);
    ASSIGN_OR_RETURN(std::vector<ModelVersion> latest, GetLatestVersions(parsed.name, stages));
    if (latest.empty()) {
      std::string stage_text = parsed.stage ? " and stage '" + *parsed.stage + "'" : "";
      return NotFound("No versions of model with name '" + parsed.name + "'" + stage_text +
                      " found");
    }
    auto newest = std::max_element(
        latest.begin(), latest.end(),
        [](const ModelVersion& a, const ModelVersion& b) { return a.version < b.version; });
    mv = *newest;
  }
  out.name = mv.name;
  out.version = mv.version;
  out.source = mv.source.value_or("");
  out.download_uri = mv.storage_location && !mv.storage_location->empty()
                         ? *mv.storage_location
                         : out.source;
  out.run_id = mv.run_id;
  out.model_id = mv.model_id;
  out.aliases = mv.aliases;
  out.current_stage = mv.current_stage;
  out.artifact_location = out.download_uri;
  // runs:/<run>/<path>: the run's artifact location joined with the path.
  UriParts parts = SplitUri(out.download_uri);
  if (parts.scheme == "runs" && tracking_) {
    std::string rest = parts.netloc.empty() ? parts.path : "/" + parts.netloc + parts.path;
    size_t start = rest.find_first_not_of('/');
    if (start != std::string::npos) {
      size_t slash = rest.find('/', start);
      std::string run_id = rest.substr(start, slash == std::string::npos ? std::string::npos
                                                                         : slash - start);
      std::string path = slash == std::string::npos ? "" : rest.substr(slash + 1);
      auto run = tracking_->GetRun(run_id);
      if (run.ok()) {
        std::string base = run->info.artifact_uri;
        while (!base.empty() && base.back() == '/') base.pop_back();
        out.artifact_location = path.empty() ? base : base + "/" + path;
      }
    }
  }
  return out;
}

// ---- Promotion gates, promotion, history, lineage ------------------------------------------

StatusOr<PromotionGate> SqliteRegistryStore::SetPromotionGate(PromotionGate gate) {
  RETURN_IF_ERROR(ValidateModelName(gate.name));
  if (!gate.alias.empty()) {
    RETURN_IF_ERROR(ValidateAliasName(gate.alias));
    RETURN_IF_ERROR(ValidateAliasNotReserved(gate.alias));
  }
  for (const GateCondition& c : gate.conditions) {
    RETURN_IF_ERROR(ParseGateCondition(c.expression).status());
  }
  for (const RequiredTag& t : gate.required_tags) {
    if (t.key.empty()) return InvalidArgument("A required tag of a gate needs a key");
  }
  gate.updated_timestamp = Now();
  RETURN_IF_ERROR(pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, gate.name));
    ASSIGN_OR_RETURN(Statement del, db.Prepare("DELETE FROM promotion_gates WHERE name = ?1 "
                                               "AND alias = ?2"));
    del.Bind(1, gate.name).Bind(2, gate.alias);
    RETURN_IF_ERROR(del.Run());
    ASSIGN_OR_RETURN(Statement ins, db.Prepare("INSERT INTO promotion_gates (name, alias, "
                                               "updated_time, updated_by) VALUES (?1, ?2, ?3, "
                                               "?4)"));
    ins.Bind(1, gate.name).Bind(2, gate.alias).Bind(3, gate.updated_timestamp);
    ins.Bind(4, gate.updated_by);
    RETURN_IF_ERROR(ins.Run());
    int64_t position = 0;
    for (const GateCondition& c : gate.conditions) {
      ASSIGN_OR_RETURN(Statement r, db.Prepare("INSERT INTO promotion_gate_rules (name, alias, "
                                               "position, kind, expression) VALUES (?1, ?2, "
                                               "?3, 'metric', ?4)"));
      r.Bind(1, gate.name).Bind(2, gate.alias).Bind(3, position++).Bind(4, c.expression);
      RETURN_IF_ERROR(r.Run());
    }
    for (const RequiredTag& t : gate.required_tags) {
      ASSIGN_OR_RETURN(Statement r, db.Prepare("INSERT INTO promotion_gate_rules (name, alias, "
                                               "position, kind, tag_key, tag_value) VALUES "
                                               "(?1, ?2, ?3, 'tag', ?4, ?5)"));
      r.Bind(1, gate.name).Bind(2, gate.alias).Bind(3, position++).Bind(4, t.key);
      r.Bind(5, t.value);
      RETURN_IF_ERROR(r.Run());
    }
    return OkStatus();
  }));
  return gate;
}

StatusOr<std::vector<PromotionGate>> SqliteRegistryStore::GetPromotionGates(
    const std::string& name) {
  RETURN_IF_ERROR(ValidateModelName(name));
  std::vector<PromotionGate> out;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, name));
    ASSIGN_OR_RETURN(out, LoadGates(db, name));
    return OkStatus();
  }));
  return out;
}

Status SqliteRegistryStore::DeletePromotionGate(const std::string& name,
                                                const std::string& alias) {
  RETURN_IF_ERROR(ValidateModelName(name));
  return pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, name));
    ASSIGN_OR_RETURN(Statement st, db.Prepare("DELETE FROM promotion_gates WHERE name = ?1 AND "
                                              "alias = ?2"));
    st.Bind(1, name).Bind(2, alias);
    return st.Run();
  });
}

StatusOr<std::map<std::string, double>> SqliteRegistryStore::VersionMetrics(
    const ModelVersion& version) {
  std::map<std::string, double> metrics;
  if (!tracking_) {
    return FailedPrecondition("gate conditions compare run metrics and need the tracking store");
  }
  if (version.run_id && !version.run_id->empty()) {
    auto run = tracking_->GetRun(*version.run_id);
    if (run.ok()) {
      for (const tracking::Metric& m : run->data.metrics) metrics[m.key] = m.value;
      return metrics;
    }
    if (run.status().code() != Code::kNotFound) return run.status();
  }
  if (version.model_id && !version.model_id->empty()) {
    auto model = tracking_->GetLoggedModel(*version.model_id);
    if (model.ok()) {
      // The latest value of each metric (by timestamp, then step).
      std::map<std::string, std::pair<int64_t, int64_t>> when;
      for (const tracking::Metric& m : model->metrics) {
        auto key = std::make_pair(m.timestamp, m.step);
        auto it = when.find(m.key);
        if (it == when.end() || it->second <= key) {
          when[m.key] = key;
          metrics[m.key] = m.value;
        }
      }
    } else if (model.status().code() != Code::kNotFound) {
      return model.status();
    }
  }
  return metrics;
}

StatusOr<PromoteResult> SqliteRegistryStore::Promote(const PromoteRequest& request) {
  RETURN_IF_ERROR(ValidateModelName(request.name));
  RETURN_IF_ERROR(ValidateAliasName(request.alias));
  RETURN_IF_ERROR(ValidateAliasNotReserved(request.alias));
  const std::string version_text = std::to_string(request.version);

  // 1. What is there now: the candidate, the current holder of the alias, the gate.
  ModelVersion candidate;
  std::optional<ModelVersion> champion;
  std::optional<PromotionGate> gate;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, request.name));
    ASSIGN_OR_RETURN(candidate,
                     LoadVersion(db, request.name, request.version, version_text, false));
    ASSIGN_OR_RETURN(std::optional<int64_t> holder, AliasHolder(db, request.name, request.alias));
    if (holder) {
      ASSIGN_OR_RETURN(ModelVersion c, LoadVersion(db, request.name, *holder,
                                                   std::to_string(*holder), false));
      champion = std::move(c);
    }
    ASSIGN_OR_RETURN(std::vector<PromotionGate> gates, LoadGates(db, request.name));
    for (PromotionGate& g : gates) {
      if (g.alias == request.alias) gate = std::move(g);
    }
    if (!gate) {
      for (PromotionGate& g : gates) {
        if (g.alias.empty()) gate = std::move(g);
      }
    }
    return OkStatus();
  }));

  PromoteResult result;
  result.to_version = request.version;
  if (champion) result.from_version = champion->version;
  if (champion && champion->version == request.version) {
    result.promoted = true;  // already there: nothing to check, nothing to record
    return result;
  }

  // 2. The gate: required tags, then metric conditions.
  GateEvaluation& eval = result.gate;
  if (champion) eval.champion_version = champion->version;
  if (gate) {
    eval.has_gate = true;
    eval.gate_alias = gate->alias;
    for (const RequiredTag& t : gate->required_tags) {
      GateCheck check;
      check.condition = "tag " + t.key + " = " + t.value;
      auto it = std::find_if(candidate.tags.begin(), candidate.tags.end(),
                             [&](const Tag& x) { return x.key == t.key; });
      if (it == candidate.tags.end()) {
        check.detail = "version " + version_text + " has no tag '" + t.key + "'";
      } else {
        check.passed = it->value == t.value;
        check.detail = "tag " + t.key + " is '" + it->value + "'";
      }
      eval.checks.push_back(std::move(check));
    }
    if (!gate->conditions.empty()) {
      ASSIGN_OR_RETURN(auto candidate_metrics, VersionMetrics(candidate));
      std::map<std::string, double> champion_metrics;
      if (champion) {
        ASSIGN_OR_RETURN(champion_metrics, VersionMetrics(*champion));
      }
      std::string label = champion ? "v" + std::to_string(champion->version) : "";
      for (const GateCondition& c : gate->conditions) {
        ASSIGN_OR_RETURN(ParsedCondition parsed, ParseGateCondition(c.expression));
        eval.checks.push_back(EvaluateGateCondition(
            parsed, candidate_metrics, champion ? &champion_metrics : nullptr, label));
      }
    }
    for (const GateCheck& c : eval.checks) eval.passed = eval.passed && c.passed;
  }
  if (request.dry_run) {
    result.promoted = false;
    return result;
  }

  // 3. Move the alias (if the gate passed) and record the attempt, in one transaction.
  const int64_t now = Now();
  AliasEvent event;
  event.name = request.name;
  event.alias = request.alias;
  event.from_version = result.from_version;
  event.to_version = request.version;
  event.timestamp = now;
  event.user_id = request.user_id;
  event.action = "promote";
  event.outcome = eval.passed ? "moved" : "refused";
  event.gate_checks = eval.checks;
  RETURN_IF_ERROR(pool_->Write([&](Database& db) -> Status {
    RETURN_IF_ERROR(LoadVersion(db, request.name, request.version, version_text, false).status());
    ASSIGN_OR_RETURN(std::optional<int64_t> holder, AliasHolder(db, request.name, request.alias));
    if (holder != result.from_version) {
      return Unavailable("alias '" + request.alias + "' of model '" + request.name +
                         "' moved while the gate was checked; retry the promotion");
    }
    if (eval.passed) RETURN_IF_ERROR(UpsertAlias(db, request.name, request.alias, request.version));
    return RecordEvent(db, event).status();
  }));
  result.promoted = eval.passed;
  result.event = std::move(event);
  return result;
}

StatusOr<std::vector<AliasEvent>> SqliteRegistryStore::GetAliasHistory(const std::string& name,
                                                                      const std::string& alias) {
  RETURN_IF_ERROR(ValidateModelName(name));
  std::vector<AliasEvent> out;
  RETURN_IF_ERROR(pool_->Read([&](Database& db) -> Status {
    RETURN_IF_ERROR(RequireModel(db, name));
    ASSIGN_OR_RETURN(Statement st,
                     db.Prepare("SELECT id, alias, from_version, to_version, timestamp, user_id, "
                                "action, outcome FROM alias_history WHERE name = ?1 AND (?2 = "
                                "'' OR alias = ?2) ORDER BY id DESC"));
    st.Bind(1, name).Bind(2, alias);
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      AliasEvent e;
      e.id = st.Int64(0);
      e.name = name;
      e.alias = st.Text(1);
      e.from_version = st.OptionalInt64(2);
      e.to_version = st.OptionalInt64(3);
      e.timestamp = st.Int64(4);
      e.user_id = st.Text(5);
      e.action = st.Text(6);
      e.outcome = st.Text(7);
      out.push_back(std::move(e));
    }
    for (AliasEvent& e : out) {
      ASSIGN_OR_RETURN(Statement c, db.Prepare("SELECT condition, passed, detail FROM "
                                               "alias_history_checks WHERE event_id = ?1 ORDER "
                                               "BY position"));
      c.Bind(1, e.id);
      while (true) {
        ASSIGN_OR_RETURN(bool row, c.Step());
        if (!row) break;
        e.gate_checks.push_back({c.Text(0), c.Int64(1) != 0, c.Text(2)});
      }
    }
    return OkStatus();
  }));
  return out;
}

StatusOr<Lineage> SqliteRegistryStore::GetLineage(const std::string& name,
                                                  const std::string& version) {
  Lineage out;
  ASSIGN_OR_RETURN(out.model_version, GetModelVersion(name, version));
  const ModelVersion& mv = out.model_version;
  if (!tracking_) {
    out.notes.push_back("the tracking store is not available");
    return out;
  }
  std::optional<std::string> model_id = mv.model_id;
  if (!model_id && mv.source) {
    auto parsed = ParseModelUri(*mv.source);
    if (parsed.ok() && parsed->model_id) model_id = parsed->model_id;
  }
  if (model_id && !model_id->empty()) {
    auto model = tracking_->GetLoggedModel(*model_id);
    if (model.ok()) {
      out.logged_model = std::move(*model);
    } else {
      out.notes.push_back("logged model " + *model_id + ": " + model.status().message());
    }
  }
  std::optional<std::string> run_id = mv.run_id;
  if ((!run_id || run_id->empty()) && out.logged_model && out.logged_model->source_run_id) {
    run_id = out.logged_model->source_run_id;
  }
  if (run_id && !run_id->empty()) {
    auto run = tracking_->GetRun(*run_id);
    if (run.ok()) {
      out.run = std::move(*run);
    } else {
      out.notes.push_back("run " + *run_id + ": " + run.status().message());
    }
  }
  return out;
}

}  // namespace cairn::registry
