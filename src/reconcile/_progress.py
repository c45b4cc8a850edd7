"""Progress of a long command, stage by stage, through :mod:`logging`.

The library names the stages it goes through with :func:`stage` ("compiling the model",
"sampling", "drawing the figures", ...): each is an INFO record of the ``reconcile.progress``
logger, and the library writes nothing itself. A program that configures logging sees them there
(``logging.basicConfig(level=logging.INFO)``); by default (Python's WARNING level) they show
nowhere. :func:`reporting` installs the handler that shows them on standard error for the span of
a block: the command line does (not with ``--quiet``), and so does ``fit(progress=True)`` from
Python. On a terminal, the current stage shows as a spinner with its elapsed time, and each
finished stage stays as one line with the seconds it took; elsewhere (a log file, a pipe, CI),
each stage is one plain line when it begins, with the time since the command began.
:func:`paused` lets a library with its own progress bar (nutpie's sampler) draw it meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from typing import IO, Iterator

#: the logger of the stages; a record's message is the stage's name
log = logging.getLogger("reconcile.progress")

_active: _Reporter | None = None


class _Reporter(logging.Handler):
    """Shows each stage record on a stream: a spinner and a line per finished stage on a terminal,
    one plain line per stage elsewhere."""

    def __init__(self, stream: IO[str], live: bool):
        super().__init__(logging.INFO)
        self.stream = stream
        self.live = live
        self.started = time.perf_counter()
        self.label: str | None = None
        self.since = self.started
        self._bar = None
        self._task = None

    def emit(self, record: logging.LogRecord) -> None:
        self.stage(record.getMessage())

    # -- stages -------------------------------------------------------------------------
    def stage(self, label: str) -> None:
        if label == self.label:
            return
        self._finish()
        self.label, self.since = label, time.perf_counter()
        if self.live:
            self._start_bar()
        else:
            self._line(f"reconcile: {label}... ({self.since - self.started:.0f} s)")

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        self._finish()
        self.label = None
        super().close()

    def _finish(self) -> None:
        if self.label is None:
            return
        if self.live:
            self._stop_bar()
            took = time.perf_counter() - self.since
            self._line(f"  {self.label}: {took:.1f} s")

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
            # rich's stop() only asks its refresh thread to end; wait for it, so that nothing
            # draws (or holds the terminal's lock) once the spinner is stopped
            thread = getattr(getattr(self._bar, "live", None), "_refresh_thread", None)
            self._bar.stop()
            if thread is not None:
                thread.join(timeout=1.0)
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
    """The run reached ``label``: an INFO record of the ``reconcile.progress`` logger (shown on
    standard error while :func:`reporting` is on, and wherever the program's logging sends it)."""
    log.info("%s", label)


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
    level, propagate = log.level, log.propagate
    log.addHandler(_active)
    # shown here, so not again by the program's own handlers; INFO passes whatever the root level
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        yield
    finally:
        reporter, _active = _active, None
        log.removeHandler(reporter)
        log.setLevel(level)
        log.propagate = propagate
        reporter.close()
