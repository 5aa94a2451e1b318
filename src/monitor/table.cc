#include "monitor/table.h"

#include <algorithm>
#include <cmath>

namespace cairn::monitor {

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kContinuous:
      return "continuous";
    case ColumnType::kCategorical:
      return "categorical";
    case ColumnType::kBoolean:
      return "boolean";
    case ColumnType::kTimestamp:
      return "timestamp";
  }
  return "unknown";
}

bool ParseColumnType(std::string_view name, ColumnType* type) {
  if (name == "continuous" || name == "numerical") {
    *type = ColumnType::kContinuous;
  } else if (name == "categorical") {
    *type = ColumnType::kCategorical;
  } else if (name == "boolean" || name == "bool") {
    *type = ColumnType::kBoolean;
  } else if (name == "timestamp") {
    *type = ColumnType::kTimestamp;
  } else {
    return false;
  }
  return true;
}

bool Column::IsMissing(size_t row) const {
  switch (type) {
    case ColumnType::kContinuous:
      return std::isnan(numbers[row]);
    case ColumnType::kTimestamp:
      return timestamps[row] == kMissingTimestamp;
    default:
      return codes[row] == kMissingCode;
  }
}

size_t Column::size() const {
  switch (type) {
    case ColumnType::kContinuous:
      return numbers.size();
    case ColumnType::kTimestamp:
      return timestamps.size();
    default:
      return codes.size();
  }
}

namespace {
template <typename T>
void PermuteVector(std::vector<T>& v, const std::vector<uint32_t>& order) {
  if (v.empty()) return;
  std::vector<T> out(order.size());
  for (size_t i = 0; i < order.size(); ++i) out[i] = v[order[i]];
  v.swap(out);
}
}  // namespace

void Column::Permute(const std::vector<uint32_t>& order) {
  PermuteVector(numbers, order);
  PermuteVector(codes, order);
  PermuteVector(timestamps, order);
  if (!unparseable_rows.empty()) {
    std::vector<int64_t> inverse(order.size());
    for (size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<int64_t>(i);
    for (auto& r : unparseable_rows) r = inverse[r];
    std::sort(unparseable_rows.begin(), unparseable_rows.end());
  }
}

const Column* Table::Find(std::string_view name) const {
  for (const auto& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

Column* Table::Find(std::string_view name) {
  for (auto& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace cairn::monitor
