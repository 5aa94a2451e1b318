#include "tracking/search/lexer.h"

#include <cctype>

#include "tracking/search/internal.h"

namespace cairn::tracking::search::internal {
namespace {

bool IsWordStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool IsWordChar(char c) {
  return IsWordStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$' || c == '#';
}
bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// Returns the end of a quoted run starting at `i` (the opening quote), or npos if unclosed.
// A doubled quote inside is part of the run; for single quotes \' is too (sqlparse's rules).
size_t QuotedEnd(std::string_view s, size_t i, char quote) {
  size_t j = i + 1;
  while (j < s.size()) {
    if (quote != '`' && s[j] == '\\' && j + 1 < s.size() && s[j + 1] == quote) {
      j += 2;
    } else if (s[j] == quote) {
      if (j + 1 < s.size() && s[j + 1] == quote) {
        j += 2;
      } else {
        return j + 1;
      }
    } else {
      ++j;
    }
  }
  return std::string_view::npos;
}

// Length of a number at i (sqlparse's rules, tried in its order, each needing no letter
// right after it), 0 if none; sets is_float.
size_t NumberLength(std::string_view s, size_t i, bool* is_float) {
  size_t j = i;
  if (j < s.size() && s[j] == '-') ++j;
  size_t int_begin = j;
  while (j < s.size() && IsDigit(s[j])) ++j;
  size_t int_end = j;
  bool has_int = int_end > int_begin;
  auto letter_at = [&](size_t k) { return k < s.size() && IsWordStart(s[k]); };
  // -?\d+(\.\d+)?E-?\d+
  if (has_int) {
    size_t k = int_end;
    if (k + 1 < s.size() && s[k] == '.' && IsDigit(s[k + 1])) {
      ++k;
      while (k < s.size() && IsDigit(s[k])) ++k;
    }
    if (k < s.size() && (s[k] == 'e' || s[k] == 'E')) {
      size_t e = k + 1;
      if (e < s.size() && s[e] == '-') ++e;
      size_t exp_begin = e;
      while (e < s.size() && IsDigit(s[e])) ++e;
      if (e > exp_begin) {
        *is_float = true;
        return e - i;
      }
    }
  }
  // -?(\d+(\.\d*)|\.\d+) not followed by a letter; the regex may backtrack to fewer
  // fraction digits ("1.5e+3" lexes as "1." then "5e" ...).
  if (int_end < s.size() && s[int_end] == '.') {
    size_t frac_end = int_end + 1;
    while (frac_end < s.size() && IsDigit(s[frac_end])) ++frac_end;
    size_t min_end = has_int ? int_end + 1 : int_end + 2;
    for (size_t e = frac_end; e >= min_end && e > int_end; --e) {
      if (!letter_at(e)) {
        *is_float = true;
        return e - i;
      }
    }
  }
  // -?\d+ not followed by a letter.
  if (has_int && !letter_at(int_end)) {
    *is_float = false;
    return int_end - i;
  }
  return 0;
}

// -?0x[0-9A-F]+ (a hexadecimal number, which MLflow never accepts as a value).
size_t HexLength(std::string_view s, size_t i) {
  size_t j = i;
  if (j < s.size() && s[j] == '-') ++j;
  if (j + 2 < s.size() && s[j] == '0' && (s[j + 1] == 'x' || s[j + 1] == 'X') &&
      std::isxdigit(static_cast<unsigned char>(s[j + 2]))) {
    j += 2;
    while (j < s.size() && std::isxdigit(static_cast<unsigned char>(s[j]))) ++j;
    return j - i;
  }
  return 0;
}

bool IsKeyword(std::string_view upper) {
  static const char* const kKeywords[] = {"AND", "OR",   "NOT",    "IN",     "IS",
                                          "NULL", "BETWEEN", "EXISTS", "SELECT", "FROM",
                                          "WHERE", "TRUE", "FALSE", "ASC", "DESC"};
  for (const char* k : kKeywords) {
    if (upper == k) return true;
  }
  return false;
}

// Scans a dotted identifier at i; returns its end, or npos on an unterminated quote.
size_t NameEnd(std::string_view s, size_t i, bool* bare_word) {
  size_t j = i;
  int parts = 0;
  bool quoted = false;
  while (true) {
    if (j < s.size() && (s[j] == '`' || s[j] == '"')) {
      size_t e = QuotedEnd(s, j, s[j]);
      if (e == std::string_view::npos) return parts == 0 ? e : j - 1;
      j = e;
      quoted = true;
    } else if (j < s.size() && IsWordChar(s[j])) {
      // After a dot sqlparse takes \w only ($ and # end the name there).
      auto part_char = [&](char ch) {
        return IsWordChar(ch) && (parts == 0 || (ch != '$' && ch != '#'));
      };
      if (!part_char(s[j])) break;
      while (j < s.size() && part_char(s[j])) ++j;
    } else {
      break;
    }
    ++parts;
    if (j < s.size() && s[j] == '.') {
      ++j;
      // A trailing dot with nothing after still belongs to the identifier ("metrics.").
      if (!(j < s.size() && (IsWordChar(s[j]) || s[j] == '`' || s[j] == '"'))) break;
    } else {
      break;
    }
  }
  *bare_word = parts == 1 && !quoted && s.substr(i, j - i).find('.') == std::string_view::npos;
  return j;
}

}  // namespace

std::vector<Token> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  auto push = [&](Tok kind, size_t begin, size_t end) {
    Token t;
    t.kind = kind;
    t.begin = begin;
    t.end = end;
    t.text = std::string(s.substr(begin, end - begin));
    out.push_back(std::move(t));
  };
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      size_t e = s.find('\n', i);
      if (e == std::string_view::npos) e = s.size();
      push(Tok::kComment, i, e);
      i = e;
      continue;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      size_t e = s.find("*/", i + 2);
      e = e == std::string_view::npos ? s.size() : e + 2;
      push(Tok::kComment, i, e);
      i = e;
      continue;
    }
    if (c == '\'') {
      size_t e = QuotedEnd(s, i, '\'');
      if (e == std::string_view::npos) {
        push(Tok::kError, i, i + 1);
        ++i;
      } else {
        push(Tok::kString, i, e);
        i = e;
      }
      continue;
    }
    bool is_float = false;
    if (size_t hex = HexLength(s, i); hex > 0) {
      push(Tok::kPunct, i, i + hex);
      i += hex;
      continue;
    }
    if (c == '-' || c == '.' || IsDigit(c)) {
      size_t len = NumberLength(s, i, &is_float);
      if (len > 0) {
        push(is_float ? Tok::kFloat : Tok::kInt, i, i + len);
        i += len;
        continue;
      }
    }
    if (IsWordStart(c) || IsDigit(c) || c == '`' || c == '"') {
      bool bare = false;
      size_t e = NameEnd(s, i, &bare);
      if (e == std::string_view::npos || e == i) {
        push(Tok::kError, i, i + 1);
        ++i;
        continue;
      }
      push(Tok::kName, i, e);
      out.back().is_bare_word = bare;
      if (bare) {
        std::string upper = Upper(out.back().text);
        if (upper == "LIKE" || upper == "ILIKE") {
          out.back().kind = Tok::kCompOp;
        } else if (IsKeyword(upper)) {
          out.back().kind = Tok::kKeyword;
        }
      }
      i = e;
      continue;
    }
    if (c == '<' || c == '>' || c == '=' || c == '~' || c == '!') {
      size_t e = i;
      while (e < s.size() && (s[e] == '<' || s[e] == '>' || s[e] == '=' || s[e] == '~' ||
                              s[e] == '!')) {
        ++e;
      }
      push(Tok::kCompOp, i, e);
      i = e;
      continue;
    }
    if (c == '(') {
      int depth = 0;
      size_t j = i;
      while (j < s.size()) {
        if (s[j] == '\'' || s[j] == '"' || s[j] == '`') {
          size_t e = QuotedEnd(s, j, s[j]);
          j = e == std::string_view::npos ? j + 1 : e;
          continue;
        }
        if (s[j] == '(') ++depth;
        if (s[j] == ')' && --depth == 0) {
          ++j;
          break;
        }
        ++j;
      }
      push(Tok::kParen, i, j);
      i = j;
      continue;
    }
    if (c == '+' || c == '-' || c == '*' || c == '/' || c == '%' || c == '|' || c == '&' ||
        c == '^') {
      push(Tok::kOp, i, i + 1);
      ++i;
      continue;
    }
    push(Tok::kPunct, i, i + 1);
    ++i;
  }
  return out;
}

namespace {

bool IsOperand(const Token& t) {
  return t.kind == Tok::kName || t.kind == Tok::kString || t.kind == Tok::kInt ||
         t.kind == Tok::kFloat || t.kind == Tok::kParen || t.kind == Tok::kFunc ||
         (t.kind == Tok::kKeyword && Upper(t.text) == "NULL");
}

// sqlparse's Function grouping: a name followed by a parenthesis (whitespace allowed), or
// LIKE/ILIKE written directly against one.
std::vector<Token> GroupFunctions(std::string_view s, std::vector<Token> toks) {
  std::vector<Token> out;
  for (size_t i = 0; i < toks.size(); ++i) {
    bool name_call = toks[i].kind == Tok::kName;
    bool like_call = toks[i].kind == Tok::kCompOp && toks[i].is_bare_word;
    if (i + 1 < toks.size() && toks[i + 1].kind == Tok::kParen &&
        (name_call || (like_call && toks[i + 1].begin == toks[i].end))) {
      Token f;
      f.kind = Tok::kFunc;
      f.begin = toks[i].begin;
      f.end = toks[i + 1].end;
      f.text = std::string(s.substr(f.begin, f.end - f.begin));
      out.push_back(std::move(f));
      ++i;
      continue;
    }
    out.push_back(std::move(toks[i]));
  }
  return out;
}

bool IsKeyword(const Token& t, std::string_view upper) {
  return t.kind == Tok::kKeyword && Upper(t.text) == upper;
}

// An operand: a literal or identifier, or an arithmetic operation of them (a-b).
size_t OperandEnd(const std::vector<Token>& toks, size_t i) {
  size_t j = i + 1;
  while (j + 1 < toks.size() && toks[j].kind == Tok::kOp && IsOperand(toks[j + 1])) j += 2;
  return j;
}

}  // namespace

StatusOr<std::vector<Item>> GroupStatement(std::string_view filter) {
  std::vector<Token> toks = GroupFunctions(filter, Tokenize(filter));
  // sqlparse splits statements at ';': text after one means several statements.
  for (size_t i = 0; i < toks.size(); ++i) {
    if (toks[i].kind == Tok::kPunct && toks[i].text == ";" && i + 1 < toks.size()) {
      return InvalidArgument("Search filter contained multiple expression " + PyRepr(filter) +
                             ". Provide AND-ed expression list.");
    }
  }
  auto raw = [&](size_t a, size_t b) {  // text of tokens [a, b)
    return std::string(filter.substr(toks[a].begin, toks[b - 1].end - toks[a].begin));
  };
  // sqlparse groups comparisons first, then `name alias` pairs into one identifier: merge a
  // name with a following bare word unless that word starts a comparison of its own.
  {
    std::vector<Token> merged;
    merged.reserve(toks.size());
    for (size_t k = 0; k < toks.size(); ++k) {
      bool alias = k + 1 < toks.size() && toks[k].kind == Tok::kName &&
                   toks[k + 1].kind == Tok::kName && toks[k + 1].is_bare_word;
      bool starts_comparison = k + 3 < toks.size() && toks[k + 2].kind == Tok::kCompOp &&
                               IsOperand(toks[k + 3]);
      bool right_of_comparison = !merged.empty() && merged.back().kind == Tok::kCompOp;
      merged.push_back(std::move(toks[k]));
      if (alias && !starts_comparison && !right_of_comparison) {
        Token& t = merged.back();
        t.end = toks[k + 1].end;
        t.text = std::string(filter.substr(t.begin, t.end - t.begin));
        t.is_bare_word = false;
        ++k;
      }
    }
    toks = std::move(merged);
  }
  // Phase 1 (sqlparse's grouping): comparisons `<operand> <op> <operand>`; everything else
  // stays one token (an operation such as a-b is one token).
  struct Unit {
    Item item;
    const Token* single = nullptr;  // the token when the unit is exactly one token
  };
  std::vector<Unit> units;
  size_t i = 0;
  while (i < toks.size()) {
    if (!IsOperand(toks[i])) {
      Item::Kind kind = IsKeyword(toks[i], "AND") ? Item::Kind::kAnd : Item::Kind::kOther;
      units.push_back({{kind, toks[i].text, {}, {}, {}}, &toks[i]});
      ++i;
      continue;
    }
    size_t j = OperandEnd(toks, i);
    if (j + 1 < toks.size() && toks[j].kind == Tok::kCompOp && IsOperand(toks[j + 1])) {
      size_t k = OperandEnd(toks, j + 1);
      Item item{Item::Kind::kComparison, raw(i, k),
                std::vector<Token>(toks.begin() + i, toks.begin() + j), toks[j].text,
                std::vector<Token>(toks.begin() + j + 1, toks.begin() + k)};
      units.push_back({std::move(item), nullptr});
      i = k;
      continue;
    }
    units.push_back({{Item::Kind::kOther, raw(i, j), {}, {}, {}}, j == i + 1 ? &toks[i] : nullptr});
    i = j;
  }

  // Phase 2: MLflow's _join_in_comparison_tokens, quirks included: after an identifier that
  // does not start [NOT] IN (...), the next three units are passed through unexamined.
  auto is_identifier = [](const Unit& u) { return u.single && u.single->kind == Tok::kName; };
  auto is_keyword = [](const Unit& u, std::string_view kw) {
    return u.single && IsKeyword(*u.single, kw);
  };
  auto is_paren = [](const Unit& u) { return u.single && u.single->kind == Tok::kParen; };
  std::vector<Item> items;
  size_t n = units.size();
  size_t idx = 0;
  while (idx < n) {
    if (n - idx < 3) {
      for (; idx < n; ++idx) items.push_back(units[idx].item);
      break;
    }
    const Unit& first = units[idx];
    if (!is_identifier(first)) {
      items.push_back(first.item);
      ++idx;
      continue;
    }
    const Unit& second = units[idx + 1];
    const Unit& third = units[idx + 2];
    if (is_keyword(second, "IN") && is_paren(third)) {
      items.push_back({Item::Kind::kComparison,
                       std::string(filter.substr(first.single->begin,
                                                 third.single->end - first.single->begin)),
                       {*first.single}, second.single->text, {*third.single}});
      idx += 3;
      continue;
    }
    if (idx + 3 >= n) {
      for (; idx < n; ++idx) items.push_back(units[idx].item);
      break;
    }
    const Unit& fourth = units[idx + 3];
    if (is_keyword(second, "NOT") && is_keyword(third, "IN") && is_paren(fourth)) {
      items.push_back({Item::Kind::kComparison,
                       std::string(filter.substr(first.single->begin,
                                                 fourth.single->end - first.single->begin)),
                       {*first.single}, "NOT IN", {*fourth.single}});
      idx += 4;
      continue;
    }
    for (size_t k = 0; k < 4; ++k) items.push_back(units[idx + k].item);
    idx += 4;
  }
  return items;
}

namespace {

// Parses one Python literal (string or number) at i; appends to list. Returns false if none.
bool ParsePyLiteral(std::string_view s, size_t* i, PyList* list) {
  size_t j = *i;
  if (j < s.size() && (s[j] == '\'' || s[j] == '"')) {
    char q = s[j];
    std::string value;
    ++j;
    while (j < s.size() && s[j] != q) {
      if (s[j] == '\\' && j + 1 < s.size()) {
        char e = s[j + 1];
        switch (e) {
          case 'n': value += '\n'; break;
          case 't': value += '\t'; break;
          case 'r': value += '\r'; break;
          case '\\': case '\'': case '"': value += e; break;
          case '\n': break;
          default: value += '\\'; value += e; break;
        }
        j += 2;
      } else {
        value += s[j++];
      }
    }
    if (j >= s.size()) return false;
    *i = j + 1;
    list->reprs.push_back(PyRepr(value));
    list->strings.push_back(std::move(value));
    return true;
  }
  size_t b = j;
  if (j < s.size() && (s[j] == '-' || s[j] == '+')) ++j;
  size_t digits = j;
  while (j < s.size() && (IsDigit(s[j]) || s[j] == '.' || s[j] == '_')) ++j;
  if (j == digits) return false;
  if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
    ++j;
    if (j < s.size() && (s[j] == '-' || s[j] == '+')) ++j;
    while (j < s.size() && IsDigit(s[j])) ++j;
  }
  std::string text(s.substr(b, j - b));
  if (text[0] == '+') text.erase(0, 1);
  list->reprs.push_back(text);
  list->all_strings = false;
  *i = j;
  return true;
}

void SkipSpace(std::string_view s, size_t* i) {
  while (*i < s.size() && std::isspace(static_cast<unsigned char>(s[*i]))) ++*i;
}

}  // namespace

PyList ParsePyList(std::string_view text) {
  PyList list;
  size_t i = 0;
  SkipSpace(text, &i);
  if (i >= text.size() || text[i] != '(') return list;
  ++i;
  SkipSpace(text, &i);
  if (i < text.size() && text[i] == ')') {
    ++i;
    SkipSpace(text, &i);
    list.ok = i == text.size();
    list.is_tuple = true;
    return list;
  }
  bool saw_comma = false;
  while (true) {
    SkipSpace(text, &i);
    if (!ParsePyLiteral(text, &i, &list)) return list;
    // Adjacent string literals concatenate in Python ('a' 'b' == 'ab'); rare, not supported.
    SkipSpace(text, &i);
    if (i < text.size() && text[i] == ',') {
      saw_comma = true;
      ++i;
      SkipSpace(text, &i);
      if (i < text.size() && text[i] == ')') break;
      continue;
    }
    if (i < text.size() && text[i] == ')') break;
    return list;
  }
  ++i;
  SkipSpace(text, &i);
  if (i != text.size()) return list;
  list.ok = true;
  list.is_tuple = saw_comma;
  return list;
}

}  // namespace cairn::tracking::search::internal
