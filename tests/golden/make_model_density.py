"""Write tests/golden/model_density.json: the model's log density and gradient at fixed points of
three wars, which tests/test_model.py::test_the_model_density_is_the_recorded_one compares with
the current model.

Run it (``python tests/golden/make_model_density.py``) only when the model is changed on purpose,
and say why in docs/decisions.md: a refactor must leave these numbers as they are.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from golden_wars import WARS, density_at  # noqa: E402

if __name__ == "__main__":
    out = {name: density_at(name) for name in WARS}
    (HERE / "model_density.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {HERE / 'model_density.json'}")
