// Spec parsing, validation errors (with line and column), expressions and planning.

#include <gtest/gtest.h>

#include "pipeline/expr.h"
#include "pipeline/plan.h"
#include "pipeline/spec.h"
#include "pipeline/step_types.h"

namespace cairn::pipeline {
namespace {

StatusOr<PipelineSpec> Parse(const std::string& yaml) { return ParseSpec(yaml, "p.yaml", "/tmp"); }

std::string ErrorOf(const std::string& yaml) {
  auto spec = Parse(yaml);
  EXPECT_FALSE(spec.ok()) << "expected an error for:\n" << yaml;
  return spec.ok() ? "" : spec.status().message();
}

TEST(SpecTest, ParsesEveryField) {
  auto spec = Parse(R"(
name: train
image: ghcr.io/acme/cairn:1
schedule: {cron: "0 2 * * *", timezone: Europe/Paris}
params:
  lr: {type: float, default: 0.1}
  depth: 6
  regions: {type: list, default: [eu, us]}
  fast: {type: bool, default: false}
steps:
  prep:
    run: "prep --lr ${params.lr}"
    inputs: [data/raw.csv]
    outputs: [out/clean.csv]
    env: {OMP_NUM_THREADS: "1"}
    retries: {limit: 2, backoff: 250ms, factor: 3, max_backoff: 2s}
    timeout: 1m
    cache: false
  train:
    foreach: ${params.regions}
    run: [train, --region, "${item}"]
    inputs: [out/clean.csv]
    params: [depth]
  evaluate:
    needs: [train]
    run: evaluate
  register:
    when: steps.evaluate.outputs.auc > 0.8 and not params.fast
    type: ingest
    with: {path: "x.csv"}
)");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->name, "train");
  EXPECT_EQ(spec->image, "ghcr.io/acme/cairn:1");
  ASSERT_TRUE(spec->schedule.has_value());
  EXPECT_EQ(spec->schedule->cron, "0 2 * * *");
  EXPECT_EQ(spec->schedule->timezone, "Europe/Paris");
  ASSERT_EQ(spec->params.size(), 4u);
  EXPECT_EQ(spec->FindParam("lr")->type, ParamType::kFloat);
  EXPECT_EQ(spec->FindParam("depth")->type, ParamType::kInt);  // inferred from `depth: 6`
  EXPECT_EQ(spec->FindParam("depth")->default_value.i, 6);
  EXPECT_EQ(spec->FindParam("regions")->default_value.list.size(), 2u);
  EXPECT_EQ(spec->FindParam("fast")->default_value.kind, Value::Kind::kBool);

  const StepSpec* prep = spec->FindStep("prep");
  ASSERT_NE(prep, nullptr);
  EXPECT_EQ(prep->mark.line, 11);
  EXPECT_EQ(prep->run_shell, "prep --lr ${params.lr}");
  EXPECT_EQ(prep->params, std::vector<std::string>{"lr"});  // found in `run`
  EXPECT_EQ(prep->env.at("OMP_NUM_THREADS"), "1");
  EXPECT_EQ(prep->retries.limit, 2);
  EXPECT_EQ(prep->retries.backoff_ms, 250);
  EXPECT_EQ(prep->retries.factor, 3);
  EXPECT_EQ(prep->retries.max_backoff_ms, 2000);
  EXPECT_EQ(prep->timeout_ms, 60000);
  EXPECT_FALSE(prep->cache);

  const StepSpec* train = spec->FindStep("train");
  EXPECT_EQ(train->run_argv, (std::vector<std::string>{"train", "--region", "${item}"}));
  EXPECT_EQ(train->foreach_param, "regions");
  // Reading prep's output makes an implicit edge.
  EXPECT_EQ(train->needs, std::vector<std::string>{"prep"});
  EXPECT_EQ(train->params, (std::vector<std::string>{"depth", "regions"}));

  const StepSpec* reg = spec->FindStep("register");
  EXPECT_EQ(reg->type, "ingest");
  ASSERT_TRUE(reg->when);
  // The step a `when` reads becomes a dependency.
  EXPECT_EQ(reg->needs, std::vector<std::string>{"evaluate"});
  EXPECT_EQ(reg->params, std::vector<std::string>{"fast"});
}

TEST(SpecTest, MalformedYamlNamesLineAndColumn) {
  // Line 4 opens a flow sequence that is never closed. The parser notices at the end of the
  // stream, line 5 column 1; PyYAML reports the same place ("expected ',' or ']', but got
  // '<stream end>' in line 5, column 1").
  std::string msg = ErrorOf("steps:\n  a:\n    run: x\n    needs: [a, b\n");
  EXPECT_NE(msg.find("p.yaml:5:1: malformed YAML: end of sequence flow not found"),
            std::string::npos)
      << msg;
  // A tab where indentation is expected: line 3, column 1 (PyYAML: "found character '\\t'
  // that cannot start any token", line 3, column 1).
  std::string tab = ErrorOf("steps:\n  a: {run: x}\n\tb: {run: y}\n");
  EXPECT_NE(tab.find("p.yaml:3:"), std::string::npos) << tab;
  EXPECT_NE(msg.find("malformed YAML"), std::string::npos) << msg;
}

TEST(SpecTest, HostileInputGivesErrorsNotCrashes) {
  const std::string valid = R"(params:
  lr: {type: float, default: 0.1}
  regions: [eu, us]
steps:
  a: {run: "x ${params.lr}", outputs: [o.txt], retries: {limit: 2, backoff: 1s}}
  b:
    needs: [a]
    foreach: ${params.regions}
    when: steps.a.outputs.auc > 0.8 and (params.lr < 1 or not true)
    run: [prog, "${item}"]
    timeout: 10s
)";
  ASSERT_TRUE(Parse(valid).ok());
  // Every prefix, and bytes replaced by YAML's structural characters (fixed seed): each
  // result is either a spec or an error naming the file.
  std::vector<std::string> cases;
  for (size_t n = 0; n < valid.size(); ++n) cases.push_back(valid.substr(0, n));
  const char kChars[] = "[]{}:,-'\"#&*!|>%@` \n\t$.0";
  uint64_t x = 88172645463325252ull;  // xorshift64
  for (int i = 0; i < 3000; ++i) {
    std::string m = valid;
    for (int k = 0; k < 3; ++k) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      m[x % m.size()] = kChars[(x >> 32) % (sizeof(kChars) - 1)];
    }
    cases.push_back(m);
  }
  cases.push_back("steps: " + std::string(100000, '['));
  cases.push_back("steps: " + std::string(20000, '{') + "a: 1");
  cases.push_back(std::string("\0\xff\xfe", 3));
  for (const auto& c : cases) {
    auto spec = Parse(c);
    if (!spec.ok()) {
      EXPECT_EQ(spec.status().code(), Code::kInvalidArgument) << c;
      EXPECT_EQ(spec.status().message().rfind("p.yaml", 0), 0u) << spec.status().message();
    }
  }
}

TEST(SpecTest, CycleIsNamed) {
  std::string msg = ErrorOf(R"(steps:
  a:
    run: x
    needs: [c]
  b:
    run: x
    needs: [a]
  c:
    run: x
    needs: [b]
)");
  EXPECT_NE(msg.find("dependency cycle: a -> c -> b -> a"), std::string::npos) << msg;
  EXPECT_NE(msg.find("p.yaml:2:3"), std::string::npos) << msg;  // where step a is declared
}

TEST(SpecTest, SelfDependencyIsACycle) {
  std::string msg = ErrorOf("steps:\n  a:\n    run: x\n    needs: [a]\n");
  EXPECT_NE(msg.find("cycle"), std::string::npos) << msg;
}

TEST(SpecTest, UnknownStepInNeedsNamesItsPosition) {
  std::string msg = ErrorOf("steps:\n  a:\n    run: x\n    needs: [a2, zz]\n");
  // Line 4: "    needs: [a2, zz]": 'a2' is at column 13, 'zz' at column 17.
  EXPECT_NE(msg.find("p.yaml:4:13: step 'a' needs unknown step 'a2'"), std::string::npos) << msg;
}

TEST(SpecTest, PipelineNameMustBeSafeForPathsAndUrls) {
  // Line 1 "name: ../../etc": the value starts at column 7.
  std::string msg = ErrorOf("name: ../../etc\nsteps:\n  a: {run: x}\n");
  EXPECT_NE(msg.find("p.yaml:1:7: bad pipeline name '../../etc'"), std::string::npos) << msg;
  EXPECT_NE(ErrorOf("name: a/b\nsteps:\n  a: {run: x}\n").find("bad pipeline name"),
            std::string::npos);
  EXPECT_NE(ErrorOf("name: " + std::string(101, 'x') + "\nsteps:\n  a: {run: x}\n")
                .find("bad pipeline name"),
            std::string::npos);
  EXPECT_TRUE(ParseSpec("name: car-loan.v2_x\nsteps:\n  a: {run: x}\n", "p.yaml", ".").ok());
}

TEST(SpecTest, UndefinedParamInRun) {
  std::string msg = ErrorOf("params: {lr: 0.1}\nsteps:\n  a:\n    run: echo ${params.rate}\n");
  EXPECT_NE(msg.find("p.yaml:3:3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("undefined param 'rate'"), std::string::npos) << msg;
}

TEST(SpecTest, ItemWithoutForeach) {
  std::string msg = ErrorOf("steps:\n  a:\n    run: echo ${item}\n");
  EXPECT_NE(msg.find("no 'foreach'"), std::string::npos) << msg;
}

TEST(SpecTest, ParamDefaultOfTheWrongType) {
  std::string msg = ErrorOf("params:\n  n: {type: int, default: 2.5}\nsteps:\n  a: {run: x}\n");
  // "  n: {type: int, default: 2.5}": the value 2.5 starts at column 27.
  EXPECT_NE(msg.find("p.yaml:2:27"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'2.5' is not a valid int"), std::string::npos) << msg;
}

TEST(SpecTest, UnknownKeysAndBadValues) {
  EXPECT_NE(ErrorOf("steps:\n  a: {run: x, retry: 2}\n").find("unknown key 'retry'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("steps:\n  a: {run: x, timeout: soon}\n").find("bad duration 'soon'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("steps:\n  a: {run: x, type: ingest}\n").find("exactly one of"),
            std::string::npos);
  EXPECT_NE(ErrorOf("steps:\n  a: {}\n").find("exactly one of"), std::string::npos);
  EXPECT_NE(ErrorOf("steps: []\n").find("'steps' must be"), std::string::npos);
  EXPECT_NE(ErrorOf("- 1\n").find("must be a mapping"), std::string::npos);
  EXPECT_NE(ErrorOf("steps:\n  a: {run: x, retries: -1}\n").find(">= 0"), std::string::npos);
  EXPECT_NE(ErrorOf("params:\n  p: {type: date, default: x}\nsteps:\n  a: {run: x}\n")
                .find("unknown type 'date'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("params:\n  p: {type: int, default: 1}\nsteps:\n  a: {run: x, "
                    "foreach: \"${params.p}\"}\n")
                .find("is a int, not a list"),
            std::string::npos);
}

TEST(SpecTest, WhenErrors) {
  std::string unknown = ErrorOf("steps:\n  a:\n    run: x\n    when: steps.b.outputs.auc > 1\n");
  EXPECT_NE(unknown.find("p.yaml:4:11: step 'a': 'when' refers to unknown step 'b'"),
            std::string::npos)
      << unknown;
  std::string syntax = ErrorOf("steps:\n  a: {run: x}\n  b:\n    run: x\n    when: steps.a.outputs.auc >\n");
  EXPECT_NE(syntax.find("bad 'when' expression"), std::string::npos) << syntax;
  std::string param = ErrorOf("steps:\n  a:\n    run: x\n    when: params.nope == 1\n");
  EXPECT_NE(param.find("undefined param 'nope'"), std::string::npos) << param;
}

TEST(SpecTest, ParamOverrides) {
  auto spec = Parse("params:\n  n: 3\n  lr: 0.5\n  tags: [a]\n  name: x\nsteps:\n  a: {run: x}\n");
  ASSERT_TRUE(spec.ok());
  auto n = ParseParamOverride(*spec, "n=7");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->second.i, 7);
  auto lr = ParseParamOverride(*spec, "lr=2");  // an int is a valid float
  ASSERT_TRUE(lr.ok());
  EXPECT_EQ(lr->second.kind, Value::Kind::kFloat);
  auto tags = ParseParamOverride(*spec, "tags=x,y,z");
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(tags->second.list.size(), 3u);
  auto bad = ParseParamOverride(*spec, "n=seven");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'seven' is not a valid int"), std::string::npos);
  EXPECT_FALSE(ParseParamOverride(*spec, "missing=1").ok());
  EXPECT_FALSE(ParseParamOverride(*spec, "n").ok());
  auto name = ParseParamOverride(*spec, "name=42");  // strings take anything
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->second.kind, Value::Kind::kString);
}

TEST(SpecTest, Durations) {
  EXPECT_EQ(*ParseDurationMs("250ms"), 250);
  EXPECT_EQ(*ParseDurationMs("2"), 2000);
  EXPECT_EQ(*ParseDurationMs("1.5s"), 1500);
  EXPECT_EQ(*ParseDurationMs("10m"), 600000);
  EXPECT_EQ(*ParseDurationMs("1h"), 3600000);
  EXPECT_FALSE(ParseDurationMs("-1s").ok());
  EXPECT_FALSE(ParseDurationMs("1w").ok());
}

StatusOr<bool> Eval(const std::string& text, std::map<std::string, std::string> outputs = {}) {
  auto e = ParseExpr(text);
  if (!e.ok()) return e.status();
  return EvalCondition(**e, [&](const Expr& r) -> StatusOr<Value> {
    std::string k = r.op == Expr::Op::kParam ? "params." + r.key : r.step + "." + r.key;
    auto it = outputs.find(k);
    if (it == outputs.end()) return NotFound("no " + k);
    return Value::FromText(it->second);
  });
}

TEST(ExprTest, ComparesAndCombines) {
  std::map<std::string, std::string> o = {{"evaluate.auc", "0.85"}, {"params.env", "prod"},
                                          {"evaluate.ok", "true"}, {"params.n", "10"}};
  EXPECT_TRUE(*Eval("steps.evaluate.outputs.auc > 0.8", o));
  EXPECT_FALSE(*Eval("steps.evaluate.outputs.auc >= 0.9", o));
  EXPECT_TRUE(*Eval("steps.evaluate.outputs.auc > 0.8 and params.env == 'prod'", o));
  EXPECT_TRUE(*Eval("steps.evaluate.outputs.auc > 0.9 || params.env != \"dev\"", o));
  EXPECT_FALSE(*Eval("not (steps.evaluate.outputs.auc > 0.8)", o));
  EXPECT_TRUE(*Eval("!(params.n < 9)", o));
  // `and` binds tighter than `or`: false or (true and true).
  EXPECT_TRUE(*Eval("params.n < 5 or params.n > 5 and steps.evaluate.outputs.ok", o));
  // Numeric, not text, comparison: "10" > "9" numerically.
  EXPECT_TRUE(*Eval("params.n > 9", o));
  EXPECT_TRUE(*Eval("steps.evaluate.outputs.ok == true", o));
  EXPECT_TRUE(*Eval("1e3 == 1000"));
}

TEST(ExprTest, Errors) {
  EXPECT_EQ(Eval("steps.x.outputs.y > 1").status().code(), Code::kNotFound);
  auto e = ParseExpr("steps.a.outputs.b >");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("expected a value"), std::string::npos);
  EXPECT_FALSE(ParseExpr("steps.a > 1").ok());
  EXPECT_FALSE(ParseExpr("(1 > 2").ok());
  EXPECT_FALSE(ParseExpr("'abc").ok());
  EXPECT_FALSE(ParseExpr("1 > 2 3").ok());
  EXPECT_FALSE(ParseExpr("").ok());
}

TEST(ExprTest, RendersForArgo) {
  auto e = ParseExpr("steps.evaluate.outputs.auc > 0.8 and params.env == 'prod'");
  ASSERT_TRUE(e.ok());
  std::string s = RenderExpr(**e, [](const Expr& r) {
    return r.op == Expr::Op::kParam ? "{{workflow.parameters." + r.key + "}}"
                                    : "{{tasks." + r.step + ".outputs.parameters." + r.key + "}}";
  });
  EXPECT_EQ(s,
            "(({{tasks.evaluate.outputs.parameters.auc}} > 0.8) && "
            "('{{workflow.parameters.env}}' == 'prod'))");
}

TEST(PlanTest, TopologicalOrderForeachAndInterpolation) {
  auto spec = Parse(R"(
params:
  regions: [eu, us]
  lr: 0.5
steps:
  report:
    needs: [train]
    run: "report"
  train:
    needs: [prep]
    foreach: ${params.regions}
    run: "train --lr ${params.lr} --region ${item}"
    outputs: ["out/${item}.json"]
  prep:
    run: prep
)");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto plan = MakePlan(*spec, {{"lr", Value::Float(0.25)}});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->steps.size(), 4u);
  EXPECT_EQ(plan->steps[0].name, "prep");
  EXPECT_EQ(plan->steps[1].name, "train[eu]");
  EXPECT_EQ(plan->steps[2].name, "train[us]");
  EXPECT_EQ(plan->steps[3].name, "report");
  EXPECT_EQ(plan->steps[3].deps, (std::vector<int>{1, 2}));
  EXPECT_EQ(plan->steps[2].command_text, "train --lr 0.25 --region us");
  EXPECT_EQ(plan->steps[2].argv,
            (std::vector<std::string>{"/bin/sh", "-c", "train --lr 0.25 --region us"}));
  EXPECT_EQ(plan->steps[1].outputs, std::vector<std::string>{"out/eu.json"});
  EXPECT_EQ(plan->steps[1].params.at("lr").d, 0.25);

  auto bad = MakePlan(*spec, {{"regions", Value::Int(3)}});
  EXPECT_FALSE(bad.ok());
}

TEST(PlanTest, MissingInputsNameTheirLine) {
  auto spec = ParseSpec(R"(steps:
  make: {run: x, outputs: [out/model]}
  use:
    run: x
    inputs: [out/model/weights.bin, /, data/nowhere.csv]
)",
                        "p.yaml", "/tmp");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto plan = MakePlan(*spec, {});
  ASSERT_TRUE(plan.ok());
  Status st = CheckInputsAvailable(*spec, *plan);
  // Inside make's output folder: fine; "/" exists; data/nowhere.csv (line 5, column 40) does
  // not.
  EXPECT_EQ(st.message(),
            "p.yaml:5:40: step 'use': input 'data/nowhere.csv' does not exist and no step "
            "outputs it");
}

TEST(StepTypesTest, UnknownTypeAndBadConfigNameTheLine) {
  auto registry = StepTypeRegistry::WithBuiltins();
  auto spec = Parse("steps:\n  a: {type: train-xgboost}\n");
  ASSERT_TRUE(spec.ok());
  Status st = CheckStepTypes(*spec, registry);
  EXPECT_NE(st.message().find("p.yaml:2:3: step 'a': unknown step type 'train-xgboost'"),
            std::string::npos)
      << st.message();
  auto spec2 = Parse("steps:\n  a: {type: ingest, with: {paht: x}}\n");
  ASSERT_TRUE(spec2.ok());
  EXPECT_NE(CheckStepTypes(*spec2, registry).message().find("unknown config key 'paht'"),
            std::string::npos);
}

}  // namespace
}  // namespace cairn::pipeline
