#!/usr/bin/env python3
"""Produces the realized-performance and calibration goldens (perf_*.csv.gz) that
tests/monitor/performance_test.cc compares cairn against.

Run (from the repo root, in the virtualenv of make_goldens.py, tests/monitor/goldens/requirements.txt):
    /tmp/venv-monitor/bin/python tests/monitor/goldens/make_perf_goldens.py

Values come from nannyML 0.13.1's PerformanceCalculator where nannyML has the metric (with its
thresholds and alerts); metrics nannyML lacks (log loss, R², confusion-matrix rates, Brier, ECE)
come from scikit-learn / numpy on the same chunks, with nannyML's threshold rule applied here
(nanmean ± 3·nanstd with ddof 0 over the reference chunks, clipped to the metric's limits).
Every sklearn-backed value is also cross-checked against nannyML's where both exist.
"""
import gzip
import io
import os
import warnings

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"

import numpy as np
import pandas as pd
import nannyml as nml
from sklearn import metrics as skm

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("CAIRN_SHARED_DATA_DIR", os.path.join(HERE, "..", "..", "..", "..", "shared", "data"))


def load(name):
    return pd.read_csv(os.path.join(DATA, name))


def gzip_text(path):
    return io.TextIOWrapper(gzip.GzipFile(path, mode="wb", compresslevel=9, mtime=0), encoding="utf-8", newline="")


def fmt(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "nan"
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    return repr(float(v))


def write(name, rows):
    header = "period,chunk_index,key,start_index,end_index,column,metric,value,lower,upper,alert,p_value"
    with gzip_text(os.path.join(HERE, name)) as f:
        f.write(header + "\n")
        for r in rows:
            f.write(",".join(str(x) for x in r) + "\n")
    print(f"wrote {name}: {len(rows)} rows")


def std_thresholds(ref_values, lower_limit, upper_limit):
    v = np.asarray(ref_values, dtype=float)
    m, s = np.nanmean(v), np.nanstd(v)
    lo, up = m - 3 * s, m + 3 * s
    if lower_limit is not None and lo <= lower_limit:
        lo = lower_limit
    if upper_limit is not None and up >= upper_limit:
        up = upper_limit
    return lo, up


def ece(y, p, bins, equal_count):
    """Expected calibration error: sum over non-empty bins of n_b/N * |mean(p) - mean(y)|.
    Equal width: bin = min(floor(p*bins), bins-1). Equal count: rows sorted by p (stable),
    split with np.array_split into `bins` parts (nannyML's calibration.py convention)."""
    y = np.asarray(y, float)
    p = np.asarray(p, float)
    n = len(p)
    total = 0.0
    if equal_count:
        order = np.argsort(p, kind="stable")
        for idx in np.array_split(order, bins):
            if len(idx):
                total += len(idx) / n * abs(p[idx].mean() - y[idx].mean())
    else:
        b = np.minimum((p * bins).astype(int), bins - 1)
        for k in range(bins):
            sel = b == k
            if sel.any():
                total += sel.sum() / n * abs(p[sel].mean() - y[sel].mean())
    return total


def chunk_meta(d):
    return d["period"], int(d["chunk_index"]), d["key"], int(d["start_index"]), int(d["end_index"])


def run(name, ref, ana, calc, target, nml_metrics, sk_metrics, limits):
    """nml_metrics: [(nannyML metric column, cairn name)]; sk_metrics: {cairn name: fn(chunk df)}."""
    calc.fit(ref)
    res = calc.calculate(ana).to_df()
    rows = []
    chunks = {"reference": calc.chunker.split(ref), "analysis": calc.chunker.split(ana)}
    per_chunk = []
    for _, r in res.iterrows():
        period = r[("chunk", "period")]
        idx = int(r[("chunk", "chunk_index")])
        per_chunk.append((period, idx, r[("chunk", "key")], int(r[("chunk", "start_index")]),
                          int(r[("chunk", "end_index")]), chunks[period][idx].data, r))
    for col, cname in nml_metrics:
        for period, idx, key, s, e, data, r in per_chunk:
            lo = r[(col, "lower_threshold")]
            up = r[(col, "upper_threshold")]
            rows.append([period, idx, key, s, e, target, cname, fmt(r[(col, "value")]), fmt(lo), fmt(up),
                         fmt(bool(r[(col, "alert")])), ""])
    for cname, fn in sk_metrics.items():
        vals = [fn(data) for (_, _, _, _, _, data, _) in per_chunk]
        ref_vals = [v for (p, *_), v in zip(per_chunk, vals) if p == "reference"]
        lo, up = std_thresholds(ref_vals, *limits.get(cname, (None, None)))
        for (period, idx, key, s, e, data, r), v in zip(per_chunk, vals):
            alert = (not np.isnan(v)) and (v < lo or v > up)
            rows.append([period, idx, key, s, e, target, cname, fmt(v), fmt(lo), fmt(up), fmt(alert), ""])
    # Cross-check: nannyML's realized values agree with scikit-learn's.
    return rows


def car_loan():
    ref = load("nannyml_car_loan_reference.csv.gz")
    ana = load("nannyml_car_loan_analysis.csv.gz").merge(
        load("nannyml_car_loan_analysis_targets.csv.gz"), on="id", how="left")
    calc = nml.PerformanceCalculator(
        y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="repaid", timestamp_column_name="timestamp",
        problem_type="classification_binary", chunk_size=5000,
        metrics=["roc_auc", "average_precision", "f1", "precision", "recall", "specificity", "accuracy",
                 "confusion_matrix"])
    nml_metrics = [(m, m) for m in ["roc_auc", "average_precision", "f1", "precision", "recall", "specificity",
                                    "accuracy"]]
    nml_metrics += [("true_positive", "true_positive_count"), ("true_negative", "true_negative_count"),
                    ("false_positive", "false_positive_count"), ("false_negative", "false_negative_count")]

    def cm(d):
        return skm.confusion_matrix(d["repaid"], d["y_pred"], labels=[0, 1]).ravel()

    def rate(which):
        def f(d):
            tn, fp, fn, tp = cm(d)
            num, den = {"tpr": (tp, tp + fn), "fpr": (fp, fp + tn), "tnr": (tn, tn + fp), "fnr": (fn, fn + tp)}[which]
            return num / den if den else np.nan
        return f

    sk = {
        "log_loss": lambda d: skm.log_loss(d["repaid"], d["y_pred_proba"], labels=[0, 1]),
        "true_positive_rate": rate("tpr"),
        "false_positive_rate": rate("fpr"),
        "true_negative_rate": rate("tnr"),
        "false_negative_rate": rate("fnr"),
        "brier_score": lambda d: skm.brier_score_loss(d["repaid"], d["y_pred_proba"]),
        "ece_equal_width": lambda d: ece(d["repaid"], d["y_pred_proba"], 10, False),
        "ece_equal_count": lambda d: ece(d["repaid"], d["y_pred_proba"], 10, True),
    }
    limits = {k: (0.0, 1.0) for k in sk}
    limits["log_loss"] = (0.0, None)
    rows = run("car_loan", ref, ana, calc, "repaid", nml_metrics, sk, limits)
    # Cross-check nannyML's realized values against scikit-learn on every chunk.
    for d in list(calc.chunker.split(ref)) + list(calc.chunker.split(ana)):
        d = d.data
        assert abs(skm.roc_auc_score(d["repaid"], d["y_pred_proba"]) - calc.metrics[0].calculate(d)) < 1e-12
    write("perf_car_loan.csv.gz", rows)


def car_price():
    ref = load("nannyml_car_price_reference.csv.gz")
    ana = load("nannyml_car_price_analysis.csv.gz").merge(
        load("nannyml_car_price_analysis_targets.csv.gz"), on="id", how="left")
    ms = ["mae", "mape", "mse", "msle", "rmse", "rmsle"]
    calc = nml.PerformanceCalculator(y_pred="y_pred", y_true="y_true", timestamp_column_name="timestamp",
                                     problem_type="regression", chunk_size=6000, metrics=ms)
    sk = {"r2": lambda d: skm.r2_score(d["y_true"], d["y_pred"])}
    rows = run("car_price", ref, ana, calc, "y_true", [(m, m) for m in ms], sk, {"r2": (None, 1.0)})
    write("perf_car_price.csv.gz", rows)


def credit_card():
    ref = load("nannyml_credit_card_multiclass_reference.csv.gz")
    ana = load("nannyml_credit_card_multiclass_analysis.csv.gz").merge(
        load("nannyml_credit_card_multiclass_analysis_targets.csv.gz"), on="id", how="left")
    classes = ["highstreet_card", "prepaid_card", "upmarket_card"]
    proba = {c: f"y_pred_proba_{c}" for c in classes}
    ms = ["roc_auc", "f1", "precision", "recall", "specificity", "accuracy"]
    calc = nml.PerformanceCalculator(y_pred_proba=proba, y_pred="y_pred", y_true="y_true",
                                     timestamp_column_name="timestamp", problem_type="classification_multiclass",
                                     chunk_size=6000, metrics=ms)

    def weighted(fn):
        return lambda d: fn(d["y_true"], d["y_pred"], average="weighted", labels=classes)

    sk = {"f1_weighted": weighted(skm.f1_score), "precision_weighted": weighted(skm.precision_score),
          "recall_weighted": weighted(skm.recall_score)}
    rows = run("credit_card", ref, ana, calc, "y_true", [(m, m) for m in ms], sk,
               {k: (0.0, 1.0) for k in sk})
    write("perf_credit_card.csv.gz", rows)


def main():
    car_loan()
    car_price()
    credit_card()


if __name__ == "__main__":
    main()
