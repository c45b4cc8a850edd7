"""Rebuild the figures the README shows, from a real fit of the shipped data.

    python docs/make_figures.py

runs ``reconcile fit data/claims.csv --config models/kursk.toml --seed 1`` (the README's main
job) in a temporary directory and copies its ``plots/cumulative.png`` to
``docs/figures/cumulative.png``. Run it from the repository's root after a change to the model or
to the figures, and commit the result.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "figures"


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="reconcile-figures-") as tmp:
        out = Path(tmp) / "results"
        command = [
            sys.executable,
            "-m",
            "reconcile",
            "fit",
            str(ROOT / "data" / "claims.csv"),
            "--config",
            str(ROOT / "models" / "kursk.toml"),
            "--out",
            str(out),
            "--seed",
            "1",
            "--quiet",
            "--strict",
        ]
        done = subprocess.run(command, cwd=ROOT)
        if done.returncode != 0:
            print(f"the fit failed (exit {done.returncode}); no figure was replaced", file=sys.stderr)
            return done.returncode
        FIGURES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / "plots" / "cumulative.png", FIGURES / "cumulative.png")
    print(f"wrote {FIGURES / 'cumulative.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
