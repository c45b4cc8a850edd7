"""The forecast check of backtests (`reconcile.forecast`): a fit's prediction of claims it has not
seen, checked against the model's own likelihood on claims it has."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import CLAIMS_CSV, KURSK_TOML

from reconcile.claims import read_claims
from reconcile.config import load_config
from reconcile.forecast import (
    COVERAGE_COLUMNS,
    FORECAST_COLUMNS,
    PREDICTED,
    Predictor,
    forecast_coverage,
    forecast_rows,
    horizon_of,
    running_counts,
)
from reconcile.model import ROLE_LOSS, observation_terms, prepare


def test_horizons_split_at_30_and_90_days():
    assert [horizon_of(d) for d in (0, 1, 29, 30, 89, 90, 1000)] == [
        "0-30 days",
        "0-30 days",
        "0-30 days",
        "30-90 days",
        "30-90 days",
        "90+ days",
        "90+ days",
    ]
    with pytest.raises(ValueError, match="at least 0, found -1"):
        horizon_of(-1)


def test_coverage_pools_predicted_rows_by_horizon_and_stance():
    rows = [
        {"horizon": "0-30 days", "stance": "own", "pit": 0.5, "in_50": True, "in_90": True, "status": PREDICTED},
        {"horizon": "0-30 days", "stance": "adversary", "pit": 0.9, "in_50": False, "in_90": True, "status": PREDICTED},
        {"horizon": "90+ days", "stance": "own", "pit": 0.99, "in_50": False, "in_90": False, "status": PREDICTED},
        {"horizon": "90+ days", "stance": "own", "status": "population not estimated at this vintage"},
    ]
    cov = forecast_coverage(pd.DataFrame(rows, columns=FORECAST_COLUMNS)).set_index(["by", "group"])
    assert list(cov.reset_index().columns) == COVERAGE_COLUMNS
    assert cov.loc[("all", "all"), "n"] == 3
    assert cov.loc[("all", "all"), "coverage_90"] == pytest.approx(2 / 3)
    assert cov.loc[("horizon", "0-30 days"), "coverage_50"] == pytest.approx(0.5)
    assert cov.loc[("horizon", "30-90 days"), "n"] == 0 and np.isnan(cov.loc[("horizon", "30-90 days"), "coverage_90"])
    assert cov.loc[("stance", "own"), "n"] == 2
    assert cov.loc[("stance", "own"), "mean_pit"] == pytest.approx(0.745)


def test_coverage_pools_running_counts_apart():
    """A running count's figures are pooled apart from the other sources' (and the others by
    horizon); a row whose ``running_count`` is unknown (read back from a CSV as text, or missing)
    counts in neither group, and in the pools by horizon and stance as before."""
    base = {"stance": "adversary", "status": PREDICTED}
    rows = [
        {**base, "horizon": "0-30 days", "pit": 0.99, "in_50": False, "in_90": False, "running_count": True},
        {**base, "horizon": "0-30 days", "pit": 0.5, "in_50": True, "in_90": True, "running_count": "False"},
        {**base, "horizon": "90+ days", "pit": 0.97, "in_50": False, "in_90": False, "running_count": False},
        {**base, "horizon": "90+ days", "pit": 0.6, "in_50": True, "in_90": True, "running_count": None},
    ]
    cov = forecast_coverage(pd.DataFrame(rows, columns=FORECAST_COLUMNS)).set_index(["by", "group"])
    assert cov.loc[("all", "all"), "n"] == 4 and cov.loc[("horizon", "90+ days"), "n"] == 2
    assert cov.loc[("series", "running counts"), "n"] == 1
    assert cov.loc[("series", "running counts"), "coverage_90"] == 0.0
    assert cov.loc[("series", "other sources"), "n"] == 2
    assert cov.loc[("series", "other sources"), "coverage_90"] == pytest.approx(0.5)
    assert cov.loc[("horizon, other sources", "0-30 days"), "coverage_50"] == 1.0
    assert cov.loc[("horizon, other sources", "90+ days"), "coverage_90"] == 0.0
    assert cov.loc[("horizon, other sources", "30-90 days"), "n"] == 0
    # a table without the column at all (an older forecast_check.csv): no running count known
    older = forecast_coverage(pd.DataFrame(rows).drop(columns="running_count")).set_index(["by", "group"])
    assert older.loc[("series", "running counts"), "n"] == 0 and older.loc[("series", "other sources"), "n"] == 0
    assert older.loc[("all", "all"), "n"] == 4


def test_backtest_summary_names_running_counts_apart_only_where_there_are_some():
    from reconcile.cli import coverage_lines

    base = {"stance": "adversary", "status": PREDICTED, "horizon": "0-30 days"}
    tally = {**base, "pit": 0.5, "in_50": True, "in_90": True, "running_count": True}
    other = {**base, "pit": 0.99, "in_50": False, "in_90": False, "running_count": False}
    lines = coverage_lines(forecast_coverage(pd.DataFrame([tally, tally, tally, other], columns=FORECAST_COLUMNS)))
    assert lines[0].startswith("Later claims: 4 predicted, 75% inside the 50% predictive interval, 75% inside the 90%")
    assert (
        lines[1].startswith("  reported 0-30 days after: 4 predicted")
        and lines[2] == "  reported 30-90 days after: none"
    )
    assert lines[4].startswith(
        "  of them, running counts' figures (their errors persist: few independent checks): 3 predicted"
    )
    assert lines[5].startswith("  of them, the other sources' figures: 1 predicted, 0% inside the 50%")
    plain = coverage_lines(forecast_coverage(pd.DataFrame([other], columns=FORECAST_COLUMNS)))
    assert len(plain) == 4 and not any("running counts" in x for x in plain)


def test_running_counts_are_the_drifting_series_of_the_whole_file(tmp_path):
    """The running counts are the drifting series of the whole file (``ministry-500``: its
    ministry's daily tally), and no other (source, population) of it."""
    from reconcile.worlds import make_world, write_world

    write_world(make_world("ministry-500", seed=0), tmp_path / "claims.csv", tmp_path / "truth.csv")
    claims = read_claims(tmp_path / "claims.csv")
    full = prepare(claims, load_config())
    series = set(zip(full.drift.series["source"], full.drift.series["population"]))
    assert series  # the world has a running count
    table = claims.frame[["source", "population"]].drop_duplicates().reset_index(drop=True)
    marked = running_counts(table, full)
    assert marked.dtype == bool and marked.any() and not marked.all()
    assert {pair for pair, m in zip(zip(table["source"], table["population"]), marked) if m} == series


def test_predictor_is_the_likelihood_on_the_claims_the_fit_has_seen(shipped_fit):
    """Each claim's location and scale, per draw, from the step rates and the source's bias and
    noise: exactly what the model's likelihood uses (observation_terms)."""
    config = load_config(KURSK_TOML)
    d = shipped_fit.inputs
    predictor = Predictor(shipped_fit, d, config, np.random.default_rng(0))
    post = shipped_fit.idata.posterior
    terms = [observation_terms(post, d, config, c) for c in range(post.sizes["chain"])]
    mu = np.concatenate([t[0] for t in terms])
    sigma = np.concatenate([t[1] for t in terms])
    rows = d.claims[d.claims["role"] == ROLE_LOSS].reset_index(drop=True)
    assert len(rows) == mu.shape[1] > 0
    for i in range(len(rows)):
        m, s = predictor.terms(i, rows.iloc[i])
        np.testing.assert_allclose(m, mu[:, i], rtol=0, atol=1e-9)
        np.testing.assert_allclose(s, sigma[:, i], rtol=1e-12)


def _with_later_claims(tmp_path):
    """The shipped claims with three later ones: a known source, a new source and a population
    the fit does not estimate."""
    text = CLAIMS_CSV.read_text(encoding="utf-8").rstrip("\n")
    header = [line for line in text.splitlines() if not line.startswith("#")][0].split(",")

    def row(**values):
        base = dict.fromkeys(header, "")
        base.update(values)
        return ",".join(base[c] for c in header)

    common = dict(category="casualties", measure="total", qualifier="about", language="en", citation="test")
    extra = [
        row(
            claim_id="later-known",
            population="dprk_kursk",
            source="UK Ministry of Defence",
            source_group="uk_government",
            stance="adversary",
            reported_on="2025-07-20",
            period_end="2025-06-10",
            value="5000",
            phrase="about 5000",
            quote="about 5000",
            **common,
        ),
        row(
            claim_id="later-new-source",
            population="dprk_kursk",
            source="A new observer",
            source_group="new_observers",
            stance="neutral",
            reported_on="2025-07-21",
            period_end="2025-06-10",
            value="4000",
            phrase="about 4000",
            quote="about 4000",
            **common,
        ),
        row(
            claim_id="later-new-population",
            population="somewhere_else",
            source="A new observer",
            source_group="new_observers",
            stance="neutral",
            reported_on="2025-07-22",
            period_start="2025-06-01",
            period_end="2025-06-10",
            value="40",
            phrase="about 40",
            quote="about 40",
            **common,
        ),
    ]
    path = tmp_path / "claims.csv"
    path.write_text(text + "\n" + "\n".join(extra) + "\n", encoding="utf-8")
    return read_claims(path)


def test_forecast_rows_predict_every_later_claim(shipped_fit, tmp_path):
    config = load_config(KURSK_TOML)
    full = prepare(_with_later_claims(tmp_path), config)
    day = dt.date(2025, 7, 1)
    rows = pd.DataFrame(forecast_rows(shipped_fit, full, config, day, seed=3), columns=FORECAST_COLUMNS)
    assert list(rows["claim_id"]) == ["later-known", "later-new-source", "later-new-population"]
    by_id = rows.set_index("claim_id")
    assert by_id.loc["later-known", "known_source"] and not by_id.loc["later-new-source", "known_source"]
    assert not rows["running_count"].any()  # the shipped data have no running count
    assert by_id.loc["later-new-population", "status"] == "population not estimated at this vintage"
    assert np.isnan(by_id.loc["later-new-population", "pit"])
    done = rows[rows["status"] == PREDICTED]
    assert len(done) == 2
    assert list(done["horizon_days"]) == [19, 20] and set(done["horizon"]) == {"0-30 days"}
    assert (done["kind"] == "point").all()
    quantiles = done[["pred_q05", "pred_q25", "pred_q50", "pred_q75", "pred_q95"]].to_numpy(dtype=float)
    assert (np.diff(quantiles, axis=1) > 0).all() and (quantiles > 0).all()
    assert done["pit"].between(0, 1).all()
    assert (done["in_90"] == done["pit"].between(0.05, 0.95)).all()
    assert (done["in_50"] == done["pit"].between(0.25, 0.75)).all()
    # the same seed gives the same table
    again = pd.DataFrame(forecast_rows(shipped_fit, full, config, day, seed=3), columns=FORECAST_COLUMNS)
    pd.testing.assert_frame_equal(rows, again)


def test_no_later_claim_no_rows(shipped_fit):
    config = load_config(KURSK_TOML)
    assert forecast_rows(shipped_fit, shipped_fit.inputs, config, dt.date(2030, 1, 1), seed=1) == []
