#include "registry/gates.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace cairn::registry {

// One node of a parsed expression tree.
class GateExpressionNode {
 public:
  enum class Kind { kNumber, kMetric, kNegate, kBinary };
  Kind kind = Kind::kNumber;
  double number = 0;
  bool champion = false;  // kMetric: whose metric
  std::string metric;     // kMetric
  char op = 0;            // kBinary: + - * /
  std::unique_ptr<GateExpressionNode> left, right;
};

namespace {

using Node = GateExpressionNode;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  StatusOr<std::unique_ptr<Node>> Expr() {
    ASSIGN_OR_RETURN(std::unique_ptr<Node> left, Term());
    while (true) {
      SkipSpace();
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
        char op = text_[pos_++];
        ASSIGN_OR_RETURN(std::unique_ptr<Node> right, Term());
        left = Binary(op, std::move(left), std::move(right));
      } else {
        return left;
      }
    }
  }

  // The comparison operator, or "" when there is none here.
  std::string Comparator() {
    SkipSpace();
    static const char* const kOps[] = {">=", "<=", "==", "!=", ">", "<", "="};
    for (const char* op : kOps) {
      std::string_view o(op);
      if (text_.substr(pos_, o.size()) == o) {
        pos_ += o.size();
        return o == "=" ? "==" : std::string(o);
      }
    }
    return "";
  }

  bool AtEnd() {
    SkipSpace();
    return pos_ >= text_.size();
  }
  size_t pos() const { return pos_; }
  bool uses_champion() const { return uses_champion_; }

  Status Error(std::string_view expected) const {
    std::string found = pos_ >= text_.size() ? "end of condition"
                                             : "'" + std::string(text_.substr(pos_, 12)) + "'";
    return InvalidArgument("Invalid gate condition '" + std::string(text_) + "': expected " +
                           std::string(expected) + " at position " + std::to_string(pos_) +
                           ", found " + found);
  }

 private:
  static std::unique_ptr<Node> Binary(char op, std::unique_ptr<Node> l, std::unique_ptr<Node> r) {
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::kBinary;
    n->op = op;
    n->left = std::move(l);
    n->right = std::move(r);
    return n;
  }

  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  StatusOr<std::unique_ptr<Node>> Term() {
    ASSIGN_OR_RETURN(std::unique_ptr<Node> left, Factor());
    while (true) {
      SkipSpace();
      if (pos_ < text_.size() && (text_[pos_] == '*' || text_[pos_] == '/')) {
        char op = text_[pos_++];
        ASSIGN_OR_RETURN(std::unique_ptr<Node> right, Factor());
        left = Binary(op, std::move(left), std::move(right));
      } else {
        return left;
      }
    }
  }

  StatusOr<std::unique_ptr<Node>> Factor() {
    SkipSpace();
    if (pos_ >= text_.size()) return Error("a number or a metric");
    char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      ASSIGN_OR_RETURN(std::unique_ptr<Node> inner, Expr());
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ')') return Error("')'");
      ++pos_;
      return inner;
    }
    if (c == '-') {
      ++pos_;
      ASSIGN_OR_RETURN(std::unique_ptr<Node> inner, Factor());
      auto n = std::make_unique<Node>();
      n->kind = Node::Kind::kNegate;
      n->left = std::move(inner);
      return n;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') return Number();
    if (c == '`' || std::isalpha(static_cast<unsigned char>(c)) || c == '_') return Metric();
    return Error("a number or a metric");
  }

  StatusOr<std::unique_ptr<Node>> Number() {
    std::string literal;
    size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.' ||
            text_[pos_] == 'e' || text_[pos_] == 'E' ||
            ((text_[pos_] == '-' || text_[pos_] == '+') && pos_ > start &&
             (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E')))) {
      literal += text_[pos_++];
    }
    char* end = nullptr;
    double v = std::strtod(literal.c_str(), &end);
    if (literal.empty() || end != literal.c_str() + literal.size()) {
      pos_ = start;
      return Error("a number");
    }
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::kNumber;
    n->number = v;
    return n;
  }

  StatusOr<std::string> Name() {
    if (pos_ < text_.size() && text_[pos_] == '`') {
      size_t close = text_.find('`', pos_ + 1);
      if (close == std::string_view::npos || close == pos_ + 1) return Error("a quoted name");
      std::string name(text_.substr(pos_ + 1, close - pos_ - 1));
      pos_ = close + 1;
      return name;
    }
    std::string name;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_' ||
            text_[pos_] == '.')) {
      name += text_[pos_++];
    }
    if (name.empty()) return Error("a metric name");
    return name;
  }

  StatusOr<std::unique_ptr<Node>> Metric() {
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::kMetric;
    ASSIGN_OR_RETURN(std::string name, Name());
    // "champion." / "candidate." followed by a quoted name, or a dotted plain name.
    for (std::string_view who : {"champion", "candidate"}) {
      std::string prefix = std::string(who) + ".";
      if (name == prefix && pos_ < text_.size() && text_[pos_] == '`') {
        ASSIGN_OR_RETURN(n->metric, Name());
        n->champion = who == "champion";
      } else if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0) {
        n->metric = name.substr(prefix.size());
        n->champion = who == "champion";
      } else {
        continue;
      }
      uses_champion_ = uses_champion_ || n->champion;
      return n;
    }
    if (name.back() == '.') return Error("a metric name");
    n->metric = name;
    return n;
  }

  std::string_view text_;
  size_t pos_ = 0;
  bool uses_champion_ = false;
};

std::string FormatNumber(double v) { return fmt::format("{}", v); }

// Evaluates `node`; on failure returns nullopt and sets `why`.
std::optional<double> Eval(const Node& node, const std::map<std::string, double>& candidate,
                           const std::map<std::string, double>* champion,
                           std::string_view champion_label, std::string* why) {
  switch (node.kind) {
    case Node::Kind::kNumber:
      return node.number;
    case Node::Kind::kMetric: {
      const std::map<std::string, double>* source = node.champion ? champion : &candidate;
      auto it = source->find(node.metric);
      if (it == source->end()) {
        *why = node.champion ? "the champion (" + std::string(champion_label) +
                                   ") has no metric '" + node.metric + "'"
                             : "the candidate has no metric '" + node.metric + "'";
        return std::nullopt;
      }
      return it->second;
    }
    case Node::Kind::kNegate: {
      auto v = Eval(*node.left, candidate, champion, champion_label, why);
      if (!v) return std::nullopt;
      return -*v;
    }
    case Node::Kind::kBinary: {
      auto l = Eval(*node.left, candidate, champion, champion_label, why);
      if (!l) return std::nullopt;
      auto r = Eval(*node.right, candidate, champion, champion_label, why);
      if (!r) return std::nullopt;
      switch (node.op) {
        case '+': return *l + *r;
        case '-': return *l - *r;
        case '*': return *l * *r;
        default:
          if (*r == 0) {
            *why = "division by zero";
            return std::nullopt;
          }
          return *l / *r;
      }
    }
  }
  return std::nullopt;
}

bool Compare(double l, const std::string& op, double r) {
  if (op == ">=") return l >= r;
  if (op == "<=") return l <= r;
  if (op == ">") return l > r;
  if (op == "<") return l < r;
  if (op == "==") return l == r;
  return l != r;
}

}  // namespace

ParsedCondition::ParsedCondition() = default;
ParsedCondition::ParsedCondition(ParsedCondition&&) noexcept = default;
ParsedCondition& ParsedCondition::operator=(ParsedCondition&&) noexcept = default;
ParsedCondition::~ParsedCondition() = default;

StatusOr<ParsedCondition> ParseGateCondition(std::string_view text) {
  Parser parser(text);
  if (parser.AtEnd()) return InvalidArgument("Invalid gate condition: it is empty");
  ParsedCondition out;
  out.text_ = std::string(text);
  ASSIGN_OR_RETURN(out.lhs_, parser.Expr());
  out.op_ = parser.Comparator();
  if (out.op_.empty()) return parser.Error("a comparison (>=, <=, >, <, ==, !=)");
  ASSIGN_OR_RETURN(out.rhs_, parser.Expr());
  if (!parser.AtEnd()) return parser.Error("end of condition");
  out.uses_champion_ = parser.uses_champion();
  return out;
}

GateCheck EvaluateGateCondition(const ParsedCondition& condition,
                                const std::map<std::string, double>& candidate,
                                const std::map<std::string, double>* champion,
                                std::string_view champion_label) {
  GateCheck check;
  check.condition = condition.text();
  if (condition.uses_champion() && champion == nullptr) {
    check.passed = true;
    check.detail = "no version holds the target alias yet; the comparison with the champion "
                   "is skipped";
    return check;
  }
  std::string why;
  auto l = Eval(*condition.lhs_, candidate, champion, champion_label, &why);
  std::optional<double> r;
  if (l) r = Eval(*condition.rhs_, candidate, champion, champion_label, &why);
  if (!l || !r) {
    check.passed = false;
    check.detail = why;
    return check;
  }
  if (std::isnan(*l) || std::isnan(*r)) {
    check.passed = false;
    check.detail = FormatNumber(*l) + " " + condition.op_ + " " + FormatNumber(*r) +
                   " cannot hold: NaN";
    return check;
  }
  check.passed = Compare(*l, condition.op_, *r);
  check.detail = FormatNumber(*l) + " " + condition.op_ + " " + FormatNumber(*r) +
                 (check.passed ? " holds" : " does not hold");
  return check;
}

}  // namespace cairn::registry
