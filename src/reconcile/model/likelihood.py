"""Where each claim's likelihood location and scale come from, in numpy, at posterior draws: what
the graph computes, for the pointwise log-likelihood, the posterior predictive, forecasts and
calibration (the densities themselves are :mod:`reconcile.observation`'s)."""

from __future__ import annotations

import numpy as np

from ..config import Config
from .inputs import LossClaims, ModelInputs


def bound_terms(posterior, d: ModelInputs, chain: int) -> tuple[np.ndarray, np.ndarray]:
    """Location (log cumulative casualties + log bias) and softness of every strength bound at
    each draw of one chain: what the graph's ``strength`` term reads (``strength_bias``)."""
    B = d.bound
    log_bias = np.log(posterior["bias"].values[chain])
    padded = np.concatenate([log_bias, np.zeros((log_bias.shape[0], 1))], axis=1)
    location = np.log(posterior["bound_casualties"].values[chain]) + padded[:, B.pair] + B.prior_log_bias
    return location, np.broadcast_to(B.softness, location.shape)


def claim_noise_floor(loss: LossClaims, priors) -> np.ndarray:
    """Per-claim error that no noise parameter can remove: every figure has finite precision
    (``noise_floor``), a figure given as "about" is rounded (``about_sd``), and a figure over a
    few days counts losses that swing from day to day around the smooth course the model draws
    (``daily_sd / sqrt(days)``: a two-day window's true losses stray from the curve's by ~20%, a
    year's by ~2%). Without a floor, a quantity stated exactly by a single claim lets its source's
    noise scale collapse to zero."""
    about = np.where(loss.about, priors["about_sd"] ** 2, 0.0)
    day_to_day = priors["daily_sd"] ** 2 / np.maximum(loss.days, 1.0)
    return np.sqrt(priors["noise_floor"] ** 2 + about + day_to_day)


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
    mu = np.log(true_quantity) + np.log(bias)[..., L.pair]
    if bias_drift is not None and len(D.knot_series):
        padded = np.concatenate([bias_drift, np.zeros((*np.shape(bias_drift)[:-1], 1))], axis=-1)
        mu = (
            mu
            + D.claim_weight[:, 0] * padded[..., D.claim_knot[:, 0]]
            + D.claim_weight[:, 1] * padded[..., D.claim_knot[:, 1]]
        )
    floor = claim_noise_floor(L, config.priors)
    noise = np.asarray(noise_sd)[..., L.source]
    series = D.claim_series
    if series_noise_sd is not None and (series >= 0).any():
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
