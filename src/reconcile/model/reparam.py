"""The reparameterisations: how far each effect and each step of the walk is centred, and the
rotations that separate what the claims pin from what they do not. The same prior either way;
only the geometry NUTS sees changes (docs/decisions.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import isotonic_regression

from ..config import Config
from .grid import ou_coefficients
from .inputs import (
    DRIFT_UNIT_DAYS,
    LOG_CEIL,
    LOG_FLOOR,
    LossClaims,
    ModelInputs,
    anchor_categories,
    free_stance_effects,
    stance_priors,
)
from .likelihood import claim_noise_floor

# From how many claims an effect is parameterized centred: a source's effect (or its contrast
# with the better-informed sources of its group, see bias_structure), by its own claims; only
# data-rich sources are centred (docs/decisions.md, "Centre a source's effect only from 40 claims").
# In the group effect + source effect form, a group effect is centred from 10 free sources. A group
# whose free sources make DATA_RICH_FROM claims makes the war data-rich (uses_group_means); its
# group means are then centred direction by direction, by information (group_mean_basis).
SOURCE_CENTRED_FROM = 40
DATA_RICH_FROM = 40
GROUP_SOURCES_CENTRED_FROM = 10


def centred(counts: np.ndarray, threshold: int) -> np.ndarray:
    """Which effects are parameterized centred: those the data pin down (see data.graph_data)."""
    return np.asarray(counts) >= threshold


def _informed_basis(information: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenbasis of the claims' information on standard-normal coordinates (most informed first,
    each vector's largest entry positive, so the basis is reproducible) and each coordinate's
    partial-centring weight ``rho / (1 + rho)`` (Papaspiliopoulos, Roberts & Skold, 2007)."""
    rho, q = np.linalg.eigh(information)
    rho, q = rho[::-1].clip(0.0), q[:, ::-1]
    q = q * np.where(q[np.abs(q).argmax(axis=0), np.arange(q.shape[1])] < 0, -1.0, 1.0)
    return q, rho / (1.0 + rho)


def _claim_precision(L: LossClaims, pr) -> np.ndarray:
    """What the prior expects one loss claim to say about the log of its quantity, as a precision:
    its noise floor, the prior's noise scale, half its interval's log width (a one-sided bound
    counts as sd 1). For the linearisations of walk_centring and group_mean_basis."""
    return 1.0 / (claim_noise_floor(L, pr) ** 2 + pr["noise_sd"] ** 2 + _claim_spread(L) ** 2)


def _claim_spread(L: LossClaims) -> np.ndarray:
    """How far a loss claim leaves its figure open, as a log sd: half its interval's log width,
    1 for a one-sided bound, 0 for a figure stated as one number."""
    low, high = L.stated[:, 0], L.stated[:, 1]
    one_sided = (low <= LOG_FLOOR) | (high >= LOG_CEIL)
    return np.where(one_sided, 1.0, (high - low) / 4.0)


def noise_centring(
    L: LossClaims, statement: np.ndarray, source_group_of: np.ndarray, n_groups: int, pr
) -> dict[str, np.ndarray]:
    """How far each source's and each group's effect on the log noise is centred (0: non-centred,
    1: centred), by what the source's statements (the claims not in a drifting series) know about
    it: ``w = rho / (1 + rho)``, as the walk's innovations (``walk_centring``).

    A statement observes its source's log noise with Fisher information ``2 (n² / (f² + n² +
    s²))²``, ``n`` the prior's typical noise (``noise_sd``), ``f`` its noise floor and ``s`` half
    its interval's log width (a one-sided bound counts as 1, and so says almost nothing about the
    noise); ``rho`` is the source's total against the prior variance of its effect (the spread of
    the sources, ``noise_source_spread``, at its prior median). A group sees its sources through that
    spread: each source adds ``1 / (spread² + 1 / information)``, against ``noise_group_spread``.

    A centred-or-not switch at 40 statements left every source of ``long-2000`` non-centred, though
    each source's 5-16 statements know 2-5 times more about its noise than the prior does: a
    funnel when the spread of the sources went small (docs/decisions.md, "Centre the noise
    hierarchy by information")."""
    typical = pr["noise_sd"] ** 2
    claim_information = 2.0 * (typical / (claim_noise_floor(L, pr) ** 2 + typical + _claim_spread(L) ** 2)) ** 2
    n_sources = len(source_group_of)
    information = np.bincount(L.source[statement], weights=claim_information[statement], minlength=n_sources)
    source_var = pr["noise_source_spread"] ** 2
    rho_source = source_var * information
    seen = np.where(information > 0, 1.0 / (source_var + 1.0 / np.maximum(information, 1e-300)), 0.0)
    rho_group = pr["noise_group_spread"] ** 2 * np.bincount(source_group_of, weights=seen, minlength=n_groups)
    return {
        "noise_centring": rho_source / (1.0 + rho_source),
        "noise_group_centring": rho_group / (1.0 + rho_group),
    }


def walk_centring(d: ModelInputs, config: Config, basis: np.ndarray | None = None) -> np.ndarray:
    """How far each step's innovation of the log-rate curve is centred (0: non-centred, 1: centred).

    The innovations are ``rate_sd * scale_k * z_k``, ``z ~ N(0, 1)``. Sampled as ``u_k ~
    N(0, rate_sd^w_k)`` with ``z_k = u_k * rate_sd^-w_k`` the prior is the same for any ``w_k``;
    ``w_k = rho_k / (1 + rho_k)`` (Papaspiliopoulos, Roberts & Skold, 2007), with ``rho_k`` how many
    times more the claims know about innovation k than its prior does, to first order: each loss
    claim one observation of the log of its window's total (its derivative in the log rate of a step
    is the step's share of the window's losses: its days times the rate the population's running
    count shows, ``_series_rate``, in the rotated walk of a data-rich war; its days alone where
    there is no count, and in a small war's diagonal centring), with the noise the prior expects (``_claim_precision``;
    the claims of a drifting series with their series' noise plus the drift's variance over a
    knot), mapped to the innovations through the Ornstein-Uhlenbeck matrix. Where a running tally
    pins the curve week by week, its innovations are centred and ``rate_sd`` moves without dragging
    them; where no claim sees a step, it stays non-centred and cannot funnel against ``rate_sd``.

    Given ``basis`` (an identity matrix, filled in place: ``walk_basis``), each population's block
    becomes the eigenvectors of the whole information matrix, and the weights are those of its
    directions, not of single innovations. The diagonal alone misreads a running tally: it pins
    the sums of many innovations (the curve's smooth shapes), not each one, yet each innovation's
    diagonal entry is large, so nearly every step was centred and the pinned sums stayed dense
    combinations of the coordinates, which no diagonal mass matrix can scale."""
    pr, g, L = config.priors, d.grid, d.loss
    size = int(g.n_steps.sum())
    if size == 0 or len(L.pop) == 0:
        return np.zeros(size)
    precision = _loss_precision(d, config)
    tau = config["time"]["correlation_days"]
    phi, scale = ou_coefficients(g, tau)
    out = np.zeros(size)
    for j, (first, n) in enumerate(zip(g.offset, g.n_steps)):
        mine = L.pop == j
        if not mine.any():
            continue
        block = slice(int(first), int(first + n))
        # the rate as a running count of the population says, only for the rotated walk of a
        # data-rich war: in the diagonal centring of small wars the days alone converged more
        # often on the model's own wars (docs/decisions.md, "Linearise the walk by a step's share
        # of the losses")
        share = _window_shares(d, mine, block, j, by_losses=basis is not None)
        # the curve is normalised under the claims' coverage: a shape that moves every window
        # alike is the level's, not the curve's
        share = share - share.mean(axis=0, keepdims=True)
        information = (share * precision[mine][:, None]).T @ share
        m = np.zeros((int(n), int(n)))
        for k in range(int(n)):
            if k > 0:
                m[k] = phi[int(first) + k] * m[k - 1]
            m[k, k] = scale[int(first) + k]
        if basis is None:
            rho = pr["rate_sd"] ** 2 * np.einsum("ik,ij,jk->k", m, information, m)
            out[block] = rho / (1.0 + rho)
        else:
            basis[block, block], out[block] = _informed_basis(pr["rate_sd"] ** 2 * m.T @ information @ m)
    return out


def _loss_precision(d: ModelInputs, config: Config) -> np.ndarray:
    """Each loss claim's precision for the linearisations (``_claim_precision``; the claims of a
    drifting series with their series' noise plus the drift's variance over a knot)."""
    pr, L, D = config.priors, d.loss, d.drift
    precision = _claim_precision(L, pr)
    series = D.claim_series
    if (series >= 0).any():
        drift_var = pr["drift_sd"] ** 2 * config["drift"]["knot_days"] / DRIFT_UNIT_DAYS
        series_var = claim_noise_floor(L, pr) ** 2 + pr["series_noise_sd"] ** 2 + drift_var
        precision = np.where(series >= 0, 1.0 / series_var, precision)
    return precision


def _window_shares(d: ModelInputs, mine: np.ndarray, block: slice, pop: int, *, by_losses: bool) -> np.ndarray:
    """(claim, step): how far the log total of each claim in ``mine`` moves with the log rate of
    each step of ``block`` (population ``pop``): the step's share of the window's losses, its days
    times its rate, the rate as the population's running count says (``_series_rate``) when
    ``by_losses``, else flat (the days alone)."""
    L, g = d.loss, d.grid
    lo = np.maximum(g.step_start[block][None, :], L.day_start[mine][:, None])
    hi = np.minimum(g.step_end[block][None, :], L.day_end[mine][:, None])
    rate = _series_rate(d, pop, block) if by_losses else np.ones(block.stop - block.start)
    losses = np.clip(hi - lo, 0, None) * rate[None, :]
    total = losses.sum(axis=1, keepdims=True)
    return losses / np.where(total > 0, total, 1.0)


def share_centring(d: ModelInputs, config: Config, share: dict[str, np.ndarray], *, by_losses: bool) -> np.ndarray:
    """How far each knot of the killed share's curve is centred on its population's typical share
    (0: the curve's deviation from it is sampled, 1: the share itself is; ``share``: the curve's
    arrays, ``grid.share_knots``). The same prior for any weight; ``w = rho / (1 + rho)`` as the
    walk's (``walk_centring``), ``rho`` the claims' information on the knot's logit share against
    its prior variance (``killed_share_sd``²), to first order: each loss claim of a category other
    than its population's anchor (``anchor_categories``: the claims of that category pin the walk
    and say nothing of the share) observes the log of its window's total, which moves with the
    logit share of a step by the step's share of the window's losses times the category's
    derivative at the prior's typical share (killed on a casualties anchor ``1 - s``, wounded
    ``-s``; casualties on a killed anchor ``-(1 - s)``, wounded ``-1``; killed on a wounded anchor
    ``1``, casualties ``s``), read at the knots through the curve's interpolation.

    Non-centred alone, a population whose claims pin its killed share knot by knot left the
    typical share and the curve's common shape on a ridge (``huge-10000``'s ``army_b``: its
    slowest quantity, correlation -0.71 with one knot; docs/decisions.md)."""
    pr, g, L = config.priors, d.grid, d.loss
    n_knots = share["share_ou"].shape[0]
    if len(L.pop) == 0 or n_knots == 0:
        return np.zeros(n_knots)
    s = pr["killed_share_a"] / (pr["killed_share_a"] + pr["killed_share_b"])
    # d log(claim's category) / d logit(share), by anchor (row) and the claim's category (column)
    slope = np.array([[0.0, -1.0, -(1.0 - s)], [1.0, 0.0, s], [1.0 - s, -s, 0.0]])
    anchor = anchor_categories(d)
    precision = _loss_precision(d, config)
    information = np.zeros(n_knots)
    for j, (first, n) in enumerate(zip(g.offset, g.n_steps)):
        mine = (L.pop == j) & (L.category != anchor[j])
        if not mine.any():
            continue
        block = slice(int(first), int(first + n))
        steps = np.arange(int(n))
        knot_of_step = np.zeros((int(n), n_knots))
        np.add.at(knot_of_step, (steps, share["share_knot_0"][block]), share["share_weight_0"][block])
        np.add.at(knot_of_step, (steps, share["share_knot_1"][block]), share["share_weight_1"][block])
        gradient = slope[anchor[j], L.category[mine]][:, None] * (
            _window_shares(d, mine, block, j, by_losses=by_losses) @ knot_of_step
        )
        information += (gradient**2 * precision[mine][:, None]).sum(axis=0)
    rho = pr["killed_share_sd"] ** 2 * information
    return rho / (1.0 + rho)


# Where a running count says a population lost next to nothing (a force withdrawn), its steps
# still weigh this share of the count's average rate in the linearisation.
_SERIES_RATE_FLOOR = 0.02


def _series_rate(d: ModelInputs, pop: int, block: slice) -> np.ndarray:
    """The daily rate, relative, in each step of ``block`` (population ``pop``) that the
    population's longest running count implies: the increments of its figures (wild ones left
    out, the rest made non-decreasing) over the step, floored at ``_SERIES_RATE_FLOOR`` of the count's average
    rate; the average outside the count's span. All ones where the population has no running
    count. Only for walk_centring's linearisation: a step's weight in a window's total is its
    losses, not its days; by days alone, the weeks after a force withdrew (a flat count) looked
    pinned by every later total, were centred, and mixed slowly (``huge-10000``, docs/decisions.md)."""
    L, D, g = d.loss, d.drift, d.grid
    start, end = g.step_start[block].astype(float), g.step_end[block].astype(float)
    flat = np.ones(len(start))
    counted = (D.claim_series >= 0) & (L.pop == pop) & (L.stated[:, 0] == L.stated[:, 1])
    if not counted.any():
        return flat
    series = np.bincount(D.claim_series[counted]).argmax()
    rows = pd.DataFrame({"category": L.category, "start": L.day_start, "end": L.day_end, "log": L.stated[:, 0]})[
        counted & (D.claim_series == series)
    ]
    # one running count: its commonest category and start day
    rows = rows[(rows["category"] == rows["category"].mode().min()) & (rows["start"] == rows["start"].mode().min())]
    log = rows.groupby("end", sort=True)["log"].median()
    # a wild figure (a tally's 3-10 times off) is not a surge: drop what strays from its
    # neighbours, then the closest non-decreasing count
    near = (log - log.rolling(7, center=True, min_periods=1).median()).abs() <= 0.1
    x = log.index.to_numpy(dtype=float)[near.to_numpy()]
    y = np.exp(isotonic_regression(log.to_numpy()[near.to_numpy()]).x)
    if len(x) < 2 or y[-1] <= y[0]:
        return flat
    mean = (y[-1] - y[0]) / (x[-1] - x[0])
    inside = np.clip(np.minimum(end, x[-1]) - np.maximum(start, x[0]), 0.0, None)
    covered = inside >= 0.5 * (end - start)
    increase = np.interp(np.minimum(end, x[-1]), x, y) - np.interp(np.maximum(start, x[0]), x, y)
    rate = np.where(covered, increase / np.maximum(inside, 1.0), mean)
    return np.maximum(rate, _SERIES_RATE_FLOOR * mean) / mean


def walk_basis(d: ModelInputs, config: Config) -> dict[str, np.ndarray]:
    """A data-rich war's walk, sampled in a rotated basis: per population, the eigenvectors of the
    claims' information on its standardised innovations (``walk_centring``'s linearisation, the
    whole matrix rather than its diagonal) and each direction's partial-centring weight. Any
    orthonormal rotation keeps the prior exactly; this one makes the directions the claims pin
    (a running tally's smooth shapes, each a combination of every innovation under it) separate
    coordinates, which a diagonal mass matrix can scale."""
    size = int(d.grid.n_steps.sum())
    basis = np.eye(size)
    centring = walk_centring(d, config, basis)
    return {"walk_basis": basis, "walk_centring": centring}


# The group means' centring is computed as if the claims knew a quarter of what the linearisation
# says (the information at half the prior's scale of the group means): the posterior reaches small
# between-group spreads, where the claims pin the differences less than at the prior's mean scale
# (docs/decisions.md, "Rotate the group means into the claims' information basis").
_GROUP_MEAN_INFORMATION_SCALE = 0.25


def group_mean_basis(d: ModelInputs, config: Config) -> dict[str, np.ndarray]:
    """A rotation of the free stances' effects and the groups' mean effects together that
    separates what the claims pin from what they do not, and how far each direction is centred
    (the walk's treatment, ``walk_centring``, applied to the biases of a data-rich war).

    The stance effects are ``mean_s + sd_s * z_s`` and the group means ``m_G = sd_G * z_G``,
    ``sd_G = sqrt(group_sd² + source_sd² / n_G)`` (``bias_structure``), ``z ~ N(0, I)``. Any
    orthonormal rotation ``z = Q c`` keeps that prior exactly; ``Q`` holds the eigenvectors of
    the claims' information on ``z`` and each coordinate is partially centred by its eigenvalue
    ``rho`` (``w = rho / (1 + rho)``, see ``_informed_basis``), taken at a quarter
    (``_GROUP_MEAN_INFORMATION_SCALE``). The claims pin the *differences* between the biases,
    but hardly their common shift, which the population's level absorbs: centred, that direction
    funnels against the spread of the biases (docs/decisions.md). And a stance's effect is
    shared by every group speaking with that stance, so where the claims pin each group's bias,
    the stance effects and the group means move together along the one direction the claims
    leave free, a ridge no diagonal mass matrix scales when they are sampled apart
    (docs/decisions.md, "Rotate the stance effects with the group means"). The rotation's rows
    are the free stances (``free_stance_effects``), then the groups.

    The information is exact for a linearised model: each loss claim one observation of the log
    of its quantity with the noise the prior expects (``_claim_precision``), plus its population's
    level (prior sd ``daily_rate_log_sd``), its stance's effect, its group's mean and its source's
    deviation from it (prior sd ``source_sd``), every scale at its prior mean; the information on
    the stance effects and group means is what the claims add to their prior once the levels and
    the sources' deviations are integrated out.
    """
    pr, L, src = config.priors, d.loss, d.sources
    b = bias_structure(d)
    n_pops, n_groups, n_sources = len(d.grid.populations), len(d.groups), len(b["source_group_of"])
    prior = stance_priors(config)
    stances = free_stance_effects(d, config)
    n_rotated = len(stances) + n_groups
    group_sd = np.sqrt(pr["group_sd"] ** 2 + pr["source_sd"] ** 2 / b["group_free_sources"])
    if n_groups == 0 or len(L.pair) == 0:
        return {"group_mean_basis": np.eye(n_rotated), "group_mean_centring": np.zeros(n_rotated)}
    # parameters: each population's level, the free stance effects, the group means, the sources'
    # deviations from their group's mean
    offset = np.cumsum([0, n_pops, len(stances), n_groups, n_sources])
    rotated_sd = np.concatenate([[prior[s][1] for s in stances], group_sd])
    prior_variance = np.concatenate(
        [
            np.full(n_pops, float(pr["daily_rate_log_sd"]) ** 2),
            rotated_sd**2,
            np.full(n_sources, float(pr["source_sd"]) ** 2),
        ]
    )
    pair = L.pair
    free = ~src["reference"].to_numpy()[pair]
    slot = src["stance"].map({s: i for i, s in enumerate(stances)}).to_numpy()[pair]
    rows, cols = [np.arange(len(pair))], [L.pop]
    has_stance = free & ~pd.isna(slot)
    rows.append(np.flatnonzero(has_stance))
    cols.append(offset[1] + slot[has_stance].astype(np.int64))
    for k, index in ((2, src["group_index"]), (3, src["source_index"])):
        rows.append(np.flatnonzero(free))
        cols.append(offset[k] + index.to_numpy()[pair][free])
    all_rows, all_cols = np.concatenate(rows), np.concatenate(cols)
    design = sparse.csr_matrix((np.ones(len(all_rows)), (all_rows, all_cols)), shape=(len(pair), int(offset[-1])))
    precision = (design.T @ sparse.diags(_claim_precision(L, pr)) @ design).toarray() + np.diag(1.0 / prior_variance)
    block = slice(int(offset[1]), int(offset[3]))
    covariance = np.linalg.inv(precision)[block, block]
    information = np.linalg.inv(covariance) - np.diag(1.0 / rotated_sd**2)
    information = rotated_sd[:, None] * (information + information.T) / 2.0 * rotated_sd[None, :]
    basis, centring = _informed_basis(_GROUP_MEAN_INFORMATION_SCALE * information)
    return {"group_mean_basis": basis, "group_mean_centring": centring}


def uses_group_means(d: ModelInputs) -> bool:
    """Whether the war is data-rich: some group of sources makes 40 claims or more. Such a war
    samples the biases as group means + contrasts (``bias_structure``), the group means rotated and
    partially centred (``group_mean_basis``), its walk rotated too (``walk_basis``), and tunes for ``sampler.tune_data_rich`` steps."""
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
            centred.append(free_claims[members[m]] >= SOURCE_CENTRED_FROM)
            labels.append(f"{names[members[m]]} (vs {d.groups[k]})")
    return {
        "source_group_of": group_of.astype(np.int64),
        "source_free": free.astype(float),
        "group_free_sources": np.maximum(n_free, 1).astype(float),
        "data_rich_group": (group_claims >= DATA_RICH_FROM) & (n_free > 0),
        "contrast_basis": np.array(columns).T if columns else np.zeros((n_sources, 0)),
        "contrast_centred": np.array(centred, dtype=bool),
        "contrast_labels": np.array(labels, dtype=object),
    }
