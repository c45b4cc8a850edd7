"""Who said a figure, when, about whom and over which days: reading a figure's context.

Used by :mod:`reconcile.extract`. Each function works on the normal form of a sentence
(:func:`reconcile.lexicon.normalize_phrase`) and returns what it read together with the words
it read it from, so that every guess can say so in the claim's ``notes``.

* :func:`speech_spans`: verbs of saying ("a indiqué", "said", "selon", "according to");
* :func:`attribution`: the speaker of a sentence: a source of the sources table in the
  position of a speaker, a generic speaker ("il", "the ministry") that refers back, or a
  speaker outside the table as written ("the Sudan Doctors Network said");
* :func:`statement_mentions`: the date expressions that date the statement ("said on Monday",
  "a affirmé ce mardi 17 décembre", "Fin novembre, X avait estimé") rather than the figure;
* :func:`clause_bounds` and :func:`assign_periods`: which period expression belongs to which
  figure of a sentence;
* :func:`population_near`: the population named nearest a figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from reconcile.tables import Mention, Population, PopulationTable, Source, SourceTable
from reconcile.when import DateMention

__all__ = [
    "Attribution",
    "assign_periods",
    "attribution",
    "clause_bounds",
    "population_near",
    "speech_spans",
    "statement_mentions",
]

_SPEECH = re.compile(
    r"(?<![\w-])(?:"
    # French: participles and conjugated forms of verbs of saying and estimating
    r"(?:indiqu|declar|affirm|annonc|precis|ajout|estim|revel|rapport|signal|confirm|assur|avanc|"
    r"soulign|expliqu|evoqu|communiqu|revendiqu|alert|evalu|recens|chiffr|constat|comptabilis|"
    r"martel|pretend|ecri|admi|reconn|fait etat|faisai\w* etat|faisant etat|font etat|fait savoir|laiss\w* entendre|s'est exprim|"
    r"s'exprim|publi|accus)\w*"
    r"|selon|d'apres|a-t-il|a-t-elle|ont-ils|ont-elles|dit|disent|dira"
    # English
    r"|said|says|say|told|tells|tell|reported|reports|estimated|estimates|estimate|added|adds|"
    r"claimed|claims|claim|stated|states|announced|announces|confirmed|confirms|wrote|writes|put|"
    r"puts|according to|citing|cited|speaking|revealed|reveals|disclosed|noted|notes|testified|"
    r"briefed|assessed|assesses|believes|believed|warned|showed|shows|counted|tallied|"
    r"acknowledged|admitted|insisted|told reporters|gave|given|give|gives"
    r")(?![\w-])"
)
_BY = re.compile(
    r"(?<![\w-])(?:selon|d'apres|according to|cited by|citing|citant|d'apres les|"
    r"based on|source\s*:)(?![\w-])"
)
_CITING = re.compile(r"(?<![\w-])(?:citing|citant|en citant|based on)\s*$")
_DETERMINERS = re.compile(
    r"^(?:(?:the|a|an|le|la|les|un|une|des|du|de|ce|cette|ces|its|their|son|sa|ses|"
    r"leur|leurs)\s+|(?:l|d)['’]\s*)",
    re.I,
)
_DATE_WORDS = re.compile(
    r"\s+(?:on|le|ce|cette|this|last|earlier)?\s*(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|hier|yesterday|today|aujourd'hui)\b.*$",
    re.I,
)


def speech_spans(norm: str) -> list[tuple[int, int]]:
    """``[start, end)`` of every verb or phrase of saying in ``norm``."""
    return [(m.start(), m.end()) for m in _SPEECH.finditer(norm)]


def _near(span: tuple[int, int], spans: Sequence[tuple[int, int]], before: int = 40, after: int = 40) -> int | None:
    """Distance (characters) from ``span`` to the nearest speech span, or None beyond the window."""
    best = None
    for s, e in spans:
        if s >= span[1]:
            d = s - span[1]
            if d <= after:
                best = d if best is None else min(best, d)
        elif e <= span[0]:
            d = span[0] - e
            if d <= before:
                best = d if best is None else min(best, d)
        else:
            best = 0
    return best


@dataclass(frozen=True)
class Attribution:
    """The speaker of a sentence: ``kind`` "table" (``source`` set), "anaphor" (refers back),
    "raw" (``text`` as written, outside the table) or "" (none); ``evidence`` the words."""

    kind: str
    source: Source | None = None
    text: str = ""
    evidence: str = ""
    span: tuple[int, int] = (0, 0)
    generic: bool = False  # a country-level speaker ("Kyiv", "UK says")


def _speaker_position(norm: str, m: Mention, speech, country: bool = False) -> bool:
    """A name right before a verb of saying ("UK says", "Moscou affirme"), right after one
    ("affirme Moscou") or after "selon" / "according to"; not a place ("de l'ONU en Ukraine a
    recensé")."""
    if re.search(r"(?:^|\s)(?:en|in|au|aux|dans|inside|across|throughout)\s*$", norm[: m.start]):
        return False
    if any(0 <= s - m.end <= 12 and "," not in norm[m.end : s] for s, _ in speech):
        return True
    if not country and re.fullmatch(r"\W*(?:the |le |la |l')?", norm[: m.start]) and re.match(r"\s*:", norm[m.end :]):
        return True  # a headline's "Pentagon: 10,000 troops in Russia" (not "Ukraine : ...", its subject)
    if any(0 <= m.start - e <= 4 for _, e in speech) and re.match(r"\s*(?:[,.;:)]|$)", norm[m.end :]):
        return True  # "affirme Moscou." / "a indiqué Kiev,"
    if (
        re.search(r"(?:^|\s)(?:par|by)\s*(?:le |la |les |l'|the )?$", norm[: m.start])
        and any(0 <= m.start - e <= 25 for _, e in speech)
        and re.match(r"\s*(?:[,.;:)]|$)", norm[m.end :])
    ):
        return True  # "un bilan communiqué mardi par l'ONU", "figures released by Kyiv."
    if not re.search(r"(?:selon|d'apres|according to|cited by)\s*(?:le |la |les |l'|the )?$", norm[: m.start]):
        return False
    return bool(re.match(r"\s*(?:[,.;:)]|$)", norm[m.end :]))  # "selon Moscou," not "cited by US envoy X"


#: words around a speaker's name that are not the name: the count it gave ("un bilan provisoire
#: du", "des chiffres de", "figures from"), to whom it spoke ("à l'AFP"), how ("sous couvert
#: d'anonymat")
_COUNT_OF = re.compile(
    r"^(?:(?:un|une|le|la|les|des|du|the|a|an|new|latest)\s+)?(?:bilans?|chiffres?|decomptes?|estimations?|donnees|"
    r"rapports?|notes?|communiques?|figures?|data|estimates?|counts?|tally|reports?|statements?|tolls?)"
    r"(?:\s+(?:provisoires?|officiels?|officielles?|recents?|derniers?|dernieres?|latest|new|nouveaux?|"
    r"nouvelles?|preliminary|quotidiens?|daily|publies?|publiees?|communiques?|communiquees?|fournis|fournies|"
    r"official))*\s+(?:de|du|des|d'|from|by|of)\s*(?:(?:la|le|les|the)\s+|l')?",
    re.I,
)
_ADDRESSEE = re.compile(
    r"^(?:a|à|to)\s+(?:l['’]afp|l['’]ap|l['’]agence \w+|reuters|afp|ap|the afp|cnn|bfmtv|"
    r"la bbc|the bbc|journalists|reporters|des journalistes|la presse|the press)\s+",
    re.I,
)
_HOW = re.compile(
    r"\s+(?:sous couvert (?:de l['’]|d['’])anonymat|speaking on condition of anonymity|"
    r"on condition of anonymity|who asked not to be named)$",
    re.I,
)


def _tidy_speaker(text: str) -> str:
    """A speaker as written, without what is not its name; a person's name without the role
    written before it in lower case ("lawmaker Lee Seong-kweun" -> "Lee Seong-kweun")."""
    text = _COUNT_OF.sub("", _ADDRESSEE.sub("", _HOW.sub("", text))).strip()
    for _ in range(2):
        text = _DETERMINERS.sub("", text).strip()
    words = text.split()
    k = len(words)
    while k > 0 and re.match(r"[A-Z][\w'’.-]*$", words[k - 1]):
        k -= 1
    if 0 < k < len(words) - 1 and all(w[:1].islower() for w in words[:k]):
        return " ".join(words[k:])
    return text


_CONJUNCTIONS = re.compile(r"^(?:while|whereas|as|and|but|tandis qu['’]?e?|alors qu['’]?e?|mais|et)\s+", re.I)


def _clean_speaker(original: str) -> str:
    out = original.strip(" ,;:-—–«»\"“”'()")
    out = _DATE_WORDS.sub("", out)
    out = _CONJUNCTIONS.sub("", out)  # "while Lebanon's health ministry reported"
    for _ in range(2):
        out = _DETERMINERS.sub("", out).strip()
    return out.strip(" ,;:-—–«»\"“”'()")


_PRONOUNS = frozenset("il elle ils elles he she it they".split())
#: generic speakers that are also titles written before a name ("le gouverneur Oleh Synehoubov"),
#: unlike relays ("le député Park Sun-won", who passes on a briefing)
_ROLE_TITLES = frozenset(
    [
        "le chef de l'etat",
        "le president",
        "le commandant en chef",
        "le gouverneur",
        "le ministre",
        "le maire",
        "the head of state",
        "the president",
        "the commander-in-chief",
        "the governor",
        "the minister",
        "the mayor",
    ]
)


def attribution(norm: str, original, sources: SourceTable, figures: Sequence[tuple[int, int]] = ()) -> Attribution:
    """The speaker of the sentence ``norm``; ``original(start, end)`` maps a span of ``norm`` back
    to the sentence as written; ``figures`` are the spans of its figures (not speakers)."""
    speech = speech_spans(norm)
    mentions = sources.find(norm)

    def in_figure(m: Mention) -> bool:
        return any(not (m.end <= s or m.start >= e) for s, e in figures)

    scored: list[tuple[float, Mention, Source]] = []
    for m in mentions:
        src = sources.by_name[m.key]
        if in_figure(m):
            continue
        dist = _near((m.start, m.end), speech)
        if src.country_default and not _speaker_position(norm, m, speech, country=True):
            continue  # a country named as a place, not as a speaker
        if (
            dist is None
            and not _speaker_position(norm, m, speech)
            and not _CITING.search(norm[: m.start])
            and not _BY.search(norm[max(0, m.start - 30) : m.start])
        ):
            continue  # named with no verb of saying near: a party ("l'armée russe aurait perdu"), not a speaker
        score = 0.0 if dist is None else 100 - min(dist, 60)
        if _CITING.search(norm[: m.start]):
            score += 60  # "citing X": X is the body behind the figure
        before = norm[max(0, m.start - 30) : m.start]
        if _BY.search(before):
            score += 40
        if not src.country_default:
            score += 10
        scored.append((score, m, src))
    if scored:
        scored.sort(key=lambda t: (-t[0], t[1].start))
        _, m, src = scored[0]
        return Attribution("table", src, src.name, norm[m.start : m.end], (m.start, m.end), generic=src.country_default)
    table_spans = [(m.start, m.end) for m in mentions]
    for a in sources.anaphors(norm):
        if any(not (a.end <= s or a.start >= e) for s, e in table_spans):
            continue
        if len(a.text.split()) > 1 and re.match(r"\s+(?:de|du|des|d'|of|for)\s", norm[a.end : a.end + 5]):
            continue  # "le ministère de la Santé": a name, not a reference back
        if (
            a.text in _ROLE_TITLES
            and a.end < len(norm)
            and re.match(r",?\s+(?:[a-zà-ÿ'-]+,?\s+)?[A-Z]", original(a.end, min(len(norm), a.end + 40)))
        ):
            continue  # "le gouverneur régional Oleh Synehoubov": the title of the speaker named
        if a.text in _PRONOUNS and any(
            0 <= a.start - e <= 6
            and not _BY.fullmatch(norm[s:e])
            and re.fullmatch(r"\s*(?:that|que|qu')?\s*", norm[e : a.start])
            for s, e in speech
        ):
            continue  # "X said it had killed ...": the subject of what was said, not the speaker
        dist = _near((a.start, a.end), speech, before=12, after=20)
        if dist is not None:
            return Attribution("anaphor", evidence=norm[a.start : a.end], span=(a.start, a.end))
    if re.search(r"(?<![\w-])(?:a-t-il|a-t-elle|ont-ils|ont-elles)(?![\w-])", norm):
        return Attribution("anaphor", evidence="a-t-il", span=(0, 0))
    raw = _raw_speaker(norm, original, sources)
    if raw is not None:
        return raw
    return Attribution("")


_RAW_PATTERNS = (
    # selon X / according to X / cited by X
    re.compile(r"(?:selon|d'apres|according to|cited by)\s+(?P<x>[^,.;:«»\"()]{3,90})"),
    # X said / X a indiqué (subject first, after the sentence start or a comma)
    re.compile(
        r"(?:^|[,;:]\s|[»\"”]\s*,?\s)(?P<x>[^,.;:«»\"()]{2,70}?)\s+(?:has |have |had )?"
        r"(?:said|says|told|reported|reports|estimated|estimates|added|claimed|claims|stated|announced|"
        r"confirmed|wrote|put)(?![\w-])"
    ),
    re.compile(
        r"(?:^|[,;:]\s)(?P<x>[^,.;:«»\"()]{2,70}?)\s+(?:a|ont|avait|avaient|aurait|auraient)\s+"
        r"(?:\w+\s+)?(?:indique|declare|affirme|annonce|precise|ajoute|estime|revele|rapporte|signale|"
        r"confirme|avance|ecrit|dit|fait etat|evalue|chiffre)(?![\w-])"
    ),
    # X, <apposition>, s'est exprimé / a pris la parole / spoke
    re.compile(
        r"^(?P<x>[^,.;:«»\"()]{2,60}?)(?:,[^,]{0,90},)?\s+(?:s'est exprime|a pris la parole|spoke|"
        r"has spoken|s'exprimait)(?![\w-])"
    ),
    # ..., a annoncé mercredi le ministère (verb first)
    re.compile(
        r"[,»\"”]\s*(?:a|ont|avait|avaient)\s+(?:\w+\s+)?(?:indique|declare|affirme|annonce|precise|"
        r"ajoute|estime|revele|rapporte|signale|confirme|ecrit|dit)\s+"
        r"(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|hier|ce \w+|\w+ \d+ \w+)\s+)?"
        r"(?P<x>[^,.;:«»\"()]{3,70})"
    ),
)


def _raw_speaker(norm: str, original, sources: SourceTable) -> Attribution | None:
    for rx in _RAW_PATTERNS:
        found = list(rx.finditer(norm))
        if not found:
            continue
        m = found[-1]
        s, e = m.start("x"), m.end("x")
        x = norm[s:e]
        parts = re.split(r"(?:^|\s)(?:qui|who|que|qu'|that|which|dont|whose|where|ou)\s*", x)
        if rx is _RAW_PATTERNS[0] or rx is _RAW_PATTERNS[-1]:
            x = parts[0]  # "selon X, qui ...": X comes first
        else:
            s += len(x) - len(parts[-1])  # "... après que X ont confirmé": X comes last
            x = parts[-1]
        cited = re.search(r"(?:cited by|cite par|cites par|citee par|citees par|relayed by)\s+", x)
        if cited:
            s, x = s + cited.end(), x[cited.end() :]
        e = s + len(x)
        # "le gouverneur régional, Viatcheslav Gladkov": the name in apposition after the role
        appo = re.match(r"\s*,\s*([^,.;:«»\"()]{3,40}?)\s*(?=[,.;:]|$|\s(?:sur|on|in|dans|a|au|who|qui)\s)", norm[e:])
        if (
            appo
            and not re.search(r"[A-Z]", _clean_speaker(original(s, e)))
            and re.match(r"[A-Z]", original(e + appo.start(1), e + appo.end(1)))
        ):
            s, e = e + appo.start(1), e + appo.end(1)
        text = _tidy_speaker(_clean_speaker(original(s, e)))
        if not text or len(text.split()) > 10 or re.search(r"(?<![\w])\d+(?![\d]*(?:st|nd|rd|th|e|er|eme)\b)", text):
            continue
        if re.fullmatch(
            r"(?:it|he|she|they|we|i|you|il|elle|ils|elles|on|nous|je|this|that|ce|cela|"
            r"there|which|who)",
            text.lower(),
        ):
            return Attribution("anaphor", evidence=text, span=(s, e))
        tail = norm[s:e].strip()
        if any(a.end == len(tail) and (a.start == 0 or len(tail.split()) <= 5) for a in sources.anaphors(tail)):
            return Attribution("anaphor", evidence=tail, span=(s, e))  # "un responsable de l'Alliance"
        return Attribution("raw", text=text, evidence=norm[m.start() : m.end()].strip(" ,"), span=(s, e))
    return None


# --------------------------------------------------------------------------- dates

_PERIOD_BEFORE = re.compile(
    r"(?:depuis|since|from|entre|between|lors|during|durant|pendant|jusqu'|until|"
    r"de la journee|journee de|combats de|fighting on|de la|du|des|de|d')\s*(?:le |la |les |the )?$"
)


def statement_mentions(
    norm: str, dates: Sequence[DateMention], figures: Sequence[tuple[int, int]]
) -> list[DateMention]:
    """The date expressions of the sentence that date the statement itself."""
    speech = speech_spans(norm)
    if not speech:
        return []
    first_figure = min((s for s, _ in figures), default=len(norm))
    first_comma = norm.find(", ")
    out: list[tuple[int, DateMention]] = []
    for m in dates:
        if m.kind not in ("day", "weekday", "relday", "month"):
            continue
        if _PERIOD_BEFORE.search(norm[max(0, m.start - 25) : m.start]) and m.kind != "relday":
            if not re.search(r"(?:^|\s)(?:le|ce|on|the)\s*$", norm[max(0, m.start - 4) : m.start]):
                continue
        if m.kind == "weekday" and m.weekday2 is not None:
            continue
        after_verb = any(
            0 <= m.start - e <= 40 and ", " not in norm[e : m.start] and not any(e <= fs < m.start for fs, _ in figures)
            for _, e in speech
        )
        if any(
            d.kind in ("since", "warstart", "popstart")
            and 0 <= m.start - d.end <= 30
            and not any(d.end <= s < m.start for s, _ in speech)
            for d in dates
        ):
            continue  # "depuis le début de la guerre, le 7 octobre 2023": the period's start
        opening = (
            first_comma > 0
            and m.end <= first_comma + 1
            and m.start < first_figure
            and any(s > m.end and s < first_figure for s, _ in speech)
        )
        if m.kind == "month":
            if opening and m.start <= 30:
                out.append((1, m))
            continue
        verbs = [(s, e) for s, e in speech if not _BY.fullmatch(norm[s:e])]  # "tués samedi, selon X": no tense
        before_verb = any(0 <= s - m.end <= 20 for s, _ in verbs) and not any(
            m.end <= fs < s for fs, _ in figures for s, _ in verbs if 0 <= s - m.end <= 20
        )
        if after_verb or opening or before_verb:
            out.append((0 if after_verb else 1, m))
    return [m for _, m in sorted(out, key=lambda t: (t[0], t[1].start))]


_BOUNDARY = re.compile(
    r"[,;:]\s|\s[-—–]\s|\s(?:dont|including|y compris|while|alors que|tandis que|whereas|"
    r"among them|parmi lesquels|parmi lesquelles|of whom|soit)\s|[()]"
)
_LINK = re.compile(
    r"^[\s,]*(?:(?:et|and|,|dont|including|y compris|among them|of whom|parmi lesquels|"
    r"parmi lesquelles|whereas|while|with|avec|soit)\b|,)"
)


def clause_bounds(norm: str) -> list[int]:
    """Positions where a clause of ``norm`` ends (commas, semicolons, dashes, 'dont', quotes)."""
    return sorted({m.start() for m in _BOUNDARY.finditer(norm)} | {len(norm)})


def _clause_of(pos: int, bounds: Sequence[int]) -> int:
    for i, b in enumerate(bounds):
        if pos < b:
            return i
    return len(bounds)


def linked(norm: str, a_end: int, b_start: int, clauses: bool = True) -> bool:
    """Whether the figure ending at ``a_end`` and the one starting at ``b_start`` are listed
    together ("300 killed and 2,700 wounded", "4,000, including 300 killed")."""
    between = norm[a_end:b_start]
    if len(between) > 160 or re.search(r"[.;]", between):
        return False
    return bool(
        re.search(
            r"(?:^|[\s,])(?:et|and|dont|including|y compris|among them|of whom|parmi lesquels|"
            r"parmi lesquelles|soit(?:\s+(?:une|an|a)\s+(?:moyenne|average)\s+(?:de|d'|of))?)"
            + (r"(?:\s+(?:que|qu'|that))?" if clauses else "")
            + r"\s*[«\"“]?\s*$",
            between,
        )
    ) or bool(re.fullmatch(r"\s*,\s*", between))


def assign_periods(
    norm: str, figures: Sequence[tuple[int, int]], periods: Sequence[DateMention]
) -> list[DateMention | None]:
    """For each figure (span), the period expression that belongs to it, or None: one in its own
    clause (the nearest after it, else before it); else the one of a figure it is listed with;
    else, for the first figures, one opening the sentence in a clause without figures."""
    bounds = clause_bounds(norm)
    fig_clauses = [_clause_of(s, bounds) for s, _ in figures]
    out: list[DateMention | None] = []
    for i, (s, e) in enumerate(figures):
        mine = [
            p
            for p in periods
            if _clause_of(p.start, bounds) == fig_clauses[i]
            or _clause_of(max(p.start, p.end - 1), bounds) == fig_clauses[i]
        ]
        # a period inside another figure's stretch belongs to that one
        mine = [
            p
            for p in mine
            if not any(
                fig_clauses[j] == fig_clauses[i] and _between_owner(p, figures, j, i) for j in range(len(figures))
            )
        ]
        after = [p for p in mine if p.start >= e]
        before = [p for p in mine if p.end <= s]
        pick = after[0] if after else (before[-1] if before else None)
        if pick is None and i > 0 and out[i - 1] is not None and linked(norm, figures[i - 1][1], s):
            pick = out[i - 1]
        if pick is None:
            opening = [p for p in periods if p.end <= s and _clause_of(p.start, bounds) not in fig_clauses]
            if opening and all(f[0] >= opening[-1].end for f in figures[: i + 1]):
                pick = opening[-1]
        out.append(pick)
    # a figure listed with a later one that has a period shares it ("300 killed and 2,700
    # wounded since November")
    for i in range(len(figures) - 2, -1, -1):
        if (
            out[i] is None
            and out[i + 1] is not None
            and linked(norm, figures[i][1], figures[i + 1][0], False)
            and out[i + 1].start >= figures[i + 1][1]
        ):
            out[i] = out[i + 1]
    return out


def _between_owner(p: DateMention, figures, j: int, i: int) -> bool:
    """Whether period ``p`` sits right after figure ``j`` and before figure ``i`` (``j`` < ``i``)
    with ``i`` after it: then it belongs to ``j``."""
    if j >= i:
        return False
    return figures[j][1] <= p.start and p.end <= figures[i][0]


# --------------------------------------------------------------------------- populations


def population_near(
    norm: str, start: int, end: int, populations: PopulationTable, exclude: Sequence[tuple[int, int]] = ()
) -> tuple[Population, str, str] | None:
    """The population named nearest the figure ``[start, end)`` in the sentence ``norm``:
    ``(population, words, where)``, where "next to the figure" or "in the sentence"."""
    mentions = [m for m in populations.find(norm) if not any(not (m.end <= s or m.start >= e) for s, e in exclude)]
    if not mentions:
        return None
    right = [m for m in mentions if 0 <= m.start - end <= 45]
    if right:
        m = right[0]
        return populations.by_id[m.key], m.text, "next to the figure"
    bounds = clause_bounds(norm)
    clause = _clause_of(start, bounds)
    same = [m for m in mentions if _clause_of(m.start, bounds) == clause]
    pool = same or mentions
    m = min(pool, key=lambda m: min(abs(m.start - end), abs(start - m.end)))
    return populations.by_id[m.key], m.text, "in the sentence"


def people_near(norm: str, start: int, end: int, populations: PopulationTable) -> str | None:
    """A people noun ("civils", "civilians") right after the figure, else in the sentence."""
    people = populations.people(norm)
    right = [m for m in people if 0 <= m.start - end <= 30]
    if right:
        return right[0].text
    return people[0].text if people else None
