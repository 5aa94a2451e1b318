// Group labels of a column's values, shared by fairness (fairness.h) and weak segments
// (weak_segments.h): the same label gets the same code in the reference and analysis tables.
//
// Thread-safety: a GroupIndex is not synchronised; use one per thread.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "monitor/table.h"

namespace cairn::monitor {

// The group of a missing value.
inline constexpr const char* kMissingGroup = "(missing)";

// Interns labels: codes 0, 1, 2... in order of first appearance.
class GroupIndex {
 public:
  int32_t Intern(const std::string& label);
  const std::vector<std::string>& labels() const { return labels_; }
  size_t size() const { return labels_.size(); }

 private:
  std::unordered_map<std::string, int32_t> codes_;
  std::vector<std::string> labels_;
};

// The group code of every row of `column`: its value as text (categories and booleans as
// stored, numbers in their shortest form), kMissingGroup for a missing value.
// Errors: InvalidArgument for a timestamp column (`what` names the config key).
StatusOr<std::vector<int32_t>> GroupCodes(const Column& column, const std::string& what,
                                          GroupIndex* index);

}  // namespace cairn::monitor
