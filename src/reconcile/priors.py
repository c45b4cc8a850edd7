"""The model's priors, declared once: each prior's family and how its parameters come from the
configuration's ``[priors]``.

From this table derive the PyMC variables of the graph (:meth:`Prior.pymc`, reading the
parameters as data so one compiled model serves any configuration), the parameter arrays the graph
reads (:meth:`Prior.data`), and the scipy distributions of the prior plots and checks
(:meth:`Prior.scipy`, ``model.hyperpriors``). Calibration draws its wars from the graph itself
(``pm.draw``), so it follows too. Changing a prior's family or parameters is one edit here.

Two kinds of prior:

* :data:`SAMPLED`: hyperparameters sampled as they are (a noise scale, the curve's spread, the
  killed share);
* :data:`FIXED_SCALES`: the standard deviations of the normal priors the graph samples non-centred
  (``effect = scale * z``, ``z ~ N(0, 1)``) or in a rotation (the biases, the level, the share's
  curve, the bias drift): normal, centred on 0 or on a configured mean, with a scale fixed by the
  configuration (``docs/decisions.md`` says why each is fixed, not learnt). The stance effects'
  means and scales are :func:`stance_effect`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

__all__ = ["Prior", "SAMPLED", "FIXED_SCALES", "stance_effect", "stance_bias_factor", "fixed_scale", "hyperpriors"]

Family = Literal["lognormal", "beta"]


@dataclass(frozen=True)
class Prior:
    """One sampled prior: its family and its parameters from the configuration's ``[priors]``.

    * ``lognormal``: parameters (median, sd of the log); PyMC's ``LogNormal(log median, sd)``.
    * ``beta``: parameters (a, b).
    """

    family: Family
    keys: tuple[str, ...]  # the [priors] entries that parameterise it, in the order above
    dims: str | None = None  # the graph's dimension of the variable (None: a scalar)

    def values(self, priors: Mapping[str, Any]) -> tuple[float, ...]:
        return tuple(float(priors[k]) for k in self.keys)

    def data(self, priors: Mapping[str, Any]) -> np.ndarray:
        """The parameters as the graph reads them (a shared array, so the compiled model does not
        depend on their values): lognormal [log median, sd], beta [a, b]."""
        v = self.values(priors)
        if self.family == "lognormal":
            return np.array([np.log(v[0]), v[1]])
        return np.array(v, dtype=float)

    def pymc(self, name: str, data, **kwargs):
        """The PyMC variable, inside a model context, from :meth:`data` as a tensor."""
        import pymc as pm

        dims = {"dims": self.dims} if self.dims else {}
        if self.family == "lognormal":
            return pm.LogNormal(name, data[0], data[1], **dims, **kwargs)
        return pm.Beta(name, data[0], data[1], **dims, **kwargs)

    def scipy(self, priors: Mapping[str, Any]) -> Any:
        """The same prior as a frozen scipy distribution."""
        v = self.values(priors)
        if self.family == "lognormal":
            return stats.lognorm(s=v[1], scale=v[0])
        return stats.beta(v[0], v[1])


#: The hyperparameters sampled as they are, by the graph's variable name.
SAMPLED: dict[str, Prior] = {
    "noise_typical": Prior("lognormal", ("noise_sd", "noise_log_sd")),  # typical log error of a figure
    # the spreads of the source groups' and of the sources' log noise
    "noise_group_sd": Prior("lognormal", ("noise_group_spread", "noise_spread_log_sd")),
    "noise_source_sd": Prior("lognormal", ("noise_source_spread", "noise_spread_log_sd")),
    "rate_sd": Prior("lognormal", ("rate_sd", "rate_log_sd"), "population"),  # spread of the log daily rate
    "killed_share": Prior("beta", ("killed_share_a", "killed_share_b"), "population"),  # typical killed share
    "series_noise_sd": Prior("lognormal", ("series_noise_sd", "series_noise_log_sd"), "drift_series"),
}

#: Normal priors with a configured, fixed scale: the name of the scale in the graph's arrays ->
#: the ``[priors]`` entry that sets it (the graph samples them non-centred or rotated).
FIXED_SCALES: dict[str, str] = {
    "group_sd": "group_sd",  # a source group's effect on the log bias: N(0, group_sd)
    "source_sd": "source_sd",  # a source's effect within its group: N(0, source_sd)
    "level_sd": "daily_rate_log_sd",  # a population's log daily rate: N(log median, this)
    "share_sd": "killed_share_sd",  # the killed share's slow curve on the logit scale
    "drift_scale": "drift_sd",  # a running series' bias drift, per step of its random walk
    "series_level_sd": "series_level_sd",  # a running series' own level around its source's bias
}


def stance_effect(priors: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """Mean and sd of the normal prior on each stance's effect on the log bias."""
    return {
        "adversary": (float(priors["adversary_mean"]), float(priors["adversary_sd"])),
        "own": (float(priors["own_mean"]), float(priors["own_sd"])),
        "neutral": (0.0, float(priors["neutral_sd"])),
        "unknown": (0.0, float(priors["unknown_sd"])),
    }


def stance_bias_factor(priors: Mapping[str, Any]) -> dict[str, Any]:
    """Each stance's prior on the bias factor ``exp(effect)`` (lognormal, since the effect is
    normal: :func:`stance_effect`), as a frozen scipy distribution."""
    return {stance: stats.lognorm(s=sd, scale=np.exp(mean)) for stance, (mean, sd) in stance_effect(priors).items()}


def fixed_scale(name: str, priors: Mapping[str, Any]) -> np.ndarray:
    """The fixed scale ``name`` (a key of :data:`FIXED_SCALES`) as the graph reads it."""
    return np.array(float(priors[FIXED_SCALES[name]]))


def hyperpriors(priors: Mapping[str, Any]) -> dict[str, Any]:
    """Every sampled prior as a scipy distribution."""
    return {name: p.scipy(priors) for name, p in SAMPLED.items()}
