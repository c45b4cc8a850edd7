"""The vectorised R-hat and ESS equal ArviZ's, quantity by quantity."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pytest

from reconcile import diagnostics
from reconcile.diagnostics import rank_diagnostics


@pytest.mark.parametrize("draws", [300, 301])
def test_rank_diagnostics_equal_arviz(draws, monkeypatch):
    rng = np.random.default_rng(1)
    chains, k = 4, 10
    monkeypatch.setattr(diagnostics, "_CHUNK", 3)  # several chunks, as for a large war
    x = rng.normal(size=(chains, draws, k)) + 0.05 * np.cumsum(rng.normal(size=(chains, draws, k)), axis=1)
    x[..., 1] = 2.0  # constant: no R-hat
    x[..., 2] = np.round(x[..., 2])  # ties
    x[..., 3] += np.arange(chains)[:, None]  # chains disagree
    x[..., 4] = np.cumsum(rng.normal(size=(chains, draws)), axis=1)  # barely moves
    x[..., 5] = np.sin(np.arange(draws) / 3.0) + 0.1 * rng.normal(size=(chains, draws))
    x[..., 6] = rng.normal(size=(chains, draws)) - 0.9 * np.roll(rng.normal(size=(chains, draws)), 1, axis=1)
    x[0, 5, 7] = np.nan
    rhat, bulk, tail = rank_diagnostics(x.reshape(chains, draws, 2, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = [
            [az.rhat(x[..., j]) for j in range(k)],
            [az.ess(x[..., j], method="bulk") for j in range(k)],
            [az.ess(x[..., j], method="tail") for j in range(k)],
        ]
    for mine, theirs in zip((rhat, bulk, tail), expected):
        assert mine.shape == (2, 5)
        np.testing.assert_allclose(mine.ravel(), np.array(theirs, dtype=float), rtol=1e-9, equal_nan=True)
