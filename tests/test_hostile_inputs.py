"""Bad input, damaged results and misuse of the command line: a clear message and the right exit
code, never a traceback; the input never touched; nothing written (issue 18).

Every case here was reproduced against the code before the fix: it either crashed (a traceback),
wrote over an input, blamed the wrong party (exit code) or gave wrong provenance.
"""

from __future__ import annotations

import csv
import importlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest
from conftest import ARTICLES, CLAIMS_CSV, KURSK_TOML, ROOT, sha256_file, snapshot

from reconcile.cli import main


def run(argv, capsys):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture
def no_sampling(monkeypatch):
    """Any attempt to fit fails the test: refusals must come before any model is compiled."""
    fit_module = importlib.import_module("reconcile.fitting")

    def forbidden(*args, **kwargs):
        raise AssertionError("a fit was started: the refusal should come before")

    monkeypatch.setattr(fit_module, "fit", forbidden)


def shipped_rows() -> pd.DataFrame:
    return pd.read_csv(CLAIMS_CSV, dtype=str, keep_default_na=False)


def write_rows(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------------------
# 1. What validates can be fitted
# --------------------------------------------------------------------------------------


def _uk_deployed(frame: pd.DataFrame) -> int:
    rows = frame[(frame["category"] == "deployed") & frame["source"].str.contains("UK Ministry")]
    assert len(rows) == 1
    return rows.index[0]


@pytest.mark.parametrize("value", ["0", "1e-300", "-5", "1e30"])
def test_a_strength_the_model_cannot_take_is_refused_by_validate_and_fit(tmp_path, capsys, no_sampling, value):
    """The UK MoD's strength stated as exactly 0 validated, then the fit died after minutes with
    'All initialization points failed' (log 0 in the strength bound)."""
    frame = shipped_rows()
    at = _uk_deployed(frame)
    frame.loc[at, ["qualifier", "value", "value_high", "phrase"]] = ["exact", value, "", ""]
    claims = write_rows(frame, tmp_path / "claims.csv")
    for command in (["validate", claims], ["fit", claims, "--config", KURSK_TOML, "--out", tmp_path / "out"]):
        code, _, err = run(command, capsys)
        assert code == 65
        assert f"row {at + 2}, column 'value': found '{value}'" in err and "log scale" in err
    assert not (tmp_path / "out").exists()


def test_a_loss_figure_of_zero_is_refused(tmp_path, capsys, no_sampling):
    frame = shipped_rows()
    at = frame.index[frame["category"] == "killed"][0]
    frame.loc[at, ["qualifier", "value", "value_high"]] = ["at_most", "0", ""]
    code, _, err = run(["fit", write_rows(frame, tmp_path / "c.csv"), "--out", tmp_path / "out"], capsys)
    assert code == 65 and f"row {at + 2}, column 'value': found '0'" in err


def test_a_negative_noise_floor_is_refused(tmp_path, capsys, no_sampling):
    config = tmp_path / "model.toml"
    config.write_text("[priors]\nnoise_floor = -1.0\n")
    code, _, err = run(["fit", CLAIMS_CSV, "--config", config, "--out", tmp_path / "out"], capsys)
    assert code == 65 and "priors.noise_floor" in err and "-1.0" in err


def _start_is_finite(claims, config) -> None:
    """The model's log density and gradient are finite at most of the jittered initial points
    nutpie starts from (all failing is nutpie's 'All initialization points failed')."""
    from pymc.initial_point import make_initial_point_fn

    from reconcile.model import build_model, prepare

    model = build_model(claims, config, prepare(claims, config))
    # compiled with PyTensor's numerical rewrites, as nutpie compiles it (FAST_COMPILE skips the
    # ones that keep the likelihood's far tails finite: a figure 800 sds from its mean)
    logp = model.compile_logp()
    dlogp = model.compile_dlogp()
    start = make_initial_point_fn(
        model=model, default_strategy="support_point", jitter_rvs=set(model.free_RVs), return_transformed=True
    )
    good = 0
    for seed in range(6):
        point = start(seed)
        good += bool(np.isfinite(logp(point)) and np.isfinite(dlogp(point)).all())
    assert good >= 3, f"only {good} of 6 starting points have a finite log density"


def _extreme_claims(frame: pd.DataFrame):
    """The shipped claims with every figure at an end of the range that validates, under every
    qualifier, for losses and strengths alike."""
    from reconcile.claims import MAX_FIGURE, MIN_FIGURE, claims_from_frame

    frame = frame.copy()
    low, high = repr(MIN_FIGURE), repr(MAX_FIGURE)
    cases = [
        ("exact", low, ""),
        ("at_most", low, ""),
        ("fewer_than", low, ""),
        ("about", low, ""),
        ("exact", high, ""),
        ("at_least", high, ""),
        ("more_than", high, ""),
        ("range", low, high),
    ]
    for k, at in enumerate(frame.index):
        qualifier, value, value_high = cases[k % len(cases)]
        frame.loc[at, ["qualifier", "value", "value_high", "phrase"]] = [qualifier, value, value_high, ""]
    claims = claims_from_frame(frame)
    assert set(claims.frame["qualifier"]) >= {"exact", "at_most", "at_least", "range"}
    return claims


@pytest.mark.slow
def test_claims_at_the_ends_of_the_valid_range_can_be_fitted():
    from reconcile.config import load_config

    _start_is_finite(_extreme_claims(shipped_rows()), load_config(KURSK_TOML))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:divide by zero encountered in log:RuntimeWarning")  # (the strength of 0)
def test_the_figures_refused_are_ones_the_model_cannot_fit(monkeypatch):
    """The other side of the range: with the check lifted, a strength of 0 or a loss of at most
    1e-300 leaves no starting point with a finite density (nutpie's 'All initialization points
    failed'), which is why they are refused."""
    from reconcile import claims as claims_module
    from reconcile.config import load_config

    monkeypatch.setattr(claims_module, "MIN_FIGURE", 0.0)
    frame = shipped_rows()
    frame.loc[_uk_deployed(frame), ["qualifier", "value", "value_high", "phrase"]] = ["exact", "0", "", ""]
    at = frame.index[frame["category"] == "killed"][0]
    frame.loc[at, ["qualifier", "value", "value_high", "phrase"]] = ["at_most", "1e-300", "", ""]
    with pytest.raises(AssertionError, match="only 0 of 6 starting points"):
        _start_is_finite(claims_module.claims_from_frame(frame), load_config(KURSK_TOML))


@pytest.mark.slow
@pytest.mark.parametrize("end", ["low", "high"])
def test_configurations_at_the_ends_of_the_valid_ranges_can_be_fitted(end):
    from reconcile import config as cfg

    base = cfg.load_config(KURSK_TOML)
    priors = {}
    for key, _value in base.priors.items():
        if key.endswith(("_sd", "_spread")) or key == "noise_floor":
            low, high, _ = cfg._SPREAD_RANGES.get(key, (cfg.MIN_LOG_SD, cfg.MAX_LOG_SD, ""))
            priors[key] = high if end == "high" else low
        elif key.endswith("_mean"):
            priors[key] = cfg.MAX_LOG_MEAN if end == "high" else -cfg.MAX_LOG_MEAN
        elif key.startswith("killed_share"):
            priors[key] = cfg.MAX_BETA_SHAPE if end == "high" else cfg.MIN_BETA_SHAPE
        elif key == "daily_rate_median":
            priors[key] = cfg.MAX_DAILY_RATE if end == "high" else cfg.MIN_DAILY_RATE
        elif key == "outlier_prob":
            priors[key] = 0.99 if end == "high" else 0.0
    rate = cfg.MAX_DAILY_RATE if end == "high" else cfg.MIN_DAILY_RATE
    config = base.replace(priors=priors, populations={p: {"daily_rate_median": rate} for p in base["populations"]})
    _start_is_finite(_extreme_claims(shipped_rows()), config)


# --------------------------------------------------------------------------------------
# 2. CSV parsed strictly
# --------------------------------------------------------------------------------------


def test_a_deleted_closing_quote_is_refused_naming_the_row(tmp_path, capsys):
    lines = CLAIMS_CSV.read_text(encoding="utf-8").split("\n")
    at = lines[6].index('.",')
    lines[6] = lines[6][: at + 1] + lines[6][at + 2 :]
    broken = tmp_path / "claims.csv"
    broken.write_text("\n".join(lines), encoding="utf-8")
    before = broken.read_bytes()
    code, out, err = run(["validate", broken], capsys)
    assert code == 65 and "valid" not in out
    assert "row 7, column 'quote'" in err
    assert broken.read_bytes() == before


def test_a_short_row_is_not_padded(tmp_path, capsys):
    lines = CLAIMS_CSV.read_text(encoding="utf-8").split("\n")
    lines[3] = ",".join(next(csv.reader([lines[3]]))[:10])  # the row loses its last nine cells
    short = tmp_path / "claims.csv"
    short.write_text("\n".join(lines), encoding="utf-8")
    code, _, err = run(["validate", short], capsys)
    assert code == 65 and "row 4, column 'qualifier'" in err and "this row has 10" in err


# --------------------------------------------------------------------------------------
# 3. Outputs never overwrite inputs
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("place", ["estimates.csv", "report.html", "plots/claims.csv", ".reconcile/claims.csv"])
def test_fit_refuses_to_write_over_its_claims_file(tmp_path, capsys, no_sampling, place):
    """`cp data/claims.csv R/estimates.csv; reconcile fit R/estimates.csv --out R` replaced the
    claims with the estimates."""
    out = tmp_path / "R"
    claims = out / place
    claims.parent.mkdir(parents=True)
    shutil.copy(CLAIMS_CSV, claims)
    before = snapshot(out)
    code, _, err = run(["fit", claims, "--out", out], capsys)
    assert code == 73 and "would overwrite the claims file" in err
    assert snapshot(out) == before


def test_fit_refuses_to_write_over_its_configuration(tmp_path, capsys, no_sampling):
    out = tmp_path / "R"
    out.mkdir()
    shutil.copy(KURSK_TOML, out / "diagnostics.json")
    code, _, err = run(["fit", CLAIMS_CSV, "--config", out / "diagnostics.json", "--out", out], capsys)
    assert code == 73 and "would overwrite the configuration" in err
    assert (out / "diagnostics.json").read_bytes() == KURSK_TOML.read_bytes()


@pytest.mark.parametrize("how", ["symbolic link", "hard link"])
def test_fit_refuses_an_input_reached_through_a_link(tmp_path, capsys, no_sampling, how):
    out = tmp_path / "R"
    out.mkdir()
    shutil.copy(CLAIMS_CSV, out / "sources.csv")
    link = tmp_path / "claims.csv"
    (os.symlink if how == "symbolic link" else os.link)(out / "sources.csv", link)
    code, _, err = run(["fit", link, "--out", out], capsys)
    assert code == 73
    assert (out / "sources.csv").read_bytes() == CLAIMS_CSV.read_bytes()


def test_claims_beside_the_results_are_fine(tmp_path, capsys, no_sampling, monkeypatch):
    """Only the results' own names are refused: a claims file in DIR under another name is not."""
    monkeypatch.setenv("RECONCILE_DEBUG", "1")  # (the fixture's AssertionError, not a message)
    out = tmp_path / "R"
    out.mkdir()
    shutil.copy(CLAIMS_CSV, out / "claims.csv")
    with pytest.raises(AssertionError, match="a fit was started"):
        main(["fit", str(out / "claims.csv"), "--out", str(out)])


def test_extract_refuses_to_write_over_an_article(tmp_path, capsys):
    article = tmp_path / "article.txt"
    shutil.copy(sorted(ARTICLES.glob("*.txt"))[0], article)
    before = article.read_bytes()
    code, _, err = run(["extract", article, "--out", article], capsys)
    assert code == 73 and "would overwrite the article" in err
    assert article.read_bytes() == before


@pytest.mark.parametrize("command", ["loso", "sensitivity"])
def test_refits_refuse_to_write_over_their_claims(tmp_path, capsys, command):
    out = tmp_path / "R"
    out.mkdir()
    claims = out / f"{command}.csv"
    shutil.copy(CLAIMS_CSV, claims)
    extra = ["--alternatives", ROOT / "models" / "sensitivity.toml"] if command == "sensitivity" else []
    code, _, err = run([command, claims, "--out", out, *extra], capsys)
    assert code == 73 and "would overwrite the claims file" in err
    assert claims.read_bytes() == CLAIMS_CSV.read_bytes()


def test_simulate_refuses_one_file_for_both_outputs(tmp_path, capsys):
    """`simulate --out X --truth X` said both were written; X held only the truth."""
    code, _, err = run(["simulate", "--out", tmp_path / "X", "--truth", tmp_path / "X"], capsys)
    assert code == 2 and "name the same file" in err
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------
# 6. Messages, not tracebacks
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["fit", CLAIMS_CSV, "--out", "R", "--draws", "100000000000000000000"],
        ["fit", CLAIMS_CSV, "--out", "R", "--tune", "100000000000000000000"],
        ["fit", CLAIMS_CSV, "--out", "R", "--chains", "100000"],
        ["fit", CLAIMS_CSV, "--out", "R", "--seed", str(2**64)],
        ["simulate", "--out", "c.csv", "--truth", "t.csv", "--days", "1000000000"],
        ["simulate", "--out", "c.csv", "--truth", "t.csv", "--claims", "100000000000"],
        ["calibrate", "--simulations", "100000000000000", "--out", "R"],
        ["loso", CLAIMS_CSV, "--out", "R", "--workers", "100000000"],
    ],
    ids=lambda argv: " ".join(str(a) for a in argv[-2:]),
)
def test_absurd_sizes_are_usage_errors(tmp_path, monkeypatch, capsys, argv):
    """--draws 1e20 compiled the model, then died with an OverflowError."""
    monkeypatch.chdir(tmp_path)
    code, _, err = run(argv, capsys)
    assert code == 2 and "must be a whole number from" in err
    assert list(tmp_path.iterdir()) == []


def test_extract_of_a_latin1_or_binary_file(tmp_path, capsys):
    latin1 = tmp_path / "latin1.txt"
    text = "Au moins 30 soldats nord-coréens ont été tués."
    latin1.write_bytes(text.encode("latin-1"))
    binary = tmp_path / "binary.txt"
    binary.write_bytes(bytes(range(256)))
    code, out, err = run(["extract", latin1], capsys)
    assert code == 65 and f"not UTF-8 text (byte 0xe9 at byte offset {text.index('é')}, line 1)" in err and out == ""
    code, out, err = run(["extract", binary], capsys)
    assert code == 65 and "not a text file (NUL byte" in err and out == ""


def test_output_into_a_closed_pipe_ends_quietly():
    """`reconcile validate data/claims.csv | head -1` ended with a BrokenPipeError traceback."""
    command = (
        f'{sys.executable} -m reconcile.cli validate {CLAIMS_CSV} | head -c 10; echo; echo "exit ${{PIPESTATUS[0]}}"'
    )
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.stdout.splitlines()[-1] in ("exit 0", "exit 141")


def test_an_unexpected_error_is_a_message_and_exit_70(tmp_path, capsys, monkeypatch):
    claims_module = importlib.import_module("reconcile.claims")

    def broken(*args, **kwargs):
        raise RuntimeError("something no one foresaw")

    monkeypatch.setattr(claims_module, "read_claims", broken)
    code, _, err = run(["validate", CLAIMS_CSV], capsys)
    assert code == 70 and "internal error (RuntimeError: something no one foresaw)" in err


def test_an_unreadable_configuration_is_an_input_error(tmp_path, capsys, no_sampling, monkeypatch):
    """An unreadable configuration gave 65 (bad content), not 66 (unreadable input)."""
    config = tmp_path / "model.toml"
    config.write_text("[priors]\n")
    real = Path.read_bytes

    def read_bytes(self):
        if self == config:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    code, _, err = run(["fit", CLAIMS_CSV, "--config", config, "--out", tmp_path / "out"], capsys)
    assert code == 66 and "Permission denied" in err and str(config) in err


# --------------------------------------------------------------------------------------
# 7. Damaged results: refused clearly, blamed rightly; the rebuilt report's provenance
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(shipped_fit_dir):
    with az.rc_context({"data.load": "eager"}):
        return az.from_netcdf(shipped_fit_dir / "posterior.nc")


def _damaged(saved, how):
    idata = saved.copy()
    if how == "NaN-filled bias":
        idata.posterior["bias"][:] = np.nan
    elif how == "infinite predictive figure":
        idata.posterior_predictive["figure"][0, 0, 0] = np.inf
    elif how == "variable missing":
        idata.posterior = idata.posterior.drop_vars("killed_share")
    elif how == "group missing":
        idata = az.InferenceData(**{g: idata[g] for g in idata.groups() if g != "log_likelihood"})
    elif how == "claims do not match":
        idata.posterior = idata.posterior.isel(claim=slice(0, 3))
    elif how == "draws do not match":
        idata.posterior_predictive = idata.posterior_predictive.isel(draw=slice(0, 10))
    elif how == "attribute missing":
        del idata.posterior.attrs["claims_csv"]
    elif how == "stored claims damaged":
        idata.posterior.attrs["claims_csv"] = idata.posterior.attrs["claims_csv"][:-200]
    return idata


DAMAGE = {
    "NaN-filled bias": "posterior/bias holds",
    "infinite predictive figure": "posterior_predictive/figure holds 1 value",
    "variable missing": "variable posterior/killed_share missing",
    "group missing": "group(s) log_likelihood missing",
    "claims do not match": "posterior/true_quantity has dimensions",
    "draws do not match": "posterior_predictive/figure has dimensions",
    "attribute missing": "attribute(s) claims_csv missing",
    "stored claims damaged": "damaged provenance",
}


FAST_DAMAGE = ["NaN-filled bias", "variable missing", "group missing", "claims do not match"]


@pytest.mark.parametrize("how", [h if h in FAST_DAMAGE else pytest.param(h, marks=pytest.mark.slow) for h in DAMAGE])
def test_report_refuses_a_damaged_posterior(tmp_path, capsys, saved, how):
    out = tmp_path / "R"
    out.mkdir()
    _damaged(saved, how).to_netcdf(str(out / "posterior.nc"), engine="h5netcdf")
    before = snapshot(out)
    code, _, err = run(["report", out], capsys)
    assert code == 65, err
    assert DAMAGE[how] in err and "refit" in err
    assert snapshot(out) == before


def test_random_bytes_inside_the_posterior_blame_the_input(tmp_path, capsys, shipped_fit_dir):
    """4 KB of random bytes inside posterior.nc gave exit 73, 'writing the results failed'."""
    out = tmp_path / "R"
    out.mkdir()
    data = bytearray((shipped_fit_dir / "posterior.nc").read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = np.random.default_rng(18).bytes(4096)
    (out / "posterior.nc").write_bytes(bytes(data))
    before = snapshot(out)
    code, _, err = run(["report", out], capsys)
    assert code == 65 and "posterior.nc" in err and "writing" not in err
    assert snapshot(out) == before


def test_load_fit_checks_what_it_reads(tmp_path, saved):
    from reconcile.errors import IncompatibleFit
    from reconcile.fitting import load_fit

    _damaged(saved, "NaN-filled bias").to_netcdf(str(tmp_path / "posterior.nc"), engine="h5netcdf")
    with pytest.raises(IncompatibleFit, match="not finite"):
        load_fit(tmp_path)


def test_a_fit_from_another_version_says_so(tmp_path, saved):
    """A fit whose configuration holds a setting this version does not know was called "damaged
    provenance"; written by another version, it is that version's, and the message says so."""
    import json

    from reconcile import __version__
    from reconcile.errors import IncompatibleFit
    from reconcile.fitting import load_fit

    idata = saved.copy()
    config = json.loads(idata.posterior.attrs["config"])
    config["priors"]["a_prior_of_a_later_version"] = 1.0
    idata.posterior.attrs["config"] = json.dumps(config)
    idata.posterior.attrs["reconcile_version"] = "99.0"
    idata.to_netcdf(str(tmp_path / "posterior.nc"), engine="h5netcdf")
    with pytest.raises(IncompatibleFit, match=rf"written by reconcile 99\.0.*this version \({__version__}\).*refit"):
        load_fit(tmp_path)


def test_a_rebuilt_report_shows_the_stored_provenance(shipped_fit_dir):
    """The rebuilt report showed the SHA-256 of the re-rendered claims and 'saved fit' instead
    of the claims file's hash and the configuration's name (`reconcile report` itself runs in
    tests/test_plots_report.py::test_cli_report_rebuilds_from_posterior_alone)."""
    from reconcile.fitting import load_fit
    from reconcile.report import render_report

    loaded = load_fit(shipped_fit_dir)
    assert loaded.claims.sha256 == sha256_file(CLAIMS_CSV) and loaded.claims.path == str(CLAIMS_CSV)
    assert loaded.config.origin == str(KURSK_TOML)
    page = render_report(loaded)  # the page `reconcile report` writes, without its figures
    assert sha256_file(CLAIMS_CSV) in page
    assert str(KURSK_TOML) in page and "saved fit" not in page


# --------------------------------------------------------------------------------------
# CSV outputs opened in a spreadsheet
# --------------------------------------------------------------------------------------


def test_csv_outputs_neutralise_formulas_but_not_numbers():
    from reconcile._io import table_csv as _csv

    frame = pd.DataFrame(
        {
            "source": ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\tx", "UK MoD", "a=b"],
            "change_q50": [-0.5, -1e-3, 0.0, 2.5, -7.0, 1.0, -3.0],
            "n_claims": [-1, 2, 3, 4, 5, 6, 7],
        }
    )
    rows = list(csv.reader(io.StringIO(_csv(frame))))
    assert [r[0] for r in rows[1:]] == [
        '\'=HYPERLINK("http://x","y")',
        "'+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\tx",
        "UK MoD",
        "a=b",
    ]
    assert [r[1] for r in rows[1:]] == ["-0.5", "-0.001", "0", "2.5", "-7", "1", "-3"]  # numbers untouched
    assert rows[1][2] == "-1"


def test_extracted_candidates_are_guarded_and_read_back_verbatim(tmp_path, capsys):
    article = tmp_path / "article.txt"
    article.write_text(
        '=HYPERLINK("http://evil") Au moins 30 soldats nord-coréens ont été tués. '
        "-Plus de 6 000 soldats ont été tués ou blessés.\n",
        encoding="utf-8",
    )
    code, out, err = run(["extract", article], capsys)
    assert code == 0, err
    cells = [row for row in csv.reader(io.StringIO(out))]
    quotes = [row[cells[0].index("quote")] for row in cells[1:]]
    assert quotes and all(q.startswith(("'=", "'-")) for q in quotes), quotes
    # completed by a reviewer into claims, the guarded cells read back as the article's text
    frame = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False)
    frame = frame.assign(
        population="dprk_kursk", source="x", reported_on="2024-12-20", stance="adversary", period_start="2024-12-01"
    )
    from reconcile.claims import read_claims

    claims = read_claims(io.StringIO(frame.to_csv(index=False)))
    text = article.read_text(encoding="utf-8")
    assert all(q in text for q in claims.frame["quote"]) and claims.frame["quote"].str[0].isin(["=", "-"]).all()


@pytest.mark.slow
def test_a_fit_with_formula_like_names_writes_guarded_csv(tmp_path, capsys):
    frame = shipped_rows()
    frame["source"] = frame["source"].str.replace("South Korea", "=cmd|' /C calc'!A0 South Korea", regex=False)
    claims = write_rows(frame, tmp_path / "claims.csv")
    code, _, err = run(
        [
            "fit",
            claims,
            "--config",
            KURSK_TOML,
            "--out",
            tmp_path / "R",
            "--quiet",
            "--draws",
            "20",
            "--tune",
            "20",
            "--chains",
            "1",
        ],
        capsys,
    )
    assert code == 0, err
    sources = pd.read_csv(tmp_path / "R" / "sources.csv", dtype=str, keep_default_na=False)
    guarded = sources[sources["source"].str.contains("calc")]
    assert len(guarded) and guarded["source"].str.startswith("'=").all()
    assert not sources["source"].str.startswith("=").any()
