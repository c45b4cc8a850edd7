"""How much does the answer depend on one source, or on one assumption? Refits, in parallel.

* :func:`leave_one_source_out`: refit without each source (or each source group) and show how
  the headline estimates (final cumulative casualties, killed and wounded per population) move.
* :func:`sensitivity`: refit under alternative configurations listed in a TOML file (one table
  per alternative, each a partial configuration merged over the base one) and set the headline
  estimates side by side.

Both run their fits through :mod:`reconcile.batch` (local processes or a Dask cluster; resumable)
and write a tidy CSV and a figure. The reference fit (all claims, base configuration) is one of
the jobs, so every row can be compared with it.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from .config import Config, ConfigError, load_config, read_toml

__all__ = ["leave_one_source_out", "sensitivity", "load_alternatives", "refit", "REFERENCE"]

REFERENCE = "(none: all claims)"
BASE = "(base configuration)"
TABLE_COLUMNS = [
    "population",
    "category",
    "date",
    "q05",
    "q50",
    "q95",
    "reference_q05",
    "reference_q50",
    "reference_q95",
    "change_q50",
    "converged",
    "status",
]


# --------------------------------------------------------------------------- one refit (worker)


def _without(claims, by: str, value: str):
    """The claims without those of ``by`` == ``value`` (and without relays of them)."""
    from .claims import claims_from_frame

    frame = claims.frame
    dropped = set(frame.loc[frame[by] == value, "claim_id"])
    while True:  # a relay of a dropped claim repeats the left-out source: it goes too
        more = set(frame.loc[frame["derived_from"].isin(dropped), "claim_id"]) - dropped
        if not more:
            break
        dropped |= more
    raw = pd.read_csv(io.StringIO(claims.to_csv_text()), dtype=str, keep_default_na=False)
    return claims_from_frame(raw[~raw["claim_id"].isin(dropped)].reset_index(drop=True)), len(dropped)


def refit(*, seed: int, claims_csv: str, config_json: str, by: str | None = None, leave_out: str | None = None) -> dict:
    """Fit ``claims_csv`` under ``config_json`` (optionally without the claims of one source or
    group) and return the headline estimates. A batch job: plain data in, JSON-able dict out."""
    from .claims import read_claims
    from .config import config_from_json
    from .errors import ModelDataError
    from .fitting import fit

    claims = read_claims(io.StringIO(claims_csv))
    config = config_from_json(config_json)
    n_dropped = 0
    if leave_out is not None:
        claims, n_dropped = _without(claims, by or "source", leave_out)
    try:
        result = fit(claims, config, seed=seed, progress=False)
    except (ModelDataError, ConfigError) as exc:  # e.g. no loss claim left, or the reference source left out
        return {"status": f"not estimable: {exc}", "rows": [], "n_dropped": n_dropped, "converged": None}
    head = result.headline()
    return {
        "status": "fitted",
        "rows": head[["population", "category", "date", "mean", "q05", "q25", "q50", "q75", "q95"]].to_dict("records"),
        "n_dropped": n_dropped,
        "n_claims": len(claims),
        "converged": bool(result.diagnostics.converged),
        "diagnostics": json.loads(result.diagnostics.to_json()),
    }


# --------------------------------------------------------------------------- many refits (parent)


def _table(results: Mapping[str, dict], labels: Mapping[str, str], column: str, reference_key: str) -> pd.DataFrame:
    """Tidy table: one row per refit x population x category, with the reference fit's figures."""
    ref = results.get(reference_key)
    ref_rows = pd.DataFrame(ref["rows"]) if ref and ref["rows"] else pd.DataFrame(columns=["population", "category"])
    ref_rows = ref_rows.set_index(["population", "category"]) if len(ref_rows) else ref_rows
    frames = []
    for key, label in labels.items():
        res = results.get(key)
        if res is None:
            status, rows, converged = "failed (see the error above; rerun to retry)", [], None
        else:
            status, rows, converged = res["status"], res["rows"], res.get("converged")
        if not rows:
            frames.append(pd.DataFrame([{column: label, "status": status, "converged": converged}]))
            continue
        f = pd.DataFrame(rows).drop(columns=["mean", "q25", "q75"], errors="ignore")
        f.insert(0, column, label)
        f["converged"], f["status"] = converged, status
        if len(ref_rows):
            joined = ref_rows.reindex(list(zip(f["population"], f["category"])))
            for q in ("q05", "q50", "q95"):
                f[f"reference_{q}"] = joined[q].to_numpy()
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    for col in TABLE_COLUMNS:
        if col not in out:
            out[col] = np.nan
    out["change_q50"] = out["q50"] / out["reference_q50"] - 1.0
    out["reference"] = out[column] == labels[reference_key]
    return out[[column, *TABLE_COLUMNS, "reference"]]


def _run(
    jobs, labels, column, out_dir, *, seed, workers, scheduler, progress, description, csv_name, plot_title, name=str
):
    from ._io import staged_directory
    from ._io import table_csv as _csv
    from .batch import run_jobs
    from .batch_plots import save_refit_plot

    if out_dir is None:
        out_dir = tempfile.mkdtemp(prefix="reconcile-refits-")
    batch = run_jobs(
        jobs, out_dir, root_seed=seed, workers=workers, scheduler=scheduler, progress=progress, description=description
    )
    table = _table(batch.results, labels, column, jobs[0].key)
    for key, message in batch.failures.items():
        table.loc[table[column] == labels[key], "status"] = f"failed: {message}"
    with staged_directory(out_dir, kind=csv_name.removesuffix(".csv")) as staging:
        (staging / csv_name).write_text(_csv(table), encoding="utf-8")
        plotted = table.dropna(subset=["q50"])
        if len(plotted):
            save_refit_plot(
                plotted,
                staging / "plots" / csv_name.replace(".csv", ".png"),
                by=column,
                title=plot_title,
                name=name,
            )
    table.attrs["failures"] = dict(batch.failures)
    table.attrs["out_dir"] = str(out_dir)
    return table


def leave_one_source_out(
    claims,
    config: Config | None = None,
    *,
    by: str = "source",
    out_dir=None,
    seed: int = 1,
    workers: int | None = None,
    scheduler: str | None = None,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Refit without each source (``by="source"``) or each source group (``by="source_group"``).

    Returns (and writes to ``out_dir/loso.csv``, with ``out_dir/plots/loso.png``) the headline
    estimates of every refit, the reference fit's, and ``change_q50`` (median relative to the
    reference fit's, minus 1). ``out_dir`` also keeps each finished refit (``jobs/``), so a rerun
    resumes; by default a temporary directory is used.
    """
    from .batch import Job
    from .model import ROLE_BOUND, ROLE_LOSS, prepare

    if by not in ("source", "source_group"):
        raise ValueError(f"by must be 'source' or 'source_group', got {by!r}")
    config = (config if config is not None else load_config()).with_sampler(draws=draws, tune=tune, chains=chains)
    inputs = prepare(claims, config)  # refuse bad data/configuration before any fit
    counted = inputs.claims[inputs.claims["role"].isin([ROLE_LOSS, ROLE_BOUND])]
    values = sorted(counted[by].unique())
    common = {"claims_csv": claims.to_csv_text(), "config_json": config.to_json()}
    jobs = [Job("reference", refit, common)]
    jobs += [Job(f"without {by} {v}", refit, {**common, "by": by, "leave_out": v}) for v in values]
    labels = {"reference": REFERENCE, **{f"without {by} {v}": v for v in values}}
    return _run(
        jobs,
        labels,
        "left_out",
        out_dir,
        seed=seed,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        description="leave-one-out fits",
        csv_name="loso.csv",
        plot_title=f"Leaving out one {by.replace('_', ' ')} at a time (grey: all claims)",
        name=config.population_label,
    )


def load_alternatives(source, base: Config | None = None) -> dict[str, Config]:
    """Alternative configurations from a TOML file (or a mapping): one table per alternative,
    each a partial configuration merged over ``base``. Unknown keys are refused, naming them."""
    base = base if base is not None else load_config()
    where = ""
    if isinstance(source, Mapping):
        data = dict(source)
    else:
        path = Path(source)
        where = f"{path}: "
        try:
            data = read_toml(path)
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: no such alternatives file") from None
    if not data:
        raise ConfigError(f"{where}no alternative: expected one table per alternative, e.g. [prior_only]")
    out = {}
    for name, table in data.items():
        if not isinstance(table, Mapping):
            raise ConfigError(
                f"{where}alternative '{name}': expected a table of configuration sections, found {table!r}"
            )
        try:
            out[name] = base.replace(**table)
        except ConfigError as exc:
            raise ConfigError(f"{where}alternative [{name}]: {exc}") from None
    return out


def sensitivity(
    claims,
    alternatives,
    config: Config | None = None,
    *,
    out_dir=None,
    seed: int = 1,
    workers: int | None = None,
    scheduler: str | None = None,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Refit under each alternative configuration (a TOML path, a mapping of partial
    configurations, or a mapping of :class:`Config`) and set the headline estimates side by side
    (``out_dir/sensitivity.csv``, ``out_dir/plots/sensitivity.png``)."""
    from .batch import Job
    from .model import prepare

    base = config if config is not None else load_config()
    if isinstance(alternatives, Mapping) and alternatives and all(isinstance(v, Config) for v in alternatives.values()):
        alts = dict(alternatives)
    else:
        alts = load_alternatives(alternatives, base)
    if BASE in alts:
        raise ConfigError(f"an alternative may not be called {BASE!r}")
    configs = {
        BASE: base.with_sampler(draws=draws, tune=tune, chains=chains),
        **{k: v.with_sampler(draws=draws, tune=tune, chains=chains) for k, v in alts.items()},
    }
    for name, cfg in configs.items():  # every alternative must suit the claims before any fit
        try:
            prepare(claims, cfg)
        except ConfigError as exc:
            raise ConfigError(f"alternative [{name}]: {exc}") from None
    csv_text = claims.to_csv_text()
    jobs = [
        Job(f"alternative {name}", refit, {"claims_csv": csv_text, "config_json": cfg.to_json()})
        for name, cfg in configs.items()
    ]
    labels = {f"alternative {name}": name for name in configs}
    return _run(
        jobs,
        labels,
        "alternative",
        out_dir,
        seed=seed,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        description="sensitivity fits",
        csv_name="sensitivity.csv",
        plot_title="Headline estimates under alternative configurations (grey: base)",
        name=base.population_label,
    )
