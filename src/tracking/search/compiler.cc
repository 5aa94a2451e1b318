// Filter + order_by -> SQL fragments, following MLflow's SQLAlchemy stores
// (_get_sqlalchemy_filter_clauses, _get_orderby_clauses, _get_search_experiments_*,
// the registry's _get_search_*_filter_clauses, search_logged_models). MLflow joins a subquery
// per filter; here run metric/param/tag filters are inner joins on the (run, key) primary key
// (one row per run, see CompileRunClause) and the other clauses are
// `<key column> IN (SELECT ... )`, a semi-join that selects
// the same rows without duplicates (no DISTINCT needed). The subqueries are uncorrelated, so
// SQLite evaluates each once and can drive the search from a selective one (measured 2-5x
// faster than correlated EXISTS over 100k runs; PostgreSQL plans both as semi-joins). Every
// value goes through a `?`.
#include <cstdlib>
#include <optional>
#include <set>

#include "tracking/search/internal.h"
#include "tracking/search/search.h"

namespace cairn::tracking::search {
namespace {

using internal::Contains;
using internal::OrderTerm;
using internal::PyListRepr;
using internal::PySetRepr;
using internal::Upper;

// Accumulates the fragments of one query.
class Builder {
 public:
  explicit Builder(Dialect dialect) : dialect_(dialect) {}

  void AddWhere(const std::string& expr) {
    if (!where_.empty()) where_ += " AND ";
    where_ += expr;
  }
  // A `?` in the WHERE text: the caller appends the returned "?" to its expression.
  std::string Bind(BindValue v) {
    where_binds_.push_back(std::move(v));
    return "?";
  }
  std::string BindJoin(BindValue v) {
    join_binds_.push_back(std::move(v));
    return "?";
  }
  void AddJoin(const std::string& join) { joins_ += " " + join; }
  // A run filter join, also kept in the fixed-order form used by MetricFirstOrder: there the
  // filter tables are joined on the driving metric row ("{run}" stands for its alias), params
  // and tags (usually the most selective) before metric filters, all before `runs`, so most
  // scanned runs are rejected after one or two primary-key lookups.
  void AddFilterJoin(const std::string& table_and_alias, const std::string& alias,
                     bool metric) {
    AddJoin("JOIN " + table_and_alias + " ON " + alias + ".run_uuid = r.run_uuid");
    std::string fixed = (dialect_ == Dialect::kSqlite ? " CROSS JOIN " : " JOIN ") +
                        table_and_alias + " ON " + alias + ".run_uuid = {run}.run_uuid";
    (metric ? fixed_metric_joins_ : fixed_kv_joins_) += fixed;
  }
  // The fixed-order filter joins onto `driver`'s run_uuid.
  std::string fixed_order_joins(const std::string& driver) const {
    std::string out = fixed_kv_joins_ + fixed_metric_joins_;
    for (size_t p; (p = out.find("{run}")) != std::string::npos;) out.replace(p, 5, driver);
    return out;
  }
  const std::string& joins() const { return joins_; }
  const std::vector<BindValue>& join_binds() const { return join_binds_; }
  const std::string& order() const { return order_; }
  Dialect dialect() const { return dialect_; }
  void AddOrder(const std::string& term) {
    if (!order_.empty()) order_ += ", ";
    order_ += term;
  }
  // Sort nulls (case 1) after values (case 0) whatever the direction, then by the value.
  // SQLite sorts NULL below every value, so DESC already puts them last there: the plain
  // column lets an index give the order (and stop at the LIMIT) instead of a full sort.
  void AddOrderNullsLast(const std::string& column, bool ascending) {
    if (!ascending && dialect_ == Dialect::kSqlite) {
      AddOrder(column + " DESC");
      return;
    }
    AddOrder("CASE WHEN " + column + " IS NULL THEN 1 ELSE 0 END");
    AddOrder(column + (ascending ? " ASC" : " DESC"));
  }
  std::string NextAlias(const std::string& prefix) { return prefix + std::to_string(++alias_); }

  // `column <comparator> value` for a comparator MLflow accepted; binds the value.
  StatusOr<std::string> Compare(const std::string& column, const std::string& comparator,
                                const FilterValue& value, bool numeric_column) {
    if (comparator == "IN" || comparator == "NOT IN") {
      if (value.kind != FilterValue::Kind::kList) {
        return InvalidArgument("Invalid comparator '" + comparator + "' for a single value");
      }
      // An empty list (all ids dropped) matches nothing for IN, everything for NOT IN.
      if (value.list.empty()) return std::string(comparator == "IN" ? "1 = 0" : "1 = 1");
      std::string expr = column + (comparator == "IN" ? " IN (" : " NOT IN (");
      for (size_t i = 0; i < value.list.size(); ++i) {
        expr += (i ? ", " : "") + Bind(value.list[i]);
      }
      return expr + ")";
    }
    if (value.kind == FilterValue::Kind::kList) {
      return InvalidArgument("Invalid comparator '" + comparator +
                             "' for a list of values; use IN or NOT IN");
    }
    BindValue bound = numeric_column ? NumericBind(value) : BindValue(value.text);
    if (comparator == "LIKE") {
      if (dialect_ == Dialect::kSqlite) return column + " GLOB " + Bind(LikeToGlob(value.text));
      // PostgreSQL treats \ as LIKE's escape by default; SQLite (MLflow's reference
      // backend) has none. ESCAPE '' makes both match the same rows.
      return column + " LIKE " + Bind(value.text) + " ESCAPE ''";
    }
    if (comparator == "ILIKE") {
      if (dialect_ == Dialect::kSqlite) {
        return "lower(" + column + ") LIKE lower(" + Bind(value.text) + ")";
      }
      return column + " ILIKE " + Bind(value.text) + " ESCAPE ''";
    }
    std::string op = comparator;
    if (op != "=" && op != "!=" && op != "<" && op != "<=" && op != ">" && op != ">=") {
      return InvalidArgument("Invalid comparator '" + comparator + "'");
    }
    return column + " " + op + " " + Bind(std::move(bound));
  }

  SqlQuery Finish() {
    SqlQuery q;
    q.joins = std::move(joins_);
    q.join_binds = std::move(join_binds_);
    q.where = where_.empty() ? "1 = 1" : std::move(where_);
    q.where_binds = std::move(where_binds_);
    q.order_by = std::move(order_);
    return q;
  }

  // A number literal bound as an integer when it is one, else as a double.
  static BindValue NumericBind(const FilterValue& v) {
    const std::string& t = v.text;
    char* end = nullptr;
    long long i = std::strtoll(t.c_str(), &end, 10);
    if (!t.empty() && end == t.c_str() + t.size()) return static_cast<int64_t>(i);
    double d = std::strtod(t.c_str(), &end);
    if (!t.empty() && end == t.c_str() + t.size()) return d;
    return t;
  }

  // SQL LIKE pattern -> SQLite GLOB pattern (GLOB is always case-sensitive).
  static std::string LikeToGlob(const std::string& like) {
    std::string out;
    for (char c : like) {
      switch (c) {
        case '%': out += '*'; break;
        case '_': out += '?'; break;
        case '*': out += "[*]"; break;
        case '?': out += "[?]"; break;
        case '[': out += "[[]"; break;
        default: out += c;
      }
    }
    return out;
  }

 private:
  Dialect dialect_;
  std::string joins_;
  std::string fixed_kv_joins_;
  std::string fixed_metric_joins_;
  std::vector<BindValue> join_binds_;
  std::string where_;
  std::vector<BindValue> where_binds_;
  std::string order_;
  int alias_ = 0;
};

// ---- Runs ---------------------------------------------------------------------------------

// SearchUtils.translate_key_alias.
std::string TranslateRunKeyAlias(const std::string& key) {
  if (key == "created" || key == "Created") return "start_time";
  if (key == "run name" || key == "Run name" || key == "Run Name") return "run_name";
  return key;
}

bool IsRunNumericAttribute(const std::string& key) {
  return key == "start_time" || key == "end_time" || key == "created" || key == "Created";
}

std::string RunColumn(const std::string& key) {
  if (key == "run_id") return "r.run_uuid";
  if (key == "run_name") return "r.name";
  return "r." + key;  // user_id, status, artifact_uri, start_time, end_time (validated)
}

std::string ComparatorError(const std::string& comparator,
                            const std::vector<std::string>& valid, bool closing_quote) {
  return "Invalid comparator '" + comparator + "' not one of '" + PySetRepr(valid) +
         (closing_quote ? "'" : "");
}

Status CompileRunClause(const Clause& c, Builder* b) {
  std::string comparator = Upper(c.comparator);
  std::string key = TranslateRunKeyAlias(c.key);
  switch (c.type) {
    case KeyType::kAttribute: {
      bool numeric = IsRunNumericAttribute(key);
      if (!numeric && !Contains(internal::kStringAttributeComparators, comparator)) {
        return InvalidArgument(
            ComparatorError(comparator, internal::kStringAttributeComparators, true));
      }
      if (numeric && !Contains(internal::kNumericAttributeComparators, comparator)) {
        // MLflow lists the string comparators here.
        return InvalidArgument(
            ComparatorError(comparator, internal::kStringAttributeComparators, false));
      }
      ASSIGN_OR_RETURN(std::string expr, b->Compare(RunColumn(key), comparator, c.value, numeric));
      b->AddWhere(expr);
      return OkStatus();
    }
    case KeyType::kMetric:
    case KeyType::kParam:
    case KeyType::kTag: {
      const auto& valid = c.type == KeyType::kMetric ? internal::kMetricComparators
                                                     : internal::kParamTagComparators;
      if (!Contains(valid, comparator)) {
        return InvalidArgument(ComparatorError(comparator, valid, c.type == KeyType::kParam));
      }
      std::string table = c.type == KeyType::kMetric  ? "latest_metrics"
                          : c.type == KeyType::kParam ? "params"
                                                      : "tags";
      // An inner join, not `IN (SELECT ...)`: (run_uuid, key) is the primary key of all three
      // tables, so it matches at most one row per run (same rows, no duplicates), and SQLite
      // can start from the most selective (key, value) index instead of materialising every
      // filter's run set (measured 66 -> 20-30 ms of CPU over 100k runs). The join carries no
      // binds; key and value are compared in the WHERE, so where_binds keep their order.
      std::string alias = b->NextAlias("f");
      b->AddFilterJoin(table + " " + alias, alias, c.type == KeyType::kMetric);
      std::string expr = alias + ".key = " + b->Bind(key) + " AND ";
      // Metrics compare numerically (MLflow: float(value)) against the latest value.
      ASSIGN_OR_RETURN(std::string cmp, b->Compare(alias + ".value", comparator, c.value,
                                                   c.type == KeyType::kMetric));
      b->AddWhere(expr + cmp);
      return OkStatus();
    }
    case KeyType::kDataset: {
      if (!Contains(internal::kDatasetComparators, comparator)) {
        return InvalidArgument(ComparatorError(comparator, internal::kDatasetComparators, false));
      }
      std::string expr =
          "r.run_uuid IN (SELECT i.destination_id FROM inputs i JOIN datasets d ON "
          "d.dataset_uuid = i.source_id";
      if (key == "context") {
        expr += " JOIN input_tags it ON it.input_uuid = i.input_uuid WHERE it.name = " +
                b->Bind(std::string(internal::kDatasetContextTag)) + " AND ";
        ASSIGN_OR_RETURN(std::string cmp, b->Compare("it.value", comparator, c.value, false));
        expr += cmp;
      } else {
        expr += " WHERE i.destination_id IS NOT NULL AND ";
        ASSIGN_OR_RETURN(std::string cmp, b->Compare("d." + key, comparator, c.value, false));
        expr += cmp;
      }
      b->AddWhere(expr + ")");
      return OkStatus();
    }
  }
  return InvalidArgument("Invalid search expression type '" + std::string(KeyTypeName(c.type)) +
                         "'");
}

// Where the first order_by term's pieces end in the order builder, when that term is a
// metric (for MetricFirstOrder).
struct FirstMetricTerm {
  std::string alias;
  std::string key;
  bool ascending = true;
  size_t joins_end = 0;       // in Builder::joins()
  size_t join_binds_end = 0;  // in Builder::join_binds()
  size_t order_end = 0;       // in Builder::order()
};

Status CompileRunOrderBy(const std::vector<std::string>& order_by, Builder* b,
                         std::optional<FirstMetricTerm>* first_metric) {
  std::set<std::pair<KeyType, std::string>> observed;
  for (const std::string& entry : order_by) {
    ASSIGN_OR_RETURN(OrderTerm term, internal::ParseRunOrderBy(entry));
    std::string key = TranslateRunKeyAlias(term.key);
    if (term.type == KeyType::kAttribute) {
      b->AddOrderNullsLast(RunColumn(key), term.ascending);
    } else if (term.type == KeyType::kMetric || term.type == KeyType::kParam ||
               term.type == KeyType::kTag) {
      std::string table = term.type == KeyType::kMetric  ? "latest_metrics"
                          : term.type == KeyType::kParam ? "params"
                                                         : "tags";
      std::string alias = b->NextAlias("o");
      b->AddJoin("LEFT JOIN " + table + " " + alias + " ON " + alias +
                 ".run_uuid = r.run_uuid AND " + alias + ".key = " + b->BindJoin(key));
      if (term.type == KeyType::kMetric) {
        // NaN (is_nan) after numbers, missing after NaN: MLflow's CASE.
        b->AddOrder("CASE WHEN " + alias + ".is_nan = 1 THEN 1 WHEN " + alias +
                    ".value IS NULL THEN 2 ELSE 0 END");
        b->AddOrder(alias + ".value" + (term.ascending ? " ASC" : " DESC"));
        if (&entry == &order_by.front()) {
          *first_metric = FirstMetricTerm{alias, key, term.ascending, b->joins().size(),
                                          b->join_binds().size(), b->order().size()};
        }
      } else {
        b->AddOrderNullsLast(alias + ".value", term.ascending);
      }
    } else {
      return InvalidArgument("Invalid identifier type '" + std::string(KeyTypeName(term.type)) +
                             "'");
    }
    if (!observed.insert({term.type, key}).second) {
      return InvalidArgument("`order_by` contains duplicate fields: " + PyListRepr(order_by));
    }
  }
  if (!observed.count({KeyType::kAttribute, "start_time"})) b->AddOrder("r.start_time DESC");
  b->AddOrder("r.run_uuid ASC");
  return OkStatus();
}

// ---- Registry helpers ------------------------------------------------------------------------

// _is_querying_prompt: decided by the first filter on the prompt tag.
bool IsQueryingPrompt(const std::vector<Clause>& clauses) {
  for (const Clause& c : clauses) {
    if (c.type != KeyType::kTag || c.key != internal::kPromptTagKey) continue;
    std::string v = c.value.text;
    for (char& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return (c.comparator == "=" && v == "true") || (c.comparator == "!=" && v == "false");
  }
  return false;
}

}  // namespace

StatusOr<SqlQuery> CompileRunSearch(std::string_view filter,
                                    const std::vector<std::string>& order_by, Dialect dialect) {
  ASSIGN_OR_RETURN(std::vector<Clause> clauses, ParseFilter(Entity::kRuns, filter));
  Builder b(dialect);
  // MLflow builds the order_by clauses before the filters; keep its error precedence.
  Builder order_builder(dialect);
  std::optional<FirstMetricTerm> first_metric;
  RETURN_IF_ERROR(CompileRunOrderBy(order_by, &order_builder, &first_metric));
  for (const Clause& c : clauses) RETURN_IF_ERROR(CompileRunClause(c, &b));
  std::optional<MetricFirstOrder> metric_first;
  if (first_metric) {
    // Same joins and order as below without the first term's LEFT JOIN and NaN/missing CASE:
    // the metric's table drives the query, restricted to real values.
    const FirstMetricTerm& t = *first_metric;
    MetricFirstOrder m;
    const char* join = dialect == Dialect::kSqlite ? " CROSS JOIN" : " JOIN";
    m.from = "latest_metrics " + t.alias + b.fixed_order_joins(t.alias) + join +
             " runs r ON r.run_uuid = " + t.alias + ".run_uuid AND " + t.alias + ".key = ? AND " +
             t.alias + ".is_nan = 0";
    m.from_binds.push_back(t.key);
    m.joins = order_builder.joins().substr(t.joins_end);
    m.rest_where = "(" + t.alias + ".run_uuid IS NULL OR " + t.alias + ".is_nan = 1)";
    m.join_binds.assign(order_builder.join_binds().begin() + t.join_binds_end,
                        order_builder.join_binds().end());
    m.order_by = t.alias + ".value" + (t.ascending ? " ASC" : " DESC") +
                 order_builder.order().substr(t.order_end);
    metric_first = std::move(m);
  }
  SqlQuery q = b.Finish();
  SqlQuery o = order_builder.Finish();
  q.metric_first = std::move(metric_first);
  // Filter joins (inner, no binds) first, then the order_by LEFT JOINs with their binds.
  q.joins += o.joins;
  q.join_binds = o.join_binds;
  q.order_by = o.order_by;
  return q;
}

StatusOr<SqlQuery> CompileExperimentSearch(std::string_view filter,
                                           const std::vector<std::string>& order_by,
                                           Dialect dialect) {
  ASSIGN_OR_RETURN(std::vector<Clause> clauses, ParseFilter(Entity::kExperiments, filter));
  Builder b(dialect);
  for (const Clause& c : clauses) {
    const std::string& comparator = c.comparator;  // experiments keep the case as written
    if (c.type == KeyType::kAttribute) {
      bool numeric = c.key == "creation_time" || c.key == "last_update_time";
      if (!numeric) {
        if (!Contains(internal::kStringAttributeComparators, comparator)) {
          return InvalidArgument(
              ComparatorError(comparator, internal::kStringAttributeComparators, true));
        }
        if (comparator != "=" && comparator != "!=" && comparator != "LIKE" &&
            comparator != "ILIKE") {
          return InvalidArgument("Invalid comparator for string attribute: " + comparator);
        }
      } else {
        if (!Contains(internal::kNumericAttributeComparators, comparator)) {
          return InvalidArgument(
              ComparatorError(comparator, internal::kStringAttributeComparators, false));
        }
      }
      ASSIGN_OR_RETURN(std::string expr, b.Compare("e." + c.key, comparator, c.value, numeric));
      b.AddWhere(expr);
    } else if (c.type == KeyType::kTag) {
      if (comparator != "=" && comparator != "!=" && comparator != "LIKE" &&
          comparator != "ILIKE") {
        return InvalidArgument("Invalid comparator for tag: " + comparator);
      }
      std::string expr =
          "e.experiment_id IN (SELECT x.experiment_id FROM experiment_tags x WHERE x.key = " +
          b.Bind(c.key) + " AND ";
      ASSIGN_OR_RETURN(std::string cmp, b.Compare("x.value", comparator, c.value, false));
      b.AddWhere(expr + cmp + ")");
    } else {
      return InvalidArgument("Invalid token type: " + std::string(KeyTypeName(c.type)));
    }
  }
  std::vector<std::string> entries = order_by;
  if (entries.empty()) entries = {"creation_time DESC", "experiment_id ASC"};
  bool has_id = false;
  for (const std::string& entry : entries) {
    ASSIGN_OR_RETURN(OrderTerm term, internal::ParseExperimentOrderBy(entry));
    if (term.type != KeyType::kAttribute) {
      return InvalidArgument("Invalid order_by entity: " + std::string(KeyTypeName(term.type)));
    }
    has_id = has_id || term.key == "experiment_id";
    b.AddOrder("e." + term.key + (term.ascending ? " ASC" : " DESC"));
  }
  if (!has_id) b.AddOrder("e.experiment_id DESC");
  return b.Finish();
}

namespace {

// Shared by registered models (table registered_models rm) and model versions (mv).
Status CompileRegistryTags(const std::vector<Clause>& clauses, bool versions, Builder* b) {
  bool querying_prompt = IsQueryingPrompt(clauses);
  std::string tags_table = versions ? "model_version_tags" : "registered_model_tags";
  std::string owner = versions ? "x.name = mv.name AND x.version = mv.version"
                               : "x.name = rm.name";
  for (const Clause& c : clauses) {
    if (c.type != KeyType::kTag) continue;
    if (c.comparator != "=" && c.comparator != "!=" && c.comparator != "LIKE" &&
        c.comparator != "ILIKE") {
      return InvalidArgument("Invalid comparator for tag: " + c.comparator);
    }
  }
  if (!querying_prompt) {
    // Exclude prompts (a model, or any version of a model, tagged is_prompt = 'true'); a
    // missing tag therefore satisfies `!= 'true'` and `= 'false'`.
    std::string parent = versions ? "mv.name" : "rm.name";
    std::string expr = "NOT EXISTS (SELECT 1 FROM " + tags_table + " pt WHERE pt.name = " +
                       parent + " AND pt.key = ";
    expr += b->Bind(std::string(internal::kPromptTagKey));  // one bind per statement: order
    expr += " AND pt.value = ";
    expr += b->Bind(std::string("true"));
    b->AddWhere(expr + ")");
  }
  for (const Clause& c : clauses) {
    if (c.type != KeyType::kTag) continue;
    if (!querying_prompt && c.key == internal::kPromptTagKey) continue;
    std::string expr = "EXISTS (SELECT 1 FROM " + tags_table + " x WHERE " + owner +
                       " AND x.key = " + b->Bind(c.key) + " AND ";
    ASSIGN_OR_RETURN(std::string cmp, b->Compare("x.value", c.comparator, c.value, false));
    b->AddWhere(expr + cmp + ")");
  }
  return OkStatus();
}

}  // namespace

StatusOr<SqlQuery> CompileRegisteredModelSearch(std::string_view filter,
                                                const std::vector<std::string>& order_by,
                                                Dialect dialect) {
  ASSIGN_OR_RETURN(std::vector<Clause> clauses, ParseFilter(Entity::kRegisteredModels, filter));
  Builder b(dialect);
  for (const Clause& c : clauses) {
    if (c.type != KeyType::kAttribute) continue;
    if (c.key != "name") return InvalidArgument("Invalid attribute name: " + c.key);
    if (c.comparator != "=" && c.comparator != "!=" && c.comparator != "LIKE" &&
        c.comparator != "ILIKE") {
      return InvalidArgument("Invalid comparator for attribute: " + c.comparator);
    }
    ASSIGN_OR_RETURN(std::string expr, b.Compare("rm.name", c.comparator, c.value, false));
    b.AddWhere(expr);
  }
  RETURN_IF_ERROR(CompileRegistryTags(clauses, /*versions=*/false, &b));
  std::set<std::string> observed;
  for (const std::string& entry : order_by) {
    ASSIGN_OR_RETURN(OrderTerm term, internal::ParseRegisteredModelOrderBy(entry));
    std::string column = term.key == "name" ? "rm.name" : "rm.last_updated_time";
    if (!observed.insert(column).second) {
      return InvalidArgument("`order_by` contains duplicate fields: " + PyListRepr(order_by));
    }
    b.AddOrder(column + (term.ascending ? " ASC" : " DESC"));
  }
  if (!observed.count("rm.name")) b.AddOrder("rm.name ASC");
  return b.Finish();
}

StatusOr<SqlQuery> CompileModelVersionSearch(std::string_view filter,
                                             const std::vector<std::string>& order_by,
                                             Dialect dialect) {
  ASSIGN_OR_RETURN(std::vector<Clause> clauses, ParseFilter(Entity::kModelVersions, filter));
  Builder b(dialect);
  for (const Clause& c : clauses) {
    if (c.type != KeyType::kAttribute) continue;
    bool numeric = c.key == "version_number";
    if (numeric) {
      if (!Contains(internal::kNumericAttributeComparators, c.comparator)) {
        return InvalidArgument("Invalid comparator for attribute " + c.key + ": " + c.comparator);
      }
    } else if ((c.comparator != "!=" && c.comparator != "=" && c.comparator != "LIKE" &&
                c.comparator != "ILIKE" && c.comparator != "IN") ||
               (c.comparator == "IN" && c.key != "run_id")) {
      return InvalidArgument("Invalid comparator for attribute: " + c.comparator);
    }
    std::string column = c.key == "source_path"      ? "mv.source"
                         : c.key == "version_number" ? "mv.version"
                                                     : "mv." + c.key;
    FilterValue value = c.value;
    // version_number = '3' is accepted; compare it as the integer column it is.
    if (numeric && value.kind == FilterValue::Kind::kString) {
      auto bound = Builder::NumericBind(value);
      if (std::holds_alternative<int64_t>(bound) || std::holds_alternative<double>(bound)) {
        value.kind = FilterValue::Kind::kNumber;
      }
    }
    ASSIGN_OR_RETURN(std::string expr,
                     b.Compare(column, c.comparator, value,
                               numeric && value.kind == FilterValue::Kind::kNumber));
    b.AddWhere(expr);
  }
  RETURN_IF_ERROR(CompileRegistryTags(clauses, /*versions=*/true, &b));
  b.AddWhere("mv.current_stage != " + b.Bind(std::string("Deleted_Internal")));

  std::vector<std::string> entries = order_by;
  if (entries.empty()) {
    entries = {"last_updated_timestamp DESC", "name ASC", "version_number DESC"};
  }
  std::set<std::string> observed;
  for (const std::string& entry : entries) {
    ASSIGN_OR_RETURN(OrderTerm term, internal::ParseModelVersionOrderBy(entry));
    std::string column = term.key == "version_number"       ? "mv.version"
                         : term.key == "creation_timestamp" ? "mv.creation_time"
                         : term.key == "last_updated_timestamp" ? "mv.last_updated_time"
                                                                : "mv.name";
    if (!observed.insert(column).second) {
      return InvalidArgument("`order_by` contains duplicate fields: " + PyListRepr(entries));
    }
    b.AddOrder(column + (term.ascending ? " ASC" : " DESC"));
  }
  if (!observed.count("mv.name")) b.AddOrder("mv.name ASC");
  if (!observed.count("mv.version")) b.AddOrder("mv.version DESC");
  return b.Finish();
}

namespace {

const std::vector<std::string> kLoggedModelColumns = {
    "model_id",  "experiment_id",  "name",        "artifact_location",
    "creation_timestamp_ms", "last_updated_timestamp_ms", "status", "lifecycle_stage",
    "model_type", "source_run_id",  "status_message"};

std::string LoggedModelAlias(const std::string& key) {
  if (key == "creation_time" || key == "creation_timestamp") return "creation_timestamp_ms";
  if (key == "last_updated_timestamp") return "last_updated_timestamp_ms";
  return key;
}

std::string DatasetFilters(const std::vector<LoggedModelDatasetFilter>& datasets,
                           const std::string& alias, Builder* b) {
  std::string out = "(";
  for (size_t i = 0; i < datasets.size(); ++i) {
    if (i) out += " OR ";
    out += "(" + alias + ".dataset_name = " + b->Bind(datasets[i].dataset_name);
    if (datasets[i].dataset_digest) {
      out += " AND " + alias + ".dataset_digest = " + b->Bind(*datasets[i].dataset_digest);
    }
    out += ")";
  }
  return out + ")";
}

}  // namespace

StatusOr<SqlQuery> CompileLoggedModelSearch(std::string_view filter,
                                            const std::vector<LoggedModelOrderBy>& order_by,
                                            const std::vector<LoggedModelDatasetFilter>& datasets,
                                            Dialect dialect) {
  for (const auto& d : datasets) {
    if (d.dataset_name.empty()) {
      return InvalidArgument("`dataset_name` in the `datasets` clause must be specified.");
    }
  }
  ASSIGN_OR_RETURN(std::vector<Clause> clauses, ParseFilter(Entity::kLoggedModels, filter));
  Builder b(dialect);
  bool has_metric_filter = false;
  for (const Clause& c : clauses) {
    bool numeric = c.value.kind == FilterValue::Kind::kNumber;
    switch (c.type) {
      case KeyType::kAttribute: {
        std::string column = LoggedModelAlias(c.key);
        if (!Contains(kLoggedModelColumns, column)) {
          return InvalidArgument("Invalid logged model search key '" + c.key + "'");
        }
        ASSIGN_OR_RETURN(std::string expr,
                         b.Compare("lm." + column, c.comparator, c.value, numeric));
        b.AddWhere(expr);
        break;
      }
      case KeyType::kMetric: {
        has_metric_filter = true;
        std::string expr =
            "lm.model_id IN (SELECT x.model_id FROM logged_model_metrics x WHERE "
            "x.metric_name = " +
            b.Bind(c.key) + " AND ";
        ASSIGN_OR_RETURN(std::string cmp, b.Compare("x.metric_value", c.comparator, c.value, true));
        expr += cmp;
        if (!datasets.empty()) expr += " AND " + DatasetFilters(datasets, "x", &b);
        b.AddWhere(expr + ")");
        break;
      }
      case KeyType::kParam:
      case KeyType::kTag: {
        bool param = c.type == KeyType::kParam;
        std::string table = param ? "logged_model_params" : "logged_model_tags";
        std::string k = param ? "x.param_key" : "x.tag_key";
        std::string v = param ? "x.param_value" : "x.tag_value";
        std::string expr = "lm.model_id IN (SELECT x.model_id FROM " + table + " x WHERE " + k +
                           " = " + b.Bind(c.key) + " AND ";
        ASSIGN_OR_RETURN(std::string cmp, b.Compare(v, c.comparator, c.value, false));
        b.AddWhere(expr + cmp + ")");
        break;
      }
      case KeyType::kDataset:
        return InvalidArgument("Invalid logged model search key '" + c.key + "'");
    }
  }
  if (!datasets.empty() && !has_metric_filter) {
    b.AddWhere(
        "lm.model_id IN (SELECT x.model_id FROM logged_model_metrics x WHERE " +
        DatasetFilters(datasets, "x", &b) + ")");
  }

  bool has_creation = false;
  bool has_model_id = false;
  for (const LoggedModelOrderBy& ob : order_by) {
    const std::string& field = ob.field_name;
    size_t dot = field.find('.');
    if (dot == std::string::npos) {
      std::string column = LoggedModelAlias(field);
      if (!Contains(kLoggedModelColumns, column)) {
        return InvalidArgument("Invalid order by field name: " + field);
      }
      has_creation = has_creation || column == "creation_timestamp_ms";
      has_model_id = has_model_id || column == "model_id";
      b.AddOrderNullsLast("lm." + column, ob.ascending);
      continue;
    }
    if (field.substr(0, dot) != "metrics") {
      return InvalidArgument("Invalid order by field name: " + field +
                             ". Only metrics are supported.");
    }
    if (ob.dataset_digest && !ob.dataset_name) {
      return InvalidArgument(
          "`dataset_digest` can only be specified if `dataset_name` is also specified.");
    }
    // Latest value of the metric (by timestamp, then step) per model, one row per model.
    std::string alias = b.NextAlias("o");
    std::string sub =
        "(SELECT mm.metric_value FROM logged_model_metrics mm WHERE mm.model_id = lm2.model_id "
        "AND mm.metric_name = " +
        b.BindJoin(field.substr(dot + 1));
    if (ob.dataset_name) sub += " AND mm.dataset_name = " + b.BindJoin(*ob.dataset_name);
    if (ob.dataset_digest) sub += " AND mm.dataset_digest = " + b.BindJoin(*ob.dataset_digest);
    sub += " ORDER BY mm.metric_timestamp_ms DESC, mm.metric_step DESC LIMIT 1)";
    b.AddJoin("LEFT JOIN (SELECT lm2.model_id AS model_id, " + sub +
              " AS value FROM logged_models lm2) " + alias + " ON " + alias +
              ".model_id = lm.model_id");
    b.AddOrderNullsLast(alias + ".value", ob.ascending);
  }
  if (!has_creation) b.AddOrder("lm.creation_timestamp_ms DESC");
  if (!has_model_id) b.AddOrder("lm.model_id ASC");
  return b.Finish();
}

}  // namespace cairn::tracking::search
