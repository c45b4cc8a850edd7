"""The files of a fit directory, written together: ``posterior.nc``, the tables
(:mod:`reconcile.summary` computes them), the figures and the report (:mod:`reconcile.report`).
Staged first and moved into place at the end, so a failure or an interruption leaves the previous
results untouched."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable, Iterator

from . import plots, report, summary
from ._io import staged_directory
from ._io import table_csv as _csv
from ._progress import stage

__all__ = ["write_outputs"]


def write_outputs(result, out_dir) -> list[Path]:
    """Write every file of a fit into ``out_dir``: staged first, then moved into place together,
    so a failure leaves the previous results in ``out_dir`` untouched."""
    with staged_directory(out_dir) as staging, _extras(result, staging) as write_extras:
        stage("saving posterior.nc and the tables")
        result.idata.to_netcdf(str(staging / "posterior.nc"), engine="h5netcdf")
        (staging / "estimates.csv").write_text(_csv(summary.estimates(result)), encoding="utf-8")
        (staging / "sources.csv").write_text(_csv(summary.sources(result)), encoding="utf-8")
        (staging / "claims_check.csv").write_text(_csv(summary.claims_check(result)), encoding="utf-8")
        (staging / "daily.csv").write_text(_csv(summary.daily(result)), encoding="utf-8")
        (staging / "diagnostics.json").write_text(result.diagnostics.to_json() + "\n", encoding="utf-8")
        write_extras()
        staged = sorted(p.relative_to(staging) for p in staging.rglob("*") if p.is_file())
    return [Path(out_dir) / p for p in staged]


@contextlib.contextmanager
def _extras(result, staging: Path) -> Iterator[Callable[[], object]]:
    """The figures and the report: the figures start drawing in forked children on entering, while
    the block writes ``posterior.nc`` and the tables (benchmarks/RESULTS.md, issue 20), and the
    call it is given finishes them and writes the report (a function of its own so that tests of
    the tables can skip them)."""
    with plots.started_plots(result, staging / "plots", busy=True) as figures:
        yield lambda: report.write_report(result, staging, figures=figures)
