"""The files of a fit directory, written together: ``posterior.nc``, the tables
(:mod:`reconcile.summary` computes them), the figures and the report (:mod:`reconcile.report`).
Staged first and moved into place at the end, so a failure or an interruption leaves the previous
results untouched."""

from __future__ import annotations

from pathlib import Path

from . import report, summary
from ._io import staged_directory
from ._io import table_csv as _csv
from ._progress import stage

__all__ = ["write_outputs"]


def write_outputs(result, out_dir) -> list[Path]:
    """Write every file of a fit into ``out_dir``: staged first, then moved into place together,
    so a failure leaves the previous results in ``out_dir`` untouched."""
    with staged_directory(out_dir) as staging:
        stage("saving posterior.nc and the tables")
        result.idata.to_netcdf(str(staging / "posterior.nc"), engine="h5netcdf")
        (staging / "estimates.csv").write_text(_csv(summary.estimates(result)), encoding="utf-8")
        (staging / "sources.csv").write_text(_csv(summary.sources(result)), encoding="utf-8")
        (staging / "claims_check.csv").write_text(_csv(summary.claims_check(result)), encoding="utf-8")
        (staging / "daily.csv").write_text(_csv(summary.daily(result)), encoding="utf-8")
        (staging / "diagnostics.json").write_text(result.diagnostics.to_json() + "\n", encoding="utf-8")
        _write_extras(result, staging)
        staged = sorted(p.relative_to(staging) for p in staging.rglob("*") if p.is_file())
    return [Path(out_dir) / p for p in staged]


def _write_extras(result, staging: Path) -> None:
    """The figures and the report (a function of its own so that tests of the tables can skip
    drawing them)."""
    report.write_report(result, staging)
