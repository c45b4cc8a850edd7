"""Atomic file output: write to a temporary name in the same directory, then rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import OutputError


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


def _commit(staging: Path, out: Path) -> list[Path]:
    """Move every file of ``staging`` into ``out`` as one transaction.

    Each file replaces its namesake with an atomic rename; the files it replaces are kept aside
    until all moves succeeded. If one fails, everything already moved is undone, so ``out``
    holds either all the new files or all the old ones.
    """
    backup = Path(tempfile.mkdtemp(prefix=".reconcile-backup-", dir=out))
    done: list[tuple[Path, Path | None]] = []
    try:
        for source in sorted(p for p in staging.rglob("*") if p.is_file()):
            relative = source.relative_to(staging)
            target = out / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            kept = None
            if target.exists():
                kept = backup / relative
                kept.parent.mkdir(parents=True, exist_ok=True)
                os.replace(target, kept)
            done.append((target, kept))
            os.replace(source, target)
        return [target for target, _ in done]
    except BaseException:
        for target, kept in reversed(done):
            if kept is not None and kept.exists():
                os.replace(kept, target)
            elif kept is None:
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
        raise
    finally:
        shutil.rmtree(backup, ignore_errors=True)


@contextlib.contextmanager
def staged_directory(out_dir: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty staging directory; when the block succeeds, its files replace those in
    ``out_dir`` all together (see :func:`_commit`). On any failure ``out_dir`` is left as it was
    and the staging directory is removed. Write failures become :class:`OutputError`."""
    out = writable_directory(out_dir)
    staging = Path(tempfile.mkdtemp(prefix=".reconcile-staging-", dir=out))
    try:
        yield staging
        _commit(staging, out)
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(f"{out}: writing the results failed ({exc}); earlier results left as they were") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
