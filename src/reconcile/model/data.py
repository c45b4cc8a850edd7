"""Every array the graph reads, by name and type (``GraphData``), derived from the model's inputs.

Nothing of the claims or the configuration reaches the graph except through these (and the
dimensions): ``build_model`` holds each in a named shared variable, so one compiled model serves
every war of the same shapes (``reconcile._nutpie``; docs/decisions.md, "Compile once per
structure"). The same container, mapped (``GraphData.map``), carries those variables inside the
graph, so the graph reads ``x.claim_pop``, never a string key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from .. import priors as declared
from ..config import Config
from .grid import claim_coverage, ou_coefficients, ou_scan_coefficients, share_knots
from .inputs import (
    STANCE_ORDER,
    ModelInputs,
    anchor_categories,
    bias_units,
    free_stance_effects,
    stance_priors,
    typical_category_share,
)
from .likelihood import claim_noise_floor
from .reparam import (
    GROUP_SOURCES_CENTRED_FROM,
    SOURCE_CENTRED_FROM,
    bias_structure,
    centred,
    group_mean_basis,
    noise_centring,
    share_centring,
    uses_group_means,
    walk_basis,
    walk_centring,
)

T = TypeVar("T")
U = TypeVar("U")


def _dims(*dims: str) -> Any:
    """A field's dimensions, as ``posterior.nc``'s ``constant_data`` labels it (:func:`dims_of`)."""
    return dataclasses.field(metadata={"dims": dims})


def _prior_dims(name: str) -> Any:
    """A sampled prior's parameters: one dimension per family (``lognormal_parameter``: [log
    median, sd]; ``beta_parameter``: [a, b]), from its declaration in :mod:`reconcile.priors`, so
    a family changed there is labelled as it is."""
    return _dims(f"{declared.SAMPLED[name].family}_parameter")


def _leaves(data) -> list:
    """(field, value) of every input present, in declaration order, the optional groups' inputs
    in their place."""
    out = []
    for f in dataclasses.fields(data):
        value = getattr(data, f.name)
        if dataclasses.is_dataclass(value):
            out += _leaves(value)
        elif value is not None:
            out.append((f, value))
    return out


def dims_of(data: Any) -> dict[str, tuple[str, ...]]:
    """Each input's dimensions (flat steps ``step``, loss claims ``claim``, the posterior's names
    elsewhere; ``scan_level``, ``share_innovation`` and ``*_parameter`` are the inputs' own)."""
    return {f.name: f.metadata["dims"] for f, _ in _leaves(data)}


def _map(data, fn):
    changes = {}
    for f in dataclasses.fields(data):
        value = getattr(data, f.name)
        if dataclasses.is_dataclass(value):
            changes[f.name] = _map(value, fn)
        elif value is not None:
            changes[f.name] = fn(f.name, value)
    return type(data)(**changes)


@dataclass(frozen=True, kw_only=True)
class GroupMeanData(Generic[T]):
    """A data-rich war's stance effects and group means, in their rotation (reparam.group_mean_basis), and its
    sources' contrasts within their groups (reparam.bias_structure)."""

    walk_basis: T = _dims("step", "walk_direction")  # (step, direction): the walk's rotation (reparam.walk_basis)
    # (free stance, then group; direction): the stance effects rotated with the group means
    group_mean_basis: T = _dims("rotated_effect", "group_mean_direction")
    group_mean_centring: T = _dims("group_mean_direction")
    contrast_basis: T = _dims("bias_source", "source_contrast")
    contrast_centred: T = _dims("source_contrast")


@dataclass(frozen=True, kw_only=True)
class DriftData(Generic[T]):
    """The drifting series' knots and how each loss claim reads them (inputs.drift_series)."""

    drift_innovation_knot: T = _dims("drift_innovation")
    drift_innovation_scale: T = _dims("drift_innovation")
    drift_series_first: T = _dims("drift_knot")
    drift_knot_series: T = _dims("drift_knot")
    drift_series_weight: T = _dims("drift_series", "drift_knot")
    claim_drift_knot_0: T = _dims("claim")
    claim_drift_knot_1: T = _dims("claim")
    claim_drift_weight_0: T = _dims("claim")
    claim_drift_weight_1: T = _dims("claim")
    claim_in_series: T = _dims("claim")
    claim_series: T = _dims("claim")
    prior_drift_scale: T = _dims()
    prior_series_noise_sd: T = _prior_dims("series_noise_sd")
    series_pair: T = _dims("drift_series")  # the (source, stance) pair of each series' claims
    series_level_sd: T = _dims()  # the spread of a series' level around its source's bias
    series_level_basis: T = _dims("drift_series", "series_level")  # series_levels: contrasts within a source
    pop_series_weight: T = _dims("population", "drift_series")  # each series' share of its population's loss claims


@dataclass(frozen=True, kw_only=True)
class GraphData(Generic[T]):
    """The graph's inputs: numpy arrays out of :func:`graph_data`, tensors inside the graph.

    Flat steps (``step``) run population after population; a period (an estimate's, a claim's or a
    bound's) is located by its two ends, each the flat step holding it and the days of that step
    after it (:meth:`Grid.positions`). The groups marked optional exist only in a data-rich war
    (group means) or one with drifting series (drift)."""

    # the time grid and the log-rate curve (one entry per flat step unless said)
    pop_of_step: T = _dims("step")
    step_width: T = _dims("step")
    ou_scale: T = _dims("step")  # the AR(1) innovation scale of each step
    ou_scan: T = _dims(
        "scan_level", "step"
    )  # (level, step): the prefix scan's coefficients (grid.ou_scan_coefficients)
    walk_centring: T = _dims("walk_direction")  # how far each innovation is centred (reparam.walk_centring)
    pop_day_weight: T = _dims("population", "step")  # (population, step): the claims' coverage (grid.claim_coverage)
    pop_pair_weight: T = _dims(
        "population", "source_stance"
    )  # (population, source-stance pair): each pair's share of its loss claims
    log_rate_median: T = _dims("population")  # per population: the prior median of the anchor category's log daily rate
    pop_anchor: T = _dims("population")  # per population: the category the walk is the rate of (index in CATEGORIES)
    # where the estimates' and the claims' periods start and end on the grid
    estimate_start_step: T = _dims("estimate")
    estimate_start_rest: T = _dims("estimate")
    estimate_end_step: T = _dims("estimate")
    estimate_end_rest: T = _dims("estimate")
    claim_start_step: T = _dims("claim")
    claim_start_rest: T = _dims("claim")
    claim_end_step: T = _dims("claim")
    claim_end_rest: T = _dims("claim")
    # per loss claim
    claim_category: T = _dims("claim")
    claim_pop: T = _dims("claim")
    claim_length: T = _dims("claim")  # days of a daily average, else 1
    claim_pair: T = _dims("claim")
    claim_source: T = _dims("claim")
    claim_noise_floor: T = _dims("claim")
    stated_figures: T = _dims("claim", "end")  # (claim, end): log of the stated low and high ends
    # stances, sources and groups
    stance_mean: T = _dims("stance_effect")  # per free stance
    stance_sd: T = _dims("stance_effect")
    pair_stance: T = _dims(
        "source_stance"
    )  # per (source, stance) pair: its free stance's slot (the last, 0, if pinned)
    pair_group: T = _dims("source_stance")
    pair_source: T = _dims("source_stance")
    pair_free: T = _dims("source_stance")  # 0 for a reference source
    # the biases' sources and groups (inputs.bias_units): the sources and groups themselves, or
    # with priors.bias_by_stance, their (source, stance) and (group, stance) pairs
    source_centred: T = _dims("bias_source")
    group_centred: T = _dims("bias_group")
    noise_centring: T = _dims("source")  # 0-1, reparam.noise_centring
    noise_group_centring: T = _dims("source_group")
    source_group_of: T = _dims("source")  # per source, for the noise scales (reparam.bias_structure)
    bias_group_of: T = _dims("bias_source")  # the same for the biases
    source_free: T = _dims("bias_source")
    group_free_sources: T = _dims("bias_group")
    group_means: GroupMeanData[T] | None = None  # data-rich wars only
    # strength bounds
    bound_start_step: T = _dims("bound")
    bound_start_rest: T = _dims("bound")
    bound_end_step: T = _dims("bound")
    bound_end_rest: T = _dims("bound")
    stated_strength: T = _dims("bound")
    bound_pair: T = _dims("bound")  # -1: no loss claim of its own; reads the padded biases' last slot, 0
    bound_prior_log_bias: T = _dims("bound")
    bound_softness: T = _dims("bound")
    # the priors' parameters (reconcile.priors)
    prior_group_sd: T = _dims()
    prior_source_sd: T = _dims()
    prior_level_sd: T = _dims()
    prior_share_sd: T = _dims()
    prior_noise_typical: T = _prior_dims("noise_typical")
    prior_noise_group_sd: T = _prior_dims("noise_group_sd")
    prior_noise_source_sd: T = _prior_dims("noise_source_sd")
    prior_rate_sd: T = _prior_dims("rate_sd")
    prior_killed_share: T = _prior_dims("killed_share")
    # the killed share's curve (grid.share_knots)
    share_ou: T = _dims("share_knot", "share_innovation")
    share_ou_inverse: T = _dims("share_innovation", "share_knot")
    share_knot_pop: T = _dims("share_knot")
    share_centring: T = _dims("share_knot")  # 0-1, reparam.share_centring
    share_knot_0: T = _dims("step")
    share_knot_1: T = _dims("step")
    share_weight_0: T = _dims("step")
    share_weight_1: T = _dims("step")
    prior_outlier: T = _dims("outlier_parameter")  # [probability, scale] of a wild figure
    drift: DriftData[T] | None = None  # wars with drifting series only

    def items(self) -> list[tuple[str, T]]:
        """(name, value) of every input present, in declaration order, the optional groups'
        inputs in their place (each input's name is its shared variable's in the graph, unique)."""
        return [(f.name, value) for f, value in _leaves(self)]

    def map(self, fn: Callable[[str, T], U]) -> GraphData[U]:
        """The same inputs, each turned into ``fn(name, value)`` (a shared variable, a constant)."""
        return _map(self, fn)


def series_levels(d: ModelInputs) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Where a source keeps running counts of several populations, each count's own level around
    the source's bias: ``series_pair`` (the (source, stance) pair of each series: its claims', the
    most frequent if their stance varies), ``basis`` (series, free level) and the free levels'
    labels. A ministry may inflate one adversary's losses threefold and deflate another's; one
    bias per source and stance cannot say so.

    A series' log level is ``series_level_sd * basis @ z``, ``z ~ N(0, 1)``: within each pair of
    k >= 2 series, orthonormal contrasts (a Helmert basis) scaled by ``sqrt(k / (k - 1))``, so each
    level is N(0, series_level_sd) and a pair's levels sum to zero: the source's bias is the
    average of its series' (as its drift averages zero over each series), and its other
    statements read it. A pair with one series has no level (its series *is* its bias: a level
    would only trade against the source's effect); nor has a reference source's, unbiased by
    assumption on every population. A series is a (source, population): were its claims of two
    stances (a source's stance towards a population is normally one), its level would apply to
    all of them, around the bias of the most frequent. The information rotations of the biases
    (``reparam``) still read a levelled series' claims as pinning its source's effect: an
    approximation of what they know, which moves only the sampler's coordinates, not the model."""
    L, D = d.loss, d.drift
    n = len(D.series)
    pair = np.array([np.bincount(L.pair[D.claim_series == r]).argmax() for r in range(n)], dtype=np.int64)
    reference = d.sources["reference"].to_numpy(dtype=bool)
    columns, labels = [], []
    for p in np.unique(pair):
        members = np.flatnonzero(pair == p)
        k = len(members)
        if k < 2 or reference[p]:
            continue
        for j in range(1, k):  # Helmert contrast j: the first j series against the next one
            column = np.zeros(n)
            column[members[:j]] = 1.0
            column[members[j]] = -float(j)
            columns.append(column / np.sqrt(j * (j + 1)) * np.sqrt(k / (k - 1)))
            labels.append(f"{d.pair_labels[p]} | contrast {j}")
    basis = np.column_stack(columns) if columns else np.zeros((n, 0))
    return pair, basis, labels


def graph_data(d: ModelInputs, config: Config) -> GraphData[np.ndarray]:
    """Every array the model reads, the priors' parameters included, from the model's inputs."""
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
    claim_start = g.positions(L.pop, L.day_start)
    claim_end = g.positions(L.pop, L.day_end)
    est_start = g.positions(est["pop"].to_numpy(), np.zeros(len(est), dtype=np.int64))
    est_end = g.positions(est["pop"].to_numpy(), est["day"].to_numpy())
    bound_start = g.positions(B.pop, np.zeros_like(B.day))
    bound_end = g.positions(B.pop, B.day)
    # each population's share of loss claims from each (source, stance) pair: the weights of the
    # mean log bias its claims carry (see the anchored level in graph.daily_rate_curve)
    pair_claims = np.zeros((len(g.populations), len(src)))
    np.add.at(pair_claims, (L.pop, L.pair), 1.0)
    pair_weight = pair_claims / np.maximum(pair_claims.sum(axis=1, keepdims=True), 1.0)
    phi, ou_scale = ou_coefficients(g, config["time"]["correlation_days"])
    anchor = anchor_categories(d)
    n_levels = int(np.ceil(np.log2(max(int(g.n_steps.max()), 2))))
    structure = bias_structure(d)
    units = bias_units(d, config)  # how the biases are pooled: by source and group, or also by stance
    unit_src = units.sources
    unit_structure = structure if units is d else bias_structure(units)
    statement = D.claim_series < 0
    rotated = walk_basis(d, config) if uses_group_means(d) else None
    share = share_knots(g, config)
    arrays: dict[str, np.ndarray] = {
        "pop_of_step": g.pop,
        "step_width": g.width.astype(float),
        "ou_scale": ou_scale,
        "ou_scan": ou_scan_coefficients(phi, n_levels),
        # a data-rich war's walk is rotated, each direction centred (walk_basis); a small war's
        # innovations are centred one by one
        "walk_centring": rotated["walk_centring"] if rotated else walk_centring(d, config),
        "pop_day_weight": claim_coverage(g, L.pop, L.day_start, L.day_end),
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
        "claim_category": L.category,
        "claim_pop": L.pop,
        "claim_length": np.where(L.per_day, L.days, 1.0),
        "claim_pair": L.pair,
        "claim_source": L.source,
        "claim_noise_floor": claim_noise_floor(L, pr),
        "stated_figures": L.stated,
        "stance_mean": np.array([prior[s][0] for s in free_stances], dtype=float),
        "stance_sd": np.array([prior[s][1] for s in free_stances], dtype=float),
        "pair_stance": src["stance"].map(stance_slot).to_numpy(dtype=np.int64),
        "pair_group": unit_src["group_index"].to_numpy(dtype=np.int64),
        "pair_source": unit_src["source_index"].to_numpy(dtype=np.int64),
        "pair_free": (~src["reference"].to_numpy()).astype(float),
        # claims informing each source's effect, free sources in each group (a reference source's
        # effect is pinned out of the likelihood: only its prior is left, best non-centred)
        "source_centred": centred(
            unit_src["n_claims"]
            .where(~unit_src["reference"], 0)
            .groupby(unit_src["source_index"])
            .sum()
            .sort_index()
            .to_numpy(),
            SOURCE_CENTRED_FROM,
        ),
        "group_centred": centred(
            unit_src["source"]
            .where(~unit_src["reference"])
            .groupby(unit_src["group_index"])
            .nunique()
            .reindex(range(len(units.groups)), fill_value=0)
            .to_numpy(),
            GROUP_SOURCES_CENTRED_FROM,
        ),
        # the noise hierarchy, centred as far as the statements pin it
        **noise_centring(L, statement, structure["source_group_of"], len(d.groups), pr),
        "source_group_of": structure["source_group_of"],
        "bias_group_of": unit_structure["source_group_of"],
        **{name: unit_structure[name] for name in ("source_free", "group_free_sources")},
        "bound_start_step": bound_start[0],
        "bound_start_rest": bound_start[1],
        "bound_end_step": bound_end[0],
        "bound_end_rest": bound_end[1],
        "stated_strength": B.log_strength,
        "bound_pair": B.pair,  # -1: the last slot of the padded biases, 0
        "bound_prior_log_bias": B.prior_log_bias,
        "bound_softness": B.softness,
        # the priors' parameters, from their declarations (reconcile.priors)
        **{
            f"prior_{name}": declared.fixed_scale(name, pr)
            for name in ("group_sd", "source_sd", "level_sd", "share_sd")
        },
        **{f"prior_{name}": prior.data(pr) for name, prior in declared.SAMPLED.items() if name != "series_noise_sd"},
        **share,
        # the share's curve centred on the typical share where the claims pin it (reparam.share_centring)
        "share_ou_inverse": np.linalg.inv(share["share_ou"]),
        "share_centring": share_centring(d, config, share, by_losses=rotated is not None),
        "prior_outlier": np.array([pr["outlier_prob"], pr["outlier_sd"]], dtype=float),
    }
    group_means = None
    if rotated:
        group_means = GroupMeanData(
            walk_basis=rotated["walk_basis"],
            **group_mean_basis(units, config),
            contrast_basis=unit_structure["contrast_basis"],
            contrast_centred=unit_structure["contrast_centred"],
        )
    drift = None
    if len(D.knot_series):
        series_claims = np.zeros((len(g.populations), len(D.series)))
        in_series = D.claim_series >= 0
        np.add.at(series_claims, (L.pop[in_series], D.claim_series[in_series]), 1.0)
        pop_series_weight = series_claims / np.maximum(pair_claims.sum(axis=1, keepdims=True), 1.0)
        series_pair, level_basis, _ = series_levels(d)
        drift = DriftData(
            **{
                "drift_innovation_knot": np.flatnonzero(~D.knot_first).astype(np.int64),
                "drift_innovation_scale": D.knot_scale[~D.knot_first],
                "drift_series_first": D.series["first_knot"].to_numpy(dtype=np.int64)[D.knot_series],
                "drift_knot_series": D.knot_series,
                "drift_series_weight": D.series_weight,
                "claim_drift_knot_0": np.ascontiguousarray(D.claim_knot[:, 0]),
                "claim_drift_knot_1": np.ascontiguousarray(D.claim_knot[:, 1]),
                "claim_drift_weight_0": np.ascontiguousarray(D.claim_weight[:, 0]),
                "claim_drift_weight_1": np.ascontiguousarray(D.claim_weight[:, 1]),
                "claim_in_series": (D.claim_series >= 0).astype(float),
                "claim_series": np.maximum(D.claim_series, 0),
                "prior_drift_scale": declared.fixed_scale("drift_scale", pr),
                "prior_series_noise_sd": declared.SAMPLED["series_noise_sd"].data(pr),
                "series_pair": series_pair,
                "series_level_sd": declared.fixed_scale("series_level_sd", pr),
                "series_level_basis": level_basis,
                "pop_series_weight": pop_series_weight,
            }
        )
    return GraphData(**arrays, group_means=group_means, drift=drift)
