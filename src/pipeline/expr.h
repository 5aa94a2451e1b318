// Values and `when` expressions of pipeline specs.
//
// Grammar (keywords and symbols are interchangeable: and/&&, or/||, not/!):
//   expr    := or
//   or      := and ('or' and)*
//   and     := unary ('and' unary)*
//   unary   := 'not' unary | compare
//   compare := primary (('==' | '!=' | '<' | '<=' | '>' | '>=') primary)?
//   primary := number | 'string' | "string" | true | false | ref | '(' expr ')'
//   ref     := steps.<step>.outputs.<key> | params.<name>
// Comparisons between two numbers are numeric; otherwise both sides compare as text. A bare
// value is true when it is true, non-zero or a non-empty string other than "false".
// Thread-safety: Expr trees are immutable after parsing and may be shared.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace cairn::pipeline {

struct Value {
  enum class Kind { kNull, kBool, kInt, kFloat, kString, kList };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;
  std::vector<Value> list;

  static Value Bool(bool v);
  static Value Int(int64_t v);
  static Value Float(double v);
  static Value String(std::string v);
  static Value List(std::vector<Value> v);

  bool is_number() const { return kind == Kind::kInt || kind == Kind::kFloat; }
  double AsDouble() const;
  // The canonical text: "true", "3", "0.5" (shortest round-trip), the string itself, and
  // lists as comma-separated items. Used in commands, cache keys and compiled targets.
  std::string ToText() const;
  // A value read from text: bool, int, float, else a string.
  static Value FromText(const std::string& text);
};

struct Expr {
  enum class Op { kLiteral, kStepOutput, kParam, kNot, kAnd, kOr, kEq, kNe, kLt, kLe, kGt, kGe };
  Op op = Op::kLiteral;
  Value literal;
  std::string step;  // kStepOutput
  std::string key;   // kStepOutput: output key; kParam: param name
  std::shared_ptr<const Expr> lhs, rhs;
};

// Parses an expression; InvalidArgument "column N: ..." on a syntax error.
StatusOr<std::shared_ptr<const Expr>> ParseExpr(const std::string& text);

// Every reference in the tree (for validation and dependency edges).
void CollectRefs(const Expr& expr, std::vector<const Expr*>* refs);

// Resolves a reference to a value; NotFound when it has no value (e.g. a step did not write
// that output).
using RefResolver = std::function<StatusOr<Value>(const Expr& ref)>;

// Evaluates to a bool; NotFound/InvalidArgument from the resolver are passed on.
StatusOr<bool> EvalCondition(const Expr& expr, const RefResolver& resolve);

// Renders the expression in Argo's `when` syntax (govaluate), with references mapped by
// `render_ref` (e.g. to "{{tasks.x.outputs.parameters.y}}").
std::string RenderExpr(const Expr& expr, const std::function<std::string(const Expr&)>& render_ref,
                       bool quote_refs_as_strings = false);

}  // namespace cairn::pipeline
