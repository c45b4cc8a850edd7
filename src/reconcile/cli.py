"""The ``reconcile`` command: argument parsing and exit codes only; the work is in the library.

Exit codes: 0 success, 1 some fits of a many-fit command (calibrate, loso, sensitivity) failed
(the others are kept; rerun to retry), 2 wrong usage, 3 ``--strict`` and the fit did not converge,
65 the input (claims, configuration, article, saved fit) breaks the contract, 66 an input file is
missing or unreadable, 69 the Dask scheduler cannot be reached, 70 an internal error (a bug), 73
the output cannot be written (or would overwrite an input), 130 and 143 interrupted by SIGINT
and SIGTERM (earlier results left as they were), 141 standard output was closed early.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_CONVERGED = 0, 1, 2, 3
EXIT_DATAERR, EXIT_NOINPUT, EXIT_UNAVAILABLE, EXIT_SOFTWARE, EXIT_CANTCREAT = 65, 66, 69, 70, 73
EXIT_PIPE = 141  # 128 + SIGPIPE, as a shell reports a command whose reader went away

#: What ``reconcile fit`` writes in DIR: the tables and posterior, then what ``report`` redraws.
FIT_DATA = ("posterior.nc", "estimates.csv", "sources.csv", "claims_check.csv", "daily.csv", "diagnostics.json")
FIT_OUTPUTS = (*FIT_DATA, "report.html", "plots")
SEED_MAX = 2**63 - 1  # seeds are stored as 64-bit integers in posterior.nc


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


def _warn_unused_names(config, claims, where: str | None) -> None:
    """Say on standard error which entries of the configuration name nothing in the claims (a
    misspelt population's start would otherwise be dropped without a word)."""
    from ._progress import paused

    lines = config.unused_names(claims.populations, claims.frame["source"].unique())
    if lines:
        with paused():
            for line in lines:
                print(f"Warning: {where or 'configuration'}: {line}", file=sys.stderr)


def cmd_validate(args) -> int:
    from .config import load_config

    if args.config is not None and not Path(args.config).is_file():
        raise FileNotFoundError(f"{args.config}: no such configuration file")
    config = load_config(args.config)
    claims = _load_claims(args.claims).configured_for(config)
    _warn_unused_names(config, claims, args.config)
    n = len(claims)
    print(f"{args.claims}: valid, {n} claim{'s' if n != 1 else ''}")
    print(claims.describe({p: config.population_label(p) for p in claims.populations}))
    where = args.config if args.config is not None else "the default configuration (no --config)"
    print(f"(each start is the one a fit with {where} uses)")
    return EXIT_OK


def cmd_extract(args) -> int:
    from .article import ArticleError
    from .extract import combine, extract_paths, write_candidates
    from .review import ReviewError
    from .tables import TableError, load_populations, load_sources

    paths = [Path(p) for p in args.articles]
    if args.out:
        from ._io import refuse_overwriting

        inputs = {f"article {p}": p for p in paths}
        if args.merge:
            inputs["claims file (--merge)"] = Path(args.merge)
        refuse_overwriting(inputs, [args.out])
    try:
        sources = load_sources(args.sources)
        populations = load_populations(args.populations)
        existing = None
        if args.merge:
            from .review import read_claims_table

            existing = read_claims_table(args.merge)
        found = extract_paths(
            [Path(p) for p in args.articles],
            language=args.language,
            sources=sources,
            populations=populations,
            encoding=args.encoding,
        )
    except (ArticleError, TableError, ReviewError) as exc:
        _err(f"{exc}; nothing was written.")
        return EXIT_DATAERR
    frame = combine(found)
    for e in found:
        for s in e.skipped:
            print(
                f"skipped ({s.citation}): {s.phrase!r}: {s.reason}\n    in: {' '.join(s.quote.split())}",
                file=sys.stderr,
            )
    if args.skipped:
        import pandas as pd

        from ._io import atomic_path

        table = pd.DataFrame(
            [
                {"citation": s.citation, "phrase": s.phrase, "kind": s.kind, "reason": s.reason, "quote": s.quote}
                for e in found
                for s in e.skipped
            ],
            columns=["citation", "phrase", "kind", "reason", "quote"],
        )
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
        print(
            f"left blank for you to fill (the text does not say): {listed}; each row's notes say why", file=sys.stderr
        )


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
    print(
        f"{where}: the {n_old} claims of {existing.path}, then {n_new} new candidate{'s' if n_new != 1 else ''}"
        f"{span}; {len(result.already)} candidate{'s' if len(result.already) != 1 else ''} already in "
        f"{existing.path} left out; {len(result.relays)} likely relay{'s' if len(result.relays) != 1 else ''} "
        "marked in derived_from",
        file=sys.stderr,
    )
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


def _outputs_in(directory, names) -> list[Path]:
    from ._io import STORE

    return [Path(directory) / name for name in (*names, STORE)]


def _fit_and_save(args):
    """Validate, fit and save (the stages `reconcile fit` shows); returns the fit and DIR."""
    from ._io import refuse_overwriting, results_directory
    from ._signals import checkpoint
    from .config import ConfigError, load_config
    from .errors import UsageError
    from .fitting import fit
    from .model import prepare

    refuse_overwriting({"claims file": args.claims, "configuration": args.config}, _outputs_in(args.out, FIT_OUTPUTS))
    claims = _load_claims(args.claims)
    if args.config is not None and not Path(args.config).is_file():
        raise FileNotFoundError(f"{args.config}: no such configuration file")
    config = load_config(args.config)
    whole_file = claims  # (an as-of fit may lack populations and sources the file names later)
    if args.as_of is not None:
        claims = claims.as_of(args.as_of)
    if args.until is not None:
        from .fitting import extend_until

        try:
            config = extend_until(config, claims, args.until)  # recorded in the configuration
        except ConfigError as exc:  # a --until the claims already pass: wrong usage, like backtest --from
            raise UsageError(f"fit: {exc}") from None
    prepare(claims, config)  # refuse bad data/configuration before anything is compiled
    _warn_unused_names(config, whole_file, args.config)
    checkpoint("validated")
    with results_directory(args.out) as out:  # locked for this run; what killed runs left is removed
        result = fit(
            claims,
            config,
            seed=args.seed,
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            sampler=args.sampler,
            progress=not args.quiet,
            as_of=args.as_of,
        )
        result.save(out)
    checkpoint("done")
    return result, out


def cmd_fit(args) -> int:
    from ._progress import reporting, stage

    with reporting(not args.quiet):
        stage("reading the claims, loading PyMC")
        result, out = _fit_and_save(args)
    diag = result.diagnostics
    if not args.quiet:
        head = result.headline().rename(columns={"q50": "median", "q05": "90% low", "q95": "90% high"})
        head["population"] = head["population"].map(result.config.population_label)
        print(
            head[["population", "category", "date", "median", "90% low", "90% high"]].to_string(
                index=False, float_format=lambda v: f"{v:,.0f}"
            )
        )
        from .summary import describe_extrapolation, describe_flags

        for line in describe_flags(result):
            print(f"Warning: {line}")
        for line in describe_extrapolation(result):
            print(f"Extrapolated: {line}")
        print(f"Identifying assumption: {result.config.describe_identification()}")
        if result.as_of is not None:
            print(f"As of {result.as_of}: {len(result.claims)} claims reported on or before that day were used")
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


def _date_argument(text: str):
    import argparse
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, found {text!r}") from None


def _until_argument(text: str):
    import argparse

    from .fitting import until_day

    try:
        return until_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("until: ")) from None


def cmd_query(args) -> int:
    from .errors import IncompatibleFit
    from .fitting import load_fit

    out = Path(args.dir)
    if not (out / "posterior.nc").is_file():
        _err(f"{out / 'posterior.nc'}: missing; `reconcile query` reads the posterior.nc written by `reconcile fit`")
        return EXIT_NOINPUT
    try:
        result = load_fit(out)
    except IncompatibleFit as exc:
        _err(f"cannot read the fit: {exc}")
        return EXIT_DATAERR
    try:
        window = result.losses(args.population, args.start, args.end, args.category)
    except ValueError as exc:
        _err(f"query: {exc}")
        return EXIT_USAGE
    table = window.summary().rename(columns={"q50": "median", "q05": "90% low", "q95": "90% high"})
    columns = ["population", "category", "start", "end", "median", "90% low", "90% high", "mean"]
    print(table[columns].to_string(index=False, float_format=lambda v: f"{v:,.0f}"))
    if result.as_of is not None:
        print(f"(as of {result.as_of}: claims reported after that day were not used)")
    return EXIT_OK


def cmd_simulate(args) -> int:
    from .simulation import simulate, write_simulation

    if os.path.realpath(args.out) == os.path.realpath(args.truth) or (
        os.path.exists(args.out) and os.path.exists(args.truth) and os.path.samefile(args.out, args.truth)
    ):
        _err(
            f"simulate: --out and --truth name the same file ({args.out}); give two different files (nothing was written)"
        )
        return EXIT_USAGE
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
        _err(
            f"{out / 'posterior.nc'}: missing; `reconcile report` rebuilds a report from the posterior.nc written by `reconcile fit`"
        )
        return EXIT_NOINPUT
    from ._progress import reporting, stage

    with reporting(not args.quiet):
        stage("reading posterior.nc")
        try:
            result = load_fit(out)  # read whole and checked: a damaged file is refused here, not mid-way
        except IncompatibleFit as exc:
            _err(f"cannot rebuild the report: {exc}")
            return EXIT_DATAERR
        from .report import write_report

        # the posterior and the tables are kept as they are; the plots and the page are redrawn
        with staged_directory(out, kind="fit", keep=FIT_DATA) as staging:
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
    _err(
        f"{len(failures)} fit(s) failed; the others are kept in {out}/jobs/: rerun the same command to retry only these"
    )
    return EXIT_FAILED


def cmd_calibrate(args) -> int:
    from ._io import refuse_overwriting, writable_directory
    from .calibration import CalibrationSettings, calibrate
    from .config import load_config

    refuse_overwriting(
        {"configuration": args.config},
        _outputs_in(args.out, ("calibration.csv", "calibration_ranks.csv", "calibration.json", "plots", "jobs")),
    )
    if args.config is not None and not Path(args.config).is_file():
        raise FileNotFoundError(f"{args.config}: no such configuration file")
    config = load_config(args.config)
    try:
        settings = CalibrationSettings(
            **{
                k: v
                for k, v in dict(
                    n_populations=args.populations,
                    n_days=args.days,
                    n_claims=args.claims,
                    n_sources=args.sources,
                    killed_claims=args.killed_claims,
                    wounded_claims=args.wounded_claims,
                    tally_category=args.tally_category,
                    tally_populations=args.tally_populations,
                    draws=args.draws,
                    tune=args.tune,
                    chains=args.chains,
                ).items()
                if v is not None
            }
        )
        from .simulation import SimulationSettings

        SimulationSettings(
            n_populations=settings.n_populations,
            n_days=settings.n_days,
            n_claims=settings.n_claims,
            n_sources=settings.n_sources,
            n_groups=min(settings.n_groups, settings.n_sources),
        )
    except ValueError as exc:
        _err(f"calibrate: {exc}")
        return EXIT_USAGE
    out = writable_directory(args.out)
    result = calibrate(args.simulations, out, settings=settings, config=config, **_batch_options(args))
    if not args.quiet and len(result.coverage):
        cov = result.coverage
        table = cov[cov["quantity"].str.startswith("all ")].pivot(
            index="quantity", columns="nominal", values="coverage"
        )
        print(
            f"Coverage of the central intervals over {result.summary['n_simulations_fitted']} simulations "
            f"({result.summary['n_converged']} converged fits):"
        )
        print(table.rename(columns=lambda v: f"{v:.0%} interval").to_string(float_format=lambda v: f"{v:.1%}"))
        print(f"Results written to {out}/ (calibration.csv, calibration_ranks.csv, calibration.json, plots/)")
    if result.summary["n_converged"] < result.summary["n_simulations_fitted"]:
        _err(
            f"{result.summary['n_simulations_fitted'] - result.summary['n_converged']} of "
            f"{result.summary['n_simulations_fitted']} calibration fits did not converge (see calibration.json)"
        )
    return _report_failures(result.failures, out)


def _claims_and_config(args, outputs):
    from ._io import refuse_overwriting

    inputs = {
        "claims file": args.claims,
        "configuration": args.config,
        "alternatives file": getattr(args, "alternatives", None),
    }
    refuse_overwriting(inputs, _outputs_in(args.out, (*outputs, "plots", "jobs")))
    claims = _load_claims(args.claims)
    if args.config is not None and not Path(args.config).is_file():
        raise FileNotFoundError(f"{args.config}: no such configuration file")
    from .config import load_config

    return claims, load_config(args.config)


def _print_refits(table, column: str, out) -> None:
    shown = table[table["category"] == "casualties"][
        [column, "population", "q05", "q50", "q95", "change_q50", "converged"]
    ]
    print(shown.to_string(index=False, float_format=lambda v: f"{v:,.3g}"))
    print(f"Results written to {out}/")


def cmd_loso(args) -> int:
    from ._io import writable_directory
    from .refits import leave_one_source_out

    claims, config = _claims_and_config(args, ("loso.csv",))
    from .model import prepare

    prepare(claims, config)
    out = writable_directory(args.out)
    table = leave_one_source_out(
        claims,
        config,
        by=args.by,
        out_dir=out,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        **_batch_options(args),
    )
    if not args.quiet:
        _print_refits(table, "left_out", out)
    return _report_failures(table.attrs.get("failures", {}), out)


def cmd_sensitivity(args) -> int:
    from ._io import writable_directory
    from .refits import load_alternatives, sensitivity

    claims, config = _claims_and_config(args, ("sensitivity.csv",))
    alternatives = load_alternatives(args.alternatives, config)
    out = writable_directory(args.out)
    table = sensitivity(
        claims,
        alternatives,
        config,
        out_dir=out,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        **_batch_options(args),
    )
    if not args.quiet:
        _print_refits(table, "alternative", out)
    return _report_failures(table.attrs.get("failures", {}), out)


def _every_argument(text: str) -> int:
    import argparse

    value = text.strip().lower().removesuffix("d")
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a number of days such as 30d or 30, found {text!r}")
    return int(value)


def cmd_backtest(args) -> int:
    from ._io import writable_directory
    from .backtest import backtest, vintage_dates
    from .model import prepare

    claims, config = _claims_and_config(args, ("vintages.csv",))
    prepare(claims, config)
    try:
        vintage_dates(claims, args.every, args.start)
    except ValueError as exc:
        _err(f"backtest: {exc}")
        return EXIT_USAGE
    out = writable_directory(args.out)
    table = backtest(
        claims,
        config,
        every=args.every,
        start=args.start,
        out_dir=out,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        **_batch_options(args),
    )
    if not args.quiet:
        now = table[(table["category"] == "casualties") & (table["at_vintage"] == True)]  # noqa: E712
        columns = ["vintage", "population", "n_claims", "q05", "q50", "q95", "converged"]
        print(now[columns].to_string(index=False, float_format=lambda v: f"{v:,.3g}"))
        skipped = table[table["q50"].isna()]
        for r in skipped.itertuples():
            print(f"vintage {r.vintage}: {r.status}")
        coverage = table.attrs.get("forecast_coverage")
        if coverage is not None:
            print("\n".join(coverage_lines(coverage)))
        print(f"Results written to {out}/")
    return _report_failures(table.attrs.get("failures", {}), out)


def coverage_lines(coverage) -> list[str]:
    """The forecast check's summary lines (``forecast_coverage.csv``): every later claim, by
    horizon, and, where the file has running counts, their figures apart from the others'."""
    from .forecast import OTHER_SOURCES, RUNNING_COUNTS

    def line(what: str, r) -> str:
        if not r.n:
            return f"{what}: none"
        return (
            f"{what}: {r.n} predicted, {r.coverage_50:.0%} inside the 50% predictive interval, "
            f"{r.coverage_90:.0%} inside the 90% (calibrated: about 50% and 90%)"
        )

    lines = [
        line("Later claims" if r.by == "all" else f"  reported {r.group} after", r)
        for r in coverage[coverage["by"].isin(["all", "horizon"])].itertuples()
    ]
    series = {r.group: r for r in coverage[coverage["by"] == "series"].itertuples()}
    if RUNNING_COUNTS in series and series[RUNNING_COUNTS].n:
        lines.append(
            line(
                "  of them, running counts' figures (their errors persist: few independent checks)",
                series[RUNNING_COUNTS],
            )
        )
        if OTHER_SOURCES in series:
            lines.append(line("  of them, the other sources' figures", series[OTHER_SOURCES]))
    return lines


def _add_batch_arguments(p, *, seed_help: str) -> None:
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="directory for the results (created if needed); "
        "finished fits are kept in DIR/jobs/, so rerunning the command resumes",
    )
    p.add_argument("--workers", type=int, metavar="K", help="local worker processes (default: the number of CPU cores)")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the fits on an existing Dask cluster "
        "(e.g. tcp://10.0.0.5:8786) instead of local processes; needs reconcile[dask]",
    )
    p.add_argument("--seed", type=int, default=1, help=seed_help)
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

    p = sub.add_parser(
        "validate",
        help="check a claims file against the format",
        description="Check a claims file and summarise it per population.",
    )
    p.add_argument("claims", metavar="CLAIMS.csv")
    p.add_argument(
        "--config",
        metavar="FILE.toml",
        help="the model configuration the fit will use: its population starts and lexicon overrides apply (default: the package defaults)",
    )
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser(
        "extract",
        help="propose candidate claims from article text",
        description="Propose candidate claims rows (claims-format CSV) from French or English articles (text, Markdown or HTML files), for a person to review. Each row's notes say what its source, date, period and population were read from; relative figures are listed as skipped on standard error.",
    )
    p.add_argument(
        "articles", nargs="+", metavar="ARTICLE", help="article files (.txt, .md, .html), UTF-8 unless --encoding"
    )
    p.add_argument("--out", metavar="FILE", help="write the CSV here instead of standard output")
    p.add_argument(
        "--merge",
        metavar="CLAIMS.csv",
        help="propose only rows not already in this claims file; the output holds its claims, then the new rows (likely relays marked in derived_from)",
    )
    p.add_argument(
        "--sources", metavar="FILE.toml", help="sources table laid over the shipped one (names, aliases, groups, camps)"
    )
    p.add_argument(
        "--populations",
        metavar="FILE.toml",
        help="populations table laid over the shipped one (troops as named, start dates)",
    )
    p.add_argument("--language", choices=["fr", "en"], help="language of the articles (default: guessed per article)")
    p.add_argument(
        "--encoding", metavar="NAME", help="text encoding of the articles (default UTF-8), e.g. cp1252 or latin-1"
    )
    p.add_argument(
        "--skipped",
        metavar="FILE",
        help="also write the skipped figures (relative figures, people neither lost nor deployed) as CSV",
    )
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser(
        "fit",
        help="fit the model and write estimates",
        description="Fit the reconciliation model to a claims file and write the results to a directory.",
    )
    p.add_argument("claims", metavar="CLAIMS.csv")
    p.add_argument("--out", required=True, metavar="DIR", help="directory for the results (created if needed)")
    p.add_argument("--config", metavar="FILE", help="model configuration (TOML), merged over the package defaults")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1): same inputs and seed, same numbers")
    p.add_argument("--draws", type=int, help="posterior draws per chain (default: the configuration's sampler.draws)")
    p.add_argument(
        "--tune",
        type=int,
        help="tuning draws per chain (default: sampler.tune, or sampler.tune_data_rich in a war with a data-rich group of sources)",
    )
    p.add_argument("--chains", type=int, help="number of chains (default: sampler.chains)")
    p.add_argument("--sampler", choices=["nutpie", "pymc"], help="NUTS implementation (default: sampler.name, nutpie)")
    p.add_argument("--strict", action="store_true", help="exit with status 3 when the convergence checks fail")
    p.add_argument(
        "--as-of",
        type=_date_argument,
        metavar="YYYY-MM-DD",
        help="use only the claims reported on or before this day (the estimate as it stood then); recorded in the outputs",
    )
    p.add_argument(
        "--until",
        type=_until_argument,
        metavar="YYYY-MM-DD|today",
        help="estimate every population up to this day, past its last claim if need be (a nowcast or short "
        "forecast; the intervals widen with the horizon); recorded in the outputs",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser(
        "query",
        help="losses over a window of days, from a finished fit",
        description="Print the posterior of a population's losses between two dates (both included), "
        "read from DIR/posterior.nc without refitting.",
    )
    p.add_argument("dir", metavar="DIR", help="the output directory of `reconcile fit`")
    p.add_argument("--population", required=True, help="a population of the fit")
    p.add_argument("--from", dest="start", required=True, type=_date_argument, metavar="YYYY-MM-DD", help="first day")
    p.add_argument("--to", dest="end", required=True, type=_date_argument, metavar="YYYY-MM-DD", help="last day")
    p.add_argument("--category", default="casualties", choices=["killed", "wounded", "casualties"])
    p.set_defaults(func=cmd_query)

    p = sub.add_parser(
        "report",
        help="rebuild the report and plots of a finished fit",
        description="Rebuild DIR/report.html and DIR/plots/ from DIR/posterior.nc alone, without refitting.",
    )
    p.add_argument("dir", metavar="DIR", help="the output directory of `reconcile fit`")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "simulate",
        help="write a synthetic claims file with known truth",
        description="Simulate a war: true losses, sources with known biases, and claims drawn from them.",
    )
    p.add_argument("--out", required=True, metavar="CLAIMS.csv")
    p.add_argument("--truth", required=True, metavar="TRUTH.csv")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--populations", type=int, default=2, help="number of populations (default 2)")
    p.add_argument("--days", type=int, default=260, help="length of the war in days (default 260)")
    p.add_argument("--claims", type=int, default=80, help="number of claims (default 80)")
    p.add_argument("--sources", type=int, default=8, help="number of sources (default 8)")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser(
        "calibrate",
        help="simulation-based calibration of the model's intervals",
        description="Draw synthetic wars from the model's prior, fit each, and measure how often the "
        "50%% and 90%% intervals hold the truth (Talts et al. 2018): DIR/calibration.csv, rank "
        "histograms in DIR/plots/.",
    )
    p.add_argument("--simulations", type=int, required=True, metavar="N", help="number of simulated wars")
    _add_batch_arguments(p, seed_help="root seed (default 1): every simulation's seed is spawned from it")
    p.add_argument("--config", metavar="FILE", help="model configuration (TOML) whose priors generate and fit the wars")
    p.add_argument("--populations", type=int, help="populations per simulated war (default 1)")
    p.add_argument("--days", type=int, help="days per simulated war (default 150)")
    p.add_argument("--claims", type=int, help="claims per simulated war (default 40)")
    p.add_argument("--sources", type=int, help="sources per simulated war (default 6)")
    p.add_argument(
        "--killed-claims", type=float, metavar="SHARE", help="share of claims that count killed (default 0.3)"
    )
    p.add_argument(
        "--wounded-claims", type=float, metavar="SHARE", help="share of claims that count wounded (default 0.2)"
    )
    p.add_argument(
        "--tally-category",
        choices=["killed", "wounded", "casualties"],
        help="what the simulated running tally counts (default casualties)",
    )
    p.add_argument(
        "--tally-populations",
        type=int,
        metavar="N",
        help="how many populations the running tally counts (default 1; from 2, its counts have levels of their own)",
    )
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser(
        "loso",
        help="leave one source out: refit without each source",
        description="Refit without each source (or source group) and show how the headline "
        "estimates move: DIR/loso.csv and DIR/plots/loso.png.",
    )
    p.add_argument("claims", metavar="CLAIMS.csv")
    _add_batch_arguments(p, seed_help="root seed (default 1) of the refits' seeds")
    p.add_argument("--config", metavar="FILE", help="model configuration (TOML), merged over the package defaults")
    p.add_argument(
        "--by",
        choices=["source", "group"],
        default="source",
        help="leave out one source (default) or one source group at a time",
    )
    p.set_defaults(func=cmd_loso)

    p = sub.add_parser(
        "backtest",
        help="as-of fits at regular vintages: how the estimate moved as claims arrived",
        description="Fit the claims as they stood every N days (only the claims reported by then, the "
        "estimates carried to that day): DIR/vintages.csv (each vintage's estimate at its own day and at "
        "every earlier vintage's day) and DIR/plots/vintages.png.",
    )
    p.add_argument("claims", metavar="CLAIMS.csv")
    _add_batch_arguments(p, seed_help="root seed (default 1) of the vintages' seeds")
    p.add_argument("--config", metavar="FILE", help="model configuration (TOML), merged over the package defaults")
    p.add_argument(
        "--every", type=_every_argument, default=30, metavar="DAYS", help="days between vintages, e.g. 30d (default)"
    )
    p.add_argument(
        "--from",
        dest="start",
        type=_date_argument,
        metavar="YYYY-MM-DD",
        help="the first vintage (default: --every days after the first claim was reported)",
    )
    p.set_defaults(func=cmd_backtest)

    p = sub.add_parser(
        "sensitivity",
        help="refit under alternative configurations",
        description="Refit under each alternative configuration of a TOML file (one table per "
        "alternative, merged over the base configuration): DIR/sensitivity.csv and DIR/plots/sensitivity.png.",
    )
    p.add_argument("claims", metavar="CLAIMS.csv")
    p.add_argument(
        "--alternatives",
        required=True,
        metavar="FILE.toml",
        help="one table per alternative, e.g. models/sensitivity.toml",
    )
    _add_batch_arguments(p, seed_help="root seed (default 1) of the refits' seeds")
    p.add_argument("--config", metavar="FILE", help="base model configuration (TOML)")
    p.set_defaults(func=cmd_sensitivity)
    return parser


_LIMITS = {  # option -> (lowest, highest) accepted
    "draws": (1, None),
    "tune": (0, None),
    "chains": (1, None),  # highest: from the configuration module
    "seed": (0, SEED_MAX),
    "workers": (1, 1024),
    "simulations": (1, 100_000),
    "populations": (1, 100),
    "days": (1, 36_500),
    "claims": (1, 1_000_000),
    "sources": (1, 10_000),
}


def _check_limits(parser, args) -> None:
    from .config import MAX_CHAINS, MAX_DRAWS, MAX_TUNE

    highest = {"draws": MAX_DRAWS, "tune": MAX_TUNE, "chains": MAX_CHAINS}
    for name, (low, high) in _LIMITS.items():
        value = getattr(args, name, None)
        if not isinstance(value, int) or isinstance(value, bool):  # (fit's `claims` is a file name)
            continue
        high = highest.get(name, high)
        if not low <= value <= high:
            parser.error(f"--{name} must be a whole number from {low:,} to {high:,}, got {value:,}")


def _interrupted_message(exc, args) -> str:
    import signal

    from . import _signals

    names = {signal.SIGINT: "SIGINT (Ctrl-C)", getattr(signal, "SIGHUP", None): "SIGHUP (the terminal closed)"}
    name = names.get(exc.signum) or (exc.args[0] if exc.args else "a signal")
    where = getattr(args, "out", None) or getattr(args, "dir", None)
    if _signals.committed:
        return f"interrupted by {name} after the new results were in place in {where}; they are complete"
    kept = f"; {where} left as it was" if where else ""
    return f"interrupted by {name} while {_signals.stage.replace(':', ': ')}{kept} (nothing partial was kept)"


def main(argv: list[str] | None = None) -> int:
    from ._signals import Interrupted, interrupts_raise, reset

    reset()
    import warnings

    from .errors import BatchWarning

    warnings.simplefilter("ignore", BatchWarning)  # the commands list each failed fit themselves
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_limits(parser, args)
    if getattr(args, "by", None) == "group":
        args.by = "source_group"
    try:
        with interrupts_raise():
            code = _run(args)
            sys.stdout.flush()  # (a closed pipe shows here, not at exit)
            return code
    except Interrupted as exc:
        with contextlib.suppress(OSError):  # (after a hangup the terminal may be gone)
            _err(_interrupted_message(exc, args))
        return exc.exit_code
    except KeyboardInterrupt:  # raised where no handler of ours was installed (not the main thread)
        _err("interrupted; earlier results left as they were")
        return 130
    except BrokenPipeError:
        # the reader of standard output went away (`reconcile validate ... | head -1`): stop quietly
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE


def entry() -> None:
    """The console script ``reconcile`` (and ``python -m reconcile``): :func:`main`, then leave.

    Once the command is done, its files closed and its output flushed, the process leaves without
    tearing the interpreter down object by object: after a fit, that teardown (the model's graphs,
    the compiled functions) took ~2 s of a 24 s warm run (benchmarks/RESULTS.md, issue 20). The
    exit handlers still run (logging's, temporary directories'); where a thread that is not a
    daemon is still alive, the interpreter exits as usual, joining it.
    """
    code = main()
    _leave(code)


def _leave(code: int) -> None:
    import atexit
    import threading

    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if others or run_exit_handlers is None:
        sys.exit(code)
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # (a reader gone away: nothing more to say to it)
            code = code or EXIT_PIPE
    os._exit(code)


def _run(args) -> int:
    """Run the command; every failure becomes a message and an exit code, never a traceback."""
    from .claims import ClaimsError
    from .config import ConfigError
    from .errors import BatchError, IncompatibleFit, InputFormatError, ModelDataError, OutputError, UsageError

    try:
        return args.func(args)
    except UsageError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except ClaimsError as exc:
        _err(f"the claims break the format; nothing was written.\n{exc}")
        return EXIT_DATAERR
    except ConfigError as exc:
        _err(f"bad configuration; nothing was written.\n{exc}")
        return EXIT_DATAERR
    except (InputFormatError, IncompatibleFit) as exc:
        _err(f"{exc}; nothing was written.")
        return EXIT_DATAERR
    except OutputError as exc:
        _err(str(exc))
        return EXIT_CANTCREAT
    except BrokenPipeError:
        raise
    except OSError as exc:  # an input missing or unreadable (output failures are OutputError)
        text = str(exc) if str(exc) else repr(exc)
        if exc.filename is not None and os.fspath(exc.filename) not in text:
            text = f"{exc.filename}: {exc.strerror or text}"
        _err(text)
        return EXIT_NOINPUT
    except ModelDataError as exc:
        _err(f"{exc}; nothing was written.")
        return EXIT_DATAERR
    except BatchError as exc:
        _err(str(exc))
        return EXIT_UNAVAILABLE
    except MemoryError:
        _err("out of memory; nothing was written. Try fewer draws or chains.")
        return EXIT_SOFTWARE
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a message, not a traceback
        if os.environ.get("RECONCILE_DEBUG"):
            raise
        _err(
            f"internal error ({type(exc).__name__}: {exc}); nothing partial was kept. This is a bug in "
            "reconcile: please report it, with the command; RECONCILE_DEBUG=1 shows the traceback."
        )
        return EXIT_SOFTWARE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
