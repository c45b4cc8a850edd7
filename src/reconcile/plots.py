"""Figures of a fit: functions over a :class:`reconcile.fitting.Fit`, each returning a matplotlib Figure.

Every function accepts ``ax=`` (or ``axes=`` for multi-panel figures) to draw into existing axes,
and otherwise builds its own :class:`matplotlib.figure.Figure` without touching pyplot's global
state: nothing is shown, nothing leaks, and the Agg backend is enough.

Conventions shared by all figures:

* sources are coloured with the Okabe-Ito palette (colour-blind safe), marker shapes cycle
  after eight sources, and sources beyond the eleven with most claims share one "other sources"
  style, so legends stay short;
* a stated figure is drawn as what it says: a point (``exact``, ``about``) as a dot, a lower
  bound (``at_least``, ``more_than``) as an arrow pointing up from the value, an upper bound
  (``at_most``, ``fewer_than``) as an arrow pointing down, a range as a bar from low to high, a
  vague phrase as a dashed bar over its lexicon interval;
* counts have thousands separators; an axis whose values span more than two decades is
  logarithmic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.patches import Patch
from matplotlib.path import Path as MPath
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

from . import summary
from .model import CATEGORIES, ROLE_BOUND, ROLE_LOSS, ROLE_RELAY, STANCE_ORDER, hyperpriors, stance_priors

__all__ = [
    "OKABE_ITO",
    "plot_cumulative",
    "plot_sources",
    "plot_claims_check",
    "plot_daily_rate",
    "plot_priors",
    "save_plots",
]

#: Okabe & Ito (2008) colour-blind-safe palette, ordered for contrast on white
#: (the pale yellow last, and not used for sources).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
_SOURCE_COLOURS = OKABE_ITO[:7]  # the pale yellow is unreadable as thin lines and arrows on white
_MARKERS = ("o", "s", "D", "P", "X", "h", "p")
_OTHER_COLOUR = "#8C8C8C"
_MAX_SOURCE_ENTRIES = 11  # plus one "other sources" entry: at most 12 legend entries
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


def _set_count_axis(axis, values, *, force_log: bool | None = None) -> bool:
    """Linear or log (when the positive values span > 2 decades) count axis with separators."""
    values = np.asarray([v for v in np.ravel(values) if np.isfinite(v) and v > 0], dtype=float)
    log = force_log if force_log is not None else bool(values.size and values.max() / values.min() > 100)
    if log:
        axis.axes.set_xscale("log") if axis.axis_name == "x" else axis.axes.set_yscale("log")
        span = values.max() / values.min() if values.size else 10
        axis.set_major_locator(LogLocator(base=10, subs=(1.0,) if span > 1e3 else (1.0, 2.0, 5.0)))
        axis.set_minor_locator(LogLocator(base=10, subs=np.arange(2, 10) * 1.0))
        axis.set_minor_formatter(NullFormatter())
    axis.set_major_formatter(FuncFormatter(_count))
    return log


def _date_axis(ax) -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _short(text: str, limit: int = 38) -> str:
    """Claims text for a label: truncated, with "$" escaped so matplotlib never reads it as maths."""
    text = str(text)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")


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
        if k < _MAX_SOURCE_ENTRIES or len(order) == _MAX_SOURCE_ENTRIES + 1:
            styles[source] = {
                "color": _SOURCE_COLOURS[k % len(_SOURCE_COLOURS)],
                "marker": _MARKERS[(k // len(_SOURCE_COLOURS)) % len(_MARKERS)],
                "label": _short(result.config.source_label(source), 40),
                "rank": k,
            }
        else:
            styles[source] = {
                "color": _OTHER_COLOUR,
                "marker": "o",
                "label": "other sources",
                "rank": _MAX_SOURCE_ENTRIES,
            }
    return styles


def _source_legend_handles(styles: dict[str, dict], sources_shown) -> list[Line2D]:
    seen: dict[str, Line2D] = {}
    for s in sorted(set(sources_shown), key=lambda s: styles[s]["rank"]):
        st = styles[s]
        if st["label"] not in seen:
            seen[st["label"]] = Line2D(
                [], [], ls="none", marker=st["marker"], color=st["color"], mec="white", mew=0.5, ms=7, label=st["label"]
            )
    return list(seen.values())


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
            Line2D([], [], color="#222222", lw=1.8, ls="--", label="stated force strength (bounds casualties)")
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


def _bias_medians(result) -> dict[tuple[str, str], float]:
    src = summary.sources(result)
    return {(s, st): float(b) for s, st, b in zip(src["source"], src["stance"], src["bias_q50"])}


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
        b = bias_med.get((r["source"], r["stance"]))
        if corrected and b:
            lo, hi = r["low"] / b, r["high"] / b
            _glyph(ax, x, lo, hi, r["qualifier"], st["color"], st["marker"], hollow=True, alpha=0.6)
            ref = r["low"] if np.isfinite(r["low"]) and r["low"] > 0 else r["high"]
            ax.plot([x, x], [ref, ref / b], color=st["color"], lw=0.7, ls=":", zorder=3)
            values += [[lo, hi]]
    bounds = rows[kinds == "bound"]
    width = pd.Timedelta(days=max(2, int((last - pd.Timestamp(start)).days * 0.03)))
    for _, r in bounds.iterrows():
        x = pd.Timestamp(r["period_end"])
        colour = styles[r["source"]]["color"]
        ax.plot([x - width, x + width], [r["high"], r["high"]], color=colour, lw=1.8, ls="--", zorder=3)
        shown.add(r["source"])
        values += [[r["high"]]]

    log = _set_count_axis(ax.yaxis, np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in values]))
    if log:
        top = max(
            float(np.nanmax([np.nanmax(np.where(np.isfinite(v), v, np.nan)) for v in map(np.asarray, values)])), 1
        )
        ax.set_ylim(bottom=max(ax.get_ylim()[0], top / 1e5))
    else:
        ax.set_ylim(bottom=0)
    _shade_extrapolated(ax, result, pop)
    span = last - pd.Timestamp(start)
    ax.set_xlim(pd.Timestamp(start) - span * 0.02, last + span * 0.13)
    _label_curve_ends(ax, ends, log, last + span * 0.005)
    _date_axis(ax)
    ax.set_ylabel("cumulative losses")
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


def _window_panel(ax, result, pop, frame, check, styles) -> set:
    rows = frame[frame["population"] == pop]
    kinds = rows.apply(_claim_kind, axis=1) if len(rows) else pd.Series(dtype=object)
    win = rows[kinds == "window"].sort_values(["period_start", "period_end"])
    shown: set = set()
    values = []
    for _, r in win.iterrows():
        a = pd.Timestamp(r["period_start"])
        b = pd.Timestamp(r["period_end"]) + pd.Timedelta(days=1)
        q = check.loc[r["claim_id"]]
        per_day = r["measure"] == "per_day"
        ax.fill_between(
            [a, b],
            [q["true_q05"]] * 2,
            [q["true_q95"]] * 2,
            color="#9A9A9A",
            alpha=0.28,
            lw=0,
            hatch="////" if per_day else None,
            edgecolor="#777777" if per_day else None,
            zorder=1,
        )
        ax.plot([a, b], [q["true_q50"]] * 2, color="#1A1A1A", lw=1.2, zorder=2)
        st = styles[r["source"]]
        ref = r["low"] if np.isfinite(r["low"]) and r["low"] > 0 else r["high"]
        ax.plot([a, b], [ref, ref], color=st["color"], lw=1.0, alpha=0.8, zorder=3)
        _glyph(ax, a + (b - a) / 2, r["low"], r["high"], r["qualifier"], st["color"], st["marker"], size=0.8)
        shown.add(r["source"])
        values += [q["true_q05"], q["true_q95"], r["low"], r["high"]]
    vals = np.asarray([v for v in values if np.isfinite(v) and v > 0], dtype=float)
    # daily averages and window totals share this axis: go logarithmic early
    log = _set_count_axis(ax.yaxis, vals, force_log=bool(vals.size and vals.max() / vals.min() > 20))
    if not log:
        ax.set_ylim(bottom=0)
    _date_axis(ax)
    ax.set_ylabel("figure for\nthe window", fontsize=8)
    ax.set_title(
        f"{_name(result, pop)}: window and daily claims (not cumulative): stated figure vs the model's loss over that window\n"
        "(black: median, grey: 90% interval; hatched: a daily average)",
        loc="left",
        fontsize=8,
    )
    ax.grid(True, which="major", color="#E5E5E5", lw=0.6)
    ax.set_axisbelow(True)
    return shown


def plot_cumulative(result, population: str | None = None, *, corrected: bool = False, ax=None) -> Figure:
    """Cumulative killed, wounded and casualties over time with every claim drawn on them.

    One panel per population (or only ``population``), each followed by a small panel of the
    window and daily claims when there are any. ``ax`` may be one Axes (one population; window
    claims are then only counted in a note) or a pair ``(cumulative_ax, window_ax)``.
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
    has_window = {
        p: bool(
            len(frame[frame["population"] == p])
            and (frame[frame["population"] == p].apply(_claim_kind, axis=1) == "window").any()
        )
        for p in pops
    }

    if ax is not None:
        if len(pops) > 1:
            raise ValueError("plot_cumulative(ax=...) draws one population: pass population=")
        axes_pairs = [(ax[0], ax[1]) if isinstance(ax, (tuple, list)) else (ax, None)]
        fig = _figure_of(axes_pairs[0][0])
        own = False
    else:
        heights = []
        for p in pops:
            heights += [3.6] + ([1.5] if has_window[p] else [])
        bottom_room = 1.0
        total = sum(heights) + 0.75 * (len(heights) - 1) + bottom_room + 0.5
        fig = _new_figure(11.5, total)
        gs = fig.add_gridspec(
            len(heights),
            1,
            height_ratios=heights,
            hspace=0.75 * len(heights) / sum(heights) * 1.0,
            bottom=bottom_room / total,
            top=1 - 0.45 / total,
            left=0.09,
            right=0.76,
        )
        axes_pairs = []
        k = 0
        for p in pops:
            main = fig.add_subplot(gs[k])
            k += 1
            win = None
            if has_window[p]:
                win = fig.add_subplot(gs[k], sharex=main)
                k += 1
            axes_pairs.append((main, win))
        own = True

    shown: set = set()
    for p, (main, win) in zip(pops, axes_pairs):
        s, any_window, notes = _cumulative_panel(main, result, p, est, frame, styles, bias_med, corrected)
        shown |= s
        if any_window and win is not None:
            shown |= _window_panel(win, result, p, frame, check, styles)
        elif any_window:
            n = int((frame[frame["population"] == p].apply(_claim_kind, axis=1) == "window").sum())
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
                fontsize=7.5,
                color="#555555",
                bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="#DDDDDD", alpha=0.85),
                zorder=6,
            )

    first = axes_pairs[0][0]
    handles = _source_legend_handles(styles, shown)
    key = [
        Line2D([], [], color="#1A1A1A", ls=_CATEGORY_STYLE[c][1], lw=1.4, label=f"{c}: median")
        for c in reversed(CATEGORIES)
    ]
    key += [
        Patch(color="#8A8A8A", alpha=0.35, label="50% interval"),
        Patch(color="#8A8A8A", alpha=0.16, label="90% interval"),
    ]
    key += _glyph_key(with_corrected=corrected)
    if own:
        if handles:
            first.legend(
                handles=handles,
                title="source",
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
                fontsize=7.5,
                title_fontsize=8,
                frameon=False,
                borderaxespad=0,
            )
        fig.legend(handles=key, loc="lower center", ncol=4, fontsize=7.5, frameon=False, bbox_to_anchor=(0.45, 0.0))
    else:  # someone else's figure: one legend beside the axes (an extra legend artist would be clipped)
        first.legend(
            handles=handles + key,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=7,
            frameon=False,
            borderaxespad=0,
        )
    return fig


# ------------------------------------------------------------------------------------------------
# Sources' biases
# ------------------------------------------------------------------------------------------------


def plot_sources(result, ax=None) -> Figure:
    """Each source's bias factor (reported ÷ true): median and 90% interval, grouped by stance."""
    src = summary.sources(result).copy()
    src["stance_rank"] = src["stance"].map({s: k for k, s in enumerate(STANCE_ORDER)}).fillna(len(STANCE_ORDER))
    src = src.sort_values(["stance_rank", "bias_q50", "source"], ascending=[True, False, True]).reset_index(drop=True)
    stances = list(dict.fromkeys(src["stance"]))
    n_rows = len(src) + len(stances)
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
            ax.plot([r["bias_q05"], r["bias_q95"]], [y, y], color=colour, lw=2.2, solid_capstyle="butt")
            ax.plot([r["bias_q50"]], [y], "o", color=colour, mec="white", ms=7)
            n = int(r["n_claims"])
            text = (
                f"{_short(result.config.source_label(r['source']), 60)} [{stance}] ({n} claim{'s' if n != 1 else ''})"
            )
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
    return fig


# ------------------------------------------------------------------------------------------------
# Claims check
# ------------------------------------------------------------------------------------------------


def plot_claims_check(result, ax=None) -> Figure:
    """Per counted loss claim: the 90% posterior predictive interval of its source's figure against
    the stated figure; surprising claims (flagged) first, highlighted."""
    check = summary.claims_check(result)
    check = check[check["role"] == ROLE_LOSS].copy()
    frame = result.inputs.claims.set_index("claim_id")
    ids = list(check["claim_id"])
    figure = result.idata.posterior_predictive["figure"]
    fq = {}
    if ids:
        draws = np.asarray(figure.sel(claim=ids).values).reshape(-1, len(ids))
        q = np.quantile(draws, [0.05, 0.5, 0.95], axis=0)
        fq = {cid: q[:, k] for k, cid in enumerate(ids)}
    check["flagged"] = check["flag"].fillna("").astype(str) != ""
    check["surprise"] = (check["ppc_percentile"] - 0.5).abs()
    check["end"] = [frame.loc[c, "period_end"] for c in check["claim_id"]]
    check = pd.concat(
        [
            check[check["flagged"]].sort_values("surprise", ascending=False),
            check[~check["flagged"]].sort_values(["population", "end", "claim_id"]),
        ]
    )
    n = len(check)
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
        _set_count_axis(axis.xaxis, finite, force_log=True)
        if finite.size:
            axis.set_xlim(finite.min() / 1.6, finite.max() * 1.6)  # the same scale in every column
    if not n:
        axs[0].text(0.5, 0.5, "no counted loss claim", transform=axs[0].transAxes, ha="center")
    n_flag = int(check["flagged"].sum()) if n else 0
    axs[0].set_title(
        f"Claims check: each source's predicted figure (grey: 90% interval, |: median) vs the stated figure\n"
        f"{n_flag} of {n} claims surprising (in orange, listed first)",
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
    population (one panel each; all on ``ax`` when given), with any daily-average claims."""
    rates = _daily_rates(result)
    pops = [p for p in rates if population is None or p == population]
    if population is not None and not pops:
        raise ValueError(f"population {population!r} is not estimated")
    styles = _source_styles(result)
    frame = result.inputs.claims
    if ax is None:
        fig = _new_figure(10.5, 0.8 + 2.6 * len(pops))
        fig.set_layout_engine("constrained")
        axs = [fig.add_subplot(len(pops), 1, k + 1) for k in range(len(pops))]
        together = False
    else:
        fig = _figure_of(ax)
        axs = [ax] * len(pops)
        together = True
    shown = set()
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
            vals = vals[np.isfinite(vals) & (vals > 0)]
            log = _set_count_axis(axis.yaxis, vals, force_log=bool(vals.size and vals.max() / vals.min() > 20))
            if not log:
                axis.set_ylim(bottom=0)
            _shade_extrapolated(axis, result, p)
            axis.set_title(
                f"{_name(result, p)}: daily casualties (killed + wounded), median and 90% interval",
                loc="left",
                fontsize=10,
            )
            axis.set_ylabel("casualties per day")
            _date_axis(axis)
            axis.grid(True, color="#E5E5E5", lw=0.6)
            axis.set_axisbelow(True)
    if together and pops:
        vals = np.concatenate([np.concatenate([rates[p]["q05"], rates[p]["q95"]]) for p in pops])
        log = _set_count_axis(ax.yaxis, vals)
        if not log:
            ax.set_ylim(bottom=0)
        ax.set_title("Daily casualties (killed + wounded): median and 90% interval", loc="left", fontsize=10)
        ax.set_ylabel("casualties per day")
        _date_axis(ax)
        ax.grid(True, color="#E5E5E5", lw=0.6)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    elif shown:
        handles = _source_legend_handles(styles, shown)
        axs[0].legend(
            handles=handles,
            title="daily figures stated by",
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=7.5,
            title_fontsize=8,
            frameon=False,
            borderaxespad=0,
        )
    return fig


# ------------------------------------------------------------------------------------------------
# Priors vs posteriors
# ------------------------------------------------------------------------------------------------


def _prior_panels(result) -> list[dict]:
    """Each key hyperparameter: posterior draws and the analytic prior (scipy) from the config."""
    from scipy import stats

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
        dim = [d for d in post["stance_z"].dims if d not in ("chain", "draw")]
        for stance in post["stance_z"][dim[0]].values if dim else []:
            mean, sd = prior_of[str(stance)]
            z = draws("stance_z", **{dim[0]: stance})
            panels.append(
                dict(
                    title=f"stance effect: {stance}\n(bias factor exp(effect))",
                    draws=np.exp(mean + sd * z),
                    prior=stats.lognorm(s=sd, scale=np.exp(mean)),
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
        axis.set_title(panel["title"], fontsize=8.5, loc="left")
        axis.set_yticks([])
        axis.tick_params(axis="x", labelsize=7.5)
        axis.set_xlim(lo, hi)
    for axis in axs[len(panels) :]:
        axis.set_visible(False)
    if panels:
        axs[0].legend(fontsize=7.5, frameon=False, loc="upper right")
        if axes is None:
            fig.suptitle(
                "Priors (blue: density from the configuration) vs posteriors (orange: histogram of draws)",
                fontsize=10,
                x=0.01,
                ha="left",
            )
            fig.tight_layout(rect=(0, 0, 1, 0.97))
    else:
        axs[0].text(0.5, 0.5, "no hyperparameter in the posterior", transform=axs[0].transAxes, ha="center")
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


def save_plots(result, out_dir) -> list[Path]:
    """Write every figure into ``out_dir`` (created if needed) as a PNG at a print resolution
    (200 dpi) and as an SVG beside it (vector, for print; byte-for-byte reproducible); returns the
    PNG paths.

    ``write_report(result, DIR)`` calls this with ``DIR/plots``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in PLOTS.items():
        fig = make(result)
        try:
            path = out / name
            # a figure already laid out by a layout engine fits its canvas; cropping it to the
            # tight bounding box would only draw it twice (~0.6 s per fit)
            tight = "tight" if fig.get_layout_engine() is None else None
            fig.savefig(path, dpi=_DPI, bbox_inches=tight, facecolor="white")
            # the same ids and no date in every run: same fit, same file
            with matplotlib.rc_context({"svg.hashsalt": "reconcile"}):
                fig.savefig(path.with_suffix(".svg"), bbox_inches=tight, facecolor="white", metadata={"Date": None})
            written.append(path)
        finally:
            fig.clear()
    return written


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
