// Golden case files (header line, input lines, ----, expected lines; cases separated by blank
// lines, # comments between cases) shared by the search tests, with --rewrite support.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cairn::tracking::search::testing {

// Set by main() when the test binary runs with --rewrite.
inline bool& RewriteGoldens() {
  static bool rewrite = false;
  return rewrite;
}

// The goldens folder; CAIRN_SEARCH_GOLDEN_DIR overrides it (for differential runs against
// MLflow on generated cases, outside the committed goldens).
inline std::string GoldenDir() {
  if (const char* dir = std::getenv("CAIRN_SEARCH_GOLDEN_DIR")) return std::string(dir) + "/";
  return std::string(CAIRN_SOURCE_DIR) + "/tests/tracking/search/goldens/";
}

struct GoldenCase {
  std::vector<std::string> prefix;  // comments and blank lines before the case
  std::string header;
  std::vector<std::string> inputs;
  std::vector<std::string> expected;
  std::vector<std::string> actual;  // filled by the test
};

struct GoldenFile {
  std::string path;
  std::vector<GoldenCase> cases;
  std::vector<std::string> trailer;

  static GoldenFile Read(const std::string& name) {
    GoldenFile f;
    f.path = GoldenDir() + name;
    std::ifstream in(f.path);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    std::vector<std::string> prefix;
    size_t i = 0;
    auto blank = [](const std::string& s) {
      return s.find_first_not_of(" \t\r") == std::string::npos;
    };
    while (i < lines.size()) {
      if (blank(lines[i]) || lines[i][0] == '#') {
        prefix.push_back(lines[i++]);
        continue;
      }
      GoldenCase c;
      c.prefix = std::move(prefix);
      prefix.clear();
      c.header = lines[i++];
      while (i < lines.size() && lines[i] != "----") c.inputs.push_back(lines[i++]);
      ++i;
      while (i < lines.size() && !blank(lines[i])) c.expected.push_back(lines[i++]);
      f.cases.push_back(std::move(c));
    }
    f.trailer = std::move(prefix);
    return f;
  }

  // Rewrites the file with the actual outputs (an expected "error: *" stays when the actual
  // output is an error too).
  void Write() const {
    std::ofstream out(path);
    for (const GoldenCase& c : cases) {
      for (const auto& l : c.prefix) out << l << "\n";
      out << c.header << "\n";
      for (const auto& l : c.inputs) out << l << "\n";
      out << "----\n";
      bool keep_wildcard = c.expected.size() == 1 && c.expected[0] == "error: *" &&
                           c.actual.size() == 1 && c.actual[0].rfind("error: ", 0) == 0;
      for (const auto& l : keep_wildcard ? c.expected : c.actual) out << l << "\n";
    }
    for (const auto& l : trailer) out << l << "\n";
  }
};

inline bool Matches(const std::vector<std::string>& expected,
                    const std::vector<std::string>& actual) {
  if (expected.size() == 1 && expected[0] == "error: *") {
    return actual.size() == 1 && actual[0].rfind("error: ", 0) == 0;
  }
  return expected == actual;
}

inline std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace cairn::tracking::search::testing
