#include "pipeline/compile.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "common/sha256.h"
#include "pipeline/cache.h"
#include "pipeline/executor.h"
#include "pipeline/plan.h"

namespace cairn::pipeline {
namespace {

using ojson = nlohmann::ordered_json;

// --- YAML output -------------------------------------------------------------------------

// True when a plain YAML scalar with this text would not read back as the same string.
bool NeedsQuotes(const std::string& s) {
  if (s.empty()) return true;
  static const std::set<std::string> kSpecial = {
      "null", "Null", "NULL", "~",   "true", "True", "TRUE", "false", "False", "FALSE",
      "yes",  "Yes",  "YES",  "no",  "No",   "NO",   "on",   "On",    "ON",    "off",
      "Off",  "OFF",  "y",    "Y",   "n",    "N",    ".nan", ".inf",  "-.inf"};
  if (kSpecial.count(s)) return true;
  return Value::FromText(s).kind != Value::Kind::kString;
}

void EmitYaml(YAML::Emitter& out, const ojson& j) {
  if (j.is_object()) {
    out << YAML::BeginMap;
    for (auto it = j.begin(); it != j.end(); ++it) {
      out << YAML::Key << it.key() << YAML::Value;
      EmitYaml(out, it.value());
    }
    out << YAML::EndMap;
  } else if (j.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& x : j) EmitYaml(out, x);
    out << YAML::EndSeq;
  } else if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (NeedsQuotes(s)) out << YAML::DoubleQuoted;
    out << s;
  } else if (j.is_boolean()) {
    out << (j.get<bool>() ? "true" : "false");
  } else if (j.is_null()) {
    out << YAML::Null;
  } else {
    out << j.dump();
  }
}

std::string Render(const ojson& doc, bool json) {
  if (json) return doc.dump(2) + "\n";
  YAML::Emitter out;
  EmitYaml(out, doc);
  return std::string(out.c_str()) + "\n";
}

// --- Shared planning ---------------------------------------------------------------------

// Names usable as Argo template/task names and KFP component names.
std::string DnsName(const std::string& name) {
  std::string out;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    out += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-';
  }
  return out;
}

std::string MillisText(int64_t ms) {
  if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

// The compiled view of one spec step: its instances' cache keys and which upstream step
// produces each of its inputs.
struct CompiledStep {
  const StepSpec* spec = nullptr;
  std::string dns;
  std::vector<const PlannedStep*> instances;
  std::vector<std::string> keys;             // aligned with instances
  std::map<std::string, std::string> input_producer;  // input path → producing spec step
  std::set<std::string> output_params;       // keys read by downstream `when`s
};

struct Compiled {
  Plan plan;
  std::vector<CompiledStep> steps;  // spec order
  std::map<std::string, size_t> index;
  std::string image;
};

StatusOr<Compiled> Prepare(const PipelineSpec& spec, const CompileOptions& options) {
  Compiled c;
  ASSIGN_OR_RETURN(c.plan, MakePlan(spec, options.params));
  c.image = spec.image.empty() ? options.default_image : spec.image;
  std::set<std::string> used_dns;
  for (const auto& s : spec.steps) {
    CompiledStep cs;
    cs.spec = &s;
    cs.dns = DnsName(s.name);
    while (!used_dns.insert(cs.dns).second) cs.dns += "-x";
    c.index[s.name] = c.steps.size();
    c.steps.push_back(std::move(cs));
  }
  std::map<std::string, std::string> producer;  // output path (uninterpolated) → step
  for (const auto& s : spec.steps) {
    for (const auto& o : s.outputs) producer[o] = s.name;
  }
  for (const auto& s : spec.steps) {
    CompiledStep& cs = c.steps[c.index[s.name]];
    for (const auto& in : s.inputs) {
      auto it = producer.find(in);
      if (it != producer.end() && it->second != s.name) cs.input_producer[in] = it->second;
    }
    if (s.when) {
      std::vector<const Expr*> refs;
      CollectRefs(*s.when, &refs);
      for (const Expr* r : refs) {
        if (r->op == Expr::Op::kStepOutput) c.steps[c.index[r->step]].output_params.insert(r->key);
      }
    }
  }
  // Cache keys in plan (topological) order. Inputs present here hash by content, exactly as
  // `cairn pipeline run` would; inputs another step produces stand for that step's key.
  HashMemo memo(spec.base_dir + "/.cairn/pipelines/cache/hashes.tsv");  // read, never saved
  std::map<std::string, std::string> key_of_output;  // resolved output path → producer's key
  for (const auto& p : c.plan.steps) {
    std::vector<std::string> hashes;
    for (const auto& in : p.inputs) {
      std::string abs = (std::filesystem::path(spec.base_dir) / in).lexically_normal().string();
      auto h = memo.Hash(abs);
      if (h.ok()) {
        hashes.push_back(*h);
      } else if (key_of_output.count(in)) {
        hashes.push_back("step-key:" + key_of_output[in]);
      } else {
        hashes.push_back("absent");
      }
    }
    std::string key = Sha256Hex(CacheKeyText(p, hashes, std::string(CairnVersion())));
    for (const auto& o : p.outputs) key_of_output[o] = key;
    CompiledStep& cs = c.steps[c.index[p.step_name]];
    cs.instances.push_back(&p);
    cs.keys.push_back(key);
  }
  return c;
}

// --- Argo --------------------------------------------------------------------------------

constexpr const char* kOutputsDir = "/tmp/cairn-outputs";

// A step resolves its inputs and outputs against the spec's folder (PipelineSpec::base_dir),
// so its container works there and Argo places and collects the artifacts there.
// A step container's environment: where the step writes its output values, the tracking
// server when one is configured, then the step's own env (which may override it).
ojson ContainerEnv(const StepSpec& s, const CompileOptions& options) {
  ojson env = ojson::array();
  env.push_back({{"name", "CAIRN_OUTPUTS_DIR"}, {"value", kOutputsDir}});
  if (!options.tracking_uri.empty() && !s.env.contains("MLFLOW_TRACKING_URI")) {
    env.push_back({{"name", "MLFLOW_TRACKING_URI"}, {"value", options.tracking_uri}});
  }
  for (const auto& [k, v] : s.env) env.push_back({{"name", k}, {"value", v}});
  return env;
}

std::string SpecDirInImage(const CompileOptions& options) {
  return std::filesystem::path(options.spec_path_in_image).lexically_normal().parent_path().string();
}

std::string InSpecDir(const CompileOptions& options, const std::string& rel) {
  return (std::filesystem::path(SpecDirInImage(options)) / rel).lexically_normal().string();
}

std::string ArgoRef(const Compiled& c, const Expr& ref) {
  if (ref.op == Expr::Op::kParam) return "{{workflow.parameters." + ref.key + "}}";
  return fmt::format("{{{{tasks.{}.outputs.parameters.{}}}}}", c.steps[c.index.at(ref.step)].dns,
                     ref.key);
}

ojson ArgoTemplate(const Compiled& c, const CompiledStep& cs, const CompileOptions& options) {
  const StepSpec& s = *cs.spec;
  ojson t;
  t["name"] = cs.dns;
  ojson in_params = ojson::array();
  for (const auto& p : s.params) in_params.push_back({{"name", p}});
  if (s.has_foreach) in_params.push_back({{"name", "cairn-instance"}});
  if (s.cache) in_params.push_back({{"name", "cairn-cache-key"}});
  ojson in_artifacts = ojson::array();
  for (size_t i = 0; i < s.inputs.size(); ++i) {
    auto it = cs.input_producer.find(s.inputs[i]);
    if (it == cs.input_producer.end()) continue;
    if (c.steps[c.index.at(it->second)].spec->has_foreach) continue;
    in_artifacts.push_back({{"name", fmt::format("in-{}", i)},
                            {"path", InSpecDir(options, s.inputs[i])}});
  }
  ojson inputs = ojson::object();
  if (!in_params.empty()) inputs["parameters"] = in_params;
  if (!in_artifacts.empty()) inputs["artifacts"] = in_artifacts;
  if (!inputs.empty()) t["inputs"] = inputs;

  ojson outputs = ojson::object();
  if (!cs.output_params.empty()) {
    ojson ps = ojson::array();
    for (const auto& k : cs.output_params) {
      ps.push_back({{"name", k}, {"valueFrom", {{"path", fmt::format("{}/{}", kOutputsDir, k)}}}});
    }
    outputs["parameters"] = ps;
  }
  if (!s.outputs.empty() && !s.has_foreach) {
    ojson as = ojson::array();
    for (size_t i = 0; i < s.outputs.size(); ++i) {
      as.push_back({{"name", fmt::format("out-{}", i)},
                    {"path", InSpecDir(options, s.outputs[i])}});
    }
    outputs["artifacts"] = as;
  }
  if (!outputs.empty()) t["outputs"] = outputs;

  if (s.retries.limit > 0) {
    t["retryStrategy"] = {
        {"limit", std::to_string(s.retries.limit)},
        {"retryPolicy", "Always"},
        {"backoff",
         {{"duration", MillisText(s.retries.backoff_ms)},
          {"factor", fmt::format("{}", static_cast<int64_t>(s.retries.factor))},
          {"cap", MillisText(s.retries.max_backoff_ms)}}}};
  }
  if (s.timeout_ms > 0) {
    t["activeDeadlineSeconds"] = std::to_string((s.timeout_ms + 999) / 1000);
  }
  if (s.cache) {
    t["memoize"] = {{"key", "{{inputs.parameters.cairn-cache-key}}"},
                    {"maxAge", options.memoize_max_age},
                    {"cache", {{"configMap", {{"name", options.cache_config_map}}}}}};
  }
  ojson command = {"cairn", "pipeline", "step", options.spec_path_in_image,
                   s.has_foreach ? "{{inputs.parameters.cairn-instance}}" : s.name};
  for (const auto& p : s.params) {
    command.push_back("--param");
    command.push_back(fmt::format("{}={{{{inputs.parameters.{}}}}}", p, p));
  }
  // Argo names a container template's container "main"; the API schema requires a name.
  ojson container = {{"name", "main"}, {"image", c.image}, {"command", command},
                     {"workingDir", SpecDirInImage(options)}};
  container["env"] = ContainerEnv(s, options);
  t["container"] = container;
  return t;
}

ojson ArgoTask(const Compiled& c, const CompiledStep& cs) {
  const StepSpec& s = *cs.spec;
  ojson task;
  task["name"] = cs.dns;
  task["template"] = cs.dns;
  if (!s.needs.empty()) {
    std::string depends;
    for (const auto& n : s.needs) {
      depends += (depends.empty() ? "" : " && ") + c.steps[c.index.at(n)].dns;
    }
    task["depends"] = depends;
  }
  if (s.when) {
    task["when"] = RenderExpr(*s.when, [&](const Expr& r) { return ArgoRef(c, r); });
  }
  ojson params = ojson::array();
  for (const auto& p : s.params) {
    params.push_back({{"name", p}, {"value", "{{workflow.parameters." + p + "}}"}});
  }
  if (s.has_foreach) {
    params.push_back({{"name", "cairn-instance"}, {"value", "{{item.instance}}"}});
    if (s.cache) params.push_back({{"name", "cairn-cache-key"}, {"value", "{{item.key}}"}});
    ojson items = ojson::array();
    for (size_t i = 0; i < cs.instances.size(); ++i) {
      items.push_back({{"instance", cs.instances[i]->name}, {"key", cs.keys[i]}});
    }
    task["withItems"] = items;
  } else if (s.cache) {
    params.push_back({{"name", "cairn-cache-key"}, {"value", cs.keys.at(0)}});
  }
  ojson artifacts = ojson::array();
  for (size_t i = 0; i < s.inputs.size(); ++i) {
    auto it = cs.input_producer.find(s.inputs[i]);
    if (it == cs.input_producer.end()) continue;
    const CompiledStep& prod = c.steps[c.index.at(it->second)];
    if (prod.spec->has_foreach) continue;
    size_t out_index = 0;
    for (size_t k = 0; k < prod.spec->outputs.size(); ++k) {
      if (prod.spec->outputs[k] == s.inputs[i]) out_index = k;
    }
    artifacts.push_back({{"name", fmt::format("in-{}", i)},
                         {"from", fmt::format("{{{{tasks.{}.outputs.artifacts.out-{}}}}}",
                                              prod.dns, out_index)}});
  }
  ojson args = ojson::object();
  if (!params.empty()) args["parameters"] = params;
  if (!artifacts.empty()) args["artifacts"] = artifacts;
  if (!args.empty()) task["arguments"] = args;
  return task;
}

// --- KFP ---------------------------------------------------------------------------------

std::string KfpType(ParamType t) {
  switch (t) {
    case ParamType::kInt:
      return "NUMBER_INTEGER";
    case ParamType::kFloat:
      return "NUMBER_DOUBLE";
    case ParamType::kBool:
      return "BOOLEAN";
    case ParamType::kList:
      return "LIST";
    default:
      return "STRING";
  }
}

ojson KfpValue(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kBool:
      return v.b;
    case Value::Kind::kInt:
      return v.i;
    case Value::Kind::kFloat:
      return v.d;
    case Value::Kind::kList: {
      ojson a = ojson::array();
      for (const auto& x : v.list) a.push_back(KfpValue(x));
      return a;
    }
    default:
      return v.ToText();
  }
}

std::string ChannelName(const Expr& r) {
  if (r.op == Expr::Op::kParam) return "pipelinechannel--" + r.key;
  return "pipelinechannel--" + r.step + "-" + r.key;
}

// Renders a `when` as CEL over the task's inputs (KFP's triggerPolicy.condition). Step
// outputs are strings; comparisons with a number literal convert them with double().
std::string KfpCondition(const Expr& e) {
  auto ref = [](const Expr& r, bool numeric) {
    std::string v = fmt::format("inputs.parameter_values['{}']", ChannelName(r));
    return numeric ? "double(" + v + ")" : v;
  };
  switch (e.op) {
    case Expr::Op::kLiteral:
      if (e.literal.kind == Value::Kind::kString) return "'" + e.literal.s + "'";
      if (e.literal.kind == Value::Kind::kInt) return fmt::format("{}.0", e.literal.i);
      return e.literal.ToText();
    case Expr::Op::kStepOutput:
    case Expr::Op::kParam:
      return ref(e, false);
    case Expr::Op::kNot:
      return "!(" + KfpCondition(*e.lhs) + ")";
    case Expr::Op::kAnd:
      return "(" + KfpCondition(*e.lhs) + " && " + KfpCondition(*e.rhs) + ")";
    case Expr::Op::kOr:
      return "(" + KfpCondition(*e.lhs) + " || " + KfpCondition(*e.rhs) + ")";
    default: {
      static const std::map<Expr::Op, std::string> kSym = {
          {Expr::Op::kEq, "=="}, {Expr::Op::kNe, "!="}, {Expr::Op::kLt, "<"},
          {Expr::Op::kLe, "<="}, {Expr::Op::kGt, ">"},  {Expr::Op::kGe, ">="}};
      bool numeric = (e.lhs->op == Expr::Op::kLiteral && e.lhs->literal.is_number()) ||
                     (e.rhs->op == Expr::Op::kLiteral && e.rhs->literal.is_number());
      auto side = [&](const Expr& x) {
        if (x.op == Expr::Op::kStepOutput || x.op == Expr::Op::kParam) return ref(x, numeric);
        return KfpCondition(x);
      };
      return "(" + side(*e.lhs) + " " + kSym.at(e.op) + " " + side(*e.rhs) + ")";
    }
  }
}

}  // namespace

StatusOr<std::string> CompileArgo(const PipelineSpec& spec, const CompileOptions& options) {
  if (!std::filesystem::path(options.spec_path_in_image).is_absolute()) {
    return InvalidArgument("the spec path in the image must be absolute, got '" +
                           options.spec_path_in_image + "'");
  }
  ASSIGN_OR_RETURN(Compiled c, Prepare(spec, options));
  ojson wf_spec;
  wf_spec["entrypoint"] = "main";
  if (!spec.params.empty()) {
    ojson ps = ojson::array();
    for (const auto& p : spec.params) {
      const Value& v = c.plan.params.at(p.name);
      ps.push_back({{"name", p.name}, {"value", v.ToText()}});
    }
    wf_spec["arguments"] = {{"parameters", ps}};
  }
  ojson tasks = ojson::array();
  for (const auto& cs : c.steps) tasks.push_back(ArgoTask(c, cs));
  ojson templates = ojson::array();
  templates.push_back({{"name", "main"}, {"dag", {{"tasks", tasks}}}});
  for (const auto& cs : c.steps) templates.push_back(ArgoTemplate(c, cs, options));
  wf_spec["templates"] = templates;

  std::string name = DnsName(spec.name);
  ojson doc;
  doc["apiVersion"] = "argoproj.io/v1alpha1";
  if (spec.schedule) {
    doc["kind"] = "CronWorkflow";
    doc["metadata"] = {{"name", name}};
    ojson cron = {{"schedules", {spec.schedule->cron}}};
    if (!spec.schedule->timezone.empty()) cron["timezone"] = spec.schedule->timezone;
    cron["concurrencyPolicy"] = spec.schedule->allow_concurrent ? "Allow" : "Forbid";
    cron["workflowSpec"] = wf_spec;
    doc["spec"] = cron;
  } else {
    doc["kind"] = "Workflow";
    doc["metadata"] = {{"generateName", name + "-"}};
    doc["spec"] = wf_spec;
  }
  doc["metadata"]["labels"] = {{"cairn.dev/pipeline", name}};
  return Render(doc, options.json);
}

StatusOr<std::string> CompileKfp(const PipelineSpec& spec, const CompileOptions& options) {
  ASSIGN_OR_RETURN(Compiled c, Prepare(spec, options));
  ojson components = ojson::object();
  ojson executors = ojson::object();
  ojson tasks = ojson::object();
  for (const auto& cs : c.steps) {
    const StepSpec& s = *cs.spec;
    std::string comp = "comp-" + cs.dns, exec = "exec-" + cs.dns;
    ojson in_defs = ojson::object();
    ojson task_params = ojson::object();
    for (const auto& p : s.params) {
      in_defs[p] = {{"parameterType", KfpType(spec.FindParam(p)->type)}};
      task_params[p] = {{"componentInputParameter", p}};
    }
    if (s.when) {
      std::vector<const Expr*> refs;
      CollectRefs(*s.when, &refs);
      for (const Expr* r : refs) {
        std::string ch = ChannelName(*r);
        if (r->op == Expr::Op::kParam) {
          in_defs[ch] = {{"parameterType", KfpType(spec.FindParam(r->key)->type)}};
          task_params[ch] = {{"componentInputParameter", r->key}};
        } else {
          in_defs[ch] = {{"parameterType", "STRING"}};
          task_params[ch] = {{"taskOutputParameter",
                              {{"producerTask", c.steps[c.index.at(r->step)].dns},
                               {"outputParameterKey", r->key}}}};
        }
      }
    }
    if (s.has_foreach) in_defs["cairn-instance"] = {{"parameterType", "STRING"}};
    ojson component = {{"executorLabel", exec}};
    if (!in_defs.empty()) component["inputDefinitions"] = {{"parameters", in_defs}};
    if (!cs.output_params.empty()) {
      ojson outs = ojson::object();
      for (const auto& k : cs.output_params) outs[k] = {{"parameterType", "STRING"}};
      component["outputDefinitions"] = {{"parameters", outs}};
    }
    components[comp] = component;

    ojson args = ojson::array();
    for (const auto& p : s.params) {
      args.push_back("--param");
      args.push_back(fmt::format("{}={{{{$.inputs.parameters['{}']}}}}", p, p));
    }
    ojson command = {"cairn", "pipeline", "step", options.spec_path_in_image,
                     s.has_foreach ? "{{$.inputs.parameters['cairn-instance']}}" : s.name};
    ojson container = {{"image", c.image}, {"command", command}, {"args", args}};
    container["env"] = ContainerEnv(s, options);
    executors[exec] = {{"container", container}};

    ojson task = {{"taskInfo", {{"name", s.name}}}, {"componentRef", {{"name", comp}}}};
    if (!s.needs.empty()) {
      ojson deps = ojson::array();
      for (const auto& n : s.needs) deps.push_back(c.steps[c.index.at(n)].dns);
      task["dependentTasks"] = deps;
    }
    if (!task_params.empty()) task["inputs"] = {{"parameters", task_params}};
    task["cachingOptions"] = {{"enableCache", s.cache}};
    if (s.retries.limit > 0) {
      task["retryPolicy"] = {{"maxRetryCount", s.retries.limit},
                             {"backoffDuration", MillisText(s.retries.backoff_ms)},
                             {"backoffFactor", s.retries.factor},
                             {"backoffMaxDuration", MillisText(s.retries.max_backoff_ms)}};
    }
    if (s.when) task["triggerPolicy"] = {{"condition", KfpCondition(*s.when)}};
    if (s.has_foreach) {
      ojson items = ojson::array();
      for (const auto* inst : cs.instances) items.push_back(inst->name);
      task["parameterIterator"] = {{"items", {{"raw", items.dump()}}},
                                   {"itemInput", "cairn-instance"}};
    }
    tasks[cs.dns] = task;
  }
  ojson root_params = ojson::object();
  for (const auto& p : spec.params) {
    root_params[p.name] = {{"parameterType", KfpType(p.type)},
                           {"defaultValue", KfpValue(c.plan.params.at(p.name))}};
  }
  ojson root = {{"dag", {{"tasks", tasks}}}};
  if (!root_params.empty()) root["inputDefinitions"] = {{"parameters", root_params}};
  ojson doc;
  doc["pipelineInfo"] = {{"name", DnsName(spec.name)}};
  doc["components"] = components;
  doc["deploymentSpec"] = {{"executors", executors}};
  doc["root"] = root;
  doc["schemaVersion"] = "2.1.0";
  doc["sdkVersion"] = "cairn-" + std::string(CairnVersion());
  return Render(doc, options.json);
}

}  // namespace cairn::pipeline
