"""Interruptions of `reconcile fit`: SIGINT, SIGTERM and SIGKILL at each stage of a real fit.

The process signals itself through the test hook (RECONCILE_FAULT_AT names the stage,
RECONCILE_FAULT_SIGNAL the signal; RECONCILE_FAULT_DELAY sends it from a timer thread while the
stage is under way, e.g. while nutpie's threads sample). The output directory holds earlier
results; after the signal it must show them unchanged, byte for byte, unless the new results
were already switched in, complete. SIGINT and SIGTERM exit 130 and 143 and leave no staging;
a partial trace is never used or written.

SIGINT and SIGTERM are raised in this process (the command runs in-process, reusing the compiled
model); SIGKILL needs a child process. By default two cases run (Ctrl-C while sampling: the
bug of issue 18; SIGTERM once sampling is done); every stage and signal runs with ``-m slow``. The
commit's own steps, between each pair of its renames, are in tests/test_commit.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CLAIMS_CSV, KURSK_TOML, assert_all_reaped, results_snapshot, snapshot

from reconcile.cli import main

FAST = ["--draws", "20", "--tune", "20", "--chains", "1"]
LONG = ["--draws", "4000", "--tune", "300", "--chains", "1"]  # sampling lasts seconds: a signal lands in it
STAGES_BEFORE_SWITCH = [
    "validated",
    "compiling",
    "sampling",
    "summarising",
    "drawing",
    "writing",
    "staged",
    "commit:switch",
]
STAGES_AFTER_SWITCH = ["commit:switched", "commit:done"]
CODES = {"INT": 130, "TERM": 143, "HUP": 129}


@pytest.fixture
def earlier(shipped_fit_dir, tmp_path) -> Path:
    """An output directory holding the results of an earlier fit (and a user's own file)."""
    out = tmp_path / "results"
    shutil.copytree(shipped_fit_dir, out, symlinks=True)
    (out / "notes.txt").write_text("a user's own file\n")
    return out


def fault_env(monkeypatch, stage: str, sig: str) -> list[str]:
    monkeypatch.setenv("RECONCILE_FAULT_AT", stage)
    monkeypatch.setenv("RECONCILE_FAULT_SIGNAL", sig)
    if stage == "sampling":
        monkeypatch.setenv("RECONCILE_FAULT_DELAY", "0.5")  # from a timer thread, into nutpie's wait
        return LONG
    if stage == "drawing":
        monkeypatch.setenv("RECONCILE_FAULT_DELAY", "0.3")  # while this process and a child draw
    return FAST


def run_fit(out: Path, settings: list[str], capsys) -> tuple[int, str]:
    code = main(["fit", str(CLAIMS_CSV), "--config", str(KURSK_TOML), "--out", str(out), "--quiet", *settings])
    return code, capsys.readouterr().err


def assert_new_complete(out: Path, before: dict[str, bytes]) -> None:
    after = results_snapshot(out)
    assert set(after) == set(before)
    assert after["estimates.csv"] != before["estimates.csv"]  # (fewer draws: other numbers)
    assert after["notes.txt"] == before["notes.txt"]
    from reconcile.fitting import load_fit

    load_fit(out)  # the new posterior.nc is whole and consistent


def check_interrupted(stage: str, sig: str, earlier: Path, monkeypatch, capsys) -> None:
    full, before = snapshot(earlier), results_snapshot(earlier)
    settings = fault_env(monkeypatch, stage, sig)
    code, err = run_fit(earlier, settings, capsys)
    assert code == CODES[sig], err
    if stage in STAGES_AFTER_SWITCH:
        assert "after the new results were in place" in err
        assert_new_complete(earlier, before)
    else:
        assert f"while {stage.replace(':', ': ')}" in err, err  # (the signal came at that stage)
        assert "left as it was" in err and "nothing partial was kept" in err, err
        assert snapshot(earlier) == full  # byte for byte, hidden store included: no staging left


@pytest.mark.parametrize(
    ("stage", "sig"), [("sampling", "INT"), ("summarising", "TERM"), ("sampling", "HUP"), ("drawing", "TERM")]
)
def test_interrupting_a_fit_keeps_earlier_results(stage, sig, earlier, forked, monkeypatch, capsys):
    """Ctrl-C 0.5 s into sampling (issue 18: it used to finish the fit on the partial trace); the
    terminal closing (SIGHUP) the same way; SIGTERM while the figures are drawn by this process
    and a forked child, which is killed and reaped before the staging is removed."""
    if sig == "HUP":  # as in a terminal (a test run under nohup would have it ignored)
        before = signal.signal(signal.SIGHUP, signal.SIG_DFL)
        try:
            check_interrupted(stage, sig, earlier, monkeypatch, capsys)
        finally:
            signal.signal(signal.SIGHUP, before)
        return
    check_interrupted(stage, sig, earlier, monkeypatch, capsys)
    from reconcile.plots import plot_workers

    if stage == "drawing" and plot_workers() > 1:
        assert forked  # (the signal came while a child drew)
    assert_all_reaped(forked)  # every drawing child already reaped: none left running


@pytest.mark.slow
@pytest.mark.parametrize("sig", ["INT", "TERM"])
@pytest.mark.parametrize("stage", STAGES_BEFORE_SWITCH + STAGES_AFTER_SWITCH)
def test_interrupting_a_fit_at_every_stage(stage, sig, earlier, monkeypatch, capsys):
    check_interrupted(stage, sig, earlier, monkeypatch, capsys)


def test_a_partial_trace_is_refused_whatever_the_sampler_returns(monkeypatch):
    """PyMC (and nutpie's blocking call) return the draws made so far on KeyboardInterrupt as if
    sampling had ended: fit() refuses a trace shorter than asked for, or with non-finite draws."""
    import numpy as np
    import xarray as xr

    from reconcile import fitting

    class Trace:
        def __init__(self, draws, value=1.0):
            self.posterior = xr.Dataset({"x": (("chain", "draw"), np.full((2, draws), value))})

    settings = {"chains": 2, "draws": 100}
    fitting._require_complete(Trace(100), settings)
    with pytest.raises(KeyboardInterrupt, match="stopped early"):
        fitting._require_complete(Trace(37), settings)
    with pytest.raises(fitting.FitError, match="not finite"):
        fitting._require_complete(Trace(100, np.nan), settings)


# --------------------------------------------------------------------------------------
# The command as a user runs it: a child process, killed
# --------------------------------------------------------------------------------------


def run_child(out: Path, stage: str, sig: str, settings: list[str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILE_")}
    env.update(RECONCILE_FAULT_AT=stage, RECONCILE_FAULT_SIGNAL=sig)
    if stage == "sampling":
        env["RECONCILE_FAULT_DELAY"] = "1"
    command = [
        sys.executable,
        "-m",
        "reconcile.cli",
        "fit",
        str(CLAIMS_CSV),
        "--config",
        str(KURSK_TOML),
        "--out",
        str(out),
        "--quiet",
        *settings,
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
@pytest.mark.parametrize("stage", STAGES_BEFORE_SWITCH + STAGES_AFTER_SWITCH)
def test_sigkill_at_every_stage_leaves_old_or_new_results(stage, earlier):
    before = results_snapshot(earlier)
    done = run_child(earlier, stage, "KILL", LONG if stage == "sampling" else FAST)
    assert done.returncode == -signal.SIGKILL, done.stderr
    if stage in STAGES_AFTER_SWITCH:
        assert_new_complete(earlier, before)
    else:  # (the store may hold what the killed run left: the next run removes it)
        assert results_snapshot(earlier) == before
    assert main(["fit", str(CLAIMS_CSV), "--config", str(KURSK_TOML), "--out", str(earlier), "--quiet", *FAST]) == 0
    store = sorted(p.name for p in (earlier / ".reconcile").iterdir())
    assert store == sorted(["fit", "lock", os.readlink(earlier / ".reconcile" / "fit")])


@pytest.mark.slow
def test_ctrl_c_during_sampling_in_the_console_command(earlier):
    """The installed command, as a user runs it: SIGINT 1 s into sampling exits 130."""
    full = snapshot(earlier)
    done = run_child(earlier, "sampling", "INT", LONG)
    assert done.returncode == 130, done.stderr
    assert "interrupted by SIGINT (Ctrl-C) while sampling" in done.stderr and "Traceback" not in done.stderr
    assert snapshot(earlier) == full


def test_an_interruption_python_swallows_is_raised_at_the_next_stage(capsys):
    """A signal whose handler runs inside a callback where Python ignores exceptions (llvmlite's
    ctypes callback while numba compiles: "Exception ignored ...") is neither lost nor shown as
    a traceback: the next checkpoint raises it. Not inside a block that defers signals."""
    import gc

    from reconcile import _signals

    class RaisesOnCollection:
        def __del__(self):  # an exception here goes to sys.unraisablehook, as a ctypes callback's
            _signals._raise(signal.SIGTERM, None)

    before = sys.unraisablehook
    with _signals.interrupts_raise():
        RaisesOnCollection()
        gc.collect()
        assert "Traceback" not in capsys.readouterr().err
        with _signals.deferred():
            _signals.checkpoint("inside a deferred block")  # renames must finish together
        with pytest.raises(_signals.Interrupted) as caught:
            _signals.checkpoint("compiled")
        assert caught.value.exit_code == 128 + signal.SIGTERM
        _signals.checkpoint("after")  # raised once, not again
    assert sys.unraisablehook is before  # outside the block, the hook as it was
