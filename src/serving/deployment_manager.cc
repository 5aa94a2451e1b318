#include "serving/deployment_manager.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "common/ids.h"
#include "common/log.h"
#include "serving/traffic_router.h"

namespace cairn::serving {

// Counters of one (deployment, variant, model, version).
struct DeploymentManager::Stats {
  static constexpr int kBuckets = 12;
  static constexpr double kBounds[kBuckets] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                               0.01,   0.025,   0.05,   0.1,   0.5,    1.0};
  std::string labels;  // deployment="..",variant="..",model="..",version=".."
  std::atomic<uint64_t> ok{0}, client_errors{0}, server_errors{0}, rows{0}, sum_micros{0};
  std::atomic<uint64_t> buckets[kBuckets + 1] = {};

  void Observe(const Status& st, int64_t micros, size_t n_rows) {
    if (st.ok()) {
      ok.fetch_add(1, std::memory_order_relaxed);
    } else if (st.code() == Code::kInternal || st.code() == Code::kUnavailable) {
      server_errors.fetch_add(1, std::memory_order_relaxed);
    } else {
      client_errors.fetch_add(1, std::memory_order_relaxed);
    }
    rows.fetch_add(n_rows, std::memory_order_relaxed);
    double seconds = static_cast<double>(micros) / 1e6;
    int b = 0;
    while (b < kBuckets && seconds > kBounds[b]) ++b;
    buckets[b].fetch_add(1, std::memory_order_relaxed);
    sum_micros.fetch_add(static_cast<uint64_t>(std::max<int64_t>(micros, 0)),
                         std::memory_order_relaxed);
  }
};

// One version a deployment routes to (or shadows).
struct DeploymentManager::Target {
  std::string variant;  // "primary", "canary", the A/B variant's name, or "shadow"
  std::string model;
  std::string version;
  std::shared_ptr<const ServedModel> served;
  std::shared_ptr<Stats> stats;
};

// An immutable snapshot of one deployment.
struct DeploymentManager::Active {
  StoredDeployment stored;
  std::vector<std::string> resolved;  // route order (see DeploymentInfo)
  std::shared_ptr<const RoutingTable> table;  // null: not ready
  std::vector<Target> targets;  // routed, found by variant name
  std::vector<Target> shadows;
  std::string error;
  std::string sticky_header;  // lowercased
  const Target* FindVariant(std::string_view variant) const {
    for (const Target& t : targets) {
      if (t.variant == variant) return &t;
    }
    return nullptr;
  }
};

struct DeploymentManager::ShadowJob {
  std::shared_ptr<const Active> active;
  ScoreProtocol protocol;
  std::string content_type;
  std::string body;
  std::string request_id;
  std::string entity_key;
  int64_t time_ms;
};

namespace {

using Json = nlohmann::json;

// Every ModelRef of a spec in route order, with the variant each one answers as.
std::vector<std::pair<const ModelRef*, std::string>> RefsOf(const DeploymentSpec& spec) {
  std::vector<std::pair<const ModelRef*, std::string>> refs;
  refs.emplace_back(&spec.primary, std::string(kPrimaryVariant));
  if (spec.canary) refs.emplace_back(&spec.canary->ref, std::string(kCanaryVariant));
  for (const VariantRoute& v : spec.variants) refs.emplace_back(&v.ref, v.name);
  for (const ModelRef& s : spec.shadows) refs.emplace_back(&s, "shadow");
  return refs;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void AppendNumber(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  int n = std::snprintf(buf, sizeof(buf), "%.17g", v);
  out.append(buf, n);
}

void AppendJsonString(std::string& out, std::string_view s) {
  out += Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// One input row as {"feature": value}; categorical codes back to their names when known.
std::string RowJson(const ServedModel& m, const double* row) {
  const auto& features = m.loaded.model->features();
  std::string out = "{";
  for (size_t i = 0; i < features.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(out, features[i].name);
    out += ':';
    double v = row[i];
    const auto& cats = features[i].categories;
    if (features[i].kind == models::FeatureInfo::Kind::kCategorical && std::isfinite(v) &&
        v >= 0 && v < static_cast<double>(cats.size())) {
      AppendJsonString(out, cats[static_cast<size_t>(v)]);
    } else {
      AppendNumber(out, v);
    }
  }
  return out + "}";
}

std::string OutputJson(const double* out, size_t width, models::OutputKind kind) {
  std::string s;
  auto one = [&](double v) {
    if (kind == models::OutputKind::kClassLabel && std::isfinite(v)) {
      s += std::to_string(static_cast<int64_t>(v));
    } else {
      AppendNumber(s, v);
    }
  };
  if (width == 1) {
    one(out[0]);
    return s;
  }
  s += '[';
  for (size_t i = 0; i < width; ++i) {
    if (i > 0) s += ',';
    one(out[i]);
  }
  return s + ']';
}

std::string KeyText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

// Finds the sticky field's value in the first row of a JSON body and, when `strip`, removes
// the field from every row (it is a routing key, not a feature of the model). Returns
// whether the body was understood; `key` is "" when the field is absent.
bool ExtractField(std::string_view body, const std::string& field, bool strip, std::string* key,
                  std::string* stripped) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return false;
  bool changed = false;
  auto from_records = [&](Json& records) {
    if (!records.is_array()) return;
    for (size_t i = 0; i < records.size(); ++i) {
      Json& r = records[i];
      if (!r.is_object()) continue;
      auto it = r.find(field);
      if (it == r.end()) continue;
      if (i == 0) *key = KeyText(*it);
      if (strip) {
        r.erase(it);
        changed = true;
      }
    }
  };
  if (auto it = j.find("dataframe_records"); it != j.end()) from_records(*it);
  for (const char* k : {"instances", "inputs"}) {
    auto it = j.find(k);
    if (it == j.end()) continue;
    if (it->is_array() && !it->empty() && (*it)[0].is_object() && !it->contains("name")) {
      // A list of records (MLflow) or of OIP tensors (handled below when they have names).
      bool tensors = (*it)[0].contains("datatype");
      if (!tensors) {
        from_records(*it);
        continue;
      }
      for (size_t i = 0; i < it->size(); ++i) {
        Json& t = (*it)[i];
        if (!t.is_object() || t.value("name", "") != field) continue;
        const Json& data = t["data"];
        const Json* first = &data;
        while (first->is_array() && !first->empty()) first = &(*first)[0];
        if (!first->is_array()) *key = KeyText(*first);
        if (strip) {
          it->erase(i);
          changed = true;
        }
        break;
      }
    } else if (it->is_object()) {
      auto col = it->find(field);
      if (col != it->end()) {
        *key = col->is_array() && !col->empty() ? KeyText((*col)[0]) : KeyText(*col);
        if (strip) {
          it->erase(col);
          changed = true;
        }
      }
    }
  }
  if (auto it = j.find("dataframe_split"); it != j.end() && it->is_object()) {
    Json& split = *it;
    auto cols = split.find("columns");
    if (cols != split.end() && cols->is_array()) {
      auto pos = std::find(cols->begin(), cols->end(), Json(field));
      if (pos != cols->end()) {
        size_t idx = static_cast<size_t>(pos - cols->begin());
        Json& data = split["data"];
        if (data.is_array() && !data.empty() && data[0].is_array() && idx < data[0].size()) {
          *key = KeyText(data[0][idx]);
        }
        if (strip) {
          cols->erase(pos);
          if (data.is_array()) {
            for (Json& row : data) {
              if (row.is_array() && idx < row.size()) row.erase(idx);
            }
          }
          changed = true;
        }
      }
    }
  }
  if (changed) *stripped = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  return true;
}

bool HasColumn(const ServedModel& m, const std::string& name) {
  for (const auto& c : m.decoder.columns()) {
    if (c.name == name) return true;
  }
  return false;
}

// The sticky key of a request (or "") and the body the model should see.
std::string StickyKeyOf(const DeploymentSpec& spec, const std::string& header_lower,
                        const ScoreRequest& req, std::string* field_stripped,
                        bool* field_is_routing_only) {
  if (!header_lower.empty()) {
    if (req.headers == nullptr) return "";
    auto it = req.headers->find(header_lower);
    return it == req.headers->end() ? "" : it->second;
  }
  if (spec.sticky.field.empty()) return "";
  std::string key;
  *field_is_routing_only = true;
  ExtractField(req.body, spec.sticky.field, /*strip=*/true, &key, field_stripped);
  return key;
}

}  // namespace

DeploymentManager::DeploymentManager(DeploymentStore& store, ModelResolver resolver,
                                     InferenceLog* log, const Clock& clock,
                                     DeploymentManagerOptions options)
    : store_(store),
      resolver_(std::move(resolver)),
      log_(log),
      clock_(clock),
      options_(std::move(options)) {
  shadow_thread_ = std::thread([this] { RunShadows(); });
  if (options_.alias_poll_ms > 0) poller_ = std::thread([this] { RunPoller(); });
}

DeploymentManager::~DeploymentManager() {
  {
    std::lock_guard<std::mutex> a(poll_mu_);
    std::lock_guard<std::mutex> b(shadow_mu_);
    stopping_ = true;
  }
  poll_cv_.notify_all();
  shadow_cv_.notify_all();
  if (poller_.joinable()) poller_.join();
  shadow_thread_.join();
}

uint64_t DeploymentManager::Random() const {
  if (options_.random) return options_.random();
  thread_local uint64_t state = RandomU64();
  // splitmix64
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::shared_ptr<DeploymentManager::Stats> DeploymentManager::StatsFor(
    const std::string& deployment, const std::string& variant, const std::string& model,
    const std::string& version) {
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
  std::string labels = "deployment=\"" + esc(deployment) + "\",variant=\"" + esc(variant) +
                       "\",model=\"" + esc(model) + "\",version=\"" + esc(version) + "\"";
  std::lock_guard<std::mutex> lock(stats_mu_);
  auto& slot = stats_[labels];
  if (!slot) {
    slot = std::make_shared<Stats>();
    slot->labels = labels;
  }
  return slot;
}

StatusOr<std::shared_ptr<const ServedModel>> DeploymentManager::LoadCached(
    const ModelRef& ref, const ResolvedRef& resolved) {
  std::string key = ref.model + "/" + resolved.version;
  auto it = cache_.find(key);
  if (it != cache_.end() && it->second->loaded.path == resolved.path) return it->second;
  auto loaded = ServedModel::Load(resolved.path, ref.model, resolved.version);
  if (!loaded.ok()) {
    return Status(loaded.status().code() == Code::kNotFound ? Code::kNotFound
                                                            : Code::kInvalidArgument,
                  "cannot load model '" + ref.model + "' version " + resolved.version + " (" +
                      resolved.path + "): " + loaded.status().message());
  }
  cache_[key] = *loaded;
  return *loaded;
}

StatusOr<std::shared_ptr<DeploymentManager::Active>> DeploymentManager::Build(
    const StoredDeployment& stored, std::vector<std::string>* resolved_out) {
  const DeploymentSpec& spec = stored.spec;
  auto active = std::make_shared<Active>();
  active->stored = stored;
  active->sticky_header = Lower(spec.sticky.header);
  RouteSpec route;
  route.salt = spec.name;
  std::set<std::string> served_keys;
  for (const auto& [ref, variant] : RefsOf(spec)) {
    auto resolved = resolver_(*ref);
    if (!resolved.ok()) {
      if (resolved_out) resolved_out->push_back("");
      return Status(resolved.status().code(),
                    "cannot resolve " + ref->Describe() + ": " + resolved.status().message());
    }
    if (resolved_out) resolved_out->push_back(resolved->version);
    active->resolved.push_back(resolved->version);
    ASSIGN_OR_RETURN(auto served, LoadCached(*ref, *resolved));
    Target t{variant, ref->model, resolved->version, std::move(served),
             StatsFor(spec.name, variant, ref->model, resolved->version)};
    std::string key = ref->model + "/" + resolved->version;
    if (variant == "shadow") {
      route.shadow_versions.push_back(key);
      active->shadows.push_back(std::move(t));
      continue;
    }
    if (variant == kPrimaryVariant) {
      route.primary_version = key;
    } else if (variant == kCanaryVariant) {
      route.canary = CanarySpec{key, spec.canary->weight};
    } else {
      double w = 0;
      for (const VariantRoute& v : spec.variants) {
        if (v.name == variant) w = v.weight;
      }
      route.variants.push_back(VariantSpec{variant, key, w});
    }
    active->targets.push_back(std::move(t));
  }
  // With A/B variants the primary is only nominal; it must not collide with a variant key.
  auto table = RoutingTable::Create(std::move(route));
  if (!table.ok()) {
    // The router speaks of "versions" (model/version keys); say which routes collide.
    return InvalidArgument("invalid routing for deployment '" + spec.name +
                           "': " + table.status().message());
  }
  active->table = *table;
  return active;
}

void DeploymentManager::Install(const std::string& name, std::shared_ptr<const Active> active) {
  std::lock_guard<std::mutex> lock(mu_);
  if (active) {
    active_[name] = std::move(active);
  } else {
    active_.erase(name);
  }
}

std::shared_ptr<const DeploymentManager::Active> DeploymentManager::Find(
    const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = active_.find(name);
  return it == active_.end() ? nullptr : it->second;
}

void DeploymentManager::PruneCache() {
  std::set<const ServedModel*> used;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, a] : active_) {
      for (const Target& t : a->targets) used.insert(t.served.get());
      for (const Target& t : a->shadows) used.insert(t.served.get());
    }
  }
  // In-flight requests hold their own references; dropping the cache's is always safe.
  std::erase_if(cache_, [&](const auto& kv) { return !used.count(kv.second.get()); });
}

DeploymentInfo DeploymentManager::InfoOf(const Active& a) const {
  DeploymentInfo info;
  info.stored = a.stored;
  info.resolved_versions = a.resolved;
  info.ready = a.table != nullptr;
  info.error = a.error;
  return info;
}

StatusOr<DeploymentInfo> DeploymentManager::Commit(StoredDeployment next) {
  ASSIGN_OR_RETURN(auto active, Build(next, nullptr));
  RETURN_IF_ERROR(store_.Put(next));
  DeploymentInfo info = InfoOf(*active);
  Install(next.spec.name, std::move(active));
  PruneCache();
  return info;
}

StatusOr<size_t> DeploymentManager::Restore() {
  ASSIGN_OR_RETURN(std::vector<StoredDeployment> all, store_.List());
  std::lock_guard<std::mutex> lock(change_mu_);
  size_t ready = 0;
  for (StoredDeployment& d : all) {
    std::vector<std::string> resolved;
    auto active = Build(d, &resolved);
    if (active.ok()) {
      Install(d.spec.name, std::move(*active));
      ++ready;
      continue;
    }
    log::Warn("deployment '" + d.spec.name + "' is not ready: " + active.status().message());
    auto failed = std::make_shared<Active>();
    failed->stored = std::move(d);
    failed->resolved = std::move(resolved);
    failed->error = active.status().message();
    Install(failed->stored.spec.name, std::move(failed));
  }
  return ready;
}

StatusOr<DeploymentInfo> DeploymentManager::Put(DeploymentSpec spec) {
  RETURN_IF_ERROR(ValidateDeploymentSpec(spec));
  std::lock_guard<std::mutex> lock(change_mu_);
  StoredDeployment next;
  int64_t now = clock_.NowMillis();
  next.created_ms = now;
  if (auto current = Find(spec.name)) {
    next = current->stored;
    if (!(current->stored.spec == spec)) next.history.push_back(current->stored.spec);
    if (next.history.size() > DeploymentStore::kMaxHistory) {
      next.history.erase(next.history.begin());
    }
  }
  next.spec = std::move(spec);
  next.generation += 1;
  next.updated_ms = now;
  return Commit(std::move(next));
}

StatusOr<DeploymentInfo> DeploymentManager::Get(const std::string& name) const {
  auto a = Find(name);
  if (!a) return NotFound("deployment '" + name + "' not found");
  return InfoOf(*a);
}

StatusOr<std::shared_ptr<const ServedModel>> DeploymentManager::ServedVersion(
    const std::string& name, const std::string& version) const {
  auto a = Find(name);
  if (!a) return NotFound("deployment '" + name + "' not found");
  if (!a->table) return Unavailable("deployment '" + name + "' is not ready: " + a->error);
  for (const Target& t : a->targets) {
    if (version.empty() || t.version == version) return t.served;
  }
  return NotFound("deployment '" + name + "' does not serve version '" + version + "'");
}

std::vector<DeploymentInfo> DeploymentManager::List(const std::string& environment) const {
  std::vector<DeploymentInfo> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, a] : active_) {
    if (environment.empty() || a->stored.spec.environment == environment) {
      out.push_back(InfoOf(*a));
    }
  }
  return out;
}

Status DeploymentManager::Delete(const std::string& name) {
  std::lock_guard<std::mutex> lock(change_mu_);
  if (!Find(name)) return NotFound("deployment '" + name + "' not found");
  RETURN_IF_ERROR(store_.Delete(name));
  Install(name, nullptr);
  PruneCache();
  return OkStatus();
}

StatusOr<DeploymentInfo> DeploymentManager::SetWeights(const std::string& name,
                                                       const WeightChange& change) {
  std::lock_guard<std::mutex> lock(change_mu_);
  auto current = Find(name);
  if (!current) return NotFound("deployment '" + name + "' not found");
  StoredDeployment next = current->stored;
  DeploymentSpec& spec = next.spec;
  if (change.canary) {
    if (!spec.canary) return FailedPrecondition("deployment '" + name + "' has no canary");
    spec.canary->weight = *change.canary;
  }
  if (!change.variants.empty()) {
    if (spec.variants.empty()) {
      return FailedPrecondition("deployment '" + name + "' has no A/B variants");
    }
    std::set<std::string> seen;
    for (const auto& [variant, weight] : change.variants) {
      auto it = std::find_if(spec.variants.begin(), spec.variants.end(),
                             [&](const VariantRoute& v) { return v.name == variant; });
      if (it == spec.variants.end()) {
        return InvalidArgument("deployment '" + name + "' has no variant '" + variant + "'");
      }
      it->weight = weight;
      seen.insert(variant);
    }
    for (const VariantRoute& v : spec.variants) {
      if (!seen.count(v.name)) {
        return InvalidArgument("weights must name every variant; '" + v.name + "' is missing");
      }
    }
  }
  if (!change.canary && change.variants.empty()) return InvalidArgument("no weights given");
  RETURN_IF_ERROR(ValidateDeploymentSpec(spec));
  next.history.push_back(current->stored.spec);
  if (next.history.size() > DeploymentStore::kMaxHistory) next.history.erase(next.history.begin());
  next.generation += 1;
  next.updated_ms = clock_.NowMillis();
  return Commit(std::move(next));
}

StatusOr<DeploymentInfo> DeploymentManager::PromoteCanary(const std::string& name) {
  std::lock_guard<std::mutex> lock(change_mu_);
  auto current = Find(name);
  if (!current) return NotFound("deployment '" + name + "' not found");
  StoredDeployment next = current->stored;
  if (!next.spec.canary) {
    return FailedPrecondition("deployment '" + name + "' has no canary to promote");
  }
  next.spec.primary = next.spec.canary->ref;
  next.spec.canary.reset();
  std::erase(next.spec.shadows, next.spec.primary);
  next.history.push_back(current->stored.spec);
  if (next.history.size() > DeploymentStore::kMaxHistory) next.history.erase(next.history.begin());
  next.generation += 1;
  next.updated_ms = clock_.NowMillis();
  return Commit(std::move(next));
}

StatusOr<DeploymentInfo> DeploymentManager::Rollback(const std::string& name) {
  std::lock_guard<std::mutex> lock(change_mu_);
  auto current = Find(name);
  if (!current) return NotFound("deployment '" + name + "' not found");
  StoredDeployment next = current->stored;
  if (next.history.empty()) {
    return FailedPrecondition("deployment '" + name + "' has no earlier routing to roll back to");
  }
  next.spec = next.history.back();
  next.history.pop_back();
  next.generation += 1;
  next.updated_ms = clock_.NowMillis();
  return Commit(std::move(next));
}

size_t DeploymentManager::RefreshAliases() {
  std::lock_guard<std::mutex> lock(change_mu_);
  std::vector<std::shared_ptr<const Active>> all;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [name, a] : active_) all.push_back(a);
  }
  size_t swapped = 0;
  for (const auto& a : all) {
    auto refs = RefsOf(a->stored.spec);
    bool follows = std::any_of(refs.begin(), refs.end(),
                               [](const auto& r) { return r.first->follows_alias(); });
    if (!follows) continue;
    std::vector<std::string> now;
    bool resolvable = true;
    for (const auto& [ref, variant] : refs) {
      auto r = resolver_(*ref);
      if (!r.ok()) {
        resolvable = false;
        break;
      }
      now.push_back(r->version);
    }
    // A deleted alias keeps the deployment on what it serves; nothing to follow.
    if (!resolvable || now == a->resolved) continue;
    std::vector<std::string> resolved;
    auto built = Build(a->stored, &resolved);
    const std::string& name = a->stored.spec.name;
    if (built.ok()) {
      log::Info("deployment '" + name + "' follows its alias to new versions");
      Install(name, std::move(*built));
      ++swapped;
      continue;
    }
    // Keep serving the previous versions; remember what failed so the next poll does not
    // reload it, and say why.
    auto kept = std::make_shared<Active>(*a);
    kept->resolved = now;
    kept->error = "alias follow failed, still serving the previous versions: " +
                  built.status().message();
    if (!a->table) kept->error = built.status().message();
    log::Warn("deployment '" + name + "': " + kept->error);
    Install(name, std::move(kept));
  }
  if (swapped > 0) PruneCache();
  return swapped;
}

void DeploymentManager::RunPoller() {
  std::unique_lock<std::mutex> lock(poll_mu_);
  while (!stopping_) {
    poll_cv_.wait_for(lock, std::chrono::milliseconds(options_.alias_poll_ms),
                      [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    RefreshAliases();
    lock.lock();
  }
}

ScoreResult DeploymentManager::Score(const ScoreRequest& req) {
  int64_t start = clock_.MonotonicMicros();
  ScoreResult result;
  result.request_id = req.request_id.empty() ? NewUuidHex() : req.request_id;
  auto active = Find(req.deployment);
  if (!active) {
    result.status = NotFound("deployment '" + req.deployment + "' not found");
    return result;
  }
  if (!active->table) {
    result.status = Unavailable("deployment '" + req.deployment + "' is not ready: " +
                                active->error);
    return result;
  }
  const DeploymentSpec& spec = active->stored.spec;

  // Route.
  std::string stripped;
  bool field_routing = false;
  std::string key = StickyKeyOf(spec, active->sticky_header, req, &stripped, &field_routing);
  const Target* target = nullptr;
  if (!req.pinned_version.empty()) {
    for (const Target& t : active->targets) {
      if (t.version == req.pinned_version) {
        target = &t;
        break;
      }
    }
    if (target == nullptr) {
      result.status = NotFound("deployment '" + req.deployment + "' does not serve version '" +
                               req.pinned_version + "'");
      return result;
    }
  } else {
    uint32_t bucket = key.empty() ? static_cast<uint32_t>(Random() % kNumBuckets)
                                  : BucketForKey(spec.name, key);
    target = active->FindVariant(active->table->TargetForBucket(bucket).variant);
    if (target == nullptr) target = &active->targets.front();
  }
  result.variant = target->variant;
  result.model = target->model;
  result.version = target->version;
  const ServedModel& m = *target->served;

  // A sticky field that is not one of the model's columns is removed before decoding.
  std::string_view body = req.body;
  if (field_routing && !stripped.empty() && !HasColumn(m, spec.sticky.field)) body = stripped;

  // Decode, predict, encode.
  DecodedInput decoded;
  std::string oip_id;
  if (req.protocol == ScoreProtocol::kInvocations) {
    auto d = m.decoder.DecodeInvocations(req.content_type, body);
    if (!d.ok()) result.status = d.status();
    else decoded = std::move(*d);
  } else {
    auto d = m.decoder.DecodeInfer(body);
    if (!d.ok()) {
      result.status = d.status();
    } else {
      decoded = std::move(d->input);
      oip_id = std::move(d->id);
    }
  }
  size_t width = m.loaded.model->output_width();
  models::OutputKind kind = m.loaded.model->output_kind();
  std::vector<double> predictions;
  if (result.status.ok()) {
    predictions.resize(decoded.n_rows * width);
    result.status = m.loaded.model->Predict(decoded.rows, decoded.n_rows, predictions);
  }
  if (result.status.ok()) {
    result.body = req.protocol == ScoreProtocol::kInvocations
                      ? EncodeInvocationsResponse(predictions, width, kind)
                      : EncodeInferResponse(req.deployment, target->version, oip_id,
                                            predictions, width, kind);
  }
  int64_t latency = clock_.MonotonicMicros() - start;
  target->stats->Observe(result.status, latency, result.status.ok() ? decoded.n_rows : 0);
  if (!result.status.ok()) return result;

  // Log every row, then hand the shadows their copy.
  int64_t now_ms = clock_.NowMillis();
  if (log_ != nullptr) {
    size_t nf = m.loaded.model->num_features();
    for (size_t i = 0; i < decoded.n_rows; ++i) {
      InferenceRecord r;
      r.request_id = decoded.n_rows == 1 ? result.request_id
                                         : result.request_id + "#" + std::to_string(i);
      r.time_ms = now_ms;
      r.deployment = req.deployment;
      r.variant = target->variant;
      r.model_version = target->version;
      r.entity_key = key;
      r.input_json = RowJson(m, decoded.rows.data() + i * nf);
      r.output_json = OutputJson(predictions.data() + i * width, width, kind);
      r.latency_us = latency;
      log_->Log(std::move(r));
    }
  }
  if (!active->shadows.empty() && req.pinned_version.empty()) {
    ShadowJob job{active, req.protocol, std::string(req.content_type), std::string(body),
                  result.request_id, key, now_ms};
    std::lock_guard<std::mutex> lock(shadow_mu_);
    if (shadow_queue_.size() >= options_.shadow_queue_capacity) {
      shadow_dropped_.fetch_add(1, std::memory_order_relaxed);
    } else {
      shadow_queue_.push_back(std::move(job));
      shadow_queued_.fetch_add(1, std::memory_order_relaxed);
      shadow_cv_.notify_one();
    }
  }
  return result;
}

void DeploymentManager::RunShadows() {
  std::unique_lock<std::mutex> lock(shadow_mu_);
  while (true) {
    shadow_cv_.wait(lock, [this] { return stopping_ || !shadow_queue_.empty(); });
    if (shadow_queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    ShadowJob job = std::move(shadow_queue_.front());
    shadow_queue_.pop_front();
    ++shadow_busy_;
    lock.unlock();
    ScoreShadows(job);
    job.active.reset();
    lock.lock();
    --shadow_busy_;
    shadow_done_cv_.notify_all();
  }
}

void DeploymentManager::ScoreShadows(const ShadowJob& job) {
  for (const Target& t : job.active->shadows) {
    int64_t start = clock_.MonotonicMicros();
    const ServedModel& m = *t.served;
    StatusOr<DecodedInput> decoded = Status(Code::kInternal, "");
    if (job.protocol == ScoreProtocol::kInvocations) {
      decoded = m.decoder.DecodeInvocations(job.content_type, job.body);
    } else {
      auto d = m.decoder.DecodeInfer(job.body);
      if (d.ok()) decoded = std::move(d->input);
      else decoded = d.status();
    }
    size_t width = m.loaded.model->output_width();
    std::vector<double> out;
    Status st = decoded.status();
    if (st.ok()) {
      out.resize(decoded->n_rows * width);
      st = m.loaded.model->Predict(decoded->rows, decoded->n_rows, out);
    }
    int64_t latency = clock_.MonotonicMicros() - start;
    t.stats->Observe(st, latency, st.ok() ? decoded->n_rows : 0);
    if (!st.ok()) {
      shadow_failed_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (log_ == nullptr) continue;
    size_t nf = m.loaded.model->num_features();
    for (size_t i = 0; i < decoded->n_rows; ++i) {
      InferenceRecord r;
      r.request_id =
          decoded->n_rows == 1 ? job.request_id : job.request_id + "#" + std::to_string(i);
      r.time_ms = job.time_ms;
      r.deployment = job.active->stored.spec.name;
      r.variant = "shadow";
      r.model_version = t.version;
      r.entity_key = job.entity_key;
      r.input_json = RowJson(m, decoded->rows.data() + i * nf);
      r.output_json = OutputJson(out.data() + i * width, width, m.loaded.model->output_kind());
      r.latency_us = latency;
      log_->Log(std::move(r));
    }
  }
}

void DeploymentManager::DrainShadows() {
  std::unique_lock<std::mutex> lock(shadow_mu_);
  shadow_done_cv_.wait(lock, [this] { return shadow_queue_.empty() && shadow_busy_ == 0; });
}

std::string DeploymentManager::RenderPrometheus() const {
  std::vector<std::shared_ptr<Stats>> all;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    for (const auto& [k, s] : stats_) all.push_back(s);
  }
  std::string out;
  auto line = [&out](const std::string& name, const std::string& labels, uint64_t v) {
    out += name + "{" + labels + "} " + std::to_string(v) + "\n";
  };
  out += "# HELP cairn_deployment_requests_total Scoring requests answered by a deployment's "
         "version, by variant and outcome.\n# TYPE cairn_deployment_requests_total counter\n";
  for (const auto& s : all) {
    line("cairn_deployment_requests_total", s->labels + ",outcome=\"ok\"", s->ok.load());
    line("cairn_deployment_requests_total", s->labels + ",outcome=\"client_error\"",
         s->client_errors.load());
    line("cairn_deployment_requests_total", s->labels + ",outcome=\"server_error\"",
         s->server_errors.load());
  }
  out += "# HELP cairn_deployment_rows_total Rows scored.\n"
         "# TYPE cairn_deployment_rows_total counter\n";
  for (const auto& s : all) line("cairn_deployment_rows_total", s->labels, s->rows.load());
  out += "# HELP cairn_deployment_request_duration_seconds Time to score a request (decode, "
         "predict, encode).\n# TYPE cairn_deployment_request_duration_seconds histogram\n";
  for (const auto& s : all) {
    uint64_t cumulative = 0;
    for (int b = 0; b <= Stats::kBuckets; ++b) {
      cumulative += s->buckets[b].load();
      char le[32];
      if (b < Stats::kBuckets) {
        std::snprintf(le, sizeof(le), "%g", Stats::kBounds[b]);
      } else {
        std::snprintf(le, sizeof(le), "+Inf");
      }
      line("cairn_deployment_request_duration_seconds_bucket",
           s->labels + ",le=\"" + le + "\"", cumulative);
    }
    char sum[64];
    std::snprintf(sum, sizeof(sum), "%.6f", s->sum_micros.load() / 1e6);
    out += "cairn_deployment_request_duration_seconds_sum{" + s->labels + "} " + sum + "\n";
    line("cairn_deployment_request_duration_seconds_count", s->labels, cumulative);
  }
  auto counter = [&out](const char* name, const char* help, uint64_t v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name +
           " " + std::to_string(v) + "\n";
  };
  counter("cairn_deployment_shadow_queued_total", "Shadow copies queued.", shadow_queued_.load());
  counter("cairn_deployment_shadow_dropped_total", "Shadow copies dropped: the queue was full.",
          shadow_dropped_.load());
  counter("cairn_deployment_shadow_failed_total", "Shadow copies a shadow version could not score.",
          shadow_failed_.load());
  return out;
}

}  // namespace cairn::serving
