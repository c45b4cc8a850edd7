"""The report's interactive cumulative view: the data it draws, as JSON safe inside ``<script>``.

The view is hand-written JavaScript drawing inline SVG (``templates/interactive.js``, about 10 kB)
from one embedded JSON document: per population, the cumulative bands by date (median, 50% and
90% intervals of killed, wounded and casualties) and the claims drawn on them, each with its
source, quote, dates, stated figure and citation. No library, no request: the page stays one
self-contained file (docs/interactive-view.md has the measurements behind that choice).

Every text goes into the page through the DOM's ``textContent`` (never ``innerHTML``), and the
JSON escapes ``<``, ``>``, ``&`` and the two JavaScript line separators, so a quote cannot close
the ``<script>`` element it travels in. Numbers are rounded to four significant digits and keys
sorted: the same fit gives the same bytes.
"""

from __future__ import annotations

import json
import math
from importlib import resources

import pandas as pd

from . import summary
from .model import CATEGORIES
from .plots import _claim_kind, _source_styles
from .wording import _period, _stated

__all__ = ["view_data", "view_json", "view_script"]

_BANDS = ("q05", "q25", "q50", "q75", "q95")
_DRAWN = ("cumulative", "bound")  # the claims drawn on a cumulative scale
_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _round(v) -> float | None:
    """Four significant digits (the bands' draws carry no more); None for what is not finite."""
    v = float(v)
    if not math.isfinite(v):
        return None
    if v == 0:
        return 0.0
    return float(f"{v:.4g}")


def _text(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v)


def view_data(result) -> dict:
    """What the interactive view draws: ``populations`` (label, dates, bands per category and the
    claims of each population), ``sources`` (label, colour, marker; the static figure's styles)
    and ``categories``."""

    config = result.config
    est = summary.estimates(result)
    frame = result.inputs.claims
    styles = _source_styles(result)
    check = summary.claims_check(result).set_index("claim_id")
    kinds = frame.apply(_claim_kind, axis=1) if len(frame) else pd.Series(dtype=object)
    sources = {}
    for source, st in styles.items():
        sources[source] = {
            "label": config.source_label(source),
            "color": st["color"],
            "marker": st["marker"],
            "rank": int(st["rank"]),
        }
    populations = []
    for pop in result.inputs.populations:
        mine = est[est["population"] == pop]
        if not len(mine):
            continue
        dates = list(mine[mine["category"] == CATEGORIES[0]]["date"])
        bands = {}
        for category in CATEGORIES:
            c = mine[mine["category"] == category]
            assert list(c["date"]) == dates
            bands[category] = {q: [_round(v) for v in c[q]] for q in _BANDS}
        claims = []
        n_window = 0
        for (_, row), kind in zip(frame.iterrows(), kinds):
            if row["population"] != pop:
                continue
            if kind == "window":
                n_window += 1
            if kind not in _DRAWN:
                continue
            cid = row["claim_id"]
            citation = _text(row["citation"])
            true = check.loc[cid, ["true_q05", "true_q50", "true_q95"]] if cid in check.index else None
            claims.append(
                {
                    "id": _text(cid),
                    "kind": kind,
                    "source": _text(row["source"]),
                    "category": _text(row["category"]),
                    "qualifier": _text(row["qualifier"]),
                    "date": f"{pd.Timestamp(row['period_end']):%Y-%m-%d}",
                    "low": _round(row["low"]),
                    "high": _round(row["high"]),
                    "stated": _stated(row),
                    "period": _period(row),
                    "reported": f"{pd.Timestamp(row['reported_on']):%Y-%m-%d}",
                    "quote": _text(row["quote"]),
                    "citation": citation,
                    "url": citation.startswith(("http://", "https://")),
                    "true": [_round(v) for v in true] if true is not None else None,
                }
            )
        populations.append(
            {
                "id": pop,
                "label": config.population_label(pop),
                "start": f"{pd.Timestamp(result.inputs.grid.starts[pop]):%Y-%m-%d}",
                "dates": dates,
                "bands": bands,
                "claims": claims,
                "n_window": n_window,
            }
        )
    return {"categories": list(CATEGORIES), "populations": populations, "sources": sources}


def view_json(data: dict) -> str:
    """``data`` as JSON that is safe inside a ``<script>`` element: no ``<``, ``>`` or ``&``
    (escaped as ``\\u003c`` etc., which JSON reads back as the same characters), no raw line
    separators; keys sorted, so that equal data give equal bytes."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    for raw, escaped in _ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def view_script() -> str:
    """The view's JavaScript (no library)."""
    script = resources.files("reconcile").joinpath("templates/interactive.js").read_text(encoding="utf-8")
    if any(s in script.lower() for s in ("</", "<!--", "<script")):  # would end or confuse its element
        raise ValueError("templates/interactive.js must not contain '</', '<!--' or '<script'")
    return script
