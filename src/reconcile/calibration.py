"""Simulation-based calibration (Talts et al. 2018): do the model's intervals mean what they say?

Each simulation draws a synthetic war *from the model's own generative process* and fits it:

1. **Design** (what was claimed, by whom, when, how): a war of the simulator
   (:func:`reconcile.simulate`) supplies populations, dates, sources with groups and stances,
   categories, periods (cumulative, window, daily average) and qualifiers, plus a running tally
   (one source stating cumulative casualties every few days: its bias drifts in the model).
   Strength claims (``deployed``) and relays are left out (see below).
2. **Truth**: one draw of every parameter from the model's prior, by the model itself
   (``pm.draw`` on the very PyMC model that is then fitted): daily-loss curves, killed shares,
   stance/group/source biases and their drift, each source's noise scale.
3. **Figures**: each source's figure by the model's likelihood: ``log figure = log truth +
   log bias (+ drift) + e``, ``e`` logistic with sd ``sqrt(floor^2 + noise_sd[source]^2)`` (plus
   ``about_sd`` for "about" figures), or, with probability ``outlier_prob``, ``outlier_sd``
   (``model.claim_location_scale``, what the fit's likelihood uses).
4. **Stated claims**, with coarsening the likelihood describes exactly (coarsened at random):
   ``exact``/``about`` state the figure (4 significant digits); a bound compares the figure with
   a threshold drawn independently of the truth (the prior's typical value of that quantity times
   ``exp(N(0, 1))``), giving ``at_least`` or ``at_most``; ``range`` and ``vague`` claims state the
   cell of a fixed grid on the log scale (width x1.6 for ranges, x3 for vague phrases, random
   offset) that holds the figure, as ``range``.
5. **Fit** with nutpie, then for each checked quantity: is the truth inside the central 50% and
   90% posterior intervals, and its rank among thinned posterior draws (uniform if calibrated).

Left out on purpose: strength bounds (a stated strength below its noisy casualties is a claim the
model cannot express, so a truthful simulation of it would have to drop claims depending on the
truth, which biases any check) and lexicon phrases (a phrase chosen because it fits the figure is
not coarsening at random). They are exercised by the recovery tests instead.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CalibrationSettings", "CalibrationResult", "calibrate", "simulate_and_fit", "coverage_table"]

NOMINALS = (0.5, 0.9)
FRACTIONS = (0.25, 0.5, 0.75, 1.0)  # dates checked: these shares of each population's war
RANK_COLUMNS = [
    "simulation",
    "quantity",
    "family",
    "unit",
    "truth",
    "q05",
    "q25",
    "q50",
    "q75",
    "q95",
    "in50",
    "in90",
    "rank",
    "n_rank_draws",
    "converged",
]
CALIBRATION_COLUMNS = [
    "quantity",
    "nominal",
    "coverage",
    "n",
    "family",
    "se",
    "n_simulations",
    "coverage_converged",
    "n_converged",
    "rank_chi2_p",
]


@dataclass(frozen=True)
class CalibrationSettings:
    """Size of the simulated wars and of each fit (small, so 100 fits take minutes, not hours)."""

    n_populations: int = 1
    n_days: int = 150
    n_claims: int = 40
    n_sources: int = 6
    n_groups: int = 3
    #: cumulative figures a running tally adds (one source, every few days over the last two
    #: thirds of the war): its bias drifts (model.inputs.drift_series), so calibration checks the drift
    tally_claims: int = 20
    #: shares of the design's claims that count killed and wounded (the rest count casualties);
    #: where one category makes 80% of a population's claims its curve is sampled on that
    #: category's rate (model.inputs.anchor_categories), so ``killed_claims=0.9, tally_category="killed"``
    #: calibrates that parameterisation
    killed_claims: float = 0.3
    wounded_claims: float = 0.2
    #: what the running tally counts
    tally_category: str = "casualties"
    #: how many populations the running tally counts (the first ones): from 2, its series have
    #: levels of their own (model.series_levels), so calibration checks them
    tally_populations: int = 1
    draws: int = 500
    tune: int = 500
    chains: int = 4
    #: posterior draws kept (evenly thinned) for the rank statistics; ranks run 0..rank_draws
    rank_draws: int = 199

    def __post_init__(self) -> None:
        for name in ("n_populations", "n_days", "n_claims", "n_sources", "n_groups", "draws", "chains", "rank_draws"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        for name in ("tune", "tally_claims"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
        for name in ("killed_claims", "wounded_claims"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a share between 0 and 1, got {value!r}")
        if self.killed_claims + self.wounded_claims > 1.0 + 1e-9:
            raise ValueError(
                f"killed_claims + wounded_claims must not exceed 1, got {self.killed_claims} + {self.wounded_claims}"
            )
        if isinstance(self.tally_populations, bool) or not isinstance(self.tally_populations, int):
            raise ValueError(f"tally_populations must be a whole number, got {self.tally_populations!r}")
        if not 1 <= self.tally_populations <= self.n_populations:
            raise ValueError(
                f"tally_populations must be from 1 to n_populations ({self.n_populations}), got {self.tally_populations}"
            )
        if self.tally_category not in ("killed", "wounded", "casualties"):
            raise ValueError(f"tally_category must be killed, wounded or casualties, got {self.tally_category!r}")
        if self.rank_draws > self.draws * self.chains:
            raise ValueError(
                f"rank_draws ({self.rank_draws}) must not exceed draws x chains ({self.draws * self.chains})"
            )


# --------------------------------------------------------------------------- one simulation (worker)


def _sig(x: float, digits: int) -> float:
    if not x > 0:
        return 0.0
    return float(f"{x:.{digits - 1}e}")


def _cell(log_fig: float, width: float, offset: float) -> tuple[float, float]:
    """The cell [low, high] of the grid exp(offset + k*width) (ends rounded to 6 digits) holding the figure."""
    k = math.floor((log_fig - offset) / width)
    for kk in (k, k - 1, k + 1):
        lo, hi = _sig(math.exp(offset + kk * width), 6), _sig(math.exp(offset + (kk + 1) * width), 6)
        if lo <= math.exp(log_fig) <= hi:
            return lo, hi
    return _sig(math.exp(offset + k * width), 6), _sig(math.exp(offset + (k + 1) * width), 6)  # pragma: no cover


def _design(settings: CalibrationSettings, seed: int) -> pd.DataFrame:
    from .simulation import simulate

    sim = simulate(
        seed=seed,
        n_populations=settings.n_populations,
        n_days=settings.n_days,
        n_claims=settings.n_claims,
        n_sources=settings.n_sources,
        n_groups=min(settings.n_groups, settings.n_sources),
        relay_prob=0.0,
        category_probs={
            "killed": settings.killed_claims,
            "wounded": settings.wounded_claims,
            "casualties": max(0.0, 1.0 - settings.killed_claims - settings.wounded_claims),
        },
    )
    claims = sim.claims
    if settings.tally_claims:
        claims = pd.concat([claims, _tally(claims, settings)], ignore_index=True)
    return claims


def _tally(claims: pd.DataFrame, settings: CalibrationSettings) -> pd.DataFrame:
    """A running tally: one more source (in the first source's group, an adversary) stating the
    cumulative losses (``tally_category``) of the first ``tally_populations`` populations every few
    days over the last two thirds of the war. Counting two populations or more, its series have
    levels of their own (``model.series_levels``), which calibration then checks."""
    template = claims.iloc[0]
    first = settings.n_days // 3
    days = np.linspace(first, settings.n_days - 1, settings.tally_claims).round().astype(int)
    populations = [template["population"]]
    populations += [p for p in dict.fromkeys(claims["population"]) if p != template["population"]]
    rows = []
    for j, population in enumerate(populations[: settings.tally_populations]):
        start = pd.Timestamp(
            min(
                claims.loc[claims["population"] == population, "period_start"].replace("", np.nan).dropna().min(),
                claims.loc[claims["population"] == population, "reported_on"].min(),
            )
        )
        for k, day in enumerate(days):
            date = (start + pd.Timedelta(days=int(day))).strftime("%Y-%m-%d")
            rows.append(
                {
                    **{c: "" for c in claims.columns},
                    "claim_id": f"tally-{k + 1:03d}" if j == 0 else f"tally{j + 1}-{k + 1:03d}",
                    "population": population,
                    "category": settings.tally_category,
                    "source": "tally",
                    "source_group": template["source_group"],
                    "stance": "adversary",
                    "reported_on": date,
                    "period_start": start.strftime("%Y-%m-%d"),
                    "period_end": date,
                    "measure": "total",
                    "qualifier": "exact",
                    "value": "1",
                    "citation": "calibration tally",
                    "quote": "[calibration] running tally",
                    "language": "en",
                }
            )
    return pd.DataFrame(rows, columns=claims.columns)


def _state_claims(design: pd.DataFrame, inputs, config, truth: dict, rng: np.random.Generator) -> pd.DataFrame:
    """The claims a war drawn from the model's prior would produce (see the module docstring)."""
    from .model import claim_location_scale
    from .model.inputs import typical_category_share
    from .observation import stated_log_figure, unit_noise

    pr = config.priors
    L = inputs.loss
    mu, sigma = claim_location_scale(
        inputs,
        config,
        truth["true_quantity"],
        truth["bias"],
        truth["noise_sd"],
        truth.get("bias_drift"),
        truth.get("series_noise_sd"),
    )
    noise, wild = unit_noise(rng, len(sigma), pr["outlier_prob"])
    log_fig = stated_log_figure(noise, wild, mu, sigma, pr["outlier_sd"])
    category_share = typical_category_share(L.category, pr)
    median_rate = np.array([config.daily_rate_median(p) for p in inputs.populations])[L.pop]
    typical = median_rate * category_share * np.where(L.per_day, 1.0, L.days)
    index = {cid: i for i, cid in enumerate(L.claim_id)}
    out = design.copy()
    for r, row in out.iterrows():
        i = index[row["claim_id"]]
        q = row["qualifier"]
        value_high = ""
        if q in ("exact", "about"):
            value = _sig(math.exp(log_fig[i]), 4)
        elif q in ("at_least", "more_than", "at_most", "fewer_than"):
            value = _sig(typical[i] * math.exp(rng.normal(0.0, 1.0)), 3)
            q = "at_least" if math.exp(log_fig[i]) >= value else "at_most"
        else:  # range, vague: a cell of a fixed log grid
            width = math.log(1.6) if q == "range" else math.log(3.0)
            value, value_high = _cell(log_fig[i], width, rng.uniform(0.0, width))
            q = "range"
        out.at[r, "qualifier"] = q
        out.at[r, "value"] = repr(value)
        out.at[r, "value_high"] = repr(value_high) if value_high != "" else ""
        out.at[r, "phrase"] = ""
        out.at[r, "quote"] = (
            f"[calibration] {row['source']}: {q} {value}{'-' + repr(value_high) if value_high != '' else ''} {row['category']}."
        )
    return out


def _thin(samples: np.ndarray, n: int) -> np.ndarray:
    idx = np.linspace(0, samples.shape[0] - 1, n).round().astype(int)
    return samples[idx]


def _check_rows(result, truth: dict, settings: CalibrationSettings) -> list[dict]:
    """Truth against the posterior for every checked quantity of one fit."""
    from .summary import _draws

    post = result.idata.posterior
    d = result.inputs
    rows = []

    def add(quantity, family, unit, true_value, samples):
        q = np.quantile(samples, [0.05, 0.25, 0.5, 0.75, 0.95])
        thin = _thin(samples, settings.rank_draws)
        rows.append(
            {
                "quantity": quantity,
                "family": family,
                "unit": unit,
                "truth": float(true_value),
                "q05": q[0],
                "q25": q[1],
                "q50": q[2],
                "q75": q[3],
                "q95": q[4],
                "in50": bool(q[1] <= true_value <= q[3]),
                "in90": bool(q[0] <= true_value <= q[4]),
                "rank": int((thin < true_value).sum()),
                "n_rank_draws": int(len(thin)),
            }
        )

    cum = _draws(post["cumulative_casualties"])
    killed = _draws(post["cumulative_killed"])
    share = _draws(post["killed_share"])
    est = d.estimates
    for j, pop in enumerate(d.populations):
        mine = est.index[est["pop"] == j].to_numpy()
        days = est.loc[mine, "day"].to_numpy()
        for frac in FRACTIONS:
            k = mine[int(np.argmin(np.abs(days - max(1.0, frac * d.grid.n_days[j]))))]
            label = "end" if frac == 1.0 else f"{frac:.0%}"
            c_true, k_true = truth["cumulative_casualties"][k], truth["cumulative_killed"][k]
            add(f"casualties@{label}", "cumulative", pop, c_true, cum[:, k])
            add(f"killed@{label}", "cumulative", pop, k_true, killed[:, k])
            add(f"wounded@{label}", "cumulative", pop, c_true - k_true, cum[:, k] - killed[:, k])
        add("killed_share", "hyperparameter", pop, truth["killed_share"][j], share[:, j])
        add("rate_sd", "hyperparameter", pop, truth["rate_sd"][j], _draws(post["rate_sd"])[:, j])
    bias = _draws(post["bias"])
    for k, (src, stance, ref) in enumerate(zip(d.sources["source"], d.sources["stance"], d.sources["reference"])):
        if not ref:  # a reference source's bias is 1 by assumption: nothing to check
            add(f"bias[{stance}]", "bias", f"{src} [{stance}]", truth["bias"][k], bias[:, k])
    noise = _draws(post["noise_sd"])
    for k, src in enumerate(d.source_names):
        add("noise_sd", "noise", src, truth["noise_sd"][k], noise[:, k])
    if "series_noise_sd" in truth:
        series_noise = _draws(post["series_noise_sd"])
        for k, label in enumerate(post["series_noise_sd"].coords["drift_series"].values):
            add("series_noise_sd", "noise", str(label), truth["series_noise_sd"][k], series_noise[:, k])
    if "series_bias" in truth:  # a series with a level of its own (its source keeps several)
        from .model import series_levels

        levelled = series_levels(d)[1].any(axis=1)
        series_bias = _draws(post["series_bias"])
        for k, label in enumerate(post["series_bias"].coords["drift_series"].values):
            if levelled[k]:
                add("series_bias", "bias", str(label), truth["series_bias"][k], series_bias[:, k])
    add(
        "noise_typical",
        "hyperparameter",
        "",
        float(np.ravel(truth["noise_typical"])[0]),
        _draws(post["noise_typical"]).reshape(-1),
    )
    return rows


_TRUTH_VARS = (
    "cumulative_casualties",
    "cumulative_killed",
    "killed_share",
    "true_quantity",
    "bias",
    "noise_sd",
    "noise_typical",
    "rate_sd",
)
_DRIFT_TRUTH_VARS = ("bias_drift", "series_noise_sd", "series_bias")


def simulate_and_fit(*, seed: int, index: int, settings: dict, config_json: str) -> dict:
    """One simulation of the calibration: draw a war from the prior, fit it, check every quantity.

    A batch job (see :mod:`reconcile.batch`): plain-data arguments, a JSON-able result.
    """
    import pymc as pm

    from .claims import claims_from_frame
    from .config import config_from_json
    from .fitting import fit, quiet_libraries
    from .model import build_model, prepare

    s = CalibrationSettings(**settings)
    config = config_from_json(config_json)
    rng = np.random.default_rng(seed)
    design = _design(s, int(rng.integers(2**31)))
    claims = claims_from_frame(design)
    inputs = prepare(claims, config)
    with quiet_libraries():
        model = build_model(claims, config, inputs)
        names = _TRUTH_VARS + tuple(v for v in _DRIFT_TRUTH_VARS if v in model.named_vars)
        draws = pm.draw([model[v] for v in names], random_seed=int(rng.integers(2**31)), mode="FAST_COMPILE")
    truth = {name: np.asarray(v) for name, v in zip(names, draws)}
    stated = claims_from_frame(_state_claims(design, inputs, config, truth, rng))
    result = fit(
        stated, config, seed=int(rng.integers(2**31)), progress=False, draws=s.draws, tune=s.tune, chains=s.chains
    )
    same = (
        list(result.inputs.loss.claim_id) == list(inputs.loss.claim_id)
        and result.inputs.sources[["source", "stance"]].equals(inputs.sources[["source", "stance"]])
        and result.inputs.estimates[["pop", "day"]].equals(inputs.estimates[["pop", "day"]])
    )
    if not same:  # pragma: no cover - the stated values never change the design
        raise RuntimeError("the stated claims changed the model's layout; the truth would be misaligned")
    diag = result.diagnostics
    return {
        "index": index,
        "n_claims": int(len(stated)),
        "n_populations": len(inputs.populations),
        "converged": bool(diag.converged),
        "diagnostics": json.loads(diag.to_json()),
        "rows": _check_rows(result, truth, s),
    }


# --------------------------------------------------------------------------- many simulations (parent)


@dataclass(frozen=True)
class CalibrationResult:
    coverage: pd.DataFrame  # calibration.csv
    ranks: pd.DataFrame  # calibration_ranks.csv: one row per simulation x quantity x unit
    summary: dict  # calibration.json
    failures: dict[str, str]


def _chi2_p(ranks: np.ndarray, n_rank_draws: int, bins: int = 10) -> float:
    """p-value of a chi-square test that ranks are uniform on 0..n_rank_draws (10 bins)."""
    from scipy import stats

    if len(ranks) < 2 * bins:
        return float("nan")
    counts = np.histogram(ranks, bins=bins, range=(0, n_rank_draws + 1))[0]
    expected = len(ranks) / bins
    return float(stats.chi2.sf(((counts - expected) ** 2 / expected).sum(), bins - 1))


def coverage_table(ranks: pd.DataFrame) -> pd.DataFrame:
    """calibration.csv from the per-simulation rows: coverage of the central 50% and 90%
    intervals per quantity, and per family ("all cumulative", "all bias", ...)."""
    n_sims = ranks["simulation"].nunique()
    groups = [(q, g) for q, g in ranks.groupby("quantity", sort=False)]
    groups += [(f"all {fam}", g) for fam, g in ranks.groupby("family", sort=False)]
    rows = []
    for name, g in groups:
        conv = g[g["converged"]]
        for nominal in NOMINALS:
            col = "in50" if nominal == 0.5 else "in90"
            cov = float(g[col].mean())
            rows.append(
                {
                    "quantity": name,
                    "nominal": nominal,
                    "coverage": cov,
                    "n": int(len(g)),
                    "family": g["family"].iloc[0],
                    "se": math.sqrt(nominal * (1 - nominal) / len(g)),
                    "n_simulations": int(g["simulation"].nunique()),
                    "coverage_converged": float(conv[col].mean()) if len(conv) else float("nan"),
                    "n_converged": int(len(conv)),
                    # pooled rows: ranks of one simulation are not independent, so no uniformity test
                    "rank_chi2_p": (
                        float("nan")
                        if name.startswith("all ")
                        else _chi2_p(g["rank"].to_numpy(), int(g["n_rank_draws"].iloc[0]))
                    ),
                }
            )
    out = pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)
    out.attrs["n_simulations"] = n_sims
    return out


def _jobs(n: int, settings: CalibrationSettings, config) -> list:
    from .batch import Job

    cfg = config.to_json()
    opts = dataclasses.asdict(settings)
    return [Job(f"sim-{i:04d}", simulate_and_fit, {"index": i, "settings": opts, "config_json": cfg}) for i in range(n)]


def calibrate(
    n_simulations: int,
    out_dir,
    *,
    seed: int = 1,
    settings: CalibrationSettings | None = None,
    config=None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> CalibrationResult:
    """Run ``n_simulations`` simulations (in parallel; resumable) and write into ``out_dir``:
    ``calibration.csv``, ``calibration_ranks.csv``, ``calibration.json`` and ``plots/``."""
    from ._io import staged_directory
    from .batch import run_jobs
    from .batch_plots import save_calibration_plots
    from .config import load_config

    if isinstance(n_simulations, bool) or not isinstance(n_simulations, int) or n_simulations < 1:
        raise ValueError(f"the number of simulations must be a whole number >= 1, got {n_simulations!r}")
    settings = settings or CalibrationSettings()
    config = config if config is not None else load_config()
    batch = run_jobs(
        _jobs(n_simulations, settings, config),
        out_dir,
        root_seed=seed,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        description="calibration fits",
    )
    frames = []
    diagnostics = []
    for _key, res in batch.results.items():
        frame = pd.DataFrame(res["rows"])
        frame.insert(0, "simulation", res["index"])
        frame["converged"] = bool(res["converged"])
        frames.append(frame)
        diagnostics.append(
            {
                "simulation": res["index"],
                **{
                    k: res["diagnostics"].get(k)
                    for k in ("converged", "max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "seconds")
                },
            }
        )
    ranks = pd.concat(frames, ignore_index=True)[RANK_COLUMNS] if frames else pd.DataFrame(columns=RANK_COLUMNS)
    coverage = coverage_table(ranks) if frames else pd.DataFrame(columns=CALIBRATION_COLUMNS)
    diag = pd.DataFrame(diagnostics)
    summary: dict[str, Any] = {
        "n_simulations_requested": n_simulations,
        "n_simulations_fitted": len(batch.results),
        "n_failed": len(batch.failures),
        "failures": batch.failures,
        "n_converged": int(diag["converged"].sum()) if len(diag) else 0,
        "n_with_divergences": int((diag["divergences"] > 0).sum()) if len(diag) else 0,
        "fit_seconds_median": float(diag["seconds"].median()) if len(diag) else None,
        "root_seed": seed,
        "settings": dataclasses.asdict(settings),
        "config": json.loads(config.to_json()),
        "per_simulation": diagnostics,
    }
    if len(coverage):
        headline = coverage[coverage["quantity"].str.startswith("all ")]
        summary["coverage"] = {f"{r.quantity} {r.nominal:.0%}": round(r.coverage, 4) for r in headline.itertuples()}
    from ._io import table_csv as _csv

    with staged_directory(out_dir, kind="calibration") as staging:
        (staging / "calibration.csv").write_text(_csv(coverage), encoding="utf-8")
        (staging / "calibration_ranks.csv").write_text(_csv(ranks), encoding="utf-8")
        (staging / "calibration.json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
        if len(ranks):
            save_calibration_plots(ranks, coverage, staging / "plots")
    return CalibrationResult(coverage=coverage, ranks=ranks, summary=summary, failures=batch.failures)
