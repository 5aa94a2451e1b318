// The tokenizer and statement grouping behind the filter parser. It reproduces what MLflow
// gets from sqlparse for filter strings: identifiers (dotted, with `backtick` or "double"
// quoted parts), 'strings', numbers, comparison operators, parenthesised groups, keywords, and
// the grouping of `<operand> <op> <operand>` and `<identifier> [NOT] IN (...)` into
// comparisons. Internal to tracking/search.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cairn::tracking::search::internal {

enum class Tok {
  kName,     // identifier: word, `quoted`, "quoted", possibly dotted (a.b.`c d`)
  kString,   // 'single quoted' (raw, quotes included)
  kInt,      // 12, -3
  kFloat,    // 1.5, .5, -2e3
  kCompOp,   // = != <> == < <= > >= LIKE ILIKE (anything of [<>=~!]+ too)
  kOp,       // + - * / % | & ^
  kParen,    // a whole (...) group, nested parens and strings included
  kKeyword,  // AND OR NOT IN IS NULL ...
  kPunct,    // , ; ) and other punctuation
  kError,    // an unterminated quote
  kComment,  // -- to end of line, or /* ... */
  kFunc,     // name(...) or name (...), LIKE(...): sqlparse groups these as a Function
};

struct Token {
  Tok kind = Tok::kError;
  size_t begin = 0;  // byte offsets into the filter string
  size_t end = 0;
  std::string text;  // filter[begin, end)
  bool is_bare_word = false;  // kName made of one unquoted word (no dots)
};

std::vector<Token> Tokenize(std::string_view text);

// A statement item after grouping.
struct Item {
  enum class Kind { kComparison, kAnd, kOther };
  Kind kind = Kind::kOther;
  std::string text;  // raw text of the whole item
  // kComparison only:
  std::vector<Token> left;   // one token when the left side is an identifier
  std::string op;            // as written, "NOT IN" for the joined form
  std::vector<Token> right;  // one token unless the right side is an operation
};

// Groups the tokens of one statement. Fails (MLflow's message) if the text holds more than
// one ;-separated statement.
StatusOr<std::vector<Item>> GroupStatement(std::string_view filter);

// Python's ast.literal_eval applied to a parenthesised list of literals, as MLflow uses it
// for IN (...). Elements are strings or numbers; `reprs` receives Python reprs of every
// element (for error messages) and `strings` the string elements.
struct PyList {
  bool ok = false;  // false: not a literal list (MLflow: "ill-formed list")
  bool is_tuple = false;  // (a, b) or (a,) rather than a single parenthesised literal
  std::vector<std::string> reprs;
  std::vector<std::string> strings;
  bool all_strings = true;
};
PyList ParsePyList(std::string_view paren_text);

}  // namespace cairn::tracking::search::internal
