"""Sampling: claims + configuration -> a :class:`Fit` (posterior, log likelihood, predictive).

Two calls in a notebook::

    claims = reconcile.read_claims("data/claims.csv")
    result = reconcile.fit(claims, reconcile.load_config("models/kursk.toml"), seed=1)

nutpie is the default sampler; PyMC's own NUTS is the fallback (``sampler="pymc"``, or
automatically when nutpie cannot compile the model).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import pandas as pd
import xarray as xr

from . import __version__
from .claims import Claims, read_claims
from .config import Config, config_from_json, load_config, sampler_overrides
from .diagnostics import Diagnostics, diagnose
from .errors import IncompatibleFit
from .model import (
    _LOGISTIC,
    ModelInputs,
    bound_terms,
    build_model,
    observation_terms,
    prepare,
    stated_loglik,
    strength_loglik,
    uses_group_means,
)

FORMAT_VERSION = 2  # of the saved posterior.nc; bumped when its layout changes


class FitError(RuntimeError):
    """Sampling could not be carried out."""


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """Hide library chatter that means nothing to a user (BLAS, compile cache, refactor notes)."""
    loggers = [logging.getLogger(n) for n in ("pymc", "pytensor", "numba", "arviz")]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", category=UserWarning, module=r"(pytensor|pymc|arviz|numba)")
            warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"(pytensor|pymc|arviz|numba)")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _say(message: str, progress: bool) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


def _sample_nutpie(model, settings, seed: int, progress: bool, timings: dict):
    import nutpie

    from ._nutpie import compile_model

    _say("Compiling the model (nutpie/numba)...", progress)
    started = time.perf_counter()
    compiled = compile_model(model)
    timings["compile_seconds"] = time.perf_counter() - started
    _say("Sampling...", progress)
    started = time.perf_counter()
    idata = nutpie.sample(
        compiled,
        draws=settings["draws"],
        tune=settings["tune"],
        chains=settings["chains"],
        cores=min(settings["chains"], os.cpu_count() or 1),
        seed=seed,
        target_accept=settings["target_accept"],
        low_rank_modified_mass_matrix=settings["low_rank_mass_matrix"],
        save_warmup=False,
        progress_bar=progress,
    )
    timings["sampling_seconds"] = time.perf_counter() - started
    return idata


def _sample_pymc(model, settings, seed: int, progress: bool):
    import arviz as az
    import pymc as pm

    _say("Compiling and sampling (PyMC NUTS)...", progress)
    idata = pm.sample(
        draws=settings["draws"],
        tune=settings["tune"],
        chains=settings["chains"],
        cores=min(settings["chains"], os.cpu_count() or 1),
        random_seed=seed,
        target_accept=settings["target_accept"],
        model=model,
        progressbar=progress,
        compute_convergence_checks=False,
        idata_kwargs={"log_likelihood": False},
    )
    # PyMC adds the model's observed and constant data; fit() writes its own observed_data (the
    # stated intervals, by claim), as with nutpie, so keep only what the sampler drew
    return az.InferenceData(**{group: idata[group] for group in ("posterior", "sample_stats")})


def _posterior_predictive(idata, d: ModelInputs, config: Config, seed: int) -> xr.Dataset:
    """Draw each loss claim's figure as its source would state it, given the posterior."""
    rng = np.random.default_rng([seed, 1])
    post = idata.posterior
    pr = config.priors
    shape = post["true_quantity"].shape  # (chain, draw, claim)
    outlier = rng.random(shape) < pr["outlier_prob"]
    # the model's noise: logistic with standard deviation sigma (or outlier_sd for a wild figure)
    figure = rng.logistic(0.0, _LOGISTIC, shape)
    # in place, one chain at a time: a large war's temporaries (draws x claims) stay a chain's worth
    for c in range(shape[0]):
        mu, sigma = observation_terms(post, d, config, c)
        figure[c] *= np.where(outlier[c], pr["outlier_sd"], sigma)
        figure[c] += mu
        np.exp(figure[c], out=figure[c])
    return xr.Dataset(
        {"figure": (("chain", "draw", "claim"), figure)},
        coords={"chain": post["chain"], "draw": post["draw"], "claim": list(d.loss["claim_id"])},
    )


def _log_likelihood(idata, d: ModelInputs, config: Config) -> xr.Dataset:
    """Pointwise log-likelihood of every claim at every draw (for PSIS-LOO), from the posterior
    deterministics with the model's own likelihood written in numpy: far cheaper than compiling
    PyMC's log-likelihood function, and equal to it (tests/test_fit.py checks)."""
    post, pr = idata.posterior, config.priors
    stated = np.empty(post["true_quantity"].shape)
    # one chain at a time: the temporaries of a large war (draws x claims each) stay a chain's worth
    for c in range(stated.shape[0]):
        mu, sigma = observation_terms(post, d, config, c)
        stated[c] = stated_loglik(d.loss["stated"], mu, sigma, pr["outlier_prob"], pr["outlier_sd"])
    coords = {"chain": post["chain"], "draw": post["draw"], "claim": list(d.loss["claim_id"])}
    data = {"stated": (("chain", "draw", "claim"), stated)}
    if len(d.bound["claim_id"]):
        strength = np.empty(post["bound_casualties"].shape)
        for c in range(strength.shape[0]):
            location, softness = bound_terms(post, d, c)
            strength[c] = strength_loglik(d.bound["log_strength"], location, softness)
        data["strength"] = (("chain", "draw", "bound"), strength)
        coords["bound"] = list(d.bound["claim_id"])
    return xr.Dataset(data, coords=coords)


PRIOR_DRAWS = 1000


def _prior_totals(model, d: ModelInputs, seed: int) -> xr.Dataset:
    """Prior draws of each population's cumulative casualties on its last day, from the model
    itself (what the claims did to the prior is how ``summary.population_flags`` tells an estimate
    the claims pin from one that rests on the prior)."""
    import pymc as pm

    est = d.estimates
    last = [int(est.index[est["pop"] == j][-1]) for j in range(len(d.populations))]
    with quiet_libraries():
        draws = pm.draw(model["cumulative_casualties"], draws=PRIOR_DRAWS, random_seed=np.random.default_rng([seed, 3]))
    return xr.Dataset(
        {"final_casualties": (("chain", "draw", "population"), draws[None, :, last])},
        coords={"chain": [0], "draw": np.arange(PRIOR_DRAWS), "population": list(d.populations)},
    )


@dataclass(frozen=True)
class Fit:
    """The result of a fit: the posterior and everything needed to read it."""

    idata: object  # arviz.InferenceData
    claims: Claims
    config: Config
    inputs: ModelInputs = field(repr=False)
    diagnostics: Diagnostics
    seed: int

    # Tidy summaries (see reconcile.summary)
    def estimates(self) -> pd.DataFrame:
        from .summary import estimates

        return estimates(self)

    def sources(self) -> pd.DataFrame:
        from .summary import sources

        return sources(self)

    def claims_check(self) -> pd.DataFrame:
        from .summary import claims_check

        return claims_check(self)

    def headline(self) -> pd.DataFrame:
        from .summary import headline

        return headline(self)

    def population_flags(self) -> pd.DataFrame:
        from .summary import population_flags

        return population_flags(self)

    def save(self, out_dir) -> None:
        from .summary import write_outputs

        write_outputs(self, out_dir)

    def _repr_html_(self) -> str:
        from .summary import fit_html

        return fit_html(self)

    def __repr__(self) -> str:
        return (
            f"<reconcile.Fit: {len(self.inputs.populations)} populations, "
            f"{len(self.inputs.loss['claim_id'])} loss claims; {self.diagnostics.verdict()}>"
        )


def fit(
    claims: Claims,
    config: Config | None = None,
    *,
    seed: int = 0,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    sampler: str | None = None,
    progress: bool = True,
) -> Fit:
    """Fit the reconciliation model to ``claims``; returns a :class:`Fit`.

    ``draws``, ``tune``, ``chains`` and ``sampler`` override ``config.sampler`` (``tune`` both
    ``tune`` and ``tune_data_rich``: a war where some group of sources makes 40 claims or more
    adapts for ``tune_data_rich`` steps, others for ``tune``). Same claims, configuration and seed
    give the same numbers.
    """
    config = config if config is not None else load_config()
    overrides = sampler_overrides(draws=draws, tune=tune, chains=chains, name=sampler)
    if overrides:
        config = config.replace(sampler=overrides)
    inputs = prepare(claims, config)
    settings = dict(config.sampler)
    if uses_group_means(inputs):  # a war with a data-rich group of sources adapts longer
        settings["tune"] = settings["tune_data_rich"]
    started = time.perf_counter()
    timings: dict[str, float] = {}
    with quiet_libraries():
        model = build_model(claims, config, inputs)
        used = settings["name"]
        if used == "nutpie":
            try:
                idata = _sample_nutpie(model, settings, seed, progress, timings)
            except ImportError as exc:
                _say(f"nutpie is unavailable ({exc}); falling back to PyMC's NUTS.", True)
                used = "pymc"
        if used == "pymc":
            idata = _sample_pymc(model, settings, seed, progress)
        seconds = time.perf_counter() - started
    idata.add_groups(log_likelihood=_log_likelihood(idata, inputs, config))
    idata.add_groups(prior=_prior_totals(model, inputs, seed))
    free = tuple(v.name for v in model.free_RVs)
    diagnostics = diagnose(idata, free=free, sampler=used, seconds=seconds, **timings)
    idata.add_groups(posterior_predictive=_posterior_predictive(idata, inputs, config, seed))
    observed = {"stated": (("claim", "end"), inputs.loss["stated"])}
    if len(inputs.bound["claim_id"]):
        observed["strength"] = (("bound",), inputs.bound["log_strength"])
    idata.add_groups(
        observed_data=xr.Dataset(
            observed, coords={"claim": list(inputs.loss["claim_id"]), "end": ["low", "high"], "bound": list(inputs.bound["claim_id"])}
        )
    )
    idata.posterior.attrs.update(
        {
            "reconcile_version": __version__,
            "reconcile_format": FORMAT_VERSION,
            "config": config.to_json(),
            "claims_sha256": claims.sha256,
            "claims_csv": claims.to_csv_text(),
            "claims_path": claims.path or "",
            "seed": int(seed),
            "sampler": used,
            "tune": int(settings["tune"]),
            "diagnostics": diagnostics.to_json(),
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
    )
    return Fit(idata=idata, claims=claims, config=config, inputs=inputs, diagnostics=diagnostics, seed=seed)


def load_fit(path) -> Fit:
    """Read a fit saved by :meth:`Fit.save` (a directory or its ``posterior.nc``)."""
    import json
    from pathlib import Path

    import arviz as az

    from .diagnostics import Diagnostics

    path = Path(path)
    nc = path / "posterior.nc" if path.is_dir() else path
    if not nc.exists():
        raise FileNotFoundError(f"{nc}: no saved fit here (expected the posterior.nc written by `reconcile fit`)")
    try:
        idata = az.from_netcdf(nc)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same clear message
        raise IncompatibleFit(f"{nc}: not a readable NetCDF posterior ({type(exc).__name__}: {exc})") from None
    attrs = idata.posterior.attrs if "posterior" in idata.groups() else {}
    if "reconcile_format" not in attrs:
        raise IncompatibleFit(f"{nc}: not written by reconcile (no provenance attributes)")
    if int(attrs["reconcile_format"]) != FORMAT_VERSION:
        raise IncompatibleFit(
            f"{nc}: written by reconcile {attrs.get('reconcile_version', '?')} in format "
            f"{attrs['reconcile_format']}; this version ({__version__}) reads format {FORMAT_VERSION}. Refit."
        )
    config = config_from_json(attrs["config"])
    claims = read_claims(io.StringIO(attrs["claims_csv"]))
    inputs = prepare(claims, config)
    diag = json.loads(attrs["diagnostics"])
    diag["problems"] = tuple(diag.get("problems", ()))
    return Fit(
        idata=idata,
        claims=claims,
        config=config,
        inputs=inputs,
        diagnostics=Diagnostics(**diag),
        seed=int(attrs["seed"]),
    )
