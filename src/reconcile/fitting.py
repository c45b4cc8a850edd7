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
import json
import logging
import os
import time
import warnings
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import pandas as pd
import xarray as xr

from . import __version__, _fork
from ._progress import paused, reporting, stage
from ._signals import checkpoint
from .claims import Claims, read_claims
from .config import Config, ConfigError, config_from_json, load_config
from .diagnostics import Diagnostics, diagnose
from .errors import FitError, IncompatibleFit
from .model import (
    ModelInputs,
    bound_terms,
    build_model,
    dims_of,
    graph_data,
    last_day_covered,
    observation_terms,
    prepare,
    uses_group_means,
)
from .observation import stated_log_figure, stated_loglik, strength_loglik, unit_noise

FORMAT_VERSION = 2  # of the saved posterior.nc; bumped when its layout changes
#: Priors added to the model since format 2, each with the value that leaves the model as it was:
#: a fit saved before one existed was fitted with that value, not with today's default.
PRIORS_SINCE_FORMAT = {"daily_sd": 0.0}


def _with_older_priors(saved: str) -> str:
    """A saved configuration (JSON) with the priors it predates set as the fit had them."""
    data = json.loads(saved)
    if isinstance(data, dict) and isinstance(data.get("priors"), dict):
        for key, value in PRIORS_SINCE_FORMAT.items():
            data["priors"].setdefault(key, value)
    return json.dumps(data)


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


def _sample_nutpie(model, settings, seed: int, progress: bool, timings: dict):
    import nutpie

    from ._nutpie import compile_model

    stage("compiling the model (nutpie, numba)")
    checkpoint("compiling")
    started = time.perf_counter()
    compiled = compile_model(model)
    timings["compile_seconds"] = time.perf_counter() - started
    stage("sampling")
    started = time.perf_counter()
    # In the background, so that an interruption cancels the sampler's threads and discards its
    # draws: nutpie's blocking call returns the partial trace on Ctrl-C as if sampling had ended.
    sampler = nutpie.sample(
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
        blocking=False,
    )
    try:
        checkpoint("sampling")
        with paused():  # nutpie draws its own progress bar
            idata = sampler.wait()
    except BaseException:
        sampler.cancel()
        raise
    timings["sampling_seconds"] = time.perf_counter() - started
    return idata


def _require_complete(idata, settings) -> None:
    """Refuse a trace that is not the whole run asked for: a sampler that was interrupted (PyMC
    returns what it drew so far on KeyboardInterrupt) or draws that are not numbers."""
    post = idata.posterior
    got = (post.sizes.get("chain", 0), post.sizes.get("draw", 0))
    if got != (settings["chains"], settings["draws"]):
        raise KeyboardInterrupt(
            f"sampling stopped early ({got[0]} chains x {got[1]} draws of {settings['chains']} x {settings['draws']}); "
            "the partial draws were discarded"
        )
    bad = [name for name, da in post.data_vars.items() if not np.isfinite(np.asarray(da.values, dtype=float)).all()]
    if bad:
        raise FitError(f"the sampler returned draws that are not finite numbers ({', '.join(bad)}); nothing was kept")


def _sample_pymc(model, settings, seed: int, progress: bool):
    import arviz as az
    import pymc as pm

    stage("compiling and sampling (PyMC's NUTS)")
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


def _label_estimates(idata, d: ModelInputs) -> None:
    """Give the ``estimate`` dimension its population and date (``estimate_population``,
    ``estimate_date``), and the ``step`` dimension its population and days (``step_population``,
    ``step_first_day``, ``step_last_day``), so that ``posterior.nc`` read with ArviZ or xarray
    alone can select a population's cumulative losses by date and its daily rate by step."""
    est, g = d.estimates, d.grid
    labels = {
        "estimate_population": ("estimate", est["population"].astype(str).to_numpy()),
        "estimate_date": ("estimate", pd.to_datetime(est["date"]).to_numpy(dtype="datetime64[ns]")),
    }
    if "step" in idata.posterior.dims:
        # each step of the rate's grid: its population and the dates of its first and last days
        pops = np.asarray(g.populations, dtype=object)[g.pop]
        origin = np.array([np.datetime64(g.starts[p], "D") for p in pops])
        first = origin + g.step_start.astype("timedelta64[D]")
        last = origin + (g.step_end - 1).astype("timedelta64[D]")
        labels |= {
            "step_population": ("step", pops.astype(str)),
            "step_first_day": ("step", first.astype("datetime64[ns]")),
            "step_last_day": ("step", last.astype("datetime64[ns]")),
        }
    idata.posterior = idata.posterior.assign_coords(labels)


def _constant_data(d: ModelInputs, config: Config, coords) -> xr.Dataset:
    """What the graph read, each array under its dimensions (:class:`reconcile.model.GraphData`,
    named as in the graph; the same arrays ``build_model`` put in its shared variables, from the
    same inputs), and the claims table the fit read (every claim, ``table_<column>`` for each
    column of the validated table over ``table_claim``, with the model's ``role`` of each and its
    days since its population's start), so ``posterior.nc`` says what was fitted without reconcile."""
    data = graph_data(d, config)
    dims = dims_of(data)
    variables: dict[str, tuple] = {name: (dims[name], np.asarray(value)) for name, value in data.items()}
    table = d.claims
    for column in table.columns.drop("claim_id"):
        values = table[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            array = values.to_numpy(dtype="datetime64[ns]")
        elif pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            array = values.to_numpy()
        else:
            array = values.fillna("").astype(str).to_numpy(dtype=object)
        variables[f"table_{column}"] = (("table_claim",), array)
    used = {dim for dim_names in dims.values() for dim in dim_names}
    labels = {dim: list(coords[dim]) for dim in used if dim in coords}
    labels["table_claim"] = table["claim_id"].astype(str).tolist()
    return xr.Dataset(variables, coords=labels)


def _posterior_predictive(idata, d: ModelInputs, config: Config, seed: int) -> xr.Dataset:
    """Draw each loss claim's figure as its source would state it, given the posterior."""
    rng = np.random.default_rng([seed, 1])
    post = idata.posterior
    pr = config.priors
    shape = post["true_quantity"].shape  # (chain, draw, claim)
    figure, outlier = unit_noise(rng, shape, pr["outlier_prob"])
    # in place, one chain at a time: a large war's temporaries (draws x claims) stay a chain's worth
    for c in range(shape[0]):
        mu, sigma = observation_terms(post, d, config, c)
        stated_log_figure(figure[c], outlier[c], mu, sigma, pr["outlier_sd"], out=figure[c])
        np.exp(figure[c], out=figure[c])
    return xr.Dataset(
        {"figure": (("chain", "draw", "claim"), figure)},
        coords={"chain": post["chain"], "draw": post["draw"], "claim": list(d.loss.claim_id)},
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
        stated[c] = stated_loglik(d.loss.stated, mu, sigma, pr["outlier_prob"], pr["outlier_sd"])
    coords = {"chain": post["chain"], "draw": post["draw"], "claim": list(d.loss.claim_id)}
    data = {"stated": (("chain", "draw", "claim"), stated)}
    if len(d.bound.claim_id):
        strength = np.empty(post["bound_casualties"].shape)
        for c in range(strength.shape[0]):
            location, softness = bound_terms(post, d, c)
            strength[c] = strength_loglik(d.bound.log_strength, location, softness)
        data["strength"] = (("chain", "draw", "bound"), strength)
        coords["bound"] = list(d.bound.claim_id)
    return xr.Dataset(data, coords=coords)


PRIOR_DRAWS = 1000


def _prior_draws(model, d: ModelInputs, seed: int) -> np.ndarray:
    """Prior draws (``PRIOR_DRAWS`` by population) of each population's cumulative casualties on
    its last day, from the model itself (what the claims did to the prior is how
    ``summary.population_flags`` tells an estimate the claims pin from one that rests on the
    prior)."""
    import pymc as pm

    est = d.estimates
    last = [int(est.index[est["pop"] == j][-1]) for j in range(len(d.populations))]
    # FAST_COMPILE: evaluated in Python, no C compiler. In PyTensor's default (C) mode a first fit
    # on a machine with an empty compile cache spent ~17 s in gcc here; a warm fit spends ~0.4 s
    # more this way (benchmarks/RESULTS.md, issue 20). The draws agree with C's to 1e-11.
    with quiet_libraries():
        draws = pm.draw(
            model["cumulative_casualties"],
            draws=PRIOR_DRAWS,
            random_seed=np.random.default_rng([seed, 3]),
            mode="FAST_COMPILE",
        )
    return np.ascontiguousarray(draws[:, last], dtype=float)


def _prior_totals(draws: np.ndarray, d: ModelInputs) -> xr.Dataset:
    """:func:`_prior_draws` as the ``prior`` group of the posterior."""
    return xr.Dataset(
        {"final_casualties": (("chain", "draw", "population"), draws[None])},
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
    as_of: dt.date | None = None  # only the claims reported on or before this day were used

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

    def daily(self) -> pd.DataFrame:
        from .summary import daily

        return daily(self)

    def extrapolation(self) -> pd.DataFrame:
        """Per population: its last claim's day, the day it is estimated to, the days between
        (more than 0 only in a fit asked to reach a later day, ``until``)."""
        from .summary import extrapolation

        return extrapolation(self)

    def losses(self, population: str, start, end, category: str = "casualties"):
        """The posterior of ``population``'s losses of ``category`` from ``start`` to ``end``
        (dates, both days included): a :class:`reconcile.summary.WindowLosses` with the draws and
        a one-row summary (``.summary()``)."""
        from .summary import losses

        return losses(self, population, start, end, category)

    def save(self, out_dir) -> None:
        from .outputs import write_outputs

        write_outputs(self, out_dir)

    def _repr_html_(self) -> str:
        from .summary import fit_html

        return fit_html(self)

    def __repr__(self) -> str:
        return (
            f"<reconcile.Fit: {len(self.inputs.populations)} populations, "
            f"{len(self.inputs.loss.claim_id)} loss claims; {self.diagnostics.verdict()}>"
        )


def until_day(until) -> dt.date:
    """``until`` as a date: a date, ``YYYY-MM-DD`` or ``"today"`` (this machine's date)."""
    if isinstance(until, dt.datetime):
        return until.date()
    if isinstance(until, dt.date):
        return until
    text = str(until).strip()
    if text.lower() == "today":
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"until: expected a date YYYY-MM-DD or 'today', found {until!r}") from None


def last_claim_day(claims: Claims) -> dt.date:
    """The last day any claim covers or was reported on: how far the claims alone take a fit."""
    return last_day_covered(claims.frame)


def extend_until(config: Config, claims: Claims, until) -> Config:
    """``config`` with its estimates carried to ``until`` (``time.end``); refuses a day before
    the last one the claims cover (there would be nothing to extend)."""
    day, last = until_day(until), last_claim_day(claims)
    if day < last:
        raise ConfigError(
            f"until {day}: before the last day the claims cover ({last}); the estimates already reach "
            f"{last} (pass a later day to extend them)"
        )
    return config.replace(time={"end": day.isoformat()})


def fit(
    claims: Claims,
    config: Config | None = None,
    *,
    seed: int = 1,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    sampler: str | None = None,
    progress: bool = True,
    as_of=None,
    until=None,
) -> Fit:
    """Fit the reconciliation model to ``claims``; returns a :class:`Fit`.

    ``as_of`` (a date or ``YYYY-MM-DD``): use only the claims reported on or before that day, as
    the estimate stood then (see :meth:`reconcile.Claims.as_of`); the date is recorded in the fit.

    ``until`` (a date, ``YYYY-MM-DD`` or ``"today"``): estimate every population up to that day,
    past its last claim if need be (a nowcast or a short forecast): beyond the claims the daily
    rate follows the model's dynamics (it reverts towards its level, its uncertainty grows), so
    the intervals widen with the horizon. Sets ``time.end`` in the configuration (recorded in the
    fit); :func:`reconcile.summary.extrapolation` says how far past its last claim each population
    is estimated. It may not lie before the last day the claims cover.

    ``draws``, ``tune``, ``chains`` and ``sampler`` override ``config.sampler`` (``tune`` both
    ``tune`` and ``tune_data_rich``: a war where some group of sources makes 40 claims or more
    adapts for ``tune_data_rich`` steps, others for ``tune``). Same claims, configuration and seed
    give the same numbers. ``progress``: show each stage on standard error (a spinner on a
    terminal) and the sampler's progress bar.
    """
    as_of_day = None
    if as_of is not None:
        claims = claims.as_of(as_of)
        as_of_day = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
    if until is not None:
        config = extend_until(config if config is not None else load_config(), claims, until)
    with reporting(progress):
        return _fit(claims, config, seed, draws, tune, chains, sampler, progress, as_of_day)


def _fit(claims, config, seed, draws, tune, chains, sampler, progress, as_of_day) -> Fit:
    stage("building the model")
    config = config if config is not None else load_config()
    config = config.with_sampler(draws=draws, tune=tune, chains=chains, name=sampler)
    inputs = prepare(claims, config)
    settings = dict(config.sampler)
    if uses_group_means(inputs):  # a war with a data-rich group of sources adapts longer
        settings["tune"] = settings["tune_data_rich"]
    started = time.perf_counter()
    timings: dict[str, float] = {}
    with contextlib.ExitStack() as helpers, quiet_libraries():
        model = build_model(claims, config, inputs)
        # The prior draws (~2.5 s of Python) in a helper on the other core, idle while this
        # process compiles the model (benchmarks/RESULTS.md, issue 20); the same draws either way.
        prior = helpers.enter_context(_fork.ArrayHelper(lambda: _prior_draws(model, inputs, seed)))
        used = settings["name"]
        if used == "nutpie":
            try:
                idata = _sample_nutpie(model, settings, seed, progress, timings)
            except ImportError as exc:
                warnings.warn(
                    f"nutpie is unavailable ({exc}); falling back to PyMC's NUTS", RuntimeWarning, stacklevel=3
                )
                used = "pymc"
        if used == "pymc":
            checkpoint("sampling")
            idata = _sample_pymc(model, settings, seed, progress)
        seconds = time.perf_counter() - started
        _require_complete(idata, settings)
        checkpoint("summarising")
        stage("diagnostics, log likelihood, predictive checks")
        prior_draws = prior.result()
    _label_estimates(idata, inputs)
    idata.add_groups(log_likelihood=_log_likelihood(idata, inputs, config))
    idata.add_groups(prior=_prior_totals(prior_draws, inputs))
    free = tuple(v.name for v in model.free_RVs)
    diagnostics = diagnose(idata, free=free, sampler=used, seconds=seconds, **timings)
    idata.add_groups(posterior_predictive=_posterior_predictive(idata, inputs, config, seed))
    observed = {"stated": (("claim", "end"), inputs.loss.stated)}
    if len(inputs.bound.claim_id):
        observed["strength"] = (("bound",), inputs.bound.log_strength)
    idata.add_groups(
        observed_data=xr.Dataset(
            observed,
            coords={
                "claim": list(inputs.loss.claim_id),
                "end": ["low", "high"],
                "bound": list(inputs.bound.claim_id),
            },
        )
    )
    idata.add_groups(constant_data=_constant_data(inputs, config, model.coords))
    idata.posterior.attrs.update(
        {
            "reconcile_version": __version__,
            "reconcile_format": FORMAT_VERSION,
            "config": config.to_json(),
            "config_origin": config.origin,
            "claims_sha256": claims.sha256,
            "claims_csv": claims.to_csv_text(),
            "claims_path": claims.path or "",
            "seed": int(seed),
            "as_of": as_of_day.isoformat() if as_of_day is not None else "",
            "sampler": used,
            "tune": int(settings["tune"]),
            "diagnostics": diagnostics.to_json(),
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
    )
    return Fit(
        idata=idata, claims=claims, config=config, inputs=inputs, diagnostics=diagnostics, seed=seed, as_of=as_of_day
    )


def load_fit(path) -> Fit:
    """Read a fit saved by :meth:`Fit.save` (a directory or its ``posterior.nc``).

    The file is read whole and checked before anything uses it: its format version, its groups,
    the variables the summaries and plots read (with the sizes the stored claims imply) and that
    every draw is a finite number. A damaged or foreign file raises :class:`IncompatibleFit`
    naming what is wrong; the claims and configuration come back with the provenance stored at
    fitting time (the claims file's SHA-256 and path, the configuration's name)."""
    import dataclasses
    from pathlib import Path

    import arviz as az

    from .claims import ClaimsError
    from .config import ConfigError
    from .diagnostics import Diagnostics

    path = Path(path)
    nc = path / "posterior.nc" if path.is_dir() else path
    if not nc.exists():
        raise FileNotFoundError(f"{nc}: no saved fit here (expected the posterior.nc written by `reconcile fit`)")
    try:
        with az.rc_context({"data.load": "eager"}):  # read every byte now: damage shows here, not mid-report
            idata = az.from_netcdf(nc)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same clear message
        raise IncompatibleFit(f"{nc}: not a readable NetCDF posterior ({type(exc).__name__}: {exc})") from None
    attrs = idata.posterior.attrs if "posterior" in idata.groups() else {}
    if "reconcile_format" not in attrs:
        raise IncompatibleFit(f"{nc}: not written by reconcile (no provenance attributes)")
    try:
        version = int(attrs["reconcile_format"])
    except (TypeError, ValueError):
        raise IncompatibleFit(
            f"{nc}: damaged provenance: format version {attrs['reconcile_format']!r} is not a number"
        ) from None
    if version != FORMAT_VERSION:
        raise IncompatibleFit(
            f"{nc}: written by reconcile {attrs.get('reconcile_version', '?')} in format "
            f"{attrs['reconcile_format']}; this version ({__version__}) reads format {FORMAT_VERSION}. Refit."
        )
    missing = [key for key in ("config", "claims_csv", "claims_sha256", "seed", "diagnostics") if key not in attrs]
    if missing:
        raise IncompatibleFit(f"{nc}: damaged provenance: attribute(s) {', '.join(missing)} missing; refit")
    try:
        config = config_from_json(
            _with_older_priors(attrs["config"]), origin=str(attrs.get("config_origin") or "saved fit")
        )
        claims = read_claims(io.StringIO(attrs["claims_csv"]))
        claims = dataclasses.replace(
            claims, sha256=str(attrs["claims_sha256"]), path=str(attrs.get("claims_path") or "") or None
        )
        inputs = prepare(claims, config)
        diag = json.loads(attrs["diagnostics"])
        diag["problems"] = tuple(diag.get("problems", ()))
        diagnostics = Diagnostics(**diag)
        seed = int(attrs["seed"])
        as_of = dt.date.fromisoformat(str(attrs["as_of"])) if attrs.get("as_of") else None
    except (ClaimsError, ConfigError, ValueError, TypeError, KeyError) as exc:
        written_by = str(attrs.get("reconcile_version", "?"))
        if written_by != __version__:  # same format, another version: its settings may not exist here
            raise IncompatibleFit(
                f"{nc}: written by reconcile {written_by}, whose claims or configuration this version "
                f"({__version__}) does not read ({type(exc).__name__}: {exc}); refit"
            ) from None
        raise IncompatibleFit(f"{nc}: damaged provenance ({type(exc).__name__}: {exc}); refit") from None
    _check_saved(idata, inputs, nc)
    if not {"estimate_population", "step_population"} <= set(idata.posterior.coords):
        _label_estimates(idata, inputs)  # files written before the labels existed
    return Fit(
        idata=idata, claims=claims, config=config, inputs=inputs, diagnostics=diagnostics, seed=seed, as_of=as_of
    )


def _check_saved(idata, d: ModelInputs, nc) -> None:
    """Raise IncompatibleFit unless ``idata`` holds what the summaries, plots and report read."""
    loss, bound = [str(c) for c in d.loss.claim_id], [str(c) for c in d.bound.claim_id]
    # (group, variable): the dimension after (chain, draw) and the labels or size it must have
    expected = {
        ("posterior", "true_quantity"): ("claim", loss),
        ("posterior", "bias"): ("source_stance", d.pair_labels),
        ("posterior", "noise_sd"): ("source", d.source_names),
        ("posterior", "killed_share"): ("population", list(d.populations)),
        ("posterior", "cumulative_casualties"): ("estimate", len(d.estimates)),
        ("posterior", "cumulative_killed"): ("estimate", len(d.estimates)),
        ("posterior", "step_rate"): ("step", int(d.grid.n_steps.sum())),
        ("posterior_predictive", "figure"): ("claim", loss),
        ("log_likelihood", "stated"): ("claim", loss),
    }
    if bound:
        expected[("posterior", "bound_casualties")] = ("bound", bound)
        expected[("log_likelihood", "strength")] = ("bound", bound)
    groups = set(idata.groups())
    absent = [
        g
        for g in ("posterior", "posterior_predictive", "log_likelihood", "sample_stats", "observed_data")
        if g not in groups
    ]
    if absent:
        raise IncompatibleFit(f"{nc}: damaged: group(s) {', '.join(absent)} missing; refit")
    post = idata.posterior
    shape = (post.sizes.get("chain", 0), post.sizes.get("draw", 0))
    if min(shape) < 1:
        raise IncompatibleFit(f"{nc}: damaged: the posterior holds no draws; refit")
    for (group, name), (dim, want) in expected.items():
        ds = idata[group]
        if name not in ds:
            raise IncompatibleFit(f"{nc}: damaged: variable {group}/{name} missing; refit")
        da = ds[name]
        dims = tuple(da.dims)
        if dims[:2] != ("chain", "draw") or (da.sizes["chain"], da.sizes["draw"]) != shape:
            raise IncompatibleFit(
                f"{nc}: damaged: {group}/{name} has dimensions {dict(da.sizes)}, expected "
                f"{shape[0]} chains x {shape[1]} draws; refit"
            )
        if isinstance(want, int):
            ok = dims[2:] == (dim,) and da.sizes[dim] == want
        else:
            ok = dims[2:] == (dim,) and [str(v) for v in da[dim].values] == want
        if not ok:
            raise IncompatibleFit(
                f"{nc}: damaged: {group}/{name} has dimensions {dict(da.sizes)}, which do not "
                f"match the stored claims (expected {dim}: {want if isinstance(want, int) else len(want)}); refit"
            )
    if "diverging" not in idata.sample_stats:
        raise IncompatibleFit(f"{nc}: damaged: variable sample_stats/diverging missing; refit")
    if "stated" not in idata.observed_data or idata.observed_data["stated"].shape != (len(loss), 2):
        raise IncompatibleFit(
            f"{nc}: damaged: observed_data/stated missing or not one [low, high] per loss claim; refit"
        )
    for group in ("posterior", "posterior_predictive", "log_likelihood", "observed_data"):
        for name, da in idata[group].data_vars.items():
            try:
                values = np.asarray(da.values, dtype=float)
            except (TypeError, ValueError):
                raise IncompatibleFit(f"{nc}: damaged: {group}/{name} does not hold numbers; refit") from None
            bad = int(values.size - np.isfinite(values).sum())
            if bad:
                raise IncompatibleFit(
                    f"{nc}: damaged: {group}/{name} holds {bad} value(s) that are not finite "
                    "numbers (NaN or infinite); refit"
                )
