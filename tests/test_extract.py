"""Tests of candidate-claim extraction from article text (reconcile.extract)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from reconcile.article import parse_article
from reconcile.extract import (
    CLAIM_COLUMNS,
    detect_language,
    extract_article,
    extract_claims,
    extract_files,
    write_candidates,
)

ARTICLES = Path(__file__).parent / "data" / "articles"
A000 = "000_5d155299d8799d51.txt"
A001 = "001_0192dcd3d7aa3a3f.txt"
A002 = "002_f831d786d1561823.txt"
A003 = "003_923b77bd63ac53e8.txt"
A004 = "004_9904597a1dd22de6.txt"


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {p.name: extract_claims(p.read_text(encoding="utf-8"), p.name) for p in sorted(ARTICLES.glob("*.txt"))}


def rows(frame, *, qualifier=None, category=None, value=None, phrase=None, quote=None):
    out = frame
    if qualifier is not None:
        out = out[out["qualifier"] == qualifier]
    if category is not None:
        out = out[out["category"] == category]
    if value is not None:
        out = out[out["value"].map(lambda v: v != "" and float(v) == value)]
    if phrase is not None:
        out = out[out["phrase"].str.lower().str.contains(phrase.lower(), regex=False)]
    if quote is not None:
        out = out[out["quote"].str.contains(quote, regex=False)]
    return out


def has(frame, **kw) -> bool:
    return len(rows(frame, **kw)) > 0


# --------------------------------------------------------------------------- article 000


def test_000_au_moins_30(frames):
    assert has(frames[A000], qualifier="at_least", category="casualties", value=30, phrase="au moins 30")


def test_000_plusieurs_milliers_contingent(frames):
    assert has(frames[A000], qualifier="vague", category="deployed", phrase="plusieurs milliers", quote="contingent")


def test_000_environ_50000(frames):
    assert has(frames[A000], qualifier="about", category="deployed", value=50000, phrase="environ 50.000")


def test_000_plusieurs_milliers_de_nord_coreens(frames):
    assert has(
        frames[A000],
        qualifier="vague",
        category="deployed",
        phrase="plusieurs milliers",
        quote="dont plusieurs milliers de nord-coréens",
    )


def test_000_environ_10000(frames):
    assert has(frames[A000], qualifier="about", category="deployed", value=10000, phrase="environ 10.000")


def test_000_no_date(frames):
    assert not has(frames[A000], value=16)


# --------------------------------------------------------------------------- article 001


def test_001_au_moins_100_title_sentence_and_quote(frames):
    found = rows(frames[A001], qualifier="at_least", category="killed", value=100)
    assert len(found) == 3
    assert found["quote"].str.contains("affirme Séoul").any()  # title
    assert found["quote"].str.contains("ont été tués en décembre").any()  # sentence
    assert found["quote"].str.contains("100 décès sont survenus").any()  # quote
    assert (found["derived_from"] != "").sum() == 2  # repeats point at the first


def test_001_environ_1000_blesses(frames):
    assert has(frames[A001], qualifier="about", category="wounded", value=1000, phrase="environ 1.000")


def test_001_plusieurs_centaines_over_a_line_break(frames):
    found = rows(frames[A001], qualifier="vague", category="casualties", phrase="plusieurs centaines")
    assert len(found) == 1
    assert 'se chiffrent à\n"plusieurs centaines"' in found["quote"].iloc[0]


def test_001_plusieurs_milliers_envoyes(frames):
    assert has(frames[A001], qualifier="vague", category="deployed", phrase="plusieurs milliers", quote="envoyés")


def test_001_no_date_or_time(frames):
    assert not frames[A001]["quote"].str.contains("10:39").any()
    assert not has(frames[A001], value=2024)


# --------------------------------------------------------------------------- article 002


def test_002_plusieurs_centaines_tues_ou_blesses(frames):
    assert has(frames[A002], qualifier="vague", category="casualties", phrase="Plusieurs centaines")


def test_002_environ_10000_soldats(frames):
    assert has(frames[A002], qualifier="about", category="deployed", value=10000, phrase="environ 10 000")


def test_002_1200_morts_ou_blesses(frames):
    found = rows(frames[A002], qualifier="exact", category="casualties", value=1200)
    assert len(found) == 1 and found["measure"].iloc[0] == "per_day"


def test_002_43000_morts(frames):
    assert has(frames[A002], qualifier="exact", category="killed", value=43000)


def test_002_370000_blesses(frames):
    assert has(frames[A002], qualifier="exact", category="wounded", value=370000)


def test_002_not_money(frames):
    assert not has(frames[A002], value=5.6)
    assert not has(frames[A002], value=5.3)
    assert not has(frames[A002], value=5.6e9)


def test_002_not_percentage(frames):
    assert not has(frames[A002], value=20)


def test_002_not_dates(frames):
    assert not has(frames[A002], value=2022)


# --------------------------------------------------------------------------- article 003


def test_003_environ_12000(frames):
    assert has(frames[A003], qualifier="about", category="deployed", value=12000, phrase="environ 12 000")


def test_003_not_xie_corps(frames):
    assert not frames[A003]["phrase"].str.contains("XI").any()
    assert not has(frames[A003], value=11)


def test_003_50000_soldats(frames):
    assert has(frames[A003], qualifier="exact", category="deployed", value=50000)


def test_003_au_moins_trente(frames):
    assert has(frames[A003], qualifier="at_least", category="casualties", value=30, phrase="au moins trente")


def test_003_no_durations(frames):
    assert not has(frames[A003], value=2)  # "deux derniers jours"
    assert not has(frames[A003], value=70)  # "soixante-dix ans"
    assert not has(frames[A003], value=14)  # "le 14 décembre"


# --------------------------------------------------------------------------- article 004


def test_004_plus_de_6000(frames):
    assert has(frames[A004], qualifier="more_than", category="casualties", value=6000, phrase="Plus de 6 000")


def test_004_environ_11000(frames):
    assert has(frames[A004], qualifier="about", category="deployed", value=11000)


def test_004_environ_3000(frames):
    assert has(frames[A004], qualifier="about", category="deployed", value=3000)


def test_004_5000_ouvriers(frames):
    assert has(frames[A004], qualifier="exact", category="deployed", value=5000, quote="ouvriers militaires")


def test_004_1000_sapeurs(frames):
    assert has(frames[A004], qualifier="exact", value=1000, phrase="1 000")


def test_004_cinq_mille_personnes(frames):
    assert has(frames[A004], value=5000, phrase="Cinq mille")


def test_004_no_years_dates_durations(frames):
    for v in (2024, 2025, 17, 8, 16):
        assert not has(frames[A004], value=v), v


# --------------------------------------------------------------------------- all articles


def test_quotes_are_verbatim_and_phrases_inside_quotes(frames):
    for name, frame in frames.items():
        text = (ARTICLES / name).read_text(encoding="utf-8")
        for quote, phrase in zip(frame["quote"], frame["phrase"]):
            assert quote in text
            assert phrase and phrase in quote


def test_columns_ids_citation_language(frames):
    citations = {
        A001: "Au moins 100 Nord-Coréens tués dans les combats Russie-Ukraine, affirme Séoul (2024-12-19)",
        A004: "https://www.lexpress.fr/monde/asie/guerre-en-ukraine-koursk-le-piege-mortel-des-soldats-"
        "nord-coreens-BRV5MC7CAJCPTOGG4QMEFH2X3A/",
    }
    for name, frame in frames.items():
        assert list(frame.columns) == list(CLAIM_COLUMNS)
        stem = name.removesuffix(".txt")
        assert list(frame["claim_id"]) == [f"{stem}-{i:03d}" for i in range(1, len(frame) + 1)]
        # the article's URL, else its title and date, else the file name
        assert (frame["citation"] == citations.get(name, name)).all()
        assert (frame["language"] == "fr").all()
        assert set(frame["category"]) <= {"killed", "wounded", "casualties", "deployed"}
        # every required column left blank is named in the row's notes
        for _, row in frame.iterrows():
            for col in ("population", "source", "reported_on"):
                if row[col] == "":
                    assert col in row["notes"].split("to fill: ")[-1], (col, row["notes"])


# the hand-coded claims of the seed articles (data/claims.csv): what the extractor reads
# agrees with the person where the article itself says it
SEED_AGREEMENT = [
    # (article, value or phrase, column, expected)
    (A000, 30, "source", "Ukrainian military intelligence (GUR)"),
    (A000, 30, "population", "dprk_kursk"),
    (A000, 30, "stance", "adversary"),
    (A000, "plusieurs milliers", "source", "Western governments (unnamed)"),
    (A000, 50000, "source", "Ukrainian government"),
    (A000, 50000, "population", "russia_dprk_kursk"),
    (A000, 10000, "source", "US Department of Defense"),
    (A001, 100, "reported_on", "2024-12-19"),
    (A001, 100, "period_start", "2024-12-01"),
    (A001, 1000, "source", "South Korea National Intelligence Service (NIS)"),
    (A001, 1000, "category", "wounded"),
    (A001, "plusieurs centaines", "source", "US senior defense official (anonymous)"),
    (A002, "plusieurs centaines", "source", "US senior defense official (anonymous)"),
    (A002, 1200, "source", "US government estimates"),
    (A002, 1200, "population", "russia_military"),
    (A002, 43000, "population", "ukraine_military"),
    (A002, 43000, "stance", "own"),
    (A002, 43000, "period_start", "2022-02-24"),
    (A002, 370000, "period_start", "2022-02-24"),
    (A003, 12000, "source", "US intelligence services"),
    (A003, 50000, "source", "The New York Times"),
    (A003, 50000, "population", "russia_dprk_kursk"),
    (A003, 50000, "stance", "neutral"),
    (A003, 30, "source", "Ukrainian military intelligence (GUR)"),
    (A004, 6000, "source", "UK Ministry of Defence"),
    (A004, 6000, "reported_on", "2025-06-15"),
    (A004, 3000, "source", "South Korea Joint Chiefs of Staff"),
    (A004, 3000, "period_start", "2025-01-01"),
    (A004, 3000, "period_end", "2025-02-28"),
    (A004, 5000, "source", "Russian Security Council (Sergei Shoigu)"),
    (A004, 5000, "stance", "own"),
    (A004, 5000, "reported_on", "2025-06-17"),
]


@pytest.mark.parametrize("article, figure, column, expected", SEED_AGREEMENT)
def test_agrees_with_the_hand_coded_claims(frames, article, figure, column, expected):
    frame = frames[article]
    found = rows(frame, value=figure) if isinstance(figure, int) else rows(frame, phrase=figure)
    assert len(found), (article, figure)
    assert expected in set(found[column]), (article, figure, column, list(found[column]))


def test_relative_figure_reported_as_skipped():
    article = parse_article((ARTICLES / A004).read_text(encoding="utf-8"), A004)
    found = extract_article(article)
    phrases = [s.phrase for s in found.skipped if s.kind == "relative"]
    assert phrases == ["plus de la moitié de ces troupes"]
    assert "plus de la moitié de ces troupes ont été tuées ou blessées" in found.skipped[0].quote


def test_no_row_for_years_anywhere(frames):
    every = pd.concat(frames.values())
    years = every["value"].map(lambda v: v != "" and 1900 <= float(v) <= 2100 and float(v) != 2000)
    assert not years.any()


# --------------------------------------------------------------------------- English


@pytest.mark.parametrize(
    "text, qualifier, category, value, value_high",
    [
        ("At least 30 North Korean soldiers were killed or wounded.", "at_least", "casualties", 30, ""),
        ("Officials said more than 6,000 killed or wounded.", "more_than", "casualties", 6000, ""),
        ("About 1,000 wounded were evacuated.", "about", "wounded", 1000, ""),
        ("Between 100 and 200 killed in the attack.", "range", "killed", 100, 200),
        ("Some 12,000 troops were deployed in Kursk.", "about", "deployed", 12000, ""),
        ("Up to 500 soldiers died.", "at_most", "killed", 500, ""),
        ("Fewer than 50 troops were injured.", "fewer_than", "wounded", 50, ""),
        ("The unit reported 6,000+ casualties.", "more_than", "casualties", 6000, ""),
        ("Russia sent thirty soldiers to the front.", "exact", "deployed", 30, ""),
    ],
)
def test_english_sentences(text, qualifier, category, value, value_high):
    frame = extract_claims(text, "en.txt")
    assert len(frame) == 1
    row = frame.iloc[0]
    assert (row["qualifier"], row["category"], row["value"], row["value_high"]) == (
        qualifier,
        category,
        value,
        value_high,
    )
    assert row["language"] == "en"


def test_english_vague():
    frame = extract_claims("There were several hundred casualties.", "en.txt")
    assert frame[["qualifier", "category", "value", "phrase"]].values.tolist() == [
        ["vague", "casualties", "", "several hundred"]
    ]


@pytest.mark.parametrize(
    "text",
    [
        "The offensive began on 16 December 2024 at 10:39.",
        "Le 20 janvier, Trump entre à la Maison Blanche, le 17 juin aussi.",
        "Published 19/12/2024.",
        "The Pentagon promised $5.6 billion and 5,3 milliards d'euros.",
        "Les États-Unis envoient 5,6 milliards de dollars.",
        "Moscou a reconquis environ 20 % du territoire, soit 30 percent.",
        "Le XIe corps et le 3e régiment, pour son deuxième mandat.",
        "Ils ont combattu huit mois et soixante-dix ans, les deux derniers jours, deux jours.",
        "In 2024, the war went on; since 2022, nothing changed.",
        "Il y avait 40 chars et 12 villages.",
    ],
)
def test_exclusions(text):
    assert extract_claims(text, "x.txt").empty


def test_number_words_found_and_ignored():
    frame = extract_claims(
        "au moins trente soldats ont été tués au cours des deux derniers jours", "x.txt", language="fr"
    )
    assert frame[["qualifier", "value", "category"]].values.tolist() == [["at_least", 30, "killed"]]


def test_detect_language():
    assert detect_language("Les soldats ont été tués dans la région de Koursk.") == "fr"
    assert detect_language("The soldiers were killed in the Kursk region.") == "en"


def test_extract_files_and_write_candidates(tmp_path):
    paths = sorted(ARTICLES.glob("*.txt"))
    frame = extract_files(paths)
    assert {p.name for p in paths} - {A001, A004} <= set(frame["citation"])
    assert frame["claim_id"].is_unique
    buf = io.StringIO()
    write_candidates(frame, buf)
    back = pd.read_csv(io.StringIO(buf.getvalue()), dtype=str, keep_default_na=False)
    assert list(back.columns) == list(CLAIM_COLUMNS)
    assert len(back) == len(frame)
    assert list(back["quote"]) == list(frame["quote"])
    out = tmp_path / "cands.csv"
    write_candidates(frame, out)
    assert out.read_text(encoding="utf-8") == buf.getvalue()
    assert extract_files([]).columns.tolist() == list(CLAIM_COLUMNS)


def test_number_words_of_both_languages_when_language_unclear():
    frame = extract_claims("Russia sent thirty soldiers.", "x.txt")
    assert frame["value"].tolist() == [30]


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_ALPHABET = st.sampled_from(
    list("abcdeéèàç 0123456789.,;:!?'’«»\"\n\u00a0\u202f%$€-+~/")
    + [
        "plusieurs centaines",
        " soldats ",
        " tués ",
        "au moins ",
        "environ ",
        " mille ",
        "trente",
        " décembre ",
        "2024",
        " killed ",
        "between ",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_extract_never_fails_and_quotes_are_verbatim(text):
    frame = extract_claims(text, "fuzz.txt")
    assert list(frame.columns) == list(CLAIM_COLUMNS)
    for quote, phrase in zip(frame["quote"], frame["phrase"]):
        assert quote in text and phrase in quote
    assert set(frame["category"]) <= {"killed", "wounded", "casualties", "deployed"}


_GUARDED = st.sampled_from(["=", "-", "+", "@", "\n- ", "\n=SUM(A1) ", "\n@"])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(_ALPHABET, _GUARDED), max_size=40).map("".join))
def test_written_candidates_read_back_to_the_same_cells(text):
    """The CSV of the candidates is strict CSV, its formula-like cells guarded (OWASP); removing
    the guard gives back every cell, the verbatim quote included."""
    import csv

    from reconcile._io import FORMULA_START

    frame = extract_claims(text, "fuzz.txt")
    buf = io.StringIO()
    write_candidates(frame, buf)
    records = list(csv.reader(io.StringIO(buf.getvalue(), newline=""), strict=True))
    assert records[0] == list(CLAIM_COLUMNS) and len(records) == len(frame) + 1
    for record, (_, expected) in zip(records[1:], frame.iterrows()):
        for cell, value in zip(record, expected):
            if cell[:1] == "'" and cell[1:2] in FORMULA_START:
                cell = cell[1:]
            else:
                assert cell[:1] not in FORMULA_START  # a formula-like cell is always guarded
            assert cell == ("" if value == "" else str(value))


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.lists(st.one_of(_ALPHABET, st.sampled_from(["\x00", "\xe9", "\udcff"])), max_size=30).map(
            lambda parts: "".join(parts).encode("utf-8", "surrogateescape")
        ),
    )
)
def test_article_files_are_read_or_refused_naming_the_bad_byte(tmp_path_factory, data):
    """Any bytes: the article is read as UTF-8 text, or refused with the file, the first bad
    byte and its offset, never a UnicodeDecodeError."""
    from reconcile.errors import InputFormatError

    path = tmp_path_factory.mktemp("article") / "article.txt"
    path.write_bytes(data)
    try:
        frame = extract_files([path])
    except InputFormatError as exc:
        message = str(exc)
        assert message.startswith(f"{path}: ")
        offset = int(message.split("byte offset ")[1].split(",")[0].split(":")[0].rstrip(")"))
        if "NUL" in message:
            assert data[offset] == 0
        else:
            assert f"byte 0x{data[offset]:02x}" in message
            data[:offset].decode("utf-8-sig")  # everything before it is valid
        return
    text = data.decode("utf-8-sig")
    assert all(q in text for q in frame["quote"])
