#include "pipeline/expr.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace cairn::pipeline {

Value Value::Bool(bool v) {
  Value x;
  x.kind = Kind::kBool;
  x.b = v;
  return x;
}
Value Value::Int(int64_t v) {
  Value x;
  x.kind = Kind::kInt;
  x.i = v;
  return x;
}
Value Value::Float(double v) {
  Value x;
  x.kind = Kind::kFloat;
  x.d = v;
  return x;
}
Value Value::String(std::string v) {
  Value x;
  x.kind = Kind::kString;
  x.s = std::move(v);
  return x;
}
Value Value::List(std::vector<Value> v) {
  Value x;
  x.kind = Kind::kList;
  x.list = std::move(v);
  return x;
}

double Value::AsDouble() const {
  switch (kind) {
    case Kind::kInt:
      return static_cast<double>(i);
    case Kind::kFloat:
      return d;
    case Kind::kBool:
      return b ? 1 : 0;
    default:
      return std::nan("");
  }
}

std::string Value::ToText() const {
  switch (kind) {
    case Kind::kNull:
      return "";
    case Kind::kBool:
      return b ? "true" : "false";
    case Kind::kInt:
      return std::to_string(i);
    case Kind::kFloat: {
      char buf[64];
      auto res = std::to_chars(buf, buf + sizeof buf, d);
      return std::string(buf, res.ptr);
    }
    case Kind::kString:
      return s;
    case Kind::kList: {
      std::string out;
      for (size_t k = 0; k < list.size(); ++k) {
        if (k) out += ',';
        out += list[k].ToText();
      }
      return out;
    }
  }
  return "";
}

Value Value::FromText(const std::string& text) {
  if (text == "true") return Bool(true);
  if (text == "false") return Bool(false);
  if (!text.empty()) {
    int64_t iv = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), iv);
    if (r.ec == std::errc() && r.ptr == text.data() + text.size()) return Int(iv);
    double dv = 0;
    auto rd = std::from_chars(text.data(), text.data() + text.size(), dv);
    if (rd.ec == std::errc() && rd.ptr == text.data() + text.size()) return Float(dv);
  }
  return String(text);
}

namespace {

// A recursive-descent parser over the expression text.
class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  StatusOr<std::shared_ptr<const Expr>> Parse() {
    ASSIGN_OR_RETURN(auto e, ParseOr());
    SkipSpace();
    if (pos_ != text_.size()) return Error(fmt::format("unexpected '{}'", text_.substr(pos_)));
    return e;
  }

 private:
  using ExprPtr = std::shared_ptr<const Expr>;

  Status Error(const std::string& what) const {
    return InvalidArgument(fmt::format("column {}: {}", pos_ + 1, what));
  }
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool IsIdentChar(char c) const {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  }
  // Consumes a keyword (whole word) or a symbol.
  bool Accept(std::string_view word) {
    SkipSpace();
    if (text_.compare(pos_, word.size(), word) != 0) return false;
    if (std::isalpha(static_cast<unsigned char>(word[0])) && pos_ + word.size() < text_.size() &&
        IsIdentChar(text_[pos_ + word.size()])) {
      return false;
    }
    pos_ += word.size();
    return true;
  }
  static ExprPtr Binary(Expr::Op op, ExprPtr l, ExprPtr r) {
    auto e = std::make_shared<Expr>();
    e->op = op;
    e->lhs = std::move(l);
    e->rhs = std::move(r);
    return e;
  }

  StatusOr<ExprPtr> ParseOr() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseAnd());
    while (Accept("or") || Accept("||")) {
      ASSIGN_OR_RETURN(ExprPtr right, ParseAnd());
      left = Binary(Expr::Op::kOr, left, right);
    }
    return left;
  }
  StatusOr<ExprPtr> ParseAnd() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseUnary());
    while (Accept("and") || Accept("&&")) {
      ASSIGN_OR_RETURN(ExprPtr right, ParseUnary());
      left = Binary(Expr::Op::kAnd, left, right);
    }
    return left;
  }
  StatusOr<ExprPtr> ParseUnary() {
    SkipSpace();
    bool bang = pos_ < text_.size() && text_[pos_] == '!' &&
                (pos_ + 1 >= text_.size() || text_[pos_ + 1] != '=');
    if (bang) ++pos_;
    if (bang || Accept("not")) {
      ASSIGN_OR_RETURN(ExprPtr inner, ParseUnary());
      auto e = std::make_shared<Expr>();
      e->op = Expr::Op::kNot;
      e->lhs = inner;
      return ExprPtr(e);
    }
    return ParseCompare();
  }
  StatusOr<ExprPtr> ParseCompare() {
    ASSIGN_OR_RETURN(ExprPtr left, ParsePrimary());
    static const std::pair<std::string_view, Expr::Op> kOps[] = {
        {"==", Expr::Op::kEq}, {"!=", Expr::Op::kNe}, {"<=", Expr::Op::kLe},
        {">=", Expr::Op::kGe}, {"<", Expr::Op::kLt},  {">", Expr::Op::kGt}};
    for (const auto& [sym, op] : kOps) {
      if (Accept(sym)) {
        ASSIGN_OR_RETURN(ExprPtr right, ParsePrimary());
        return Binary(op, left, right);
      }
    }
    return left;
  }
  StatusOr<ExprPtr> ParsePrimary() {
    SkipSpace();
    if (pos_ >= text_.size()) return Error("expected a value, found the end");
    char c = text_[pos_];
    auto e = std::make_shared<Expr>();
    if (c == '(') {
      ++pos_;
      ASSIGN_OR_RETURN(ExprPtr inner, ParseOr());
      if (!Accept(")")) return Error("expected ')'");
      return inner;
    }
    if (c == '\'' || c == '"') {
      size_t end = text_.find(c, pos_ + 1);
      if (end == std::string::npos) return Error("unterminated string");
      e->literal = Value::String(text_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
      return ExprPtr(e);
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.') {
      size_t start = pos_;
      while (pos_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.' ||
              ((text_[pos_] == '-' || text_[pos_] == '+') &&
               (pos_ == start || text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E')))) {
        ++pos_;
      }
      Value v = Value::FromText(text_.substr(start, pos_ - start));
      if (!v.is_number()) {
        pos_ = start;
        return Error(fmt::format("bad number '{}'", v.s));
      }
      e->literal = v;
      return ExprPtr(e);
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = pos_;
      while (pos_ < text_.size() && (IsIdentChar(text_[pos_]) || text_[pos_] == '.' ||
                                     text_[pos_] == '[' || text_[pos_] == ']')) {
        ++pos_;
      }
      std::string word = text_.substr(start, pos_ - start);
      if (word == "true" || word == "false") {
        e->literal = Value::Bool(word == "true");
        return ExprPtr(e);
      }
      std::vector<std::string> parts;
      size_t p = 0;
      while (true) {
        size_t dot = word.find('.', p);
        parts.push_back(word.substr(p, dot - p));
        if (dot == std::string::npos) break;
        p = dot + 1;
      }
      if (parts.size() == 4 && parts[0] == "steps" && parts[2] == "outputs" &&
          !parts[1].empty() && !parts[3].empty()) {
        e->op = Expr::Op::kStepOutput;
        e->step = parts[1];
        e->key = parts[3];
        return ExprPtr(e);
      }
      if (parts.size() == 2 && parts[0] == "params" && !parts[1].empty()) {
        e->op = Expr::Op::kParam;
        e->key = parts[1];
        return ExprPtr(e);
      }
      pos_ = start;
      return Error(fmt::format(
          "unknown name '{}' (expected steps.<step>.outputs.<key>, params.<name>, a number, "
          "a quoted string, true or false)",
          word));
    }
    return Error(fmt::format("unexpected '{}'", c));
  }

  const std::string& text_;
  size_t pos_ = 0;
};

bool Truthy(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kBool:
      return v.b;
    case Value::Kind::kInt:
      return v.i != 0;
    case Value::Kind::kFloat:
      return v.d != 0;
    case Value::Kind::kString:
      return !v.s.empty() && v.s != "false";
    case Value::Kind::kList:
      return !v.list.empty();
    default:
      return false;
  }
}

StatusOr<Value> EvalValue(const Expr& e, const RefResolver& resolve);

StatusOr<bool> Compare(Expr::Op op, const Value& a, const Value& b) {
  int cmp;
  if (a.is_number() && b.is_number()) {
    double x = a.AsDouble(), y = b.AsDouble();
    cmp = x < y ? -1 : (x > y ? 1 : 0);
  } else if (a.kind == Value::Kind::kBool || b.kind == Value::Kind::kBool) {
    cmp = Truthy(a) == Truthy(b) ? 0 : 1;
    if (op != Expr::Op::kEq && op != Expr::Op::kNe) {
      return InvalidArgument("booleans can only be compared with == and !=");
    }
  } else {
    std::string x = a.ToText(), y = b.ToText();
    cmp = x < y ? -1 : (x > y ? 1 : 0);
  }
  switch (op) {
    case Expr::Op::kEq:
      return cmp == 0;
    case Expr::Op::kNe:
      return cmp != 0;
    case Expr::Op::kLt:
      return cmp < 0;
    case Expr::Op::kLe:
      return cmp <= 0;
    case Expr::Op::kGt:
      return cmp > 0;
    case Expr::Op::kGe:
      return cmp >= 0;
    default:
      return Internal("not a comparison");
  }
}

StatusOr<Value> EvalValue(const Expr& e, const RefResolver& resolve) {
  switch (e.op) {
    case Expr::Op::kLiteral:
      return e.literal;
    case Expr::Op::kStepOutput:
    case Expr::Op::kParam:
      return resolve(e);
    case Expr::Op::kNot: {
      ASSIGN_OR_RETURN(Value v, EvalValue(*e.lhs, resolve));
      return Value::Bool(!Truthy(v));
    }
    case Expr::Op::kAnd: {
      ASSIGN_OR_RETURN(Value l, EvalValue(*e.lhs, resolve));
      if (!Truthy(l)) return Value::Bool(false);
      ASSIGN_OR_RETURN(Value r, EvalValue(*e.rhs, resolve));
      return Value::Bool(Truthy(r));
    }
    case Expr::Op::kOr: {
      ASSIGN_OR_RETURN(Value l, EvalValue(*e.lhs, resolve));
      if (Truthy(l)) return Value::Bool(true);
      ASSIGN_OR_RETURN(Value r, EvalValue(*e.rhs, resolve));
      return Value::Bool(Truthy(r));
    }
    default: {
      ASSIGN_OR_RETURN(Value l, EvalValue(*e.lhs, resolve));
      ASSIGN_OR_RETURN(Value r, EvalValue(*e.rhs, resolve));
      ASSIGN_OR_RETURN(bool b, Compare(e.op, l, r));
      return Value::Bool(b);
    }
  }
}

std::string_view OpSymbol(Expr::Op op) {
  switch (op) {
    case Expr::Op::kAnd:
      return "&&";
    case Expr::Op::kOr:
      return "||";
    case Expr::Op::kEq:
      return "==";
    case Expr::Op::kNe:
      return "!=";
    case Expr::Op::kLt:
      return "<";
    case Expr::Op::kLe:
      return "<=";
    case Expr::Op::kGt:
      return ">";
    case Expr::Op::kGe:
      return ">=";
    default:
      return "?";
  }
}

}  // namespace

StatusOr<std::shared_ptr<const Expr>> ParseExpr(const std::string& text) {
  return Parser(text).Parse();
}

void CollectRefs(const Expr& expr, std::vector<const Expr*>* refs) {
  if (expr.op == Expr::Op::kStepOutput || expr.op == Expr::Op::kParam) refs->push_back(&expr);
  if (expr.lhs) CollectRefs(*expr.lhs, refs);
  if (expr.rhs) CollectRefs(*expr.rhs, refs);
}

StatusOr<bool> EvalCondition(const Expr& expr, const RefResolver& resolve) {
  ASSIGN_OR_RETURN(Value v, EvalValue(expr, resolve));
  return Truthy(v);
}

std::string RenderExpr(const Expr& e, const std::function<std::string(const Expr&)>& render_ref,
                       bool quote_refs_as_strings) {
  switch (e.op) {
    case Expr::Op::kLiteral:
      if (e.literal.kind == Value::Kind::kString) return "'" + e.literal.s + "'";
      return e.literal.ToText();
    case Expr::Op::kStepOutput:
    case Expr::Op::kParam:
      return quote_refs_as_strings ? "'" + render_ref(e) + "'" : render_ref(e);
    case Expr::Op::kNot:
      return "!(" + RenderExpr(*e.lhs, render_ref, quote_refs_as_strings) + ")";
    default: {
      // A reference compared with a string literal is quoted so govaluate compares text.
      bool quote = (e.lhs->op == Expr::Op::kLiteral && e.lhs->literal.kind == Value::Kind::kString) ||
                   (e.rhs->op == Expr::Op::kLiteral && e.rhs->literal.kind == Value::Kind::kString);
      return "(" + RenderExpr(*e.lhs, render_ref, quote) + " " + std::string(OpSymbol(e.op)) +
             " " + RenderExpr(*e.rhs, render_ref, quote) + ")";
    }
  }
}

}  // namespace cairn::pipeline
