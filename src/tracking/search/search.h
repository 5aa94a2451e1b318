// MLflow's search grammar (filter strings, order_by, page tokens) and its compilation to SQL.
//
// Mirrors mlflow/utils/search_utils.py, mlflow/utils/search_logged_model_utils.py and the
// SQLAlchemy stores of MLflow 3.6 (tracking and model registry): the same accepted inputs, the
// same results, and the same INVALID_PARAMETER_VALUE messages for the common mistakes (OR,
// parentheses, unquoted strings, bad comparators for a type, unknown attributes).
//
// What the store calls (one function per search endpoint):
//   CompileRunSearch, CompileExperimentSearch, CompileRegisteredModelSearch,
//   CompileModelVersionSearch, CompileLoggedModelSearch   -> SqlQuery
//   DecodePageToken / EncodePageToken                      -> offsets for every search
// Each SqlQuery is written against the agreed schema (created by tracking/tracking_schema.cc;
// the registry tables registered_models, registered_model_tags, model_versions,
// model_version_tags) with the base table under a fixed alias:
//   runs r, experiments e, registered_models rm, model_versions mv, logged_models lm.
// The store assembles, in this order,
//   SELECT <alias>.* FROM <table> <alias> <joins> WHERE (<where>) AND <its own filters>
//   ORDER BY <order_by> LIMIT ? OFFSET ?
// and binds join_binds, then where_binds, then its own values. Values are always bound,
// never spliced into the SQL text.
//
// Deliberate differences from MLflow 3.6 (everything else is checked against it, see
// tests/tracking/search/goldens):
//   - run_name filters compare runs.name (MLflow: the mlflow.runName tag; equal while the
//     store keeps them in sync).
//   - Inputs on which MLflow fails with a 500 get a 400 here: duplicate order_by fields,
//     dataset filters combined with other joined filters (an SQL error in MLflow), list values
//     with = / LIKE, non-string IN lists and unknown attributes for logged models.
//   - Page tokens with a negative offset are rejected.
//   - Logged models: status compares as text (MLflow stores an enum number) and model_id
//     breaks the last ties.
//
// Errors: every function returns Code::kInvalidArgument (MLflow INVALID_PARAMETER_VALUE) for
// a bad filter, order_by or page token, with MLflow's message. Nothing here throws or aborts on
// user input. Thread-safety: pure functions, safe to call concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace cairn::tracking::search {

// SQL dialect differences kept in one place: LIKE case-sensitivity and ILIKE.
//   kSqlite:   LIKE compiles to GLOB on a translated pattern (case-sensitive whatever
//              PRAGMA case_sensitive_like says); ILIKE to lower(x) LIKE lower(?).
//   kPostgres: LIKE and ILIKE with ESCAPE '' (LIKE is case-sensitive there; no escape
//              character, as on SQLite). Times need BIGINT columns on PostgreSQL.
enum class Dialect { kSqlite, kPostgres };

// Which search endpoint a filter belongs to; each has its own grammar rules.
enum class Entity { kRuns, kExperiments, kRegisteredModels, kModelVersions, kLoggedModels };

// The entity type of an identifier (`metrics.x`, `params.x`, `tags.x`, `x`, `datasets.x`).
enum class KeyType { kMetric, kParam, kTag, kAttribute, kDataset };

// "metric", "parameter", "tag", "attribute", "dataset" (MLflow's names).
std::string_view KeyTypeName(KeyType type);

// A literal on the right of a comparison.
struct FilterValue {
  enum class Kind { kString, kNumber, kList };
  Kind kind = Kind::kString;
  std::string text;                // kString: the unquoted value; kNumber: the literal as written
  std::vector<std::string> list;   // kList: the IN (...) values (run ids with upper case dropped,
                                   // as MLflow does)
};

// One `<identifier> <comparator> <value>` term of an AND-ed filter.
struct Clause {
  KeyType type = KeyType::kAttribute;
  std::string key;         // unquoted key as written (aliases such as `created` not yet resolved)
  // As MLflow keeps it: as written for runs, experiments and logged models ("like" stays
  // lower case; the run compiler upper-cases it, the experiment one then rejects it, as
  // MLflow does), upper-cased for registered models and model versions. A `not in` is always
  // "NOT IN".
  std::string comparator;
  FilterValue value;
};

// Parses a filter string with the grammar of `entity` (no SQL-stage checks such as comparator
// validity; the Compile* functions add those). An empty filter gives no clauses. Logged-model
// numeric values are Python float reprs ("1.0"); other numbers stay as written.
// Errors: kInvalidArgument with MLflow's parse-stage message.
StatusOr<std::vector<Clause>> ParseFilter(Entity entity, std::string_view filter);

// One line per clause: `<type> <json key> <comparator> <value>`, where value is a JSON string,
// a bare number as written, or a JSON list of strings. Used by the golden tests.
std::string FormatClauses(const std::vector<Clause>& clauses);

// A bound SQL value.
using BindValue = std::variant<int64_t, double, std::string>;

// Runs only: the same search restricted to the runs that have a real (non-NaN) value of the
// metric named by the FIRST order_by term. Those runs come first in the full order (MLflow
// sorts NaN, then missing, after every number), in the order of that value and then the
// remaining terms, so the first rows of this query are the first rows of the full search.
// The joins start from the metric's (key, value) index, in a fixed order on SQLite (CROSS
// JOIN: the metric row, then param/tag filters, then metric filters, then the run), so that a
// LIMIT stops the scan after enough matches instead of sorting every filtered run. Assemble
//   SELECT r.run_uuid FROM <from><joins> WHERE (<SqlQuery::where>) AND <the store's filters>
//   ORDER BY <order_by> LIMIT ? OFFSET ?
// and bind from_binds, join_binds, the SqlQuery's where_binds, then the store's values.
struct MetricFirstOrder {
  std::string from;                    // "latest_metrics o1 <filter joins> CROSS JOIN runs r
                                       // ON ... o1.key = ? ..."
  std::vector<BindValue> from_binds;   // the metric key
  std::string joins;                   // the other order_by terms' LEFT JOINs
  std::vector<BindValue> join_binds;
  std::string order_by;                // the full order without the NaN/missing CASE
  // The complement, for the full query (its joins and binds): the runs whose value of that
  // metric is NaN or missing, which follow in the full order ("(o1.run_uuid IS NULL OR
  // o1.is_nan = 1)", no binds).
  std::string rest_where;
};

// SQL fragments for one search (see the file comment for how to assemble them).
struct SqlQuery {
  std::string joins;                   // "" or " [LEFT] JOIN ... ON ..." fragments: runs put
                                       // one inner JOIN (no binds) per metric/param/tag filter
                                       // first, then the order_by LEFT JOINs
  std::vector<BindValue> join_binds;   // values for the `?` in joins, in order
  std::string where;                   // never empty: a boolean expression ("1 = 1" if no filter)
  std::vector<BindValue> where_binds;  // values for the `?` in where, in order
  std::string order_by;                // never empty; complete with MLflow's tie-breakers
  // CompileRunSearch only, when the first order_by term is a metric (see above).
  std::optional<MetricFirstOrder> metric_first;
};

// Runs: filter over metrics (latest value), params, tags, attributes (run_id, run_name,
// user_id, status, artifact_uri, start_time/created, end_time) and datasets (name, digest,
// context); order_by entries "<identifier> [ASC|DESC]" over metrics, params, tags and
// attributes. NULL and NaN sort last both ASC and DESC; then start_time DESC (unless ordered
// on), then run_uuid. The store adds experiment ids and lifecycle stage (view_type).
StatusOr<SqlQuery> CompileRunSearch(std::string_view filter,
                                    const std::vector<std::string>& order_by, Dialect dialect);

// Experiments: filter on name, creation_time, last_update_time, tags.k; order_by on name,
// experiment_id, creation_time, last_update_time (default "creation_time DESC, experiment_id
// ASC"; otherwise experiment_id DESC breaks ties). The store adds lifecycle stage (view_type).
StatusOr<SqlQuery> CompileExperimentSearch(std::string_view filter,
                                           const std::vector<std::string>& order_by,
                                           Dialect dialect);

// Registered models: filter on name and tags.k; order_by on name, timestamp,
// last_updated_timestamp (both on last_updated_time); ties by name ASC. Unless the filter asks
// for prompts (tags.`mlflow.prompt.is_prompt` = 'true' or != 'false'), models tagged as prompts
// are excluded and filters on that tag are dropped, so `!= 'true'` matches models lacking it.
StatusOr<SqlQuery> CompileRegisteredModelSearch(std::string_view filter,
                                                const std::vector<std::string>& order_by,
                                                Dialect dialect);

// Model versions: filter on name, version_number, run_id (also IN), source_path, tags.k, with
// the same prompt rule as registered models (a version is a prompt if any version of its model
// carries the tag 'true'). Versions in stage 'Deleted_Internal' are excluded here. order_by on
// name, version_number, creation_timestamp, last_updated_timestamp (default
// "last_updated_timestamp DESC, name ASC, version_number DESC"); ties by name ASC, version DESC.
StatusOr<SqlQuery> CompileModelVersionSearch(std::string_view filter,
                                             const std::vector<std::string>& order_by,
                                             Dialect dialect);

// Logged models (SearchLoggedModels): order_by entries are structured, as on the wire.
struct LoggedModelOrderBy {
  std::string field_name;  // an attribute (e.g. "creation_timestamp") or "metrics.<name>"
  bool ascending = true;
  std::optional<std::string> dataset_name;    // metrics only: restrict to this dataset
  std::optional<std::string> dataset_digest;  // requires dataset_name
};
struct LoggedModelDatasetFilter {
  std::string dataset_name;
  std::optional<std::string> dataset_digest;
};
// Filter on attributes (name, model_id, model_type, status, source_run_id, creation_time[stamp],
// last_updated_timestamp, ...), metrics.k (any logged value of the metric, restricted to the
// datasets if given), params.k and tags.k; order_by attributes or metrics.<name> (latest value
// by timestamp, then step), NULLs last; then creation_timestamp_ms DESC (unless ordered on),
// then model_id. The store adds experiment ids and lifecycle_stage != 'deleted'.
StatusOr<SqlQuery> CompileLoggedModelSearch(std::string_view filter,
                                            const std::vector<LoggedModelOrderBy>& order_by,
                                            const std::vector<LoggedModelDatasetFilter>& datasets,
                                            Dialect dialect);

// Page tokens: base64 of the JSON {"offset": N}, as MLflow writes them. An empty token is
// offset 0. Errors: kInvalidArgument "Invalid page token, ..." for anything malformed
// (not base64, not JSON, no positive integer offset).
StatusOr<int64_t> DecodePageToken(std::string_view token);
std::string EncodePageToken(int64_t offset);

// Logged-model page tokens as MLflow writes them: base64 of
//   {"experiment_ids": [...], "filter_string": ..., "order_by": [...], "offset": N}
// (json.dumps formatting; an empty filter or order_by is null). Decoding checks that the
// request repeats the token's experiment ids, filter and order_by, with MLflow's messages.
// An empty token is offset 0. Errors: kInvalidArgument.
std::string EncodeLoggedModelPageToken(const std::vector<std::string>& experiment_ids,
                                       std::string_view filter,
                                       const std::vector<LoggedModelOrderBy>& order_by,
                                       int64_t offset);
StatusOr<int64_t> DecodeLoggedModelPageToken(std::string_view token,
                                             const std::vector<std::string>& experiment_ids,
                                             std::string_view filter,
                                             const std::vector<LoggedModelOrderBy>& order_by);

// Python-style base64 helpers shared with the logged-model page token (exposed for tests).
std::string Base64Encode(std::string_view bytes);
// Decodes like Python's base64.b64decode: characters outside the alphabet are skipped;
// wrong padding is an error (nullopt).
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace cairn::tracking::search
