"""Read a claims file, validate all of it, return one frozen, canonical :class:`Claims`.

The claims format is the project's contract (docs: "The claims file"). This module is the
only place that knows it:

* :func:`read_claims` reads a CSV file (path or file object) and returns :class:`Claims`,
  or raises one :class:`ClaimsError` listing every problem (row, column, value found,
  what was expected);
* :func:`claims_from_frame` does the same for a pandas DataFrame built in memory;
* :func:`validate_claims` returns the problems instead of raising.

The input is never modified: files are opened read-only, DataFrames are only read.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import math
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import IO, Any, Iterable, Mapping, Union

import pandas as pd

from reconcile._io import FORMULA_START  # a leading apostrophe before one of these guards a cell
from reconcile.errors import ReconcileError
from reconcile.lexicon import Lexicon, default_lexicon

__all__ = [
    "CATEGORIES",
    "QUALIFIERS",
    "STANCES",
    "STANCE_UNKNOWN",
    "MEASURES",
    "REQUIRED_COLUMNS",
    "OPTIONAL_COLUMNS",
    "CANONICAL_COLUMNS",
    "Problem",
    "ClaimsError",
    "ClaimsFileMissing",
    "Claims",
    "read_claims",
    "claims_from_frame",
    "validate_claims",
]

# --------------------------------------------------------------------------------------
# Vocabulary of the format
# --------------------------------------------------------------------------------------

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
#: Stances a file may state; a blank stance becomes :data:`STANCE_UNKNOWN`.
STANCES: tuple[str, ...] = ("adversary", "own", "neutral")
STANCE_UNKNOWN = "unknown"
MEASURES: tuple[str, ...] = ("total", "per_day")

REQUIRED_COLUMNS: tuple[str, ...] = (
    "claim_id",
    "population",
    "category",
    "source",
    "reported_on",
    "qualifier",
    "value",
    "quote",
    "citation",
)
#: Optional columns and the default written in the file's terms ("" = blank). Defaults that
#: depend on other cells (source_group, period_start, period_end) are filled in by
#: :class:`Claims`: source_group <- source, period_start <- the population's start,
#: period_end <- reported_on.
OPTIONAL_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "source_group": "",
        "stance": "",
        "period_start": "",
        "period_end": "",
        "measure": "total",
        "value_high": "",
        "phrase": "",
        "derived_from": "",
        "language": "",
        "notes": "",
    }
)

#: Columns of :attr:`Claims.frame`, in order (extra columns of the file follow).
CANONICAL_COLUMNS: tuple[str, ...] = (
    "claim_id",
    "row",
    "population",
    "category",
    "source",
    "source_group",
    "stance",
    "reported_on",
    "period_start",
    "period_end",
    "cumulative",
    "measure",
    "qualifier",
    "value",
    "value_high",
    "phrase",
    "low",
    "high",
    "derived_from",
    "counted",
    "quote",
    "citation",
    "language",
    "notes",
)

_KNOWN_COLUMNS = frozenset(REQUIRED_COLUMNS) | frozenset(OPTIONAL_COLUMNS)
#: Derived columns: a file may not use these names for extra columns.
_RESERVED_COLUMNS = frozenset(CANONICAL_COLUMNS) - _KNOWN_COLUMNS
_REQUIRED_TEXT = ("population", "source", "quote", "citation")
_DATE_COLUMNS = ("reported_on", "period_start", "period_end")
_NEEDS_VALUE = frozenset(QUALIFIERS) - {"vague"}
_VALUE_HIGH_ALLOWED = frozenset({"range", "vague"})

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# datetime64[ns] cannot hold dates outside this range.
_MIN_DATE = date(1678, 1, 1)
_MAX_DATE = date(2261, 12, 31)
_BOM = b"\xef\xbb\xbf"

_NO_CLAIMS = "at least one claim below the header (the file has no claims)"
_EXPECT_DATE = "a date YYYY-MM-DD"
_EXPECT_NUMBER = "a plain number such as 1000, 1000.0 or 1e3 (no thousands separators)"

#: The figures a claim may state (``value``, ``value_high``): the model reads every figure on a
#: log scale, so 0 (whose logarithm does not exist) and numbers beyond any war (more people than
#: live on Earth) cannot be fitted. A count of "none" is stated as ``at_most`` a small figure.
MIN_FIGURE = 1e-6
MAX_FIGURE = 1e10
_EXPECT_FIGURE = (
    f"a figure from {MIN_FIGURE:.6f} to {MAX_FIGURE:,.0f}: the model reads figures on a "
    "log scale, where 0 does not exist (for 'none', state at_most 1) and larger numbers "
    "exceed any war"
)

Source = Union[str, "os.PathLike[str]", IO[str], IO[bytes]]


# --------------------------------------------------------------------------------------
# Problems and errors
# --------------------------------------------------------------------------------------


def _show(value: str, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


@dataclass(frozen=True)
class Problem:
    """One way a claims file breaks the contract.

    ``row`` is numbered as in the file (header = 1, first data row = 2), ``None`` for a
    problem of the whole file; ``column`` is ``None`` when no single column is at fault.
    """

    row: int | None
    column: str | None
    value: str | None
    expected: str

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        if self.column is not None:
            where += f", column {self.column!r}"
        found = "" if self.value is None else f"found {_show(self.value)}, "
        return f"{where}: {found}expected {self.expected}"


class ClaimsError(ReconcileError, ValueError):
    """A claims file (or frame) breaks the contract; ``problems`` lists every problem."""

    def __init__(self, problems: Iterable[Problem], path: str | None = None):
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.path = path
        super().__init__(self._message())

    def _message(self) -> str:
        n = len(self.problems)
        head = f"{self.path or '<claims>'}: {n} problem{'s' if n != 1 else ''}"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])

    def __reduce__(self):
        return (type(self), (self.problems, self.path))


class ClaimsFileMissing(ReconcileError, FileNotFoundError):
    """The claims file is missing or cannot be read (as opposed to breaking the contract)."""


# --------------------------------------------------------------------------------------
# Reading: bytes -> text -> raw table (header, rows of stripped strings, row numbers)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RawTable:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    row_numbers: tuple[int, ...]


def _read_source(source: Source) -> tuple[bytes | str, str | None]:
    """Return the content (bytes, or str for a text stream) and the path, if any."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            with open(path, "rb") as handle:  # read-only
                return handle.read(), path
        except OSError as exc:
            raise ClaimsFileMissing(exc.errno, f"cannot read claims file: {exc.strerror or exc}", path) from exc
    if hasattr(source, "read"):
        name = getattr(source, "name", None)
        try:
            data = source.read()
        except OSError as exc:
            raise ClaimsFileMissing(exc.errno, f"cannot read claims: {exc}", name) from exc
        return data, name if isinstance(name, str) else None
    raise TypeError(f"read_claims expects a path or a file object, not {type(source).__name__}")


def _decode(data: bytes | str) -> tuple[str | None, list[Problem]]:
    if isinstance(data, str):
        return data.removeprefix("\ufeff"), []
    body = data[len(_BOM) :] if data.startswith(_BOM) else data
    offset = len(data) - len(body)
    try:
        return body.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        at = offset + exc.start
        bad = data[at : at + 1].hex()
        row, column = _locate(body[: exc.start].decode("utf-8"))
        return None, [Problem(row, column, f"byte 0x{bad} at byte offset {at}", "UTF-8 text (save the file as UTF-8)")]


def _scan(text: str, stop: int | None = None) -> tuple[int, int, str | None, int]:
    """Walk ``text`` as CSV (the csv module's dialect: ``,`` between cells, ``"`` around a quoted
    cell, ``""`` for a quote inside one, any line end) up to offset ``stop``, or to the first
    syntax error. Returns ``(row, field, error, at)``: the row (header = 1) and the 0-based field
    reached, the error (``"unterminated"``: a quoted cell never closed; ``"after_quote"``:
    something other than a comma or a line end right after a closing quote; None) and an
    offset: where the field starts, or the closing quote for ``"after_quote"``."""
    end = len(text) if stop is None else stop
    row, field, i, start = 1, 0, 0, 0
    at_start = True
    while i < end:
        c = text[i]
        if at_start and c == '"':
            j = i + 1
            while True:
                j = text.find('"', j)
                if j >= 0 and text.startswith('""', j):
                    j += 2
                    continue
                break
            if j < 0 or (stop is not None and stop <= j):
                return row, field, None if stop is not None else "unterminated", start
            i, at_start = j + 1, False
            if i < len(text) and text[i] not in ",\r\n" and (stop is None or i < stop):
                return row, field, "after_quote", j
            continue
        if c == ",":
            field, at_start, i, start = field + 1, True, i + 1, i + 1
        elif c in "\r\n":
            i += 2 if text.startswith("\r\n", i) else 1
            row, field, at_start, start = row + 1, 0, True, i
        else:
            at_start, i = False, i + 1
    return row, field, None, start


def _header_of(text: str) -> tuple[str, ...]:
    try:
        first = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error:
        return ()
    return tuple(cell.strip() for cell in first)


def _locate(text: str) -> tuple[int, str | None]:
    """Row and column (header name) of the position at the end of ``text`` (a prefix)."""
    row, field, _, _ = _scan(text, len(text))
    header = _header_of(text) if row > 1 else ()
    return row, header[field] if field < len(header) and header[field] else None


def _syntax_problem(text: str, header: tuple[str, ...], fallback_row: int, reason: str) -> Problem:
    """The one problem of a file the csv module could not parse strictly: row, column, excerpt."""
    row, field, error, at = _scan(text)
    if error is None:  # (the scanner and the csv module disagree: name what is known)
        return Problem(fallback_row, None, None, f"well-formed CSV ({reason})")
    names = [name for name in header if name]
    column = (
        (header[field] if field < len(header) and header[field] else names[-1] if names else None) if row > 1 else None
    )
    if error == "unterminated":
        excerpt = text[at : at + 60].split("\n")[0]
    else:  # the text around the closing quote, which is not followed by a comma
        excerpt = text[max(at - 40, 0) : at + 20].split("\n")[-1]
    quote_rule = 'inside a quoted cell, a double quote is written twice ("")'
    if error == "unterminated":
        expected = (
            f"a closing double quote for the quoted cell that starts here (it runs on to the "
            f"end of the file); {quote_rule}"
        )
    else:
        expected = (
            f"a comma or the end of the row right after the double quote that closes a "
            f"quoted cell (is that cell's own closing quote missing?); {quote_rule}"
        )
    return Problem(row, column, excerpt, expected)


def _clean_cell(text: str) -> str:
    """A cell as the claims see it: outer spaces removed, and a leading apostrophe that guards
    a cell against spreadsheet formulas (see :data:`FORMULA_START`) taken off."""
    text = text.strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START:
        text = text[1:].strip()
    return text


def _parse_csv(text: str) -> tuple[_RawTable | None, list[Problem]]:
    if not text.strip():
        return None, [
            Problem(None, None, None, "a CSV file with a header row and at least one claim; the file is empty")
        ]
    nul = text.find("\x00")
    if nul >= 0:
        at = len(text[:nul].encode("utf-8"))
        row, column = _locate(text[:nul])
        return None, [
            Problem(row, column, f"NUL byte at byte offset {at}", "a CSV text file (this looks like a binary file)")
        ]
    records: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), strict=True):
            records.append(record)
    except csv.Error as exc:
        header = tuple(c.strip() for c in records[0]) if records else ()
        return None, [_syntax_problem(text, header, len(records) + 1, str(exc))]
    header = tuple(cell.strip() for cell in records[0])
    problems: list[Problem] = []
    rows: list[tuple[str, ...]] = []
    numbers: list[int] = []
    for number, record in enumerate(records[1:], start=2):
        cells = [_clean_cell(cell) for cell in record]
        if not any(cells):
            continue  # blank line or a row of empty cells
        if len(cells) != len(header):
            problems.append(_count_problem(number, cells, header))
            continue
        rows.append(tuple(cells))
        numbers.append(number)
    return _RawTable(header, tuple(rows), tuple(numbers)), problems


def _count_problem(number: int, cells: list[str], header: tuple[str, ...]) -> Problem:
    """A row whose number of cells differs from the header's: it would shift or lose cells."""
    found = f"{len(header)} cells, as many as the header; this row has {len(cells)}"
    if len(cells) > len(header):
        extra = ",".join(cells[len(header) :])
        last = next((name for name in reversed(header) if name), None)
        return Problem(
            number,
            last,
            extra,
            f"{found}: the cells after {last!r} are extra (an unquoted comma inside a "
            "text cell? put the cell in double quotes)",
        )
    missing = header[len(cells) :]
    return Problem(
        number,
        missing[0] or None,
        None,
        f"{found}: {', '.join(repr(m) for m in missing)} missing (a line break inside an "
        "unquoted cell? put the cell in double quotes)",
    )


def _cell_text(value: Any) -> str:
    """Text of one DataFrame cell as it would appear in a claims file."""
    if value is None:
        return ""
    if isinstance(value, (datetime, pd.Timestamp)):
        if pd.isna(value):
            return ""
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else str(stamp)
    if isinstance(value, date):
        return value.isoformat()
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return _clean_cell(str(value))


def _table_from_frame(df: pd.DataFrame) -> _RawTable:
    header = tuple(str(c).strip() for c in df.columns)
    rows: list[tuple[str, ...]] = []
    numbers: list[int] = []
    for position, record in enumerate(df.itertuples(index=False, name=None)):
        cells = tuple(_cell_text(v) for v in record)
        if any(cells):
            rows.append(cells)
            numbers.append(position + 2)
    return _RawTable(header, tuple(rows), tuple(numbers))


# --------------------------------------------------------------------------------------
# Validation of the header
# --------------------------------------------------------------------------------------


def _is_claims_header(header: tuple[str, ...]) -> bool:
    """False when the header names none of the required columns (not a claims file)."""
    return any(column in header for column in REQUIRED_COLUMNS)


def _check_header(header: tuple[str, ...]) -> list[Problem]:
    present = set(header)
    missing = [c for c in REQUIRED_COLUMNS if c not in present]
    if not _is_claims_header(header):
        return [
            Problem(
                1,
                None,
                ",".join(header),
                "a header row naming the columns "
                + ", ".join(REQUIRED_COLUMNS)
                + " (this does not look like a claims file)",
            )
        ]
    problems: list[Problem] = []
    lowered = {h.lower(): h for h in header}
    for column in missing:
        hint = ""
        if column in lowered:
            hint = f" (found {lowered[column]!r}: column names are lower case)"
        problems.append(Problem(1, column, None, f"a column named {column!r}{hint}"))
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name:
            problems.append(Problem(1, None, "", f"a name for column {position} of the header"))
        elif name in seen:
            problems.append(Problem(1, name, name, "each column name only once"))
        elif name in _RESERVED_COLUMNS:
            problems.append(
                Problem(
                    1,
                    name,
                    name,
                    "an extra column name other than the derived columns " + ", ".join(sorted(_RESERVED_COLUMNS)),
                )
            )
        seen.add(name)
    return problems


# --------------------------------------------------------------------------------------
# Validation of one row: cells -> parsed values
# --------------------------------------------------------------------------------------


def _to_date(text: str) -> tuple[date | None, str]:
    """Parse a strict YYYY-MM-DD date; on failure return None and what was expected."""
    if not _DATE_RE.fullmatch(text):
        return None, _EXPECT_DATE
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        return None, f"{_EXPECT_DATE} that exists in the calendar"
    if not _MIN_DATE <= parsed <= _MAX_DATE:
        return None, f"{_EXPECT_DATE} between {_MIN_DATE} and {_MAX_DATE}"
    return parsed, ""


def _parse_date(text: str, row: int, column: str, problems: list[Problem]) -> date | None:
    parsed, expected = _to_date(text)
    if parsed is None:
        problems.append(Problem(row, column, text, expected))
    return parsed


def _parse_number(text: str, row: int, column: str, problems: list[Problem]) -> float | None:
    """A stated figure (see :data:`MIN_FIGURE`); blank gives NaN; a problem gives None."""
    if text == "":
        return math.nan
    number = float(text) if _NUMBER_RE.fullmatch(text) else math.nan
    if not math.isfinite(number):
        problems.append(Problem(row, column, text, _EXPECT_NUMBER))
        return None
    if not MIN_FIGURE <= number <= MAX_FIGURE:
        problems.append(Problem(row, column, text, _EXPECT_FIGURE))
        return None
    return number


def _parse_choice(
    text: str, allowed: tuple[str, ...], row: int, column: str, problems: list[Problem], blank: str | None = None
) -> str | None:
    """A case-insensitive choice; ``blank`` is the value of an empty cell (None: required)."""
    if text == "" and blank is not None:
        return blank
    lowered = text.lower()
    if lowered in allowed:
        return lowered
    extra = " or blank" if blank is not None else ""
    problems.append(Problem(row, column, text, "one of " + ", ".join(allowed) + extra))
    return None


def _interval(
    qualifier: str, value: float, value_high: float, phrase: str, lexicon: Lexicon, row: int, problems: list[Problem]
) -> tuple[float, float] | None:
    """The interval of the source's figure stated by the claim (NaN-free), or None."""
    has_value, has_high = not math.isnan(value), not math.isnan(value_high)
    if qualifier in _NEEDS_VALUE and not has_value:
        problems.append(Problem(row, "value", "", f"a number for qualifier {qualifier!r}"))
        return None
    if has_high and qualifier not in _VALUE_HIGH_ALLOWED:
        problems.append(
            Problem(
                row,
                "value_high",
                _num_text(value_high),
                f"a blank value_high: only 'range' and 'vague' take one, not {qualifier!r}",
            )
        )
        return None
    if qualifier in ("exact", "about"):
        return value, value
    if qualifier in ("at_least", "more_than"):
        return value, math.inf
    if qualifier in ("at_most", "fewer_than"):
        return 0.0, value
    if qualifier == "range":
        if not has_high:
            problems.append(Problem(row, "value_high", "", "a number (the upper end) for 'range'"))
            return None
        low, high = value, value_high
    else:  # vague
        if has_value and has_high:
            low, high = value, value_high
        elif phrase == "":
            problems.append(
                Problem(row, "phrase", "", "the phrase as written for 'vague' (or both value and value_high)")
            )
            return None
        else:
            known = lexicon.interval(phrase)
            if known is None:
                problems.append(
                    Problem(
                        row,
                        "phrase",
                        phrase,
                        "a phrase the lexicon knows (add it to the lexicon, or give both value and value_high)",
                    )
                )
                return None
            low = value if has_value else float(known[0])
            high = value_high if has_high else float(known[1])
    if high < low:
        column = "value_high" if has_high else "value"
        found = value_high if has_high else value
        problems.append(
            Problem(
                row,
                column,
                _num_text(found),
                f"an interval with low <= high (low {_num_text(low)}, high {_num_text(high)})",
            )
        )
        return None
    return low, high


def _num_text(number: float) -> str:
    return f"{number:g}"


def _parse_row(cells: Mapping[str, str], row: int, lexicon: Lexicon, problems: list[Problem]) -> dict[str, Any] | None:
    """Parse one row; append its problems; return its values, or None if any problem."""
    before = len(problems)

    def cell(column: str) -> str | None:  # None: column absent (already reported)
        if column in cells:
            return cells[column]
        return OPTIONAL_COLUMNS.get(column)

    def optional(column: str) -> str:  # an optional column: its default when absent
        return cells.get(column, OPTIONAL_COLUMNS[column])

    out: dict[str, Any] = {"row": row}
    for column in ("claim_id", *_REQUIRED_TEXT):
        text = cell(column)
        if text == "":
            problems.append(Problem(row, column, "", f"a non-blank {column}"))
        out[column] = text
    category = cell("category")
    out["category"] = None if category is None else _parse_choice(category, CATEGORIES, row, "category", problems)
    qualifier = cell("qualifier")
    out["qualifier"] = None if qualifier is None else _parse_choice(qualifier, QUALIFIERS, row, "qualifier", problems)
    out["stance"] = _parse_choice(optional("stance"), STANCES, row, "stance", problems, blank=STANCE_UNKNOWN)
    out["measure"] = _parse_choice(optional("measure"), MEASURES, row, "measure", problems, blank="total")
    out["source_group"] = cell("source_group") or out["source"]
    for column in ("phrase", "derived_from", "language", "notes"):
        out[column] = cell(column)

    reported = cell("reported_on")
    out["reported_on"] = None if reported is None else _parse_date(reported, row, "reported_on", problems)
    start_text, end_text = optional("period_start"), optional("period_end")
    out["cumulative"] = start_text == ""
    out["period_start"] = None if start_text == "" else _parse_date(start_text, row, "period_start", problems)
    out["period_end"] = out["reported_on"] if end_text == "" else _parse_date(end_text, row, "period_end", problems)
    _check_period(out, start_text, end_text, row, problems)

    value_text = cell("value")
    value = None if value_text is None else _parse_number(value_text, row, "value", problems)
    value_high = _parse_number(optional("value_high"), row, "value_high", problems)
    out["value"], out["value_high"] = value, value_high
    if out["qualifier"] is not None and value is not None and value_high is not None:
        interval = _interval(out["qualifier"], value, value_high, out["phrase"], lexicon, row, problems)
        out["low"], out["high"] = interval if interval else (None, None)
    return out if len(problems) == before else None


def _check_period(out: Mapping[str, Any], start_text: str, end_text: str, row: int, problems: list[Problem]) -> None:
    start, end, reported = out["period_start"], out["period_end"], out["reported_on"]
    if start is not None and end is not None and start > end:
        problems.append(Problem(row, "period_start", start_text, f"a period_start on or before period_end ({end})"))
    if end_text and end is not None and reported is not None and end > reported:
        problems.append(
            Problem(
                row,
                "period_end",
                end_text,
                f"a period_end on or before reported_on ({reported}): a claim cannot cover days after it was made",
            )
        )


# --------------------------------------------------------------------------------------
# Validation across rows: identifiers, provenance, population starts
# --------------------------------------------------------------------------------------


def _check_ids(table: _RawTable, problems: list[Problem]) -> None:
    header = table.header
    if "claim_id" not in header:
        return
    id_at = header.index("claim_id")
    derived_at = header.index("derived_from") if "derived_from" in header else None
    first_row: dict[str, int] = {}
    for number, cells in zip(table.row_numbers, table.rows):
        claim_id = cells[id_at]
        if claim_id in first_row:
            problems.append(
                Problem(number, "claim_id", claim_id, f"a unique claim_id (already used on row {first_row[claim_id]})")
            )
        elif claim_id:
            first_row[claim_id] = number
    if derived_at is None:
        return
    parent: dict[str, str] = {}
    for number, cells in zip(table.row_numbers, table.rows):
        target, claim_id = cells[derived_at], cells[id_at]
        if not target:
            continue
        if target == claim_id:
            problems.append(
                Problem(number, "derived_from", target, "the claim_id of another claim (not the row itself)")
            )
        elif target not in first_row:
            problems.append(Problem(number, "derived_from", target, "the claim_id of a claim in this file"))
        else:
            parent.setdefault(claim_id, target)
    for number, cells in zip(table.row_numbers, table.rows):
        claim_id = cells[id_at]
        seen, current = {claim_id}, parent.get(claim_id)
        while current is not None and current not in seen:
            seen.add(current)
            current = parent.get(current)
        if current is not None:
            problems.append(
                Problem(
                    number,
                    "derived_from",
                    cells[derived_at],
                    "a chain of derived_from that ends at an original claim (found a cycle)",
                )
            )


def _normalise_starts(starts: Mapping[str, date | str] | None) -> tuple[dict[str, date], list[Problem]]:
    """Configured population starts (dates or YYYY-MM-DD text) as dates, and problems."""
    out: dict[str, date] = {}
    problems: list[Problem] = []
    for population, start in (starts or {}).items():
        if isinstance(start, datetime):
            start = start.date()
        text = start.isoformat() if isinstance(start, date) else str(start).strip()
        parsed, expected = _to_date(text)
        if parsed is None:
            problems.append(
                Problem(None, None, text, f"{expected} as the start of population {population!r} in population_starts")
            )
        else:
            out[str(population)] = parsed
    return out, problems


def _population_starts(rows: list[dict[str, Any]], configured: Mapping[str, date]) -> dict[str, tuple[date, str]]:
    """Start of each population and where it comes from (for messages)."""
    starts: dict[str, tuple[date, str]] = {}
    for population in dict.fromkeys(r["population"] for r in rows):
        mine = [r for r in rows if r["population"] == population]
        explicit = [r["period_start"] for r in mine if r["period_start"] is not None]
        if population in configured:
            starts[population] = (configured[population], "configured")
        elif explicit:
            starts[population] = (min(explicit), "earliest period_start")
        else:
            starts[population] = (min(r["reported_on"] for r in mine), "earliest reported_on")
    return starts


def _check_starts(rows: list[dict[str, Any]], starts: Mapping[str, tuple[date, str]], problems: list[Problem]) -> None:
    for r in rows:
        if r["population"] not in starts or r["period_end"] is None:
            continue
        start, origin = starts[r["population"]]
        if r["period_start"] is not None and r["period_start"] < start:
            problems.append(
                Problem(
                    r["row"],
                    "period_start",
                    r["period_start"].isoformat(),
                    f"a period_start on or after the start of population {r['population']!r} ({start}, {origin})",
                )
            )
        elif r["period_start"] is None and start > r["period_end"] and r["category"] != "deployed":
            # (a force can be deployed before its first losses; a loss cannot precede them)
            problems.append(
                Problem(
                    r["row"],
                    "period_start",
                    "",
                    f"an explicit period_start: population {r['population']!r} starts {start} "
                    f"({origin}), after this claim's period_end {r['period_end']}",
                )
            )


# --------------------------------------------------------------------------------------
# Building the canonical object
# --------------------------------------------------------------------------------------


def _canonical_frame(
    rows: list[dict[str, Any]], starts: Mapping[str, tuple[date, str]], table: _RawTable
) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for column in CANONICAL_COLUMNS:
        if column == "period_start":
            values = [r["period_start"] or starts[r["population"]][0] for r in rows]
        elif column == "counted":
            values = [r["derived_from"] == "" for r in rows]
        else:
            values = [r[column] for r in rows]
        data[column] = values
    frame = pd.DataFrame(data)
    for column in _DATE_COLUMNS:
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    for column in ("value", "value_high", "low", "high"):
        frame[column] = frame[column].astype("float64")
    frame["row"] = frame["row"].astype("int64")
    frame["cumulative"] = frame["cumulative"].astype(bool)
    frame["counted"] = frame["counted"].astype(bool)
    positions = {number: i for i, number in enumerate(table.row_numbers)}
    for at, name in enumerate(table.header):
        if name not in _KNOWN_COLUMNS:
            frame[name] = [table.rows[positions[r["row"]]][at] for r in rows]
    return frame


def _derive(
    table: _RawTable, population_starts: Mapping[str, date | str] | None, lexicon: Lexicon
) -> tuple[pd.DataFrame | None, dict[str, date], list[Problem]]:
    """Validate a raw table; return (canonical frame, population starts, problems)."""
    configured, problems = _normalise_starts(population_starts)
    problems += _check_header(table.header)
    if not table.rows:
        problems.append(Problem(None, None, None, _NO_CLAIMS))
    if not _is_claims_header(table.header):
        return None, {}, problems
    rows: list[dict[str, Any]] = []
    row_problems: list[Problem] = []
    for number, cells in zip(table.row_numbers, table.rows):
        parsed = _parse_row(dict(zip(table.header, cells)), number, lexicon, row_problems)
        if parsed is not None:
            rows.append(parsed)
    _check_ids(table, row_problems)
    if rows and len(rows) == len(table.rows) and not problems and not row_problems:
        starts = _population_starts(rows, configured)
        _check_starts(rows, starts, row_problems)
    elif rows:
        # Check what can be checked on the rows that parsed, against configured starts only.
        starts = {p: (d, "configured") for p, d in configured.items()}
        _check_starts(rows, starts, row_problems)
    problems += sorted(row_problems, key=lambda p: p.row or 0)
    if problems:
        return None, {}, problems
    frame = _canonical_frame(rows, starts, table)
    return frame, {p: s for p, (s, _) in starts.items()}, []


def _render_csv(table: _RawTable) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # "\r\n" line ends: cells holding "\r" or "\n" get quoted
    writer.writerow(table.header)
    writer.writerows(table.rows)
    return buffer.getvalue()


@dataclass(frozen=True, eq=False, repr=False)
class Claims:
    """A validated claims file: canonical, immutable. Build it with :func:`read_claims`.

    Equality compares content (the canonical frame without file row numbers, the
    population starts and the lexicon version), so a claims file and its
    :meth:`to_csv_text` rendering give equal objects.
    """

    _table: _RawTable
    _frame: pd.DataFrame
    _populations: tuple[tuple[str, date], ...]
    _population_starts: tuple[tuple[str, date], ...]
    _lexicon: Lexicon
    sha256: str
    path: str | None = None

    # -- data ---------------------------------------------------------------------------
    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the canonical table (columns: :data:`CANONICAL_COLUMNS`, then extras)."""
        return self._frame.copy(deep=True)

    def counted_frame(self) -> pd.DataFrame:
        """A copy of the claims that count (no ``derived_from``), index reset."""
        frame = self._frame[self._frame["counted"]]
        return frame.reset_index(drop=True).copy(deep=True)

    @property
    def populations(self) -> Mapping[str, date]:
        """Population -> start date (configured, else earliest period_start/reported_on)."""
        return MappingProxyType(dict(self._populations))

    @property
    def lexicon(self) -> Lexicon:
        return self._lexicon

    @property
    def lexicon_version(self) -> str:
        return str(getattr(self._lexicon, "version", "unknown"))

    def __len__(self) -> int:
        return len(self._frame)

    # -- derivation ---------------------------------------------------------------------
    def configured(
        self, population_starts: Mapping[str, date | str] | None = None, lexicon: Lexicon | None = None
    ) -> "Claims":
        """A new Claims from the same raw rows with other starts and/or another lexicon.

        ``None`` keeps the current value; a given ``population_starts`` replaces the
        current configured starts as a whole. Raises :class:`ClaimsError` when the rows
        do not fit the new configuration.
        """
        starts = dict(self._population_starts) if population_starts is None else population_starts
        return _build(self._table, starts, self._lexicon if lexicon is None else lexicon, self.sha256, self.path)

    def as_of(self, when: date | str) -> "Claims":
        """The claims reported on or before ``when`` (a date or ``YYYY-MM-DD``): what was known
        that day. A kept claim whose ``derived_from`` names a claim reported later (a relay seen
        before its original) counts on its own. The hash (``sha256``) and path stay the file's.
        Raises :class:`ClaimsError` when no claim is left."""
        day = when if isinstance(when, date) else _to_date(str(when))[0]
        if day is None:
            raise ValueError(f"as-of date: expected YYYY-MM-DD, found {when!r}")
        reported = pd.to_datetime(self._frame["reported_on"]).dt.date
        keep_rows = set(self._frame.loc[(reported <= day).to_numpy(), "row"].astype(int))
        header = self._table.header
        id_at = header.index("claim_id")
        derived_at = header.index("derived_from") if "derived_from" in header else None
        kept = [(cells, n) for cells, n in zip(self._table.rows, self._table.row_numbers) if n in keep_rows]
        if not kept:
            first = min(reported) if len(reported) else None
            raise ClaimsError(
                [
                    Problem(
                        None,
                        "reported_on",
                        str(day),
                        f"at least one claim reported on or before it (the first is {first})",
                    )
                ],
                self.path,
            )
        ids = {cells[id_at] for cells, _ in kept}
        rows = []
        for cells, _ in kept:
            if derived_at is not None and cells[derived_at] and cells[derived_at] not in ids:
                cells = (*cells[:derived_at], "", *cells[derived_at + 1 :])
            rows.append(cells)
        table = _RawTable(header, tuple(rows), tuple(n for _, n in kept))
        return _build(table, dict(self._population_starts) or None, self._lexicon, self.sha256, self.path)

    def configured_for(self, config: Any) -> "Claims":
        """The claims as a fit with ``config`` (a :class:`reconcile.Config`) reads them: its
        populations' starts and its lexicon overrides applied. Raises :class:`ClaimsError`
        when the rows do not fit them."""
        overrides = config.lexicon_overrides
        lexicon = default_lexicon().with_overrides(overrides) if overrides else None
        return self.configured(population_starts=config.population_starts or None, lexicon=lexicon)

    def to_csv_text(self) -> str:
        """The raw rows as claims-format CSV text (reads back to an equal Claims)."""
        return _render_csv(self._table)

    # -- summaries ----------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """One row per population: start, counts per category, sources, dates covered."""
        frame = self._frame
        records = []
        for population, start in self._populations:
            mine = frame[frame["population"] == population]
            record = {
                "population": population,
                "start": start,
                "n_claims": len(mine),
                "n_counted": int(mine["counted"].sum()),
            }
            for category in CATEGORIES:
                record[category] = int((mine["category"] == category).sum())
            record["n_sources"] = int(mine["source"].nunique())
            record["first_date"] = mine["period_start"].min().date()
            record["last_date"] = mine["period_end"].max().date()
            records.append(record)
        return pd.DataFrame.from_records(records)

    def describe(self, labels: Mapping[str, str] | None = None) -> str:
        """A short human-readable summary per population (named ``code (label)`` where ``labels``
        gives a population a display name other than its code)."""
        n = len(self)
        lines = [
            f"{self.path or '<claims>'}: {n} claim{'s' if n != 1 else ''}, "
            f"{len(self._populations)} population(s), lexicon {self.lexicon_version}"
        ]
        for rec in self.summary().to_dict("records"):
            per = ", ".join(f"{rec[c]} {c}" for c in CATEGORIES if rec[c])
            name = str(rec["population"])
            label = (labels or {}).get(name, name)
            lines.append(
                f"  {name if label == name else f'{name} ({label})'}: {_plural(rec['n_claims'], 'claim')} ({per}; "
                f"{rec['n_counted']} counted), {_plural(rec['n_sources'], 'source')}, "
                f"{rec['first_date']} to {rec['last_date']} (start {rec['start']})"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        caption = html.escape(f"Claims: {self.path or '<in memory>'}, {len(self)} claims")
        table = self.summary().to_html(index=False, escape=True)
        return f"<div><p><b>{caption}</b></p>{table}</div>"

    def __repr__(self) -> str:
        return (
            f"Claims(path={self.path!r}, n_claims={len(self)}, "
            f"populations={list(dict(self._populations))!r}, "
            f"sha256={self.sha256[:12]!r}...)"
        )

    # -- identity -----------------------------------------------------------------------
    def _content(self) -> pd.DataFrame:
        return self._frame.drop(columns="row")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Claims):
            return NotImplemented
        return (
            self._populations == other._populations
            and self.lexicon_version == other.lexicon_version
            and list(self._frame.columns) == list(other._frame.columns)
            and self._content().equals(other._content())
        )

    def __hash__(self) -> int:
        return hash((self.to_csv_text(), self._populations, self.lexicon_version))


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _build(
    table: _RawTable,
    population_starts: Mapping[str, date | str] | None,
    lexicon: Lexicon,
    sha256: str,
    path: str | None,
) -> Claims:
    frame, populations, problems = _derive(table, population_starts, lexicon)
    if problems:
        raise ClaimsError(problems, path)
    configured, _ = _normalise_starts(population_starts)
    return Claims(table, frame, tuple(populations.items()), tuple(configured.items()), lexicon, sha256, path)


# --------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------


def _load(source: Source) -> tuple[_RawTable | None, str, str | None, list[Problem]]:
    data, path = _read_source(source)
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    sha256 = hashlib.sha256(raw).hexdigest()
    if not raw:
        return (
            None,
            sha256,
            path,
            [
                Problem(
                    None, None, None, "a CSV file with a header row and at least one claim; the file is empty (0 bytes)"
                )
            ],
        )
    text, problems = _decode(data)
    if text is None:
        return None, sha256, path, problems
    table, problems = _parse_csv(text)
    return table, sha256, path, problems


def read_claims(
    source: Source, *, population_starts: Mapping[str, date | str] | None = None, lexicon: Lexicon | None = None
) -> Claims:
    """Read and validate a claims file; return :class:`Claims`.

    ``source`` is a path or a (text or binary) file object. Raises
    :class:`ClaimsFileMissing` when the file cannot be read and :class:`ClaimsError`
    (listing every problem) when it breaks the claims format.
    """
    table, sha256, path, problems = _load(source)
    lexicon = default_lexicon() if lexicon is None else lexicon
    if table is None:
        raise ClaimsError(problems, path)
    if problems:  # malformed rows: report them with everything else
        _, _, more = _derive(table, population_starts, lexicon)
        more = [p for p in more if p.expected != _NO_CLAIMS]  # (there are rows: malformed ones)
        raise ClaimsError(sorted(problems + more, key=lambda p: p.row or 0), path)
    return _build(table, population_starts, lexicon, sha256, path)


def claims_from_frame(
    df: pd.DataFrame, *, population_starts: Mapping[str, date | str] | None = None, lexicon: Lexicon | None = None
) -> Claims:
    """Validate a DataFrame laid out like a claims file; return :class:`Claims`.

    ``df`` is not modified. Row numbers in problems are as if it were a file
    (position + 2). ``sha256`` is the hash of the canonical CSV rendering.
    """
    table = _table_from_frame(df)
    sha256 = hashlib.sha256(_render_csv(table).encode("utf-8")).hexdigest()
    return _build(table, population_starts, default_lexicon() if lexicon is None else lexicon, sha256, None)


def validate_claims(
    source: Source, *, population_starts: Mapping[str, date | str] | None = None, lexicon: Lexicon | None = None
) -> list[Problem]:
    """Every problem of a claims file (or DataFrame); empty when valid.

    Raises only :class:`ClaimsFileMissing` (file missing or unreadable).
    """
    try:
        if isinstance(source, pd.DataFrame):
            claims_from_frame(source, population_starts=population_starts, lexicon=lexicon)
        else:
            read_claims(source, population_starts=population_starts, lexicon=lexicon)
    except ClaimsError as exc:
        return list(exc.problems)
    return []
