"""One convergence verdict from R-hat, ESS, divergences and E-BFMI (ArviZ's definitions; R-hat and
ESS vectorised over quantities here, see :func:`rank_diagnostics`)."""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field

import arviz as az
import numpy as np
from scipy import stats as sp_stats
from scipy.fft import next_fast_len
from scipy.special import ndtri

MAX_RHAT = 1.01
MIN_ESS = 400
MIN_BFMI = 0.3

# Quantities whose convergence decides the verdict: the free parameters (named in the model) and
# the headline deterministics users read off the fit.
HEADLINE = ("cumulative_casualties", "cumulative_killed", "killed_share", "bias", "true_quantity")


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


def _split(x: np.ndarray) -> np.ndarray:
    """(chain, draw, k) -> (2 chain, draw // 2, k): each chain's halves as two chains."""
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half :]], axis=0)


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Rank-normalise each quantity over all its draws (Blom's offset 3/8), as ArviZ does."""
    rows = np.ascontiguousarray(x.reshape(-1, x.shape[-1]).T)  # (quantity, draw): sorts contiguous rows
    rank = sp_stats.rankdata(rows, method="average", axis=-1)
    return ndtri((rank - 0.375) / (rows.shape[1] + 0.25)).T.reshape(x.shape)  # ndtri: the normal ppf


def _rhat(x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    between = n * x.mean(axis=1).var(axis=0, ddof=1)
    within = x.var(axis=1, ddof=1).mean(axis=0)
    return np.sqrt((between / within + n - 1) / n)


def _ess(x: np.ndarray) -> np.ndarray:
    """ESS of every quantity of ``x`` (chain, draw, k) at once: ArviZ's ``_ess`` (autocovariance
    by FFT, Geyer's initial positive then monotone sequence), vectorised over the quantities."""
    n_chain, n, k = x.shape
    centred = x - x.mean(axis=1, keepdims=True)
    m = next_fast_len(2 * n)
    spectrum = np.fft.rfft(centred, n=m, axis=1)
    acov = np.fft.irfft(spectrum * np.conjugate(spectrum), n=m, axis=1)[:, :n] / n
    acov = acov.mean(axis=0)  # (lag, k): mean over chains
    mean_var = acov[0] * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if n_chain > 1:
        var_plus = var_plus + x.mean(axis=1).var(axis=0, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho_at = lambda t: 1.0 - (mean_var - acov[t]) / var_plus  # noqa: E731
        rho = np.zeros((n, k))
        rho[0] = 1.0
        even, odd = np.ones(k), rho_at(1)
        rho[1] = odd
        steps = np.zeros(k, dtype=np.int64)  # iterations of the positive sequence per quantity
        active = (even + odd) > 0.0
        t = 1
        while t < n - 3 and active.any():
            new_even, new_odd = rho_at(t + 1), rho_at(t + 2)
            even, odd = np.where(active, new_even, even), np.where(active, new_odd, odd)
            keep = active & (new_even + new_odd >= 0)
            rho[t + 1] = np.where(keep, new_even, rho[t + 1])
            rho[t + 2] = np.where(keep, new_odd, rho[t + 2])
            steps += active
            active &= (even + odd) > 0.0
            t += 2
        max_t = 2 * steps - 1  # ArviZ's t - 2
        cols = np.arange(k)
        rho[max_t + 1, cols] = np.where(even > 0, even, rho[max_t + 1, cols])
        for t in range(1, int(max_t.max(initial=0)) - 1, 2):
            live = t <= max_t - 2
            worse = live & (rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t])
            rho[t + 1] = np.where(worse, (rho[t - 1] + rho[t]) / 2.0, rho[t + 1])
            rho[t + 2] = np.where(worse, rho[t + 1], rho[t + 2])
        lags = np.arange(n)[:, None]
        tau = -1.0 + 2.0 * np.where(lags <= max_t, rho, 0.0).sum(axis=0)
        tau += np.where(max_t + 1 < n, rho[np.minimum(max_t + 1, n - 1), cols], 0.0)
        size = n_chain * n
        tau = np.maximum(tau, 1.0 / np.log10(size))
        ess = size / tau
    ess[np.isnan(rho).any(axis=0)] = np.nan
    ess[(x.max(axis=(0, 1)) - x.min(axis=(0, 1))) < np.finfo(float).resolution] = x.shape[0] * x.shape[1]
    return ess


_CHUNK = 256


def rank_diagnostics(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank-normalised split R-hat, bulk ESS and tail ESS of every quantity of ``values``
    (chain, draw, ...), equal to ArviZ's ``rhat``, ``ess(method="bulk")`` and
    ``ess(method="tail")`` but vectorised over the quantities: ArviZ loops over them in Python,
    which takes minutes for the per-claim quantities of a war of 10,000 claims."""
    x = np.asarray(values, dtype=float)
    shape = x.shape[2:]
    x = x.reshape(x.shape[0], x.shape[1], -1)
    if x.shape[-1] > _CHUNK:  # a few hundred quantities at a time: temporaries stay small
        parts = [rank_diagnostics(x[..., k : k + _CHUNK]) for k in range(0, x.shape[-1], _CHUNK)]
        return tuple(np.concatenate([p[i] for p in parts]).reshape(shape) for i in range(3))
    bad = np.isnan(x).any(axis=(0, 1))
    split = _split(x)
    z = _z_scale(split)  # (ranked once: R-hat and the bulk ESS both use it)
    if x.shape[0] >= 2 and x.shape[1] >= 4:
        with np.errstate(invalid="ignore", divide="ignore"):
            folded = np.abs(split - np.median(split.reshape(-1, split.shape[-1]), axis=0))
            rhat = np.maximum(_rhat(z), _rhat(_z_scale(folded)))
    else:
        rhat = np.full(x.shape[-1], np.nan)
    bulk = _ess(z)
    flat = x.reshape(-1, x.shape[-1])
    tail = np.minimum(*(_ess(_split((x <= np.quantile(flat, p, axis=0)).astype(float))) for p in (0.05, 0.95)))
    for a in (rhat, bulk, tail):
        a[bad] = np.nan
    return rhat.reshape(shape), bulk.reshape(shape), tail.reshape(shape)


def _map(function, items: list) -> list:
    """``[function(item) for item in items]``, in two threads where a second CPU is free (not in
    a worker of a pool that already uses the cores): ranking, sorting and the FFTs release the GIL,
    so the diagnostics of a fit take about half the time (benchmarks/RESULTS.md, issue 20). Each item's
    result is the same either way."""
    from ._fork import spare_cpu

    if len(items) < 2 or not spare_cpu():
        return [function(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="reconcile-diagnostics") as pool:
        return list(pool.map(function, items))


def _variables(idata, free: tuple[str, ...]) -> list[str]:
    names = [v for v in (*free, *HEADLINE) if v in idata.posterior]
    return names


def _worst_of(arrays: list[np.ndarray], reducer) -> float:
    flat = np.concatenate(arrays) if arrays else np.array([])
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
    post = idata.posterior
    rhat, bulk, tail = [], [], []
    values = [post[name].transpose("chain", "draw", ...).values for name in names]
    with warnings.catch_warnings():
        # constant entries (a pinned bias, zero losses on day one) have no R-hat: NaN, skipped
        warnings.simplefilter("ignore", RuntimeWarning)
        for computed in _map(rank_diagnostics, values):
            for out, value in zip((rhat, bulk, tail), computed):
                out.append(np.ravel(value))
    max_rhat, min_bulk, min_tail = (
        _worst_of(values, reducer) for values, reducer in ((rhat, np.max), (bulk, np.min), (tail, np.min))
    )
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
