"""What did we know, and when: claims as of a day, losses over a window, `reconcile query`."""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import CLAIMS_CSV, KURSK_TOML

from reconcile.claims import ClaimsError, read_claims


def test_as_of_keeps_the_claims_reported_by_that_day():
    claims = read_claims(CLAIMS_CSV)
    day = dt.date(2024, 12, 16)
    subset = claims.as_of(day)
    reported = claims.frame["reported_on"].dt.date
    assert len(subset) == int((reported <= day).sum()) < len(claims)
    assert (subset.frame["reported_on"].dt.date <= day).all()
    assert subset.sha256 == claims.sha256 and subset.path == claims.path  # the file's provenance
    assert claims.as_of("2024-12-16") == subset
    assert len(claims) == len(read_claims(CLAIMS_CSV))  # the caller's claims untouched
    assert len(claims.as_of("2099-01-01")) == len(claims)


def test_as_of_before_every_claim_is_refused_naming_the_first():
    claims = read_claims(CLAIMS_CSV)
    with pytest.raises(ClaimsError, match="the first is 2024-10-31"):
        claims.as_of("2020-01-01")


def test_a_relay_kept_without_its_later_original_counts_on_its_own():
    text = (
        "claim_id,population,category,source,reported_on,qualifier,value,quote,citation,period_start,derived_from\n"
        "relay,p,killed,A,2024-01-10,exact,100,100 killed,x,2024-01-01,orig\n"
        "orig,p,killed,B,2024-01-20,exact,100,100 killed,y,2024-01-01,\n"
    )
    import io

    claims = read_claims(io.StringIO(text))
    assert list(claims.frame["counted"]) == [False, True]
    early = claims.as_of("2024-01-15")
    assert list(early.frame["claim_id"]) == ["relay"] and bool(early.frame["counted"].iloc[0])


def test_losses_over_a_window_add_up(shipped_fit):
    est = shipped_fit.estimates()
    kursk = est[(est["population"] == "dprk_kursk") & (est["category"] == "casualties")]
    start, last = pd.Timestamp(kursk["date"].iloc[0]).date(), pd.Timestamp(kursk["date"].iloc[-1]).date()
    whole = shipped_fit.losses("dprk_kursk", "2000-01-01", last)
    assert np.median(whole.draws) == pytest.approx(float(kursk["q50"].iloc[-1]), rel=1e-6)
    middle = dt.date(2024, 12, 31)
    first = shipped_fit.losses("dprk_kursk", start, middle)
    second = shipped_fit.losses("dprk_kursk", middle + dt.timedelta(days=1), last)
    np.testing.assert_allclose(first.draws + second.draws, whole.draws, rtol=1e-9)
    assert (first.draws >= 0).all() and (second.draws >= 0).all()
    killed = shipped_fit.losses("dprk_kursk", start, middle, "killed").draws
    wounded = shipped_fit.losses("dprk_kursk", start, middle, "wounded").draws
    np.testing.assert_allclose(killed + wounded, first.draws, rtol=1e-9)
    row = first.summary()
    assert list(row.columns[:4]) == ["population", "category", "start", "end"]
    assert row["q05"].iloc[0] <= row["q50"].iloc[0] <= row["q95"].iloc[0]
    before = shipped_fit.losses("dprk_kursk", "2020-01-01", "2020-12-31")
    assert (before.draws == 0).all()  # before the population's start


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("nope", "2024-12-01", "2024-12-31"), "expected one of dprk_kursk"),
        (("dprk_kursk", "2024-12-31", "2024-12-01"), "before it starts"),
        (("dprk_kursk", "2024-12-01", "2030-01-01"), "after the last day estimated"),
        (("dprk_kursk", "soon", "2024-12-01"), "expected a date"),
    ],
)
def test_bad_windows_are_refused_with_the_reason(shipped_fit, args, fragment):
    with pytest.raises(ValueError, match=fragment):
        shipped_fit.losses(*args)


def test_query_command_prints_the_window_from_the_saved_fit(shipped_fit_dir, shipped_fit):
    CONSOLE_SCRIPT = Path(sys.executable).parent / "reconcile"

    done = subprocess.run(
        [
            str(CONSOLE_SCRIPT),
            "query",
            str(shipped_fit_dir),
            "--population",
            "dprk_kursk",
            "--from",
            "2024-12-01",
            "--to",
            "2024-12-31",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    median = np.median(shipped_fit.losses("dprk_kursk", "2024-12-01", "2024-12-31").draws)
    assert f"{median:,.0f}" in done.stdout
    bad = subprocess.run(
        [
            str(CONSOLE_SCRIPT),
            "query",
            str(shipped_fit_dir),
            "--population",
            "x",
            "--from",
            "2024-12-01",
            "--to",
            "2024-12-31",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and "expected one of" in bad.stderr and "Traceback" not in bad.stderr


def test_fit_as_of_uses_only_the_claims_known_then(monkeypatch, tmp_path, capsys, shipped_fit):
    """The command filters the claims and passes the date on (the fit itself is the shared one)."""
    import dataclasses

    from reconcile import cli, fitting
    from reconcile import outputs as outputs_module

    seen = {}

    def fake_fit(claims, config, **kwargs):
        seen["claims"], seen["as_of"] = claims, kwargs.get("as_of")
        return dataclasses.replace(shipped_fit, as_of=kwargs.get("as_of"))

    monkeypatch.setattr(fitting, "fit", fake_fit)
    monkeypatch.setattr(outputs_module, "_extras", lambda *a, **k: contextlib.nullcontext(lambda: None))
    code = cli.main(
        ["fit", str(CLAIMS_CSV), "--config", str(KURSK_TOML), "--out", str(tmp_path / "r"), "--as-of", "2024-12-16"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert seen["as_of"] == dt.date(2024, 12, 16)
    assert (seen["claims"].frame["reported_on"].dt.date <= dt.date(2024, 12, 16)).all()
    assert "As of 2024-12-16" in out
