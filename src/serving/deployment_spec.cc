#include "serving/deployment_spec.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

namespace cairn::serving {
namespace {

using Json = nlohmann::ordered_json;

bool ValidName(std::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  if (!std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

std::string Percent(double w) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", w);
  return buf;
}

Status CheckRef(const ModelRef& ref, const std::string& field) {
  if (ref.model.empty()) return InvalidArgument(field + ".model must not be empty");
  if (ref.alias.empty() && ref.version.empty()) {
    return InvalidArgument(field + " needs a \"version\" or an \"alias\"");
  }
  if (ref.alias.empty()) {
    for (char c : ref.version) {
      if (!std::isdigit(static_cast<unsigned char>(c))) {
        return InvalidArgument(field + ".version must be a version number, got '" + ref.version +
                               "'");
      }
    }
  }
  return OkStatus();
}

Status CheckWeight(double w, const std::string& field) {
  if (!std::isfinite(w) || w < 0 || w > 100) {
    return InvalidArgument(field + " must be a percentage in [0, 100], got " + Percent(w));
  }
  return OkStatus();
}

// ---- decoding -------------------------------------------------------------------------------

Status CheckKeys(const Json& obj, const std::string& field, std::initializer_list<const char*> keys) {
  if (!obj.is_object()) return InvalidArgument(field + " must be an object");
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (const char* k : keys) known = known || it.key() == k;
    if (!known) return InvalidArgument(field + " has an unknown key '" + it.key() + "'");
  }
  return OkStatus();
}

StatusOr<std::string> GetString(const Json& obj, const char* key, const std::string& field) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (it->is_string()) return it->get<std::string>();
  // Versions are strings on MLflow's wire, but a bare number is what people type.
  if (it->is_number_integer() || it->is_number_unsigned()) return it->dump();
  return InvalidArgument(field + "." + key + " must be a string");
}

StatusOr<double> GetWeight(const Json& obj, const std::string& field) {
  auto it = obj.find("weight");
  if (it == obj.end()) return InvalidArgument(field + ".weight is required");
  if (!it->is_number()) return InvalidArgument(field + ".weight must be a number");
  return it->get<double>();
}

StatusOr<ModelRef> DecodeRef(const Json& obj, const std::string& field) {
  ModelRef ref;
  ASSIGN_OR_RETURN(ref.model, GetString(obj, "model", field));
  ASSIGN_OR_RETURN(ref.version, GetString(obj, "version", field));
  ASSIGN_OR_RETURN(ref.alias, GetString(obj, "alias", field));
  if (!ref.alias.empty()) ref.version.clear();
  return ref;
}

Json EncodeRef(const ModelRef& ref) {
  Json j = {{"model", ref.model}};
  if (ref.follows_alias()) {
    j["alias"] = ref.alias;
  } else {
    j["version"] = ref.version;
  }
  return j;
}

StatusOr<DeploymentSpec> Decode(const Json& j, const std::string& name_override) {
  RETURN_IF_ERROR(CheckKeys(j, "deployment",
                            {"name", "environment", "primary", "canary", "variants", "sticky",
                             "shadows"}));
  DeploymentSpec spec;
  ASSIGN_OR_RETURN(spec.name, GetString(j, "name", "deployment"));
  if (!name_override.empty()) {
    if (!spec.name.empty() && spec.name != name_override) {
      return InvalidArgument("the body's name '" + spec.name + "' differs from the URL's '" +
                             name_override + "'");
    }
    spec.name = name_override;
  }
  ASSIGN_OR_RETURN(spec.environment, GetString(j, "environment", "deployment"));
  if (spec.environment.empty()) spec.environment = "dev";
  auto primary = j.find("primary");
  if (primary == j.end() || primary->is_null()) return InvalidArgument("primary is required");
  RETURN_IF_ERROR(CheckKeys(*primary, "primary", {"model", "version", "alias"}));
  ASSIGN_OR_RETURN(spec.primary, DecodeRef(*primary, "primary"));
  if (auto c = j.find("canary"); c != j.end() && !c->is_null()) {
    RETURN_IF_ERROR(CheckKeys(*c, "canary", {"model", "version", "alias", "weight"}));
    CanaryRoute canary;
    ASSIGN_OR_RETURN(canary.ref, DecodeRef(*c, "canary"));
    ASSIGN_OR_RETURN(canary.weight, GetWeight(*c, "canary"));
    spec.canary = std::move(canary);
  }
  if (auto v = j.find("variants"); v != j.end() && !v->is_null()) {
    if (!v->is_array()) return InvalidArgument("variants must be a list");
    for (size_t i = 0; i < v->size(); ++i) {
      std::string field = "variants[" + std::to_string(i) + "]";
      const Json& e = (*v)[i];
      RETURN_IF_ERROR(CheckKeys(e, field, {"name", "model", "version", "alias", "weight"}));
      VariantRoute variant;
      ASSIGN_OR_RETURN(variant.name, GetString(e, "name", field));
      ASSIGN_OR_RETURN(variant.ref, DecodeRef(e, field));
      ASSIGN_OR_RETURN(variant.weight, GetWeight(e, field));
      spec.variants.push_back(std::move(variant));
    }
  }
  if (auto s = j.find("sticky"); s != j.end() && !s->is_null()) {
    RETURN_IF_ERROR(CheckKeys(*s, "sticky", {"header", "field"}));
    ASSIGN_OR_RETURN(spec.sticky.header, GetString(*s, "header", "sticky"));
    ASSIGN_OR_RETURN(spec.sticky.field, GetString(*s, "field", "sticky"));
  }
  if (auto s = j.find("shadows"); s != j.end() && !s->is_null()) {
    if (!s->is_array()) return InvalidArgument("shadows must be a list");
    for (size_t i = 0; i < s->size(); ++i) {
      std::string field = "shadows[" + std::to_string(i) + "]";
      RETURN_IF_ERROR(CheckKeys((*s)[i], field, {"model", "version", "alias"}));
      ASSIGN_OR_RETURN(ModelRef ref, DecodeRef((*s)[i], field));
      spec.shadows.push_back(std::move(ref));
    }
  }
  RETURN_IF_ERROR(ValidateDeploymentSpec(spec));
  return spec;
}

}  // namespace

std::string ModelRef::Describe() const {
  return follows_alias() ? model + "@" + alias : model + "/" + version;
}

Status ValidateDeploymentSpec(const DeploymentSpec& spec) {
  if (!ValidName(spec.name, 128)) {
    return InvalidArgument("deployment name '" + spec.name +
                           "' must be 1-128 characters of letters, digits, '.', '_' or '-', "
                           "starting with a letter or digit");
  }
  bool env_ok = false;
  for (const char* e : kEnvironments) env_ok = env_ok || spec.environment == e;
  if (!env_ok) {
    return InvalidArgument("environment must be one of dev, test, prod, got '" +
                           spec.environment + "'");
  }
  RETURN_IF_ERROR(CheckRef(spec.primary, "primary"));
  if (spec.canary) {
    if (!spec.variants.empty()) {
      return InvalidArgument("a canary and A/B variants cannot be combined in one deployment");
    }
    RETURN_IF_ERROR(CheckRef(spec.canary->ref, "canary"));
    RETURN_IF_ERROR(CheckWeight(spec.canary->weight, "canary.weight"));
  }
  if (!spec.variants.empty()) {
    if (spec.variants.size() < 2) {
      return InvalidArgument("an A/B test needs at least two variants, got 1");
    }
    std::set<std::string> names;
    double sum = 0;
    for (size_t i = 0; i < spec.variants.size(); ++i) {
      const VariantRoute& v = spec.variants[i];
      std::string field = "variants[" + std::to_string(i) + "]";
      if (!ValidName(v.name, 64)) {
        return InvalidArgument(field + ".name '" + v.name +
                               "' must be 1-64 letters, digits, '.', '_' or '-'");
      }
      if (v.name == "shadow") return InvalidArgument(field + ".name 'shadow' is reserved");
      if (!names.insert(v.name).second) {
        return InvalidArgument(field + ".name '" + v.name + "' is used twice");
      }
      RETURN_IF_ERROR(CheckRef(v.ref, field));
      RETURN_IF_ERROR(CheckWeight(v.weight, field + ".weight"));
      sum += v.weight;
    }
    if (std::fabs(sum - 100.0) > 1e-6) {
      return InvalidArgument("variant weights must sum to 100, got " + Percent(sum));
    }
  }
  if (!spec.sticky.header.empty() && !spec.sticky.field.empty()) {
    return InvalidArgument("sticky takes a header or a field, not both");
  }
  for (size_t i = 0; i < spec.shadows.size(); ++i) {
    RETURN_IF_ERROR(CheckRef(spec.shadows[i], "shadows[" + std::to_string(i) + "]"));
  }
  return OkStatus();
}

StatusOr<DeploymentSpec> DeploymentSpecFromJson(std::string_view json,
                                                const std::string& name_override) {
  Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("the deployment is not valid JSON");
  // Accept {"deployment": {...}} as GET answers it, so a GET body can be sent back.
  if (j.is_object() && j.size() == 1 && j.contains("deployment")) j = j["deployment"];
  try {
    return Decode(j, name_override);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("malformed deployment: ") + e.what());
  }
}

std::string DeploymentSpecToJson(const DeploymentSpec& spec) {
  Json j = {{"name", spec.name}, {"environment", spec.environment},
            {"primary", EncodeRef(spec.primary)}};
  if (spec.canary) {
    Json c = EncodeRef(spec.canary->ref);
    c["weight"] = spec.canary->weight;
    j["canary"] = c;
  }
  if (!spec.variants.empty()) {
    Json vs = Json::array();
    for (const VariantRoute& v : spec.variants) {
      Json e = {{"name", v.name}};
      Json ref = EncodeRef(v.ref);
      for (auto it = ref.begin(); it != ref.end(); ++it) e[it.key()] = *it;
      e["weight"] = v.weight;
      vs.push_back(e);
    }
    j["variants"] = vs;
  }
  if (!spec.sticky.header.empty()) j["sticky"] = {{"header", spec.sticky.header}};
  if (!spec.sticky.field.empty()) j["sticky"] = {{"field", spec.sticky.field}};
  if (!spec.shadows.empty()) {
    Json ss = Json::array();
    for (const ModelRef& s : spec.shadows) ss.push_back(EncodeRef(s));
    j["shadows"] = ss;
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace cairn::serving
