"""Tests of model configurations (reconcile.config): fast, no model is built or sampled."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from conftest import KURSK_TOML
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.config import (
    Config,
    ConfigError,
    _defaults,
    config_from_json,
    from_dict,
    load_config,
)


def write_toml(tmp_path, text: str, name: str = "model.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------
# What loads
# --------------------------------------------------------------------------------------


def test_defaults_load_with_documented_values():
    config = load_config()
    assert isinstance(config, Config)
    assert config.origin == "package defaults"
    assert config.step_days == 7
    assert config.max_step_days == 28
    assert config["time"]["correlation_days"] == 180.0
    assert config["drift"]["enabled"] is True
    assert config.end is None
    assert config.identification["mode"] == "neutral"
    assert config.sampler["name"] == "nutpie"
    assert config.sampler["draws"] >= 1000 and config.sampler["chains"] >= 2  # enough for a verdict
    assert config.priors["daily_rate_median"] == 50.0
    assert config.population_starts == {}
    assert config.lexicon_overrides == {}
    # every default value survives the merge unchanged
    assert config.to_dict() == _defaults()


def test_kursk_configuration_loads():
    config = load_config(KURSK_TOML)
    assert config.origin == str(KURSK_TOML)
    assert config.population_starts == {
        "dprk_kursk": dt.date(2024, 11, 1),
        "russia_military": dt.date(2022, 2, 24),
        "ukraine_military": dt.date(2022, 2, 24),
    }
    assert config.daily_rate_median("dprk_kursk") == 30.0
    assert config.daily_rate_median("russia_military") == 500.0
    assert config.daily_rate_median("ukraine_military") == 300.0
    # a population the file does not name falls back to the package prior
    assert config.daily_rate_median("somebody_else") == 50.0
    # what the file does not set keeps its default
    assert config.sampler == load_config().sampler
    assert config.priors == load_config().priors


def test_configuration_is_immutable():
    config = load_config()
    with pytest.raises(TypeError):
        config.priors["rate_sd"] = 1.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        config.origin = "x"  # type: ignore[misc]


def test_integer_accepted_where_a_number_is_expected(tmp_path):
    config = load_config(write_toml(tmp_path, "[priors]\nrate_sd = 1\n"))
    assert config.priors["rate_sd"] == 1.0 and isinstance(config.priors["rate_sd"], float)


# --------------------------------------------------------------------------------------
# Refusals: every one names the key
# --------------------------------------------------------------------------------------

REFUSED = [
    # (TOML text, strings the message must contain)
    ("[prior]\nrate_sd = 0.1\n", ["[prior]", "did you mean 'priors'"]),
    ("[priors]\nrate_sdd = 0.1\n", ["priors.rate_sdd", "did you mean 'rate_sd'"]),
    ("[sampler]\ndraw = 10\n", ["sampler.draw", "did you mean 'draws'"]),
    ('[priors]\nrate_sd = "small"\n', ["priors.rate_sd", "'small'"]),
    ("[sampler]\ndraws = 10.5\n", ["sampler.draws", "whole number"]),
    ('[sampler]\nlow_rank_mass_matrix = "yes"\n', ["sampler.low_rank_mass_matrix"]),
    ("[sampler]\nlow_rank_mass_matrix = 1\n", ["sampler.low_rank_mass_matrix"]),
    ("[time]\nstep_days = true\n", ["time.step_days"]),
    ("[priors]\nrate_sd = -0.1\n", ["priors.rate_sd", "positive"]),
    ("[priors]\nnoise_sd = 0.0\n", ["priors.noise_sd", "positive"]),
    ("[priors]\ndaily_rate_median = -5.0\n", ["priors.daily_rate_median", "positive"]),
    ("[priors]\nkilled_share_a = 0\n", ["priors.killed_share_a", "positive"]),
    ("[priors]\noutlier_prob = 1.0\n", ["priors.outlier_prob", "[0, 1)"]),
    ("[priors]\noutlier_prob = -0.1\n", ["priors.outlier_prob", "[0, 1)"]),
    ("[priors]\nrate_sd = nan\n", ["priors.rate_sd"]),
    ("[priors]\nrate_sd = inf\n", ["priors.rate_sd"]),
    ('[identification]\nmode = "neutrall"\n', ["identification.mode", "'neutrall'"]),
    ('[identification]\nmode = "reference"\n', ["identification.reference_sources", "reference"]),
    ('[identification]\nreference_sources = "UK MoD"\n', ["identification.reference_sources", "list"]),
    ("[identification]\nreference_sources = [1, 2]\n", ["identification.reference_sources"]),
    ('[populations.dprk_kursk]\nstart = "2024-13-01"\n', ["populations.dprk_kursk.start", "2024-13-01"]),
    ('[populations.dprk_kursk]\nstart = "1 November 2024"\n', ["populations.dprk_kursk.start"]),
    ("[populations.dprk_kursk]\nstart = 2024-11-01\n", ["populations.dprk_kursk.start"]),  # a TOML date, not text
    ('[populations.dprk_kursk]\nstrat = "2024-11-01"\n', ["populations.dprk_kursk.strat", "did you mean 'start'"]),
    ("[populations.dprk_kursk]\ndaily_rate_median = 0.0\n", ["populations.dprk_kursk.daily_rate_median"]),
    ('[populations.dprk_kursk]\ndaily_rate_median = "many"\n', ["populations.dprk_kursk.daily_rate_median"]),
    ("[populations]\ndprk_kursk = 3\n", ["populations.dprk_kursk"]),
    ('[lexicon]\n"plusieurs centaines" = [900, 300]\n', ['lexicon."plusieurs centaines"', "low <= high"]),
    ('[lexicon]\n"plusieurs centaines" = [-1, 300]\n', ['lexicon."plusieurs centaines"']),
    ('[lexicon]\n"plusieurs centaines" = [100]\n', ['lexicon."plusieurs centaines"']),
    ('[lexicon]\n"plusieurs centaines" = 300\n', ['lexicon."plusieurs centaines"']),
    ('[lexicon]\n"plusieurs centaines" = [true, 300]\n', ['lexicon."plusieurs centaines"']),
    ('[lexicon]\n"dozens" = ["a", "b"]\n', ['lexicon."dozens"']),
    ('[sampler]\nname = "stan"\n', ["sampler.name", "'stan'"]),
    ("[sampler]\ndraws = 0\n", ["sampler.draws", "from 1 to"]),
    ("[sampler]\ntune = -1\n", ["sampler.tune", "from 0 to"]),
    ("[sampler]\nchains = 0\n", ["sampler.chains", "from 1 to"]),
    # values the model cannot take (issue 18): refused with the key and the range
    ("[sampler]\ndraws = 100000000000000000000\n", ["sampler.draws", "1,000,000"]),
    ("[sampler]\nchains = 1000\n", ["sampler.chains", "64"]),
    ("[sampler]\ntune = 100000000\n", ["sampler.tune", "1,000,000"]),
    ("[priors]\nnoise_floor = -1.0\n", ["priors.noise_floor", "positive"]),
    ("[priors]\nnoise_floor = 0.0\n", ["priors.noise_floor", "positive"]),
    ("[priors]\nrate_sd = 50.0\n", ["priors.rate_sd", "from 0.05 to 5"]),
    ("[priors]\nadversary_mean = 100.0\n", ["priors.adversary_mean", "from -5 to 5"]),
    ("[priors]\nown_mean = -1e300\n", ["priors.own_mean"]),
    ("[priors]\ndaily_rate_median = 1e300\n", ["priors.daily_rate_median", "100,000,000"]),
    ("[priors]\nkilled_share_b = 1e300\n", ["priors.killed_share_b"]),
    ("[populations.x]\ndaily_rate_median = 1e12\n", ["populations.x.daily_rate_median", "100,000,000"]),
    ('[lexicon]\n"dozens" = [0, 0]\n', ['lexicon."dozens"', "high from 0.000001"]),
    ('[lexicon]\n"dozens" = [0, 1e-300]\n', ['lexicon."dozens"', "high from 0.000001"]),
    ('[lexicon]\n"dozens" = [1, 1e20]\n', ['lexicon."dozens"', "10,000,000,000"]),
    ("[sampler]\ntarget_accept = 1.0\n", ["sampler.target_accept", "(0, 1)"]),
    ("[sampler]\ntarget_accept = 0\n", ["sampler.target_accept"]),
    ("[time]\nstep_days = 0\n", ["time.step_days"]),
    ("[time]\nstep_days = 32\n", ["time.step_days"]),
    ("[time]\nmax_step_days = 3\n", ["time.max_step_days"]),
    ("[time]\nmax_steps = 40\n", ["time.max_steps", "unknown"]),
    ("[time]\nboundaries_per_step = 0\n", ["time.boundaries_per_step"]),
    ("[time]\ncorrelation_days = 5.0\n", ["time.correlation_days"]),
    ("[drift]\nenabled = 1\n", ["drift.enabled", "bool"]),
    ("[drift]\nknot_days = 2\n", ["drift.knot_days"]),
    ("[drift]\nmin_claims = 1\n", ["drift.min_claims"]),
    ("[drift]\nmin_running_share = 1.5\n", ["drift.min_running_share", "share from 0 to 1"]),
    ("[priors]\nnoise_source_spread = 0\n", ["priors.noise_source_spread", "positive"]),
    ('[time]\nend = "soon"\n', ["time.end", "'soon'"]),
    ("priors = 3\n", ["[priors]", "table"]),
]


@pytest.mark.parametrize(("text", "needles"), REFUSED, ids=[t.replace("\n", " ").strip() for t, _ in REFUSED])
def test_refusal_names_the_key(tmp_path, text, needles):
    path = write_toml(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message  # the file is named too
    for needle in needles:
        assert needle in message, message


def test_unknown_key_far_from_any_lists_the_known_keys(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(write_toml(tmp_path, "[sampler]\nxyzzy = 1\n"))
    message = str(info.value)
    assert "sampler.xyzzy" in message
    assert "known keys" in message and "draws" in message and "target_accept" in message


def test_refusal_does_not_depend_on_other_keys(tmp_path):
    """A bad key among good ones is still found (and the good ones do not hide it)."""
    text = "[sampler]\ndraws = 200\nchains = 2\n\n[priors]\nrate_sd = 0.2\nnoise_sdd = 0.3\n"
    with pytest.raises(ConfigError, match=r"priors\.noise_sdd.*did you mean 'noise_sd'"):
        load_config(write_toml(tmp_path, text))


def test_invalid_toml_is_a_config_error(tmp_path):
    path = write_toml(tmp_path, "[priors\nrate_sd = \n")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_duplicate_key_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write_toml(tmp_path, "[priors]\nrate_sd = 0.1\nrate_sd = 0.2\n"))


def test_non_utf8_file_is_a_config_error(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes("# prior élargi\n[priors]\nrate_sd = 0.2\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8") as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_binary_file_is_a_config_error(tmp_path):
    path = tmp_path / "model.toml"
    path.write_bytes(b"\x00\x01\x02\xff\xfe" * 20)
    with pytest.raises(ConfigError):
        load_config(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "absent.toml")


def test_directory_is_not_a_configuration(tmp_path):
    with pytest.raises((ConfigError, FileNotFoundError, IsADirectoryError)):
        load_config(tmp_path)


def test_configuration_cannot_run_code(tmp_path):
    """Values are data: an import path or expression is just refused text."""
    path = write_toml(tmp_path, "[priors]\nrate_sd = \"__import__('os').system('false')\"\n")
    with pytest.raises(ConfigError, match="priors.rate_sd"):
        load_config(path)


def test_huge_integer_for_a_number_is_refused_with_the_key(tmp_path):
    """TOML integers are unbounded in Python's tomllib: a 400-digit one must be a ConfigError."""
    path = write_toml(tmp_path, "[priors]\nrate_sd = 1" + "0" * 400 + "\n")
    with pytest.raises(ConfigError, match=r"priors\.rate_sd"):
        load_config(path)


# --------------------------------------------------------------------------------------
# Config.replace, from_dict, JSON round trip
# --------------------------------------------------------------------------------------


def test_replace_changes_only_the_given_keys():
    base = load_config(KURSK_TOML)
    original = base.to_dict()
    changed = base.replace(sampler={"draws": 200}, priors={"rate_sd": 0.123})
    assert changed.sampler["draws"] == 200
    assert changed.priors["rate_sd"] == 0.123
    assert base.to_dict() == original  # the original is untouched
    assert base.sampler["draws"] != 200 and base.priors["rate_sd"] != 0.123
    expected = base.to_dict()
    expected["sampler"]["draws"] = 200
    expected["priors"]["rate_sd"] = 0.123
    assert changed.to_dict() == expected
    assert changed.origin == base.origin


def test_replace_to_reference_identification():
    config = load_config().replace(
        identification={"mode": "reference", "reference_sources": ["UK Ministry of Defence"]}
    )
    assert config.identification["mode"] == "reference"
    assert list(config.identification["reference_sources"]) == ["UK Ministry of Defence"]
    assert "UK Ministry of Defence" in config.describe_identification()


@pytest.mark.parametrize(
    ("sections", "needle"),
    [
        ({"sampler": {"draws": 0}}, "sampler.draws"),
        ({"sampler": {"drawz": 10}}, "sampler.drawz"),
        ({"identification": {"mode": "reference"}}, "identification.reference_sources"),
        ({"priors": {"outlier_prob": 1.5}}, "priors.outlier_prob"),
        ({"priors": {"rate_sd": "x"}}, "priors.rate_sd"),
        ({"populations": {"dprk_kursk": {"start": "yesterday"}}}, "populations.dprk_kursk.start"),
        ({"lexicon": {"dozens": [50, 10]}}, 'lexicon."dozens"'),
        ({"nonsense": {}}, "[nonsense]"),
    ],
)
def test_replace_revalidates(sections, needle):
    base = load_config(KURSK_TOML)
    with pytest.raises(ConfigError) as info:
        base.replace(**sections)
    assert needle in str(info.value)


def test_replace_population_start_keeps_other_populations():
    base = load_config(KURSK_TOML)
    changed = base.replace(populations={"dprk_kursk": {"start": "2024-10-20"}})
    assert changed.population_starts["dprk_kursk"] == dt.date(2024, 10, 20)
    assert changed.population_starts["russia_military"] == dt.date(2022, 2, 24)
    assert changed.daily_rate_median("russia_military") == 500.0


def test_replace_one_population_key_keeps_its_other_keys():
    base = load_config(KURSK_TOML)
    changed = base.replace(populations={"dprk_kursk": {"start": "2024-10-20"}})
    assert changed.population_starts["dprk_kursk"] == dt.date(2024, 10, 20)
    assert changed.daily_rate_median("dprk_kursk") == 30.0  # not named, so not changed


@pytest.mark.parametrize("path", [None, KURSK_TOML])
def test_json_round_trip(path):
    config = load_config(path)
    text = config.to_json()
    assert json.loads(text) == config.to_dict()
    back = config_from_json(text)
    assert back.to_dict() == config.to_dict()
    assert back.to_json() == text


def test_json_round_trip_with_every_section_changed():
    config = load_config(KURSK_TOML).replace(
        identification={"mode": "reference", "reference_sources": ["A", "B"]},
        lexicon={"plusieurs centaines": [300, 900], "des milliers": [2000.5, 9000]},
        time={"step_days": 14, "end": "2025-06-30"},
        sampler={"name": "pymc", "low_rank_mass_matrix": False, "target_accept": 0.95},
        populations={"new_population": {"start": "2023-01-01", "daily_rate_median": 5}},
    )
    back = config_from_json(config.to_json())
    assert back.to_dict() == config.to_dict()
    assert back.lexicon_overrides == {"plusieurs centaines": (300.0, 900.0), "des milliers": (2000.5, 9000.0)}
    assert back.end == dt.date(2025, 6, 30)
    assert back.daily_rate_median("new_population") == 5.0


def test_from_dict_equals_load_config(tmp_path):
    text = '[sampler]\ndraws = 123\n[populations.x]\nstart = "2024-01-02"\n'
    assert (
        load_config(write_toml(tmp_path, text)).to_dict()
        == from_dict({"sampler": {"draws": 123}, "populations": {"x": {"start": "2024-01-02"}}}).to_dict()
    )


# --------------------------------------------------------------------------------------
# Property: a user's dict either loads or is refused with ConfigError, never anything else
# --------------------------------------------------------------------------------------

_DEFAULTS = _defaults()
_KNOWN = [(section, key) for section, table in _DEFAULTS.items() for key in table]

# TOML-representable values (Python's tomllib yields these types); integers kept within 64 bits
# as the TOML specification requires (the unbounded case is test_huge_integer_...)
_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["2024-11-01", "2024-02-30", "", "neutral", "reference", "prior", "nutpie", "pymc"]),
    st.dates().map(dt.date.isoformat),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)


def _typed(default):
    """Values of the default's type, mostly plausible: most of these configurations load."""
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, float):
        return st.one_of(st.floats(min_value=0.01, max_value=0.99), st.floats(-1, 1e4), st.integers(0, 1000))
    if isinstance(default, int):
        return st.one_of(st.integers(1, 31), st.integers(-2, 12_000))
    if isinstance(default, str):
        return st.sampled_from(["", "neutral", "reference", "prior", "nutpie", "pymc", "2025-01-31"])
    return st.lists(st.sampled_from(["UK Ministry of Defence", "x"]), max_size=2)


_section_names = st.sampled_from([*_DEFAULTS, "prior", "Sampler", ""]) | st.text(max_size=8)
_key_names = st.sampled_from(sorted({k for _, k in _KNOWN} | {"start", "daily_rate_median", "rate_sdd"})) | st.text(
    max_size=8
)


@st.composite
def user_dicts(draw):
    data: dict = {}
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.integers(0, 3)):
            section, key = draw(st.sampled_from(_KNOWN))
            if draw(st.integers(0, 3)):
                table = data.setdefault(section, {})
                if isinstance(table, dict):
                    table[key] = draw(_typed(_DEFAULTS[section][key]))
                continue
        else:
            section, key = draw(_section_names), draw(_key_names)
        if section in ("populations", "lexicon") and draw(st.booleans()):
            # one more level: populations.NAME.KEY, or lexicon."phrase" = [low, high]
            name = draw(st.text(min_size=1, max_size=8))
            value = draw(_values) if section == "populations" else draw(st.lists(_scalars, max_size=3))
            table = data.setdefault(section, {})
            if isinstance(table, dict):
                if section == "populations":
                    inner = table.setdefault(name, {})
                    if isinstance(inner, dict):
                        inner[key] = value
                else:
                    table[name] = value
            continue
        if draw(st.integers(0, 9)) == 0:  # a section that is not a table
            data[section] = draw(_values)
            continue
        table = data.setdefault(section, {})
        if isinstance(table, dict):
            table[key] = draw(_values)
    return data


def _named_keys(data) -> set[str]:
    """How a refusal may name what it refuses: every section, key and entry of ``data``."""
    names = set()
    for section, table in data.items():
        names |= {f"[{section}]", f"{section}."}
        if isinstance(table, dict):
            for key, value in table.items():
                names.add(f"{section}.{key}" if section != "lexicon" else f'lexicon."{key}"')
                if isinstance(value, dict):
                    names |= {f"{section}.{key}.{inner}" for inner in value}
    return names


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(user_dicts())
def test_any_user_dict_loads_or_raises_config_error(data):
    try:
        config = from_dict(data)
    except ConfigError as exc:
        # the refusal names a section or key of the given configuration (where it is wrong)
        assert any(name in str(exc) for name in _named_keys(data)), (str(exc), data)
        return
    # accepted: it is a valid, self-consistent configuration that survives a JSON round trip
    assert config_from_json(config.to_json()).to_dict() == config.to_dict()
    assert 1 <= config.step_days <= 31
    assert 0 <= config.priors["outlier_prob"] < 1
    assert all(math.isfinite(v) for v in config.priors.values())
    # and within the ranges the model can fit (tests/test_hostile_inputs.py fits their ends)
    from reconcile import config as cfg

    for key, value in config.priors.items():
        if key.endswith(("_sd", "_spread")) or key == "noise_floor":
            # a running tally's own noise may lie below a statement's, the day-to-day swing may
            # be left out (0), rate_log_sd has its own ceiling
            low, high, _ = cfg._SPREAD_RANGES.get(key, (cfg.MIN_LOG_SD, cfg.MAX_LOG_SD, ""))
            assert low <= value <= high
        elif key.endswith("_mean"):
            assert abs(value) <= cfg.MAX_LOG_MEAN
    assert 1 <= config.sampler["draws"] <= cfg.MAX_DRAWS and 1 <= config.sampler["chains"] <= cfg.MAX_CHAINS


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(_KNOWN), st.data())
def test_any_value_for_a_known_key_loads_or_raises_config_error(section_key, data):
    section, key = section_key
    value = data.draw(st.one_of(_values, _typed(_DEFAULTS[section][key])))
    try:
        config = from_dict({section: {key: value}})
    except ConfigError as exc:
        # the refusal names the key (or, for a mode that needs another key, that key)
        assert f"{section}.{key}" in str(exc) or (
            (section, key, value) == ("identification", "mode", "reference")
            and "identification.reference_sources" in str(exc)
        ), str(exc)
        return
    stored = config[section][key]
    default = _DEFAULTS[section][key]
    # what is stored has the type of the default (a list of text becomes a tuple: frozen)
    if isinstance(default, list):
        assert isinstance(stored, tuple) and all(isinstance(v, str) for v in stored)
    else:
        assert type(stored) is type(default)


def test_a_tuning_length_given_to_fit_applies_to_every_war():
    from reconcile.config import sampler_overrides

    assert sampler_overrides(draws=5, tune=None, chains=None) == {"draws": 5}
    assert sampler_overrides(tune=300) == {"tune": 300, "tune_data_rich": 300}
    config = load_config().replace(sampler=sampler_overrides(tune=0))
    assert (config.sampler["tune"], config.sampler["tune_data_rich"]) == (0, 0)


def test_tune_data_rich_is_validated(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[sampler]\ntune_data_rich = -5\n")
    with pytest.raises(ConfigError, match=r"sampler\.tune_data_rich.*from 0 to"):
        load_config(path)


def test_a_spread_of_the_curves_spread_past_what_floating_point_holds_is_refused():
    """rate_log_sd = 5 let a starting point's daily rate swing by e^100 between weeks: every
    starting point had an infinite density. It is refused, naming the key, value and range."""
    with pytest.raises(ConfigError, match=r"priors.rate_log_sd: expected a positive number from 0.05 to 2 .*found 5.0"):
        from_dict({"priors": {"rate_log_sd": 5.0}})
    assert from_dict({"priors": {"rate_log_sd": 2.0}}).priors["rate_log_sd"] == 2.0


def test_differences_from_the_defaults():
    assert load_config().differences() == []
    cfg = load_config().replace(priors={"group_sd": 0.5}, populations={"alpha": {"start": "2024-01-01"}})
    assert cfg.differences() == [("populations.alpha.start", "2024-01-01", None), ("priors.group_sd", 0.5, 0.2)]


def test_display_names_for_populations_and_sources():
    cfg = load_config().replace(
        populations={"alpha": {"label": " The Alpha brigade "}}, source_labels={"Observer B (long name)": "Obs. B"}
    )
    assert cfg.population_label("alpha") == "The Alpha brigade" and cfg.population_label("beta") == "beta"
    assert cfg.source_label("Observer B (long name)") == "Obs. B" and cfg.source_label("Other") == "Other"
    assert ("source_labels.Observer B (long name)", "Obs. B", None) in cfg.differences()
    assert config_from_json(cfg.to_json()).population_label("alpha") == "The Alpha brigade"


@pytest.mark.parametrize(
    "section, fragment",
    [
        ({"populations": {"alpha": {"label": ""}}}, "populations.alpha.label: expected a label, a text of 1 to 80"),
        ({"populations": {"alpha": {"label": 3}}}, "populations.alpha.label: expected a label"),
        ({"source_labels": {"X": ["a"]}}, 'source_labels."X": expected a label'),
        ({"source_labels": {"X": "y" * 81}}, 'source_labels."X": expected a label, a text of 1 to 80 characters'),
    ],
)
def test_bad_display_names_are_refused(section, fragment):
    with pytest.raises(ConfigError) as info:
        load_config().replace(**section)
    assert fragment in str(info.value)


def test_unused_names_lists_entries_that_name_nothing_in_the_claims(tmp_path):
    path = tmp_path / "model.toml"
    path.write_text(
        '[populations.navy_b]\nlabel = "B"\n[populations.army_x]\nstart = "2024-01-01"\n'
        '[source_labels]\n"Ministry" = "M"\n"Ministy of Truth" = "T"\n',
        encoding="utf-8",
    )
    config = load_config(path)
    lines = config.unused_names(["army_a", "navy_b"], ["Ministry", "Ministry of Truth"])
    assert lines == [
        "[populations.army_x] names no population of the claims, so it is not used; did you mean 'army_a'?",
        "[source_labels] 'Ministy of Truth' names no source of the claims, so it is not used; "
        "did you mean 'Ministry of Truth'?",
    ]
    assert load_config(None).unused_names(["army_a"], ["Ministry"]) == []
