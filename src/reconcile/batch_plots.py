"""Figures of the many-fit analyses: rank histograms and coverage (calibration), and the headline
estimates across refits (leave-one-source-out, sensitivity). Functions over tables; each returns
a matplotlib figure and never calls ``plt.show()``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

_DPI = 110
_BINS = 10


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=_DPI, bbox_inches="tight", facecolor="white")
    return path


def plot_rank_histograms(ranks: pd.DataFrame, family: str | None = None) -> Figure:
    """One rank histogram per quantity (Talts et al. 2018): flat if the model is calibrated. The
    grey band holds 99% of the bin counts that uniform ranks would give."""
    from scipy import stats

    frame = ranks if family is None else ranks[ranks["family"] == family]
    quantities = list(dict.fromkeys(frame["quantity"]))
    ncol = min(4, max(1, len(quantities)))
    nrow = max(1, math.ceil(len(quantities) / ncol))
    fig = Figure(figsize=(3.0 * ncol, 2.3 * nrow), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False)).ravel()
    for ax, q in zip(axes, quantities):
        g = frame[frame["quantity"] == q]
        top = int(g["n_rank_draws"].iloc[0]) + 1
        counts, edges = np.histogram(g["rank"], bins=_BINS, range=(0, top))
        lo, hi = stats.binom.ppf([0.005, 0.995], len(g), 1 / _BINS)
        ax.axhspan(lo, hi, color="0.85", zorder=0)
        ax.axhline(len(g) / _BINS, color="0.5", lw=0.8, zorder=1)
        ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="#3b6ea8", edgecolor="white", zorder=2)
        ax.set_title(f"{q} (n={len(g)})", fontsize=9)
        ax.set_xlim(0, top)
        ax.tick_params(labelsize=7)
    for ax in axes[len(quantities) :]:
        ax.set_visible(False)
    fig.suptitle(f"Rank histograms{'' if family is None else f': {family}'}", fontsize=11)
    return fig


def plot_coverage(coverage: pd.DataFrame) -> Figure:
    """Coverage of the central 50% and 90% intervals per quantity, with +-2 binomial s.e."""
    per = coverage[~coverage["quantity"].str.startswith("all ")]
    quantities = list(dict.fromkeys(per["quantity"]))
    fig = Figure(figsize=(7.5, 0.28 * len(quantities) + 1.4), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(quantities))
    for nominal, color, shift in ((0.5, "#d08c2a", -0.15), (0.9, "#3b6ea8", 0.15)):
        rows = per[per["nominal"] == nominal].set_index("quantity").loc[quantities]
        ax.errorbar(
            rows["coverage"],
            y + shift,
            xerr=2 * rows["se"],
            fmt="o",
            ms=4,
            color=color,
            label=f"{nominal:.0%} interval",
        )
        ax.axvline(nominal, color=color, lw=0.8, ls="--")
    ax.set_yticks(y, quantities, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("share of simulations whose interval holds the truth")
    ax.legend(loc="lower left", fontsize=8)
    return fig


def save_calibration_plots(ranks: pd.DataFrame, coverage: pd.DataFrame, out_dir) -> list[Path]:
    out = Path(out_dir)
    paths = []
    for family in dict.fromkeys(ranks["family"]):
        paths.append(_save(plot_rank_histograms(ranks, family), out / f"ranks_{family}.png"))
    paths.append(_save(plot_coverage(coverage), out / "coverage.png"))
    return paths


def plot_refits(
    table: pd.DataFrame, *, by: str, title: str, category: str = "casualties", name: Callable[[str], str] = str
) -> Figure:
    """Final cumulative ``category`` per population under each refit (median and 90% interval),
    against the reference fit (grey band). ``name`` gives a population's display name
    (e.g. ``Config.population_label``)."""
    frame = table[table["category"] == category]
    pops = list(dict.fromkeys(frame["population"]))
    fig = Figure(figsize=(7.5, 1.0 + 0.32 * frame[by].nunique() * max(1, len(pops))), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(pops) or 1, 1, squeeze=False)).ravel()
    for ax, pop in zip(axes, pops):
        g = frame[frame["population"] == pop].reset_index(drop=True)
        ref = g[g["reference"]]
        if len(ref):
            ax.axvspan(ref["q05"].iloc[0], ref["q95"].iloc[0], color="0.88", zorder=0)
            ax.axvline(ref["q50"].iloc[0], color="0.45", lw=1, zorder=1)
        y = np.arange(len(g))
        ok = g["converged"].fillna(False).astype(bool).to_numpy()
        ax.errorbar(g["q50"], y, xerr=[g["q50"] - g["q05"], g["q95"] - g["q50"]], fmt="none", ecolor="#3b6ea8", lw=1.2)
        if ok.any():
            ax.plot(g["q50"][ok], y[ok], "o", color="#3b6ea8", ms=5, label="converged")
        if (~ok).any():
            ax.plot(g["q50"][~ok], y[~ok], "o", mfc="white", mec="#b30000", ms=5, label="not converged")
        ax.set_yticks(y, [str(v) for v in g[by]], fontsize=8)
        ax.invert_yaxis()
        ends = g[["q05", "q95"]].to_numpy(dtype=float)
        ends = ends[np.isfinite(ends)]
        if len(ends) and ends.min() > 0 and ends.max() / ends.min() > 10:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}" if v >= 1 else f"{v:.2g}"))
        ax.set_title(f"{name(pop)}: cumulative {category} by {g['date'].iloc[0]}", fontsize=10)
        ax.legend(loc="best", fontsize=7)
    fig.suptitle(title, fontsize=11)
    return fig


def save_refit_plot(table: pd.DataFrame, path, *, by: str, title: str, name: Callable[[str], str] = str) -> Path:
    return _save(plot_refits(table, by=by, title=title, name=name), Path(path))


def plot_vintages(table: pd.DataFrame, category: str = "casualties", name: Callable[[str], str] = str) -> Figure:
    """The history of an estimate (backtests): per population, the cumulative losses at each
    vintage's day as that vintage saw them (median, 50% and 90% intervals: the nowcast of the day)
    and, dashed, the same days as the last vintage sees them with every claim (hindsight). The gap
    between the two is how much the number for a day moved as claims arrived."""
    rows = table[(table["category"] == category) & table["q50"].notna()]
    pops = list(dict.fromkeys(rows["population"]))
    fig = Figure(figsize=(9.0, 0.6 + 2.8 * max(1, len(pops))), layout="constrained")
    axes = np.atleast_1d(fig.subplots(max(1, len(pops)), 1, squeeze=False)).ravel()
    last = rows["vintage"].max() if len(rows) else None
    for ax, pop in zip(axes, pops):
        mine = rows[rows["population"] == pop]
        now = mine[mine["at_vintage"].astype(bool)].sort_values("date")
        x = pd.to_datetime(now["date"])
        ax.fill_between(
            x, now["q05"], now["q95"], color="#4D4D4D", alpha=0.15, lw=0, label="90% interval, as of the day"
        )
        ax.fill_between(
            x, now["q25"], now["q75"], color="#4D4D4D", alpha=0.25, lw=0, label="50% interval, as of the day"
        )
        ax.plot(x, now["q50"], color="#1A1A1A", lw=1.5, marker="o", ms=3, label="median, as of the day")
        late = mine[mine["vintage"] == last].sort_values("date")
        ax.plot(
            pd.to_datetime(late["date"]),
            late["q50"],
            color="#0072B2",
            lw=1.3,
            ls="--",
            label=f"median with every claim (vintage {last})",
        )
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_title(f"{name(pop)}: cumulative {category}, estimated as of each vintage", loc="left", fontsize=10)
        ax.set_ylabel(f"cumulative {category}")
        ax.grid(True, color="#E5E5E5", lw=0.6)
        ax.legend(fontsize=7.5, loc="upper left", frameon=False)
    if not pops:
        axes[0].text(0.5, 0.5, "no vintage could be fitted", transform=axes[0].transAxes, ha="center")
    return fig


def save_vintage_plot(table: pd.DataFrame, path: Path, name: Callable[[str], str] = str) -> Path:
    fig = plot_vintages(table, name=name)
    try:
        return _save(fig, Path(path))
    finally:
        fig.clear()


def plot_forecast_check(check: pd.DataFrame) -> Figure:
    """How well the vintages predicted the claims that came after them (backtests): left, the
    histogram of the later figures' percentiles in the vintages' predictive distributions (flat
    if the predictions are calibrated; the grey band holds 99% of the bin counts uniform
    percentiles would give); right, the share of later figures inside the 50% and 90% predictive
    intervals by horizon, with +-2 binomial standard errors, against the nominal levels; where
    some figures are running counts' (``running_count``), the other sources' figures alone too
    (hollow markers): a tally's many figures would otherwise hide how the rest fare."""
    from scipy import stats

    from .forecast import HORIZONS, PREDICTED, running_count_marks

    done = check[check["status"] == PREDICTED]
    fig = Figure(figsize=(9.0, 3.2), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=(1.1, 1.0))
    counts, edges = np.histogram(done["pit"].astype(float), bins=_BINS, range=(0.0, 1.0))
    if len(done):
        lo, hi = stats.binom.ppf([0.005, 0.995], len(done), 1 / _BINS)
        left.axhspan(lo, hi, color="0.85", zorder=0, label="99% of bins if calibrated")
        left.axhline(len(done) / _BINS, color="0.5", lw=0.8, zorder=1)
    left.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="#3b6ea8", edgecolor="white", zorder=2)
    left.set_xlim(0, 1)
    left.set_xlabel("percentile of the later figure in the vintage's prediction")
    left.set_ylabel("later claims (all vintages)")
    left.set_title(f"Percentiles of {len(done):,} predicted figures", fontsize=10)
    left.legend(loc="upper center", fontsize=7)
    labels = [label for *_, label in HORIZONS]
    x = np.arange(len(labels))
    counted = running_count_marks(done)
    groups = [("", done, None)]
    if counted.eq(True).any():
        groups = [
            (", every figure", done, None),
            (", other sources than running counts", done[~counted.eq(True)], "white"),
        ]
    shifts = np.split(np.array([-0.1, 0.1]) if len(groups) == 1 else np.linspace(-0.21, 0.21, 4), 2)
    for (nominal, column, color), offsets in zip(((0.5, "in_50", "#d08c2a"), (0.9, "in_90", "#3b6ea8")), shifts):
        for (suffix, rows, face), shift in zip(groups, offsets):
            share, err = _shares_by_horizon(rows, column, labels)
            label = f"{nominal:.0%} interval{suffix}"
            right.errorbar(x + shift, share, yerr=err, fmt="o", ms=5, color=color, mfc=face, label=label)
        right.axhline(nominal, color=color, lw=0.8, ls="--")
    n = [int((done["horizon"] == label).sum()) for label in labels]
    right.set_xticks(x, [f"{label}\n(n={k:,})" for label, k in zip(labels, n)], fontsize=8)
    right.set_xlim(-0.5, len(labels) - 0.5)
    right.set_ylim(0, 1.02)
    right.set_xlabel("reported after the vintage")
    right.set_ylabel("share inside the predictive interval")
    right.set_title("Coverage of later claims by horizon", fontsize=10)
    right.legend(loc="lower left", fontsize=7)
    return fig


def _shares_by_horizon(rows: pd.DataFrame, column: str, labels: list[str]) -> tuple[list[float], list[float]]:
    """The share of ``rows`` whose ``column`` is true at each horizon, and +-2 binomial standard errors."""
    share, err = [], []
    for label in labels:
        g = rows[rows["horizon"] == label][column].astype(bool)
        p = float(g.mean()) if len(g) else np.nan
        share.append(p)
        err.append(2 * np.sqrt(p * (1 - p) / len(g)) if len(g) else np.nan)
    return share, err


def save_forecast_plot(check: pd.DataFrame, path: Path) -> Path:
    fig = plot_forecast_check(check)
    try:
        return _save(fig, Path(path))
    finally:
        fig.clear()
