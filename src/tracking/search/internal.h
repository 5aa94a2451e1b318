// Internals shared by the search parser and the SQL compiler. Not part of the public API:
// include search.h instead.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "tracking/search/search.h"

namespace cairn::tracking::search::internal {

// A parsed order_by entry ("<identifier> [ASC|DESC]").
struct OrderTerm {
  KeyType type = KeyType::kAttribute;
  std::string key;
  bool ascending = true;
};

// Per-entity order_by parsing with MLflow's messages (no duplicate or column checks: those are
// the compiler's, as in MLflow's stores).
StatusOr<OrderTerm> ParseRunOrderBy(std::string_view order_by);
StatusOr<OrderTerm> ParseExperimentOrderBy(std::string_view order_by);
// Registered models accept only a bare key: returns type kAttribute with the key as written.
StatusOr<OrderTerm> ParseRegisteredModelOrderBy(std::string_view order_by);
StatusOr<OrderTerm> ParseModelVersionOrderBy(std::string_view order_by);

// Python reprs used inside MLflow's messages.
// repr(str): 'abc', or "it's" when the text holds a single quote and no double quote.
std::string PyRepr(std::string_view text);
// repr of a set of strings, elements sorted (Python's order is hash-dependent; the goldens
// sort them too): {'a', 'b'}.
std::string PySetRepr(std::vector<std::string> items);
// repr of a list of strings: ['a', 'b'].
std::string PyListRepr(const std::vector<std::string>& items);

// Comparator sets of SearchUtils.
extern const std::vector<std::string> kMetricComparators;          // > >= != = < <=
extern const std::vector<std::string> kParamTagComparators;        // != = LIKE ILIKE
extern const std::vector<std::string> kStringAttributeComparators;  // ... IN, NOT IN
extern const std::vector<std::string> kNumericAttributeComparators;
extern const std::vector<std::string> kDatasetComparators;

bool Contains(const std::vector<std::string>& set, std::string_view item);
std::string Upper(std::string_view text);

// Keys with special meaning.
inline constexpr std::string_view kPromptTagKey = "mlflow.prompt.is_prompt";
inline constexpr std::string_view kDatasetContextTag = "mlflow.data.context";

}  // namespace cairn::tracking::search::internal
