// End-to-end behaviour of the engine and the `cairn monitor run` command on small files,
// including every bad input the issue lists.
#include "monitor/monitor.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "monitor/config.h"

namespace cairn::monitor {
namespace {

namespace fs = std::filesystem;

class MonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("cairn_monitor_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }

  // 60 rows: x continuous, c categorical; analysis shifts x and adds category "z".
  void WriteData(bool shift) {
    std::string ref = "id,x,c\n", ana = "id,x,c\n";
    for (int i = 0; i < 60; ++i) {
      ref += std::to_string(i) + "," + std::to_string((i * 37) % 60 / 10.0) + "," +
             (i % 3 ? "a" : "b") + "\n";
      double x = (i * 37) % 60 / 10.0 + (shift ? 4.0 : 0.0);
      ana += std::to_string(i) + "," + std::to_string(x) + "," +
             (shift && i % 5 == 0 ? "z" : (i % 3 ? "a" : "b")) + "\n";
    }
    Write("ref.csv", ref);
    Write("ana.csv", ana);
  }

  StatusOr<MonitorResult> Run(const std::string& yaml) {
    std::string path = Write("c.yaml", yaml);
    ASSIGN_OR_RETURN(MonitorConfig cfg, LoadMonitorConfig(path));
    return RunMonitor(cfg);
  }

  int Cli(const std::string& args) {
    if (!fs::exists(CAIRN_BINARY)) return -1;
    std::string cmd = std::string(CAIRN_BINARY) + " " + args + " > " + (dir_ / "out.txt").string() +
                      " 2> " + (dir_ / "err.txt").string();
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -2;
  }
  std::string Stderr() {
    std::ifstream in(dir_ / "err.txt");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir_;
};

constexpr const char* kBase =
    "reference: ref.csv\nanalysis: ana.csv\nid_columns: [id]\nchunking: {size: 10}\n"
    "drift: {continuous: [kolmogorov_smirnov, jensen_shannon], categorical: [chi2, "
    "jensen_shannon]}\n";

TEST_F(MonitorTest, DetectsShiftAndUnseenCategory) {
  WriteData(true);
  auto r = Run(std::string(kBase) + "multivariate: {pca: {enabled: true}}\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->alert_count, 0);
  bool unseen_alert = false, ks_alert = false;
  for (const auto& rec : r->records) {
    if (rec.period != "analysis") continue;
    if (rec.column == "c" && rec.metric == "unseen_values_rate" && rec.alert) unseen_alert = true;
    if (rec.column == "x" && rec.metric == "kolmogorov_smirnov" && rec.alert) ks_alert = true;
  }
  EXPECT_TRUE(unseen_alert);
  EXPECT_TRUE(ks_alert);
  EXPECT_EQ(r->reference_chunks, 6);
}

TEST_F(MonitorTest, SameDataGivesNoDriftAlerts) {
  WriteData(false);
  auto r = Run(kBase);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const auto& rec : r->records) {
    if (rec.kind == "drift" && rec.period == "analysis") {
      EXPECT_FALSE(rec.alert) << rec.column << " " << rec.metric << " " << rec.chunk_key;
    }
  }
}

TEST_F(MonitorTest, BadInputsGiveOneLineErrors) {
  WriteData(false);
  struct Case {
    std::string yaml;
    std::string expect;
  };
  std::vector<Case> cases = {
      {"reference: nope.csv\nanalysis: ana.csv\n", "nope.csv: cannot open"},
      {std::string(kBase) + "features: [x, nope]\n", "unknown column 'nope'"},
      {std::string(kBase) + "chunkin: {size: 5}\n", "c.yaml:6: unknown key 'chunkin'"},
      {"reference: ref.csv\nanalysis: ana.csv\nchunking: {size: 1000}\n",
       "chunking.size 1000 is larger than"},
  };
  for (const auto& c : cases) {
    auto r = Run(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos)
        << "one line: " << r.status().message();
  }
}

TEST_F(MonitorTest, AllMissingColumnAndMixedTypes) {
  std::string ref = "x,y\n", ana = "x,y\n";
  for (int i = 0; i < 30; ++i) {
    ref += std::to_string(i) + ",\n";
    ana += std::to_string(i) + ",\n";
  }
  Write("ref.csv", ref);
  Write("ana.csv", ana);
  auto r = Run("reference: ref.csv\nanalysis: ana.csv\nchunking: {size: 10}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("column 'y' has no values"), std::string::npos)
      << r.status().message();

  std::string mixed = "x\n";
  for (int i = 0; i < kInferenceRows + 10; ++i) mixed += std::to_string(i) + "\n";
  mixed += "twelve\n";
  Write("ref.csv", mixed);
  auto m = Run("reference: ref.csv\nanalysis: ana.csv\nchunking: {size: 10}\n");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find(":" + std::to_string(kInferenceRows + 12) + ": column 'x'"),
            std::string::npos)
      << m.status().message();
}

TEST_F(MonitorTest, UnparseableAnalysisCellsAreCountedAndAlert) {
  WriteData(false);
  std::string ana = "id,x,c\n";
  for (int i = 0; i < 60; ++i)
    ana += std::to_string(i) + "," + (i == 15 ? "n/a?" : std::to_string(i % 6)) + ",a\n";
  Write("ana.csv", ana);
  auto r = Run(kBase);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  int found = 0;
  for (const auto& rec : r->records) {
    if (rec.column == "x" && rec.metric == "unparseable_values_count" && rec.period == "analysis") {
      EXPECT_EQ(rec.value, rec.chunk_index == 1 ? 1.0 : 0.0);
      EXPECT_EQ(rec.alert, rec.chunk_index == 1);
      ++found;
    }
  }
  EXPECT_EQ(found, 6);
}

TEST_F(MonitorTest, NaNAndInfAreDroppedFromDriftAndEmptyColumnsInAChunkGiveNaN) {
  // Reference and analysis identical except for non-finite cells; the second analysis chunk
  // holds only missing values of x.
  std::string ref = "x,c\n", ana = "x,c\n";
  for (int i = 0; i < 40; ++i) {
    std::string v = std::to_string(i % 10);
    ref += (i == 3 ? "inf" : i == 4 ? "-inf" : i == 5 ? "nan" : v) + ",a\n";
    ana += (i >= 10 && i < 20 ? "" : v) + "," + (i % 2 ? "a" : "b") + "\n";
  }
  Write("ref.csv", ref);
  Write("ana.csv", ana);
  auto r =
      Run("reference: ref.csv\nanalysis: ana.csv\nchunking: {size: 10}\n"
          "drift: {continuous: [kolmogorov_smirnov, wasserstein, jensen_shannon, psi]}\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  int checked = 0;
  for (const auto& rec : r->records) {
    if (rec.column != "x" || rec.kind != "drift") continue;
    if (rec.period == "analysis" && rec.chunk_index == 1) {
      EXPECT_TRUE(std::isnan(rec.value)) << rec.metric;
      EXPECT_FALSE(rec.alert);
    } else {
      EXPECT_TRUE(std::isfinite(rec.value)) << rec.metric << " " << rec.chunk_key;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 4 * 8);
  for (const auto& rec : r->records) {
    if (rec.column == "x" && rec.metric == "missing_values_rate" && rec.period == "analysis" &&
        rec.chunk_index == 1) {
      EXPECT_EQ(rec.value, 1.0);
    }
  }
}

TEST_F(MonitorTest, PValueThresholdsAndDuplicateKeys) {
  WriteData(true);
  // Duplicate ids in the analysis period's first chunk.
  std::string ana = "id,x,c\n";
  for (int i = 0; i < 60; ++i)
    ana += std::to_string(i < 10 ? i % 5 : i) + "," + std::to_string(i % 7) + ",a\n";
  Write("ana.csv", ana);
  auto r = Run(std::string(kBase) +
               "data_quality: {duplicates_key: [id]}\n"
               "drift:\n  continuous: [kolmogorov_smirnov]\n  categorical: [chi2]\n"
               "  thresholds: {kolmogorov_smirnov: {type: p_value, alpha: 0.01}}\n");
  ASSERT_FALSE(r.ok());  // 'drift' given twice: duplicate keys are rejected
  EXPECT_NE(r.status().message().find("duplicate key 'drift'"), std::string::npos)
      << r.status().message();
  r =
      Run("reference: ref.csv\nanalysis: ana.csv\nid_columns: [id]\nchunking: {size: 10}\n"
          "data_quality: {duplicates_key: [id]}\n"
          "drift:\n  continuous: [kolmogorov_smirnov]\n  categorical: [chi2]\n"
          "  thresholds: {kolmogorov_smirnov: {type: p_value, alpha: 0.01}}\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  int ks = 0, dup = 0;
  for (const auto& rec : r->records) {
    if (rec.metric == "kolmogorov_smirnov") {
      ASSERT_TRUE(rec.p_value.has_value());
      EXPECT_FALSE(rec.lower.has_value());
      EXPECT_FALSE(rec.upper.has_value());
      EXPECT_EQ(rec.alert, *rec.p_value < 0.01) << rec.chunk_key;
      ++ks;
    }
    if (rec.metric == "duplicate_keys_rate" && rec.period == "analysis") {
      EXPECT_EQ(rec.value, rec.chunk_index == 0 ? 0.5 : 0.0);
      EXPECT_EQ(rec.alert, rec.chunk_index == 0);
      ++dup;
    }
  }
  EXPECT_EQ(ks, 12);
  EXPECT_EQ(dup, 6);
}

TEST_F(MonitorTest, CliExitCodesAndOutputs) {
  if (!fs::exists(CAIRN_BINARY)) GTEST_SKIP() << "cairn binary not built";
  WriteData(false);
  std::string cfg = Write("c.yaml", kBase);
  std::string out = (dir_ / "out").string();
  EXPECT_EQ(Cli("monitor run " + cfg + " --out " + out + " --quiet"), 0) << Stderr();
  EXPECT_TRUE(fs::exists(dir_ / "out" / "results.json"));
  EXPECT_TRUE(fs::exists(dir_ / "out" / "report.html"));
  WriteData(true);
  EXPECT_EQ(Cli("monitor run " + cfg + " --out " + out), 3) << Stderr();
  EXPECT_NE(Stderr().find("alerts"), std::string::npos);
  std::ifstream html(dir_ / "out" / "report.html");
  std::string page((std::istreambuf_iterator<char>(html)), {});
  EXPECT_NE(page.find("<svg"), std::string::npos);
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_EQ(Cli("monitor run /nonexistent.yaml --out " + out), 1);
  EXPECT_NE(Stderr().find("/nonexistent.yaml"), std::string::npos);
  EXPECT_EQ(Cli("monitor run"), 2);
  Write("bad.csv", "id,x,c\n1,2\n");
  std::string bad =
      Write("bad.yaml", "reference: ref.csv\nanalysis: bad.csv\nchunking: {size: 10}\n");
  EXPECT_EQ(Cli("monitor run " + bad + " --out " + out), 1);
  EXPECT_NE(Stderr().find("bad.csv:2: malformed row"), std::string::npos) << Stderr();
  // Skipping: the malformed row is dropped and counted in the summary and on stderr.
  std::string ana = "id,x,c\n";
  for (int i = 0; i < 30; ++i) ana += std::to_string(i) + "," + std::to_string(i % 6) + ",a\n";
  ana += "99,1\n";
  Write("bad.csv", ana);
  EXPECT_EQ(Cli("monitor run " + bad + " --out " + out + " --on-bad-rows=skip"), 3) << Stderr();
  EXPECT_NE(Stderr().find("skipped 1 malformed rows"), std::string::npos) << Stderr();
  std::ifstream results(dir_ / "out" / "results.json");
  std::string json((std::istreambuf_iterator<char>(results)), {});
  EXPECT_NE(json.find("\"analysis_skipped_rows\":1"), std::string::npos);
  EXPECT_EQ(Cli("monitor run " + bad + " --out " + out + " --on-bad-rows=maybe"), 2);
}

}  // namespace
}  // namespace cairn::monitor
