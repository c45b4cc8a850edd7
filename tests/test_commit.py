"""The all-or-nothing commit of a results directory (reconcile._io.staged_directory), and the
fault-injection suite at the level of the commit.

A small worker process commits a set of files the way ``reconcile fit`` does (the same function,
without a model: fast). Through the test hook (RECONCILE_FAULT_AT) it is killed with SIGKILL,
SIGTERM or SIGINT at every stage of the commit: after staging, between each pair of its renames
(every link put in place, the switch, every file tidied away). After each kill the directory
must show either the complete old results or the complete new ones, byte for byte, and the next
run must succeed and leave nothing stale behind. The stages are not listed by hand: a clean run
traces the stages it goes through (RECONCILE_TRACE_STAGES), and the test signals at each.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import results_snapshot, snapshot

from reconcile import _io
from reconcile.errors import OutputError

OLD = {
    "posterior.nc": "old posterior",
    "estimates.csv": "old estimates",
    "sources.csv": "old sources",
    "claims_check.csv": "old claims check",
    "diagnostics.json": "old diagnostics",
    "report.html": "old report",
    "plots/cumulative.png": "old cumulative",
    "plots/retired.png": "a plot the new results no longer have",
}
NEW = {
    **{name: text.replace("old", "new") for name, text in OLD.items() if name != "plots/retired.png"},
    "plots/added.png": "a plot only the new results have",
}
NEWER = {name: text.replace("new", "newer") for name, text in NEW.items()}
USER_FILES = {"notes.txt": "a user's own file", "plots/mine.png": "a user's own plot"}

WORKER = textwrap.dedent(
    """
    import json, sys
    from reconcile._io import staged_directory
    from reconcile._signals import Interrupted, interrupts_raise

    out, files = sys.argv[1], json.loads(sys.argv[2])
    try:
        with interrupts_raise(), staged_directory(out) as staging:
            for name, text in files.items():
                path = staging / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    except Interrupted as exc:
        sys.exit(exc.exit_code)
    """
)


def _hangup_as_by_default() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def commit(
    out: Path, files: dict[str, str], *, at: str | None = None, sig: str = "KILL", trace: Path | None = None
) -> int:
    """Run the worker; returns its exit status (negative: killed by that signal)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILE_")}
    if at:
        env.update(RECONCILE_FAULT_AT=at, RECONCILE_FAULT_SIGNAL=sig)
    if trace:
        env["RECONCILE_TRACE_STAGES"] = str(trace)
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(out), json.dumps(files)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_hangup_as_by_default,  # (a test run under nohup would pass SIGHUP on ignored)
    )
    assert done.returncode in (0, -9, 129, 130, 143), done.stderr
    return done.returncode


def shown(files: dict[str, str], user: bool = True) -> dict[str, bytes]:
    """What the directory should show: these results (and the user's own files)."""
    out = {name: text.encode() for name, text in files.items()}
    if user:
        out.update({name: text.encode() for name, text in USER_FILES.items()})
    return out


def write_plain(out: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def store_entries(out: Path) -> list[str]:
    return sorted(os.listdir(out / ".reconcile"))


def assert_tidy(out: Path) -> None:
    """Nothing stale: the store holds the lock, the switch and one set of results; no link of
    ours leads nowhere; no hidden entry besides the store."""
    current = os.readlink(out / ".reconcile" / "fit")
    assert store_entries(out) == sorted(["fit", current, "lock"])
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [".reconcile"]
    for path in [*out.iterdir(), *(out / "plots").iterdir()]:
        assert not path.is_symlink() or path.exists(), f"{path}: a link that leads nowhere"


def stages_of(out: Path, files: dict[str, str], tmp_path: Path) -> list[str]:
    """The stages a clean commit of ``files`` into a copy of ``out`` goes through, with counts
    (``commit:link#2``: the second link put in place)."""
    import shutil

    probe = tmp_path / "probe"
    shutil.copytree(out, probe, symlinks=True)
    trace = tmp_path / "stages.txt"
    assert commit(probe, files, trace=trace) == 0
    seen: dict[str, int] = {}
    stages = []
    for name in trace.read_text().split():
        seen[name] = seen.get(name, 0) + 1
        stages.append(f"{name}#{seen[name]}")
    shutil.rmtree(probe)
    trace.unlink()
    return stages


# --------------------------------------------------------------------------------------
# Plain behaviour
# --------------------------------------------------------------------------------------


def test_first_commit_into_a_new_directory(tmp_path):
    out = tmp_path / "results"
    assert commit(out, NEW) == 0
    assert results_snapshot(out) == shown(NEW, user=False)
    assert _io.result_files(out) == sorted(NEW)
    assert (out / "estimates.csv").is_symlink() and (out / "plots").is_dir() and not (out / "plots").is_symlink()


def test_a_commit_replaces_the_results_and_leaves_other_files_alone(tmp_path):
    out = tmp_path / "results"
    assert commit(out, OLD) == 0
    write_plain(out, USER_FILES)
    assert commit(out, NEW) == 0
    assert results_snapshot(out) == shown(NEW)
    assert_tidy(out)


def test_results_of_earlier_versions_are_taken_over(tmp_path):
    """Plain files under the results' names (what earlier versions wrote) are replaced too."""
    out = tmp_path / "results"
    write_plain(out, {**OLD, **USER_FILES})
    assert commit(out, NEW) == 0
    # (a plain file the new results do not have is not known to be a result: it stays)
    assert results_snapshot(out) == shown(NEW) | {"plots/retired.png": OLD["plots/retired.png"].encode()}
    assert_tidy(out)


def test_a_failed_run_leaves_the_directory_byte_for_byte(tmp_path):
    out = tmp_path / "results"
    write_plain(out, {**OLD, **USER_FILES})
    before = snapshot(out)
    with pytest.raises(RuntimeError):
        with _io.staged_directory(out) as staging:
            (staging / "estimates.csv").write_text("half")
            raise RuntimeError("a bug while writing")
    assert snapshot(out) == before  # hidden files included: no store, lock or staging left


def test_a_failed_run_into_a_new_directory_leaves_no_directory(tmp_path):
    out = tmp_path / "results"
    with pytest.raises(RuntimeError):
        with _io.staged_directory(out) as staging:
            (staging / "estimates.csv").write_text("half")
            raise RuntimeError("a bug while writing")
    assert not out.exists()  # the run made it and wrote nothing whole there


def test_a_failed_run_into_an_existing_empty_directory_leaves_it(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    with pytest.raises(RuntimeError):
        with _io.staged_directory(out) as staging:
            (staging / "estimates.csv").write_text("half")
            raise RuntimeError("a bug while writing")
    assert list(out.iterdir()) == []


def test_keep_carries_files_of_the_current_results(tmp_path):
    out = tmp_path / "results"
    assert commit(out, OLD) == 0
    with _io.staged_directory(out, keep=("posterior.nc", "estimates.csv", "absent.csv")) as staging:
        (staging / "report.html").write_text("redrawn")
    assert results_snapshot(out) == {
        "posterior.nc": b"old posterior",
        "estimates.csv": b"old estimates",
        "report.html": b"redrawn",
    }


def test_another_run_writing_the_directory_is_refused(tmp_path):
    out = tmp_path / "results"
    with _io.results_directory(out):
        holder = subprocess.run(
            [
                sys.executable,
                "-c",
                f"from reconcile._io import results_directory\nwith results_directory({str(out)!r}): pass",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert holder.returncode != 0 and "another reconcile run is writing here" in holder.stderr
        with _io.results_directory(out):  # re-entrant in one process
            pass


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forked drawing children exist only where fork does")
def test_a_forked_child_does_not_keep_the_directory_locked(tmp_path):
    """A process forked while its parent writes a directory (a drawing child of save_plots) gives
    up its copy of the lock at the fork, without unlocking it: the parent still holds the
    directory, and once the parent lets go (or dies), another run may write it at once, though
    the child lives on."""
    import fcntl

    out = tmp_path / "results"
    (out / _io.STORE).mkdir(parents=True)  # a directory written before: its lock file stays
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    with _io.results_directory(out):
        pid = os.fork()
        if pid == 0:  # the child: say it is there, then wait to be told to go
            try:
                os.write(ready_w, b"x")
                os.read(go_r, 1)
            finally:
                os._exit(0)
        try:
            assert os.read(ready_r, 1) == b"x"
            probe = os.open(out / _io.STORE / _io._LOCK, os.O_RDWR)
            try:  # still the parent's
                with pytest.raises(BlockingIOError):
                    fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(probe)
        except BaseException:
            os.write(go_w, b"x")
            os.waitpid(pid, 0)
            raise
    try:  # the parent let go; the child is alive and does not hold it
        with _io.results_directory(out):
            pass
        assert os.waitpid(pid, os.WNOHANG) == (0, 0)  # (still alive)
    finally:
        os.write(go_w, b"x")
        os.waitpid(pid, 0)
        for fd in (ready_r, ready_w, go_r, go_w):
            os.close(fd)


def test_stale_staging_of_a_killed_run_is_removed_by_the_next(tmp_path):
    out = tmp_path / "results"
    assert commit(out, OLD) == 0
    store = out / ".reconcile"
    (store / "fit.19990101T000000.1.abcdef").mkdir()  # a killed run's staging
    (store / "fit.19990101T000000.1.abcdef" / "estimates.csv").write_text("partial")
    os.symlink("fit.19990101T000000.1.abcdef", store / ".link.x.19990101T000000.1.abcdef")
    (out / ".reconcile-staging-abc").mkdir()  # (an earlier version's staging folder)
    (out / ".reconcile-backup-abc").mkdir()  # (and its backup of replaced files, obsolete once a commit is done)
    (out / ".reconcile-backup-abc" / "estimates.csv").write_text("older")
    assert commit(out, NEW) == 0
    assert results_snapshot(out) == shown(NEW, user=False)
    assert_tidy(out)


@pytest.mark.parametrize("obstacle", ["plots is a file", "estimates.csv is a directory", "plots is a link"])
def test_something_in_the_way_of_a_results_file_is_refused_and_nothing_changes(tmp_path, obstacle):
    out = tmp_path / "results"
    out.mkdir()
    if obstacle == "plots is a file":
        (out / "plots").write_text("not a directory")
    elif obstacle == "estimates.csv is a directory":
        (out / "estimates.csv").mkdir()
    else:
        (tmp_path / "elsewhere").mkdir()
        os.symlink(tmp_path / "elsewhere", out / "plots")
    before = snapshot(out)
    with pytest.raises(OutputError, match="move it away"):
        with _io.staged_directory(out) as staging:
            write_plain(staging, NEW)
    assert snapshot(out) == before
    assert list((tmp_path / "elsewhere").iterdir()) == [] if obstacle == "plots is a link" else True


def test_a_file_system_without_links_is_refused_before_any_work(tmp_path, monkeypatch):
    def no_links(*args, **kwargs):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "symlink", no_links)
    with pytest.raises(OutputError, match="symbolic links"):
        with _io.results_directory(tmp_path / "results"):
            pass


def test_a_failing_rename_at_any_step_keeps_the_old_results(tmp_path, monkeypatch):
    """Each rename of the commit in turn fails (no space left): the old results stay, and the
    next run succeeds."""
    import shutil

    template = tmp_path / "template"
    write_plain(template, {**OLD, **USER_FILES})  # an earlier version's files: the longest commit
    retired = {"plots/retired.png": OLD["plots/retired.png"].encode()}  # (not known as a result: stays)
    real_replace = os.replace
    step = 0
    while True:
        step += 1
        out = tmp_path / f"step-{step}"
        shutil.copytree(template, out, symlinks=True)
        calls = []

        def flaky(src, dst, *args, **kwargs):  # used within this iteration only
            calls.append(dst)  # noqa: B023
            if len(calls) == step:  # noqa: B023
                raise OSError(28, "No space left on device")
            return real_replace(src, dst, *args, **kwargs)

        monkeypatch.setattr(os, "replace", flaky)
        try:
            with _io.staged_directory(out) as staging:
                write_plain(staging, NEW)
        except OutputError as exc:
            monkeypatch.undo()
            assert "earlier results left as they were" in str(exc)
            assert results_snapshot(out) == shown(OLD), f"rename {step} failed"
            with _io.staged_directory(out) as staging:
                write_plain(staging, NEWER)
            assert results_snapshot(out) == shown(NEWER) | retired
            assert_tidy(out)
            continue
        monkeypatch.undo()
        break
    assert step > 10  # the migration's switch, 8 links, 1 new link, the switch: each failed once
    assert results_snapshot(out) == shown(NEW) | retired
    assert_tidy(out)


# --------------------------------------------------------------------------------------
# Fault injection: a kill at every stage of the commit
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "sig"),
    [
        ("earlier results", "KILL"),
        ("earlier results", "TERM"),
        ("earlier results", "INT"),
        ("earlier results", "HUP"),
        ("results of an earlier version", "KILL"),
        pytest.param("results of an earlier version", "TERM", marks=pytest.mark.slow),
        pytest.param("results of an earlier version", "INT", marks=pytest.mark.slow),
    ],
)
def test_a_kill_at_any_stage_of_the_commit_leaves_old_or_new_results(tmp_path, start, sig):
    template = tmp_path / "template"
    if start == "earlier results":
        assert commit(template, OLD) == 0
        write_plain(template, USER_FILES)
    else:  # plain files, as earlier versions of reconcile wrote them: the commit moves them first
        write_plain(template, {**OLD, **USER_FILES})
    stages = stages_of(template, NEW, tmp_path)
    old, new = shown(OLD), shown(NEW)
    if start != "earlier results":  # (a plain file the new results do not have stays as it is)
        new["plots/retired.png"] = OLD["plots/retired.png"].encode()
    assert "commit:switch#1" in stages and "commit:switched#1" in stages
    if start != "earlier results":
        assert "commit:migrated#1" in stages and "commit:relink#7" in stages
    import shutil

    outcomes = {}
    for stage in stages:
        out = tmp_path / f"at-{stage.replace(':', '-').replace('#', '-')}"
        shutil.copytree(template, out, symlinks=True)
        code = commit(out, NEW, at=stage, sig=sig)
        expected_code = {"KILL": -signal.SIGKILL, "TERM": 143, "INT": 130, "HUP": 129}[sig]
        assert code == expected_code, f"{stage}: exit {code}"
        seen = results_snapshot(out)
        assert seen in (old, new), f"killed ({sig}) at {stage}: a mix of old and new results"
        outcomes[stage] = "new" if seen == new else "old"
        if sig != "KILL":  # an interrupted run cleans up after itself
            if (out / ".reconcile").exists():
                entries = store_entries(out)
                assert len(entries) == 3, f"{stage}: {entries}"  # lock, switch, one set of results
            else:  # interrupted before anything was committed there: the directory as it was found
                assert snapshot(out) == snapshot(template), stage
        # the next run succeeds and leaves nothing stale
        with _io.staged_directory(out) as staging:  # (in this process: the same code, faster)
            write_plain(staging, NEWER)
        newer = shown(NEWER) | (
            {} if start == "earlier results" else {"plots/retired.png": OLD["plots/retired.png"].encode()}
        )
        assert results_snapshot(out) == newer
        assert_tidy(out)
        shutil.rmtree(out)
    # before the switch the old results show, from the switch on the new ones
    switched = stages.index("commit:switched#1")
    assert all(outcomes[s] == "old" for s in stages[:switched]), outcomes
    assert all(outcomes[s] == "new" for s in stages[switched:]), outcomes


def test_a_hangup_interrupts_unless_it_was_ignored():
    """A closed terminal (SIGHUP) unwinds a run like Ctrl-C; under nohup (SIGHUP ignored) the run
    goes on, as nohup promises."""
    from reconcile._signals import interrupts_raise

    before = signal.getsignal(signal.SIGHUP)
    try:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        with interrupts_raise():
            assert signal.getsignal(signal.SIGHUP) not in (signal.SIG_DFL, signal.SIG_IGN)
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL  # put back as it was
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        with interrupts_raise():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before)
