"""Claims + configuration -> the model's inputs (``prepare``): which claims are loss figures,
strength bounds or relays, the sources and their stances, the arrays over loss claims and bounds,
the drifting series, and the identification's choices of which effects are free."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .. import priors as declared
from ..claims import Claims
from ..config import Config, ConfigError
from ..errors import ModelDataError
from .grid import Grid, build_grid, knot_position

CATEGORIES = ("killed", "wounded", "casualties")
STANCE_ORDER = ("adversary", "own", "neutral", "unknown")
LOG_FLOOR, LOG_CEIL = -30.0, 30.0  # stand-ins for log(0) and log(inf): finite for gradients
DRIFT_UNIT_DAYS = 30.0  # the drift's scale is per 30 days

# Roles of a claim in the fit (also reported per claim in claims_check.csv)
ROLE_LOSS = "loss figure"
ROLE_BOUND = "strength bound"
ROLE_RELAY = "relay of another claim (not counted twice)"
ROLE_UNMODELLED = "population has no loss claim (not estimated)"
ROLE_WINDOW_STRENGTH = "strength added over a window (bounds no cumulative loss)"
ROLE_EARLY_STRENGTH = "strength before the first losses (bounds nothing)"
ROLE_NO_BOUND = "no upper end stated (bounds nothing)"


@dataclass(frozen=True)
class LossClaims:
    """Arrays over the loss claims the model reads, one entry per claim in the claims' order."""

    pop: np.ndarray  # population index
    days: np.ndarray  # length of the period, in days
    day_start: np.ndarray  # period [start, end) in days since the population's start
    day_end: np.ndarray
    category: np.ndarray  # index in CATEGORIES
    per_day: np.ndarray  # a daily average (else a total)
    pair: np.ndarray  # (source, stance) pair, a row of ModelInputs.sources
    source: np.ndarray  # source index (ModelInputs.source_names)
    about: np.ndarray  # stated "about" (rounded)
    stated: np.ndarray  # (claim, 2): log of the stated low and high ends (equal for a point)
    claim_id: np.ndarray


@dataclass(frozen=True)
class StrengthBounds:
    """Arrays over the stated force strengths that bound cumulative casualties (strength_bias)."""

    pop: np.ndarray
    day: np.ndarray  # the day bounded, in days since the population's start
    log_strength: np.ndarray
    claim_id: np.ndarray
    pair: np.ndarray  # the source's own (source, stance) pair, or -1 (none: read by the prior)
    prior_log_bias: np.ndarray  # without a pair: the stance's prior mean log bias
    softness: np.ndarray


@dataclass(frozen=True)
class DriftSeries:
    """The (source, population) series whose bias drifts (drift_series): their knots, flat,
    series after series, and how each loss claim reads them (a claim outside any series reads
    the zero slot at index ``n_knots``, with ``claim_series`` -1)."""

    series: pd.DataFrame  # source, population, n_claims, first_day, last_day, n_knots, first_knot
    knot_series: np.ndarray  # per knot: its series
    knot_first: np.ndarray  # per knot: the first of its series
    knot_day: np.ndarray
    knot_scale: np.ndarray  # per knot: the random walk's step scale to it (0 at a first knot)
    claim_knot: np.ndarray  # (claim, 2): the two knots a claim interpolates between
    claim_weight: np.ndarray  # (claim, 2): their weights
    claim_series: np.ndarray  # per claim: its series, or -1
    series_weight: np.ndarray  # (series, knot): the weights that average a series over its claims


@dataclass(frozen=True)
class ModelInputs:
    """Everything the model needs, as plain arrays, derived from claims + configuration."""

    claims: pd.DataFrame  # the configured claims, with the model's role of each claim
    grid: Grid
    sources: pd.DataFrame  # one row per (source, stance) among loss claims
    groups: tuple[str, ...]
    loss: LossClaims = field(repr=False)
    bound: StrengthBounds = field(repr=False)
    estimates: pd.DataFrame = field(repr=False)  # population, pop, day, date of each estimate
    drift: DriftSeries = field(repr=False)  # drifting biases (drift_series)

    @property
    def populations(self) -> tuple[str, ...]:
        return self.grid.populations

    @property
    def pair_labels(self) -> list[str]:
        """Each (source, stance) pair of ``sources`` as the posterior labels it: "source [stance]"."""
        return [f"{s} [{st}]" for s, st in zip(self.sources["source"], self.sources["stance"])]

    @property
    def source_names(self) -> list[str]:
        """The sources of the loss claims, in the order of their ``source_index``."""
        return sorted(self.sources["source"].unique())


def _day_positions(start: pd.Series, end: pd.Series, origin: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Window [start, end] (inclusive days) as positions in days since the origin's start."""
    a = (start - origin).dt.days.to_numpy()
    b = (end - origin).dt.days.to_numpy() + 1
    return a.astype(np.int64), b.astype(np.int64)


def running_share(loss_rows: pd.DataFrame) -> pd.Series:
    """For each (source, population) of the loss claims: the share of its claims that make up its
    largest running count, the totals (not daily averages) of one category counted from one start
    day. 1.0 for a ministry's daily cumulative count; well under 1 for a source's occasional
    statements, which mix categories, windows and daily rates."""
    key = loss_rows[["source", "population", "category", "day_start"]]
    totals = key[(loss_rows["measure"] != "per_day").to_numpy()]
    largest = totals.value_counts().groupby(level=["source", "population"]).max()
    size = key.groupby(["source", "population"]).size()
    return (largest.reindex(size.index, fill_value=0) / size).rename("running_share")


def drift_series(loss_rows: pd.DataFrame, pop_index: dict[str, int], config: Config) -> DriftSeries:
    """The (source, population) series whose bias drifts in time, and how each claim reads it.

    A source that keeps a running count of a population's losses gets a bias that drifts: a
    (source, population) with ``drift.min_claims`` claims or more, spread over ``drift.min_days``
    days or more, of which ``drift.min_running_share`` or more are one running count (totals of
    one category since one start day; :func:`running_share`). Its bias on that population is
    a random walk over knots about ``drift.knot_days`` apart across the span of its claims' end
    days, read by each claim by linear interpolation, and centred so that it averages 0 over the
    series' claims (around the series' own level where its source keeps series on several
    populations under one stance: ``data.series_levels``). Errors of such a
    series persist from one report to the next, so its many figures inform the shape of the curve
    without pinning its level as if they were independent witnesses. What is left of a series'
    errors once the drift is taken out is its own noise scale (``series_noise_sd``), apart from the
    pool of the sources' statements: a running count is far smoother than a statement.

    Returns arrays over the knots (flat, series after series) and over the loss claims; a claim
    outside any series reads the zero slot at index ``n_knots``."""
    dcfg = config["drift"]
    n_claims = len(loss_rows)
    empty = DriftSeries(
        series=pd.DataFrame(
            columns=["source", "population", "n_claims", "first_day", "last_day", "n_knots", "first_knot"]
        ),
        knot_series=np.zeros(0, dtype=np.int64),
        knot_first=np.zeros(0, dtype=bool),
        knot_day=np.zeros(0),
        knot_scale=np.zeros(0),
        claim_knot=np.full((n_claims, 2), 0, dtype=np.int64),
        claim_weight=np.zeros((n_claims, 2)),
        claim_series=np.full(n_claims, -1, dtype=np.int64),
        series_weight=np.zeros((0, 0)),
    )
    if not dcfg["enabled"] or n_claims == 0:
        return empty
    when = loss_rows["day_end"].to_numpy(dtype=float) - 0.5  # the middle of the last day a claim covers
    keys = list(zip(loss_rows["source"], loss_rows["population"]))
    frame = pd.DataFrame(
        {"source": loss_rows["source"].to_numpy(), "population": loss_rows["population"].to_numpy(), "when": when}
    )
    stats_ = frame.groupby(["source", "population"], sort=True)["when"].agg(["size", "min", "max"]).reset_index()
    stats_["running"] = (
        running_share(loss_rows).reindex(pd.MultiIndex.from_frame(stats_[["source", "population"]])).to_numpy()
    )
    chosen = stats_[
        (stats_["size"] >= dcfg["min_claims"])
        & (stats_["max"] - stats_["min"] >= dcfg["min_days"])
        & (stats_["running"] >= dcfg["min_running_share"])
    ]
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
        knot_scale += [0.0] + [float(np.sqrt(gap / DRIFT_UNIT_DAYS))] * (n_knots - 1)
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
    return DriftSeries(
        series=series,
        knot_series=np.array(knot_series, dtype=np.int64),
        knot_first=np.array(knot_first, dtype=bool),
        knot_day=knot_days,
        knot_scale=np.array(knot_scale),
        claim_knot=claim_knot,
        claim_weight=claim_weight,
        claim_series=claim_series,
        series_weight=series_weight,
    )


def strength_bias(
    bound_rows: pd.DataFrame, pair_index: dict[tuple[str, str], int], config: Config
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How a stated strength is read: through its source's lean, like its loss figures.

    A source that inflates an enemy's losses tends to inflate its strength too, and an own side
    that deflates its losses to deflate its numbers; a bound taken at face value would pull the
    estimate of a source that understates its strength down (docs/decisions.md, "Read a stated
    strength through its source's lean"). So the true strength is the stated one divided by the
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
    return pair, np.where(own, 0.0, mean), softness  # StrengthBounds' pair, prior_log_bias, softness


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
    grid = build_grid(frame, modelled, {p: claims.populations[p] for p in modelled}, config, loss_mask)

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
    # a figure as stated, a rate of 0.3 a day too (the claims refuse a stated 0; an "at most"
    # claim's low end is 0, but it is no point: the 0.5 only keeps the log finite there)
    log_point = np.log(np.where(low > 0, low, 0.5))
    log_low = np.where(low > 0, np.log(np.maximum(low, 1e-300)), LOG_FLOOR)
    log_high = np.where(np.isfinite(high), np.log(np.maximum(high, 1e-300)), LOG_CEIL)
    loss = LossClaims(
        pop=loss_rows["population"].map(pop_index).to_numpy(dtype=np.int64),
        days=(loss_rows["day_end"] - loss_rows["day_start"]).to_numpy(dtype=float),
        day_start=loss_rows["day_start"].to_numpy(dtype=np.int64),  # window [start, end) in days
        day_end=loss_rows["day_end"].to_numpy(dtype=np.int64),  # since the population's start
        category=loss_rows["category"].map({c: k for k, c in enumerate(CATEGORIES)}).to_numpy(dtype=np.int64),
        per_day=(loss_rows["measure"] == "per_day").to_numpy(),
        pair=np.array([pair_index[(s, st)] for s, st in zip(loss_rows["source"], loss_rows["stance"])], dtype=np.int64),
        source=loss_rows["source"].map(source_index).to_numpy(dtype=np.int64),
        about=(loss_rows["qualifier"] == "about").to_numpy(),
        # what each claim states, as the likelihood reads it: [log low, log high], equal for a point
        # column-major, so each end is a contiguous vector once the graph folds ``stated[..., 0]``:
        # a strided constant cannot be cached by numba and costs ~10 s of compilation on every fit
        stated=np.asfortranarray(
            np.column_stack([np.where(point, log_point, log_low), np.where(point, log_point, log_high)])
        ),
        claim_id=loss_rows["claim_id"].to_numpy(dtype=object),
    )
    sources = sources.assign(
        reference=sources["source"].isin(reference),
        group_index=sources["source_group"].map({g: k for k, g in enumerate(groups)}),
        source_index=sources["source"].map(source_index),
    )
    bound_rows = frame[bound_mask]
    pair, prior_log_bias, softness = strength_bias(bound_rows, pair_index, config)
    bound = StrengthBounds(
        pop=bound_rows["population"].map(pop_index).to_numpy(dtype=np.int64),
        day=bound_rows["day_end"].to_numpy(dtype=np.int64),
        log_strength=np.log(bound_rows["high"].to_numpy(dtype=float)),
        claim_id=bound_rows["claim_id"].to_numpy(dtype=object),
        pair=pair,
        prior_log_bias=prior_log_bias,
        softness=softness,
    )
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


# A population whose loss claims are this share or more of one category (killed or wounded) has
# its curve sampled on that category's daily rate (docs/decisions.md, "Anchor a population's curve
# on the category its claims count")
ANCHOR_SHARE = 0.8


def anchor_categories(d: ModelInputs) -> np.ndarray:
    """Per population: the category (index in CATEGORIES) its curve's walk is the daily rate of:
    killed or wounded where that category makes at least ANCHOR_SHARE of its loss claims, else
    casualties."""
    L = d.loss
    out = np.full(len(d.grid.populations), 2, dtype=np.int64)
    pops, cats = np.asarray(L.pop), np.asarray(L.category)
    for j in range(len(out)):
        own = cats[pops == j]
        for k in (0, 1):
            if len(own) and np.mean(own == k) >= ANCHOR_SHARE:
                out[j] = k
    return out


def typical_category_share(categories: np.ndarray, pr: Mapping[str, Any]) -> np.ndarray:
    """The prior's typical share of casualties each category (index in CATEGORIES) is: the killed
    share's prior mean for killed, its complement for wounded, 1 for casualties."""
    typical = pr["killed_share_a"] / (pr["killed_share_a"] + pr["killed_share_b"])
    return np.array([typical, 1.0 - typical, 1.0])[np.asarray(categories)]


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


def bias_units(d: ModelInputs, config: Config) -> ModelInputs:
    """The inputs as the biases' partial pooling sees them: ``d`` itself, or with
    ``priors.bias_by_stance``, each (source, stance) pair a source of its own and each
    (group, stance) a group of its own, so a source's or a group's effect is not shared between
    its stances (a ministry's inflation of the enemy's losses says nothing about how it counts its
    own). The claims, the grid and the noise scales are ``d``'s: a source keeps one noise scale
    whatever its stance."""
    if not config.priors["bias_by_stance"]:
        return d
    src = d.sources
    source = [f"{s} [{st}]" for s, st in zip(src["source"], src["stance"])]
    group = [f"{g} [{st}]" for g, st in zip(src["source_group"], src["stance"])]
    groups = tuple(sorted(set(group)))
    names = sorted(source)
    units = src.assign(
        source=source,
        source_group=group,
        group_index=pd.Series(group, index=src.index).map({g: k for k, g in enumerate(groups)}),
        source_index=pd.Series(source, index=src.index).map({s: k for k, s in enumerate(names)}),
    )
    return dataclasses.replace(d, sources=units, groups=groups)
