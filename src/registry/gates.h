// Promotion-gate conditions: parsing and evaluation.
//
// A condition compares two arithmetic expressions over metrics:
//   condition := expr op expr            op: >= <= > < == = !=
//   expr      := term (('+' | '-') term)*
//   term      := factor (('*' | '/') factor)*
//   factor    := number | metric | '(' expr ')' | '-' factor
//   metric    := [champion. | candidate.] name      name: [A-Za-z_][A-Za-z0-9_.]* or `quoted`
// A bare name is the candidate's metric; `champion.<name>` is the metric of the version that
// currently holds the target alias. Examples: "auc >= champion.auc - 0.002",
// "latency_p99_ms <= 5", "`val-loss` < champion.`val-loss` * 1.05".
//
// Evaluation rules: a missing candidate metric fails the check; a condition that refers to
// the champion passes (with a note) when no version holds the alias yet, and fails when the
// champion lacks the metric; division by zero and NaN fail.
// Thread-safety: values; pure functions.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "registry/entities.h"

namespace cairn::registry {

class GateExpressionNode;

class ParsedCondition {
 public:
  ParsedCondition();
  ParsedCondition(ParsedCondition&&) noexcept;
  ParsedCondition& operator=(ParsedCondition&&) noexcept;
  ~ParsedCondition();

  const std::string& text() const { return text_; }
  bool uses_champion() const { return uses_champion_; }

 private:
  friend StatusOr<ParsedCondition> ParseGateCondition(std::string_view text);
  friend GateCheck EvaluateGateCondition(const ParsedCondition&,
                                         const std::map<std::string, double>&,
                                         const std::map<std::string, double>*, std::string_view);
  std::string text_;
  std::string op_;
  std::unique_ptr<GateExpressionNode> lhs_;
  std::unique_ptr<GateExpressionNode> rhs_;
  bool uses_champion_ = false;
};

// Errors: kInvalidArgument naming the position and what was expected.
StatusOr<ParsedCondition> ParseGateCondition(std::string_view text);

// `champion` is null when no version holds the target alias. `champion_label` names it in
// details ("v3").
GateCheck EvaluateGateCondition(const ParsedCondition& condition,
                                const std::map<std::string, double>& candidate,
                                const std::map<std::string, double>* champion,
                                std::string_view champion_label);

}  // namespace cairn::registry
