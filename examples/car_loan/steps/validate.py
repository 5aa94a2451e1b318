"""Data-quality gate: no missing values in the feature columns, the target is 0/1, enough rows."""
import csv
import json
import os
import sys

src, report = sys.argv[1], sys.argv[2]
features = ["car_value", "debt_to_income_ratio", "loan_length", "driver_tenure"]
rows, missing, bad_target = 0, {c: 0 for c in features}, 0
with open(src, newline="") as f:
    for row in csv.DictReader(f):
        rows += 1
        for c in features:
            missing[c] += row[c] == ""
        bad_target += row["repaid"] not in ("0.0", "1.0")
os.makedirs(os.path.dirname(report), exist_ok=True)
result = {"rows": rows, "missing": missing, "bad_target": bad_target}
json.dump(result, open(report, "w"), indent=1)
with open(os.environ["CAIRN_OUTPUTS"], "w") as out:
    out.write(f"rows={rows}\n")
if rows < 1000 or bad_target or any(missing.values()):
    sys.exit(f"validation failed: {result}")
