"""The cached nutpie wrappers: same model, same numbers, and a second compile loads from disk."""

from __future__ import annotations

import ctypes
import os
import time

import numpy as np
import pymc as pm
import pytest

nutpie = pytest.importorskip("nutpie")

from conftest import CLAIMS_CSV, assert_all_reaped  # noqa: E402

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
    user_data = compiled.user_data
    code = fn(
        len(x),
        x.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        grad.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        logp.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        None if user_data is None else user_data.ctypes.data_as(ctypes.c_void_p),
    )
    return code, float(logp), grad


@pytest.fixture(scope="module")
def compiled_pair():
    model = _toy_model()
    with quiet_libraries():
        ours, _ = _nutpie._compile_cached(model)
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
        again, _ = _nutpie._compile_cached(_toy_model())
    assert again.compiled_logp_func.cache_hits == 1
    assert again.compiled_expand_func.cache_hits == 1
    x = np.random.default_rng(1).normal(size=ours.n_dim)
    assert _call_logp(again, x)[1] == _call_logp(ours, x)[1]


def _data_model(values, n_z: int = 3):
    """A model whose observations and prior scale are shared variables (as reconcile's are)."""
    with pm.Model(coords={"k": range(n_z)}) as model:
        data = pm.Data("data", np.asarray(values, dtype=float))
        scale = pm.Data("scale", np.array(2.0))
        mu = pm.Normal("mu", 0.0, scale)
        z = pm.Normal("z", 0.0, 1.0, dims="k")
        pm.Deterministic("total", mu + z.sum())
        pm.Normal("y", mu + z.mean(), 1.0, observed=data)
    return model


def test_a_model_with_shared_data_gives_nutpies_density_and_gradient():
    model = _data_model([0.5, 1.5, -0.2])
    with quiet_libraries():
        ours, layout = _nutpie._compile_cached(model)
        theirs = nutpie.compile_pymc_model(model)
    assert {"data", "scale"} <= set(layout.names)  # (and PyMC's length of the dimension)
    assert ours.user_data.dtype == np.uint64  # the table of addresses and shapes
    for x in np.random.default_rng(2).normal(size=(4, ours.n_dim)):
        code_a, logp_a, grad_a = _call_logp(ours, x)
        code_b, logp_b, grad_b = _call_logp(theirs, x)
        assert code_a == code_b == 0
        assert logp_a == pytest.approx(logp_b, rel=1e-12)
        np.testing.assert_allclose(grad_a, grad_b, rtol=1e-12)


def test_a_model_of_the_same_structure_reuses_the_compiled_functions():
    first = _data_model([0.5, 1.5, -0.2])
    second = _data_model([3.0, 4.0, 2.5])  # other values, same shapes
    assert _nutpie.structure_key(first) == _nutpie.structure_key(second)
    with quiet_libraries():
        a = _nutpie.compile_model(first)
        reused = _nutpie.compile_model(second)
        fresh = _nutpie.compile_model(_data_model([3.0, 4.0, 2.5]), reuse=False)
    assert reused.compiled_logp_func is a.compiled_logp_func  # nothing compiled again
    assert reused.logp_func is None and fresh.logp_func is not None
    x = np.random.default_rng(3).normal(size=a.n_dim)
    assert _call_logp(reused, x)[1] == _call_logp(fresh, x)[1] != _call_logp(a, x)[1]
    kwargs = dict(draws=40, tune=40, chains=2, cores=1, seed=5, progress_bar=False)
    got, want = nutpie.sample(reused, **kwargs).posterior, nutpie.sample(fresh, **kwargs).posterior
    for name in want.data_vars:
        np.testing.assert_array_equal(got[name].values, want[name].values)
    # the first model's arrays are untouched by the second's fit
    assert _call_logp(a, x)[1] == _call_logp(_nutpie.compile_model(first, reuse=False), x)[1]


def test_other_shapes_compile_anew_but_load_the_wrappers_from_disk():
    with quiet_libraries():
        _nutpie.compile_model(_data_model([0.5, 1.5, -0.2]))
        longer = _data_model([0.5, 1.5, -0.2, 0.7])
        assert _nutpie.structure_key(longer) != _nutpie.structure_key(_data_model([0.5, 1.5, -0.2]))
        compiled = _nutpie.compile_model(longer)
    assert compiled.logp_func is not None  # compiled for these shapes, not reused
    # the compiled code does not depend on the arrays' lengths: the same wrappers, from disk
    assert compiled.compiled_logp_func.cache_hits == 1
    draws = nutpie.sample(compiled, draws=30, tune=30, chains=1, seed=1, progress_bar=False)
    assert draws.posterior["mu"].shape == (1, 30)


@pytest.mark.slow  # compiles the model cold and fits it twice: ~2 min
def test_reconcile_models_of_the_same_structure_share_one_compiled_model(tmp_path):
    """A changed figure reuses the compiled shipped model, with the density of a fresh compile."""
    import pandas as pd
    from conftest import CLAIMS_CSV, KURSK_TOML

    from reconcile.claims import read_claims
    from reconcile.config import load_config
    from reconcile.model import build_model

    table = pd.read_csv(CLAIMS_CSV, dtype=str, keep_default_na=False)
    table.loc[0, "value"] = str(int(table.loc[0, "value"]) * 3)  # "at least 30" -> "at least 90"
    changed = tmp_path / "claims.csv"
    table.to_csv(changed, index=False)
    claims, other, kursk_config = read_claims(CLAIMS_CSV), read_claims(changed), load_config(KURSK_TOML)
    with quiet_libraries():
        base = _nutpie.compile_model(build_model(claims, kursk_config))
        model = build_model(other, kursk_config)
        assert _nutpie.structure_key(model) == _nutpie.structure_key(build_model(claims, kursk_config))
        reused = _nutpie.compile_model(model)
        fresh = _nutpie.compile_model(build_model(other, kursk_config), reuse=False)
    assert reused.compiled_logp_func is base.compiled_logp_func
    for x in np.random.default_rng(4).normal(scale=0.3, size=(3, fresh.n_dim)):
        assert _call_logp(reused, x)[1] == _call_logp(fresh, x)[1] != _call_logp(base, x)[1]


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


def test_broadcast_shapes_are_taken_in_input_order_not_memory_order():
    """reconcile._pytensor: the length PyTensor gives an elementwise result over arrays of unknown
    lengths is the first input's (the others are checked against it), whatever the variables'
    addresses; otherwise the rewritten graph, and so its compile-cache key, changes per process."""
    import pytensor.tensor as pt
    from pytensor.tensor.extra_ops import broadcast_shape

    from reconcile._pytensor import deterministic_rewrites

    assert deterministic_rewrites()
    order = [7, 2, 11, 0, 5, 9, 1, 10, 3, 8, 4, 6]  # not the order of creation (nor, so, of address)
    for _ in range(20):
        created = [pt.vector(f"v{i}").shape[0] for i in range(12)]
        lengths = [created[i] for i in order]
        (result,) = broadcast_shape(*[(length,) for length in lengths], arrays_are_shapes=True)
        assert result.owner.inputs[0] is lengths[0]


def _logp_cache_key(claims: str) -> str:
    """PyTensor's numba cache key of the log density (and gradient) nutpie samples, for a war."""
    import subprocess
    import sys

    code = """
import sys
from nutpie import compile_pymc as ncp
from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS
from reconcile._nutpie import _initial_point_function
from reconcile.claims import read_claims
from reconcile.config import load_config
from reconcile.fitting import quiet_libraries
from reconcile.model import build_model
with quiet_libraries():
    model = build_model(read_claims(sys.argv[1]), load_config())
    logp = ncp._make_functions(model, mode="NUMBA", compute_grad=True, join_expanded=True,
        pymc_initial_point_fn=_initial_point_function(model), var_names=None)[2]
print(CACHED_SRC_FUNCTIONS[logp.vm.jit_fn.py_func])
"""
    done = subprocess.run([sys.executable, "-c", code, claims], capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_a_war_compiles_to_the_same_cached_function_in_every_process():
    """Two processes rewrite the shipped data's model to the same graph, so the second finds the
    first's compiled density in the disk cache (before reconcile._pytensor: two variants or more)."""
    claims = str(CLAIMS_CSV)
    assert _logp_cache_key(claims) == _logp_cache_key(claims)


def _uncached(monkeypatch) -> None:
    """As on a first fit of a war's shape: the wrappers are not in numba's cache (they are, from
    the tests above; what the helper does is the same, it only takes less time)."""
    monkeypatch.setattr(_nutpie, "_cached", lambda pyfunc, signature: False)
    monkeypatch.delenv(_nutpie.COMPILE_HELPER_ENV, raising=False)


needs_helper = pytest.mark.skipif(
    not (_nutpie._fork.fork_is_safe() and _nutpie._fork.cpus() >= 2), reason="no compile helper here (one CPU)"
)


@needs_helper
def test_a_helper_compiles_the_expansion_while_the_density_compiles(compiled_pair, forked, monkeypatch):
    """Not yet cached: one helper is forked, finishes its work, is reaped; the model is the same."""
    _uncached(monkeypatch)
    finished: list[bool] = []
    real = _nutpie._fork.finished
    monkeypatch.setattr(_nutpie._fork, "finished", lambda pid, deadline: finished.append(real(pid, deadline)) or True)
    with quiet_libraries():
        compiled, _ = _nutpie._compile_cached(_toy_model())
    assert len(forked) == 1 and finished == [True]
    assert_all_reaped(forked)
    ours, _ = compiled_pair
    x = np.random.default_rng(6).normal(size=ours.n_dim)
    assert _call_logp(compiled, x)[1] == _call_logp(ours, x)[1]
    draws = nutpie.sample(compiled, draws=20, tune=20, chains=1, seed=1, progress_bar=False)
    assert draws.posterior["theta"].shape == (1, 20, 7)


@needs_helper
def test_a_helper_that_fails_or_hangs_costs_only_time(compiled_pair, forked, monkeypatch):
    _uncached(monkeypatch)
    monkeypatch.setattr(_nutpie._fork, "quiet_child", lambda parent: os._exit(3))
    with quiet_libraries():
        compiled, _ = _nutpie._compile_cached(_toy_model())
    assert len(forked) == 1
    assert_all_reaped(forked)
    x = np.random.default_rng(7).normal(size=compiled.n_dim)
    assert _call_logp(compiled, x)[1] == _call_logp(compiled_pair[0], x)[1]

    # a helper that never ends on its own: that the wait returns at all shows it was killed
    monkeypatch.setattr(_nutpie._fork, "quiet_child", lambda parent: time.sleep(10**6))
    registered: list[int] = []
    pid = _nutpie._start_helper(_toy_model, None, registered.append)
    assert pid == forked[-1] and registered == [pid]
    assert _nutpie._fork.finished(pid, time.perf_counter() + 0.2) is False  # killed, not finished
    assert_all_reaped(forked)


@needs_helper
def test_an_interrupted_compile_leaves_no_helper_behind(forked, monkeypatch):
    _uncached(monkeypatch)

    def interrupted(pid, deadline):
        raise KeyboardInterrupt

    monkeypatch.setattr(_nutpie._fork, "finished", interrupted)
    with quiet_libraries(), pytest.raises(KeyboardInterrupt):
        _nutpie._compile_cached(_toy_model())
    assert len(forked) == 1
    assert_all_reaped(forked)


def test_no_helper_when_cached_switched_off_or_on_one_cpu(forked, monkeypatch):
    monkeypatch.delenv(_nutpie.COMPILE_HELPER_ENV, raising=False)
    monkeypatch.setattr(_nutpie, "_cached", lambda pyfunc, signature: True)
    assert _nutpie._start_helper(_toy_model, None, print) is None
    monkeypatch.setattr(_nutpie, "_cached", lambda pyfunc, signature: False)
    monkeypatch.setenv(_nutpie.COMPILE_HELPER_ENV, "0")
    assert _nutpie._start_helper(_toy_model, None, print) is None
    monkeypatch.delenv(_nutpie.COMPILE_HELPER_ENV)
    monkeypatch.setattr(_nutpie._fork, "cpus", lambda: 1)
    assert _nutpie._start_helper(_toy_model, None, print) is None
    assert forked == []


def test_the_cache_probe_sees_the_compiled_wrappers(compiled_pair):
    """True for a wrapper numba cached (the fixture's), with its own signature only; False for a
    function of which nothing is cached."""
    ours, _ = compiled_pair
    expand = ours.compiled_expand_func
    assert _nutpie._cached(expand.__wrapped__, expand._sig) is True
    assert _nutpie._cached(expand.__wrapped__, ours.compiled_logp_func._sig) is False
    assert _nutpie._cached(_toy_model, expand._sig) is False


@needs_helper
def test_a_signal_while_forking_the_helper_leaves_no_helper_behind(ctrl_c_after_each_fork, monkeypatch):
    """Ctrl-C arriving while the helper is forked is handled once the helper is registered: the
    interrupted compile kills and reaps it."""
    _uncached(monkeypatch)
    with quiet_libraries(), pytest.raises(KeyboardInterrupt):
        _nutpie._compile_cached(_toy_model())
    assert len(ctrl_c_after_each_fork) == 1  # (the pids forked)
    assert_all_reaped(ctrl_c_after_each_fork)
    assert _nutpie._fork._pidfds == {}
