"""The wars and points at which the model's density is recorded (tests/golden/)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

#: name -> what it exercises: the shipped data (bounds, relays, few claims); a simulated war
#: of 400 claims (data-rich: group means and contrasts); an independent world with two running
#: tallies (drifting biases, series noise); the 10,000-claim world (two ministries each keeping
#: running counts of two populations: the series' own levels).
WARS = ("shipped", "simulated-400", "two-tallies-495", "huge-10000")
N_POINTS = 3


def _war(name: str):
    from reconcile.claims import claims_from_frame, read_claims
    from reconcile.config import load_config

    if name == "shipped":
        return read_claims(ROOT / "data/claims.csv"), load_config(ROOT / "models/kursk.toml")
    if name == "simulated-400":
        import reconcile

        sim = reconcile.simulate(seed=2, n_populations=2, n_days=500, n_claims=400, n_sources=12)
        return claims_from_frame(sim.claims), load_config()
    from reconcile.worlds import make_world, write_world

    with tempfile.TemporaryDirectory() as folder:
        write_world(make_world(name, seed=0), Path(folder) / "claims.csv", Path(folder) / "truth.csv")
        return read_claims(Path(folder) / "claims.csv"), load_config()


def density_at(name: str) -> dict:
    """The log density and its gradient at ``N_POINTS`` points: the initial point moved by
    seeded normal noise (sd 0.3) in the sampler's coordinates."""
    from reconcile.model import build_model

    claims, config = _war(name)
    model = build_model(claims, config)
    # FAST_COMPILE: the graph evaluated in Python, without a C compiler (~2 minutes of gcc on an
    # empty compile cache, for these three wars); it equals the C backend's values to ~1e-15.
    logp, dlogp = model.compile_logp(mode="FAST_COMPILE"), model.compile_dlogp(mode="FAST_COMPILE")
    start = model.initial_point()
    rng = np.random.default_rng(7)
    points = []
    for _ in range(N_POINTS):
        point = {k: v + rng.normal(0.0, 0.3, np.shape(v)) for k, v in start.items()}
        points.append({"logp": float(logp(point)), "gradient": [float(g) for g in np.asarray(dlogp(point))]})
    return {"variables": [v.name for v in model.value_vars], "points": points}
