"""Output that appears whole or not at all, and never in place of an input.

One file: :func:`atomic_path` and :func:`atomic_write_text` write to a temporary name in the same
directory, then rename.

A set of files (a fit's results): :func:`staged_directory`. The files of each completed run live
in a directory of their own under ``DIR/.reconcile/``, and the names a user opens are relative
symbolic links that go through one switch::

    DIR/estimates.csv      -> .reconcile/fit/estimates.csv
    DIR/plots/sources.png  -> ../.reconcile/fit/plots/sources.png
    DIR/.reconcile/fit     -> fit.20261203T190102.4242.a1b2c3   (the switch, itself a link)
    DIR/.reconcile/fit.20261203T190102.4242.a1b2c3/           (one complete set of results)
    DIR/.reconcile/lock                                       (held by the run writing DIR)

A run writes its files into a new directory under ``.reconcile/``, makes sure every name it
writes has its link, and then replaces the switch with one ``rename``: an atomic step, so
whatever happens to the process (SIGKILL included), every name in ``DIR`` leads to the old
results or every name leads to the new ones. Names that lead nowhere (a link whose file the
current results do not have) read as missing files. The previous results' directory is removed
afterwards, and whatever a killed run left under ``.reconcile/`` is removed by the next run.
``DIR`` itself is never renamed or replaced, so it may be the working directory, a mount point
or hold other files, which are left alone.

Results written by earlier versions of reconcile (ordinary files under the same names) are first
moved under ``.reconcile/`` unchanged (hard links, one name at a time: each step shows the same
bytes), then replaced as above.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from . import _signals
from .errors import OutputError

try:  # POSIX only: the lock of an output directory
    import fcntl
except ImportError:  # pragma: no cover - reconcile runs on Linux
    fcntl = None  # type: ignore[assignment]

#: The hidden directory of DIR that holds the results and the lock.
STORE = ".reconcile"
_LOCK = "lock"

#: Text cells beginning with one of these would run as a formula in a spreadsheet (OWASP, "CSV
#: injection"): CSV outputs write them with a leading apostrophe, and the claims reader removes it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --------------------------------------------------------------------------------------
# One file
# --------------------------------------------------------------------------------------


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it onto ``path``.

    On any exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; results are ordinary files
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding, newline="")


def writable_directory(out_dir: str | os.PathLike) -> Path:
    """Create ``out_dir`` if needed and check files can be written there (before any long work)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".reconcile-probe-"):
            pass
    except OSError as exc:
        raise OutputError(f"{out}: cannot write here ({exc.strerror or exc})") from None
    return out


# --------------------------------------------------------------------------------------
# CSV outputs and inputs
# --------------------------------------------------------------------------------------


def _neutralised(value):
    if isinstance(value, str) and value[:1] in FORMULA_START:
        return "'" + value
    return value


def spreadsheet_safe(frame):
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas: a text cell that
    begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe
    (OWASP's advice against CSV injection). Numbers, negative ones included, are left alone."""
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            out[column] = series.map(_neutralised, na_action="ignore")
    return out


def csv_text(frame, **options) -> str:
    """``frame`` as CSV text (no index), safe to open in a spreadsheet. Lines end with ``\\n``;
    with ``\\r\\n`` when a text cell holds a carriage return (the csv module quotes a cell only for
    the characters of the line end it writes, and an unquoted one would split the row)."""
    safe = spreadsheet_safe(frame)
    text_cells = [safe[c] for c in safe.columns if safe[c].dtype == object or _is_text(safe[c].dtype)]
    has_cr = any(series.map(lambda v: isinstance(v, str) and "\r" in v).any() for series in text_cells)
    return safe.to_csv(index=False, lineterminator="\r\n" if has_cr else "\n", **options)


def table_csv(frame) -> str:
    """A result table as CSV text (:func:`csv_text`, numbers to six significant digits): what
    every table reconcile writes looks like."""
    return csv_text(frame, float_format="%.6g")


def _is_text(dtype) -> bool:
    import pandas as pd

    return isinstance(dtype, pd.StringDtype)


def refuse_overwriting(inputs: Mapping[str, str | os.PathLike | None], outputs: Iterable[str | os.PathLike]) -> None:
    """Raise :class:`OutputError` when an output (a file, or a directory and all it holds) is, or
    holds, one of the ``inputs`` (label -> path): the run would destroy its own input."""
    outputs = [Path(o) for o in outputs]
    for label, given in inputs.items():
        if given is None or not os.path.lexists(given):
            continue  # a missing input is its reader's to report
        real = os.path.realpath(given)
        for out in outputs:
            target = os.path.realpath(out)
            hit = real == target or real.startswith(target.rstrip(os.sep) + os.sep)
            if not hit and os.path.exists(out):
                with contextlib.suppress(OSError):
                    hit = os.path.samefile(given, out)
            if hit:
                raise OutputError(
                    f"{out}: writing this output would overwrite the {label} {os.fspath(given)}; "
                    "choose another output location (nothing was written)"
                )


# --------------------------------------------------------------------------------------
# The lock of an output directory
# --------------------------------------------------------------------------------------

_held: dict[str, list] = {}  # realpath of a store -> [lock fd, depth]: re-entrant in one process


def _lock(store: Path) -> int:
    for _ in range(10):
        store.mkdir(exist_ok=True)
        try:
            fd = os.open(store / _LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except FileNotFoundError:  # the store was removed meanwhile by a run that ended
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            mine = os.fstat(fd)
            try:
                now = os.stat(store / _LOCK)
            except FileNotFoundError:
                now = None
        except BaseException:
            os.close(fd)
            raise
        if now is not None and (now.st_ino, now.st_dev) == (mine.st_ino, mine.st_dev):
            return fd
        os.close(fd)  # locked a lock file that a finishing run had just removed: again
    raise OSError(errno.EAGAIN, "could not take the lock of the output directory")


def _close_locks_in_child() -> None:
    """In a process forked while this one held output locks (a drawing child of
    :func:`reconcile.plots.save_plots`), at the fork: close its inherited copies of the lock
    files, without unlocking them. The parent keeps its locks; and when the parent dies, even
    killed outright, its locks go with it at once, not when a child it leaves behind has died too
    (the next run would otherwise find the directory locked for that moment)."""
    for fd, _depth in _held.values():
        with contextlib.suppress(OSError):
            os.close(fd)


if hasattr(os, "register_at_fork"):  # every fork, whoever makes it: a lock is its holder's alone
    os.register_at_fork(after_in_child=_close_locks_in_child)


def _check_links(store: Path) -> None:
    probe = store / f".probe.{os.getpid()}.{secrets.token_hex(3)}"
    try:
        os.symlink(_LOCK, probe)
    except OSError as exc:
        raise OutputError(
            f"{store.parent}: this file system cannot hold symbolic links ({exc.strerror or exc}), which "
            "reconcile needs to replace results all at once; write them to another directory"
        ) from None
    probe.unlink()


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()


def _switches(store: Path) -> dict[str, str]:
    """kind -> the name of its current results directory."""
    out = {}
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(store):
            if entry.is_symlink() and "." not in entry.name:
                out[entry.name] = os.readlink(entry.path)
    return out


def _remove_stale(out: Path, store: Path, keep: Iterable[str] = ()) -> None:
    """Remove what a killed run left: directories of results that are no longer (or never
    became) current, links half made, staging folders of earlier versions of reconcile."""
    switches = _switches(store)
    kept = {_LOCK, *switches, *switches.values(), *keep}
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(store):
            if entry.name not in kept:
                _remove(Path(entry.path))
    with contextlib.suppress(OSError):
        for entry in os.scandir(out):
            if entry.name.startswith(".reconcile-staging-"):  # (versions before the store)
                _remove(Path(entry.path))


@contextlib.contextmanager
def results_directory(out_dir: str | os.PathLike) -> Iterator[Path]:
    """Hold ``out_dir`` for this run: create it if needed, take its lock (another run writing
    there is refused), check it can hold the results, and remove what killed runs left there.
    Re-entrant within a process. When the block ends and nothing was ever committed there, the
    directory is left as it was found."""
    out = Path(out_dir)
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write here ({exc.strerror or exc})") from None
    store = out / STORE
    key = os.path.realpath(store)
    if key in _held:
        _held[key][1] += 1
        try:
            yield out
        finally:
            _held[key][1] -= 1
        return
    if fcntl is None:  # pragma: no cover
        raise OutputError(f"{out}: reconcile writes results only on POSIX systems")
    had_store = store.exists()
    try:
        fd = _lock(store)
    except BlockingIOError:
        raise OutputError(f"{out}: another reconcile run is writing here; wait for it to finish") from None
    except OSError as exc:
        raise OutputError(f"{out}: cannot write here ({exc.strerror or exc})") from None
    _held[key] = [fd, 1]
    try:
        _check_links(store)
        _remove_stale(out, store)
        yield out
    finally:
        del _held[key]
        try:
            _remove_stale(out, store)
            if not had_store and not _switches(store):  # nothing committed: leave no trace
                with contextlib.suppress(OSError):
                    (store / _LOCK).unlink()
                    store.rmdir()
        finally:
            os.close(fd)
            if created:  # a directory this run made and nothing was written to
                with contextlib.suppress(OSError):
                    out.rmdir()  # (refuses a directory that is not empty)


# --------------------------------------------------------------------------------------
# Staging and the commit
# --------------------------------------------------------------------------------------


def _files(directory: Path | None) -> list[str]:
    """Relative paths (``/``-separated) of the regular files under ``directory``."""
    if directory is None or not directory.is_dir():
        return []
    return sorted(
        p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file() and not p.is_symlink()
    )


def _link_target(out: Path, name: str, kind: str) -> str:
    return os.path.relpath(out / STORE / kind / name, (out / name).parent)


def _is_ours(out: Path, name: str, kind: str) -> bool:
    path = out / name
    return path.is_symlink() and os.readlink(path) == _link_target(out, name, kind)


def _token(kind: str) -> str:
    return f"{kind}.{time.strftime('%Y%m%dT%H%M%S')}.{os.getpid()}.{secrets.token_hex(3)}"


def _new_version(store: Path, kind: str) -> Path:
    path = store / _token(kind)
    path.mkdir()
    return path


def _swap_in_link(store: Path, link_target: str, destination: Path) -> None:
    """Make ``destination`` a symbolic link to ``link_target`` in one rename (made in the store,
    which is on the same file system, so a killed run leaves nothing half made outside it)."""
    tmp = store / f".link.{_token('x')}"
    os.symlink(link_target, tmp)
    try:
        os.replace(tmp, destination)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _switch(store: Path, kind: str, version: str) -> None:
    _swap_in_link(store, version, store / kind)
    _fsync_directory(store)


def _fsync_directory(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_tree(directory: Path) -> None:
    """Flush every file and directory under ``directory`` to disk (the switch must not reach the
    disk before the files it points to)."""
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        elif path.is_dir():
            _fsync_directory(path)
    _fsync_directory(directory)


def _link_or_copy(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:  # (resolved here: os.link may link a symbolic link itself rather than its file)
        os.link(os.path.realpath(source), destination)
    except OSError:
        shutil.copy2(source, destination)


def _check_places(out: Path, names: Iterable[str]) -> None:
    """Every name must be free for a link: not a directory, under real directories of DIR."""
    for name in names:
        path = out / name
        for parent in reversed(path.relative_to(out).parents[:-1]):
            place = out / parent
            if os.path.lexists(place) and (place.is_symlink() or not place.is_dir()):
                raise OutputError(f"{place}: expected a directory for the results' files here; move it away")
        if path.is_dir():
            raise OutputError(f"{path}: a directory is in the way of a results file; move it away")


def _dangling(out: Path, kind: str, names: Iterable[str]) -> list[str]:
    """Our links that lead nowhere (files the current results do not have, or links a killed run
    made), in the directories where ``names`` live: they read as missing files, and go."""
    found = []
    for folder in sorted({Path(name).parent for name in names} | {Path(".")}):
        with contextlib.suppress(OSError):
            for entry in os.scandir(out / folder):
                name = (folder / entry.name).as_posix()
                if entry.is_symlink() and _is_ours(out, name, kind) and not os.path.exists(entry.path):
                    found.append(name)
    return sorted(found)


def _commit(out: Path, kind: str, version: Path) -> None:
    """Make the files of ``version`` the results of ``kind`` in ``out``, all at once (see the
    module's docstring). Each step below leaves every name of ``out`` showing the complete old
    results, until the one rename of the switch shows the complete new ones."""
    store = out / STORE
    switch = store / kind
    old = store / os.readlink(switch) if switch.is_symlink() else None
    old = old if old is not None and old.is_dir() else None
    new_files, old_files = _files(version), _files(old)
    names = sorted(set(new_files) | set(old_files))
    _check_places(out, names)

    # 1. Results under our names that are not our links (earlier versions' files, or another
    #    file under one of our names): move them into the store as they are, then link them.
    foreign = [n for n in names if os.path.lexists(out / n) and not _is_ours(out, n, kind)]
    if foreign:
        _signals.checkpoint("commit:migrating")
        moved = _new_version(store, kind)
        for name in names:
            source = out / name if name in foreign else (old / name if old is not None and name in old_files else None)
            if source is not None and source.is_file():
                _link_or_copy(source, moved / name)
        _fsync_tree(moved)
        _switch(store, kind, moved.name)  # the same bytes under every name, now through the switch
        _signals.checkpoint("commit:migrated")
        if old is not None:
            _remove(old)
        old, old_files = moved, _files(moved)
        for name in foreign:
            _swap_in_link(store, _link_target(out, name, kind), out / name)
            _signals.checkpoint("commit:relink")  # (one rename per name: the same bytes before and after)

    # 2. A link for every new name (a new name's link leads nowhere until the switch: missing).
    for name in new_files:
        if not _is_ours(out, name, kind):
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            _swap_in_link(store, _link_target(out, name, kind), out / name)
            _signals.checkpoint("commit:link")
    for folder in sorted({(out / name).parent for name in new_files}):
        _fsync_directory(folder)
    _fsync_tree(version)
    _signals.checkpoint("commit:switch")

    # 3. The switch: one rename.
    with _signals.deferred():
        _switch(store, kind, version.name)
        _signals.committed = True
        _signals.checkpoint("commit:switched")

    # 4. Tidy up (best effort: the new results are in place whatever happens here).
    with contextlib.suppress(OSError):
        if old is not None:
            _remove(old)
            _signals.checkpoint("commit:tidy")
        for name in _dangling(out, kind, names):  # files the new results do not have
            (out / name).unlink()
            _signals.checkpoint("commit:unlink")
        for entry in os.scandir(out):  # earlier versions' backups of replaced files: obsolete now
            if entry.name.startswith(".reconcile-backup-"):
                _remove(Path(entry.path))
        _fsync_directory(out)
    _signals.checkpoint("commit:done")


@contextlib.contextmanager
def staged_directory(out_dir: str | os.PathLike, kind: str = "fit", keep: Iterable[str] = ()) -> Iterator[Path]:
    """Yield an empty staging directory; when the block succeeds, its files become the results
    of ``kind`` in ``out_dir``, all at once (see the module's docstring), replacing the previous
    results of that kind. ``keep`` names files of the current results to carry into the new
    ones unchanged (``reconcile report`` keeps the posterior and tables, and redraws the rest).

    On any failure or interruption before the switch, ``out_dir`` shows the previous results
    and the staging directory is removed. Write failures become :class:`OutputError`."""
    if not kind or "." in kind or "/" in kind:
        raise ValueError(f"kind must be a plain name, got {kind!r}")
    _signals.committed = False
    with results_directory(out_dir) as out:
        store = out / STORE
        version = None
        try:
            version = _new_version(store, kind)
            for name in keep:
                if (out / name).is_file():
                    _link_or_copy(out / name, version / name)
            yield version
            _signals.checkpoint("staged")
            _commit(out, kind, version)
        except OutputError:
            raise
        except OSError as exc:
            if _signals.committed:
                raise
            raise OutputError(f"{out}: writing the results failed ({exc}); earlier results left as they were") from None
        finally:
            if version is not None and _switches(store).get(kind) != version.name:
                names = _files(version)
                _remove(version)
                with contextlib.suppress(OSError):  # links made for this run's new names
                    for name in _dangling(out, kind, names):
                        (out / name).unlink()


def result_files(out_dir: str | os.PathLike, kind: str = "fit") -> list[str]:
    """The files of the current results of ``kind`` in ``out_dir`` (relative paths)."""
    store = Path(out_dir) / STORE
    current = _switches(store).get(kind)
    return _files(store / current) if current else []
