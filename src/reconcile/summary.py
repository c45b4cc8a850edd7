"""A fit -> tidy tables (estimates, sources, per-claim check) and the files of a fit directory."""

from __future__ import annotations

import datetime as dt
import functools
import html
import threading
import weakref
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from .errors import OutputError  # noqa: F401  (re-exported)
from .model import CATEGORIES, ROLE_LOSS, bound_terms, last_day_covered, series_levels
from .observation import draw_log_strength

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
SURPRISE = 0.05  # a stated figure outside the central 90% of its predictive distribution is flagged
PARETO_K_LIMIT = 0.7  # above it, PSIS-LOO for the claim is unreliable: the fit leans on that claim

ESTIMATE_COLUMNS = ["population", "category", "date", "mean", "sd", "q05", "q25", "q50", "q75", "q95"]
SOURCE_COLUMNS = ["source", "source_group", "stance", "n_claims", "bias_q05", "bias_q50", "bias_q95"]
CHECK_COLUMNS = ["claim_id", "true_q05", "true_q50", "true_q95", "ppc_percentile", "flag"]


#: tables computed for each live fit, by the fit's id; an entry goes when its fit is collected
#: (weakref.finalize), so the fit itself is never written to
_TABLES: dict[int, dict[str, pd.DataFrame]] = {}
_TABLES_LOCK = threading.Lock()


def _tables_of(result) -> dict[str, pd.DataFrame]:
    key = id(result)
    with _TABLES_LOCK:
        store = _TABLES.get(key)
        if store is None:
            store = _TABLES[key] = {}
            weakref.finalize(result, _TABLES.pop, key, None)
    return store


def _memoized(table):
    """Compute a table of a (frozen, so unchanging) fit once: the CLI, the report and the plots
    each ask for the same tables, and the per-claim check runs PSIS-LOO. The tables are kept
    beside the fit, not in it; callers get a copy."""

    @functools.wraps(table)
    def cached(result) -> pd.DataFrame:
        store = _tables_of(result)
        if table.__name__ not in store:
            store[table.__name__] = table(result)
        return store[table.__name__].copy()

    return cached


def _draws(da) -> np.ndarray:
    """Stack chains and draws: (sample, ...)."""
    values = np.asarray(da.values)
    return values.reshape(-1, *values.shape[2:])


def _stats(samples: np.ndarray) -> dict[str, np.ndarray]:
    q = np.quantile(samples, QUANTILES, axis=0)
    return {
        "mean": samples.mean(axis=0),
        "sd": samples.std(axis=0, ddof=1),
        **{f"q{int(round(p * 100)):02d}": q[i] for i, p in enumerate(QUANTILES)},
    }


def category_draws(result) -> dict[str, np.ndarray]:
    """Posterior draws (sample, estimate) of cumulative killed, wounded and casualties."""
    post = result.idata.posterior
    casualties = _draws(post["cumulative_casualties"])
    killed = _draws(post["cumulative_killed"])
    return {"killed": killed, "wounded": casualties - killed, "casualties": casualties}


def _over_draws(da) -> xr.Dataset:
    """:func:`_stats` of a posterior variable over its chains and draws, labelled as the variable
    is (its other dimensions and their coordinates kept)."""
    rest = da.isel(chain=0, draw=0, drop=True)
    return xr.Dataset({name: (rest.dims, value) for name, value in _stats(_draws(da)).items()}, coords=rest.coords)


@_memoized
def estimates(result) -> pd.DataFrame:
    """Cumulative losses since each population's start, per category and date of the grid,
    computed on the posterior's labelled arrays (each estimate's ``estimate_population`` and
    ``estimate_date``)."""
    post = result.idata.posterior
    casualties, killed = post["cumulative_casualties"], post["cumulative_killed"]
    frames = []
    for category, da in (("killed", killed), ("wounded", casualties - killed), ("casualties", casualties)):
        table = _over_draws(da).to_dataframe().reset_index(drop=True)
        frames.append(
            table.rename(columns={"estimate_population": "population", "estimate_date": "date"}).assign(
                category=category
            )
        )
    out = pd.concat(frames, ignore_index=True)
    order = {c: k for k, c in enumerate(CATEGORIES)}
    out = out.sort_values(["population", "category", "date"], key=lambda s: s.map(order) if s.name == "category" else s)
    out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    return out.reset_index(drop=True)[ESTIMATE_COLUMNS]


DAILY_COLUMNS = ["population", "category", "start", "end", "days", "mean", "sd", "q05", "q25", "q50", "q75", "q95"]


@_memoized
def daily(result) -> pd.DataFrame:
    """Average daily losses (not cumulative) per population and category, between consecutive
    estimate dates: ``start`` to ``end`` (both included, ``days`` long), with the posterior's mean,
    sd and quantiles of the losses per day over those days."""
    post = result.idata.posterior
    casualties, killed = post["cumulative_casualties"], post["cumulative_killed"]
    frames = []
    for category, da in (("killed", killed), ("wounded", casualties - killed), ("casualties", casualties)):
        for population in result.inputs.populations:
            mine = da.isel(estimate=np.flatnonzero(da["estimate_population"].values == population))
            if not mine.sizes["estimate"]:
                continue
            dates = pd.to_datetime(mine["estimate_date"].values)
            start = pd.Timestamp(result.inputs.grid.starts[population])
            day = ((dates - start).days + 1).to_numpy()  # the estimate's day, 1 = the first
            lengths = np.diff(np.concatenate([[0], day]))
            before = xr.concat(
                [xr.zeros_like(mine.isel(estimate=[0])), mine.isel(estimate=slice(None, -1))], "estimate"
            )
            rate = (mine - before.values) / lengths
            stats = _over_draws(rate).to_dataframe().reset_index(drop=True)
            starts = dates - pd.to_timedelta(lengths - 1, unit="D")
            frames.append(
                stats.assign(
                    population=population,
                    category=category,
                    start=starts.strftime("%Y-%m-%d"),
                    end=dates.strftime("%Y-%m-%d"),
                    days=lengths,
                )
            )
    return pd.concat(frames, ignore_index=True)[DAILY_COLUMNS]


@dataclass(frozen=True)
class WindowLosses:
    """The posterior of one population's losses of one category over a window of days."""

    population: str
    category: str
    start: dt.date
    end: dt.date
    draws: np.ndarray = field(repr=False)  # one value per posterior draw (chains stacked)

    def summary(self) -> pd.DataFrame:
        """One row: population, category, start, end, then the median and intervals, mean and sd."""
        stats = {k: float(v[0]) for k, v in _stats(self.draws[:, None]).items()}
        row = {
            "population": self.population,
            "category": self.category,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            **stats,
        }
        return pd.DataFrame([row])[["population", "category", "start", "end", *WINDOW_STAT_COLUMNS]]


WINDOW_STAT_COLUMNS = ["q50", "q05", "q95", "q25", "q75", "mean", "sd"]


def losses(result, population: str, start, end, category: str = "casualties") -> WindowLosses:
    """Losses of ``population`` (``category``: killed, wounded or casualties) from the day
    ``start`` to the day ``end``, both included: the cumulative losses at the end of ``end`` less
    those at the end of the day before ``start``, per posterior draw. The cumulative losses are
    estimated every few days (``time.step_days``) and read linearly in between; before the
    population's start they are 0. Raises ValueError for an unknown population or category, a
    window that ends before it starts, or one that ends after the last day estimated."""
    points = result.inputs.estimates
    if population not in set(points["population"]):
        raise ValueError(f"population {population!r}: expected one of {', '.join(sorted(set(points['population'])))}")
    if category not in CATEGORIES:
        raise ValueError(f"category {category!r}: expected one of {', '.join(CATEGORIES)}")
    first, last = _as_day(start, "start"), _as_day(end, "end")
    if last < first:
        raise ValueError(f"the window ends ({last}) before it starts ({first})")
    mine = points["population"].to_numpy() == population
    dates = pd.to_datetime(points.loc[mine, "date"]).dt.date.to_numpy()
    if last > dates[-1]:
        raise ValueError(
            f"the window ends on {last}, after the last day estimated for {population} ({dates[-1]}); "
            "fit with later claims to estimate later days"
        )
    totals = step_totals(result)
    if totals is not None:
        draws = period_draws(result, totals, population, category, first, last)
    else:  # a posterior saved before the step rates were kept: read between the estimates' days
        draws = window_draws(category_draws(result)[category][:, mine], dates, first, last)
    return WindowLosses(population, category, first, last, draws)


def step_totals(result) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """Per category, the daily rate of each step of the grid and its running total at each step's
    end, each (draw, flat step), from the posterior's ``step_rate`` and ``step_killed_share``
    (None if it lacks them). Any period's losses are the difference of its two ends."""
    post = result.idata.posterior
    if "step_rate" not in post or "step_killed_share" not in post:
        return None
    rate, share = _draws(post["step_rate"]), _draws(post["step_killed_share"])
    width = result.inputs.grid.width.astype(float)
    rates = {"killed": rate * share, "wounded": rate * (1.0 - share), "casualties": rate}
    return {c: (r, np.cumsum(r * width, axis=1)) for c, r in rates.items()}


def period_draws(result, totals, population: str, category: str, first: dt.date, last: dt.date) -> np.ndarray:
    """Per draw, the losses of ``population`` from the day ``first`` to the day ``last`` (both
    included), exactly as the model sums a claim's period (``totals``: :func:`step_totals`): the
    rate is constant within a step. Days before the population's start count 0; ``last`` must not
    be after the last day of the grid."""
    d = result.inputs
    j = list(d.populations).index(population)
    start = d.grid.starts[population]
    ends = np.array([max((first - start).days, 0), max((last - start).days + 1, 0)])
    step, rest = d.grid.positions(np.array([j, j]), ends)
    rate, at_end = totals[category]
    cumulative = at_end[:, step] - rest * rate[:, step]
    return cumulative[:, 1] - cumulative[:, 0]


def window_draws(cumulative: np.ndarray, dates, first: dt.date, last: dt.date) -> np.ndarray:
    """Per draw, the losses from the day ``first`` to the day ``last`` (both included) of one
    population, from its cumulative losses ``cumulative`` (draw, point) at the grid's ``dates``
    (ascending, the first being the population's first day): the cumulative losses at the end of
    ``last`` less those at the end of the day before ``first``, read linearly between points;
    0 before the population's start, held at the last point after it."""
    origin = dates[0] - dt.timedelta(days=1)  # the day before the population's first day: 0 losses
    days = np.array([(d - origin).days for d in dates], dtype=float)
    curve_days = np.concatenate([[0.0], days])
    curve = np.concatenate([np.zeros((cumulative.shape[0], 1)), cumulative], axis=1)

    def at(day: dt.date) -> np.ndarray:
        x = min(max((day - origin).days, 0), curve_days[-1])
        k = int(np.clip(np.searchsorted(curve_days, x, side="right") - 1, 0, len(curve_days) - 2))
        w = (x - curve_days[k]) / (curve_days[k + 1] - curve_days[k])
        return (1.0 - w) * curve[:, k] + w * curve[:, k + 1]

    return at(last) - at(first - dt.timedelta(days=1))


def _as_day(value, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{name}: expected a date (YYYY-MM-DD), found {value!r}") from None


HEADLINE_COLUMNS = ["population", "category", "date", "q50", "q05", "q95", "q25", "q75", "mean", "sd"]


def headline(result) -> pd.DataFrame:
    """The last estimate of each population and category: the figures a report leads with, the
    median and its intervals first (a heavy-tailed posterior's mean can sit far above them)."""
    est = estimates(result)
    return est.groupby(["population", "category"], sort=False).tail(1).reset_index(drop=True)[HEADLINE_COLUMNS]


# A population's estimate rests on its prior when fewer than this many independent source groups
# speak about its losses, or when the claims narrowed the prior's 90% interval of its final
# cumulative casualties (log scale) by less than half.
MIN_SOURCE_GROUPS = 2
PRIOR_WIDTH_SHARE = 0.5


@_memoized
def population_flags(result) -> pd.DataFrame:
    """Per population: how many sources and source groups its counted loss claims come from, the
    width (log scale) of the 90% interval of its final cumulative casualties in the posterior and
    in the prior, and ``prior_driven`` with the reason where the estimate rests on the prior rather
    than on the claims: fewer than two independent source groups, or a posterior interval more
    than half as wide as the prior's."""
    d = result.inputs
    loss = d.claims[d.claims["role"] == ROLE_LOSS]
    draws = category_draws(result)["casualties"]
    est = d.estimates
    prior = result.idata["prior"]["final_casualties"] if "prior" in result.idata.groups() else None
    rows = []
    for j, pop in enumerate(d.populations):
        mine = loss[loss["population"] == pop]
        k = int(est.index[est["pop"] == j][-1])
        q = np.quantile(draws[:, k], [0.05, 0.95])
        post_width = float(np.log(q[1] / q[0]))
        prior_width = np.nan
        if prior is not None:
            pq = np.quantile(np.asarray(prior.sel(population=pop).values).ravel(), [0.05, 0.95])
            prior_width = float(np.log(pq[1] / pq[0]))
        n_groups = int(mine["source_group"].nunique())
        reasons = []
        if n_groups < MIN_SOURCE_GROUPS:
            names = ", ".join(sorted({result.config.source_label(s) for s in mine["source"].unique()}))
            reasons.append(
                f"its loss figures come from {'one source group' if n_groups == 1 else 'no source'} ({names})"
            )
        ratio = post_width / prior_width if prior_width and np.isfinite(prior_width) else np.nan
        if np.isfinite(ratio) and ratio > PRIOR_WIDTH_SHARE:
            reasons.append(f"the claims narrow the prior's 90% interval only to {ratio:.0%} of its width")
        rows.append(
            {
                "population": pop,
                "n_claims": int(len(mine)),
                "n_sources": int(mine["source"].nunique()),
                "n_source_groups": n_groups,
                "log_width90": post_width,
                "prior_log_width90": prior_width,
                "width_share": ratio,
                "prior_driven": bool(reasons),
                "reason": "; ".join(reasons),
            }
        )
    return pd.DataFrame(rows)


def describe_flags(result) -> list[str]:
    """One sentence per population whose estimate rests on its prior (for the CLI and report)."""
    flags = population_flags(result)
    return [
        f"{result.config.population_label(r.population)}: driven by the prior, not the claims: {r.reason}. Read its estimate as an order of magnitude."
        for r in flags.itertuples()
        if r.prior_driven
    ]


@_memoized
def extrapolation(result) -> pd.DataFrame:
    """Per population: the last day any of its claims covers or was reported on
    (``last_claim``), the last day it is estimated for (``estimated_to``: later when the fit was
    asked to reach a day, ``until``) and the ``days_past`` the claims, over which the estimate
    follows the model's dynamics alone."""
    d = result.inputs
    rows = []
    for j, pop in enumerate(d.populations):
        last = last_day_covered(d.claims[d.claims["population"] == pop])
        end = d.grid.starts[pop] + dt.timedelta(days=int(d.grid.n_days[j]) - 1)
        rows.append(
            {"population": pop, "last_claim": last, "estimated_to": end, "days_past": max((end - last).days, 0)}
        )
    return pd.DataFrame(rows, columns=["population", "last_claim", "estimated_to", "days_past"])


def describe_extrapolation(result) -> list[str]:
    """One sentence per population estimated past its last claim (for the CLI and report)."""
    return [
        f"{result.config.population_label(r.population)} is estimated to {r.estimated_to}, {r.days_past} day{'s' if r.days_past != 1 else ''} past "
        f"its last claim ({r.last_claim}): there the estimate follows the model's dynamics alone, and its "
        "intervals widen with the horizon."
        for r in extrapolation(result).itertuples()
        if r.days_past > 0
    ]


def own_row_values(src: pd.DataFrame, values) -> list:
    """For each row of :func:`sources` (a source's own row, or one of its running counts':
    ``population`` set), ``values`` (one per row) taken at its source's own row: what puts a
    count's row right under its source's when sorted on (plots, report)."""
    own = src["population"] == ""
    at = pd.Series(
        np.asarray(values)[own.to_numpy()], index=pd.MultiIndex.from_frame(src.loc[own, ["source", "stance"]])
    )
    return [at.get((s, st), np.nan) for s, st in zip(src["source"], src["stance"])]


def _bias_columns(out: pd.DataFrame, bias: np.ndarray) -> None:
    q = np.quantile(bias, [0.05, 0.5, 0.95], axis=0)
    out["bias_q05"], out["bias_q50"], out["bias_q95"] = q[0], q[1], q[2]
    out["bias_mean"] = bias.mean(axis=0)
    out["p_inflates"] = (bias > 1).mean(axis=0)


@_memoized
def sources(result) -> pd.DataFrame:
    """Each source's bias factor (reported / true; 1 = unbiased) per stance; then, where a source
    keeps running counts of several populations (drifting series), each count's own bias over its
    period, one row with ``population`` set: a ministry may inflate one adversary's losses and not
    another's (the series' levels, around the source's bias: ``model.series_levels``)."""
    d = result.inputs
    post = result.idata.posterior
    # the posterior's source_stance labels are d.sources' pairs, in order (load_fit checks them)
    bias = _draws(post["bias"])
    loss = d.claims[d.claims["role"] == ROLE_LOSS]
    pops = loss.groupby(["source", "stance"])["population"].agg(lambda s: ";".join(sorted(set(s))))
    out = d.sources[["source", "source_group", "stance", "n_claims"]].copy()
    _bias_columns(out, bias)
    out["populations"] = [pops.get((s, st), "") for s, st in zip(out["source"], out["stance"])]
    # reference sources are pinned to 1 exactly; neutral ones (default) only on average
    out["assumed_unbiased"] = d.sources["reference"].to_numpy()
    out["population"] = ""
    # a source's series with a level of its own (it keeps several); a fit made before series had
    # levels has no series_bias
    pair, basis, _ = series_levels(d)
    levelled = basis.any(axis=1)
    if "series_bias" in post and levelled.any():
        rows = d.drift.series.loc[levelled, ["source", "population", "n_claims"]].copy()
        rows["stance"] = d.sources["stance"].to_numpy()[pair[levelled]]
        rows = rows.merge(
            out[["source", "stance", "source_group", "assumed_unbiased"]], on=["source", "stance"], how="left"
        )
        _bias_columns(rows, _draws(post["series_bias"])[:, levelled])
        rows["populations"] = rows["population"]
        out = pd.concat([out, rows[out.columns]], ignore_index=True)
    return out.reset_index(drop=True)


def _reference_value(row) -> float:
    """The number a stated claim is compared with: the figure, the bound, or the interval's middle."""
    if row["qualifier"] in ("at_least", "more_than"):
        return row["low"]
    if row["qualifier"] in ("at_most", "fewer_than"):
        return row["high"]
    if row["low"] == row["high"]:
        return row["low"]
    return float(np.sqrt((row["low"] if row["low"] > 0 else 0.5) * row["high"]))  # 0: "at most"


def _flag(qualifier: str, percentile: float, kind: str) -> str:
    low_side = percentile < SURPRISE  # the stated number is below almost every predicted figure
    high_side = percentile > 1 - SURPRISE
    if kind == "bound":
        return "the model puts casualties above this strength" if low_side else ""
    if qualifier in ("at_least", "more_than"):
        return "the model expects a figure below this stated minimum" if high_side else ""
    if qualifier in ("at_most", "fewer_than"):
        return "the model expects a figure above this stated maximum" if low_side else ""
    if low_side:
        return "stated figure lower than the model expects from this source"
    if high_side:
        return "stated figure higher than the model expects from this source"
    return ""


@_memoized
def claims_check(result) -> pd.DataFrame:
    """Per claim: the true quantity it refers to, where its stated figure sits in its posterior
    predictive distribution (0-1), and a flag where that is surprising."""
    d = result.inputs
    frame = d.claims
    out = pd.DataFrame(
        {
            "claim_id": frame["claim_id"],
            "true_q05": np.nan,
            "true_q50": np.nan,
            "true_q95": np.nan,
            "ppc_percentile": np.nan,
            "flag": "",
            "p_within_stated": np.nan,
            "role": frame["role"],
            "population": frame["population"],
            "category": frame["category"],
            "source": frame["source"],
            "qualifier": frame["qualifier"],
            "stated_low": frame["low"],
            "stated_high": frame["high"],
        }
    ).set_index("claim_id")
    post = result.idata.posterior
    ids = list(d.loss.claim_id)
    if ids:
        true_q = _draws(post["true_quantity"])
        figure = _draws(result.idata.posterior_predictive["figure"])
        q = np.quantile(true_q, [0.05, 0.5, 0.95], axis=0)
        rows = frame.set_index("claim_id").loc[ids]
        ref = rows.apply(_reference_value, axis=1).to_numpy()
        pct = (figure <= ref).mean(axis=0)
        within = ((figure >= rows["low"].to_numpy()) & (figure <= rows["high"].to_numpy())).mean(axis=0)
        out.loc[ids, ["true_q05", "true_q50", "true_q95"]] = q.T
        out.loc[ids, "ppc_percentile"] = pct
        out.loc[ids, "p_within_stated"] = np.where(rows["low"] < rows["high"], within, np.nan)
        out.loc[ids, "flag"] = [_flag(qual, p, "loss") for qual, p in zip(rows["qualifier"], pct)]
    bound_ids = list(d.bound.claim_id)
    if bound_ids:
        cas = _draws(post["bound_casualties"])
        rng = np.random.default_rng([result.seed, 2])
        location = np.concatenate([bound_terms(post, d, c)[0] for c in range(post.sizes["chain"])])
        rep = np.exp(draw_log_strength(rng, location, d.bound.softness, cas.shape))
        strength = np.exp(d.bound.log_strength)
        pct = (rep <= strength).mean(axis=0)
        q = np.quantile(cas, [0.05, 0.5, 0.95], axis=0)
        out.loc[bound_ids, ["true_q05", "true_q50", "true_q95"]] = q.T
        out.loc[bound_ids, "ppc_percentile"] = pct
        out.loc[bound_ids, "flag"] = [_flag("", p, "bound") for p in pct]
    loo = pointwise_loo(result.idata)
    out["pareto_k"] = [loo.get(cid, (np.nan, np.nan))[0] for cid in out.index]
    out["elpd_loo"] = [loo.get(cid, (np.nan, np.nan))[1] for cid in out.index]
    out["loo_flag"] = [_loo_flag(k, e) for k, e in zip(out["pareto_k"], out["elpd_loo"])]
    out = out.reset_index()
    return out[CHECK_COLUMNS + [c for c in out.columns if c not in CHECK_COLUMNS]]


#: A flagged claim whose pointwise elpd is at least this far from 0 is one the fit rests on; nearer
#: 0, the fit predicts it whether or not it is left out (a strength far above the losses, say), and
#: the high Pareto k says only that the importance-sampling estimate for it is unreliable.
LOO_ELPD_MATTERS = 0.05


def loo_matters(elpd: float) -> bool:
    """Whether leaving a claim out would change the fit markedly (its elpd is far from 0)."""
    return bool(np.isfinite(elpd) and abs(elpd) >= LOO_ELPD_MATTERS)


def _loo_flag(k: float, elpd: float) -> str:
    if not np.isfinite(k) or k <= PARETO_K_LIMIT:
        return ""
    if loo_matters(elpd):
        return (
            f"influential: Pareto k {k:.2f} > {PARETO_K_LIMIT}, elpd {elpd:.3f}: the fit rests on this claim, check it"
        )
    return f"Pareto k {k:.2f} > {PARETO_K_LIMIT} but elpd {elpd:.3f} near 0: little depends on this claim"


def pointwise_loo(idata) -> dict[str, tuple[float, float]]:
    """PSIS-LOO per claim (ArviZ): claim_id -> (Pareto k, pointwise elpd_loo), for every claim
    with a term in the ``log_likelihood`` group (``stated``: loss figures; ``strength``: bounds).
    Empty when the group is missing."""
    import warnings

    import arviz as az

    if "log_likelihood" not in idata.groups():
        return {}
    ll = idata.log_likelihood
    out: dict[str, tuple[float, float]] = {}
    for var in ("stated", "strength"):
        if var not in ll or ll[var].size == 0:
            continue
        dims = [d for d in ll[var].dims if d not in ("chain", "draw")]
        if len(dims) != 1:  # pragma: no cover - the layout fitting.py writes
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # high Pareto k is reported per claim, not warned about
            loo = az.loo(idata, var_name=var, pointwise=True)
        ids = [str(v) for v in ll[var][dims[0]].values]
        for cid, k, e in zip(ids, np.asarray(loo.pareto_k).ravel(), np.asarray(loo.loo_i).ravel()):
            out[cid] = (float(k), float(e))
    return out


def fit_html(result) -> str:
    """A compact HTML view of a fit for Jupyter."""
    head = headline(result)
    rows = "".join(
        f"<tr><td>{html.escape(r.population)}</td><td>{html.escape(r.category)}</td><td>{r.date}</td>"
        f"<td>{r.q50:,.0f}</td><td>[{r.q05:,.0f}, {r.q95:,.0f}]</td></tr>"
        for r in head.itertuples()
    )
    verdict = html.escape(result.diagnostics.verdict())
    return (
        f"<div><p><b>reconcile fit</b> &mdash; {verdict}</p>"
        "<table><thead><tr><th>population</th><th>category</th><th>by</th><th>median</th>"
        f"<th>90% interval</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )
