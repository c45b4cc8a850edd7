"""Model configurations: TOML files merged over the package defaults.

Precedence is *user file > package defaults* (``reconcile/data/default_config.toml``). A user's
file needs only the keys it changes. Unknown keys and bad values are refused with the key named
(and a "did you mean" hint); nothing in a configuration can import or run code.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import json
import math
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from reconcile.errors import ReconcileError

IDENTIFICATION_MODES = ("neutral", "reference", "prior")
SAMPLERS = ("nutpie", "pymc")
MAX_LABEL = 80  # characters of a display name: it must fit a figure's title
_POPULATION_KEYS = {"start": str, "daily_rate_median": float, "label": str}

# The ranges every value must lie in for the model to be fitted (checked by _validate; the tests
# fit the ends of every range, alone and together). Log-scale spreads below 0.05 (5%) pin what
# the claims cannot, and with figures far apart leave no finite starting point; beyond 5 (a factor
# of e^5 = 148 at one standard deviation), like means beyond +-5, they overflow the sampler's
# arithmetic before they mean anything; a daily rate above 100 million is no war.
MIN_LOG_SD, MAX_LOG_SD = 0.05, 5.0
MAX_RATE_LOG_SD = 2.0
# spreads whose range is not MIN_LOG_SD..MAX_LOG_SD: (low, high, what the key is)
_SPREAD_RANGES = {
    # a running tally's own noise: may be far below a statement's
    "series_noise_sd": (0.001, MAX_LOG_SD, "a spread on the log scale"),
    # the day-to-day swing of a war's losses: 0 leaves it out
    "daily_sd": (0.0, MAX_LOG_SD, "a spread on the log scale, 0 to leave it out"),
    # the spread of the curve's own spread: wider lets the daily rate swing by e^100 between
    # weeks, past what floating point holds
    "rate_log_sd": (MIN_LOG_SD, MAX_RATE_LOG_SD, "the log-scale spread of rate_sd's prior"),
}
MAX_LOG_MEAN = 5.0
MIN_DAILY_RATE, MAX_DAILY_RATE = 1e-3, 1e8
MIN_BETA_SHAPE, MAX_BETA_SHAPE = 0.1, 1e4
#: Sampler sizes: more would not fit in memory (4 chains x 1,000,000 draws of a small war is
#: already tens of GB) and overflows the samplers' counters long before.
MAX_DRAWS = 1_000_000
MAX_TUNE = 1_000_000
MAX_CHAINS = 64
#: Lexicon intervals end where the figures of a claims file do (reconcile.claims.MIN_FIGURE,
#: MAX_FIGURE); the low end may be 0 ("up to ...").
MIN_LEXICON_HIGH, MAX_LEXICON = 1e-6, 1e10


class ConfigError(ReconcileError, ValueError):
    """A configuration breaks the schema; the message names the key."""


@cache
def _defaults() -> Mapping[str, Any]:
    text = resources.files("reconcile").joinpath("data/default_config.toml").read_text("utf-8")
    return tomllib.loads(text)


def _near(key: str, known: Iterable[str]) -> str:
    """ "; did you mean 'X'?" for the closest of ``known`` to ``key``, or "" when none is close."""
    close = difflib.get_close_matches(key, sorted(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _hint(key: str, known: list[str]) -> str:
    return _near(key, known) or f"; known keys: {', '.join(sorted(known))}"


def _check_type(path: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool) or isinstance(value, bool):
        if type(value) is not type(default):
            raise ConfigError(f"{path}: expected {type(default).__name__}, found {value!r}")
        return value
    if isinstance(default, float):
        number = _as_float(value)
        if number is None:
            raise ConfigError(f"{path}: expected a number, found {_show(value)}")
        return number
    if isinstance(default, int):
        if not isinstance(value, int):
            raise ConfigError(f"{path}: expected a whole number, found {value!r}")
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected text, found {value!r}")
        return value
    if isinstance(default, list):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: expected a list of text, found {value!r}")
        return list(value)
    raise ConfigError(f"{path}: unsupported value {value!r}")  # pragma: no cover


def _as_float(value: Any) -> float | None:
    """A finite float from a TOML number, or None (TOML integers may exceed any float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _show(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parse_date(path: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{path}: expected a date YYYY-MM-DD, found {value!r}") from None


def _label(path: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_LABEL:
        raise ConfigError(f"{path}: expected a label, a text of 1 to {MAX_LABEL} characters, found {_show(value)}")
    return value.strip()


def _merge(defaults: Mapping[str, Any], user: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(defaults))
    for section, table in user.items():
        if section not in defaults:
            raise ConfigError(f"unknown section [{section}]{_hint(section, list(defaults))}")
        if not isinstance(table, dict):
            raise ConfigError(f"[{section}] must be a table, found {table!r}")
        if section == "populations":
            for name, settings in table.items():
                if not isinstance(settings, dict):
                    raise ConfigError(f"populations.{name} must be a table, found {settings!r}")
                for key, value in settings.items():
                    path = f"populations.{name}.{key}"
                    if key not in _POPULATION_KEYS:
                        raise ConfigError(f"unknown key '{path}'{_hint(key, list(_POPULATION_KEYS))}")
                    if key == "start":
                        _parse_date(path, _check_type(path, value, ""))
                    elif key == "label":
                        _label(path, value)
                    else:
                        _check_type(path, value, 1.0)
                merged["populations"][name] = {**merged["populations"].get(name, {}), **settings}
            continue
        if section == "source_labels":
            for name, label in table.items():
                merged["source_labels"][name] = _label(f'source_labels."{name}"', label)
            continue
        if section == "lexicon":
            for phrase, interval in table.items():
                read = [_as_float(v) for v in interval] if isinstance(interval, list) else []
                ends = [v for v in read if v is not None]
                if (
                    len(read) != 2
                    or len(ends) != 2
                    or not (0 <= ends[0] <= ends[1] and MIN_LEXICON_HIGH <= ends[1] <= MAX_LEXICON)
                ):
                    raise ConfigError(
                        f'lexicon."{phrase}": expected [low, high] with 0 <= low <= high and high from '
                        f"{MIN_LEXICON_HIGH:.6f} to {MAX_LEXICON:,.0f}, found {_show(interval)}"
                    )
                merged["lexicon"][phrase] = ends
            continue
        for key, value in table.items():
            path = f"{section}.{key}"
            if key not in defaults[section]:
                raise ConfigError(f"unknown key '{path}'{_hint(key, list(defaults[section]))}")
            merged[section][key] = _check_type(path, value, defaults[section][key])
    return merged


def _validate(cfg: Mapping[str, Any]) -> None:
    t, ident, p, s = cfg["time"], cfg["identification"], cfg["priors"], cfg["sampler"]
    if not 1 <= t["step_days"] <= 31:
        raise ConfigError(f"time.step_days: expected a whole number of days from 1 to 31, found {t['step_days']}")
    if not t["step_days"] <= t["max_step_days"] <= 366:
        raise ConfigError(
            f"time.max_step_days: expected a whole number of days from time.step_days ({t['step_days']}) to 366, "
            f"found {t['max_step_days']}"
        )
    if not 1 <= t["boundaries_per_step"] <= 1000:
        raise ConfigError(
            f"time.boundaries_per_step: expected a whole number from 1 to 1000, found {t['boundaries_per_step']}"
        )
    if not 14 <= t["correlation_days"] <= 100_000:
        raise ConfigError(
            f"time.correlation_days: expected a number of days from 14 to 100000, found {t['correlation_days']}"
        )
    if not 7 <= t["share_knot_days"] <= 3660:
        raise ConfigError(
            f"time.share_knot_days: expected a whole number of days from 7 to 3660, found {t['share_knot_days']}"
        )
    dr = cfg["drift"]
    if dr["min_claims"] < 2:
        raise ConfigError(f"drift.min_claims: expected a whole number >= 2, found {dr['min_claims']}")
    if dr["min_days"] < 1:
        raise ConfigError(f"drift.min_days: expected a whole number of days >= 1, found {dr['min_days']}")
    if not 0 <= dr["min_running_share"] <= 1:
        raise ConfigError(f"drift.min_running_share: expected a share from 0 to 1, found {dr['min_running_share']}")
    if not 7 <= dr["knot_days"] <= 3660:
        raise ConfigError(f"drift.knot_days: expected a whole number of days from 7 to 3660, found {dr['knot_days']}")
    if t["end"]:
        _parse_date("time.end", t["end"])
    if ident["mode"] not in IDENTIFICATION_MODES:
        raise ConfigError(f"identification.mode: expected one of {IDENTIFICATION_MODES}, found {ident['mode']!r}")
    if ident["mode"] == "reference" and not ident["reference_sources"]:
        raise ConfigError("identification.reference_sources: mode 'reference' needs at least one source")
    for key, value in p.items():
        if key.endswith(("_sd", "_spread")) or key == "noise_floor":  # spreads on the log scale
            low, high, what = _SPREAD_RANGES.get(key, (MIN_LOG_SD, MAX_LOG_SD, "a spread on the log scale"))
            if not low <= value <= high:
                raise ConfigError(
                    f"priors.{key}: expected a positive number from {low:g} to {high:g} ({what}), found {value}"
                )
        elif key.endswith("_mean"):  # log-scale stance effects
            if not -MAX_LOG_MEAN <= value <= MAX_LOG_MEAN:
                raise ConfigError(
                    f"priors.{key}: expected a number from {-MAX_LOG_MEAN:g} to {MAX_LOG_MEAN:g} (log scale), found {value}"
                )
        elif key in ("killed_share_a", "killed_share_b"):
            if not MIN_BETA_SHAPE <= value <= MAX_BETA_SHAPE:
                raise ConfigError(
                    f"priors.{key}: expected a positive number from {MIN_BETA_SHAPE:g} to {MAX_BETA_SHAPE:,.0f}, found {value}"
                )
    rates = [("priors.daily_rate_median", p["daily_rate_median"])]
    rates += [
        (f"populations.{name}.daily_rate_median", pop["daily_rate_median"])
        for name, pop in cfg["populations"].items()
        if "daily_rate_median" in pop
    ]
    for key, value in rates:
        if not MIN_DAILY_RATE <= value <= MAX_DAILY_RATE:
            raise ConfigError(
                f"{key}: expected a positive number from {MIN_DAILY_RATE:g} to {MAX_DAILY_RATE:,.0f} "
                f"(losses a day), found {value}"
            )
    if not 0 <= p["outlier_prob"] < 1:
        raise ConfigError(f"priors.outlier_prob: expected a probability in [0, 1), found {p['outlier_prob']}")
    if s["name"] not in SAMPLERS:
        raise ConfigError(f"sampler.name: expected one of {SAMPLERS}, found {s['name']!r}")
    for key, low, high in (
        ("draws", 1, MAX_DRAWS),
        ("tune", 0, MAX_TUNE),
        ("tune_data_rich", 0, MAX_TUNE),
        ("chains", 1, MAX_CHAINS),
    ):
        if not low <= s[key] <= high:
            raise ConfigError(f"sampler.{key}: expected a whole number from {low} to {high:,}, found {s[key]}")
    if not 0 < s["target_accept"] < 1:
        raise ConfigError(f"sampler.target_accept: expected a number in (0, 1), found {s['target_accept']}")


def sampler_overrides(**settings: Any) -> dict[str, Any]:
    """The sampler settings given (not None), to override a configuration's. A tuning length
    given this way applies to every war, so it sets ``tune_data_rich`` as well as ``tune``."""
    over = {key: value for key, value in settings.items() if value is not None}
    if "tune" in over:
        over["tune_data_rich"] = over["tune"]
    return over


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


@dataclass(frozen=True)
class Config:
    """A validated, immutable model configuration (defaults merged with a user's choices)."""

    data: Mapping[str, Any]
    origin: str = "package defaults"

    def __getitem__(self, section: str) -> Mapping[str, Any]:
        return self.data[section]

    @property
    def priors(self) -> Mapping[str, Any]:
        return self.data["priors"]

    @property
    def sampler(self) -> Mapping[str, Any]:
        return self.data["sampler"]

    @property
    def identification(self) -> Mapping[str, Any]:
        return self.data["identification"]

    @property
    def step_days(self) -> int:
        return self.data["time"]["step_days"]

    @property
    def max_step_days(self) -> int:
        return self.data["time"]["max_step_days"]

    @property
    def end(self) -> dt.date | None:
        end = self.data["time"]["end"]
        return dt.date.fromisoformat(end) if end else None

    @property
    def population_starts(self) -> dict[str, dt.date]:
        return {
            name: dt.date.fromisoformat(pop["start"])
            for name, pop in self.data["populations"].items()
            if pop.get("start")
        }

    def daily_rate_median(self, population: str) -> float:
        pop = self.data["populations"].get(population, {})
        return float(pop.get("daily_rate_median", self.priors["daily_rate_median"]))

    def population_label(self, population: str) -> str:
        """The name figures, tables and sentences give ``population``: its configured ``label``
        (``[populations.NAME] label = "..."``), else its code."""
        return str(self.data["populations"].get(population, {}).get("label") or population).strip()

    def source_label(self, source: str) -> str:
        """The name figures and the report give ``source``: its entry in ``[source_labels]``,
        else the name the claims give it."""
        return str(self.data["source_labels"].get(source) or source)

    def unused_names(self, populations: Iterable[str], sources: Iterable[str]) -> list[str]:
        """One sentence per ``[populations.NAME]`` or ``[source_labels]`` entry that names no
        population (source) of the claims: a misspelt name, whose settings a fit silently does
        not use. (A configuration shared by claim files, or an as-of fit before a population's
        first claim, has such names on purpose: callers report them, they are not errors.)"""
        pops, srcs = set(populations), set(sources)
        return [
            f"[populations.{name}] names no population of the claims, so it is not used{_near(name, pops)}"
            for name in self.data["populations"]
            if name not in pops
        ] + [
            f"[source_labels] '{name}' names no source of the claims, so it is not used{_near(name, srcs)}"
            for name in self.data["source_labels"]
            if name not in srcs
        ]

    @property
    def lexicon_overrides(self) -> dict[str, tuple[float, float]]:
        return {k: (v[0], v[1]) for k, v in self.data["lexicon"].items()}

    def to_dict(self) -> dict[str, Any]:
        return _thaw(self.data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)

    def differences(self) -> list[tuple[str, Any, Any]]:
        """Every setting that differs from the package defaults, as ``(key, value, default)``
        (``key`` dotted, e.g. ``"priors.group_sd"``; ``default`` is ``None`` for a key the defaults
        do not have, such as a population's start), sorted by key."""

        def flat(value: Any, prefix: str = "") -> dict[str, Any]:
            if isinstance(value, Mapping):
                out: dict[str, Any] = {}
                for key, item in value.items():
                    out.update(flat(item, f"{prefix}{key}."))
                return out
            return {prefix[:-1]: value}

        mine, defaults = flat(self.to_dict()), flat(from_dict({}).to_dict())
        return [
            (key, mine.get(key), defaults.get(key))
            for key in sorted(set(mine) | set(defaults))
            if mine.get(key) != defaults.get(key)
        ]

    def with_sampler(self, **settings: Any) -> "Config":
        """This configuration with the sampler settings given (not None) overriding its own
        (see :func:`sampler_overrides`); itself when none is given."""
        over = sampler_overrides(**settings)
        return self.replace(sampler=over) if over else self

    def replace(self, **sections: Mapping[str, Any]) -> "Config":
        """A new configuration with some keys changed, e.g. ``replace(sampler={"draws": 200})``."""
        return from_dict(_merge(self.to_dict(), sections), origin=self.origin)

    def describe_identification(self) -> str:
        ident = self.identification
        if ident["mode"] == "neutral":
            return (
                "Sources whose stance is 'neutral' are assumed unbiased on average; where no neutral "
                "source speaks about a population, its level rests on the prior for the other "
                f"stances (adversaries inflate by a factor of about {math.exp(self.priors['adversary_mean']):.2f}, "
                f"own sides report a factor of about {math.exp(self.priors['own_mean']):.2f} of the truth)."
            )
        if ident["mode"] == "reference":
            return "These sources are assumed unbiased: " + ", ".join(ident["reference_sources"]) + "."
        return "No source is assumed unbiased: the level of losses rests on the priors of the stance effects alone."


def from_dict(data: Mapping[str, Any], *, origin: str = "dictionary") -> Config:
    """Build a configuration from a (possibly partial) nested mapping, merged over the defaults."""
    merged = _merge(_defaults(), data)
    _validate(merged)
    return Config(_freeze(merged), origin)


def read_toml(path: Path) -> dict:
    """The tables of a TOML file; ``ConfigError`` (naming the file) when it cannot be read or
    parsed, ``FileNotFoundError`` when it is missing."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise IsADirectoryError(f"{path}: is a directory, not a configuration file") from None
    except OSError as exc:  # missing, or unreadable (permissions, I/O): an input problem, not its content
        raise type(exc)(exc.errno, f"cannot read the configuration: {exc.strerror or exc}", str(path)) from None
    if b"\x00" in data:
        raise ConfigError(f"{path}: not a TOML text file (it holds NUL bytes: a binary file?)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at byte offset {exc.start}); save it as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def load_config(path: str | Path | None = None) -> Config:
    """Load a TOML configuration merged over the package defaults (``None``: defaults only)."""
    if path is None:
        return from_dict({}, origin="package defaults")
    path = Path(path)
    data = read_toml(path)
    try:
        return from_dict(data, origin=str(path))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def config_from_json(text: str, origin: str = "saved fit") -> Config:
    """Rebuild a configuration saved with :meth:`Config.to_json` (e.g. in ``posterior.nc``);
    ``origin`` names where it came from (the configuration file of the fit)."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ConfigError(f"a saved configuration must be a JSON object, found {_show(data)}")
    return from_dict(data, origin=origin)
