"""Progress of a long command, stage by stage, on standard error.

The library names the stages it goes through with :func:`stage` ("compiling the model",
"sampling", "drawing the figures", ...) and shows nothing unless a caller asked for progress with
:func:`reporting`: the command line does (not with ``--quiet``), and so does ``fit(progress=True)``
from Python. On a terminal, the current stage shows as a spinner with its elapsed time, and each
finished stage stays as one line with the seconds it took; elsewhere (a log file, a pipe, CI),
each stage is one plain line when it begins, with the time since the command began.
:func:`paused` lets a library with its own progress bar (nutpie's sampler) draw it meanwhile.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import IO, Iterator

_active: _Reporter | None = None


class _Reporter:
    def __init__(self, stream: IO[str], live: bool):
        self.stream = stream
        self.live = live
        self.started = time.perf_counter()
        self.label: str | None = None
        self.since = self.started
        self._bar = None
        self._task = None

    # -- stages -------------------------------------------------------------------------
    def stage(self, label: str) -> None:
        if label == self.label:
            return
        self._finish()
        self.label, self.since = label, time.perf_counter()
        if self.live:
            self._start_bar()
        else:
            print(f"reconcile: {label}... ({self.since - self.started:.0f} s)", file=self.stream, flush=True)

    def close(self) -> None:
        self._finish()
        self.label = None

    def _finish(self) -> None:
        if self.label is None:
            return
        if self.live:
            self._stop_bar()
            took = time.perf_counter() - self.since
            print(f"  {self.label}: {took:.1f} s", file=self.stream, flush=True)

    # -- the spinner (terminal only) ------------------------------------------------------
    def _start_bar(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(file=self.stream),
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(self.label or "", total=None)

    def _stop_bar(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        if not self.live or self._bar is None:
            yield
            return
        self._stop_bar()
        try:
            yield
        finally:
            if self.label is not None:
                self._start_bar()


def stage(label: str) -> None:
    """The run reached ``label`` (shown only while :func:`reporting` is on)."""
    if _active is not None:
        _active.stage(label)


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Hide the spinner while another progress bar draws (nothing to do off a terminal)."""
    if _active is None:
        yield
        return
    with _active.paused():
        yield


def is_reporting() -> bool:
    return _active is not None


@contextlib.contextmanager
def reporting(enabled: bool = True, stream: IO[str] | None = None) -> Iterator[None]:
    """Show the stages reached inside the block (``enabled=False``, or an outer
    :func:`reporting` already on: the block changes nothing)."""
    global _active
    if not enabled or _active is not None:
        yield
        return
    out = stream if stream is not None else sys.stderr
    live = bool(getattr(out, "isatty", lambda: False)())
    _active = _Reporter(out, live)
    try:
        yield
    finally:
        reporter, _active = _active, None
        reporter.close()
