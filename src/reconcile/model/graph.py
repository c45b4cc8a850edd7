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

Identification (which biases are pinned) comes from ``config.identification``. ``build_model``
tells this story one function per part (the biases first, since the level is anchored on them):
``daily_rate_curve`` (1), ``killed_share_and_rate`` (2), ``claimed_quantities`` (3),
``source_biases``, ``claim_biases`` and ``noise_scales`` (4), ``stated_figures`` (5),
``strength_bounds`` (6). The arrays each reads are :class:`~reconcile.model.data.GraphData`'s.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt

from .. import priors as declared
from .._pytensor import deterministic_rewrites
from ..claims import Claims
from ..config import Config
from ..observation import stated_logp, strength_logp
from .data import DriftData, GraphData, graph_data, series_levels
from .grid import share_knot_labels
from .inputs import ModelInputs, bias_units, free_stance_effects, prepare
from .reparam import bias_structure, uses_group_means


def build_model(
    claims: Claims, config: Config, inputs: ModelInputs | None = None, *, constant_data: bool = False
) -> pm.Model:
    """Build the reconciliation model. ``inputs`` may be passed when already prepared.

    Every array the model reads, prior parameters included (:func:`graph_data`), enters the graph
    as a named shared variable, so the compiled model does not depend on the values: wars of the
    same structure (``reconcile._nutpie.structure_key``) share one compiled model, on disk and in
    a loop of fits (``reconcile._nutpie``). ``constant_data=True`` folds them into the graph as
    constants instead (for benchmarks: a model compiled for one set of claims only).
    """
    deterministic_rewrites()  # the same compiled graph in every process: found in the disk cache
    d = inputs if inputs is not None else prepare(claims, config)
    data = graph_data(d, config)
    with pm.Model(coords=coordinates(d, config)) as model:
        if constant_data:
            x = data.map(lambda name, value: pt.constant(value, name=name))
        else:
            x = data.map(lambda name, value: pytensor.shared(value, name=name))
        n_contrasts = 0 if data.group_means is None else data.group_means.contrast_basis.shape[1]
        n_stances = len(model.coords["stance_effect"])
        log_bias = source_biases(x, n_contrasts, n_stances)  # story, 4 (first: the level is anchored on it)
        n_knots = 0 if data.drift is None else len(data.drift.drift_knot_series)
        n_levels = 0 if data.drift is None else data.drift.series_level_basis.shape[1]
        claim_log_bias, series_level = claim_biases(x, log_bias, n_knots, n_levels)  # 4, the drift
        # each population's block of the walk, by step count: read statically by the graph (the
        # rotation is block-diagonal), so part of the model's structure (_nutpie.structure_key)
        blocks = tuple(int(n) for n in d.grid.n_steps)
        model.reconcile_static = {"walk_blocks": blocks}
        log_rate = daily_rate_curve(
            x, log_bias, n_levels=int(data.ou_scan.shape[0]), blocks=blocks, series_level=series_level
        )  # 1
        logit_share, killed_share, rate = killed_share_and_rate(x, log_rate)  # 2
        casualties, killed = period_totals(x, rate), period_totals(x, rate * killed_share)
        pm.Deterministic("cumulative_casualties", casualties("estimate"), dims="estimate")
        pm.Deterministic("cumulative_killed", killed("estimate"), dims="estimate")
        # wounded accumulate their own share, not casualties - killed (0 when the share nears 1)
        wounded = period_totals(x, rate * pm.math.sigmoid(-logit_share))
        true_quantity = claimed_quantities(x, casualties, killed, wounded)  # 3
        claim_noise = noise_scales(x)  # 4, the noise
        stated_figures(x, true_quantity, claim_log_bias, claim_noise)  # 5
        if len(d.bound.claim_id):
            strength_bounds(x, casualties, log_bias)  # 6
    return model


def coordinates(d: ModelInputs, config: Config) -> dict[str, Any]:
    """The model's dimensions, labelled: populations, steps, sources, claims, knots."""
    g, D = d.grid, d.drift
    group_means = uses_group_means(d)
    has_drift = bool(len(D.knot_series))
    drift_labels = []
    stances = free_stance_effects(d, config)
    units = bias_units(d, config)
    if has_drift:
        for _r, row in D.series.iterrows():
            for k in range(int(row["n_knots"])):
                day = D.knot_day[int(row["first_knot"]) + k]
                date = g.starts[row["population"]] + dt.timedelta(days=int(round(day)))
                drift_labels.append(f"{row['source']} | {row['population']} | {date.isoformat()}")
    return {
        "population": list(g.populations),
        "step": [f"{p} {k}" for j, p in enumerate(g.populations) for k in range(g.n_steps[j])],
        # rw_z holds each step's innovation, or in a data-rich war a direction of walk_basis's rotation
        "walk_direction": [
            f"{p} {'direction ' if group_means else ''}{k}"
            for j, p in enumerate(g.populations)
            for k in range(g.n_steps[j])
        ],
        "estimate": np.arange(len(d.estimates)),
        "source_stance": d.pair_labels,
        "source_group": list(d.groups),
        "source": d.source_names,
        # the biases' sources and groups: the same, or with priors.bias_by_stance (source, stance)
        # and (group, stance) pairs (inputs.bias_units)
        "bias_source": units.source_names,
        "bias_group": list(units.groups),
        "source_contrast": list(bias_structure(units)["contrast_labels"]) if group_means else [],
        # group_mean_z holds coordinates in group_mean_basis's rotation of the free stances'
        # effects and the groups' means (the rotation's rows, "rotated_effect"), not one group each
        "group_mean_direction": [f"direction {k}" for k in range(len(stances) + len(units.groups))]
        if group_means
        else [],
        "rotated_effect": [f"stance {s}" for s in stances] + [f"group {g}" for g in units.groups]
        if group_means
        else [],
        "stance_effect": stances,
        "claim": list(d.loss.claim_id),
        "bound": list(d.bound.claim_id),
        "end": ["low", "high"],
        "drift_knot": drift_labels,
        "drift_innovation": [lab for lab, first in zip(drift_labels, D.knot_first) if not first],
        "drift_series": [f"{r['source']} | {r['population']}" for _, r in D.series.iterrows()] if has_drift else [],
        "series_level": series_levels(d)[2] if has_drift else [],
        "share_knot": share_knot_labels(g, config),
    }


def _sampled(x: GraphData | DriftData, name: str, variable: str | None = None):
    """A hyperparameter as declared in reconcile.priors, its parameters read from the data; named
    ``variable`` in the model when that differs from the prior's name."""
    return declared.SAMPLED[name].pymc(variable or name, getattr(x, f"prior_{name}"))


def source_biases(x: GraphData, n_contrasts: int, n_stances: int):
    """Part 4 of the story: each (source, stance) pair's log bias: stance effect + group effect + source effect,
    partially pooled (``bias``); a reference source's is 0."""
    # The spreads of the biases between groups and between a group's sources are fixed at
    # their configured values, not learnt: a war has a handful of groups, too few to learn a
    # spread from (docs/decisions.md, "Fix the spreads of the biases...").
    group_sd, source_sd = x.prior_group_sd, x.prior_source_sd
    if x.group_means is not None:
        means = x.group_means
        # A source's effect is its group's mean effect plus its contrast with the group's other
        # sources (bias_structure: the same prior as group effect + source effect, without the
        # split of the mean the data cannot see). Each part is non-centred (effect = sd * z,
        # z ~ N(0, 1)) where the data say little about it, centred (z is the effect, ~ N(0, sd))
        # where they pin it. Same prior either way. The group means are sampled in
        # group_mean_basis's rotation, each coordinate partially centred by how well the claims
        # know it.
        # The stance effects are rotated with them (group_mean_basis): a stance's effect and the
        # means of the groups speaking with it move together where the claims pin each group's
        # bias. The stance effects' standard-normal coordinates are the rotation's first rows.
        group_mean_sd = pt.sqrt(group_sd**2 + source_sd**2 / x.group_free_sources)
        rotated_sd = pt.concatenate([x.stance_sd, group_mean_sd])
        scale, centring = pt.exp(pt.mean(pt.log(rotated_sd))), means.group_mean_centring
        group_mean_z = pm.Normal("group_mean_z", 0.0, scale**centring, dims="group_mean_direction")
        standard = pt.dot(means.group_mean_basis, group_mean_z * scale ** (-centring))
        stance_z = pm.Deterministic("stance_z", standard[:n_stances], dims="stance_effect")
        group_mean = group_mean_sd * standard[n_stances:]
        source_effect = group_mean[x.bias_group_of]
        if n_contrasts:
            centred = means.contrast_centred
            contrast_z = pm.Normal("contrast_z", 0.0, pt.where(centred, source_sd, 1.0), dims="source_contrast")
            contrast = pt.where(centred, 1.0, source_sd) * contrast_z
            source_effect = source_effect + pt.dot(means.contrast_basis, contrast)
        source_effect = x.source_free * source_effect
        stance_effect = pt.concatenate([x.stance_mean + x.stance_sd * stance_z, pt.zeros(1)])
        log_bias = x.pair_free * (stance_effect[x.pair_stance] + source_effect[x.pair_source])
    else:
        stance_z = pm.Normal("stance_z", 0.0, 1.0, dims="stance_effect")
        stance_effect = pt.concatenate([x.stance_mean + x.stance_sd * stance_z, pt.zeros(1)])
        # Non-centred where the data say little about an effect; centred where they pin it (a
        # source with many claims, a group of many sources). Same prior either way.
        group_z = pm.Normal("group_z", 0.0, pt.where(x.group_centred, group_sd, 1.0), dims="bias_group")
        source_z = pm.Normal("source_z", 0.0, pt.where(x.source_centred, source_sd, 1.0), dims="bias_source")
        group_effect = pt.where(x.group_centred, 1.0, group_sd) * group_z
        source_effect = pt.where(x.source_centred, 1.0, source_sd) * source_z
        log_bias = x.pair_free * (
            stance_effect[x.pair_stance] + group_effect[x.pair_group] + source_effect[x.pair_source]
        )
    pm.Deterministic("bias", pt.exp(log_bias), dims="source_stance")
    return log_bias


def claim_biases(x: GraphData, log_bias, n_knots: int, n_levels: int):
    """Part 4: each loss claim's log bias: its pair's, plus, for a claim of a drifting series
    (drift_series), the series' own level where its source keeps several (``data.series_levels``:
    a source's running count of one population may lean otherwise than its count of another) and
    its drift at the claim's date: a random walk over the series' knots, centred so that it
    averages 0 over the series' claims, read by linear interpolation. Returns the claims' log
    biases and the series' levels (None where there are none), which the population's anchored
    level takes into its mean bias."""
    claim_log_bias = log_bias[x.claim_pair]
    drift = x.drift
    if drift is None:
        return claim_log_bias, None
    # fixed, like the spreads of the biases: a war has a few long series, too few to learn how
    # fast biases drift from (docs/decisions.md)
    drift_scale = drift.prior_drift_scale
    drift_z = pm.Normal("drift_z", 0.0, 1.0, dims="drift_innovation")
    steps = pt.set_subtensor(pt.zeros(n_knots)[drift.drift_innovation_knot], drift.drift_innovation_scale * drift_z)
    running = pt.cumsum(steps)
    knots = drift_scale * (running - (running - steps)[drift.drift_series_first])
    knots = knots - pt.dot(drift.drift_series_weight, knots)[drift.drift_knot_series]
    series_level = None
    if n_levels:
        # where a source keeps several series, each one's own level around the source's bias (a
        # ministry may inflate one adversary's losses and not another's; data.series_levels):
        # the drift averages this, not 0, over the series' claims
        level_z = pm.Normal("series_level_z", 0.0, 1.0, dims="series_level")
        series_level = drift.series_level_sd * pt.dot(drift.series_level_basis, level_z)
        knots = knots + series_level[drift.drift_knot_series]
    pm.Deterministic("bias_drift", knots, dims="drift_knot")
    # each series' bias over its period: its source's, times its level's
    series_log_bias = log_bias[drift.series_pair] + (0.0 if series_level is None else series_level)
    pm.Deterministic("series_bias", pt.exp(series_log_bias), dims="drift_series")
    padded = pt.concatenate([knots, pt.zeros(1)])
    return claim_log_bias + (
        drift.claim_drift_weight_0 * padded[drift.claim_drift_knot_0]
        + drift.claim_drift_weight_1 * padded[drift.claim_drift_knot_1]
    ), series_level


def daily_rate_curve(x: GraphData, log_bias, n_levels: int, blocks: tuple[int, ...], series_level=None):
    """Part 1: each step's log daily rate of its population's anchor category: a level (the log of
    the mean daily rate over the days its claims speak about) times a stationary AR(1) curve
    normalised to average 1 there.

    - The claims pin the level *plus* the mean log bias they carry (their pairs' and, for the
      claims of a drifting series, its level: ``series_level``), not the level itself, and
      how far apart the two are depends on the spread of the biases: a funnel NUTS diverges in.
      So the sampler moves the anchored level (``level_z``: the level plus that mean bias, in
      prior sd units), which the data pin, and the level is derived from it. Its prior,
      N(shift, 1), makes the level exactly N(median, sd) and independent of the biases.
    - The curve is normalised on the natural scale under the claims' weights (``claim_coverage``:
      the mean, over the population's claims, of each window's mean rate = level), so a
      population known by one figure, cumulative or over a late window, pins its level through
      it with no banana between level and curve."""
    pop_of = x.pop_of_step
    level_sd = x.prior_level_sd
    mean_bias = pt.dot(x.pop_pair_weight, log_bias)
    if series_level is not None and x.drift is not None:
        mean_bias = mean_bias + pt.dot(x.drift.pop_series_weight, series_level)
    anchor_shift = mean_bias / level_sd
    level_z = pm.Normal("level_z", anchor_shift, 1.0, dims="population")
    level = pm.Deterministic(
        "log_rate_level", x.log_rate_median + level_sd * (level_z - anchor_shift), dims="population"
    )
    # the curve's spread gets a zero-avoiding lognormal prior: a daily rate that never changes is
    # implausible, a scale free to reach 0 mixes slowly, and its light right tail keeps the
    # curve of a population few claims speak about from reaching absurd totals
    rate_sd = _sampled(x, "rate_sd")
    # partially centred innovations (walk_centring): the same prior, a geometry NUTS mixes well
    # both where the claims pin the curve week by week and where none sees it
    scale_of, centring = rate_sd[pop_of], x.walk_centring
    rw_z = pm.Normal("rw_z", 0.0, scale_of**centring, dims="walk_direction")
    # (a data-rich war's directions are rotated, reparam.walk_basis; the rotation keeps each
    # population's block, where rate_sd is one number, so it commutes with the scale)
    innovations = scale_of ** (1.0 - centring) * rw_z
    if x.group_means is not None:
        innovations = rotate_by_blocks(x.group_means.walk_basis, innovations, blocks)
    walk = ou_walk(x.ou_scale * innovations, x.ou_scan, n_levels)
    # normalised on the log scale: shifted by the highest weighted step of its population, the
    # weighted mean cannot underflow to 0 nor the exponentials overflow, however wide the curve
    weight = x.pop_day_weight
    shift = pt.max(pt.where(pt.gt(weight, 0.0), walk[None, :], -np.inf), axis=1)
    # (and no step's rate underflows to 0: a floor far below anything a posterior can reach)
    shifted = pt.maximum(walk - shift[pop_of], -600.0)
    log_norm = pt.log(pt.dot(weight, pt.exp(pt.minimum(shifted, 700.0))))
    return level[pop_of] + shifted - log_norm[pop_of]


def rotate_by_blocks(basis, vector, blocks: tuple[int, ...]):
    """``basis @ vector`` for a block-diagonal ``basis`` whose blocks have the sizes ``blocks``
    (one per population, in order): each block's product alone. The dense product multiplied
    every zero off the blocks, in the log density and its gradient: with four populations of
    100-200 steps, three quarters of the rotation's multiplications."""
    parts, first = [], 0
    for n in blocks:
        if n:
            block = slice(first, first + n)
            parts.append(pt.dot(basis[block, block], vector[block]))
        first += n
    return pt.concatenate(parts) if len(parts) > 1 else parts[0]


def ou_walk(innovations, scan, n_levels: int):
    """Each population's AR(1) log-rate deviation from its innovations ``b`` (flat steps): the
    recurrence ``x_k = phi_k x_(k-1) + b_k`` as a parallel prefix scan (``ou_scan_coefficients``)."""
    x = innovations
    for level in range(n_levels):
        lag = 2**level
        x = x + scan[level] * pt.concatenate([pt.zeros(lag), x[:-lag]])
    return x


def killed_share_and_rate(x: GraphData, log_rate):
    """Part 2: the killed share of each step's casualties (its logit) and the mean daily casualties
    of each step (``step_rate``).

    The share is its typical value (``killed_share``) moved on the logit scale by a slow
    stationary curve over coarse knots (share_knots), shared in spread by every population. The
    walk (2) is the daily rate of the population's anchor category (anchor_categories): the
    category its claims count, so claims of killed alone pin the walk without passing through
    the share; casualties = anchor rate / anchor share."""
    pop_of = x.pop_of_step
    killed_share = _sampled(x, "killed_share")
    # its spread is fixed (killed_share_sd), not learnt: a few populations cannot tell it
    # (docs/decisions.md)
    share_sd = x.prior_share_sd
    # (clipped: a share that rounds to 0 or 1 would make the logit infinite)
    typical = pt.clip(killed_share, 1e-12, 1.0 - 1e-12)
    logit_typical = pt.log(typical) - pt.log1p(-typical)
    # The curve's knots, partially centred on the typical share by how well the claims pin them
    # (reparam.share_centring, w): the knots' logit shares are share_sd * share_ou @ share_z + (1 - w)
    # * logit(typical), share_z ~ N(share_ou^-1 (w * logit(typical)) / share_sd, 1): their deviations
    # from the typical share are the same stationary curve for any w (w = 0: share_z are its
    # innovations, as they were; w = 1: the knots' shares are sampled, the typical share off them).
    centre = x.share_centring * logit_typical[x.share_knot_pop]
    share_z = pm.Normal("share_z", pt.dot(x.share_ou_inverse, centre) / share_sd, 1.0, dims="share_knot")
    knots = share_sd * pt.dot(x.share_ou, share_z) - centre
    deviation = x.share_weight_0 * knots[x.share_knot_0] + x.share_weight_1 * knots[x.share_knot_1]
    logit_share = logit_typical[pop_of] + deviation
    killed_share_step = pm.Deterministic("step_killed_share", pm.math.sigmoid(logit_share), dims="step")
    anchor = x.pop_anchor[pop_of]
    log_anchor_share = pt.switch(
        pt.eq(anchor, 0),
        -pt.softplus(-logit_share),
        pt.switch(pt.eq(anchor, 1), -pt.softplus(logit_share), 0.0),
    )
    # mean daily casualties per step (kept in the posterior: any period's losses follow
    # exactly, e.g. the claims a backtest's vintage had not seen yet; reconcile.forecast)
    rate = pm.Deterministic("step_rate", pt.exp(log_rate - log_anchor_share), dims="step")
    return logit_share, killed_share_step, rate


def period_totals(x: GraphData, step_rate):
    """The totals over periods of a per-step daily rate: from its running total at each step's
    end, a period's total is the difference of its two ends, each read off the step holding it
    (exact: the rate is constant in a step). Returns kind -> totals, for the periods of the
    estimates, the claims or the bounds."""
    at_step_end = pt.cumsum(step_rate * x.step_width)

    def totals(kind: str):
        def at(end: str):
            step = getattr(x, f"{kind}_{end}_step")
            return at_step_end[step] - getattr(x, f"{kind}_{end}_rest") * step_rate[step]

        return at("end") - at("start")

    return totals


def claimed_quantities(x: GraphData, casualties, killed, wounded):
    """Part 3: the true quantity each loss claim refers to (``true_quantity``): killed, wounded or
    casualties (:func:`period_totals` of each), over its period or per day of it."""
    category = x.claim_category
    total = pt.switch(
        pt.eq(category, 0), killed("claim"), pt.switch(pt.eq(category, 1), wounded("claim"), casualties("claim"))
    )
    # floored far below any figure: a difference of running totals can round to 0 (or below)
    # where the rate swings over more orders of magnitude than floating point holds
    return pm.Deterministic("true_quantity", pt.maximum(total / x.claim_length, 1e-250), dims="claim")


def noise_scales(x: GraphData):
    """Part 4: each loss claim's noise scale: its source's own, partially pooled (``noise_sd``), or,
    for a claim of a drifting series, the series' own (``series_noise_sd``)."""
    # log noise = typical + group + source effects (zero-avoiding typical scale: no source's
    # figures match its belief exactly).
    noise_typical = _sampled(x, "noise_typical")
    noise_group_sd = _sampled(x, "noise_group_sd")
    noise_source_sd = _sampled(x, "noise_source_sd")
    # partially centred by what the statements know (reparam.noise_centring): the same prior
    w_group, w_source = x.noise_group_centring, x.noise_centring
    noise_group_z = pm.Normal("noise_group_z", 0.0, noise_group_sd**w_group, dims="source_group")
    noise_source_z = pm.Normal("noise_source_z", 0.0, noise_source_sd**w_source, dims="source")
    log_noise = (
        pt.log(noise_typical)
        + (noise_group_sd ** (1.0 - w_group) * noise_group_z)[x.source_group_of]
        + noise_source_sd ** (1.0 - w_source) * noise_source_z
    )
    # softly capped at half the outliers' scale: a source's noise wider than the outliers'
    # would swap the mixture's two components, a second mode in which every statement is noise
    # and one running tally alone sets the curve (docs/decisions.md, "Cap each source's noise")
    log_cap = pt.log(0.5 * x.prior_outlier[1])
    noise_sd = pm.Deterministic("noise_sd", pt.exp(_soft_cap(log_noise, log_cap)), dims="source")
    claim_noise = noise_sd[x.claim_source]
    if x.drift is not None:
        # what a running series' errors keep once its drift is taken out: its own scale, apart
        # from the statements' pool (a count published every day is far smoother than a speech),
        # capped as a source's is (docs/decisions.md, "Ask a drifting series to be a running
        # count, and cap a series' noise too")
        uncapped = _sampled(x.drift, "series_noise_sd", "series_noise_uncapped")
        series_noise = pm.Deterministic(
            "series_noise_sd", pt.exp(_soft_cap(pt.log(uncapped), log_cap)), dims="drift_series"
        )
        claim_noise = pt.where(x.drift.claim_in_series > 0, series_noise[x.drift.claim_series], claim_noise)
    return claim_noise


def _soft_cap(log_noise, log_cap):
    """A log noise scale softly capped: ``noise / sqrt(1 + (noise / cap)^2)``, computed on the log
    scale so that it cannot overflow."""
    return log_noise - 0.5 * pt.softplus(2.0 * (log_noise - log_cap))


def stated_figures(x: GraphData, true_quantity, claim_log_bias, claim_noise) -> None:
    """Part 5: the stated figures (``stated``): points (a density) and intervals (censoring), with the
    robust noise of :mod:`reconcile.observation`."""
    mu = pt.log(true_quantity) + claim_log_bias
    sigma = pt.sqrt(x.claim_noise_floor**2 + claim_noise**2)
    pm.CustomDist(
        "stated",
        mu,
        sigma,
        x.prior_outlier[0],
        x.prior_outlier[1],
        logp=stated_logp,
        signature="(),(),(),()->(2)",
        observed=x.stated_figures,
        dims=("claim", "end"),
    )


def strength_bounds(x: GraphData, casualties, log_bias) -> None:
    """Part 6: stated force strengths bound cumulative casualties from above, softly, read through
    their sources' lean (``strength``; ``strength_bias``)."""
    cum_at = pm.Deterministic("bound_casualties", pt.maximum(casualties("bound"), 1e-250), dims="bound")
    padded = pt.concatenate([log_bias, pt.zeros(1)])
    stated_at = pt.log(cum_at) + padded[x.bound_pair] + x.bound_prior_log_bias
    pm.CustomDist(
        "strength",
        stated_at,
        x.bound_softness,
        logp=strength_logp,
        observed=x.stated_strength,
        dims="bound",
    )
