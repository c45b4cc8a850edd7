"""TEMPORARY STUB (being replaced): vague phrases -> intervals; number parsing."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping


def normalize_phrase(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.lower().split())


@dataclass(frozen=True)
class Lexicon:
    version: str
    entries: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def interval(self, phrase: str) -> tuple[float, float] | None:
        return self.entries.get(normalize_phrase(phrase))

    def with_overrides(self, overrides: Mapping[str, tuple[float, float]]) -> "Lexicon":
        merged = dict(self.entries)
        merged.update({normalize_phrase(k): (float(v[0]), float(v[1])) for k, v in overrides.items()})
        return Lexicon(self.version + "+overrides", MappingProxyType(merged))


def default_lexicon() -> Lexicon:
    return Lexicon("stub", MappingProxyType({
        "plusieurs centaines": (200.0, 900.0), "several hundred": (200.0, 900.0),
        "plusieurs milliers": (2000.0, 9000.0), "several thousand": (2000.0, 9000.0),
    }))


def parse_number(text: str) -> float | None:
    try:
        return float(text.replace(",", "").replace(" ", ""))
    except ValueError:
        return None
