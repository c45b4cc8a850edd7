"""Tests of the ``reconcile`` command (reconcile.cli): exit codes, messages, files. No sampling.

Most calls run ``reconcile.cli.main([...])`` in-process (fast); a few run the installed console
script in a subprocess, to check the entry point and real exit statuses.
"""

from __future__ import annotations

import copy
import csv
import importlib
import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ARTICLES, CLAIMS_CSV, KURSK_TOML, ROOT, sha256_file

from reconcile.cli import main

CONSOLE_SCRIPT = Path(sys.executable).parent / "reconcile"
CONTRACT_SUBCOMMANDS = ["validate", "extract", "fit", "simulate"]


def _subcommands() -> list[str]:
    """Every subcommand the parser knows (so one added later is covered too)."""
    import argparse

    from reconcile.cli import build_parser

    actions = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(actions[0].choices)


SUBCOMMANDS = _subcommands()


def run(argv, capsys):
    """``main(argv)`` in-process: (exit code, stdout, stderr); SystemExit (argparse) is caught."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def run_script(*argv, cwd=ROOT):
    return subprocess.run([str(CONSOLE_SCRIPT), *map(str, argv)], cwd=cwd, capture_output=True, text=True, timeout=120)


def shipped_rows() -> tuple[list[str], list[dict[str, str]]]:
    with open(CLAIMS_CSV, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames), list(reader)


def write_rows(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def problem_lines(stderr: str) -> list[str]:
    return [line.strip() for line in stderr.splitlines() if line.startswith("  ")]


@pytest.fixture(autouse=True)
def _inputs_never_modified():
    """No command may change the shipped inputs."""
    watched = [CLAIMS_CSV, KURSK_TOML, *sorted(ARTICLES.glob("*.txt"))]
    before = {p: sha256_file(p) for p in watched}
    yield
    assert {p: sha256_file(p) for p in watched} == before


# --------------------------------------------------------------------------------------
# validate
# --------------------------------------------------------------------------------------


def test_validate_shipped_file_prints_summary_per_population(capsys):
    header, rows = shipped_rows()
    code, out, err = run(["validate", CLAIMS_CSV], capsys)
    assert code == 0, err
    assert f"valid, {len(rows)} claims" in out
    populations = sorted({r["population"] for r in rows})
    assert f"{len(populations)} population(s)" in out
    for population in populations:
        mine = [r for r in rows if r["population"] == population]
        line = next(ln for ln in out.splitlines() if ln.strip().startswith(f"{population}:"))
        assert f"{population}: {len(mine)} claim{'s' if len(mine) != 1 else ''} (" in line
        counted = sum(1 for r in mine if not r["derived_from"])
        assert f"{counted} counted" in line
        for category in ("killed", "wounded", "casualties", "deployed"):
            n = sum(1 for r in mine if r["category"] == category)
            assert (f"{n} {category}" in line) == (n > 0), line
        n_sources = len({r["source"] for r in mine})
        assert f"{n_sources} source{'s' if n_sources != 1 else ''}," in line
    assert "dprk_kursk: 19 claims" in out  # the headline population of the shipped file
    assert "russia_military: 1 claim (" in out and "1 source," in out  # singular where one


def test_validate_with_config_prints_the_starts_the_fit_uses(capsys):
    """Without --config a population starts at its first claim; models/kursk.toml moves
    russia_military's start to 2022-02-24, and validate says so, as prepare() reads it."""
    _, plain, _ = run(["validate", CLAIMS_CSV], capsys)
    code, out, err = run(["validate", CLAIMS_CSV, "--config", KURSK_TOML], capsys)
    assert code == 0, err
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("russia_military (Russian armed forces):"))
    assert line.endswith("(start 2022-02-24)")  # and the configuration's label names it
    plain_line = next(ln for ln in plain.splitlines() if ln.strip().startswith("russia_military:"))
    assert not plain_line.endswith("(start 2022-02-24)")
    assert f"a fit with {KURSK_TOML} uses" in out
    assert "default configuration" in plain


def test_validate_names_configuration_entries_that_match_nothing(tmp_path, capsys):
    """A misspelt population in [populations.X] would drop its start without a word; validate
    names it (with the likely intended name) and the configuration and claims stay as they were."""
    config = tmp_path / "model.toml"
    config.write_text(
        '[populations.dprk_kurks]\nstart = "2024-11-01"\n\n[source_labels]\n"Nobody at all" = "X"\n', encoding="utf-8"
    )
    digest = sha256_file(config)
    code, out, err = run(["validate", CLAIMS_CSV, "--config", str(config)], capsys)
    assert code == 0, err
    assert f"Warning: {config}: [populations.dprk_kurks] names no population of the claims" in err
    assert "did you mean 'dprk_kursk'?" in err
    assert "[source_labels] 'Nobody at all' names no source of the claims" in err
    assert "valid, 24 claims" in out
    assert sha256_file(config) == digest
    _, _, quiet = run(["validate", CLAIMS_CSV, "--config", KURSK_TOML], capsys)
    assert "Warning" not in quiet  # every entry of the shipped configuration names something


def test_validate_missing_config_exits_66(tmp_path, capsys):
    code, _, err = run(["validate", CLAIMS_CSV, "--config", str(tmp_path / "nope.toml")], capsys)
    assert code == 66
    assert "nope.toml: no such configuration file" in err


def test_validate_console_script(tmp_path):
    """The installed entry point: real process, real exit statuses."""
    ok = run_script("validate", CLAIMS_CSV)
    assert ok.returncode == 0, ok.stderr
    assert "dprk_kursk" in ok.stdout and "valid" in ok.stdout
    bad = tmp_path / "bad.csv"
    header, rows = shipped_rows()
    rows[0]["reported_on"] = "16/12/2024"
    write_rows(bad, header, rows)
    refused = run_script("validate", bad)
    assert refused.returncode == 65
    assert "row 2, column 'reported_on'" in refused.stderr and "16/12/2024" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_validate_does_not_import_pymc():
    code = (
        "import sys\n"
        "from reconcile.cli import main\n"
        f"assert main(['validate', {str(CLAIMS_CSV)!r}]) == 0\n"
        "sys.exit(3 if 'pymc' in sys.modules else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, "PyMC was imported to validate a claims file"


def _set(row_index, column, value):
    def mutate(header, rows):
        rows[row_index][column] = value
        return header, rows

    return mutate


def _drop_column(column):
    def mutate(header, rows):
        return [c for c in header if c != column], rows

    return mutate


def _duplicate_last(header, rows):
    # a copy of the first claim appended at the end: same claim_id
    return header, rows + [copy.deepcopy(rows[0])]


def _dangling(header, rows):
    index = next(i for i, r in enumerate(rows) if not r["derived_from"])
    rows[index]["derived_from"] = "no-such-claim"
    return header, rows


def _range_without_high(header, rows):
    index = next(i for i, r in enumerate(rows) if r["qualifier"] == "at_least")
    rows[index]["qualifier"] = "range"
    rows[index]["value_high"] = ""
    return header, rows


def _index_of(qualifier):
    _, rows = shipped_rows()
    return next(i for i, r in enumerate(rows) if r["qualifier"] == qualifier)


N_ROWS = len(shipped_rows()[1])

# (name, mutation, expected problem lines: (row, column, fragment of the line))
BROKEN = [
    ("missing column", _drop_column("citation"), [(1, "citation", "column named 'citation'")]),
    ("missing required column value", _drop_column("value"), [(1, "value", "column named 'value'")]),
    ("bad date", _set(3, "reported_on", "2024-12-32"), [(5, "reported_on", "'2024-12-32'")]),
    ("not a date", _set(0, "period_start", "mid-December"), [(2, "period_start", "'mid-December'")]),
    (
        "negative value",
        _set(_index_of("at_least"), "value", "-30"),
        [(_index_of("at_least") + 2, "value", "a figure from 0.000001")],
    ),
    (
        "thousands separator",
        _set(_index_of("at_least"), "value", "6,000"),
        [(_index_of("at_least") + 2, "value", "'6,000'")],
    ),
    ("unknown qualifier", _set(1, "qualifier", "roughly"), [(3, "qualifier", "'roughly'")]),
    ("unknown category", _set(1, "category", "captured"), [(3, "category", "'captured'")]),
    ("unknown stance", _set(1, "stance", "hostile"), [(3, "stance", "'hostile'")]),
    (
        "range without value_high",
        _range_without_high,
        [(_index_of("at_least") + 2, "value_high", "'range'")],
    ),
    (
        "unknown vague phrase",
        _set(_index_of("vague"), "phrase", "une flopée"),
        [(_index_of("vague") + 2, "phrase", "'une flopée'")],
    ),
    ("duplicate id", _duplicate_last, [(N_ROWS + 2, "claim_id", "already used on row 2")]),
    ("dangling derived_from", _dangling, [(None, "derived_from", "'no-such-claim'")]),
    ("blank quote", _set(4, "quote", ""), [(6, "quote", "non-blank")]),
]


@pytest.mark.parametrize(("mutate", "expected"), [(m, e) for _, m, e in BROKEN], ids=[n for n, _, _ in BROKEN])
def test_validate_refuses_broken_file_one_line_per_problem(tmp_path, capsys, mutate, expected):
    header, rows = mutate(*shipped_rows())
    path = write_rows(tmp_path / "broken.csv", header, rows)
    digest = sha256_file(path)
    code, out, err = run(["validate", path], capsys)
    assert code == 65
    assert out == ""
    lines = problem_lines(err)
    assert len(lines) == len(expected), err
    for line, (row, column, fragment) in zip(lines, expected):
        assert line.startswith("row "), line
        if row is not None:
            assert line.startswith(f"row {row}, "), line
        assert f"column '{column}'" in line, line
        assert fragment in line, line
    assert f"{len(expected)} problem" in err
    assert sha256_file(path) == digest  # the input is never changed


def test_validate_reports_every_problem_of_a_file(tmp_path, capsys):
    header, rows = shipped_rows()
    rows[0]["qualifier"] = "roughly"
    rows[2]["reported_on"] = "2024-13-45"
    rows[6]["category"] = "captured"
    path = write_rows(tmp_path / "broken.csv", header, rows)
    code, _, err = run(["validate", path], capsys)
    assert code == 65
    lines = problem_lines(err)
    assert [line.split(",")[0] for line in lines] == ["row 2", "row 4", "row 8"]
    assert "3 problems" in err


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        ("claim_id,population\nc1,prix élevé\n".encode("latin-1"), "UTF-8"),
        (bytes(range(256)) * 8, "UTF-8"),  # binary, not UTF-8
        (b"\x00" * 64 + b"claim_id\n", "binary"),  # binary but valid UTF-8 (NUL bytes)
        (b"just some text\nnot a table\n", "does not look like a claims file"),
    ],
    ids=["empty", "blank lines", "latin-1", "binary", "nul bytes", "not claims"],
)
def test_validate_refuses_unreadable_content(tmp_path, capsys, content, fragment):
    path = tmp_path / "claims.csv"
    path.write_bytes(content)
    code, out, err = run(["validate", path], capsys)
    assert code == 65
    assert fragment in err
    assert "Traceback" not in err
    assert len(problem_lines(err)) == 1
    assert path.read_bytes() == content


def test_validate_missing_file_exits_66(tmp_path, capsys):
    code, out, err = run(["validate", tmp_path / "nope.csv"], capsys)
    assert code == 66
    assert "nope.csv" in err


def test_validate_directory_exits_66(tmp_path, capsys):
    code, _, err = run(["validate", tmp_path], capsys)
    assert code == 66
    assert str(tmp_path) in err


def test_validate_accepts_bom_and_any_column_order(tmp_path, capsys):
    header, rows = shipped_rows()
    path = tmp_path / "reordered.csv"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, list(reversed(header)) + ["reviewer"])
    writer.writeheader()
    writer.writerows([{**r, "reviewer": "x"} for r in rows])
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    code, out, err = run(["validate", path], capsys)
    assert code == 0, err
    assert f"valid, {len(rows)} claims" in out


# --------------------------------------------------------------------------------------
# usage and --help
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(capsys, command):
    code, out, err = run([command, "--help"], capsys)
    assert code == 0
    assert out.startswith(f"usage: reconcile {command}")


def test_top_level_help_lists_subcommands(capsys):
    assert set(CONTRACT_SUBCOMMANDS) <= set(SUBCOMMANDS)
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    for command in SUBCOMMANDS:
        assert command in out


def test_version(capsys):
    from reconcile import __version__

    code, out, _ = run(["--version"], capsys)
    assert code == 0 and __version__ in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["validate"],
        ["validate", "a.csv", "b.csv"],
        ["extract"],
        ["fit", "data/claims.csv"],  # --out is required
        ["fit", "data/claims.csv", "--out", "x", "--draws", "many"],
        ["fit", "data/claims.csv", "--out", "x", "--draws", "0"],
        ["fit", "data/claims.csv", "--out", "x", "--chains", "0"],
        ["fit", "data/claims.csv", "--out", "x", "--tune", "-1"],
        ["fit", "data/claims.csv", "--out", "x", "--sampler", "stan"],
        ["fit", "data/claims.csv", "--out", "x", "--seed", "1.5"],
        ["simulate", "--out", "c.csv"],  # --truth is required
        ["simulate", "--out", "c.csv", "--truth", "t.csv", "--days", "0"],
        ["simulate", "--out", "c.csv", "--truth", "t.csv", "--seed", "-1"],
        ["simulate", "--out", "c.csv", "--truth", "t.csv", "--claims", "ten"],
    ],
    ids=lambda argv: " ".join(argv) or "no arguments",
)
def test_bad_usage_exits_2_and_writes_nothing(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "claims.csv").write_bytes(CLAIMS_CSV.read_bytes())
    code, out, err = run(argv, capsys)
    assert code == 2
    assert err.strip(), "a usage error says why"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["claims.csv", "data"]


# --------------------------------------------------------------------------------------
# extract
# --------------------------------------------------------------------------------------


def _articles() -> list[Path]:
    paths = sorted(ARTICLES.glob("*.txt"))
    assert len(paths) == 5
    return paths


def _has(frame, category, qualifier, value=None, phrase=None) -> bool:
    rows = frame[(frame["category"] == category) & (frame["qualifier"] == qualifier)]
    if value is not None:
        rows = rows[pd.to_numeric(rows["value"], errors="coerce") == value]
    if phrase is not None:
        rows = rows[rows["phrase"].str.lower() == phrase]
    return len(rows) > 0


def test_extract_prints_claims_format_csv_with_key_figures(capsys):
    from reconcile.claims import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

    code, out, err = run(["extract", *_articles()], capsys)
    assert code == 0, err
    frame = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False)
    assert set(REQUIRED_COLUMNS) <= set(frame.columns)
    assert set(frame.columns) <= set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    assert frame["claim_id"].is_unique
    assert _has(frame, "casualties", "more_than", 6000)  # UK MoD: "Plus de 6 000"
    assert _has(frame, "casualties", "at_least", 30)  # GUR: "au moins 30"
    assert _has(frame, "casualties", "vague", phrase="plusieurs centaines")
    assert _has(frame, "killed", "at_least", 100)
    assert _has(frame, "wounded", "about", 1000)
    assert _has(frame, "deployed", "about", 11000)
    # every candidate comes from one of the articles, its quote verbatim; the citation is the
    # article's URL, else its title and date, else the file name
    from reconcile.article import read_article

    texts = {
        read_article(p).meta.citation(p.name): " ".join(p.read_text(encoding="utf-8").split()) for p in _articles()
    }
    assert set(frame["citation"]) <= set(texts)
    for quote, citation in zip(frame["quote"], frame["citation"]):
        assert " ".join(quote.split()) in texts[citation], quote


def test_extract_out_file_holds_the_same_csv(tmp_path, capsys):
    code, printed, _ = run(["extract", *_articles()], capsys)
    assert code == 0
    target = tmp_path / "candidates.csv"
    code, out, err = run(["extract", *_articles(), "--out", target], capsys)
    assert code == 0
    assert out == ""  # the CSV went to the file
    assert "candidate claims written" in err
    written = pd.read_csv(target, dtype=str, keep_default_na=False)
    assert written.equals(pd.read_csv(io.StringIO(printed), dtype=str, keep_default_na=False))
    assert [p.name for p in tmp_path.iterdir()] == ["candidates.csv"]  # no temporary left


def test_extract_missing_article_exits_66(tmp_path, capsys):
    code, out, err = run(["extract", _articles()[0], tmp_path / "gone.txt", "--out", tmp_path / "c.csv"], capsys)
    assert code == 66
    assert "gone.txt" in err
    assert not (tmp_path / "c.csv").exists()


@pytest.mark.parametrize("where", ["under a regular file", "in a missing directory"])
@pytest.mark.parametrize("command", ["extract", "simulate"])
def test_unwritable_out_of_extract_and_simulate_exits_73(tmp_path, capsys, command, where):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    parent = blocker if where == "under a regular file" else tmp_path / "no_such_dir"
    if command == "extract":
        argv = ["extract", _articles()[0], "--out", parent / "c.csv"]
    else:
        argv = ["simulate", "--out", parent / "c.csv", "--truth", parent / "t.csv", "--claims", "20"]
    code, _, err = run(argv, capsys)
    assert code == 73


# --------------------------------------------------------------------------------------
# simulate
# --------------------------------------------------------------------------------------


def test_simulate_writes_valid_files_reproducibly(tmp_path, capsys):
    a_claims, a_truth = tmp_path / "a.csv", tmp_path / "a_truth.csv"
    b_claims, b_truth = tmp_path / "b.csv", tmp_path / "b_truth.csv"
    c_claims, c_truth = tmp_path / "c.csv", tmp_path / "c_truth.csv"
    for claims, truth, seed in ((a_claims, a_truth, 5), (b_claims, b_truth, 5), (c_claims, c_truth, 6)):
        code, _, err = run(["simulate", "--out", claims, "--truth", truth, "--seed", seed, "--claims", 40], capsys)
        assert code == 0, err
        assert "40 simulated claims" in err
    assert a_claims.read_bytes() == b_claims.read_bytes()
    assert a_truth.read_bytes() == b_truth.read_bytes()
    assert a_claims.read_bytes() != c_claims.read_bytes()
    code, out, err = run(["validate", a_claims], capsys)
    assert code == 0, err
    assert "valid, 40 claims" in out
    truth = pd.read_csv(a_truth)
    assert len(truth) and {"quantity", "population", "value"} <= set(truth.columns)
    assert set(pd.read_csv(a_claims)["population"]) <= set(truth["population"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


# --------------------------------------------------------------------------------------
# fit: every refusal happens before any model is compiled, and writes nothing
# --------------------------------------------------------------------------------------


@pytest.fixture
def no_sampling(monkeypatch):
    """Make any attempt to fit fail loudly, and import the model code beforehand (timing)."""
    fit_module = importlib.import_module("reconcile.fitting")
    importlib.import_module("reconcile.model")

    def forbidden(*args, **kwargs):
        raise AssertionError("reconcile.fitting.fit was called: the refusal should come before fitting")

    monkeypatch.setattr(fit_module, "fit", forbidden)
    import nutpie

    monkeypatch.setattr(nutpie, "compile_pymc_model", forbidden)


def fit_quickly(argv, capsys):
    """Run a fit that must be refused before any compiling (``no_sampling`` makes a compile or
    a fit raise)."""
    return run(argv, capsys)


def test_fit_refuses_bad_claims_and_writes_nothing(tmp_path, capsys, no_sampling):
    header, rows = shipped_rows()
    rows[0]["value"] = "-30"
    rows[1]["qualifier"] = "roughly"
    claims = write_rows(tmp_path / "bad.csv", header, rows)
    digest = sha256_file(claims)
    out_dir = tmp_path / "results"
    code, out, err = fit_quickly(["fit", claims, "--config", KURSK_TOML, "--out", out_dir, "--quiet"], capsys)
    assert code == 65
    assert "nothing was written" in err
    assert [ln.split(",")[0] for ln in problem_lines(err)] == ["row 2", "row 3"]
    assert not out_dir.exists()
    assert sha256_file(claims) == digest


def test_fit_refuses_bad_claims_and_leaves_existing_dir_untouched(tmp_path, capsys, no_sampling):
    claims = tmp_path / "bad.csv"
    claims.write_bytes(b"")
    out_dir = tmp_path / "results"
    out_dir.mkdir()
    (out_dir / "estimates.csv").write_text("old results\n")
    code, _, err = fit_quickly(["fit", claims, "--out", out_dir, "--quiet"], capsys)
    assert code == 65
    assert [p.name for p in out_dir.iterdir()] == ["estimates.csv"]
    assert (out_dir / "estimates.csv").read_text() == "old results\n"


def test_fit_refuses_claims_without_any_loss_figure(tmp_path, capsys, no_sampling):
    """Valid claims the model cannot use (only force strengths) are a data error too."""
    header, rows = shipped_rows()
    claims = write_rows(tmp_path / "deployed.csv", header, [r for r in rows if r["category"] == "deployed"])
    out_dir = tmp_path / "results"
    code, _, err = fit_quickly(["fit", claims, "--out", out_dir, "--quiet"], capsys)
    assert code == 65
    assert "nothing was written" in err
    assert not out_dir.exists()


def test_fit_refuses_unknown_config_key(tmp_path, capsys, no_sampling):
    config = tmp_path / "model.toml"
    config.write_text("[sampler]\ndraws = 100\n\n[priors]\nrate_sdd = 0.2\n", encoding="utf-8")
    digest = sha256_file(config)
    out_dir = tmp_path / "results"
    code, out, err = fit_quickly(["fit", CLAIMS_CSV, "--config", config, "--out", out_dir, "--quiet"], capsys)
    assert code == 65
    assert "priors.rate_sdd" in err and "did you mean 'rate_sd'" in err
    assert str(config) in err
    assert not out_dir.exists()
    assert sha256_file(config) == digest


def test_fit_refuses_invalid_toml(tmp_path, capsys, no_sampling):
    config = tmp_path / "model.toml"
    config.write_text("[sampler\n", encoding="utf-8")
    code, _, err = fit_quickly(["fit", CLAIMS_CSV, "--config", config, "--out", tmp_path / "r", "--quiet"], capsys)
    assert code == 65
    assert "TOML" in err
    assert not (tmp_path / "r").exists()


def test_fit_warns_about_configuration_entries_against_the_whole_file(tmp_path, capsys, no_sampling):
    """Before a population's first claim (an as-of fit) its [populations.X] entry is not a typo:
    fit names only entries that match nothing in the whole file (no_sampling stops the run right
    after the warnings, which come before any compiling)."""
    config = tmp_path / "model.toml"
    config.write_text(Path(KURSK_TOML).read_text(encoding="utf-8") + '\n[populations.dprk_kurks]\nlabel = "x"\n')
    _, _, err = run(["fit", CLAIMS_CSV, "--config", config, "--as-of", "2024-12-16", "--out", tmp_path / "r"], capsys)
    assert "[populations.dprk_kurks] names no population of the claims" in err
    assert "russia_military" not in err and "[source_labels]" not in err  # they report later
    assert not (tmp_path / "r").exists()


def test_fit_refuses_config_inconsistent_with_claims(tmp_path, capsys, no_sampling):
    """A configured start after a claim's period is a data error caught before compiling."""
    config = tmp_path / "model.toml"
    config.write_text('[populations.dprk_kursk]\nstart = "2025-06-01"\n', encoding="utf-8")
    code, _, err = fit_quickly(["fit", CLAIMS_CSV, "--config", config, "--out", tmp_path / "r", "--quiet"], capsys)
    assert code == 65
    assert "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_fit_missing_config_exits_66(tmp_path, capsys, no_sampling):
    code, _, err = fit_quickly(
        ["fit", CLAIMS_CSV, "--config", tmp_path / "absent.toml", "--out", tmp_path / "r", "--quiet"], capsys
    )
    assert code == 66
    assert "absent.toml" in err
    assert not (tmp_path / "r").exists()


def test_fit_missing_claims_exits_66(tmp_path, capsys, no_sampling):
    code, _, err = fit_quickly(["fit", tmp_path / "absent.csv", "--out", tmp_path / "r", "--quiet"], capsys)
    assert code == 66
    assert "absent.csv" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("where", ["under a regular file", "is a regular file"])
def test_fit_unwritable_out_exits_73(tmp_path, capsys, no_sampling, where):
    blocker = tmp_path / "a_file"
    blocker.write_text("keep me\n")
    out_dir = blocker / "results" if where == "under a regular file" else blocker
    code, _, err = fit_quickly(["fit", CLAIMS_CSV, "--config", KURSK_TOML, "--out", out_dir, "--quiet"], capsys)
    assert code == 73
    assert str(out_dir) in err
    assert blocker.read_text() == "keep me\n"


def test_fit_unwritable_out_console_script(tmp_path):
    """The real process: exit 73 before anything is compiled (well under the ~25 s a compile takes)."""
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    result = run_script("fit", CLAIMS_CSV, "--config", KURSK_TOML, "--out", blocker / "results")
    assert result.returncode == 73, result.stderr
    assert "Traceback" not in result.stderr
    assert "compiling" not in result.stderr.lower()  # refused before the model is compiled


def _leave_script(body: str) -> subprocess.CompletedProcess:
    code = "import atexit, sys, threading, time\nfrom reconcile.cli import _leave\n" + body
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_leaving_runs_the_exit_handlers_and_keeps_the_exit_status():
    """The console script leaves without the interpreter's teardown (benchmarks/RESULTS.md,
    issue 20), but after the exit handlers and with everything printed, under the command's
    exit status."""
    done = _leave_script(
        "atexit.register(lambda: print('handler ran', file=sys.stderr))\n"
        "print('printed, not flushed', end='')\n"
        "_leave(65)\n"
        "print('never')\n"
    )
    assert done.returncode == 65
    assert done.stdout == "printed, not flushed"
    assert done.stderr == "handler ran\n"


def test_leaving_waits_for_a_thread_still_at_work():
    """A thread that is not a daemon still running: the interpreter exits as usual and joins it."""
    done = _leave_script(
        "worker = threading.Thread(target=lambda: (time.sleep(0.5), print('thread finished')))\n"
        "worker.start()\n"
        "_leave(3)\n"
    )
    assert done.returncode == 3
    assert done.stdout == "thread finished\n"


def test_python_dash_m_is_the_console_script():
    done = subprocess.run(
        [sys.executable, "-m", "reconcile", "validate", str(CLAIMS_CSV)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "valid" in done.stdout, done.stderr
