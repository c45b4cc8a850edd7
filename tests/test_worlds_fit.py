"""Real NUTS fits of the independent test worlds (``reconcile.worlds``), default settings.

The worlds share nothing with the model's own simulator: daily truth from a process of their own,
sources with their own noise, rounding, hedges, running tallies. These tests hold the fits of the
smaller worlds to the convergence standard (R-hat <= 1.01, ESS >= 400, no divergent transition)
and check that the evaluation against the truth runs end to end. Coverage itself is a statistical
property of many fits, measured by ``benchmarks/worlds.py`` (``benchmarks/WORLDS.md``), not
asserted on one fit here.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["sparse-20", "kursk-like-60", "meta-124"])
def test_small_worlds_converge_at_default_settings(tmp_path, name):
    from reconcile.cli import main
    from reconcile.evaluation import bias_check, checkpoint_coverage, summarise
    from reconcile.fitting import load_fit
    from reconcile.worlds import make_world, write_world

    world = make_world(name, seed=0)
    claims, truth = tmp_path / "claims.csv", tmp_path / "truth.csv"
    write_world(world, claims, truth)
    out = tmp_path / "fit"
    assert main(["fit", str(claims), "--out", str(out), "--seed", "1", "--quiet"]) == 0
    result = load_fit(out)
    diagnostics = result.diagnostics
    assert diagnostics.divergences == 0, diagnostics.verdict()
    assert diagnostics.converged, diagnostics.verdict()
    checks = checkpoint_coverage(result, world.truth)
    # every population's checkpoints, for killed, wounded and casualties, are checked
    assert len(checks) == 12 * len(result.inputs.populations)
    assert checks[["q05", "q50", "q95"]].notna().all().all()
    assert (checks["q05"] <= checks["q50"]).all() and (checks["q50"] <= checks["q95"]).all()
    summary = summarise(checks)
    assert 0.0 <= summary["coverage90"] <= 1.0
    assert set(bias_check(result, world.sources)["source"]) <= set(world.claims["source"])
