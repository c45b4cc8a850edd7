"""What did we know, and when: as-of fits at regular vintages.

:func:`backtest` fits the claims as they stood at each vintage (every ``every`` days: only the
claims reported by then, the estimates carried to the vintage day) and sets side by side, for
each population and category, the estimate *at* each vintage and the estimate for each earlier
vintage's day as later vintages saw it: how the number for one day moved as claims arrived.
The fits run through :mod:`reconcile.batch` (local processes or a Dask cluster; resumable).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import tempfile
from pathlib import Path

import pandas as pd

from .config import Config, ConfigError, load_config

__all__ = ["backtest", "vintage_dates", "vintage_fit", "VINTAGE_COLUMNS"]

VINTAGE_COLUMNS = [
    "vintage",
    "population",
    "category",
    "date",
    "at_vintage",
    "q50",
    "q05",
    "q95",
    "q25",
    "q75",
    "n_claims",
    "converged",
    "status",
]


def vintage_dates(claims, every: int, start: dt.date | str | None = None) -> list[dt.date]:
    """The vintages: every ``every`` days from ``start`` (default: ``every`` days after the first
    claim was reported) up to the last report, which is always the last vintage."""
    if every < 1:
        raise ValueError(f"every: expected a whole number of days of at least 1, found {every}")
    reported = pd.to_datetime(claims.frame["reported_on"]).dt.date
    first, last = min(reported), max(reported)
    if start is None:
        day = first + dt.timedelta(days=every)
    else:
        day = start if isinstance(start, dt.date) else dt.date.fromisoformat(str(start))
        if day < first:
            raise ValueError(f"from {day}: before the first claim was reported ({first}); no claim was known then")
    out = []
    while day < last:
        out.append(day)
        day += dt.timedelta(days=every)
    return [*out, last]


def vintage_fit(*, seed: int, claims_csv: str, config_json: str, as_of: str, reference_dates: list[str]) -> dict:
    """One vintage (a batch job: plain data in, JSON-able dict out): fit the claims reported by
    ``as_of``, carried to the last day any claim of the file covers, and return each population's
    cumulative losses at ``as_of`` and at each of ``reference_dates`` up to it (``rows``), and the
    fit's prediction of every loss claim reported after ``as_of`` (``forecast``:
    :func:`reconcile.forecast.forecast_rows`)."""
    from .claims import ClaimsError, read_claims
    from .config import config_from_json
    from .errors import ModelDataError
    from .fitting import fit, last_claim_day
    from .forecast import forecast_rows
    from .model import CATEGORIES, prepare

    day = dt.date.fromisoformat(as_of)
    config = config_from_json(config_json)
    try:
        every_claim = read_claims(io.StringIO(claims_csv))
        claims = every_claim.as_of(day)
        known_to = max(day, last_claim_day(claims))  # how far the vintage's own claims reach
        # carried on to the last day of the file, so that it predicts every claim still to come
        until = max(known_to, last_claim_day(every_claim))
        result = fit(claims, config, seed=seed, progress=False, until=until)
    except (ClaimsError, ModelDataError, ConfigError) as exc:  # no claim yet, or no loss figure to fit
        return {"status": f"not estimable: {str(exc).splitlines()[0]}", "rows": [], "converged": None}
    rows = []
    days = sorted({day, *(dt.date.fromisoformat(r) for r in reference_dates)})
    for pop in result.inputs.populations:
        start = result.inputs.grid.starts[pop]
        for when in days:
            if when < start or when > known_to:
                continue
            for category in CATEGORIES:
                summary = result.losses(pop, start, when, category).summary().iloc[0]
                rows.append(
                    {
                        "population": pop,
                        "category": category,
                        "date": when.isoformat(),
                        "at_vintage": when == day,
                        **{q: float(summary[q]) for q in ("q50", "q05", "q95", "q25", "q75")},
                    }
                )
    return {
        "status": "fitted",
        "rows": rows,
        "forecast": forecast_rows(result, prepare(every_claim, config), config, day, seed),
        "n_claims": len(claims),
        "converged": bool(result.diagnostics.converged),
        "diagnostics": json.loads(result.diagnostics.to_json()),
    }


def backtest(
    claims,
    config: Config | None = None,
    *,
    every: int = 30,
    start: dt.date | str | None = None,
    out_dir=None,
    seed: int = 1,
    workers: int | None = None,
    scheduler: str | None = None,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """As-of fits every ``every`` days (see :func:`vintage_dates`), in parallel and resumable.

    Returns (and writes to ``out_dir/vintages.csv``, with ``out_dir/plots/vintages.png``) one row
    per vintage, population, category and day: the cumulative losses at the vintage's own day
    (``at_vintage``) and at every earlier vintage's day as this vintage saw it, with the number of
    claims the vintage knew and whether its fit converged. A vintage with no loss figure yet is
    one row whose ``status`` says so. ``out_dir`` also keeps each finished fit (``jobs/``), so a
    rerun fits only what is missing; by default a temporary directory is used.
    """
    from ._io import staged_directory
    from ._io import table_csv as _csv
    from .batch import Job, run_jobs
    from .batch_plots import save_forecast_plot, save_vintage_plot
    from .forecast import FORECAST_COLUMNS, PREDICTED, forecast_coverage, running_counts
    from .model import prepare

    config = (config if config is not None else load_config()).with_sampler(draws=draws, tune=tune, chains=chains)
    full = prepare(claims, config)  # refuse bad data/configuration before any fit
    days = vintage_dates(claims, every, start)
    common = {"claims_csv": claims.to_csv_text(), "config_json": config.to_json()}
    iso = [d.isoformat() for d in days]
    jobs = [Job(f"vintage {d}", vintage_fit, {**common, "as_of": d, "reference_dates": iso}) for d in iso]
    if out_dir is None:
        out_dir = tempfile.mkdtemp(prefix="reconcile-backtest-")
    batch = run_jobs(
        jobs, out_dir, root_seed=seed, workers=workers, scheduler=scheduler, progress=progress, description="vintages"
    )
    frames, predictions = [], []
    for d in iso:
        key = f"vintage {d}"
        res = batch.results.get(key)
        if res is None:
            status, rows, n, converged = f"failed: {batch.failures.get(key, 'unknown error')}", [], None, None
        else:
            status, rows, n, converged = res["status"], res["rows"], res.get("n_claims"), res.get("converged")
            predictions += res.get("forecast", [])
        frame = pd.DataFrame(rows) if rows else pd.DataFrame([{}])
        frame.insert(0, "vintage", d)
        frame["n_claims"], frame["converged"], frame["status"] = n, converged, status
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    for column in VINTAGE_COLUMNS:
        if column not in table:
            table[column] = None
    table = table[VINTAGE_COLUMNS]
    check = pd.DataFrame(predictions, columns=FORECAST_COLUMNS)
    # from the whole file, here too: a resumed backtest's earlier fits may predate the column
    check["running_count"] = running_counts(check, full)
    coverage = forecast_coverage(check)
    with staged_directory(out_dir, kind="vintages") as staging:
        (staging / "vintages.csv").write_text(_csv(table), encoding="utf-8")
        (staging / "forecast_check.csv").write_text(_csv(check), encoding="utf-8")
        (staging / "forecast_coverage.csv").write_text(_csv(coverage), encoding="utf-8")
        if table["q50"].notna().any():
            save_vintage_plot(table, staging / "plots" / "vintages.png", name=config.population_label)
        if (check["status"] == PREDICTED).any():
            save_forecast_plot(check, staging / "plots" / "forecast_check.png")
    table.attrs["forecast_check"] = check
    table.attrs["forecast_coverage"] = coverage
    table.attrs["failures"] = dict(batch.failures)
    table.attrs["out_dir"] = str(Path(out_dir))
    return table
