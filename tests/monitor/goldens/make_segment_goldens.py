#!/usr/bin/env python3
"""Produces the weak-segment goldens that tests/monitor/outcome_golden_test.cc compares
`cairn monitor run segments_*.yaml` against: segments_adult.csv.gz (error rate of a classifier
on UCI Adult) and segments_car_price.csv.gz (absolute error of nannyML's car-price regression,
targets joined on id).

Run from the repo root (after make_outcome_goldens.py, which writes the adult inputs):
    /tmp/venv-segments/bin/python tests/monitor/goldens/make_segment_goldens.py

The slices follow weak_segments.h: numeric features binned at np.quantile of the reference
(np.unique edges, np.searchsorted on the interior edges, side='right'), categories by value
(the most frequent reference values; "(missing)" for NaN). Per chunk (rows in file order), every
single-feature slice and every two-feature conjunction with enough rows is tested with
scipy.stats.ttest_ind(slice, rest, equal_var=False, alternative='greater') on the per-row loss
(y_pred != income for Adult, |y_true - y_pred| for car price); scipy.stats.false_discovery_control(p, method='bh') adjusts the p-values of
the chunk. Weak: q <= alpha, gap > 0, effect size sqrt(2)*gap/sqrt(var_s + var_r) >= min_effect
(ddof 1); pairs only when their gap beats both single-feature slices. Ranked by gap, then p,
then the label; the first `top` per chunk are written.
"""
import gzip
import io
import itertools
import math
import os

import numpy as np
import pandas as pd
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("CAIRN_SHARED_DATA_DIR", os.path.join(HERE, "..", "..", "..", "..", "shared", "data"))
MISSING = "(missing)"
# Per dataset (set by configure()): the features, which are numeric, and the search settings
# of the matching segments_*.yaml.
FEATURES, NUMERIC = [], set()
BINS, MAX_CATEGORIES, MIN_SIZE, MIN_ROWS, MIN_EFFECT, ALPHA, TOP, CHUNK = 5, 20, 0.05, 30, 0.2, 0.05, 15, 2000


def configure(features, numeric, min_effect, top, chunk):
    global FEATURES, NUMERIC, MIN_EFFECT, TOP, CHUNK
    FEATURES, NUMERIC, MIN_EFFECT, TOP, CHUNK = features, set(numeric), min_effect, top, chunk


def read(name):
    return pd.read_csv(os.path.join(HERE, name))


def edge(v):
    return format(float(v), ".6g")


def binner(name, ref):
    """Returns a function mapping a column of values to slice labels."""
    if name in NUMERIC:
        values = np.sort(ref[name].dropna().to_numpy(dtype=float))
        edges = np.unique(np.quantile(values, np.linspace(0, 1, BINS + 1)))
        interior = edges[1:-1]
        k = len(interior) + 1
        labels = []
        for b in range(k):
            if k == 1:
                labels.append(f"{name} (all values)")
            elif b == 0:
                labels.append(f"{name} < {edge(interior[0])}")
            elif b == k - 1:
                labels.append(f"{name} ≥ {edge(interior[b - 1])}")
            else:
                labels.append(f"{edge(interior[b - 1])} ≤ {name} < {edge(interior[b])}")

        def f(col):
            v = col.to_numpy(dtype=float)
            idx = np.searchsorted(interior, v, side="right")
            return np.where(np.isnan(v), f"{name} = {MISSING}", np.array(labels, dtype=object)[np.minimum(idx, k - 1)])
        return f
    counts = ref[name].dropna().astype(str).value_counts()
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CATEGORIES]
    keep = {k for k, _ in top}

    def f(col):
        out = []
        for v in col:
            if pd.isna(v):
                out.append(f"{name} = {MISSING}")
            else:
                out.append(f"{name} = {v}" if str(v) in keep else f"{name} = (other)")
        return np.array(out, dtype=object)
    return f


def chunk_segments(d, labels, loss):
    n = len(loss)
    min_n = max(MIN_ROWS, math.ceil(MIN_SIZE * n))
    slices = []  # (column, label, mask, parents)
    singles = {}
    for f in FEATURES:
        lab = labels[f]
        for value in pd.unique(lab):
            mask = lab == value
            singles[(f, value)] = mask
            slices.append((f, value, mask, None))
    for a, b in itertools.combinations(FEATURES, 2):
        pair = pd.Series(list(zip(labels[a], labels[b])))
        for va, vb in pd.unique(pair):
            mask = (labels[a] == va) & (labels[b] == vb)
            slices.append((f"{a} & {b}", f"{va} & {vb}", mask, ((a, va), (b, vb))))
    gaps = {}
    tested = []
    for column, label, mask, parents in slices:
        s, r = loss[mask], loss[~mask]
        gap = s.mean() - r.mean() if len(s) and len(r) else np.nan
        if parents is None:
            gaps[(column, label)] = gap
        if len(s) < min_n or len(r) < 2:
            continue
        res = stats.ttest_ind(s, r, equal_var=False, alternative="greater")
        if np.isnan(res.pvalue):
            continue
        effect = math.sqrt(2) * gap / math.sqrt(np.var(s, ddof=1) + np.var(r, ddof=1))
        tested.append(dict(column=column, label=label, parents=parents, size=len(s), mean=s.mean(), rest=r.mean(),
                           gap=gap, effect=effect, p=res.pvalue))
    q = stats.false_discovery_control([t["p"] for t in tested], method="bh")
    weak = []
    for t, qv in zip(tested, q):
        t["q"] = qv
        if not (qv <= ALPHA and t["gap"] > 0 and t["effect"] >= MIN_EFFECT):
            continue
        if t["parents"] and not all(t["gap"] > gaps[p] for p in t["parents"]):
            continue
        weak.append(t)
    weak.sort(key=lambda t: (-t["gap"], t["p"], t["label"]))
    return weak[:TOP]


def fmt(v):
    return repr(float(v))


def write(name, ref, ana, loss_fn, metric):
    bins = {f: binner(f, ref) for f in FEATURES}
    rows = []
    for period, df in (("reference", ref), ("analysis", ana)):
        for idx, s in enumerate(range(0, len(df), CHUNK)):
            e = min(s + CHUNK, len(df)) - 1
            d = df.iloc[s:e + 1].reset_index(drop=True)
            labels = {f: bins[f](d[f]) for f in FEATURES}
            for rank, t in enumerate(chunk_segments(d, labels, loss_fn(d)), start=1):
                rows.append([period, idx, f"[{s}:{e}]", s, e, t["column"], t["label"], metric, fmt(t["mean"]),
                             rank, t["size"], fmt(t["rest"]), fmt(t["gap"]), fmt(t["effect"]), fmt(t["p"]),
                             fmt(t["q"])])
    header = ("period,chunk_index,key,start_index,end_index,column,group,metric,value,rank,size,rest,gap,"
              "effect_size,p_value,q_value")
    with io.TextIOWrapper(gzip.GzipFile(os.path.join(HERE, name), mode="wb", compresslevel=9, mtime=0),
                          encoding="utf-8", newline="") as f:
        f.write(header + "\n")
        for r in rows:
            f.write(",".join(str(x) for x in r) + "\n")
    print(f"wrote {name}: {len(rows)} rows")


def main():
    configure(["age", "education_num", "hours_per_week", "sex", "race"], ["age", "education_num", "hours_per_week"],
              min_effect=0.2, top=15, chunk=2000)
    write("segments_adult.csv.gz", read("adult_reference.csv.gz"), read("adult_analysis.csv.gz"),
          lambda d: (d["y_pred"] != d["income"]).to_numpy(dtype=float), "error_rate")
    ref = pd.read_csv(os.path.join(DATA, "nannyml_car_price_reference.csv.gz"))
    ana = pd.read_csv(os.path.join(DATA, "nannyml_car_price_analysis.csv.gz")).merge(
        pd.read_csv(os.path.join(DATA, "nannyml_car_price_analysis_targets.csv.gz")), on="id", how="left")
    configure(["car_age", "km_driven", "price_new", "accident_count", "door_count", "fuel", "transmission"],
              ["car_age", "km_driven", "price_new", "accident_count", "door_count"], min_effect=0.3, top=10,
              chunk=6000)
    write("segments_car_price.csv.gz", ref, ana, lambda d: (d["y_true"] - d["y_pred"]).abs().to_numpy(dtype=float),
          "absolute_error")


if __name__ == "__main__":
    main()
