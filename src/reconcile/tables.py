"""The editable tables of ``reconcile extract``: sources and populations.

Both are TOML data files shipped in the package (``reconcile/data/sources.toml``,
``reconcile/data/populations.toml``); a user file of the same format is laid over them
(:func:`load_sources`, :func:`load_populations`): its entries replace the shipped entries
of the same name and add the others, or replace the whole table with ``replace = true``.

Names are matched in the normal form of :func:`reconcile.lexicon.normalize_phrase` (case,
accents and apostrophes ignored), as whole words; where two names overlap, the longer wins.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any, Mapping, Sequence

from reconcile.errors import ReconcileError
from reconcile.lexicon import normalize_phrase
from reconcile.vocabulary import is_people_word

__all__ = [
    "Population",
    "PopulationTable",
    "Source",
    "SourceTable",
    "TableError",
    "default_populations",
    "default_sources",
    "load_populations",
    "load_sources",
]

STANCES = ("own", "adversary", "neutral")


class TableError(ReconcileError, ValueError):
    """A sources or populations file breaks its format; the message names file, entry and key."""


@dataclass(frozen=True)
class Source:
    name: str
    group: str
    camp: str
    aliases: tuple[str, ...]
    country: str = ""
    country_default: bool = False
    stance: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Population:
    id: str
    camp: str
    names: tuple[str, ...]
    start: date | None = None
    people: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()  # ids of the populations it is made of (a combined force)
    subjects: tuple[str, ...] = ()  # a country that names it as the subject of a loss ("Russia has suffered")


@dataclass(frozen=True)
class Mention:
    """A name of a table found in a normalised text: ``[start, end)`` and what it names."""

    start: int
    end: int
    key: str  # the source's name or the population's id
    text: str  # the normalised name matched


def _names_regex(names: Sequence[str]) -> re.Pattern[str] | None:
    keys = sorted({n for n in names if n}, key=len, reverse=True)
    if not keys:
        return None
    alt = "|".join(re.escape(k) for k in keys)
    return re.compile(rf"(?<![\w-])(?:{alt})(?![\w-])")


def _find(regex: re.Pattern[str] | None, owner: Mapping[str, str], text: str) -> list[Mention]:
    if regex is None:
        return []
    return [Mention(m.start(), m.end(), owner[m.group()], m.group()) for m in regex.finditer(text)]


@dataclass(frozen=True)
class SourceTable:
    """Source names and aliases, with each source's group, camp and country."""

    version: str
    sources: tuple[Source, ...]
    camps: Mapping[str, str]
    anaphora: tuple[str, ...]

    @cached_property
    def by_name(self) -> dict[str, Source]:
        return {s.name: s for s in self.sources}

    @cached_property
    def _owner(self) -> dict[str, str]:
        owner: dict[str, str] = {}
        for s in self.sources:
            owner.setdefault(normalize_phrase(s.name), s.name)
        for s in self.sources:
            for a in s.aliases:
                owner.setdefault(a, s.name)
        return owner

    @cached_property
    def _regex(self) -> re.Pattern[str] | None:
        return _names_regex(list(self._owner))

    @cached_property
    def _anaphora_regex(self) -> re.Pattern[str] | None:
        return _names_regex(list(self.anaphora))

    def find(self, norm: str) -> list[Mention]:
        """Every source named in ``norm`` (a normalised text), in order."""
        return _find(self._regex, self._owner, norm)

    def anaphors(self, norm: str) -> list[Mention]:
        """Generic speakers ("the ministry", "il", "selon lui") in ``norm``."""
        return _find(self._anaphora_regex, {a: a for a in self.anaphora}, norm)

    def lookup(self, text: str) -> Source | None:
        """The source whose name or an alias is ``text`` (normalised), or None."""
        key = normalize_phrase(text)
        name = self._owner.get(key) or self._owner.get(
            re.sub(r"^(?:the|a|an|le|la|les|un|une|des|du)\s+|^(?:l|d)'", "", key)
        )
        return self.by_name.get(name) if name else None

    def country_default(self, country: str) -> Source | None:
        for s in self.sources:
            if s.country == country and s.country_default:
                return s
        return None

    def stance(self, source: str, population: Population | None) -> str:
        """ "own", "adversary", "neutral" or "" (unknown) of ``source`` towards ``population``."""
        s = self.by_name.get(source)
        if s is None or population is None:
            return ""
        if population.id in s.stance:
            return s.stance[population.id]
        camp = self.camps.get(s.camp, s.camp)
        if camp == "neutral":
            return "neutral"
        other = self.camps.get(population.camp, population.camp)
        if not camp or not other or other == "neutral":
            return ""
        return "own" if camp == other else "adversary"


@dataclass(frozen=True)
class PopulationTable:
    """Populations and the names of their troops (or people)."""

    version: str
    populations: tuple[Population, ...]

    @cached_property
    def by_id(self) -> dict[str, Population]:
        return {p.id: p for p in self.populations}

    @cached_property
    def _owner(self) -> dict[str, str]:
        owner: dict[str, str] = {}
        for p in self.populations:
            for n in p.names:
                owner.setdefault(n, p.id)
        return owner

    @cached_property
    def _regex(self) -> re.Pattern[str] | None:
        return _names_regex(list(self._owner))

    @cached_property
    def _people_regex(self) -> re.Pattern[str] | None:
        return _names_regex([w for p in self.populations for w in p.people])

    @cached_property
    def _place_regexes(self) -> dict[str, re.Pattern[str] | None]:
        return {p.id: _names_regex(list(p.places)) for p in self.populations if p.places}

    @cached_property
    def _subject_regex(self) -> tuple[re.Pattern[str] | None, dict[str, str]]:
        owner = {n: p.id for p in self.populations for n in p.subjects}
        if not owner:
            return None, owner
        alt = "|".join(re.escape(k) for k in sorted(owner, key=len, reverse=True))
        return re.compile(rf"(?<![\w-])(?P<s>{alt})\s+{_LOSS_VERB}"), owner

    def find(self, norm: str) -> list[Mention]:
        """Every population named in ``norm`` (a normalised text), in order. A one-word name
        ("russes", "ukrainians") names people only as a noun ("des Russes", "1 000 Russes"),
        not as the adjective of a thing ("des bombardements russes", "Russian strikes"). A
        country as the subject of a loss ("Russia has suffered", "l'Ukraine aurait perdu")
        names its army (``subjects``)."""
        found = [
            m
            for m in _find(self._regex, self._owner, norm)
            if " " in m.text or not _adjective_of_a_thing(norm, m.start)
        ]
        rx, owner = self._subject_regex
        if rx is not None:
            for m in rx.finditer(norm):
                if all(m.end() <= f.start or m.start() >= f.end for f in found):
                    found.append(Mention(m.start(), m.end(), owner[m.group("s")], m.group()))
            found.sort(key=lambda m: m.start)
        return found

    def combining(self, ids: Sequence[str]) -> Population | None:
        """The one population whose ``parts`` include all of ``ids``, or None."""
        found = [p for p in self.populations if p.parts and set(ids) <= set(p.parts)]
        return found[0] if len(found) == 1 else None

    def people(self, norm: str) -> list[Mention]:
        """Nouns ("civils", "civilians") that name a population once a place is known."""
        rx = self._people_regex
        return [] if rx is None else [Mention(m.start(), m.end(), "", m.group()) for m in rx.finditer(norm)]

    def by_place(self, noun: str, contexts: Sequence[str]) -> tuple[Population, str] | None:
        """The population whose ``people`` include ``noun`` and one of whose places is named in
        the first of ``contexts`` (normalised texts, nearest first) that names one."""
        for ctx in contexts:
            for p in self.populations:
                rx = self._place_regexes.get(p.id)
                if noun in p.people and rx is not None:
                    m = rx.search(ctx)
                    if m:
                        return p, m.group()
        return None


#: a loss verb after a country, with its auxiliaries ("has suffered", "is losing", "aurait perdu")
_LOSS_VERB = (
    r"(?:(?:has|had|have|is|was|were|are|would have|may have|could have|a|avait|aurait|auraient|"
    r"aurait deja|a deja|has already|had already)\s+)?(?:been\s+)?"
    r"(?:lost|losing|loses|lose|suffered|suffering|suffers|perdu|perd|perdrait|perdent|subi|subit|"
    r"subirait)(?![\w-])"
)

#: words after which a one-word population name is a noun
_NOUN_BEFORE = frozenset(
    "les des aux the of de d' ces these those et and ou or some many all tous "
    "plusieurs several other autres more plus deja already".split()
)


def _adjective_of_a_thing(norm: str, start: int) -> bool:
    before = re.findall(r"[\w'-]+|[^\w\s]", norm[max(0, start - 40) : start])
    if not before:
        return False
    prev = before[-1]
    return (
        prev.replace("-", "").isalpha()
        and prev not in _NOUN_BEFORE
        and not prev.endswith("'")
        and not is_people_word(prev)
    )


# --------------------------------------------------------------------------- loading


def _read_package(name: str) -> dict:
    with resources.files("reconcile.data").joinpath(name).open("rb") as fh:
        return tomllib.load(fh)


def _read_user(path: str | PathLike[str]) -> dict:
    p = Path(path)
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise TableError(f"{p}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise TableError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _str(entry: Mapping, key: str, where: str, required: bool = True) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise TableError(f"{where}: `{key}` must be a non-empty string, found {value!r}")
    return value.strip()


def _names(entry: Mapping, key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, {})
    if isinstance(value, list):
        value = {"any": value}
    if not isinstance(value, Mapping):
        raise TableError(
            f"{where}: `{key}` must be a table of lists, e.g. {{ fr = [...], en = [...] }}, found {value!r}"
        )
    out: list[str] = []
    for lang, items in value.items():
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            raise TableError(f"{where}: `{key}.{lang}` must be a list of non-empty strings, found {items!r}")
        out.extend(normalize_phrase(i) for i in items)
    return tuple(dict.fromkeys(out))


def _entries(data: Mapping, key: str, where: str) -> list[Mapping]:
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise TableError(f"{where}: `{key}` must be an array of tables ([[{key}]])")
    return items


def _merge(base: list[Mapping], over: list[Mapping], key: str, replace: bool) -> list[Mapping]:
    if replace:
        return list(over)
    names = {o.get(key) for o in over}
    return [b for b in base if b.get(key) not in names] + list(over)


def _sources_from(data: Mapping, where: str) -> SourceTable:
    camps = data.get("camps", {})
    if not isinstance(camps, Mapping) or not all(isinstance(v, str) for v in camps.values()):
        raise TableError(f"{where}: `camps` must be a table of strings")
    anaphora = _names(data, "anaphora", f"{where}: [anaphora]")
    sources: list[Source] = []
    seen: set[str] = set()
    for n, entry in enumerate(_entries(data, "source", where), start=1):
        at = f"{where}: source {n}"
        name = _str(entry, "name", at)
        at = f"{where}: source {name!r}"
        if name in seen:
            raise TableError(f"{at}: listed twice")
        seen.add(name)
        camp = _str(entry, "camp", at, required=False) or "neutral"
        if camp not in camps and camp != "neutral":
            raise TableError(f"{at}: `camp` {camp!r} is not a key of [camps] ({', '.join(camps)})")
        stance = entry.get("stance", {})
        if not isinstance(stance, Mapping) or any(v not in STANCES for v in stance.values()):
            raise TableError(f"{at}: `stance` must map populations to one of {STANCES}, found {stance!r}")
        default = entry.get("country_default", False)
        if not isinstance(default, bool):
            raise TableError(f"{at}: `country_default` must be true or false, found {default!r}")
        sources.append(
            Source(
                name=name,
                group=_str(entry, "group", at, required=False) or name,
                camp=camp,
                aliases=_names(entry, "aliases", at),
                country=_str(entry, "country", at, required=False),
                country_default=default,
                stance=dict(stance),
            )
        )
    version = data.get("version", "")
    return SourceTable(str(version), tuple(sources), dict(camps), anaphora)


def _populations_from(data: Mapping, where: str) -> PopulationTable:
    pops: list[Population] = []
    seen: set[str] = set()
    for n, entry in enumerate(_entries(data, "population", where), start=1):
        at = f"{where}: population {n}"
        pid = _str(entry, "id", at)
        at = f"{where}: population {pid!r}"
        if pid in seen:
            raise TableError(f"{at}: listed twice")
        seen.add(pid)
        start = entry.get("start")
        if isinstance(start, str):
            try:
                start = date.fromisoformat(start)
            except ValueError:
                raise TableError(f"{at}: `start` must be a date YYYY-MM-DD, found {start!r}") from None
        if start is not None and not isinstance(start, date):
            raise TableError(f"{at}: `start` must be a date YYYY-MM-DD, found {start!r}")
        places = entry.get("places", [])
        if not isinstance(places, list) or not all(isinstance(p, str) for p in places):
            raise TableError(f"{at}: `places` must be a list of strings, found {places!r}")
        subjects = _names(entry, "subjects", at)
        parts = entry.get("parts", [])
        if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
            raise TableError(f"{at}: `parts` must be a list of population ids, found {parts!r}")
        pops.append(
            Population(
                id=pid,
                camp=_str(entry, "camp", at, required=False),
                names=_names(entry, "names", at),
                start=start,
                people=_names(entry, "people", at),
                places=tuple(normalize_phrase(p) for p in places),
                parts=tuple(parts),
                subjects=subjects,
            )
        )
    for pop in pops:
        unknown = [p for p in pop.parts if p not in seen]
        if unknown:
            raise TableError(f"{where}: population {pop.id!r}: `parts` names no population {unknown[0]!r}")
    return PopulationTable(str(data.get("version", "")), tuple(pops))


@lru_cache(maxsize=1)
def default_sources() -> SourceTable:
    """The sources table shipped with the package (cached)."""
    return _sources_from(_read_package("sources.toml"), "sources.toml")


@lru_cache(maxsize=1)
def default_populations() -> PopulationTable:
    """The populations table shipped with the package (cached)."""
    return _populations_from(_read_package("populations.toml"), "populations.toml")


def _overlay(name: str, path: str | PathLike[str], key: str, entries: str) -> tuple[dict, str]:
    base = _read_package(name)
    user = _read_user(path)
    replace = user.get("replace", False)
    if not isinstance(replace, bool):
        raise TableError(f"{path}: `replace` must be true or false, found {replace!r}")
    where = str(path)
    merged: dict[str, Any] = dict(base)
    for k, v in user.items():
        if k not in (entries, "replace"):
            merged[k] = v
    merged[entries] = _merge(_entries(base, entries, name), _entries(user, entries, where), key, replace)
    return merged, where


def load_sources(path: str | PathLike[str] | None = None) -> SourceTable:
    """The shipped sources table, with the entries of the TOML file ``path`` laid over it."""
    if path is None:
        return default_sources()
    data, where = _overlay("sources.toml", path, "name", "source")
    _sources_from({**data, "source": _entries(_read_user(path), "source", where)}, where)  # the user's numbering
    return _sources_from(data, where)


def load_populations(path: str | PathLike[str] | None = None) -> PopulationTable:
    """The shipped populations table, with the entries of the TOML file ``path`` laid over it."""
    if path is None:
        return default_populations()
    data, where = _overlay("populations.toml", path, "id", "population")
    _populations_from({**data, "population": _entries(_read_user(path), "population", where)}, where)
    return _populations_from(data, where)
