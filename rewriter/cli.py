"""The `rewriter` command line.

    rewriter fix PATH...        rewrite files in place (or --diff / --check)
    rewriter patterns [--json]  list the NumPy -> TF pattern library

Exit codes follow ruff and black: 0 done or nothing to do, 1 changes needed under --check,
2 any error (bad input files are reported one line each and the run goes on).
TensorFlow is not imported unless --verify asks to run code.

The parser, `main` and `rewriter fix` are here; the other commands are in cli_commands, what
they share (exit codes, settings, the files to process) in cli_settings.
"""
from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor

from . import __version__
from .cli_commands import run_bench, run_check, run_patterns, run_show
from .cli_settings import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, known_codes, load_settings, selected_files


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_ERROR
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted: files already written are complete; the others are untouched", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rewriter",
        description="Rewrite NumPy code inside TensorFlow programs (tf.numpy_function, tf.py_function, "
                    "tf.compat.v1.py_func) into native TensorFlow.",
    )
    parser.add_argument("--version", action="version", version=f"rewriter {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    fix = commands.add_parser(
        "fix", help="rewrite files in place",
        description="Rewrite NumPy code that TensorFlow programs run outside the graph into native "
                    "TensorFlow, in place, changing only the code that must change: tf.numpy_function / "
                    "tf.py_function / tf.compat.v1.py_func sites, tf.map_fn over single elements, "
                    "np.apply_along_axis, np.vectorize and row loops inside them, and `for` loops over "
                    "tf.range. Nothing is executed: without --verify the rewrite is decided from the "
                    "source alone.",
        epilog="Exit status: 0 done or nothing to do; 1 changes needed (with --check); 2 errors "
               "(syntax errors, unreadable files; each is reported and the run goes on).",
    )
    fix.add_argument("paths", nargs="+", metavar="PATH",
                     help="files or folders (searched recursively for *.py); `-` reads the source from stdin "
                          "and writes the result to stdout")
    fix.add_argument("--stdin-filename", default="<stdin>", metavar="NAME",
                     help="the file name to report for source read from stdin")
    mode = fix.add_mutually_exclusive_group()
    mode.add_argument("--diff", action="store_true", help="print a unified diff instead of writing files")
    mode.add_argument("--check", action="store_true", help="write nothing; exit 1 if any file would change")
    fix.add_argument("--verify", action="store_true", default=None,
                     help="check each rewrite against its original on test inputs (values and gradients) and "
                          "keep only those that pass. This imports and runs the files' code (their top-level "
                          "statements, the wrapped functions); it is the only option that runs user code. "
                          "Needs TensorFlow.")
    fix.add_argument("--drop-redundant-gradients", action="store_true",
                     help="with --verify: remove a @tf.custom_gradient around a converted NumPy forward when "
                          "its hand-written gradient agreed with autodiff of the rewrite (the `def grad` and "
                          "the `(y, grad)` return go; the function returns its native forward). A gradient "
                          "that was not checked, disagreed or failed to run is kept. Needs --verify.")
    fix.add_argument("--device", metavar="DEVICE", default=None,
                     help="device for --verify, e.g. /GPU:0 (default: the best device TensorFlow sees)")
    fix.add_argument("--select", metavar="CODES", default=None,
                     help="comma-separated rule codes (or prefixes) to apply, e.g. RW001,NP2")
    fix.add_argument("--ignore", metavar="CODES", default=None,
                     help="comma-separated rule codes (or prefixes) never to apply")
    fix.add_argument("--exclude", metavar="GLOB", action="append", default=[],
                     help="skip paths matching this glob (repeatable)")
    fix.add_argument("-j", "--jobs", type=int, default=None,
                     help="worker processes (default: the number of cores)")
    fix.add_argument("--backend", default=None, metavar="processes|dask[://ADDR]",
                     help="where files are processed: local worker processes (default), or a Dask cluster "
                          "(a local one, or the scheduler at ADDR or $REWRITER_DASK_SCHEDULER; needs rewriter[dask])")
    verbosity = fix.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    verbosity.add_argument("-v", "--verbose", action="store_true", help="print every site, converted or left")
    fix.add_argument("--report", metavar="FILE", help="write a report of every site to FILE")
    fix.add_argument("--report-format", choices=("json", "markdown"), default="json",
                     help="format of --report (default: json)")
    fix.epilog += (" Settings can also live in pyproject.toml under [tool.rewriter] (include, exclude, "
                   "select, ignore, patterns, verify, device, jobs); flags override them.")
    fix.set_defaults(run=_run_fix)

    check = commands.add_parser(
        "check", help="list anti-patterns and convertible sites as diagnostics",
        description="Report NumPy-in-TensorFlow anti-patterns (numpy_function/py_function sites, elementwise "
                    "map_fn, apply_along_axis, NumPy arrays captured by Dataset.map functions, np.random inside "
                    "tf.function, retracing on Python scalars) as file:line:col: CODE message. Changes nothing.",
        epilog="Exit status: 0 nothing found; 1 diagnostics found; 2 errors.")
    check.add_argument("paths", nargs="+", metavar="PATH")
    check.add_argument("--output-format", choices=("text", "json", "github"), default="text",
                       help="text (file:line:col: CODE message), json, or GitHub Actions annotations")
    check.add_argument("--select", metavar="CODES", default=None, help="rule codes or prefixes to report")
    check.add_argument("--ignore", metavar="CODES", default=None, help="rule codes or prefixes not to report")
    check.add_argument("--exclude", metavar="GLOB", action="append", default=[], help="skip matching paths")
    check.set_defaults(run=run_check)

    show = commands.add_parser(
        "show", help="print the TF rewrite of a NumPy function (imports its module)",
        description="Import MODULE or a .py file (this runs its top-level code), take FUNCTION (a plain "
                    "function or one decorated with @autograph_numpy) and print its TensorFlow rewrite.")
    show.add_argument("target", metavar="MODULE:FUNCTION",
                      help="e.g. mypkg.features:normalize or src/features.py:normalize")
    show.add_argument("--args", metavar="SPEC",
                      help="input dtypes and shapes, e.g. 'float32[None,128], int64[None]' "
                           "(default: the decorator's input_signature)")
    show.set_defaults(run=run_show)

    bench = commands.add_parser(
        "bench", help="time corpus programs: original, rewritten and hand-written TF",
        description="For each corpus program (a module with program/reference/sample_inputs, see "
                    "corpus/README.md), time the original, its rewrite and the hand-written reference in one "
                    "process: first call (trace) separately, then the median of repeated calls. Prints "
                    "speedup = original / rewritten and overhead = rewritten / reference, with geometric means. "
                    "Imports and runs the programs.")
    bench.add_argument("paths", nargs="*", metavar="PATH",
                       help="corpus files or folders (default: the shipped corpus); or one file of your own, "
                            "whose converted sites are timed, original against rewritten")
    bench.add_argument("--device", metavar="DEVICE", help="e.g. /GPU:0 (default: the best device TensorFlow sees)")
    bench.add_argument("--json", metavar="OUT", help="write the results as JSON")
    bench.add_argument("--markdown", metavar="OUT", help="write the results as a Markdown table")
    bench.add_argument("--repeats", type=int, metavar="N", help="timed calls per program (default: adaptive)")
    bench.add_argument("--jit", action="store_true",
                       help="also time each rewrite under tf.function(jit_compile=True), or say which ops "
                            "keep XLA from compiling it")
    bench.set_defaults(run=run_bench)

    patterns = commands.add_parser("patterns", help="list the NumPy -> TensorFlow patterns",
                                   description="List every NumPy callable the rewriter can lower.")
    patterns.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    patterns.add_argument("--test", nargs="*", metavar="NAME",
                          help="self-test the patterns (all, or those named) against NumPy, including the "
                               "project's own from [tool.rewriter] patterns; needs TensorFlow")
    patterns.add_argument("--project", metavar="PATH", default=".",
                          help="where to look for pyproject.toml (default: the current folder)")
    patterns.set_defaults(run=run_patterns)
    return parser


def _run_fix_stdin(args) -> int:
    """`rewriter fix -`: the source on stdin, the rewritten source (or with --diff the diff) on
    stdout, for editor integrations; --check only sets the exit status."""
    from .pipeline import rewrite_source
    from .worker import unified_diff

    config = load_settings(args, ("select", "ignore"), known_codes)
    if config is None:
        return EXIT_ERROR
    text = sys.stdin.read()
    result = rewrite_source(text, args.stdin_filename, config.rewrite_options())
    if result.error:
        print(f"{args.stdin_filename}: error: {result.error}", file=sys.stderr)
        if not (args.diff or args.check):
            sys.stdout.write(text)
        return EXIT_ERROR
    if args.diff:
        sys.stdout.write(_colored(unified_diff(args.stdin_filename, text, result.new)))
    elif not args.check:
        sys.stdout.write(result.new)
    return EXIT_CHANGES if args.check and result.changed else EXIT_OK


def _colored(diff: str) -> str:
    """A unified diff in colour when stdout is a terminal (and NO_COLOR is not set)."""
    if not diff or not sys.stdout.isatty() or os.environ.get("NO_COLOR"):
        return diff
    colours = (("+++", "\033[1m"), ("---", "\033[1m"), ("@@", "\033[36m"), ("+", "\033[32m"), ("-", "\033[31m"))
    out = []
    for line in diff.splitlines(keepends=True):
        colour = next((c for prefix, c in colours if line.startswith(prefix)), "")
        out.append(f"{colour}{line.rstrip(chr(10))}\033[0m\n" if colour else line)
    return "".join(out)


def _run_fix(args) -> int:
    from .report import Summary, is_gradient_finding, render_site, render_summary, to_json, to_markdown

    if args.paths == ["-"]:
        return _run_fix_stdin(args)
    from .shared import names_used_elsewhere
    from .worker import FixJob, process_file

    config = load_settings(args, ("select", "ignore", "verify", "device", "jobs"), known_codes)
    if config is None:
        return EXIT_ERROR
    if args.drop_redundant_gradients and not config.verify:
        print("error: --drop-redundant-gradients needs --verify: only a gradient verified to agree with "
              "autodiff of the rewrite is dropped", file=sys.stderr)
        return EXIT_ERROR
    files, problems = selected_files(args, config)
    write = not (args.diff or args.check)
    job = FixJob(write=write, select=config.select, ignore=config.ignore, verify=config.verify,
                 drop_redundant_gradients=args.drop_redundant_gradients,
                 device=config.device, pattern_root=str(config.root) if config.root else None,
                 pattern_modules=tuple(config.patterns), shared=names_used_elsewhere(files) if len(files) > 1 else {})
    args.jobs = config.jobs or os.cpu_count() or 1
    args.verify = config.verify
    if args.verify:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    summary, records = Summary(), []
    from .distributed import BackendError, map_files

    try:
        outcomes = list(_progress(map_files(process_file, job, files, backend=args.backend or "processes",
                                            jobs=args.jobs), len(files), args.quiet)) if args.backend \
            else _progress(_map(process_file, job, files, args.jobs), len(files), args.quiet)
    except BackendError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    for outcome in outcomes:
        record = outcome.record
        records.append(record)
        summary.add(record)
        if record.status == "error":
            print(f"{record.path}: error: {record.error}", file=sys.stderr)
        if args.diff and outcome.diff:
            sys.stdout.write(_colored(outcome.diff))
        if not args.quiet:
            for site in record.sites:
                if args.verbose or site.status == "error" or (args.verify and site.code in ("RW400", "RW401")) \
                        or is_gradient_finding(site):
                    print(render_site(record.path, site), file=sys.stderr)
            if record.status == "changed" and write and not args.verbose:
                print(f"fixed {record.path}", file=sys.stderr)
            elif record.status == "changed" and args.check:
                print(f"would fix {record.path}", file=sys.stderr)
    if args.report:
        text = to_json(records, summary) if args.report_format == "json" else to_markdown(records, summary)
        with open(args.report, "w", encoding="utf-8") as handle:
            handle.write(text)
    summary.errors += len(problems)  # paths that do not exist are errors of the run too
    if not args.quiet:
        for line in render_summary(summary, wrote=write):
            print(line, file=sys.stderr)
    if summary.errors:
        return EXIT_ERROR
    if args.check and summary.changed:
        return EXIT_CHANGES
    return EXIT_OK


def _progress(outcomes, total, quiet):
    """A progress bar on a terminal for long runs; plain output otherwise (CI logs, pipes)."""
    if quiet or total < 20 or not sys.stderr.isatty():
        yield from outcomes
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("rewriter"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("files", total=total)
        for outcome in outcomes:
            progress.advance(task)
            yield outcome


def _map(fn, job, files, jobs):
    """Results in file order; worker processes when there is enough work to share."""
    if jobs <= 1 or len(files) < 8:
        for path in files:
            yield fn(job, path)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(fn, [job] * len(files), files, chunksize=max(1, len(files) // (jobs * 8)))
