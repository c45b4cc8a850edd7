"""The reconciliation model: claims + configuration -> a PyMC model. No sampling, no files.

The generative story, for populations p, sources s and claims i:

1. Latent losses. Each population's mean daily casualties (killed + wounded) is constant within
   the steps of its time grid, whose widths follow the claims (``time.step_days`` where many
   claims begin or end, up to ``time.max_step_days`` where few do; ``Grid``):
   ``rate = exp(level) * w / mean(w)``, with ``level`` the log of the mean daily rate over the
   days the population's claims speak about (each claim's window weighs equally,
   ``claim_coverage``) and ``log w`` a stationary Ornstein-Uhlenbeck process (an AR(1) on the
   irregular grid, correlation time ``time.correlation_days``) of standard deviation
   ``rate_sd``. Being stationary, the curve wanders back towards the level away from the claims
   instead of drifting without bound. Cumulative casualties ``C_p(t)`` accumulate the rate, so
   they can only rise, and are exact (piecewise linear) at any day ``t``.
2. Categories. A killed share splits the daily casualties into killed and wounded: its typical
   value ``killed_share[p]`` (Beta prior), moved on the logit scale by a slow stationary curve
   (knots ``time.share_knot_days`` apart, fixed spread ``priors.killed_share_sd``), so the mix of
   killed and wounded can change as the war does. Cumulative killed accumulate rate x share,
   wounded rate x (1 - share).
3. The quantity a claim refers to: cumulative since the start (``C(b)``), a window
   (``C(b) - C(a)``) or a daily average (the window total over its length), for killed, wounded
   or casualties.
4. The source's figure: ``log y_i = log Q_i + beta_(s,stance) + d_(s,p)(t_i) + eps_i``, with the
   log bias ``beta = delta[stance] + group_effect + source_effect`` (partially pooled; see
   ``bias_structure`` for how it is sampled; the spreads ``priors.group_sd`` and ``source_sd`` are
   fixed) its average over the period, ``d`` a slow drift of
   that bias (a random walk over knots ``drift.knot_days`` apart, centred on the source's claims)
   for a source that speaks about a population often and over a long time (a running tally:
   ``drift_series``), and ``eps`` a two-component logistic mixture (typical error + rare wild
   figure) whose typical scale is the source's own ``noise_sd[s]``, partially pooled across
   sources and source groups and softly capped at half the outliers' scale (or, for a drifting
   series, the series' own ``series_noise_sd``).
5. The stated claim: a point (``exact``, ``about`` with extra rounding error) is a density; every
   other qualifier states an interval ``[low, high]`` of the figure (censoring from below, above,
   or both: ``at_least``, ``at_most``, ``range``, ``vague`` ...), whose probability is the
   likelihood.
6. A stated force strength (``deployed``, cumulative) softly bounds cumulative casualties from
   above, read through its source's lean: ``P(C(t) * bias * exp(e) <= strength)``, ``e`` of sd
   ``deployed_sd`` (``strength_bias``).

Identification (which biases are pinned) comes from ``config.identification``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytensor.tensor as pt
from scipy import sparse, stats

from . import priors as declared
from .claims import Claims
from .config import Config, ConfigError
from .errors import ModelDataError
from .observation import stated_logp, strength_logp

CATEGORIES = ("killed", "wounded", "casualties")
STANCE_ORDER = ("adversary", "own", "neutral", "unknown")
_LOG_FLOOR, _LOG_CEIL = -30.0, 30.0  # stand-ins for log(0) and log(inf): finite for gradients
_DRIFT_UNIT_DAYS = 30.0  # the drift's scale is per 30 days
_WEEK = 7.0  # the walk's scale (rw_scale) is per week

# Roles of a claim in the fit (also reported per claim in claims_check.csv)
ROLE_LOSS = "loss figure"
ROLE_BOUND = "strength bound"
ROLE_RELAY = "relay of another claim (not counted twice)"
ROLE_UNMODELLED = "population has no loss claim (not estimated)"
ROLE_WINDOW_STRENGTH = "strength added over a window (bounds no cumulative loss)"
ROLE_EARLY_STRENGTH = "strength before the first losses (bounds nothing)"
ROLE_NO_BOUND = "no upper end stated (bounds nothing)"


@dataclass(frozen=True)
class Grid:
    """The time grid: for each population, steps of varying width from its start (flat layout).

    Step ``k`` of the flat layout belongs to population ``pop[k]``, starts ``step_start[k]`` days
    after the population's start and lasts ``width[k]`` days; each population's steps are
    contiguous, starting at ``offset[p]``, and tile its ``n_days`` exactly. ``unit`` is the finest
    width (``time.step_days``): estimates are reported every ``unit`` days.
    """

    populations: tuple[str, ...]
    starts: dict[str, dt.date]
    n_days: np.ndarray  # per population: days covered (start .. end, inclusive)
    n_steps: np.ndarray  # per population
    offset: np.ndarray  # per population: first flat step
    step_start: np.ndarray  # flat: day position of each step's first day
    width: np.ndarray  # flat: days in each step
    unit: int = 7

    @property
    def pop(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.populations)), self.n_steps)

    @property
    def step_of(self) -> np.ndarray:
        """Width in days of each flat step."""
        return self.width

    @property
    def step_end(self) -> np.ndarray:
        return self.step_start + self.width

    @property
    def centre(self) -> np.ndarray:
        return self.step_start + self.width / 2.0

    def overlap(self, pop: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Days of each window [start, end) (day positions) that fall in each flat step:
        (window, step). A window's total is then ``overlap @ daily_rate``, exactly."""
        pop, start, end = (np.asarray(v) for v in (pop, start, end))
        mine = self.pop[None, :] == pop[:, None]
        lo = np.maximum(self.step_start[None, :], start[:, None])
        hi = np.minimum(self.step_end[None, :], end[:, None])
        return np.where(mine, np.clip(hi - lo, 0, None), 0).astype(float)

    def positions(self, pop: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where day position ``day`` (days since the population's start; a window's exclusive end)
        falls on the flat grid: the flat step holding it and the days of that step *after* it.

        Cumulative casualties up to ``day`` are then ``S[k] - rest * rate[k]``, with ``S`` the
        running sum of ``rate * width`` over the flat steps (minus the same at the population's
        start): what ``overlap() @ rate`` computes, with O(log steps) work per day instead of a
        (day, step) matrix."""
        pop, day = np.asarray(pop, dtype=np.int64), np.asarray(day, dtype=np.int64)
        span = int(self.n_days.max()) + 2
        key = self.pop.astype(np.int64) * span + self.step_end  # sorted: by population, then day
        flat = np.searchsorted(key, pop * span + day, side="left")  # first step ending at or after day
        flat = np.clip(flat, self.offset[pop], self.offset[pop] + self.n_steps[pop] - 1)
        rest = self.step_end[flat] - day
        return flat.astype(np.int64), rest.astype(float)

    def estimate_points(self) -> pd.DataFrame:
        """The dates estimates are reported for: every ``unit`` days from the start, and the last day."""
        rows = []
        for j, p in enumerate(self.populations):
            days = list(range(1, int(self.n_days[j]), int(self.unit))) + [int(self.n_days[j])]
            rows += [(p, j, d, self.starts[p] + dt.timedelta(days=d - 1)) for d in days]
        return pd.DataFrame(rows, columns=["population", "pop", "day", "date"])


def step_boundaries(n_days: int, ends: np.ndarray, unit: int, max_width: int, per_step: int) -> np.ndarray:
    """Start positions of a population's steps: resolution that follows the claims.

    Days are taken ``unit`` at a time from the start; a step closes once it holds ``per_step``
    claim boundaries (a day on which some claim's period begins or ends), or when one more unit
    would make it wider than ``max_width``. Where claims are dense (a daily running tally), steps
    are ``unit`` days wide; where they are sparse, ``max_width``. A final stub shorter than
    ``unit`` joins the step before it. O(days)."""
    n_days = int(n_days)
    counts = np.bincount(np.clip(np.asarray(ends, dtype=np.int64), 0, n_days), minlength=n_days + 1)
    # a boundary at position b (0 < b < n_days) separates day b-1 from day b
    inside = counts.copy()
    inside[0] = 0
    inside[n_days:] = 0
    starts, width, held = [0], 0, 0
    for first in range(0, n_days, unit):
        last = min(first + unit, n_days)
        width += last - first
        held += int(inside[first + 1 : last + 1].sum())
        if last < n_days and (held >= per_step or width + min(unit, n_days - last) > max_width):
            starts.append(last)
            width, held = 0, 0
    if len(starts) > 1 and n_days - starts[-1] < unit:
        starts.pop()
    return np.array(starts, dtype=np.int64)


def ou_coefficients(g: Grid, correlation_days: float) -> tuple[np.ndarray, np.ndarray]:
    """The AR(1) form of each population's Ornstein-Uhlenbeck log rate on the grid: ``x_k =
    phi_k x_(k-1) + rate_sd * scale_k * z_k`` with ``z ~ N(0, 1)``, per flat step.

    ``phi_k = exp(-(t_k - t_(k-1)) / tau)`` between step centres (0 at a population's first step)
    and ``scale_k = sqrt(1 - phi_k^2)``, so the process is stationary with standard deviation
    ``rate_sd`` at every step, whatever the widths of the steps."""
    tau = float(correlation_days)
    centre = g.centre
    first = np.zeros(len(centre), dtype=bool)
    first[g.offset] = True
    gap = np.where(first, np.inf, centre - np.roll(centre, 1))
    phi = np.where(first, 0.0, np.exp(-gap / tau))
    return phi, np.sqrt(1.0 - phi**2)


def ou_scan_coefficients(phi: np.ndarray, n_levels: int) -> np.ndarray:
    """(level, step) coefficients of a parallel prefix scan of the recurrence ``x_k = phi_k
    x_(k-1) + b_k``: at level l (lag d = 2^l), ``x_k += A[l, k] * x_(k-d)``, with ``A[l, k]`` the
    product of the d coefficients ending at k (0 where the lag leaves the population, since
    ``phi`` is 0 at each population's first step). log2(steps) vector operations instead of a
    sequential loop or a dense (step, step) matrix."""
    out = np.zeros((n_levels, len(phi)))
    a = np.asarray(phi, dtype=float).copy()
    for level in range(n_levels):
        d = 2**level
        current = np.zeros_like(a)
        current[d:] = a[d:]
        out[level] = current
        nxt = np.zeros_like(a)
        nxt[2 * d :] = a[2 * d :] * a[d:-d] if 2 * d < len(a) else 0.0
        a = nxt
    return out


def _share_knot_days(g: Grid, config: Config) -> list[np.ndarray]:
    """Each population's knots of the killed share's curve: evenly spaced over its span, about
    ``time.share_knot_days`` apart (at least two)."""
    every = float(config["time"]["share_knot_days"])
    return [np.linspace(0.0, float(n), int(max(2, np.ceil(n / every) + 1))) for n in g.n_days]


def share_knot_labels(g: Grid, config: Config) -> list[str]:
    return [
        f"{p} {(g.starts[p] + dt.timedelta(days=int(round(day)))).isoformat()}"
        for p, days in zip(g.populations, _share_knot_days(g, config))
        for day in days
    ]


def share_knots(g: Grid, config: Config) -> dict[str, np.ndarray]:
    """The killed share's curve: a stationary Ornstein-Uhlenbeck process of unit variance (scaled by
    ``share_sd`` in the graph) over each population's knots (``share_ou``: knot innovations -> knot
    values, block diagonal), read at each step's centre by linear interpolation between its two
    knots (``share_knot_0/1``, ``share_weight_0/1``)."""
    tau = float(config["time"]["correlation_days"])
    days = _share_knot_days(g, config)
    sizes = [len(k) for k in days]
    offset = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    total = int(sum(sizes))
    ou = np.zeros((total, total))
    knot0 = np.zeros(len(g.width), dtype=np.int64)
    weight1 = np.zeros(len(g.width))
    centre = g.centre
    for j, (knots, first) in enumerate(zip(days, offset)):
        n = len(knots)
        phi = np.exp(-np.diff(knots) / tau)
        block = np.zeros((n, n))
        block[0, 0] = 1.0
        for k in range(1, n):
            block[k] = phi[k - 1] * block[k - 1]
            block[k, k] = np.sqrt(1.0 - phi[k - 1] ** 2)
        ou[first : first + n, first : first + n] = block
        steps = slice(int(g.offset[j]), int(g.offset[j] + g.n_steps[j]))
        left = np.clip(np.searchsorted(knots, centre[steps], side="right") - 1, 0, n - 2)
        weight1[steps] = np.clip((centre[steps] - knots[left]) / (knots[left + 1] - knots[left]), 0.0, 1.0)
        knot0[steps] = first + left
    return {
        "share_ou": ou,
        "share_knot_0": knot0,
        "share_knot_1": knot0 + 1,
        "share_weight_0": 1.0 - weight1,
        "share_weight_1": weight1,
    }


def ou_matrix(g: Grid, correlation_days: float) -> np.ndarray:
    """(step, step) matrix turning standard-normal innovations into each population's log-rate
    deviation, per unit of ``rate_sd`` (dense; for tests and the linearisations)."""
    phi, scale = ou_coefficients(g, correlation_days)
    size = len(phi)
    out = np.zeros((size, size))
    for first, n in zip(g.offset, g.n_steps):
        for k in range(int(first), int(first + n)):
            if k > first:
                out[k] = phi[k] * out[k - 1]
            out[k, k] = scale[k]
    return out


@dataclass(frozen=True)
class ModelInputs:
    """Everything the model needs, as plain arrays, derived from claims + configuration."""

    claims: pd.DataFrame  # the configured claims, with the model's role of each claim
    grid: Grid
    sources: pd.DataFrame  # one row per (source, stance) among loss claims
    groups: tuple[str, ...]
    loss: dict[str, np.ndarray] = field(repr=False)  # arrays over loss claims
    bound: dict[str, np.ndarray] = field(repr=False)  # arrays over strength bounds
    estimates: pd.DataFrame = field(repr=False)  # population, pop, day, date of each estimate
    drift: dict = field(repr=False, default_factory=dict)  # drifting biases (drift_series)

    @property
    def populations(self) -> tuple[str, ...]:
        return self.grid.populations

    @property
    def source_names(self) -> list[str]:
        """The sources of the loss claims, in the order of their ``source_index``."""
        return sorted(self.sources["source"].unique())


def _day_positions(start: pd.Series, end: pd.Series, origin: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Window [start, end] (inclusive days) as positions in days since the origin's start."""
    a = (start - origin).dt.days.to_numpy()
    b = (end - origin).dt.days.to_numpy() + 1
    return a.astype(np.int64), b.astype(np.int64)


def last_day_covered(rows: pd.DataFrame) -> dt.date:
    """The last day any of ``rows``' claims (at least one) covers (``period_end``) or was
    reported on: how far the claims alone carry the estimates."""
    days = pd.concat([pd.to_datetime(rows["period_end"]), pd.to_datetime(rows["reported_on"])]).dropna()
    return days.max().date()


def _grid(
    frame: pd.DataFrame, modelled: list[str], starts: dict[str, dt.date], config: Config, loss_mask: np.ndarray
) -> Grid:
    """Each population's steps, from its start to the last day any of its claims covers or was
    reported on (or ``time.end``), with widths that follow its loss claims (``step_boundaries``)."""
    t = config["time"]
    n_days, step_start, width = [], [], []
    for p in modelled:
        rows = frame[frame["population"] == p]
        end = last_day_covered(rows)
        if config.end is not None:
            end = max(end, config.end)
        days = (end - starts[p]).days + 1
        mine = loss_mask & (frame["population"] == p).to_numpy()
        ends = np.concatenate([frame.loc[mine, "day_start"].to_numpy(), frame.loc[mine, "day_end"].to_numpy()])
        first = step_boundaries(days, ends, int(t["step_days"]), int(t["max_step_days"]), int(t["boundaries_per_step"]))
        n_days.append(days)
        step_start.append(first)
        width.append(np.diff(np.append(first, days)))
    n_steps = np.array([len(s) for s in step_start], dtype=np.int64)
    offset = np.concatenate([[0], np.cumsum(n_steps)[:-1]]).astype(np.int64)
    return Grid(
        tuple(modelled),
        starts,
        np.array(n_days, dtype=np.int64),
        n_steps,
        offset,
        np.concatenate(step_start).astype(np.int64),
        np.concatenate(width).astype(np.int64),
        int(t["step_days"]),
    )


def knot_position(days: np.ndarray, when: float) -> tuple[int, float]:
    """Where day ``when`` falls between a series' knots ``days`` (ascending, at least two): the
    knot ``k`` before it and the weight ``w`` of knot ``k + 1`` for linear interpolation, both
    clamped to the series' span."""
    k = int(np.clip(np.searchsorted(days, when, side="right") - 1, 0, len(days) - 2))
    return k, float(np.clip((when - days[k]) / (days[k + 1] - days[k]), 0.0, 1.0))


def drift_series(loss_rows: pd.DataFrame, pop_index: dict[str, int], config: Config) -> dict:
    """The (source, population) series whose bias drifts in time, and how each claim reads it.

    A source that speaks about a population in ``drift.min_claims`` claims or more, spread over
    ``drift.min_days`` days or more (a running tally, a regular update), gets a bias that drifts:
    a random walk over knots about ``drift.knot_days`` apart across the span of its claims' end
    days, read by each claim by linear interpolation, and centred so that it averages 0 over the
    series' claims (the source's bias ``beta`` stays its average over the period). Errors of such a
    series persist from one report to the next, so its many figures inform the shape of the curve
    without pinning its level as if they were independent witnesses. What is left of a series'
    errors once the drift is taken out is its own noise scale (``series_noise_sd``), apart from the
    pool of the sources' statements: a running count is far smoother than a statement.

    Returns arrays over the knots (flat, series after series) and over the loss claims; a claim
    outside any series reads the zero slot at index ``n_knots``."""
    dcfg = config["drift"]
    n_claims = len(loss_rows)
    empty = {
        "series": pd.DataFrame(
            columns=["source", "population", "n_claims", "first_day", "last_day", "n_knots", "first_knot"]
        ),
        "knot_series": np.zeros(0, dtype=np.int64),
        "knot_first": np.zeros(0, dtype=bool),
        "knot_day": np.zeros(0),
        "knot_scale": np.zeros(0),
        "claim_knot": np.full((n_claims, 2), 0, dtype=np.int64),
        "claim_weight": np.zeros((n_claims, 2)),
        "claim_series": np.full(n_claims, -1, dtype=np.int64),
        "series_weight": np.zeros((0, 0)),
    }
    if not dcfg["enabled"] or n_claims == 0:
        return empty
    when = loss_rows["day_end"].to_numpy(dtype=float) - 0.5  # the middle of the last day a claim covers
    keys = list(zip(loss_rows["source"], loss_rows["population"]))
    frame = pd.DataFrame(
        {"source": loss_rows["source"].to_numpy(), "population": loss_rows["population"].to_numpy(), "when": when}
    )
    stats_ = frame.groupby(["source", "population"], sort=True)["when"].agg(["size", "min", "max"]).reset_index()
    chosen = stats_[(stats_["size"] >= dcfg["min_claims"]) & (stats_["max"] - stats_["min"] >= dcfg["min_days"])]
    if chosen.empty:
        return empty
    rows, knot_series, knot_first, knot_day, knot_scale = [], [], [], [], []
    first_knot = 0
    for r, row in enumerate(chosen.itertuples(index=False)):
        span = row.max - row.min
        n_knots = int(max(2, np.ceil(span / dcfg["knot_days"]) + 1))
        days = np.linspace(row.min, row.max, n_knots)
        gap = span / (n_knots - 1)
        rows.append((row.source, row.population, int(row.size), row.min, row.max, n_knots, first_knot))
        knot_series += [r] * n_knots
        knot_first += [True] + [False] * (n_knots - 1)
        knot_day += list(days)
        knot_scale += [0.0] + [float(np.sqrt(gap / _DRIFT_UNIT_DAYS))] * (n_knots - 1)
        first_knot += n_knots
    series = pd.DataFrame(
        rows, columns=["source", "population", "n_claims", "first_day", "last_day", "n_knots", "first_knot"]
    )
    n_knots_total = first_knot
    index = {(s, p): r for r, (s, p) in enumerate(zip(series["source"], series["population"]))}
    claim_knot = np.full((n_claims, 2), n_knots_total, dtype=np.int64)
    claim_weight = np.zeros((n_claims, 2))
    claim_series = np.full(n_claims, -1, dtype=np.int64)
    series_weight = np.zeros((len(series), n_knots_total))
    knot_days = np.array(knot_day)
    for i, key in enumerate(keys):
        found = index.get(key)
        if found is None:
            continue
        r = found
        first, n = int(series["first_knot"][r]), int(series["n_knots"][r])
        k, w = knot_position(knot_days[first : first + n], when[i])
        claim_series[i] = r
        claim_knot[i] = (first + k, first + k + 1)
        claim_weight[i] = (1.0 - w, w)
        series_weight[r, first + k] += (1.0 - w) / series["n_claims"][r]
        series_weight[r, first + k + 1] += w / series["n_claims"][r]
    return {
        "series": series,
        "knot_series": np.array(knot_series, dtype=np.int64),
        "knot_first": np.array(knot_first, dtype=bool),
        "knot_day": knot_days,
        "knot_scale": np.array(knot_scale),
        "claim_knot": claim_knot,
        "claim_weight": claim_weight,
        "claim_series": claim_series,
        "series_weight": series_weight,
    }


def strength_bias(
    bound_rows: pd.DataFrame, pair_index: dict[tuple[str, str], int], config: Config
) -> dict[str, np.ndarray]:
    """How a stated strength is read: through its source's lean, like its loss figures.

    A source that inflates an enemy's losses tends to inflate its strength too, and an own side
    that deflates its losses to deflate its numbers; a bound taken at face value would pull the
    estimate of a source that understates its strength down (with the model's own simulator, a
    fifth low on a war of 2,000 claims). So the true strength is the stated one divided by the
    source's bias: the bias of its loss figures where it makes some (``pair``), otherwise the prior
    mean of its stance's effect, whose uncertainty (stance, group and source spread, from the
    priors) widens the bound's softness."""
    pr = config.priors
    prior = stance_priors(config)
    pinned = {"neutral"} if config.identification["mode"] == "neutral" else set()
    total_sd = float(np.hypot(pr["group_sd"], pr["source_sd"]))
    pair = np.array(
        [pair_index.get((s, st), -1) for s, st in zip(bound_rows["source"], bound_rows["stance"])], dtype=np.int64
    )
    mean = np.array([0.0 if st in pinned else prior.get(st, (0.0, 0.0))[0] for st in bound_rows["stance"]], dtype=float)
    spread = np.array(
        [0.0 if st in pinned else prior.get(st, (0.0, 0.0))[1] for st in bound_rows["stance"]], dtype=float
    )
    own = pair >= 0
    softness = np.sqrt(pr["deployed_sd"] ** 2 + np.where(own, 0.0, spread**2 + total_sd**2))
    return {"pair": pair, "prior_log_bias": np.where(own, 0.0, mean), "softness": softness}


def bound_terms(posterior, d: ModelInputs, chain: int) -> tuple[np.ndarray, np.ndarray]:
    """Location (log cumulative casualties + log bias) and softness of every strength bound at
    each draw of one chain: what the graph's ``strength`` term reads (``strength_bias``)."""
    B = d.bound
    log_bias = np.log(posterior["bias"].values[chain])
    padded = np.concatenate([log_bias, np.zeros((log_bias.shape[0], 1))], axis=1)
    location = np.log(posterior["bound_casualties"].values[chain]) + padded[:, B["pair"]] + B["prior_log_bias"]
    return location, np.broadcast_to(B["softness"], location.shape)


def prepare(claims: Claims, config: Config) -> ModelInputs:
    """Derive the model's arrays from validated claims and a configuration."""
    claims = claims.configured_for(config)
    frame = claims.frame
    is_loss = frame["category"].isin(CATEGORIES)
    modelled = sorted(frame.loc[is_loss & frame["counted"], "population"].unique())
    if not modelled:
        raise ModelDataError("no counted loss claim (killed, wounded or casualties) in the claims: nothing to estimate")
    origin = pd.to_datetime(frame["population"].map(lambda p: claims.populations[p]))

    a, b = _day_positions(frame["period_start"], frame["period_end"], origin)
    role = np.where(frame["counted"], "", ROLE_RELAY).astype(object)
    in_model = frame["population"].isin(modelled).to_numpy()
    role[(role == "") & ~in_model] = ROLE_UNMODELLED
    loss_mask = (role == "") & is_loss.to_numpy()
    role[loss_mask] = ROLE_LOSS
    deployed = (role == "") & (frame["category"] == "deployed").to_numpy()
    cumulative = a <= 0
    role[deployed & ~cumulative] = ROLE_WINDOW_STRENGTH
    role[deployed & cumulative & (b <= 1)] = ROLE_EARLY_STRENGTH
    finite_high = np.isfinite(frame["high"].to_numpy(dtype=float))
    role[deployed & cumulative & (b > 1) & ~finite_high] = ROLE_NO_BOUND
    bound_mask = deployed & cumulative & (b > 1) & finite_high
    role[bound_mask] = ROLE_BOUND
    frame = frame.assign(role=role, day_start=np.maximum(a, 0), day_end=b)
    grid = _grid(frame, modelled, {p: claims.populations[p] for p in modelled}, config, loss_mask)

    # Sources: one entry per (source, stance) among the loss claims.
    loss_rows = frame[loss_mask]
    sources = (
        loss_rows.groupby(["source", "stance"], sort=True)
        .agg(source_group=("source_group", "first"), n_claims=("claim_id", "size"))
        .reset_index()[["source", "source_group", "stance", "n_claims"]]
    )
    groups = tuple(sorted(sources["source_group"].unique()))
    ident = config.identification
    reference = set(ident["reference_sources"]) if ident["mode"] == "reference" else set()
    unknown = reference - set(sources["source"])
    if unknown:
        raise ConfigError(
            "identification.reference_sources: not a source of any counted loss claim: "
            + ", ".join(sorted(unknown))
            + f" (sources: {', '.join(sorted(set(sources['source'])))})"
        )
    pair_index = {(s, st): k for k, (s, st) in enumerate(zip(sources["source"], sources["stance"]))}
    source_names = sorted(sources["source"].unique())
    source_index = {s: k for k, s in enumerate(source_names)}

    pop_index = {p: j for j, p in enumerate(modelled)}
    low = loss_rows["low"].to_numpy(dtype=float)
    high = loss_rows["high"].to_numpy(dtype=float)
    point = loss_rows["qualifier"].isin(["exact", "about"]).to_numpy() | (low == high)
    log_point = np.log(np.maximum(low, 0.5))  # a stated 0 is read as "below 1"
    log_low = np.where(low > 0, np.log(np.maximum(low, 1e-300)), _LOG_FLOOR)
    log_high = np.where(np.isfinite(high), np.log(np.maximum(high, 1e-300)), _LOG_CEIL)
    loss = {
        "pop": loss_rows["population"].map(pop_index).to_numpy(dtype=np.int64),
        "days": (loss_rows["day_end"] - loss_rows["day_start"]).to_numpy(dtype=float),
        "day_start": loss_rows["day_start"].to_numpy(dtype=np.int64),  # window [start, end) in days
        "day_end": loss_rows["day_end"].to_numpy(dtype=np.int64),  # since the population's start
        "category": loss_rows["category"].map({c: k for k, c in enumerate(CATEGORIES)}).to_numpy(dtype=np.int64),
        "per_day": (loss_rows["measure"] == "per_day").to_numpy(),
        "pair": np.array(
            [pair_index[(s, st)] for s, st in zip(loss_rows["source"], loss_rows["stance"])], dtype=np.int64
        ),
        "source": loss_rows["source"].map(source_index).to_numpy(dtype=np.int64),
        "about": (loss_rows["qualifier"] == "about").to_numpy(),
        # what each claim states, as the likelihood reads it: [log low, log high], equal for a point
        # column-major, so each end is a contiguous vector once the graph folds ``stated[..., 0]``:
        # a strided constant cannot be cached by numba and costs ~10 s of compilation on every fit
        "stated": np.asfortranarray(
            np.column_stack([np.where(point, log_point, log_low), np.where(point, log_point, log_high)])
        ),
        "claim_id": loss_rows["claim_id"].to_numpy(dtype=object),
    }
    sources = sources.assign(
        reference=sources["source"].isin(reference),
        group_index=sources["source_group"].map({g: k for k, g in enumerate(groups)}),
        source_index=sources["source"].map(source_index),
    )
    bound_rows = frame[bound_mask]
    bound = {
        "pop": bound_rows["population"].map(pop_index).to_numpy(dtype=np.int64),
        "day": bound_rows["day_end"].to_numpy(dtype=np.int64),
        "log_strength": np.log(bound_rows["high"].to_numpy(dtype=float)),
        "claim_id": bound_rows["claim_id"].to_numpy(dtype=object),
        **strength_bias(bound_rows, pair_index, config),
    }
    return ModelInputs(
        claims=frame,
        grid=grid,
        sources=sources,
        groups=groups,
        loss=loss,
        bound=bound,
        estimates=grid.estimate_points(),
        drift=drift_series(loss_rows, pop_index, config),
    )


def claim_noise_floor(loss: dict[str, np.ndarray], priors) -> np.ndarray:
    """Per-claim error that no noise parameter can remove: every figure has finite precision
    (``noise_floor``), and a figure given as "about" is rounded (``about_sd``). Without a floor, a
    quantity stated exactly by a single claim lets its source's noise scale collapse to zero."""
    return np.sqrt(priors["noise_floor"] ** 2 + np.where(loss["about"], priors["about_sd"] ** 2, 0.0))


def claim_location_scale(
    d: ModelInputs, config: Config, true_quantity, bias, noise_sd, bias_drift=None, series_noise_sd=None
) -> tuple[np.ndarray, np.ndarray]:
    """The likelihood's location and scale of every loss claim, in numpy, from values of the
    model's variables with any leading dimensions (draws): ``mu = log(true quantity) + log bias
    (drift included)`` and ``sigma = sqrt(floor^2 + noise^2)``, each (..., claim), the noise being
    the source's (``noise_sd[source]``) or, for a claim of a drifting series, the series'.
    What the graph computes, for the pointwise log-likelihood, the posterior predictive and the
    claims of simulation-based calibration."""
    L, D = d.loss, d.drift
    mu = np.log(true_quantity) + np.log(bias)[..., L["pair"]]
    if bias_drift is not None and len(D.get("knot_series", ())):
        padded = np.concatenate([bias_drift, np.zeros((*np.shape(bias_drift)[:-1], 1))], axis=-1)
        mu = (
            mu
            + D["claim_weight"][:, 0] * padded[..., D["claim_knot"][:, 0]]
            + D["claim_weight"][:, 1] * padded[..., D["claim_knot"][:, 1]]
        )
    floor = claim_noise_floor(L, config.priors)
    noise = np.asarray(noise_sd)[..., L["source"]]
    series = D.get("claim_series")
    if series_noise_sd is not None and series is not None and (series >= 0).any():
        noise = np.where(series >= 0, np.asarray(series_noise_sd)[..., np.maximum(series, 0)], noise)
    sigma = np.sqrt(floor**2 + noise**2)
    return mu, sigma


def observation_terms(posterior, d: ModelInputs, config: Config, chain: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`claim_location_scale` at each draw of one chain of a posterior (an xarray Dataset
    with the model's variables): each (draw, claim)."""
    drift = posterior["bias_drift"].values[chain] if "bias_drift" in posterior else None
    series = posterior["series_noise_sd"].values[chain] if "series_noise_sd" in posterior else None
    return claim_location_scale(
        d,
        config,
        posterior["true_quantity"].values[chain],
        posterior["bias"].values[chain],
        posterior["noise_sd"].values[chain],
        drift,
        series,
    )


def claim_coverage(g: Grid, L: dict[str, np.ndarray]) -> np.ndarray:
    """(population, step) weights, each row summing to 1: the average, over a population's loss
    claims, of the share of each claim's window that falls in each step. The level is the mean
    daily rate under these weights (the walk is normalised to average 1 under them), so it is the
    rate of the days the claims speak about: a population known by one figure, whether cumulative
    or over a late window, then pins its level through that figure without the walk's help.

    O(claims + days): each window adds 1/length to its days (a difference array per population),
    then the days are summed per step. A population with no loss claim weighs its span evenly."""
    n_pop = len(g.populations)
    longest = int(g.n_days.max())
    daily = np.zeros((n_pop, longest + 1))
    start = np.clip(L["day_start"], 0, g.n_days[L["pop"]])
    end = np.clip(L["day_end"], 0, g.n_days[L["pop"]])
    length = end - start
    seen = length > 0
    np.add.at(daily, (L["pop"][seen], start[seen]), 1.0 / length[seen])
    np.add.at(daily, (L["pop"][seen], end[seen]), -1.0 / length[seen])
    daily = np.cumsum(daily[:, :-1], axis=1)
    weight = np.zeros((n_pop, int(g.n_steps.sum())))
    for j, (first, n, n_days) in enumerate(zip(g.offset, g.n_steps, g.n_days)):
        days = daily[j, :n_days].clip(0.0)
        if days.sum() <= 0:
            days = np.ones(n_days)
        weight[j, first : first + n] = np.add.reduceat(days, g.step_start[first : first + n])
    return weight / weight.sum(axis=1, keepdims=True)


def model_arrays(d: ModelInputs, config: Config) -> dict[str, np.ndarray]:
    """Every array the model reads, by name, the priors' parameters included: nothing of the
    claims or the configuration reaches the graph except through these (and the dimensions), so
    ``build_model`` can hold them in shared variables and one compiled model serves every war of
    the same shapes (``reconcile._nutpie``; benchmarks/RESULTS.md, "Compiled once per structure")."""
    pr, g, src, L, B, D = config.priors, d.grid, d.sources, d.loss, d.bound, d.drift
    stances = [s for s in STANCE_ORDER if s in set(src["stance"])]
    free_stances = free_stance_effects(d, config)
    prior = stance_priors(config)
    # a pinned stance points at the last entry of the effect vector, which is 0
    stance_slot = {s: (free_stances.index(s) if s in free_stances else len(free_stances)) for s in stances}
    est = d.estimates
    # every period is located by its two ends on the grid (flat step, days of the step after the
    # end): O(claims) small contiguous vectors, never a (claim, step) matrix, so the compiled
    # model stays cacheable by numba and its cost grows linearly in claims and in steps
    claim_start = g.positions(L["pop"], L["day_start"])
    claim_end = g.positions(L["pop"], L["day_end"])
    est_start = g.positions(est["pop"].to_numpy(), np.zeros(len(est), dtype=np.int64))
    est_end = g.positions(est["pop"].to_numpy(), est["day"].to_numpy())
    bound_start = g.positions(B["pop"], np.zeros_like(B["day"]))
    bound_end = g.positions(B["pop"], B["day"])
    # each population's share of loss claims from each (source, stance) pair: the weights of the
    # mean log bias its claims carry (see the anchored level in build_model)
    pair_claims = np.zeros((len(g.populations), len(src)))
    np.add.at(pair_claims, (L["pop"], L["pair"]), 1.0)
    pair_weight = pair_claims / np.maximum(pair_claims.sum(axis=1, keepdims=True), 1.0)
    phi, ou_scale = ou_coefficients(g, config["time"]["correlation_days"])
    anchor = anchor_categories(d)
    n_levels = int(np.ceil(np.log2(max(int(g.n_steps.max()), 2))))
    structure = bias_structure(d)
    n_sources = len(structure["source_group_of"])
    statement = D.get("claim_series", np.full(len(L["source"]), -1)) < 0
    source_claims = np.bincount(L["source"][statement], minlength=n_sources)
    arrays = {
        "pop_of_step": g.pop,
        "step_width": g.width.astype(float),
        "ou_scale": ou_scale,
        "ou_scan": ou_scan_coefficients(phi, n_levels),
        "walk_centring": walk_centring(d, config),
        "pop_day_weight": claim_coverage(g, L),
        "pop_pair_weight": pair_weight,
        # the walk's level is the log daily rate of each population's anchor category
        "log_rate_median": np.log([config.daily_rate_median(p) for p in g.populations])
        + np.log(typical_category_share(anchor, config.priors)),
        "pop_anchor": anchor,
        "estimate_start_step": est_start[0],
        "estimate_start_rest": est_start[1],
        "estimate_end_step": est_end[0],
        "estimate_end_rest": est_end[1],
        "claim_start_step": claim_start[0],
        "claim_start_rest": claim_start[1],
        "claim_end_step": claim_end[0],
        "claim_end_rest": claim_end[1],
        "claim_category": L["category"],
        "claim_pop": L["pop"],
        "claim_length": np.where(L["per_day"], L["days"], 1.0),
        "claim_pair": L["pair"],
        "claim_source": L["source"],
        "claim_noise_floor": claim_noise_floor(L, pr),
        "stated_figures": L["stated"],
        "stance_mean": np.array([prior[s][0] for s in free_stances], dtype=float),
        "stance_sd": np.array([prior[s][1] for s in free_stances], dtype=float),
        "pair_stance": src["stance"].map(stance_slot).to_numpy(dtype=np.int64),
        "pair_group": src["group_index"].to_numpy(dtype=np.int64),
        "pair_source": src["source_index"].to_numpy(dtype=np.int64),
        "pair_free": (~src["reference"].to_numpy()).astype(float),
        # claims informing each source's effect, free sources in each group (a reference source's
        # effect is pinned out of the likelihood: only its prior is left, best non-centred)
        "source_centred": _centred(
            src["n_claims"].where(~src["reference"], 0).groupby(src["source_index"]).sum().sort_index().to_numpy(),
            _SOURCE_CENTRED_FROM,
        ),
        "group_centred": _centred(
            src["source"]
            .where(~src["reference"])
            .groupby(src["group_index"])
            .nunique()
            .reindex(range(len(d.groups)), fill_value=0)
            .to_numpy(),
            _GROUP_SOURCES_CENTRED_FROM,
        ),
        # a source's noise scale is centred once its claims pin it
        "noise_centred": _centred(source_claims, _NOISE_CENTRED_FROM),
        **{name: value for name, value in structure.items() if name not in ("contrast_labels", "data_rich_group")},
        **(group_mean_basis(d, config) if uses_group_means(d) else {}),
        "bound_start_step": bound_start[0],
        "bound_start_rest": bound_start[1],
        "bound_end_step": bound_end[0],
        "bound_end_rest": bound_end[1],
        "stated_strength": B["log_strength"],
        "bound_pair": B["pair"],  # -1: the last slot of the padded biases, 0
        "bound_prior_log_bias": B["prior_log_bias"],
        "bound_softness": B["softness"],
        # the priors' parameters, from their declarations (reconcile.priors)
        **{
            f"prior_{name}": declared.fixed_scale(name, pr)
            for name in ("group_sd", "source_sd", "level_sd", "share_sd")
        },
        **{f"prior_{name}": prior.data(pr) for name, prior in declared.SAMPLED.items() if name != "series_noise_sd"},
        **share_knots(g, config),
        "prior_outlier": np.array([pr["outlier_prob"], pr["outlier_sd"]], dtype=float),
    }
    if len(D.get("knot_series", ())):
        arrays.update(
            {
                "drift_innovation_knot": np.flatnonzero(~D["knot_first"]).astype(np.int64),
                "drift_innovation_scale": D["knot_scale"][~D["knot_first"]],
                "drift_series_first": D["series"]["first_knot"].to_numpy(dtype=np.int64)[D["knot_series"]],
                "drift_knot_series": D["knot_series"],
                "drift_series_weight": D["series_weight"],
                "claim_drift_knot_0": np.ascontiguousarray(D["claim_knot"][:, 0]),
                "claim_drift_knot_1": np.ascontiguousarray(D["claim_knot"][:, 1]),
                "claim_drift_weight_0": np.ascontiguousarray(D["claim_weight"][:, 0]),
                "claim_drift_weight_1": np.ascontiguousarray(D["claim_weight"][:, 1]),
                "claim_in_series": (D["claim_series"] >= 0).astype(float),
                "claim_series": np.maximum(D["claim_series"], 0),
                "prior_drift_scale": declared.fixed_scale("drift_scale", pr),
                "prior_series_noise_sd": declared.SAMPLED["series_noise_sd"].data(pr),
            }
        )
    return arrays


# From how many claims an effect is parameterized centred: a source's effect (or its contrast
# with the better-informed sources of its group, see bias_structure), by its own claims; only
# data-rich sources are centred (docs/decisions.md, "Centre a source's effect only from 40 claims").
# In the group effect + source effect form, a group effect is centred from 10 free sources. A group
# whose free sources make _DATA_RICH_FROM claims makes the war data-rich (uses_group_means); its
# group means are then centred direction by direction, by information (group_mean_basis).
_SOURCE_CENTRED_FROM = 40
_DATA_RICH_FROM = 40
_GROUP_SOURCES_CENTRED_FROM = 10
_NOISE_CENTRED_FROM = 40


# A population whose loss claims are this share or more of one category (killed or wounded) has
# its curve sampled on that category's daily rate (docs/decisions.md, "Anchor a population's curve
# on the category its claims count")
_ANCHOR_SHARE = 0.8


def anchor_categories(d: ModelInputs) -> np.ndarray:
    """Per population: the category (index in CATEGORIES) its curve's walk is the daily rate of:
    killed or wounded where that category makes at least _ANCHOR_SHARE of its loss claims, else
    casualties."""
    L = d.loss
    out = np.full(len(d.grid.populations), 2, dtype=np.int64)
    pops, cats = np.asarray(L["pop"]), np.asarray(L["category"])
    for j in range(len(out)):
        own = cats[pops == j]
        for k in (0, 1):
            if len(own) and np.mean(own == k) >= _ANCHOR_SHARE:
                out[j] = k
    return out


def typical_category_share(categories: np.ndarray, pr: Mapping[str, Any]) -> np.ndarray:
    """The prior's typical share of casualties each category (index in CATEGORIES) is: the killed
    share's prior mean for killed, its complement for wounded, 1 for casualties."""
    typical = pr["killed_share_a"] / (pr["killed_share_a"] + pr["killed_share_b"])
    return np.array([typical, 1.0 - typical, 1.0])[np.asarray(categories)]


def _centred(counts: np.ndarray, threshold: int) -> np.ndarray:
    """Which effects are parameterized centred: those the data pin down (see build_model)."""
    return np.asarray(counts) >= threshold


def _informed_basis(information: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenbasis of the claims' information on standard-normal coordinates (most informed first,
    each vector's largest entry positive, so the basis is reproducible) and each coordinate's
    partial-centring weight ``rho / (1 + rho)`` (Papaspiliopoulos, Roberts & Skold, 2007)."""
    rho, q = np.linalg.eigh(information)
    rho, q = rho[::-1].clip(0.0), q[:, ::-1]
    q = q * np.where(q[np.abs(q).argmax(axis=0), np.arange(q.shape[1])] < 0, -1.0, 1.0)
    return q, rho / (1.0 + rho)


def _claim_precision(L: dict[str, np.ndarray], pr) -> np.ndarray:
    """What the prior expects one loss claim to say about the log of its quantity, as a precision:
    its noise floor, the prior's noise scale, half its interval's log width (a one-sided bound
    counts as sd 1). For walk_basis's linearisation."""
    low, high = L["stated"][:, 0], L["stated"][:, 1]
    one_sided = (low <= _LOG_FLOOR) | (high >= _LOG_CEIL)
    spread = np.where(one_sided, 1.0, (high - low) / 4.0)
    return 1.0 / (claim_noise_floor(L, pr) ** 2 + pr["noise_sd"] ** 2 + spread**2)


def walk_centring(d: ModelInputs, config: Config) -> np.ndarray:
    """How far each step's innovation of the log-rate curve is centred (0: non-centred, 1: centred).

    The innovations are ``rate_sd * scale_k * z_k``, ``z ~ N(0, 1)``. Sampled as ``u_k ~
    N(0, rate_sd^w_k)`` with ``z_k = u_k * rate_sd^-w_k`` the prior is the same for any ``w_k``;
    ``w_k = rho_k / (1 + rho_k)`` (Papaspiliopoulos, Roberts & Skold, 2007), with ``rho_k`` how many
    times more the claims know about innovation k than its prior does, to first order: each loss
    claim one observation of the log of its window's total (its derivative in the log rate of a step
    is the window's share of days in it), with the noise the prior expects (``_claim_precision``;
    the claims of a drifting series with their series' noise plus the drift's variance over a
    knot), mapped to the innovations through the Ornstein-Uhlenbeck matrix. Where a running tally
    pins the curve week by week, its innovations are centred and ``rate_sd`` moves without dragging
    them; where no claim sees a step, it stays non-centred and cannot funnel against ``rate_sd``."""
    pr, g, L, D = config.priors, d.grid, d.loss, d.drift
    size = int(g.n_steps.sum())
    if size == 0 or len(L["pop"]) == 0:
        return np.zeros(size)
    precision = _claim_precision(L, pr)
    series = D.get("claim_series", np.full(len(L["pop"]), -1))
    if (series >= 0).any():
        drift_var = pr["drift_sd"] ** 2 * config["drift"]["knot_days"] / _DRIFT_UNIT_DAYS
        series_var = claim_noise_floor(L, pr) ** 2 + pr["series_noise_sd"] ** 2 + drift_var
        precision = np.where(series >= 0, 1.0 / series_var, precision)
    tau = config["time"]["correlation_days"]
    phi, scale = ou_coefficients(g, tau)
    out = np.zeros(size)
    for j, (first, n) in enumerate(zip(g.offset, g.n_steps)):
        mine = L["pop"] == j
        if not mine.any():
            continue
        block = slice(int(first), int(first + n))
        start = L["day_start"][mine][:, None]
        end = L["day_end"][mine][:, None]
        lo = np.maximum(g.step_start[block][None, :], start)
        hi = np.minimum(g.step_end[block][None, :], end)
        days = np.clip(hi - lo, 0, None).astype(float)
        share = days / np.maximum(days.sum(axis=1, keepdims=True), 1.0)
        # the curve is normalised under the claims' coverage: a shape that moves every window
        # alike is the level's, not the curve's
        share = share - share.mean(axis=0, keepdims=True)
        information = (share * precision[mine][:, None]).T @ share
        m = np.zeros((int(n), int(n)))
        for k in range(int(n)):
            if k > 0:
                m[k] = phi[int(first) + k] * m[k - 1]
            m[k, k] = scale[int(first) + k]
        rho = pr["rate_sd"] ** 2 * np.einsum("ik,ij,jk->k", m, information, m)
        out[block] = rho / (1.0 + rho)
    return out


# The group means' centring is computed as if the claims knew a quarter of what the linearisation
# says (the information at half the prior's scale of the group means): the posterior reaches small
# between-group spreads, where the claims pin the differences less than at the prior's mean scale
# (docs/decisions.md, "Rotate the group means into the claims' information basis").
_GROUP_MEAN_INFORMATION_SCALE = 0.25


def group_mean_basis(d: ModelInputs, config: Config) -> dict[str, np.ndarray]:
    """A rotation of the groups' mean effects that separates what the claims pin from what they
    do not, and how far each direction is centred (the walk's treatment, ``walk_basis``, applied
    to the biases of a data-rich war).

    The group means are ``m_G = sd_G * z_G``, ``sd_G = sqrt(group_sd² + source_sd² / n_G)`` and
    ``z ~ N(0, I)`` (``bias_structure``). Any orthonormal rotation ``z = Q c`` keeps that prior
    exactly; ``Q`` holds the eigenvectors of the claims' information on ``z`` and each coordinate
    is partially centred by its eigenvalue ``rho`` (``w = rho / (1 + rho)``, see
    ``_informed_basis``), taken at a quarter (``_GROUP_MEAN_INFORMATION_SCALE``). The claims pin
    the *differences* between groups, but hardly their common shift, which the population's level
    absorbs: centred, that direction funnels against the spread of the biases (docs/decisions.md).

    The information is exact for a linearised model: each loss claim one observation of the log
    of its quantity with the noise the prior expects (``_claim_precision``), plus its population's
    level (prior sd ``daily_rate_log_sd``), its stance's effect, its group's mean and its source's
    deviation from it (prior sd ``source_sd``), every scale at its prior mean; the information on
    the group means is what the claims add to their prior once every other effect is integrated out.
    """
    pr, L, src = config.priors, d.loss, d.sources
    b = bias_structure(d)
    n_pops, n_groups, n_sources = len(d.grid.populations), len(d.groups), len(b["source_group_of"])
    prior = stance_priors(config)
    stances = free_stance_effects(d, config)
    group_sd = np.sqrt(pr["group_sd"] ** 2 + pr["source_sd"] ** 2 / b["group_free_sources"])
    if n_groups == 0 or len(L["pair"]) == 0:
        return {"group_mean_basis": np.eye(n_groups), "group_mean_centring": np.zeros(n_groups)}
    # parameters: each population's level, the free stance effects, the group means, the sources'
    # deviations from their group's mean
    offset = np.cumsum([0, n_pops, len(stances), n_groups, n_sources])
    prior_variance = np.concatenate(
        [
            np.full(n_pops, float(pr["daily_rate_log_sd"]) ** 2),
            [prior[s][1] ** 2 for s in stances],
            group_sd**2,
            np.full(n_sources, float(pr["source_sd"]) ** 2),
        ]
    )
    pair = L["pair"]
    free = ~src["reference"].to_numpy()[pair]
    slot = src["stance"].map({s: i for i, s in enumerate(stances)}).to_numpy()[pair]
    rows, cols = [np.arange(len(pair))], [L["pop"]]
    has_stance = free & ~pd.isna(slot)
    rows.append(np.flatnonzero(has_stance))
    cols.append(offset[1] + slot[has_stance].astype(np.int64))
    for k, index in ((2, src["group_index"]), (3, src["source_index"])):
        rows.append(np.flatnonzero(free))
        cols.append(offset[k] + index.to_numpy()[pair][free])
    all_rows, all_cols = np.concatenate(rows), np.concatenate(cols)
    design = sparse.csr_matrix((np.ones(len(all_rows)), (all_rows, all_cols)), shape=(len(pair), int(offset[-1])))
    precision = (design.T @ sparse.diags(_claim_precision(L, pr)) @ design).toarray() + np.diag(1.0 / prior_variance)
    groups = slice(int(offset[2]), int(offset[3]))
    covariance = np.linalg.inv(precision)[groups, groups]
    information = np.linalg.inv(covariance) - np.diag(1.0 / group_sd**2)
    information = group_sd[:, None] * (information + information.T) / 2.0 * group_sd[None, :]
    basis, centring = _informed_basis(_GROUP_MEAN_INFORMATION_SCALE * information)
    return {"group_mean_basis": basis, "group_mean_centring": centring}


def uses_group_means(d: ModelInputs) -> bool:
    """Whether the war is data-rich: some group of sources makes 40 claims or more. Such a war
    samples the biases as group means + contrasts (``bias_structure``), the walk in its rotated,
    partially centred basis (``walk_basis``), and tunes for ``sampler.tune_data_rich`` steps."""
    return bool(bias_structure(d)["data_rich_group"].any())


def bias_structure(d: ModelInputs) -> dict[str, np.ndarray]:
    """How the free sources' effects split into group means and within-group contrasts.

    The prior ``effect_j = g_G + s_j`` (``g ~ N(0, group_sd)``, ``s ~ N(0, source_sd)``) is
    sampled in an equivalent form that separates what the claims pin from what they do not.
    The claims pin each source's total effect, so they pin a group's *mean* effect
    ``m_G = g_G + mean(s)``, ``~ N(0, sqrt(group_sd² + source_sd² / n_G))``, and the sources'
    deviations from it, ``source_sd * H z`` with ``H`` an orthonormal (Helmert) basis of the
    n_G - 1 within-group contrasts and ``z ~ N(0, 1)``. The split of the mean between ``g`` and
    ``mean(s)`` is never sampled: it is the direction the data cannot see, which funnels against
    the two scales (docs/decisions.md, "Sample group means and within-group contrasts").

    The group means themselves are sampled in a rotation that separates their differences, which
    the claims pin, from their common shift, which the levels absorb (``group_mean_basis``).

    Sources are ordered by claims within a group (most first), so contrast k sets source k + 1
    against the k better-informed ones and is pinned when that source has many claims.
    Reference sources (bias 1 by the identifying assumption) take no part.

    This form is used when at least one group is data-rich (``data_rich_group``: the
    group's sources make 40 claims or more). In smaller wars every group is data-poor, the split
    is a harmless prior-only direction, and the model keeps the plain group effect + source effect
    form, whose calibration and recovery runs are on record (``uses_group_means``).
    """
    src = d.sources
    n_groups, n_sources = len(d.groups), int(src["source_index"].max()) + 1 if len(src) else 0
    free_claims = src["n_claims"].where(~src["reference"], 0).groupby(src["source_index"]).sum()
    free_claims = free_claims.reindex(range(n_sources), fill_value=0).to_numpy()
    group_of = src.groupby("source_index")["group_index"].first().reindex(range(n_sources), fill_value=0).to_numpy()
    free = free_claims > 0
    n_free = np.bincount(group_of[free], minlength=n_groups)
    group_claims = np.bincount(group_of[free], weights=free_claims[free], minlength=n_groups)
    names = sorted(src["source"].unique())  # by source_index, as the "source" coordinate
    columns, centred, labels = [], [], []
    for k in range(n_groups):
        members = sorted(np.flatnonzero(free & (group_of == k)), key=lambda j: (-free_claims[j], j))
        for m in range(1, len(members)):
            column = np.zeros(n_sources)
            column[members[:m]] = 1.0
            column[members[m]] = -float(m)
            columns.append(column / np.sqrt(m * (m + 1.0)))
            centred.append(free_claims[members[m]] >= _SOURCE_CENTRED_FROM)
            labels.append(f"{names[members[m]]} (vs {d.groups[k]})")
    return {
        "source_group_of": group_of.astype(np.int64),
        "source_free": free.astype(float),
        "group_free_sources": np.maximum(n_free, 1).astype(float),
        "data_rich_group": (group_claims >= _DATA_RICH_FROM) & (n_free > 0),
        "contrast_basis": np.array(columns).T if columns else np.zeros((n_sources, 0)),
        "contrast_centred": np.array(centred, dtype=bool),
        "contrast_labels": np.array(labels, dtype=object),
    }


def stance_priors(config: Config) -> dict[str, tuple[float, float]]:
    """Mean and sd of the normal prior on each stance's effect on the log bias
    (:func:`reconcile.priors.stance_effect`)."""
    return declared.stance_effect(config.priors)


def hyperpriors(config: Config) -> dict[str, stats.rv_continuous]:
    """The priors of the model's sampled hyperparameters as scipy distributions (for plots and
    checks), from the same declarations the graph builds them from (:mod:`reconcile.priors`)."""
    return declared.hyperpriors(config.priors)


def free_stance_effects(d: ModelInputs, config: Config) -> list[str]:
    """Stances whose effect is estimated (the identifying assumption pins the others to 0)."""
    pinned = {"neutral"} if config.identification["mode"] == "neutral" else set()
    return [s for s in STANCE_ORDER if s in set(d.sources["stance"]) and s not in pinned]


def ou_walk(innovations, scan, n_levels: int):
    """Each population's AR(1) log-rate deviation from its innovations ``b`` (flat steps): the
    recurrence ``x_k = phi_k x_(k-1) + b_k`` as a parallel prefix scan (``ou_scan_coefficients``)."""
    x = innovations
    for level in range(n_levels):
        lag = 2**level
        x = x + scan[level] * pt.concatenate([pt.zeros(lag), x[:-lag]])
    return x


def build_model(
    claims: Claims, config: Config, inputs: ModelInputs | None = None, *, constant_data: bool = False
) -> pm.Model:
    """Build the reconciliation model. ``inputs`` may be passed when already prepared.

    Every array the model reads, prior parameters included (``model_arrays``), enters the graph
    as a named shared variable, so the compiled model does not depend on the values: wars of
    the same structure (``reconcile._nutpie.structure_key``) share one compiled model, on disk and in a loop
    of fits (``reconcile._nutpie``). ``constant_data=True`` folds them into the graph as
    constants instead (for benchmarks: a model compiled for one set of claims only).
    """
    d = inputs if inputs is not None else prepare(claims, config)
    g, src, D = d.grid, d.sources, d.drift
    group_means = uses_group_means(d)
    has_drift = bool(len(D.get("knot_series", ())))
    drift_labels = []
    if has_drift:
        for _r, row in D["series"].iterrows():
            for k in range(int(row["n_knots"])):
                day = D["knot_day"][int(row["first_knot"]) + k]
                date = g.starts[row["population"]] + dt.timedelta(days=int(round(day)))
                drift_labels.append(f"{row['source']} | {row['population']} | {date.isoformat()}")
    coords: dict[str, Any] = {
        "population": list(g.populations),
        "step": [f"{p} {k}" for j, p in enumerate(g.populations) for k in range(g.n_steps[j])],
        "estimate": np.arange(len(d.estimates)),
        "source_stance": [f"{s} [{st}]" for s, st in zip(src["source"], src["stance"])],
        "source_group": list(d.groups),
        "source": d.source_names,
        "source_contrast": list(bias_structure(d)["contrast_labels"]) if group_means else [],
        # group_mean_z holds coordinates in group_mean_basis's rotation, not one group each
        "group_mean_direction": [f"direction {k}" for k in range(len(d.groups))] if group_means else [],
        "stance_effect": free_stance_effects(d, config),
        "claim": list(d.loss["claim_id"]),
        "bound": list(d.bound["claim_id"]),
        "end": ["low", "high"],
        "drift_knot": drift_labels,
        "drift_innovation": [lab for lab, first in zip(drift_labels, D.get("knot_first", [])) if not first],
        "drift_series": [f"{r['source']} | {r['population']}" for _, r in D["series"].iterrows()] if has_drift else [],
        "share_knot": share_knot_labels(g, config),
    }
    arrays = model_arrays(d, config)

    with pm.Model(coords=coords) as model:
        if constant_data:
            x = {name: pt.constant(value, name=name) for name, value in arrays.items()}
        else:
            x = {name: pytensor.shared(value, name=name) for name, value in arrays.items()}
        pop_of = x["pop_of_step"]

        def sampled(name: str):
            """A hyperparameter as declared in reconcile.priors, its parameters read from the data."""
            return declared.SAMPLED[name].pymc(name, x[f"prior_{name}"])

        # 1. source biases: stance effect + group effect + source effect (partial pooling)
        stance_z = pm.Normal("stance_z", 0.0, 1.0, dims="stance_effect")
        stance_effect = pt.concatenate([x["stance_mean"] + x["stance_sd"] * stance_z, pt.zeros(1)])
        # The spreads of the biases between groups and between a group's sources are fixed at
        # their configured values, not learnt: a war has a handful of groups, too few to learn a
        # spread from (docs/decisions.md, "Fix the spreads of the biases...").
        group_sd, source_sd = x["prior_group_sd"], x["prior_source_sd"]
        if group_means:
            # A source's effect is its group's mean effect plus its contrast with the group's other
            # sources (bias_structure: the same prior as group effect + source effect, without the
            # split of the mean the data cannot see). Each part is non-centred (effect = sd * z,
            # z ~ N(0, 1)) where the data say little about it, centred (z is the effect, ~ N(0, sd))
            # where they pin it. Same prior either way. The group means are sampled in
            # group_mean_basis's rotation, each coordinate partially centred by how well the claims
            # know it.
            group_mean_sd = pt.sqrt(group_sd**2 + source_sd**2 / x["group_free_sources"])
            scale, centring = pt.exp(pt.mean(pt.log(group_mean_sd))), x["group_mean_centring"]
            group_mean_z = pm.Normal("group_mean_z", 0.0, scale**centring, dims="group_mean_direction")
            group_mean = group_mean_sd * pt.dot(x["group_mean_basis"], group_mean_z * scale ** (-centring))
            source_effect = group_mean[x["source_group_of"]]
            if len(coords["source_contrast"]):
                centred = x["contrast_centred"]
                contrast_z = pm.Normal("contrast_z", 0.0, pt.where(centred, source_sd, 1.0), dims="source_contrast")
                contrast = pt.where(centred, 1.0, source_sd) * contrast_z
                source_effect = source_effect + pt.dot(x["contrast_basis"], contrast)
            source_effect = x["source_free"] * source_effect
            log_bias = x["pair_free"] * (stance_effect[x["pair_stance"]] + source_effect[x["pair_source"]])
        else:
            # Non-centred where the data say little about an effect; centred where they pin it (a
            # source with many claims, a group of many sources). Same prior either way.
            group_z = pm.Normal("group_z", 0.0, pt.where(x["group_centred"], group_sd, 1.0), dims="source_group")
            source_z = pm.Normal("source_z", 0.0, pt.where(x["source_centred"], source_sd, 1.0), dims="source")
            group_effect = pt.where(x["group_centred"], 1.0, group_sd) * group_z
            source_effect = pt.where(x["source_centred"], 1.0, source_sd) * source_z
            log_bias = x["pair_free"] * (
                stance_effect[x["pair_stance"]] + group_effect[x["pair_group"]] + source_effect[x["pair_source"]]
            )
        pm.Deterministic("bias", pt.exp(log_bias), dims="source_stance")

        # 1b. drifting biases of the long series (drift_series): a random walk over each series'
        # knots, centred so that it averages 0 over the series' claims, read by linear interpolation
        claim_log_bias = log_bias[x["claim_pair"]]
        if has_drift:
            # fixed, like the spreads of the biases: a war has a few long series, too few to learn
            # how fast biases drift from (docs/decisions.md)
            drift_scale = x["prior_drift_scale"]
            drift_z = pm.Normal("drift_z", 0.0, 1.0, dims="drift_innovation")
            n_knots = len(drift_labels)
            steps = pt.set_subtensor(
                pt.zeros(n_knots)[x["drift_innovation_knot"]], x["drift_innovation_scale"] * drift_z
            )
            running = pt.cumsum(steps)
            knots = drift_scale * (running - (running - steps)[x["drift_series_first"]])
            knots = knots - pt.dot(x["drift_series_weight"], knots)[x["drift_knot_series"]]
            pm.Deterministic("bias_drift", knots, dims="drift_knot")
            padded = pt.concatenate([knots, pt.zeros(1)])
            claim_log_bias = claim_log_bias + (
                x["claim_drift_weight_0"] * padded[x["claim_drift_knot_0"]]
                + x["claim_drift_weight_1"] * padded[x["claim_drift_knot_1"]]
            )

        # 2. latent daily casualties per population: a level (the log of the mean daily rate over
        # the days its claims speak about) times a stationary AR(1) curve normalised to average 1
        # there.
        # - The claims pin the level *plus* the mean log bias they carry, not the level itself, and
        #   how far apart the two are depends on the spread of the biases: a funnel NUTS diverges
        #   in. So the sampler moves the anchored level (``level_z``: the level plus that mean
        #   bias, in prior sd units), which the data pin, and the level is derived from it. Its
        #   prior, N(shift, 1), makes the level exactly N(median, sd) and independent of the biases.
        # - The curve is normalised on the natural scale under the claims' weights
        #   (``claim_coverage``: the mean, over the population's claims, of each window's mean
        #   rate = level), so a population known by one figure, cumulative or over a late window,
        #   pins its level through it with no banana between level and curve.
        level_sd = x["prior_level_sd"]
        anchor_shift = pt.dot(x["pop_pair_weight"], log_bias) / level_sd
        level_z = pm.Normal("level_z", anchor_shift, 1.0, dims="population")
        level = pm.Deterministic(
            "log_rate_level", x["log_rate_median"] + level_sd * (level_z - anchor_shift), dims="population"
        )
        # the curve's spread gets a zero-avoiding lognormal prior: a daily rate that never changes is
        # implausible, a scale free to reach 0 mixes slowly, and its light right tail keeps the
        # curve of a population few claims speak about from reaching absurd totals
        rate_sd = sampled("rate_sd")
        # partially centred innovations (walk_centring): the same prior, a geometry NUTS mixes well
        # both where the claims pin the curve week by week and where none sees it
        scale_of, centring = rate_sd[pop_of], x["walk_centring"]
        rw_z = pm.Normal("rw_z", 0.0, scale_of**centring, dims="step")
        walk = ou_walk(
            scale_of ** (1.0 - centring) * x["ou_scale"] * rw_z, x["ou_scan"], int(arrays["ou_scan"].shape[0])
        )
        # normalised on the log scale: shifted by the highest weighted step of its population, the
        # weighted mean cannot underflow to 0 nor the exponentials overflow, however wide the curve
        weight = x["pop_day_weight"]
        shift = pt.max(pt.where(pt.gt(weight, 0.0), walk[None, :], -np.inf), axis=1)
        # (and no step's rate underflows to 0: a floor far below anything a posterior can reach)
        shifted = pt.maximum(walk - shift[pop_of], -600.0)
        log_norm = pt.log(pt.dot(weight, pt.exp(pt.minimum(shifted, 700.0))))
        log_rate = level[pop_of] + shifted - log_norm[pop_of]
        # 3. the killed share of each population's casualties: its typical value (killed_share),
        # moved on the logit scale by a slow stationary curve over coarse knots (share_knots),
        # shared in spread by every population
        killed_share = sampled("killed_share")
        # its spread is fixed (killed_share_sd), not learnt: a few populations cannot tell it
        # (docs/decisions.md)
        share_sd = x["prior_share_sd"]
        share_z = pm.Normal("share_z", 0.0, 1.0, dims="share_knot")
        knots = share_sd * pt.dot(x["share_ou"], share_z)
        deviation = x["share_weight_0"] * knots[x["share_knot_0"]] + x["share_weight_1"] * knots[x["share_knot_1"]]
        # (clipped: a share that rounds to 0 or 1 would make the logit infinite)
        typical = pt.clip(killed_share, 1e-12, 1.0 - 1e-12)
        logit_share = (pt.log(typical) - pt.log1p(-typical))[pop_of] + deviation
        killed_share_step = pm.Deterministic("step_killed_share", pm.math.sigmoid(logit_share), dims="step")
        # the walk is the daily rate of the population's anchor category (anchor_categories): the
        # category its claims count, so claims of killed alone pin the walk without passing through
        # the share; casualties = anchor rate / anchor share
        anchor = x["pop_anchor"][pop_of]
        log_anchor_share = pt.switch(
            pt.eq(anchor, 0),
            -pt.softplus(-logit_share),
            pt.switch(pt.eq(anchor, 1), -pt.softplus(logit_share), 0.0),
        )
        # mean daily casualties per step (kept in the posterior: any period's losses follow
        # exactly, e.g. the claims a backtest's vintage had not seen yet; reconcile.forecast)
        rate = pm.Deterministic("step_rate", pt.exp(log_rate - log_anchor_share), dims="step")

        def accumulate(step_rate):
            """The totals over periods of a per-step daily rate: from its running total at each
            step's end, a period's total is the difference of its two ends, each read off the step
            holding it (exact: the rate is constant in a step). Returns kind -> totals, for the
            periods of the estimates, the claims or the bounds."""
            at_step_end = pt.cumsum(step_rate * x["step_width"])

            def totals(kind):
                def at(end):
                    step = x[f"{kind}_{end}_step"]
                    return at_step_end[step] - x[f"{kind}_{end}_rest"] * step_rate[step]

                return at("end") - at("start")

            return totals

        period_total = accumulate(rate)
        pm.Deterministic("cumulative_casualties", period_total("estimate"), dims="estimate")
        # killed accumulate the rate times the share
        killed_total = accumulate(rate * killed_share_step)
        pm.Deterministic("cumulative_killed", killed_total("estimate"), dims="estimate")

        # 4. the true quantity each loss claim refers to (killed, wounded or casualties); wounded
        # accumulate their own share rather than total - killed, which rounds to 0 when the killed
        # share nears 1
        total = period_total("claim")
        killed, wounded = killed_total("claim"), accumulate(rate * pm.math.sigmoid(-logit_share))("claim")
        category = x["claim_category"]
        total = pt.switch(pt.eq(category, 0), killed, pt.switch(pt.eq(category, 1), wounded, total))
        # floored far below any figure: a difference of running totals can round to 0 (or below)
        # where the rate swings over more orders of magnitude than floating point holds
        true_q = pm.Deterministic("true_quantity", pt.maximum(total / x["claim_length"], 1e-250), dims="claim")

        # 5. each source's own noise scale, partially pooled: log noise = typical + group + source
        # effects (zero-avoiding typical scale: no source's figures match its belief exactly).
        # Non-centred, except for a source whose many claims pin its scale.
        noise_typical = sampled("noise_typical")
        noise_group_sd = sampled("noise_group_sd")
        noise_source_sd = sampled("noise_source_sd")
        noise_group_z = pm.Normal("noise_group_z", 0.0, 1.0, dims="source_group")
        centred = x["noise_centred"]
        noise_source_z = pm.Normal("noise_source_z", 0.0, pt.where(centred, noise_source_sd, 1.0), dims="source")
        log_noise = (
            pt.log(noise_typical)
            + noise_group_sd * noise_group_z[x["source_group_of"]]
            + pt.where(centred, 1.0, noise_source_sd) * noise_source_z
        )
        # softly capped at half the outliers' scale: a source's noise wider than the outliers'
        # would swap the mixture's two components, a second mode in which every statement is noise
        # and one running tally alone sets the curve (docs/decisions.md, "Cap each source's noise")
        # (noise / sqrt(1 + (noise / cap)^2), computed on the log scale so it cannot overflow)
        log_cap = pt.log(0.5 * x["prior_outlier"][1])
        capped = log_noise - 0.5 * pt.softplus(2.0 * (log_noise - log_cap))
        noise_sd = pm.Deterministic("noise_sd", pt.exp(capped), dims="source")
        claim_noise = noise_sd[x["claim_source"]]
        if has_drift:
            # what a running series' errors keep once its drift is taken out: its own scale, apart
            # from the statements' pool (a count published every day is far smoother than a speech)
            series_noise = sampled("series_noise_sd")
            claim_noise = pt.where(x["claim_in_series"] > 0, series_noise[x["claim_series"]], claim_noise)

        # 6. the stated figures: points (density) and intervals (censoring), robust noise
        mu = pt.log(true_q) + claim_log_bias
        sigma = pt.sqrt(x["claim_noise_floor"] ** 2 + claim_noise**2)
        pm.CustomDist(
            "stated",
            mu,
            sigma,
            x["prior_outlier"][0],
            x["prior_outlier"][1],
            logp=stated_logp,
            signature="(),(),(),()->(2)",
            observed=x["stated_figures"],
            dims=("claim", "end"),
        )

        # 7. stated force strengths bound cumulative casualties from above (softly)
        if len(d.bound["claim_id"]):
            cum_at = pm.Deterministic("bound_casualties", pt.maximum(period_total("bound"), 1e-250), dims="bound")
            padded = pt.concatenate([log_bias, pt.zeros(1)])
            stated_at = pt.log(cum_at) + padded[x["bound_pair"]] + x["bound_prior_log_bias"]
            pm.CustomDist(
                "strength",
                stated_at,
                x["bound_softness"],
                logp=strength_logp,
                observed=x["stated_strength"],
                dims="bound",
            )
    return model
