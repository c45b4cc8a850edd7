"""Tests of the vague-quantity lexicon and of number parsing (reconcile.lexicon)."""

from __future__ import annotations

import math
import tomllib
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.lexicon import (
    NUMBER_STYLES,
    Lexicon,
    default_lexicon,
    format_number,
    load_lexicon,
    normalize_phrase,
    parse_number,
)

DIGIT_STYLES = [s for s in NUMBER_STYLES if not s.startswith("words")]
WORD_STYLES = [s for s in NUMBER_STYLES if s.startswith("words")]


def _file_phrases() -> list[str]:
    with resources.files("reconcile.data").joinpath("lexicon.toml").open("rb") as fh:
        data = tomllib.load(fh)
    return [p for entry in data["entry"] for items in entry["phrases"].values() for p in items]


FILE_PHRASES = _file_phrases()

# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 10**9), style=st.sampled_from(DIGIT_STYLES))
def test_digits_round_trip(n, style):
    assert parse_number(format_number(n, style)) == n


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 10**9), style=st.sampled_from(DIGIT_STYLES), language=st.sampled_from([None, "fr", "en"]))
def test_digits_round_trip_any_language(n, style, language):
    assert parse_number(format_number(n, style), language) == n


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 999_999), style=st.sampled_from(WORD_STYLES))
def test_words_round_trip(n, style):
    text = format_number(n, style)
    language = "fr" if style == "words_fr" else "en"
    assert parse_number(text) == n
    assert parse_number(text, language) == n
    assert parse_number(text.upper()) == n  # case-insensitive
    assert parse_number(text.replace("-", " ")) == n  # hyphens or spaces


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 999), style=st.sampled_from([s for s in DIGIT_STYLES if s != "plus"]))
def test_small_numbers_with_scale_words(n, style):
    assert parse_number(f"{format_number(n, style)} milliards") == n * 10**9
    assert parse_number(f"{format_number(n, style)} million") == n * 10**6


def test_every_interval_is_well_formed():
    lex = default_lexicon()
    assert isinstance(lex.version, str) and lex.version
    assert lex.entries
    for phrase, (low, high) in lex.entries.items():
        assert math.isfinite(low) and math.isfinite(high), phrase
        assert 0 <= low <= high, phrase


def test_every_phrase_normalizes_uniquely_and_is_found():
    lex = default_lexicon()
    keys = [normalize_phrase(p) for p in FILE_PHRASES]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(lex.entries)
    for phrase in FILE_PHRASES:
        assert lex.interval(phrase) == lex.entries[normalize_phrase(phrase)]
        found = lex.find(f"selon eux, {phrase}.")
        assert found is not None and normalize_phrase(found[0]) == normalize_phrase(phrase)


_ACCENTED = {"a": "àâ", "e": "éèêë", "i": "îï", "o": "ô", "u": "ùû", "c": "ç"}
_SPACES = [" ", "  ", "\u00a0", "\u202f", "\t", "\n", " \u00a0 "]


@st.composite
def _variants(draw):
    """A lexicon phrase with random case, accents and whitespace."""
    phrase = draw(st.sampled_from(FILE_PHRASES))
    out = []
    for ch in phrase:
        if ch == " ":
            out.append(draw(st.sampled_from(_SPACES)))
            continue
        if ch in _ACCENTED and draw(st.booleans()):
            ch = draw(st.sampled_from(_ACCENTED[ch]))
        out.append(ch.upper() if draw(st.booleans()) else ch)
    return phrase, "".join(out)


@settings(max_examples=300, deadline=None)
@given(_variants())
def test_matching_tolerates_case_accents_whitespace(pair):
    phrase, variant = pair
    lex = default_lexicon()
    expected = lex.entries[normalize_phrase(phrase)]
    assert lex.interval(variant) == expected
    assert lex.interval(f"Selon Kiev, {variant} ; fin.") == expected


@settings(max_examples=100, deadline=None)
@given(
    phrase=st.text(alphabet="abcdefghijklmnopqrstuvwxyz éè", min_size=1, max_size=30).filter(lambda s: s.strip()),
    low=st.floats(0, 1e6),
    width=st.floats(0, 1e6),
)
def test_overrides_add_and_replace(phrase, low, width):
    lex = default_lexicon()
    new = lex.with_overrides({phrase: [low, low + width]})
    assert new.interval(phrase) == (low, low + width)
    assert new is not lex and new.version != lex.version
    assert lex.entries.get(normalize_phrase(phrase)) != (low, low + width) or normalize_phrase(phrase) in lex.entries


@pytest.mark.parametrize(
    "bad", [[1], [1, 2, 3], [5, 2], [-1, 3], ["a", 3], "12", [float("nan"), 1], [0, float("inf")], [True, 2], None]
)
def test_bad_overrides_raise_naming_the_phrase(bad):
    with pytest.raises(ValueError, match="plusieurs centaines"):
        default_lexicon().with_overrides({"plusieurs centaines": bad})


# --------------------------------------------------------------------------- examples


@pytest.mark.parametrize(
    "text, expected",
    [
        ("30", 30),
        ("1.000", 1000),
        ("1,000", 1000),
        ("10 000", 10000),
        ("10\u00a0000", 10000),
        ("10\u202f000", 10000),
        ("1 200", 1200),
        ("50.000", 50000),
        ("6,000+", 6000),
        ("~1,000", 1000),
        ("5,6", 5.6),
        ("1.5", 1.5),
        ("0,500", 0.5),
        ("1.000.000", 1_000_000),
        ("1,234.5", 1234.5),
        ("1.234,5", 1234.5),
        ("5,6 milliards", 5.6e9),
        ("2 million", 2e6),
        ("1.2 thousand", 1200),
        ("trente", 30),
        ("cent", 100),
        ("mille", 1000),
        ("deux cents", 200),
        ("quarante-trois", 43),
        ("cinq mille", 5000),
        ("Cinq mille", 5000),
        ("soixante-dix", 70),
        ("quatre-vingt-dix", 90),
        ("quatre-vingts", 80),
        ("vingt et un", 21),
        ("soixante et onze", 71),
        ("dix-sept", 17),
        ("deux cent mille", 200_000),
        ("thirty", 30),
        ("a hundred", 100),
        ("one thousand", 1000),
        ("forty-three", 43),
        ("five thousand", 5000),
        ("one hundred and five", 105),
        ("zéro", 0),
    ],
)
def test_parse_number_examples(text, expected):
    assert parse_number(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    "text",
    ["", "  ", "abc", "XIe", "deuxième", "a", "deux trois", "1,00,000", "1.2.3", "au moins 30", "soldats", "et", "-"],
)
def test_parse_number_rejects_non_numbers(text):
    assert parse_number(text) is None


def test_language_restricts_number_words():
    assert parse_number("trente", "en") is None
    assert parse_number("thirty", "fr") is None
    assert parse_number("trente", "fr") == 30


def test_interval_longest_phrase_in_text():
    lex = default_lexicon()
    assert lex.interval("plusieurs centaines de soldats") == lex.interval("plusieurs centaines")
    assert lex.interval("des dizaines de milliers de morts") == lex.interval("des dizaines de milliers")
    assert lex.interval("PLUSIEURS  Centaines") == (200.0, 900.0)
    assert lex.interval("plusieurs\u00a0centaines") == (200.0, 900.0)
    assert lex.interval("des dizaînes") == lex.interval("des dizaines")
    assert lex.interval("several hundred") == (200.0, 900.0)
    assert lex.interval("several thousand") == (2000.0, 9000.0)
    assert lex.interval("no vague words here") is None
    assert lex.interval("centaines") is None  # word boundaries, whole phrases only


def test_find_returns_phrase_as_written():
    found = default_lexicon().find('les pertes se chiffrent à\n"Plusieurs  Centaines"')
    assert found == ("Plusieurs  Centaines", (200.0, 900.0))
    assert default_lexicon().find("rien") is None


def test_normalize_phrase():
    assert normalize_phrase("  Plusieurs\u202fCENTAINES\n ") == "plusieurs centaines"
    assert normalize_phrase("jusqu’à") == "jusqu'a"
    assert normalize_phrase("Décès") == "deces"


def test_load_lexicon_same_format(tmp_path):
    path = tmp_path / "lex.toml"
    path.write_text(
        'version = "test-1"\n[[entry]]\nphrases = { fr = ["une flopée"] }\nlow = 5\nhigh = 50\n', encoding="utf-8"
    )
    lex = load_lexicon(path)
    assert isinstance(lex, Lexicon)
    assert lex.version == "test-1"
    assert lex.interval("Une flopee de soldats") == (5.0, 50.0)
    assert lex.languages["une flopee"] == "fr"


def test_load_lexicon_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('version = "x"\n[[entry]]\nphrases = { en = ["lots"] }\nlow = 9\nhigh = 2\n')
    with pytest.raises(ValueError, match="lots"):
        load_lexicon(bad)
    dup = tmp_path / "dup.toml"
    dup.write_text('version = "x"\n[[entry]]\nphrases = { en = ["lots", "LOTS"] }\nlow = 1\nhigh = 2\n')
    with pytest.raises(ValueError, match="twice"):
        load_lexicon(dup)
    noversion = tmp_path / "nov.toml"
    noversion.write_text('[[entry]]\nphrases = { en = ["lots"] }\nlow = 1\nhigh = 2\n')
    with pytest.raises(ValueError, match="version"):
        load_lexicon(noversion)


def test_default_lexicon_is_cached_and_has_both_languages():
    lex = default_lexicon()
    assert default_lexicon() is lex
    assert set(lex.languages.values()) >= {"fr", "en"}
    for fr, en in [
        ("plusieurs centaines", "several hundred"),
        ("des dizaines", "dozens"),
        ("plusieurs milliers", "several thousand"),
        ("des centaines", "hundreds"),
        ("des milliers", "thousands"),
        ("quelques", "a few"),
        ("des dizaines de milliers", "tens of thousands"),
        ("des centaines de milliers", "hundreds of thousands"),
        ("quelques centaines", "a few hundred"),
        ("quelques milliers", "a few thousand"),
        ("une douzaine", "a dozen"),
        ("une centaine", "about a hundred"),
        ("un millier", "about a thousand"),
        ("plusieurs", "several"),
        ("de nombreux", "many"),
        ("plusieurs dizaines", "several dozen"),
    ]:
        assert lex.interval(fr) is not None and lex.interval(en) is not None, (fr, en)


def test_format_number_rejects_bad_input():
    with pytest.raises(ValueError):
        format_number(-1, "plain")
    with pytest.raises(ValueError):
        format_number(5, "roman")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_parse_number_never_raises(text):
    value = parse_number(text)
    assert value is None or (math.isfinite(value) and value >= 0)
