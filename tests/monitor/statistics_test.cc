// The statistics kernels against numpy/scipy on edge cases (goldens/scipy_cases.txt, made by
// goldens/make_scipy_goldens.py).
#include "monitor/statistics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "monitor/domain_classifier.h"

namespace cairn::monitor {
namespace {

struct Case {
  std::string kind;
  std::vector<double> a, b, expected;
};

std::vector<double> Parse(const std::string& s) {
  std::vector<double> v;
  std::istringstream in(s);
  std::string tok;
  while (in >> tok) v.push_back(std::stod(tok));
  return v;
}

std::vector<Case> LoadCases() {
  std::ifstream in(std::string(CAIRN_SOURCE_DIR) + "/tests/monitor/goldens/scipy_cases.txt");
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t i = 0; i <= line.size(); ++i) {
      if (i == line.size() || line[i] == '|') {
        parts.push_back(line.substr(start, i - start));
        start = i + 1;
      }
    }
    cases.push_back({parts[0], Parse(parts[1]), Parse(parts[2]), Parse(parts[3])});
  }
  return cases;
}

std::vector<double> Gen(const std::vector<double>& spec) {
  std::vector<double> v;
  int64_t n = static_cast<int64_t>(spec[0]), mult = static_cast<int64_t>(spec[1]),
          mod = static_cast<int64_t>(spec[2]);
  for (int64_t i = 0; i < n; ++i)
    v.push_back(static_cast<double>((i * mult) % mod) / static_cast<double>(mod) + spec[3]);
  return v;
}

void ExpectClose(double expected, double actual, double rel, const std::string& what) {
  if (std::isnan(expected)) {
    EXPECT_TRUE(std::isnan(actual)) << what;
    return;
  }
  EXPECT_NEAR(actual, expected, rel * std::max(std::abs(expected), 1e-300) + 1e-300) << what;
}

TEST(StatisticsTest, MatchesScipyGoldens) {
  std::vector<Case> cases = LoadCases();
  ASSERT_GE(cases.size(), 40u);
  int checked = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    Case c = cases[i];
    std::string what = "case " + std::to_string(i) + " " + c.kind;
    if (c.kind == "ks_gen" || c.kind == "wasserstein_gen") {
      c.a = Gen(c.a);
      c.b = Gen(c.b);
      c.kind = c.kind.substr(0, c.kind.size() - 4);
    }
    if (c.kind == "ks") {
      std::sort(c.a.begin(), c.a.end());
      std::sort(c.b.begin(), c.b.end());
      double d = KsStatistic(c.a, c.b);
      ExpectClose(c.expected[0], d, 1e-12, what + " D");
      ExpectClose(c.expected[1], KsPValue(d, c.a.size(), c.b.size()), 1e-9, what + " p");
    } else if (c.kind == "wasserstein") {
      std::sort(c.a.begin(), c.a.end());
      std::sort(c.b.begin(), c.b.end());
      ExpectClose(c.expected[0], WassersteinExact(c.a, c.b), 1e-12, what);
    } else if (c.kind == "doane") {
      std::vector<double> edges = DoaneEdges(c.a);
      ASSERT_EQ(edges.size(), c.expected.size()) << what;
      for (size_t k = 0; k < edges.size(); ++k)
        EXPECT_EQ(edges[k], c.expected[k]) << what << " edge " << k;
    } else if (c.kind == "kstwo_sf") {
      ExpectClose(c.expected[0], KolmogorovSf(static_cast<int64_t>(c.a[0]), c.a[1]), 1e-9,
                  what + " n=" + std::to_string(c.a[0]) + " d=" + std::to_string(c.a[1]));
    } else if (c.kind == "chi2") {
      Chi2Result r = Chi2Contingency(c.a, c.b);
      ExpectClose(c.expected[0], r.statistic, 1e-12, what + " stat");
      ExpectClose(c.expected[1], r.p_value, 1e-9, what + " p");
      EXPECT_EQ(r.dof, static_cast<int64_t>(c.expected[2])) << what;
    } else if (c.kind == "js2") {
      ExpectClose(c.expected[0], JensenShannonDistance(c.a, c.b, 2.0), 1e-12, what);
    } else if (c.kind == "roc_auc") {
      std::vector<float> y(c.a.begin(), c.a.end()), p(c.b.begin(), c.b.end());
      ExpectClose(c.expected[0], RocAuc(y, p), 1e-12, what);
    } else if (c.kind == "skfold") {
      std::vector<float> y(c.a.begin(), c.a.end());
      std::vector<int> folds = StratifiedFolds(y, 5);
      ASSERT_EQ(folds.size(), c.expected.size());
      for (size_t k = 0; k < folds.size(); ++k)
        EXPECT_EQ(folds[k], static_cast<int>(c.expected[k])) << what << " " << k;
    } else if (c.kind == "quantile") {
      ExpectClose(c.expected[0], Quantile(c.a, c.b[0]), 1e-15, what);
    } else {
      ADD_FAILURE() << "unknown case kind " << c.kind;
    }
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(cases.size()));
}

TEST(StatisticsTest, EmptyInputsGiveNaN) {
  std::vector<double> empty, one = {1.0};
  EXPECT_TRUE(std::isnan(KsStatistic(empty, one)));
  EXPECT_TRUE(std::isnan(WassersteinExact(one, empty)));
  EXPECT_TRUE(std::isnan(KsPValue(0.5, 0, 3)));
  EXPECT_TRUE(std::isnan(Quantile(empty, 0.5)));
}

TEST(StatisticsTest, HistogramFollowsNumpyEdgeRules) {
  // np.histogram([0, 1, 1.5, 2, 3, -1, 4], bins=[0, 1, 2, 3]) -> [1, 2, 2]: bins are
  // [a, b) except the last, which is closed; values outside are dropped.
  std::vector<double> x = {0, 1, 1.5, 2, 3, -1, 4};
  std::vector<int64_t> counts;
  int64_t below = 0;
  Histogram(x, {0, 1, 2, 3}, &counts, &below);
  EXPECT_EQ(counts, (std::vector<int64_t>{1, 2, 2}));
  EXPECT_EQ(below, 1);
}

TEST(StatisticsTest, PsiReplacesZeroSharesAsEvidently) {
  // Hand-derived: r = [0.5, 0.5, 0], c = [0.5, 0.25, 0.25]; zero becomes 1e-4 (min nonzero
  // share 0.5 > 1e-4). PSI = 0 + (0.25)ln(2) + (1e-4 - 0.25)ln(1e-4 / 0.25).
  double expected = 0.25 * std::log(2.0) + (1e-4 - 0.25) * std::log(1e-4 / 0.25);
  EXPECT_NEAR(PopulationStabilityIndex({0.5, 0.5, 0}, {0.5, 0.25, 0.25}), expected, 1e-15);
}

// StableOrder must be exactly std::stable_sort by `<` (ties in row order), whatever the keys:
// heavy ties, both signs, ±0, ±Inf, subnormals, and the sizes around the radix passes.
TEST(StatisticsTest, StableOrderIsStableSortByLess) {
  const double inf = std::numeric_limits<double>::infinity();
  std::mt19937_64 gen(7);
  for (size_t n : {0, 1, 2, 3, 17, 256, 1000, 70000}) {
    for (int shape = 0; shape < 4; ++shape) {
      std::vector<double> a(n), b(n);
      for (size_t i = 0; i < n; ++i) {
        const uint64_t r = gen();
        switch (shape) {
          case 0:  // few distinct values (rounded probabilities)
            a[i] = static_cast<double>(r % 101) / 100;
            break;
          case 1:  // all distinct, both signs
            a[i] = std::ldexp(static_cast<double>(r >> 11), -40) - 4096.0;
            break;
          case 2: {  // specials
            const double pick[] = {0.0, -0.0, inf, -inf, 5e-324, -5e-324, 1.0, -1.0, 1e308};
            a[i] = pick[r % 9];
            break;
          }
          default:  // constant
            a[i] = 0.25;
        }
        b[i] = static_cast<double>((r >> 32) % 3);  // a secondary key with ties
      }
      std::vector<uint32_t> want(n);
      std::iota(want.begin(), want.end(), 0u);
      std::stable_sort(want.begin(), want.end(), [&](uint32_t x, uint32_t y) { return a[x] < a[y]; });
      EXPECT_EQ(StableOrder(a), want) << "n " << n << " shape " << shape;
      std::iota(want.begin(), want.end(), 0u);
      std::stable_sort(want.begin(), want.end(), [&](uint32_t x, uint32_t y) {
        return a[x] < a[y] || (a[x] == a[y] && b[x] < b[y]);
      });
      EXPECT_EQ(StableOrder(a, b), want) << "n " << n << " shape " << shape << " (two keys)";
    }
  }
}

}  // namespace
}  // namespace cairn::monitor
