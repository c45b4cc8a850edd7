"""Dates and periods written in French and English article text, for ``reconcile extract``.

Everything works on the normal form of a sentence (:func:`reconcile.lexicon.normalize_phrase`:
lower case, no accents). :func:`find_dates` finds the date expressions of a sentence; the
functions below turn one into a day (:func:`day_of`, for the day a claim was made) or a
period (:func:`period_of`, for the days a figure covers), relative to a reference day.

Conventions (those of the shipped ``data/claims.csv``):

* a weekday ("mardi", "on Monday") is the latest such day on or before the reference day;
  "hier"/"yesterday"/"la veille" the day before it;
* a day and month without a year ("le 16 décembre", "Dec 19") is the latest such day on or
  before the reference day; with no reference day, the first year (from the latest year the
  article names) whose weekday agrees with a weekday written beside it;
* a month as a period ("in December", "rien qu'en octobre") runs from its first to its last
  day, cut at the reference day; a month as the day of a statement ("Fin novembre, X avait
  estimé", "In September 2022, X said") is its last day;
* "the last N days", "en N jours", "over the past 24 hours", "en une semaine" are the N days
  before the reference day; "last week" / "la semaine dernière" the Monday-Sunday week
  before the reference day's week; "la semaine précédente" / "the previous week" the week
  before the week named before (else the week before last week);
* "since X" / "depuis X" starts on X (the 15th for "mi-", the 1st for "début"/"early"); "since
  the start of the war" and "since they entered combat" start on the population's start
  (a month that holds the population's start means the start itself).

Explicit dates with a year ("19/12/2024", "December 19, 2024 10:41 AM") are parsed with
``dateparser`` (:func:`parse_date`), which knows both languages' month names and formats.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

__all__ = ["DateMention", "find_dates", "day_of", "period_of", "parse_date", "month_end", "years_in"]

MONTHS: dict[str, int] = {
    "janvier": 1,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}
#: abbreviations: only beside a day number ("Dec 19", "19 déc.")
MONTH_ABBREVIATIONS: dict[str, int] = {
    "janv": 1,
    "jan": 1,
    "fevr": 2,
    "fev": 2,
    "feb": 2,
    "mar": 3,
    "avr": 4,
    "apr": 4,
    "juil": 7,
    "jul": 7,
    "jun": 6,
    "aug": 8,
    "sept": 9,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
WEEKDAYS: dict[str, int] = {
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
#: days relative to the reference day
RELATIVE_DAYS: dict[str, int] = {
    "avant-hier": -2,
    "hier soir": -1,
    "hier matin": -1,
    "hier": -1,
    "la veille": -1,
    "yesterday": -1,
    "last night": -1,
    "aujourd'hui": 0,
    "ce matin": 0,
    "ce soir": 0,
    "cet apres-midi": 0,
    "today": 0,
    "this morning": 0,
    "tonight": 0,
    "earlier today": 0,
}

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_ABBR = "|".join(sorted(MONTH_ABBREVIATIONS, key=len, reverse=True))
_WEEKDAY = "|".join(WEEKDAYS)
_YEAR = r"(?:19|20)\d\d"
_NUMBER_WORDS = {
    "un": 1,
    "une": 1,
    "a": 1,
    "one": 1,
    "deux": 2,
    "two": 2,
    "trois": 3,
    "three": 3,
    "quatre": 4,
    "four": 4,
    "cinq": 5,
    "five": 5,
    "six": 6,
    "sept": 7,
    "seven": 7,
    "huit": 8,
    "eight": 8,
    "dix": 10,
    "ten": 10,
    "quinze": 15,
    "fifteen": 15,
    "vingt-quatre": 24,
    "twenty-four": 24,
    "quarante-huit": 48,
    "forty-eight": 48,
    "soixante-douze": 72,
    "seventy-two": 72,
}
_N = r"\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))


@dataclass
class DateMention:
    """A date expression found in a normalised sentence, ``[start, end)``."""

    start: int
    end: int
    kind: str  # day | weekday | relday | month | months | year | ndays | lastweek | thismonth
    #            | themonth | warstart | popstart | since | daylist ("les 12, 13 et 14 janvier")
    #            | yearstart | weekstart | prevweek | span ("du 24 février 2022 au 22 avril 2025")
    text: str
    day: int | None = None
    month: int | None = None
    month2: int | None = None
    year: int | None = None
    weekday: int | None = None
    weekday2: int | None = None  # "samedi et dimanche"
    offset: int = 0  # relday: days from the reference day
    days: int = 0  # ndays
    edge: str = ""  # month: "start" (début, early), "mid", "end" (fin, late) or ""
    extra: dict = field(default_factory=dict)


def _num(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBER_WORDS[text]


# order matters: earlier patterns win over overlapping later ones
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"(?<![\d-])(?P<y>" + _YEAR + r")-(?P<m>\d\d)-(?P<d>\d\d)(?!\d)")),
    ("dmy", re.compile(r"(?<![\d/])(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>" + _YEAR + r")(?![\d/])")),
    ("dmy", re.compile(r"(?<![\d.,])(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>" + _YEAR + r"|\d\d)(?![\d.,]\d|\d)")),
    # days listed one by one: "les 12, 13 et 14 janvier", "on January 12, 13 and 14"
    (
        "daylist",
        re.compile(
            r"(?P<days>\d{1,2}(?:er)?(?:,\s*\d{1,2})*,?\s+(?:et|and)\s+\d{1,2})\s+(?P<mon>"
            + _MONTH
            + r")(?:\s+(?P<y>"
            + _YEAR
            + r"))?(?![\w-])"
        ),
    ),
    (
        "daylist",
        re.compile(
            r"(?P<mon>" + _MONTH + r")\s+(?P<days>\d{1,2}(?:st|nd|rd|th)?(?:,\s*\d{1,2}(?:st|nd|rd|th)?)*,?\s+"
            r"(?:et|and)\s+\d{1,2}(?:st|nd|rd|th)?)(?![\d\w])(?:,?\s+(?P<y>" + _YEAR + r"))?"
        ),
    ),
    (
        "day",
        re.compile(
            r"(?:(?P<wd>"
            + _WEEKDAY
            + r")\s+)?(?P<d>\d{1,2})(?:er|st|nd|rd|th)?\s+(?:(?P<mon>"
            + _MONTH
            + r")|(?P<abbr>"
            + _ABBR
            + r")\.?)(?:,?\s+(?P<y>"
            + _YEAR
            + r"))?(?![\w-])"
        ),
    ),
    (
        "day",
        re.compile(
            r"(?:(?P<wd>"
            + _WEEKDAY
            + r"),?\s+)?(?:(?P<mon>"
            + _MONTH
            + r")|(?P<abbr>"
            + _ABBR
            + r")\.?)\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?![\d\w])(?:,?\s+(?P<y>"
            + _YEAR
            + r"))?"
        ),
    ),
    (
        "months",
        re.compile(
            r"(?:entre|between|from|de|d')\s*(?P<m1>" + _MONTH + r")(?:\s+(?P<y1>" + _YEAR + r"))?\s+"
            r"(?:et|and|to|a|-)\s+(?P<m2>" + _MONTH + r")(?:\s+(?P<y>" + _YEAR + r"))?"
        ),
    ),
    (
        "months",
        re.compile(
            r"(?:en|in|during|durant|pendant)\s+(?P<m1>"
            + _MONTH
            + r")\s+(?:et|and)\s+(?P<m2>"
            + _MONTH
            + r")(?:\s+(?P<y>"
            + _YEAR
            + r"))?"
        ),
    ),
    (
        "ndays",
        re.compile(
            r"(?:au cours|lors|pendant|durant)?\s*(?:des|les|ces|the|over the|in the|during the|for the)\s+"
            r"(?:(?P<n1>"
            + _N
            + r")\s+)?(?:derniers|dernieres|past|last|previous)\s+(?:(?P<n2>"
            + _N
            + r")\s+)?(?P<u>jours|days|heures|hours|semaines|weeks|day|week|24 heures|24 hours)"
        ),
    ),
    (
        "ndays",
        re.compile(
            r"(?:en|in|over|within|sur)\s+(?P<n1>" + _N + r")\s+(?P<u>jours|days|heures|hours|semaines|weeks|"
            r"semaine|week|journee|day)(?![\w-])(?!\s+(?:de|d'|of)(?![\w-])(?!\s*(?:combats?|fighting|violences?|"
            r"frappes?|bombardements?|offensive|attaques?|assauts?|guerre|war|strikes?|shelling|battles?|bataille)))"
        ),
    ),
    ("ndays", re.compile(r"(?:au cours de |pendant |durant |sur )?(?P<u>la semaine ecoulee|the week just ended)")),
    (
        "ndays",
        re.compile(
            r"(?P<u>over the past day|in the past day|au cours de la derniere journee|"
            r"in a single day|in one day|in a day|en une journee|en un jour|en 24 heures|"
            r"in 24 hours)"
        ),
    ),
    ("lastweek", re.compile(r"la semaine (?:derniere|passee)|last week")),
    (
        "prevweek",
        re.compile(
            r"la semaine (?:precedente|d'avant|anterieure)|the (?:previous|preceding|prior) week|"
            r"the week before"
        ),
    ),
    (
        "firstweek",
        re.compile(
            r"(?:in |during |en |durant |pendant |au cours de )?(?:the first week of|la premiere semaine de|"
            r"la premiere semaine d')\s*(?P<mon>" + _MONTH + r")(?:\s+(?P<y>" + _YEAR + r"))?"
        ),
    ),
    (
        "warstart",
        re.compile(
            r"(?:depuis|since)\s+(?:le debut de |le declenchement de |the start of |the beginning of |"
            r"the outbreak of )?(?:la |l'|the |leur |their )?(?:(?:full-scale|large-scale) )?"
            r"(?:guerre|invasion|war|conflit|conflict|offensive russe|russian invasion)"
            r"(?: russe| a grande echelle| de l'ukraine| in ukraine| en ukraine| began| started)?"
            r"|(?:apres|after)\s+(?:le debut de |le declenchement de |the start of |the beginning of |the outbreak of )"
            r"(?:la |l'|the )?(?:(?:full-scale|large-scale) )?(?:guerre|invasion|war|conflit|conflict|offensive russe|"
            r"russian invasion)(?: russe| a grande echelle| de l'ukraine| in ukraine| en ukraine)?"
            r"|(?:depuis que|since)\s+(?:la russie|moscou|russia|moscow)\s+(?:a|avait|had|has)?\s*"
            r"(?:lance|launched|envahi|invaded)"
        ),
    ),
    (
        "popstart",
        re.compile(
            r"(?:depuis|since)\s+(?:le debut de |the start of |the beginning of )?"
            r"(?:leur|leurs|son|sa|ses|their|its|his|her|they|the troops|les troupes)\s+"
            r"(?:arrivee|deploiement|engagement|entree (?:au|en|dans les) (?:combat|combats|guerre)|arrival|deployment|"
            r"(?:first )?(?:joined|entered|went into)(?: the)? (?:fighting|combat|battle|the war)|"
            r"(?:arrived|were deployed|were sent))"
            r"|depuis qu'(?:ils|elles|il|elle) (?:sont|a ete|ont ete|est) (?:arrive|deploye|engage)e?s?"
        ),
    ),
    (
        "sameperiod",
        re.compile(
            r"(?:over|during|in|for) the same (?:period|time|days?)|(?:au cours de|sur|pendant|durant) "
            r"la meme periode|dans le meme temps"
        ),
    ),
    (
        "yearstart",
        re.compile(
            r"(?:depuis|since) (?:le debut de l'annee|the (?:start|beginning) of the year|"
            r"the start of this year|le 1er janvier|january 1)(?! \d)(?! (?:19|20)\d\d)"
        ),
    ),
    ("weekstart", re.compile(r"(?:depuis|since) (?:le debut de la semaine|the (?:start|beginning) of the week)")),
    (
        "thismonth",
        re.compile(
            r"ce mois-ci|this month|du mois en cours|depuis le debut du mois(?! de)|"
            r"early this month|debut du mois(?! de)"
        ),
    ),
    (
        "themonth",
        re.compile(
            r"(?:au cours du mois|pendant le mois|durant le mois|sur le mois|for the month|"
            r"over the month|in the month|that month|ce mois-la)(?!\s+(?:de|d'|of)\s+(?:" + _MONTH + r"))"
        ),
    ),
    (
        "month",
        re.compile(
            r"(?:(?P<edge>debut|fin|mi-|mi |early|late|mid-|mid |end of|the end of|the start of|"
            r"the beginning of|le debut du mois de|la fin du mois de|du mois de|au mois de|"
            r"le debut de|la fin de|courant)\s*)?(?P<mon>" + _MONTH + r")(?:\s+(?P<y>" + _YEAR + r"))?(?![\w-])"
        ),
    ),
    (
        "sinceyear",
        re.compile(
            r"(?:depuis|since)\s+(?:debut |early |the start of |le debut de l'annee )?(?P<y>" + _YEAR + r")(?![\d-])"
        ),
    ),
    ("year", re.compile(r"(?:(?<=en )|(?<=in ))(?P<y>" + _YEAR + r")(?![\d-])")),
    (
        "weekday",
        re.compile(
            r"(?P<wd>" + _WEEKDAY + r")(?:\s+(?:et|and)\s+(?P<wd2>" + _WEEKDAY + r"))?"
            r"(?:\s+(?:dernier|soir|matin|night|morning|evening))?(?![\w-])"
        ),
    ),
    (
        "relday",
        re.compile(
            r"(?<![\w-])(?:"
            + "|".join(re.escape(k) for k in sorted(RELATIVE_DAYS, key=len, reverse=True))
            + r")(?![\w-])"
        ),
    ),
    ("since", re.compile(r"(?<![\w-])(?:depuis|since)(?![\w-])")),
]

_MONTH_WORDS_NEED_CONTEXT = {"mai", "may", "mars", "march"}  # also ordinary words


def find_dates(norm: str) -> list[DateMention]:
    """Date expressions of a normalised sentence, in order, without overlaps."""
    found: list[DateMention] = []

    def free(s: int, e: int) -> bool:
        return all(e <= m.start or s >= m.end for m in found)

    for kind, rx in _PATTERNS:
        for m in rx.finditer(norm):
            s, e = m.start(), m.end()
            while s < e and norm[s] == " ":
                s += 1
            if s >= e or not free(s, e):
                continue
            if s > 0 and (norm[s - 1].isalnum() or norm[s - 1] == "-") and kind not in ("year",):
                continue
            g = m.groupdict()
            text = norm[s:e]
            if kind in ("iso", "dmy"):
                try:
                    year = int(g["y"]) + (2000 if len(g["y"]) == 2 else 0)
                    d = date(year, int(g["m"]), int(g["d"]))
                except ValueError:
                    continue
                found.append(DateMention(s, e, "day", text, day=d.day, month=d.month, year=d.year))
            elif kind == "day":
                month = MONTHS.get(g["mon"] or "") or MONTH_ABBREVIATIONS.get(g["abbr"] or "")
                day = int(g["d"])
                if not month or not 1 <= day <= 31:
                    continue
                found.append(
                    DateMention(
                        s,
                        e,
                        "day",
                        text,
                        day=day,
                        month=month,
                        year=int(g["y"]) if g.get("y") else None,
                        weekday=WEEKDAYS.get(g.get("wd") or ""),
                    )
                )
            elif kind == "daylist":
                days = [int(d) for d in re.findall(r"\d{1,2}", g["days"])]
                if not all(1 <= d <= 31 for d in days) or days != sorted(days):
                    continue
                found.append(
                    DateMention(
                        s,
                        e,
                        "daylist",
                        text,
                        day=days[0],
                        month=MONTHS[g["mon"]],
                        year=int(g["y"]) if g.get("y") else None,
                        extra={"days": days},
                    )
                )
            elif kind == "months":
                y = int(g["y"]) if g.get("y") else (int(g["y1"]) if g.get("y1") else None)
                found.append(
                    DateMention(
                        s,
                        e,
                        "months",
                        text,
                        month=MONTHS[g["m1"]],
                        month2=MONTHS[g["m2"]],
                        year=y,
                        extra={"year1": int(g["y1"]) if g.get("y1") else None},
                    )
                )
            elif kind == "ndays":
                of_event = bool(re.match(r"\s+(?:de|d'|of)(?![\w-])", norm[e:]))  # "three days of fighting"
                found.append(DateMention(s, e, "ndays", text, days=_days(g), extra={"of_event": of_event}))
            elif kind == "month":
                mon = g["mon"]
                edge_word = (g.get("edge") or "").strip()
                if mon in _MONTH_WORDS_NEED_CONTEXT and not (g.get("y") or edge_word or _preposition_before(norm, s)):
                    continue
                edge = (
                    "start"
                    if edge_word.startswith(("debut", "early", "the start", "the beginning", "le debut"))
                    else "mid"
                    if edge_word.startswith("mi")
                    else "end"
                    if edge_word.startswith(("fin", "late", "end", "the end", "la fin"))
                    else ""
                )
                found.append(
                    DateMention(
                        s, e, "month", text, month=MONTHS[mon], year=int(g["y"]) if g.get("y") else None, edge=edge
                    )
                )
            elif kind == "firstweek":
                found.append(
                    DateMention(
                        s, e, "firstweek", text, month=MONTHS[g["mon"]], year=int(g["y"]) if g.get("y") else None
                    )
                )
            elif kind == "sinceyear":
                found.append(DateMention(s, e, "sinceyear", text, year=int(g["y"])))
            elif kind == "year":
                found.append(DateMention(s, e, "year", text, year=int(g["y"])))
            elif kind == "weekday":
                found.append(
                    DateMention(
                        s, e, "weekday", text, weekday=WEEKDAYS[g["wd"]], weekday2=WEEKDAYS.get(g.get("wd2") or "")
                    )
                )
            elif kind == "relday":
                key = text
                found.append(DateMention(s, e, "relday", text, offset=RELATIVE_DAYS[key]))
            else:
                found.append(DateMention(s, e, kind, text))
    found.sort(key=lambda m: m.start)
    return _spans(norm, found)


def _spans(norm: str, found: list[DateMention]) -> list[DateMention]:
    """ "du 24 février 2022 au 22 avril 2025", "from 24.02.22 to 15.03.25": one span."""
    out: list[DateMention] = []
    i = 0
    while i < len(found):
        a = found[i]
        b = found[i + 1] if i + 1 < len(found) else None
        if (
            b is not None
            and a.kind == "day"
            and b.kind == "day"
            and re.fullmatch(r"\s*(?:au|to|a|until|till|through|jusqu'au|-|et le|and)\s*", norm[a.end : b.start])
            and re.search(r"(?:^|\s)(?:du|from|de|entre le|between)\s*$", norm[: a.start])
        ):
            out.append(DateMention(a.start, b.end, "span", norm[a.start : b.end], extra={"from": a, "to": b}))
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def _preposition_before(norm: str, start: int) -> bool:
    return bool(
        re.search(
            r"(?:^|\s)(?:en|in|depuis|since|de|d'|du|from|until|jusqu'en|during|durant|pendant|"
            r"fin|debut|mi-|early|late|of)\s*$",
            norm[:start],
        )
    )


def _days(g: dict) -> int:
    unit = g.get("u") or ""
    n = g.get("n1") or g.get("n2")
    if unit in (
        "over the past day",
        "in the past day",
        "au cours de la derniere journee",
        "in a single day",
        "in one day",
        "in a day",
        "en une journee",
        "en un jour",
        "en 24 heures",
        "in 24 hours",
    ):
        return 1
    if not n and unit in ("jours", "days", "heures", "hours", "semaines", "weeks"):
        return 0  # "ces dernières semaines", "in recent days": no count, no period
    count = _num(n) if n else 1
    if unit in ("heures", "hours", "24 heures", "24 hours"):
        return max(1, round((count if unit in ("heures", "hours") else 24) / 24))
    if unit in ("la semaine ecoulee", "the week just ended"):
        return 7
    if unit in ("semaines", "weeks", "semaine", "week"):
        return 7 * count
    return count


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _latest_on_or_before(month: int, day: int, ref: date) -> date | None:
    for year in (ref.year, ref.year - 1):
        try:
            d = date(year, month, min(day, calendar.monthrange(year, month)[1]))
        except ValueError:
            continue
        if d <= ref:
            return d
    return None


def _year_from_weekday(month: int, day: int, weekday: int, context_year: int) -> int | None:
    for year in range(context_year, context_year + 8):
        try:
            if date(year, month, day).weekday() == weekday:
                return year
        except ValueError:
            continue
    return None


def day_of(m: DateMention, ref: date | None, context_year: int | None = None) -> date | None:
    """The day ``m`` names (a day, weekday, relative day, or a month's last day), relative to
    ``ref`` (the article's date); None when it cannot be told."""
    if m.kind == "day":
        if m.year:
            try:
                return date(m.year, m.month, m.day)  # type: ignore[arg-type]
            except ValueError:
                return None
        if ref is not None:
            return _latest_on_or_before(m.month, m.day, ref)  # type: ignore[arg-type]
        if m.weekday is not None and context_year:
            year = _year_from_weekday(m.month, m.day, m.weekday, context_year)  # type: ignore[arg-type]
            return date(year, m.month, m.day) if year else None  # type: ignore[arg-type]
        return None
    if ref is None:
        return None
    if m.kind == "weekday":
        return ref - timedelta(days=(ref.weekday() - m.weekday) % 7)  # type: ignore[operator]
    if m.kind == "relday":
        return ref + timedelta(days=m.offset)
    if m.kind == "month":
        year = m.year or (ref.year if m.month <= ref.month else ref.year - 1)  # type: ignore[operator]
        return min(month_end(year, m.month), ref) if m.edge != "start" else date(year, m.month, 1)  # type: ignore[arg-type]
    return None


def _month_year(month: int, year: int | None, ref: date | None, context_year: int | None) -> int | None:
    if year:
        return year
    if ref is not None:
        return ref.year if month <= ref.month else ref.year - 1
    return None


def period_of(
    m: DateMention,
    ref: date | None,
    *,
    population_start: date | None = None,
    following: list[DateMention] | None = None,
    last_month: tuple[int, int] | None = None,
    context_year: int | None = None,
    last_period: tuple[date | None, date | None] | None = None,
) -> tuple[date | None, date | None, str] | None:
    """The period ``(start, end, how)`` that ``m`` gives a figure, relative to ``ref`` (the day the
    claim was made); ``end`` None means "up to the claim"; None when ``m`` gives no period.

    ``following`` are the date expressions after ``m`` in the sentence (for "since ... in
    December"); ``last_month`` the (year, month) named last before in the article (for "au
    cours du mois").
    """
    following = following or []
    target = m.extra.get("target")
    if target is not None:
        following = [target]
    if m.kind == "since":
        nxt = next((f for f in following if f.kind in ("day", "month", "thismonth", "weekday", "relday")), None)
        if nxt is None:
            return None
        return _since(nxt, ref, population_start, context_year)
    if m.kind == "sinceyear":
        if population_start is not None and population_start.year == m.year:
            return population_start, None, f"{m.text!r}: the population's start, in that year"
        return date(m.year, 1, 1), None, repr(m.text)  # type: ignore[arg-type]
    if m.kind in ("warstart", "popstart"):
        nxt = next(
            (
                f
                for f in following
                if (f is target or f.start - m.end <= 30) and f.kind in ("day", "month", "thismonth")
            ),
            None,
        )
        if nxt is not None and nxt.kind in ("day", "thismonth"):
            return _since(nxt, ref, population_start, context_year)
        if nxt is not None and nxt.kind == "month":
            got = _since(nxt, ref, population_start, context_year)
            if (
                got
                and population_start
                and got[0]
                and (got[0].year, got[0].month) == (population_start.year, population_start.month)
            ):
                return population_start, None, f"{m.text!r} + {nxt.text!r}: the population's start"
            if got:
                return got
        if population_start is None:
            return None
        return population_start, None, f"{m.text!r}: the population's start"
    if ref is None:
        if m.kind == "months" and m.year:
            return (
                date(m.extra.get("year1") or m.year, m.month, 1),
                month_end(m.year, m.month2),  # type: ignore[arg-type]
                repr(m.text),
            )
        if m.kind == "month" and m.year:
            return date(m.year, m.month, 1), month_end(m.year, m.month), repr(m.text)  # type: ignore[arg-type]
        if m.kind == "day" and m.year:
            d = date(m.year, m.month, m.day)  # type: ignore[arg-type]
            return d, d, repr(m.text)
        return None
    if m.kind == "month":
        year = _month_year(m.month, m.year, ref, context_year)  # type: ignore[arg-type]
        if year is None:
            return None
        start = date(year, m.month, 1)  # type: ignore[arg-type]
        return start, min(month_end(year, m.month), ref), repr(m.text)  # type: ignore[arg-type]
    if m.kind == "months":
        y2 = _month_year(m.month2, m.year, ref, context_year)  # type: ignore[arg-type]
        if y2 is None:
            return None
        y1 = m.extra.get("year1") or (y2 if m.month <= m.month2 else y2 - 1)  # type: ignore[operator]
        return date(y1, m.month, 1), min(month_end(y2, m.month2), ref), repr(m.text)  # type: ignore[arg-type]
    if m.kind == "year":
        if m.year > ref.year:  # type: ignore[operator]
            return None
        return date(m.year, 1, 1), min(date(m.year, 12, 31), ref), repr(m.text)  # type: ignore[arg-type]
    if m.kind == "ndays":
        if m.days <= 0:
            return None
        pick = m.extra.get("index")
        if pick is not None:  # "1 200, 1 350 et 1 410 ... au cours des trois derniers jours": one a day
            d = ref - timedelta(days=m.days - pick)
            return d, d, f"{m.text!r}: day {pick + 1} of the {m.days}, one for each figure listed"
        return ref - timedelta(days=m.days), ref - timedelta(days=1), f"{m.text!r}: the {m.days} day(s) before"
    if m.kind == "firstweek":
        year = _month_year(m.month, m.year, ref, context_year)  # type: ignore[arg-type]
        if year is None:
            return None
        end = min(date(year, m.month, 7), ref)  # type: ignore[arg-type]
        start = date(year, m.month, 1)  # type: ignore[arg-type]
        return (start, end, repr(m.text)) if start <= end else None
    if m.kind == "lastweek":
        monday = ref - timedelta(days=ref.weekday() + 7)
        return monday, monday + timedelta(days=6), f"{m.text!r}: the week before"
    if m.kind == "span":
        a, b = day_of(m.extra["from"], ref, context_year), day_of(m.extra["to"], ref, context_year)
        if a is None or b is None or a > b:
            return None
        return a, b, repr(m.text)
    if m.kind == "yearstart":
        return date(ref.year, 1, 1), None, f"{m.text!r}: the 1st of January"
    if m.kind == "weekstart":
        return ref - timedelta(days=ref.weekday()), None, f"{m.text!r}: the Monday of the claim's week"
    if m.kind == "prevweek":  # the week before the week named before, else before last week
        if (
            last_period is not None
            and last_period[0]
            and last_period[1]
            and (last_period[1] - last_period[0]).days == 6
        ):
            return (
                last_period[0] - timedelta(days=7),
                last_period[1] - timedelta(days=7),
                f"{m.text!r}: the week before the week named before",
            )
        monday = ref - timedelta(days=ref.weekday() + 14)
        return monday, monday + timedelta(days=6), f"{m.text!r}: the week before last week"
    if m.kind == "thismonth":
        return date(ref.year, ref.month, 1), None, repr(m.text)
    if m.kind == "sameperiod":
        if last_period is None:
            return None
        return last_period[0], last_period[1], f"{m.text!r}: the period named before"
    if m.kind == "themonth":
        if last_month is None:
            return None
        y, mo = last_month
        return date(y, mo, 1), min(month_end(y, mo), ref), f"{m.text!r}: the month named before"
    if m.kind == "daylist":
        days = m.extra["days"]
        first = day_of(
            DateMention(m.start, m.end, "day", m.text, day=days[0], month=m.month, year=m.year), ref, context_year
        )
        if first is None:
            return None
        pick = m.extra.get("index")
        if pick is not None:  # one of the listed days, for one of as many listed figures
            d = first + timedelta(days=days[pick] - days[0])
            return d, d, f"{m.text!r}: day {pick + 1} of the {len(days)} listed"
        return first, first + timedelta(days=days[-1] - days[0]), repr(m.text)
    if m.kind in ("weekday", "relday", "day"):
        d = day_of(m, ref, context_year)
        if d is None:
            return None
        if m.kind == "weekday" and m.weekday2 is not None:
            d2 = ref - timedelta(days=(ref.weekday() - m.weekday2) % 7)
            return min(d, d2), max(d, d2), repr(m.text)
        return d, d, repr(m.text)
    return None


def _since(
    m: DateMention, ref: date | None, population_start: date | None, context_year: int | None
) -> tuple[date | None, date | None, str] | None:
    if m.kind in ("weekday", "relday") and m.weekday2 is None:  # "depuis jeudi", "since yesterday"
        d = day_of(m, ref, context_year)
        return (d, None, f"since {m.text!r}") if d else None
    if m.kind == "day":
        d = day_of(m, ref, context_year)
        return (d, None, f"since {m.text!r}") if d else None
    if m.kind == "thismonth":
        return (date(ref.year, ref.month, 1), None, f"since {m.text!r}") if ref else None
    if m.kind == "month":
        year = _month_year(m.month, m.year, ref, context_year)  # type: ignore[arg-type]
        if year is None:
            return None
        day = {"mid": 15, "end": 21}.get(m.edge, 1)
        start = date(year, m.month, day)  # type: ignore[arg-type]
        if (
            population_start
            and (start.year, start.month) == (population_start.year, population_start.month)
            and not m.edge
        ):
            return population_start, None, f"since {m.text!r}: the population's start, in that month"
        return start, None, f"since {m.text!r}"
    return None


def years_in(norm: str) -> list[int]:
    """Years (1900-2099) written in a normalised text."""
    return [int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", norm)]


@lru_cache(maxsize=1)
def _dateparser():
    import dateparser  # imported on first use: it takes a fraction of a second

    return dateparser


def parse_date(text: str, languages: tuple[str, ...] = ("fr", "en")) -> date | None:
    """A full date with its year written in ``text`` ("19/12/2024", "13 février 2025 — 09:30",
    "December 19, 2024 10:41 AM GMT+9", "2025-06-15T18:20:00+01:00"), or None."""
    text = text.strip()
    if not text or not re.search(r"(?:19|20)\d\d", text):
        return None
    from reconcile.lexicon import normalize_phrase

    for m in find_dates(normalize_phrase(text)):
        if m.kind == "day" and m.year:
            try:
                return date(m.year, m.month, m.day)  # type: ignore[arg-type]
            except ValueError:
                return None
    text = re.sub(r"\s[\u2014\u2013-]\s", " ", text)
    got = _dateparser().parse(
        text,
        languages=list(languages),
        settings={"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first", "REQUIRE_PARTS": ["day", "month", "year"]},
    )
    if isinstance(got, datetime):
        return got.date()
    return None
