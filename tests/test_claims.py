"""Tests of reading and validating claims files (reconcile.claims)."""

from __future__ import annotations

import csv
import hashlib
import io
import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.claims import (
    CANONICAL_COLUMNS,
    CATEGORIES,
    MEASURES,
    OPTIONAL_COLUMNS,
    QUALIFIERS,
    REQUIRED_COLUMNS,
    STANCES,
    Claims,
    ClaimsError,
    ClaimsFileMissing,
    Problem,
    claims_from_frame,
    read_claims,
    validate_claims,
)

VALID = Path(__file__).parent / "data" / "claims" / "valid.csv"


class FakeLexicon:
    """A duck-typed lexicon, so these tests do not depend on the real lexicon's table."""

    def __init__(self, entries: dict[str, tuple[float, float]], version: str = "fake-1"):
        self.entries = entries
        self.version = version

    def interval(self, phrase: str):
        return self.entries.get(" ".join(phrase.lower().split()))


LEXICON = FakeLexicon({"several hundred": (200.0, 900.0), "dozens": (24.0, 99.0)})

BASE = {
    "claim_id": "a1",
    "population": "pop",
    "category": "killed",
    "source": "src",
    "reported_on": "2024-03-01",
    "qualifier": "exact",
    "value": "100",
    "quote": "100 killed",
    "citation": "https://example.org",
    "period_start": "2024-01-01",
}


def rows_text(rows: list[dict[str, str]]) -> str:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def row(**changes: str) -> dict[str, str]:
    out = dict(BASE)
    out.update(changes)
    return out


def problems(*rows: dict[str, str], **kwargs) -> list[Problem]:
    kwargs.setdefault("lexicon", LEXICON)
    return validate_claims(io.StringIO(rows_text(list(rows))), **kwargs)


def only(found: list[Problem]) -> Problem:
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def assert_problem(found: list[Problem], row_: int | None, column: str | None, value: str | None = None) -> Problem:
    for p in found:
        if p.row == row_ and p.column == column and (value is None or p.value == value):
            return p
    raise AssertionError(
        f"no problem at row {row_}, column {column!r}, value {value!r} in:\n" + "\n".join(map(str, found))
    )


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------
# The valid fixture
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def claims() -> Claims:
    return read_claims(VALID)


def test_valid_fixture_reads(claims):
    frame = claims.frame
    assert len(claims) == 9
    assert list(frame.columns) == [*CANONICAL_COLUMNS, "analyst"]
    assert set(frame["category"]) == set(CATEGORIES)
    assert set(frame["qualifier"]) == set(QUALIFIERS)
    assert frame["row"].tolist() == list(range(2, 11))
    assert frame["claim_id"].tolist() == [f"c0{i}" for i in range(1, 10)]
    for column in ("reported_on", "period_start", "period_end"):
        assert frame[column].dtype == "datetime64[ns]"
    assert claims.path == str(VALID)
    assert claims.sha256 == sha(VALID)
    assert claims.lexicon_version


def test_canonical_values(claims):
    f = claims.frame.set_index("claim_id")
    assert (f.loc["c01", "low"], f.loc["c01", "high"]) == (300.0, 300.0)
    assert f.loc["c02", "low"] == 2700.0 and math.isinf(f.loc["c02", "high"])
    assert (f.loc["c03", "low"], f.loc["c03", "high"]) == (1000.0, 1500.0)
    assert f.loc["c05", "low"] < f.loc["c05", "high"]  # from the lexicon
    assert f.loc["c06", "measure"] == "per_day" and f.loc["c06", "qualifier"] == "more_than"
    assert (f.loc["c08", "low"], f.loc["c08", "high"]) == (0.0, 100000.0)
    assert (f.loc["c09", "low"], f.loc["c09", "high"]) == (0.0, 5000.0)
    assert math.isnan(f.loc["c01", "value_high"])
    assert f.loc["c04", "stance"] == "neutral"  # case-insensitive
    assert f.loc["c08", "stance"] == "unknown"
    assert f.loc["c03", "source_group"] == "South Korea NIS"  # defaults to source
    assert f.loc["c01", "period_end"] == pd.Timestamp("2025-01-15")  # defaults to reported_on
    assert f.loc["c03", "period_end"] == pd.Timestamp("2025-01-31")
    assert f.loc["c02", "cumulative"] and not f.loc["c01", "cumulative"]
    assert f.loc["c02", "period_start"] == pd.Timestamp("2024-12-01")  # population start
    assert not f.loc["c07", "counted"] and f.loc["c07", "derived_from"] == "c01"
    assert f.loc["c01", "derived_from"] == ""
    assert f.loc["c01", "analyst"] == "ab"
    assert len(claims.counted_frame()) == 8


def test_population_starts_default(claims):
    assert dict(claims.populations) == {
        "dprk_kursk": date(2024, 12, 1),  # earliest period_start
        "russia_military": date(2022, 2, 24),  # the only period_start
        "ukraine_military": date(2024, 9, 1),  # no period_start: earliest reported_on
    }
    with pytest.raises(TypeError):
        claims.populations["x"] = date(2020, 1, 1)


def test_configured_starts_are_used():
    c = read_claims(VALID, population_starts={"dprk_kursk": "2024-10-01", "ukraine_military": date(2024, 1, 1)})
    assert c.populations["dprk_kursk"] == date(2024, 10, 1)
    f = c.frame.set_index("claim_id")
    assert f.loc["c02", "period_start"] == pd.Timestamp("2024-10-01")
    assert f.loc["c01", "period_start"] == pd.Timestamp("2024-12-01")  # explicit kept


def test_bom_and_crlf(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.read_bytes().replace(b"\n", b"\r\n"))
    c = read_claims(path)
    assert c == read_claims(VALID)
    assert "claim_id" in c.frame.columns
    assert c.sha256 == sha(path)


def test_file_objects(claims):
    assert read_claims(io.BytesIO(VALID.read_bytes())) == claims
    with open(VALID, encoding="utf-8") as handle:
        assert read_claims(handle) == claims


def test_frame_is_a_copy(claims):
    frame = claims.frame
    frame.loc[0, "value"] = -5.0
    frame["population"] = "x"
    del frame["quote"]
    fresh = claims.frame
    assert fresh.loc[0, "value"] == 300.0
    assert set(fresh["population"]) != {"x"}
    assert "quote" in fresh.columns
    counted = claims.counted_frame()
    counted.loc[0, "value"] = -1.0
    assert claims.frame.loc[0, "value"] == 300.0


def test_claims_is_frozen(claims):
    with pytest.raises(AttributeError):
        claims.path = "other"  # type: ignore[misc]


def test_to_csv_text_round_trips(claims):
    text = claims.to_csv_text()
    again = read_claims(io.StringIO(text))
    assert again == claims
    assert hash(again) == hash(claims)
    assert list(again.frame.columns) == list(claims.frame.columns)


def test_configured_returns_new_claims(claims):
    wider = claims.configured(population_starts={"dprk_kursk": "2024-11-01"})
    assert wider is not claims
    assert wider.populations["dprk_kursk"] == date(2024, 11, 1)
    assert claims.populations["dprk_kursk"] == date(2024, 12, 1)  # unchanged
    assert wider != claims
    other = claims.configured(lexicon=FakeLexicon({"plusieurs centaines": (100.0, 500.0)}, "v9"))
    assert other.lexicon_version == "v9"
    f = other.frame.set_index("claim_id")
    assert (f.loc["c05", "low"], f.loc["c05", "high"]) == (100.0, 500.0)
    assert other.populations == claims.populations


def test_configured_revalidates(claims):
    with pytest.raises(ClaimsError) as info:
        claims.configured(population_starts={"dprk_kursk": "2025-01-01"})
    p = assert_problem(list(info.value.problems), 2, "period_start", "2024-12-01")
    assert "2025-01-01" in p.expected
    with pytest.raises(ClaimsError) as info:
        claims.configured(lexicon=FakeLexicon({}))
    assert_problem(list(info.value.problems), 6, "phrase", "plusieurs centaines")


def test_summary_and_describe(claims):
    s = claims.summary().set_index("population")
    assert s.loc["dprk_kursk", "n_claims"] == 7
    assert s.loc["dprk_kursk", "n_counted"] == 6
    assert s.loc["dprk_kursk", "killed"] == 3
    assert s.loc["dprk_kursk", "deployed"] == 1
    assert s.loc["dprk_kursk", "n_sources"] == 4
    assert s.loc["dprk_kursk", "first_date"] == date(2024, 12, 1)
    assert s.loc["dprk_kursk", "last_date"] == date(2025, 1, 31)
    text = claims.describe()
    assert "dprk_kursk" in text and "3 killed" in text and "2025-01-31" in text
    named = claims.describe({"dprk_kursk": "North Korean troops in Kursk"})
    assert "  dprk_kursk (North Korean troops in Kursk): 7 claims" in named
    assert claims.describe({"dprk_kursk": "dprk_kursk"}) == text  # a label equal to the code adds nothing


def test_repr_html_escapes():
    c = claims_from_frame(pd.DataFrame([row(population="<script>x</script>")]), lexicon=LEXICON)
    out = c._repr_html_()
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_vocabulary_constants():
    assert "claim_id" in REQUIRED_COLUMNS and "measure" in OPTIONAL_COLUMNS
    assert OPTIONAL_COLUMNS["measure"] == "total"
    assert "own" in STANCES and "per_day" in MEASURES


# --------------------------------------------------------------------------------------
# The input is never changed
# --------------------------------------------------------------------------------------


def test_file_unchanged_after_reading(tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes(VALID.read_bytes())
    bad = tmp_path / "bad.csv"
    bad.write_text(rows_text([row(value="1,000"), row(claim_id="a1")]), encoding="utf-8")
    before = (sha(good), sha(bad), good.stat().st_mtime_ns, bad.stat().st_mtime_ns)
    read_claims(good)
    with pytest.raises(ClaimsError):
        read_claims(bad)
    validate_claims(bad)
    assert (sha(good), sha(bad), good.stat().st_mtime_ns, bad.stat().st_mtime_ns) == before


def test_claims_from_frame_does_not_mutate():
    df = pd.DataFrame([row(), row(claim_id="a2", value="7", category="WOUNDED")])
    df["value"] = pd.to_numeric(df["value"])
    df["reported_on"] = pd.to_datetime(df["reported_on"])
    before = df.copy(deep=True)
    c = claims_from_frame(df, lexicon=LEXICON)
    pd.testing.assert_frame_equal(df, before)
    assert c.frame["category"].tolist() == ["killed", "wounded"]
    assert c.frame["row"].tolist() == [2, 3]
    assert c.path is None and len(c.sha256) == 64
    assert read_claims(io.StringIO(c.to_csv_text()), lexicon=LEXICON) == c


def test_claims_from_frame_row_numbers():
    df = pd.DataFrame([row(), row(claim_id="a2", value="-3")], index=[10, 20])
    with pytest.raises(ClaimsError) as info:
        claims_from_frame(df, lexicon=LEXICON)
    only_p = only(list(info.value.problems))
    assert (only_p.row, only_p.column, only_p.value) == (3, "value", "-3")


# --------------------------------------------------------------------------------------
# One test per kind of problem
# --------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(ClaimsFileMissing):
        read_claims(tmp_path / "nope.csv")
    with pytest.raises(FileNotFoundError):
        validate_claims(tmp_path / "nope.csv")
    with pytest.raises(OSError):
        read_claims(tmp_path)  # a directory: unreadable


def test_missing_required_columns():
    r = row()
    del r["quote"], r["citation"]
    found = problems(r)
    assert len(found) == 2
    assert_problem(found, 1, "quote")
    assert_problem(found, 1, "citation")


def test_column_name_case_hint():
    r = row()
    r["Claim_ID"] = r.pop("claim_id")
    p = only(problems(r))
    assert (p.row, p.column) == (1, "claim_id") and "Claim_ID" in p.expected


@pytest.mark.parametrize("column", ["reported_on", "period_start", "period_end"])
@pytest.mark.parametrize("bad", ["2024-13-01", "2024-02-30", "01/02/2024", "2024-1-5", "soon"])
def test_bad_dates(column, bad):
    p = only(problems(row(**{column: bad})))
    assert (p.row, p.column, p.value) == (2, column, bad)
    assert "YYYY-MM-DD" in p.expected


def test_problem_str():
    p = only(problems(row(period_start="13/01/2024")))
    assert str(p) == ("row 2, column 'period_start': found '13/01/2024', expected a date YYYY-MM-DD")
    assert str(Problem(None, None, None, "x")) == "file: expected x"


def test_period_start_after_end():
    p = only(problems(row(period_start="2024-02-10", period_end="2024-02-01")))
    assert (p.row, p.column, p.value) == (2, "period_start", "2024-02-10")


def test_period_end_after_reported_on():
    p = only(problems(row(period_end="2024-03-02")))
    assert (p.row, p.column, p.value) == (2, "period_end", "2024-03-02")


@pytest.mark.parametrize("column", ["value", "value_high"])
@pytest.mark.parametrize("bad", ["-5", "abc", "1,000", "nan", "inf", "1e999", "1_000", "0", "0.0", "1e-300", "1e11"])
def test_bad_numbers(column, bad):
    qualifier = "range" if column == "value_high" else "exact"
    r = row(qualifier=qualifier, value="1", value_high="10")
    r[column] = bad
    p = only(problems(r))
    assert (p.row, p.column, p.value) == (2, column, bad)
    if bad == "1,000":
        assert "1000" in p.expected and "separator" in p.expected
    if bad in ("-5", "0", "0.0", "1e-300", "1e11"):  # numbers the model cannot take: the range and why
        assert "from 0.000001 to 10,000,000,000" in p.expected and "log scale" in p.expected


@pytest.mark.parametrize(
    "text,number",
    [
        ("1000", 1000.0),
        ("1000.0", 1000.0),
        ("1e3", 1000.0),
        (" 12 ", 12.0),
        ("0.000001", 1e-6),
        ("1e10", 1e10),
        ("0.5", 0.5),
    ],
)
def test_good_numbers(text, number):
    c = claims_from_frame(pd.DataFrame([row(value=text)]), lexicon=LEXICON)
    assert c.frame.loc[0, "value"] == number


@pytest.mark.parametrize("qualifier", sorted(set(QUALIFIERS) - {"vague"}))
def test_blank_value_where_needed(qualifier):
    p = only(
        problems(
            row(qualifier=qualifier, value="", value_high="9")
            if qualifier == "range"
            else row(qualifier=qualifier, value="")
        )
    )
    assert (p.row, p.column, p.value) == (2, "value", "")
    assert qualifier in p.expected


@pytest.mark.parametrize(
    "column,allowed", [("category", CATEGORIES), ("qualifier", QUALIFIERS), ("stance", STANCES), ("measure", MEASURES)]
)
def test_unknown_choice(column, allowed):
    p = only(problems(row(**{column: "bogus"})))
    assert (p.row, p.column, p.value) == (2, column, "bogus")
    assert all(a in p.expected for a in allowed)


def test_choices_are_case_insensitive():
    c = claims_from_frame(
        pd.DataFrame([row(category=" Killed ", qualifier="EXACT", stance="Own", measure="Per_Day")]), lexicon=LEXICON
    )
    f = c.frame
    assert (f.loc[0, "category"], f.loc[0, "qualifier"], f.loc[0, "stance"], f.loc[0, "measure"]) == (
        "killed",
        "exact",
        "own",
        "per_day",
    )


def test_range_without_value_high():
    p = only(problems(row(qualifier="range")))
    assert (p.row, p.column, p.value) == (2, "value_high", "")


def test_range_high_below_low():
    p = only(problems(row(qualifier="range", value="100", value_high="50")))
    assert (p.row, p.column, p.value) == (2, "value_high", "50")


def test_value_high_with_other_qualifier():
    p = only(problems(row(qualifier="about", value_high="200")))
    assert (p.row, p.column, p.value) == (2, "value_high", "200")


def test_vague_without_phrase():
    p = only(problems(row(qualifier="vague", value="")))
    assert (p.row, p.column, p.value) == (2, "phrase", "")
    # both ends given: no phrase needed
    assert problems(row(qualifier="vague", value="10", value_high="20")) == []


def test_vague_unknown_phrase():
    p = only(problems(row(qualifier="vague", value="", phrase="a gazillion")))
    assert (p.row, p.column, p.value) == (2, "phrase", "a gazillion")


def test_vague_overrides():
    c = claims_from_frame(
        pd.DataFrame(
            [
                row(qualifier="vague", value="", phrase="Several  Hundred"),
                row(claim_id="a2", qualifier="vague", value="300", phrase="several hundred"),
                row(claim_id="a3", qualifier="vague", value="", value_high="500", phrase="several hundred"),
            ]
        ),
        lexicon=LEXICON,
    )
    f = c.frame
    assert list(zip(f["low"], f["high"])) == [(200.0, 900.0), (300.0, 900.0), (200.0, 500.0)]
    p = only(problems(row(qualifier="vague", value="1000", phrase="several hundred")))
    assert (p.row, p.column, p.value) == (2, "value", "1000")


def test_blank_claim_id():
    p = only(problems(row(claim_id="")))
    assert (p.row, p.column, p.value) == (2, "claim_id", "")


def test_duplicate_claim_id_names_earlier_row():
    p = only(problems(row(), row(claim_id="b"), row()))
    assert (p.row, p.column, p.value) == (4, "claim_id", "a1")
    assert "row 2" in p.expected


@pytest.mark.parametrize("column", ["population", "source", "quote", "citation"])
def test_blank_required_text(column):
    p = only(problems(row(**{column: "  "})))
    assert (p.row, p.column, p.value) == (2, column, "")


def test_derived_from_unknown_or_self():
    found = problems(row(), row(claim_id="b", derived_from="zzz"), row(claim_id="c", derived_from="c"))
    assert len(found) == 2
    assert_problem(found, 3, "derived_from", "zzz")
    assert_problem(found, 4, "derived_from", "c")


def test_derived_from_cycle():
    found = problems(row(derived_from="b"), row(claim_id="b", derived_from="a1"))
    assert_problem(found, 2, "derived_from", "b")
    assert_problem(found, 3, "derived_from", "a1")


def test_period_start_before_configured_start():
    p = only(problems(row(), population_starts={"pop": "2024-02-01"}))
    assert (p.row, p.column, p.value) == (2, "period_start", "2024-01-01")
    assert "2024-02-01" in p.expected and "pop" in p.expected


def test_cumulative_claim_ending_before_start():
    p = only(problems(row(period_start=""), population_starts={"pop": "2024-06-01"}))
    assert (p.row, p.column) == (2, "period_start")


def test_bad_population_start():
    p = only(problems(row(), population_starts={"pop": "June"}))
    assert p.row is None and p.value == "June"


def test_reserved_extra_column():
    p = only(problems(row(low="1")))
    assert (p.row, p.column, p.value) == (1, "low", "low")


def test_empty_file():
    for data in (b"", b"\xef\xbb\xbf", b"\n\n"):
        p = only(validate_claims(io.BytesIO(data)))
        assert p.row is None and "empty" in p.expected


def test_header_only():
    p = only(validate_claims(io.StringIO(",".join(BASE) + "\n")))
    assert p.row is None and "no claims" in p.expected


def test_binary_file():
    p = only(validate_claims(io.BytesIO(b"claim_id,x\n\x00\x01\x02")))
    assert (p.row, p.column) == (2, "claim_id") and "offset 11" in p.value and "binary" in p.expected


def test_not_utf8_reports_offset_row_and_column():
    data = rows_text([row(), row(claim_id="a2", quote="Blessés")]).encode("latin-1")
    p = only(validate_claims(io.BytesIO(data)))
    assert (p.row, p.column) == (3, "quote") and "UTF-8" in p.expected
    offset = data.index("é".encode("latin-1"))
    assert f"offset {offset}" in p.value


def test_not_a_claims_file():
    p = only(validate_claims(io.StringIO("hello world\nthis is prose\n")))
    assert p.row == 1 and "claim_id" in p.expected


def test_row_with_too_many_fields():
    text = rows_text([row()]) + "a2,pop,killed,src,2024-03-01,exact,5,q,c,2024-01-01,EXTRA\n"
    p = only(validate_claims(io.StringIO(text), lexicon=LEXICON))
    assert (p.row, p.column, p.value) == (3, "period_start", "EXTRA")
    assert "11" in p.expected and "10 cells" in p.expected


def test_short_row_is_refused_naming_the_missing_columns():
    """A row with fewer cells than the header is not padded: its cells may have shifted."""
    text = rows_text([row()]) + "a2,pop,killed,src,2024-03-01,exact,5,q\n"
    p = only(validate_claims(io.StringIO(text), lexicon=LEXICON))
    assert (p.row, p.column) == (3, "citation")
    assert "'citation', 'period_start' missing" in p.expected and "this row has 8" in p.expected


def test_blank_lines_are_tolerated():
    text = rows_text([row(), row(claim_id="a2")]).replace("\n", "\n\n", 1)
    c = read_claims(io.StringIO(text), lexicon=LEXICON)
    assert c.frame["row"].tolist() == [3, 4]  # numbered as in the file


SHIPPED = Path(__file__).parents[1] / "data" / "claims.csv"


def test_shipped_file_with_a_closing_quote_deleted_is_refused_at_that_row():
    """The quote of row 7 loses its closing quote: it would swallow the next cells (issue 18)."""
    lines = SHIPPED.read_text(encoding="utf-8").split("\n")
    at = lines[6].index('.",')
    lines[6] = lines[6][: at + 1] + lines[6][at + 2 :]
    p = only(validate_claims(io.StringIO("\n".join(lines))))
    assert (p.row, p.column) == (7, "quote")
    assert "closing quote" in p.expected and "NIS briefing" in p.value


def test_unterminated_quote_is_refused_at_the_row_where_it_opens():
    text = rows_text([row(), row(claim_id="a2")]) + 'a3,pop,killed,src,2024-03-01,exact,5,"never closed,c,2024-01-01\n'
    p = only(validate_claims(io.StringIO(text), lexicon=LEXICON))
    assert (p.row, p.column, p.value) == (4, "quote", '"never closed,c,2024-01-01')
    assert "closing double quote" in p.expected


def test_text_after_a_closing_quote_is_refused():
    text = rows_text([row()]) + 'a2,pop,killed,src,2024-03-01,exact,5,"q" and more,c,2024-01-01\n'
    p = only(validate_claims(io.StringIO(text), lexicon=LEXICON))
    assert (p.row, p.column) == (3, "quote") and "right after the double quote" in p.expected


def test_quoted_cells_with_commas_quotes_and_line_breaks_are_fine():
    c = read_claims(io.StringIO(rows_text([row(quote='He said "100, at least",\nthen left.')])), lexicon=LEXICON)
    assert c.frame.loc[0, "quote"] == 'He said "100, at least",\nthen left.'


@pytest.mark.parametrize("category", ["deployed", "killed"])
@pytest.mark.parametrize("qualifier,value", [("exact", "0"), ("at_most", "1e-300"), ("at_least", "1e300")])
def test_figures_the_model_cannot_fit_are_refused_before_any_fit(category, qualifier, value):
    """A strength or loss of 0 (log 0) made `reconcile fit` fail after minutes (issue 18)."""
    p = only(problems(row(category=category, qualifier=qualifier, value=value)))
    assert (p.row, p.column, p.value) == (2, "value", value)


@pytest.mark.parametrize(
    "guarded,read",
    [
        ("'=SUM(A1:A2)", "=SUM(A1:A2)"),
        ("'-Au moins 30", "-Au moins 30"),
        ("'+1", "+1"),
        ("'@x", "@x"),
        ("'plain", "'plain"),
        ("''=x", "''=x"),
    ],
)
def test_a_spreadsheet_guard_apostrophe_is_removed(guarded, read):
    """CSV outputs guard cells that a spreadsheet would run as formulas with an apostrophe
    (OWASP); such a cell reads back as written before the guard."""
    c = read_claims(io.StringIO(rows_text([row(quote=guarded, source=guarded)])), lexicon=LEXICON)
    assert c.frame.loc[0, "quote"] == read and c.frame.loc[0, "source"] == read
    assert read_claims(io.StringIO(c.to_csv_text()), lexicon=LEXICON) == c


def test_many_problems_reported_at_once():
    with pytest.raises(ClaimsError) as info:
        read_claims(
            io.StringIO(
                rows_text(
                    [
                        row(category="dead"),
                        row(claim_id="a2", reported_on="2024-02-30", value="1,000"),
                        row(claim_id="a1", stance="friend"),
                    ]
                )
            ),
            lexicon=LEXICON,
        )
    err = info.value
    got = {(p.row, p.column) for p in err.problems}
    assert got == {(2, "category"), (3, "reported_on"), (3, "value"), (4, "claim_id"), (4, "stance")}
    lines = str(err).splitlines()
    assert lines[0] == "<claims>: 5 problems"
    assert len(lines) == 6
    assert isinstance(err, ValueError)


def test_error_names_path(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(rows_text([row(value="-1")]), encoding="utf-8")
    with pytest.raises(ClaimsError) as info:
        read_claims(path, lexicon=LEXICON)
    assert str(info.value).splitlines()[0] == f"{path}: 1 problem"
    assert info.value.path == str(path)


# --------------------------------------------------------------------------------------
# Never any other exception
# --------------------------------------------------------------------------------------

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read_or_error(data: bytes | str) -> None:
    stream = io.BytesIO(data) if isinstance(data, bytes) else io.StringIO(data)
    try:
        result = read_claims(stream, lexicon=LEXICON)
    except ClaimsError as exc:
        assert exc.problems and all(isinstance(p, Problem) for p in exc.problems)
        for p in exc.problems:  # each names its row, or is about the file as a whole
            assert p.row is not None or "empty" in p.expected or "no claims" in p.expected, p
            assert str(p).startswith(f"row {p.row}" if p.row is not None else "file")
        str(exc)
    else:  # accepted: it reads back from its own rendering to the same claims
        assert isinstance(result, Claims)
        assert read_claims(io.StringIO(result.to_csv_text()), lexicon=LEXICON) == result
        result.describe()


def _names_row_and_column(exc: ClaimsError, header) -> None:
    """Every problem of a file with a valid header names a data row and one of its columns
    (problems of the configured population starts concern no row)."""
    for p in exc.problems:
        if p.row is None and "population_starts" in p.expected:
            continue
        if p.row is None and "no claims" in p.expected:  # (rows of empty cells only: a fact of the file)
            assert len(exc.problems) == 1 or all(q.row is None for q in exc.problems), exc
            continue
        assert p.row is not None and p.row >= 2 and p.column in header, p


@FAST
@given(st.binary(max_size=200))
def test_garbage_bytes_are_accepted_or_refused_with_named_problems(data):
    _read_or_error(data)


@FAST
@given(st.binary(max_size=80))
def test_garbage_after_header_is_accepted_or_refused_with_named_problems(tail):
    _read_or_error((",".join(BASE) + "\n").encode() + tail)


_CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "1e3",
            "1,000",
            "nan",
            "inf",
            "1e999",
            "2024-02-30",
            "2024-01-01",
            "2024-03-01",
            "9999-12-31",
            "0001-01-01",
            "a1",
            "b",
            "range",
            "vague",
            "EXACT",
            "killed",
            "per_day",
            "own",
            "several hundred",
            '"',
            "\r",
            "x\ny",
        ]
    ),
    st.text(max_size=8),
)
_COLUMNS = [*BASE, "value_high", "phrase", "derived_from", "stance", "measure", "period_end"]


@FAST
@given(
    st.lists(st.fixed_dictionaries({c: _CELLS for c in _COLUMNS}), min_size=1, max_size=4),
    st.one_of(st.none(), st.fixed_dictionaries({"pop": _CELLS})),
)
def test_random_cells_are_accepted_and_round_trip_or_refused_naming_row_and_column(rows, starts):
    text = rows_text(rows)
    try:
        result = read_claims(io.StringIO(text), population_starts=starts, lexicon=LEXICON)
    except ClaimsError as exc:
        _names_row_and_column(exc, _COLUMNS)
        return
    assert isinstance(result, Claims)
    assert read_claims(io.StringIO(result.to_csv_text()), population_starts=starts, lexicon=LEXICON) == result


@FAST
@given(st.sampled_from(_COLUMNS), _CELLS)
def test_one_random_cell_is_accepted_or_refused_naming_row_and_column(column, cell):
    rows = [row(), row(claim_id="a2", derived_from="a1", period_start="")]
    rows[0][column] = cell
    try:
        result = read_claims(io.StringIO(rows_text(rows)), lexicon=LEXICON)
    except ClaimsError as exc:
        _names_row_and_column(exc, _COLUMNS)
        return
    assert len(result) == 2
    frame = result.frame
    assert (frame["low"] <= frame["high"]).all()
    assert (frame["period_start"] <= frame["period_end"]).all()
    assert (frame["period_end"] <= frame["reported_on"]).all()


def test_population_start_out_of_range_date_object():
    p = only(problems(row(), population_starts={"pop": date(1, 1, 1)}))
    assert p.row is None and p.value == "0001-01-01"


# --------------------------------------------------------------------------------------
# Valid files of random content: accepted, and the same claims after every round trip
# --------------------------------------------------------------------------------------

_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=20
).filter(lambda t: t.strip() and not (t.strip()[0] == "'" and t.strip()[1:2] in ("=", "+", "-", "@", "\t", "\r")))
_FIGURES = st.sampled_from(["0.000001", "0.5", "1", "30", "1e3", "6000", "10000000000"])


@st.composite
def valid_rows(draw):
    rows = []
    for k in range(draw(st.integers(1, 4))):
        qualifier = draw(st.sampled_from(["exact", "about", "at_least", "more_than", "at_most", "fewer_than", "range"]))
        low, high = sorted(float(v) for v in (draw(_FIGURES), draw(_FIGURES)))
        rows.append(
            row(
                claim_id=f"c{k}",
                category=draw(st.sampled_from(CATEGORIES)),
                qualifier=qualifier,
                value=repr(low),
                value_high=repr(high) if qualifier == "range" else "",
                source=draw(_TEXT),
                quote=draw(_TEXT),  # commas, quotes, line breaks, '=' or '-' first: all text
                citation=draw(_TEXT),
                notes=draw(st.one_of(st.just(""), _TEXT)),
            )
        )
    return rows


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_rows())
def test_valid_files_round_trip_through_every_writer(rows):
    """A valid file is accepted; its rendering, and its spreadsheet-safe CSV (OWASP-guarded, as
    reconcile writes CSV outputs), read back to the same claims."""
    from reconcile._io import csv_text

    buffer = io.StringIO()  # as a spreadsheet or pandas writes it: "\r\n" ends, cells with "\r" quoted
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    claims = read_claims(io.StringIO(buffer.getvalue()), lexicon=LEXICON)
    assert len(claims) == len(rows)
    assert list(claims.frame["quote"]) == [r["quote"].strip() for r in rows]
    assert read_claims(io.StringIO(claims.to_csv_text()), lexicon=LEXICON) == claims
    guarded = csv_text(pd.DataFrame([{k: v.strip() for k, v in r.items()} for r in rows], dtype=object))
    assert read_claims(io.StringIO(guarded), lexicon=LEXICON) == claims


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_rows(), st.data())
def test_damaged_structure_is_refused_naming_row_and_column(rows, data):
    """One character of structure (a quote, a comma, a line break) deleted or added anywhere
    after the header: the file is accepted (the damage changed only text) or refused with every
    problem naming a row and a column, never with cells silently shifted."""
    text = rows_text(rows)
    start = text.index("\n") + 1
    at = data.draw(st.integers(start, len(text) - 1))
    if data.draw(st.booleans()):
        damaged = text[:at] + text[at + 1 :]
    else:
        damaged = text[:at] + data.draw(st.sampled_from(['"', ",", "\n"])) + text[at:]
    header = list(dict.fromkeys(k for r in rows for k in r))
    try:
        result = read_claims(io.StringIO(damaged), lexicon=LEXICON)
    except ClaimsError as exc:
        _names_row_and_column(exc, header)
        return
    # accepted: every row kept all its cells, in their columns
    assert list(result.frame.columns[: len(CANONICAL_COLUMNS)]) == list(CANONICAL_COLUMNS)
    assert set(result.frame["category"]) <= set(CATEGORIES)
    assert read_claims(io.StringIO(result.to_csv_text()), lexicon=LEXICON) == result
