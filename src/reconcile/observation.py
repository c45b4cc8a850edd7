"""How a source states a figure, given the true quantity: the claims' observation model, once.

A loss claim's log figure is ``mu + eps``: ``mu`` is the log of the true quantity plus the
source's log bias (``model.claim_location_scale``), ``eps`` is logistic (bounded influence) with
standard deviation ``sigma`` or, with probability ``outlier_prob``, ``outlier_sd`` (a wild
figure). A point (``exact``, ``about``) contributes the density of its figure, an interval
(every other qualifier) the probability that the figure lies in it (censoring; an open end is a
bound at +-30 on the log scale).

A stated force strength bounds cumulative casualties from above, softly: the strength is read as
``log C + log bias + e``, ``e`` logistic of standard deviation ``softness``, and contributes
``P(that <= log strength)``.

Each is written once, for three uses:

* the log density, over PyTensor tensors for the graph (:func:`stated_logp`,
  :func:`strength_logp`) or over numpy arrays of posterior draws for the pointwise
  log-likelihood behind LOO (:func:`stated_loglik`, :func:`strength_loglik`): one body, two
  backends (:class:`_Ops`);
* random draws, for posterior predictive checks, forecasts of later claims and the claims of
  simulation-based calibration (:func:`unit_noise`, :func:`stated_log_figure`,
  :func:`draw_log_strength`).

Adding a claim kind or changing the noise is an edit here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytensor.tensor as pt

__all__ = [
    "LOGISTIC",
    "stated_logp",
    "stated_loglik",
    "strength_logp",
    "strength_loglik",
    "unit_noise",
    "stated_log_figure",
    "draw_log_strength",
]

#: The scale of a logistic distribution whose standard deviation is 1.
LOGISTIC = np.sqrt(3.0) / np.pi


@dataclass(frozen=True)
class _Ops:
    """The few operations the log densities need, for one array backend."""

    switch: Callable[..., Any]
    eq: Callable[..., Any]
    log: Callable[..., Any]
    log1p: Callable[..., Any]
    softplus: Callable[..., Any]  # log(1 + e^x)
    log1mexp: Callable[..., Any]  # log(1 - e^x), x < 0
    logaddexp: Callable[..., Any]


_PT = _Ops(pt.switch, pt.eq, pt.log, pt.log1p, pt.softplus, pt.log1mexp, pt.logaddexp)
_NP = _Ops(
    np.where,
    np.equal,
    np.log,
    np.log1p,
    lambda x: np.logaddexp(0.0, x),
    lambda x: np.log(-np.expm1(x)),
    np.logaddexp,
)


def _stated(ops: _Ops, stated, mu, sd, outlier_prob, outlier_sd):
    lo, hi = stated[..., 0], stated[..., 1]
    point = ops.eq(lo, hi)
    # a point gets a harmless interval and vice versa, so the branch not taken stays finite
    safe_hi = ops.switch(point, lo + 1.0, hi)

    def component(sd_):
        scale = sd_ * LOGISTIC
        z_lo, z_hi = (lo - mu) / scale, (safe_hi - mu) / scale
        density = -z_lo - 2.0 * ops.softplus(-z_lo) - ops.log(scale)  # standard logistic, rescaled
        # log(F(z_hi) - F(z_lo)), stable in both tails: (e^h - e^l) / ((1 + e^h)(1 + e^l))
        interval = z_hi + ops.log1mexp(z_lo - z_hi) - ops.softplus(z_hi) - ops.softplus(z_lo)
        return ops.switch(point, density, interval)

    return ops.logaddexp(ops.log1p(-outlier_prob) + component(sd), ops.log(outlier_prob) + component(outlier_sd))


def _strength(ops: _Ops, log_strength, log_cumulative, softness):
    return -ops.softplus(-(log_strength - log_cumulative) / (softness * LOGISTIC))


def stated_logp(stated, mu, sd, outlier_prob, outlier_sd):
    """Log-likelihood of stated figures ``stated = [log low, log high]`` (equal ends: a point), as
    a PyTensor expression (the graph's ``stated`` variable)."""
    return _stated(_PT, stated, mu, sd, outlier_prob, outlier_sd)


def stated_loglik(
    stated: np.ndarray, mu: np.ndarray, sd: np.ndarray, outlier_prob: float, outlier_sd: float
) -> np.ndarray:
    """:func:`stated_logp` in numpy, for posterior draws (the log-likelihood group of a fit, for
    LOO). Broadcasts ``stated`` (claim, 2) against ``mu`` and ``sd`` (..., claim); the tests check
    it equals PyMC's evaluation of the model's own likelihood."""
    with np.errstate(divide="ignore"):  # the interval branch of a point is computed, then dropped
        return _stated(_NP, np.asarray(stated), mu, sd, outlier_prob, outlier_sd)


def strength_logp(log_strength, log_cumulative, softness):
    """log P(C * exp(e) <= strength), e logistic with sd ``softness``: a stated strength bounds
    cumulative casualties from above, softly (PyTensor)."""
    return _strength(_PT, log_strength, log_cumulative, softness)


def strength_loglik(log_strength: np.ndarray, log_cumulative: np.ndarray, softness: float) -> np.ndarray:
    """:func:`strength_logp` in numpy, for posterior draws."""
    return _strength(_NP, log_strength, log_cumulative, softness)


def unit_noise(rng: np.random.Generator, shape, outlier_prob: float) -> tuple[np.ndarray, np.ndarray]:
    """The random part of stated log figures of the given shape, before scaling: logistic draws
    of standard deviation 1 and which of them are wild figures (drawn in that order: the wild
    mask first, then the noise)."""
    wild = rng.random(shape) < outlier_prob
    return rng.logistic(0.0, LOGISTIC, shape), wild


def stated_log_figure(noise: np.ndarray, wild: np.ndarray, mu, sigma, outlier_sd: float, *, out=None) -> np.ndarray:
    """Log figures as sources state them, ``mu + noise x (outlier_sd if wild else sigma)``, from
    :func:`unit_noise`'s draws (``out=noise`` computes in place: a large war's draws x claims
    temporaries stay one array)."""
    if out is None:
        return mu + noise * np.where(wild, outlier_sd, sigma)
    np.multiply(noise, np.where(wild, outlier_sd, sigma), out=out)
    out += mu
    return out


def draw_log_strength(rng: np.random.Generator, location, softness, shape) -> np.ndarray:
    """Log force strengths as a source would state them around ``location`` (log cumulative
    casualties plus the source's log bias), each of the given shape."""
    return location + rng.logistic(0.0, 1.0, shape) * (softness * LOGISTIC)
