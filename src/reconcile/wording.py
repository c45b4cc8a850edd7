"""Numbers and claims in words, for the report and the interactive view: "1,090,000",
"at least 30", "200 to 900 ("several hundred")", "since the start, by 2024-12-17"."""

from __future__ import annotations

import math

import pandas as pd

_QUALIFIER_WORDS = {
    "exact": "",
    "about": "about ",
    "at_least": "at least ",
    "more_than": "more than ",
    "at_most": "at most ",
    "fewer_than": "fewer than ",
}


def _n(v) -> str:
    """A count for a reader: thousands separators, three significant digits for large numbers."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(v):
        return ""
    if abs(v) >= 1000:
        digits = int(math.floor(math.log10(abs(v)))) - 2
        return f"{round(v, -digits):,.0f}"
    if abs(v) >= 10 or v == 0:
        return f"{v:,.0f}"
    return f"{v:.2g}"


def _stated(row) -> str:
    """The stated figure as words: "about 1,000", "at least 30", "200 to 900 ("several hundred")"."""
    q = row["qualifier"]
    low, high = row["low"], row["high"]
    unit = " a day" if row.get("measure") == "per_day" else ""
    if q in ("at_least", "more_than"):
        text = f"{_QUALIFIER_WORDS[q]}{_n(low)}"
    elif q in ("at_most", "fewer_than"):
        text = f"{_QUALIFIER_WORDS[q]}{_n(high)}"
    elif q in ("exact", "about"):
        text = f"{_QUALIFIER_WORDS[q]}{_n(row['value'])}"
    else:
        text = f"{_n(low)} to {_n(high)}" if math.isfinite(high) else f"at least {_n(low)}"
    phrase = str(row.get("phrase") or "").strip()
    if q == "vague" and phrase:
        text += f" (“{phrase}”)"
    return text + unit


def _period(row) -> str:
    start, end = pd.Timestamp(row["period_start"]), pd.Timestamp(row["period_end"])
    if row.get("measure") == "per_day":
        return f"daily average {start:%Y-%m-%d} to {end:%Y-%m-%d}"
    if row.get("day_start", 0) > 0:
        return f"{start:%Y-%m-%d} to {end:%Y-%m-%d}"
    return f"since the start, by {end:%Y-%m-%d}"
