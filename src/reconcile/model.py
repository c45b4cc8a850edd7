"""The reconciliation model: claims + configuration -> a PyMC model. No sampling, no files.

The generative story, for populations p, sources s and claims i:

1. Latent losses. Each population's mean daily casualties (killed + wounded) is constant within
   time steps of ``time.step_days`` days: ``rate = exp(level) * w / mean(w)``, with ``level``
   the log of the mean daily rate over the days the population's claims speak about (each
   claim's window weighs equally, ``claim_coverage``) and ``w = exp(rw_scale * walk)`` a
   Gaussian random walk normalised to average 1 over those days (its innovations sampled in a
   rotation that separates the shapes the claims pin from those they do not, each partially
   centred by how well the claims know it, see ``walk_basis``). Cumulative
   casualties ``C_p(t)`` accumulate the rate, so they can only rise, and are exact (piecewise
   linear) at any day ``t``. The sampler moves the level plus the mean log bias of the
   population's claims (what the claims pin), from which the level is derived (see below).
2. Categories. A constant killed share ``pi_p`` splits casualties: killed = ``pi * C``,
   wounded = ``(1 - pi) * C``.
3. The quantity a claim refers to: cumulative since the start (``C(b)``), a window
   (``C(b) - C(a)``) or a daily average (the window total over its length), for killed, wounded
   or casualties.
4. The source's figure: ``log y_i = log Q_i + beta_(s,stance) + eps_i``, with the log bias
   ``beta = delta[stance] + group_effect + source_effect`` (partially pooled; non-centred, except
   where many claims pin an effect: centred; in wars with a data-rich group, sampled as each
   group's mean effect plus within-group contrasts, see ``bias_structure``) and
   ``eps`` a two-component normal mixture (typical error + rare wild figure).
5. The stated claim: a point (``exact``, ``about`` with extra rounding error) is a density; every
   other qualifier states an interval ``[low, high]`` of the figure (censoring from below, above,
   or both: ``at_least``, ``at_most``, ``range``, ``vague`` ...), whose probability is the
   likelihood.
6. A stated force strength (``deployed``, cumulative) softly bounds cumulative casualties from
   above: ``P(C(t) * exp(N(0, deployed_sd)) <= strength)``.

Identification (which biases are pinned) comes from ``config.identification``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytensor.tensor as pt
from scipy import sparse, stats

from .claims import Claims
from .config import Config, ConfigError
from .errors import ModelDataError
from .lexicon import default_lexicon

CATEGORIES = ("killed", "wounded", "casualties")
STANCE_ORDER = ("adversary", "own", "neutral", "unknown")
_LOG_FLOOR, _LOG_CEIL = -30.0, 30.0  # stand-ins for log(0) and log(inf): finite for gradients

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
    """The time grid: for each population, steps of ``step`` days from its start (flat layout).

    Step ``j`` of the flat layout belongs to population ``pop[j]``; each population's steps are
    contiguous, starting at ``offset[p]``. No padding: every step is a real stretch of war.
    """

    populations: tuple[str, ...]
    starts: dict[str, dt.date]
    n_days: np.ndarray  # per population: days covered (start .. end, inclusive)
    step: np.ndarray  # per population: step width in days
    n_steps: np.ndarray  # per population
    offset: np.ndarray  # per population: first flat step

    @property
    def pop(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.populations)), self.n_steps)

    @property
    def step_of(self) -> np.ndarray:
        return np.repeat(self.step, self.n_steps)

    def overlap(self, pop: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Days of each window [start, end) (day positions) that fall in each flat step:
        (window, step). A window's total is then ``overlap @ daily_rate``, exactly."""
        pop, start, end = (np.asarray(v) for v in (pop, start, end))
        width = self.step_of
        step_start = np.concatenate([np.arange(n) * w for n, w in zip(self.n_steps, self.step)])
        mine = self.pop[None, :] == pop[:, None]
        lo = np.maximum(step_start[None, :], start[:, None])
        hi = np.minimum(step_start[None, :] + width[None, :], end[:, None])
        return np.where(mine, np.clip(hi - lo, 0, None), 0).astype(float)

    def positions(self, pop: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where day position ``day`` (days since the population's start; a window's exclusive end)
        falls on the flat grid: the flat step holding it and the days of that step *after* it.

        Cumulative casualties up to ``day`` are then ``S[k] - rest * rate[k]``, with ``S`` the
        running sum of ``rate * width`` over the flat steps (minus the same at the population's
        start): what ``overlap() @ rate`` computes, with O(1) work and memory per day instead of
        a (day, step) matrix."""
        pop, day = np.asarray(pop, dtype=np.int64), np.asarray(day, dtype=np.int64)
        width = self.step[pop]
        local = np.clip(-(-day // width) - 1, 0, self.n_steps[pop] - 1)  # step whose end is >= day
        rest = (local + 1) * width - day
        return (self.offset[pop] + local).astype(np.int64), rest.astype(float)

    def walk_matrix(self) -> np.ndarray:
        """(step, step) matrix turning standard-normal innovations into each population's random
        walk on the log rate, scaled to a week (sqrt(step/7)) and centred on its mean."""
        size = int(self.n_steps.sum())
        walk = np.zeros((size, size))
        scale = np.sqrt(self.step_of / 7.0)
        for j, (first, n) in enumerate(zip(self.offset, self.n_steps)):
            block = np.tril(np.ones((n, n))) * scale[first : first + n][None, :]
            walk[first : first + n, first : first + n] = block - block.mean(axis=0, keepdims=True)
        return walk

    def estimate_points(self) -> pd.DataFrame:
        """The dates estimates are reported for: every step from the start, and the last day."""
        rows = []
        for j, p in enumerate(self.populations):
            days = list(range(1, int(self.n_days[j]), int(self.step[j]))) + [int(self.n_days[j])]
            rows += [(p, j, d, self.starts[p] + dt.timedelta(days=d - 1)) for d in days]
        return pd.DataFrame(rows, columns=["population", "pop", "day", "date"])


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

    @property
    def populations(self) -> tuple[str, ...]:
        return self.grid.populations


def _day_positions(start: pd.Series, end: pd.Series, origin: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Window [start, end] (inclusive days) as positions in days since the origin's start."""
    a = (start - origin).dt.days.to_numpy()
    b = (end - origin).dt.days.to_numpy() + 1
    return a.astype(np.int64), b.astype(np.int64)


def _grid(frame: pd.DataFrame, modelled: list[str], starts: dict[str, dt.date], config: Config) -> Grid:
    n_days = []
    for p in modelled:
        rows = frame[frame["population"] == p]
        end = max(rows["period_end"].max(), rows["reported_on"].max()).date()
        if config.end is not None:
            end = max(end, config.end)
        n_days.append((end - starts[p]).days + 1)
    n_days = np.array(n_days, dtype=np.int64)
    # Long wars get wider steps, so no population has more than max_steps of them.
    step = np.maximum(config.step_days, -(-n_days // config.max_steps))
    n_steps = -(-n_days // step)
    offset = np.concatenate([[0], np.cumsum(n_steps)[:-1]]).astype(np.int64)
    return Grid(tuple(modelled), starts, n_days, step.astype(np.int64), n_steps.astype(np.int64), offset)


def prepare(claims: Claims, config: Config) -> ModelInputs:
    """Derive the model's arrays from validated claims and a configuration."""
    lexicon = default_lexicon().with_overrides(config.lexicon_overrides) if config.lexicon_overrides else None
    claims = claims.configured(population_starts=config.population_starts or None, lexicon=lexicon)
    frame = claims.frame
    is_loss = frame["category"].isin(CATEGORIES)
    modelled = sorted(frame.loc[is_loss & frame["counted"], "population"].unique())
    if not modelled:
        raise ModelDataError(
            "no counted loss claim (killed, wounded or casualties) in the claims: nothing to estimate"
        )
    grid = _grid(frame, modelled, {p: claims.populations[p] for p in modelled}, config)
    origin = pd.to_datetime(frame["population"].map(lambda p: claims.populations[p]))

    a, b = _day_positions(frame["period_start"], frame["period_end"], origin)
    role = np.where(frame["counted"], "", ROLE_RELAY).astype(object)
    in_model = frame["population"].isin(modelled).to_numpy()
    role[(role == "") & ~in_model] = ROLE_UNMODELLED
    loss_mask = (role == "") & is_loss.to_numpy()
    role[loss_mask] = ROLE_LOSS
    deployed = (role == "") & (frame["category"] == "deployed").to_numpy()
    cumulative = (a <= 0)
    role[deployed & ~cumulative] = ROLE_WINDOW_STRENGTH
    role[deployed & cumulative & (b <= 1)] = ROLE_EARLY_STRENGTH
    finite_high = np.isfinite(frame["high"].to_numpy(dtype=float))
    role[deployed & cumulative & (b > 1) & ~finite_high] = ROLE_NO_BOUND
    bound_mask = deployed & cumulative & (b > 1) & finite_high
    role[bound_mask] = ROLE_BOUND
    frame = frame.assign(role=role, day_start=np.maximum(a, 0), day_end=b)

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
        "pair": np.array([pair_index[(s, st)] for s, st in zip(loss_rows["source"], loss_rows["stance"])], dtype=np.int64),
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
        source_index=sources["source"].map({s: k for k, s in enumerate(source_names)}),
    )
    bound_rows = frame[bound_mask]
    bound = {
        "pop": bound_rows["population"].map(pop_index).to_numpy(dtype=np.int64),
        "day": bound_rows["day_end"].to_numpy(dtype=np.int64),
        "log_strength": np.log(bound_rows["high"].to_numpy(dtype=float)),
        "claim_id": bound_rows["claim_id"].to_numpy(dtype=object),
    }
    return ModelInputs(
        claims=frame,
        grid=grid,
        sources=sources,
        groups=groups,
        loss=loss,
        bound=bound,
        estimates=grid.estimate_points(),
    )


_LOGISTIC = np.sqrt(3.0) / np.pi  # logistic scale with a standard deviation of 1


def _log_interval(z_lo, z_hi):
    """log(F(z_hi) - F(z_lo)) for the standard logistic cdf F, stable in both tails:
    F(h) - F(l) = (e^h - e^l) / ((1 + e^h)(1 + e^l))."""
    return z_hi + pt.log1mexp(z_lo - z_hi) - pt.softplus(z_hi) - pt.softplus(z_lo)


def _log_density(z):
    """Log density of the standard logistic distribution."""
    return -z - 2.0 * pt.softplus(-z)


def stated_logp(stated, mu, sd, outlier_prob, outlier_sd):
    """Log-likelihood of stated figures ``stated = [log low, log high]`` (equal ends: a point).

    The source's log figure is ``mu + eps``, with ``eps`` logistic (bounded influence) of
    standard deviation ``sd`` or, with probability ``outlier_prob``, of ``outlier_sd`` (a wild
    figure). A point contributes the density of the figure, an interval the probability that
    the figure lies in it (censoring: an open end is a bound at +-30 on the log scale).
    """
    lo, hi = stated[..., 0], stated[..., 1]
    point = pt.eq(lo, hi)
    # a point gets a harmless interval and vice versa, so the branch not taken stays finite
    safe_hi = pt.switch(point, lo + 1.0, hi)

    def component(sd_):
        scale = sd_ * _LOGISTIC
        z_lo, z_hi = (lo - mu) / scale, (safe_hi - mu) / scale
        return pt.switch(point, _log_density(z_lo) - pt.log(scale), _log_interval(z_lo, z_hi))

    return pt.logaddexp(pt.log1p(-outlier_prob) + component(sd), pt.log(outlier_prob) + component(outlier_sd))


def strength_logp(log_strength, log_cumulative, softness):
    """log P(C * exp(e) <= strength), e logistic with sd ``softness``: a stated strength bounds
    cumulative casualties from above, softly."""
    return -pt.softplus(-(log_strength - log_cumulative) / (softness * _LOGISTIC))


def stated_loglik(stated: np.ndarray, mu: np.ndarray, sd: np.ndarray, outlier_prob: float, outlier_sd: float) -> np.ndarray:
    """:func:`stated_logp` in numpy, for posterior draws (the log-likelihood group of a fit, for
    LOO). Broadcasts ``stated`` (claim, 2) against ``mu`` and ``sd`` (..., claim); the tests check
    it equals PyMC's evaluation of the model's own likelihood."""
    lo, hi = stated[..., 0], stated[..., 1]
    point = lo == hi
    safe_hi = np.where(point, lo + 1.0, hi)

    def component(sd_):
        scale = sd_ * _LOGISTIC
        z_lo, z_hi = (lo - mu) / scale, (safe_hi - mu) / scale
        density = -z_lo - 2.0 * np.logaddexp(0.0, -z_lo) - np.log(scale)
        with np.errstate(divide="ignore"):
            interval = z_hi + np.log(-np.expm1(z_lo - z_hi)) - np.logaddexp(0.0, z_hi) - np.logaddexp(0.0, z_lo)
        return np.where(point, density, interval)

    return np.logaddexp(np.log1p(-outlier_prob) + component(sd), np.log(outlier_prob) + component(outlier_sd))


def strength_loglik(log_strength: np.ndarray, log_cumulative: np.ndarray, softness: float) -> np.ndarray:
    """:func:`strength_logp` in numpy, for posterior draws."""
    return -np.logaddexp(0.0, -(log_strength - log_cumulative) / (softness * _LOGISTIC))


def claim_noise_floor(loss: dict[str, np.ndarray], priors) -> np.ndarray:
    """Per-claim error that no noise parameter can remove: every figure has finite precision
    (``noise_floor``), and a figure given as "about" is rounded (``about_sd``). Without a floor, a
    quantity stated exactly by a single claim lets the noise scale collapse to zero."""
    return np.sqrt(priors["noise_floor"] ** 2 + np.where(loss["about"], priors["about_sd"] ** 2, 0.0))


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
    for j, (first, n, step, n_days) in enumerate(zip(g.offset, g.n_steps, g.step, g.n_days)):
        days = daily[j, :n_days].clip(0.0)
        if days.sum() <= 0:
            days = np.ones(n_days)
        padded = np.zeros(n * step)
        padded[:n_days] = days
        weight[j, first : first + n] = padded.reshape(n, step).sum(axis=1)
    return weight / weight.sum(axis=1, keepdims=True)


def model_arrays(d: ModelInputs, config: Config) -> dict[str, np.ndarray]:
    """Every array the model reads, by name, the priors' parameters included: nothing of the
    claims or the configuration reaches the graph except through these (and the dimensions), so
    ``build_model`` can hold them in shared variables and one compiled model serves every war of
    the same shapes (``reconcile._nutpie``; benchmarks/RESULTS.md, "Compiled once per structure")."""
    pr, g, src, L, B = config.priors, d.grid, d.sources, d.loss, d.bound
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
    total_sd, group_share = _bias_spread(pr)
    return {
        "pop_of_step": g.pop,
        "step_width": g.step_of.astype(float),
        "walk_scale": np.sqrt(g.step_of / 7.0),
        "first_step": g.offset[g.pop],
        "pop_day_weight": claim_coverage(g, L),
        "pop_pair_weight": pair_weight,
        "log_rate_median": np.log([config.daily_rate_median(p) for p in g.populations]),
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
        "source_centred": _centred(src["n_claims"].where(~src["reference"], 0).groupby(src["source_index"]).sum().sort_index().to_numpy(), _SOURCE_CENTRED_FROM),
        "group_centred": _centred(src["source"].where(~src["reference"]).groupby(src["group_index"]).nunique().reindex(range(len(d.groups)), fill_value=0).to_numpy(), _GROUP_SOURCES_CENTRED_FROM),
        **{name: value for name, value in bias_structure(d).items() if name not in ("contrast_labels", "data_rich_group")},
        **({**walk_basis(d, config), **group_mean_basis(d, config)} if uses_group_means(d) else {}),
        "bound_start_step": bound_start[0],
        "bound_start_rest": bound_start[1],
        "bound_end_step": bound_end[0],
        "bound_end_rest": bound_end[1],
        "stated_strength": B["log_strength"],
        # the priors' parameters (see hyperpriors, which states the same priors in scipy)
        "prior_bias_sd_rate": np.array(2.0 / total_sd),
        "prior_group_share": np.array(group_share),
        "prior_level_sd": np.array(float(pr["daily_rate_log_sd"])),
        "prior_rw_rate": np.array(2.0 / pr["rw_sd"]),
        "prior_killed_share": np.array([pr["killed_share_a"], pr["killed_share_b"]], dtype=float),
        "prior_noise": np.array([np.log(pr["noise_sd"]), pr["noise_log_sd"]]),
        "prior_outlier": np.array([pr["outlier_prob"], pr["outlier_sd"]], dtype=float),
        "prior_deployed_sd": np.array(float(pr["deployed_sd"])),
    }


# From how many claims an effect is parameterized centred: a source's effect (or its contrast
# with the better-informed sources of its group, see bias_structure), by its own claims. Centring
# sources from 10 claims gave the 80-claim simulated wars of tests/test_recovery.py 11-133
# divergences (1-3 of their 8 sources have 10-20 claims), so only data-rich sources are centred.
# In the group effect + source effect form, a group effect is centred from 10 free sources. A group
# whose free sources make _DATA_RICH_FROM claims makes the war data-rich (uses_group_means); its
# group means are then centred direction by direction, by information (group_mean_basis).
_SOURCE_CENTRED_FROM = 40
_DATA_RICH_FROM = 40
_GROUP_SOURCES_CENTRED_FROM = 10


def _centred(counts: np.ndarray, threshold: int) -> np.ndarray:
    """Which effects are parameterized centred: those the data pin down (see build_model)."""
    return np.asarray(counts) >= threshold


# Up to how many steps per population the walk's innovations are rotated into the basis below
# (a dense (step, step) block per population enters the graph: 40 steps by default, 4 populations
# = 51 kB; a daily grid of 1,000 steps would be 8 MB per population, beyond numba's cache).
_WALK_ROTATED_UP_TO = 64


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


def _net_of_shared_bias(design: np.ndarray, precision: np.ndarray, pair: np.ndarray, pair_variance: np.ndarray) -> np.ndarray:
    """Information ``sum_c p_c x_c x_c^T`` of claims with design rows ``x_c`` and precisions
    ``p_c``, when the claims of one (source, stance) pair share an unknown effect of variance
    ``pair_variance`` (Woodbury: what they say is then mostly their differences)."""
    information = (design * precision[:, None]).T @ design
    n_pairs = len(pair_variance)
    weighted = np.zeros((n_pairs, design.shape[1]))
    np.add.at(weighted, pair, design * precision[:, None])
    pair_precision = np.bincount(pair, precision, minlength=n_pairs)
    shrink = pair_variance / (1.0 + pair_variance * pair_precision)
    return information - (weighted * shrink[:, None]).T @ weighted


def walk_basis(d: ModelInputs, config: Config) -> dict[str, np.ndarray]:
    """A basis of each population's walk innovations that separates what the claims pin from what
    they do not, and how far each direction is centred.

    The walk's innovations are ``rw_scale * z`` with ``z ~ N(0, I)``. Any orthonormal rotation
    ``z = Q c`` keeps that prior exactly. ``Q`` is chosen so that, to first order around a flat
    rate and the prior's mean scale, the claims inform the coordinates ``c`` independently
    (eigenvectors of the claims' Fisher information on ``z``); the eigenvalue ``rho`` of a
    coordinate is how many times more the claims know about it than its prior does. Smooth
    shapes seen by many claims get large ``rho``; wiggles no claim can tell apart get ~0.

    Each coordinate is then partially centred (Papaspiliopoulos, Roberts & Skold, 2007): its
    sampled value is ``c * rw_scale**w`` with ``w = rho / (1 + rho)``, ~ N(0, rw_scale**w). A
    coordinate the claims pin is centred (``w`` near 1), so the scale can move without dragging
    it; one they do not see stays non-centred (``w`` near 0), so it cannot funnel against the
    scale. Without this, the scale of a war with ~60 claims per step mixed slowly (bulk ESS
    366-450 of 4,000 draws; benchmarks/RESULTS.md).

    The information is a linearisation: each loss claim is read as one observation of the log
    of its window's total with the noise the prior expects (its noise floor, the prior's noise
    scale, half its interval's log width; a one-sided bound counts as sd 1), plus its source's
    bias, shared by the source's claims (prior sd: the total spread of biases). Its derivative
    in the log rate of step k is taken as the window's share of days in k minus the step's share of
    the population's span: the derivative for a walk normalised evenly over the span. The walk is
    normalised under ``claim_coverage`` instead (build_model), whose exact derivative subtracts
    the step's weight there; but the basis is only a choice of rotation (every one keeps the
    prior exactly), and the span's measured better: with the coverage weights, sim-500 seed 3 had
    17 divergent transitions and sim-2000 seed 1 one, against 4 and 0 (benchmarks/RESULTS.md,
    "The level's weights"). A war whose grid has more than
    ``_WALK_ROTATED_UP_TO`` steps in a population keeps the plain non-centred walk (Q = I, w = 0).

    Only wars with a data-rich group of sources (``uses_group_means``) sample the walk this way.
    In the shipped data, where one population's smoothest shape gets ``rho`` ~4, it gave 2-23
    divergent transitions per fit against none for the plain non-centred walk: with a source's
    one or two claims, the linearisation overstates what the claims know. Small wars keep the
    plain walk, whose calibration and recovery runs are on record.
    """
    pr, g, L = config.priors, d.grid, d.loss
    size = int(g.n_steps.sum())
    basis, centring = np.eye(size), np.zeros(size)
    if size == 0 or int(g.n_steps.max()) > _WALK_ROTATED_UP_TO:
        return {"walk_basis": basis, "walk_centring": centring}
    overlap = g.overlap(L["pop"], L["day_start"], L["day_end"])
    days = overlap.sum(axis=1)
    share = overlap / np.maximum(days, 1.0)[:, None]
    width = g.step_of.astype(float)
    members = g.pop[None, :] == np.arange(len(g.populations))[:, None]
    span_share = members * width / (members * width).sum(axis=1, keepdims=True)  # see above
    slope = np.where(days[:, None] > 0, share - span_share[L["pop"]], 0.0)
    # A source's claims share its unknown bias (prior sd: the total spread of biases), so what
    # they say about the walk is their *differences* over time. Without this, a source's one claim
    # about a later month looks like news about the walk.
    free_pair = ~d.sources["reference"].to_numpy()
    bias_variance = np.where(free_pair, pr["group_sd"] ** 2 + pr["source_sd"] ** 2, 0.0)
    information = _net_of_shared_bias(slope, _claim_precision(L, pr), L["pair"], bias_variance)
    for first, n, step in zip(g.offset, g.n_steps, g.step):
        block = slice(int(first), int(first + n))
        walk = np.tril(np.ones((n, n))) * np.sqrt(step / 7.0)  # innovations -> log rate
        basis[block, block], centring[block] = _informed_basis(pr["rw_sd"] ** 2 * walk.T @ information[block, block] @ walk)
    return {"walk_basis": basis, "walk_centring": centring}


# The group means' centring is computed as if the claims knew a quarter of what the linearisation
# says (the information at half the prior's scale of the group means): the posterior reaches small
# between-group spreads, where the claims pin the differences less than at the prior's mean scale.
# Over 15 (war, fit seed) fits of 500 and 2,000 claims: 1 divergent transition in 1 fit, against
# 3 in 2 at the full information (benchmarks/RESULTS.md, "Group means rotated, again").
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
    absorbs: centred, that direction funnelled against the spread of the biases (sim-500 seed 3:
    4 divergent transitions, all at a group spread under a third of its median;
    benchmarks/RESULTS.md, "Group means rotated, again").

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
    prior_variance = np.concatenate([
        np.full(n_pops, float(pr["daily_rate_log_sd"]) ** 2),
        [prior[s][1] ** 2 for s in stances],
        group_sd**2,
        np.full(n_sources, float(pr["source_sd"]) ** 2),
    ])
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
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    design = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(pair), int(offset[-1])))
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
    ``mean(s)`` is never sampled: it is the direction the data cannot see, whose funnel against
    the two scales gave the larger simulated wars their divergences.

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
    """Mean and sd of the normal prior on each stance's effect on the log bias."""
    pr = config.priors
    return {
        "adversary": (pr["adversary_mean"], pr["adversary_sd"]),
        "own": (pr["own_mean"], pr["own_sd"]),
        "neutral": (0.0, pr["neutral_sd"]),
        "unknown": (0.0, pr["unknown_sd"]),
    }


def hyperpriors(config: Config) -> dict[str, stats.rv_continuous]:
    """The priors of the model's scalar hyperparameters as scipy distributions (for plots and
    checks; the model below builds the same ones in PyMC)."""
    pr = config.priors
    total_sd, group_share = _bias_spread(pr)
    return {
        "noise_sd": stats.lognorm(s=pr["noise_log_sd"], scale=pr["noise_sd"]),
        "bias_sd": stats.gamma(2.0, scale=total_sd / 2.0),
        "group_share": stats.beta(*group_share),
        "rw_scale": stats.gamma(2.0, scale=pr["rw_sd"] / 2.0),
        "killed_share": stats.beta(pr["killed_share_a"], pr["killed_share_b"]),
    }


def _bias_spread(pr) -> tuple[float, tuple[float, float]]:
    """The prior mean of the total spread of biases (``bias_sd`` ~ Gamma(2, 2/mean)) and the
    Beta parameters of the group's share of its variance, from the configured two scales."""
    total_sd = float(np.hypot(pr["group_sd"], pr["source_sd"]))
    return total_sd, _beta_matching(pr["group_sd"] ** 2 / total_sd**2)


def _beta_matching(mean: float, concentration: float = 4.0) -> tuple[float, float]:
    """Beta(a, b) with the given mean and a + b = concentration (weak: the data decide)."""
    return mean * concentration, (1.0 - mean) * concentration


def free_stance_effects(d: ModelInputs, config: Config) -> list[str]:
    """Stances whose effect is estimated (the identifying assumption pins the others to 0)."""
    pinned = {"neutral"} if config.identification["mode"] == "neutral" else set()
    return [s for s in STANCE_ORDER if s in set(d.sources["stance"]) and s not in pinned]


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
    pr, g, src = config.priors, d.grid, d.sources
    group_means = data_rich = uses_group_means(d)
    coords = {
        "population": list(g.populations),
        "step": [f"{p} {k}" for j, p in enumerate(g.populations) for k in range(g.n_steps[j])],
        "estimate": np.arange(len(d.estimates)),
        "source_stance": [f"{s} [{st}]" for s, st in zip(src["source"], src["stance"])],
        "source_group": list(d.groups),
        "source": sorted(src["source"].unique()),
        "source_contrast": list(bias_structure(d)["contrast_labels"]) if group_means else [],
        "stance_effect": free_stance_effects(d, config),
        "claim": list(d.loss["claim_id"]),
        "bound": list(d.bound["claim_id"]),
        "end": ["low", "high"],
    }
    arrays = model_arrays(d, config)

    with pm.Model(coords=coords) as model:
        if constant_data:
            x = {name: pt.constant(value, name=name) for name, value in arrays.items()}
        else:
            x = {name: pytensor.shared(value, name=name) for name, value in arrays.items()}
        pop_of = x["pop_of_step"]

        # 1. source biases: stance effect + group effect + source effect (partial pooling)
        stance_z = pm.Normal("stance_z", 0.0, 1.0, dims="stance_effect")
        stance_effect = pt.concatenate([x["stance_mean"] + x["stance_sd"] * stance_z, pt.zeros(1)])
        # Sources nest in groups, so the data inform the total spread of biases far better than its
        # split: parameterize the total and the group's share of its variance, not the two scales.
        bias_sd = pm.Gamma("bias_sd", alpha=2.0, beta=x["prior_bias_sd_rate"])
        group_share = pm.Beta("group_share", x["prior_group_share"][0], x["prior_group_share"][1])
        group_sd = pm.Deterministic("group_sd", bias_sd * pt.sqrt(group_share))
        source_sd = pm.Deterministic("source_sd", bias_sd * pt.sqrt(1.0 - group_share))
        if group_means:
            # A source's effect is its group's mean effect plus its contrast with the group's other
            # sources (bias_structure: the same prior as group effect + source effect, without the
            # split of the mean the data cannot see, whose funnel gave larger wars divergences).
            # Each part is non-centred (effect = sd * z, z ~ N(0, 1)) where the data say little
            # about it, centred (z is the effect, ~ N(0, sd)) where they pin it. Same prior either way.
            # The group means are sampled in group_mean_basis's rotation, each coordinate partially
            # centred on the groups' typical scale by how well the claims know it.
            group_mean_sd = pt.sqrt(group_sd**2 + source_sd**2 / x["group_free_sources"])
            scale, centring = pt.exp(pt.mean(pt.log(group_mean_sd))), x["group_mean_centring"]
            group_mean_z = pm.Normal("group_mean_z", 0.0, scale**centring, dims="source_group")
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
            # Non-centred (effect = sd * z, z ~ N(0, 1)) where the data say little about an effect;
            # centred (z is the effect, ~ N(0, sd)) where they pin it (a source with many claims, a
            # group of many sources): there the non-centred form couples every z to the spread and
            # NUTS diverges (sim-2000: 620 divergences). Same prior either way.
            group_z = pm.Normal("group_z", 0.0, pt.where(x["group_centred"], group_sd, 1.0), dims="source_group")
            source_z = pm.Normal("source_z", 0.0, pt.where(x["source_centred"], source_sd, 1.0), dims="source")
            group_effect = pt.where(x["group_centred"], 1.0, group_sd) * group_z
            source_effect = pt.where(x["source_centred"], 1.0, source_sd) * source_z
            log_bias = x["pair_free"] * (
                stance_effect[x["pair_stance"]] + group_effect[x["pair_group"]] + source_effect[x["pair_source"]]
            )
        pm.Deterministic("bias", pt.exp(log_bias), dims="source_stance")

        # 2. latent daily casualties per population: a level (the log of the mean daily rate over
        # the days its claims speak about) times a random walk normalised to average 1 there.
        # - The claims pin the level *plus* the mean log bias they carry, not the level itself, and
        #   how far apart the two are depends on the spread of the biases: a funnel NUTS diverges
        #   in. So the sampler moves the anchored level (``level_z``: the level plus that mean
        #   bias, in prior sd units), which the data pin, and the level is derived from it. Its
        #   prior, N(shift, 1), makes the level exactly N(median, sd) and independent of the biases.
        # - The walk is normalised on the natural scale, not centred on the log scale, and under the
        #   claims' weights (``claim_coverage``: the mean, over the population's claims, of each
        #   window's mean rate = level), not evenly over the span: a population known by one
        #   figure, cumulative or over a late window, then pins the level through it with no
        #   banana between level and walk. Normalised over the span instead, the shipped Russian
        #   losses (one daily rate for the last 30 of 1,028 days) gave the level a tail ESS of 238
        #   of 4,000 draws (benchmarks/RESULTS.md, "The level's weights").
        level_sd = x["prior_level_sd"]
        anchor_shift = pt.dot(x["pop_pair_weight"], log_bias) / level_sd
        level_z = pm.Normal("level_z", anchor_shift, 1.0, dims="population")
        level = pm.Deterministic(
            "log_rate_level", x["log_rate_median"] + level_sd * (level_z - anchor_shift), dims="population"
        )
        # scales get mildly zero-avoiding Gamma(2, 2/mean) priors: a daily rate that never changes,
        # or sources that all lean alike, are implausible, and scales free to reach 0 mix slowly
        rw_scale = pm.Gamma("rw_scale", alpha=2.0, beta=x["prior_rw_rate"], dims="population")
        # each population's walk: running sum of its innovations rw_scale * z, z ~ N(0, I)
        # (scaled to a week), from its start
        if data_rich:
            # sampled in walk_basis's rotation of z, each coordinate partially centred by how well
            # the claims know it: the same prior, a geometry NUTS mixes far better in such wars
            scale_of, centring = rw_scale[pop_of], x["walk_centring"]
            rw_z = pm.Normal("rw_z", 0.0, scale_of**centring, dims="step")
            steps = x["walk_scale"] * pt.dot(x["walk_basis"], rw_z * scale_of ** (1.0 - centring))
            running = pt.cumsum(steps)
            walk = running - (running - steps)[x["first_step"]]
        else:  # non-centred, as calibrated (see walk_basis for why small wars keep it)
            rw_z = pm.Normal("rw_z", 0.0, 1.0, dims="step")
            steps = x["walk_scale"] * rw_z
            running = pt.cumsum(steps)
            walk = rw_scale[pop_of] * (running - (running - steps)[x["first_step"]])
        walk = walk - pt.max(walk)  # exp() cannot overflow; the normalisation removes the shift
        relative = pt.exp(walk)
        relative = relative / pt.dot(x["pop_day_weight"], relative)[pop_of]
        rate = pt.exp(level)[pop_of] * relative  # mean daily casualties per step
        # running total of casualties at each step's end; a period's total is the difference of
        # its two ends, each read off the step holding it (exact: the rate is constant in a step)
        at_step_end = pt.cumsum(rate * x["step_width"])

        def period_total(kind):
            def at(end):
                step = x[f"{kind}_{end}_step"]
                return at_step_end[step] - x[f"{kind}_{end}_rest"] * rate[step]

            return at("end") - at("start")

        pm.Deterministic("cumulative_casualties", period_total("estimate"), dims="estimate")
        # 3. killed share
        killed_share = pm.Beta("killed_share", x["prior_killed_share"][0], x["prior_killed_share"][1], dims="population")

        # 4. the true quantity each loss claim refers to (killed, wounded or casualties)
        total = period_total("claim")
        share = pt.stack([killed_share, 1.0 - killed_share, pt.ones_like(killed_share)])
        share = share[x["claim_category"], x["claim_pop"]]
        true_q = pm.Deterministic("true_quantity", total * share / x["claim_length"], dims="claim")

        # 5. the stated figures: points (density) and intervals (censoring), robust noise.
        # Zero-avoiding (lognormal) noise scale: no source's figures match its belief exactly,
        # and a scale free to approach 0 makes a funnel with the latent curve when claims are few.
        noise_sd = pm.LogNormal("noise_sd", x["prior_noise"][0], x["prior_noise"][1])
        mu = pt.log(true_q) + log_bias[x["claim_pair"]]
        sigma = pt.sqrt(x["claim_noise_floor"] ** 2 + noise_sd**2)
        pm.CustomDist(
            "stated", mu, sigma, x["prior_outlier"][0], x["prior_outlier"][1],
            logp=stated_logp, signature="(),(),(),()->(2)", observed=x["stated_figures"], dims=("claim", "end"),
        )

        # 6. stated force strengths bound cumulative casualties from above (softly)
        if len(d.bound["claim_id"]):
            cum_at = pm.Deterministic("bound_casualties", period_total("bound"), dims="bound")
            pm.CustomDist(
                "strength", pt.log(cum_at), x["prior_deployed_sd"],
                logp=strength_logp, observed=x["stated_strength"], dims="bound",
            )
    return model
