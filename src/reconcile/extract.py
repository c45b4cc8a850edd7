"""Article text -> candidate claim rows, for a person to review.

The extractor is a small, deliberately transparent pipeline of regular expressions over
the normal form of each sentence (see :func:`reconcile.lexicon.normalize_with_offsets`):

1. the article is read (:mod:`reconcile.article`: plain text, Markdown or HTML, with its
   title, date, outlet and URL) and cut into sentences and paragraphs; a line break inside
   a sentence is kept inside it, and the ``quote`` column is the sentence verbatim;
2. quantities are found: vague phrases of the lexicon, numbers written with digits
   (parsed by :func:`reconcile.lexicon.parse_number`) and runs of number words;
3. quantities that are not counts of people are dropped: dates and times, years, ages,
   money, percentages, durations and units, ordinals ("XIe", "deuxième"), and numbers
   that count no one: a figure is kept when a people noun or casualty word follows it,
   when it ends a clause after one, when it is the object of a casualty verb ("killed
   120"), repeats a noun named before ("3,000 more", "the 11,000 already there") or is
   listed with such a figure ("1 200, 1 350 et 1 410 soldats");
4. each figure gets a ``qualifier`` from the words just before it, shared by the figures
   listed after it ("environ 300 ... tués et 2 700 blessés": both ``about``), a
   ``category`` from its own noun phrase, the casualty verb before it, or the nearest
   casualty / deployment word (``deployed`` when none is near, and the notes say so);
5. its context is read (:mod:`reconcile.context`, :mod:`reconcile.when`, the tables of
   :mod:`reconcile.tables`): source (per clause when a sentence passes from one speaker to
   another), ``reported_on``, period, measure, population; what the sentence does not say is
   taken from its paragraph, then the article (a figure that refers back, "50 autres", takes
   the period and category of the figure before), and what is still unknown stays blank and
   is named in ``notes``;
6. relative figures ("plus de la moitié", "a third of the force", percentages) and people
   neither lost nor deployed (prisoners, evacuees) are returned as :class:`Skipped`.

Every vocabulary list lives in the module-level tables below (normalised: lower case,
no accents, straight apostrophes).
"""

from __future__ import annotations

import csv
import re
from bisect import bisect_left
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from os import PathLike
from pathlib import Path
from typing import Sequence, TextIO

import pandas as pd

from reconcile._io import csv_text
from reconcile.article import Article, ArticleError, ArticleMeta, parse_article, read_article
from reconcile.context import Attribution, assign_periods, attribution, people_near, population_near, statement_mentions
from reconcile.lexicon import (
    Lexicon,
    default_lexicon,
    normalize_phrase,
    normalize_with_offsets,
    number_word_set,
    parse_number,
)
from reconcile.tables import PopulationTable, Source, SourceTable, default_populations, default_sources
from reconcile.vocabulary import (
    _MODIFIER_RE,
    _PERSON_RE,
    CATEGORY_PATTERNS,
    NOUN_MODIFIERS,
    PERSON_NOUNS,
    _is_people_token,
)
from reconcile.when import day_of, find_dates, period_of, years_in

__all__ = [
    "ArticleError",
    "BLANKS_TO_FILL",
    "CLAIM_COLUMNS",
    "Extraction",
    "Skipped",
    "combine",
    "detect_language",
    "extract_article",
    "extract_claims",
    "extract_files",
    "extract_paths",
    "write_candidates",
]

CLAIM_COLUMNS = (
    "claim_id",
    "population",
    "category",
    "source",
    "reported_on",
    "qualifier",
    "value",
    "value_high",
    "phrase",
    "quote",
    "citation",
    "language",
    "period_start",
    "period_end",
    "measure",
    "source_group",
    "stance",
    "derived_from",
    "notes",
)

# --------------------------------------------------------------------------- vocabulary
# All entries are in normal form (see reconcile.lexicon.normalize_phrase).

#: words just before a number -> qualifier (longest match wins)
QUALIFIER_WORDS: dict[str, tuple[str, ...]] = {
    "at_least": (
        "au moins",
        "au minimum",
        "pas moins de",
        "pas moins d'",
        "at least",
        "no fewer than",
        "no less than",
        "not less than",
        "a minimum of",
    ),
    "more_than": (
        "plus de",
        "plus d'",
        "more than",
        "over",
        "well over",
        "in excess of",
        "upwards of",
        "above",
        "top",
        "tops",
        "topped",
        "pass",
        "passes",
        "passed",
        "exceed",
        "exceeds",
        "exceeded",
        "surpass",
        "surpassed",
        "surpasses",
        "depasse",
        "depassent",
        "depassait",
        "depassaient",
        "depasserait",
        "depasseraient",
        "depassant",
        "depasser",
        "excede",
        "excedent",
        "bien plus de",
        "largement plus de",
    ),
    "about": (
        "environ",
        "pres de",
        "pres d'",
        "quelque",
        "approximativement",
        "a peu pres",
        "autour de",
        "autour d'",
        "presque",
        "about",
        "around",
        "some",
        "nearly",
        "almost",
        "approximately",
        "roughly",
        "an estimated",
        "estimated",
        "~",
        "≈",
    ),
    "fewer_than": ("moins de", "moins d'", "fewer than", "less than", "under", "below"),
    "at_most": ("jusqu'a", "up to", "at most", "au plus", "au maximum", "as many as", "no more than", "not more than"),
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

#: vague phrases without a scale: kept only when a people noun follows directly
UNSCALED_VAGUE = frozenset(
    {
        "plusieurs",
        "several",
        "quelques",
        "a few",
        "quelques-uns",
        "quelques-unes",
        "many",
        "numerous",
        "de nombreux",
        "de nombreuses",
        "bon nombre de",
        "a large number of",
        "a handful",
        "une poignee",
        "a couple of",
    }
)

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
#: words before a figure that make it an age ("aged between 18 and 25", "âgés de 20 ans")
AGE_WORDS = frozenset("aged age agee agees ages ageds".split())
#: people counted but not lost nor deployed: such figures are reported as skipped
NOT_A_CLAIM = (
    r"captur\w*|prisonniers?|prisoners?|evacu\w*|deplace(?:e|s|es)?|displaced|refugi\w*|"
    r"refugees?|disparus?|missing|recrut\w*|recruit(?:s|ed|ing)?|abonnes|subscribers|"
    r"echange(?:s|es)?|exchanged|liberes|released"
)
#: nouns a figure may be the value of ("the daily average was 1,271", "le bilan s'élève à 18")
COUNT_NOUNS = (
    r"moyenne|average|bilan|toll|total|nombre|number|chiffre|figure|decompte|count|tally|"
    r"estimation|estimate"
)
#: words after a figure that repeat the noun named before it ("3,000 more", "1 000 de plus")
ELLIPSIS_WORDS = frozenset("more others autres supplementaires additional de plus".split())
#: per-day figures ("Moscou perd chaque jour 1 200 soldats")
PER_DAY = r"chaque jour|par jour|quotidien(?:ne)?s?|quotidiennement|per day|each day|every day|daily"

#: stop words for the language guess
STOP_WORDS = {
    "fr": frozenset(
        "le la les de des du et est un une que qui dans pour au aux sur avec par "
        "ont a en ce ces il elle ils sont pas ne se son sa leurs selon".split()
    ),
    "en": frozenset(
        "the of and to in is was were that for on with by at from have has are "
        "it its he she they their not be been this which said".split()
    ),
}

#: abbreviations whose final dot does not end a sentence
ABBREVIATIONS = frozenset(
    "m mm mme mmes mlle dr st ste etc cf p pp no vol gen lt col sgt mr mrs ms prof jr sr vs "
    "av apr env art ch fig maj capt cpt adm brig lieut cmdr rep sen gov janv fevr avr juil sept "
    "oct nov dec jan feb mar apr jun jul aug sep".split()
)

# --------------------------------------------------------------------------- regexes

_B = r"(?<![\w'])"  # left word boundary (normal form)
_E = r"(?![\w])"  # right word boundary


def _alt(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_QUAL_LIST = [(w, q) for q, ws in QUALIFIER_WORDS.items() for w in ws]
_QUAL_RE = re.compile(
    r"(?:^|(?<=[\s'\"«“(\[]))(?P<q>" + _alt([w for w, _ in _QUAL_LIST]) + r")"
    r"(?:\s+(?:desormais|deja|now|already|just|a peine|encore|still))?\s*[\"«“]?\s*$"
)
_QUAL_OF = {w: q for w, q in _QUAL_LIST}
_OPENER_RE = re.compile(r"(?:^|(?<=[\s'\"«“(\[]))(?P<o>" + _alt(RANGE_OPENERS) + r")\s*$")
_CATEGORY_RE = re.compile("|".join(f"{_B}(?P<c{i}>{pat}){_E}" for i, (_, pat) in enumerate(CATEGORY_PATTERNS)))
_CATEGORY_OF = {f"c{i}": cat for i, (cat, _) in enumerate(CATEGORY_PATTERNS)}
_CURRENCY_RE = re.compile(CURRENCY_WORDS)
_UNIT_RE = re.compile(UNIT_WORDS)
_PER_DAY_RE = re.compile(f"{_B}(?:{PER_DAY}){_E}")
_NOT_A_CLAIM_RE = re.compile(f"{_B}(?:{NOT_A_CLAIM}){_E}")
_COUNT_NOUN_RE = re.compile(f"{_B}(?:{COUNT_NOUNS}){_E}")
_TOKEN_RE = re.compile(r"\w+'(?=\w)|\w+(?:-\w+)*|[^\w\s]")
_DATE_RES = (
    re.compile(r"\d{4}-\d{1,2}-\d{1,2}"),
    re.compile(r"\d{1,2}/\d{1,2}/\d{2,4}"),
    re.compile(r"\d{1,2}[.-]\d{1,2}[.-]\d{4}"),
    re.compile(r"(?<!\d)\d{1,2}(?::\d{2}){1,2}(?!\d{3})"),
    re.compile(r"(?<![\w])\d{1,2}h\d{2}(?!\d)"),
)
_SCALE_WORDS = ("millions", "million", "milliards", "milliard", "billions", "billion", "thousand", "mille")
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
            first in ",.;:)]»”" or first.islower() or (first in '"«“' and (prev[-1].isalnum() or prev[-1] in ",'’"))
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
            nxt = chunk[m.end() : m.end() + 1]
            if not nxt or not (nxt.isupper() or nxt.isdigit() or nxt in '"«“'):
                continue
            before = re.search(r"(\w+)[.!?…]+[\"»”)]*\s+$", chunk[: m.end()])
            if (
                before
                and m.group(0).startswith(".")
                and (
                    before.group(1).lower() in ABBREVIATIONS
                    or (len(before.group(1)) == 1 and before.group(1).isupper())
                )
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
    """ "fr" or "en", whichever has more stop words in ``text`` (ties: "fr")."""
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
    gate: str = ""  # "noun" | "predicate" | "anaphoric"
    qualifier_word: str = ""  # the word the qualifier was read from
    guessed: bool = False  # category guessed for want of a word
    category: str = ""
    note: str = ""
    increment: bool = False  # the "(+1,250)" of a bulletin: the increase since the last report

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
                masked[m.start() : m.end()] = "#" * (m.end() - m.start())
        masked_s = "".join(masked)
        tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN_RE.finditer(norm)]
        return cls(text, norm, offsets, masked_s, tokens)

    def to_norm(self, orig: int) -> int:
        return bisect_left(self.offsets, orig)

    def original(self, start: int, end: int) -> str:
        if end <= start:
            return ""
        return self.text[self.offsets[start] : self.offsets[end - 1] + 1]

    def tokens_after(self, pos: int, n: int = 6) -> list[str]:
        i = bisect_left([t[0] for t in self.tokens], pos)
        return [t[2] for t in self.tokens[i : i + n]]

    def tokens_before(self, pos: int, n: int = 3) -> list[str]:
        i = bisect_left([t[1] for t in self.tokens], pos + 1)
        return [t[2] for t in self.tokens[max(0, i - n) : i]]


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
        cands.append(
            (
                2,
                _Quantity(
                    m.start(),
                    m.end(),
                    "number",
                    value=value,
                    digits="" if m.group("scale") else m.group("num"),
                    plus=bool(m.group("plus")),
                ),
            )
        )
    vocab = number_word_set(language)
    toks = sent.tokens
    i = 0
    while i < len(toks):
        parts = toks[i][2].split("-")
        if not all(p in vocab for p in parts) or toks[i][2] in ("et", "and"):
            i += 1
            continue
        j = i + 1
        while j < len(toks) and j - i < 10 and all(p in vocab or p in ("et", "and") for p in toks[j][2].split("-")):
            j += 1
        found = None
        for k in range(j, i, -1):
            text = sent.norm[toks[i][0] : toks[k - 1][1]]
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
        # "un"/"one" is an article, except as a part of a count: "dont un enfant", "including one child"
        one_part = (
            single
            and value == 1
            and previous in ("dont", "including", "notamment")
            and k < len(toks)
            and bool(_PERSON_RE.fullmatch(toks[k][2]) or _PERSON_RE.fullmatch(toks[k][2] + "s"))
        )
        if (not (single and value < 2) or one_part) and not (
            toks[i][2] in ("cent", "cents") and previous in ("pour", "per")
        ):
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
            between = sent.norm[q.end : nxt.start].strip()
            opener = _OPENER_RE.search(sent.norm[: q.start])
            ok = between in RANGE_CONNECTORS or (
                between in RANGE_CONNECTORS_AND and opener and opener.group("o") in RANGE_OPENERS_WITH_AND
            )
            # a range's ends are of one kind and size: not "since 2022 to 807,190"
            same_kind = _is_year(q.digits, q.value) == _is_year(nxt.digits, nxt.value)
            if (
                ok
                and same_kind
                and nxt.value is not None
                and q.value is not None
                and q.value <= nxt.value
                and nxt.value <= 20 * max(q.value, 1)
            ):
                merged = _Quantity(
                    q.start,
                    nxt.end,
                    "number",
                    value=q.value,
                    value_high=nxt.value,
                    digits=nxt.digits,
                    qualifier="range",
                    phrase_start=opener.start("o") if opener else q.start,
                )
                merged.low_digits = q.digits
                out.append(merged)
                i += 2
                continue
        out.append(q)
        i += 1
    return out


def _is_year(digits: str, value: float | None) -> bool:
    return bool(re.fullmatch(r"\d{4}", digits or "")) and value is not None and 1800 <= value <= 2100


def _excluded(sent: _Sentence, q: _Quantity) -> bool:
    after = sent.tokens_after(q.end, 6)
    before = sent.tokens_before(q.start, 2)
    rest = sent.norm[q.end :].lstrip()
    head = sent.norm[: q.start].rstrip()
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
    # ages
    if any(t in AGE_WORDS for t in sent.tokens_before(q.phrase_start if q.phrase_start >= 0 else q.start, 3)):
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
    before2 = sent.tokens_before(q.start, 2)
    possessed = bool(before2) and (
        before2[-1] in ("the", "its", "their", "ses", "leurs")
        or (before2[-1] == "s" and len(before2) == 2 and before2[0].endswith("'"))
    )
    if (_is_year(q.digits, q.value if q.value_high is None else q.value_high) or _is_year(q.low_digits, q.value)) and (
        not first_is_people or possessed
    ):
        return True  # a year, also as an adjective: "Russia's 2025 losses"
    return False


#: verbs whose object is an amount of what was named before them
_AMOUNT_VERB_RE = re.compile(
    r"(?<![\w-])(?:averag(?:e|es|ed|ing)|totall?(?:ed|ing)|reach(?:ed|ing)|atteign\w*|"
    r"atteint|s'elev(?:ant|e|ent|ait|aient) a|st(?:ood|ands) at|rose to|put at|"
    r"estimated at|estimee?s? a|chiffree?s? a|evaluee?s? a)\s*$"
)
_ANAPHORIC_BEFORE = re.compile(r"(?:^|\s)(?:the|les|ces|those|these|from|to|a|au|aux|contre|against|of|sur)\s*$")
_NUMBER_OF_AFTER = re.compile(r"^\s*(?:le|the)\s+(?:nombre|number|total|bilan|toll)(?:\s+total)?\s+(?:de|d'|of)\s*")


def _gate(sent: _Sentence, q: _Quantity) -> str:
    """ "noun" when a people noun / casualty word follows, "predicate" when the quantity
    ends a clause after such a word, "anaphoric" for "the 11,000 already there" after people
    were named, "" otherwise."""
    rest = sent.norm[q.end :]
    offset = q.end
    m = _NUMBER_OF_AFTER.match(rest)  # "portant à 770 000 le nombre total de soldats"
    if m:
        offset = q.end + m.end()
    after = [t for t in sent.tokens_after(offset, 8) if t not in _QUOTES]
    unscaled = q.kind == "vague" and q.vague_key in UNSCALED_VAGUE
    capitalised = _capitalised_tokens(sent, offset)
    for n, tok in enumerate(after[:6]):
        if unscaled:
            return "noun" if _PERSON_RE.fullmatch(tok) else ""
        if _is_people_token(tok):
            return "noun"
        if (_MODIFIER_RE.fullmatch(tok) or tok in capitalised) and n < 5:
            continue  # "40 Sudanese civilians": a proper adjective
        break
    window = sent.norm[: q.phrase_start if q.phrase_start >= 0 else q.start]
    people_named = bool(_CATEGORY_RE.search(window)) or any(
        _PERSON_RE.fullmatch(t) for t in re.findall(r"\w+(?:-\w+)*", window)
    )
    named = people_named or bool(_COUNT_NOUN_RE.search(window))
    first = after[0] if after else ""
    per_day_next = bool(re.match(r"\s*(?:a day|per day|par jour|each day|chaque jour|daily)(?![\w-])", rest))
    if (not first or first in _CLAUSE_END or per_day_next) and named:
        return "predicate"
    if people_named and _AMOUNT_VERB_RE.search(window):
        return "predicate"  # "daily losses averaging around 1,300 in March", "le bilan s'élevant à 18"
    if _category_right_before(sent, q):
        return "object"  # "wounded 340", "a tué 200"
    if people_named and (first in ELLIPSIS_WORDS or " ".join(after[:2]) == "de plus"):
        return "ellipsis"  # "3,000 more", "1 000 supplémentaires"
    if people_named and q.kind == "number" and (q.value or 0) >= 10 and _ANAPHORIC_BEFORE.search(window):
        return "anaphoric"
    return ""


def _capitalised_tokens(sent: _Sentence, pos: int, n: int = 3) -> set[str]:
    """The next ``n`` tokens after ``pos`` that are written with a capital in the sentence."""
    i = bisect_left([t[0] for t in sent.tokens], pos)
    out = set()
    for start, _, tok in sent.tokens[i : i + n]:
        original = sent.text[sent.offsets[start]] if start < len(sent.offsets) else ""
        if original.isupper() and tok.isalpha():
            out.add(tok)
    return out


def _category_in(text: str, last: bool) -> str:
    matches = list(_CATEGORY_RE.finditer(text))
    if not matches:
        return ""
    m = matches[-1] if last else matches[0]
    return _CATEGORY_OF[m.lastgroup]


#: vague phrases that are how the language writes a round number as a noun: French has no
#: other noun for "a thousand" ("mille" takes no article), so "plus d'un millier" is "more than
#: 1,000" and "près d'un millier" "about 1,000". Other approximate counts keep their vague
#: reading under a qualifier ("au moins une vingtaine" = "une vingtaine", the bound noted):
#: "plus de vingt" was there to be written.
ROUND_NUMBER_NOUNS = {"un millier": 1000, "un bon millier": 1000}


def _qualify(sent: _Sentence, q: _Quantity, lexicon: Lexicon) -> None:
    if q.qualifier == "range":
        return
    m = _QUAL_RE.search(sent.norm[: q.start])
    if m and re.search(rf"(?<![\w'])(?:{_alt(QUALIFIER_FALSE_FRIENDS)})$", sent.norm[: m.end("q")]):
        m = None
    word = m.group("q") if m else ""
    q.phrase_start = m.start("q") if m else q.start
    q.qualifier_word = word
    if q.kind == "vague":
        q.qualifier = "vague"
        bound = _QUAL_OF.get(word, "")
        if bound and q.vague_key in ROUND_NUMBER_NOUNS:
            q.kind, q.value, q.qualifier = "number", ROUND_NUMBER_NOUNS[q.vague_key], bound
            q.note = f"{word!r} before {q.vague_key!r} read as {bound} {q.value:g}"
        elif word:
            q.note = f"qualifier {word!r} before the vague phrase {q.vague_key!r}: kept as the phrase"
    elif word:
        q.qualifier = _QUAL_OF[word]
    elif q.plus:
        q.qualifier = "more_than"
    else:
        q.qualifier = "exact"


def _category_right_before(sent: _Sentence, q: _Quantity) -> str:
    """The category of a casualty verb right before the figure ("killed 120", "a perdu 1 530",
    "avoir tué ou blessé « plus de 2 500 »")."""
    start = q.phrase_start if q.phrase_start >= 0 else q.start
    head = sent.norm[max(0, start - 40) : start].rstrip(' «"“')
    m = None
    for m in _CATEGORY_RE.finditer(head):
        pass
    if m is None or head[m.end() :].strip(' «"“'):
        return ""  # "Of the 12,000 troops deployed, about 4,000 ...": a comma ends that verb's reach
    return _CATEGORY_OF[m.lastgroup]


#: where the clause of a figure ends, looking forward: a new clause with its own subject
#: ("..., and that a small number had been killed", "; ...", "while ...", "tandis que ...")
_NEW_CLAUSE_RE = re.compile(
    r"[;:]\s|,\s*(?:and |et |but |mais )?(?:that|que|qu')\s|"
    r"(?<![\w-])(?:while|whereas|tandis que|alors que|but|mais)(?![\w-])"
)


def _own_clause(forward: str) -> str:
    """The part of ``forward`` (the text after a figure) that is still the figure's clause."""
    m = _NEW_CLAUSE_RE.search(forward)
    return forward[: m.start()] if m else forward


_COORDINATION = re.compile(
    r"^(?:\s|,|et|and|or|ou|"
    + NOUN_MODIFIERS
    + r"|"
    + PERSON_NOUNS
    + r"|"
    + "|".join(f"(?:{pat})" for _, pat in CATEGORY_PATTERNS)
    + r")*$"
)


def _distribute_qualifier(sent: _Sentence, prev: _Quantity, q: _Quantity, skip: tuple[int, int] | None = None) -> None:
    """A figure with no qualifier of its own, listed right after one with a qualifier word,
    shares it: "environ 300 d'entre eux ont été tués et 2 700 blessés" -> both "about"."""
    if q.qualifier != "exact" or q.qualifier_word or q.plus or q.kind != "number":
        return
    if prev.qualifier in ("exact", "range", "vague") or not prev.qualifier_word:
        return
    between = sent.norm[prev.end : q.phrase_start]
    if skip is not None:  # a part named in between ("including two children") is left out
        between = sent.norm[skip[1] : q.phrase_start]
    if len(between) > 70 or not _COORDINATION.match(between):
        return
    q.qualifier = prev.qualifier
    q.qualifier_word = prev.qualifier_word
    q.note = "; ".join(filter(None, [q.note, f"qualifier {prev.qualifier_word!r} shared with the figure before"]))


def _sentence_claims(sent: _Sentence, lexicon: Lexicon, language: str | None) -> list[_Quantity]:
    qs = _merge_ranges(sent, _find_quantities(sent, lexicon, language))
    days = [(m.start, m.end) for m in find_dates(sent.norm) if m.kind in ("day", "daylist")]
    cands = []
    for q in qs:
        if _excluded(sent, q) or any(s <= q.start and q.end <= e for s, e in days):
            continue
        if q.qualifier != "range":
            q.phrase_start = -1
        _qualify(sent, q, lexicon)
        q.gate = _gate(sent, q)
        cands.append(q)
    # a figure listed before one that counts people counts them too ("1 200, 1 350 et 1 410 soldats")
    for i in range(len(cands) - 2, -1, -1):
        q, nxt = cands[i], cands[i + 1]
        if (
            not q.gate
            and nxt.gate
            and q.kind == "number"
            and _LIST_RE.fullmatch(sent.norm[q.end : nxt.phrase_start if nxt.phrase_start >= 0 else nxt.start])
        ):
            q.gate = "list"
    # bulletins: "personnel ‒ about 898,590 (+1,250)", "tanks: 10,679 (+3)": a total and its
    # increase since the last report, counting what the item before them names
    cands = _bulletin_items(sent, cands)
    # a figure that opens a part of the figure before ("820,000 troops, including 1,190 over the
    # previous day", "31 killed, including 4 paramedics", "soit une moyenne de 1 500 par jour")
    # counts what that one counts, whatever follows it
    last_kept = None
    for q in cands:
        if (
            not q.gate
            and last_kept is not None
            and q.kind == "number"
            and _PART_OPENER_RE.search(
                sent.norm[max(last_kept.end, q.start - 60) : q.phrase_start if q.phrase_start >= 0 else q.start]
            )
            and not re.search(r"[.;]", sent.norm[last_kept.end : q.start])
        ):
            q.gate = "part"
        if q.gate:
            last_kept = q
    kept = [q for q in cands if q.gate]
    for i, q in enumerate(kept):
        if i:
            _distribute_qualifier(sent, kept[i - 1], q)
        if (
            i > 1
            and q.qualifier == "exact"
            and _SUBPART_BEFORE_RE.search(sent.norm[kept[i - 2].end : kept[i - 1].phrase_start])
        ):
            # "at least 34 civilians, including two children, were killed and 117 wounded"
            _distribute_qualifier(sent, kept[i - 2], q, skip=(kept[i - 2].end, kept[i - 1].end))
        lo = kept[i - 1].end if i else 0
        hi = (
            kept[i + 1].phrase_start
            if i + 1 < len(kept) and kept[i + 1].phrase_start >= 0
            else (kept[i + 1].start if i + 1 < len(kept) else len(sent.norm))
        )
        forward = _own_clause(sent.norm[q.end : hi])
        backward = sent.norm[lo : q.phrase_start]
        noun_phrase = _noun_phrase_category(sent, q, hi)
        cat = noun_phrase or _category_right_before(sent, q) or _category_attached(sent, q)
        if (
            not cat
            and i
            and kept[i - 1].category
            and not kept[i - 1].guessed
            and _PART_OPENER_RE.search(
                sent.norm[max(kept[i - 1].end, q.start - 60) : q.phrase_start if q.phrase_start >= 0 else q.start]
            )
        ):
            cat = kept[i - 1].category  # "34 civils, dont deux enfants, et en a blessé 117": a part of the 34
        if cat:
            pass
        elif q.gate == "predicate":
            cat = _category_in(backward, last=True) or _category_in(forward, last=False)
        else:
            cat = _category_in(forward, last=False) or _category_in(backward, last=True)
        if not cat and i + 1 < len(kept) and _SUBPART_RE.match(sent.norm[q.end : kept[i + 1].phrase_start]):
            # "34 civilians, including two children, were killed": past the part
            after_part = sent.norm[
                kept[i + 1].end : (kept[i + 2].phrase_start if i + 2 < len(kept) else len(sent.norm))
            ]
            cat = _category_in(after_part, last=False)
        if not cat and i and q.gate == "part" and kept[i - 1].category and not kept[i - 1].guessed:
            cat = kept[i - 1].category  # a part counts what the whole counts
        if (
            not cat
            and i
            and _SUBPART_BEFORE_RE.search(sent.norm[kept[i - 1].end : q.phrase_start])
            and kept[i - 1].category
            and not kept[i - 1].guessed
        ):
            cat = kept[i - 1].category  # "14, including three children": a part of the figure before
        if not cat and i and q.gate == "predicate" and kept[i - 1].category and not kept[i - 1].guessed:
            cat = kept[i - 1].category
            q.note = "; ".join(filter(None, [q.note, "category of the figure before in the sentence"]))
        if not cat and i + 1 < len(kept) and q.gate == "list":
            q.category = ""  # filled from the figure it is listed with, below
            continue
        if not cat and _per_day(sent.norm, q):
            cat = "casualties"
            q.note = "; ".join(filter(None, [q.note, "category read as casualties: a per-day figure"]))
        if (
            not cat
            and i
            and kept[i - 1].category
            and not kept[i - 1].guessed
            and _LIST_RE.fullmatch(sent.norm[kept[i - 1].end : q.phrase_start])
        ):
            cat = kept[i - 1].category  # "1 350 et 1 410 soldats": listed with the figure before
        if not cat:
            cat = "deployed"
            q.guessed = True
            q.note = "; ".join(filter(None, [q.note, "category guessed (no casualty or deployment word near)"]))
        q.category = cat
    # listed figures share the category of the list ("1 200, 1 350 et 1 410" after "a perdu")
    for i, q in enumerate(kept):
        if not q.category:
            j = i + 1
            while j < len(kept) and not kept[j].category:
                j += 1
            prev = kept[i - 1].category if i and _LIST_RE.fullmatch(sent.norm[kept[i - 1].end : q.start]) else ""
            q.category = prev or (kept[j].category if j < len(kept) else "deployed")
    for i in range(1, len(kept)):
        q, prev_q = kept[i], kept[i - 1]
        if q.guessed and not prev_q.guessed and _LIST_RE.fullmatch(sent.norm[prev_q.end : q.phrase_start]):
            q.category, q.guessed = prev_q.category, False
            q.note = q.note.replace(
                "category guessed (no casualty or deployment word near)", "category of the figure it is listed with"
            )
    for i in range(1, len(kept)):  # a part whose whole got its category from a list, above
        q, prev_q = kept[i], kept[i - 1]
        if (
            q.guessed
            and not prev_q.guessed
            and _PART_OPENER_RE.search(
                sent.norm[max(prev_q.end, q.start - 60) : q.phrase_start if q.phrase_start >= 0 else q.start]
            )
        ):
            q.category, q.guessed = prev_q.category, False
            q.note = q.note.replace(
                "category guessed (no casualty or deployment word near)", "category of the figure it is a part of"
            )
    return kept


_LIST_RE = re.compile(r"\s*(?:,|,?\s*(?:et|and|ou|or))\s*")
_SUBPART_RE = re.compile(
    r"^[^.;]{0,40}?,?\s*(?:including|dont|y compris|among them|parmi lesquels|parmi lesquelles)\s*$"
)
_SUBPART_BEFORE_RE = re.compile(r"(?:including|dont|y compris|among them|parmi lesquels|parmi lesquelles)\s*$")
#: words that open a part of the figure before, or restate it ("soit une moyenne de")
_PART_OPENER_RE = re.compile(
    r"(?:^|[\s,(])(?:including|dont|y compris|among them|among whom|of whom|of them|parmi eux|parmi elles|"
    r"parmi lesquels|parmi lesquelles|d'entre eux|d'entre elles|soit|that is|or about)"
    r"(?:\s+(?:une |an |a |la |the )?(?:moyenne|average|total|bilan)\s+(?:de|d'|of))?\s*[«\"“]?\s*$"
)


_INCREMENT_RE = re.compile(r"\s*\(\s*\+\s*$")
_ITEM_SKIP = frozenset("- : -- about approximately around some environ quelque pres de approx".split())


def _bulletin_items(sent: _Sentence, cands: list[_Quantity]) -> list[_Quantity]:
    """Read "ITEM ‒ [about] N (+M)" lists: N and M are kept when ITEM names people
    ("personnel", "militaires"), dropped when it names equipment ("tanks", "chars")."""
    out = []
    drop: set[int] = set()
    for i, q in enumerate(cands):
        if (
            i + 1 >= len(cands)
            or not _INCREMENT_RE.fullmatch(sent.norm[q.end : cands[i + 1].start])
            or not sent.norm[cands[i + 1].end :].lstrip().startswith(")")
        ):
            continue
        m = cands[i + 1]
        start = q.phrase_start if q.phrase_start >= 0 else q.start
        words = [t for t in sent.tokens_before(start, 4) if t not in _ITEM_SKIP]
        item = words[-1] if words else ""
        if _PERSON_RE.fullmatch(item):
            q.gate = q.gate or "noun"
            m.gate, m.increment = "part", True
            m.note = "; ".join(
                filter(None, [m.note, f"'(+{m.value:g})' after {item!r}: the increase since the last report"])
            )
        else:
            drop.update((i, i + 1))
    for i, q in enumerate(cands):
        if i not in drop:
            out.append(q)
    return out


def _category_attached(sent: _Sentence, q: _Quantity) -> str:
    """A casualty word right after the figure, past people nouns and modifiers ("600 dead",
    "1,000 North Koreans killed")."""
    i = bisect_left([t[0] for t in sent.tokens], q.end)
    for start, _, tok in sent.tokens[i : i + 4]:
        if tok in _QUOTES:
            continue
        m = _CATEGORY_RE.match(sent.norm, start)
        if m:
            return _CATEGORY_OF[m.lastgroup]
        if _PERSON_RE.fullmatch(tok) or (_MODIFIER_RE.fullmatch(tok) and tok not in ("and", "et")):
            continue
        break
    return ""


def _noun_phrase_category(sent: _Sentence, q: _Quantity, hi: int) -> str:
    """A casualty word in the figure's own noun phrase ("198 000 soldats tués")."""
    i = bisect_left([t[0] for t in sent.tokens], q.end)
    seen_noun = False
    for start, _, tok in sent.tokens[i : i + 6]:
        if tok in _QUOTES:
            continue
        m = _CATEGORY_RE.match(sent.norm, start)
        if m and seen_noun:
            return _CATEGORY_OF[m.lastgroup]
        if _PERSON_RE.fullmatch(tok):
            seen_noun = True
            continue
        if _MODIFIER_RE.fullmatch(tok) and tok not in ("and", "et"):
            continue
        break
    return ""


#: a figure that gives the size of each group, wave or unit, not a count of people lost
_GROUP_SIZE_RE = re.compile(
    r"(?<![\w-])(?P<w>vagues?|waves?|groupes?|groups?|escouades?|squads?|unites?|units?|colonnes?|columns?|"
    r"detachements?|detachments?)(?:\s+(?:de|d'|of))?\s*$"
)


def _not_a_claim(sent: _Sentence, q: _Quantity, hi: int) -> str:
    """The word that makes a figure count people neither lost nor deployed ("2 soldats
    capturés", "150 000 habitants évacués"), or ""."""
    forward = sent.norm[q.end : min(hi, q.end + 60)]
    start = q.phrase_start if q.phrase_start >= 0 else q.start
    backward = sent.norm[max(0, start - 25) : start]
    group = _GROUP_SIZE_RE.search(sent.norm[max(0, start - 40) : start])
    if group:
        return group.group("w")  # "attaque par vagues de 100 à 150 soldats": the size of a group
    last = None
    for last in _NOT_A_CLAIM_RE.finditer(backward):
        pass
    if last is not None and not backward[last.end() :].strip(' «"“') and not _noun_phrase_category(sent, q, hi):
        return last.group()  # the object of the verb: "avoir fait prisonniers 300 soldats"
    nc = _NOT_A_CLAIM_RE.search(forward)
    cat = _CATEGORY_RE.search(forward)
    if nc and (cat is None or nc.start() < cat.start()):
        return nc.group()
    if not cat and not _category_right_before(sent, q):
        m = None
        for m in _NOT_A_CLAIM_RE.finditer(backward):
            pass
        if m is not None:
            return m.group()
    return ""


# --------------------------------------------------------------------------- relative figures

#: fractions and shares of a force: not a count, reported for a person to code by hand
_RELATIVE_RE = re.compile(
    r"(?<![\w-])(?:(?:plus de|plus d'|moins de|moins d'|pres de|pres d'|environ|about|around|roughly|nearly|"
    r"almost|more than|less than|over|some|at least|au moins)\s*)?"
    r"(?:(?:la |une |the |a |one |un |deux |trois |two |three |two-)?(?:moitie|half|tiers|third|thirds|quart|"
    r"quarts|quarter|quarters|dixieme|tenth)|"
    r"(?:\d+(?:[.,]\d+)?\s*(?:-|a|to)\s*)?\d+(?:[.,]\d+)?\s*(?:%|pour cent|pourcent|percent|per cent))"
    r"(?:\s+(?:de|d'|des|du|of)\s*(?:the |la |les |l'|ces |ce |cette |these |those |its |their |leurs |ses )?"
    r"[\w'-]+)?(?![\w])"
)
_FRACTION_NOT = re.compile(r"^(?:a |the |un |une )?(?:half|third|quarter)(?:\s+of)?\s+(?:century|siecle|hour|heure)")


def _relatives(sent: _Sentence) -> list[str]:
    """Relative figures of people in the sentence (phrase as written), when the sentence
    speaks of people or losses."""
    if not (_CATEGORY_RE.search(sent.norm) or _PERSON_RE.search(sent.norm)):
        return []
    out = []
    for m in _RELATIVE_RE.finditer(sent.norm):
        text = sent.norm[m.start() : m.end()]
        if _FRACTION_NOT.match(text) or re.fullmatch(
            r"(?:la |une |the |a |un )?(?:half|tiers|third|quart|quarter)", text
        ):
            if not re.search(r"(?:moitie|half|tiers|third|quart|quarter)\s", text + " ") or _FRACTION_NOT.match(text):
                continue
        if not re.search(r"\d", text) and not re.match(
            r"(?:plus|moins|pres|environ|about|around|roughly|nearly|almost|more|less|over|some|at least|au moins|"
            r"la|une|the|a|one|un|deux|trois|two|three)\W",
            text,
        ):
            continue  # "pays tiers": a fraction word with nothing that makes it a share
        phrase = sent.original(m.start(), m.end()).strip()
        if phrase:
            out.append(phrase)
    return out


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class Skipped:
    """A relative figure ("plus de la moitié de ces troupes", "40 per cent") left for a person."""

    citation: str
    phrase: str
    quote: str
    reason: str = "a relative figure (share or fraction), not a count: code it by hand"
    kind: str = "relative"  # "relative" | "not_a_claim"


@dataclass
class Extraction:
    """What :func:`extract_article` read in one article."""

    name: str
    meta: ArticleMeta
    rows: pd.DataFrame
    skipped: list[Skipped]

    def blanks(self) -> dict[str, int]:
        """Required columns left blank, and in how many rows."""
        out: dict[str, int] = {}
        for col in BLANKS_TO_FILL:
            n = int((self.rows[col] == "").sum()) if len(self.rows) else 0
            if n:
                out[col] = n
        return out


#: required claims columns the extractor may leave blank for the person to fill
BLANKS_TO_FILL = ("population", "source", "reported_on")


def _number_cell(v: float | None) -> object:
    if v is None:
        return ""
    return int(v) if float(v).is_integer() else float(v)


def _citation_stem(citation: str) -> str:
    last = re.split(r"[/\\]", citation.rstrip("/\\"))[-1] if citation else ""
    stem = Path(last).stem if last else ""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_.")
    return stem or "claim"


_PER_DAY_NEAR = re.compile(
    r"(?<![\w-])(?:chaque jour|par jour|per day|each day|every day|a day on average|"
    r"daily average|daily rate|daily toll|daily losses|on a daily basis|"
    r"moyenne quotidienne|pertes quotidiennes|bilan quotidien moyen)(?![\w-])"
)


#: words by which a figure refers back to the figures before it
_REFERS_BACK_RE = re.compile(
    r"(?<![\w-])(?:parmi (?:eux|elles|lesquels|lesquelles|ces|les (?:victimes|morts|tues|blesses|soldats|civils))|"
    r"among (?:them|those|these|the (?:dead|victims|killed|wounded|casualties))|of (?:them|those|whom)|"
    r"d'entre eux|d'entre elles|le meme decompte|la meme source|les memes donnees|le meme bilan|"
    r"the same (?:count|data|source|report|tally))(?![\w-])"
)


def _refers_back(norm: str, q: _Quantity) -> bool:
    """Whether the figure refers back to the figures before it ("50 autres", "others",
    "parmi eux", "among them", "selon le même décompte")."""
    if re.match(r"\s*(?:d')?(?:autres|others|other)(?![\w-])", norm[q.end :]):
        return True
    return bool(_REFERS_BACK_RE.search(norm))


def _per_day(norm: str, q: _Quantity) -> bool:
    start = q.phrase_start if q.phrase_start >= 0 else q.start
    before = norm[max(0, start - 45) : start]
    after = norm[q.end : q.end + 50]
    after = re.split(r"[;.]|,\s", after)[0]
    return bool(
        _PER_DAY_NEAR.search(before)
        or _PER_DAY_NEAR.search(after)
        or (
            re.match(r"\s*(?:[\w'-]+\s+){0,3}?a day(?![\w-])", after) is not None
            and not re.search(r"(?:in|within|over|during) a (?:single )?day", after)
        )
    )


@dataclass
class _State:
    """What the reading of an article carries from sentence to sentence."""

    article_date: date | None
    context_year: int | None
    last_source: tuple[Attribution, object, int] | None = None  # (attribution, source, paragraph)
    last_said: dict = field(default_factory=dict)  # source key -> (date, paragraph)
    last_month: tuple[int, int] | None = None
    last_period: tuple | None = None
    outlet: str = ""  # the article's outlet, the speaker of "we estimate"
    history: list = field(default_factory=list)  # the sources named so far, in order
    prev_figure: tuple | None = None  # (period start, period end, paragraph, category) of the last figure
    by_country: dict = field(default_factory=dict)  # country -> the body whose figures came just before


@dataclass
class _SentenceInfo:
    start: int
    end: int
    paragraph: int
    title: bool
    sent: _Sentence
    figures: list[_Quantity]
    dates: list


def _paragraph_starts(text: str) -> list[int]:
    """Starts of paragraphs: after a blank line, or after a line that ends a sentence."""
    return [0] + [m.end() for m in re.finditer(r"\n[ \t\r\f\v]*\n|(?<=[.!?…])[ \t]*\n", text)]


def extract_article(
    article: Article,
    *,
    language: str | None = None,
    lexicon: Lexicon | None = None,
    sources: SourceTable | None = None,
    populations: PopulationTable | None = None,
    id_prefix: str | None = None,
) -> Extraction:
    """Candidate claim rows read from one :class:`~reconcile.article.Article`.

    Each figure of each sentence becomes a row (claims-file columns, ``quote`` the sentence
    verbatim); its source, date, period and population are read from the sentence, its
    paragraph and the article, through the sources and populations tables, and ``notes`` says
    what each was read from and which required columns are left blank. Relative figures are
    returned in ``skipped``.
    """
    lexicon = lexicon or default_lexicon()
    sources = sources or default_sources()
    populations = populations or default_populations()
    text = article.text
    lang = language or detect_language(text)
    counts = _stop_word_counts(text) if not language else {}
    words_language = None if counts and counts["fr"] == counts["en"] else lang
    citation = article.meta.citation(article.name)
    stem = _citation_stem(id_prefix or article.name or citation)
    norm_text = normalize_phrase(text)
    years = [y for y in years_in(norm_text)]
    if article.meta.date:
        years.append(article.meta.date.year)
    context_year = max(years) if years else None

    pstarts = _paragraph_starts(text)
    infos: list[_SentenceInfo] = []
    spans = _sentences(text)
    if article.title_span:
        ts, te = article.title_span
        spans = [(s, e) for s, e in spans if e <= ts or s >= te]
        spans.append((ts, te))
        spans.sort()
    for s, e in spans:
        sent = _Sentence.of(text[s:e])
        is_title = article.title_span is not None and (s, e) == tuple(article.title_span)
        par = -1 if is_title else bisect_left(pstarts, s + 1) - 1
        dates = find_dates(sent.norm)
        if article.dateline_span:
            ds, de = article.dateline_span
            dates = [m for m in dates if not (ds <= s + sent.offsets[min(m.start, len(sent.offsets) - 1)] < de)]
        infos.append(_SentenceInfo(s, e, par, is_title, sent, _sentence_claims(sent, lexicon, words_language), dates))

    article_date = article.meta.date
    date_note = ""
    if article_date is None:
        # no date in the metadata: the latest day a statement of the article is dated
        seen = []
        for info in infos:
            for m in statement_mentions(info.sent.norm, info.dates, [(q.start, q.end) for q in info.figures]):
                d = day_of(m, None, context_year)
                if d:
                    seen.append(d)
        if seen:
            article_date = max(seen)
            date_note = f"article date taken as {article_date} (latest statement day it names)"

    state = _State(article_date, context_year, outlet=article.meta.outlet)
    rows: list[dict[str, object]] = []
    row_meta: list[tuple] = []  # (paragraph, headline, source, notes) of each row
    skipped: list[Skipped] = []
    first_of: dict[tuple, str] = {}
    # the first source the body names, for headlines ("UK says ...")
    body_sources = []
    for info in infos:
        if info.title:
            continue
        att = attribution(info.sent.norm, info.sent.original, sources, [(q.start, q.end) for q in info.figures])
        body_sources.append(att)
    for k, info in enumerate(infos):
        sent = info.sent
        norm = sent.norm
        fig_spans = [(q.phrase_start if q.phrase_start >= 0 else q.start, q.end) for q in info.figures]
        said = statement_mentions(norm, info.dates, fig_spans)
        # who said each figure, and when: the sentence's speaker, or, when its clauses have
        # speakers of their own ("X said ..., while Y reported ..."), each clause's
        speakers = []  # (attribution, source, note, via, reported_on, its note) per figure
        groups = _speaker_clauses(norm, sent.original, sources, fig_spans) if not info.title else None
        if groups is None:
            groups = [(attribution(norm, sent.original, sources, fig_spans), 0, len(norm))]
        by_group = []
        for att, g_start, g_end in groups:
            src, src_note, via = _resolve_source(att, state, sources, body_sources, info, infos, k)
            g_said = [m for m in said if g_start <= m.start < g_end] if len(groups) > 1 else said
            reported, reported_note = _reported_on(g_said, state, src, via, info, infos, k, sources, context_year)
            if src is not None and reported is not None:
                state.last_said[_src_key(src)] = (reported, info.paragraph)
            by_group.append((att, src, src_note, via, reported, reported_note))
        for fs, _ in fig_spans:
            g = next((i for i, (_, g_start, g_end) in enumerate(groups) if g_start <= fs < g_end), 0)
            speakers.append(by_group[g])
        att = by_group[0][0]
        said_ids = {id(m) for m in said}
        periods = [m for m in info.dates if id(m) not in said_ids]
        periods = [m for m in _drop_since_parts(periods) if not _comparison(norm, m)]
        # "three days of fighting ... last week": the days fall within the date named after them
        periods = [
            m
            for m in periods
            if not (
                m.extra.get("of_event")
                and any(
                    0 <= o.start - m.end <= 60 and not re.search(r"[,;]", norm[m.end : o.start])
                    for o in periods
                    if o is not m
                )
            )
        ]
        assigned = _one_day_each(norm, info.figures, assign_periods(norm, fig_spans, periods))
        for phrase in _relatives(sent):
            skipped.append(Skipped(citation, phrase, sent.text))
        for n, (q, pm) in enumerate(zip(info.figures, assigned)):
            att, src, src_note, via, reported, reported_note = speakers[n]
            hi = info.figures[n + 1].phrase_start if n + 1 < len(info.figures) else len(norm)
            word = _not_a_claim(sent, q, hi if hi >= 0 else len(norm))
            if word:
                skipped.append(
                    Skipped(
                        citation,
                        sent.original(q.phrase_start, q.end).strip(),
                        sent.text,
                        f"counts people neither killed, wounded nor deployed ({word!r})",
                        "not_a_claim",
                    )
                )
                continue
            claim_id = f"{stem}-{len(rows) + 1:03d}"
            phrase = sent.original(q.phrase_start, q.end).strip()
            notes = [q.note] if q.note else []
            pop, pop_note = _population(q, info, infos, k, populations, att, text)
            measure = ""
            if _per_day(norm, q):
                measure = "per_day"
                notes.append("a per-day figure ('par jour', 'per day')")
            period_start = period_end = ""
            if pm is not None:
                following = [m for m in info.dates if m.start >= pm.end]
                got = period_of(
                    pm,
                    reported,
                    population_start=pop.start if pop else None,
                    following=following,
                    last_month=state.last_month,
                    context_year=context_year,
                    last_period=state.last_period,
                )
                if got is not None:
                    p_start, p_end, how = got
                    if reported is not None and (
                        (p_start and p_start > reported)
                        or (p_end and p_end > reported)
                        or (p_start and p_end and p_start > p_end)
                    ):
                        notes.append(f"period {how} does not fit before the claim's date: left blank")
                    else:
                        period_start = p_start.isoformat() if p_start else ""
                        period_end = p_end.isoformat() if p_end and p_end != reported else ""
                        if p_end is not None:  # "over the same period" means a window
                            state.last_period = (p_start, p_end)
                        notes.append(f"period from {how}")
            elif q.increment and reported is not None:
                day = reported - timedelta(days=1)
                period_start = period_end = day.isoformat()
                notes.append("period: the day before the report (a bulletin's daily increase)")
            elif (
                not info.title
                and state.prev_figure is not None
                and state.prev_figure[2] >= info.paragraph - 1
                and _refers_back(norm, q)
            ):
                # "Près de 50 autres ont été blessés", "Among them were 400 ...": the figure
                # before's period
                p_start, p_end = state.prev_figure[:2]
                period_start = p_start.isoformat() if p_start else ""
                period_end = p_end.isoformat() if p_end and p_end != reported else ""
                if period_start or period_end:
                    notes.append("period of the figure before: this one refers back to it")
            category = q.category
            if (
                q.guessed
                and not info.title
                and state.prev_figure is not None
                and state.prev_figure[3]
                and _refers_back(norm, q)
            ):
                category = state.prev_figure[3]  # "Among them were 400 North Korean soldiers"
                notes = [
                    n.replace(
                        "category guessed (no casualty or deployment word near)",
                        "category of the figures it refers back to",
                    )
                    for n in notes
                ]
            if not info.title:
                end_day = date.fromisoformat(period_end) if period_end else (reported if period_start else None)
                state.prev_figure = (
                    date.fromisoformat(period_start) if period_start else None,
                    end_day,
                    info.paragraph,
                    category,
                )
            if src_note:
                notes.append(src_note)
            if reported_note:
                notes.append(reported_note)
            if pop_note:
                notes.append(pop_note)
            source_name = src.name if isinstance(src, Source) else (src or "")
            group = src.group if isinstance(src, Source) else ""
            stance = sources.stance(src.name, pop) if isinstance(src, Source) else ""
            row = dict.fromkeys(CLAIM_COLUMNS, "")
            row.update(
                claim_id=claim_id,
                population=pop.id if pop else "",
                category=category,
                source=source_name,
                reported_on=reported.isoformat() if reported else "",
                qualifier=q.qualifier,
                value=_number_cell(q.value),
                value_high=_number_cell(q.value_high),
                phrase=phrase,
                quote=sent.text,
                citation=citation,
                language=lang,
                period_start=period_start,
                period_end=period_end,
                measure=measure,
                source_group=group,
                stance=stance,
            )
            if info.title:
                notes.insert(0, "headline")
            if date_note and row["reported_on"]:
                notes.append(date_note)
            key = (category, q.qualifier, q.value, q.value_high, q.vague_key if q.kind == "vague" else "", measure)
            derived = first_of.setdefault(key, claim_id)
            row["derived_from"] = "" if derived == claim_id else derived
            if row["derived_from"]:
                notes.append(f"same figure as {derived} in this article")
            rows.append(row)
            row_meta.append((info.paragraph, info.title, src, notes))
        for m in info.dates:
            if m.kind in ("month", "months") and id(m) not in said_ids:
                year = m.year or (
                    reported.year
                    if reported and (m.month2 or m.month) <= reported.month
                    else (reported.year - 1 if reported else None)
                )
                if year:
                    state.last_month = (year, m.month2 or m.month)
    named = [b.source for b in body_sources if b.kind == "table"] + [b.text for b in body_sources if b.kind == "raw"]
    _fill_from_article(rows, row_meta, infos, sources, populations, named)
    frame = pd.DataFrame(rows, columns=list(CLAIM_COLUMNS), dtype=object)
    return Extraction(article.name, article.meta, frame, skipped)


def _fill_from_article(rows, row_meta, infos, sources: SourceTable, populations: PopulationTable, named=()) -> None:
    """Fill what a row's own sentence and paragraph left blank from the article: a headline's
    population from the body, a population from the figure before, a source from the title or
    the article's only source (``named``: the speakers of its body's sentences, with figures or
    not); then write each row's notes, blanks to fill last."""
    body = [(r, m) for r, m in zip(rows, row_meta) if not m[1]]
    title_sources = [m[2] for r, m in zip(rows, row_meta) if m[1] and m[2] is not None]
    body_sources = {_src_key(m[2]) for r, m in body if m[2] is not None} | {_src_key(x) for x in named}
    only = (
        next((m[2] for r, m in body if m[2] is not None), None) or next(iter(named), None)
        if len(body_sources) == 1
        else None
    )
    for n, (row, (paragraph, headline, src, notes)) in enumerate(zip(rows, row_meta)):
        if not row["population"]:
            if headline:
                donor = next((r for r, _ in body if r["population"]), None)
                where = "the first figure of the body"
            else:
                same = [r for r, m in zip(rows[:n], row_meta[:n]) if m[0] == paragraph and r["population"]]
                donor = same[-1] if same else next((r for r in reversed(rows[:n]) if r["population"]), None)
                where = "the figure before" + (" in the paragraph" if same else "")
            if donor is not None:
                row["population"] = donor["population"]
                notes.append(f"population {donor['population']} as {where}")
        if not row["source"] and not headline:
            fill = title_sources[0] if title_sources else only
            if fill is not None:
                src = fill
                row["source"] = _src_key(fill)
                notes.append(
                    f"source {row['source']}: "
                    + ("named by the headline" if title_sources else "the only source the article names")
                )
        if isinstance(src, Source):
            row["source_group"] = src.group
            row["stance"] = sources.stance(src.name, populations.by_id.get(str(row["population"])))
        blanks = [c for c in BLANKS_TO_FILL if row[c] == ""]
        if blanks:
            notes.append("to fill: " + ", ".join(blanks))
        row["notes"] = "; ".join(notes)


#: where a sentence passes from one speaker to another ("X said ..., while Y reported ...",
#: "..., Y said, as Z said ...", "X affirme ..., tandis que Y ...")
_SPEAKER_TURN_RE = re.compile(r"(?:,\s*|\s)(?:while|whereas|tandis que|alors que)\s|;\s|,\s+(?:but|mais|as)\s")


def _speaker_clauses(norm: str, original, sources: SourceTable, figures):
    """``[(attribution, start, end), ...]`` when the sentence's clauses (cut where it passes
    from one speaker to another) hold figures and name speakers of their own; else None."""
    cuts = [m.start() for m in _SPEAKER_TURN_RE.finditer(norm)]
    if not cuts:
        return None
    bounds = [0] + cuts + [len(norm)]
    out = []
    for a, b in zip(bounds, bounds[1:]):
        figs = [(s - a, e - a) for s, e in figures if a <= s < b]
        att = attribution(norm[a:b], lambda s, e, a=a: original(s + a, e + a), sources, figs)
        if att.kind:
            att = replace(att, span=(att.span[0] + a, att.span[1] + a))
        out.append((att, a, b, bool(figs)))
    with_speaker = [o for o in out if o[0].kind in ("table", "raw")]
    if len(with_speaker) < 2 or not any(o[3] for o in with_speaker[1:]):
        return None
    # a clause without a speaker of its own goes with the one before it
    merged: list[tuple] = []
    for att, a, b, _ in out:
        if merged and att.kind not in ("table", "raw"):
            merged[-1] = (merged[-1][0], merged[-1][1], b)
        else:
            merged.append((att, a, b))
    if merged[0][0].kind not in ("table", "raw"):
        return None
    return merged


def _src_key(src) -> str:
    return src.name if isinstance(src, Source) else str(src)


def _one_day_each(norm: str, figures: list[_Quantity], assigned: list) -> list:
    """Figures listed together ("1 200, 1 350 et 1 410 soldats") that share a period of as
    many days ("au cours des trois derniers jours", "les 12, 13 et 14 janvier") get one day
    each, in order."""
    out = list(assigned)
    i = 0
    while i < len(figures):
        j = i
        while (
            j + 1 < len(figures)
            and assigned[j + 1] is assigned[i]
            and assigned[i] is not None
            and _LIST_RE.fullmatch(
                norm[
                    figures[j].end : figures[j + 1].phrase_start
                    if figures[j + 1].phrase_start >= 0
                    else figures[j + 1].start
                ]
            )
        ):
            j += 1
        pm, n = assigned[i], j - i + 1
        days = (
            pm.days
            if pm is not None and pm.kind == "ndays"
            else len(pm.extra["days"])
            if pm is not None and pm.kind == "daylist"
            else 0
        )
        if n > 1 and days == n:
            for k in range(n):
                out[i + k] = replace(pm, extra={**pm.extra, "index": k})
        i = j + 1
    return out


#: a record or a superlative: "since X" after it compares, it does not date the figure
_SUPERLATIVE_RE = re.compile(
    r"(?<![\w-])(?:plus (?:lourd|eleve|meurtri|important|grand|fort)\w*|record\w*|highest|heaviest|deadliest|"
    r"largest|biggest|worst|pire|pires|the most|le plus|la plus|les plus|first time|premiere fois|jamais|ever|"
    r"unprecedented|inedit\w*|sans precedent)(?![\w-])"
)


def _comparison(norm: str, m) -> bool:
    """Whether the "since" expression ``m`` ends a comparison ("leurs plus lourdes pertes depuis
    le début de la guerre", "the highest daily figure since the start of the invasion")."""
    if m.kind not in ("since", "warstart", "popstart", "sinceyear", "yearstart"):
        return False
    before = re.split(r"[,;:]\s", norm[max(0, m.start - 60) : m.start])[-1]
    return bool(_SUPERLATIVE_RE.search(before))


def _drop_since_parts(periods: list) -> list:
    """Date expressions that only complete a "since" ("depuis | la mi-décembre") are read
    through it, not on their own: the "since" then spans them (for the clause it belongs to)."""
    out = []
    skip_until = -1
    for i, m in enumerate(periods):
        if m.start < skip_until:
            continue
        if m.kind in ("since", "warstart", "popstart"):
            nxt = [
                f
                for f in periods[i + 1 :]
                if f.kind in ("day", "month", "thismonth") or (m.kind == "since" and f.kind in ("weekday", "relday"))
            ]
            limit = 60 if m.kind == "since" else 30
            if nxt and nxt[0].start - m.end <= limit:
                skip_until = nxt[0].end
                m = replace(m, end=nxt[0].end, extra={**m.extra, "target": nxt[0]})
            elif m.kind == "since":
                continue
        out.append(m)
    return out


def _resolve_source(att: Attribution, state: _State, sources: SourceTable, body_sources, info, infos, k):
    """(source, note, how): the source of a sentence from its attribution and what came before."""
    src = None
    note = ""
    via = att.kind
    if att.kind == "table":
        src = att.source
        note = f"source from {att.evidence!r} (sources table)"
        if att.generic and info.title:
            specific = _first_specific(body_sources, att.source.country)
            if specific is not None:
                note = (
                    f"headline: {att.evidence!r} read as {specific.name}, the first "
                    f"{att.source.country} source the article names"
                )
                src = specific
        elif att.generic:
            specific = state.by_country.get(att.source.country)
            if specific is not None:
                src = specific
                note = (
                    f"source from {att.evidence!r}: a country named as the speaker, read as {src.name}, "
                    f"whose figures come just before; check"
                )
            else:
                note = (
                    f"source from {att.evidence!r}: a country named as the speaker, read as {src.name} "
                    "(sources table); check which body spoke"
                )
    elif (
        att.kind == "anaphor"
        and state.last_source is not None
        and not (state.outlet and _FIRST_PERSON_RE.search(info.sent.norm))
    ):
        src = _referent(att.evidence, state)
        note = f"source: {att.evidence!r} refers to {_src_key(src)}, named before"
    elif att.kind == "raw":
        known = sources.lookup(att.text)
        if known is not None:
            src, note = known, f"source from {att.evidence!r} (sources table)"
        else:
            src = att.text
            note = f"source as written in {att.evidence!r} (not in the sources table)"
    if src is None and state.outlet and _FIRST_PERSON_RE.search(info.sent.norm):
        src = sources.lookup(state.outlet) or state.outlet  # "We estimate ...": the outlet speaks
        note = f"source: the article's outlet, speaking in the first person ({_FIRST_PERSON_RE.search(info.sent.norm).group()!r})"
        via = "raw"
    if src is None and info.figures:
        if info.title:
            for b in body_sources:
                if b.kind in ("table", "raw"):
                    src = b.source if b.kind == "table" else b.text
                    if b.kind == "table" and b.generic:
                        src = _first_specific(body_sources, b.source.country) or b.source
                    note = f"headline: source from the article body ({b.evidence!r})"
                    via = "title"
                    break
        elif state.last_source is not None and state.last_source[2] == info.paragraph:
            src = state.last_source[1]
            note = f"source: {_src_key(src)}, named earlier in the paragraph"
            via = "paragraph"
        else:
            nxt = _next_sentence_source(infos, k, sources)
            if nxt is not None:
                src, note = nxt
                via = "next"
    if not info.title and info.figures:
        # the body that gave the figures just before: "selon Moscou" after the ministry's figures
        # continues the ministry's statement; a country after anyone else is the country
        state.by_country = (
            {src.country: src} if isinstance(src, Source) and src.country and not src.country_default else {}
        )
    if src is not None and not info.title and via in ("table", "raw", "anaphor"):
        state.last_source = (att, src, info.paragraph)
        state.history.append(src)
    elif src is not None and via == "paragraph":
        pass
    return src, note, via


#: the outlet speaking for itself
_FIRST_PERSON_RE = re.compile(
    r"(?<![\w-])(?:we (?:estimate|count|calculate|assess|found|find|put)|our (?:estimate|estimates|count|tally|"
    r"analysis|calculation|data)|by our (?:count|estimate|calculation)|nous (?:estimons|comptons|avons compte|"
    r"avons recense|evaluons)|selon nos (?:estimations|calculs|donnees)|d'apres nos (?:estimations|calculs|donnees)|"
    r"notre (?:decompte|estimation|analyse|calcul))(?![\w-])"
)


def _referent(evidence: str, state: _State):
    """What a generic speaker refers to: the last source whose name holds its noun ("the
    ministry" -> the last ministry named, not the last speaker), else the last speaker."""
    words = re.findall(r"[\w-]+", normalize_phrase(evidence))
    head = words[-1] if words else ""
    if len(head) > 3:
        for src in reversed(state.history):
            names = [src.name, *src.aliases] if isinstance(src, Source) else [str(src)]
            if any(re.search(rf"(?<![\w-]){re.escape(head)}(?![\w-])", normalize_phrase(n)) for n in names):
                return src
    return state.last_source[1]


def _first_specific(body_sources, country: str):
    for b in body_sources:
        if b.kind == "table" and b.source.country == country and not b.source.country_default:
            return b.source
    return None


def _next_sentence_source(infos, k, sources):
    """The source named by the next sentence of the paragraph when it holds no figure
    ("Un chiffre, révélé dimanche par le ministère britannique de la Défense")."""
    if k + 1 >= len(infos):
        return None
    nxt = infos[k + 1]
    if nxt.paragraph != infos[k].paragraph or nxt.figures or nxt.title:
        return None
    found = sources.find(nxt.sent.norm)
    found = [m for m in found if not sources.by_name[m.key].country_default]
    if not found:
        return None
    src = sources.by_name[found[0].key]
    return src, f"source from the next sentence ({found[0].text!r})"


#: verbs that continue a statement already dated ("Syrskyi added", "a-t-il précisé")
_CONTINUES_RE = re.compile(
    r"(?<![\w-])(?:added|adds|went on|also said|continued|a ajoute|a-t-il ajoute|"
    r"a-t-elle ajoute|ajoute-t-il|a precise|a-t-il precise|a-t-elle precise|a poursuivi|"
    r"a-t-il poursuivi|a-t-il encore|a egalement)(?![\w-])"
)


def _reported_on(said, state: _State, src, via, info, infos, k, sources, context_year):
    """(day, note): the day the claim was made."""
    ref = state.article_date
    if info.title:
        return ref, ("reported_on: the article's date" if ref else "")
    for m in said:
        d = day_of(m, ref, context_year)
        if d is not None and (ref is None or d <= ref):
            how = "the article's date" if ref else "the year the article implies"
            return d, f"reported_on from {m.text!r} (relative to {how})"
    if via == "next" and k + 1 < len(infos):
        nxt = infos[k + 1]
        for m in statement_mentions(nxt.sent.norm, nxt.dates, []) or [
            d for d in nxt.dates if d.kind in ("weekday", "relday", "day")
        ]:
            d = day_of(m, ref, context_year)
            if d is not None and (ref is None or d <= ref):
                return d, f"reported_on from {m.text!r} in the next sentence"
    if src is not None:
        prev = state.last_said.get(_src_key(src))
        if prev is not None and (prev[1] == info.paragraph or via == "anaphor" or _CONTINUES_RE.search(info.sent.norm)):
            return prev[0], "reported_on: the day this source spoke, named before"
    if ref is not None:
        return ref, "reported_on: the article's date"
    return None, ""


def _population(q: _Quantity, info, infos, k, populations: PopulationTable, att: Attribution, text: str):
    """(population, note) for a figure: named next to it, in its sentence, earlier in the
    paragraph, or in the title; people nouns ("civils") through the places named."""
    norm = info.sent.norm
    exclude = [att.span] if att.kind == "table" else []
    start = q.phrase_start if q.phrase_start >= 0 else q.start
    # a part of this figure ("60 000 soldats, dont 12 000 Nord-Coréens") names the part's
    # population, not this one's; a total whose part is of another population counts both
    part = _PART_AFTER_RE.match(norm, q.end)
    if part:
        exclude = exclude + [(part.end(), len(norm))]
    found = population_near(norm, start, q.end, populations, exclude)
    if part:
        named = populations.find(norm[part.end() : part.end() + 60])
        if named and (found is None or found[0].id != named[0].key):
            ids = [named[0].key] + ([found[0].id] if found else [])
            combined = populations.combining(ids)
            if combined is not None:
                return combined, (
                    f"population {combined.id}: a total whose part is "
                    f"{named[0].text!r}" + (f" and whose own troops are {found[1]!r}" if found else "")
                )
    noun = people_near(norm, start, q.end, populations)
    if found and (found[2] == "next to the figure" or not noun or not _noun_right_after(norm, q.end, noun)):
        pop, words, where = found
        return pop, f"population from {words!r} ({where})"
    if noun:
        contexts = (
            [norm]
            + [i.sent.norm for i in reversed(infos[:k]) if i.paragraph == info.paragraph]
            + [i.sent.norm for i in infos if i.title]
            + [normalize_phrase(text)]
        )
        got = populations.by_place(noun, contexts)
        if got:
            pop, place = got
            return pop, f"population from {noun!r} and the place {place!r}"
        return None, f"population: {noun!r} named, but no place of the populations table"
    if found:
        pop, words, where = found
        return pop, f"population from {words!r} ({where})"
    for i in reversed(infos[:k]):
        if i.paragraph != info.paragraph:
            break
        got = populations.find(i.sent.norm)
        if got:
            return populations.by_id[got[0].key], f"population from {got[0].text!r} (earlier in the paragraph)"
    for i in infos:
        if i.title and i is not info:
            got = populations.find(i.sent.norm)
            if got:
                return populations.by_id[got[0].key], f"population from {got[0].text!r} (in the title)"
    # the nearest figure before (after, for a headline) whose population was read
    order = [i for i in infos if not i.title] if info.title else list(reversed(infos[:k]))
    for i in order:
        for other in i.figures:
            got = population_near(i.sent.norm, other.start, other.end, populations)
            if got:
                return got[0], f"population from {got[1]!r}, as the figure {'in the body' if info.title else 'before'}"
    return None, ""


#: a part of the figure just before opens ("..., dont", ", including", "among them")
_PART_AFTER_RE = re.compile(
    r"[^.;:]{0,60}?(?:,\s*|\s)(?:dont|including|y compris|among them|parmi lesquels|"
    r"parmi lesquelles|of whom)\s"
)


def _noun_right_after(norm: str, end: int, noun: str) -> bool:
    return noun in norm[end : end + 30]


def extract_claims(
    text: str,
    citation: str,
    language: str | None = None,
    lexicon: Lexicon | None = None,
    *,
    sources: SourceTable | None = None,
    populations: PopulationTable | None = None,
) -> pd.DataFrame:
    """Candidate claim rows found in ``text`` (one article, plain text or HTML), in claims-file
    columns; ``citation`` is the file name, used when the article names no URL or title.

    See :func:`extract_article`; ``value``/``value_high`` are numbers or "", unknown fields
    empty strings. A figure repeated in the same article (same category, qualifier, value and
    phrase) gets ``derived_from`` set to the first row that stated it.
    """
    article = parse_article(text, citation)
    return extract_article(article, language=language, lexicon=lexicon, sources=sources, populations=populations).rows


def extract_paths(
    paths: Sequence[str | PathLike[str]],
    language: str | None = None,
    lexicon: Lexicon | None = None,
    *,
    sources: SourceTable | None = None,
    populations: PopulationTable | None = None,
    encoding: str | None = None,
) -> list[Extraction]:
    """:func:`extract_article` over article files (see :func:`reconcile.article.read_article`)."""
    out = []
    for p in paths:
        article = read_article(p, encoding=encoding)
        out.append(
            extract_article(article, language=language, lexicon=lexicon, sources=sources, populations=populations)
        )
    return out


def extract_files(
    paths: Sequence[str | PathLike[str]],
    language: str | None = None,
    lexicon: Lexicon | None = None,
    *,
    sources: SourceTable | None = None,
    populations: PopulationTable | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """The rows of :func:`extract_paths`, one frame; claim ids stay unique across files."""
    found = extract_paths(paths, language, lexicon, sources=sources, populations=populations, encoding=encoding)
    return combine(found)


def combine(extractions: Sequence[Extraction]) -> pd.DataFrame:
    """The rows of several extractions in one frame, claim ids made unique."""
    frames = [e.rows for e in extractions if len(e.rows)]
    if not frames:
        return pd.DataFrame(columns=list(CLAIM_COLUMNS), dtype=object)
    frame = pd.concat(frames, ignore_index=True)
    seen: dict[str, int] = {}
    ids = []
    for cid in frame["claim_id"]:
        n = seen.get(cid, 0)
        seen[cid] = n + 1
        ids.append(cid if n == 0 else f"{cid}-{n + 1}")
    if ids != list(frame["claim_id"]):
        renamed = dict(zip(frame["claim_id"], ids))
        frame["claim_id"] = ids
        frame["derived_from"] = [renamed.get(d, d) if d else d for d in frame["derived_from"]]
    return frame


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
