"""`reconcile extract` from the command line: the review loop (--merge), tables, encodings,
skipped figures and errors."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from reconcile.claims import validate_claims
from reconcile.cli import main

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = sorted((ROOT / "tests" / "data" / "articles").glob("*.txt"))
GOLD = ROOT / "tests" / "data" / "extract_gold"
CLAIMS = ROOT / "data" / "claims.csv"


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def test_merge_keeps_the_claims_adds_only_new_rows_and_names_the_blanks(tmp_path, capsys):
    claims = tmp_path / "claims.csv"
    shutil.copy(CLAIMS, claims)
    new = tmp_path / "new.csv"
    articles = [*ARTICLES, GOLD / "g01_koursk_etat_major.txt", GOLD / "g04_ukmod_kursk.html"]
    code, out, err = run(["extract", *articles, "--merge", claims, "--out", new], capsys)
    assert code == 0, err
    assert out == ""
    before, after = _rows(claims), _rows(new)
    assert after[: len(before)] == before  # the claims, unchanged and first
    assert claims.read_bytes() == CLAIMS.read_bytes()  # the claims file itself untouched
    added = pd.read_csv(new, dtype=str, keep_default_na=False).iloc[len(before) - 1 :]
    # the seed articles' figures are all in data/claims.csv already: the new rows come from
    # the two other articles, except the seed figures no claim states yet
    assert "https://www.quotidien-est.example/monde/koursk-pertes-nord-coreennes" in set(added["citation"])
    assert added["claim_id"].is_unique and not set(added["claim_id"]) & {r[0] for r in before[1:]}
    # UK MoD's "more than 6,000" of the HTML article, same source and day as
    # ukmod-2025-06-15-casualties, is that claim: left out, and said so
    assert "6000" not in set(added["value"])
    assert "= ukmod-2025-06-15-casualties (same figure, source and date)" in err
    # every problem the validator finds is a blank of a new row, and each is named
    problems = validate_claims(new)
    first_new = len(before) + 1
    assert all(p.row >= first_new and p.value == "" for p in problems), [str(p) for p in problems]
    for p in problems:
        assert f"row {p.row}, column {p.column!r}" in err
    # once the person fills them, the file validates
    frame = pd.read_csv(new, dtype=str, keep_default_na=False)
    for p in problems:
        frame.loc[p.row - 2, p.column] = {"reported_on": "2025-06-17", "population": "dprk_kursk"}.get(
            p.column, "filled by hand"
        )
    frame.to_csv(new, index=False)
    assert validate_claims(new) == []
    code, _, err = run(["validate", new], capsys)
    assert code == 0, err


def test_merge_marks_a_relay_of_an_existing_claim(tmp_path, capsys):
    article = tmp_path / "relay.txt"
    article.write_text(
        "Date: 2024-12-23\n\nAu moins 100 soldats nord-coréens ont été tués en décembre, "
        "selon le renseignement sud-coréen, cité lundi par l'agence Yonhap.\n",
        encoding="utf-8",
    )
    new = tmp_path / "new.csv"
    code, _, err = run(["extract", article, "--merge", CLAIMS, "--out", new], capsys)
    assert code == 0, err
    added = pd.read_csv(new, dtype=str, keep_default_na=False).iloc[-1]
    assert added["derived_from"] == "nis-2024-12-19-killed"
    assert "likely relay of nis-2024-12-19-killed" in added["notes"]
    assert validate_claims(new) == []  # nothing left blank in that row


def test_rerun_on_its_own_output_adds_nothing(tmp_path, capsys):
    first = tmp_path / "first.csv"
    run(["extract", GOLD / "g02_nis_seoul_wire.txt", "--merge", CLAIMS, "--out", first], capsys)
    second = tmp_path / "second.csv"
    code, _, err = run(["extract", GOLD / "g02_nis_seoul_wire.txt", "--merge", first, "--out", second], capsys)
    assert code == 0
    assert second.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")
    assert "0 new candidates" in err


def test_non_utf8_article_is_a_clear_error(tmp_path, capsys):
    article = tmp_path / "latin1.txt"
    article.write_bytes("Selon l'état-major ukrainien, 300 soldats russes ont été tués.".encode("latin-1"))
    out_file = tmp_path / "c.csv"
    code, out, err = run(["extract", article, "--out", out_file], capsys)
    assert code == 65
    assert "latin1.txt: not UTF-8 text (byte 0xe9" in err and "--encoding" in err
    assert not out_file.exists()
    code, out, err = run(["extract", article, "--encoding", "latin-1"], capsys)
    assert code == 0
    row = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False).iloc[0]
    assert (row["value"], row["source"], row["population"]) == ("300", "Ukrainian General Staff", "russia_military")
    code, _, err = run(["extract", article, "--encoding", "no-such-codec"], capsys)
    assert code == 65 and "unknown encoding 'no-such-codec'" in err


def test_bad_table_and_bad_merge_file_are_named(tmp_path, capsys):
    bad = tmp_path / "sources.toml"
    bad.write_text('[[source]]\nname = "X"\ncamp = "moon"\n', encoding="utf-8")
    code, _, err = run(["extract", ARTICLES[0], "--sources", bad], capsys)
    assert code == 65 and f"{bad}: source 'X': `camp` 'moon'" in err
    code, _, err = run(["extract", ARTICLES[0], "--merge", tmp_path / "gone.csv"], capsys)
    assert code == 66 and "gone.csv" in err
    broken = tmp_path / "broken.csv"
    broken.write_text("claim_id,value\na,1\nb,2,3\n", encoding="utf-8")
    code, _, err = run(["extract", ARTICLES[0], "--merge", broken], capsys)
    assert code == 65 and "broken.csv: row 3: 3 cells where the header has 2" in err


def test_skipped_figures_listed_and_written(tmp_path, capsys):
    skipped = tmp_path / "skipped.csv"
    code, out, err = run(["extract", GOLD / "g24_jcs_third.txt", "--skipped", skipped], capsys)
    assert code == 0
    assert "skipped (https://strategynotes.example/dprk-kursk-left): 'roughly a third of the force'" in err
    table = pd.read_csv(skipped, dtype=str, keep_default_na=False)
    assert list(table.columns) == ["citation", "phrase", "kind", "reason", "quote"]
    assert set(table["kind"]) == {"relative"} and len(table) == 2


def test_html_article_cites_its_url_and_blanks_are_summarised(capsys):
    code, out, err = run(["extract", GOLD / "g04_ukmod_kursk.html", GOLD / "g16_brigade_no_date.txt"], capsys)
    assert code == 0
    frame = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False)
    assert "https://northernledger.example/world/2025/06/15/uk-north-korea-kursk" in set(frame["citation"])
    assert "left blank for you to fill" in err and "reported_on in 4 rows" in err


@pytest.mark.parametrize("option", ["--merge", "--sources", "--populations", "--encoding", "--skipped"])
def test_help_names_the_options(capsys, option):
    with pytest.raises(SystemExit) as info:
        main(["extract", "--help"])
    assert info.value.code == 0
    assert option in capsys.readouterr().out
