"""The time grid: each population's steps, their widths following the claims, and the slow
curves laid on it (the Ornstein-Uhlenbeck walk's coefficients, the killed share's knots)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import Config


@dataclass(frozen=True)
class Grid:
    """The time grid: for each population, steps of varying width from its start (flat layout).

    Step ``k`` of the flat layout belongs to population ``pop[k]``, starts ``step_start[k]`` days
    after the population's start and lasts ``width[k]`` days; each population's steps are
    contiguous, starting at ``offset[p]``, and tile its ``n_days`` exactly. ``unit`` is the finest
    width (``time.step_days``): estimates are reported every ``unit`` days.
    """

    populations: tuple[str, ...]
    starts: dict[str, dt.date]
    n_days: np.ndarray  # per population: days covered (start .. end, inclusive)
    n_steps: np.ndarray  # per population
    offset: np.ndarray  # per population: first flat step
    step_start: np.ndarray  # flat: day position of each step's first day
    width: np.ndarray  # flat: days in each step
    unit: int = 7

    @property
    def pop(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.populations)), self.n_steps)

    @property
    def step_of(self) -> np.ndarray:
        """Width in days of each flat step."""
        return self.width

    @property
    def step_end(self) -> np.ndarray:
        return self.step_start + self.width

    @property
    def centre(self) -> np.ndarray:
        return self.step_start + self.width / 2.0

    def overlap(self, pop: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Days of each window [start, end) (day positions) that fall in each flat step:
        (window, step). A window's total is then ``overlap @ daily_rate``, exactly."""
        pop, start, end = (np.asarray(v) for v in (pop, start, end))
        mine = self.pop[None, :] == pop[:, None]
        lo = np.maximum(self.step_start[None, :], start[:, None])
        hi = np.minimum(self.step_end[None, :], end[:, None])
        return np.where(mine, np.clip(hi - lo, 0, None), 0).astype(float)

    def positions(self, pop: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where day position ``day`` (days since the population's start; a window's exclusive end)
        falls on the flat grid: the flat step holding it and the days of that step *after* it.

        Cumulative casualties up to ``day`` are then ``S[k] - rest * rate[k]``, with ``S`` the
        running sum of ``rate * width`` over the flat steps (minus the same at the population's
        start): what ``overlap() @ rate`` computes, with O(log steps) work per day instead of a
        (day, step) matrix."""
        pop, day = np.asarray(pop, dtype=np.int64), np.asarray(day, dtype=np.int64)
        span = int(self.n_days.max()) + 2
        key = self.pop.astype(np.int64) * span + self.step_end  # sorted: by population, then day
        flat = np.searchsorted(key, pop * span + day, side="left")  # first step ending at or after day
        flat = np.clip(flat, self.offset[pop], self.offset[pop] + self.n_steps[pop] - 1)
        rest = self.step_end[flat] - day
        return flat.astype(np.int64), rest.astype(float)

    def estimate_points(self) -> pd.DataFrame:
        """The dates estimates are reported for: every ``unit`` days from the start, and the last day."""
        rows = []
        for j, p in enumerate(self.populations):
            days = list(range(1, int(self.n_days[j]), int(self.unit))) + [int(self.n_days[j])]
            rows += [(p, j, d, self.starts[p] + dt.timedelta(days=d - 1)) for d in days]
        return pd.DataFrame(rows, columns=["population", "pop", "day", "date"])


def step_boundaries(n_days: int, ends: np.ndarray, unit: int, max_width: int, per_step: int) -> np.ndarray:
    """Start positions of a population's steps: resolution that follows the claims.

    Days are taken ``unit`` at a time from the start; a step closes once it holds ``per_step``
    claim boundaries (a day on which some claim's period begins or ends), or when one more unit
    would make it wider than ``max_width``. Where claims are dense (a daily running tally), steps
    are ``unit`` days wide; where they are sparse, ``max_width``. A final stub shorter than
    ``unit`` joins the step before it. O(days)."""
    n_days = int(n_days)
    counts = np.bincount(np.clip(np.asarray(ends, dtype=np.int64), 0, n_days), minlength=n_days + 1)
    # a boundary at position b (0 < b < n_days) separates day b-1 from day b
    inside = counts.copy()
    inside[0] = 0
    inside[n_days:] = 0
    starts, width, held = [0], 0, 0
    for first in range(0, n_days, unit):
        last = min(first + unit, n_days)
        width += last - first
        held += int(inside[first + 1 : last + 1].sum())
        if last < n_days and (held >= per_step or width + min(unit, n_days - last) > max_width):
            starts.append(last)
            width, held = 0, 0
    if len(starts) > 1 and n_days - starts[-1] < unit:
        starts.pop()
    return np.array(starts, dtype=np.int64)


def ou_coefficients(g: Grid, correlation_days: float) -> tuple[np.ndarray, np.ndarray]:
    """The AR(1) form of each population's Ornstein-Uhlenbeck log rate on the grid: ``x_k =
    phi_k x_(k-1) + rate_sd * scale_k * z_k`` with ``z ~ N(0, 1)``, per flat step.

    ``phi_k = exp(-(t_k - t_(k-1)) / tau)`` between step centres (0 at a population's first step)
    and ``scale_k = sqrt(1 - phi_k^2)``, so the process is stationary with standard deviation
    ``rate_sd`` at every step, whatever the widths of the steps."""
    tau = float(correlation_days)
    centre = g.centre
    first = np.zeros(len(centre), dtype=bool)
    first[g.offset] = True
    gap = np.where(first, np.inf, centre - np.roll(centre, 1))
    phi = np.where(first, 0.0, np.exp(-gap / tau))
    return phi, np.sqrt(1.0 - phi**2)


def ou_scan_coefficients(phi: np.ndarray, n_levels: int) -> np.ndarray:
    """(level, step) coefficients of a parallel prefix scan of the recurrence ``x_k = phi_k
    x_(k-1) + b_k``: at level l (lag d = 2^l), ``x_k += A[l, k] * x_(k-d)``, with ``A[l, k]`` the
    product of the d coefficients ending at k (0 where the lag leaves the population, since
    ``phi`` is 0 at each population's first step). log2(steps) vector operations instead of a
    sequential loop or a dense (step, step) matrix."""
    out = np.zeros((n_levels, len(phi)))
    a = np.asarray(phi, dtype=float).copy()
    for level in range(n_levels):
        d = 2**level
        current = np.zeros_like(a)
        current[d:] = a[d:]
        out[level] = current
        nxt = np.zeros_like(a)
        nxt[2 * d :] = a[2 * d :] * a[d:-d] if 2 * d < len(a) else 0.0
        a = nxt
    return out


def _share_knot_days(g: Grid, config: Config) -> list[np.ndarray]:
    """Each population's knots of the killed share's curve: evenly spaced over its span, about
    ``time.share_knot_days`` apart (at least two)."""
    every = float(config["time"]["share_knot_days"])
    return [np.linspace(0.0, float(n), int(max(2, np.ceil(n / every) + 1))) for n in g.n_days]


def share_knot_labels(g: Grid, config: Config) -> list[str]:
    return [
        f"{p} {(g.starts[p] + dt.timedelta(days=int(round(day)))).isoformat()}"
        for p, days in zip(g.populations, _share_knot_days(g, config))
        for day in days
    ]


def share_knots(g: Grid, config: Config) -> dict[str, np.ndarray]:
    """The killed share's curve: a stationary Ornstein-Uhlenbeck process of unit variance (scaled by
    ``share_sd`` in the graph) over each population's knots (``share_ou``: knot innovations -> knot
    values, block diagonal; ``share_knot_pop``: each knot's population), read at each step's centre
    by linear interpolation between its two knots (``share_knot_0/1``, ``share_weight_0/1``)."""
    tau = float(config["time"]["correlation_days"])
    days = _share_knot_days(g, config)
    sizes = [len(k) for k in days]
    offset = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    total = int(sum(sizes))
    ou = np.zeros((total, total))
    knot0 = np.zeros(len(g.width), dtype=np.int64)
    weight1 = np.zeros(len(g.width))
    centre = g.centre
    for j, (knots, first) in enumerate(zip(days, offset)):
        n = len(knots)
        phi = np.exp(-np.diff(knots) / tau)
        block = np.zeros((n, n))
        block[0, 0] = 1.0
        for k in range(1, n):
            block[k] = phi[k - 1] * block[k - 1]
            block[k, k] = np.sqrt(1.0 - phi[k - 1] ** 2)
        ou[first : first + n, first : first + n] = block
        steps = slice(int(g.offset[j]), int(g.offset[j] + g.n_steps[j]))
        left = np.clip(np.searchsorted(knots, centre[steps], side="right") - 1, 0, n - 2)
        weight1[steps] = np.clip((centre[steps] - knots[left]) / (knots[left + 1] - knots[left]), 0.0, 1.0)
        knot0[steps] = first + left
    return {
        "share_ou": ou,
        "share_knot_pop": np.repeat(np.arange(len(sizes)), sizes).astype(np.int64),
        "share_knot_0": knot0,
        "share_knot_1": knot0 + 1,
        "share_weight_0": 1.0 - weight1,
        "share_weight_1": weight1,
    }


def ou_matrix(g: Grid, correlation_days: float) -> np.ndarray:
    """(step, step) matrix turning standard-normal innovations into each population's log-rate
    deviation, per unit of ``rate_sd`` (dense; for tests and the linearisations)."""
    phi, scale = ou_coefficients(g, correlation_days)
    size = len(phi)
    out = np.zeros((size, size))
    for first, n in zip(g.offset, g.n_steps):
        for k in range(int(first), int(first + n)):
            if k > first:
                out[k] = phi[k] * out[k - 1]
            out[k, k] = scale[k]
    return out


def last_day_covered(rows: pd.DataFrame) -> dt.date:
    """The last day any of ``rows``' claims (at least one) covers (``period_end``) or was
    reported on: how far the claims alone carry the estimates."""
    days = pd.concat([pd.to_datetime(rows["period_end"]), pd.to_datetime(rows["reported_on"])]).dropna()
    return days.max().date()


def build_grid(
    frame: pd.DataFrame, modelled: list[str], starts: dict[str, dt.date], config: Config, loss_mask: np.ndarray
) -> Grid:
    """Each population's steps, from its start to the last day any of its claims covers or was
    reported on (or ``time.end``), with widths that follow its loss claims (``step_boundaries``)."""
    t = config["time"]
    n_days, step_start, width = [], [], []
    for p in modelled:
        rows = frame[frame["population"] == p]
        end = last_day_covered(rows)
        if config.end is not None:
            end = max(end, config.end)
        days = (end - starts[p]).days + 1
        mine = loss_mask & (frame["population"] == p).to_numpy()
        ends = np.concatenate([frame.loc[mine, "day_start"].to_numpy(), frame.loc[mine, "day_end"].to_numpy()])
        first = step_boundaries(days, ends, int(t["step_days"]), int(t["max_step_days"]), int(t["boundaries_per_step"]))
        n_days.append(days)
        step_start.append(first)
        width.append(np.diff(np.append(first, days)))
    n_steps = np.array([len(s) for s in step_start], dtype=np.int64)
    offset = np.concatenate([[0], np.cumsum(n_steps)[:-1]]).astype(np.int64)
    return Grid(
        tuple(modelled),
        starts,
        np.array(n_days, dtype=np.int64),
        n_steps,
        offset,
        np.concatenate(step_start).astype(np.int64),
        np.concatenate(width).astype(np.int64),
        int(t["step_days"]),
    )


def knot_position(days: np.ndarray, when: float) -> tuple[int, float]:
    """Where day ``when`` falls between a series' knots ``days`` (ascending, at least two): the
    knot ``k`` before it and the weight ``w`` of knot ``k + 1`` for linear interpolation, both
    clamped to the series' span."""
    k = int(np.clip(np.searchsorted(days, when, side="right") - 1, 0, len(days) - 2))
    return k, float(np.clip((when - days[k]) / (days[k + 1] - days[k]), 0.0, 1.0))


def claim_coverage(g: Grid, pop: np.ndarray, day_start: np.ndarray, day_end: np.ndarray) -> np.ndarray:
    """(population, step) weights, each row summing to 1: the average, over a population's loss
    claims (each its population ``pop``, its window [``day_start``, ``day_end``) in days since the
    population's start), of the share of each claim's window that falls in each step. The level is the mean
    daily rate under these weights (the walk is normalised to average 1 under them), so it is the
    rate of the days the claims speak about: a population known by one figure, whether cumulative
    or over a late window, then pins its level through that figure without the walk's help.

    O(claims + days): each window adds 1/length to its days (a difference array per population),
    then the days are summed per step. A population with no loss claim weighs its span evenly."""
    n_pop = len(g.populations)
    longest = int(g.n_days.max())
    daily = np.zeros((n_pop, longest + 1))
    pop = np.asarray(pop)
    start = np.clip(day_start, 0, g.n_days[pop])
    end = np.clip(day_end, 0, g.n_days[pop])
    length = end - start
    seen = length > 0
    np.add.at(daily, (pop[seen], start[seen]), 1.0 / length[seen])
    np.add.at(daily, (pop[seen], end[seen]), -1.0 / length[seen])
    daily = np.cumsum(daily[:, :-1], axis=1)
    weight = np.zeros((n_pop, int(g.n_steps.sum())))
    for j, (first, n, n_days) in enumerate(zip(g.offset, g.n_steps, g.n_days)):
        days = daily[j, :n_days].clip(0.0)
        if days.sum() <= 0:
            days = np.ones(n_days)
        weight[j, first : first + n] = np.add.reduceat(days, g.step_start[first : first + n])
    return weight / weight.sum(axis=1, keepdims=True)
