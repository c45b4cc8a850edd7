"""The review loop of ``reconcile extract --merge``: candidates against an existing claims file.

:func:`merge_candidates` compares candidate rows (from :mod:`reconcile.extract`) with the
claims already in a file and keeps only the new ones:

* a candidate is **already there** when a claim states the same figure (same category and
  value, or the same vague phrase) and either has the same quote (spaces aside) or the same
  source on the same day: it is left out;
* a candidate is a **likely relay** when a claim states the same figure about the same
  population from the same source (or when either source is blank) on another day or in
  other words: it is kept, with ``derived_from`` set to that claim (to its original, when the
  claim is itself a relay) and a note saying why;
* candidates among themselves follow the same rule (the first one stated is the original).

:func:`write_merged` writes the existing claims unchanged, then the new candidates, in one
file that ``reconcile validate`` reads; :func:`blanks_to_fill` lists what the person still
has to fill (the required cells left blank), from the validator's own problems.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Sequence

import pandas as pd

from reconcile.errors import ReconcileError
from reconcile.lexicon import Lexicon, default_lexicon, normalize_phrase

__all__ = [
    "ClaimsTable",
    "MergeResult",
    "ReviewError",
    "blanks_to_fill",
    "merge_candidates",
    "read_claims_table",
    "write_merged",
]


class ReviewError(ReconcileError, ValueError):
    """The claims file given to ``--merge`` cannot be read as a CSV table (message names the row)."""


@dataclass(frozen=True)
class ClaimsTable:
    """An existing claims file as written: its header and rows of strings."""

    path: str
    header: tuple[str, ...]
    rows: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class MergeResult:
    new: pd.DataFrame  # the candidates to add, ids made unique against the file
    already: tuple[tuple[str, str, str], ...]  # (candidate id, claim id, why) left out
    relays: tuple[tuple[str, str], ...]  # (new id, claim id it relays)


def read_claims_table(path: str | PathLike[str]) -> ClaimsTable:
    """Read a claims CSV as strings (UTF-8, BOM accepted), without judging its content."""
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"{p}: is a directory, not a claims file")
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such claims file")
    data = p.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ReviewError(
            f"{p}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}, row {line})"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        table = list(reader)
    except csv.Error as exc:
        raise ReviewError(f"{p}: row {reader.line_num}: not valid CSV ({exc})") from None
    if not table or not any(c.strip() for c in table[0]):
        raise ReviewError(f"{p}: empty: expected a header row with claim_id, source, value, quote, ...")
    header = tuple(c.strip() for c in table[0])
    if "claim_id" not in header:
        raise ReviewError(f"{p}: row 1: no `claim_id` column in the header {list(header)!r}")
    rows = []
    for n, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise ReviewError(f"{p}: row {n}: {len(cells)} cells where the header has {len(header)}")
        rows.append(dict(zip(header, cells)))
    return ClaimsTable(str(p), header, tuple(rows))


def _number(text: object) -> float | None:
    try:
        return float(str(text)) if str(text).strip() != "" else None
    except ValueError:
        return None


def _figure(row: dict, lexicon: Lexicon) -> tuple:
    """What a row states, comparable across rows: category and value(s), or the vague phrase."""
    category = str(row.get("category", "")).strip()
    value, high = _number(row.get("value", "")), _number(row.get("value_high", ""))
    if str(row.get("qualifier", "")).strip() == "vague" and value is None:
        found = lexicon.find(str(row.get("phrase", "")))
        return (category, "vague", found and normalize_phrase(found[0]))
    return (category, value, high)


def _quote(text: object) -> str:
    return " ".join(str(text).split())


def _same_source(a: object, b: object) -> bool:
    return normalize_phrase(str(a)) == normalize_phrase(str(b)) and str(a).strip() != ""


def _root(claim_id: str, parent: dict[str, str]) -> str:
    seen = {claim_id}
    while parent.get(claim_id) and parent[claim_id] not in seen:
        claim_id = parent[claim_id]
        seen.add(claim_id)
    return claim_id


def merge_candidates(existing: ClaimsTable, candidates: pd.DataFrame, lexicon: Lexicon | None = None) -> MergeResult:
    """The candidates that are not in ``existing`` yet, likely relays marked (see the module)."""
    lexicon = lexicon or default_lexicon()
    known = [dict(r) for r in existing.rows]
    parent = {r.get("claim_id", ""): r.get("derived_from", "") for r in known}
    taken = {r.get("claim_id", "") for r in known}
    already: list[tuple[str, str, str]] = []
    relays: list[tuple[str, str]] = []
    new_rows: list[dict] = []
    renamed: dict[str, str] = {}
    for cand in candidates.to_dict("records"):
        cand = {k: ("" if v is None else v) for k, v in cand.items()}
        fig = _figure(cand, lexicon)
        dup = None
        for row in known:
            if _figure(row, lexicon) != fig:
                continue
            a, b = _quote(row.get("quote", "")), _quote(cand["quote"])
            if a and b and (a == b or (min(len(a), len(b)) >= 40 and (a in b or b in a))):
                dup = (row["claim_id"], "same figure, same quote")
                break
            if (
                _same_source(row.get("source", ""), cand["source"])
                and str(row.get("reported_on", "")) == str(cand["reported_on"])
                and cand["reported_on"]
            ):
                dup = (row["claim_id"], "same figure, source and date")
                break
        if dup is not None:
            already.append((str(cand["claim_id"]), dup[0], dup[1]))
            renamed[str(cand["claim_id"])] = dup[0]
            continue
        cid = str(cand["claim_id"])
        base, n = cid, 2
        while cid in taken:
            cid = f"{base}-{n}"
            n += 1
        renamed[str(cand["claim_id"])] = cid
        cand["claim_id"] = cid
        if cand.get("derived_from"):
            cand["derived_from"] = renamed.get(str(cand["derived_from"]), cand["derived_from"])
        else:
            for row in known + new_rows:
                if _figure(row, lexicon) != fig:
                    continue
                pop_a, pop_b = str(row.get("population", "")), str(cand["population"])
                if pop_a and pop_b and pop_a != pop_b:
                    continue
                src_a, src_b = str(row.get("source", "")), str(cand["source"])
                if src_a and src_b and not _same_source(src_a, src_b):
                    continue
                target = _root(row["claim_id"], parent)
                cand["derived_from"] = target
                note = f"likely relay of {target} (same figure{', same source' if src_a and src_b else ''}): check"
                cand["notes"] = "; ".join(filter(None, [str(cand.get("notes", "")), note]))
                relays.append((cid, target))
                break
        parent[cid] = str(cand.get("derived_from", ""))
        taken.add(cid)
        new_rows.append(cand)
    frame = pd.DataFrame(new_rows, columns=list(candidates.columns), dtype=object)
    return MergeResult(frame, tuple(already), tuple(relays))


def write_merged(existing: ClaimsTable, new: pd.DataFrame, out) -> tuple[str, ...]:
    """Write the existing claims as they are, then the new rows, to ``out`` (a path or a text
    stream); columns are the file's, then any candidate column it lacks. Returns the header."""
    header = list(existing.header) + [c for c in new.columns if c not in existing.header]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    for row in existing.rows:
        writer.writerow({c: row.get(c, "") for c in header})
    for row in new.to_dict("records"):
        writer.writerow({c: ("" if row.get(c) is None else row.get(c, "")) for c in header})
    if isinstance(out, (str, PathLike)):
        Path(out).write_text(buf.getvalue(), encoding="utf-8", newline="")
    else:
        out.write(buf.getvalue())
    return tuple(header)


_BLANK = re.compile(r"^(?:a non-blank|a date)")


def blanks_to_fill(problems: Sequence, first_new_row: int) -> tuple[list, list]:
    """Split a validator's problems into (blanks of the new rows to fill, anything else)."""
    blanks, other = [], []
    for p in problems:
        if p.row is not None and p.row >= first_new_row and p.value == "" and _BLANK.match(p.expected):
            blanks.append(p)
        else:
            other.append(p)
    return blanks, other
