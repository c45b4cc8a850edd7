"""Synthetic claims with known truth: the simulator behind ``reconcile simulate``.

Its story has the model's structure (biased, noisy sources whose figures are stated rounded, as
bounds, ranges or vague phrases, some of them relayed), not the model's exact distributions: the
rate is a random walk of daily steps, not the model's stationary curve on a grid; losses are
Poisson counts; the noise is normal, one scale for every source, with no running tally and no
drifting bias; the killed share is constant. Simulation-based calibration takes only its designs
from here (who claims what, when, how) and draws the values from the model itself
(:mod:`reconcile.calibration`); :mod:`reconcile.worlds` builds wars that share nothing with the
model. Here:

* each population ``p`` has a start date and ``n_days`` days of war; its true daily
  casualties (killed + wounded) follow a smooth positive rate
  ``lambda_p(d) = exp(mu_p + w_p(d))`` with ``mu_p = log U(rate_range)`` and ``w_p`` a
  Gaussian random walk (daily step ``rate_step_sd``); daily counts are Poisson, the
  killed among them Binomial with the population's killed share ``pi_p``;
* the force strength ``S_p`` (what ``deployed`` claims refer to) is the total number of
  casualties at the end times ``U(strength_factor_range)``;
* every source has a group and, for every population, a stance; its log-bias on a
  population is ``delta[stance] + u[group] + v[source]``, so neutral sources are unbiased
  on average (``u`` and ``v`` shared by a source's stances: a special case of the model's
  default, which gives each stance its own, ``priors.bias_by_stance``);
* a source's figure is ``true quantity * exp(bias) * exp(eps)`` with ``eps`` normal
  (``noise_sd``), or, with probability ``outlier_prob``, normal with ``outlier_sd``; the
  stated claim is that figure as written under its qualifier (rounded, a bound, a range,
  or a vague phrase of the lexicon);
* a few claims are relayed copies of earlier ones (``derived_from``).

Only ``numpy.random.default_rng(seed)`` is used: the same seed gives the same output.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import os
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from reconcile._io import atomic_write_text, csv_text

__all__ = [
    "CLAIM_COLUMNS",
    "TRUTH_COLUMNS",
    "SimulationSettings",
    "Simulation",
    "simulate",
    "write_simulation",
    "truth_at",
]

CLAIM_COLUMNS: tuple[str, ...] = (
    "claim_id",
    "population",
    "category",
    "source",
    "source_group",
    "stance",
    "reported_on",
    "period_start",
    "period_end",
    "measure",
    "qualifier",
    "value",
    "value_high",
    "phrase",
    "quote",
    "citation",
    "language",
    "derived_from",
    "notes",
)

TRUTH_COLUMNS: tuple[str, ...] = (
    "quantity",
    "population",
    "category",
    "date",
    "source",
    "stance",
    "claim_id",
    "value",
)

STANCES: tuple[str, ...] = ("adversary", "own", "neutral")
LOSS_CATEGORIES: tuple[str, ...] = ("killed", "wounded", "casualties")
CATEGORIES: tuple[str, ...] = ("killed", "wounded", "casualties", "deployed")
QUALIFIERS: tuple[str, ...] = (
    "exact",
    "about",
    "at_least",
    "more_than",
    "at_most",
    "fewer_than",
    "range",
    "vague",
)
PERIOD_KINDS: tuple[str, ...] = ("cumulative", "window", "per_day")

DEFAULT_STANCE_EFFECTS: Mapping[str, float] = MappingProxyType({"adversary": 0.35, "own": -0.4, "neutral": 0.0})
DEFAULT_CATEGORY_PROBS: Mapping[str, float] = MappingProxyType(
    {"killed": 0.25, "wounded": 0.15, "casualties": 0.45, "deployed": 0.15}
)
DEFAULT_PERIOD_PROBS: Mapping[str, float] = MappingProxyType({"cumulative": 0.60, "window": 0.25, "per_day": 0.15})
DEFAULT_QUALIFIER_PROBS: Mapping[str, float] = MappingProxyType(
    {
        "exact": 0.20,
        "about": 0.25,
        "at_least": 0.15,
        "more_than": 0.10,
        "at_most": 0.05,
        "fewer_than": 0.05,
        "range": 0.10,
        "vague": 0.10,
    }
)
# Deployed strengths are mostly stated as round or exact numbers.
DEPLOYED_QUALIFIER_PROBS: Mapping[str, float] = MappingProxyType(
    {"about": 0.55, "exact": 0.25, "at_least": 0.05, "more_than": 0.05, "range": 0.10}
)

# Words that mark a lexicon phrase as English (the simulated quotes are English).
_ENGLISH_WORDS = frozenset(
    "a an and dozen dozens few hundred hundreds thousand thousands tens several many "
    "scores score some handful of over nearly almost around roughly about up to".split()
)
_NON_ENGLISH_WORDS = frozenset(
    "des plusieurs centaines milliers dizaines quelques centaine millier dizaine "
    "environ pres presque au moins plus de une un".split()
)


def _frozen_mapping(value: Mapping[str, float], name: str) -> Mapping[str, float]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a mapping, got {type(value).__name__}")
    out: dict[str, float] = {}
    for key, v in value.items():
        try:
            fv = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"{name}[{key!r}] must be a number, got {v!r}") from None
        if not math.isfinite(fv):
            raise ValueError(f"{name}[{key!r}] must be finite, got {v!r}")
        out[str(key)] = fv
    return MappingProxyType(out)


@dataclass(frozen=True)
class SimulationSettings:
    """Knobs of the simulation; every default follows the generative story above."""

    n_populations: int = 2
    n_days: int = 260
    n_claims: int = 80
    n_sources: int = 8
    n_groups: int = 3
    start: str = "2024-01-01"
    #: population ``i`` starts ``i * stagger_days`` days after ``start``
    stagger_days: int = 0
    stance_effects: Mapping[str, float] = field(default_factory=lambda: DEFAULT_STANCE_EFFECTS)
    group_sd: float = 0.15
    source_sd: float = 0.1
    noise_sd: float = 0.1
    outlier_prob: float = 0.05
    outlier_sd: float = 1.0
    relay_prob: float = 0.05
    #: U(low, high) for the typical daily casualties of a population
    rate_range: tuple[float, float] = (20.0, 200.0)
    #: daily step of the random walk on the log rate
    rate_step_sd: float = 0.03
    killed_share_range: tuple[float, float] = (0.2, 0.35)
    strength_factor_range: tuple[float, float] = (1.5, 3.0)
    #: no claim is reported in the first ``min_report_day`` days of a population's war
    min_report_day: int = 10
    min_window_days: int = 2
    max_window_days: int = 60
    #: share of the sources that are neutral (at least one)
    neutral_share: float = 0.25
    #: write the population's start as an explicit ``period_start`` on the earliest
    #: cumulative claim of each population, so that the contract's default start
    #: (earliest ``period_start``) is the true start
    mark_start: bool = True
    category_probs: Mapping[str, float] = field(default_factory=lambda: DEFAULT_CATEGORY_PROBS)
    period_probs: Mapping[str, float] = field(default_factory=lambda: DEFAULT_PERIOD_PROBS)
    qualifier_probs: Mapping[str, float] = field(default_factory=lambda: DEFAULT_QUALIFIER_PROBS)

    def __post_init__(self) -> None:
        def _int(name: str, minimum: int) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ValueError(f"{name} must be an integer, got {v!r}")
            if v < minimum:
                raise ValueError(f"{name} must be at least {minimum}, got {v}")
            object.__setattr__(self, name, int(v))

        def _float(name: str, minimum: float = 0.0, maximum: float = math.inf) -> None:
            v = getattr(self, name)
            try:
                fv = float(v)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be a number, got {v!r}") from None
            if isinstance(v, bool) or not math.isfinite(fv) or not (minimum <= fv <= maximum):
                raise ValueError(f"{name} must be a number in [{minimum}, {maximum}], got {v!r}")
            object.__setattr__(self, name, fv)

        def _range(name: str, positive: bool = True, maximum: float = math.inf) -> None:
            v = getattr(self, name)
            try:
                lo, hi = (float(x) for x in v)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be a pair (low, high), got {v!r}") from None
            if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
                raise ValueError(f"{name} must be a finite pair with low <= high, got {v!r}")
            if positive and lo <= 0:
                raise ValueError(f"{name} must be positive, got {v!r}")
            if hi > maximum:
                raise ValueError(f"{name} must not exceed {maximum}, got {v!r}")
            object.__setattr__(self, name, (lo, hi))

        _int("n_populations", 1)
        _int("n_claims", 1)
        _int("n_sources", 3)  # a neutral, an adversary and an own source for every population
        _int("n_groups", 1)
        if self.n_groups > self.n_sources:
            raise ValueError(f"n_groups ({self.n_groups}) must not exceed n_sources ({self.n_sources})")
        _int("stagger_days", 0)
        _int("min_report_day", 0)
        _int("min_window_days", 1)
        _int("max_window_days", 1)
        if self.max_window_days < self.min_window_days:
            raise ValueError(
                f"max_window_days ({self.max_window_days}) must be at least min_window_days ({self.min_window_days})"
            )
        _int("n_days", 1)
        if self.n_days < self.min_report_day + self.min_window_days + 1:
            raise ValueError(
                f"n_days must be at least min_report_day + min_window_days + 1 = "
                f"{self.min_report_day + self.min_window_days + 1}, got {self.n_days}"
            )
        raw_start = self.start
        if isinstance(raw_start, _dt.datetime):
            raw_start = raw_start.date()
        if isinstance(raw_start, _dt.date):
            raw_start = raw_start.isoformat()
        if not isinstance(raw_start, str):
            raise ValueError(f"start must be a date YYYY-MM-DD, got {self.start!r}")
        try:
            start = _dt.date.fromisoformat(raw_start)
            if len(raw_start) != 10:
                raise ValueError
        except ValueError:
            raise ValueError(f"start must be a date YYYY-MM-DD, got {self.start!r}") from None
        object.__setattr__(self, "start", start.isoformat())
        for name in ("group_sd", "source_sd", "noise_sd", "outlier_sd", "rate_step_sd"):
            _float(name)
        for name in ("outlier_prob", "relay_prob"):
            _float(name, 0.0, 1.0)
        _float("neutral_share", 0.0, 1.0)
        _range("rate_range")
        _range("killed_share_range", maximum=1.0)
        _range("strength_factor_range")
        if self.strength_factor_range[0] < 1.0:
            raise ValueError(
                "strength_factor_range must be at least 1 (a force is never smaller than "
                f"its losses), got {self.strength_factor_range!r}"
            )
        if not isinstance(self.mark_start, bool):
            raise ValueError(f"mark_start must be True or False, got {self.mark_start!r}")

        effects = _frozen_mapping(self.stance_effects, "stance_effects")
        if set(effects) != set(STANCES):
            raise ValueError(f"stance_effects must have exactly the keys {sorted(STANCES)}, got {sorted(effects)}")
        object.__setattr__(self, "stance_effects", effects)
        for name, allowed in (
            ("category_probs", CATEGORIES),
            ("period_probs", PERIOD_KINDS),
            ("qualifier_probs", QUALIFIERS),
        ):
            probs = _frozen_mapping(getattr(self, name), name)
            unknown = set(probs) - set(allowed)
            if unknown:
                raise ValueError(f"{name} has unknown keys {sorted(unknown)}; allowed: {list(allowed)}")
            if any(p < 0 for p in probs.values()) or sum(probs.values()) <= 0:
                raise ValueError(f"{name} must be non-negative weights with a positive sum")
            object.__setattr__(self, name, probs)
        if sum(self.category_probs.get(c, 0.0) for c in LOSS_CATEGORIES) <= 0:
            raise ValueError("category_probs must give a positive weight to a loss category")


@dataclass(frozen=True, eq=False)
class Simulation:
    """A simulated claims file and the truth behind it."""

    claims: pd.DataFrame
    truth: pd.DataFrame
    settings: SimulationSettings
    seed: int

    @property
    def starts(self) -> dict[str, str]:
        """Population -> start date (YYYY-MM-DD)."""
        cum = self.truth[self.truth["quantity"] == "cumulative"]
        return {str(p): str(g["date"].min()) for p, g in cum.groupby("population", sort=True)}


# --------------------------------------------------------------------------- numbers


def _clean(x: float) -> float:
    return float(round(x, 6))


def _sig_unit(x: float, digits: int) -> float:
    return 10.0 ** (math.floor(math.log10(x)) - digits + 1)


def _round_with(x: float, digits: int, how: str) -> float:
    """Round ``x >= 0`` to ``digits`` significant digits (``how``: round, floor, ceil)."""
    if x <= 0:
        return 0.0
    exponent = math.floor(math.log10(x)) - digits + 1
    unit = 10.0**exponent
    q = x / unit
    n = {"round": round, "floor": math.floor, "ceil": math.ceil}[how](q)
    # guard against q being 9.999999 instead of 10 etc.
    decimals = max(0, -exponent)
    return _clean(round(n * unit, decimals))


def _round_sig(x: float, digits: int) -> float:
    return _round_with(x, digits, "round")


def _floor_sig(x: float, digits: int) -> float:
    return _round_with(x, digits, "floor")


def _ceil_sig(x: float, digits: int) -> float:
    return _round_with(x, digits, "ceil")


def _fmt_value(x: float) -> str:
    """The stated number as written in the ``value`` column."""
    x = _clean(x)
    if x == int(x):
        return str(int(x))
    return np.format_float_positional(x, trim="-")


def _fmt_words(x: float) -> str:
    """The stated number as written in prose: thousands separators."""
    x = _clean(x)
    if x == int(x):
        return f"{int(x):,}"
    return f"{x:,.6f}".rstrip("0").rstrip(".")


def _state_figure(figure: float, qualifier: str, rng: np.random.Generator) -> tuple[float | None, float | None]:
    """(value, value_high) for a non-vague qualifier, given the source's figure."""
    if qualifier == "exact":
        return float(round(figure)), None
    if qualifier == "about":
        return _round_sig(figure, 2), None
    if qualifier in ("at_least", "more_than"):
        digits = int(rng.integers(1, 3))
        v = _floor_sig(figure, digits)
        if qualifier == "more_than" and v >= figure and figure > 0:
            v = _clean(max(0.0, v - _sig_unit(figure, digits)))
        return v, None
    if qualifier in ("at_most", "fewer_than"):
        digits = int(rng.integers(1, 3))
        v = _ceil_sig(figure, digits)
        if qualifier == "fewer_than" and v <= figure:
            v = _clean(v + _sig_unit(max(figure, 1e-9), digits))
        return v, None
    if qualifier == "range":
        lo = _floor_sig(figure * rng.uniform(0.6, 0.95), 2)
        hi = _ceil_sig(figure * rng.uniform(1.05, 1.5), 2)
        return lo, hi
    raise ValueError(f"unknown qualifier {qualifier!r}")  # pragma: no cover


_PHRASE_TEMPLATES = {
    "exact": "{v}",
    "about": "about {v}",
    "at_least": "at least {v}",
    "more_than": "more than {v}",
    "at_most": "at most {v}",
    "fewer_than": "fewer than {v}",
}


def _phrase(qualifier: str, value: float | None, high: float | None, vague: str) -> str:
    if qualifier == "vague":
        return vague
    if qualifier == "range":
        return f"between {_fmt_words(value)} and {_fmt_words(high)}"
    return _PHRASE_TEMPLATES[qualifier].format(v=_fmt_words(value))


def _is_english(phrase: str) -> bool:
    words = set(phrase.replace("-", " ").split())
    return bool(words & _ENGLISH_WORDS) and not (words & _NON_ENGLISH_WORDS)


def _english_vague_phrases() -> list[tuple[str, float, float]]:
    from reconcile.lexicon import default_lexicon

    out = []
    for phrase, interval in default_lexicon().entries.items():
        lo, hi = float(interval[0]), float(interval[1])
        if _is_english(str(phrase)) and math.isfinite(lo) and lo <= hi:
            out.append((str(phrase), lo, hi))
    out.sort()
    return out


# --------------------------------------------------------------------------- helpers


def _choice(rng: np.random.Generator, probs: Mapping[str, float], size: int) -> list[str]:
    keys = [k for k, p in probs.items() if p > 0]
    p = np.array([probs[k] for k in keys], dtype=float)
    return [keys[i] for i in rng.choice(len(keys), size=size, p=p / p.sum())] if size else []


def _ensure_coverage(draws: list[str], wanted: Sequence[str], rng: np.random.Generator) -> list[str]:
    """Replace duplicated draws so that every option in ``wanted`` appears (when room)."""
    draws = list(draws)
    for option in wanted:
        if option in draws:
            continue
        counts = {d: draws.count(d) for d in draws}
        spare = [i for i, d in enumerate(draws) if counts[d] > 1]
        if not spare:
            break
        draws[spare[int(rng.integers(len(spare)))]] = option
    return draws


def _day(start: _dt.date, index: int) -> str:
    return (start + _dt.timedelta(days=int(index))).isoformat()


def _pop_name(i: int) -> str:
    """pop_a, pop_b, ..., pop_z, pop_aa, pop_ab, ..."""
    letters = ""
    n = i
    while True:
        letters = chr(ord("a") + n % 26) + letters
        n = n // 26 - 1
        if n < 0:
            break
    return f"pop_{letters}"


_QUOTE_CORE = {
    "killed": "{q} {pop} soldiers were killed",
    "wounded": "{q} {pop} soldiers were wounded",
    "casualties": "{pop} forces suffered {q} casualties (killed and wounded)",
    "deployed": "{pop} had deployed {q} troops",
}


def _quote(
    *,
    source: str,
    category: str,
    population: str,
    phrase: str,
    kind: str,
    period_start: str,
    period_end: str,
    reported_on: str,
    relay_of: tuple[str, str] | None = None,
) -> str:
    core = _QUOTE_CORE[category].format(q=phrase, pop=population)
    if kind == "per_day":
        core += " a day on average"
    if category == "deployed":
        when = f" as of {period_end}" if period_end and period_end != reported_on else ""
    elif kind == "cumulative":
        since = f"since {period_start}" if period_start else "since the start of the fighting"
        when = f" {since}" + (f", as of {period_end}" if period_end and period_end != reported_on else "")
    else:
        when = f" between {period_start} and {period_end}"
    if relay_of is None:
        return f"[simulated] {source} said {core}{when}."
    return f"[simulated] As {source} said on {relay_of[1]}, {core}{when}."


# --------------------------------------------------------------------------- simulate


@dataclass(frozen=True)
class _War:
    """The truth of a simulated war: its populations, their starts and daily cumulative losses."""

    populations: list[str]
    starts: dict[str, _dt.date]
    cumulative: dict[str, dict[str, np.ndarray]]  # population -> category -> day -> total
    killed_share: dict[str, float]
    strength: dict[str, float]  # what ``deployed`` claims refer to


@dataclass(frozen=True)
class _Cast:
    """The sources: each one's group, its stance towards each population and its log bias."""

    sources: list[str]
    groups: dict[str, str]
    stance: dict[tuple[str, str], str]  # (source, population) -> stance
    log_bias: dict[tuple[str, str], float]  # (source, population) -> log bias


@dataclass(frozen=True)
class _Plan:
    """Who makes each original claim, about what, and how it will be stated."""

    pairs: list[tuple[str, str]]  # (source, population) per original claim
    categories: list[str]
    kinds: list[str]  # cumulative, window or per_day
    qualifiers: list[str]
    n_relays: int


def simulate(settings: SimulationSettings | None = None, *, seed: int = 0, **overrides: Any) -> Simulation:
    """Simulate a claims file and its truth; same ``seed`` and settings, same output.

    The stages, in order, draw from one generator: the true losses (:func:`_true_losses`), the
    sources (:func:`_cast`), who says what (:func:`_plan`), the true quantities and the sources'
    figures (:func:`_figures`), the figures as written (:func:`_state`), relayed copies
    (:func:`_relays`), then the two tables (:func:`_claims_table`, :func:`_truth_table`)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    if settings is None:
        settings = SimulationSettings(**overrides)
    elif not isinstance(settings, SimulationSettings):
        raise ValueError(f"settings must be a SimulationSettings, got {type(settings).__name__}")
    elif overrides:
        settings = dataclasses.replace(settings, **overrides)
    rng = np.random.default_rng(seed)
    war = _true_losses(settings, rng)
    cast = _cast(settings, war.populations, rng)
    plan = _plan(settings, war.populations, cast, rng)
    claims = _figures(settings, war, cast, plan, rng)
    _state(claims, rng)
    if settings.mark_start:
        _mark_starts(claims, war.populations)
    relays = _relays(settings, claims, plan.n_relays, rng)
    table, claim_truths = _claims_table(war, cast, claims + relays, citation=f"simulation seed={seed}")
    assert len(table) == settings.n_claims
    truth = _truth_table(settings, war, cast, claim_truths)
    return Simulation(claims=table, truth=truth, settings=settings, seed=seed)


def _true_losses(s: SimulationSettings, rng: np.random.Generator) -> _War:
    """Each population's start and daily losses: a log-normal random-walk rate around a typical
    level, Poisson counts, the killed among them binomial with the population's killed share;
    its force strength is its final casualties times a factor."""
    base = _dt.date.fromisoformat(s.start)
    pops = [_pop_name(i) for i in range(s.n_populations)]
    starts = {p: base + _dt.timedelta(days=i * s.stagger_days) for i, p in enumerate(pops)}
    cum: dict[str, dict[str, np.ndarray]] = {}
    killed_share: dict[str, float] = {}
    strength: dict[str, float] = {}
    for p in pops:
        mu = math.log(rng.uniform(*s.rate_range))
        steps = rng.normal(0.0, s.rate_step_sd, size=s.n_days)
        steps[0] = 0.0
        walk = np.cumsum(steps)
        walk -= walk.mean()  # mu is the typical log-rate over the war
        rate = np.exp(mu + walk)
        daily = rng.poisson(rate)
        share = float(rng.uniform(*s.killed_share_range))
        killed = rng.binomial(daily, share)
        wounded = daily - killed
        killed_share[p] = share
        cum[p] = {
            "killed": np.cumsum(killed).astype(float),
            "wounded": np.cumsum(wounded).astype(float),
            "casualties": np.cumsum(daily).astype(float),
        }
        strength[p] = float(round(cum[p]["casualties"][-1] * rng.uniform(*s.strength_factor_range)))
    return _War(pops, starts, cum, killed_share, strength)


def _cast(s: SimulationSettings, pops: list[str], rng: np.random.Generator) -> _Cast:
    """The sources: groups in turn, a side (A, B) or neutral each, so a stance towards each
    population (own side, adversary, neutral); log bias = stance effect + group + source effect."""
    sources = [f"src_{i + 1:02d}" for i in range(s.n_sources)]
    groups = {src: f"grp_{i % s.n_groups + 1}" for i, src in enumerate(sources)}
    n_neutral = max(1, int(round(s.neutral_share * s.n_sources)))
    n_neutral = min(n_neutral, s.n_sources - 2)
    n_side = s.n_sources - n_neutral
    n_side_a = (n_side + 1) // 2
    roles = ["neutral"] * n_neutral + ["A"] * n_side_a + ["B"] * (n_side - n_side_a)
    roles = [roles[i] for i in rng.permutation(len(roles))]
    side_of_pop = {p: ("A" if i % 2 == 0 else "B") for i, p in enumerate(pops)}
    stance: dict[tuple[str, str], str] = {}
    for src, role in zip(sources, roles):
        for p in pops:
            if role == "neutral":
                stance[src, p] = "neutral"
            else:
                stance[src, p] = "own" if role == side_of_pop[p] else "adversary"
    group_names = sorted(set(groups.values()), key=lambda g: int(g.split("_")[1]))
    u = dict(zip(group_names, rng.normal(0.0, s.group_sd, size=len(group_names))))
    v = dict(zip(sources, rng.normal(0.0, s.source_sd, size=len(sources))))
    log_bias = {
        (src, p): float(s.stance_effects[stance[src, p]] + u[groups[src]] + v[src]) for src in sources for p in pops
    }
    return _Cast(sources, groups, stance, log_bias)


def _plan(s: SimulationSettings, pops: list[str], cast: _Cast, rng: np.random.Generator) -> _Plan:
    """How many claims are relayed copies; for each original, its (source, population) (every
    population x stance first, then at random), category, kind of period and qualifier, every
    option with positive probability drawn at least once."""
    n_relays = int(rng.binomial(s.n_claims, s.relay_prob)) if s.n_claims > 1 else 0
    n_relays = min(n_relays, s.n_claims - 1)
    n_orig = s.n_claims - n_relays
    sources = cast.sources
    pairs: list[tuple[str, str]] = []
    for p in pops:
        for st in STANCES:
            cands = [src for src in sources if cast.stance[src, p] == st]
            pairs.append((cands[int(rng.integers(len(cands)))], p))
    pairs = [pairs[i] for i in rng.permutation(len(pairs))][:n_orig]
    while len(pairs) < n_orig:
        pairs.append((sources[int(rng.integers(len(sources)))], pops[int(rng.integers(len(pops)))]))

    categories = _ensure_coverage(
        _choice(rng, s.category_probs, n_orig),
        [c for c in CATEGORIES if s.category_probs.get(c, 0) > 0],
        rng,
    )
    loss_idx = [i for i, c in enumerate(categories) if c != "deployed"]
    dep_idx = [i for i, c in enumerate(categories) if c == "deployed"]

    def covering(probs: Mapping[str, float], options: Sequence[str]) -> list[str]:
        """Draw one option per loss claim, every option with positive probability at least once."""
        return _ensure_coverage(_choice(rng, probs, len(loss_idx)), [o for o in options if probs.get(o, 0) > 0], rng)

    kinds = ["cumulative"] * n_orig
    for i, k in zip(loss_idx, covering(s.period_probs, PERIOD_KINDS)):
        kinds[i] = k
    qualifiers = [""] * n_orig
    for i, q in zip(loss_idx, covering(s.qualifier_probs, QUALIFIERS)):
        qualifiers[i] = q
    for i, q in zip(dep_idx, _choice(rng, DEPLOYED_QUALIFIER_PROBS, len(dep_idx))):
        qualifiers[i] = q
    return _Plan(pairs, categories, kinds, qualifiers, n_relays)


def _figures(s: SimulationSettings, war: _War, cast: _Cast, plan: _Plan, rng: np.random.Generator) -> list[dict]:
    """Each original claim's report day, period and true quantity, and its source's figure:
    ``true * exp(log bias) * exp(eps)``, ``eps`` normal (``noise_sd``, or ``outlier_sd`` with
    probability ``outlier_prob``). A claim is a dict of day indices from its population's start."""
    claims: list[dict[str, Any]] = []
    for i, (src, p) in enumerate(plan.pairs):
        cat, kind = plan.categories[i], plan.kinds[i]
        r = int(rng.integers(max(s.min_report_day, s.min_window_days - 1), s.n_days))
        c: dict[str, Any] = {
            "population": p,
            "category": cat,
            "source": src,
            "kind": kind,
            "r": r,
            "start_idx": None,  # None: since the population's start
            "end_idx": r,
            "explicit_end": False,
        }
        if cat == "deployed":
            true_q = war.strength[p]
        elif kind == "cumulative":
            if rng.uniform() < 0.2:  # "as of" a few days before it was reported
                c["end_idx"] = r - int(rng.integers(1, min(7, r) + 1))
                c["explicit_end"] = True
            true_q = float(war.cumulative[p][cat][c["end_idx"]])
        else:
            end = r - int(rng.integers(0, min(10, r - s.min_window_days + 1) + 1))
            longest = min(s.max_window_days, end + 1)
            length = int(rng.integers(min(s.min_window_days, longest), longest + 1))
            st_idx = end - length + 1
            c.update(start_idx=st_idx, end_idx=end, explicit_end=True)
            before = war.cumulative[p][cat][st_idx - 1] if st_idx > 0 else 0.0
            total = float(war.cumulative[p][cat][end] - before)
            true_q = total / length if kind == "per_day" else total
        c["outlier"] = bool(rng.uniform() < s.outlier_prob)
        eps_sd = s.outlier_sd if c["outlier"] else s.noise_sd
        eps = float(rng.normal(0.0, eps_sd))
        c["true"] = true_q
        c["figure"] = float(true_q * math.exp(cast.log_bias[src, p]) * math.exp(eps))
        c["qualifier"] = plan.qualifiers[i]
        claims.append(c)
    return claims


def _state(claims: list[dict], rng: np.random.Generator) -> None:
    """Each figure as written under its qualifier (``value``, ``value_high``, ``phrase``): rounded,
    a bound, a range, or a vague phrase of the lexicon whose interval holds it. A vague claim no
    phrase fits swaps qualifiers with a loss claim one fits (else it becomes "about")."""
    phrases = _english_vague_phrases()

    def fitting(fig: float) -> list[str]:
        return [ph for ph, lo, hi in phrases if lo <= fig <= hi]

    fits = [fitting(c["figure"]) if c["category"] != "deployed" else [] for c in claims]
    for i, c in enumerate(claims):
        if c["qualifier"] != "vague" or fits[i]:
            continue
        swap = [
            j
            for j, d in enumerate(claims)
            if fits[j] and d["qualifier"] not in ("vague",) and d["category"] != "deployed"
        ]
        if swap:
            j = swap[int(rng.integers(len(swap)))]
            claims[j]["qualifier"], c["qualifier"] = "vague", claims[j]["qualifier"]
        else:
            c["qualifier"] = "about"

    for i, c in enumerate(claims):
        q = c["qualifier"]
        vague = ""
        if q == "vague":
            options = fits[i]
            vague = options[int(rng.integers(len(options)))]
            value = high = None
        else:
            value, high = _state_figure(c["figure"], q, rng)
        c["value"], c["value_high"], c["phrase"] = value, high, _phrase(q, value, high, vague)


def _mark_starts(claims: list[dict], pops: list[str]) -> None:
    """The earliest cumulative loss claim of each population carries the start explicitly."""
    for p in pops:
        cands = [
            c for c in claims if c["population"] == p and c["kind"] == "cumulative" and c["category"] != "deployed"
        ]
        if cands:
            first = min(cands, key=lambda c: (c["end_idx"], c["r"]))
            first["start_idx"] = 0


def _relays(s: SimulationSettings, claims: list[dict], n_relays: int, rng: np.random.Generator) -> list[dict]:
    """Copies of earlier claims, each reported 1-14 days after its original (``relay_of``)."""
    relayable = [i for i, c in enumerate(claims) if c["r"] < s.n_days - 1]
    relays: list[dict[str, Any]] = []
    for _ in range(n_relays):
        if relayable:
            orig = claims[relayable[int(rng.integers(len(relayable)))]]
            copy = dict(orig)
            copy["r"] = orig["r"] + int(rng.integers(1, min(14, s.n_days - 1 - orig["r"]) + 1))
            copy["explicit_end"] = True  # a later reported_on must not move the period
            copy["relay_of"] = orig
            relays.append(copy)
        else:  # pragma: no cover - only when every claim is on the last day
            break
    return relays


def _claims_table(war: _War, cast: _Cast, everything: list[dict], citation: str) -> tuple[pd.DataFrame, list[dict]]:
    """The claims file (rows in order of report, ids ``sim-0001``...) and each claim's truth rows
    (its true quantity, its source's figure, whether it is an outlier)."""
    order = sorted(range(len(everything)), key=lambda i: (everything[i]["r"], i))
    ids: dict[int, str] = {}
    for n, i in enumerate(order):
        ids[id(everything[i])] = f"sim-{n + 1:04d}"

    rows: list[dict[str, str]] = []
    truth_rows: list[dict[str, Any]] = []
    for i in order:
        c = everything[i]
        p, start = c["population"], war.starts[c["population"]]
        stance = cast.stance[c["source"], p]
        reported_on = _day(start, c["r"])
        period_start = _day(start, c["start_idx"]) if c["start_idx"] is not None else ""
        period_end = _day(start, c["end_idx"]) if c["explicit_end"] else ""
        orig = c.get("relay_of")
        claim_id = ids[id(c)]
        quote = _quote(
            source=c["source"],
            category=c["category"],
            population=p,
            phrase=c["phrase"],
            kind=c["kind"],
            period_start=period_start,
            period_end=period_end or reported_on,
            reported_on=reported_on,
            relay_of=(ids[id(orig)], _day(start, orig["r"])) if orig is not None else None,
        )
        rows.append(
            {
                "claim_id": claim_id,
                "population": p,
                "category": c["category"],
                "source": c["source"],
                "source_group": cast.groups[c["source"]],
                "stance": stance,
                "reported_on": reported_on,
                "period_start": period_start,
                "period_end": period_end,
                "measure": "per_day" if c["kind"] == "per_day" else "total",
                "qualifier": c["qualifier"],
                "value": _fmt_value(c["value"]) if c["value"] is not None else "",
                "value_high": _fmt_value(c["value_high"]) if c["value_high"] is not None else "",
                "phrase": c["phrase"],
                "quote": quote,
                "citation": citation,
                "language": "en",
                "derived_from": ids[id(orig)] if orig is not None else "",
                "notes": f"relayed copy of {ids[id(orig)]}" if orig is not None else "",
            }
        )
        end_date = _day(start, c["end_idx"])
        for quantity, value in (
            ("claim", c["true"]),
            ("figure", c["figure"]),
            ("outlier", 1.0 if c["outlier"] else 0.0),
        ):
            truth_rows.append(
                {
                    "quantity": quantity,
                    "population": p,
                    "category": c["category"],
                    "date": end_date,
                    "source": c["source"],
                    "stance": stance,
                    "claim_id": claim_id,
                    "value": float(value),
                }
            )
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS), dtype=object), truth_rows


def _truth_table(s: SimulationSettings, war: _War, cast: _Cast, claim_truths: list[dict]) -> pd.DataFrame:
    """The truth, long format: daily cumulative losses per population and category, the killed
    shares, the strengths, every source's bias factor on every population, and the claims' own."""
    blank = {"date": "", "source": "", "stance": "", "claim_id": ""}
    truth_parts: list[pd.DataFrame] = []
    for p in war.populations:
        dates = [_day(war.starts[p], d) for d in range(s.n_days)]
        for cat in LOSS_CATEGORIES:
            truth_parts.append(
                pd.DataFrame(
                    {
                        "quantity": "cumulative",
                        "population": p,
                        "category": cat,
                        "date": dates,
                        "source": "",
                        "stance": "",
                        "claim_id": "",
                        "value": war.cumulative[p][cat],
                    }
                )
            )
    other: list[dict[str, Any]] = []
    for p in war.populations:
        other.append(
            {**blank, "quantity": "killed_share", "population": p, "category": "killed", "value": war.killed_share[p]}
        )
        other.append(
            {**blank, "quantity": "strength", "population": p, "category": "deployed", "value": war.strength[p]}
        )
    for src in cast.sources:
        for p in war.populations:
            other.append(
                {
                    **blank,
                    "quantity": "bias",
                    "population": p,
                    "category": "",
                    "source": src,
                    "stance": cast.stance[src, p],
                    "value": math.exp(cast.log_bias[src, p]),
                }
            )
    truth_parts.append(pd.DataFrame(other, columns=list(TRUTH_COLUMNS)))
    truth_parts.append(pd.DataFrame(claim_truths, columns=list(TRUTH_COLUMNS)))
    truth = pd.concat(truth_parts, ignore_index=True)[list(TRUTH_COLUMNS)]
    for col in TRUTH_COLUMNS:
        if col != "value":
            truth[col] = truth[col].astype(object)
    truth["value"] = truth["value"].astype(float)
    return truth


# --------------------------------------------------------------------------- output


def write_simulation(sim: Simulation, claims_path: str | os.PathLike, truth_path: str | os.PathLike) -> None:
    """Write the claims and the truth as UTF-8 CSV files (atomically, no index)."""
    claims_text = csv_text(sim.claims)  # (text cells that could run as formulas neutralised)
    truth_text = csv_text(sim.truth)
    atomic_write_text(claims_path, claims_text)
    atomic_write_text(truth_path, truth_text)


def truth_at(truth: pd.DataFrame, population: str, category: str, date: str | _dt.date) -> float:
    """True cumulative ``category`` of ``population`` through the end of ``date``.

    ``deployed`` gives the (constant) force strength. Before the population's start the
    losses are 0; after the simulated period they stay at their last value.
    """
    if isinstance(date, _dt.datetime):
        date = date.date()
    day = date.isoformat() if isinstance(date, _dt.date) else str(date)
    _dt.date.fromisoformat(day)  # raises ValueError on a malformed date
    pop = truth["population"] == population
    if category == "deployed":
        rows = truth[pop & (truth["quantity"] == "strength")]
        if rows.empty:
            raise KeyError(f"no strength for population {population!r}")
        return float(rows["value"].iloc[0])
    rows = truth[pop & (truth["quantity"] == "cumulative") & (truth["category"] == category)]
    if rows.empty:
        raise KeyError(f"no cumulative truth for population {population!r}, category {category!r}")
    rows = rows.sort_values("date")
    dates = rows["date"].astype(str).to_numpy()
    i = int(np.searchsorted(dates, day, side="right")) - 1
    return 0.0 if i < 0 else float(rows["value"].iloc[i])
