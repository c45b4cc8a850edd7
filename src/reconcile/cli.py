"""The ``reconcile`` command: argument parsing and exit codes only; the work is in the library.

Exit codes: 0 success, 1 some fits of a many-fit command (calibrate, loso, sensitivity) failed
(the others are kept; rerun to retry), 2 wrong usage, 3 ``--strict`` and the fit did not converge,
65 the input (claims or configuration) breaks the contract, 66 an input file is missing or
unreadable, 69 the Dask scheduler cannot be reached, 73 the output cannot be written.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_CONVERGED = 0, 1, 2, 3
EXIT_DATAERR, EXIT_NOINPUT, EXIT_UNAVAILABLE, EXIT_CANTCREAT = 65, 66, 69, 73


def _err(message: str) -> None:
    print(f"reconcile: {message}", file=sys.stderr)


@contextlib.contextmanager
def _writing(target):
    """Failures to write an output file are output errors (exit 73), not missing inputs."""
    from .errors import OutputError

    try:
        yield
    except OSError as exc:
        raise OutputError(f"{target}: cannot write here ({exc.strerror or exc})") from None


def _load_claims(path: str):
    from .claims import read_claims

    return read_claims(path)


def cmd_validate(args) -> int:
    claims = _load_claims(args.claims)
    print(f"{args.claims}: valid, {len(claims)} claims")
    print(claims.describe())
    return EXIT_OK


def cmd_extract(args) -> int:
    from .article import ArticleError
    from .extract import combine, extract_paths, write_candidates
    from .review import ReviewError
    from .tables import TableError, load_populations, load_sources

    try:
        sources = load_sources(args.sources)
        populations = load_populations(args.populations)
        existing = None
        if args.merge:
            from .review import read_claims_table

            existing = read_claims_table(args.merge)
        found = extract_paths([Path(p) for p in args.articles], language=args.language, sources=sources,
                              populations=populations, encoding=args.encoding)
    except (ArticleError, TableError, ReviewError) as exc:
        _err(f"{exc}; nothing was written.")
        return EXIT_DATAERR
    frame = combine(found)
    for e in found:
        for s in e.skipped:
            print(f"skipped ({s.citation}): {s.phrase!r}: {s.reason}\n    in: {' '.join(s.quote.split())}",
                  file=sys.stderr)
    if args.skipped:
        import pandas as pd

        from ._io import atomic_path

        table = pd.DataFrame([{"citation": s.citation, "phrase": s.phrase, "kind": s.kind, "reason": s.reason,
                               "quote": s.quote} for e in found for s in e.skipped],
                             columns=["citation", "phrase", "kind", "reason", "quote"])
        with _writing(args.skipped), atomic_path(args.skipped) as tmp:
            table.to_csv(tmp, index=False, lineterminator="\n")
    if existing is not None:
        return _extract_merge(args, existing, frame)
    if args.out:
        from ._io import atomic_path

        with _writing(args.out), atomic_path(args.out) as tmp:
            write_candidates(frame, tmp)
        print(f"{len(frame)} candidate claims written to {args.out}; review them before use", file=sys.stderr)
    else:
        write_candidates(frame, sys.stdout)
    _print_blanks(frame)
    return EXIT_OK


def _print_blanks(frame) -> None:
    from .extract import BLANKS_TO_FILL

    counts = {c: int((frame[c] == "").sum()) for c in BLANKS_TO_FILL if len(frame)}
    counts = {c: n for c, n in counts.items() if n}
    if counts:
        listed = ", ".join(f"{c} in {n} row{'s' if n != 1 else ''}" for c, n in counts.items())
        print(f"left blank for you to fill (the text does not say): {listed}; each row's notes say why",
              file=sys.stderr)


def _extract_merge(args, existing, frame) -> int:
    from .claims import validate_claims
    from .review import blanks_to_fill, merge_candidates, write_merged

    result = merge_candidates(existing, frame)
    target = args.out
    if target:
        from ._io import atomic_path

        with _writing(target), atomic_path(target) as tmp:
            write_merged(existing, result.new, tmp)
    else:
        write_merged(existing, result.new, sys.stdout)
    n_old, n_new = len(existing.rows), len(result.new)
    where = target or "standard output"
    first_new = n_old + 2
    span = f" (rows {first_new}-{first_new + n_new - 1})" if n_new else ""
    print(f"{where}: the {n_old} claims of {existing.path}, then {n_new} new candidate{'s' if n_new != 1 else ''}"
          f"{span}; {len(result.already)} candidate{'s' if len(result.already) != 1 else ''} already in "
          f"{existing.path} left out; {len(result.relays)} likely relay{'s' if len(result.relays) != 1 else ''} "
          "marked in derived_from", file=sys.stderr)
    for cand, claim, why in result.already:
        print(f"  already there: {cand} = {claim} ({why})", file=sys.stderr)
    if target and n_new:
        blanks, other = blanks_to_fill(validate_claims(target), first_new)
        if blanks:
            print(f"to fill before `reconcile validate {target}` passes ({len(blanks)} cells):", file=sys.stderr)
            for p in blanks:
                print(f"  row {p.row}, column {p.column!r}", file=sys.stderr)
        if other:
            print(f"other problems `reconcile validate {target}` reports:", file=sys.stderr)
            for p in other:
                print(f"  {p}", file=sys.stderr)
        if not blanks and not other:
            print(f"{target} validates as it is; review the new rows all the same", file=sys.stderr)
    return EXIT_OK


def cmd_fit(args) -> int:
    from ._io import writable_directory
    from .config import load_config
    from .fitting import fit

    claims = _load_claims(args.claims)
    if args.config is not None and not Path(args.config).is_file():
        raise FileNotFoundError(f"{args.config}: no such configuration file")
    config = load_config(args.config)
    from .model import prepare

    prepare(claims, config)  # refuse bad data/configuration before anything is compiled
    out = writable_directory(args.out)
    result = fit(
        claims,
        config,
        seed=args.seed,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        sampler=args.sampler,
        progress=not args.quiet,
    )
    result.save(out)
    diag = result.diagnostics
    if not args.quiet:
        head = result.headline().rename(columns={"q50": "median", "q05": "90% low", "q95": "90% high"})
        print(head[["population", "category", "date", "median", "90% low", "90% high"]].to_string(
            index=False, float_format=lambda v: f"{v:,.0f}"))
        from .summary import describe_flags

        for line in describe_flags(result):
            print(f"Warning: {line}")
        print(f"Identifying assumption: {config.describe_identification()}")
        print(f"Results written to {out}/")
    if diag.converged:
        if not args.quiet:
            print(diag.verdict())
    else:
        banner = "!" * 72
        print(f"{banner}\n{diag.verdict()}\n{banner}", file=sys.stderr)
        if args.strict:
            return EXIT_NOT_CONVERGED
    return EXIT_OK


def cmd_simulate(args) -> int:
    from .simulation import simulate, write_simulation

    try:
        sim = simulate(
            seed=args.seed,
            n_populations=args.populations,
            n_days=args.days,
            n_claims=args.claims,
            n_sources=args.sources,
        )
    except ValueError as exc:  # bad sizes or seed: a usage error
        _err(f"simulate: {exc}")
        return EXIT_USAGE
    with _writing(f"{args.out} or {args.truth}"):
        write_simulation(sim, args.out, args.truth)
    print(f"{len(sim.claims)} simulated claims written to {args.out}; truth to {args.truth}", file=sys.stderr)
    return EXIT_OK


def cmd_report(args) -> int:
    from ._io import staged_directory
    from .errors import IncompatibleFit
    from .fitting import load_fit

    out = Path(args.dir)
    if not out.is_dir():
        _err(f"{out}: no such directory (expected the output directory of `reconcile fit`)")
        return EXIT_NOINPUT
    if not (out / "posterior.nc").is_file():
        _err(f"{out / 'posterior.nc'}: missing; `reconcile report` rebuilds a report from the posterior.nc written by `reconcile fit`")
        return EXIT_NOINPUT
    try:
        result = load_fit(out)
    except IncompatibleFit as exc:
        _err(f"cannot rebuild the report: {exc}")
        return EXIT_DATAERR
    except (KeyError, ValueError, TypeError) as exc:  # readable NetCDF, damaged provenance attributes
        _err(f"cannot rebuild the report: {out / 'posterior.nc'}: damaged provenance ({type(exc).__name__}: {exc}); refit")
        return EXIT_DATAERR
    from .report import write_report

    with staged_directory(out) as staging:
        write_report(result, staging)
        figures = len(list((staging / "plots").glob("*.png")))
    if not args.quiet:
        print(f"Report written to {out / 'report.html'} ({figures} figures in {out / 'plots'}/)")
        print(result.diagnostics.verdict())
    return EXIT_OK


def _batch_options(args) -> dict:
    """--workers/--scheduler/--seed/--quiet of the many-fit commands."""
    return dict(seed=args.seed, workers=args.workers, scheduler=args.scheduler, progress=not args.quiet)


def _report_failures(failures, out) -> int:
    if not failures:
        return EXIT_OK
    for key, message in failures.items():
        _err(f"{key}: {message}")
    _err(f"{len(failures)} fit(s) failed; the others are kept in {out}/jobs/: rerun the same command to retry only these")
    return EXIT_FAILED


def cmd_calibrate(args) -> int:
    from ._io import writable_directory
    from .calibration import CalibrationSettings, calibrate
    from .config import load_config

    if args.config is not None and not Path(args.config).is_file():
        raise FileNotFoundError(f"{args.config}: no such configuration file")
    config = load_config(args.config)
    try:
        settings = CalibrationSettings(
            **{k: v for k, v in dict(n_populations=args.populations, n_days=args.days, n_claims=args.claims,
                                     n_sources=args.sources, draws=args.draws, tune=args.tune,
                                     chains=args.chains).items() if v is not None}
        )
        from .simulation import SimulationSettings

        SimulationSettings(n_populations=settings.n_populations, n_days=settings.n_days, n_claims=settings.n_claims,
                           n_sources=settings.n_sources, n_groups=min(settings.n_groups, settings.n_sources))
    except ValueError as exc:
        _err(f"calibrate: {exc}")
        return EXIT_USAGE
    out = writable_directory(args.out)
    result = calibrate(args.simulations, out, settings=settings, config=config, **_batch_options(args))
    if not args.quiet and len(result.coverage):
        cov = result.coverage
        table = cov[cov["quantity"].str.startswith("all ")].pivot(index="quantity", columns="nominal", values="coverage")
        print(f"Coverage of the central intervals over {result.summary['n_simulations_fitted']} simulations "
              f"({result.summary['n_converged']} converged fits):")
        print(table.rename(columns=lambda v: f"{v:.0%} interval").to_string(float_format=lambda v: f"{v:.1%}"))
        print(f"Results written to {out}/ (calibration.csv, calibration_ranks.csv, calibration.json, plots/)")
    if result.summary["n_converged"] < result.summary["n_simulations_fitted"]:
        _err(f"{result.summary['n_simulations_fitted'] - result.summary['n_converged']} of "
             f"{result.summary['n_simulations_fitted']} calibration fits did not converge (see calibration.json)")
    return _report_failures(result.failures, out)


def _claims_and_config(args):
    claims = _load_claims(args.claims)
    if args.config is not None and not Path(args.config).is_file():
        raise FileNotFoundError(f"{args.config}: no such configuration file")
    from .config import load_config

    return claims, load_config(args.config)


def _print_refits(table, column: str, out) -> None:
    shown = table[table["category"] == "casualties"][[column, "population", "q05", "q50", "q95", "change_q50", "converged"]]
    print(shown.to_string(index=False, float_format=lambda v: f"{v:,.3g}"))
    print(f"Results written to {out}/")


def cmd_loso(args) -> int:
    from ._io import writable_directory
    from .refits import leave_one_source_out

    claims, config = _claims_and_config(args)
    from .model import prepare

    prepare(claims, config)
    out = writable_directory(args.out)
    table = leave_one_source_out(claims, config, by=args.by, out_dir=out, draws=args.draws, tune=args.tune,
                                 chains=args.chains, **_batch_options(args))
    if not args.quiet:
        _print_refits(table, "left_out", out)
    return _report_failures(table.attrs.get("failures", {}), out)


def cmd_sensitivity(args) -> int:
    from ._io import writable_directory
    from .refits import load_alternatives, sensitivity

    claims, config = _claims_and_config(args)
    alternatives = load_alternatives(args.alternatives, config)
    out = writable_directory(args.out)
    table = sensitivity(claims, alternatives, config, out_dir=out, draws=args.draws, tune=args.tune,
                        chains=args.chains, **_batch_options(args))
    if not args.quiet:
        _print_refits(table, "alternative", out)
    return _report_failures(table.attrs.get("failures", {}), out)


def _add_batch_arguments(p, *, seed_help: str) -> None:
    p.add_argument("--out", required=True, metavar="DIR", help="directory for the results (created if needed); "
                   "finished fits are kept in DIR/jobs/, so rerunning the command resumes")
    p.add_argument("--workers", type=int, metavar="K", help="local worker processes (default: the number of CPU cores)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run the fits on an existing Dask cluster "
                   "(e.g. tcp://10.0.0.5:8786) instead of local processes; needs reconcile[dask]")
    p.add_argument("--seed", type=int, default=0, help=seed_help)
    p.add_argument("--draws", type=int, help="posterior draws per chain of every fit")
    p.add_argument("--tune", type=int, help="tuning draws per chain of every fit")
    p.add_argument("--chains", type=int, help="chains of every fit")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="reconcile",
        description="Reconcile conflicting casualty claims into one honest estimate.",
    )
    parser.add_argument("--version", action="version", version=f"reconcile {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check a claims file against the format", description="Check a claims file and summarise it per population.")
    p.add_argument("claims", metavar="CLAIMS.csv")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("extract", help="propose candidate claims from article text", description="Propose candidate claims rows (claims-format CSV) from French or English articles (text, Markdown or HTML files), for a person to review. Each row's notes say what its source, date, period and population were read from; relative figures are listed as skipped on standard error.")
    p.add_argument("articles", nargs="+", metavar="ARTICLE", help="article files (.txt, .md, .html), UTF-8 unless --encoding")
    p.add_argument("--out", metavar="FILE", help="write the CSV here instead of standard output")
    p.add_argument("--merge", metavar="CLAIMS.csv", help="propose only rows not already in this claims file; the output holds its claims, then the new rows (likely relays marked in derived_from)")
    p.add_argument("--sources", metavar="FILE.toml", help="sources table laid over the shipped one (names, aliases, groups, camps)")
    p.add_argument("--populations", metavar="FILE.toml", help="populations table laid over the shipped one (troops as named, start dates)")
    p.add_argument("--language", choices=["fr", "en"], help="language of the articles (default: guessed per article)")
    p.add_argument("--encoding", metavar="NAME", help="text encoding of the articles (default UTF-8), e.g. cp1252 or latin-1")
    p.add_argument("--skipped", metavar="FILE", help="also write the skipped figures (relative figures, people neither lost nor deployed) as CSV")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("fit", help="fit the model and write estimates", description="Fit the reconciliation model to a claims file and write the results to a directory.")
    p.add_argument("claims", metavar="CLAIMS.csv")
    p.add_argument("--out", required=True, metavar="DIR", help="directory for the results (created if needed)")
    p.add_argument("--config", metavar="FILE", help="model configuration (TOML), merged over the package defaults")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0): same inputs and seed, same numbers")
    p.add_argument("--draws", type=int, help="posterior draws per chain (default: the configuration's sampler.draws)")
    p.add_argument("--tune", type=int, help="tuning draws per chain (default: sampler.tune, or sampler.tune_data_rich in a war with a data-rich group of sources)")
    p.add_argument("--chains", type=int, help="number of chains (default: sampler.chains)")
    p.add_argument("--sampler", choices=["nutpie", "pymc"], help="NUTS implementation (default: sampler.name, nutpie)")
    p.add_argument("--strict", action="store_true", help="exit with status 3 when the convergence checks fail")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("report", help="rebuild the report and plots of a finished fit", description="Rebuild DIR/report.html and DIR/plots/ from DIR/posterior.nc alone, without refitting.")
    p.add_argument("dir", metavar="DIR", help="the output directory of `reconcile fit`")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("simulate", help="write a synthetic claims file with known truth", description="Simulate a war: true losses, sources with known biases, and claims drawn from them.")
    p.add_argument("--out", required=True, metavar="CLAIMS.csv")
    p.add_argument("--truth", required=True, metavar="TRUTH.csv")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--populations", type=int, default=2, help="number of populations (default 2)")
    p.add_argument("--days", type=int, default=260, help="length of the war in days (default 260)")
    p.add_argument("--claims", type=int, default=80, help="number of claims (default 80)")
    p.add_argument("--sources", type=int, default=8, help="number of sources (default 8)")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("calibrate", help="simulation-based calibration of the model's intervals",
                       description="Draw synthetic wars from the model's prior, fit each, and measure how often the "
                       "50%% and 90%% intervals hold the truth (Talts et al. 2018): DIR/calibration.csv, rank "
                       "histograms in DIR/plots/.")
    p.add_argument("--simulations", type=int, required=True, metavar="N", help="number of simulated wars")
    _add_batch_arguments(p, seed_help="root seed (default 0): every simulation's seed is spawned from it")
    p.add_argument("--config", metavar="FILE", help="model configuration (TOML) whose priors generate and fit the wars")
    p.add_argument("--populations", type=int, help="populations per simulated war (default 1)")
    p.add_argument("--days", type=int, help="days per simulated war (default 150)")
    p.add_argument("--claims", type=int, help="claims per simulated war (default 40)")
    p.add_argument("--sources", type=int, help="sources per simulated war (default 6)")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("loso", help="leave one source out: refit without each source",
                       description="Refit without each source (or source group) and show how the headline "
                       "estimates move: DIR/loso.csv and DIR/plots/loso.png.")
    p.add_argument("claims", metavar="CLAIMS.csv")
    _add_batch_arguments(p, seed_help="root seed (default 0) of the refits' seeds")
    p.add_argument("--config", metavar="FILE", help="model configuration (TOML), merged over the package defaults")
    p.add_argument("--by", choices=["source", "group"], default="source", help="leave out one source (default) or one source group at a time")
    p.set_defaults(func=cmd_loso)

    p = sub.add_parser("sensitivity", help="refit under alternative configurations",
                       description="Refit under each alternative configuration of a TOML file (one table per "
                       "alternative, merged over the base configuration): DIR/sensitivity.csv and DIR/plots/sensitivity.png.")
    p.add_argument("claims", metavar="CLAIMS.csv")
    p.add_argument("--alternatives", required=True, metavar="FILE.toml", help="one table per alternative, e.g. models/sensitivity.toml")
    _add_batch_arguments(p, seed_help="root seed (default 0) of the refits' seeds")
    p.add_argument("--config", metavar="FILE", help="base model configuration (TOML)")
    p.set_defaults(func=cmd_sensitivity)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .claims import ClaimsError
    from .config import ConfigError
    from .errors import BatchError, ModelDataError, OutputError

    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("draws", "tune", "chains", "workers", "simulations"):
        value = getattr(args, name, None)
        if value is not None and value < (0 if name == "tune" else 1):
            parser.error(f"--{name} must be {'>= 0' if name == 'tune' else '>= 1'}, got {value}")
    if getattr(args, "by", None) == "group":
        args.by = "source_group"
    try:
        return args.func(args)
    except ClaimsError as exc:
        _err(f"the claims break the format; nothing was written.\n{exc}")
        return EXIT_DATAERR
    except ConfigError as exc:
        _err(f"bad configuration; nothing was written.\n{exc}")
        return EXIT_DATAERR
    except OutputError as exc:
        _err(str(exc))
        return EXIT_CANTCREAT
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        _err(str(exc) if str(exc) else repr(exc))
        return EXIT_NOINPUT
    except ModelDataError as exc:
        _err(f"{exc}; nothing was written.")
        return EXIT_DATAERR
    except BatchError as exc:
        _err(str(exc))
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        _err("interrupted; previous results left as they were")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
