#include "pipeline/plan.h"

#include <fmt/format.h>

#include <filesystem>
#include <regex>
#include <set>

namespace cairn::pipeline {

int Plan::Find(const std::string& instance_name) const {
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].name == instance_name) return static_cast<int>(i);
  }
  return -1;
}

std::string Interpolate(const std::string& text, const std::map<std::string, Value>& params,
                        const std::optional<Value>& item) {
  if (text.find("${") == std::string::npos) return text;
  static const std::regex kRef(R"(\$\{\s*([^}]*?)\s*\})");
  std::string out;
  auto begin = std::sregex_iterator(text.begin(), text.end(), kRef);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    out.append(text, last, m.position(0) - last);
    std::string ref = m[1].str();
    if (ref == "item" && item) {
      out += item->ToText();
    } else if (ref.rfind("params.", 0) == 0 && params.count(ref.substr(7))) {
      out += params.at(ref.substr(7)).ToText();
    } else {
      out += m[0].str();
    }
    last = m.position(0) + m.length(0);
  }
  out.append(text, last, std::string::npos);
  return out;
}

namespace {

std::vector<Value> ForeachItems(const StepSpec& s, const std::map<std::string, Value>& params) {
  if (!s.foreach_param.empty()) return params.at(s.foreach_param).list;
  return s.foreach_items;
}

PlannedStep Instantiate(const StepSpec& s, const std::map<std::string, Value>& params,
                        std::optional<Value> item, const std::string& name) {
  PlannedStep p;
  p.name = name;
  p.step_name = s.name;
  p.spec = &s;
  p.item = item;
  if (!s.run_shell.empty()) {
    p.command_text = Interpolate(s.run_shell, params, item);
    p.argv = {"/bin/sh", "-c", p.command_text};
  } else if (!s.run_argv.empty()) {
    for (const auto& a : s.run_argv) p.argv.push_back(Interpolate(a, params, item));
    for (size_t i = 0; i < p.argv.size(); ++i) p.command_text += (i ? " " : "") + p.argv[i];
  } else {
    p.command_text = "type:" + s.type;
  }
  for (const auto& x : s.inputs) p.inputs.push_back(Interpolate(x, params, item));
  for (const auto& x : s.outputs) p.outputs.push_back(Interpolate(x, params, item));
  for (const auto& [k, v] : s.env) p.env[k] = Interpolate(v, params, item);
  for (const auto& [k, v] : s.with) p.with[k] = Interpolate(v, params, item);
  for (const auto& name : s.params) p.params[name] = params.at(name);
  return p;
}

}  // namespace

Status CheckInputsAvailable(const PipelineSpec& spec, const Plan& plan) {
  std::vector<std::string> outputs;
  for (const auto& p : plan.steps) outputs.insert(outputs.end(), p.outputs.begin(), p.outputs.end());
  for (const auto& p : plan.steps) {
    for (size_t i = 0; i < p.inputs.size(); ++i) {
      const std::string& in = p.inputs[i];
      bool produced = false;
      for (const auto& o : outputs) {
        produced = produced || in == o || (in.size() > o.size() && in.compare(0, o.size(), o) == 0 &&
                                           in[o.size()] == '/');
      }
      std::error_code ec;
      std::filesystem::path abs = in.empty() || in[0] != '/'
                                      ? std::filesystem::path(spec.base_dir) / in
                                      : std::filesystem::path(in);
      if (produced || std::filesystem::exists(abs, ec)) continue;
      Mark m = i < p.spec->input_marks.size() ? p.spec->input_marks[i] : p.spec->mark;
      return InvalidArgument(fmt::format("{}:{}:{}: step '{}': input '{}' does not exist and no "
                                         "step outputs it",
                                         spec.source_path, m.line, m.column, p.name, in));
    }
  }
  return OkStatus();
}

StatusOr<Plan> MakePlan(const PipelineSpec& spec, const std::map<std::string, Value>& overrides) {
  Plan plan;
  for (const auto& p : spec.params) plan.params[p.name] = p.default_value;
  for (const auto& [name, value] : overrides) {
    const ParamSpec* p = spec.FindParam(name);
    if (!p) return InvalidArgument(fmt::format("unknown param '{}'", name));
    bool ok = (p->type == ParamType::kString) ||
              (p->type == ParamType::kInt && value.kind == Value::Kind::kInt) ||
              (p->type == ParamType::kFloat && value.is_number()) ||
              (p->type == ParamType::kBool && value.kind == Value::Kind::kBool) ||
              (p->type == ParamType::kList && value.kind == Value::Kind::kList);
    if (!ok) {
      return InvalidArgument(fmt::format("param '{}' is a {}, got '{}'", name,
                                         ParamTypeName(p->type), value.ToText()));
    }
    Value v = value;
    if (p->type == ParamType::kString) v = Value::String(value.ToText());
    if (p->type == ParamType::kFloat) v = Value::Float(value.AsDouble());
    plan.params[name] = v;
  }

  // Kahn's algorithm over spec steps, picking ready steps in file order.
  std::map<std::string, std::vector<int>> instances;  // spec step → plan indices
  std::set<std::string> done;
  static const std::regex kWord("^[A-Za-z0-9_.-]+$");
  while (done.size() < spec.steps.size()) {
    bool progressed = false;
    for (const auto& s : spec.steps) {
      if (done.count(s.name)) continue;
      bool ready = true;
      for (const auto& n : s.needs) ready = ready && done.count(n);
      if (!ready) continue;
      std::vector<int> deps;
      for (const auto& n : s.needs) {
        for (int i : instances[n]) deps.push_back(i);
      }
      std::vector<std::pair<std::optional<Value>, std::string>> items;
      if (s.has_foreach) {
        auto list = ForeachItems(s, plan.params);
        std::set<std::string> seen;
        bool words = true;
        for (const auto& v : list) {
          std::string t = v.ToText();
          words = words && std::regex_match(t, kWord) && seen.insert(t).second;
        }
        for (size_t i = 0; i < list.size(); ++i) {
          std::string label = words ? list[i].ToText() : std::to_string(i);
          items.emplace_back(list[i], s.name + "[" + label + "]");
        }
      } else {
        items.emplace_back(std::nullopt, s.name);
      }
      for (auto& [item, name] : items) {
        PlannedStep ps = Instantiate(s, plan.params, item, name);
        ps.deps = deps;
        instances[s.name].push_back(static_cast<int>(plan.steps.size()));
        plan.steps.push_back(std::move(ps));
      }
      done.insert(s.name);
      progressed = true;
    }
    if (!progressed) return InvalidArgument("dependency cycle among steps");  // spec checks first
  }
  return plan;
}

}  // namespace cairn::pipeline
