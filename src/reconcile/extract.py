"""Article text -> candidate claim rows, for a person to review.

The extractor is a small, deliberately transparent pipeline of regular expressions over
the normal form of each sentence (see :func:`reconcile.lexicon.normalize_with_offsets`):

1. the text is cut into sentences; a line break inside a sentence (a quotation put on
   its own line, ``se chiffrent à\\n"plusieurs centaines"\\n, allant ...``) is kept inside
   the sentence, and the ``quote`` column is the sentence verbatim;
2. quantities are found: vague phrases of the lexicon, numbers written with digits
   (parsed by :func:`reconcile.lexicon.parse_number`) and runs of number words;
3. quantities that are not counts of people are dropped: dates and times, years,
   money, percentages, durations and units, ordinals ("XIe", "deuxième"), and numbers
   with no people noun or casualty word after them (nor, for a quantity ending a
   clause, before them);
4. each remaining quantity gets a ``qualifier`` from the words just before it, a
   ``category`` from the nearest casualty / deployment word in the same sentence
   (after it first, before it otherwise; ``deployed`` when the quantity counts soldiers
   and no such word is near) and a ``phrase`` as written.

Every vocabulary list lives in the module-level tables below (normalised: lower case,
no accents, straight apostrophes).
"""
from __future__ import annotations

import csv
import re
from bisect import bisect_left
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Sequence, TextIO

import pandas as pd

from reconcile._io import csv_text
from reconcile.errors import InputFormatError
from reconcile.lexicon import (
    Lexicon,
    default_lexicon,
    normalize_phrase,
    normalize_with_offsets,
    number_word_set,
    parse_number,
)

__all__ = ["CLAIM_COLUMNS", "extract_claims", "extract_files", "write_candidates", "detect_language"]

CLAIM_COLUMNS = (
    "claim_id", "population", "category", "source", "reported_on", "qualifier", "value",
    "value_high", "phrase", "quote", "citation", "language", "period_start", "period_end",
    "measure", "source_group", "stance", "derived_from", "notes",
)

# --------------------------------------------------------------------------- vocabulary
# All entries are in normal form (see reconcile.lexicon.normalize_phrase).

#: words just before a number -> qualifier (longest match wins)
QUALIFIER_WORDS: dict[str, tuple[str, ...]] = {
    "at_least": ("au moins", "au minimum", "pas moins de", "pas moins d'", "at least",
                 "no fewer than", "no less than", "not less than", "a minimum of"),
    "more_than": ("plus de", "plus d'", "more than", "over", "well over", "in excess of",
                  "upwards of", "above"),
    "about": ("environ", "pres de", "pres d'", "quelque", "approximativement", "a peu pres",
              "autour de", "autour d'", "presque", "about", "around", "some", "nearly",
              "almost", "approximately", "roughly", "an estimated", "estimated", "~", "≈"),
    "fewer_than": ("moins de", "moins d'", "fewer than", "less than", "under", "below"),
    "at_most": ("jusqu'a", "up to", "at most", "au plus", "au maximum", "as many as",
                "no more than", "not more than"),
}
#: phrases ending with a qualifier word that are not qualifiers ("en plus de" = "as well as")
QUALIFIER_FALSE_FRIENDS = ("en plus de", "en plus d'")
#: words opening a range ("entre X et Y", "between X and Y", "de X à Y", "from X to Y")
RANGE_OPENERS = ("entre", "between", "de", "d'", "from")
#: openers that allow "et"/"and" as the range connector
RANGE_OPENERS_WITH_AND = ("entre", "between")
#: connectors between the two ends of a range ("a" is the normal form of "à")
RANGE_CONNECTORS = ("-", "a", "to", "ou", "or")
RANGE_CONNECTORS_AND = ("et", "and")

#: category patterns, tried at each position in this order (compounds first)
CATEGORY_PATTERNS: tuple[tuple[str, str], ...] = (
    ("casualties", r"(?:tue|mort|blesse)(?:e?s)?\s+(?:ou|et)\s+(?:tue|mort|blesse)(?:e?s)?"),
    ("casualties", r"(?:killed|dead|wounded|injured)\s+(?:or|and)\s+(?:killed|dead|wounded|injured|missing)"),
    ("casualties", r"pertes?|victimes?|casualt(?:y|ies)|losses|hors de combat"),
    ("killed", r"tue(?:e|s|es)?|morte?s?|deces|killed|dead|deaths?|died|perished|meurent"),
    ("wounded", r"blesse(?:e|s|es)?|wounded|injured|injuries"),
    ("deployed", r"deploye(?:e|s|es)?|deploiements?|envoye(?:e|s|es)?|mobilise(?:e|s|es)?|"
                 r"mobilisant|mobilisation|stationne(?:e|s|es)?|depeche(?:e|s|es)?|"
                 r"deployed|deployments?|sent|dispatched|stationed|mobili[sz]ed|troops in|"
                 r"contingent|renforts?|reinforcements"),
)

#: nouns that make a number a count of people (whole token, normal form)
PERSON_NOUNS = (
    r"soldats?|soldiers?|troupes?|troops?|hommes|men|militaires?|combattants?|fighters?|"
    r"personnes?|people|persons|civils|civilians?|ouvriers?|workers?|sapeurs?|sappers?|"
    r"officiers?|officers?|conscrits?|conscripts?|mercenaires?|mercenaries|prisonniers?|"
    r"prisoners?|recrues?|recruits?|membres|members|servicemen|personnel|effectifs|"
    r"militants?|fantassins?|infantrymen|marins?|sailors?|pilotes?|pilots?|reservistes?|"
    r"reservists?|volontaires?|volunteers?|individus|individuals|habitants|residents|"
    r"enfants|children|femmes|women|gardes?|guards?|parachutistes?|paratroopers?|"
    r"commandos?|(?:nord-|sud-)?coreen(?:ne)?s|koreans|ukrainien(?:ne)?s|ukrainians|"
    r"russes|russians|americain(?:e)?s|americans|nord-coreens"
)
#: words allowed between a number and its people noun ("30 North Korean soldiers",
#: "plusieurs milliers d'hommes", "100 ont été tués")
NOUN_MODIFIERS = (
    r"(?:nord-|sud-)?coreen(?:ne)?s?|north|south|korean|ukrainien(?:ne)?s?|ukrainian|"
    r"russes?|russian|americain(?:e)?s?|american|additional|more|other|autres?|"
    r"supplementaires?|nouveaux|nouvelles|new|enemy|ennemis?|civilian|military|regular|"
    r"elite|de|d'|des|du|of|the|ses|leurs|nos|their|its|his|our|ces|these|those|"
    r"ont|ete|sont|etaient|avaient|auraient|seraient|were|have|has|been|had|was|are|"
    r"reportedly|deja|already"
)
#: vague phrases without a scale: kept only when a people noun follows directly
UNSCALED_VAGUE = frozenset({
    "plusieurs", "several", "quelques", "a few", "quelques-uns", "quelques-unes", "many",
    "numerous", "de nombreux", "de nombreuses", "bon nombre de", "a large number of",
    "a handful", "une poignee", "a couple of",
})

MONTHS = frozenset(
    "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre "
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec janv fevr avr juil".split()
)
CURRENCY_WORDS = (
    r"dollars?|euros?|roubles?|rubles?|livres?|pounds?|hryvnias?|hryvnas?|hryvnia|wons?|"
    r"yuans?|usd|eur|rub|uah|krw|francs?|cents?|centimes?|kopecks?|\$|€|£|¥|₽|₩|₴"
)
CURRENCY_SYMBOLS = "$€£¥₽₩₴"
PERCENT_WORDS = ("%", "pour cent", "pourcent", "pour-cent", "percent", "per cent", "pc")
#: units after a number that make it a duration or a measure, not people
UNIT_WORDS = (
    r"jours?|journees?|semaines?|mois|ans|an|annees?|heures?|h|minutes?|min|secondes?|"
    r"siecles?|decennies?|nuits?|days?|weeks?|months?|years?|hours?|seconds?|decades?|"
    r"centur(?:y|ies)|nights?|fois|times|km|kilometres?|kilometers?|metres?|meters?|m|"
    r"miles?|kg|kilos?|grammes?|tonnes?|tons?|hectares?|ha|km2|mm|litres?|liters?|"
    r"obus|shells|missiles|drones|chars|tanks|avions|aircraft|villages|localites|kms"
)
#: words that may sit between a number and its unit ("deux derniers jours")
UNIT_SKIP = frozenset(
    "derniers dernieres prochains prochaines premiers premieres last past next first "
    "consecutive consecutifs consecutives long longues longs pleins pleines bons bonnes "
    "de d' of".split()
)
#: per-day figures ("Moscou perd chaque jour 1 200 soldats")
PER_DAY = r"chaque jour|par jour|quotidien(?:ne)?s?|quotidiennement|per day|each day|every day|daily"

#: stop words for the language guess
STOP_WORDS = {
    "fr": frozenset("le la les de des du et est un une que qui dans pour au aux sur avec par "
                    "ont a en ce ces il elle ils sont pas ne se son sa leurs selon".split()),
    "en": frozenset("the of and to in is was were that for on with by at from have has are "
                    "it its he she they their not be been this which said".split()),
}

#: abbreviations whose final dot does not end a sentence
ABBREVIATIONS = frozenset(
    "m mm mme mmes mlle dr st ste etc cf p pp no vol gen lt col sgt mr mrs ms prof jr sr vs "
    "av apr env art ch fig".split()
)

# --------------------------------------------------------------------------- regexes

_B = r"(?<![\w'])"  # left word boundary (normal form)
_E = r"(?![\w])"  # right word boundary


def _alt(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_QUAL_LIST = [(w, q) for q, ws in QUALIFIER_WORDS.items() for w in ws]
_QUAL_RE = re.compile(
    r"(?:^|(?<=[\s'\"«“(\[]))(?P<q>" + _alt([w for w, _ in _QUAL_LIST]) + r")\s*[\"«“]?\s*$"
)
_QUAL_OF = {w: q for w, q in _QUAL_LIST}
_OPENER_RE = re.compile(r"(?:^|(?<=[\s'\"«“(\[]))(?P<o>" + _alt(RANGE_OPENERS) + r")\s*$")
_CATEGORY_RE = re.compile(
    "|".join(f"{_B}(?P<c{i}>{pat}){_E}" for i, (_, pat) in enumerate(CATEGORY_PATTERNS))
)
_CATEGORY_OF = {f"c{i}": cat for i, (cat, _) in enumerate(CATEGORY_PATTERNS)}
_CATEGORY_TOKEN_RE = re.compile(
    "|".join(f"(?:{pat})" for _, pat in CATEGORY_PATTERNS if r"\s" not in pat)
)
_PERSON_RE = re.compile(PERSON_NOUNS)
_MODIFIER_RE = re.compile(NOUN_MODIFIERS)
_CURRENCY_RE = re.compile(CURRENCY_WORDS)
_UNIT_RE = re.compile(UNIT_WORDS)
_PER_DAY_RE = re.compile(f"{_B}(?:{PER_DAY}){_E}")
_TOKEN_RE = re.compile(r"\w+'(?=\w)|\w+(?:-\w+)*|[^\w\s]")
_DATE_RES = (
    re.compile(r"\d{4}-\d{1,2}-\d{1,2}"),
    re.compile(r"\d{1,2}/\d{1,2}/\d{2,4}"),
    re.compile(r"\d{1,2}[.-]\d{1,2}[.-]\d{4}"),
    re.compile(r"(?<!\d)\d{1,2}(?::\d{2}){1,2}(?!\d{3})"),
    re.compile(r"(?<![\w])\d{1,2}h\d{2}(?!\d)"),
)
_SCALE_WORDS = ("millions", "million", "milliards", "milliard", "billions", "billion",
                "thousand", "mille")
_DIGITS_RE = re.compile(
    r"(?<![\w.,/:#])(?P<num>\d{1,3}(?:[ .,]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)"
    r"(?![\w/:#]|[.,]\d)(?P<plus>\s?\+)?(?:\s(?P<scale>" + "|".join(_SCALE_WORDS) + r")(?!\w))?"
)
_QUOTES = frozenset("\"«»“”'‘’")
_CLAUSE_END = frozenset(",;.:!?)]…")


# --------------------------------------------------------------------------- sentences


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of ``text``.

    Lines are units, except that a line starting with punctuation or a lower-case letter,
    or an opening quote after a line that does not end a sentence, continues the previous
    line; blank lines always separate. Units are then cut after ".", "!", "?" followed by
    white space and a capital, a digit or an opening quote (not after an abbreviation).
    """
    units: list[list[int]] = []
    pos = 0
    prev: str | None = None
    for line in text.splitlines(keepends=True):
        start, pos = pos, pos + len(line)
        stripped = line.strip()
        if not stripped:
            prev = None
            continue
        s = start + (len(line) - len(line.lstrip()))
        e = start + len(line.rstrip())
        first = stripped[0]
        merge = prev is not None and (
            first in ",.;:)]»”" or first.islower()
            or (first in "\"«“" and (prev[-1].isalnum() or prev[-1] in ",'’"))
        )
        if merge:
            units[-1][1] = e
        else:
            units.append([s, e])
        prev = stripped
    spans: list[tuple[int, int]] = []
    for us, ue in units:
        chunk = text[us:ue]
        cut = 0
        for m in re.finditer(r"[.!?…]+[\"»”)]*\s+", chunk):
            nxt = chunk[m.end():m.end() + 1]
            if not nxt or not (nxt.isupper() or nxt.isdigit() or nxt in "\"«“"):
                continue
            before = re.search(r"(\w+)[.!?…]+[\"»”)]*\s+$", chunk[:m.end()])
            if before and m.group(0).startswith(".") and (
                before.group(1).lower() in ABBREVIATIONS
                or (len(before.group(1)) == 1 and before.group(1).isupper())
            ):
                continue
            end = us + m.end()
            spans.append((us + cut, end))
            cut = m.end()
        spans.append((us + cut, ue))
    out = []
    for s, e in spans:
        seg = text[s:e]
        ls = len(seg) - len(seg.lstrip())
        rs = len(seg.rstrip())
        if rs > ls:
            out.append((s + ls, s + rs))
    return out


def _stop_word_counts(text: str) -> dict[str, int]:
    tokens = re.findall(r"\w+", normalize_phrase(text))
    return {lang: sum(t in words for t in tokens) for lang, words in STOP_WORDS.items()}


def detect_language(text: str) -> str:
    """"fr" or "en", whichever has more stop words in ``text`` (ties: "fr")."""
    counts = _stop_word_counts(text)
    return "en" if counts["en"] > counts["fr"] else "fr"


# --------------------------------------------------------------------------- quantities


@dataclass
class _Quantity:
    start: int  # span of the quantity in the sentence's normal form
    end: int
    kind: str  # "vague" | "number"
    value: float | None = None
    value_high: float | None = None
    vague_key: str = ""
    digits: str = ""  # the digits as written, for numbers written with digits
    low_digits: str = ""  # for a range: the digits of its lower end
    plus: bool = False
    qualifier: str = ""
    phrase_start: int = -1
    gate: str = ""  # "noun" | "predicate"
    category: str = ""
    note: str = ""

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass
class _Sentence:
    text: str
    norm: str
    offsets: list[int]
    masked: str
    tokens: list[tuple[int, int, str]]

    @classmethod
    def of(cls, text: str) -> "_Sentence":
        norm, offsets = normalize_with_offsets(text)
        masked = list(norm)
        for rx in _DATE_RES:
            for m in rx.finditer(norm):
                masked[m.start():m.end()] = "#" * (m.end() - m.start())
        masked_s = "".join(masked)
        tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN_RE.finditer(norm)]
        return cls(text, norm, offsets, masked_s, tokens)

    def to_norm(self, orig: int) -> int:
        return bisect_left(self.offsets, orig)

    def original(self, start: int, end: int) -> str:
        if end <= start:
            return ""
        return self.text[self.offsets[start]:self.offsets[end - 1] + 1]

    def tokens_after(self, pos: int, n: int = 6) -> list[str]:
        i = bisect_left([t[0] for t in self.tokens], pos)
        return [t[2] for t in self.tokens[i:i + n]]

    def tokens_before(self, pos: int, n: int = 3) -> list[str]:
        i = bisect_left([t[1] for t in self.tokens], pos + 1)
        return [t[2] for t in self.tokens[max(0, i - n):i]]


def _find_quantities(sent: _Sentence, lexicon: Lexicon, language: str | None) -> list[_Quantity]:
    cands: list[tuple[int, _Quantity]] = []  # (priority, quantity)
    for m in lexicon.find_all(sent.text):
        s, e = sent.to_norm(m.start), sent.to_norm(m.end)
        cands.append((0, _Quantity(s, e, "vague", vague_key=m.phrase)))
    for m in _DIGITS_RE.finditer(sent.masked):
        text = m.group("num") + (" " + m.group("scale") if m.group("scale") else "")
        value = parse_number(text, language)
        if value is None:
            continue
        cands.append((2, _Quantity(m.start(), m.end(), "number", value=value,
                                   digits="" if m.group("scale") else m.group("num"),
                                   plus=bool(m.group("plus")))))
    vocab = number_word_set(language)
    toks = sent.tokens
    i = 0
    while i < len(toks):
        parts = toks[i][2].split("-")
        if not all(p in vocab for p in parts) or toks[i][2] in ("et", "and"):
            i += 1
            continue
        j = i + 1
        while j < len(toks) and j - i < 10 and all(p in vocab or p in ("et", "and")
                                                    for p in toks[j][2].split("-")):
            j += 1
        found = None
        for k in range(j, i, -1):
            text = sent.norm[toks[i][0]:toks[k - 1][1]]
            value = parse_number(text, language)
            if value is not None:
                found = (k, value)
                break
        if found is None:
            i += 1
            continue
        k, value = found
        single = k == i + 1
        previous = toks[i - 1][2] if i else ""
        if not (single and value < 2) and not (toks[i][2] in ("cent", "cents") and previous in ("pour", "per")):
            cands.append((1, _Quantity(toks[i][0], toks[k - 1][1], "number", value=value)))
        i = k
    # overlaps: longest first, then lexicon > words > digits
    cands.sort(key=lambda pq: (-pq[1].length, pq[0], pq[1].start))
    chosen: list[_Quantity] = []
    for _, q in cands:
        if all(q.end <= c.start or q.start >= c.end for c in chosen):
            chosen.append(q)
    chosen.sort(key=lambda q: q.start)
    return chosen


def _merge_ranges(sent: _Sentence, qs: list[_Quantity]) -> list[_Quantity]:
    out: list[_Quantity] = []
    i = 0
    while i < len(qs):
        q = qs[i]
        if q.kind == "number" and i + 1 < len(qs) and qs[i + 1].kind == "number":
            nxt = qs[i + 1]
            between = sent.norm[q.end:nxt.start].strip()
            opener = _OPENER_RE.search(sent.norm[:q.start])
            ok = between in RANGE_CONNECTORS or (
                between in RANGE_CONNECTORS_AND and opener and opener.group("o") in RANGE_OPENERS_WITH_AND
            )
            if ok and nxt.value is not None and q.value is not None and q.value <= nxt.value:
                merged = _Quantity(q.start, nxt.end, "number", value=q.value, value_high=nxt.value,
                                   digits=nxt.digits, qualifier="range",
                                   phrase_start=opener.start("o") if opener else q.start)
                merged.low_digits = q.digits
                out.append(merged)
                i += 2
                continue
        out.append(q)
        i += 1
    return out


def _is_year(digits: str, value: float | None) -> bool:
    return bool(re.fullmatch(r"\d{4}", digits or "")) and value is not None and 1800 <= value <= 2100


def _is_people_token(tok: str) -> bool:
    return bool(_PERSON_RE.fullmatch(tok) or _CATEGORY_TOKEN_RE.fullmatch(tok))


def _excluded(sent: _Sentence, q: _Quantity) -> bool:
    after = sent.tokens_after(q.end, 6)
    before = sent.tokens_before(q.start, 2)
    rest = sent.norm[q.end:].lstrip()
    head = sent.norm[:q.start].rstrip()
    # percentages
    if rest.startswith("%") or any(" ".join(after[:2]).startswith(w) for w in PERCENT_WORDS):
        return True
    # money
    if (head and head[-1] in CURRENCY_SYMBOLS) or (rest and rest[0] in CURRENCY_SYMBOLS):
        return True
    skipped = [t for t in after[:3] if t not in ("de", "d'", "of")]
    if skipped and _CURRENCY_RE.fullmatch(skipped[0]):
        return True
    # dates
    if (after and after[0] in MONTHS) or (before and before[-1] in MONTHS):
        return True
    # durations, measures
    for tok in after:
        if tok in UNIT_SKIP:
            continue
        if _UNIT_RE.fullmatch(tok):
            return True
        break
    # years
    first_is_people = bool(after) and _is_people_token(after[0])
    if (_is_year(q.digits, q.value if q.value_high is None else q.value_high)
            or _is_year(q.low_digits, q.value)) and not first_is_people:
        return True
    return False


def _gate(sent: _Sentence, q: _Quantity) -> str:
    """"noun" when a people noun / casualty word follows, "predicate" when the quantity
    ends a clause after such a word, "" otherwise."""
    after = [t for t in sent.tokens_after(q.end, 8) if t not in _QUOTES]
    unscaled = q.kind == "vague" and q.vague_key in UNSCALED_VAGUE
    for n, tok in enumerate(after[:6]):
        if unscaled:
            return "noun" if _PERSON_RE.fullmatch(tok) else ""
        if _is_people_token(tok):
            return "noun"
        if _MODIFIER_RE.fullmatch(tok) and n < 4:
            continue
        break
    first = after[0] if after else ""
    if not first or first in _CLAUSE_END:
        window = sent.norm[:q.start]
        if _CATEGORY_RE.search(window) or any(_PERSON_RE.fullmatch(t) for t in re.findall(r"\w+(?:-\w+)*", window)):
            return "predicate"
    return ""


def _category_in(text: str, last: bool) -> str:
    matches = list(_CATEGORY_RE.finditer(text))
    if not matches:
        return ""
    m = matches[-1] if last else matches[0]
    return _CATEGORY_OF[m.lastgroup]


def _qualify(sent: _Sentence, q: _Quantity) -> None:
    if q.qualifier == "range":
        return
    m = _QUAL_RE.search(sent.norm[:q.start])
    if m and re.search(rf"(?<![\w'])(?:{_alt(QUALIFIER_FALSE_FRIENDS)})$", sent.norm[:m.end("q")]):
        m = None
    word = m.group("q") if m else ""
    q.phrase_start = m.start("q") if m else q.start
    if q.kind == "vague":
        q.qualifier = "vague"
        if word:
            q.note = f"qualifier {word!r} before a vague phrase"
    elif word:
        q.qualifier = _QUAL_OF[word]
    elif q.plus:
        q.qualifier = "more_than"
    else:
        q.qualifier = "exact"


def _sentence_claims(sent: _Sentence, lexicon: Lexicon, language: str | None) -> list[_Quantity]:
    qs = _merge_ranges(sent, _find_quantities(sent, lexicon, language))
    kept = []
    for q in qs:
        if _excluded(sent, q):
            continue
        q.gate = _gate(sent, q)
        if q.gate:
            kept.append(q)
    for i, q in enumerate(kept):
        _qualify(sent, q)
        lo = kept[i - 1].end if i else 0
        hi = kept[i + 1].phrase_start if i + 1 < len(kept) and kept[i + 1].phrase_start >= 0 \
            else (kept[i + 1].start if i + 1 < len(kept) else len(sent.norm))
        forward = sent.norm[q.end:hi]
        backward = sent.norm[lo:q.phrase_start]
        if q.gate == "noun":
            cat = _category_in(forward, last=False) or _category_in(backward, last=True)
        else:
            cat = _category_in(backward, last=True) or _category_in(forward, last=False)
        if not cat:
            cat = "deployed"
            q.note = "; ".join(filter(None, [q.note, "category guessed (no casualty or deployment word near)"]))
        q.category = cat
    return kept


# --------------------------------------------------------------------------- public API


def _number_cell(v: float | None) -> object:
    if v is None:
        return ""
    return int(v) if float(v).is_integer() else float(v)


def _citation_stem(citation: str) -> str:
    last = re.split(r"[/\\]", citation.rstrip("/\\"))[-1] if citation else ""
    stem = Path(last).stem if last else ""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_.")
    return stem or "claim"


def extract_claims(text: str, citation: str, language: str | None = None,
                   lexicon: Lexicon | None = None) -> pd.DataFrame:
    """Candidate claim rows found in ``text`` (one article), in claims-file columns.

    ``language`` ("fr"/"en") is guessed from stop words when not given. Unknown fields are
    empty strings; ``value``/``value_high`` are numbers or "". A figure repeated in the
    same article (same category, qualifier, value and phrase) gets ``derived_from`` set
    to the first row that stated it. Rows are candidates for a person to review.
    """
    lexicon = lexicon or default_lexicon()
    lang = language or detect_language(text)
    # number words of both languages when the guess rests on no evidence
    counts = _stop_word_counts(text) if not language else {}
    words_language = None if counts and counts["fr"] == counts["en"] else lang
    stem = _citation_stem(citation)
    rows: list[dict[str, object]] = []
    first_of: dict[tuple, str] = {}
    for s, e in _sentences(text):
        sent = _Sentence.of(text[s:e])
        per_day = bool(_PER_DAY_RE.search(sent.norm))
        for q in _sentence_claims(sent, lexicon, words_language):
            claim_id = f"{stem}-{len(rows) + 1:03d}"
            phrase = sent.original(q.phrase_start, q.end).strip()
            notes = [q.note] if q.note else []
            measure = ""
            if per_day:
                measure = "per_day"
                notes.append("the sentence gives a per-day figure")
            key = (q.category, q.qualifier, q.value, q.value_high,
                   q.vague_key if q.kind == "vague" else "", measure)
            derived = first_of.setdefault(key, claim_id)
            row = dict.fromkeys(CLAIM_COLUMNS, "")
            row.update(
                claim_id=claim_id,
                category=q.category,
                qualifier=q.qualifier,
                value=_number_cell(q.value),
                value_high=_number_cell(q.value_high),
                phrase=phrase,
                quote=sent.text,
                citation=citation,
                language=lang,
                measure=measure,
                derived_from="" if derived == claim_id else derived,
                notes="; ".join(notes),
            )
            rows.append(row)
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS), dtype=object)


def read_article(path: str | PathLike[str]) -> str:
    """The text of an article file: UTF-8 (a BOM is accepted). A file that is not UTF-8 text
    raises :class:`reconcile.errors.InputFormatError` naming the first bad byte; a missing or
    unreadable one raises the ``OSError`` of reading it."""
    path = Path(path)
    data = path.read_bytes()
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputFormatError(f"{path}: not a text file (NUL byte at byte offset {nul}: a binary file?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputFormatError(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at byte offset {exc.start}, line {line}); "
            "save the article as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)"
        ) from None


def extract_files(paths: Sequence[str | PathLike[str]], language: str | None = None,
                  lexicon: Lexicon | None = None) -> pd.DataFrame:
    """:func:`extract_claims` over UTF-8 text files (BOM accepted); citation = file name."""
    frames = []
    for p in paths:
        path = Path(p)
        frames.append(extract_claims(read_article(path), path.name, language=language, lexicon=lexicon))
    if not frames:
        return pd.DataFrame(columns=list(CLAIM_COLUMNS), dtype=object)
    return pd.concat(frames, ignore_index=True)


def write_candidates(frame: pd.DataFrame, out: TextIO | str | PathLike[str]) -> None:
    """Write candidate rows as CSV (UTF-8, header, no index) to a path or a text stream.

    A text cell that a spreadsheet would run as a formula (it begins with ``=``, ``+``, ``-`` or
    ``@``) is written with a leading apostrophe, which the claims reader removes again."""
    text = csv_text(frame, quoting=csv.QUOTE_MINIMAL)
    if isinstance(out, (str, PathLike)):
        with open(out, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    else:
        out.write(text)
