#!/usr/bin/env python3
"""Produces the performance-estimation goldens (est_*.csv.gz) that
tests/monitor/estimation_test.cc compares cairn against: nannyML 0.13.1's CBPE (binary on car loan,
multiclass on the credit-card set) and DLE (regression on car price).

Run (from the repo root, in the virtualenv of make_goldens.py, tests/monitor/goldens/requirements.txt):
    /tmp/venv-monitor/bin/python tests/monitor/goldens/make_estimation_goldens.py

Tie order. nannyML sorts scores with numpy's default (unstable) quicksort in three places: the
ECE bins behind its calibration decision (nannyml/calibration.py), the ROC AUC sampling-error
ranks and the estimated ROC AUC walk. The car-loan and credit-card probabilities are rounded to
2 decimals, so thousands of rows tie, and numpy orders tied rows by its SIMD sort (x86-simd-sort
on AVX-512 machines, another order elsewhere): nannyML's output then depends on the CPU. To make
the goldens reproducible, this script runs nannyML with ties broken by row order (numpy's
kind='stable'), which cairn implements: `np.argsort` defaults to kind='stable' and nannyML's
_calculate_expected_calibration_error is replaced by the same function with a stable argsort.
Nothing else is changed. The script also prints what unpatched nannyML decides on this machine
(the credit-card class prepaid_card flips: ECE 0.002658 -> 0.002777 with the AVX-512 order,
0.002873 -> 0.002638 in row order).

Every row is one (period, chunk, metric) of nannyML's result: the estimate, its sampling error,
the realized value (analysis targets are joined on id before estimating, so nannyML reports
them), the confidence band (estimate ± 3·SE clipped to the metric's limits), the thresholds
(mean ± 3σ of the realized metric on the reference chunks) and the alert. Nothing is computed
here beyond reshaping nannyML's own output, except `calibrated` (nannyML's needs_calibration
decision, printed for the record).
"""
import gzip
import io
import os
import warnings

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"

import numpy as np
import pandas as pd
import nannyml as nml

import nannyml.calibration as nml_calibration

warnings.filterwarnings("ignore")

_UNPATCHED = {"argsort": np.argsort, "ece": nml_calibration._calculate_expected_calibration_error}


def _stable_argsort(a, axis=-1, kind=None, order=None, **kwargs):
    return _UNPATCHED["argsort"](a, axis=axis, kind=kind or "stable", order=order, **kwargs)


def _stable_ece(y_true, y_pred_proba, bin_index_edges):
    """nannyml.calibration._calculate_expected_calibration_error with a stable argsort."""
    y_pred_proba, y_true = np.asarray(y_pred_proba), np.asarray(y_true)
    sort_index = y_pred_proba.argsort(kind="stable")
    y_pred_proba = y_pred_proba[sort_index]
    y_true = y_true[sort_index]
    terms = []
    for left_edge, right_edge in bin_index_edges:
        bin_proba = y_pred_proba[left_edge:right_edge]
        bin_true = y_true[left_edge:right_edge]
        terms.append(len(bin_proba) / len(y_pred_proba) * abs(np.mean(bin_proba) - np.mean(bin_true)))
    return np.sum(terms)


def stable_ties(on):
    np.argsort = _stable_argsort if on else _UNPATCHED["argsort"]
    nml_calibration._calculate_expected_calibration_error = _stable_ece if on else _UNPATCHED["ece"]
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("CAIRN_SHARED_DATA_DIR", os.path.join(HERE, "..", "..", "..", "..", "shared", "data"))

# The car-loan business value matrix [[TN, FP], [FN, TP]] used by the golden configs.
CAR_LOAN_VALUE = [[0, -200], [-1000, 1000]]


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


HEADER = ("period,chunk_index,key,start_index,end_index,metric,value,sampling_error,realized,"
          "lower_confidence,upper_confidence,lower,upper,alert")


def rows_of(res, names):
    """names: [(nannyML column name, cairn metric name)]."""
    df = res.to_df()
    rows = []
    for col, cname in names:
        for _, r in df.iterrows():
            lo = r[(col, "lower_confidence_boundary")]
            up = r[(col, "upper_confidence_boundary")]
            rows.append([r[("chunk", "period")], int(r[("chunk", "chunk_index")]), r[("chunk", "key")],
                         int(r[("chunk", "start_index")]), int(r[("chunk", "end_index")]), cname,
                         fmt(r[(col, "value")]), fmt(r[(col, "sampling_error")]), fmt(r[(col, "realized")]),
                         fmt(lo), fmt(up), fmt(r[(col, "lower_threshold")]), fmt(r[(col, "upper_threshold")]),
                         fmt(bool(r[(col, "alert")]))])
    return rows


def write(name, rows):
    with gzip_text(os.path.join(HERE, name)) as f:
        f.write(HEADER + "\n")
        for r in rows:
            f.write(",".join(str(x) for x in r) + "\n")
    print(f"wrote {name}: {len(rows)} rows")


def car_loan():
    ref = load("nannyml_car_loan_reference.csv.gz")
    ana = load("nannyml_car_loan_analysis.csv.gz").merge(
        load("nannyml_car_loan_analysis_targets.csv.gz"), on="id", how="left")
    metrics = ["roc_auc", "average_precision", "f1", "precision", "recall", "specificity", "accuracy",
               "confusion_matrix", "business_value"]
    est = nml.CBPE(y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="repaid", timestamp_column_name="timestamp",
                   problem_type="classification_binary", chunk_size=5000, metrics=metrics,
                   business_value_matrix=CAR_LOAN_VALUE)
    np.random.seed(0)
    est.fit(ref)
    print("car loan: needs_calibration =", est.needs_calibration)
    res = est.estimate(ana)
    # average_precision's sampling error is a bootstrap over numpy's unseeded global RNG: it is
    # seeded here (np.random.seed(0), before fit) to make the file reproducible; cairn draws the
    # same resamples from its RandomState(0).
    names = [(m, m) for m in ["roc_auc", "average_precision", "f1", "precision", "recall", "specificity",
                              "accuracy"]]
    names += [("true_positive", "true_positive_count"), ("true_negative", "true_negative_count"),
              ("false_positive", "false_positive_count"), ("false_negative", "false_negative_count"),
              ("business_value", "business_value")]
    rows = rows_of(res, names)
    # Business value per prediction (nannyML's normalize_business_value='per_prediction').
    est2 = nml.CBPE(y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="repaid", timestamp_column_name="timestamp",
                    problem_type="classification_binary", chunk_size=5000, metrics=["business_value"],
                    business_value_matrix=CAR_LOAN_VALUE, normalize_business_value="per_prediction")
    est2.fit(ref)
    rows += rows_of(est2.estimate(ana), [("business_value", "business_value_per_prediction")])
    write("est_car_loan.csv.gz", rows)


def credit_card():
    ref = load("nannyml_credit_card_multiclass_reference.csv.gz")
    ana = load("nannyml_credit_card_multiclass_analysis.csv.gz").merge(
        load("nannyml_credit_card_multiclass_analysis_targets.csv.gz"), on="id", how="left")
    classes = ["highstreet_card", "prepaid_card", "upmarket_card"]
    proba = {c: f"y_pred_proba_{c}" for c in classes}
    ms = ["roc_auc", "f1", "precision", "recall", "specificity", "accuracy"]
    est = nml.CBPE(y_pred_proba=proba, y_pred="y_pred", y_true="y_true", timestamp_column_name="timestamp",
                   problem_type="classification_multiclass", chunk_size=6000, metrics=ms + ["confusion_matrix"])
    est.fit(ref)
    print("credit card: calibrators =", {k: type(v).__name__ for k, v in est._calibrators.items()})
    cells = [(f"true_{t}_pred_{p}", f"true_{t}_pred_{p}_count") for t in classes for p in classes]
    write("est_credit_card.csv.gz", rows_of(est.estimate(ana), [(m, m) for m in ms] + cells))


def car_price():
    ref = load("nannyml_car_price_reference.csv.gz")
    ana = load("nannyml_car_price_analysis.csv.gz").merge(
        load("nannyml_car_price_analysis_targets.csv.gz"), on="id", how="left")
    features = ["car_age", "km_driven", "price_new", "accident_count", "door_count", "fuel", "transmission"]
    ms = ["mae", "mape", "mse", "rmse", "msle", "rmsle"]
    est = nml.DLE(feature_column_names=features, y_pred="y_pred", y_true="y_true", timestamp_column_name="timestamp",
                  chunk_size=6000, metrics=ms)
    est.fit(ref)
    write("est_car_price.csv.gz", rows_of(est.estimate(ana), [(m, m) for m in ms]))


def unpatched_decisions():
    """What nannyML decides with numpy's own tie order on this machine (printed, not written)."""
    stable_ties(False)
    from sklearn.preprocessing import label_binarize
    ref = load("nannyml_car_loan_reference.csv.gz")
    print("unpatched car loan needs_calibration:",
          nml_calibration.needs_calibration(ref["repaid"].to_numpy(), ref["y_pred_proba"].to_numpy(),
                                            nml_calibration.IsotonicCalibrator()))
    ref = load("nannyml_credit_card_multiclass_reference.csv.gz")
    classes = ["highstreet_card", "prepaid_card", "upmarket_card"]
    y = label_binarize(ref["y_true"], classes=classes).T
    for i, c in enumerate(classes):
        print(f"unpatched credit card {c} needs_calibration:",
              nml_calibration.needs_calibration(y[i], ref[f"y_pred_proba_{c}"].to_numpy(),
                                                nml_calibration.IsotonicCalibrator()))
    stable_ties(True)


def main():
    unpatched_decisions()
    stable_ties(True)
    car_loan()
    credit_card()
    car_price()


if __name__ == "__main__":
    main()
