"""Every code block of the README runs as written.

- the two quick-start commands are what CI runs (``.ci/run`` holds them verbatim);
- the ``reconcile extract`` section's shell commands run in ``tests/test_readme_extract.py``;
- the TOML block is a sources table ``--sources`` accepts;
- the Python block runs as a script (*slow*), with fewer draws and 2 calibration simulations
  instead of 100 (each substitution is checked to have happened).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```(\w+)\n(.*?)^```", README, re.S | re.M)


def _section(title: str) -> str:
    start = README.index(title)
    return README[start : README.index("\n## ", start + 3)]


def test_every_block_is_run_by_some_test():
    extract_section = _section("## From articles to claims: `reconcile extract`")
    assert BLOCKS, "no code block found"
    quick_start = _section("## Quick start")
    for language, body in BLOCKS:
        if language == "sh" and f"```sh\n{body}```" in quick_start:
            continue  # CI runs them (test_quick_start_commands_are_the_ones_ci_runs)
        if language == "sh" and f"```sh\n{body}```" in extract_section:
            continue  # tests/test_readme_extract.py
        if language in ("toml", "python"):
            continue  # below
        pytest.fail(f"a README code block no test runs ({language}):\n{body}")


def test_quick_start_commands_are_the_ones_ci_runs():
    quick = _section("## Quick start")
    commands = re.findall(r"```sh\n(.*?)```", quick, re.S)
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1].strip() in ci  # the test command, verbatim
    main_job = commands[0].strip()
    assert main_job.startswith("python3.11 -m venv .venv && . .venv/bin/activate && pip install . && ")
    fit_command = main_job.split(" && ")[-1]
    assert fit_command.startswith("reconcile fit data/claims.csv --config models/kursk.toml --out ")
    assert "reconcile fit data/claims.csv --config models/kursk.toml --out" in ci


@pytest.mark.parametrize("body", [b for lang, b in BLOCKS if lang == "toml"])
def test_toml_block_is_a_sources_table_the_commands_accept(tmp_path, body):
    from reconcile.tables import load_sources

    path = tmp_path / "my_sources.toml"
    path.write_text(body, encoding="utf-8")
    names = re.findall(r'^name = "(.*)"$', body, re.M)
    assert names
    table = load_sources(path)
    for name in names:
        assert name in {s.name for s in table.sources}


#: (what the README says, what the test runs instead): fewer draws, 2 simulations
SMALLER = [
    (
        "import reconcile\n",
        "import reconcile\n"
        "_load_config = reconcile.load_config\n"
        "def _fewer_draws(*args, **kwargs):\n"
        "    return _load_config(*args, **kwargs).replace(sampler={'draws': 200, 'tune': 200, 'tune_data_rich': 200})\n"
        "reconcile.load_config = _fewer_draws\n",
    ),
    (
        'reconcile.calibrate(100, "calibration/", seed=1, workers=2)',
        'reconcile.calibrate(2, "calibration/", seed=1, workers=2, config=reconcile.load_config())',
    ),
]


@pytest.mark.slow
def test_python_block_runs_as_a_script(tmp_path):
    blocks = [body for lang, body in BLOCKS if lang == "python"]
    assert len(blocks) == 1
    script = blocks[0]
    for said, run in SMALLER:
        assert said in script, f"the README no longer says {said!r}: update the test's substitutions"
        script = script.replace(said, run, 1)
    for folder in ("data", "models"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "readme_example.py").write_text(script, encoding="utf-8")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    done = subprocess.run(
        [sys.executable, "readme_example.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=3600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    for written in (
        "results/estimates.csv",
        "results/report.html",
        "loso",
        "sensitivity",
        "calibration/calibration.csv",
    ):
        assert (tmp_path / written).exists(), written
    assert "dprk_kursk" in done.stdout  # the estimates table was printed
