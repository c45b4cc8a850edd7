"""Shared fixtures: paths of the shipped data, and ONE real fit of it reused by tests/test_fit.py.

Compiling the model costs ~25-45 s on a 2-core machine, so the shipped data are fitted once per
test session, that is once per pytest-xdist worker (small settings: the numbers are not meant to
be converged, only real) and saved once; tests read the in-memory result or the saved directory
and never write into it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLAIMS_CSV = ROOT / "data" / "claims.csv"
KURSK_TOML = ROOT / "models" / "kursk.toml"
ARTICLES = ROOT / "tests" / "data" / "articles"

# Settings of the shared fit (and of any test that wants to reproduce it exactly).
FIT_SEED = 1
FIT_SETTINGS = dict(draws=300, tune=300, chains=2)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (hidden ones included), relative path -> bytes."""
    directory = Path(directory)
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def forked(monkeypatch) -> list[int]:
    """The pids of the children this process forks during the test (``os.fork`` recorded)."""
    pids: list[int] = []
    real_fork = os.fork

    def fork():
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return pids


@pytest.fixture
def ctrl_c_after_each_fork(forked, monkeypatch):
    """``os.fork`` (recorded by ``forked``) sends this process SIGINT as soon as it has forked, in
    the parent: a Ctrl-C arriving while a helper is being forked. SIGINT raises KeyboardInterrupt
    for the test's duration even where the test run started with it ignored (a background job)."""
    import signal

    real_fork = os.fork

    def fork():
        pid = real_fork()
        if pid:
            os.kill(os.getpid(), signal.SIGINT)
        return pid

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    monkeypatch.setattr(os, "fork", fork)
    try:
        yield forked
    finally:
        signal.signal(signal.SIGINT, previous)


def assert_all_reaped(pids: list[int]) -> None:
    """Every one of ``pids`` already reaped by this process: none left running or a zombie."""
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def results_snapshot(directory: Path) -> dict[str, bytes]:
    """What a reader of ``directory`` sees: every file outside the hidden store ``.reconcile/``,
    read through the links that lead into it (relative path -> bytes); a link that leads nowhere
    is a missing file."""
    directory = Path(directory)
    out = {}
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not (Path(root) == directory and d == ".reconcile"))
        for name in sorted(files + [d for d in dirs if (Path(root) / d).is_symlink()]):
            path = Path(root) / name
            if path.is_file():
                out[str(path.relative_to(directory))] = path.read_bytes()
    return out


@pytest.fixture(scope="session")
def shipped_fit():
    """A real fit of data/claims.csv with models/kursk.toml (seed 1, 300+300 draws, 2 chains)."""
    from reconcile.claims import read_claims
    from reconcile.config import load_config
    from reconcile.fitting import fit  # not ``reconcile.fit``: see test_fit.test_public_name_stays_the_function

    return fit(
        read_claims(CLAIMS_CSV),
        load_config(KURSK_TOML),
        seed=FIT_SEED,
        progress=False,
        **FIT_SETTINGS,
    )


@pytest.fixture(scope="session")
def shipped_fit_dir(shipped_fit, tmp_path_factory) -> Path:
    """The shared fit saved with ``Fit.save``; read-only for tests."""
    out = tmp_path_factory.mktemp("shipped_fit") / "results"
    shipped_fit.save(out)
    return out
