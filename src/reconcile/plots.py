"""Figures of a fit: functions over a :class:`reconcile.fitting.Fit`, each returning a matplotlib Figure.

Every function accepts ``ax=`` (or ``axes=`` for multi-panel figures) to draw into existing axes,
and otherwise builds its own :class:`matplotlib.figure.Figure` without touching pyplot's global
state: nothing is shown, nothing leaks, and the Agg backend is enough.

Conventions shared by all figures:

* each source has its own colour and marker, stable across figures and ordered by how many of
  its claims the fit uses: the first seven take the Okabe-Ito palette (colour-blind safe) with a
  dot, the next five five darker colours from Paul Tol's schemes with a square (a colour-blind
  reader tells them from the first seven by the shape), and beyond twelve the twelve colours
  repeat with a new marker shape per round; legends are per panel and list only what the panel
  draws;
* a stated figure is drawn as what it says: a point (``exact``, ``about``) as a dot, a lower
  bound (``at_least``, ``more_than``) as an arrow pointing up from the value, an upper bound
  (``at_most``, ``fewer_than``) as an arrow pointing down, a range as a bar from low to high, a
  vague phrase as a dashed bar over its lexicon interval;
* every count axis is logarithmic (in every panel of every figure, whatever the range of its
  values), with thousands separators: populations and categories that differ by orders of
  magnitude share one reading, equal distances being equal ratios;
* each figure a function builds itself carries a short caption at its bottom (:data:`CAPTIONS`,
  which the HTML report also uses) saying what its bands and marks are and the axis convention.
"""

from __future__ import annotations

import contextlib
import os
import textwrap
import time
from pathlib import Path
from typing import Iterator, Sequence

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.patches import Patch
from matplotlib.path import Path as MPath
from matplotlib.text import Text
from matplotlib.textpath import text_to_path
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

from . import _signals, summary
from ._fork import cpus, finished, fork, release
from ._fork import fork_is_safe as _fork_is_safe
from ._fork import kill_and_reap as _kill_and_reap
from ._fork import quiet_child as _quiet_child
from ._signals import checkpoint
from .model import CATEGORIES, ROLE_BOUND, ROLE_LOSS, ROLE_RELAY, STANCE_ORDER, hyperpriors, stance_priors
from .priors import stance_bias_factor

__all__ = [
    "CAPTIONS",
    "OKABE_ITO",
    "plot_cumulative",
    "plot_sources",
    "plot_claims_check",
    "plot_daily_rate",
    "plot_priors",
    "save_plots",
    "started_plots",
    "PendingPlots",
]

#: Okabe & Ito (2008) colour-blind-safe palette, ordered for contrast on white
#: (the pale yellow last, and not used for sources).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
#: Five darker colours from Paul Tol's "muted" scheme (indigo, wine, olive, green) and a brown,
#: distinct from the Okabe-Ito seven for normal vision; sources that get them also get a square,
#: so a colour-blind reader can tell them from the first seven by shape.
_EXTRA_COLOURS = ("#332288", "#882255", "#999933", "#117733", "#8C510A")
#: The pale yellow is left out: it is unreadable as thin lines and arrows on white.
_FIRST_COLOURS = OKABE_ITO[:7]
_SOURCE_COLOURS = _FIRST_COLOURS + _EXTRA_COLOURS
_MARKERS = ("o", "s", "D", "P", "X", "h", "p")
_STANCE_COLOURS = {"adversary": "#D55E00", "own": "#0072B2", "neutral": "#009E73", "unknown": "#6E6E6E"}
_CATEGORY_STYLE = {  # (band colour, median line style): sources own the colours, categories are greys
    "casualties": ("#4D4D4D", "-"),
    "wounded": ("#8A8A8A", "--"),
    "killed": ("#B5B5B5", ":"),
}
_FLAG_COLOUR = "#D55E00"
_OK_COLOUR = "#0072B2"
_LOWER = ("at_least", "more_than")
_UPPER = ("at_most", "fewer_than")
# PNG files at a print resolution (a 9-inch figure is 1,800 pixels wide: 300 dpi printed 6 inches
# wide), beside a vector SVG of each figure for print and editing
_DPI = 200

#: the most claims :func:`plot_claims_check` draws (three columns of 70 rows); in a larger war, the
#: surprising claims and then the least consistent others (every claim is in ``claims_check.csv``)
CLAIMS_CHECK_ROWS = 210


_LOG_REASON = (
    "so that populations and categories that differ by orders of magnitude share one reading: "
    "equal distances are equal ratios"
)
#: What each figure shows, in words: the caption at the bottom of the figure (when a plotting
#: function builds its own figure) and the report's caption and alt text, from this one place.
#: Keys are the stems of the files :func:`save_plots` writes.
CAPTIONS: dict[str, str] = {
    "cumulative": (
        "Cumulative losses of each population since its start. Lines: posterior medians (solid: casualties, "
        "i.e. killed + wounded; dashed: wounded; dotted: killed); dark and light grey bands: their 50% and 90% "
        "intervals. Marks: the claims, each in its source's colour and marker (the legend beside each panel "
        "lists the sources drawn in it): a dot is a stated figure, an arrow a lower or upper bound, a bar a "
        "range, a dashed bar a vague phrase, a dashed line with the source's marker a stated force strength "
        "(which bounds casualties). Below a population, its window and daily claims (not cumulative), one row each: the "
        "stated figure against the model's 90% interval (grey bar) and median (black tick) for that same "
        "window, a daily average for a daily claim. Hatched: days past the last claim (extrapolated). "
        f"Counts on a log scale, {_LOG_REASON}."
    ),
    "daily_rate": (
        "Daily casualties (killed + wounded) of each population. Black step line: posterior median of the "
        "daily average between successive estimate dates; grey band: its 90% interval. A mark with a "
        "horizontal bar: a daily average stated by a source over the days the bar spans, in the source's "
        "colour and marker (legend beside the panel). Hatched: days past the last claim (extrapolated). "
        f"Counts on a log scale, {_LOG_REASON}."
    ),
    "sources": (
        "Each source's bias factor, the figure it reports divided by the true figure: dot, posterior median; "
        "bar, 90% interval; grouped and coloured by stance. Right of the dashed line (×1) a source inflates, "
        "left of it it understates. Factors on a log scale, so that a source that doubles and one that halves "
        "lie at equal distances from ×1."
    ),
    "claims_check": (
        "Each counted loss claim (one row: source, category, report date) against the figure its source would "
        "be expected to state given the fit: grey bar, the 90% posterior predictive interval; black tick, its "
        "median. The stated figure: a dot (exact, about), an arrow (a bound), a bar (a range; dashed: a vague "
        "phrase); blue when consistent, orange and listed first when surprising (outside the central 90%). "
        f"Figures on a log scale, {_LOG_REASON}. A war of more than {CLAIMS_CHECK_ROWS} counted claims shows "
        f"{CLAIMS_CHECK_ROWS}: the surprising ones, then those furthest from the middle of their predictive "
        "distribution (every claim is in claims_check.csv)."
    ),
    "priors": (
        "Each key hyperparameter of the model: the prior density from the configuration (blue line) against "
        "the posterior draws (orange histogram). A posterior narrower than its prior, or moved away from it, "
        "was learnt from the claims; one that repeats its prior was not. Parameter values on linear axes "
        "(no count axis here); densities are not to scale across panels."
    ),
}
_CAPTION_SIZE = 7.5
_CAPTION_GID = "figure-caption"


# ------------------------------------------------------------------------------------------------
# Small shared pieces
# ------------------------------------------------------------------------------------------------


def _arrow_marker(direction: str) -> MarkerStyle:
    """An arrow starting at the data point (with a small base tick), pointing ``direction``."""
    verts = [(0, 0), (0, 1), (-0.32, 0.66), (0, 1), (0.32, 0.66), (-0.4, 0), (0.4, 0)]
    codes = [MPath.MOVETO, MPath.LINETO, MPath.MOVETO, MPath.LINETO, MPath.LINETO, MPath.MOVETO, MPath.LINETO]
    rotate = {
        "up": lambda x, y: (x, y),
        "down": lambda x, y: (x, -y),
        "right": lambda x, y: (y, x),
        "left": lambda x, y: (-y, x),
    }
    return MarkerStyle(MPath([rotate[direction](x, y) for x, y in verts], codes))


_ARROWS = {d: _arrow_marker(d) for d in ("up", "down", "right", "left")}


def _count(v: float, _pos=None) -> str:
    """A count with thousands separators (small and fractional values kept readable)."""
    if not np.isfinite(v):
        return ""
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def _set_count_axis(axis, values) -> None:
    """A count axis: logarithmic whatever the range of ``values`` (one convention in every panel of
    every figure), ticks at 1, 2, 5 × 10^k (1, 1.5, 2, 3, 5, 7 × 10^k over less than a decade, only
    the powers of ten over more than three), and thousands separators."""
    values = np.asarray([v for v in np.ravel(values) if np.isfinite(v) and v > 0], dtype=float)
    axis.axes.set_xscale("log") if axis.axis_name == "x" else axis.axes.set_yscale("log")
    span = values.max() / values.min() if values.size else 10
    subs = (1.0,) if span > 1e3 else (1.0, 2.0, 5.0) if span > 10 else (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_minor_locator(LogLocator(base=10, subs=np.arange(2, 10) * 1.0))
    axis.set_minor_formatter(NullFormatter())
    axis.set_major_formatter(FuncFormatter(_count))


def _wrap(text: str, width_pt: float, fontsize: float) -> list[str]:
    """``text`` broken into lines no wider than ``width_pt`` points at ``fontsize`` (measured with
    the font matplotlib draws in, so the lines fit whatever the backend)."""
    prop = FontProperties(size=fontsize)

    def width(s: str) -> float:
        return text_to_path.get_text_width_height_descent(s.replace("$", "S"), prop, ismath=False)[0]

    lines: list[str] = []
    for word in text.split():
        if lines and width(lines[-1] + " " + word) <= width_pt:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _caption_lines(key: str, width_in: float, extra: str = "") -> list[str]:
    return _wrap(CAPTIONS[key] + extra, width_in * 72, _CAPTION_SIZE)


def _caption_height(lines: list[str]) -> float:
    """Height in inches of a caption of ``lines``."""
    return len(lines) * _CAPTION_SIZE * 1.25 / 72 + 0.04


def _place_caption(fig: Figure, lines: list[str], left_in: float, bottom_in: float = 0.08) -> Text:
    """The caption at the bottom of ``fig`` (a figure text, marked with the gid ``figure-caption``)."""
    w, h = fig.get_size_inches()
    return fig.text(
        left_in / w,
        bottom_in / h,
        "\n".join(lines).replace("$", r"\$"),
        ha="left",
        va="bottom",
        fontsize=_CAPTION_SIZE,
        color="#333333",
        linespacing=1.25,
        gid=_CAPTION_GID,
    )


def _caption_below_subplots(fig: Figure, key: str, *, axis_room: float = 0.55, extra: str = "") -> Text:
    """Caption a figure laid out by subplot parameters (no layout engine): the figure grows at
    the bottom by the caption's height, keeping the axes' size, with ``axis_room`` inches left
    for the tick labels and axis label of the bottom axes."""
    w, h0 = fig.get_size_inches()
    pars = fig.subplotpars
    left_in = pars.left * w
    lines = _caption_lines(key, w - left_in - 0.15, extra)
    bottom_in = axis_room + _caption_height(lines) + 0.1
    top_room, body = (1 - pars.top) * h0, (pars.top - pars.bottom) * h0
    h = top_room + body + bottom_in
    fig.set_size_inches(w, h)
    fig.subplots_adjust(bottom=bottom_in / h, top=1 - top_room / h)
    return _place_caption(fig, lines, left_in)


def _date_axis(ax) -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _short(text: str, limit: int = 38) -> str:
    """Claims text for a label: truncated, with "$" escaped so matplotlib never reads it as maths."""
    text = str(text)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _plain(text: str) -> str:
    """A name for a label, whole, with "$" escaped so matplotlib never reads it as maths."""
    return str(text).replace("$", r"\$")


class _SteadyConstrainedLayout(ConstrainedLayoutEngine):
    """matplotlib's constrained layout with every Axes' position rounded to 1e-9 of the figure.
    The solver's last bits vary from run to run (it sums in an order that follows memory
    addresses), and with them, now and then, the sixth decimal of a coordinate in the SVG: rounded,
    the same fit gives the same file."""

    def execute(self, fig):
        info = super().execute(fig)
        # (what the layout itself calls: the public set_position would also take the Axes out of
        # the next layout)
        for ax in fig.axes:
            ax._set_position([round(float(v), 9) for v in ax.get_position(original=True).bounds], which="both")
        return info


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height))
    fig.set_facecolor("white")
    return fig


def _figure_of(ax) -> Figure:
    try:
        return ax.get_figure(root=True)
    except TypeError:  # matplotlib < 3.10
        return ax.figure


def _name(result, population: str) -> str:
    """A population's display name (its configured label, else its code)."""
    return result.config.population_label(population)


def _source_marker(k: int) -> str:
    """The marker of the ``k``-th source: a dot for the seven Okabe-Ito colours, a square for the
    five extra colours, then one new shape per round of twelve colours (so every pair of colour
    and marker is used once, up to 12 x 6 sources)."""
    if k < len(_FIRST_COLOURS):
        return _MARKERS[0]
    if k < len(_SOURCE_COLOURS):
        return _MARKERS[1]
    return _MARKERS[2 + ((k - len(_SOURCE_COLOURS)) // len(_SOURCE_COLOURS)) % (len(_MARKERS) - 2)]


def _source_styles(result) -> dict[str, dict]:
    """Colour, marker and legend label of every source of the claims (stable across figures)."""
    frame = result.inputs.claims
    drawn = frame["role"].isin([ROLE_LOSS, ROLE_BOUND])
    # sources of the claims the fit uses come first, the most prolific first
    key = {
        s: (-int((drawn & (frame["source"] == s)).sum()), -int((frame["counted"] & (frame["source"] == s)).sum()), s)
        for s in frame["source"].unique()
    }
    order = sorted(key, key=key.get)
    styles = {}
    for k, source in enumerate(order):
        styles[source] = {
            "color": _SOURCE_COLOURS[k % len(_SOURCE_COLOURS)],
            "marker": _source_marker(k),
            "label": _plain(result.config.source_label(source)),  # whole: legends wrap it
            "rank": k,
        }
    return styles


def _source_legend_handles(styles: dict[str, dict], sources_shown, *, wrap: int = 30) -> list[Line2D]:
    """One legend entry per source in ``sources_shown`` (in the order of ``styles``), its name
    whole, broken over lines of about ``wrap`` characters."""
    seen: dict[str, Line2D] = {}
    for s in sorted(set(sources_shown), key=lambda s: styles[s]["rank"]):
        st = styles[s]
        if st["label"] not in seen:
            seen[st["label"]] = Line2D(
                [],
                [],
                ls="none",
                marker=st["marker"],
                color=st["color"],
                mec="white",
                mew=0.5,
                ms=7,
                label=textwrap.fill(st["label"], wrap, break_long_words=False),
            )
    return list(seen.values())


def _source_legend(ax, styles, sources_shown, *, title: str = "source", extra: Sequence = (), fontsize=7.5):
    """The legend of one panel, beside it on the right: the sources whose marks are drawn in it
    (and ``extra`` entries after them); none when there is nothing to list."""
    handles = _source_legend_handles(styles, sources_shown) + list(extra)
    if not handles:
        return None
    return ax.legend(
        handles=handles,
        title=title if sources_shown else None,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=fontsize,
        title_fontsize=8,
        alignment="left",
        frameon=False,
        borderaxespad=0,
    )


def _glyph(ax, at, low, high, qualifier, color, marker="o", *, orient="v", hollow=False, alpha=1.0, size=1.0, zorder=4):
    """Draw one stated figure where it belongs. ``at`` is the position on the other axis
    (a date for time plots, a row for the claims check)."""

    def xy(pos, val):
        return (pos, val) if orient == "v" else (val, pos)

    lw = 1.6 * size
    if qualifier in _LOWER or (np.isfinite(low) and not np.isfinite(high) and qualifier not in ("exact", "about")):
        ax.plot(
            *xy([at], [low]),
            ls="none",
            marker=_ARROWS["up" if orient == "v" else "right"],
            ms=20 * size,
            mfc="none",
            mec=color,
            mew=lw,
            alpha=alpha,
            zorder=zorder,
        )
    elif qualifier in _UPPER:
        ax.plot(
            *xy([at], [high]),
            ls="none",
            marker=_ARROWS["down" if orient == "v" else "left"],
            ms=20 * size,
            mfc="none",
            mec=color,
            mew=lw,
            alpha=alpha,
            zorder=zorder,
        )
    elif low == high or qualifier in ("exact", "about"):
        value = low if np.isfinite(low) else high
        ax.plot(
            *xy([at], [value]),
            ls="none",
            marker=marker,
            ms=6.5 * size,
            mfc="none" if hollow else color,
            mec=color if hollow else "white",
            mew=1.3 if hollow else 0.5,
            alpha=alpha,
            zorder=zorder + 1,
        )
    else:
        ls = (0, (2.5, 1.5)) if qualifier == "vague" else "-"
        ax.plot(
            *xy([at, at], [max(low, 1e-9), high]),
            color=color,
            lw=lw + 0.4,
            ls=ls,
            alpha=alpha,
            zorder=zorder,
            solid_capstyle="butt",
        )
        cap = "_" if orient == "v" else "|"
        ax.plot(
            *xy([at, at], [max(low, 1e-9), high]),
            ls="none",
            marker=cap,
            ms=7 * size,
            mew=lw,
            color=color,
            alpha=alpha,
            zorder=zorder,
        )


def _glyph_key(*, with_bound: bool = True, with_corrected: bool = False, orient: str = "v") -> list:
    c = "#333333"
    handles = [
        Line2D([], [], ls="none", marker="o", color=c, mec="white", ms=7, label="stated figure (exact, about)"),
        Line2D(
            [],
            [],
            ls="none",
            marker=_ARROWS["up" if orient == "v" else "right"],
            mfc="none",
            mec=c,
            mew=1.5,
            ms=16,
            label="lower bound (at least, more than)",
        ),
        Line2D(
            [],
            [],
            ls="none",
            marker=_ARROWS["down" if orient == "v" else "left"],
            mfc="none",
            mec=c,
            mew=1.5,
            ms=16,
            label="upper bound (at most, fewer than)",
        ),
        Line2D([], [], color=c, lw=2, label="range (low to high)"),
        Line2D([], [], color=c, lw=2, ls=(0, (2.5, 1.5)), label="vague phrase (lexicon interval)"),
    ]
    if with_bound:
        handles.append(
            Line2D(
                [],
                [],
                color="#222222",
                lw=1.8,
                ls=(0, (3, 1.6)),
                marker="o",
                ms=4.5,
                markevery=[1],
                label="stated force strength (bounds casualties)",
            )
        )
    if with_corrected:
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker="o",
                mfc="none",
                mec=c,
                mew=1.3,
                ms=7,
                label="claim ÷ its source's bias (median)",
            )
        )
    return handles


def _dates(values) -> np.ndarray:
    return pd.to_datetime(pd.Series(values)).to_numpy()


# ------------------------------------------------------------------------------------------------
# Cumulative losses with every claim
# ------------------------------------------------------------------------------------------------


def _claim_kind(row) -> str:
    if row["role"] == ROLE_LOSS:
        if row["measure"] == "per_day" or row["day_start"] > 0:
            return "window"
        return "cumulative"
    if row["role"] == ROLE_BOUND:
        return "bound"
    if row["role"] == ROLE_RELAY:
        return "relay"
    return "other"


def _bias_medians(result) -> dict[tuple[str, str, str], float]:
    """Median bias by (source, stance, population): a source's own bias under population "", and
    the bias of each of its running counts that has a level of its own under its population
    (:func:`_claim_bias` reads a claim's)."""
    src = summary.sources(result)
    return {
        (s, st, p): float(b) for s, st, p, b in zip(src["source"], src["stance"], src["population"], src["bias_q50"])
    }


def _claim_bias(medians: dict[tuple[str, str, str], float], row) -> float | None:
    """The median bias a claim is read through: its running count's where that has a level of its
    own (a source's counts of several populations), else its source's."""
    own = medians.get((row["source"], row["stance"], ""))
    return medians.get((row["source"], row["stance"], row["population"]), own)


def _label_curve_ends(ax, items: list[tuple[str, float, float]], log: bool, x) -> None:
    """Name each median curve at its right end, nudged apart so the names never overlap."""
    lo, hi = ax.get_ylim()

    def frac(y):
        if log:
            return (np.log10(y) - np.log10(lo)) / (np.log10(hi) - np.log10(lo))
        return (y - lo) / (hi - lo)

    pos = sorted(((frac(max(y, lo)), name, colour) for name, y, colour in items), key=lambda t: t[0])
    gap = 0.075
    fixed = []
    for f, name, colour in pos:
        f = min(max(f, 0.02), 0.98)
        if fixed and f - fixed[-1][0] < gap:
            f = fixed[-1][0] + gap
        fixed.append([f, name, colour])
    overflow = fixed[-1][0] - 0.98 if fixed else 0
    if overflow > 0:
        for item in fixed:
            item[0] -= overflow
    trans = matplotlib.transforms.blended_transform_factory(ax.transData, ax.transAxes)
    for f, name, colour in fixed:
        ax.text(x, f, " " + name, transform=trans, va="center", ha="left", fontsize=8, color="#222222")


def _shade_extrapolated(ax, result, pop) -> None:
    """Shade the days a population is estimated past its last claim (a fit asked to reach a later
    day, ``until``): there the curve follows the model's dynamics alone."""
    row = summary.extrapolation(result).set_index("population").loc[pop]
    if row["days_past"] <= 0:
        return
    first, last = pd.Timestamp(row["last_claim"]), pd.Timestamp(row["estimated_to"])
    ax.axvspan(first, last, color="#6A6A6A", alpha=0.10, hatch="///", lw=0, zorder=0)
    ax.axvline(first, color="#6A6A6A", lw=0.9, ls=":", zorder=1)
    ax.text(
        first,
        0.98,
        f" no claim: extrapolated\n {row['days_past']} days ",
        transform=ax.get_xaxis_transform(),
        va="top",
        ha="left",
        fontsize=7.5,
        color="#444444",
        zorder=6,
    )


def _cumulative_panel(ax, result, pop, est, frame, styles, bias_med, corrected) -> tuple[set, bool, list[str]]:
    start = result.inputs.grid.starts[pop]
    rows = frame[frame["population"] == pop]
    kinds = rows.apply(_claim_kind, axis=1) if len(rows) else pd.Series(dtype=object)
    mine = est[est["population"] == pop]
    values = []
    shown: set = set()
    ends = []
    for category in reversed(CATEGORIES):  # casualties first (widest band at the back)
        c = mine[mine["category"] == category]
        x = _dates(c["date"])
        colour, ls = _CATEGORY_STYLE[category]
        ax.fill_between(x, c["q05"], c["q95"], color=colour, alpha=0.16, lw=0, zorder=1)
        ax.fill_between(x, c["q25"], c["q75"], color=colour, alpha=0.30, lw=0, zorder=1)
        ax.plot(x, c["q50"], color="#1A1A1A", ls=ls, lw=1.4, zorder=2)
        values += [c["q05"].to_numpy()[1:], c["q95"].to_numpy()]
        ends.append((category, float(c["q50"].iloc[-1]), colour))
    last = pd.Timestamp(mine["date"].max())

    cum = rows[kinds == "cumulative"]
    for _, r in cum.iterrows():
        st = styles[r["source"]]
        x = pd.Timestamp(r["period_end"])
        _glyph(ax, x, r["low"], r["high"], r["qualifier"], st["color"], st["marker"])
        shown.add(r["source"])
        values += [[r["low"], r["high"]]]
        b = _claim_bias(bias_med, r)
        if corrected and b:
            lo, hi = r["low"] / b, r["high"] / b
            _glyph(ax, x, lo, hi, r["qualifier"], st["color"], st["marker"], hollow=True, alpha=0.6)
            ref = r["low"] if np.isfinite(r["low"]) and r["low"] > 0 else r["high"]
            ax.plot([x, x], [ref, ref / b], color=st["color"], lw=0.7, ls=":", zorder=3)
            values += [[lo, hi]]
    bounds = rows[kinds == "bound"]
    width = pd.Timedelta(days=max(2, int((last - pd.Timestamp(start)).days * 0.03)))
    # a stated strength: a dashed line at its value with the source's marker in the middle (two
    # sources may share a colour); strengths stated on the same day at the same value share the
    # line's length, one segment each, so that none hides another
    for (end, high), same in bounds.groupby(["period_end", "high"], sort=False):
        x0, step = pd.Timestamp(end) - width, 2 * width / len(same)
        for j, (_, r) in enumerate(same.iterrows()):
            st = styles[r["source"]]
            a, b = x0 + step * j, x0 + step * (j + 1)
            ax.plot([a, b], [high, high], color=st["color"], lw=1.8, ls=(0, (3, 1.6)), zorder=3)
            ax.plot([a + (b - a) / 2], [high], ls="none", marker=st["marker"], ms=4.5, color=st["color"], zorder=3)
            shown.add(r["source"])
        values += [[high]]

    _set_count_axis(ax.yaxis, np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in values]))
    top = max(float(np.nanmax([np.nanmax(np.where(np.isfinite(v), v, np.nan)) for v in map(np.asarray, values)])), 1)
    ax.set_ylim(bottom=max(ax.get_ylim()[0], top / 1e5))
    _shade_extrapolated(ax, result, pop)
    span = last - pd.Timestamp(start)
    ax.set_xlim(pd.Timestamp(start) - span * 0.02, last + span * 0.13)
    _label_curve_ends(ax, ends, True, last + span * 0.005)
    _date_axis(ax)
    ax.set_ylabel("cumulative losses (log scale)")
    ax.set_title(
        f"{_name(result, pop)}: cumulative losses since {start:%Y-%m-%d} (median, 50% and 90% intervals)",
        loc="left",
        fontsize=10,
    )
    ax.grid(True, which="major", color="#E5E5E5", lw=0.6)
    ax.set_axisbelow(True)

    notes = []
    n_relay = int((kinds == "relay").sum())
    if n_relay:
        notes.append(f"{n_relay} relay{'s' if n_relay > 1 else ''} of other claims not drawn (not counted twice)")
    n_other = int((kinds == "other").sum())
    if n_other:
        notes.append(
            f"{n_other} strength claim{'s' if n_other > 1 else ''} that bound{'s' if n_other == 1 else ''} no cumulative loss not drawn"
        )
    n_window = int((kinds == "window").sum())
    return shown, n_window > 0, notes


def _window_claims(frame: pd.DataFrame, pop: str) -> pd.DataFrame:
    """A population's window and daily claims (loss figures over a window, not since the start),
    in the order of their windows: the rows of its window panel."""
    rows = frame[frame["population"] == pop]
    if not len(rows):
        return rows
    return rows[rows.apply(_claim_kind, axis=1) == "window"].sort_values(["period_start", "period_end", "claim_id"])


def _stated_short(r) -> str:
    """A claim's stated figure in a few characters: "killed ≥100", "casualties ~1,200/day"."""
    q, low, high = r["qualifier"], float(r["low"]), float(r["high"])
    if q in _LOWER or (np.isfinite(low) and not np.isfinite(high) and q not in ("exact", "about")):
        text = (">" if q == "more_than" else "≥") + _count(low)
    elif q in _UPPER:
        text = ("<" if q == "fewer_than" else "≤") + _count(high)
    elif q == "about":
        text = "~" + _count(low)
    elif q == "exact" or low == high:
        text = _count(low)
    else:
        text = f"{_count(low)}–{_count(high)}"
        phrase = str(r.get("phrase") or "").strip()
        if q == "vague" and phrase and phrase.lower() != "nan":
            text += f" (“{_short(phrase, 30)}”)"
    unit = "/day" if r["measure"] == "per_day" else ""
    return f"{r['category']} {text}{unit}"


def _window_text(a: pd.Timestamp, b: pd.Timestamp) -> str:
    """Days ``a`` to ``b`` (both included) as a reader writes them: "1–19 Dec 2024"."""
    if a == b:
        return f"{a.day} {a:%b %Y}"
    if (a.year, a.month) == (b.year, b.month):
        return f"{a.day}–{b.day} {b:%b %Y}"
    if a.year == b.year:
        return f"{a.day} {a:%b} – {b.day} {b:%b %Y}"
    return f"{a.day} {a:%b %Y} – {b.day} {b:%b %Y}"


_WINDOW_DATA_SHARE = 0.5  # of the window panel's width, left of the claims' labels


def _window_key() -> list[Line2D]:
    return [
        Line2D([], [], color="#A8A8A8", lw=6, solid_capstyle="butt", label="model: 90% interval for the window"),
        Line2D([], [], ls="none", marker="|", ms=11, mew=1.6, color="#1A1A1A", label="model: median for the window"),
    ]


def _window_panel(ax, result, pop, frame, check, styles) -> set:
    """One row per window or daily claim of ``pop`` (none drawn over another): the model's 90%
    interval (grey bar) and median (black tick) for that claim's window, the stated figure in its
    source's colour and marker, and on the right what the claim says, who said it and when."""
    win = _window_claims(frame, pop)
    shown: set = set()
    values = []
    n = len(win)
    ends = []
    for y, (_, r) in enumerate(win.iterrows()):
        q = check.loc[r["claim_id"]]
        st = styles[r["source"]]
        ax.plot([q["true_q05"], q["true_q95"]], [y, y], color="#A8A8A8", lw=6, solid_capstyle="butt", zorder=1)
        ax.plot([q["true_q50"]], [y], ls="none", marker="|", ms=11, mew=1.6, color="#1A1A1A", zorder=2)
        _glyph(ax, y, r["low"], r["high"], r["qualifier"], st["color"], st["marker"], orient="h", size=0.85)
        shown.add(r["source"])
        row = [q["true_q05"], q["true_q95"], r["low"], r["high"]]
        values += row
        ends.append(max(v for v in row if np.isfinite(v)))
    finite = np.asarray([v for v in values if np.isfinite(v) and v > 0], dtype=float)
    lo, hi = (finite.min() / 1.6, finite.max() * 1.6) if finite.size else (1.0, 10.0)
    if hi / lo < 10:  # at least a decade, around the values
        mid = np.sqrt(lo * hi)
        lo, hi = mid / np.sqrt(10), mid * np.sqrt(10)
    # the figures in the left part of the panel, what each claim says in the right part
    right = lo * (hi / lo) ** (1 / _WINDOW_DATA_SHARE)
    _set_count_axis(ax.xaxis, [lo, hi])
    ax.set_xlim(lo, right)
    for which, locator in (("major", ax.xaxis.get_major_locator()), ("minor", ax.xaxis.get_minor_locator())):
        ticks = [t for t in locator.tick_values(lo, hi) if lo <= t <= hi]
        (ax.xaxis.set_major_locator if which == "major" else ax.xaxis.set_minor_locator)(FixedLocator(ticks))
    ax.spines["bottom"].set_bounds(lo, hi)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_yticks([])
    ax.set_ylim(max(n, 1) - 0.5, -0.5)
    at = _WINDOW_DATA_SHARE + 0.015
    text_x = lo * (right / lo) ** at
    trans = matplotlib.transforms.blended_transform_factory(ax.transAxes, ax.transData)
    for y, ((_, r), end) in enumerate(zip(win.iterrows(), ends)):
        a, b = pd.Timestamp(r["period_start"]), pd.Timestamp(r["period_end"])
        ax.plot([end * 1.25, text_x * 0.97], [y, y], color="#C8C8C8", lw=0.7, ls=(0, (1, 2)), zorder=0)
        ax.annotate(
            _stated_short(r),
            xy=(at, y),
            xycoords=trans,
            xytext=(0, 0.5),
            textcoords="offset points",
            va="bottom",
            ha="left",
            fontsize=8,
            color="#1A1A1A",
        )
        ax.annotate(
            f"{styles[r['source']]['label']} · {_window_text(a, b)}",
            xy=(at, y),
            xycoords=trans,
            xytext=(0, -1.0),
            textcoords="offset points",
            va="top",
            ha="left",
            fontsize=7,
            color="#555555",
        )
    ax.set_xlabel("figure over the window (a daily claim: per day; log scale)", fontsize=8, loc="left")
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title(
        f"{_name(result, pop)}: window and daily claims (not cumulative), each against the model's loss over "
        "the same window",
        loc="left",
        fontsize=8.5,
    )
    ax.grid(True, axis="x", which="major", color="#E5E5E5", lw=0.6)
    ax.set_axisbelow(True)
    return shown


# the cumulative figure's vertical layout, in inches
_CUM_WIDTH, _CUM_LEFT, _CUM_RIGHT = 11.5, 1.0, 0.74  # right: a fraction (the legends beside it)
_CUM_MAIN, _CUM_ROW = 3.6, 0.42  # a cumulative panel; a row of the window panel
_CUM_TOP = 0.4


def _window_height(n: int) -> float:
    return 0.35 + _CUM_ROW * max(n, 1)


def plot_cumulative(result, population: str | None = None, *, corrected: bool = False, ax=None) -> Figure:
    """Cumulative killed, wounded and casualties over time with every claim drawn on them.

    One panel per population (or only ``population``), each followed by a small panel of the
    window and daily claims when there are any, one row per claim. Each panel has its own legend
    of the sources drawn in it. ``ax`` may be one Axes (one population; window claims are then
    only counted in a note) or a pair ``(cumulative_ax, window_ax)``.
    ``corrected=True`` also draws each claim divided by its source's median bias (hollow).
    """
    d = result.inputs
    pops = list(d.populations)
    if population is not None:
        if population not in pops:
            raise ValueError(f"population {population!r} is not estimated; estimated: {', '.join(pops)}")
        pops = [population]
    est = summary.estimates(result)
    check = summary.claims_check(result).set_index("claim_id")
    frame = d.claims
    styles = _source_styles(result)
    bias_med = _bias_medians(result)
    n_window = {p: len(_window_claims(frame, p)) for p in pops}

    key = [
        Line2D([], [], color="#1A1A1A", ls=_CATEGORY_STYLE[c][1], lw=1.4, label=f"{c}: median")
        for c in reversed(CATEGORIES)
    ]
    key += [
        Patch(color="#8A8A8A", alpha=0.35, label="50% interval"),
        Patch(color="#8A8A8A", alpha=0.16, label="90% interval"),
    ]
    key += _glyph_key(with_corrected=corrected)
    extra = " Hollow marks: each claim divided by its source's median bias." if corrected else ""

    caption_lines: list[str] = []
    if ax is not None:
        if len(pops) > 1:
            raise ValueError("plot_cumulative(ax=...) draws one population: pass population=")
        axes_pairs = [(ax[0], ax[1]) if isinstance(ax, (tuple, list)) else (ax, None)]
        fig = _figure_of(axes_pairs[0][0])
        own = False
    else:
        # top to bottom, in inches: each population's panel, then its window panel
        slots: list[tuple[float, float]] = []  # (top, height) of each axes
        y = _CUM_TOP
        for k, p in enumerate(pops):
            if k:
                y += 0.95 if n_window[pops[k - 1]] else 0.75  # the x ticks (and label) above, a title
            slots.append((y, _CUM_MAIN))
            y += _CUM_MAIN
            if n_window[p]:
                y += 0.62
                slots.append((y, _window_height(n_window[p])))
                y += _window_height(n_window[p])
        caption_lines = _caption_lines("cumulative", _CUM_WIDTH - 0.5, extra)
        key_room = 0.75 + (0.2 if corrected else 0)
        bottom = 0.08 + _caption_height(caption_lines) + 0.1 + key_room
        y += 0.55 if n_window[pops[-1]] else 0.4
        total = y + bottom
        fig = _new_figure(_CUM_WIDTH, total)
        width = _CUM_RIGHT - _CUM_LEFT / _CUM_WIDTH
        made = [fig.add_axes((_CUM_LEFT / _CUM_WIDTH, 1 - (t + h) / total, width, h / total)) for t, h in slots]
        axes_pairs = []
        k = 0
        for p in pops:
            main, win = made[k], None
            k += 1
            if n_window[p]:
                win = made[k]
                k += 1
            axes_pairs.append((main, win))
        own = True

    flags = summary.population_flags(result).set_index("population")
    for p, (main, win) in zip(pops, axes_pairs):
        shown, any_window, notes = _cumulative_panel(main, result, p, est, frame, styles, bias_med, corrected)
        if p in flags.index and flags.loc[p, "prior_driven"]:
            # why this panel's bands may span orders of magnitude (summary.population_flags)
            notes.insert(
                0,
                textwrap.fill(
                    f"Rests on the prior, not the claims: {flags.loc[p, 'reason']}. "
                    "Read the bands as an order of magnitude.",
                    72,
                ),
            )
        _source_legend(main, styles, shown, extra=() if own else key, fontsize=7.5 if own else 7)
        if any_window and win is not None:
            shown_window = _window_panel(win, result, p, frame, check, styles)
            _source_legend(win, styles, shown_window, extra=() if own else _window_key())
        elif any_window:
            n = n_window[p]
            notes.append(
                f"{n} window/daily claim{'s' if n > 1 else ''} not on this scale (pass a second axes to draw them)"
            )
        if notes:
            main.text(
                0.985,
                0.025,
                "\n".join(notes),
                transform=main.transAxes,
                va="bottom",
                ha="right",
                multialignment="left",
                fontsize=7.5,
                color="#555555",
                bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="#DDDDDD", alpha=0.85),
                zorder=6,
            )

    if own:
        if any(n_window.values()):
            key += _window_key()
        _place_caption(fig, caption_lines, 0.25)
        above = (0.08 + _caption_height(caption_lines) + 0.1) / fig.get_figheight()
        centre = (_CUM_LEFT / _CUM_WIDTH + _CUM_RIGHT) / 2
        fig.legend(handles=key, loc="lower center", ncol=4, fontsize=7.5, frameon=False, bbox_to_anchor=(centre, above))
    return fig


# ------------------------------------------------------------------------------------------------
# Sources' biases
# ------------------------------------------------------------------------------------------------


def plot_sources(result, ax=None) -> Figure:
    """Each source's bias factor (reported ÷ true): median and 90% interval, grouped by stance."""
    src = summary.sources(result).copy()
    src["stance_rank"] = src["stance"].map({s: k for k, s in enumerate(STANCE_ORDER)}).fillna(len(STANCE_ORDER))
    # a drifting series' row (population set) right under its source's
    src["source_q50"] = summary.own_row_values(src, src["bias_q50"])
    src["is_series"] = src["population"] != ""
    src = src.sort_values(
        ["stance_rank", "source_q50", "source", "is_series", "population"], ascending=[True, False, True, True, True]
    ).reset_index(drop=True)
    stances = list(dict.fromkeys(src["stance"]))
    n_rows = len(src) + len(stances)
    own = ax is None
    if ax is None:
        fig = _new_figure(9.0, 1.3 + 0.3 * n_rows)
        ax = fig.add_subplot()
    else:
        fig = _figure_of(ax)
    y = 0.0
    ticks, labels, colours = [], [], []
    for stance in stances:
        ax.text(
            0.0,
            y,
            f"{stance} sources",
            transform=matplotlib.transforms.blended_transform_factory(ax.transAxes, ax.transData),
            ha="left",
            va="center",
            fontsize=9,
            fontweight="bold",
            color=_STANCE_COLOURS.get(stance, "#333333"),
        )
        y += 1
        for _, r in src[src["stance"] == stance].iterrows():
            colour = _STANCE_COLOURS.get(stance, "#333333")
            lw = 1.4 if r["is_series"] else 2.2
            ax.plot([r["bias_q05"], r["bias_q95"]], [y, y], color=colour, lw=lw, solid_capstyle="butt")
            ax.plot([r["bias_q50"]], [y], "o", color=colour, mec="white", ms=7)
            n = int(r["n_claims"])
            if r["is_series"]:  # under its source: its running count of one population
                pop = _short(result.config.population_label(r["population"]), 40)
                text = f"    ↳ its running count of {pop} ({n} claim{'s' if n != 1 else ''})"
            else:
                text = f"{_short(result.config.source_label(r['source']), 60)} [{stance}] ({n} claim{'s' if n != 1 else ''})"
            if bool(r.get("assumed_unbiased", False)):
                text += " · assumed unbiased"
            ticks.append(y)
            labels.append(text)
            colours.append(colour)
            y += 1
    ax.axvline(1.0, color="#333333", lw=1, ls="--", zorder=0)
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_ylim(y - 0.4, -0.8)
    ax.set_xscale("log")
    lo = float(np.nanmin(src["bias_q05"])) if len(src) else 0.5
    hi = float(np.nanmax(src["bias_q95"])) if len(src) else 2.0
    lo, hi = min(lo, 0.8), max(hi, 1.25)
    ax.set_xlim(lo / 1.15, hi * 1.15)
    cand = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 10, 20, 50, 100]
    chosen = [c for c in cand if lo / 1.15 <= c <= hi * 1.15]
    if len(chosen) > 9:
        chosen = [c for c in chosen if c in (0.01, 0.1, 0.2, 0.5, 1, 2, 5, 10, 100)]
    ax.xaxis.set_major_locator(FixedLocator(chosen))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"×{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.grid(True, axis="x", color="#E5E5E5", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel("bias factor: reported ÷ true (1 = unbiased; right of the dashed line: inflates)")
    ax.set_title("Sources' biases: posterior median and 90% interval, grouped by stance", loc="left", fontsize=10)
    if own:
        counts = (
            " A source's running count of one population (↳, under the source) has a bias of its own over its "
            "period, around the source's."
            if src["is_series"].any()
            else ""
        )
        _caption_below_subplots(fig, "sources", extra=counts)
    return fig


# ------------------------------------------------------------------------------------------------
# Claims check
# ------------------------------------------------------------------------------------------------


def plot_claims_check(result, ax=None) -> Figure:
    """Per counted loss claim: the 90% posterior predictive interval of its source's figure against
    the stated figure; surprising claims (flagged) first, highlighted. A war of more than
    :data:`CLAIMS_CHECK_ROWS` claims shows that many: the surprising ones, then the others whose
    stated figure sits furthest from the middle of its predictive distribution."""
    check = summary.claims_check(result)
    check = check[check["role"] == ROLE_LOSS].copy()
    frame = result.inputs.claims.set_index("claim_id")
    check["flagged"] = check["flag"].fillna("").astype(str) != ""
    check["surprise"] = (check["ppc_percentile"] - 0.5).abs()
    n_claims, n_flagged = len(check), int(check["flagged"].sum())
    if n_claims > CLAIMS_CHECK_ROWS:  # a figure one can read: the claims that most need a look
        check = check.sort_values(["flagged", "surprise", "claim_id"], ascending=[False, False, True])
        check = check.head(CLAIMS_CHECK_ROWS)
    check["end"] = [frame.loc[c, "period_end"] for c in check["claim_id"]]
    check = pd.concat(
        [
            check[check["flagged"]].sort_values("surprise", ascending=False),
            check[~check["flagged"]].sort_values(["population", "end", "claim_id"]),
        ]
    )
    n = len(check)
    ids = list(check["claim_id"])
    fq = {}
    if ids:
        draws = np.asarray(result.idata.posterior_predictive["figure"].sel(claim=ids).values).reshape(-1, len(ids))
        q = np.quantile(draws, [0.05, 0.5, 0.95], axis=0)
        fq = {cid: q[:, k] for k, cid in enumerate(ids)}
    own = ax is None
    if ax is None:
        n_cols = 1 if n <= 70 else min(3, int(np.ceil(n / 70)))
        per_col = int(np.ceil(n / n_cols)) if n else 1
        fig = _new_figure(8.5 * n_cols, 1.9 + 0.2 * per_col)
        axs = [fig.add_subplot(1, n_cols, k + 1) for k in range(n_cols)]
    else:
        fig = _figure_of(ax)
        axs, per_col = [ax], max(n, 1)
    values = []
    for col, axis in enumerate(axs):
        part = check.iloc[col * per_col : (col + 1) * per_col]
        labels = []
        for y, (_, r) in enumerate(part.iterrows()):
            q05, q50, q95 = fq[r["claim_id"]]
            axis.plot([q05, q95], [y, y], color="#A0A0A0", lw=4.5, solid_capstyle="butt", zorder=1, alpha=0.8)
            axis.plot([q50], [y], ls="none", marker="|", ms=9, mew=1.4, color="#333333", zorder=2)
            colour = _FLAG_COLOUR if r["flagged"] else _OK_COLOUR
            f = frame.loc[r["claim_id"]]
            _glyph(axis, y, f["low"], f["high"], f["qualifier"], colour, orient="h", size=0.8)
            per_day = ", per day" if f["measure"] == "per_day" else ""
            # who said it, what and when (the claim's id is in the report's table and the CSV)
            when = pd.Timestamp(f["reported_on"]).strftime("%Y-%m-%d")
            who = _short(result.config.source_label(f["source"]), 30)
            labels.append(f"{who}, {f['category']}{per_day}, {when}")
            values += [q05, q95, f["low"], f["high"]]
        axis.set_yticks(range(len(part)))
        axis.set_yticklabels(labels, fontsize=7.5 if per_col <= 40 else 6.5)
        for tick, (_, r) in zip(axis.get_yticklabels(), part.iterrows()):
            if r["flagged"]:
                tick.set_color(_FLAG_COLOUR)
                tick.set_fontweight("bold")
        n_flag = int(part["flagged"].sum())
        if 0 < n_flag < len(part):
            axis.axhline(n_flag - 0.5, color="#D55E00", lw=0.8, ls=":")
        axis.set_ylim(max(len(part), 1) - 0.5, -0.7)
        axis.grid(True, axis="x", which="major", color="#E5E5E5", lw=0.6)
        axis.set_axisbelow(True)
        axis.set_xlabel("figure (log scale)")
    finite = np.asarray([v for v in values if np.isfinite(v) and v > 0], dtype=float)
    for axis in axs:
        _set_count_axis(axis.xaxis, finite)
        if finite.size:
            axis.set_xlim(finite.min() / 1.6, finite.max() * 1.6)  # the same scale in every column
    if not n:
        axs[0].text(0.5, 0.5, "no counted loss claim", transform=axs[0].transAxes, ha="center")
    shown = f"; shown: the {n} least consistent, every claim in claims_check.csv" if n < n_claims else ""
    axs[0].set_title(
        f"Claims check: each source's predicted figure (grey: 90% interval, |: median) vs the stated figure\n"
        f"{n_flagged} of {n_claims} claims surprising (in orange, listed first){shown}",
        loc="left",
        fontsize=10,
    )
    key = [
        Line2D([], [], color="#A0A0A0", lw=4.5, label="predicted figure, 90% interval"),
        Line2D([], [], ls="none", marker="o", color=_OK_COLOUR, label="stated, consistent"),
        Line2D([], [], ls="none", marker="o", color=_FLAG_COLOUR, label="stated, surprising"),
    ]
    key += _glyph_key(with_bound=False, orient="h")[1:]
    axs[-1].legend(
        handles=key, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, frameon=False, borderaxespad=0
    )
    if own:
        _caption_below_subplots(fig, "claims_check")
    return fig


# ------------------------------------------------------------------------------------------------
# Daily rate
# ------------------------------------------------------------------------------------------------


def _daily_rates(result) -> dict[str, pd.DataFrame]:
    cas = summary.category_draws(result)["casualties"]
    pts = result.inputs.estimates
    out = {}
    for p in result.inputs.populations:
        idx = np.flatnonzero(pts["population"].to_numpy() == p)
        days = pts["day"].to_numpy()[idx].astype(float)
        if len(idx) < 2:
            continue
        rate = np.diff(cas[:, idx], axis=1) / np.diff(days)
        q = np.quantile(rate, [0.05, 0.5, 0.95], axis=0)
        dates = _dates(pts["date"].to_numpy()[idx])
        out[p] = pd.DataFrame({"start": dates[:-1], "end": dates[1:], "q05": q[0], "q50": q[1], "q95": q[2]})
    return out


def plot_daily_rate(result, ax=None, *, population: str | None = None) -> Figure:
    """Posterior median and 90% band of daily casualties (killed + wounded) over time, per
    population (one panel each; all on ``ax`` when given), with any daily-average claims. Counts
    on a log scale in every panel; each panel lists the sources of the daily figures drawn in it."""
    rates = _daily_rates(result)
    pops = [p for p in rates if population is None or p == population]
    if population is not None and not pops:
        raise ValueError(f"population {population!r} is not estimated")
    styles = _source_styles(result)
    frame = result.inputs.claims
    if ax is None:
        width, height = 10.5, 0.8 + 2.6 * len(pops)
        caption_lines = _caption_lines("daily_rate", width - 0.5)
        room = 0.08 + _caption_height(caption_lines) + 0.08
        fig = _new_figure(width, height + room)
        # the caption below the panels: constrained layout keeps out of the bottom ``room`` inches
        fig.set_layout_engine(_SteadyConstrainedLayout(rect=(0, room / (height + room), 1, 1 - room / (height + room))))
        axs = [fig.add_subplot(len(pops), 1, k + 1) for k in range(len(pops))]
        _place_caption(fig, caption_lines, 0.25)
        together = False
    else:
        fig = _figure_of(ax)
        axs = [ax] * len(pops)
        together = True
    for k, (p, axis) in enumerate(zip(pops, axs)):
        r = rates[p]
        x = np.append(r["start"].to_numpy(), r["end"].to_numpy()[-1])
        colour = OKABE_ITO[k % len(OKABE_ITO)] if together else "#4D4D4D"
        ax_vals = [r["q05"], r["q95"]]
        axis.fill_between(
            x,
            np.append(r["q05"], r["q05"].iloc[-1]),
            np.append(r["q95"], r["q95"].iloc[-1]),
            step="post",
            color=colour,
            alpha=0.22,
            lw=0,
        )
        axis.step(
            x,
            np.append(r["q50"], r["q50"].iloc[-1]),
            where="post",
            color=colour if together else "#1A1A1A",
            lw=1.5,
            label=f"{_name(result, p)}: median" if together else "median",
        )
        daily = frame[
            (frame["population"] == p)
            & (frame["role"] == ROLE_LOSS)
            & (frame["measure"] == "per_day")
            & (frame["category"] == "casualties")
        ]
        shown = set()
        for _, c in daily.iterrows():
            st = styles[c["source"]]
            a, b = pd.Timestamp(c["period_start"]), pd.Timestamp(c["period_end"]) + pd.Timedelta(days=1)
            ref = c["low"] if np.isfinite(c["low"]) and c["low"] > 0 else c["high"]
            axis.plot([a, b], [ref, ref], color=st["color"], lw=1.2)
            _glyph(axis, a + (b - a) / 2, c["low"], c["high"], c["qualifier"], st["color"], st["marker"], size=0.8)
            shown.add(c["source"])
            ax_vals.append(np.array([c["low"], c["high"]]))
        if not together:
            vals = np.concatenate([np.asarray(v, dtype=float) for v in ax_vals])
            _set_count_axis(axis.yaxis, vals)
            _shade_extrapolated(axis, result, p)
            axis.set_title(
                f"{_name(result, p)}: daily casualties (killed + wounded), median and 90% interval",
                loc="left",
                fontsize=10,
            )
            axis.set_ylabel("casualties per day\n(log scale)")
            _date_axis(axis)
            axis.grid(True, color="#E5E5E5", lw=0.6)
            axis.set_axisbelow(True)
            _source_legend(axis, styles, shown, title="daily figures stated by")
    if together and pops:
        vals = np.concatenate([np.concatenate([rates[p]["q05"], rates[p]["q95"]]) for p in pops])
        _set_count_axis(ax.yaxis, vals)
        ax.set_title("Daily casualties (killed + wounded): median and 90% interval", loc="left", fontsize=10)
        ax.set_ylabel("casualties per day (log scale)")
        _date_axis(ax)
        ax.grid(True, color="#E5E5E5", lw=0.6)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return fig


# ------------------------------------------------------------------------------------------------
# Priors vs posteriors
# ------------------------------------------------------------------------------------------------


def _prior_panels(result) -> list[dict]:
    """Each key hyperparameter: posterior draws and the analytic prior (scipy) from the config."""

    post = result.idata.posterior
    panels = []

    def draws(name, **sel):
        da = post[name].sel(**sel) if sel else post[name]
        return np.asarray(da.values, dtype=float).ravel()

    priors = hyperpriors(result.config)
    labels = {
        "noise_typical": "noise_typical: typical log error of a source's figures",
        "noise_group_sd": "noise_group_sd: spread of the source groups' log noise",
        "noise_source_sd": "noise_source_sd: spread of the sources' log noise",
        "rate_sd": "rate_sd: spread of the log daily rate around its level",
        "killed_share": "killed_share",
    }
    for name, label in labels.items():
        if name not in post:
            continue
        dim = [d for d in post[name].dims if d not in ("chain", "draw")]
        if dim:
            for p in post[name][dim[0]].values:
                who = {"population": result.config.population_label, "source": result.config.source_label}.get(
                    dim[0], str
                )(str(p))
                panels.append(dict(title=f"{label}\n{who}", draws=draws(name, **{dim[0]: p}), prior=priors[name]))
        else:
            panels.append(dict(title=label, draws=draws(name), prior=priors[name]))
    if "stance_z" in post:
        prior_of = stance_priors(result.config)
        factor_prior = stance_bias_factor(result.config.priors)
        dim = [d for d in post["stance_z"].dims if d not in ("chain", "draw")]
        for stance in post["stance_z"][dim[0]].values if dim else []:
            mean, sd = prior_of[str(stance)]
            z = draws("stance_z", **{dim[0]: stance})
            panels.append(
                dict(
                    title=f"stance effect: {stance}\n(bias factor exp(effect))",
                    draws=np.exp(mean + sd * z),
                    prior=factor_prior[str(stance)],
                )
            )
    return panels


def plot_priors(result, axes: Sequence | None = None) -> Figure:
    """Prior (analytic density from the configuration) against posterior (histogram) of the
    key hyperparameters; panels of variables missing from the posterior are skipped."""
    panels = _prior_panels(result)
    n = max(len(panels), 1)
    if axes is None:
        n_cols = min(4, n)
        n_rows = int(np.ceil(n / n_cols))
        fig = _new_figure(3.3 * n_cols, 0.7 + 2.55 * n_rows)
        axs = [fig.add_subplot(n_rows, n_cols, k + 1) for k in range(n)]
    else:
        axs = list(np.ravel(np.asarray(axes, dtype=object)))
        if len(axs) < len(panels):
            raise ValueError(f"plot_priors needs {len(panels)} axes, got {len(axs)}")
        fig = _figure_of(axs[0])
    for axis, panel in zip(axs, panels):
        d = panel["draws"][np.isfinite(panel["draws"])]
        prior = panel["prior"]
        lo = min(np.quantile(d, 0.001), prior.ppf(0.005)) if d.size else prior.ppf(0.005)
        hi = max(np.quantile(d, 0.999), prior.ppf(0.995)) if d.size else prior.ppf(0.995)
        lo = max(lo, prior.support()[0])
        grid = np.linspace(lo, hi, 400)
        if d.size:
            axis.hist(
                d,
                bins=np.linspace(d.min(), d.max(), 31),
                density=True,
                color="#D55E00",
                alpha=0.45,
                lw=0,
                label="posterior",
            )
        axis.plot(grid, prior.pdf(grid), color="#0072B2", lw=1.8, label="prior")
        title = "\n".join(textwrap.fill(line, 42, break_long_words=False) for line in panel["title"].split("\n"))
        axis.set_title(title, fontsize=8.5, loc="left")
        axis.set_yticks([])
        axis.tick_params(axis="x", labelsize=7.5)
        axis.set_xlim(lo, hi)
    for axis in axs[len(panels) :]:
        axis.set_visible(False)
    if panels:
        axs[0].legend(fontsize=7.5, frameon=False, loc="upper right")
    else:
        axs[0].text(0.5, 0.5, "no hyperparameter in the posterior", transform=axs[0].transAxes, ha="center")
    if axes is None:
        fig.suptitle(
            "Priors (blue: density from the configuration) vs posteriors (orange: histogram of draws)",
            fontsize=10,
            x=0.01,
            ha="left",
        )
        width, height = fig.get_size_inches()
        lines = _caption_lines("priors", width - 0.5)
        room = 0.08 + _caption_height(lines) + 0.1
        fig.set_size_inches(width, height + room)
        _place_caption(fig, lines, 0.25)
        fig.tight_layout(rect=(0, room / (height + room), 1, 1 - 0.3 / (height + room)))
    return fig


# ------------------------------------------------------------------------------------------------
# All of them, to files
# ------------------------------------------------------------------------------------------------

PLOTS = {
    "cumulative.png": plot_cumulative,
    "sources.png": plot_sources,
    "claims_check.png": plot_claims_check,
    "daily_rate.png": plot_daily_rate,
    "priors.png": plot_priors,
}


def save_plots(result, out_dir, *, workers: int | None = None) -> list[Path]:
    """Write every figure into ``out_dir`` (created if needed) as a PNG at a print resolution
    (200 dpi) and as an SVG beside it (vector, for print; byte-for-byte reproducible); returns the
    PNG paths.

    ``workers``: how many processes draw the figures (default :func:`plot_workers`: two on Linux
    where forking is safe, else one); more than one only where forking is safe. The files are the
    same bytes whichever process draws them. ``write_report(result, DIR)`` calls this with
    ``DIR/plots``; :func:`started_plots` starts the other processes' share early.
    """
    with started_plots(result, out_dir, workers=workers) as figures:
        return figures.finish()


@contextlib.contextmanager
def started_plots(result, out_dir, *, workers: int | None = None, busy: bool = False) -> Iterator[PendingPlots]:
    """Start drawing the figures now, in forked children, while the block goes on; ``.finish()``
    in the block draws this process's share, waits for the children and returns the PNG paths
    (what :func:`save_plots` returns). ``busy``: this process has other work before ``finish``
    (``outputs.write_outputs`` writes ``posterior.nc`` and the tables), so every share of the
    figures goes to a child of its own and this process draws none. The shares, and the order in
    which each process draws its own, are those of :func:`save_plots`, so every file is the same
    bytes either way. Leaving the block kills and reaps every child still drawing (an error or an
    interrupt in the block)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = list(PLOTS)
    n = plot_workers() if workers is None else (max(1, int(workers)) if _fork_is_safe() else 1)
    figures = PendingPlots(result, out, names)
    try:
        if n > 1 and len(names) > 1:
            shares = _shares(names, n)
            figures.fork([[], *shares] if busy else shares)
        yield figures
    finally:
        figures.close()


class PendingPlots:
    """The figures of :func:`started_plots`: the children drawing their shares, and this
    process's own share, drawn by :meth:`finish`. A child that fails, dies, cannot be forked or
    outlives a generous deadline (ten times this process's own share, at least a minute) costs only
    time: its figures are drawn again here, where an error surfaces as it would without children.
    Children ignore SIGINT and SIGHUP and die with this process."""

    def __init__(self, result, out: Path, names: list[str]) -> None:
        self._result, self._out, self._names = result, out, names
        self._mine = list(names)
        self._children: dict[int, list[str]] = {}
        self._done = False

    def fork(self, shares: list[list[str]]) -> None:
        self._mine = list(shares[0])
        for share in shares[1:]:
            # registered before a signal that arrived while forking is handled: never left behind
            pid = fork(
                lambda parent, share=share: _child(self._result, self._out, share, parent),
                register=lambda pid, share=share: self._children.__setitem__(pid, share),
            )
            if pid is None:  # no process to be had: draw it here
                self._mine += share

    def finish(self) -> list[Path]:
        """Draw this process's share, wait for the children (drawing again here what one of them
        did not), and return the PNG paths in :data:`PLOTS`' order."""
        if not self._done:
            checkpoint("drawing")  # (children drawing: a stage of the fault-injection tests)
            started = time.perf_counter()
            for name in self._mine:
                _save_one(self._result, self._out, name)
            deadline = started + max(60.0, 10 * (time.perf_counter() - started))
            for pid in list(self._children):
                drawn = finished(pid, deadline)
                release(pid)
                share = self._children.pop(pid)
                if not drawn:
                    for name in share:  # drawn again here: its error, if any, is raised here
                        _save_one(self._result, self._out, name)
            self._done = True
        return [self._out / name for name in self._names]

    def close(self) -> None:
        """Kill and reap every child still drawing."""
        with _signals.deferred():  # (a second Ctrl-C does not leave a child unreaped)
            for pid in self._children:
                _kill_and_reap(pid)
            self._children.clear()


def _save_one(result, out: Path, name: str) -> None:
    fig = PLOTS[name](result)
    try:
        path = out / name
        # a figure already laid out by a layout engine fits its canvas; cropping it to the
        # tight bounding box would only draw it twice (~0.6 s per fit)
        tight = "tight" if fig.get_layout_engine() is None else None
        fig.savefig(path, dpi=_DPI, bbox_inches=tight, facecolor="white")
        # the same ids and no date in every run: same fit, same file
        with matplotlib.rc_context({"svg.hashsalt": "reconcile"}):
            fig.savefig(path.with_suffix(".svg"), bbox_inches=tight, facecolor="white", metadata={"Date": None})
    finally:
        fig.clear()


#: ``RECONCILE_PLOT_WORKERS=1`` draws the figures in the calling process only
PLOT_WORKERS_ENV = "RECONCILE_PLOT_WORKERS"


def plot_workers() -> int:
    """How many processes :func:`save_plots` uses by default: one where forking is not safe
    (:func:`_fork_is_safe`), otherwise ``$RECONCILE_PLOT_WORKERS`` if set, else two if the process
    may keep two CPUs or more busy (``reconcile._fork.cpus``: its CPU affinity and a container's
    CPU quota)."""
    if not _fork_is_safe():
        return 1
    wanted = os.environ.get(PLOT_WORKERS_ENV, "").strip()
    if wanted:
        try:
            return max(1, int(wanted))
        except ValueError:
            return 1
    return min(2, cpus())


#: roughly how long each figure takes to draw, relative to one another (the shipped data)
_COST = {"cumulative.png": 4.0, "priors.png": 1.8, "daily_rate.png": 1.5, "claims_check.png": 1.0}


def _shares(names: list[str], n: int) -> list[list[str]]:
    """``names`` split into ``n`` shares of about equal drawing time (longest first, each to the
    share with the least so far)."""
    shares: list[list[str]] = [[] for _ in range(n)]
    load = [0.0] * n
    for name in sorted(names, key=lambda k: -_COST.get(k, 0.5)):
        i = load.index(min(load))
        shares[i].append(name)
        load[i] += _COST.get(name, 0.5)
    return [share for share in shares if share]


def _child(result, out: Path, share: list[str], parent: int) -> None:
    """A drawing child's whole life: it ends with ``os._exit`` (status 0 when every figure of its
    share is written), so nothing of the parent's (its ``finally`` blocks, ``atexit``, buffered
    output) runs twice."""
    code = 1
    try:
        _quiet_child(parent)
        for name in share:
            _save_one(result, out, name)
        code = 0
    finally:
        os._exit(code)


def _show_figures_inline() -> None:
    """In Jupyter, display the Figures these functions return as PNG, as `%matplotlib inline`
    would. They are built without pyplot (so nothing leaks), which means IPython's matplotlib
    integration never switches itself on; only the display of Figure objects is registered."""
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import print_figure
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    png = shell.display_formatter.formatters["image/png"]
    png.for_type(Figure, lambda fig: print_figure(fig, "png", bbox_inches="tight"))


_show_figures_inline()
