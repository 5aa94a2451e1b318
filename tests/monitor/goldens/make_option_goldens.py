#!/usr/bin/env python3
"""Produces the goldens of nannyML's configurable options (opt_*.csv.gz) that
tests/monitor/options_test.cc compares cairn against:

  - per-metric thresholds (nannyML's `thresholds` argument: ConstantThreshold and
    StandardDeviationThreshold with other multipliers, one side only, or offset_from=np.nanmedian)
    for CBPE (car loan), DLE (car price) and the realized PerformanceCalculator (car loan);
  - normalize_confusion_matrix ('all', 'true', 'pred'; None too for the realized multiclass
    cells) for CBPE and the PerformanceCalculator, binary (car loan) and multiclass (credit card);
  - multiclass business value (a 3x3 value matrix, normalize_business_value None and
    'per_prediction') for CBPE and the PerformanceCalculator (credit card).

Run (from the repo root, in the virtualenv of make_goldens.py, tests/monitor/goldens/requirements.txt):
    /tmp/venv-monitor/bin/python tests/monitor/goldens/make_option_goldens.py

nannyML runs with ties in its sorts broken by row order, exactly as make_estimation_goldens.py
explains (its helpers are reused). Every row is nannyML's own output reshaped; nothing is
computed here.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import nannyml as nml  # noqa: E402
from nannyml.thresholds import ConstantThreshold, StandardDeviationThreshold  # noqa: E402

import make_estimation_goldens as est  # noqa: E402
import make_perf_goldens as perf  # noqa: E402

CAR_LOAN_METRICS = ["roc_auc", "f1", "precision", "recall", "specificity", "accuracy", "confusion_matrix",
                    "business_value"]
CAR_LOAN_CELLS = [("true_positive", "true_positive"), ("true_negative", "true_negative"),
                  ("false_positive", "false_positive"), ("false_negative", "false_negative")]

# The thresholds of opt_car_loan_thresholds.yaml / opt_car_price_thresholds.yaml, written as
# nannyML objects.
CAR_LOAN_THRESHOLDS = {
    "roc_auc": ConstantThreshold(lower=0.965, upper=None),
    "f1": StandardDeviationThreshold(std_lower_multiplier=2, std_upper_multiplier=1.5, offset_from=np.nanmedian),
    "precision": ConstantThreshold(lower=None, upper=None),
    "recall": StandardDeviationThreshold(std_lower_multiplier=None, std_upper_multiplier=1),
    "accuracy": StandardDeviationThreshold(std_lower_multiplier=1, std_upper_multiplier=None),
    "confusion_matrix": ConstantThreshold(lower=1700, upper=2300),
    "business_value": StandardDeviationThreshold(std_lower_multiplier=1, std_upper_multiplier=1,
                                                 offset_from=np.nanmedian),
}
CAR_PRICE_THRESHOLDS = {
    "mae": ConstantThreshold(lower=None, upper=800),
    "rmse": StandardDeviationThreshold(std_lower_multiplier=1, std_upper_multiplier=1, offset_from=np.nanmedian),
    "mape": StandardDeviationThreshold(std_lower_multiplier=None, std_upper_multiplier=0.5),
}


def cells(suffix):
    return [(col, f"{name}_{suffix}") for col, name in CAR_LOAN_CELLS]


def car_loan_data():
    ref = est.load("nannyml_car_loan_reference.csv.gz")
    ana = est.load("nannyml_car_loan_analysis.csv.gz").merge(
        est.load("nannyml_car_loan_analysis_targets.csv.gz"), on="id", how="left")
    return ref, ana


def car_loan_thresholds():
    ref, ana = car_loan_data()
    cbpe = nml.CBPE(y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="repaid", timestamp_column_name="timestamp",
                    problem_type="classification_binary", chunk_size=5000, metrics=CAR_LOAN_METRICS,
                    business_value_matrix=est.CAR_LOAN_VALUE, thresholds=CAR_LOAN_THRESHOLDS)
    cbpe.fit(ref)
    names = [(m, m) for m in ["roc_auc", "f1", "precision", "recall", "specificity", "accuracy", "business_value"]]
    est.write("opt_car_loan_thresholds.csv.gz", est.rows_of(cbpe.estimate(ana), names + cells("count")))

    calc = nml.PerformanceCalculator(
        y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="repaid", timestamp_column_name="timestamp",
        problem_type="classification_binary", chunk_size=5000, metrics=CAR_LOAN_METRICS,
        business_value_matrix=est.CAR_LOAN_VALUE, thresholds=CAR_LOAN_THRESHOLDS)
    rows = perf.run("car_loan", ref, ana, calc, "repaid", names + cells("count"), {}, {})
    perf.write("opt_perf_car_loan_thresholds.csv.gz", rows)


def car_price_thresholds():
    ref = est.load("nannyml_car_price_reference.csv.gz")
    ana = est.load("nannyml_car_price_analysis.csv.gz").merge(
        est.load("nannyml_car_price_analysis_targets.csv.gz"), on="id", how="left")
    features = ["car_age", "km_driven", "price_new", "accident_count", "door_count", "fuel", "transmission"]
    ms = ["mae", "mape", "rmse"]
    dle = nml.DLE(feature_column_names=features, y_pred="y_pred", y_true="y_true", timestamp_column_name="timestamp",
                  chunk_size=6000, metrics=ms, thresholds=CAR_PRICE_THRESHOLDS)
    dle.fit(ref)
    est.write("opt_car_price_thresholds.csv.gz", est.rows_of(dle.estimate(ana), [(m, m) for m in ms]))


NORMALIZATIONS = ["all", "true", "pred"]
CLASSES = ["highstreet_card", "prepaid_card", "upmarket_card"]


def suffix(norm):
    return "count" if norm is None else f"norm_{norm}"


def car_loan_confusion_matrix():
    ref, ana = car_loan_data()
    est_rows, perf_rows = [], []
    for norm in NORMALIZATIONS:
        cbpe = nml.CBPE(y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="repaid",
                        timestamp_column_name="timestamp", problem_type="classification_binary", chunk_size=5000,
                        metrics=["confusion_matrix"], normalize_confusion_matrix=norm)
        cbpe.fit(ref)
        est_rows += est.rows_of(cbpe.estimate(ana), cells(suffix(norm)))
        calc = nml.PerformanceCalculator(
            y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="repaid", timestamp_column_name="timestamp",
            problem_type="classification_binary", chunk_size=5000, metrics=["confusion_matrix"],
            normalize_confusion_matrix=norm)
        perf_rows += perf.run("car_loan", ref, ana, calc, "repaid", cells(suffix(norm)), {}, {})
    est.write("opt_car_loan_cm.csv.gz", est_rows)
    perf.write("opt_perf_car_loan_cm.csv.gz", perf_rows)


def credit_card_data():
    ref = est.load("nannyml_credit_card_multiclass_reference.csv.gz")
    ana = est.load("nannyml_credit_card_multiclass_analysis.csv.gz").merge(
        est.load("nannyml_credit_card_multiclass_analysis_targets.csv.gz"), on="id", how="left")
    return ref, ana, {c: f"y_pred_proba_{c}" for c in CLASSES}


def mc_cells(norm):
    return [(f"true_{t}_pred_{p}", f"true_{t}_pred_{p}_{suffix(norm)}") for t in CLASSES for p in CLASSES]


def credit_card_confusion_matrix():
    ref, ana, proba = credit_card_data()
    est_rows, perf_rows = [], []
    for norm in NORMALIZATIONS:
        cbpe = nml.CBPE(y_pred_proba=proba, y_pred="y_pred", y_true="y_true", timestamp_column_name="timestamp",
                        problem_type="classification_multiclass", chunk_size=6000, metrics=["confusion_matrix"],
                        normalize_confusion_matrix=norm)
        cbpe.fit(ref)
        est_rows += est.rows_of(cbpe.estimate(ana), mc_cells(norm))
    for norm in [None] + NORMALIZATIONS:
        calc = nml.PerformanceCalculator(
            y_pred_proba=proba, y_pred="y_pred", y_true="y_true", timestamp_column_name="timestamp",
            problem_type="classification_multiclass", chunk_size=6000, metrics=["confusion_matrix"],
            normalize_confusion_matrix=norm)
        perf_rows += perf.run("credit_card", ref, ana, calc, "y_true", mc_cells(norm), {}, {})
    est.write("opt_credit_card_cm.csv.gz", est_rows)
    perf.write("opt_perf_credit_card_cm.csv.gz", perf_rows)


# The 3x3 value matrix of opt_credit_card_bv.yaml: rows = the true class, columns = the predicted
# class, both in sorted label order (highstreet_card, prepaid_card, upmarket_card).
CREDIT_CARD_VALUE = [[10, -5, -20], [-3, 4, -12], [-15, -8, 25]]


def credit_card_business_value():
    ref, ana, proba = credit_card_data()
    est_rows, perf_rows = [], []
    for norm, name in [(None, "business_value"), ("per_prediction", "business_value_per_prediction")]:
        cbpe = nml.CBPE(y_pred_proba=proba, y_pred="y_pred", y_true="y_true", timestamp_column_name="timestamp",
                        problem_type="classification_multiclass", chunk_size=6000, metrics=["business_value"],
                        business_value_matrix=CREDIT_CARD_VALUE, normalize_business_value=norm)
        cbpe.fit(ref)
        est_rows += est.rows_of(cbpe.estimate(ana), [("business_value", name)])
        calc = nml.PerformanceCalculator(
            y_pred_proba=proba, y_pred="y_pred", y_true="y_true", timestamp_column_name="timestamp",
            problem_type="classification_multiclass", chunk_size=6000, metrics=["business_value"],
            business_value_matrix=CREDIT_CARD_VALUE, normalize_business_value=norm)
        perf_rows += perf.run("credit_card", ref, ana, calc, "y_true", [("business_value", name)], {}, {})
    est.write("opt_credit_card_bv.csv.gz", est_rows)
    perf.write("opt_perf_credit_card_bv.csv.gz", perf_rows)


def main():
    est.stable_ties(True)
    car_loan_thresholds()
    car_price_thresholds()
    car_loan_confusion_matrix()
    credit_card_confusion_matrix()
    credit_card_business_value()


if __name__ == "__main__":
    main()
