#!/usr/bin/env python3
"""Builds the monitor benchmark dataset: 1M reference + 1M analysis rows x 20 monitored
columns, resampled (with replacement, fixed seed) from the nannyML car-loan data.

Columns: the 7 car-loan features, y_pred_proba and y_pred, plus 11 derived columns (the
numeric features times a seeded multiplicative jitter, and two more categoricals), so that
there are 14 continuous and 6 categorical columns; then the target `repaid` (the reference
file's own, and for the analysis rows nannyML's car-loan analysis targets joined on id), which
the drift benchmark leaves out and the performance benchmark uses. The analysis rows come from
the car-loan analysis file, which drifts.

Usage: make_data.py OUT_DIR [ROWS]
"""
import os
import sys

import numpy as np
import pandas as pd

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data")


def build(src, rows, seed, start):
    rng = np.random.default_rng(seed)
    df = src.iloc[rng.integers(0, len(src), rows)].reset_index(drop=True)
    out = pd.DataFrame({"id": np.arange(start, start + rows)})
    out["timestamp"] = pd.date_range("2018-01-01" if start == 0 else "2019-01-01", periods=rows, freq="30s")
    for c in ["car_value", "debt_to_income_ratio", "loan_length", "driver_tenure"]:
        out[c] = df[c].values
    for c in ["salary_range", "repaid_loan_on_prev_car", "size_of_downpayment"]:
        out[c] = df[c].values
    out["y_pred_proba"] = df["y_pred_proba"].values
    out["y_pred"] = df["y_pred"].values
    # Derived continuous columns (jittered copies) and categoricals.
    for k, c in enumerate(["car_value", "debt_to_income_ratio", "loan_length", "driver_tenure"] * 2 + ["y_pred_proba"]):
        out[f"{c}_{k}"] = np.round(df[c].values * rng.uniform(0.9, 1.1, rows), 6)
    out["region"] = rng.choice(["north", "south", "east", "west", "centre"], rows, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    out["channel"] = np.where(df["y_pred"].values == 1, rng.choice(["web", "branch"], rows), "phone")
    out["repaid"] = df["repaid"].values.astype(int)
    return out


def main():
    out_dir = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    os.makedirs(out_dir, exist_ok=True)
    ref = pd.read_csv(os.path.join(DATA, "nannyml_car_loan_reference.csv.gz"))
    ana = pd.read_csv(os.path.join(DATA, "nannyml_car_loan_analysis.csv.gz"))
    targets = pd.read_csv(os.path.join(DATA, "nannyml_car_loan_analysis_targets.csv.gz"))
    ana = ana.merge(targets[["id", "repaid"]], on="id", how="left", validate="one_to_one")
    build(ref, rows, 1, 0).to_csv(os.path.join(out_dir, "reference.csv"), index=False)
    build(ana, rows, 2, rows).to_csv(os.path.join(out_dir, "analysis.csv"), index=False)
    print(f"wrote {out_dir}/reference.csv and analysis.csv ({rows} rows each)")


if __name__ == "__main__":
    main()
