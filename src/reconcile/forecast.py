"""Did a fit predict what was said next? The forecast check of a backtest.

A vintage's fit knows only the claims reported by its day. Every loss claim reported *after* it
is a prediction it can be checked on, with no truth needed: the fit's posterior predictive
distribution of the figure that claim's source would state (the true losses over the claim's
window and category, times the source's bias, with its noise and the chance of a wild figure,
as the model's likelihood has it) and where the stated figure falls in it (its percentile, the
probability integral transform or PIT). If the fit's uncertainty is honest, the later figures'
PITs are uniform and the 50% and 90% predictive intervals hold about half and nine tenths of
them, at every horizon.

What a vintage does not know, it draws from what the model says about the unknown:

- a source it has not heard from (or a known source with a new stance): its log bias is its
  stance's effect (estimated, pinned, or drawn from its prior if no claim had that stance yet)
  plus a source effect drawn with the spread of a new group's source (``group_sd`` and
  ``source_sd`` combined: a little wider than a known group's, on the safe side); its noise
  scale is drawn from the pool (typical scale, group and source spreads);
- a running series (drifting bias) reported past its last knot: the walk goes on from there with
  its prior scale, so the predictive widens with the horizon.

A figure of a running count (``running_count``: its source's count of that population is one
series with a drifting bias in the whole claims file) is predicted through the series' drift
and noise; its errors persist from one update to the next, so a backtest's hundreds of tally
figures are a few independent checks at most, and ``forecast_coverage`` pools them apart from
the other sources' figures as well as with them.

A later claim about a population the vintage does not estimate yet is listed with a status and
no percentile. Figures given as a range or a bound get a randomised PIT (uniform between the
predictive's distribution function at the two ends), which is uniform under a correct predictive
as a point's is; ``kind`` says which a row is.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

__all__ = [
    "Predictor",
    "FORECAST_COLUMNS",
    "COVERAGE_COLUMNS",
    "HORIZONS",
    "forecast_rows",
    "forecast_coverage",
    "horizon_of",
    "running_counts",
    "running_count_marks",
    "RUNNING_COUNTS",
    "OTHER_SOURCES",
]

FORECAST_COLUMNS = [
    "vintage",
    "claim_id",
    "population",
    "category",
    "source",
    "stance",
    "reported_on",
    "horizon_days",
    "horizon",
    "kind",
    "stated_low",
    "stated_high",
    "pred_q05",
    "pred_q25",
    "pred_q50",
    "pred_q75",
    "pred_q95",
    "pit",
    "in_50",
    "in_90",
    "known_source",
    "running_count",
    "status",
]
COVERAGE_COLUMNS = ["by", "group", "n", "coverage_50", "coverage_90", "mean_pit"]
# (first day, last day + 1, label) of each horizon: how many days after the vintage a claim came
HORIZONS = ((0, 30, "0-30 days"), (30, 90, "30-90 days"), (90, math.inf, "90+ days"))
PREDICTED = "predicted"
RUNNING_COUNTS, OTHER_SOURCES = "running counts", "other sources"


def horizon_of(days: int) -> str:
    """The horizon label of a claim reported ``days`` days after the vintage."""
    for first, end, label in HORIZONS:
        if first <= days < end:
            return label
    raise ValueError(f"horizon: expected a number of days of at least 0, found {days}")


def _kind(lo: float, hi: float) -> str:
    from .model.inputs import LOG_CEIL, LOG_FLOOR

    if lo == hi:
        return "point"
    if hi >= LOG_CEIL:
        return "lower bound"
    if lo <= LOG_FLOOR:
        return "upper bound"
    return "range"


class Predictor:
    """The figure a fit expects a claim's source to state: for claim ``i`` of ``full`` (the
    :class:`~reconcile.model.ModelInputs` of every claim, the fit's own or a later file's), the
    location and scale of its log figure at each posterior draw of ``result``, as the model's
    likelihood has them (:func:`reconcile.model.claim_location_scale`), with what the fit does not
    know drawn from what the model says about it (see the module's docstring)."""

    def __init__(self, result, full, config, rng: np.random.Generator):
        from .model import claim_noise_floor, free_stance_effects, stance_priors
        from .summary import _draws, step_totals

        d, pr, post = result.inputs, config.priors, result.idata.posterior
        self.result, self.full, self.config, self.rng = result, full, config, rng
        # each category's daily rate per step and running totals: any period's losses, exactly
        totals = step_totals(result)
        if totals is None:
            raise ValueError("the fit's posterior lacks the step rates (step_rate): refit with this version")
        self.totals = totals
        self.n = totals["casualties"][0].shape[0]
        src = d.sources
        self.pair_of = {(s, st): k for k, (s, st) in enumerate(zip(src["source"], src["stance"]))}
        self.source_of = dict(zip(src["source"], src["source_index"]))
        self.log_bias = np.log(_draws(post["bias"]))
        self.noise_sd = _draws(post["noise_sd"])
        self.free = free_stance_effects(d, config)
        self.stance_z = _draws(post["stance_z"]) if self.free else np.zeros((self.n, 0))
        self.stance_prior = stance_priors(config)
        ident = config.identification
        self.pinned = {"neutral"} if ident["mode"] == "neutral" else set()
        self.reference = set(ident["reference_sources"]) if ident["mode"] == "reference" else set()
        self.new_source_sd = float(np.hypot(pr["group_sd"], pr["source_sd"]))
        self.log_cap = np.log(0.5 * pr["outlier_sd"])
        series = d.drift.series
        self.series_of = {(s, p): r for r, (s, p) in enumerate(zip(series["source"], series["population"]))}
        self.knots = _draws(post["bias_drift"]) if "bias_drift" in post else None
        self.series_noise = _draws(post["series_noise_sd"]) if "series_noise_sd" in post else None
        self.floor = claim_noise_floor(full.loss, pr)
        self.pool = [_draws(post[name]) for name in ("noise_typical", "noise_group_sd", "noise_source_sd")]

    def terms(self, i: int, row) -> tuple[np.ndarray, np.ndarray] | str:
        """``(mu, sigma)`` per draw of loss claim ``i`` (``row``: its row of the claims), or why
        the fit cannot predict it."""
        from .model.grid import knot_position
        from .model.inputs import DRIFT_UNIT_DAYS
        from .summary import period_draws

        d, full, rng, n, pr = self.result.inputs, self.full, self.rng, self.n, self.config.priors
        pop, source, stance = row["population"], row["source"], row["stance"]
        if pop not in d.grid.starts:
            return "population not estimated at this vintage"
        origin = full.grid.starts[pop]
        first = origin + dt.timedelta(days=int(full.loss.day_start[i]))
        last = origin + dt.timedelta(days=int(full.loss.day_end[i]) - 1)
        j = list(d.populations).index(pop)
        if last > d.grid.starts[pop] + dt.timedelta(days=int(d.grid.n_days[j]) - 1):
            return "window ends after the vintage's estimates"
        total = period_draws(self.result, self.totals, pop, row["category"], first, last)
        if full.loss.per_day[i]:
            total = total / full.loss.days[i]
        mu = np.log(np.maximum(total, 1e-250))
        # the source's log bias on this claim
        pair = self.pair_of.get((source, stance))
        if pair is not None:
            mu = mu + self.log_bias[:, pair]
        else:
            if stance in self.pinned:
                effect = np.zeros(n)
            elif stance in self.free:
                mean, sd = self.stance_prior[stance]
                effect = mean + sd * self.stance_z[:, self.free.index(stance)]
            else:
                mean, sd = self.stance_prior[stance]
                effect = rng.normal(mean, sd, n)
            mu = mu + (effect if source in self.reference else effect + rng.normal(0.0, self.new_source_sd, n))
        # its noise: the series' own (with the drift read, or walked on past the last knot), the
        # source's, or a new source's drawn from the pool
        r = self.series_of.get((source, pop))
        if r is not None and self.knots is not None and self.series_noise is not None:
            series = d.drift.series
            first_knot, n_knots = int(series["first_knot"][r]), int(series["n_knots"][r])
            days = d.drift.knot_day[first_knot : first_knot + n_knots]
            walk = self.knots[:, first_knot : first_knot + n_knots]
            when = (last - d.grid.starts[pop]).days + 0.5  # the middle of the claim's last day
            if when <= days[-1]:
                k, w = knot_position(days, when)
                mu = mu + (1.0 - w) * walk[:, k] + w * walk[:, k + 1]
            else:  # the walk goes on past its last knot at its prior scale (per DRIFT_UNIT_DAYS)
                step = pr["drift_sd"] * np.sqrt((when - days[-1]) / DRIFT_UNIT_DAYS)
                mu = mu + walk[:, -1] + rng.normal(0.0, step, n)
            noise = self.series_noise[:, r]
        elif source in self.source_of:
            noise = self.noise_sd[:, self.source_of[source]]
        else:
            typical, group_sd, source_sd = self.pool
            log_noise = np.log(typical) + group_sd * rng.standard_normal(n) + source_sd * rng.standard_normal(n)
            noise = np.exp(log_noise - 0.5 * np.logaddexp(0.0, 2.0 * (log_noise - self.log_cap)))
        return mu, np.sqrt(self.floor[i] ** 2 + noise**2)


def running_counts(table: pd.DataFrame, full) -> np.ndarray:
    """Whether each row of a forecast table (its ``source`` and ``population``) is a figure of a
    running count: a series with a drifting bias in ``full`` (the :class:`~reconcile.model.
    ModelInputs` of every claim; :func:`reconcile.model.drift_series` decides which)."""
    series = full.drift.series
    counted = set(zip(series["source"], series["population"]))
    return np.array([(s, p) in counted for s, p in zip(table["source"], table["population"])], dtype=bool)


def running_count_marks(table: pd.DataFrame) -> pd.Series:
    """A forecast table's ``running_count`` as True, False or NaN (unknown: a table from before
    the column, or read back from a CSV as text)."""
    marks = pd.Series(table.get("running_count"), index=table.index, dtype=object)
    return marks.map({True: True, False: False, "True": True, "False": False})


def forecast_rows(result, full, config, day: dt.date, seed: int) -> list[dict]:
    """One row (see :data:`FORECAST_COLUMNS`) per loss claim of ``full`` (the :class:`~reconcile.
    model.ModelInputs` of every claim) reported after ``day``, predicted by ``result`` (the fit of
    the claims known on ``day``, carried at least to the last day any later claim covers)."""
    from .model import ROLE_LOSS
    from .observation import stated_log_figure, unit_noise

    frame = full.claims
    rows = frame[frame["role"] == ROLE_LOSS].reset_index(drop=True)  # aligned with full.loss
    reported = pd.to_datetime(rows["reported_on"]).dt.date
    later = np.flatnonzero((reported > day).to_numpy())
    if not len(later):
        return []
    pr = config.priors
    rng = np.random.default_rng([seed, 7, day.toordinal()])
    predictor = Predictor(result, full, config, rng)
    stated = full.loss.stated
    counted = running_counts(rows.iloc[later], full)
    out = []
    for i, in_series in zip(later, counted):
        row = rows.iloc[i]
        lo, hi = float(stated[i, 0]), float(stated[i, 1])
        horizon = (reported.iloc[i] - day).days
        base = {
            "vintage": day.isoformat(),
            "claim_id": row["claim_id"],
            "population": row["population"],
            "category": row["category"],
            "source": row["source"],
            "stance": row["stance"],
            "reported_on": reported.iloc[i].isoformat(),
            "horizon_days": horizon,
            "horizon": horizon_of(horizon),
            "kind": _kind(lo, hi),
            "stated_low": float(row["low"]),
            "stated_high": float(row["high"]),
            "known_source": row["source"] in predictor.source_of,
            "running_count": bool(in_series),
        }
        terms = predictor.terms(int(i), row)
        if isinstance(terms, str):
            out.append({**base, "status": terms})
            continue
        mu, sigma = terms
        noise, wild = unit_noise(rng, len(mu), pr["outlier_prob"])
        figure = stated_log_figure(noise, wild, mu, sigma, pr["outlier_sd"])
        below, upto = float(np.mean(figure < lo)), float(np.mean(figure <= hi))
        pit = below + rng.random() * (upto - below)
        q = np.exp(np.quantile(figure, [0.05, 0.25, 0.5, 0.75, 0.95]))
        out.append(
            {
                **base,
                **{f"pred_q{p:02d}": float(v) for p, v in zip((5, 25, 50, 75, 95), q)},
                "pit": pit,
                "in_50": bool(0.25 <= pit <= 0.75),
                "in_90": bool(0.05 <= pit <= 0.95),
                "status": PREDICTED,
            }
        )
    return out


def forecast_coverage(table: pd.DataFrame) -> pd.DataFrame:
    """The share of later figures inside the 50% and 90% predictive intervals and their mean PIT
    (0.5 if unbiased), over all predicted rows, by horizon and by the source's stance; then the
    figures of running counts apart from the others (``by`` "series", see :func:`running_counts`)
    and the others by horizon (``by`` "horizon, other sources"): a running count's hundreds of
    figures share their errors and would otherwise outweigh every other source. Rows whose
    ``running_count`` is unknown count in neither group."""
    done = table[table["status"] == PREDICTED]
    parts = [("all", "all", done)]
    parts += [("horizon", label, done[done["horizon"] == label]) for *_, label in HORIZONS]
    parts += [("stance", s, g) for s, g in done.groupby("stance", sort=True)]
    known = running_count_marks(done)
    others = done[known.eq(False)]
    parts += [("series", RUNNING_COUNTS, done[known.eq(True)]), ("series", OTHER_SOURCES, others)]
    parts += [("horizon, other sources", label, others[others["horizon"] == label]) for *_, label in HORIZONS]
    rows = []
    for by, group, g in parts:
        n = len(g)
        rows.append(
            {
                "by": by,
                "group": group,
                "n": n,
                "coverage_50": float(g["in_50"].astype(bool).mean()) if n else float("nan"),
                "coverage_90": float(g["in_90"].astype(bool).mean()) if n else float("nan"),
                "mean_pit": float(g["pit"].astype(float).mean()) if n else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)
