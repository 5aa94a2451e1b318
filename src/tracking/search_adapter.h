// The bridge between the tracking store and the search grammar (tracking/search/search.h):
// filter strings and order_by lists become SQL fragments over the agreed schema, page tokens
// become offsets. When this build has no search library, only empty filters and the default
// orderings are supported (others are kUnimplemented). Internal to the tracking module.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "tracking/tracking_store.h"

namespace cairn::tracking::search_adapter {

using Value = std::variant<int64_t, double, std::string>;

// SELECT ... FROM <table> <alias><joins> WHERE (<where>) AND ... ORDER BY <order_by>; bind
// join_binds then where_binds. Aliases: runs r, experiments e, logged_models lm.
struct Query {
  std::string joins;
  std::vector<Value> join_binds;
  std::string where = "1 = 1";
  std::vector<Value> where_binds;
  std::string order_by;
  // Runs whose first order_by term is a metric: the same search over the runs with a real
  // value of that metric, which come first in the full order, read in that order from the
  // metric's index (search::MetricFirstOrder): SELECT r.run_uuid FROM <from><joins> WHERE
  // (<where>) AND ... ORDER BY <order_by>; bind from_binds, join_binds, where_binds, then the
  // store's values.
  struct MetricFirst {
    std::string from;
    std::vector<Value> from_binds;
    std::string joins;
    std::vector<Value> join_binds;
    std::string order_by;
    std::string rest_where;  // the other runs (NaN or missing), over the full query's joins
  };
  std::optional<MetricFirst> metric_first;
};

StatusOr<Query> CompileRuns(const std::string& filter, const std::vector<std::string>& order_by);
StatusOr<Query> CompileExperiments(const std::string& filter,
                                   const std::vector<std::string>& order_by);
StatusOr<Query> CompileLoggedModels(const std::string& filter,
                                    const std::vector<LoggedModelOrderBy>& order_by,
                                    const std::vector<LoggedModelDatasetFilter>& datasets);

// base64(json({"offset": N})); "" = 0. Errors: kInvalidArgument for a malformed token.
StatusOr<int64_t> DecodePageToken(const std::string& token);
std::string EncodePageToken(int64_t offset);

// Logged-model page tokens in MLflow's format (they repeat the request's experiment ids,
// filter and order_by, and decoding checks that the request still matches). Without the
// search grammar these are plain offset tokens.
std::string EncodeLoggedModelPageToken(const SearchLoggedModelsRequest& request, int64_t offset);
StatusOr<int64_t> DecodeLoggedModelPageToken(const SearchLoggedModelsRequest& request);

// True when the search grammar is compiled in.
bool HaveSearchGrammar();

}  // namespace cairn::tracking::search_adapter
