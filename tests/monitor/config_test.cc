#include "monitor/config.h"

#include <gtest/gtest.h>

namespace cairn::monitor {
namespace {

TEST(ConfigTest, DecodesEverySection) {
  auto cfg = ParseMonitorConfig(R"(
reference: ref.csv
analysis: /abs/ana.csv.gz
timestamp_column: ts
id_columns: [id]
chunking: {size: 100, incomplete: append}
features: [a, b]
column_types: {b: categorical}
model_outputs: {y_pred_proba: p, y_pred: yhat}
drift:
  continuous: [kolmogorov_smirnov, wasserstein]
  categorical: [chi2]
  thresholds:
    wasserstein: {type: constant, upper: 0.5}
    kolmogorov_smirnov: {type: p_value, alpha: 0.01}
multivariate: {pca: {variance: 0.8}}
on_bad_rows: skip
)",
                                "c.yaml", "/base");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->reference, "/base/ref.csv");
  EXPECT_EQ(cfg->analysis, "/abs/ana.csv.gz");
  EXPECT_EQ(cfg->chunking.kind, ChunkingKind::kSize);
  EXPECT_EQ(cfg->chunking.size, 100);
  EXPECT_EQ(cfg->chunking.incomplete, Incomplete::kAppend);
  EXPECT_EQ(cfg->column_types.at("b"), ColumnType::kCategorical);
  EXPECT_EQ(cfg->y_pred_proba, "p");
  EXPECT_EQ(cfg->thresholds.at("wasserstein").kind, ThresholdKind::kConstant);
  EXPECT_EQ(*cfg->thresholds.at("wasserstein").upper, 0.5);
  EXPECT_EQ(cfg->thresholds.at("kolmogorov_smirnov").alpha, 0.01);
  EXPECT_TRUE(cfg->pca);
  EXPECT_EQ(cfg->pca_variance, 0.8);
  EXPECT_EQ(cfg->on_bad_rows, BadRowPolicy::kSkip);
}

TEST(ConfigTest, UnknownKeyNamesKeyAndLine) {
  auto cfg = ParseMonitorConfig("reference: a.csv\nanalysis: b.csv\nchunking:\n  sise: 10\n",
                                "c.yaml", "");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), Code::kInvalidArgument);
  EXPECT_NE(cfg.status().message().find("c.yaml:4: unknown key 'sise' in 'chunking'"),
            std::string::npos)
      << cfg.status().message();
  auto top = ParseMonitorConfig("reference: a.csv\nanalysis: b.csv\nfeatrues: [x]\n", "c.yaml", "");
  ASSERT_FALSE(top.ok());
  EXPECT_NE(top.status().message().find("c.yaml:3: unknown key 'featrues'"), std::string::npos)
      << top.status().message();
}

TEST(ConfigTest, RejectsBadValues) {
  for (const char* text :
       {"reference: a\nanalysis: b\nchunking: {size: -1}\n",
        "reference: a\nanalysis: b\nchunking: {size: 5, number: 3}\n",
        "reference: a\nanalysis: b\nchunking: {period: M}\n",  // no timestamp column
        "reference: a\nanalysis: b\ndrift: {continuous: [chi2]}\n",
        "reference: a\nanalysis: b\ncolumn_types: {x: text}\n", "analysis: b\n",
        "reference: [a\n"}) {
    auto cfg = ParseMonitorConfig(text, "c.yaml", "");
    EXPECT_FALSE(cfg.ok()) << text;
    if (!cfg.ok()) {
      EXPECT_EQ(cfg.status().message().rfind("c.yaml:", 0), 0u) << cfg.status().message();
    }
  }
  auto missing = LoadMonitorConfig("/nonexistent/c.yaml");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace cairn::monitor
