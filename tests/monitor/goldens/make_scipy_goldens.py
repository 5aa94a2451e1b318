#!/usr/bin/env python3
"""Edge-case goldens for cairn's statistics kernels, produced by numpy/scipy/scikit-learn.

Run: /tmp/venv-monitor/bin/python tests/monitor/goldens/make_scipy_goldens.py
Writes scipy_cases.txt: one case per line, `kind|a values|b values|expected values`, values
separated by spaces, written with repr() so they round-trip exactly.
"""
import os

import numpy as np
import scipy
from scipy import stats
from scipy.spatial.distance import jensenshannon

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)
lines = []


def emit(kind, a, b, expected):
    f = lambda xs: " ".join(repr(float(x)) for x in xs)
    lines.append(f"{kind}|{f(a)}|{f(b)}|{f(expected)}")


samples = [
    (np.array([1.0, 2, 3, 4, 5]), np.array([1.0, 2, 3, 4, 5])),          # identical
    (np.array([3.0] * 6), np.array([3.0] * 4)),                          # all equal
    (np.array([1.0]), np.array([2.0])),                                  # one row each
    (np.array([0.0, 1, 2]), np.array([10.0, 11, 12, 13])),               # disjoint
    (rng.normal(size=40), rng.normal(0.5, 1, size=60)),                  # exact, n1 != n2
    (rng.normal(size=50), rng.normal(0.3, 1, size=50)),                  # exact, n1 == n2
    (rng.integers(0, 5, size=300).astype(float), rng.integers(0, 6, size=200).astype(float)),  # ties
]


def gen(n, mult, mod, shift):
    # Deterministic samples that C++ rebuilds exactly: ((i * mult) % mod) / mod + shift.
    return np.array([((i * mult) % mod) / mod + shift for i in range(n)])


for spec_a, spec_b in [((12000, 7919, 10007, 0.0), (3000, 104729, 10009, 0.02)),   # asymptotic (max n > 10000)
                       ((20000, 7919, 10007, 0.0), (15000, 1299709, 15013, 0.001)),  # asymptotic, small D
                       ((9000, 7919, 10007, 0.0), (7000, 104729, 10009, 0.01))]:     # exact, large
    a, b = gen(*spec_a), gen(*spec_b)
    r = stats.ks_2samp(a, b)
    emit("ks_gen", spec_a, spec_b, [r.statistic, r.pvalue])
    emit("wasserstein_gen", spec_a, spec_b, [stats.wasserstein_distance(a, b)])
for a, b in samples:
    r = stats.ks_2samp(a, b)
    emit("ks", a, b, [r.statistic, r.pvalue])
    emit("wasserstein", a, b, [stats.wasserstein_distance(a, b)])
    emit("doane", a, [], np.histogram_bin_edges(a, bins="doane"))

for n, d in [(50, 0.1), (200, 0.05), (1000, 0.03), (5000, 0.01), (5000, 0.03), (20000, 0.005), (100, 0.6),
             (150, 0.004), (3000, 0.0004), (400, 0.2)]:
    emit("kstwo_sf", [n, d], [], [stats.kstwo.sf(d, n)])

tables = [
    ([30.0, 70.0], [45.0, 55.0]),            # 2x2: Yates' correction
    ([1.0, 9.0], [3.0, 2.0]),                # 2x2, small counts, |E-O| < 0.5 somewhere
    ([10.0, 20.0, 30.0], [12.0, 18.0, 40.0]),
    ([100.0, 0.0, 50.0], [90.0, 5.0, 55.0]),  # category only in the second column
    ([5.0], [7.0]),                          # dof 0
]
for a, b in tables:
    stat, p, dof, _ = stats.chi2_contingency(np.array([a, b]).T)
    emit("chi2", a, b, [stat, p, dof])

for p, q in [([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]), ([1.0, 0.0], [0.0, 1.0]), ([0.1, 0.4, 0.5, 0.0], [0.3, 0.3, 0.2, 0.2]),
             ([2.0, 3.0], [1.0, 1.0])]:
    emit("js2", p, q, [jensenshannon(p, q, base=2)])

for x, q in [(rng.normal(size=101), 0.25), (np.array([1.0, 2.0]), 0.5), (np.array([5.0]), 0.75),
             (np.arange(10.0), 0.33)]:
    emit("quantile", np.sort(x), [q], [np.quantile(x, q)])

from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

for y, p in [([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), ([0, 1, 0, 1, 1, 0], [0.5, 0.5, 0.5, 0.7, 0.2, 0.2]),
             (list(rng.integers(0, 2, 200)), list(np.round(rng.random(200), 2)))]:
    emit("roc_auc", y, p, [roc_auc_score(y, p)])
for y in [[0] * 13 + [1] * 4, list(rng.integers(0, 2, 57)), [1, 0] * 6]:
    folds = np.zeros(len(y))
    for k, (_, test) in enumerate(StratifiedKFold(5).split(np.zeros(len(y)), y)):
        folds[test] = k
    emit("skfold", y, [], folds)

with open(os.path.join(HERE, "scipy_cases.txt"), "w") as f:
    f.write(f"# numpy {np.__version__} scipy {scipy.__version__}\n")
    f.write("\n".join(lines) + "\n")
print(f"wrote {len(lines)} cases")
