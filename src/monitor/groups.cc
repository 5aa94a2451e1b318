#include "monitor/groups.h"

#include <fmt/format.h>

#include <cmath>

namespace cairn::monitor {

int32_t GroupIndex::Intern(const std::string& label) {
  auto [it, inserted] = codes_.emplace(label, static_cast<int32_t>(labels_.size()));
  if (inserted) labels_.push_back(label);
  return it->second;
}

StatusOr<std::vector<int32_t>> GroupCodes(const Column& c, const std::string& what,
                                          GroupIndex* index) {
  std::vector<int32_t> out(c.size());
  switch (c.type) {
    case ColumnType::kCategorical:
    case ColumnType::kBoolean: {
      std::vector<int32_t> dict(c.dictionary.size(), -1);
      int32_t missing = -1;
      for (size_t i = 0; i < c.size(); ++i) {
        int32_t k = c.codes[i];
        if (k == kMissingCode) {
          if (missing < 0) missing = index->Intern(kMissingGroup);
          out[i] = missing;
          continue;
        }
        if (dict[k] < 0) dict[k] = index->Intern(c.dictionary[k]);
        out[i] = dict[k];
      }
      return out;
    }
    case ColumnType::kContinuous: {
      std::unordered_map<double, int32_t> seen;
      int32_t missing = -1;
      for (size_t i = 0; i < c.size(); ++i) {
        double v = c.numbers[i];
        if (std::isnan(v)) {
          if (missing < 0) missing = index->Intern(kMissingGroup);
          out[i] = missing;
          continue;
        }
        auto it = seen.find(v);
        if (it == seen.end()) it = seen.emplace(v, index->Intern(fmt::format("{}", v))).first;
        out[i] = it->second;
      }
      return out;
    }
    case ColumnType::kTimestamp:
      break;
  }
  return InvalidArgument(
      fmt::format("{} names '{}', which holds timestamps; group by a categorical column instead",
                  what, c.name));
}

}  // namespace cairn::monitor
