"""Stand-in for the registry's `register` step type: copies the model into a versioned folder."""
import hashlib
import json
import os
import shutil
import sys

model_dir, registry, name = sys.argv[1:4]
digest = hashlib.sha256(open(os.path.join(model_dir, "model.json"), "rb").read()).hexdigest()
dest = os.path.join(registry, name)
os.makedirs(dest, exist_ok=True)
shutil.copy(os.path.join(model_dir, "model.json"), os.path.join(dest, "model.json"))
json.dump({"name": name, "model_sha256": digest, "run_id": os.environ.get("CAIRN_RUN_ID")},
          open(os.path.join(dest, "version.json"), "w"), indent=1)
