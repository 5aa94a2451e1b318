// Internal to config decoding (config.cc, outcome_config.cc): typed reads of YAML nodes with
// errors that name the config file and line. Includes yaml-cpp, so include it only from .cc
// files.
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace cairn::monitor {

class Decoder {
 public:
  explicit Decoder(std::string name) : name_(std::move(name)) {}

  Status Fail(const YAML::Node& node, const std::string& what) const {
    int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    return InvalidArgument(fmt::format("{}:{}: {}", name_, line, what));
  }

  // Rejects keys of a mapping that are not in `allowed`.
  Status CheckKeys(const YAML::Node& map, const std::string& where,
                   const std::set<std::string>& allowed) const {
    if (!map.IsMap()) return Fail(map, fmt::format("'{}' must be a mapping", where));
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      std::string key = it->first.as<std::string>();
      if (!seen.insert(key).second) {
        return Fail(it->first, fmt::format("duplicate key '{}'{}", key,
                                           where.empty() ? "" : " in '" + where + "'"));
      }
      if (!allowed.count(key)) {
        std::string known;
        for (const auto& k : allowed) known += (known.empty() ? "" : ", ") + k;
        return Fail(it->first, fmt::format("unknown key '{}'{} (known: {})", key,
                                           where.empty() ? "" : " in '" + where + "'", known));
      }
    }
    return OkStatus();
  }

  StatusOr<std::string> String(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) return Fail(n, fmt::format("'{}' must be a string", key));
    return n.as<std::string>();
  }

  StatusOr<std::vector<std::string>> Strings(const YAML::Node& n, const std::string& key) const {
    std::vector<std::string> out;
    if (n.IsScalar()) {
      out.push_back(n.as<std::string>());
      return out;
    }
    if (!n.IsSequence()) return Fail(n, fmt::format("'{}' must be a list of strings", key));
    for (const auto& e : n) {
      if (!e.IsScalar()) return Fail(e, fmt::format("'{}' must be a list of strings", key));
      out.push_back(e.as<std::string>());
    }
    return out;
  }

  StatusOr<int64_t> Int(const YAML::Node& n, const std::string& key) const {
    int64_t v;
    if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v)) {
      return Fail(n, fmt::format("'{}' must be an integer", key));
    }
    return v;
  }

  StatusOr<double> Double(const YAML::Node& n, const std::string& key) const {
    double v;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v)) {
      return Fail(n, fmt::format("'{}' must be a number", key));
    }
    return v;
  }

  StatusOr<std::optional<double>> OptDouble(const YAML::Node& n, const std::string& key) const {
    if (n.IsNull()) return std::optional<double>();
    ASSIGN_OR_RETURN(double v, Double(n, key));
    return std::optional<double>(v);
  }

  StatusOr<bool> Bool(const YAML::Node& n, const std::string& key) const {
    bool v;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
      return Fail(n, fmt::format("'{}' must be true or false", key));
    }
    return v;
  }

 private:
  std::string name_;
};

struct OutcomeConfig;

// A square matrix of finite numbers with two or more rows (a business value matrix: rows = the
// true class, columns = the predicted class). Errors name `key` and the line.
StatusOr<std::vector<std::vector<double>>> DecodeValueMatrix(const Decoder& d,
                                                             const YAML::Node& n,
                                                             const std::string& key);

// The top-level keys of outcome_config.h's sections, and their decoder (outcome_config.cc).
const std::vector<std::string>& OutcomeConfigKeys();
Status DecodeOutcomeConfig(const Decoder& d, const YAML::Node& root, OutcomeConfig* out);

}  // namespace cairn::monitor
