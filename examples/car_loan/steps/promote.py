"""Stand-in for the registry's `promote` step type: points an alias at the registered version."""
import json
import os
import sys

dest, stage = sys.argv[1:3]
version = json.load(open(os.path.join(dest, "version.json")))
json.dump({"alias": stage, "model_sha256": version["model_sha256"]},
          open(os.path.join(dest, f"alias-{stage}.json"), "w"), indent=1)
