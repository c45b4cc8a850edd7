"""Vague quantities and numbers as written in French and English.

Two jobs, both driven by the data file ``reconcile/data/lexicon.toml`` (versioned data,
not code):

* the *vague-quantity lexicon*: phrases such as "plusieurs centaines" or "several
  thousand" mapped to an interval ``(low, high)`` of counts of people
  (:class:`Lexicon`, :func:`default_lexicon`, :func:`load_lexicon`);
* :func:`parse_number`: numbers written with digits in the French or English manner, or
  with number words ("quarante-trois", "five thousand").

Matching is tolerant of case, accents, apostrophes and whitespace (see
:func:`normalize_phrase`).
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from importlib import resources
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, NamedTuple, Sequence

__all__ = [
    "Lexicon",
    "LexiconMatch",
    "NUMBER_STYLES",
    "default_lexicon",
    "format_number",
    "load_lexicon",
    "normalize_phrase",
    "normalize_with_offsets",
    "number_word_set",
    "parse_number",
]

# --------------------------------------------------------------------------- normalisation

_APOSTROPHES = "\u2019\u2018\u02bc\u2032\u00b4\u0060"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212"


def _fold_char(c: str) -> str:
    """Case-, accent- and width-folded form of one character (may be '' or several)."""
    if c in _APOSTROPHES:
        return "'"
    if c in _DASHES:
        return "-"
    if c.isspace():
        return " "
    out = unicodedata.normalize("NFKD", c)
    out = "".join(ch for ch in out if not unicodedata.combining(ch)).lower()
    return " " if out.isspace() else out


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """Normalise ``text`` like :func:`normalize_phrase` but keep runs of whitespace at the
    ends, and return, for each character of the result, the index of the character of
    ``text`` it comes from (so spans found in the normal form map back to the original).
    """
    chars: list[str] = []
    offsets: list[int] = []
    for i, c in enumerate(text):
        for ch in _fold_char(c):
            if ch == " " and chars and chars[-1] == " ":
                continue  # collapse whitespace runs
            chars.append(ch)
            offsets.append(i)
    return "".join(chars), offsets


def normalize_phrase(text: str) -> str:
    """Normal form used for every lexicon look-up.

    NFKD, combining marks (accents) removed, lower case, typographic apostrophes turned
    into ``'``, dashes into ``-``, every run of whitespace (including no-break U+00A0 and
    narrow no-break U+202F spaces, tabs, newlines) collapsed to one space, ends stripped.
    """
    return normalize_with_offsets(text)[0].strip()


def _span_to_original(offsets: Sequence[int], text_len: int, start: int, end: int) -> tuple[int, int]:
    """Map a ``[start, end)`` span of a normal form back to the original text."""
    o_start = offsets[start] if start < len(offsets) else text_len
    o_end = offsets[end - 1] + 1 if end > 0 else 0
    return o_start, o_end


# --------------------------------------------------------------------------- data file

_DATA_PACKAGE = "reconcile.data"
_DATA_FILE = "lexicon.toml"


def _read_default_toml() -> dict:
    with resources.files(_DATA_PACKAGE).joinpath(_DATA_FILE).open("rb") as fh:
        return tomllib.load(fh)


class LexiconMatch(NamedTuple):
    """A phrase of the lexicon found in a text; ``start``/``end`` index the text."""

    start: int
    end: int
    text: str  # the phrase as it appears in the text
    phrase: str  # the normalised lexicon key
    interval: tuple[float, float]


def _check_interval(phrase: str, value: object, where: str = "override") -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"{where} for phrase {phrase!r}: expected 2 numbers [low, high], found {value!r}")
    if len(value) != 2:
        raise ValueError(
            f"{where} for phrase {phrase!r}: expected 2 numbers [low, high], found {len(value)} values {list(value)!r}"
        )
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float, Decimal)):
            raise ValueError(f"{where} for phrase {phrase!r}: expected 2 numbers [low, high], found {v!r}")
        out.append(float(v))
    low, high = out
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"{where} for phrase {phrase!r}: bounds must be finite, found {value!r}")
    if not 0 <= low <= high:
        raise ValueError(f"{where} for phrase {phrase!r}: expected 0 <= low <= high, found [{low:g}, {high:g}]")
    return low, high


@dataclass(frozen=True)
class Lexicon:
    """Vague phrases (normalised) -> interval ``(low, high)`` of counts of people.

    ``languages`` maps each phrase to the ISO 639-1 code it was listed under ("" when
    unknown, e.g. for an override).
    """

    version: str
    entries: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    languages: Mapping[str, str] = field(default_factory=dict)

    # -- matching ---------------------------------------------------------------
    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        keys = sorted((k for k in self.entries if k), key=lambda k: (-len(k), k))
        if not keys:
            return None
        alternation = "|".join(re.escape(k) for k in keys)
        # lookahead so that every start position reports its longest phrase
        # a phrase may follow an elided article ("plus d'un millier", "qu'une trentaine")
        return re.compile(rf"(?<![\w])(?=({alternation})(?![\w]))")

    def find_all(self, text: str) -> list[LexiconMatch]:
        """All non-overlapping phrases of the lexicon in ``text``, in text order.

        Phrases are matched on word boundaries after normalisation; where matches overlap
        the longest wins (then the earliest).
        """
        pattern = self._pattern
        if pattern is None or not text:
            return []
        norm, offsets = normalize_with_offsets(text)
        found = [(m.start(1), m.end(1)) for m in pattern.finditer(norm)]
        found.sort(key=lambda se: (-(se[1] - se[0]), se[0]))
        chosen: list[tuple[int, int]] = []
        for s, e in found:
            if all(e <= cs or s >= ce for cs, ce in chosen):
                chosen.append((s, e))
        chosen.sort()
        out = []
        for s, e in chosen:
            key = norm[s:e]
            o_s, o_e = _span_to_original(offsets, len(text), s, e)
            out.append(LexiconMatch(o_s, o_e, text[o_s:o_e], key, tuple(self.entries[key])))
        return out

    def find(self, text: str) -> tuple[str, tuple[float, float]] | None:
        """The longest lexicon phrase in ``text`` (as written there) and its interval."""
        matches = self.find_all(text)
        if not matches:
            return None
        best = max(matches, key=lambda m: (len(m.phrase), -m.start))
        return best.text, best.interval

    def interval(self, phrase: str) -> tuple[float, float] | None:
        """Interval of ``phrase``: exact match after normalisation, otherwise the longest
        known phrase occurring in it on word boundaries ("plusieurs centaines de soldats"
        -> the interval of "plusieurs centaines"); None when nothing matches."""
        key = normalize_phrase(phrase)
        if key in self.entries:
            return tuple(self.entries[key])
        found = self.find(phrase)
        return None if found is None else found[1]

    def __contains__(self, phrase: object) -> bool:
        return isinstance(phrase, str) and normalize_phrase(phrase) in self.entries

    # -- derivation -------------------------------------------------------------
    def with_overrides(self, overrides: Mapping[str, Sequence[float]]) -> "Lexicon":
        """A new lexicon where ``overrides`` (phrase -> [low, high]) replace or add entries.

        Raises ValueError naming the phrase when an override is not two finite numbers
        with ``0 <= low <= high``.
        """
        merged = dict(self.entries)
        languages = dict(self.languages)
        for phrase, value in overrides.items():
            if not isinstance(phrase, str) or not normalize_phrase(phrase):
                raise ValueError(f"override: phrase must be a non-empty string, found {phrase!r}")
            key = normalize_phrase(phrase)
            merged[key] = _check_interval(phrase, value)
            languages.setdefault(key, "")
        if not overrides:
            return self
        return Lexicon(f"{self.version}+overrides", MappingProxyType(merged), MappingProxyType(languages))


def _lexicon_from_data(data: Mapping, where: str) -> Lexicon:
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise ValueError(f"{where}: top-level `version` must be a non-empty string, found {version!r}")
    raw_entries = data.get("entry", [])
    if not isinstance(raw_entries, list):
        raise ValueError(f"{where}: `entry` must be an array of tables ([[entry]])")
    entries: dict[str, tuple[float, float]] = {}
    languages: dict[str, str] = {}
    for n, entry in enumerate(raw_entries, start=1):
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: entry {n} is not a table")
        phrases = entry.get("phrases")
        if not isinstance(phrases, Mapping) or not phrases:
            raise ValueError(f"{where}: entry {n} needs `phrases = {{ fr = [...], en = [...] }}`")
        for lang, items in phrases.items():
            if not isinstance(items, list) or not all(isinstance(p, str) for p in items):
                raise ValueError(f"{where}: entry {n}: phrases.{lang} must be a list of strings")
            for phrase in items:
                key = normalize_phrase(phrase)
                if not key:
                    raise ValueError(f"{where}: entry {n}: empty phrase")
                if key in entries:
                    raise ValueError(f"{where}: entry {n}: phrase {phrase!r} is listed twice")
                entries[key] = _check_interval(phrase, [entry.get("low"), entry.get("high")], f"{where}: entry {n}")
                languages[key] = str(lang)
    return Lexicon(version, MappingProxyType(entries), MappingProxyType(languages))


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The lexicon shipped with the package (``reconcile/data/lexicon.toml``), cached."""
    return _lexicon_from_data(_read_default_toml(), _DATA_FILE)


def load_lexicon(path: str | PathLike[str]) -> Lexicon:
    """Read a user-supplied lexicon file of the same TOML format as the default one."""
    p = Path(path)
    with p.open("rb") as fh:
        try:
            data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{p}: not valid TOML: {exc}") from exc
    return _lexicon_from_data(data, str(p))


# --------------------------------------------------------------------------- numbers


@dataclass(frozen=True)
class _NumberWords:
    words: Mapping[str, Mapping[str, int]]  # language -> word -> value
    articles: frozenset[str]
    joiners: frozenset[str]

    def vocabulary(self, language: str | None) -> dict[str, int]:
        if language is None or language not in self.words:
            out: dict[str, int] = {}
            for table in self.words.values():
                out.update(table)
            return out
        return dict(self.words[language])


@lru_cache(maxsize=1)
def _number_words() -> _NumberWords:
    data = _read_default_toml().get("number_words", {})
    words = {k: {normalize_phrase(w): int(v) for w, v in t.items()} for k, t in data.items() if isinstance(t, Mapping)}
    return _NumberWords(
        MappingProxyType(words),
        frozenset(data.get("articles", [])),
        frozenset(data.get("joiners", [])),
    )


@lru_cache(maxsize=8)
def number_word_set(language: str | None = None) -> frozenset[str]:
    """All number words (normalised) of ``language`` (None: every language), including
    the articles and joiners; for finding candidate number words in a text."""
    nw = _number_words()
    vocab = set(nw.vocabulary(language))
    if language in (None, "en"):
        vocab |= nw.articles
    return frozenset(vocab)


_SPACES = "\u00a0\u202f\u2009\u2007\u200a "


def _parse_digits(num: str) -> Decimal | None:
    """Digits with separators (spaces already turned into ' ')."""
    if " " in num:
        m = re.fullmatch(r"(\d{1,3}(?: \d{3})+)(?:([.,])(\d+))?", num)
        if not m:
            return None
        integer = m.group(1).replace(" ", "")
        frac = m.group(3) or ""
        return Decimal(f"{integer}.{frac}" if frac else integer)
    seps = [c for c in num if c in ".,"]
    if not seps:
        return Decimal(num)
    if len(set(seps)) == 2:
        dec = num[max(num.rfind("."), num.rfind(","))]
        thou = "," if dec == "." else "."
        m = re.fullmatch(rf"(\d{{1,3}}(?:{re.escape(thou)}\d{{3}})*){re.escape(dec)}(\d+)", num)
        if not m:
            return None
        return Decimal(f"{m.group(1).replace(thou, '')}.{m.group(2)}")
    sep = seps[0]
    if len(seps) > 1:
        if not re.fullmatch(rf"\d{{1,3}}(?:{re.escape(sep)}\d{{3}})+", num):
            return None
        return Decimal(num.replace(sep, ""))
    integer, frac = num.split(sep)
    if len(frac) == 3 and len(integer) <= 3 and integer.lstrip("0"):
        return Decimal(integer + frac)  # "1.000", "1,000", "50.000": thousands
    return Decimal(f"{integer}.{frac}")  # "5,6", "1.5", "0,500": decimal


def _parse_words(tokens: list[str], language: str | None) -> Decimal | None:
    nw = _number_words()
    vocab = nw.vocabulary(language)
    articles = nw.articles if language in (None, "en") else frozenset()
    if not tokens:
        return None
    total = 0
    current = 0
    last_scale = None
    seen_number = False
    prev_joiner = False
    n = len(tokens)
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < n else None
        if tok in nw.joiners:
            if not seen_number or prev_joiner or nxt is None:
                return None
            prev_joiner = True
            continue
        if tok in articles and tok not in vocab:
            # "a hundred", "a thousand": only first, and only before hundred/scale
            if seen_number or nxt is None or vocab.get(nxt, 0) < 100:
                return None
            current = 1
            seen_number = True
            prev_joiner = False
            continue
        if tok not in vocab:
            return None
        v = vocab[tok]
        prev_joiner_now, prev_joiner = prev_joiner, False
        if v == 0:
            if n != 1:
                return None
            return Decimal(0)
        if v >= 1000:  # scale
            if last_scale is not None and v >= last_scale:
                return None
            if prev_joiner_now:
                return None
            total += (current or 1) * v
            current = 0
            last_scale = v
        elif v == 100:
            if current >= 100 or prev_joiner_now:
                return None
            current = (current or 1) * 100
        elif v == 20 and tok.startswith("vingt") and current % 100 == 4 and not prev_joiner_now:
            current += 80 - 4  # quatre-vingt(s)
        else:
            c = current % 100
            ok = (
                c == 0
                or (c in (20, 30, 40, 50, 60, 70, 80, 90) and 1 <= v <= 9)
                or (c in (60, 80) and 10 <= v <= 19)
                or (c == 10 and 7 <= v <= 9)
            )
            if not ok or (tok == "vingts" and c == 0):
                return None
            current += v
        seen_number = True
    if not seen_number:
        return None
    return Decimal(total + current)


_SCALE_SUFFIX_RE = re.compile(r"^(?P<num>\d(?:[\d., ]*\d)?)\s*(?P<scale>[a-z]+)?$")


def parse_number(text: str, language: str | None = None) -> float | None:
    """Parse a number written in French or English; None when ``text`` is not a number.

    Rules (the separators are language-independent; ``language`` — "fr", "en" or None for
    both — only selects which number words are accepted):

    * spaces between digit groups (ordinary, no-break U+00A0, narrow no-break U+202F,
      thin U+2009) are thousands separators: "10 000", "1 200"; each group after the
      first must have exactly three digits;
    * a lone "." or "," followed by exactly three digits is a thousands separator when
      the part before it has 1 to 3 digits and is not 0: "1.000" = "1,000" = 1000,
      "50.000" = 50000 (casualty and troop figures are whole people, so this reading is
      by far the likelier in both languages);
    * otherwise a lone "." or "," is the decimal mark: "5,6" = 5.6, "1.5" = 1.5,
      "0,500" = 0.5;
    * the same separator repeated marks thousands ("1.000.000", "1,000,000");
    * with both "." and ",", the rightmost is the decimal mark ("1,234.5", "1.234,5");
    * a leading "~" or "≈" and a trailing "+" are ignored ("~1,000", "6,000+");
    * a scale word may follow the digits: "5,6 milliards", "2 million", "1.2 thousand";
    * number words: "trente", "deux cents", "quatre-vingt-dix", "vingt et un",
      "cinq mille", "thirty", "forty-three", "a hundred", "one hundred and five",
      "five thousand" (hyphens or spaces; "et"/"and" only between number words; "a"/"an"
      only before hundred/thousand/million...).
    """
    if not isinstance(text, str):
        return None
    s = text
    for ch in _SPACES:
        s = s.replace(ch, " ")
    s = normalize_phrase(s)
    if not s:
        return None
    if s[0] in "~≈":
        s = s[1:].lstrip()
    if s.endswith("+"):
        s = s[:-1].rstrip()
    if not s:
        return None
    value: Decimal | None
    if s[0].isdigit():
        m = _SCALE_SUFFIX_RE.match(s)
        if not m:
            return None
        try:
            value = _parse_digits(m.group("num"))
        except InvalidOperation:
            return None
        if value is None:
            return None
        scale = m.group("scale")
        if scale:
            mult = _number_words().vocabulary(language).get(scale)
            if mult is None or mult < 1000:
                return None
            value *= mult
    else:
        tokens = s.replace("-", " ").split()
        value = _parse_words(tokens, language)
        if value is None:
            return None
    return float(value)


# --------------------------------------------------------------------------- formatting

_FR_UNITS = [
    "zéro",
    "un",
    "deux",
    "trois",
    "quatre",
    "cinq",
    "six",
    "sept",
    "huit",
    "neuf",
    "dix",
    "onze",
    "douze",
    "treize",
    "quatorze",
    "quinze",
    "seize",
]
_FR_TENS = {20: "vingt", 30: "trente", 40: "quarante", 50: "cinquante", 60: "soixante"}
_EN_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = {
    20: "twenty",
    30: "thirty",
    40: "forty",
    50: "fifty",
    60: "sixty",
    70: "seventy",
    80: "eighty",
    90: "ninety",
}


def _fr_below_100(n: int) -> str:
    if n <= 16:
        return _FR_UNITS[n]
    if n < 20:
        return "dix-" + _FR_UNITS[n - 10]
    if n < 70:
        t, u = divmod(n, 10)
        base = _FR_TENS[t * 10]
        return base if u == 0 else base + (" et un" if u == 1 else "-" + _FR_UNITS[u])
    if n < 80:
        return "soixante et onze" if n == 71 else "soixante-" + _fr_below_100(n - 60)
    if n == 80:
        return "quatre-vingts"
    return "quatre-vingt-" + _fr_below_100(n - 80)


def _fr_below_1000(n: int) -> str:
    h, r = divmod(n, 100)
    if h == 0:
        return _fr_below_100(r)
    head = "cent" if h == 1 else _FR_UNITS[h] + " cent" + ("s" if r == 0 else "")
    return head if r == 0 else f"{head} {_fr_below_100(r)}"


def _fr_words(n: int) -> str:
    if n < 1000:
        return _fr_below_1000(n)
    if n < 1_000_000:
        th, r = divmod(n, 1000)
        head = "mille" if th == 1 else re.sub(r"(vingt|cent)s$", r"\1", _fr_below_1000(th)) + " mille"
        return head if r == 0 else f"{head} {_fr_below_1000(r)}"
    mi, r = divmod(n, 1_000_000)
    head = "un million" if mi == 1 else _fr_below_1000(mi) + " millions"
    return head if r == 0 else f"{head} {_fr_words(r)}"


def _en_below_1000(n: int) -> str:
    h, r = divmod(n, 100)
    if n < 20:
        return _EN_UNITS[n]
    if h == 0:
        t, u = divmod(n, 10)
        return _EN_TENS[t * 10] + ("" if u == 0 else "-" + _EN_UNITS[u])
    head = _EN_UNITS[h] + " hundred"
    return head if r == 0 else f"{head} and {_en_below_1000(r)}"


def _en_words(n: int) -> str:
    if n < 1000:
        return _en_below_1000(n)
    if n < 1_000_000:
        th, r = divmod(n, 1000)
        head = _en_below_1000(th) + " thousand"
        return head if r == 0 else f"{head} {_en_below_1000(r)}"
    mi, r = divmod(n, 1_000_000)
    head = _en_below_1000(mi) + " million"
    return head if r == 0 else f"{head} {_en_words(r)}"


NUMBER_STYLES = ("plain", "en", "fr_dot", "fr_space", "fr_nbsp", "fr_nnbsp", "plus", "tilde", "words_fr", "words_en")


def format_number(n: int, style: str) -> str:
    """Write the non-negative integer ``n`` in one of :data:`NUMBER_STYLES`.

    ``plain`` "10000"; ``en`` "10,000"; ``fr_dot`` "10.000"; ``fr_space`` "10 000";
    ``fr_nbsp`` / ``fr_nnbsp`` the same with U+00A0 / U+202F; ``plus`` "10,000+";
    ``tilde`` "~10,000"; ``words_fr`` "dix mille"; ``words_en`` "ten thousand"
    (words up to 999 999 999).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"format_number: expected a non-negative integer, found {n!r}")
    grouped = f"{n:,}"
    if style == "plain":
        return str(n)
    if style == "en":
        return grouped
    if style == "fr_dot":
        return grouped.replace(",", ".")
    if style == "fr_space":
        return grouped.replace(",", " ")
    if style == "fr_nbsp":
        return grouped.replace(",", "\u00a0")
    if style == "fr_nnbsp":
        return grouped.replace(",", "\u202f")
    if style == "plus":
        return grouped + "+"
    if style == "tilde":
        return "~" + grouped
    if style in ("words_fr", "words_en"):
        if n >= 1_000_000_000:
            raise ValueError(f"format_number: words only below 10**9, found {n}")
        return _fr_words(n) if style == "words_fr" else _en_words(n)
    raise ValueError(f"format_number: unknown style {style!r}; expected one of {NUMBER_STYLES}")
