#include "pipeline/step_process.h"

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/files.h"

using nlohmann::json;

namespace cairn::pipeline {

namespace {

json ValueToJson(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kBool:
      return v.b;
    case Value::Kind::kInt:
      return v.i;
    case Value::Kind::kFloat:
      return v.d;
    case Value::Kind::kList: {
      json a = json::array();
      for (const auto& x : v.list) a.push_back(ValueToJson(x));
      return a;
    }
    default:
      return v.ToText();
  }
}

Value ValueFromJson(const json& j) {
  if (j.is_boolean()) return Value::Bool(j.get<bool>());
  if (j.is_number_integer()) return Value::Int(j.get<int64_t>());
  if (j.is_number()) return Value::Float(j.get<double>());
  if (j.is_array()) {
    std::vector<Value> items;
    for (const auto& x : j) items.push_back(ValueFromJson(x));
    return Value::List(std::move(items));
  }
  return Value::String(j.is_string() ? j.get<std::string>() : j.dump());
}

json StringMap(const std::map<std::string, std::string>& m) {
  json j = json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

}  // namespace

std::string ParamsToJson(const std::map<std::string, Value>& params) {
  json j = json::object();
  for (const auto& [k, v] : params) j[k] = ValueToJson(v);
  return j.dump();
}

std::map<std::string, Value> ParamsFromJson(const std::string& json_text) {
  std::map<std::string, Value> params;
  json j = json::parse(json_text, nullptr, false);
  if (!j.is_object()) return params;
  for (const auto& [k, v] : j.items()) params[k] = ValueFromJson(v);
  return params;
}

Status WriteBuiltinInvocation(const std::string& path, const BuiltinInvocation& inv) {
  const StepContext& c = inv.ctx;
  json j = {{"type", inv.type},
            {"base_dir", c.base_dir},
            {"with", StringMap(c.with)},
            {"inputs", c.inputs},
            {"outputs", c.outputs},
            {"params", json::parse(ParamsToJson(c.params))},
            {"log_path", c.log_path},
            {"run_id", c.run_id},
            {"step", c.step},
            {"metrics_path", c.metrics_path},
            {"outputs_path", inv.outputs_path},
            {"error_path", inv.error_path},
            {"tracking_uri", inv.platform.tracking_uri}};
  if (inv.platform.run) {
    j["tracking_run"] = {{"run_id", inv.platform.run->run_id},
                         {"experiment_id", inv.platform.run->experiment_id},
                         {"artifact_uri", inv.platform.run->artifact_uri}};
  }
  return WriteFileAtomically(path, j.dump(1));
}

StatusOr<BuiltinInvocation> ReadBuiltinInvocation(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound(fmt::format("cannot read the step context '{}'", path));
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  auto bad = [&](const std::string& why) {
    return InvalidArgument(fmt::format("'{}' is not a step context file: {}", path, why));
  };
  if (!j.is_object()) return bad("not a JSON object");
  for (const char* key : {"type", "base_dir", "step", "run_id", "outputs_path", "error_path"}) {
    if (!j.contains(key) || !j[key].is_string()) return bad(fmt::format("no string '{}'", key));
  }
  BuiltinInvocation inv;
  try {
    inv.type = j["type"].get<std::string>();
    StepContext& c = inv.ctx;
    c.base_dir = j["base_dir"].get<std::string>();
    c.with = j.value("with", std::map<std::string, std::string>{});
    c.inputs = j.value("inputs", std::vector<std::string>{});
    c.outputs = j.value("outputs", std::vector<std::string>{});
    c.params = ParamsFromJson(j.value("params", json::object()).dump());
    c.log_path = j.value("log_path", "");
    c.run_id = j["run_id"].get<std::string>();
    c.step = j["step"].get<std::string>();
    c.metrics_path = j.value("metrics_path", "");
    inv.outputs_path = j["outputs_path"].get<std::string>();
    inv.error_path = j["error_path"].get<std::string>();
    inv.platform.tracking_uri = j.value("tracking_uri", "");
    if (j.contains("tracking_run")) {
      const json& r = j["tracking_run"];
      inv.platform.run = TrackedRun{r.value("run_id", ""), r.value("experiment_id", ""),
                                    r.value("artifact_uri", "")};
    }
  } catch (const json::exception& e) {
    return bad(e.what());
  }
  return inv;
}

Status RunBuiltinHere(const StepType& type, const StepContext& ctx, std::ostream& out,
                      std::ostream& err, std::map<std::string, std::string>* values) {
  Status st = type.Run(ctx, values);
  if (!st.ok()) err << st.ToString() << '\n';
  for (const auto& [k, v] : *values) out << k << '=' << v << '\n';
  out.flush();
  err.flush();
  return st;
}

int RunBuiltinInvocation(const BuiltinInvocation& inv, const StepTypeRegistry& types,
                         std::ostream& err) {
  std::map<std::string, std::string> values;
  Status st = OkStatus();
  if (const StepType* type = types.Find(inv.type)) {
    // Appending by name keeps what the step itself wrote to its log (ctx.log_path) first.
    std::ofstream log;
    if (!inv.ctx.log_path.empty()) log.open(inv.ctx.log_path, std::ios::app);
    std::ostream& out = log.is_open() ? static_cast<std::ostream&>(log) : std::cout;
    st = RunBuiltinHere(*type, inv.ctx, out, err, &values);
  } else {
    st = InvalidArgument(fmt::format("unknown step type '{}'", inv.type));
    err << st.ToString() << '\n';
  }
  if (Status written = WriteFileAtomically(inv.outputs_path, StringMap(values).dump());
      !written.ok()) {
    err << "cannot write the step's values: " << written.message() << '\n';
    return 1;
  }
  if (!st.ok()) {
    (void)WriteFileAtomically(inv.error_path, st.message());
    return 1;
  }
  return 0;
}

}  // namespace cairn::pipeline
