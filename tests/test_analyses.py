"""Calibration, leave-one-source-out and sensitivity: their logic on small tables (fast), their
command-line refusals (before any fit), and, marked slow, real end-to-end runs with NUTS."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import CLAIMS_CSV, KURSK_TOML, ROOT

from reconcile.calibration import CALIBRATION_COLUMNS, RANK_COLUMNS, CalibrationSettings, _cell, coverage_table
from reconcile.claims import read_claims
from reconcile.cli import main
from reconcile.config import ConfigError, load_config
from reconcile.refits import REFERENCE, _table, _without, load_alternatives

SENSITIVITY_TOML = ROOT / "models" / "sensitivity.toml"


@pytest.fixture
def no_batch(monkeypatch):
    """Any attempt to start fits fails loudly: refusals must come first."""
    import reconcile.batch

    def forbidden(*args, **kwargs):
        raise AssertionError("fits were started: the refusal should come before")

    monkeypatch.setattr(reconcile.batch, "run_jobs", forbidden)


# --------------------------------------------------------------------------- calibration logic


def test_grid_cells_hold_the_figure_and_do_not_depend_on_it():
    rng = np.random.default_rng(0)
    width, offset = math.log(1.6), 0.3
    for log_fig in rng.uniform(-2, 12, 500):
        lo, hi = _cell(log_fig, width, offset)
        assert lo <= math.exp(log_fig) <= hi
    # two figures in the same cell state the same interval: the cell is a function of the grid only
    assert _cell(5.0, width, offset) == _cell(5.0 + 1e-6, width, offset)


def _fake_ranks(n_sims=40, seed=0):
    """Truths drawn from the 'posterior' itself: a calibrated fit by construction."""
    rng = np.random.default_rng(seed)
    rows = []
    for sim in range(n_sims):
        for quantity, family in (("casualties@end", "cumulative"), ("bias[own]", "bias")):
            draws = rng.normal(size=199)
            truth = rng.normal()
            q = np.quantile(draws, [0.05, 0.25, 0.5, 0.75, 0.95])
            rows.append(
                {
                    "simulation": sim,
                    "quantity": quantity,
                    "family": family,
                    "unit": "pop_a",
                    "truth": truth,
                    "q05": q[0],
                    "q25": q[1],
                    "q50": q[2],
                    "q75": q[3],
                    "q95": q[4],
                    "in50": q[1] <= truth <= q[3],
                    "in90": q[0] <= truth <= q[4],
                    "rank": int((draws < truth).sum()),
                    "n_rank_draws": 199,
                    "converged": sim % 10 != 0,
                }
            )
    return pd.DataFrame(rows)[RANK_COLUMNS]


def test_coverage_table_per_quantity_and_family():
    ranks = _fake_ranks()
    table = coverage_table(ranks)
    assert list(table.columns) == CALIBRATION_COLUMNS
    assert list(table.columns[:4]) == ["quantity", "nominal", "coverage", "n"]
    assert set(table["quantity"]) == {"casualties@end", "bias[own]", "all cumulative", "all bias"}
    assert set(table["nominal"]) == {0.5, 0.9}
    row = table[(table["quantity"] == "casualties@end") & (table["nominal"] == 0.9)].iloc[0]
    g = ranks[ranks["quantity"] == "casualties@end"]
    assert row["n"] == 40 and row["coverage"] == pytest.approx(g["in90"].mean())
    assert row["n_converged"] == 36 and row["coverage_converged"] == pytest.approx(g[g["converged"]]["in90"].mean())
    assert 0 <= row["rank_chi2_p"] <= 1


def test_calibration_settings_refuse_nonsense():
    with pytest.raises(ValueError, match="draws"):
        CalibrationSettings(draws=0)
    with pytest.raises(ValueError, match="rank_draws"):
        CalibrationSettings(draws=10, chains=2, rank_draws=199)
    with pytest.raises(ValueError, match="tally_populations"):
        CalibrationSettings(n_populations=1, tally_populations=2)


def test_a_calibration_tally_may_count_several_populations():
    """With ``tally_populations=2`` the simulated tally counts the first two populations, each a
    drifting series of one source: the series then have levels of their own, which calibration
    checks."""
    from reconcile.calibration import _design
    from reconcile.claims import claims_from_frame
    from reconcile.model import prepare, series_levels

    settings = CalibrationSettings(n_populations=2, tally_populations=2)
    design = _design(settings, 3)
    tally = design[design["source"] == "tally"]
    assert tally.groupby("population").size().tolist() == [settings.tally_claims] * 2
    d = prepare(claims_from_frame(design), load_config())
    assert sorted(d.drift.series["source"]) == ["tally", "tally"]
    assert series_levels(d)[1].shape == (2, 1)
    # one population: the tally's claims as before (the recorded calibrations' designs)
    one = _design(CalibrationSettings(n_populations=2), 3)
    assert one["claim_id"].str.startswith("tally-").sum() == settings.tally_claims
    assert not one["claim_id"].str.startswith("tally2-").any()


# --------------------------------------------------------------------------- refits logic


def test_leaving_out_a_source_drops_its_claims_and_relays_of_them():
    claims = read_claims(CLAIMS_CSV)
    frame = claims.frame
    relayed = frame[frame["derived_from"] != ""]
    original = frame.set_index("claim_id").loc[relayed["derived_from"].iloc[0]]
    kept, n = _without(claims, "source", original["source"])
    ids = set(kept.frame["claim_id"])
    assert original.name not in ids and relayed["claim_id"].iloc[0] not in ids
    assert n == len(frame) - len(kept)
    assert (kept.frame["source"] != original["source"]).all()
    assert read_claims(io.StringIO(claims.to_csv_text())) == claims  # the caller's claims are untouched


def test_refit_table_compares_each_refit_with_the_reference():
    def rows(scale):
        return [
            {
                "population": "p",
                "category": c,
                "date": "2024-05-01",
                "mean": 1.0,
                "q05": 50 * scale,
                "q25": 80.0,
                "q50": 100 * scale,
                "q75": 120.0,
                "q95": 200 * scale,
            }
            for c in ("killed", "wounded", "casualties")
        ]

    results = {
        "reference": {"status": "fitted", "rows": rows(1.0), "converged": True},
        "without source A": {"status": "fitted", "rows": rows(1.5), "converged": False},
        "without source B": {"status": "not estimable: no loss claim", "rows": [], "converged": None},
    }
    labels = {"reference": REFERENCE, "without source A": "A", "without source B": "B", "without source C": "C"}
    table = _table(results, labels, "left_out", "reference")
    a = table[(table["left_out"] == "A") & (table["category"] == "casualties")].iloc[0]
    assert a["change_q50"] == pytest.approx(0.5) and a["reference_q50"] == 100 and not a["converged"]
    assert table.loc[table["left_out"] == "B", "status"].iloc[0].startswith("not estimable")
    assert table.loc[table["left_out"] == "C", "status"].iloc[0].startswith("failed")
    assert table["reference"].sum() == 3


def test_shipped_alternatives_load_over_the_kursk_configuration():
    alts = load_alternatives(SENSITIVITY_TOML, load_config(KURSK_TOML))
    assert alts["prior_only"].identification["mode"] == "prior"
    assert alts["uk_reference"].identification["reference_sources"] == ("UK Ministry of Defence",)
    assert alts["wide_bias_spread"].priors["group_sd"] == 0.4
    assert alts["wide_lexicon"].lexicon_overrides["plusieurs centaines"] == (200.0, 1000.0)
    # the base's own choices are kept where an alternative does not change them
    assert alts["prior_only"].population_starts == load_config(KURSK_TOML).population_starts


@pytest.mark.parametrize(
    "text, fragment",
    [
        (
            "[wide.priors]\ngroup_sdd = 0.4\n",
            "alternative [wide]: unknown key 'priors.group_sdd'; did you mean 'group_sd'?",
        ),
        ("[wide.prior]\ngroup_sd = 0.4\n", "alternative [wide]: unknown section [prior]"),
        ("[wide.priors]\ngroup_sd = -1\n", "priors.group_sd"),
        ("wide = 3\n", "alternative 'wide': expected a table"),
        ("", "no alternative"),
        ("[wide\n", "not valid TOML"),
    ],
)
def test_bad_alternatives_are_refused_naming_the_key(tmp_path, text, fragment):
    path = tmp_path / "alt.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_alternatives(path)
    assert fragment in str(err.value) and str(path) in str(err.value)


# --------------------------------------------------------------------------- command line refusals


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def test_sensitivity_bad_alternative_key_exits_65_before_any_fit(tmp_path, capsys, no_batch):
    alt = tmp_path / "alt.toml"
    alt.write_text("[x.identification]\nmodee = 'prior'\n", encoding="utf-8")
    code, err = _run(["sensitivity", CLAIMS_CSV, "--alternatives", alt, "--out", tmp_path / "out"], capsys)
    assert code == 65 and "unknown key 'identification.modee'" in err and "[x]" in err
    assert not (tmp_path / "out").exists()


def test_sensitivity_alternative_naming_an_unknown_reference_source_exits_65(tmp_path, capsys, no_batch):
    alt = tmp_path / "alt.toml"
    alt.write_text("[ref.identification]\nmode = 'reference'\nreference_sources = ['Nobody']\n", encoding="utf-8")
    code, err = _run(
        ["sensitivity", CLAIMS_CSV, "--config", KURSK_TOML, "--alternatives", alt, "--out", tmp_path / "o"], capsys
    )
    assert code == 65 and "Nobody" in err and "[ref]" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["loso", "{missing}", "--out", "{out}"],
        ["sensitivity", "{missing}", "--alternatives", str(SENSITIVITY_TOML), "--out", "{out}"],
        ["sensitivity", str(CLAIMS_CSV), "--alternatives", "{missing}", "--out", "{out}"],
        ["loso", str(CLAIMS_CSV), "--config", "{missing}", "--out", "{out}"],
        ["calibrate", "--simulations", "2", "--config", "{missing}", "--out", "{out}"],
        ["backtest", "{missing}", "--out", "{out}"],
        ["backtest", str(CLAIMS_CSV), "--config", "{missing}", "--out", "{out}"],
    ],
)
def test_missing_inputs_exit_66(tmp_path, capsys, no_batch, argv):
    argv = [a.format(missing=tmp_path / "nope.csv", out=tmp_path / "out") for a in argv]
    code, err = _run(argv, capsys)
    assert code == 66 and "nope.csv" in err


@pytest.mark.parametrize(
    "command",
    [
        ["calibrate", "--simulations", "2"],
        ["loso", str(CLAIMS_CSV)],
        ["sensitivity", str(CLAIMS_CSV), "--alternatives", str(SENSITIVITY_TOML)],
        ["backtest", str(CLAIMS_CSV)],
    ],
)
def test_unwritable_out_exits_73_before_any_fit(tmp_path, capsys, no_batch, command):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, err = _run([*command, "--out", blocker / "sub"], capsys)
    assert code == 73 and "cannot write" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["calibrate", "--simulations", "0", "--out", "x"],
        ["calibrate", "--simulations", "2", "--workers", "0", "--out", "x"],
        ["calibrate", "--out", "x"],
        ["loso", str(CLAIMS_CSV), "--by", "nation", "--out", "x"],
        ["calibrate", "--simulations", "2", "--sources", "1", "--out", "x"],
        ["backtest", str(CLAIMS_CSV), "--every", "weekly", "--out", "x"],
        ["backtest", str(CLAIMS_CSV), "--from", "2020-01-01", "--out", "x"],
    ],
)
def test_bad_usage_of_the_many_fit_commands_exits_2(tmp_path, capsys, no_batch, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        code = main(argv)
        raise SystemExit(code)
    assert exc.value.code == 2
    assert not (tmp_path / "x").exists()


def test_loso_bad_claims_exit_65(tmp_path, capsys, no_batch):
    bad = tmp_path / "bad.csv"
    bad.write_text(CLAIMS_CSV.read_text(encoding="utf-8").replace(",killed,", ",kiled,", 1), encoding="utf-8")
    code, err = _run(["loso", bad, "--out", tmp_path / "out"], capsys)
    assert code == 65 and "kiled" in err


def test_backtest_bad_claims_exit_65(tmp_path, capsys, no_batch):
    bad = tmp_path / "bad.csv"
    bad.write_text(CLAIMS_CSV.read_text(encoding="utf-8").replace(",killed,", ",kiled,", 1), encoding="utf-8")
    before = bad.read_bytes()
    code, err = _run(["backtest", bad, "--out", tmp_path / "out"], capsys)
    assert code == 65 and "kiled" in err
    assert bad.read_bytes() == before and not (tmp_path / "out" / "vintages.csv").exists()


# --------------------------------------------------------------------------- real runs (slow)


@pytest.mark.slow
def test_calibrate_two_simulations_end_to_end(tmp_path, capsys):
    out = tmp_path / "cal"
    argv = [
        "calibrate",
        "--simulations",
        "2",
        "--workers",
        "2",
        "--seed",
        "3",
        "--out",
        out,
        "--draws",
        "150",
        "--tune",
        "150",
        "--chains",
        "2",
        "--quiet",
    ]
    code, _ = _run(argv, capsys)
    assert code == 0
    cov = pd.read_csv(out / "calibration.csv")
    assert list(cov.columns[:4]) == ["quantity", "nominal", "coverage", "n"]
    assert {"casualties@end", "killed@50%", "wounded@25%", "all bias", "all cumulative"} <= set(cov["quantity"])
    assert cov["coverage"].between(0, 1).all() and (cov["n_simulations"] == 2).all()
    ranks = pd.read_csv(out / "calibration_ranks.csv")
    assert ranks["rank"].between(0, 199).all()
    summary = json.loads((out / "calibration.json").read_text())
    assert summary["n_simulations_fitted"] == 2 and "n_converged" in summary
    assert {p.name for p in (out / "plots").glob("*.png")} >= {"ranks_cumulative.png", "ranks_bias.png", "coverage.png"}
    # same seed, resumed: nothing refitted, same numbers
    before = (out / "calibration_ranks.csv").read_bytes()
    code, _ = _run(argv, capsys)
    assert code == 0 and (out / "calibration_ranks.csv").read_bytes() == before


@pytest.mark.slow
def test_loso_by_group_on_a_dask_local_cluster(tmp_path, capsys):
    """`reconcile loso --scheduler` on a LocalCluster: real fits of a small simulated war."""
    distributed = pytest.importorskip("distributed")
    from reconcile.simulation import simulate, write_simulation

    sim = simulate(seed=4, n_populations=1, n_days=120, n_claims=25, n_sources=4, n_groups=2)
    claims = tmp_path / "claims.csv"
    write_simulation(sim, claims, tmp_path / "truth.csv")
    out = tmp_path / "loso"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        code, err = _run(
            [
                "loso",
                claims,
                "--by",
                "group",
                "--out",
                out,
                "--scheduler",
                cluster.scheduler_address,
                "--draws",
                "150",
                "--tune",
                "150",
                "--chains",
                "2",
                "--quiet",
            ],
            capsys,
        )
    assert code == 0, err
    table = pd.read_csv(out / "loso.csv")
    assert set(table["left_out"]) == {REFERENCE, "grp_1", "grp_2"}
    ref = table[table["left_out"] == REFERENCE]
    assert np.allclose(ref["change_q50"], 0.0)
    assert (out / "plots" / "loso.png").stat().st_size > 1000
