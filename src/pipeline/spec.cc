#include "pipeline/spec.h"

#include <cctype>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

namespace cairn::pipeline {

std::string_view ParamTypeName(ParamType type) {
  switch (type) {
    case ParamType::kString:
      return "string";
    case ParamType::kInt:
      return "int";
    case ParamType::kFloat:
      return "float";
    case ParamType::kBool:
      return "bool";
    case ParamType::kList:
      return "list";
  }
  return "?";
}

const ParamSpec* PipelineSpec::FindParam(const std::string& name) const {
  for (const auto& p : params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const StepSpec* PipelineSpec::FindStep(const std::string& name) const {
  for (const auto& s : steps) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

StatusOr<int64_t> ParseDurationMs(const std::string& text) {
  static const std::regex kRe(R"(^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)?\s*$)");
  std::smatch m;
  if (!std::regex_match(text, m, kRe)) {
    return InvalidArgument(
        fmt::format("bad duration '{}' (expected e.g. 250ms, 30s, 10m, 2h)", text));
  }
  double n = std::stod(m[1].str());
  std::string unit = m[2].str();
  double scale = unit == "ms" ? 1 : unit == "m" ? 60e3 : unit == "h" ? 3600e3
                                 : unit == "d" ? 86400e3 : 1e3;
  return static_cast<int64_t>(n * scale);
}

namespace {

Mark MarkOf(const YAML::Node& node) {
  YAML::Mark m = node.Mark();
  if (m.is_null()) return {};
  return {m.line + 1, m.column + 1};
}

// Collects the parse context so every error names the file, line and column.
class SpecParser {
 public:
  SpecParser(std::string source) : source_(std::move(source)) {}

  Status Error(const Mark& mark, const std::string& what) const {
    if (mark.line == 0) return InvalidArgument(fmt::format("{}: {}", source_, what));
    return InvalidArgument(fmt::format("{}:{}:{}: {}", source_, mark.line, mark.column, what));
  }
  Status Error(const YAML::Node& node, const std::string& what) const {
    return Error(MarkOf(node), what);
  }

  StatusOr<std::string> Scalar(const YAML::Node& node, const std::string& what) const {
    if (!node.IsScalar()) return Error(node, fmt::format("{} must be a scalar", what));
    return node.Scalar();
  }

  StatusOr<std::vector<std::string>> StringList(const YAML::Node& node,
                                                const std::string& what) const {
    std::vector<std::string> out;
    if (node.IsScalar()) {
      out.push_back(node.Scalar());
      return out;
    }
    if (!node.IsSequence()) return Error(node, fmt::format("{} must be a list", what));
    for (const auto& item : node) {
      ASSIGN_OR_RETURN(std::string s, Scalar(item, fmt::format("each item of {}", what)));
      out.push_back(std::move(s));
    }
    return out;
  }

  StatusOr<std::map<std::string, std::string>> StringMap(const YAML::Node& node,
                                                        const std::string& what) const {
    std::map<std::string, std::string> out;
    if (!node.IsMap()) return Error(node, fmt::format("{} must be a mapping", what));
    for (const auto& kv : node) {
      ASSIGN_OR_RETURN(std::string v,
                       Scalar(kv.second, fmt::format("{}.{}", what, kv.first.Scalar())));
      out[kv.first.Scalar()] = v;
    }
    return out;
  }

  // A YAML node as a Value of the given type.
  StatusOr<Value> TypedValue(const YAML::Node& node, ParamType type,
                             const std::string& what) const {
    if (type == ParamType::kList) {
      if (!node.IsSequence()) return Error(node, fmt::format("{} must be a list", what));
      std::vector<Value> items;
      for (const auto& item : node) {
        if (!item.IsScalar()) return Error(item, fmt::format("items of {} must be scalars", what));
        items.push_back(Value::FromText(item.Scalar()));
      }
      return Value::List(std::move(items));
    }
    if (!node.IsScalar()) {
      return Error(node, fmt::format("{} must be a {}", what, ParamTypeName(type)));
    }
    auto typed = CoerceText(node.Scalar(), type);
    if (!typed.ok()) {
      return Error(node, fmt::format("{}: {}", what, typed.status().message()));
    }
    return *typed;
  }

  static StatusOr<Value> CoerceText(const std::string& text, ParamType type) {
    Value v = Value::FromText(text);
    switch (type) {
      case ParamType::kString:
        return Value::String(text);
      case ParamType::kInt:
        if (v.kind == Value::Kind::kInt) return v;
        break;
      case ParamType::kFloat:
        if (v.is_number()) return Value::Float(v.AsDouble());
        break;
      case ParamType::kBool:
        if (v.kind == Value::Kind::kBool) return v;
        break;
      case ParamType::kList: {
        std::vector<Value> items;
        std::stringstream ss(text);
        std::string item;
        while (std::getline(ss, item, ',')) items.push_back(Value::FromText(item));
        return Value::List(std::move(items));
      }
    }
    return InvalidArgument(
        fmt::format("'{}' is not a valid {}", text, ParamTypeName(type)));
  }

  StatusOr<PipelineSpec> Parse(const std::string& text, const std::string& base_dir) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      Mark m{e.mark.line + 1, e.mark.column + 1};
      if (e.mark.is_null()) m = {};
      return Error(m, fmt::format("malformed YAML: {}", e.msg));
    }
    try {
      return ParseRoot(root, base_dir);
    } catch (const YAML::Exception& e) {
      Mark m{e.mark.line + 1, e.mark.column + 1};
      if (e.mark.is_null()) m = {};
      return Error(m, fmt::format("invalid spec: {}", e.msg));
    }
  }

 private:
  StatusOr<PipelineSpec> ParseRoot(const YAML::Node& root, const std::string& base_dir) {
    if (!root.IsMap()) return Error(root, "a pipeline spec must be a mapping");
    PipelineSpec spec;
    spec.source_path = source_;
    spec.base_dir = base_dir;
    static const std::set<std::string> kKeys = {"name", "image", "params", "steps", "schedule",
                                                "description"};
    for (const auto& kv : root) {
      if (!kKeys.count(kv.first.Scalar())) {
        return Error(kv.first, fmt::format("unknown key '{}'", kv.first.Scalar()));
      }
    }
    if (root["name"]) {
      ASSIGN_OR_RETURN(spec.name, Scalar(root["name"], "name"));
      // The name becomes a folder (run state), an experiment and a URL segment.
      bool ok = !spec.name.empty() && spec.name.size() <= 100 &&
                std::isalnum(static_cast<unsigned char>(spec.name[0]));
      for (char c : spec.name) {
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                    c == '.');
      }
      if (!ok) {
        return Error(root["name"], fmt::format("bad pipeline name '{}' (a letter or digit, then "
                                               "letters, digits, '-', '_', '.'; at most 100)",
                                               spec.name));
      }
    } else {
      spec.name = "pipeline";
    }
    if (root["image"]) {
      ASSIGN_OR_RETURN(spec.image, Scalar(root["image"], "image"));
    }
    if (root["params"]) RETURN_IF_ERROR(ParseParams(root["params"], &spec));
    if (root["schedule"]) RETURN_IF_ERROR(ParseSchedule(root["schedule"], &spec));
    if (!root["steps"]) return Error(root, "missing 'steps'");
    RETURN_IF_ERROR(ParseSteps(root["steps"], &spec));
    RETURN_IF_ERROR(ResolveReferences(&spec));
    RETURN_IF_ERROR(CheckCycles(spec));
    return spec;
  }

  Status ParseParams(const YAML::Node& node, PipelineSpec* spec) {
    if (!node.IsMap()) return Error(node, "'params' must be a mapping of name to {type, default}");
    for (const auto& kv : node) {
      ParamSpec p;
      p.name = kv.first.Scalar();
      p.mark = MarkOf(kv.first);
      const YAML::Node& def = kv.second;
      YAML::Node default_node;
      std::string type_name;
      if (def.IsMap()) {
        for (const auto& f : def) {
          std::string k = f.first.Scalar();
          if (k != "type" && k != "default" && k != "description") {
            return Error(f.first, fmt::format("unknown key '{}' in param '{}'", k, p.name));
          }
        }
        if (def["type"]) {
          ASSIGN_OR_RETURN(type_name, Scalar(def["type"], "type"));
        }
        default_node = def["default"];
        if (!default_node) {
          return Error(kv.first, fmt::format("param '{}' has no default", p.name));
        }
      } else {
        default_node = def;  // `lr: 0.1` shorthand: type inferred from the value
      }
      if (type_name.empty()) {
        if (default_node.IsSequence()) {
          type_name = "list";
        } else {
          Value v = Value::FromText(default_node.IsScalar() ? default_node.Scalar() : "");
          type_name = v.kind == Value::Kind::kBool    ? "bool"
                      : v.kind == Value::Kind::kInt   ? "int"
                      : v.kind == Value::Kind::kFloat ? "float"
                                                      : "string";
        }
      }
      static const std::map<std::string, ParamType> kTypes = {
          {"string", ParamType::kString}, {"str", ParamType::kString},
          {"int", ParamType::kInt},       {"integer", ParamType::kInt},
          {"float", ParamType::kFloat},   {"number", ParamType::kFloat},
          {"bool", ParamType::kBool},     {"boolean", ParamType::kBool},
          {"list", ParamType::kList}};
      auto it = kTypes.find(type_name);
      if (it == kTypes.end()) {
        return Error(def["type"] ? def["type"] : kv.first,
                     fmt::format("param '{}': unknown type '{}' (string, int, float, bool, list)",
                                 p.name, type_name));
      }
      p.type = it->second;
      ASSIGN_OR_RETURN(p.default_value,
                       TypedValue(default_node, p.type, fmt::format("default of param '{}'",
                                                                    p.name)));
      spec->params.push_back(std::move(p));
    }
    return OkStatus();
  }

  Status ParseSchedule(const YAML::Node& node, PipelineSpec* spec) {
    ScheduleSpec s;
    if (node.IsScalar()) {
      s.cron = node.Scalar();
    } else if (node.IsMap()) {
      for (const auto& f : node) {
        std::string k = f.first.Scalar();
        if (k == "cron") {
          ASSIGN_OR_RETURN(s.cron, Scalar(f.second, "schedule.cron"));
        } else if (k == "timezone") {
          ASSIGN_OR_RETURN(s.timezone, Scalar(f.second, "schedule.timezone"));
        } else if (k == "allow_concurrent") {
          ASSIGN_OR_RETURN(Value v, TypedValue(f.second, ParamType::kBool,
                                               "schedule.allow_concurrent"));
          s.allow_concurrent = v.b;
        } else {
          return Error(f.first, fmt::format("unknown key '{}' in schedule", k));
        }
      }
    } else {
      return Error(node, "'schedule' must be a cron string or {cron, timezone}");
    }
    if (s.cron.empty()) return Error(node, "schedule needs 'cron'");
    spec->schedule = s;
    return OkStatus();
  }

  Status ParseSteps(const YAML::Node& node, PipelineSpec* spec) {
    if (!node.IsMap() || node.size() == 0) {
      return Error(node, "'steps' must be a non-empty mapping of step name to step");
    }
    static const std::regex kName("^[A-Za-z0-9][A-Za-z0-9_-]*$");
    for (const auto& kv : node) {
      StepSpec step;
      step.name = kv.first.Scalar();
      step.mark = MarkOf(kv.first);
      if (!std::regex_match(step.name, kName)) {
        return Error(kv.first, fmt::format("bad step name '{}' (letters, digits, '-', '_')",
                                           step.name));
      }
      if (spec->FindStep(step.name)) {
        return Error(kv.first, fmt::format("duplicate step '{}'", step.name));
      }
      RETURN_IF_ERROR(ParseStep(kv.first, kv.second, &step));
      spec->steps.push_back(std::move(step));
    }
    return OkStatus();
  }

  Status ParseStep(const YAML::Node& key, const YAML::Node& node, StepSpec* step) {
    if (!node.IsMap()) return Error(node, fmt::format("step '{}' must be a mapping", step->name));
    for (const auto& f : node) {
      std::string k = f.first.Scalar();
      const YAML::Node& v = f.second;
      std::string what = fmt::format("step '{}': '{}'", step->name, k);
      if (k == "run") {
        if (v.IsSequence()) {
          ASSIGN_OR_RETURN(step->run_argv, StringList(v, what));
          if (step->run_argv.empty()) return Error(v, what + " is empty");
        } else {
          ASSIGN_OR_RETURN(step->run_shell, Scalar(v, what));
          if (step->run_shell.empty()) return Error(v, what + " is empty");
        }
      } else if (k == "type") {
        ASSIGN_OR_RETURN(step->type, Scalar(v, what));
      } else if (k == "with") {
        ASSIGN_OR_RETURN(step->with, StringMap(v, what));
      } else if (k == "needs") {
        ASSIGN_OR_RETURN(step->needs, StringList(v, what));
        for (size_t i = 0; i < step->needs.size(); ++i) {
          needs_marks_[step->name].push_back(v.IsSequence() ? MarkOf(v[i]) : MarkOf(v));
        }
      } else if (k == "inputs") {
        ASSIGN_OR_RETURN(step->inputs, StringList(v, what));
        for (size_t i = 0; i < step->inputs.size(); ++i) {
          step->input_marks.push_back(v.IsSequence() ? MarkOf(v[i]) : MarkOf(v));
        }
      } else if (k == "outputs") {
        ASSIGN_OR_RETURN(step->outputs, StringList(v, what));
      } else if (k == "params") {
        ASSIGN_OR_RETURN(step->params, StringList(v, what));
        param_marks_[step->name] = MarkOf(v);
      } else if (k == "env") {
        ASSIGN_OR_RETURN(step->env, StringMap(v, what));
      } else if (k == "retries") {
        RETURN_IF_ERROR(ParseRetries(v, step));
      } else if (k == "timeout") {
        ASSIGN_OR_RETURN(std::string t, Scalar(v, what));
        auto ms = ParseDurationMs(t);
        if (!ms.ok()) return Error(v, ms.status().message());
        step->timeout_ms = *ms;
      } else if (k == "cache") {
        ASSIGN_OR_RETURN(Value b, TypedValue(v, ParamType::kBool, what));
        step->cache = b.b;
      } else if (k == "when") {
        ASSIGN_OR_RETURN(step->when_text, Scalar(v, what));
        auto e = ParseExpr(step->when_text);
        if (!e.ok()) {
          Mark m = MarkOf(v);
          return Error(m, fmt::format("step '{}': bad 'when' expression: {}", step->name,
                                      e.status().message()));
        }
        step->when = *e;
        when_marks_[step->name] = MarkOf(v);
      } else if (k == "foreach") {
        step->has_foreach = true;
        step->foreach_mark = MarkOf(v);
        if (v.IsSequence()) {
          ASSIGN_OR_RETURN(Value items, TypedValue(v, ParamType::kList, what));
          step->foreach_items = items.list;
        } else {
          static const std::regex kRef(R"(^\s*\$\{\s*params\.([A-Za-z0-9_-]+)\s*\}\s*$)");
          std::smatch m;
          std::string s = v.IsScalar() ? v.Scalar() : "";
          if (!std::regex_match(s, m, kRef)) {
            return Error(v, what + " must be a list or ${params.<list param>}");
          }
          step->foreach_param = m[1].str();
        }
      } else if (k == "description") {
        // Documentation only.
      } else {
        return Error(f.first, fmt::format("step '{}': unknown key '{}'", step->name, k));
      }
    }
    bool has_run = !step->run_shell.empty() || !step->run_argv.empty();
    if (has_run == !step->type.empty()) {
      return Error(key, fmt::format("step '{}' needs exactly one of 'run' or 'type'",
                                    step->name));
    }
    return OkStatus();
  }

  Status ParseRetries(const YAML::Node& v, StepSpec* step) {
    std::string what = fmt::format("step '{}': 'retries'", step->name);
    if (v.IsScalar()) {
      ASSIGN_OR_RETURN(Value n, TypedValue(v, ParamType::kInt, what));
      if (n.i < 0) return Error(v, what + " must be >= 0");
      step->retries.limit = static_cast<int>(n.i);
      return OkStatus();
    }
    if (!v.IsMap()) return Error(v, what + " must be a count or {limit, backoff, factor, max_backoff}");
    for (const auto& f : v) {
      std::string k = f.first.Scalar();
      if (k == "limit") {
        ASSIGN_OR_RETURN(Value n, TypedValue(f.second, ParamType::kInt, what + ".limit"));
        if (n.i < 0) return Error(f.second, what + ".limit must be >= 0");
        step->retries.limit = static_cast<int>(n.i);
      } else if (k == "backoff" || k == "max_backoff") {
        ASSIGN_OR_RETURN(std::string t, Scalar(f.second, what + "." + k));
        auto ms = ParseDurationMs(t);
        if (!ms.ok()) return Error(f.second, ms.status().message());
        (k == "backoff" ? step->retries.backoff_ms : step->retries.max_backoff_ms) = *ms;
      } else if (k == "factor") {
        ASSIGN_OR_RETURN(Value n, TypedValue(f.second, ParamType::kFloat, what + ".factor"));
        if (n.d < 1) return Error(f.second, what + ".factor must be >= 1");
        step->retries.factor = n.d;
      } else {
        return Error(f.first, fmt::format("{}: unknown key '{}'", what, k));
      }
    }
    return OkStatus();
  }

  // Finds ${params.x} (and checks ${...} forms) in a templated string.
  Status ScanTemplate(const std::string& text, const StepSpec& step, std::set<std::string>* used,
                      const PipelineSpec& spec) {
    static const std::regex kRef(R"(\$\{\s*([^}]*?)\s*\})");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), kRef);
         it != std::sregex_iterator(); ++it) {
      std::string ref = (*it)[1].str();
      if (ref == "item") {
        if (!step.has_foreach) {
          return Error(step.mark, fmt::format("step '{}' uses ${{item}} but has no 'foreach'",
                                              step.name));
        }
        continue;
      }
      if (ref.rfind("params.", 0) == 0) {
        std::string name = ref.substr(7);
        if (!spec.FindParam(name)) {
          return Error(step.mark,
                       fmt::format("step '{}' refers to undefined param '{}'", step.name, name));
        }
        used->insert(name);
        continue;
      }
      return Error(step.mark, fmt::format("step '{}': unknown reference '${{{}}}' (expected "
                                          "${{params.<name>}} or ${{item}})",
                                          step.name, ref));
    }
    return OkStatus();
  }

  Status ResolveReferences(PipelineSpec* spec) {
    // Outputs by path, for implicit edges (a step reading another's output depends on it).
    std::map<std::string, std::string> producer;
    for (const auto& s : spec->steps) {
      for (const auto& o : s.outputs) producer[o] = s.name;
    }
    for (auto& step : spec->steps) {
      auto& nm = needs_marks_[step.name];
      for (size_t i = 0; i < step.needs.size(); ++i) {
        if (!spec->FindStep(step.needs[i])) {
          return Error(i < nm.size() ? nm[i] : step.mark,
                       fmt::format("step '{}' needs unknown step '{}'", step.name, step.needs[i]));
        }
        if (step.needs[i] == step.name) {
          return Error(i < nm.size() ? nm[i] : step.mark,
                       fmt::format("cycle: {} -> {}", step.name, step.name));
        }
      }
      std::set<std::string> used(step.params.begin(), step.params.end());
      for (const auto& p : step.params) {
        if (!spec->FindParam(p)) {
          return Error(param_marks_.count(step.name) ? param_marks_[step.name] : step.mark,
                       fmt::format("step '{}' uses undefined param '{}'", step.name, p));
        }
      }
      std::vector<const std::string*> texts = {&step.run_shell};
      for (const auto& a : step.run_argv) texts.push_back(&a);
      for (const auto& a : step.inputs) texts.push_back(&a);
      for (const auto& a : step.outputs) texts.push_back(&a);
      for (const auto& [k, v] : step.env) texts.push_back(&v);
      for (const auto& [k, v] : step.with) texts.push_back(&v);
      for (const auto* t : texts) RETURN_IF_ERROR(ScanTemplate(*t, step, &used, *spec));
      if (!step.foreach_param.empty()) {
        const ParamSpec* p = spec->FindParam(step.foreach_param);
        if (!p) {
          return Error(step.foreach_mark, fmt::format("step '{}': foreach refers to undefined "
                                                      "param '{}'",
                                                      step.name, step.foreach_param));
        }
        if (p->type != ParamType::kList) {
          return Error(step.foreach_mark,
                       fmt::format("step '{}': foreach param '{}' is a {}, not a list",
                                   step.name, p->name, ParamTypeName(p->type)));
        }
        used.insert(p->name);
      }
      if (step.when) {
        std::vector<const Expr*> refs;
        CollectRefs(*step.when, &refs);
        Mark wm = when_marks_[step.name];
        for (const Expr* r : refs) {
          if (r->op == Expr::Op::kParam) {
            if (!spec->FindParam(r->key)) {
              return Error(wm, fmt::format("step '{}': 'when' refers to undefined param '{}'",
                                           step.name, r->key));
            }
            used.insert(r->key);
          } else {
            if (!spec->FindStep(r->step)) {
              return Error(wm, fmt::format("step '{}': 'when' refers to unknown step '{}'",
                                           step.name, r->step));
            }
            if (r->step == step.name) {
              return Error(wm, fmt::format("step '{}': 'when' refers to its own outputs",
                                           step.name));
            }
            if (std::find(step.needs.begin(), step.needs.end(), r->step) == step.needs.end()) {
              step.needs.push_back(r->step);
            }
          }
        }
      }
      for (const auto& in : step.inputs) {
        auto it = producer.find(in);
        if (it != producer.end() && it->second != step.name &&
            std::find(step.needs.begin(), step.needs.end(), it->second) == step.needs.end()) {
          step.needs.push_back(it->second);
        }
      }
      step.params.assign(used.begin(), used.end());
    }
    return OkStatus();
  }

  Status CheckCycles(const PipelineSpec& spec) {
    std::map<std::string, int> color;  // 0 white, 1 on stack, 2 done
    std::vector<std::string> stack;
    std::function<Status(const StepSpec&)> visit = [&](const StepSpec& s) -> Status {
      color[s.name] = 1;
      stack.push_back(s.name);
      for (const auto& n : s.needs) {
        if (color[n] == 1) {
          auto start = std::find(stack.begin(), stack.end(), n);
          std::string path;
          for (auto it = start; it != stack.end(); ++it) path += *it + " -> ";
          path += n;
          const StepSpec* first = spec.FindStep(n);
          return Error(first->mark, "dependency cycle: " + path);
        }
        if (color[n] == 0) RETURN_IF_ERROR(visit(*spec.FindStep(n)));
      }
      stack.pop_back();
      color[s.name] = 2;
      return OkStatus();
    };
    for (const auto& s : spec.steps) {
      if (color[s.name] == 0) RETURN_IF_ERROR(visit(s));
    }
    return OkStatus();
  }

  std::string source_;
  std::map<std::string, std::vector<Mark>> needs_marks_;
  std::map<std::string, Mark> param_marks_;
  std::map<std::string, Mark> when_marks_;
};

}  // namespace

StatusOr<PipelineSpec> ParseSpec(const std::string& yaml_text, const std::string& source_name,
                                 const std::string& base_dir) {
  return SpecParser(source_name).Parse(yaml_text, base_dir);
}

StatusOr<PipelineSpec> LoadSpec(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(fmt::format("cannot read pipeline spec '{}'", path));
  std::stringstream ss;
  ss << in.rdbuf();
  std::filesystem::path p(path);
  std::error_code ec;
  auto abs = std::filesystem::absolute(p, ec);
  std::string base = (ec ? p : abs).parent_path().string();
  return ParseSpec(ss.str(), path, base.empty() ? "." : base);
}

StatusOr<std::pair<std::string, Value>> ParseParamOverride(const PipelineSpec& spec,
                                                           const std::string& assignment) {
  size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    return InvalidArgument(fmt::format("--param '{}': expected name=value", assignment));
  }
  std::string name = assignment.substr(0, eq);
  const ParamSpec* p = spec.FindParam(name);
  if (!p) return InvalidArgument(fmt::format("--param: unknown param '{}'", name));
  auto v = SpecParser::CoerceText(assignment.substr(eq + 1), p->type);
  if (!v.ok()) {
    return InvalidArgument(fmt::format("--param {}: {} (param '{}' is a {})", name,
                                       v.status().message(), name, ParamTypeName(p->type)));
  }
  return std::make_pair(name, *v);
}

}  // namespace cairn::pipeline
