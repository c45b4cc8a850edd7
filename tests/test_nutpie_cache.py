"""The cached nutpie wrappers: same model, same numbers, and a second compile loads from disk."""

from __future__ import annotations

import ctypes

import numpy as np
import pymc as pm
import pytest

nutpie = pytest.importorskip("nutpie")

from reconcile import _nutpie  # noqa: E402
from reconcile.fitting import quiet_libraries  # noqa: E402


def _toy_model(n_obs: int = 7):
    """A small hierarchical model with a positive (log-transformed) parameter."""
    y = np.linspace(-1.0, 2.0, n_obs)
    with pm.Model(coords={"obs": range(n_obs)}) as model:
        mu = pm.Normal("mu", 0.0, 2.0)
        sd = pm.HalfNormal("sd", 1.0)
        z = pm.Normal("z", 0.0, 1.0, dims="obs")
        pm.Deterministic("theta", mu + sd * z, dims="obs")
        pm.StudentT("y", nu=4, mu=mu + sd * z, sigma=0.5, observed=y, dims="obs")
    return model


def _call_logp(compiled, x):
    fn = compiled.compiled_logp_func.ctypes
    grad = np.zeros_like(x)
    logp = np.zeros(())
    code = fn(
        len(x),
        x.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        grad.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        logp.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        None,
    )
    return code, float(logp), grad


@pytest.fixture(scope="module")
def compiled_pair():
    model = _toy_model()
    with quiet_libraries():
        ours = _nutpie._compile_cached(model)
        theirs = nutpie.compile_pymc_model(model)
    return ours, theirs


def test_cached_wrappers_give_nutpie_density_and_gradient(compiled_pair):
    ours, theirs = compiled_pair
    assert ours.compiled_logp_func.__wrapped__.__module__.startswith("reconcile_nutpie_")
    assert ours.n_dim == theirs.n_dim == 9
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.normal(size=ours.n_dim)
        code_a, logp_a, grad_a = _call_logp(ours, x)
        code_b, logp_b, grad_b = _call_logp(theirs, x)
        assert code_a == code_b == 0
        assert logp_a == logp_b
        np.testing.assert_array_equal(grad_a, grad_b)
    # the wrong dimension is refused, as nutpie's wrapper refuses it
    assert _call_logp(ours, np.zeros(3))[0] == -1


def test_cached_wrappers_report_a_non_finite_gradient(compiled_pair):
    ours, theirs = compiled_pair
    x = np.full(ours.n_dim, np.nan)
    assert _call_logp(ours, x)[0] == _call_logp(theirs, x)[0] != 0


def test_cached_wrappers_sample_the_same_draws_as_nutpie(compiled_pair):
    ours, theirs = compiled_pair
    kwargs = dict(draws=60, tune=60, chains=2, cores=1, seed=11, progress_bar=False)
    a = nutpie.sample(ours, **kwargs).posterior
    b = nutpie.sample(theirs, **kwargs).posterior
    assert set(a.data_vars) == set(b.data_vars) == {"mu", "sd", "sd_log__", "z", "theta"}
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values)
    assert list(a["theta"].dims) == ["chain", "draw", "obs"]


def test_a_second_compile_loads_the_wrappers_from_the_disk_cache(compiled_pair):
    ours, _ = compiled_pair
    with quiet_libraries():
        again = _nutpie._compile_cached(_toy_model())
    assert again.compiled_logp_func.cache_hits == 1
    assert again.compiled_expand_func.cache_hits == 1
    x = np.random.default_rng(1).normal(size=ours.n_dim)
    assert _call_logp(again, x)[1] == _call_logp(ours, x)[1]


def test_a_model_with_shared_data_takes_nutpies_own_path():
    with pm.Model() as model:
        data = pm.Data("data", np.array([0.5, 1.5]))
        mu = pm.Normal("mu")
        pm.Normal("y", mu, 1.0, observed=data)
    with quiet_libraries():
        with pytest.raises(_nutpie._NotCacheable, match="shared"):
            _nutpie._compile_cached(model)
        compiled = _nutpie.compile_model(model)
    assert compiled.shared_data.keys() == {"data"}
    draws = nutpie.sample(compiled, draws=30, tune=30, chains=1, seed=1, progress_bar=False)
    assert draws.posterior["mu"].shape == (1, 30)


def test_any_failure_of_the_fast_path_falls_back_to_nutpie(monkeypatch):
    def broken(model):
        raise TypeError("an unexpected nutpie version")

    monkeypatch.setattr(_nutpie, "_compile_cached", broken)
    with quiet_libraries():
        compiled = _nutpie.compile_model(_toy_model(3))
    assert compiled.n_dim == 5
    assert "reconcile_nutpie_" not in compiled.compiled_logp_func.__wrapped__.__module__


def test_the_generated_module_is_written_once_with_a_fixed_stamp(tmp_path):
    first = _nutpie._load_module(tmp_path, "reconcile_nutpie_test_a", "VALUE = 1\n")
    path = tmp_path / "reconcile_nutpie_test_a.py"
    assert first.VALUE == 1 and path.stat().st_mtime == 0
    assert list(tmp_path.glob(".*tmp")) == []
