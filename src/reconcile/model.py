"""The reconciliation model: claims + configuration -> a PyMC model. No sampling, no files.

The generative story, for populations p, sources s and claims i:

1. Latent losses. Each population's mean daily casualties (killed + wounded) is constant within
   time steps of ``time.step_days`` days; its logarithm is a level plus a centred Gaussian random
   walk (non-centred: ``log_rate = level + rw_scale * (cumsum(z) - mean)``). Cumulative
   casualties ``C_p(t)`` accumulate the rate, so they can only rise, and are exact (piecewise
   linear) at any day ``t``.
2. Categories. A constant killed share ``pi_p`` splits casualties: killed = ``pi * C``,
   wounded = ``(1 - pi) * C``.
3. The quantity a claim refers to: cumulative since the start (``C(b)``), a window
   (``C(b) - C(a)``) or a daily average (the window total over its length), for killed, wounded
   or casualties.
4. The source's figure: ``log y_i = log Q_i + beta_(s,stance) + eps_i``, with the log bias
   ``beta = delta[stance] + group_effect + source_effect`` (partially pooled, non-centred) and
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
import pytensor.tensor as pt

from .claims import Claims
from .config import Config, ConfigError
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
class ModelInputs:
    """Everything the model needs, as plain arrays, derived from claims + configuration."""

    claims: pd.DataFrame  # the configured claims, with the model's role of each claim
    populations: tuple[str, ...]
    starts: dict[str, dt.date]
    n_days: dict[str, int]  # days covered per population (start .. end inclusive)
    step_days: int
    n_steps: int  # steps of the padded grid (the longest population)
    node_days: np.ndarray  # (population, node) day position of each estimate date, -1 = padding
    sources: pd.DataFrame  # one row per (source, stance): source, source_group, stance, n_claims
    groups: tuple[str, ...]
    loss: dict[str, np.ndarray] = field(repr=False)  # arrays over loss claims
    bound: dict[str, np.ndarray] = field(repr=False)  # arrays over strength bounds

    def node_dates(self, population: str) -> list[dt.date]:
        days = self.node_days[self.populations.index(population)]
        start = self.starts[population]
        return [start + dt.timedelta(days=int(d) - 1) for d in days if d >= 0]


def _day_positions(start: pd.Series, end: pd.Series, origin: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Window [start, end] (inclusive days) as positions in days since the origin's start."""
    a = (start - origin).dt.days.to_numpy()
    b = (end - origin).dt.days.to_numpy() + 1
    return a.astype(np.int64), b.astype(np.int64)


def prepare(claims: Claims, config: Config) -> ModelInputs:
    """Derive the model's arrays from validated claims and a configuration."""
    lexicon = default_lexicon().with_overrides(config.lexicon_overrides) if config.lexicon_overrides else None
    claims = claims.configured(population_starts=config.population_starts or None, lexicon=lexicon)
    frame = claims.frame
    is_loss = frame["category"].isin(CATEGORIES)
    modelled = sorted(frame.loc[is_loss & frame["counted"], "population"].unique())
    if not modelled:
        raise ValueError("no counted loss claim (killed, wounded or casualties): nothing to estimate")
    starts = {p: claims.populations[p] for p in modelled}
    origin = pd.to_datetime(frame["population"].map(lambda p: claims.populations[p]))

    # Horizon of each population: the last day any of its claims covers or was reported on.
    ends: dict[str, dt.date] = {}
    for p in modelled:
        rows = frame[frame["population"] == p]
        end = max(rows["period_end"].max(), rows["reported_on"].max()).date()
        if config.end is not None:
            end = max(end, config.end)
        ends[p] = end
    n_days = {p: (ends[p] - starts[p]).days + 1 for p in modelled}
    step = config.step_days
    n_steps = max(-(-n // step) for n in n_days.values())

    # Estimate dates: every step from the start, and the last day.
    nodes = np.full((len(modelled), n_steps + 1), -1, dtype=np.int64)
    for j, p in enumerate(modelled):
        days = list(range(1, n_days[p], step)) + [n_days[p]]
        nodes[j, : len(days)] = days

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
    point_value = np.where(point, np.maximum(low, 0.5), 1.0)  # a stated 0 is read as "below 1"
    loss = {
        "pop": loss_rows["population"].map(pop_index).to_numpy(dtype=np.int64),
        "a": loss_rows["day_start"].to_numpy(dtype=np.int64),
        "b": loss_rows["day_end"].to_numpy(dtype=np.int64),
        "category": loss_rows["category"].map({c: k for k, c in enumerate(CATEGORIES)}).to_numpy(dtype=np.int64),
        "per_day": (loss_rows["measure"] == "per_day").to_numpy(),
        "pair": np.array([pair_index[(s, st)] for s, st in zip(loss_rows["source"], loss_rows["stance"])], dtype=np.int64),
        "point": point,
        "about": (loss_rows["qualifier"] == "about").to_numpy(),
        "log_value": np.log(point_value),
        "log_low": np.where(low > 0, np.log(np.maximum(low, 1e-300)), _LOG_FLOOR),
        "log_high": np.where(np.isfinite(high), np.log(np.maximum(high, 1e-300)), _LOG_CEIL),
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
        "b": bound_rows["day_end"].to_numpy(dtype=np.int64),
        "log_strength": np.log(bound_rows["high"].to_numpy(dtype=float)),
        "claim_id": bound_rows["claim_id"].to_numpy(dtype=object),
    }
    return ModelInputs(
        claims=frame,
        populations=tuple(modelled),
        starts=starts,
        n_days=n_days,
        step_days=step,
        n_steps=n_steps,
        node_days=nodes,
        sources=sources,
        groups=groups,
        loss=loss,
        bound=bound,
    )


def _cumulative_at(cum_nodes, rate, pop, day, step: int, n_steps: int):
    """Cumulative losses at day positions ``day`` (piecewise-linear in the step grid)."""
    k = np.minimum(day // step, n_steps - 1)
    frac = (day - k * step).astype(float)
    return cum_nodes[pop, k] + rate[pop, k] * frac


def _log_ndtr(z):
    return pm.logcdf(pm.Normal.dist(0.0, 1.0), z)


def _log_interval(z_lo, z_hi):
    """log(Phi(z_hi) - Phi(z_lo)), accurate in both tails.

    In the upper tail it uses survival functions, elsewhere cdfs, so nothing cancels. Each branch
    gets inputs clamped to its own domain, so the branch not taken never yields NaN gradients.
    """
    lo_a = pt.minimum(z_lo, 0.0)
    lower_tail = pm.math.logdiffexp(_log_ndtr(pt.maximum(z_hi, lo_a + 1e-6)), _log_ndtr(lo_a))
    lo_b = pt.maximum(z_lo, 0.0)
    upper_tail = pm.math.logdiffexp(_log_ndtr(-lo_b), _log_ndtr(-pt.maximum(z_hi, lo_b + 1e-6)))
    return pt.switch(z_lo > 0, upper_tail, lower_tail)


def stated_logp(stated, mu, sigma, outlier_prob, outlier_sd):
    """Log-likelihood of stated figures ``stated = [log low, log high]`` (equal ends: a point).

    The source's log figure is ``mu + eps`` with ``eps`` a mixture of ``N(0, sigma)`` (typical
    error) and, with probability ``outlier_prob``, ``N(0, outlier_sd)`` (a wild figure). A point
    contributes the density of the figure, an interval the probability that the figure lies in it
    (censoring: an open end is a bound at +-30 on the log scale).
    """
    lo, hi = stated[..., 0], stated[..., 1]
    point = pt.eq(lo, hi)
    safe_lo, safe_hi = pt.switch(point, mu - 1.0, lo), pt.switch(point, mu + 1.0, hi)

    def component(scale):
        density = pm.logp(pm.Normal.dist(mu, scale), lo)
        interval = _log_interval((safe_lo - mu) / scale, (safe_hi - mu) / scale)
        return pt.switch(point, density, interval)

    return pt.logaddexp(
        pt.log1p(-outlier_prob) + component(sigma), pt.log(outlier_prob) + component(outlier_sd)
    )


def strength_logp(log_strength, log_cumulative, softness):
    """log P(C * exp(N(0, softness)) <= strength): a stated strength bounds cumulative casualties."""
    return _log_ndtr((log_strength - log_cumulative) / softness)


def build_model(claims: Claims, config: Config, inputs: ModelInputs | None = None) -> pm.Model:
    """Build the reconciliation model. ``inputs`` may be passed when already prepared."""
    d = inputs if inputs is not None else prepare(claims, config)
    pr = config.priors
    n_pop, step = len(d.populations), d.step_days
    src = d.sources
    stances = [s for s in STANCE_ORDER if s in set(src["stance"])]
    pinned = {"neutral"} if config.identification["mode"] == "neutral" else set()
    free_stances = [s for s in stances if s not in pinned]
    stance_prior = {
        "adversary": (pr["adversary_mean"], pr["adversary_sd"]),
        "own": (pr["own_mean"], pr["own_sd"]),
        "neutral": (0.0, pr["neutral_sd"]),
        "unknown": (0.0, pr["unknown_sd"]),
    }
    coords = {
        "population": list(d.populations),
        "step": np.arange(d.n_steps),
        "node": np.arange(d.n_steps + 1),
        "source_stance": [f"{s} [{st}]" for s, st in zip(src["source"], src["stance"])],
        "source_group": list(d.groups),
        "source": sorted(src["source"].unique()),
        "stance_effect": free_stances,
        "claim": list(d.loss["claim_id"]),
        "bound": list(d.bound["claim_id"]),
        "end": ["low", "high"],
    }
    step_mask = np.zeros((n_pop, d.n_steps))
    for j, p in enumerate(d.populations):
        step_mask[j, : -(-d.n_days[p] // step)] = 1.0
    log_median = np.log([config.daily_rate_median(p) for p in d.populations])
    L, B = d.loss, d.bound

    with pm.Model(coords=coords) as model:
        # 1. latent daily casualties per population: level + centred random walk (non-centred)
        level_z = pm.Normal("level_z", 0.0, 1.0, dims="population")
        level = pm.Deterministic("log_rate_level", log_median + pr["daily_rate_log_sd"] * level_z, dims="population")
        rw_scale = pm.HalfNormal("rw_scale", pr["rw_sd"], dims="population")
        rw_z = pm.Normal("rw_z", 0.0, 1.0, dims=("population", "step"))
        walk = pt.cumsum(rw_z * step_mask, axis=1)
        walk = walk - (walk * step_mask).sum(axis=1, keepdims=True) / step_mask.sum(axis=1, keepdims=True)
        log_rate = level[:, None] + rw_scale[:, None] * np.sqrt(step / 7.0) * walk
        rate = pt.exp(log_rate)  # mean daily casualties within each step
        cum_nodes = pt.concatenate([pt.zeros((n_pop, 1)), pt.cumsum(rate * step, axis=1)], axis=1)
        node_days = np.maximum(d.node_days, 0)
        pm.Deterministic(
            "cumulative_casualties",
            _cumulative_at(cum_nodes, rate, np.arange(n_pop)[:, None], node_days, step, d.n_steps),
            dims=("population", "node"),
        )
        # 2. killed share
        killed_share = pm.Beta("killed_share", pr["killed_share_a"], pr["killed_share_b"], dims="population")

        # 3. the true quantity each loss claim refers to
        total = _cumulative_at(cum_nodes, rate, L["pop"], L["b"], step, d.n_steps) - _cumulative_at(
            cum_nodes, rate, L["pop"], L["a"], step, d.n_steps
        )
        share = pt.stack([killed_share, 1.0 - killed_share, pt.ones(n_pop)])[L["category"], L["pop"]]
        length = np.where(L["per_day"], L["b"] - L["a"], 1).astype(float)
        true_q = pm.Deterministic("true_quantity", total * share / length, dims="claim")

        # 4. source biases: stance effect + group effect + source effect (partial pooling)
        stance_z = pm.Normal("stance_z", 0.0, 1.0, dims="stance_effect")
        effect = {
            s: stance_prior[s][0] + stance_prior[s][1] * stance_z[k] for k, s in enumerate(free_stances)
        }
        stance_effect = pt.stack([effect.get(s, pt.as_tensor(0.0)) for s in src["stance"]])
        group_sd = pm.HalfNormal("group_sd", pr["group_sd"])
        group_z = pm.Normal("group_z", 0.0, 1.0, dims="source_group")
        source_sd = pm.HalfNormal("source_sd", pr["source_sd"])
        source_z = pm.Normal("source_z", 0.0, 1.0, dims="source")
        free = (~src["reference"].to_numpy()).astype(float)
        log_bias = free * (
            stance_effect
            + group_sd * group_z[src["group_index"].to_numpy()]
            + source_sd * source_z[src["source_index"].to_numpy()]
        )
        pm.Deterministic("bias", pt.exp(log_bias), dims="source_stance")

        # 5. the stated figures: points (density) and intervals (censoring), robust noise
        # zero-avoiding: no source's figures match the truth exactly, and a scale free to reach 0
        # would make a funnel with the biases (Gamma(4, 4/m): mean m, 90% in [0.34m, 1.94m])
        noise_sd = pm.Gamma("noise_sd", alpha=4.0, beta=4.0 / pr["noise_sd"])
        mu = pt.log(true_q) + log_bias[L["pair"]]
        sigma = pt.sqrt(noise_sd**2 + np.where(L["about"], pr["about_sd"] ** 2, 0.0))
        w, s_out = pr["outlier_prob"], pr["outlier_sd"]
        stated = np.column_stack(
            [np.where(L["point"], L["log_value"], L["log_low"]), np.where(L["point"], L["log_value"], L["log_high"])]
        )
        pm.CustomDist(
            "stated", mu, sigma, w, s_out,
            logp=stated_logp, signature="(),(),(),()->(2)", observed=stated, dims=("claim", "end"),
        )

        # 6. stated force strengths bound cumulative casualties from above (softly)
        if len(B["claim_id"]):
            cum_at = _cumulative_at(cum_nodes, rate, B["pop"], B["b"], step, d.n_steps)
            pm.CustomDist(
                "strength", pt.log(cum_at), pr["deployed_sd"],
                logp=strength_logp, observed=B["log_strength"], dims="bound",
            )
    return model
