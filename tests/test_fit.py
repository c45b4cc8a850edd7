"""Tests of real fits (reconcile.fit, reconcile.summary, ``reconcile fit``), kept cheap.

The model is compiled three times in this file's default run (~25-45 s each on 2 cores):

1. the session fixture ``shipped_fit`` (conftest.py): the shipped data, seed 1, 300+300 draws,
   2 chains, saved once to ``shipped_fit_dir``; most tests only read it;
2. ``reconcile fit`` in-process with the same settings: same seed, same numbers (determinism),
   and a non-converged fit without ``--strict`` exits 0;
3. ``reconcile fit --strict`` with 20+20 draws: not converged, exit 3.

The settings are far too small for converged estimates: these tests check structure,
consistency and provenance, not the numbers (the slow recovery tests do that).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import CLAIMS_CSV, FIT_SEED, FIT_SETTINGS, KURSK_TOML, results_snapshot, sha256_file, snapshot

from reconcile.cli import main
from reconcile.config import config_from_json, load_config, sampler_overrides
from reconcile.fitting import IncompatibleFit, load_fit
from reconcile.model import ROLE_BOUND, ROLE_LOSS, ROLE_RELAY
from reconcile.summary import OutputError

fit_module = importlib.import_module("reconcile.fitting")
summary_module = importlib.import_module("reconcile.summary")
outputs_module = importlib.import_module("reconcile.outputs")

ESTIMATE_COLUMNS = ["population", "category", "date", "mean", "sd", "q05", "q25", "q50", "q75", "q95"]
SOURCE_COLUMNS = ["source", "source_group", "stance", "n_claims", "bias_q05", "bias_q50", "bias_q95"]
CHECK_COLUMNS = ["claim_id", "true_q05", "true_q50", "true_q95", "ppc_percentile", "flag"]
DIAGNOSTIC_KEYS = {"max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "sampler", "seconds", "converged"}
RESULT_FILES = ["claims_check.csv", "daily.csv", "diagnostics.json", "estimates.csv", "posterior.nc", "sources.csv"]
QUANTILE_COLUMNS = ["q05", "q25", "q50", "q75", "q95"]


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def cli(argv, capsys):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # pragma: no cover - argparse
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def shipped_rows() -> pd.DataFrame:
    return pd.read_csv(CLAIMS_CSV, dtype=str, keep_default_na=False)


# --------------------------------------------------------------------------------------
# The files of a fit directory: the contract's columns first
# --------------------------------------------------------------------------------------


def test_fit_directory_holds_every_file(shipped_fit_dir):
    names = {p.name for p in shipped_fit_dir.iterdir()}
    assert set(RESULT_FILES) <= names
    # the only hidden entry is the store of the results (one set of them, its switch and the lock)
    assert [n for n in names if n.startswith(".")] == [".reconcile"], "staging or temporary files left behind"
    store = sorted(p.name for p in (shipped_fit_dir / ".reconcile").iterdir())
    assert (
        len(store) == 3
        and store[:2] == ["fit", os.readlink(shipped_fit_dir / ".reconcile" / "fit")]
        and store[2] == "lock"
    )
    for name in RESULT_FILES:
        assert (shipped_fit_dir / name).stat().st_size > 0


def test_estimates_csv_columns_are_exactly_the_contract(shipped_fit_dir):
    est = read_csv(shipped_fit_dir / "estimates.csv")
    assert list(est.columns) == ESTIMATE_COLUMNS
    assert len(est) > 0
    assert not est[ESTIMATE_COLUMNS[3:]].isna().any().any()
    assert set(est["category"]) == {"killed", "wounded", "casualties"}
    # populations with a loss claim are estimated; one with only strengths is not
    assert set(est["population"]) == {"dprk_kursk", "russia_military", "ukraine_military"}
    # one row per population x category x date, every category on the same grid
    assert not est.duplicated(["population", "category", "date"]).any()
    per = est.groupby(["population", "category"])["date"].apply(tuple).unstack()
    for population, row in per.iterrows():
        assert row["killed"] == row["wounded"] == row["casualties"], population


def test_estimates_start_on_the_configured_starts(shipped_fit_dir):
    est = read_csv(shipped_fit_dir / "estimates.csv")
    first = est.groupby("population")["date"].min().to_dict()
    assert first == {"dprk_kursk": "2024-11-01", "russia_military": "2022-02-24", "ukraine_military": "2022-02-24"}
    # ISO dates, sorted within each population and category
    for _, group in est.groupby(["population", "category"]):
        dates = pd.to_datetime(group["date"], format="%Y-%m-%d")
        assert dates.is_monotonic_increasing and dates.is_unique


def test_sources_csv_starts_with_the_contract_columns(shipped_fit_dir, shipped_fit):
    src = read_csv(shipped_fit_dir / "sources.csv")
    assert list(src.columns[: len(SOURCE_COLUMNS)]) == SOURCE_COLUMNS
    assert {"bias_mean", "p_inflates", "populations", "assumed_unbiased"} <= set(src.columns)
    assert not src.duplicated(["source", "stance"]).any()
    assert set(src["stance"]) <= {"adversary", "own", "neutral", "unknown"}
    assert (src["bias_q05"] > 0).all()
    assert (src["bias_q05"] <= src["bias_q50"]).all() and (src["bias_q50"] <= src["bias_q95"]).all()
    assert src["p_inflates"].between(0, 1).all()
    # the claims counted per source are exactly the loss figures of the fit
    roles = read_csv(shipped_fit_dir / "claims_check.csv")["role"]
    assert src["n_claims"].sum() == (roles == ROLE_LOSS).sum()
    # the shipped file's figures about its own losses come from Zelensky (own side)
    zelensky = src[src["source"].str.contains("Zelensky")]
    assert list(zelensky["stance"]) == ["own"]


def test_claims_check_csv_starts_with_the_contract_columns(shipped_fit_dir):
    check = read_csv(shipped_fit_dir / "claims_check.csv")
    assert list(check.columns[: len(CHECK_COLUMNS)]) == CHECK_COLUMNS
    assert "role" in check.columns


def test_diagnostics_json_has_the_contract_keys(shipped_fit_dir, shipped_fit):
    diag = json.loads((shipped_fit_dir / "diagnostics.json").read_text(encoding="utf-8"))
    assert DIAGNOSTIC_KEYS <= set(diag)
    assert isinstance(diag["converged"], bool)
    assert isinstance(diag["divergences"], int) and diag["divergences"] >= 0
    assert diag["sampler"] == "nutpie"
    assert diag["seconds"] > 0
    assert diag["max_rhat"] >= 1 - 1e-6 or math.isnan(diag["max_rhat"])
    assert diag["min_ess_bulk"] > 0 and diag["min_ess_tail"] > 0
    assert (diag["draws"], diag["chains"]) == (FIT_SETTINGS["draws"], FIT_SETTINGS["chains"])
    # the verdict follows the documented thresholds
    expected = (
        diag["max_rhat"] <= 1.01
        and diag["min_ess_bulk"] >= 400
        and diag["min_ess_tail"] >= 400
        and diag["divergences"] == 0
        and (diag.get("min_bfmi") is None or diag["min_bfmi"] >= 0.3)
    )
    assert diag["converged"] == expected == (not diag["problems"])
    assert diag["converged"] == shipped_fit.diagnostics.converged


# --------------------------------------------------------------------------------------
# Estimates are consistent
# --------------------------------------------------------------------------------------


def test_estimates_are_monotone_in_date(shipped_fit_dir):
    est = read_csv(shipped_fit_dir / "estimates.csv")
    for (population, category), group in est.groupby(["population", "category"]):
        for column in ("mean", "q50", "q05", "q95"):
            steps = np.diff(group[column].to_numpy())
            assert (steps >= 0).all(), f"{population} {category} {column} decreases"
        assert group["q50"].iloc[-1] > group["q50"].iloc[0], f"{population} {category}: no losses at all?"


def test_casualties_are_killed_plus_wounded(shipped_fit):
    est = shipped_fit.estimates()
    wide = est.pivot_table(index=["population", "date"], columns="category", values="mean")
    np.testing.assert_allclose(wide["killed"] + wide["wounded"], wide["casualties"], rtol=1e-9)
    # the killed share is below one half on every date (prior: 1 killed per 2-4 wounded)
    assert (wide["killed"] < wide["wounded"]).all()


def test_quantiles_are_ordered(shipped_fit_dir):
    est = read_csv(shipped_fit_dir / "estimates.csv")
    q = est[QUANTILE_COLUMNS].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()
    assert (est["q05"] >= 0).all()
    assert (est["sd"] >= 0).all()


def test_saved_csv_is_the_in_memory_table(shipped_fit, shipped_fit_dir):
    saved = read_csv(shipped_fit_dir / "estimates.csv")
    memory = shipped_fit.estimates()
    assert list(saved.columns) == list(memory.columns)
    pd.testing.assert_frame_equal(saved[ESTIMATE_COLUMNS[:3]], memory[ESTIMATE_COLUMNS[:3]])
    np.testing.assert_allclose(saved[ESTIMATE_COLUMNS[3:]], memory[ESTIMATE_COLUMNS[3:]], rtol=1e-5)


# --------------------------------------------------------------------------------------
# Every claim is checked once; relays are not counted twice
# --------------------------------------------------------------------------------------


def test_every_claim_appears_once_in_claims_check(shipped_fit_dir, shipped_rows):
    check = read_csv(shipped_fit_dir / "claims_check.csv")
    assert check["claim_id"].is_unique
    assert sorted(check["claim_id"]) == sorted(shipped_rows["claim_id"])


def test_relayed_claims_are_relays_without_a_true_quantity(shipped_fit_dir, shipped_rows):
    check = read_csv(shipped_fit_dir / "claims_check.csv").set_index("claim_id")
    relayed = shipped_rows.loc[shipped_rows["derived_from"] != "", "claim_id"]
    assert len(relayed) >= 3  # the shipped file has several relays
    for claim_id in relayed:
        row = check.loc[claim_id]
        assert row["role"] == ROLE_RELAY, claim_id
        assert row[["true_q05", "true_q50", "true_q95", "ppc_percentile"]].isna().all(), claim_id
    assert set(check.index[check["role"] == ROLE_RELAY]) == set(relayed)


def test_checked_claims_have_ordered_true_quantities(shipped_fit_dir):
    check = read_csv(shipped_fit_dir / "claims_check.csv")
    used = check[check["role"].isin([ROLE_LOSS, ROLE_BOUND])]
    assert (check["role"] == ROLE_LOSS).sum() >= 5
    assert not used[["true_q05", "true_q50", "true_q95", "ppc_percentile"]].isna().any().any()
    assert (used["true_q05"] <= used["true_q50"]).all() and (used["true_q50"] <= used["true_q95"]).all()
    assert used["ppc_percentile"].between(0, 1).all()
    unused = check[~check["role"].isin([ROLE_LOSS, ROLE_BOUND])]
    assert unused[["true_q05", "true_q50", "true_q95", "ppc_percentile"]].isna().all().all()
    # a flag is set exactly where the percentile is surprising, for each kind of claim
    flagged = check[check["flag"].notna() & (check["flag"] != "")]
    assert (flagged["ppc_percentile"].sub(0.5).abs() > 0.45).all()


# --------------------------------------------------------------------------------------
# posterior.nc: groups and provenance
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_idata(shipped_fit_dir):
    return az.from_netcdf(shipped_fit_dir / "posterior.nc")


def test_posterior_nc_has_the_groups(saved_idata):
    groups = set(saved_idata.groups())
    assert {"posterior", "posterior_predictive", "log_likelihood", "observed_data", "sample_stats"} <= groups
    post = saved_idata.posterior
    assert (post.sizes["chain"], post.sizes["draw"]) == (FIT_SETTINGS["chains"], FIT_SETTINGS["draws"])
    assert len(saved_idata.log_likelihood.data_vars) >= 1
    assert "diverging" in saved_idata.sample_stats


def test_log_likelihood_equals_pymcs_evaluation_of_the_model(shipped_fit):
    """The numpy log-likelihood stored for LOO is the model's own likelihood, claim by claim."""
    import pymc as pm

    from reconcile.model import build_model

    fit = shipped_fit
    ours = fit.idata.log_likelihood
    assert set(ours.data_vars) == {"stated", "strength"}
    model = build_model(fit.claims, fit.config, fit.inputs)
    small = fit.idata.posterior.isel(draw=slice(0, 20))
    theirs = pm.compute_log_likelihood(
        az.InferenceData(posterior=small),
        model=model,
        progressbar=False,
        extend_inferencedata=False,
        compile_kwargs={"mode": "FAST_COMPILE"},  # no C compiler: seconds, not a minute, on an empty cache
    )
    for name in ("stated", "strength"):
        expected = theirs[name].values
        got = ours[name].isel(draw=slice(0, 20)).values
        assert got.shape == expected.shape
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)


def test_posterior_nc_provenance(saved_idata, shipped_fit):
    from reconcile import __version__

    attrs = saved_idata.posterior.attrs
    assert attrs["reconcile_version"] == __version__
    assert attrs["claims_sha256"] == sha256_file(CLAIMS_CSV)
    assert int(attrs["seed"]) == FIT_SEED
    config = config_from_json(attrs["config"])
    # --tune sets the tuning length of every war size (sampler_overrides)
    expected = load_config(KURSK_TOML).replace(sampler=sampler_overrides(**FIT_SETTINGS))
    assert config.to_dict() == expected.to_dict()
    assert config.to_dict() == shipped_fit.config.to_dict()


def test_posterior_predictive_and_observed_cover_the_loss_claims(saved_idata, shipped_fit_dir):
    check = read_csv(shipped_fit_dir / "claims_check.csv")
    loss = sorted(check.loc[check["role"] == ROLE_LOSS, "claim_id"])
    assert sorted(saved_idata.posterior_predictive["figure"].coords["claim"].values) == loss
    assert sorted(saved_idata.observed_data["stated"].coords["claim"].values) == loss
    assert (saved_idata.posterior_predictive["figure"].values > 0).all()


def test_load_fit_gives_back_the_same_results(shipped_fit, shipped_fit_dir):
    loaded = load_fit(shipped_fit_dir)
    pd.testing.assert_frame_equal(loaded.estimates(), shipped_fit.estimates())
    pd.testing.assert_frame_equal(loaded.sources(), shipped_fit.sources())
    pd.testing.assert_frame_equal(loaded.claims_check(), shipped_fit.claims_check())
    assert loaded.seed == FIT_SEED
    assert loaded.config.to_dict() == shipped_fit.config.to_dict()
    assert loaded.claims == shipped_fit.claims
    assert loaded.diagnostics == shipped_fit.diagnostics
    # the file itself can be named too
    pd.testing.assert_frame_equal(load_fit(shipped_fit_dir / "posterior.nc").estimates(), shipped_fit.estimates())


def test_load_fit_of_an_absent_fit(tmp_path):
    with pytest.raises(FileNotFoundError, match="posterior.nc"):
        load_fit(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_fit(tmp_path / "nowhere")


@pytest.mark.parametrize("damage", ["garbage", "empty", "truncated"])
def test_load_fit_of_a_corrupt_posterior(tmp_path, shipped_fit_dir, damage):
    good = (shipped_fit_dir / "posterior.nc").read_bytes()
    content = {"garbage": b"not a netcdf file\n" * 10, "empty": b"", "truncated": good[: len(good) // 2]}[damage]
    (tmp_path / "posterior.nc").write_bytes(content)
    with pytest.raises(IncompatibleFit, match="posterior.nc"):
        load_fit(tmp_path)


def test_load_fit_of_a_foreign_netcdf(tmp_path):
    foreign = az.from_dict(posterior={"mu": np.zeros((2, 10))})
    foreign.to_netcdf(str(tmp_path / "posterior.nc"), engine="h5netcdf")
    with pytest.raises(IncompatibleFit, match="not written by reconcile"):
        load_fit(tmp_path)


def test_a_fit_saved_before_a_prior_existed_loads_with_the_value_it_was_fitted_with(
    tmp_path, saved_idata, shipped_fit_dir
):
    """``daily_sd`` came after format 2: a fit saved without it was fitted without it (0), not
    with today's default; a fit saved with it keeps its own value."""
    from reconcile.fitting import PRIORS_SINCE_FORMAT

    assert load_fit(shipped_fit_dir).config.priors["daily_sd"] == 0.3  # today's default, as fitted
    idata = saved_idata.copy()
    saved = json.loads(idata.posterior.attrs["config"])
    for key in PRIORS_SINCE_FORMAT:
        del saved["priors"][key]
    idata.posterior.attrs["config"] = json.dumps(saved)
    idata.to_netcdf(str(tmp_path / "posterior.nc"), engine="h5netcdf")
    old = load_fit(tmp_path)
    assert {key: old.config.priors[key] for key in PRIORS_SINCE_FORMAT} == PRIORS_SINCE_FORMAT


def test_load_fit_of_another_format_version(tmp_path, saved_idata):
    idata = saved_idata.copy()
    idata.posterior.attrs["reconcile_format"] = 999
    idata.to_netcdf(str(tmp_path / "posterior.nc"), engine="h5netcdf")
    with pytest.raises(IncompatibleFit, match="format 999"):
        load_fit(tmp_path)


# --------------------------------------------------------------------------------------
# Saving: a failed save leaves the previous results as they were
# --------------------------------------------------------------------------------------


@pytest.fixture
def old_results(tmp_path) -> Path:
    """A results directory holding an earlier fit's files (distinct bytes, so any overwrite shows)."""
    out = tmp_path / "results"
    out.mkdir()
    for name in RESULT_FILES:
        (out / name).write_bytes(f"earlier results: {name}\n".encode())
    (out / "notes.txt").write_text("a user's own file\n")
    return out


def _raiser(exc):
    def raise_(*args, **kwargs):
        raise exc

    return raise_


@pytest.mark.parametrize(
    ("target", "exc", "expected"),
    [
        ("sources", OSError(28, "No space left on device"), OutputError),
        ("claims_check", RuntimeError("bug in a summary"), RuntimeError),
        ("to_netcdf", OSError(5, "Input/output error"), OutputError),
        ("sources", KeyboardInterrupt(), KeyboardInterrupt),
    ],
    ids=["OSError in sources", "RuntimeError in claims_check", "OSError in to_netcdf", "interrupted"],
)
def test_failed_save_keeps_old_results(shipped_fit, old_results, monkeypatch, target, exc, expected):
    before = snapshot(old_results)
    if target == "to_netcdf":
        monkeypatch.setattr(az.InferenceData, "to_netcdf", _raiser(exc))
    else:
        monkeypatch.setattr(summary_module, target, _raiser(exc))
    with pytest.raises(expected):
        shipped_fit.save(old_results)
    assert snapshot(old_results) == before  # byte-identical, and no staging/temp file left


def test_save_replaces_old_results_and_leaves_nothing_else(shipped_fit, shipped_fit_dir, old_results):
    shipped_fit.save(old_results)
    after = results_snapshot(old_results)
    for name in ("estimates.csv", "sources.csv", "claims_check.csv"):
        assert after[name] == (shipped_fit_dir / name).read_bytes()
    assert after["notes.txt"] == b"a user's own file\n"  # not ours: left alone
    # nothing else hidden than the store, which holds one set of results, its switch and the lock
    assert [p.name for p in old_results.iterdir() if p.name.startswith(".")] == [".reconcile"]
    assert len(list((old_results / ".reconcile").iterdir())) == 3


def test_failure_while_moving_files_into_place_keeps_old_results(shipped_fit, old_results, monkeypatch):
    """A rename of the commit fails after others succeeded: the old results still show, whole
    (every step of the commit is tried in tests/test_commit.py)."""
    before = results_snapshot(old_results)
    real_replace = os.replace
    calls = []

    def flaky_replace(src, dst, *args, **kwargs):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", flaky_replace)
    # plots: not needed here
    monkeypatch.setattr(outputs_module, "_extras", lambda *a, **k: contextlib.nullcontext(lambda: None))
    with pytest.raises(OutputError, match="earlier results left as they were"):
        shipped_fit.save(old_results)
    monkeypatch.undo()
    assert len(calls) == 3  # the failure came after two successful renames
    assert results_snapshot(old_results) == before


# --------------------------------------------------------------------------------------
# The command: same seed, same numbers; --strict
# --------------------------------------------------------------------------------------


def test_cli_fit_with_the_same_seed_gives_identical_tables(shipped_fit, shipped_fit_dir, tmp_path, capsys):
    """A second, independent fit (compiled again) through the command line."""
    out_dir = tmp_path / "again"
    code, out, err = cli(
        [
            "fit",
            CLAIMS_CSV,
            "--config",
            KURSK_TOML,
            "--out",
            out_dir,
            "--quiet",
            "--seed",
            FIT_SEED,
            "--draws",
            FIT_SETTINGS["draws"],
            "--tune",
            FIT_SETTINGS["tune"],
            "--chains",
            FIT_SETTINGS["chains"],
        ],
        capsys,
    )
    # without --strict a fit exits 0 whether it converged or not, and says so loudly if not
    assert code == 0, err
    assert ("NOT CONVERGED" in err) == (not shipped_fit.diagnostics.converged)
    for name in ("estimates.csv", "sources.csv", "claims_check.csv"):
        assert (out_dir / name).read_bytes() == (shipped_fit_dir / name).read_bytes(), name
    again = json.loads((out_dir / "diagnostics.json").read_text())
    first = json.loads((shipped_fit_dir / "diagnostics.json").read_text())
    for key in ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "converged"):
        assert again[key] == first[key], key
    attrs = az.from_netcdf(out_dir / "posterior.nc").posterior.attrs
    assert attrs["claims_sha256"] == sha256_file(CLAIMS_CSV)
    assert int(attrs["seed"]) == FIT_SEED


def test_cli_strict_with_too_few_draws_exits_3(tmp_path, capsys):
    out_dir = tmp_path / "strict"
    code, out, err = cli(
        [
            "fit",
            CLAIMS_CSV,
            "--config",
            KURSK_TOML,
            "--out",
            out_dir,
            "--quiet",
            "--strict",
            "--seed",
            3,
            "--draws",
            20,
            "--tune",
            20,
            "--chains",
            2,
        ],
        capsys,
    )
    assert code == 3
    assert "NOT CONVERGED" in err
    diag = json.loads((out_dir / "diagnostics.json").read_text())
    assert diag["converged"] is False and diag["problems"]
    assert any(problem in err for problem in diag["problems"])
    # the results are written all the same, for inspection
    assert set(RESULT_FILES) <= {p.name for p in out_dir.iterdir()}


def _with_verdict(result, converged: bool):
    diag = dataclasses.replace(
        result.diagnostics,
        converged=converged,
        problems=() if converged else ("min bulk ESS 12 < 400",),
    )
    return dataclasses.replace(result, diagnostics=diag)


@pytest.mark.parametrize(
    ("converged", "strict", "code"),
    [(False, False, 0), (False, True, 3), (True, True, 0), (True, False, 0)],
)
def test_cli_exit_code_follows_the_verdict(shipped_fit, tmp_path, capsys, monkeypatch, converged, strict, code):
    """The CLI's handling of the verdict, on the shared fit (no compile)."""
    result = _with_verdict(shipped_fit, converged)
    monkeypatch.setattr(fit_module, "fit", lambda *a, **k: result)
    # plots: not tested here
    monkeypatch.setattr(outputs_module, "_extras", lambda *a, **k: contextlib.nullcontext(lambda: None))
    argv = ["fit", CLAIMS_CSV, "--config", KURSK_TOML, "--out", tmp_path / "r"] + (["--strict"] if strict else [])
    got, out, err = cli(argv, capsys)
    assert got == code
    assert ("NOT CONVERGED" in err) == (not converged)
    if converged:
        assert "Converged" in out
    assert "Results written to" in out
    assert (tmp_path / "r" / "estimates.csv").exists()
    # one plain line per stage on a standard error that is not a terminal
    assert (
        "reconcile: reading the claims, loading PyMC..." in err
        and "reconcile: saving posterior.nc and the tables..." in err
    )


# --------------------------------------------------------------------------------------
# The public API
# --------------------------------------------------------------------------------------


def test_public_name_stays_the_function():
    code = (
        "import reconcile\n"
        "bad = [n for n in ('fit', 'simulate') if not (getattr(reconcile, n) is getattr(reconcile, n) and callable(getattr(reconcile, n)))]\n"
        "print(bad)\n"
        "raise SystemExit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"not stable callables: {result.stdout.strip()}"


@pytest.mark.slow
def test_pymc_sampler_fallback_writes_every_file(tmp_path, capsys):
    """`--sampler pymc` (PyMC's own NUTS, the fallback when nutpie is missing) is a real fit too:
    it once failed at the end because PyMC's result already held an ``observed_data`` group."""
    out = tmp_path / "out"
    code, _, err = cli(
        [
            "fit",
            CLAIMS_CSV,
            "--out",
            out,
            "--sampler",
            "pymc",
            "--draws",
            100,
            "--tune",
            100,
            "--chains",
            2,
            "--seed",
            FIT_SEED,
            "--quiet",
        ],
        capsys,
    )
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir() if p.is_file() and p.name in RESULT_FILES) == RESULT_FILES
    diagnostics = json.loads((out / "diagnostics.json").read_text(encoding="utf-8"))
    assert diagnostics["sampler"] == "pymc"
    idata = az.from_netcdf(out / "posterior.nc")
    assert set(idata.observed_data["stated"].dims) == {"claim", "end"}
    assert idata.posterior.sizes["draw"] == 100 and idata.posterior.sizes["chain"] == 2


class _Stop(Exception):
    pass


@pytest.mark.parametrize(
    "war, tune, expected", [("shipped", None, 700), ("rich", None, 900), ("rich", 250, 250), ("shipped", 250, 250)]
)
def test_wars_with_a_data_rich_group_tune_longer(monkeypatch, war, tune, expected):
    """sampler.tune for small wars, sampler.tune_data_rich when some group makes >= 40 claims
    (the model then samples group means); an explicit tune applies to both."""
    import reconcile
    import reconcile.fitting as fitting
    from reconcile.claims import claims_from_frame, read_claims

    seen = {}

    def capture(model, settings, seed, progress, timings):
        seen.update(settings)
        raise _Stop

    monkeypatch.setattr(fitting, "_sample_nutpie", capture)
    if war == "shipped":
        claims, config = read_claims(CLAIMS_CSV), load_config(KURSK_TOML)
    else:
        sim = reconcile.simulate(seed=1, n_populations=3, n_days=1000, n_claims=250, n_sources=10)
        claims, config = claims_from_frame(sim.claims), load_config()
    config = config.replace(sampler={"tune": 700, "tune_data_rich": 900})
    with pytest.raises(_Stop):
        fitting.fit(claims, config, seed=1, tune=tune, progress=False)
    assert seen["tune"] == expected


def test_posterior_nc_read_with_arviz_and_xarray_alone_selects_losses_by_population_and_date(shipped_fit_dir):
    """A stranger with ArviZ and xarray only (no reconcile) can pick a population's cumulative
    casualties on a date, and gets what estimates.csv says."""
    import arviz as az

    idata = az.from_netcdf(shipped_fit_dir / "posterior.nc")
    post = idata.posterior
    kursk = post["cumulative_casualties"].where(post["estimate_population"] == "dprk_kursk", drop=True)
    by_date = kursk.swap_dims(estimate="estimate_date")
    on_day = by_date.sel(estimate_date="2025-01-01", method="nearest")
    assert on_day.dims == ("chain", "draw")
    table = read_csv(shipped_fit_dir / "estimates.csv")
    row = table[
        (table["population"] == "dprk_kursk")
        & (table["category"] == "casualties")
        & (table["date"] == str(on_day["estimate_date"].values)[:10])
    ]
    assert len(row) == 1
    assert float(on_day.median()) == pytest.approx(float(row["q50"].iloc[0]), rel=1e-4)  # the CSV rounds


def test_posterior_nc_labels_each_step_with_its_population_and_days(shipped_fit, shipped_fit_dir):
    """With xarray alone: each step of the daily rate's grid names its population and its first
    and last day; a population's steps tile its span without gap or overlap."""
    post = xr.open_dataset(shipped_fit_dir / "posterior.nc", group="posterior", engine="h5netcdf")
    assert set(post["step_rate"].coords) >= {"step_population", "step_first_day", "step_last_day"}
    est = shipped_fit.inputs.estimates
    for population in shipped_fit.inputs.populations:
        steps = post["step_rate"].where(post["step_population"] == population, drop=True)
        first = steps["step_first_day"].values.astype("datetime64[D]")
        last = steps["step_last_day"].values.astype("datetime64[D]")
        assert first[0] == np.datetime64(shipped_fit.inputs.grid.starts[population], "D")
        assert last[-1] == np.datetime64(pd.Timestamp(est[est["population"] == population]["date"].max()), "D")
        assert (first[1:] == last[:-1] + np.timedelta64(1, "D")).all() and (last >= first).all()


def test_posterior_nc_constant_data_holds_the_claims_table_and_what_the_graph_read(shipped_fit_dir):
    """With xarray alone: constant_data holds every claim of the file as the fit read it (its
    quote, its role in the model), the loss claims' stated figures as the likelihood read them,
    and the grid the daily rate lives on, each array under named dimensions."""
    nc = shipped_fit_dir / "posterior.nc"
    data = xr.open_dataset(nc, group="constant_data", engine="h5netcdf")
    observed = xr.open_dataset(nc, group="observed_data", engine="h5netcdf")
    post = xr.open_dataset(nc, group="posterior", engine="h5netcdf")
    csv = pd.read_csv(CLAIMS_CSV, dtype=str, keep_default_na=False)
    assert list(data["table_claim"].values) == list(csv["claim_id"])
    assert list(data["table_quote"].values) == list(csv["quote"])
    assert list(data["table_source"].values) == list(csv["source"])
    loss = data["table_role"] == ROLE_LOSS
    assert list(data["table_claim"].values[loss.values]) == list(data["claim"].values)
    assert list(data["claim"].values) == list(observed["claim"].values)
    np.testing.assert_array_equal(data["stated_figures"].values, observed["stated"].values)
    assert data["stated_figures"].dims == ("claim", "end") and data["ou_scan"].dims == ("scan_level", "step")
    # the grid: each step's width in days is the span its posterior labels give
    days = (post["step_last_day"] - post["step_first_day"]).values.astype("timedelta64[D]").astype(int) + 1
    np.testing.assert_array_equal(data["step_width"].values, days)
    assert (
        data["pop_of_step"].values == np.searchsorted(data["population"].values, post["step_population"].values)
    ).all()


def test_daily_csv_is_the_cumulative_estimates_differenced(shipped_fit, shipped_fit_dir):
    """daily.csv: average losses per day between consecutive estimate dates; day-weighted, they add
    up to the cumulative estimate (per draw, so the means add up exactly)."""
    daily = read_csv(shipped_fit_dir / "daily.csv")
    assert list(daily.columns) == [
        "population",
        "category",
        "start",
        "end",
        "days",
        "mean",
        "sd",
        "q05",
        "q25",
        "q50",
        "q75",
        "q95",
    ]
    est = read_csv(shipped_fit_dir / "estimates.csv")
    for (population, category), rows in daily.groupby(["population", "category"]):
        last = est[(est["population"] == population) & (est["category"] == category)].iloc[-1]
        assert (rows["mean"] * rows["days"]).sum() == pytest.approx(last["mean"], rel=1e-4)
        assert rows["end"].iloc[-1] == last["date"]
        assert (rows["q05"] <= rows["q95"]).all() and (rows["days"] >= 1).all()


def test_a_fit_is_never_written_to_and_its_tables_are_computed_once(shipped_fit):
    """The summaries are memoized beside the fit, not in it: the frozen Fit keeps exactly its
    fields, a table asked twice is the same (a copy each time), and the memo goes with the fit."""
    import gc

    from reconcile import summary

    fit = dataclasses.replace(shipped_fit)
    first = fit.sources()
    first.iloc[0, 0] = "changed by the caller"
    again = fit.sources()
    assert again.equals(shipped_fit.sources()) and not again.equals(first)
    assert set(vars(fit)) == {f.name for f in dataclasses.fields(fit)}
    key = id(fit)
    assert "sources" in summary._TABLES[key]
    del fit
    gc.collect()
    assert key not in summary._TABLES
