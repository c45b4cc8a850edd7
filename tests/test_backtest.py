"""Backtests: as-of fits at vintages (`reconcile.backtest`, `reconcile backtest`)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from conftest import CLAIMS_CSV, KURSK_TOML

from reconcile import backtest as bt
from reconcile.claims import read_claims
from reconcile.config import load_config
from reconcile.forecast import FORECAST_COLUMNS, PREDICTED


def test_vintages_run_every_n_days_and_end_with_the_last_report():
    claims = read_claims(CLAIMS_CSV)
    reported = claims.frame["reported_on"].dt.date
    first, last = min(reported), max(reported)
    days = bt.vintage_dates(claims, 30)
    assert days[0] == first + dt.timedelta(days=30) and days[-1] == last
    assert all(b - a == dt.timedelta(days=30) for a, b in zip(days[:-2], days[1:-1]))
    assert days[-1] - days[-2] <= dt.timedelta(days=30)
    assert bt.vintage_dates(claims, 30, start=first)[0] == first
    assert bt.vintage_dates(claims, 10_000) == [last]
    with pytest.raises(ValueError, match="before the first claim was reported"):
        bt.vintage_dates(claims, 30, start="2020-01-01")
    with pytest.raises(ValueError, match="at least 1, found 0"):
        bt.vintage_dates(claims, 0)


def test_backtest_collects_every_vintage_into_one_table(monkeypatch, tmp_path):
    """The plumbing, with a stand-in for the fits: each vintage's rows land in vintages.csv with
    the vintage, a vintage with nothing to fit keeps one row saying so, the plot is written."""
    calls = []

    def fake_vintage_fit(*, seed, claims_csv, config_json, as_of, reference_dates):
        calls.append(as_of)
        if as_of == reference_dates[0]:
            return {"status": "not estimable: no loss figure yet", "rows": [], "converged": None}
        rows = [
            {
                "population": "p",
                "category": c,
                "date": d,
                "at_vintage": d == as_of,
                "q50": 10.0 * (i + 1),
                "q05": 5.0,
                "q95": 50.0,
                "q25": 8.0,
                "q75": 20.0,
            }
            for i, d in enumerate(r for r in reference_dates if r <= as_of)
            for c in ("killed", "wounded", "casualties")
        ]
        forecast = [
            {
                **dict.fromkeys(FORECAST_COLUMNS),
                "vintage": as_of,
                "claim_id": "later",
                "horizon": "0-30 days",
                "stance": "own",
                "pit": 0.4,
                "in_50": True,
                "in_90": True,
                "status": PREDICTED,
            }
        ]
        return {"status": "fitted", "rows": rows, "n_claims": 3, "converged": True, "forecast": forecast}

    monkeypatch.setattr(bt, "vintage_fit", fake_vintage_fit)
    claims = read_claims(CLAIMS_CSV)
    table = bt.backtest(claims, load_config(KURSK_TOML), every=60, out_dir=tmp_path / "b", workers=1, progress=False)
    days = [d.isoformat() for d in bt.vintage_dates(claims, 60)]
    assert calls == days
    assert list(table.columns) == bt.VINTAGE_COLUMNS
    written = pd.read_csv(tmp_path / "b" / "vintages.csv")
    assert list(written.columns) == bt.VINTAGE_COLUMNS and len(written) == len(table)
    first = written[written["vintage"] == days[0]]
    assert len(first) == 1 and first["status"].iloc[0] == "not estimable: no loss figure yet"
    last = written[(written["vintage"] == days[-1]) & (written["category"] == "casualties")]
    assert sorted(last["date"]) == days and last["at_vintage"].sum() == 1
    assert (tmp_path / "b" / "plots" / "vintages.png").stat().st_size > 0
    check = pd.read_csv(tmp_path / "b" / "forecast_check.csv")
    assert list(check.columns) == FORECAST_COLUMNS and list(check["vintage"]) == days[1:]
    coverage = pd.read_csv(tmp_path / "b" / "forecast_coverage.csv").set_index(["by", "group"])
    assert coverage.loc[("all", "all"), "n"] == len(days) - 1 and coverage.loc[("all", "all"), "coverage_90"] == 1
    # the stand-in's rows say nothing of running counts: the backtest marks them from the whole
    # file (the shipped data have none)
    assert not check["running_count"].any() and coverage.loc[("series", "other sources"), "n"] == len(days) - 1
    assert (tmp_path / "b" / "plots" / "forecast_check.png").stat().st_size > 0


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--every", "monthly"], "expected a number of days such as 30d or 30, found 'monthly'"),
        (["--every", "0d"], "expected a number of days such as 30d or 30, found '0d'"),
        (["--from", "2020-01-01"], "before the first claim was reported"),
    ],
)
def test_backtest_command_refuses_bad_vintages(tmp_path, capsys, args, fragment):
    from reconcile import cli

    out = tmp_path / "b"
    try:
        code = cli.main(["backtest", str(CLAIMS_CSV), "--out", str(out), "--quiet", *args])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and "Traceback" not in err
    assert not (out / "vintages.csv").exists()


@pytest.mark.slow
def test_backtest_of_the_shipped_data(tmp_path):
    """Real fits at each vintage of the shipped claims: each knows the claims reported by its day,
    estimates every population at that day, and the last sees every claim."""
    claims = read_claims(CLAIMS_CSV)
    table = bt.backtest(
        claims,
        load_config(KURSK_TOML),
        every=90,
        out_dir=tmp_path / "b",
        workers=1,
        progress=False,
        draws=200,
        tune=200,
        chains=2,
    )
    days = [d.isoformat() for d in bt.vintage_dates(claims, 90)]
    now = table[(table["at_vintage"] == True) & (table["category"] == "casualties")]  # noqa: E712
    assert sorted(set(now["vintage"])) == days
    reported = claims.frame["reported_on"].dt.date
    for d in days:
        known = int((reported <= dt.date.fromisoformat(d)).sum())
        assert set(table.loc[table["vintage"] == d, "n_claims"]) == {known}
        assert (now.loc[now["vintage"] == d, "date"] == d).all()
    assert (now["q05"] <= now["q50"]).all() and (now["q50"] <= now["q95"]).all()
    assert (tmp_path / "b" / "plots" / "vintages.png").is_file()
    # every loss claim reported after a vintage is predicted by it (or says why not)
    check = pd.read_csv(tmp_path / "b" / "forecast_check.csv")
    loss = claims.frame[claims.frame["category"].isin(["killed", "wounded", "casualties"])]
    for d in days:
        later = loss.loc[loss["reported_on"].dt.date > dt.date.fromisoformat(d), "claim_id"]
        assert set(check.loc[check["vintage"] == d, "claim_id"]) <= set(later)
    done = check[check["status"] == "predicted"]
    assert len(done) > 0 and done["pit"].between(0, 1).all()
    assert (done["pred_q05"] <= done["pred_q50"]).all() and (done["pred_q50"] <= done["pred_q95"]).all()
    assert (tmp_path / "b" / "plots" / "forecast_check.png").is_file()
    assert (tmp_path / "b" / "forecast_coverage.csv").is_file()


def test_vintage_and_forecast_plots_name_populations_and_horizons():
    from matplotlib.text import Text

    from reconcile.batch_plots import plot_forecast_check, plot_vintages

    table = pd.DataFrame(
        [
            {"vintage": v, "population": "p", "category": "casualties", "date": v, "at_vintage": True}
            | {"q50": 10.0, "q05": 5.0, "q95": 20.0, "q25": 8.0, "q75": 12.0}
            for v in ("2025-01-01", "2025-02-01")
        ]
    )
    fig = plot_vintages(table, name=lambda p: f"The {p} brigade")
    assert "The p brigade: cumulative casualties" in fig.axes[0].get_title(loc="left")
    check = pd.DataFrame(
        [
            {"horizon": h, "pit": 0.5, "in_50": True, "in_90": True, "status": PREDICTED}
            for h in ("0-30 days", "90+ days")
        ],
        columns=FORECAST_COLUMNS,
    )
    texts = " ".join(t.get_text() for t in plot_forecast_check(check).findobj(Text))
    assert "Percentiles of 2 predicted figures" in texts and "(n=0)" in texts and "90+ days" in texts
    assert "other sources" not in texts  # no running count: one set of markers per interval
    # with a running count, the other sources' figures are drawn apart too (hollow markers)
    check["running_count"] = [True, False]
    legend = plot_forecast_check(check).axes[1].get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == [
        "50% interval, every figure",
        "50% interval, other sources than running counts",
        "90% interval, every figure",
        "90% interval, other sources than running counts",
    ]
