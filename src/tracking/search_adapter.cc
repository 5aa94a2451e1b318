#include "tracking/search_adapter.h"

#include <cctype>
#include <cstring>

#ifdef CAIRN_HAVE_TRACKING_SEARCH
#include "tracking/search/search.h"
#endif

namespace cairn::tracking::search_adapter {

#ifdef CAIRN_HAVE_TRACKING_SEARCH

namespace {
Query FromSql(search::SqlQuery q) {
  Query out;
  out.joins = std::move(q.joins);
  out.where = std::move(q.where);
  out.order_by = std::move(q.order_by);
  for (auto& v : q.join_binds) std::visit([&](auto& x) { out.join_binds.emplace_back(x); }, v);
  for (auto& v : q.where_binds) std::visit([&](auto& x) { out.where_binds.emplace_back(x); }, v);
  if (q.metric_first) {
    Query::MetricFirst& m = out.metric_first.emplace();
    m.from = std::move(q.metric_first->from);
    m.joins = std::move(q.metric_first->joins);
    m.order_by = std::move(q.metric_first->order_by);
    m.rest_where = std::move(q.metric_first->rest_where);
    for (auto& v : q.metric_first->from_binds) {
      std::visit([&](auto& x) { m.from_binds.emplace_back(x); }, v);
    }
    for (auto& v : q.metric_first->join_binds) {
      std::visit([&](auto& x) { m.join_binds.emplace_back(x); }, v);
    }
  }
  return out;
}
}  // namespace

bool HaveSearchGrammar() { return true; }

StatusOr<Query> CompileRuns(const std::string& filter, const std::vector<std::string>& order_by) {
  ASSIGN_OR_RETURN(search::SqlQuery q,
                   search::CompileRunSearch(filter, order_by, search::Dialect::kSqlite));
  return FromSql(std::move(q));
}

StatusOr<Query> CompileExperiments(const std::string& filter,
                                   const std::vector<std::string>& order_by) {
  ASSIGN_OR_RETURN(search::SqlQuery q,
                   search::CompileExperimentSearch(filter, order_by, search::Dialect::kSqlite));
  return FromSql(std::move(q));
}

namespace {
std::vector<search::LoggedModelOrderBy> ToSearchOrderBy(
    const std::vector<LoggedModelOrderBy>& order_by) {
  std::vector<search::LoggedModelOrderBy> ob;
  for (const auto& o : order_by) {
    ob.push_back({o.field_name, o.ascending, o.dataset_name, o.dataset_digest});
  }
  return ob;
}
}  // namespace

std::string EncodeLoggedModelPageToken(const SearchLoggedModelsRequest& request, int64_t offset) {
  return search::EncodeLoggedModelPageToken(request.experiment_ids, request.filter,
                                            ToSearchOrderBy(request.order_by), offset);
}

StatusOr<int64_t> DecodeLoggedModelPageToken(const SearchLoggedModelsRequest& request) {
  return search::DecodeLoggedModelPageToken(request.page_token, request.experiment_ids,
                                            request.filter, ToSearchOrderBy(request.order_by));
}

StatusOr<Query> CompileLoggedModels(const std::string& filter,
                                    const std::vector<LoggedModelOrderBy>& order_by,
                                    const std::vector<LoggedModelDatasetFilter>& datasets) {
  std::vector<search::LoggedModelOrderBy> ob = ToSearchOrderBy(order_by);
  std::vector<search::LoggedModelDatasetFilter> ds;
  for (const auto& d : datasets) ds.push_back({d.dataset_name, d.dataset_digest});
  ASSIGN_OR_RETURN(search::SqlQuery q,
                   search::CompileLoggedModelSearch(filter, ob, ds, search::Dialect::kSqlite));
  return FromSql(std::move(q));
}

StatusOr<int64_t> DecodePageToken(const std::string& token) {
  return search::DecodePageToken(token);
}

std::string EncodePageToken(int64_t offset) { return search::EncodePageToken(offset); }

#else  // !CAIRN_HAVE_TRACKING_SEARCH

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Status NoGrammar() {
  return Unimplemented("search filters and order_by need the search grammar, which this build "
                       "does not include");
}
}  // namespace

bool HaveSearchGrammar() { return false; }

StatusOr<Query> CompileRuns(const std::string& filter, const std::vector<std::string>& order_by) {
  if (!filter.empty() || !order_by.empty()) return NoGrammar();
  Query q;
  q.order_by = "r.start_time DESC, r.run_uuid ASC";
  return q;
}

StatusOr<Query> CompileExperiments(const std::string& filter,
                                   const std::vector<std::string>& order_by) {
  if (!filter.empty() || !order_by.empty()) return NoGrammar();
  Query q;
  q.order_by = "e.creation_time DESC, e.experiment_id ASC";
  return q;
}

StatusOr<Query> CompileLoggedModels(const std::string& filter,
                                    const std::vector<LoggedModelOrderBy>& order_by,
                                    const std::vector<LoggedModelDatasetFilter>& datasets) {
  if (!filter.empty() || !order_by.empty() || !datasets.empty()) return NoGrammar();
  Query q;
  q.order_by = "lm.creation_timestamp_ms DESC, lm.model_id ASC";
  return q;
}

std::string EncodePageToken(int64_t offset) {
  std::string in = "{\"offset\": " + std::to_string(offset) + "}";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kB64[n >> 18];
    out += kB64[(n >> 12) & 63];
    out += kB64[(n >> 6) & 63];
    out += kB64[n & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += kB64[n >> 18];
    out += kB64[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kB64[n >> 18];
    out += kB64[(n >> 12) & 63];
    out += kB64[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

StatusOr<int64_t> DecodePageToken(const std::string& token) {
  if (token.empty()) return int64_t{0};
  std::string decoded;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : token) {
    if (c == '=') break;
    const char* p = std::strchr(kB64, c);
    if (!p || c == '\0') continue;
    acc = (acc << 6) | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      decoded += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  const auto pos = decoded.find("\"offset\"");
  if (pos != std::string::npos) {
    size_t i = decoded.find(':', pos);
    if (i != std::string::npos) {
      ++i;
      while (i < decoded.size() && decoded[i] == ' ') ++i;
      int64_t v = 0;
      size_t start = i;
      while (i < decoded.size() && std::isdigit(static_cast<unsigned char>(decoded[i]))) {
        v = v * 10 + (decoded[i] - '0');
        ++i;
      }
      if (i > start) return v;
    }
  }
  return InvalidArgument("Invalid page token, could not base64-decode");
}

std::string EncodeLoggedModelPageToken(const SearchLoggedModelsRequest&, int64_t offset) {
  return EncodePageToken(offset);
}

StatusOr<int64_t> DecodeLoggedModelPageToken(const SearchLoggedModelsRequest& request) {
  return DecodePageToken(request.page_token);
}

#endif  // CAIRN_HAVE_TRACKING_SEARCH

}  // namespace cairn::tracking::search_adapter
