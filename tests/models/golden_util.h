// Helpers for the models tests: reading golden files written by goldens/make_models.py.
#pragma once

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cairn::models::testing {

inline std::string GoldenPath(const std::string& name) {
  return std::string(CAIRN_SOURCE_DIR) + "/tests/models/goldens/" + name;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline nlohmann::json ReadJson(const std::string& path) {
  return nlohmann::json::parse(ReadText(path));
}

// rows: array of arrays with null for missing -> row-major doubles with NaN.
inline std::vector<double> Rows(const nlohmann::json& rows, size_t* n_cols) {
  std::vector<double> out;
  *n_cols = rows.empty() ? 0 : rows[0].size();
  for (const auto& row : rows) {
    for (const auto& v : row) {
      out.push_back(v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>());
    }
  }
  return out;
}

inline std::vector<double> Flatten(const nlohmann::json& m) {
  std::vector<double> out;
  for (const auto& row : m) {
    if (row.is_array()) {
      for (const auto& v : row) out.push_back(v.get<double>());
    } else {
      out.push_back(row.get<double>());
    }
  }
  return out;
}

}  // namespace cairn::models::testing
