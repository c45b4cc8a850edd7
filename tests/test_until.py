"""Estimates past the last claim: `fit(until=...)`, `reconcile fit --until`."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import CLAIMS_CSV, FIT_SEED, FIT_SETTINGS, KURSK_TOML

from reconcile.claims import read_claims
from reconcile.config import ConfigError, load_config
from reconcile.fitting import extend_until, last_claim_day, until_day


def test_until_reads_a_date_or_today():
    assert until_day("2025-03-01") == dt.date(2025, 3, 1)
    assert until_day(dt.date(2025, 3, 1)) == dt.date(2025, 3, 1)
    assert until_day(dt.datetime(2025, 3, 1, 12, 0)) == dt.date(2025, 3, 1)
    assert until_day("today") == until_day(" Today ") == dt.date.today()
    with pytest.raises(ValueError, match=r"expected a date YYYY-MM-DD or 'today', found '1st of May'"):
        until_day("1st of May")


def test_until_sets_the_end_and_refuses_a_day_the_claims_already_pass():
    claims, config = read_claims(CLAIMS_CSV), load_config(KURSK_TOML)
    last = last_claim_day(claims)
    assert last == max(claims.frame["reported_on"].max(), claims.frame["period_end"].max()).date()
    later = extend_until(config, claims, last + dt.timedelta(days=30))
    assert later.end == last + dt.timedelta(days=30) and config.end is None  # the caller's config untouched
    assert extend_until(config, claims, last).end == last
    with pytest.raises(ConfigError, match=rf"until 2024-01-01: before the last day the claims cover \({last}\)"):
        extend_until(config, claims, "2024-01-01")


def test_fit_command_passes_until_on_through_the_configuration(monkeypatch, tmp_path, capsys, shipped_fit):
    from reconcile import cli, fitting
    from reconcile import outputs as outputs_module

    seen = {}

    def fake_fit(claims, config, **kwargs):
        seen["end"], seen["until"] = config.end, kwargs.get("until")
        return dataclasses.replace(shipped_fit)

    monkeypatch.setattr(fitting, "fit", fake_fit)
    monkeypatch.setattr(outputs_module, "_extras", lambda *a, **k: contextlib.nullcontext(lambda: None))
    args = ["fit", str(CLAIMS_CSV), "--config", str(KURSK_TOML), "--out", str(tmp_path / "r"), "--quiet"]
    assert cli.main([*args, "--until", "2025-09-01"]) == 0
    assert seen == {"end": dt.date(2025, 9, 1), "until": None}


@pytest.mark.parametrize(
    "value, code, fragment",
    [
        ("next week", 2, "expected a date YYYY-MM-DD or 'today', found 'next week'"),
        ("2024-01-01", 2, "until 2024-01-01: before the last day the claims cover"),
    ],
)
def test_fit_command_refuses_a_bad_until(tmp_path, capsys, value, code, fragment):
    from reconcile import cli

    out = tmp_path / "r"
    try:
        got = cli.main(["fit", str(CLAIMS_CSV), "--out", str(out), "--until", value, "--quiet"])
    except SystemExit as exc:  # argparse's usage error
        got = exc.code
    err = capsys.readouterr().err
    assert got == code and fragment in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.slow
def test_estimates_past_the_last_claim_grow_and_widen(tmp_path):
    """A real fit carried 120 days past the shipped claims: every population is estimated to that
    day; in every draw the cumulative losses never fall after the last claim (so no estimate
    shrinks below what was reported by then); the 90% interval is wider at the horizon than at the
    last claim; the outputs say how far each population is extrapolated and shade it."""
    from reconcile import summary
    from reconcile.fitting import fit

    claims = read_claims(CLAIMS_CSV)
    until = last_claim_day(claims) + dt.timedelta(days=120)
    result = fit(claims, load_config(KURSK_TOML), seed=FIT_SEED, progress=False, until=until, **FIT_SETTINGS)
    ext = result.extrapolation().set_index("population")
    assert (ext["estimated_to"] == until).all() and (ext["days_past"] > 0).all()
    assert result.config.end == until

    points = result.inputs.estimates
    draws = summary.category_draws(result)["casualties"]
    for pop, row in ext.iterrows():
        mine = points[points["population"] == pop]
        dates = pd.to_datetime(mine["date"]).dt.date.to_numpy()
        cols = mine.index.to_numpy()
        past = cols[dates >= row["last_claim"]]
        at_last = cols[dates <= row["last_claim"]][-1]
        cum = draws[:, np.concatenate([[at_last], past])]
        assert (np.diff(cum, axis=1) >= -1e-6 * np.abs(cum[:, 1:])).all(), pop
        q_last, q_end = np.quantile(cum[:, 0], [0.05, 0.95]), np.quantile(cum[:, -1], [0.05, 0.95])
        assert q_end[1] - q_end[0] > q_last[1] - q_last[0], pop

    result.save(tmp_path / "r")
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "Estimated past the last claim" in page
    for line in summary.describe_extrapolation(result):
        assert line.split(":")[0] in page
    assert (tmp_path / "r" / "estimates.csv").read_text().count(until.isoformat()) >= 3
