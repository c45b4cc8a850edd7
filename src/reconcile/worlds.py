"""The world's simulator: messy wars with a known truth, written independently of the model.

This module makes synthetic claims files whose truth is known, to test whether the model holds
up on data it did not generate. It was written without reading the model, its simulator or its
calibration code, and imports nothing from ``reconcile`` (numpy, pandas and the standard library
only): a simulator sharing code or assumptions with the model would only prove
self-consistency.

Usage::

    from reconcile.worlds import WORLDS, make_world, write_world
    world = make_world("ministry-500", seed=1)
    write_world(world, "claims.csv", "truth.csv")
    world.checkpoints(4)          # true cumulative losses at 25/50/75/100 % of each span

What is drawn, and how
----------------------

**Phases of the war.** One sequence of phases is drawn for the whole war (lulls, steady
fighting, offensives by side ``a`` or side ``b``, lasting days to weeks), so the populations'
losses move *together*: an offensive raises the attacker's losses a lot (x1.9-3.0) and the
defender's less (x1.3-1.8); a lull divides both (x0.3-0.6). Each population also has its own
gradual escalation or de-escalation (a factor ``exp(g (t - mid) / span)``, ``g`` in
[-0.7, 0.9]), a weekly rhythm (up to +-12 %), and a small, fast-reverting day-to-day wiggle.
The phase multipliers are step functions smoothed over 9 days, so offensives ramp up over a week.

**Daily losses.** Casualties of day ``t`` are negative binomial (a gamma-Poisson mixture with
size 4-12, so much more spread than Poisson) around that intensity. The killed share is not
constant: it drifts linearly between two values in [0.18, 0.42] (at least 0.06 apart) over
the population's fighting,
rises by 0.05 for the attacker during its offensives, falls by 0.03 in lulls, and killed are
drawn binomially from casualties with a day-level beta-distributed share. A foreign contingent
fights only between its ``start`` and ``end`` (zero losses afterwards) and has a force strength
(with one reinforcement), always at least 1.6 times its final cumulative casualties.

**Sources.** Each source belongs to a group (``us_government``, ``think_tanks``, ...) and has a
side (``a``, ``b`` or none) and a role: belligerent governments, their allies, or neutral
bodies. Its *stance* towards a population follows: ``own`` (same side), ``adversary``
(opposite side), ``neutral`` (no side); the stance written in the claims is exactly this. The
bias (figure stated / true figure) of a source about a population is the product of

* a base factor drawn per (group, population): belligerents inflate the adversary's losses
  (x1.1-2.5; 1 time in 10 roughly honest, x0.9-1.1) and deflate their own (x0.3-0.9; 1 in 10
  roughly honest), allies do the same more mildly (x1.05-1.8, x0.6-0.95), neutral bodies are
  within +-20 %; members of a group share it, with a source's own deviation (log-sd 0.1),
  clipped so that it stays on the side of 1 its stance says (own <= 1.1, adversary >= 0.85);
* a linear trend in time (some sources' inflation grows by 20-50 % a year, others' shrinks,
  most are flat);
* a slow AR(1) wander (correlation time ~4 months, log-sd ``drift_sd``), partly shared by the
  group.

A claim's figure is the true quantity it refers to times that bias on the day it is made, times
a log-normal error (``noise_sd`` from 0.01 for a careful ministry to 0.45 for a loose outlet).

**Kinds of reporting.**

* *Running tallies* (daily, weekly or fortnightly): a body publishes its own cumulative count.
  Each day's true loss is multiplied by the bias of that day and by a day-level error, and the
  tally is the cumulative sum: errors persist from one update to the next, the tally never
  decreases, and its ratio to the truth is a running *average* of past biases (it lags any
  drift). Stated ``exact``, usually as of the day before (``period_end`` = reported_on - 1).
* *Name counts*: a project counting the names of confirmed dead publishes ``at_least`` the
  names it has, which capture 55-72 % of the killed at first, falling to 30-45 % as the war
  grows, and lag the deaths by 2-5 weeks (so the first counts capture even less). Marked as
  such in ``notes``.
* *Occasional statements*: cumulative totals (usually with an explicit ``period_start``, some
  "as of" an earlier date), windows ("over the past two days", "in March", "since 3 May") and
  daily averages (``measure = per_day``), in English or French, stated as people state numbers:
  ``exact``, ``about`` (rounded to 1-2 significant figures), ``more_than``/``at_least`` (a
  round number somewhat below the figure), ``at_most``/``fewer_than`` (a round number above),
  ``range`` and ``vague`` phrases from the lexicon whose interval holds the figure. Statements
  cluster in intense periods.
* *Deployed*: force strength of a contingent, stated ``about`` (some ``vague``), biased mildly
  (adversaries up to +25 %, own side down to -15 %): an upper bound on cumulative casualties
  that holds in every world.
* *Relays and repeats*: outlets relaying an earlier figure a few days later and a source
  repeating its own figure weeks later (``derived_from`` = the original, same figure, same
  period, another citation); and, in the larger worlds, a few *stale* repeats: a source states
  an old cumulative figure again as if current, with no ``derived_from`` (flagged only in
  :attr:`World.answers`).
* *Wild outliers*: a few figures 3-10 times off (killed confused with casualties, a typo adding
  or dropping a digit, propaganda), flagged only in :attr:`World.answers` and ``World.meta``.

Why it differs from a model's assumptions
-----------------------------------------

A typical hierarchical model of such claims assumes a smooth latent path (e.g. a Gaussian
random walk of log daily losses), a constant or slowly varying killed share, one log-normal
error per claim around a bias fixed per source (or per stance/group) and claims independent
given the path. Here, instead: losses are overdispersed counts driven by *shared*, abrupt
phases plus trends (not a random walk); the killed share moves with phases and time; biases
drift with trends and AR(1) wanders; tallies accumulate their errors so consecutive claims are
strongly dependent; name counts are lower bounds that get *less* complete over time; stated
numbers are rounded, floored or bracketed the way people do it, not noisy versions of the
figure; some relays are marked and some stale repeats are not; a few claims are grossly wrong.
None of it is drawn from the model's likelihood.

Hidden answers
--------------

:attr:`World.answers` holds, for every claim, the true quantity it refers to (same period and
measure), the source's figure before it was rounded or bracketed, their ratio, the systematic
bias on that day and the flags (outlier and why, stale, relay). :attr:`World.sources` gives one
row per source x population with ``mean_bias``: the *geometric* mean of figure / truth over that
source's original loss claims on that population, outliers and stale repeats excluded.

Determinism: all randomness comes from ``numpy.random.SeedSequence(seed)`` and its spawned
children, one per component (phases, each population's truth, biases, each tally, ...), so the
same name and seed give byte-identical CSV files.
"""

from __future__ import annotations

import bisect
import calendar
import io
import itertools
import math
import os
import tempfile
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "PopulationSpec",
    "SourceSpec",
    "TallySpec",
    "NameCountSpec",
    "WorldSpec",
    "World",
    "WORLDS",
    "CLAIM_COLUMNS",
    "TRUTH_COLUMNS",
    "VAGUE_PHRASES",
    "make_world",
    "write_world",
    "claims_csv_text",
    "truth_csv_text",
]

#: Columns of :attr:`World.claims`, in the order they are written.
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
#: Columns of :attr:`World.truth`.
TRUTH_COLUMNS: tuple[str, ...] = (
    "population",
    "date",
    "killed",
    "wounded",
    "casualties",
    "cum_killed",
    "cum_wounded",
    "cum_casualties",
)

#: Vague phrases used, by language, with the interval the project's lexicon gives them
#: (both ends inclusive). A phrase is used only when its interval holds the source's figure.
VAGUE_PHRASES: Mapping[str, tuple[tuple[str, int, int], ...]] = {
    "en": (
        ("dozens", 20, 99),
        ("several hundred", 200, 900),
        ("hundreds", 200, 999),
        ("several thousand", 2000, 9000),
        ("thousands", 2000, 9999),
        ("tens of thousands", 20000, 99999),
    ),
    "fr": (
        ("des dizaines", 20, 99),
        ("plusieurs centaines", 200, 900),
        ("des centaines", 200, 999),
        ("plusieurs milliers", 2000, 9000),
        ("des milliers", 2000, 9999),
    ),
}

_CATS = ("killed", "wounded", "casualties")

# Qualifier weights of the statement styles.
_STYLES: Mapping[str, Mapping[str, float]] = {
    "precise": {"exact": 0.70, "about": 0.15, "more_than": 0.05, "range": 0.05, "at_least": 0.05},
    "rounded": {
        "about": 0.40,
        "more_than": 0.20,
        "at_least": 0.10,
        "range": 0.10,
        "exact": 0.10,
        "vague": 0.05,
        "at_most": 0.025,
        "fewer_than": 0.025,
    },
    "vague": {
        "vague": 0.40,
        "about": 0.20,
        "more_than": 0.15,
        "at_least": 0.10,
        "range": 0.05,
        "fewer_than": 0.05,
        "at_most": 0.05,
    },
    "bounds": {"at_least": 0.30, "more_than": 0.30, "about": 0.15, "vague": 0.15, "range": 0.05, "fewer_than": 0.05},
    "official_own": {
        "exact": 0.45,
        "about": 0.20,
        "fewer_than": 0.10,
        "at_most": 0.10,
        "more_than": 0.05,
        "range": 0.10,
    },
}


# ======================================================================================
# Settings (frozen dataclasses)
# ======================================================================================


@dataclass(frozen=True)
class PopulationSpec:
    """One population whose losses are simulated.

    ``start_day`` and ``end_day`` count days from the world's ``start_date`` (the first day a
    claim can be made); ``start_day`` may be negative (the war began before the claims).
    ``scale`` is the baseline number of casualties a day. ``strength`` (a closed contingent
    only) is its initial force; deployed claims are made about it.
    """

    name: str
    side: str  # "a" or "b"
    start_day: int
    scale: float
    noun_en: str  # "Arvenian soldiers"
    noun_fr: str  # "soldats arvéniens"
    forces_en: str  # "Arvenian forces"
    forces_fr: str  # "les forces arvéniennes"
    end_day: int | None = None
    strength: int | None = None
    claim_weight: float = 1.0


@dataclass(frozen=True)
class SourceSpec:
    """One source: who it is, how it relates to the sides, how it states figures.

    ``noise_sd`` is the log-scale error of one figure (of one day's increment for a tally);
    ``drift_sd`` the log-sd of the slow AR(1) wander of its bias; ``trend`` the magnitude of the
    linear trend of its log bias per year, with sign ``trend_sign`` (0: drawn at random).
    ``weight`` is how often it makes occasional statements, ``style`` how it states them.
    """

    key: str
    name: str
    group: str
    side: str | None  # "a", "b" or None (neutral)
    role: str  # "belligerent", "ally" or "neutral"
    language: str
    domain: str
    speaker_en: str
    speaker_fr: str
    noise_sd: float = 0.1
    drift_sd: float = 0.03
    trend: float = 0.0
    trend_sign: int = 0
    style: str = "rounded"
    weight: float = 1.0
    populations: tuple[str, ...] | None = None
    deploys: bool = False


@dataclass(frozen=True)
class TallySpec:
    """A running tally: ``source`` publishes its cumulative count of ``population``'s
    ``category`` every ``every`` days from ``first_day`` to ``last_day`` (inclusive; None: the
    last day of the world), as of ``lag`` days before publication. ``noise_sd`` (None: the
    source's) is the log error of one day's increment."""

    source: str
    population: str
    category: str
    every: int = 1
    first_day: int = 0
    last_day: int | None = None
    lag: int = 1
    noise_sd: float | None = None


@dataclass(frozen=True)
class NameCountSpec:
    """A project counting the names of ``population``'s confirmed dead, publishing
    ``at_least`` its count every ``every`` days from ``first_day``, or, if ``n_updates`` is set,
    that many times on irregular days."""

    source: str
    population: str
    first_day: int = 0
    every: int = 7
    n_updates: int | None = None


@dataclass(frozen=True)
class WorldSpec:
    """A named world: its populations, sources, reporting and how many claims of each kind."""

    name: str
    description: str
    target: int  # intended number of claims
    start_date: str
    n_days: int
    populations: tuple[PopulationSpec, ...]
    sources: tuple[SourceSpec, ...]
    tallies: tuple[TallySpec, ...] = ()
    name_counts: tuple[NameCountSpec, ...] = ()
    n_occasional: int = 0
    n_deployed: int = 0
    n_relays: int = 0
    n_repeats: int = 0
    n_stale: int = 0
    n_outliers: int = 0
    #: weights of the forms of occasional statements: cumulative, window, per_day
    forms: tuple[float, float, float] = (0.6, 0.28, 0.12)
    #: features the world guarantees (checked by the tests)
    promises: tuple[str, ...] = ()


# ======================================================================================
# The world
# ======================================================================================


@dataclass(frozen=True, eq=False)
class World:
    """A simulated war: claims (the claims-file format), truth, sources and hidden answers.

    ``claims``: one row per claim, columns :data:`CLAIM_COLUMNS`, dates as ``YYYY-MM-DD``
    text, blank text cells as ``""`` and blank numbers as NaN. ``truth``: one row per day of
    each population from its start to the last day of the world (columns
    :data:`TRUTH_COLUMNS`). ``sources``: one row per source x population with claims.
    ``starts``: population -> first day of its losses. ``answers``: per claim, the true
    quantity, the source's figure and flags (outliers, stale repeats, relays). ``meta``:
    settings and lists of the flagged claims.
    """

    name: str
    seed: int
    spec: WorldSpec
    claims: pd.DataFrame
    truth: pd.DataFrame
    sources: pd.DataFrame
    starts: dict[str, date]
    answers: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def checkpoints(self, n: int = 4) -> pd.DataFrame:
        """True cumulative killed, wounded and casualties of each population at ``n`` evenly
        spaced dates of its span (from its start to the last day of the world): at
        ``k / n`` of it for k = 1..n (25, 50, 75 and 100 % for n = 4)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        rows = []
        for population, frame in self.truth.groupby("population", sort=False):
            frame = frame.reset_index(drop=True)
            span = len(frame) - 1
            for k in range(1, n + 1):
                at = int(round(k / n * span))
                rec = frame.iloc[at]
                rows.append(
                    {
                        "population": population,
                        "fraction": k / n,
                        "date": rec["date"],
                        "cum_killed": int(rec["cum_killed"]),
                        "cum_wounded": int(rec["cum_wounded"]),
                        "cum_casualties": int(rec["cum_casualties"]),
                    }
                )
        return pd.DataFrame(rows)

    def true_total(
        self, population: str, category: str, period_start: str | date, period_end: str | date, measure: str = "total"
    ) -> float:
        """The true quantity a claim refers to: the sum of ``category`` over the days from
        ``period_start`` to ``period_end`` (inclusive), or its daily average if ``measure`` is
        ``per_day``."""
        frame = self.truth[self.truth["population"] == population]
        start = str(period_start)[:10]
        end = str(period_end)[:10]
        mine = frame[(frame["date"] >= start) & (frame["date"] <= end)]
        total = float(mine[category].sum())
        if measure == "per_day":
            days = (date.fromisoformat(end) - date.fromisoformat(start)).days + 1
            return total / days
        return total


# ======================================================================================
# Randomness: a buffered stream over one numpy Generator (fast scalar draws)
# ======================================================================================


class _Stream:
    """Scalar draws from blocks of one ``numpy.random.Generator`` (deterministic)."""

    def __init__(self, rng: np.random.Generator, block: int = 2048):
        self.rng = rng
        self.block = block
        self._u: list[float] = []
        self._n: list[float] = []

    def u(self) -> float:
        if not self._u:
            self._u = self.rng.random(self.block).tolist()[::-1]
        return self._u.pop()

    def n(self) -> float:
        if not self._n:
            self._n = self.rng.standard_normal(self.block).tolist()[::-1]
        return self._n.pop()

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.u()

    def integer(self, a: int, b: int) -> int:
        """Uniform integer in [a, b] inclusive."""
        return a + min(int(self.u() * (b - a + 1)), b - a)

    def chance(self, p: float) -> bool:
        return self.u() < p

    def pick(self, items: Sequence[Any], weights: Sequence[float] | None = None) -> Any:
        if weights is None:
            return items[self.integer(0, len(items) - 1)]
        cum = list(itertools.accumulate(weights))
        at = bisect.bisect_right(cum, self.u() * cum[-1])
        return items[min(at, len(items) - 1)]


# ======================================================================================
# Numbers as people state them
# ======================================================================================


def _sig_step(x: float, sig: int) -> float:
    return 10.0 ** (math.floor(math.log10(x)) - sig + 1)


def _round_sig(x: float, sig: int) -> float:
    step = max(_sig_step(x, sig), 1.0)
    return round(x / step) * step


def _floor_sig(x: float, sig: int) -> float:
    step = max(_sig_step(x, sig), 1.0)
    return math.floor(x / step) * step


def _ceil_sig(x: float, sig: int) -> float:
    step = max(_sig_step(x, sig), 1.0)
    return math.ceil(x / step) * step


def _num(value: float, lang: str, dot_thousands: bool = False) -> str:
    """A number as written in ``lang``: 12,345 / 12 345 (or 12.345); 4.5 / 4,5."""
    if float(value).is_integer():
        text = f"{int(value):,}"
        if lang == "fr":
            text = text.replace(",", "." if dot_thousands else " ")
        return text
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "fr" else text


def _cell_number(value: float | None) -> str:
    if value is None or math.isnan(value):
        return ""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


_QUAL_WORDS = {
    "en": {
        "exact": "{n}",
        "about": "about {n}",
        "more_than": "more than {n}",
        "at_least": "at least {n}",
        "at_most": "at most {n}",
        "fewer_than": "fewer than {n}",
        "range": "between {n} and {h}",
    },
    "fr": {
        "exact": "{n}",
        "about": "environ {n}",
        "more_than": "plus de {n}",
        "at_least": "au moins {n}",
        "at_most": "au plus {n}",
        "fewer_than": "moins de {n}",
        "range": "entre {n} et {h}",
    },
}

_MONTHS_EN = calendar.month_name[1:]
_MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def _date_text(d: date, lang: str, year: bool = True) -> str:
    if lang == "fr":
        day = "1er" if d.day == 1 else str(d.day)
        return f"{day} {_MONTHS_FR[d.month - 1]}" + (f" {d.year}" if year else "")
    return f"{d.day} {_MONTHS_EN[d.month - 1]}" + (f" {d.year}" if year else "")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


_PLURAL_VAGUE = {
    "en": ("dozens", "hundreds", "thousands", "tens of thousands"),
    "fr": tuple(ph for ph, _, _ in VAGUE_PHRASES["fr"]),
}


def _np(qty: str, lang: str) -> str:
    """The quantity as it stands before a noun: "hundreds of", "des centaines de"."""
    if qty.lower() in _PLURAL_VAGUE[lang]:
        return qty + (" of" if lang == "en" else " de")
    return qty


def _que(text: str) -> str:
    """French "que" before ``text``, elided before a vowel ("qu'environ")."""
    return ("qu'" + text) if text[:1].lower() in "aeiouéèêyh" and text[:1] else "que " + text


_VERB = {
    "en": {"killed": "killed", "wounded": "wounded", "casualties": "killed or wounded"},
    "fr": {"killed": "tués", "wounded": "blessés", "casualties": "tués ou blessés"},
}


# ======================================================================================
# The generator
# ======================================================================================


@dataclass
class _Truth:
    start_day: int
    killed: np.ndarray  # daily, from start_day to the last day of the world
    wounded: np.ndarray
    cum: dict[str, np.ndarray]  # category -> cumulative sums with a leading 0
    strength: np.ndarray | None  # force strength by day of the world grid (contingents)


class _Builder:
    """Builds one world; every component draws from its own spawned generator."""

    COMPONENTS = ("phases", "truth", "biases", "tallies", "names", "occasional", "deployed", "relays", "outliers")

    def __init__(self, spec: WorldSpec, seed: int):
        self.spec = spec
        self.seed = seed
        children = np.random.SeedSequence(seed).spawn(len(self.COMPONENTS))
        self.ss = dict(zip(self.COMPONENTS, children))
        self.day0 = date.fromisoformat(spec.start_date)
        self.n_days = spec.n_days
        self.g0 = min(0, *(p.start_day for p in spec.populations))
        self.G = self.n_days - self.g0  # length of the global day grid
        self.pops = {p.name: p for p in spec.populations}
        self.srcs = {s.key: s for s in spec.sources}
        self.rows: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []
        self._ids: dict[str, int] = {}
        self._iso = [self.date_of(d).isoformat() for d in range(self.g0, self.n_days)]
        self._validate_spec()

    # -- helpers -----------------------------------------------------------------------
    def _validate_spec(self) -> None:
        groups: dict[str, tuple[str | None, str]] = {}
        for s in self.spec.sources:
            seen = groups.setdefault(s.group, (s.side, s.role))
            if seen != (s.side, s.role):
                raise ValueError(f"{self.spec.name}: group {s.group!r} mixes sides or roles")
        for t in (*self.spec.tallies, *self.spec.name_counts):
            if t.source not in self.srcs or t.population not in self.pops:
                raise ValueError(f"{self.spec.name}: unknown source or population in {t}")

    def date_of(self, day: int) -> date:
        return self.day0 + timedelta(days=int(day))

    def ds(self, day: int) -> str:
        at = day - self.g0
        if 0 <= at < len(self._iso):
            return self._iso[at]
        return self.date_of(day).isoformat()

    def day_of(self, d: date) -> int:
        return (d - self.day0).days

    def stance(self, src: SourceSpec, pop: PopulationSpec) -> str:
        if src.side is None:
            return "neutral"
        return "own" if src.side == pop.side else "adversary"

    def new_id(self, base: str) -> str:
        n = self._ids.get(base, 0) + 1
        self._ids[base] = n
        return base if n == 1 else f"{base}-{n}"

    def total(self, pop: str, category: str, a: int, b: int) -> float:
        """True sum of ``category`` over world days a..b (inclusive), clipped to the span."""
        tr = self.truth[pop]
        last = self.n_days - 1
        a, b = max(a, tr.start_day), min(b, last)
        if b < a:
            return 0.0
        cum = tr.cum[category]
        return float(cum[b - tr.start_day + 1] - cum[a - tr.start_day])

    def bias(self, src: str, pop: str, day: int) -> float:
        return float(math.exp(self.log_bias[(src, pop)][day - self.g0]))

    # -- phases and truth --------------------------------------------------------------
    def draw_phases(self) -> None:
        """One phase sequence for the whole war: 0 lull, 1 steady, 2 offensive of side a,
        3 offensive of side b; ``self.segments`` = (first, last, type) on the global grid."""
        st = _Stream(np.random.default_rng(self.ss["phases"]))
        follow = {
            0: ((1, 2, 3), (0.5, 0.25, 0.25)),
            1: ((0, 2, 3), (0.25, 0.375, 0.375)),
            2: ((0, 1), (0.5, 0.5)),
            3: ((0, 1), (0.5, 0.5)),
        }
        length = {0: (10, 50), 1: (20, 110), 2: (14, 60), 3: (14, 60)}
        segments = []
        t, kind = 0, 1
        while t < self.G:
            lo, hi = length[kind]
            dur = st.integer(lo, hi)
            segments.append((t, min(t + dur, self.G) - 1, kind))
            t += dur
            kinds, weights = follow[kind]
            kind = st.pick(kinds, weights)
        self.segments = segments

    def draw_truth(self) -> None:
        children = self.ss["truth"].spawn(len(self.spec.populations))
        self.truth: dict[str, _Truth] = {}
        grid = np.arange(self.G) + self.g0  # world day of each grid cell
        weekday = np.array([self.date_of(d).weekday() for d in (0, 1, 2, 3, 4, 5, 6)])
        for pop, ss in zip(self.spec.populations, children):
            rng = np.random.default_rng(ss)
            log_mult = np.zeros(self.G)
            share_shift = np.zeros(self.G)
            for first, last, kind in self.segments:
                if kind == 0:
                    m, dq = rng.uniform(0.3, 0.6), -0.03
                elif kind == 1:
                    m, dq = rng.uniform(0.8, 1.2), 0.0
                else:
                    attacker = (kind == 2) == (pop.side == "a")
                    m = rng.uniform(1.9, 3.0) if attacker else rng.uniform(1.3, 1.8)
                    dq = 0.05 if attacker else 0.0
                log_mult[first : last + 1] = math.log(m)
                share_shift[first : last + 1] = dq
            kernel = np.ones(9) / 9
            log_mult = np.convolve(np.pad(log_mult, 4, mode="edge"), kernel, mode="valid")
            start, end = pop.start_day, pop.end_day if pop.end_day is not None else self.n_days - 1
            span = max(self.n_days - start, 2)
            frac = (grid - start) / span
            g = rng.uniform(-0.7, 0.9)
            escalation = g * (frac - 0.5)
            w, phase7 = rng.uniform(0.0, 0.12), rng.integers(0, 7)
            dow = weekday[(grid - 0) % 7]
            weekly = np.log1p(w * np.cos(2 * np.pi * (dow - phase7) / 7))
            # small, fast-reverting wiggle (correlation ~5 days), not a random walk
            phi = math.exp(-1 / 5)
            eps = rng.standard_normal(self.G) * 0.12 * math.sqrt(1 - phi**2)
            wiggle = np.empty(self.G)
            acc = 0.0
            for i in range(self.G):
                acc = phi * acc + eps[i]
                wiggle[i] = acc
            lam = pop.scale * np.exp(log_mult + escalation + weekly + wiggle)
            active = (grid >= start) & (grid <= end)
            lam = np.where(active, lam, 0.0)
            size = rng.uniform(4, 12)
            casualties = rng.poisson(lam * rng.gamma(size, 1 / size, self.G))
            # killed share drifts from q0 to q1 over the fighting (by at least 0.06)
            q0 = rng.uniform(0.2, 0.4)
            sign, step = rng.choice([-1, 1]), rng.uniform(0.06, 0.15)
            q1 = min(max(q0 + sign * step, 0.18), 0.42)
            if abs(q1 - q0) < 0.06:
                q1 = min(max(q0 - sign * step, 0.18), 0.42)
            fighting = np.clip((grid - start) / max(end - start, 1), 0, 1)
            q = np.clip(q0 + (q1 - q0) * fighting + share_shift, 0.12, 0.5)
            kappa = 150.0
            q_day = rng.beta(q * kappa, (1 - q) * kappa)
            killed = rng.binomial(casualties, q_day)
            wounded = casualties - killed
            keep = slice(start - self.g0, self.G)
            k, wd = killed[keep].astype(np.int64), wounded[keep].astype(np.int64)
            cum = {"killed": np.concatenate([[0], np.cumsum(k)]), "wounded": np.concatenate([[0], np.cumsum(wd)])}
            cum["casualties"] = cum["killed"] + cum["wounded"]
            strength = None
            if pop.strength is not None:
                final = int(cum["casualties"][-1])
                s0 = max(pop.strength, int(math.ceil(1.6 * final / 500.0)) * 500)
                extra = int(round(s0 * rng.uniform(0.15, 0.35), -2))
                when = start + int(rng.uniform(0.3, 0.6) * (end - start))
                strength = np.where(grid >= when, s0 + extra, s0).astype(float)
            self.truth[pop.name] = _Truth(start, k, wd, cum, strength)

    # -- biases ------------------------------------------------------------------------
    def draw_biases(self) -> None:
        rng = np.random.default_rng(self.ss["biases"])
        self.base: dict[tuple[str, str], float] = {}
        self.trend: dict[str, float] = {}
        group_base: dict[tuple[str, str], float] = {}
        for s in self.spec.sources:  # in spec order: deterministic
            for p in self.spec.populations:
                if (s.group, p.name) in group_base:
                    continue
                stance = self.stance(s, p)
                u = rng.random()
                if stance == "neutral":
                    f = rng.uniform(0.82, 1.2)
                elif s.role == "ally":
                    f = rng.uniform(1.05, 1.8) if stance == "adversary" else rng.uniform(0.6, 0.95)
                elif stance == "adversary":
                    f = math.exp(rng.uniform(math.log(1.1), math.log(2.5))) if u < 0.9 else rng.uniform(0.9, 1.1)
                else:
                    f = rng.uniform(0.3, 0.9) if u < 0.9 else rng.uniform(0.9, 1.05)
                group_base[(s.group, p.name)] = math.log(f)
        for s in self.spec.sources:
            sign = s.trend_sign if s.trend_sign else (1 if rng.random() < 0.5 else -1)
            self.trend[s.key] = sign * s.trend * rng.uniform(0.85, 1.15) + 0.0
            for p in self.spec.populations:
                stance = self.stance(s, p)
                sd = 0.06 if stance == "neutral" else 0.1
                lb = group_base[(s.group, p.name)] + rng.normal(0, sd)
                # the bias keeps the side of 1 its stance says (roughly honest at worst)
                lo, hi = {"neutral": (0.8, 1.25), "own": (0.25, 1.1), "adversary": (0.85, 3.0)}[stance]
                lo, hi = math.log(lo), math.log(hi)
                self.base[(s.key, p.name)] = min(max(lb, lo), hi)
        # AR(1) wanders, correlation time ~120 days, shared in part by the group
        pairs = [(s, p) for s in self.spec.sources for p in self.spec.populations]
        groups = sorted({(s.group, p.name) for s, p in pairs})
        gidx = {g: i for i, g in enumerate(groups)}
        phi = math.exp(-1 / 120)
        innov = math.sqrt(1 - phi**2)
        n_pairs, n_groups = len(pairs), len(groups)
        x_own = rng.standard_normal(n_pairs)
        x_grp = rng.standard_normal(n_groups)
        e_own = rng.standard_normal((self.G, n_pairs))
        e_grp = rng.standard_normal((self.G, n_groups))
        walk_own = np.empty((self.G, n_pairs))
        walk_grp = np.empty((self.G, n_groups))
        for t in range(self.G):
            x_own = phi * x_own + innov * e_own[t]
            x_grp = phi * x_grp + innov * e_grp[t]
            walk_own[t] = x_own
            walk_grp[t] = x_grp
        years = (np.arange(self.G) + self.g0 - self.n_days / 2) / 365.25
        self.log_bias: dict[tuple[str, str], np.ndarray] = {}
        rho = 0.6
        for j, (s, p) in enumerate(pairs):
            wander = rho * walk_grp[:, gidx[(s.group, p.name)]] + math.sqrt(1 - rho**2) * walk_own[:, j]
            self.log_bias[(s.key, p.name)] = (
                self.base[(s.key, p.name)] + self.trend[s.key] * years + s.drift_sd * wander
            )

    # -- rows ----------------------------------------------------------------------------
    def add(
        self,
        *,
        cid: str,
        src: SourceSpec,
        pop: str,
        category: str,
        reported: int,
        pstart: str,
        pend: str,
        measure: str,
        qualifier: str,
        value: float,
        value_high: float,
        phrase: str,
        quote: str,
        citation: str,
        language: str,
        derived_from: str = "",
        notes: str = "",
        kind: str,
        true_value: float,
        figure: float,
        bias: float,
        outlier: str = "",
        factor: float = 1.0,
        stale: bool = False,
        stance: str | None = None,
    ) -> dict[str, Any]:
        row = {
            "claim_id": cid,
            "population": pop,
            "category": category,
            "source": src.name,
            "source_group": src.group,
            "stance": stance if stance is not None else self.stance(src, self.pops[pop]),
            "reported_on": self.ds(reported),
            "period_start": pstart,
            "period_end": pend,
            "measure": measure,
            "qualifier": qualifier,
            "value": value,
            "value_high": value_high,
            "phrase": phrase,
            "quote": quote,
            "citation": citation,
            "language": language,
            "derived_from": derived_from,
            "notes": notes,
        }
        self.rows.append(row)
        self.answers.append(
            {
                "claim_id": cid,
                "source_key": src.key,
                "kind": kind,
                "true_value": true_value,
                "figure": figure,
                "ratio": figure / true_value if true_value > 0 else math.nan,
                "bias": bias,
                "outlier": bool(outlier),
                "outlier_reason": outlier,
                "outlier_factor": factor,
                "stale": stale,
                "relay": bool(derived_from),
            }
        )
        return row

    def state(
        self, st: _Stream, figure: float, qualifier: str, lang: str, per_day: bool = False
    ) -> tuple[str, float, float, str] | None:
        """(qualifier, value, value_high, quantity as written) for a source's ``figure``."""
        nan = math.nan
        if figure <= 0:
            return None
        small = per_day and figure < 20
        if qualifier == "vague":
            fits = [ph for ph, lo, hi in VAGUE_PHRASES.get(lang, ()) if lo <= figure <= hi]
            if not fits:
                qualifier = "about"
            else:
                return "vague", nan, nan, st.pick(fits)
        sig = 1 if st.chance(0.4) else 2
        if qualifier == "exact":
            v = round(figure, 1) if small else float(round(figure))
        elif qualifier == "about":
            v = round(figure, 1) if small and figure < 2 else _round_sig(figure, sig)
        elif qualifier in ("more_than", "at_least"):
            v = _floor_sig(figure * st.uniform(0.75, 1.0), sig)
            if qualifier == "more_than" and v >= figure:
                v -= _sig_step(v, sig) if v > 1 else 0
        elif qualifier in ("at_most", "fewer_than"):
            v = _ceil_sig(figure * st.uniform(1.0, 1.25), sig)
            if qualifier == "fewer_than" and v <= figure:
                v += max(_sig_step(v, sig), 1.0)
        elif qualifier == "range":
            lo = _floor_sig(figure * st.uniform(0.78, 0.97), 2)
            hi = _ceil_sig(figure * st.uniform(1.03, 1.25), 2)
            if lo <= 0 or hi <= lo:
                return None
            words = _QUAL_WORDS[lang]["range"].format(n=_num(lo, lang), h=_num(hi, lang))
            return "range", float(lo), float(hi), words
        else:
            raise ValueError(qualifier)
        if v <= 0 or (qualifier == "more_than" and v >= figure):
            return None
        words = _QUAL_WORDS[lang][qualifier].format(n=_num(v, lang, st.chance(0.15)))
        return qualifier, float(v), nan, words

    # -- running tallies -----------------------------------------------------------------
    def make_tallies(self) -> None:
        children = self.ss["tallies"].spawn(max(len(self.spec.tallies), 1))
        self.tally_pairs: dict[tuple[str, str], str] = {}
        for spec, ss in zip(self.spec.tallies, children):
            rng = np.random.default_rng(ss)
            src, pop = self.srcs[spec.source], self.pops[spec.population]
            tr = self.truth[pop.name]
            kind = {1: "running_tally_daily", 7: "running_tally_weekly", 14: "running_tally_fortnightly"}.get(
                spec.every, f"running_tally_every_{spec.every}d"
            )
            self.tally_pairs.setdefault((src.key, pop.name), kind)
            daily = (
                tr.killed
                if spec.category == "killed"
                else tr.wounded
                if spec.category == "wounded"
                else tr.killed + tr.wounded
            ).astype(float)
            days = np.arange(tr.start_day, self.n_days)
            lb = self.log_bias[(src.key, pop.name)][days - self.g0]
            sd = spec.noise_sd if spec.noise_sd is not None else src.noise_sd
            inc = daily * np.exp(lb + sd * rng.standard_normal(len(days)) - sd**2 / 2)
            tally = np.cumsum(inc)
            true_cum = np.cumsum(daily)
            last = spec.last_day if spec.last_day is not None else self.n_days - 1
            first = max(spec.first_day, tr.start_day + spec.lag)
            start_txt = self.ds(tr.start_day)
            lang = src.language
            verb = _VERB[lang][spec.category]
            for r in range(first, last + 1, spec.every):
                e = r - spec.lag
                at = e - tr.start_day
                value = float(round(tally[at]))
                true = float(true_cum[at])
                if value <= 0 or true <= 0:
                    continue
                qty = _num(value, lang)
                start_d, end_d = self.date_of(tr.start_day), self.date_of(e)
                if spec.every == 1 and src.side != pop.side:
                    quote = (
                        f"Total combat losses of the enemy from {_date_text(start_d, 'en')} "
                        f"to {_date_text(end_d, 'en')}: {qty} {pop.noun_en} {verb}, "
                        f"{src.speaker_en} said in its daily update."
                        if lang == "en"
                        else f"Pertes totales de l'ennemi du {_date_text(start_d, 'fr')} au "
                        f"{_date_text(end_d, 'fr')} : {qty} {pop.noun_fr} {verb}, selon "
                        f"{src.speaker_fr}."
                    )
                elif src.side == pop.side:
                    quote = (
                        f"{_cap(src.speaker_en)} said {qty} of its {pop.noun_en.split()[-1]} "
                        f"had been {verb} since {_date_text(start_d, 'en')}, as of "
                        f"{_date_text(end_d, 'en')}."
                        if lang == "en"
                        else f"{_cap(src.speaker_fr)} a indiqué que {qty} de ses "
                        f"{pop.noun_fr.split()[0]} avaient été {verb} depuis le "
                        f"{_date_text(start_d, 'fr')}, au {_date_text(end_d, 'fr')}."
                    )
                else:
                    quote = (
                        f"{_cap(src.speaker_en)} put {pop.forces_en} losses at {qty} "
                        f"{verb} since {_date_text(start_d, 'en')} in its periodic update."
                        if lang == "en"
                        else f"{_cap(src.speaker_fr)} estime les pertes de {pop.forces_fr} à "
                        f"{qty} {verb} depuis le {_date_text(start_d, 'fr')}."
                    )
                cid = self.new_id(f"{src.key}-tally-{self.ds(r)}-{pop.name}-{spec.category}")
                every = {1: "daily", 7: "weekly", 14: "fortnightly"}.get(spec.every, f"every {spec.every} days")
                notes = (
                    f"Running tally published {every}: cumulative since the start "
                    f"({start_txt})"
                    + (
                        ", as of the day before publication"
                        if spec.lag == 1
                        else f", as of {spec.lag} days before publication"
                        if spec.lag
                        else ""
                    )
                    + "."
                )
                self.add(
                    cid=cid,
                    src=src,
                    pop=pop.name,
                    category=spec.category,
                    reported=r,
                    pstart=start_txt,
                    pend=self.ds(e),
                    measure="total",
                    qualifier="exact",
                    value=value,
                    value_high=math.nan,
                    phrase=qty,
                    quote=quote,
                    citation=f"https://{src.domain}/losses/{self.ds(r)}",
                    language=lang,
                    notes=notes,
                    kind=kind,
                    true_value=true,
                    figure=float(tally[at]),
                    bias=self.bias(src.key, pop.name, e),
                )

    # -- name counts -----------------------------------------------------------------------
    def make_name_counts(self) -> None:
        children = self.ss["names"].spawn(max(len(self.spec.name_counts), 1))
        for spec, ss in zip(self.spec.name_counts, children):
            rng = np.random.default_rng(ss)
            src, pop = self.srcs[spec.source], self.pops[spec.population]
            tr = self.truth[pop.name]
            self.tally_pairs.setdefault((src.key, pop.name), "name_count")
            c0, c1 = rng.uniform(0.55, 0.72), rng.uniform(0.30, 0.45)
            delay = int(rng.integers(14, 36))
            first = max(spec.first_day, tr.start_day + 3 * delay)
            if spec.n_updates:
                days = sorted(
                    set(int(d) for d in rng.choice(np.arange(first, self.n_days), size=spec.n_updates, replace=False))
                )
            else:
                days = list(range(first, self.n_days, spec.every))
            span = max(self.n_days - 1 - first, 1)
            best = 0
            lang = src.language
            start_txt = self.ds(tr.start_day)
            for r in days:
                capture = c0 + (c1 - c0) * (r - first) / span
                names = math.floor(capture * self.total(pop.name, "killed", tr.start_day, r - delay))
                best = max(best, names)
                if best < 1:
                    continue
                qty = _QUAL_WORDS[lang]["at_least"].format(n=_num(best, lang))
                start_d = self.date_of(tr.start_day)
                quote = (
                    f"{_cap(src.speaker_en)} has verified the names of {qty} "
                    f"{pop.noun_en} killed since {_date_text(start_d, 'en')}."
                    if lang == "en"
                    else f"{_cap(src.speaker_fr)} a recensé nommément {qty} {pop.noun_fr} "
                    f"tués depuis le {_date_text(start_d, 'fr')}."
                )
                cid = self.new_id(f"{src.key}-names-{self.ds(r)}-{pop.name}")
                true = self.total(pop.name, "killed", tr.start_day, r)
                self.add(
                    cid=cid,
                    src=src,
                    pop=pop.name,
                    category="killed",
                    reported=r,
                    pstart=start_txt,
                    pend="",
                    measure="total",
                    qualifier="at_least",
                    value=float(best),
                    value_high=math.nan,
                    phrase=qty,
                    quote=quote,
                    citation=f"https://{src.domain}/names/{self.ds(r)}",
                    language=lang,
                    notes=(
                        "Name count of confirmed dead: a lower bound (only names the "
                        "project has verified, published with a delay)."
                    ),
                    kind="name_count",
                    true_value=true,
                    figure=float(best),
                    bias=float(best) / true if true > 0 else math.nan,
                )

    # -- occasional statements -------------------------------------------------------------
    def _window(self, st: _Stream, r: int, start: int, per_day: bool) -> tuple[int, int, str, str, str] | None:
        """(first, last world day, English words, French words, note) of a window."""
        d = self.date_of(r)
        kinds = (
            ["week", "thirty", "month", "since"] if per_day else ["two_days", "day", "week", "month", "since", "thirty"]
        )
        kind = st.pick(kinds, [1, 2, 1, 1] if per_day else [2, 1, 2, 3, 2, 1])
        if kind == "two_days":
            a, b = r - 2, r - 1
            en, fr = "over the past two days", "au cours des deux derniers jours"
        elif kind == "day":
            a, b, en, fr = r - 1, r - 1, "yesterday", "hier"
        elif kind == "week":
            a, b, en, fr = r - 7, r - 1, "over the past week", "au cours de la semaine écoulée"
        elif kind == "thirty":
            a, b, en, fr = r - 30, r - 1, "over the last month", "au cours du dernier mois"
        elif kind == "month":
            if d.day >= 12:
                first = d.replace(day=1)
                a, b = self.day_of(first), r
            else:
                last_prev = d.replace(day=1) - timedelta(days=1)
                a, b = self.day_of(last_prev.replace(day=1)), self.day_of(last_prev)
            en, fr = (f"in {_MONTHS_EN[self.date_of(a).month - 1]}", f"en {_MONTHS_FR[self.date_of(a).month - 1]}")
        else:
            a, b = r - st.integer(10, 100), r
            en = f"since {_date_text(self.date_of(a), 'en', year=False)}"
            fr = f"depuis le {_date_text(self.date_of(a), 'fr', year=False)}"
        if a < start:
            return None  # the window would begin before the population's losses
        if b < a:
            return None
        note = f"'{en}' = {self.ds(a)} to {self.ds(b)}" if a != b else f"'{en}' = {self.ds(a)}"
        return a, b, en, fr, note

    def _quote(
        self,
        st: _Stream,
        src: SourceSpec,
        pop: PopulationSpec,
        lang: str,
        category: str,
        qty: str,
        form: str,
        when_en: str,
        when_fr: str,
    ) -> str:
        verb = _VERB[lang][category]
        q = _np(qty, lang)
        if lang == "en":
            who, noun = src.speaker_en, pop.noun_en
            perfect = when_en.startswith("since")
            if form == "per_day":
                options = (
                    f"{_cap(who)} said {pop.forces_en} were losing {q} soldiers a day, {verb}, {when_en}.",
                    f"On average {q} {noun} a day have been {verb} {when_en}, according to {who}.",
                )
            elif form == "deployed":
                options = (
                    f"{_cap(who)} estimated that {q} {noun} had been deployed.",
                    f"{_cap(q)} {noun} are now deployed, according to {who}.",
                )
            else:
                options = (
                    f"{_cap(who)} said {q} {noun} had been {verb} {when_en}.",
                    f"According to {who}, {q} {noun} {'have been' if perfect else 'were'} {verb} {when_en}.",
                    f"{_cap(q)} {noun} {'have been' if perfect else 'were'} {verb} {when_en}, {who} estimated.",
                )
        else:
            who, noun = src.speaker_fr, pop.noun_fr
            if form == "per_day":
                options = (
                    f"Selon {who}, {pop.forces_fr} perdent en moyenne {q} soldats par jour, {verb}, {when_fr}.",
                    f"{_cap(who)} estime {_que(q)} {noun} sont {verb} chaque jour {when_fr}.",
                )
            elif form == "deployed":
                options = (
                    f"{_cap(who)} estime {_que(q)} {noun} ont été déployés.",
                    f"Selon {who}, {q} {noun} seraient déployés dans la zone.",
                )
            else:
                options = (
                    f"Selon {who}, {q} {noun} ont été {verb} {when_fr}.",
                    f"{_cap(who)} a affirmé {_que(q)} {noun} avaient été {verb} {when_fr}.",
                    f"{_cap(q)} {noun} ont été {verb} {when_fr}, selon {who}.",
                )
        return st.pick(options)

    def _citation(self, st: _Stream, src: SourceSpec, r: int, pop: str) -> str:
        d = self.date_of(r)
        return (
            f"https://{src.domain}/{d.year}/{d.month:02d}/{d.day:02d}/{pop.replace('_', '-')}-{st.integer(1000, 9999)}"
        )

    def _categories(self, stance: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
        return _CATS, {"adversary": (0.4, 0.1, 0.5), "own": (0.7, 0.2, 0.1), "neutral": (0.45, 0.15, 0.4)}[stance]

    def one_occasional(
        self, st: _Stream, src: SourceSpec, pop: PopulationSpec, r: int, form: str, qualifier: str | None, outlier: bool
    ) -> bool:
        tr = self.truth[pop.name]
        stance = self.stance(src, pop)
        lang = src.language
        cats, cw = self._categories(stance)
        category = st.pick(cats, cw)
        start = tr.start_day
        if r < start + 3:
            return False
        pstart, pend, notes = "", "", ""
        if form == "cumulative":
            a, b = start, r
            if st.chance(0.15):  # "as of" the end of the previous month
                last_prev = self.date_of(r).replace(day=1) - timedelta(days=1)
                b = self.day_of(last_prev)
                if b < start + 3:
                    return False
                pend = self.ds(b)
                when_en = f"since the war began, as of {_date_text(last_prev, 'en')}"
                when_fr = f"depuis le début de la guerre (au {_date_text(last_prev, 'fr')})"
                notes = f"Cumulative since the start ({self.ds(start)}), as of {pend}."
            else:
                when_en = st.pick(("since the war began", f"since {_date_text(self.date_of(start), 'en')}"))
                when_fr = st.pick(
                    ("depuis le début de la guerre", f"depuis le {_date_text(self.date_of(start), 'fr')}")
                )
                notes = f"Cumulative since the start ({self.ds(start)})."
            pstart = self.ds(start) if st.chance(0.8) else ""
            if not pstart:
                notes += " No start stated: since the population's start."
            measure, n_days = "total", 1
        else:
            win = self._window(st, r, start, form == "per_day")
            if win is None:
                return False
            a, b, when_en, when_fr, notes = win
            pstart = self.ds(a)
            pend = "" if b == r else self.ds(b)
            measure = "per_day" if form == "per_day" else "total"
            n_days = b - a + 1
            if form == "per_day":
                notes = f"A daily average: {notes}."
            else:
                notes = f"A window: {notes}."
        true = self.total(pop.name, category, a, b)
        if measure == "per_day":
            true /= n_days
        if true <= 0:
            return False
        bias = self.bias(src.key, pop.name, r)
        figure = true * bias * math.exp(src.noise_sd * st.n())
        reason, factor = "", 1.0
        if outlier:
            options = ["typo_extra_zero"] + (["propaganda"] if stance != "neutral" else [])
            if category == "killed":
                cas = self.total(pop.name, "casualties", a, b) / (n_days if measure == "per_day" else 1)
                if cas >= 3 * true:
                    options.append("casualties_as_killed")
            if figure >= 50:
                options.append("typo_dropped_digit")
            reason = st.pick(options)
            if reason == "typo_extra_zero":
                factor = 10.0
            elif reason == "typo_dropped_digit":
                factor = 0.1
            elif reason == "casualties_as_killed":
                factor = cas / true
                if factor > 10:
                    return False
            else:
                factor = st.uniform(3, 8) if stance != "own" else 1 / st.uniform(3, 6)
            figure *= factor
            qualifier = st.pick(("exact", "about"), (0.6, 0.4))
        if qualifier is None:
            style = _STYLES[src.style]
            qualifier = st.pick(tuple(style), tuple(style.values()))
        stated = self.state(st, figure, qualifier, lang, per_day=measure == "per_day")
        if stated is None:
            return False
        qual, value, value_high, qty = stated
        quote = self._quote(
            st, src, pop, lang, category, qty, "per_day" if measure == "per_day" else "total", when_en, when_fr
        )
        cid = self.new_id(f"{src.key}-{self.ds(r)}-{pop.name}-{category}")
        self.add(
            cid=cid,
            src=src,
            pop=pop.name,
            category=category,
            reported=r,
            pstart=pstart,
            pend=pend,
            measure=measure,
            qualifier=qual,
            value=value,
            value_high=value_high,
            phrase=qty,
            quote=quote,
            citation=self._citation(st, src, r, pop.name),
            language=lang,
            notes=notes,
            kind="occasional",
            true_value=true,
            figure=figure,
            bias=bias,
            outlier=reason,
            factor=factor,
        )
        self.rows[-1]["_form"] = form
        return True

    def make_occasional(self) -> None:
        spec = self.spec
        st = _Stream(np.random.default_rng(self.ss["occasional"]))
        n = spec.n_occasional
        if n == 0:
            return
        # reporting clusters in intense periods: weight days by total intensity
        intensity = np.zeros(self.n_days)
        for _name, tr in self.truth.items():
            cas = (tr.killed + tr.wounded).astype(float)
            lo = max(tr.start_day, 0)
            part = cas[lo - tr.start_day :]
            scale = part.mean() if len(part) and part.mean() > 0 else 1.0
            intensity[lo:] += part / scale
        day_w = 0.5 + np.convolve(intensity, np.ones(7) / 7, mode="same") / len(self.truth)
        day_cum = np.cumsum(day_w)
        # quota: features the world promises come first, then free draws
        quota: list[dict[str, Any]] = [{"form": "cumulative", "pop": p.name} for p in spec.populations]
        for feature in ("vague", "more_than", "range", "at_least"):
            if feature in spec.promises:
                quota.append({"qualifier": feature})
        for feature in ("window", "per_day"):
            if feature in spec.promises:
                quota.append({"form": feature})
        outliers = set()
        free = list(range(len(quota), n))
        while len(outliers) < min(spec.n_outliers, len(free)):
            outliers.add(free[st.integer(0, len(free) - 1)])
        srcs = [s for s in spec.sources if s.weight > 0]
        weights = [s.weight for s in srcs]
        forms = ("cumulative", "window", "per_day")
        for i in range(n):
            want = quota[i] if i < len(quota) else {}
            done = False
            for attempt in range(400):
                relax = attempt >= 300
                src = st.pick(srcs, weights)
                names = src.populations or tuple(self.pops)
                if "pop" in want and not relax:
                    if want["pop"] not in names:
                        continue
                    pop = self.pops[want["pop"]]
                else:
                    cands = [self.pops[x] for x in names]
                    pop = st.pick(cands, [c.claim_weight for c in cands])
                lo = max(0, self.truth[pop.name].start_day + 3)
                at = (
                    bisect.bisect_right(day_cum, day_cum[lo - 1] + st.u() * (day_cum[-1] - day_cum[lo - 1]))
                    if lo > 0
                    else bisect.bisect_right(day_cum, st.u() * day_cum[-1])
                )
                r = min(max(at, lo), self.n_days - 1)
                form = want.get("form") if not relax else None
                if form is None:
                    form = st.pick(forms, spec.forms)
                qualifier = want.get("qualifier") if not relax else None
                if self.one_occasional(st, src, pop, r, form, qualifier, i in outliers):
                    if qualifier and self.rows[-1]["qualifier"] != qualifier:
                        # e.g. vague fell back to about: try again
                        self.rows.pop()
                        self.answers.pop()
                        continue
                    done = True
                    break
            if not done:
                raise RuntimeError(f"{spec.name}: could not draw occasional claim {i}")

    # -- deployed --------------------------------------------------------------------------
    def make_deployed(self) -> None:
        spec = self.spec
        st = _Stream(np.random.default_rng(self.ss["deployed"]))
        pops = [p for p in spec.populations if p.strength is not None]
        if not pops or spec.n_deployed == 0:
            return
        srcs = [s for s in spec.sources if s.deploys] or list(spec.sources)
        for i in range(spec.n_deployed):
            pop = pops[i % len(pops)]
            tr = self.truth[pop.name]
            src = st.pick(srcs)
            first = max(0, pop.start_day - 30)
            r = st.integer(first, self.n_days - 1)
            stance = self.stance(src, pop)
            true = float(tr.strength[r - self.g0])
            lean = {
                "adversary": st.uniform(1.0, 1.25),
                "own": st.uniform(0.85, 1.0),
                "neutral": st.uniform(0.92, 1.08),
            }[stance]
            figure = true * lean * math.exp(min(max(0.08 * st.n(), -0.15), 0.15))
            qualifier = "vague" if st.chance(0.15) else "about"
            stated = self.state(st, figure, qualifier, src.language)
            qual, value, value_high, qty = stated
            if qual == "about" and st.chance(0.5):  # "about 11,000": round like people do
                value = _round_sig(figure, 2)
                qty = _QUAL_WORDS[src.language]["about"].format(n=_num(value, src.language))
            quote = self._quote(st, src, pop, src.language, "casualties", qty, "deployed", "", "")
            cid = self.new_id(f"{src.key}-{self.ds(r)}-{pop.name}-deployed")
            self.add(
                cid=cid,
                src=src,
                pop=pop.name,
                category="deployed",
                reported=r,
                pstart="",
                pend="",
                measure="total",
                qualifier=qual,
                value=value,
                value_high=value_high,
                phrase=qty,
                quote=quote,
                citation=self._citation(st, src, r, pop.name),
                language=src.language,
                notes="Force strength, not a loss: bounds cumulative casualties.",
                kind="deployed",
                true_value=true,
                figure=figure,
                bias=lean,
            )

    # -- relays, repeats, stale repeats ---------------------------------------------------
    _OUTLETS = (
        ("Global Wire Service", "en", "www.globalwire.example"),
        ("The Daily Ledger", "en", "www.dailyledger.example"),
        ("Le Quotidien", "fr", "www.lequotidien.example"),
        ("Radio Continentale", "fr", "www.radiocontinentale.example"),
        ("Evening Courier", "en", "www.eveningcourier.example"),
    )

    def make_relays(self) -> None:
        spec = self.spec
        st = _Stream(np.random.default_rng(self.ss["relays"]))
        originals = [i for i, a in enumerate(self.answers) if a["kind"] in ("occasional", "deployed", "name_count")]
        tally_rows = [i for i, a in enumerate(self.answers) if a["kind"].startswith("running_tally")]
        if not originals:
            return
        for _j in range(spec.n_relays):
            pool = tally_rows if (tally_rows and st.chance(0.1)) else originals
            i = pool[st.integer(0, len(pool) - 1)]
            self._copy(st, i, kind="relay")
        cumulative = [
            i
            for i in originals
            if self.answers[i]["kind"] == "occasional" and self.rows[i].get("_form") == "cumulative"
        ]
        for _j in range(spec.n_repeats):
            i = cumulative[st.integer(0, len(cumulative) - 1)]
            self._copy(st, i, kind="repeat")
        for _j in range(spec.n_stale):
            i = cumulative[st.integer(0, len(cumulative) - 1)]
            self._copy(st, i, kind="stale")

    def _copy(self, st: _Stream, i: int, kind: str) -> None:
        row, ans = self.rows[i], self.answers[i]
        src = self.srcs[ans["source_key"]]
        pop = self.pops[row["population"]]
        r0 = self.day_of(date.fromisoformat(row["reported_on"]))
        lag = {"relay": st.integer(0, 5), "repeat": st.integer(7, 45), "stale": st.integer(20, 90)}[kind]
        r = min(r0 + lag, self.n_days - 1)
        pend = row["period_end"] or row["reported_on"]
        qty = row["phrase"]
        lang = row["language"]
        if kind == "relay":
            outlet, lang, domain = st.pick(self._OUTLETS)
            verb = _VERB[lang].get(row["category"], "")
            who = src.speaker_en if lang == "en" else src.speaker_fr
            if row["language"] != lang:  # the outlet translates the quantity
                stated = self._restate(row, lang)
                qty = stated if stated is not None else qty
                if stated is None:
                    lang = row["language"]
                    who = src.speaker_en if lang == "en" else src.speaker_fr
                    verb = _VERB[lang].get(row["category"], "")
            noun = pop.noun_en if lang == "en" else pop.noun_fr
            q = _np(qty, lang)
            if row["category"] == "deployed":
                quote = (
                    f"{_cap(q)} {noun} have been deployed, {outlet} reported, citing {who}."
                    if lang == "en"
                    else f"{_cap(q)} {noun} auraient été déployés, rapporte {outlet}, citant {who}."
                )
            elif row["measure"] == "per_day":
                quote = (
                    f"{_cap(who)} estimates that {q} {noun} a day are being {verb}, {outlet} reported."
                    if lang == "en"
                    else f"{_cap(q)} {noun} seraient {verb} chaque jour, selon {who}, cité par {outlet}."
                )
            else:
                quote = (
                    f"{_cap(q)} {noun} have been {verb}, {outlet} reported, citing {who}."
                    if lang == "en"
                    else f"{_cap(q)} {noun} auraient été {verb}, rapporte {outlet}, citant {who}."
                )
            d = self.date_of(r)
            citation = (
                f"https://{domain}/{d.year}/{d.month:02d}/{d.day:02d}/"
                f"{row['population'].replace('_', '-')}-{st.integer(10000, 99999)}"
            )
            notes = f"Relayed by {outlet} ({row['reported_on']} figure of {src.name})."
            derived, cid_base = row["claim_id"], f"{src.key}-{self.ds(r)}-{pop.name}-relay"
            pend_out = pend if row["category"] != "deployed" else row["period_end"]
        else:
            verb = _VERB[lang].get(row["category"], "")
            noun = pop.noun_en if lang == "en" else pop.noun_fr
            who = src.speaker_en if lang == "en" else src.speaker_fr
            q = _np(qty, lang)
            if kind == "repeat":
                quote = (
                    f"{_cap(who)} said again that {q} {noun} had been {verb}."
                    if lang == "en"
                    else f"{_cap(who)} a répété {_que(q)} {noun} avaient été {verb}."
                )
            else:  # a stale figure stated as if it were current
                quote = (
                    f"{_cap(who)} said {q} {noun} had been {verb} since the war began."
                    if lang == "en"
                    else f"Selon {who}, {q} {noun} ont été {verb} depuis le début de la guerre."
                )
            citation = self._citation(st, src, r, pop.name)
            if kind == "repeat":
                notes = f"Repeats the figure it gave on {row['reported_on']}."
                derived, pend_out = row["claim_id"], pend
            else:
                notes = f"Cumulative since the start ({self.starts_txt(pop)})."
                derived, pend_out = "", ""
            cid_base = f"{src.key}-{self.ds(r)}-{pop.name}-{row['category']}"
        cid = self.new_id(cid_base)
        a = (
            self.day_of(date.fromisoformat(row["period_start"]))
            if row["period_start"]
            else self.truth[pop.name].start_day
        )
        b = self.day_of(date.fromisoformat(pend_out)) if pend_out else r
        if row["category"] == "deployed":
            true = float(self.truth[pop.name].strength[r - self.g0])
        else:
            true = self.total(pop.name, row["category"], a, b)
            if row["measure"] == "per_day":
                true /= b - a + 1
        new = self.add(
            cid=cid,
            src=src,
            pop=pop.name,
            category=row["category"],
            reported=r,
            pstart=row["period_start"],
            pend=pend_out,
            measure=row["measure"],
            qualifier=row["qualifier"],
            value=row["value"],
            value_high=row["value_high"],
            phrase=qty,
            quote=quote,
            citation=citation,
            language=lang,
            derived_from=derived,
            notes=notes,
            kind=kind,
            true_value=true,
            figure=ans["figure"],
            bias=ans["bias"],
            outlier=ans["outlier_reason"],
            factor=ans["outlier_factor"],
            stale=kind == "stale",
            stance=row["stance"],
        )
        new["_form"] = "copy"

    def starts_txt(self, pop: PopulationSpec) -> str:
        return self.ds(self.truth[pop.name].start_day)

    def _restate(self, row: Mapping[str, Any], lang: str) -> str | None:
        """The quantity of ``row`` written in ``lang`` (None for a vague phrase)."""
        q = row["qualifier"]
        if q == "vague":
            return None
        words = _QUAL_WORDS[lang][q]
        return words.format(n=_num(row["value"], lang), h=_num(row["value_high"], lang) if q == "range" else "")

    # -- assembling ------------------------------------------------------------------------
    def ensure_starts(self) -> None:
        """Each population has a claim whose period_start is its start (so a reader infers the
        right start): if none, the earliest cumulative claim states it."""
        for name, tr in self.truth.items():
            start = self.ds(tr.start_day)
            mine = [r for r in self.rows if r["population"] == name and r["category"] != "deployed"]
            if not mine or any(r["period_start"] == start for r in mine):
                continue
            blank = [r for r in mine if r["period_start"] == ""]
            if blank:
                min(blank, key=lambda r: r["reported_on"])["period_start"] = start

    def build(self) -> World:
        self.draw_phases()
        self.draw_truth()
        self.draw_biases()
        self.make_tallies()
        self.make_name_counts()
        self.make_occasional()
        self.make_deployed()
        self.make_relays()
        self.ensure_starts()
        order = sorted(range(len(self.rows)), key=lambda i: (self.rows[i]["reported_on"], self.rows[i]["claim_id"]))
        claims = pd.DataFrame([self.rows[i] for i in order])
        claims = claims[list(CLAIM_COLUMNS)].reset_index(drop=True)
        for col in ("value", "value_high"):
            claims[col] = claims[col].astype(float)
        answers = pd.DataFrame([self.answers[i] for i in order]).reset_index(drop=True)
        truth = self._truth_frame()
        sources = self._sources_frame(claims, answers)
        starts = {name: self.date_of(tr.start_day) for name, tr in self.truth.items()}
        meta = {
            "description": self.spec.description,
            "target": self.spec.target,
            "start_date": self.spec.start_date,
            "end_date": self.ds(self.n_days - 1),
            "n_days": self.n_days,
            "populations": {
                p.name: {
                    "side": p.side,
                    "start": self.ds(self.truth[p.name].start_day),
                    "end": self.ds(p.end_day) if p.end_day is not None else None,
                    "scale": p.scale,
                    "strength": (None if self.truth[p.name].strength is None else int(self.truth[p.name].strength[-1])),
                }
                for p in self.spec.populations
            },
            "outliers": answers.loc[answers["outlier"] & ~answers["relay"], "claim_id"].tolist(),
            "stale": answers.loc[answers["stale"], "claim_id"].tolist(),
            "phases": [
                (self.ds(a + self.g0), self.ds(b + self.g0), ("lull", "steady", "offensive_a", "offensive_b")[k])
                for a, b, k in self.segments
            ],
            "promises": self.spec.promises,
        }
        return World(
            name=self.spec.name,
            seed=self.seed,
            spec=self.spec,
            claims=claims,
            truth=truth,
            sources=sources,
            starts=starts,
            answers=answers,
            meta=meta,
        )

    def _truth_frame(self) -> pd.DataFrame:
        frames = []
        for name, tr in self.truth.items():
            n = len(tr.killed)
            dates = [self.ds(tr.start_day + i) for i in range(n)]
            frames.append(
                pd.DataFrame(
                    {
                        "population": name,
                        "date": dates,
                        "killed": tr.killed,
                        "wounded": tr.wounded,
                        "casualties": tr.killed + tr.wounded,
                        "cum_killed": tr.cum["killed"][1:],
                        "cum_wounded": tr.cum["wounded"][1:],
                        "cum_casualties": tr.cum["casualties"][1:],
                    }
                )
            )
        out = pd.concat(frames, ignore_index=True)
        for col in TRUTH_COLUMNS[2:]:
            out[col] = out[col].astype(np.int64)
        return out

    def _sources_frame(self, claims: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
        joined = pd.concat(
            [claims[["population", "category"]], answers[["source_key", "ratio", "outlier", "stale", "relay"]]], axis=1
        )
        n_claims = joined.groupby(["source_key", "population"]).size()
        use = joined[
            (joined["category"] != "deployed")
            & ~joined["outlier"]
            & ~joined["stale"]
            & ~joined["relay"]
            & (joined["ratio"] > 0)
        ].copy()
        use["log_ratio"] = np.log(use["ratio"])
        by_pair = use.groupby(["source_key", "population"])["log_ratio"].agg(["mean", "size"])
        rows = []
        for s in self.spec.sources:
            for p in self.spec.populations:
                pair = (s.key, p.name)
                if pair not in n_claims.index:
                    continue
                if pair in by_pair.index:
                    mean_bias = float(math.exp(by_pair.loc[pair, "mean"]))
                    n_use = int(by_pair.loc[pair, "size"])
                else:
                    mean_bias, n_use = math.nan, 0
                kind = self.tally_pairs.get(pair, "occasional")
                lb = self.log_bias[pair]
                names = kind == "name_count"  # its bias is the capture of names, not lb
                rows.append(
                    {
                        "source": s.name,
                        "source_group": s.group,
                        "population": p.name,
                        "stance": self.stance(s, self.pops[p.name]),
                        "mean_bias": mean_bias,
                        "noise_sd": 0.0 if names else s.noise_sd,
                        "drift_sd": 0.0 if names else s.drift_sd,
                        "trend_per_year": 0.0 if names else self.trend[s.key],
                        "kind": kind,
                        "n_claims": int(n_claims.loc[pair]),
                        "n_bias_claims": n_use,
                        "base_bias": math.nan if names else math.exp(self.base[pair]),
                        "bias_start": math.nan if names else math.exp(lb[max(0, -self.g0)]),
                        "bias_end": math.nan if names else math.exp(lb[-1]),
                        "source_key": s.key,
                    }
                )
        return pd.DataFrame(rows)


# ======================================================================================
# Catalogue of sources and populations (a fictional war: Arvenia, side a, English; Borea,
# side b, French; a Cendrian militia fighting with Borea; a Dravian contingent with Arvenia)
# ======================================================================================


def _pop(name: str, **kw: Any) -> PopulationSpec:
    base = {
        "army_a": dict(
            side="a",
            noun_en="Arvenian soldiers",
            noun_fr="soldats arvéniens",
            forces_en="Arvenian forces",
            forces_fr="les forces arvéniennes",
        ),
        "army_b": dict(
            side="b",
            noun_en="Borean soldiers",
            noun_fr="soldats boréens",
            forces_en="Borean forces",
            forces_fr="les forces boréennes",
        ),
        "militia_c": dict(
            side="b",
            noun_en="Cendrian militia fighters",
            noun_fr="miliciens cendriens",
            forces_en="Cendrian militias",
            forces_fr="les milices cendriennes",
        ),
        "contingent_d": dict(
            side="a",
            noun_en="Dravian soldiers",
            noun_fr="soldats draviens",
            forces_en="Dravian troops",
            forces_fr="les troupes draviennes",
        ),
    }[name]
    return PopulationSpec(name=name, **{**base, **kw})


_CATALOGUE: dict[str, SourceSpec] = {
    s.key: s
    for s in (
        # side a: Arvenia (belligerent, English)
        SourceSpec(
            "amod",
            "Arvenian Ministry of Defence",
            "arvenia_government",
            "a",
            "belligerent",
            "en",
            "mod.arvenia.example",
            "the Arvenian Ministry of Defence",
            "le ministère arvénien de la Défense",
            noise_sd=0.02,
            drift_sd=0.04,
            style="precise",
        ),
        SourceSpec(
            "ags",
            "Arvenian General Staff",
            "arvenia_government",
            "a",
            "belligerent",
            "en",
            "staff.arvenia.example",
            "the Arvenian General Staff",
            "l'état-major arvénien",
            noise_sd=0.05,
            drift_sd=0.03,
            style="official_own",
        ),
        SourceSpec(
            "apres",
            "President of Arvenia",
            "arvenia_government",
            "a",
            "belligerent",
            "en",
            "president.arvenia.example",
            "the Arvenian president",
            "le président arvénien",
            noise_sd=0.15,
            drift_sd=0.05,
            style="rounded",
        ),
        SourceSpec(
            "aintel",
            "Arvenian military intelligence (AMI)",
            "arvenia_government",
            "a",
            "belligerent",
            "en",
            "ami.arvenia.example",
            "Arvenian military intelligence",
            "le renseignement militaire arvénien",
            noise_sd=0.1,
            drift_sd=0.05,
            style="bounds",
        ),
        SourceSpec(
            "atv",
            "Arvenian state television (ATV)",
            "arvenia_media",
            "a",
            "belligerent",
            "en",
            "atv.arvenia.example",
            "Arvenian state television",
            "la télévision d'État arvénienne",
            noise_sd=0.3,
            drift_sd=0.08,
            style="vague",
        ),
        # side b: Borea (belligerent, French)
        SourceSpec(
            "bmod",
            "Borean Ministry of Defence",
            "borea_government",
            "b",
            "belligerent",
            "fr",
            "defense.boree.example",
            "the Borean Ministry of Defence",
            "le ministère boréen de la Défense",
            noise_sd=0.02,
            drift_sd=0.04,
            style="precise",
        ),
        SourceSpec(
            "bgs",
            "Borean General Staff",
            "borea_government",
            "b",
            "belligerent",
            "fr",
            "etatmajor.boree.example",
            "the Borean General Staff",
            "l'état-major boréen",
            noise_sd=0.04,
            drift_sd=0.03,
            style="official_own",
        ),
        SourceSpec(
            "bpres",
            "President of Borea",
            "borea_government",
            "b",
            "belligerent",
            "fr",
            "presidence.boree.example",
            "the Borean president",
            "le président boréen",
            noise_sd=0.12,
            drift_sd=0.05,
            style="rounded",
        ),
        SourceSpec(
            "bintel",
            "Borean intelligence service (SRB)",
            "borea_government",
            "b",
            "belligerent",
            "fr",
            "srb.boree.example",
            "Borean intelligence",
            "le service de renseignement boréen (SRB)",
            noise_sd=0.15,
            drift_sd=0.05,
            style="bounds",
        ),
        SourceSpec(
            "ccmd",
            "Cendrian militia command",
            "cendria_militia",
            "b",
            "belligerent",
            "fr",
            "milice.cendrie.example",
            "the Cendrian militia command",
            "le commandement des milices cendriennes",
            noise_sd=0.08,
            drift_sd=0.04,
            style="official_own",
        ),
        SourceSpec(
            "dgov",
            "Dravian government",
            "dravia_government",
            "a",
            "ally",
            "en",
            "gov.dravia.example",
            "the Dravian government",
            "le gouvernement dravien",
            noise_sd=0.1,
            drift_sd=0.02,
            style="rounded",
            deploys=True,
        ),
        # allies of Borea
        SourceSpec(
            "usdod",
            "US Department of Defense",
            "us_government",
            "b",
            "ally",
            "en",
            "www.defense.example.gov",
            "the US Department of Defense",
            "le département américain de la Défense",
            noise_sd=0.08,
            drift_sd=0.04,
            style="rounded",
            deploys=True,
        ),
        SourceSpec(
            "usintel",
            "US intelligence officials",
            "us_government",
            "b",
            "ally",
            "en",
            "www.dni.example.gov",
            "US intelligence officials",
            "les services de renseignement américains",
            noise_sd=0.15,
            drift_sd=0.04,
            style="rounded",
            deploys=True,
        ),
        SourceSpec(
            "usnsc",
            "White House National Security Council",
            "us_government",
            "b",
            "ally",
            "en",
            "www.whitehouse.example.gov",
            "the White House National Security Council",
            "le Conseil de sécurité nationale de la Maison-Blanche",
            noise_sd=0.1,
            drift_sd=0.03,
            style="rounded",
        ),
        SourceSpec(
            "usanon",
            "US senior defense official (anonymous)",
            "us_government",
            "b",
            "ally",
            "en",
            "www.globalwire.example",
            "a senior US defense official",
            "un haut responsable américain de la défense",
            noise_sd=0.3,
            drift_sd=0.05,
            style="vague",
        ),
        SourceSpec(
            "ukmod",
            "UK Ministry of Defence",
            "uk_government",
            "b",
            "ally",
            "en",
            "www.mod.example.uk",
            "the UK Ministry of Defence",
            "le ministère britannique de la Défense",
            noise_sd=0.06,
            drift_sd=0.03,
            style="rounded",
            deploys=True,
        ),
        SourceSpec(
            "ukdi",
            "UK Defence Intelligence",
            "uk_government",
            "b",
            "ally",
            "en",
            "www.di.example.uk",
            "UK Defence Intelligence",
            "le renseignement militaire britannique",
            noise_sd=0.08,
            drift_sd=0.03,
            style="bounds",
        ),
        SourceSpec(
            "frdrm",
            "French military intelligence (DRM)",
            "france_government",
            "b",
            "ally",
            "fr",
            "www.drm.example.fr",
            "French military intelligence",
            "la Direction du renseignement militaire (DRM)",
            noise_sd=0.12,
            drift_sd=0.04,
            style="vague",
        ),
        SourceSpec(
            "debnd",
            "German Federal Intelligence Service (BND)",
            "germany_government",
            "b",
            "ally",
            "en",
            "www.bnd.example.de",
            "Germany's BND",
            "le service de renseignement allemand (BND)",
            noise_sd=0.1,
            drift_sd=0.03,
            style="rounded",
        ),
        SourceSpec(
            "eefis",
            "Estonian Foreign Intelligence Service",
            "estonia_government",
            "b",
            "ally",
            "en",
            "www.vla.example.ee",
            "Estonia's foreign intelligence service",
            "le renseignement extérieur estonien",
            noise_sd=0.12,
            drift_sd=0.04,
            style="rounded",
        ),
        SourceSpec(
            "krnis",
            "South Korea National Intelligence Service (NIS)",
            "south_korea_government",
            "b",
            "ally",
            "fr",
            "www.nis.example.kr",
            "South Korea's NIS",
            "le service national de renseignement sud-coréen (NIS)",
            noise_sd=0.1,
            drift_sd=0.03,
            style="bounds",
            deploys=True,
        ),
        # neutral: think tanks, monitors, name counts, press
        SourceSpec(
            "isc",
            "Institute for the Study of Conflict (ISC)",
            "think_tanks",
            None,
            "neutral",
            "en",
            "www.studyofconflict.example.org",
            "the Institute for the Study of Conflict",
            "l'Institut pour l'étude des conflits (ISC)",
            noise_sd=0.1,
            drift_sd=0.05,
            style="rounded",
        ),
        SourceSpec(
            "csa",
            "Centre for Strategic Assessments (CSA)",
            "think_tanks",
            None,
            "neutral",
            "en",
            "www.csa.example.org",
            "the Centre for Strategic Assessments",
            "le Centre d'évaluations stratégiques (CSA)",
            noise_sd=0.15,
            drift_sd=0.05,
            style="rounded",
        ),
        SourceSpec(
            "idsi",
            "International Defence Studies Institute (IDSI)",
            "think_tanks",
            None,
            "neutral",
            "en",
            "www.idsi.example.org",
            "the IDSI",
            "l'IDSI",
            noise_sd=0.12,
            drift_sd=0.04,
            style="rounded",
        ),
        SourceSpec(
            "ied",
            "Institut d'études de défense (IED)",
            "think_tanks",
            None,
            "neutral",
            "fr",
            "www.ied.example.fr",
            "the Institut d'études de défense",
            "l'Institut d'études de défense (IED)",
            noise_sd=0.2,
            drift_sd=0.05,
            style="vague",
        ),
        SourceSpec(
            "unmm",
            "UN Monitoring Mission (UNMM)",
            "monitors",
            None,
            "neutral",
            "en",
            "www.unmm.example.org",
            "the UN monitoring mission",
            "la mission de surveillance de l'ONU",
            noise_sd=0.05,
            drift_sd=0.02,
            style="bounds",
        ),
        SourceSpec(
            "ccm",
            "Conflict Casualty Monitor (CCM)",
            "monitors",
            None,
            "neutral",
            "en",
            "www.casualtymonitor.example.org",
            "the Conflict Casualty Monitor",
            "l'Observatoire des victimes de conflits (CCM)",
            noise_sd=0.08,
            drift_sd=0.03,
            style="rounded",
        ),
        SourceSpec(
            "onp",
            "Open Names Project",
            "monitors",
            None,
            "neutral",
            "en",
            "www.opennames.example.org",
            "the Open Names Project",
            "l'Open Names Project",
            noise_sd=0.1,
            drift_sd=0.03,
            style="bounds",
            weight=0.0,
        ),
        SourceSpec(
            "pm",
            "Projet Mémoire",
            "monitors",
            None,
            "neutral",
            "fr",
            "www.projetmemoire.example.org",
            "Projet Mémoire",
            "le Projet Mémoire",
            noise_sd=0.1,
            drift_sd=0.03,
            style="bounds",
            weight=0.0,
        ),
        SourceSpec(
            "ledger",
            "The Daily Ledger",
            "press",
            None,
            "neutral",
            "en",
            "www.dailyledger.example",
            "The Daily Ledger",
            "The Daily Ledger",
            noise_sd=0.25,
            drift_sd=0.06,
            style="rounded",
        ),
        SourceSpec(
            "gws",
            "Global Wire Service",
            "press",
            None,
            "neutral",
            "en",
            "www.globalwire.example",
            "Global Wire Service",
            "l'agence Global Wire Service",
            noise_sd=0.3,
            drift_sd=0.06,
            style="vague",
        ),
        SourceSpec(
            "lq",
            "Le Quotidien",
            "press",
            None,
            "neutral",
            "fr",
            "www.lequotidien.example",
            "Le Quotidien",
            "Le Quotidien",
            noise_sd=0.35,
            drift_sd=0.06,
            style="vague",
        ),
        SourceSpec(
            "wan",
            "The Weekly Analyst (casualty model)",
            "press",
            None,
            "neutral",
            "en",
            "www.weeklyanalyst.example",
            "The Weekly Analyst's casualty model",
            "le modèle de pertes de The Weekly Analyst",
            noise_sd=0.12,
            drift_sd=0.04,
            style="rounded",
        ),
    )
}


def _src(key: str, **kw: Any) -> SourceSpec:
    return replace(_CATALOGUE[key], **kw)


def _build_worlds() -> dict[str, WorldSpec]:
    worlds: list[WorldSpec] = []

    # 1. sparse-20 ---------------------------------------------------------------------
    worlds.append(
        WorldSpec(
            name="sparse-20",
            description=(
                "One militia over ~300 days seen by 6 sources, almost only through bounds, "
                "vague phrases and rounded figures; one deployed strength, two relays, one "
                "wild outlier."
            ),
            target=20,
            start_date="2023-04-10",
            n_days=300,
            populations=(_pop("militia_c", start_day=0, scale=45, strength=15000),),
            sources=(
                _src("ags", style="bounds", weight=1.2, deploys=True),
                _src("ccmd", style="official_own", weight=0.8),
                _src("unmm", weight=1.0),
                _src("ccm", style="bounds", weight=0.8),
                _src("gws", weight=1.0),
                _src("ied", weight=0.8),
            ),
            n_occasional=17,
            n_deployed=1,
            n_relays=2,
            n_outliers=1,
            forms=(0.55, 0.35, 0.10),
            promises=("vague", "more_than", "at_least", "relay", "outlier", "window"),
        )
    )

    # 2. kursk-like-60 --------------------------------------------------------------------
    worlds.append(
        WorldSpec(
            name="kursk-like-60",
            description=(
                "A foreign contingent joins a long war for ~5 months: two armies at war "
                "for 2.5 years before the window, ~60 claims mostly on the contingent "
                "(windows, strengths, relays), like the shipped Kursk data."
            ),
            target=60,
            start_date="2024-09-01",
            n_days=250,
            populations=(
                _pop("army_a", start_day=-900, scale=700, claim_weight=0.6),
                _pop("army_b", start_day=-900, scale=300, claim_weight=0.4),
                _pop("contingent_d", start_day=70, end_day=220, scale=35, strength=11000, claim_weight=3.0),
            ),
            sources=(
                _src("bintel", weight=1.5),
                _src("bgs", weight=0.8, style="rounded"),
                _src("bpres", weight=0.6),
                _src("usdod", weight=1.0),
                _src("usanon", weight=0.8),
                _src("usintel", weight=0.7),
                _src("ukmod", weight=0.8),
                _src("krnis", weight=1.0),
                _src("dgov", weight=0.3, populations=("contingent_d",)),
                _src("ags", weight=0.5),
                _src("ledger", weight=0.5),
                _src("lq", weight=0.6),
            ),
            n_occasional=38,
            n_deployed=8,
            n_relays=10,
            n_repeats=3,
            n_outliers=2,
            forms=(0.45, 0.4, 0.15),
            promises=("window", "per_day", "relay", "repeat", "deployed", "vague", "more_than", "outlier"),
        )
    )

    # 3. meta-124 -------------------------------------------------------------------------
    meta_sources = (
        _src("amod", weight=0.6, style="rounded", trend=0.2, trend_sign=1),
        _src("ags", weight=0.5),
        _src("apres", weight=0.5, trend=0.15),
        _src("aintel", weight=0.4),
        _src("bmod", weight=0.6, style="rounded", trend=0.2, trend_sign=1),
        _src("bgs", weight=0.5),
        _src("bpres", weight=0.5, trend=0.15),
        _src("bintel", weight=0.4),
        _src("usdod", weight=1.0, trend=0.2),
        _src("usintel", weight=1.0, trend=0.25),
        _src("usnsc", weight=0.5),
        _src("ukmod", weight=1.0, trend=0.15),
        _src("ukdi", weight=0.8),
        _src("frdrm", weight=0.5),
        _src("debnd", weight=0.5),
        _src("eefis", weight=0.5),
        _src("isc", weight=3.0, trend=0.25, populations=("army_a", "army_b")),
        _src("csa", weight=0.8, trend=0.15),
        _src("idsi", weight=0.8),
        _src("ied", weight=0.5),
        _src("unmm", weight=0.6, populations=("army_b", "militia_c")),
        _src("ccm", weight=0.6),
        _src("ledger", weight=0.6),
        _src("wan", weight=2.5, trend=0.2, populations=("army_a",)),
        _src("lq", weight=0.4),
        _src("onp"),
    )
    worlds.append(
        WorldSpec(
            name="meta-124",
            description=(
                "~124 estimates over four years of two armies and a militia from ~25 "
                "sources (governments, a dozen intelligence services, think tanks, media "
                "models, an irregular name count): occasional, irregular, drifting."
            ),
            target=124,
            start_date="2020-02-01",
            n_days=1460,
            populations=(
                _pop("army_a", start_day=0, scale=600),
                _pop("army_b", start_day=0, scale=450),
                _pop("militia_c", start_day=200, scale=40, claim_weight=0.5),
            ),
            sources=meta_sources,
            name_counts=(NameCountSpec("onp", "army_a", first_day=120, n_updates=12),),
            n_occasional=96,
            n_relays=11,
            n_repeats=3,
            n_stale=2,
            n_outliers=3,
            forms=(0.7, 0.2, 0.1),
            promises=(
                "window",
                "per_day",
                "relay",
                "repeat",
                "vague",
                "more_than",
                "range",
                "name_count",
                "outlier",
                "drift",
            ),
        )
    )

    # 4. ministry-500 ---------------------------------------------------------------------
    worlds.append(
        WorldSpec(
            name="ministry-500",
            description=(
                "One side's ministry publishes a daily cumulative count of the other "
                "side's losses for a year; the other side gives a few dozen figures; a "
                "dozen intelligence services, think tanks and monitors (two monthly name "
                "counts) and the press give occasional figures. 3 populations, "
                "7 source groups."
            ),
            target=500,
            start_date="2022-06-01",
            n_days=400,
            populations=(
                _pop("army_a", start_day=0, scale=700),
                _pop("army_b", start_day=0, scale=500),
                _pop("militia_c", start_day=45, scale=45, strength=20000, claim_weight=0.6),
            ),
            sources=(
                _src("amod", noise_sd=0.25, trend=0.45, trend_sign=1, drift_sd=0.05, weight=0.15, style="precise"),
                _src("ags", weight=0.25, deploys=True),
                _src("bmod", weight=0.9, style="precise", noise_sd=0.03),
                _src("bgs", weight=0.9),
                _src("bpres", weight=0.6),
                _src("usdod", weight=0.5, trend=0.2),
                _src("usintel", weight=0.5),
                _src("ukmod", weight=0.5),
                _src("ukdi", weight=0.4),
                _src("isc", weight=0.5, trend=0.15),
                _src("csa", weight=0.4),
                _src("idsi", weight=0.3),
                _src("unmm", weight=0.4),
                _src("ccm", weight=0.3),
                _src("onp"),
                _src("pm"),
                _src("ledger", weight=0.3),
                _src("gws", weight=0.3),
            ),
            tallies=(TallySpec("amod", "army_b", "casualties", every=1, first_day=35, lag=1),),
            name_counts=(
                NameCountSpec("onp", "army_a", first_day=60, every=30),
                NameCountSpec("pm", "army_b", first_day=75, every=30),
            ),
            n_occasional=80,
            n_deployed=4,
            n_relays=22,
            n_repeats=3,
            n_outliers=4,
            forms=(0.6, 0.28, 0.12),
            promises=(
                "daily_tally",
                "window",
                "per_day",
                "relay",
                "vague",
                "more_than",
                "range",
                "name_count",
                "outlier",
                "drift",
                "deployed",
            ),
        )
    )

    # 5. two-tallies-495 -------------------------------------------------------------------
    worlds.append(
        WorldSpec(
            name="two-tallies-495",
            description=(
                "Two armies over ~500 days: one ministry's daily count of the adversary's "
                "losses (from day 180), the other army's weekly count of its own killed, "
                "both drifting, plus occasional figures from 9 other sources."
            ),
            target=495,
            start_date="2023-02-20",
            n_days=500,
            populations=(_pop("army_a", start_day=-30, scale=500), _pop("army_b", start_day=-30, scale=800)),
            sources=(
                _src("bmod", noise_sd=0.2, trend=0.35, trend_sign=1, drift_sd=0.05, weight=0.2),
                _src("ags", noise_sd=0.03, trend=0.25, trend_sign=-1, drift_sd=0.04, weight=0.4),
                _src("apres", weight=0.6),
                _src("bgs", weight=0.6, style="rounded"),
                _src("bpres", weight=0.6),
                _src("usdod", weight=0.8),
                _src("ukdi", weight=0.7),
                _src("isc", weight=0.8, trend=0.15),
                _src("ccm", weight=0.6),
                _src("ledger", weight=0.5),
                _src("lq", weight=0.5),
            ),
            tallies=(
                TallySpec("bmod", "army_a", "casualties", every=1, first_day=180, lag=1),
                TallySpec("ags", "army_a", "killed", every=7, first_day=3, lag=0, noise_sd=0.05),
            ),
            n_occasional=80,
            n_relays=18,
            n_repeats=4,
            n_outliers=3,
            promises=(
                "daily_tally",
                "weekly_tally",
                "window",
                "per_day",
                "relay",
                "vague",
                "more_than",
                "range",
                "outlier",
                "drift",
            ),
        )
    )

    # 6. long-2000 --------------------------------------------------------------------------
    long_sources = (
        _src("amod", noise_sd=0.15, trend=0.3, trend_sign=1, weight=0.3),
        _src("ags", weight=0.5, noise_sd=0.03, trend=0.15, trend_sign=-1),
        _src("apres", weight=0.5),
        _src("aintel", weight=0.4),
        _src("atv", weight=0.4),
        _src("bmod", noise_sd=0.2, trend=0.35, trend_sign=1, weight=0.3),
        _src("bgs", weight=0.6, noise_sd=0.02),
        _src("bpres", weight=0.5),
        _src("bintel", weight=0.5),
        _src("dgov", weight=0.3, populations=("contingent_d",)),
        _src("usdod", weight=0.8, trend=0.2),
        _src("usintel", weight=0.8),
        _src("usanon", weight=0.5),
        _src("ukmod", weight=0.8),
        _src("ukdi", weight=0.6),
        _src("frdrm", weight=0.4),
        _src("krnis", weight=0.4),
        _src("isc", weight=0.8, trend=0.15),
        _src("csa", weight=0.6),
        _src("idsi", weight=0.5),
        _src("unmm", weight=0.5),
        _src("ccm", weight=0.5),
        _src("onp"),
        _src("ledger", weight=0.5),
        _src("gws", weight=0.5),
        _src("lq", weight=0.5),
        _src("wan", weight=0.6, trend=0.2),
    )
    worlds.append(
        WorldSpec(
            name="long-2000",
            description=(
                "~1,000 days, two armies and a foreign contingent for a year, 27 sources: "
                "two daily tallies of the adversary, a weekly own-losses tally, a "
                "fortnightly name count, and every kind of occasional statement."
            ),
            target=2000,
            start_date="2021-01-15",
            n_days=1000,
            populations=(
                _pop("army_a", start_day=0, scale=900),
                _pop("army_b", start_day=0, scale=600),
                _pop("contingent_d", start_day=420, end_day=800, scale=40, strength=14000, claim_weight=0.5),
            ),
            sources=long_sources,
            tallies=(
                TallySpec("bmod", "army_a", "casualties", every=1, first_day=20, lag=1),
                TallySpec("amod", "army_b", "killed", every=1, first_day=400, lag=0),
                TallySpec("bgs", "army_b", "killed", every=7, first_day=30, lag=1, noise_sd=0.04),
            ),
            name_counts=(NameCountSpec("onp", "army_a", first_day=200, every=14),),
            n_occasional=170,
            n_deployed=8,
            n_relays=40,
            n_repeats=5,
            n_stale=3,
            n_outliers=6,
            promises=(
                "daily_tally",
                "weekly_tally",
                "window",
                "per_day",
                "relay",
                "repeat",
                "vague",
                "more_than",
                "range",
                "name_count",
                "outlier",
                "drift",
                "deployed",
            ),
        )
    )

    # 7. huge-10000 -------------------------------------------------------------------------
    huge_sources = (
        _src("amod", noise_sd=0.15, trend=0.3, trend_sign=1, weight=0.3),
        _src("ags", weight=0.5, noise_sd=0.03, trend=0.15, trend_sign=-1),
        _src("apres", weight=0.5),
        _src("aintel", weight=0.5),
        _src("atv", weight=0.5),
        _src("bmod", noise_sd=0.2, trend=0.35, trend_sign=1, weight=0.3),
        _src("bgs", weight=0.6, noise_sd=0.02, trend=0.1, trend_sign=-1),
        _src("bpres", weight=0.5),
        _src("bintel", weight=0.5),
        _src("ccmd", weight=0.4, noise_sd=0.1, populations=("militia_c", "army_a")),
        _src("dgov", weight=0.3, populations=("contingent_d",)),
        _src("usdod", weight=0.8, trend=0.2),
        _src("usintel", weight=0.8),
        _src("usnsc", weight=0.4),
        _src("usanon", weight=0.5),
        _src("ukmod", weight=0.8),
        _src("ukdi", weight=0.6),
        _src("frdrm", weight=0.4),
        _src("debnd", weight=0.4),
        _src("eefis", weight=0.4),
        _src("krnis", weight=0.4),
        _src("isc", weight=0.8, trend=0.15),
        _src("csa", weight=0.6),
        _src("idsi", weight=0.5),
        _src("ied", weight=0.4),
        _src("unmm", weight=0.5),
        _src("ccm", weight=0.5),
        _src("onp"),
        _src("pm"),
        _src("ledger", weight=0.5),
        _src("gws", weight=0.5),
        _src("lq", weight=0.5),
        _src("wan", weight=0.6, trend=0.2),
    )
    worlds.append(
        WorldSpec(
            name="huge-10000",
            description=(
                "~1,500 days, four populations (two armies, a militia, a foreign "
                "contingent), 33 sources: four daily tallies, three own-losses tallies, "
                "two weekly name counts and thousands of occasional statements and relays."
            ),
            target=10000,
            start_date="2019-05-01",
            n_days=1500,
            populations=(
                _pop("army_a", start_day=0, scale=1000),
                _pop("army_b", start_day=0, scale=700),
                _pop("militia_c", start_day=150, scale=80),
                _pop("contingent_d", start_day=700, end_day=1200, scale=50, strength=20000, claim_weight=0.6),
            ),
            sources=huge_sources,
            tallies=(
                TallySpec("bmod", "army_a", "casualties", every=1, first_day=10, lag=1),
                TallySpec("bmod", "contingent_d", "casualties", every=1, first_day=720, lag=1),
                TallySpec("amod", "army_b", "casualties", every=1, first_day=20, lag=1),
                TallySpec("amod", "militia_c", "killed", every=1, first_day=300, lag=0),
                TallySpec("ags", "army_a", "killed", every=7, first_day=7, lag=1, noise_sd=0.05),
                TallySpec("bgs", "army_b", "killed", every=7, first_day=14, lag=1, noise_sd=0.04),
                TallySpec("ccmd", "militia_c", "killed", every=14, first_day=160, lag=1, noise_sd=0.1),
            ),
            name_counts=(
                NameCountSpec("onp", "army_a", first_day=100, every=7),
                NameCountSpec("pm", "army_b", first_day=120, every=7),
            ),
            n_occasional=3000,
            n_deployed=30,
            n_relays=900,
            n_repeats=120,
            n_stale=40,
            n_outliers=60,
            promises=(
                "daily_tally",
                "weekly_tally",
                "window",
                "per_day",
                "relay",
                "repeat",
                "vague",
                "more_than",
                "range",
                "name_count",
                "outlier",
                "drift",
                "deployed",
            ),
        )
    )
    return {w.name: w for w in worlds}


#: Named worlds: name -> settings.
WORLDS: Mapping[str, WorldSpec] = _build_worlds()


# ======================================================================================
# Public functions
# ======================================================================================


def make_world(name: str, seed: int = 0) -> World:
    """Simulate the named world (a key of :data:`WORLDS`, or a :class:`WorldSpec`) with
    ``seed``; the same name and seed always give the same world."""
    spec = name if isinstance(name, WorldSpec) else WORLDS.get(name)
    if spec is None:
        raise KeyError(f"unknown world {name!r}; known: {', '.join(WORLDS)}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    return _Builder(spec, int(seed)).build()


def _frame_text(frame: pd.DataFrame, numbers: Sequence[str] = ()) -> str:
    """CSV text of ``frame``: "\n" line ends, minimal quoting, ``numbers`` columns written
    as plain numbers (integers without ".0", blanks for NaN)."""
    out = frame.copy()
    for column in numbers:
        out[column] = [_cell_number(v) for v in out[column].tolist()]
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def claims_csv_text(world: World) -> str:
    """The claims of ``world`` as claims-file CSV text."""
    return _frame_text(world.claims[list(CLAIM_COLUMNS)], ("value", "value_high"))


def truth_csv_text(world: World) -> str:
    """The daily truth of ``world`` as CSV text."""
    return _frame_text(world.truth[list(TRUTH_COLUMNS)])


def _write_atomic(path: str | os.PathLike[str], text: str) -> None:
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_world(world: World, claims_path: str | os.PathLike[str], truth_path: str | os.PathLike[str]) -> None:
    """Write the claims (claims-file format) and the daily truth as UTF-8 CSV files, each
    atomically (a temporary file in the same directory, then ``os.replace``)."""
    _write_atomic(claims_path, claims_csv_text(world))
    _write_atomic(truth_path, truth_csv_text(world))
