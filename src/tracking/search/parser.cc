// Filter and order_by parsing: the rules of SearchUtils and its per-entity subclasses
// (SearchExperimentsUtils, SearchModelUtils, SearchModelVersionUtils) and of
// search_logged_model_utils.parse_filter_string, on top of the sqlparse-like lexer.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <fmt/format.h>

#include "tracking/search/internal.h"
#include "tracking/search/lexer.h"
#include "tracking/search/search.h"

namespace cairn::tracking::search {
namespace internal {

const std::vector<std::string> kMetricComparators = {">", ">=", "!=", "=", "<", "<="};
const std::vector<std::string> kParamTagComparators = {"!=", "=", "LIKE", "ILIKE"};
const std::vector<std::string> kStringAttributeComparators = {"!=",    "=",  "LIKE",
                                                              "ILIKE", "IN", "NOT IN"};
const std::vector<std::string> kNumericAttributeComparators = kMetricComparators;
const std::vector<std::string> kDatasetComparators = kStringAttributeComparators;

bool Contains(const std::vector<std::string>& set, std::string_view item) {
  return std::find(set.begin(), set.end(), item) != set.end();
}

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string PyRepr(std::string_view text) {
  char quote = '\'';
  if (text.find('\'') != std::string_view::npos && text.find('"') == std::string_view::npos) {
    quote = '"';
  }
  std::string out(1, quote);
  for (char c : text) {
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  out += quote;
  return out;
}

std::string PySetRepr(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += PyRepr(items[i]);
  }
  return out + "}";
}

std::string PyListRepr(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += PyRepr(items[i]);
  }
  return out + "]";
}

namespace {

std::string TupleRepr(const std::vector<std::string>& reprs) {
  std::string out = "(";
  for (size_t i = 0; i < reprs.size(); ++i) {
    if (i) out += ", ";
    out += reprs[i];
  }
  if (reprs.size() == 1) out += ",";
  return out + ")";
}

bool IsQuoted(std::string_view v, char q) {
  return v.size() >= 2 && v.front() == q && v.back() == q;
}
std::string TrimEnds(std::string_view v) { return std::string(v.substr(1, v.size() - 2)); }
std::string TrimBackticks(std::string_view v) {
  return IsQuoted(v, '`') ? TrimEnds(v) : std::string(v);
}

// SearchUtils._strip_quotes.
StatusOr<std::string> StripQuotes(std::string_view v, bool expect_quoted) {
  if (IsQuoted(v, '\'') || IsQuoted(v, '"')) return TrimEnds(v);
  if (expect_quoted) {
    return InvalidArgument(
        "Parameter value is either not quoted or unidentified quote types used for string "
        "value " +
        std::string(v) + ". Use either single or double quotes.");
  }
  return std::string(v);
}

// Python's str.islower(): some cased character and none upper-case (ASCII view).
bool PyIsLower(std::string_view s) {
  bool cased = false;
  for (char c : s) {
    if (std::isupper(static_cast<unsigned char>(c))) return false;
    if (std::islower(static_cast<unsigned char>(c))) cased = true;
  }
  return cased;
}

// SearchUtils._parse_list_from_sql_token + _parse_run_ids.
StatusOr<std::vector<std::string>> ParseRunIdList(std::string_view paren_text) {
  PyList list = ParsePyList(paren_text);
  if (!list.ok) {
    return InvalidArgument(
        "While parsing a list in the query, expected a non-empty list of string values, but "
        "got ill-formed list.");
  }
  if (list.reprs.empty()) {
    return InvalidArgument(
        "While parsing a list in the query, expected a non-empty list of string values, but "
        "got empty list");
  }
  if (!list.all_strings) {
    return InvalidArgument(
        "While parsing a list in the query, expected string value, punctuation, or whitespace, "
        "but got different type in list: " +
        TupleRepr(list.reprs));
  }
  std::vector<std::string> out;
  for (auto& s : list.strings) {
    if (PyIsLower(s)) out.push_back(std::move(s));
  }
  return out;
}

bool IsNumberTok(const std::vector<Token>& t) {
  return t.size() == 1 && (t[0].kind == Tok::kInt || t[0].kind == Tok::kFloat);
}
bool IsStringOrIdentTok(const std::vector<Token>& t) {
  return t.size() == 1 && (t[0].kind == Tok::kString || t[0].kind == Tok::kName);
}
bool IsParenTok(const std::vector<Token>& t) {
  return t.size() == 1 && t[0].kind == Tok::kParen;
}
std::string RawText(const std::vector<Token>& t, std::string_view filter) {
  return std::string(filter.substr(t.front().begin, t.back().end - t.front().begin));
}

FilterValue StringValue(std::string s) {
  FilterValue v;
  v.kind = FilterValue::Kind::kString;
  v.text = std::move(s);
  return v;
}
FilterValue NumberValue(std::string s) {
  FilterValue v;
  v.kind = FilterValue::Kind::kNumber;
  v.text = std::move(s);
  return v;
}
FilterValue ListValue(std::vector<std::string> l) {
  FilterValue v;
  v.kind = FilterValue::Kind::kList;
  v.list = std::move(l);
  return v;
}

// ---- Identifiers -------------------------------------------------------------------------

const std::vector<std::string> kRunIdentifiers = {"metric", "parameter", "tag", "attribute",
                                                  "dataset"};

// SearchUtils._valid_entity_type.
StatusOr<KeyType> RunEntityType(std::string_view raw) {
  std::string e = TrimBackticks(raw);
  if (e == "metric" || e == "metrics") return KeyType::kMetric;
  if (e == "parameter" || e == "parameters" || e == "param" || e == "params") {
    return KeyType::kParam;
  }
  if (e == "tag" || e == "tags") return KeyType::kTag;
  if (e == "attribute" || e == "attr" || e == "attributes" || e == "run") {
    return KeyType::kAttribute;
  }
  if (e == "dataset" || e == "datasets") return KeyType::kDataset;
  return InvalidArgument("Invalid entity type '" + e + "'. Valid values are " +
                         PyListRepr(kRunIdentifiers));
}

std::pair<std::string, std::string> SplitFirstDot(std::string_view identifier, bool* has_dot) {
  size_t dot = identifier.find('.');
  *has_dot = dot != std::string_view::npos;
  if (!*has_dot) return {"", std::string(identifier)};
  return {std::string(identifier.substr(0, dot)), std::string(identifier.substr(dot + 1))};
}

const std::vector<std::string> kRunSearchAttributes = {
    "artifact_uri", "end_time", "run_id",  "run_name",  "start_time", "status",
    "user_id",      "created",  "Created", "run name",  "Run name",   "Run Name"};
const std::vector<std::string> kRunOrderAttributes = {
    "artifact_uri", "end_time", "run_id",  "run_name", "start_time",
    "status",       "user_id",  "created", "Created"};
const std::vector<std::string> kRunNumericAttributes = {"start_time", "end_time", "created",
                                                        "Created"};
const std::vector<std::string> kDatasetAttributes = {"name", "digest", "context"};

// SearchUtils._get_identifier.
StatusOr<std::pair<KeyType, std::string>> RunIdentifier(std::string_view identifier,
                                                        const std::vector<std::string>& valid) {
  bool has_dot = false;
  auto [entity, key] = SplitFirstDot(identifier, &has_dot);
  KeyType type = KeyType::kAttribute;
  if (has_dot) {
    ASSIGN_OR_RETURN(type, RunEntityType(entity));
  } else {
    // A bare key still goes through _valid_entity_type("attribute").
  }
  ASSIGN_OR_RETURN(std::string stripped, StripQuotes(key, false));
  key = TrimBackticks(stripped);
  if (type == KeyType::kAttribute && !Contains(valid, key)) {
    return InvalidArgument("Invalid attribute key '" + key + "' specified. Valid keys are '" +
                           PySetRepr(valid) + "'");
  }
  if (type == KeyType::kDataset && !Contains(kDatasetAttributes, key)) {
    return InvalidArgument("Invalid dataset key '" + key + "' specified. Valid keys are '" +
                           PySetRepr(kDatasetAttributes) + "'");
  }
  return std::make_pair(type, key);
}

// SearchExperimentsUtils._get_identifier (also used for registry order_by).
StatusOr<std::pair<KeyType, std::string>> ExperimentIdentifier(
    std::string_view identifier, const std::vector<std::string>& valid) {
  bool has_dot = false;
  auto [entity, key] = SplitFirstDot(identifier, &has_dot);
  KeyType type = KeyType::kAttribute;
  if (has_dot) {
    if (entity != "attribute" && entity != "tag" && entity != "tags") {
      return InvalidArgument("Invalid entity type '" + entity +
                             "'. Valid entity types are ('attribute', 'tag', 'tags')");
    }
    type = entity == "attribute" ? KeyType::kAttribute : KeyType::kTag;
  }
  ASSIGN_OR_RETURN(std::string stripped, StripQuotes(key, false));
  key = TrimBackticks(stripped);
  if (type == KeyType::kAttribute && !Contains(valid, key)) {
    return InvalidArgument("Invalid attribute key '" + key + "' specified. Valid keys are '" +
                           PySetRepr(valid) + "'");
  }
  return std::make_pair(type, key);
}

// SearchModelUtils._get_model_search_identifier / the model-version twin: the attribute key
// is checked before quotes are stripped.
StatusOr<std::pair<KeyType, std::string>> RegistryIdentifier(
    std::string_view identifier, const std::vector<std::string>& valid) {
  bool has_dot = false;
  auto [entity, key] = SplitFirstDot(identifier, &has_dot);
  KeyType type = KeyType::kAttribute;
  if (has_dot) {
    if (entity != "attribute" && entity != "tag" && entity != "tags") {
      return InvalidArgument("Invalid entity type '" + entity +
                             "'. Valid entity types are ('attribute', 'tag', 'tags')");
    }
    type = entity == "attribute" ? KeyType::kAttribute : KeyType::kTag;
  }
  if (type == KeyType::kAttribute && !Contains(valid, key)) {
    return InvalidArgument("Invalid attribute key '" + key + "' specified. Valid keys are '" +
                           PySetRepr(valid) + "'");
  }
  ASSIGN_OR_RETURN(std::string stripped, StripQuotes(key, false));
  return std::make_pair(type, TrimBackticks(stripped));
}

// ---- Values -------------------------------------------------------------------------------

// SearchUtils._get_value (runs and experiments).
StatusOr<FilterValue> RunValue(KeyType type, const std::string& key,
                               const std::vector<std::string>& numeric_attributes,
                               const std::vector<Token>& tok, std::string_view filter) {
  std::string text = RawText(tok, filter);
  switch (type) {
    case KeyType::kMetric:
      if (!IsNumberTok(tok)) {
        return InvalidArgument("Expected numeric value type for metric. Found " + text);
      }
      return NumberValue(text);
    case KeyType::kParam:
    case KeyType::kTag:
      if (IsStringOrIdentTok(tok)) {
        ASSIGN_OR_RETURN(std::string s, StripQuotes(text, true));
        return StringValue(std::move(s));
      }
      return InvalidArgument("Expected a quoted string value for " +
                             std::string(KeyTypeName(type)) + " (e.g. 'my-value'). Got value " +
                             text);
    case KeyType::kAttribute:
      if (Contains(numeric_attributes, key)) {
        if (!IsNumberTok(tok)) {
          return InvalidArgument("Expected numeric value type for numeric attribute: " + key +
                                 ". Found " + text);
        }
        return NumberValue(text);
      }
      if (IsStringOrIdentTok(tok)) {
        ASSIGN_OR_RETURN(std::string s, StripQuotes(text, true));
        return StringValue(std::move(s));
      }
      if (IsParenTok(tok)) {
        if (key != "run_id") {
          return InvalidArgument(
              "Only the 'run_id' attribute supports comparison with a list of quoted string "
              "values.");
        }
        ASSIGN_OR_RETURN(auto list, ParseRunIdList(text));
        return ListValue(std::move(list));
      }
      return InvalidArgument("Expected a quoted string value for attributes. Got value " + text);
    case KeyType::kDataset:
      if (IsStringOrIdentTok(tok)) {
        ASSIGN_OR_RETURN(std::string s, StripQuotes(text, true));
        return StringValue(std::move(s));
      }
      if (IsParenTok(tok)) {
        ASSIGN_OR_RETURN(auto list, ParseRunIdList(text));
        return ListValue(std::move(list));
      }
      return InvalidArgument(
          "Expected a quoted string value for dataset attributes. Got value " + text);
  }
  return Internal("unreachable key type");
}

const std::vector<std::string> kModelVersionNumericAttributes = {
    "version_number", "creation_timestamp", "last_updated_timestamp"};

// SearchModelUtils._get_value / SearchModelVersionUtils._get_value.
StatusOr<FilterValue> RegistryValue(Entity entity, KeyType type, const std::string& key,
                                    const std::vector<Token>& tok, std::string_view filter) {
  std::string text = RawText(tok, filter);
  if (type == KeyType::kTag) {
    if (IsStringOrIdentTok(tok)) {
      ASSIGN_OR_RETURN(std::string s, StripQuotes(text, true));
      return StringValue(std::move(s));
    }
    return InvalidArgument("Expected a quoted string value for tag (e.g. 'my-value'). Got value " +
                           text);
  }
  if (IsStringOrIdentTok(tok)) {
    ASSIGN_OR_RETURN(std::string s, StripQuotes(text, true));
    return StringValue(std::move(s));
  }
  if (IsParenTok(tok)) {
    if (key != "run_id") {
      return InvalidArgument(
          "Only the 'run_id' attribute supports comparison with a list of quoted string "
          "values.");
    }
    ASSIGN_OR_RETURN(auto list, ParseRunIdList(text));
    return ListValue(std::move(list));
  }
  if (entity == Entity::kModelVersions && IsNumberTok(tok)) {
    if (!Contains(kModelVersionNumericAttributes, key)) {
      return InvalidArgument("Only the '" + PySetRepr(kModelVersionNumericAttributes) +
                             "' attributes support comparison with numeric values.");
    }
    return NumberValue(text);
  }
  return InvalidArgument(
      "Expected a quoted string value or a list of quoted string values for attributes. Got "
      "value " +
      text);
}

// ---- Per-entity statement processing -------------------------------------------------------

StatusOr<std::vector<Item>> ComparisonsOrError(std::string_view filter, bool quote_invalids) {
  ASSIGN_OR_RETURN(std::vector<Item> items, GroupStatement(filter));
  std::vector<std::string> invalid;
  for (const Item& item : items) {
    if (item.kind == Item::Kind::kOther) {
      invalid.push_back(quote_invalids ? "'" + item.text + "'" : item.text);
    }
  }
  if (!invalid.empty()) {
    std::string joined;
    for (size_t i = 0; i < invalid.size(); ++i) joined += (i ? ", " : "") + invalid[i];
    return InvalidArgument("Invalid clause(s) in filter string: " + joined);
  }
  std::vector<Item> comparisons;
  for (Item& item : items) {
    if (item.kind == Item::Kind::kComparison) comparisons.push_back(std::move(item));
  }
  return comparisons;
}

// SearchUtils._validate_comparison: the left side must be an identifier.
Status ValidateComparison(const Item& c, std::string_view filter) {
  if (c.left.size() != 1 || c.left[0].kind != Tok::kName) {
    return InvalidArgument("Invalid comparison clause. Expected 'Identifier' found '" +
                           RawText(c.left, filter) + "'");
  }
  return OkStatus();
}

std::string ComparatorAsKept(const Item& c, bool upper) {
  return upper ? Upper(c.op) : c.op;
}

StatusOr<std::vector<Clause>> ParseRunFilter(std::string_view filter) {
  ASSIGN_OR_RETURN(auto comparisons, ComparisonsOrError(filter, true));
  std::vector<Clause> out;
  for (const Item& c : comparisons) {
    RETURN_IF_ERROR(ValidateComparison(c, filter));
    Clause clause;
    ASSIGN_OR_RETURN(auto ident, RunIdentifier(c.left[0].text, kRunSearchAttributes));
    clause.type = ident.first;
    clause.key = ident.second;
    clause.comparator = ComparatorAsKept(c, false);
    ASSIGN_OR_RETURN(clause.value,
                     RunValue(clause.type, clause.key, kRunNumericAttributes, c.right, filter));
    out.push_back(std::move(clause));
  }
  return out;
}

const std::vector<std::string> kExperimentSearchAttributes = {"name", "creation_time",
                                                              "last_update_time"};
const std::vector<std::string> kExperimentOrderAttributes = {"name", "experiment_id",
                                                             "creation_time", "last_update_time"};
const std::vector<std::string> kExperimentNumericAttributes = {"creation_time",
                                                               "last_update_time"};

StatusOr<std::vector<Clause>> ParseExperimentFilter(std::string_view filter) {
  ASSIGN_OR_RETURN(auto comparisons, ComparisonsOrError(filter, false));
  std::vector<Clause> out;
  for (const Item& c : comparisons) {
    RETURN_IF_ERROR(ValidateComparison(c, filter));
    Clause clause;
    ASSIGN_OR_RETURN(auto ident, ExperimentIdentifier(c.left[0].text, kExperimentSearchAttributes));
    clause.type = ident.first;
    clause.key = ident.second;
    clause.comparator = ComparatorAsKept(c, false);
    ASSIGN_OR_RETURN(clause.value, RunValue(clause.type, clause.key, kExperimentNumericAttributes,
                                            c.right, filter));
    out.push_back(std::move(clause));
  }
  return out;
}

const std::vector<std::string> kRegisteredModelSearchAttributes = {"name"};
const std::vector<std::string> kModelVersionSearchAttributes = {"name", "version_number",
                                                                "run_id", "source_path"};

StatusOr<std::vector<Clause>> ParseRegistryFilter(Entity entity, std::string_view filter) {
  ASSIGN_OR_RETURN(auto comparisons, ComparisonsOrError(filter, false));
  const auto& valid = entity == Entity::kRegisteredModels ? kRegisteredModelSearchAttributes
                                                          : kModelVersionSearchAttributes;
  std::vector<Clause> out;
  for (const Item& c : comparisons) {
    RETURN_IF_ERROR(ValidateComparison(c, filter));
    Clause clause;
    ASSIGN_OR_RETURN(auto ident, RegistryIdentifier(c.left[0].text, valid));
    clause.type = ident.first;
    clause.key = ident.second;
    clause.comparator = ComparatorAsKept(c, true);
    ASSIGN_OR_RETURN(clause.value, RegistryValue(entity, clause.type, clause.key, c.right, filter));
    out.push_back(std::move(clause));
  }
  return out;
}

// Python repr of a float, for logged-model numeric values (float(value)).
std::string PyFloatRepr(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  if (s == "inf") return "inf";
  return s;
}

// Whether Python's float() accepts `v`: decimal literals and inf/infinity/nan, optional sign
// and surrounding whitespace; never hex (std::strtod would take it).
bool IsPyFloat(std::string_view v) {
  size_t b = v.find_first_not_of(" \t\n\r");
  size_t e = v.find_last_not_of(" \t\n\r");
  if (b == std::string_view::npos) return false;
  v = v.substr(b, e - b + 1);
  if (!v.empty() && (v[0] == '+' || v[0] == '-')) v.remove_prefix(1);
  std::string upper = Upper(v);
  if (upper == "INF" || upper == "INFINITY" || upper == "NAN") return true;
  size_t i = 0;
  size_t digits = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i, ++digits;
  if (i < v.size() && v[i] == '.') {
    ++i;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
    ++i;
    if (i < v.size() && (v[i] == '+' || v[i] == '-')) ++i;
    size_t exp = i;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
    if (i == exp) return false;
  }
  return i == v.size();
}

// mlflow/utils/search_logged_model_utils.py: parse_filter_string.
StatusOr<std::vector<Clause>> ParseLoggedModelFilter(std::string_view filter) {
  auto grouped = GroupStatement(filter);
  if (!grouped.ok()) {
    return InvalidArgument("Invalid filter string: " + PyRepr(filter) +
                           ". Expected a single SQL expression.");
  }
  std::vector<Clause> out;
  Status deferred;
  for (const Item& item : *grouped) {
    if (item.kind == Item::Kind::kAnd) continue;
    if (item.kind == Item::Kind::kOther) {
      return InvalidArgument(
          "Invalid filter string: " + PyRepr(filter) +
          ". Expected a list of comparisons separated by 'AND' (e.g. 'metrics.loss > 0.1 AND "
          "params.lr = 0.01').");
    }
    if (item.left.size() != 1 || item.right.size() != 1) {
      return InvalidArgument("Invalid comparison: " + item.text +
                             ". Expected a comparison with 3 tokens.");
    }
    Clause clause;
    std::string identifier = item.left[0].text;
    auto strip_backticks = [](std::string s) {
      size_t b = s.find_first_not_of('`');
      size_t e = s.find_last_not_of('`');
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    // Entity.IDENTIFIER_RE: ^([a-z]+)\.(.+)$
    size_t letters = 0;
    while (letters < identifier.size() && identifier[letters] >= 'a' &&
           identifier[letters] <= 'z') {
      ++letters;
    }
    bool dotted = letters > 0 && letters + 1 < identifier.size() && identifier[letters] == '.' &&
                  identifier.find('\n', letters) == std::string::npos;
    if (dotted) {
      std::string entity = identifier.substr(0, letters);
      if (entity == "attributes") {
        clause.type = KeyType::kAttribute;
      } else if (entity == "metrics") {
        clause.type = KeyType::kMetric;
      } else if (entity == "params") {
        clause.type = KeyType::kParam;
      } else if (entity == "tags") {
        clause.type = KeyType::kTag;
      } else {
        return InvalidArgument("Invalid entity type: " + PyRepr(entity) +
                               ". Expected one of ['attributes', 'metrics', 'params', 'tags'].");
      }
      clause.key = strip_backticks(identifier.substr(letters + 1));
    } else {
      std::string key = identifier;
      if (key == "creation_time" || key == "creation_timestamp") key = "creation_timestamp_ms";
      if (key == "last_updated_timestamp") key = "last_updated_timestamp_ms";
      clause.key = strip_backticks(key);
    }
    bool numeric = clause.type == KeyType::kMetric ||
                   (clause.type == KeyType::kAttribute &&
                    (clause.key == "creation_timestamp_ms" || clause.key == "creation_time" ||
                     clause.key == "creation_timestamp" ||
                     clause.key == "last_updated_timestamp_ms" ||
                     clause.key == "last_updated_timestamp"));
    static const std::vector<std::string> kNumericOps = {"<", "<=", ">", ">=", "=", "!="};
    static const std::vector<std::string> kStringOps = {"=",     "!=", "LIKE",
                                                        "ILIKE", "IN", "NOT IN"};
    const std::string& op = item.op;
    if (!Contains(numeric ? kNumericOps : kStringOps, op)) {
      return InvalidArgument("Invalid comparison operator for " +
                             std::string(clause.type == KeyType::kAttribute ? "attributes"
                                         : clause.type == KeyType::kMetric  ? "metrics"
                                         : clause.type == KeyType::kParam   ? "params"
                                                                            : "tags") +
                             "." + clause.key + ": " + PyRepr(op) +
                             ". Expected one of ('=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN').");
    }
    clause.comparator = op;
    std::string value = item.right[0].text;
    if (numeric) {
      // Python's float(): decimal literals, inf/infinity/nan; never hex (strtod would).
      if (!IsPyFloat(value)) {
        return InvalidArgument("could not convert string to float: " + PyRepr(value));
      }
      double d = std::strtod(value.c_str(), nullptr);
      clause.value = NumberValue(PyFloatRepr(d));
    } else if (value.size() >= 2 && value.front() == '(' && value.back() == ')') {
      PyList list = ParsePyList(value);
      Status list_error = InvalidArgument("Invalid filter string: " + PyRepr(filter) +
                                          ". Expected a list of quoted strings in " + value);
      if (!list.ok) return list_error;
      // MLflow accepts (1) here and fails later in SQL (a 500); report it after the checks of
      // the remaining comparisons, as the error MLflow would have shown first.
      if (!list.all_strings && deferred.ok()) deferred = list_error;
      clause.value = ListValue(list.strings);
    } else {
      size_t b = value.find_first_not_of('\'');
      size_t e = value.find_last_not_of('\'');
      clause.value = StringValue(b == std::string::npos ? "" : value.substr(b, e - b + 1));
    }
    out.push_back(std::move(clause));
  }
  if (!deferred.ok()) return deferred;
  return out;
}

// ---- order_by ------------------------------------------------------------------------------

// POSIX shlex.split of a short string; nullopt on an unterminated quote.
std::optional<std::vector<std::string>> ShlexSplit(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  bool in_token = false;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_token) out.push_back(std::move(cur));
      cur.clear();
      in_token = false;
      ++i;
    } else if (c == '\'') {
      size_t e = s.find('\'', i + 1);
      if (e == std::string_view::npos) return std::nullopt;
      cur += s.substr(i + 1, e - i - 1);
      in_token = true;
      i = e + 1;
    } else if (c == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size() &&
            (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == '$' || s[i + 1] == '`')) {
          ++i;
        }
        cur += s[i++];
      }
      if (i >= s.size()) return std::nullopt;
      ++i;
      in_token = true;
    } else if (c == '\\' && i + 1 < s.size()) {
      cur += s[i + 1];
      in_token = true;
      i += 2;
    } else {
      cur += c;
      in_token = true;
      ++i;
    }
  }
  if (in_token) out.push_back(std::move(cur));
  return out;
}

// SearchUtils._parse_order_by_string: "<identifier> [ASC|DESC]" -> (identifier, ascending).
StatusOr<std::pair<std::string, bool>> ParseOrderByString(std::string_view order_by) {
  std::string quoted = PyRepr(order_by);
  std::string cannot = "Invalid order_by clause " + std::string("'") + std::string(order_by) +
                       "'. Could not be parsed.";
  std::vector<Token> toks = Tokenize(order_by);
  // sqlparse must see a single identifier, optionally followed by one word (ASC/DESC or an
  // alias, which the next step rejects).
  bool shape_ok = !toks.empty() && toks.size() <= 2 && toks[0].kind == Tok::kName &&
                  (toks.size() == 1 ||
                   (toks[1].kind == Tok::kKeyword || toks[1].kind == Tok::kName));
  if (!shape_ok) return InvalidArgument(cannot);
  // `timestamp` is a builtin type name to sqlparse, not an identifier: only "timestamp" and
  // "timestamp ASC|DESC" get through.
  if (toks[0].is_bare_word && Upper(toks[0].text) == "TIMESTAMP") {
    bool order_word = toks.size() == 2 && toks[1].kind == Tok::kKeyword &&
                      (Upper(toks[1].text) == "ASC" || Upper(toks[1].text) == "DESC");
    if (toks[0].text != "timestamp" || (toks.size() == 2 && !order_word)) {
      return InvalidArgument(cannot);
    }
  }
  std::string text(order_by.substr(toks[0].begin, toks.back().end - toks[0].begin));
  std::replace(text.begin(), text.end(), '`', '"');
  auto words = ShlexSplit(text);
  if (!words || words->empty() || words->size() > 2) return InvalidArgument(cannot);
  bool ascending = true;
  if (words->size() == 2) {
    std::string order = (*words)[1];
    for (char& c : order) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (order != "asc" && order != "desc") {
      return InvalidArgument("Invalid ordering key in order_by clause '" +
                             std::string(order_by) + "'.");
    }
    ascending = order == "asc";
  }
  // A lone identifier is used as written (quotes included); with a direction, shlex's word.
  std::string key = words->size() == 1 ? toks[0].text : (*words)[0];
  size_t b = key.find_first_not_of(" \t\n\r");
  size_t e = key.find_last_not_of(" \t\n\r");
  key = b == std::string::npos ? "" : key.substr(b, e - b + 1);
  return std::make_pair(key, ascending);
}

}  // namespace

StatusOr<OrderTerm> ParseRunOrderBy(std::string_view order_by) {
  ASSIGN_OR_RETURN(auto parsed, ParseOrderByString(order_by));
  ASSIGN_OR_RETURN(auto ident, RunIdentifier(parsed.first, kRunOrderAttributes));
  return OrderTerm{ident.first, ident.second, parsed.second};
}

StatusOr<OrderTerm> ParseExperimentOrderBy(std::string_view order_by) {
  ASSIGN_OR_RETURN(auto parsed, ParseOrderByString(order_by));
  ASSIGN_OR_RETURN(auto ident, ExperimentIdentifier(parsed.first, kExperimentOrderAttributes));
  return OrderTerm{ident.first, ident.second, parsed.second};
}

StatusOr<OrderTerm> ParseRegisteredModelOrderBy(std::string_view order_by) {
  ASSIGN_OR_RETURN(auto parsed, ParseOrderByString(order_by));
  static const std::vector<std::string> kValid = {"timestamp", "last_updated_timestamp", "name"};
  if (!Contains(kValid, parsed.first)) {
    return InvalidArgument("Invalid order by key '" + parsed.first +
                           "' specified. Valid keys are '" + PySetRepr({"name", "timestamp"}) +
                           "'");
  }
  return OrderTerm{KeyType::kAttribute, parsed.first, parsed.second};
}

StatusOr<OrderTerm> ParseModelVersionOrderBy(std::string_view order_by) {
  static const std::vector<std::string> kValid = {"name", "version_number", "creation_timestamp",
                                                  "last_updated_timestamp"};
  ASSIGN_OR_RETURN(auto parsed, ParseOrderByString(order_by));
  ASSIGN_OR_RETURN(auto ident, ExperimentIdentifier(parsed.first, kValid));
  if (!Contains(kValid, ident.second)) {
    return InvalidArgument("Invalid order by key '" + ident.second +
                           "' specified. Valid keys are " + PySetRepr(kValid));
  }
  return OrderTerm{ident.first, ident.second, parsed.second};
}

}  // namespace internal

using internal::Item;
using internal::Tok;
using internal::Token;

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kMetric: return "metric";
    case KeyType::kParam: return "parameter";
    case KeyType::kTag: return "tag";
    case KeyType::kAttribute: return "attribute";
    case KeyType::kDataset: return "dataset";
  }
  return "attribute";
}

StatusOr<std::vector<Clause>> ParseFilter(Entity entity, std::string_view filter) {
  if (filter.empty()) return std::vector<Clause>{};
  switch (entity) {
    case Entity::kRuns: return internal::ParseRunFilter(filter);
    case Entity::kExperiments: return internal::ParseExperimentFilter(filter);
    case Entity::kRegisteredModels:
    case Entity::kModelVersions: return internal::ParseRegistryFilter(entity, filter);
    case Entity::kLoggedModels: return internal::ParseLoggedModelFilter(filter);
  }
  return InvalidArgument("unknown search entity");
}

namespace {
std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}
}  // namespace

std::string FormatClauses(const std::vector<Clause>& clauses) {
  std::string out;
  for (const Clause& c : clauses) {
    out += std::string(KeyTypeName(c.type)) + " " + JsonString(c.key) + " " + c.comparator + " ";
    switch (c.value.kind) {
      case FilterValue::Kind::kString: out += JsonString(c.value.text); break;
      case FilterValue::Kind::kNumber: out += c.value.text; break;
      case FilterValue::Kind::kList: {
        out += "[";
        for (size_t i = 0; i < c.value.list.size(); ++i) {
          out += (i ? ", " : "") + JsonString(c.value.list[i]);
        }
        out += "]";
        break;
      }
    }
    out += "\n";
  }
  return out;
}

}  // namespace cairn::tracking::search
