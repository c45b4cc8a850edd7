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


def test_the_verdict_is_the_same_in_two_threads_or_one(monkeypatch):
    """``diagnose`` ranks the variables in two threads where a second CPU is free: the same
    numbers, to the last bit, as one after the other."""
    import threading

    from reconcile import _fork

    rng = np.random.default_rng(2)
    posterior = {
        "a_z": rng.normal(size=(4, 200, 30)),
        "log_level": rng.normal(size=(4, 200)) + 0.1 * np.arange(4)[:, None],
        "bias": np.exp(rng.normal(size=(4, 200, 7))),
    }
    stats = {"diverging": np.zeros((4, 200), dtype=bool), "energy": rng.normal(size=(4, 200))}
    idata = az.from_dict(posterior=posterior, sample_stats=stats)
    threads: list[str] = []
    real = diagnostics.rank_diagnostics

    def ranked(values):
        threads.append(threading.current_thread().name)
        return real(values)

    monkeypatch.setattr(diagnostics, "rank_diagnostics", ranked)
    monkeypatch.setattr(_fork, "fork_is_safe", lambda: True)
    monkeypatch.setattr(_fork, "cpus", lambda: 2)
    threaded = diagnostics.diagnose(idata, free=("a_z", "log_level"), sampler="nutpie", seconds=1.0)
    assert len(threads) == 3 and all(name.startswith("reconcile-diagnostics") for name in threads)
    monkeypatch.setattr(_fork, "cpus", lambda: 1)
    threads.clear()
    sequential = diagnostics.diagnose(idata, free=("a_z", "log_level"), sampler="nutpie", seconds=1.0)
    assert threads == ["MainThread"] * 3
    assert threaded == sequential
