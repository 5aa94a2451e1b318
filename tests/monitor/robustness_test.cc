// Malformed inputs never crash: mutated CSV text and YAML configs must come back as a value
// or a Status (run under ASan/UBSan in the sanitizer build). Deterministic seeds.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "monitor/config.h"
#include "monitor/data_source.h"

namespace cairn::monitor {
namespace {

std::string Mutate(std::string s, std::mt19937& rng) {
  static const char kBytes[] = {',', '"', '\n', '\r',   ' ', 'x', '1', '.',
                                '-', 'e', '\0', '\xff', ':', '#', '{', '['};
  int edits = 1 + static_cast<int>(rng() % 6);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    size_t pos = rng() % s.size();
    switch (rng() % 4) {
      case 0:
        s[pos] = kBytes[rng() % sizeof(kBytes)];
        break;
      case 1:
        s.insert(pos, 1, kBytes[rng() % sizeof(kBytes)]);
        break;
      case 2:
        s.erase(pos, 1 + rng() % 3);
        break;
      default:
        s.resize(pos);
        break;
    }
  }
  return s;
}

TEST(RobustnessTest, MutatedCsvNeverCrashes) {
  const std::string seed =
      "id,x,cat,flag,ts\n1,1.5,a,True,2018-01-01 00:00:00\n2,\"2,5\",\"b "
      "\"\"q\"\"\",False,2018-01-02\n"
      "3,NaN,a,,\n4,-7e3,c,True,2018-01-03T04:05:06.789Z\n";
  std::mt19937 rng(12345);
  int ok = 0, failed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = Mutate(seed, rng);
    for (auto policy : {BadRowPolicy::kError, BadRowPolicy::kSkip}) {
      ReadOptions opts;
      opts.on_bad_rows = policy;
      if (i % 3 == 0) opts.types["x"] = ColumnType::kContinuous;
      auto src = CsvFromString(text, "m.csv");
      auto t = src->Read(opts);
      if (t.ok()) {
        ++ok;
        for (const auto& c : t->columns) EXPECT_EQ(c.size(), t->num_rows);
      } else {
        ++failed;
        EXPECT_FALSE(t.status().message().empty());
        EXPECT_EQ(t.status().message().rfind("m.csv", 0), 0u) << t.status().message();
      }
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(failed, 0);
}

TEST(RobustnessTest, MutatedConfigNeverCrashes) {
  const std::string seed =
      "reference: r.csv\nanalysis: a.csv\ntimestamp_column: ts\nchunking: {size: 10, incomplete: "
      "keep}\n"
      "features: [a, b]\ncolumn_types: {b: categorical}\ndrift:\n  continuous: "
      "[kolmogorov_smirnov]\n"
      "  thresholds: {kolmogorov_smirnov: {type: std, upper: 3}}\nmultivariate: {pca: {variance: "
      "0.5}}\n";
  std::mt19937 rng(777);
  int ok = 0, failed = 0;
  for (int i = 0; i < 3000; ++i) {
    auto cfg = ParseMonitorConfig(Mutate(seed, rng), "m.yaml", "/base");
    if (cfg.ok()) {
      ++ok;
    } else {
      ++failed;
      EXPECT_EQ(cfg.status().message().rfind("m.yaml:", 0), 0u) << cfg.status().message();
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(failed, 0);
}

}  // namespace
}  // namespace cairn::monitor
