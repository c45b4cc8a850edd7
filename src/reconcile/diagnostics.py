"""One convergence verdict from R-hat, ESS, divergences and E-BFMI, all computed by ArviZ."""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field

import arviz as az
import numpy as np

MAX_RHAT = 1.01
MIN_ESS = 400
MIN_BFMI = 0.3

# Quantities whose convergence decides the verdict: the free parameters (named in the model) and
# the headline deterministics users read off the fit.
HEADLINE = ("cumulative_casualties", "killed_share", "bias", "true_quantity")


@dataclass(frozen=True)
class Diagnostics:
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    sampler: str
    seconds: float
    converged: bool
    min_bfmi: float | None = None
    mean_tree_depth: float | None = None
    draws: int = 0
    chains: int = 0
    compile_seconds: float | None = None
    sampling_seconds: float | None = None
    problems: tuple[str, ...] = field(default=())

    def to_json(self) -> str:
        data = asdict(self)
        data["problems"] = list(self.problems)
        return json.dumps(data, indent=2)

    def verdict(self) -> str:
        """One plain sentence a reader can act on."""
        if self.converged:
            return (
                f"Converged: R-hat {self.max_rhat:.3f} <= {MAX_RHAT}, bulk/tail ESS >= {MIN_ESS} "
                f"(lowest {self.min_ess_bulk:.0f}/{self.min_ess_tail:.0f}), no divergences."
            )
        return "NOT CONVERGED - do not trust these estimates: " + "; ".join(self.problems) + "."


def _variables(idata, free: tuple[str, ...]) -> list[str]:
    names = [v for v in (*free, *HEADLINE) if v in idata.posterior]
    return names


def _worst(values, reducer) -> float:
    flat = np.concatenate([np.ravel(values[v].values) for v in values.data_vars]) if values.data_vars else np.array([])
    flat = flat[np.isfinite(flat)]
    return float(reducer(flat)) if flat.size else float("nan")


def diagnose(
    idata,
    *,
    free: tuple[str, ...],
    sampler: str,
    seconds: float,
    compile_seconds: float | None = None,
    sampling_seconds: float | None = None,
) -> Diagnostics:
    """Compute the verdict for ``idata`` over ``free`` parameters plus the headline quantities.

    ``seconds`` is the whole fit (build, compilation, sampling); nutpie also reports its
    compilation and sampling separately (PyMC's sampler does both in one call: ``None``).

    Quantities that are constant across draws (e.g. zero losses on a population's first day)
    have no R-hat or ESS and are skipped.
    """
    names = _variables(idata, free)
    post = idata.posterior[names]
    with warnings.catch_warnings():
        # constant entries (a pinned bias, zero losses on day one) have no R-hat or ESS: ArviZ
        # warns and returns NaN, which _worst() skips
        warnings.simplefilter("ignore", RuntimeWarning)
        rhat = az.rhat(post)
        ess_bulk = az.ess(post, method="bulk")
        ess_tail = az.ess(post, method="tail")
    max_rhat = _worst(rhat, np.max)
    min_bulk = _worst(ess_bulk, np.min)
    min_tail = _worst(ess_tail, np.min)
    stats = idata.sample_stats
    divergences = int(stats["diverging"].sum()) if "diverging" in stats else 0
    try:
        min_bfmi = float(np.min(az.bfmi(idata)))
    except (KeyError, ValueError, AttributeError):
        min_bfmi = None
    depth_name = "depth" if "depth" in stats else ("tree_depth" if "tree_depth" in stats else None)
    mean_depth = float(stats[depth_name].mean()) if depth_name else None
    problems = []
    if not max_rhat <= MAX_RHAT:
        problems.append(f"max R-hat {max_rhat:.3f} > {MAX_RHAT}")
    if not min_bulk >= MIN_ESS:
        problems.append(f"min bulk ESS {min_bulk:.0f} < {MIN_ESS}")
    if not min_tail >= MIN_ESS:
        problems.append(f"min tail ESS {min_tail:.0f} < {MIN_ESS}")
    if divergences:
        problems.append(f"{divergences} divergent transitions")
    if min_bfmi is not None and min_bfmi < MIN_BFMI:
        problems.append(f"E-BFMI {min_bfmi:.2f} < {MIN_BFMI}")
    return Diagnostics(
        max_rhat=max_rhat,
        min_ess_bulk=min_bulk,
        min_ess_tail=min_tail,
        divergences=divergences,
        sampler=sampler,
        seconds=round(float(seconds), 2),
        converged=not problems,
        min_bfmi=min_bfmi,
        mean_tree_depth=mean_depth,
        draws=int(idata.posterior.sizes["draw"]),
        chains=int(idata.posterior.sizes["chain"]),
        compile_seconds=None if compile_seconds is None else round(float(compile_seconds), 2),
        sampling_seconds=None if sampling_seconds is None else round(float(sampling_seconds), 2),
        problems=tuple(problems),
    )
