// Fairness, business value and the correlation ranker on small hand-made data: bad input
// (empty or malformed value matrix, unknown columns, no targets), missing sensitive values,
// hand-derived values, and what `cairn monitor run` writes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "monitor/config.h"
#include "monitor/monitor.h"
#include "monitor/ranker.h"
#include "monitor/report_parts.h"
#include "monitor/weak_segments.h"

namespace cairn::monitor {
namespace {

namespace fs = std::filesystem;

class OutcomeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("cairn_outcome_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // 20 rows per period: group g (a, b or missing), amount, target y, prediction yhat.
    // Rows i: g = a for i%4 in {0,1}, b for i%4 == 2, missing for i%4 == 3; y = i%2;
    // yhat = 1 for group a, 0 for b, y for the missing group.
    std::string text = "id,g,amount,p,yhat,y\n";
    for (int i = 0; i < 20; ++i) {
      const int k = i % 4, y = i % 2;
      const char* g = k < 2 ? "a" : (k == 2 ? "b" : "");
      const int yhat = k < 2 ? 1 : (k == 2 ? 0 : y);
      text += std::to_string(i) + "," + g + "," + std::to_string(100 + i) + "," +
              (yhat ? "0.9" : "0.1") + "," + std::to_string(yhat) + "," + std::to_string(y) + "\n";
    }
    Write("ref.csv", text);
    Write("ana.csv", text);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }

  StatusOr<MonitorResult> Run(const std::string& extra) {
    std::string path = Write("c.yaml", std::string(kBase) + extra);
    ASSIGN_OR_RETURN(MonitorConfig cfg, LoadMonitorConfig(path));
    return RunMonitor(cfg);
  }

  static constexpr const char* kBase =
      "reference: ref.csv\nanalysis: ana.csv\nid_columns: [id]\nchunking: {size: 20}\n"
      "features: [amount]\ntarget: y\nmodel_outputs: {y_pred_proba: p, y_pred: yhat}\n"
      "data_quality: {enabled: false}\nsummary_stats: {enabled: false}\n";

  fs::path dir_;
};

const Record* Find(const MonitorResult& r, const std::string& period, const std::string& column,
                   const std::string& group, const std::string& metric) {
  for (const auto& rec : r.records) {
    if (rec.period == period && rec.column == column && rec.group == group && rec.metric == metric)
      return &rec;
  }
  return nullptr;
}

TEST_F(OutcomeTest, MissingSensitiveValuesFormACountedGroup) {
  auto r = Run("fairness: {sensitive_attributes: [g]}\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Record* missing = Find(*r, "analysis", "g", "(missing)", "group_size");
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ(missing->value, 5);
  // Selection rates: a 1 (always predicted 1), b 0, missing 1 (yhat = y, and i%4 == 3 is odd
  // so y = 1).
  EXPECT_EQ(Find(*r, "analysis", "g", "a", "selection_rate")->value, 1);
  EXPECT_EQ(Find(*r, "analysis", "g", "b", "selection_rate")->value, 0);
  EXPECT_EQ(Find(*r, "analysis", "g", "(missing)", "selection_rate")->value, 1);
  // Group b (i%4 == 2: y = 0 always) has no positive targets: TPR is fairlearn's 0, flagged.
  const Record* tpr_b = Find(*r, "analysis", "g", "b", "true_positive_rate");
  ASSERT_NE(tpr_b, nullptr);
  EXPECT_EQ(tpr_b->value, 0);
  ASSERT_EQ(tpr_b->details.size(), 1u);
  EXPECT_EQ(tpr_b->details[0].first, "denominator");
  // DP difference 1 − 0; ratio 0/1 = 0 < 0.8: the four-fifths rule alerts by default.
  const Record* dpd = Find(*r, "analysis", "g", "", "demographic_parity_difference");
  const Record* dpr = Find(*r, "analysis", "g", "", "demographic_parity_ratio");
  ASSERT_NE(dpd, nullptr);
  ASSERT_NE(dpr, nullptr);
  EXPECT_EQ(dpd->value, 1);
  EXPECT_EQ(dpr->value, 0);
  EXPECT_TRUE(dpr->alert);
  EXPECT_EQ(dpr->lower, 0.8);
  EXPECT_FALSE(dpd->alert);  // no limit configured
}

TEST_F(OutcomeTest, BusinessValueHandDerived) {
  // Analysis chunk: group a (10 rows, yhat 1): 5 TP (odd i) + 5 FP; group b (5 rows, y 0,
  // yhat 0): 5 TN; missing group (5 rows, y 1 = yhat): 5 TP. So TN 5, FP 5, FN 0, TP 10.
  auto r =
      Run("business_value: {matrix: [[1, -2], [-3, 4]], amount_column: amount, "
          "amount_matrix: [[0, -1], [0, 0.5]], target: 0}\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Total: 5·1 + 5·(−2) + 0·(−3) + 10·4 = 35.
  EXPECT_EQ(Find(*r, "analysis", "y", "", "business_value")->value, 35);
  // Per prediction: predicted 0 → (5·1 + 0·(−3))/5 = 1; predicted 1 → (5·(−2) + 10·4)/15 = 2.
  EXPECT_DOUBLE_EQ(Find(*r, "analysis", "y", "", "business_value_per_prediction")->value, 3);
  EXPECT_EQ(Find(*r, "analysis", "y", "", "positive_decisions")->value, 15);
  // Amounts 100 + i over the 15 positive decisions: all i except i%4 == 2 (2,6,10,14,18).
  double sum = 0, pnl = 0;
  for (int i = 0; i < 20; ++i) {
    if (i % 4 == 2) continue;
    sum += 100 + i;
    const bool fp = i % 4 < 2 && i % 2 == 0;
    pnl += fp ? -(100 + i) : 0.5 * (100 + i);
  }
  EXPECT_EQ(Find(*r, "analysis", "y", "", "amount_sum")->value, sum);
  const Record* p = Find(*r, "analysis", "y", "", "profit_and_loss");
  ASSERT_NE(p, nullptr);
  EXPECT_DOUBLE_EQ(p->value, pnl);
  EXPECT_EQ(p->alert, pnl < 0);
}

TEST_F(OutcomeTest, EmptyOrMalformedValueMatrixIsAConfigError) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  const Case cases[] = {
      {"business_value: {matrix: []}\n", "'business_value.matrix' is empty"},
      {"business_value: {matrix: [[1, 2], [3]]}\n", "2x2 matrix"},
      {"business_value: {matrix: [[1, 2], [3, 4], [5, 6]]}\n", "it has 3 rows"},
      {"business_value: {matrix: [[1, x], [3, 4]]}\n", "must be a number"},
      {"business_value: {matrix: 5}\n", "2x2 matrix"},
      {"business_value: {amount_column: amount}\n", "needs 'matrix'"},
      {"business_value:\n", "'business_value' must be a mapping"},
      {"business_value: {matrix: [[1, 2], [3, 4]], amount_matrix: [[1, 2], [3, 4]]}\n",
       "needs 'amount_column'"},
      {"fairness: {sensitive_attributes: []}\n", "is empty"},
      {"fairness: {sensitive_attributes: [g], intersections: [[g, h]]}\n", "'h'"},
      {"fairness: {sensitive_attributes: [g], limits: {dp: {lower: 1}}}\n", "unknown key 'dp'"},
      {"fairness: {sensitive_attributes: [g], colour: red}\n", "unknown key 'colour'"},
      {"correlation_ranker: {metric: roc_auc, method: x}\n", "unknown key 'method'"},
      {"correlation_ranker: {performance: guessed}\n", "must be realized or estimated"},
  };
  for (const Case& c : cases) {
    auto r = Run(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << c.yaml;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << c.yaml << " -> " << r.status().ToString();
    EXPECT_NE(r.status().message().find("c.yaml:"), std::string::npos) << r.status().ToString();
  }
}

TEST_F(OutcomeTest, UnknownColumnsNameTheConfigKey) {
  struct Case {
    const char* yaml;
    const char* key;
  };
  const Case cases[] = {
      {"fairness: {sensitive_attributes: [gender]}\n", "fairness.sensitive_attributes"},
      {"business_value: {matrix: [[0, 1], [1, 0]], amount_column: price}\n",
       "business_value.amount_column"},
  };
  for (const Case& c : cases) {
    auto r = Run(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().code(), Code::kNotFound) << r.status().ToString();
    EXPECT_NE(r.status().message().find("unknown column"), std::string::npos);
    EXPECT_NE(r.status().message().find(c.key), std::string::npos) << r.status().ToString();
  }
}

TEST_F(OutcomeTest, AnalysesWithoutTargetsOrLabelsAreClearErrors) {
  // No target column in the analysis data and no targets file.
  std::string ana = "id,g,amount,p,yhat\n";
  for (int i = 0; i < 20; ++i)
    ana += std::to_string(i) + (i % 2 ? ",a,3,0.5,1\n" : i % 4 ? ",b,3,0.5,1\n" : ",b,3,0.5,0\n");
  Write("ana.csv", ana);
  auto r = Run("business_value: {matrix: [[0, 1], [1, 0]]}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'business_value' needs targets"), std::string::npos)
      << r.status().ToString();
  // Fairness before targets arrive: selection rates and demographic parity from y_pred only.
  auto f = Run("fairness: {sensitive_attributes: [g]}\n");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(Find(*f, "analysis", "g", "a", "selection_rate")->value, 1);
  EXPECT_EQ(Find(*f, "analysis", "g", "b", "selection_rate")->value, 0.5);
  const Record* dpr = Find(*f, "analysis", "g", "", "demographic_parity_ratio");
  ASSERT_NE(dpr, nullptr);
  EXPECT_EQ(dpr->value, 0.5);
  EXPECT_TRUE(dpr->alert);
  EXPECT_EQ(Find(*f, "analysis", "g", "a", "true_positive_rate"), nullptr);
  EXPECT_EQ(Find(*f, "analysis", "g", "", "equalized_odds_difference"), nullptr);
  // The run has no analysis targets, so the reference chunks are scored the same way.
  EXPECT_EQ(Find(*f, "reference", "g", "a", "true_positive_rate"), nullptr);
  Write("ana.csv",
        "id,g,amount,p,yhat\n" + std::string("1,a,3,0.5,2\n") + ana.substr(ana.find('\n') + 1));
  auto bad = Run("fairness: {sensitive_attributes: [g]}\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("must be 0 or 1"), std::string::npos)
      << bad.status().ToString();
  SetUp();
  auto nolabels = [&](const std::string& extra) {
    std::string path = Write("c.yaml", std::string(kBase) + extra);
    auto cfg = LoadMonitorConfig(path);
    EXPECT_TRUE(cfg.ok());
    cfg->y_pred.clear();
    return RunMonitor(*cfg);
  };
  auto r2 = nolabels("business_value: {matrix: [[0, 1], [1, 0]]}\n");
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("model_outputs.y_pred"), std::string::npos)
      << r2.status().ToString();
  auto r3 = Run("correlation_ranker: {metric: auroc}\n");
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.status().message().find("'auroc' is not a realized performance metric"),
            std::string::npos)
      << r3.status().ToString();
  EXPECT_NE(r3.status().message().find("roc_auc"), std::string::npos);
}

TEST(PearsonTest, MatchesScipyOnSmallInputs) {
  // scipy.stats.pearsonr([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]): r = 0.8 (Σdxdy = 8, Σdx² = Σdy² =
  // 10); p = 2·t.sf(0.8·√(3/0.36), 3) = 0.10408803866182788 (scipy 1.15.3).
  PearsonResult p = Pearson(std::vector<double>{1, 2, 3, 4, 5}, std::vector<double>{2, 1, 4, 3, 5});
  EXPECT_NEAR(p.r, 0.8, 1e-15);
  EXPECT_NEAR(p.p_value, 0.10408803866182799, 1e-12);
  PearsonResult two = Pearson(std::vector<double>{1, 2}, std::vector<double>{3, 1});
  EXPECT_EQ(two.r, -1);
  EXPECT_EQ(two.p_value, 1);
  EXPECT_TRUE(std::isnan(Pearson(std::vector<double>{1, 1, 1}, std::vector<double>{1, 2, 3}).r));
  EXPECT_TRUE(std::isnan(Pearson(std::vector<double>{1}, std::vector<double>{1}).p_value));
}

// A fixed bug: the report cut category labels and chunk keys after N bytes, splitting
// multi-byte characters ("20K - 20K €" became invalid UTF-8 in the distribution plot).
bool ValidUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    const size_t len = c < 0x80         ? 1
                       : (c >> 5) == 6  ? 2
                       : (c >> 4) == 14 ? 3
                       : (c >> 3) == 30 ? 4
                                        : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

TEST(ReportTest, LabelsAreCutOnUtf8CharacterBoundaries) {
  EXPECT_EQ(Utf8Prefix("20K - 20K \xE2\x82\xAC", 12), "20K - 20K ");
  EXPECT_EQ(Utf8Prefix("20K - 20K \xE2\x82\xAC", 13), "20K - 20K \xE2\x82\xAC");
  EXPECT_EQ(Utf8Prefix("abc", 12), "abc");
  // The car-loan salary_range drifts, so its distribution (with '€' labels) is drawn.
  auto cfg = LoadMonitorConfig(std::string(CAIRN_SOURCE_DIR) +
                               "/tests/monitor/goldens/business_value_car_loan.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  cfg->features = {"salary_range"};
  auto result = RunMonitor(*cfg);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const std::string page = RenderReport(*result, *cfg);
  EXPECT_NE(page.find("20K - 20K "), std::string::npos);
  EXPECT_TRUE(ValidUtf8(page));
}

TEST(RankerTest, OnlyDriftingKeepsRanksAndSkipsNaN) {
  // Reference ROC AUC mean 0.9; analysis 0.9, 0.8, 0.7 -> |Δ| = 0, 0.1, 0.2. Feature u moves
  // with the drop (r = 1, no alerts), w against it (r = −1, alerts), v has a NaN chunk and only
  // two usable chunks (r = 1 by scipy's two-point rule, p = 1; alerts).
  std::vector<Record> recs;
  auto add = [&](const char* period, int64_t chunk, const char* column, const char* metric,
                 const char* kind, double value, bool alert = false) {
    Record r;
    r.period = period;
    r.chunk_index = chunk;
    r.column = column;
    r.metric = metric;
    r.kind = kind;
    r.value = value;
    r.alert = alert;
    recs.push_back(r);
  };
  add("reference", 0, "y", "roc_auc", "performance", 0.85);
  add("reference", 1, "y", "roc_auc", "performance", 0.95);
  const double perf[] = {0.9, 0.8, 0.7}, u[] = {0.1, 0.2, 0.3}, w[] = {0.3, 0.2, 0.1},
               v[] = {0.1, NAN, 0.5};
  for (int c = 0; c < 3; ++c) {
    add("analysis", c, "y", "roc_auc", "performance", perf[c]);
    add("analysis", c, "u", "jensen_shannon", "drift", u[c]);
    add("analysis", c, "w", "jensen_shannon", "drift", w[c], c == 1);
    add("analysis", c, "v", "jensen_shannon", "drift", v[c], c == 0);
  }
  RankerSpec spec;
  auto all = RankByCorrelation(spec, recs, 30);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  // u and v both have r = 1 (u's to rounding): either order.
  std::map<std::string, const Record*> by;
  for (const auto& r : *all) by[r.column] = &r;
  EXPECT_NEAR(by["u"]->value, 1, 1e-12);
  EXPECT_EQ(by["v"]->value, 1);
  EXPECT_EQ(by["v"]->p_value, 1);
  EXPECT_EQ((*all)[2].column, "w");
  EXPECT_NEAR((*all)[2].value, -1, 1e-12);
  spec.only_drifting = true;
  auto drifting = RankByCorrelation(spec, recs, 30);
  ASSERT_TRUE(drifting.ok());
  ASSERT_EQ(drifting->size(), 2u);
  for (const auto& r : *drifting) {
    EXPECT_NE(r.column, "u");
    std::map<std::string, double> d(r.details.begin(), r.details.end());
    if (r.column == "w") {
      EXPECT_EQ(d["rank"], 3);  // ranks come from the full list
    }
    EXPECT_EQ(d["chunks"], r.column == "v" ? 2 : 3);
  }
  spec.drift_method = "hellinger";
  auto missing = RankByCorrelation(spec, recs, 30);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("computed: jensen_shannon"), std::string::npos)
      << missing.status().ToString();
}

TEST(WelchTest, MatchesScipy) {
  // scipy 1.15.3: ttest_ind([3, 5, 4, 6, 8], [1, 2, 2, 3, 1, 2, 4], equal_var=False,
  // alternative='greater') -> t 3.216681553542429, df 5.772415758242364,
  // p 0.009613088836695444 (means 5.2 and 15/7, variances 3.7 and 8/7).
  WelchResult w = WelchGreater(5, 5.2, 3.7, 7, 15.0 / 7, 8.0 / 7);
  EXPECT_NEAR(w.t, 3.216681553542429, 1e-12);
  EXPECT_NEAR(w.df, 5.772415758242364, 1e-12);
  EXPECT_NEAR(w.p_value, 0.009613088836695444, 1e-14);
  EXPECT_TRUE(std::isnan(WelchGreater(5, 1, 0, 7, 0, 0).p_value));
  // scipy.stats.false_discovery_control([0.01, 0.04, 0.03, 0.2, 0.04], method='bh')
  // -> [0.05, 0.05, 0.05, 0.2, 0.05].
  std::vector<double> q = BenjaminiHochberg({0.01, 0.04, 0.03, 0.2, 0.04});
  ASSERT_EQ(q.size(), 5u);
  for (size_t i : {0, 1, 2, 4}) EXPECT_NEAR(q[i], 0.05, 1e-15) << i;
  EXPECT_NEAR(q[3], 0.2, 1e-15);
}

TEST_F(OutcomeTest, WeakSegmentsBadInput) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  const Case cases[] = {
      {"weak_segments: {features: [colour]}\n", "unknown column 'colour'"},
      {"weak_segments: {metric: absolute_error}\n", "is for regression"},
      {"weak_segments: {metric: accuracy}\n", "must be auto, error_rate"},
      {"weak_segments: {bins: 1}\n", "'weak_segments.bins' must be between 2 and 100"},
      {"weak_segments: {min_size: 1.5}\n", "'weak_segments.min_size' must be in [0, 1)"},
      {"weak_segments: {rank_by: luck}\n", "rank_by' must be gap"},
  };
  for (const Case& c : cases) {
    auto r = Run(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << c.yaml << " -> " << r.status().ToString();
  }
  // A feature without reference values is one slice (plus missing), never a crash.
  std::string ref = "id,g,amount,p,yhat,y,empty\n";
  for (int i = 0; i < 20; ++i)
    ref += std::to_string(i) + ",a,1," + (i % 2 ? "0.9,1,1," : "0.1,0,1,") + "\n";
  Write("ref.csv", ref);
  Write("ana.csv", ref);
  auto empty = Run("weak_segments: {features: [empty, g], min_rows: 2}\n");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  SetUp();
  // Defaults run: group a (always predicted 1) errs on every even row, group b never.
  auto ok = Run("weak_segments: {features: [g], min_rows: 2, min_size: 0}\n");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  // Errors 5/10 in a vs 0/10 elsewhere: t = 0.5/√(0.2778/10) = 3 with 9 df, p ≈ 0.0075, three
  // slices tested (a, b, missing), q ≈ 0.022.
  const Record* a = Find(*ok, "analysis", "g", "g = a", "error_rate");
  ASSERT_NE(a, nullptr);
  EXPECT_DOUBLE_EQ(a->value, 0.5);
  std::map<std::string, double> d(a->details.begin(), a->details.end());
  EXPECT_NEAR(d["rest"], 0, 1e-15);
  EXPECT_NEAR(d["t"], 3, 1e-12);
  EXPECT_NEAR(d["df"], 9, 1e-12);
  EXPECT_EQ(d["tested"], 3);
  EXPECT_EQ(Find(*ok, "analysis", "g", "g = b", "error_rate"), nullptr);
}

TEST_F(OutcomeTest, CliWritesGroupsAndDetailsAndRejectsAnEmptyMatrix) {
  if (!fs::exists(CAIRN_BINARY)) GTEST_SKIP() << "cairn binary not built";
  const std::string out = (dir_ / "out").string();
  auto cli = [&](const std::string& cfg) {
    std::string cmd = std::string(CAIRN_BINARY) + " monitor run " + cfg + " --out " + out +
                      " --quiet 2> " + (dir_ / "err.txt").string();
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -2;
  };
  std::string good = Write("good.yaml", std::string(kBase) +
                                            "fairness: {sensitive_attributes: [g]}\n"
                                            "business_value: {matrix: [[0, 1], [1, 0]]}\n");
  EXPECT_EQ(cli(good), 3);  // the four-fifths rule alerts
  std::ifstream in(dir_ / "out" / "results.json");
  std::string json((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(json.find("\"group\":\"(missing)\""), std::string::npos);
  EXPECT_NE(json.find("\"details\":{\"denominator\":0}"), std::string::npos);
  EXPECT_NE(json.find("\"kind\":\"business_value\""), std::string::npos);
  std::ifstream html(dir_ / "out" / "report.html");
  std::string page((std::istreambuf_iterator<char>(html)), {});
  EXPECT_NE(page.find("Fairness"), std::string::npos);
  EXPECT_NE(page.find("Reliability diagram"), std::string::npos);
  EXPECT_NE(page.find("perfect calibration"), std::string::npos);
  std::string bad = Write("bad.yaml", std::string(kBase) + "business_value: {matrix: []}\n");
  EXPECT_EQ(cli(bad), 1);
  std::ifstream err(dir_ / "err.txt");
  std::string msg((std::istreambuf_iterator<char>(err)), {});
  EXPECT_NE(msg.find("'business_value.matrix' is empty"), std::string::npos) << msg;
}

}  // namespace
}  // namespace cairn::monitor
